/* The baseline training loop and evaluation (see train.h). */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "cs_stats.h"
#include "grad_scaler.h"
#include "graph_step.h"

const char *rn_phase_name(rn_phase p)
{
    static const char *const names[RN_NPHASES] = {"data", "copy", "forward", "backward", "optimizer", "sync"};
    return p >= 0 && p < RN_NPHASES ? names[p] : "?";
}

double rn_phase_total(const rn_train_result *r)
{
    double total = 0;
    for (int p = 0; p < RN_NPHASES; p++) total += r->phase_mean_s[p];
    return total;
}

double rn_data_share(const rn_train_result *r)
{
    double total = rn_phase_total(r);
    return total > 0 ? r->phase_mean_s[RN_PHASE_DATA] / total : 0.0;
}

/* Per-step timings, kept for the epoch's figures: each step's time, its
 * training part (the step less its data and copy), and its phases. */
typedef struct {
    double *step, *train;
    double *phase[RN_NPHASES]; /* per step */
} step_times;

/* The epoch's figures from the `steps` batches that ran: the throughputs
 * and the medians over those after the warm-up, the phase means, the first
 * and last tenth's loss, the running accuracy. */
static void summarize(rn_train_result *r, int steps, int warmup, const int *counts, const step_times *t,
                      long correct_total)
{
    r->steps = steps;
    int first = warmup < steps ? warmup : 0; /* all steps timed if the warm-up is all */
    double lab_s = 0;
    for (int b = 0; b < steps; b++) {
        r->images += counts[b];
        lab_s += t->step[b] - t->phase[RN_PHASE_DATA][b];
        if (b < first) continue;
        r->timed_s += t->step[b];
        r->timed_images += counts[b];
    }
    r->images_per_s = r->timed_s > 0 ? r->timed_images / r->timed_s : 0.0;
    r->lab_images_per_s = lab_s > 0 ? r->images / lab_s : 0.0;
    int timed = steps - first;
    if (timed > 0) {
        cs_stats st = cs_stats_of(t->step + first, timed);
        r->step_median_s = st.median;
        r->step_min_s = st.min;
        r->step_max_s = st.max;
        r->load_median_s = cs_stats_of(t->phase[RN_PHASE_DATA] + first, timed).median;
        r->copy_median_s = cs_stats_of(t->phase[RN_PHASE_COPY] + first, timed).median;
        r->train_median_s = cs_stats_of(t->train + first, timed).median;
        for (int p = 0; p < RN_NPHASES; p++) {
            double sum = 0;
            for (int b = first; b < steps; b++) sum += t->phase[p][b];
            r->phase_mean_s[p] = sum / timed;
        }
    }
    /* The mean loss of the first and of the last tenth (at least one step). */
    int tenth = steps / 10 > 0 ? steps / 10 : 1;
    double a = 0, z = 0;
    for (int i = 0; i < tenth && i < steps; i++) {
        a += r->loss[i];
        z += r->loss[steps - 1 - i];
    }
    r->first_loss = steps ? a / tenth : 0;
    r->last_loss = steps ? z / tenth : 0;
    r->train_accuracy = r->images ? (double)correct_total / r->images : 0;
}

/* Where the step's batches come from: loaded in this thread (Part 1), or
 * from the workers, copied at once or (async) one batch ahead on a second
 * stream. `wait` adds up this thread's time waiting for data during the
 * current step. */
typedef struct {
    rn_loader *ld;
    rn_workers *workers;
    int async, steps;
    float *images; /* this thread's batch, without workers */
    int32_t *labels;
    int count[2]; /* async: the images in each input slot */
    double wait;
} feed;

static void copy_to_model(rn_model *m, const float *images, const int32_t *labels, int n)
{
    int h = m->be->region_begin("copy H2D");
    rn_model_set_batch_n(m, images, labels, n); /* pageable memory: the copy is done on return */
    m->be->region_end(h);
}

/* Async: batch b's images and labels queued for input slot b mod 2. */
static void queue_copy(feed *f, rn_model *m, int b)
{
    double t0 = cs_now();
    cs_prof_begin("data wait");
    const rn_batch_view *v = rn_workers_get(f->workers, b);
    cs_prof_end();
    f->wait += cs_now() - t0;
    rn_model_check_labels(v->labels, v->count);
    int s = b & 1;
    size_t floats = (size_t)v->count * 3 * m->img * m->img;
    m->be->input_copy(s, m->x_slot[s], v->images, floats * sizeof(float));
    m->be->input_copy(s, m->labels_slot[s], v->labels, (size_t)v->count * sizeof(int32_t));
    f->count[s] = v->count;
}

/* Makes batch b the model's input; *copy_s is the host's time copying it.
 * Returns its image count. */
static int feed_batch(feed *f, rn_model *m, int b, double *copy_s)
{
    *copy_s = 0;
    if (f->async) { /* queued during the step before: the compute stream waits for it */
        m->be->input_acquire(b & 1);
        rn_model_use_input_slot(m, b & 1, f->count[b & 1]);
        return f->count[b & 1];
    }
    double t0 = cs_now();
    const float *images = f->images;
    const int32_t *labels = f->labels;
    int n;
    if (f->workers) {
        cs_prof_begin("data wait");
        const rn_batch_view *v = rn_workers_get(f->workers, b);
        cs_prof_end();
        images = v->images, labels = v->labels, n = v->count;
    } else {
        cs_prof_begin("data loading");
        n = rn_loader_get(f->ld, b, f->images, f->labels);
        cs_prof_end();
    }
    double t1 = cs_now();
    f->wait += t1 - t0;
    copy_to_model(m, images, labels, n);
    if (f->workers) rn_workers_release(f->workers, b);
    *copy_s = cs_now() - t1;
    return n;
}

/* After step b's work is queued: async, the slot it read is released and
 * batch b + 1's copy queued behind it (it runs while b computes). */
static void feed_ahead(feed *f, rn_model *m, int b)
{
    if (!f->async) return;
    m->be->input_release(b & 1);
    if (b + 1 < f->steps) queue_copy(f, m, b + 1);
}

/* Async: once batch b's copy is done its pinned staging goes back to the
 * workers (the host waits for the copy, which by then has long finished). */
static void feed_copied(feed *f, rn_model *m, int b)
{
    if (!f->async || b >= f->steps) return;
    m->be->input_copied(b & 1);
    rn_workers_release(f->workers, b);
}

/* One training step on the model's input: forward, loss, backward, Adam,
 * each between two marks (device time on a GPU, no wait). With a scaler
 * (fp16) the loss gradient is scaled and the step skipped on overflow.
 * With gradient accumulation (Part 4), micro-batch `micro` of a group of
 * `accum`: the loss divided by accum, the gradients added to the group's
 * (from its second micro-batch), the optimizer only after its last. */
static void train_step(rn_model *m, rn_grad_scaler *scaler, int device_skip, int micro, int accum)
{
    const rn_backend *be = m->be;
    be->mark(0);
    rn_model_forward(m, 1);
    rn_model_loss(m);
    if (accum > 1) rn_model_scale_loss_grad(m, 1.0f / (float)accum);
    if (scaler && device_skip)
        rn_amp_scale_loss_device(m, scaler);
    else if (scaler)
        rn_amp_scale_loss(m, scaler);
    be->mark(1);
    rn_model_backward_adding(m, micro > 0);
    be->mark(2);
    if (micro + 1 < accum) {
        be->mark(3); /* no optimizer step until the group's last micro-batch */
        return;
    }
    if (scaler && device_skip)
        rn_amp_step_device(m, scaler);
    else if (scaler)
        rn_amp_step(m, scaler);
    else
        rn_model_adam_step(m);
    be->mark(3);
}

static void alloc_times(step_times *t, size_t n)
{
    t->step = cs_calloc(n * sizeof(double), "step times");
    t->train = cs_calloc(n * sizeof(double), "training times");
    for (int p = 0; p < RN_NPHASES; p++) t->phase[p] = cs_calloc(n * sizeof(double), "phase times");
}

static void free_times(step_times *t)
{
    cs_free(t->train);
    for (int p = 0; p < RN_NPHASES; p++) cs_free(t->phase[p]);
    /* t->step is handed to the result */
}

/* Step b's phases: data and copy from the host clock, the compute from the
 * marks, the rest (loss.item()'s wait) what is left of the step. */
static void record_phases(step_times *t, int b, const rn_backend *be, double wait, double copy)
{
    double mk[4];
    be->marks_read(mk, 4);
    t->train[b] = t->step[b] - wait - copy;
    t->phase[RN_PHASE_DATA][b] = wait;
    t->phase[RN_PHASE_COPY][b] = copy;
    t->phase[RN_PHASE_FORWARD][b] = mk[1];
    t->phase[RN_PHASE_BACKWARD][b] = mk[2] - mk[1];
    t->phase[RN_PHASE_OPTIMIZER][b] = mk[3] - mk[2];
    double rest = t->step[b] - wait - copy - mk[3];
    t->phase[RN_PHASE_SYNC][b] = rest > 0 ? rest : 0;
}

int rn_train_epoch(rn_model *m, rn_loader *ld, int epoch, const rn_train_opts *o, rn_train_result *r)
{
    const rn_backend *be = m->be;
    memset(r, 0, sizeof *r);
    rn_graph_run graph;
    const char *no_graph = NULL;
    if (o->graph && rn_graph_run_start(&graph, m, o->scaler, o->accum_steps, &no_graph) != 0) {
        cs_error("the graph rung: %s", no_graph);
        return 2;
    }
    int rc = 0, steps = o->batches, done = 0;
    if (steps > ld->batches) steps = ld->batches;
    size_t per_step = (size_t)(steps > 0 ? steps : 1);
    feed f = {.ld = ld, .workers = o->workers, .steps = steps};
    f.async = o->workers && o->async_copy && be->input_copy != NULL;
    if (!f.workers) {
        f.images = cs_alloc((size_t)ld->batch * 3 * ld->img_size * ld->img_size * sizeof(float), "batch images (host)");
        f.labels = cs_alloc((size_t)ld->batch * sizeof(int32_t), "batch labels (host)");
    }
    if (f.async) rn_model_add_input_slot(m);
    step_times t;
    alloc_times(&t, per_step);
    int *counts = cs_calloc(per_step * sizeof(int), "images per step");
    r->loss = cs_alloc(per_step * sizeof(float), "loss per step");
    r->correct = cs_alloc(per_step * sizeof(int32_t), "correct per step");

    long correct_total = 0, seen = 0;
    double t_epoch = cs_now();
    if (f.workers) {
        if ((rc = rn_workers_start_epoch(f.workers, epoch, steps)) != 0) goto out;
    } else {
        rn_loader_start_epoch(ld, epoch);
    }
    if (f.async && steps > 0) { /* the first batch's copy, with nothing to overlap */
        queue_copy(&f, m, 0);
        feed_copied(&f, m, 0);
    }
    for (int b = 0; b < steps; b++) {
        double t0 = cs_now(), copy;
        int n = feed_batch(&f, m, b, &copy);
        if (b == 0) r->first_batch_s = cs_now() - t_epoch;
        const int accum = o->accum_steps > 1 ? o->accum_steps : 1;
        if (!o->graph)
            train_step(m, o->scaler, o->device_skip, b % accum, accum);
        else if (rn_graph_run_step(&graph, m) != 0) {
            rc = 1;
            goto out;
        }
        feed_ahead(&f, m, b);
        /* The lab's loop reads loss.item() every step: a sync. */
        float loss;
        int correct;
        cs_prof_begin("sync/loss.item()");
        rn_model_read_metrics(m, &loss, &correct);
        cs_prof_end();
        feed_copied(&f, m, b + 1); /* it ran during this step */
        be->regions_flush();
        t.step[b] = cs_now() - t0;
        record_phases(&t, b, be, f.wait, copy);
        f.wait = 0;
        counts[b] = n;
        r->loss[b] = loss;
        r->correct[b] = correct;
        correct_total += correct;
        seen += n;
        done = b + 1;
        if (!isfinite(loss)) {
            cs_error("step %d: the loss is %g: training diverged", b + 1, loss);
            rc = 1;
            goto out;
        }
        if (o->log_every > 0 && ((b + 1) % o->log_every == 0 || b + 1 == steps))
            cs_say("    batch %5d/%d  loss %.4f  running accuracy %5.1f%%  batch time %s\n", b + 1, steps, loss,
                   100.0 * correct_total / seen, cs_format_time(t.step[b], (char[32]){0}, 32));
    }
out:
    if (o->graph) rn_graph_run_end(&graph, m);
    if (f.workers) {
        if (f.async) { /* no copy still reading the staging */
            be->input_copied(0);
            be->input_copied(1);
        }
        rn_workers_end_epoch(f.workers);
    }
    /* The same figures on either path: on divergence, over the batches that
     * ran, the last of them the one whose loss is not finite. */
    r->wall_s = cs_now() - t_epoch;
    summarize(r, done, o->warmup, counts, &t, correct_total);
    r->step_s = t.step;
    free_times(&t);
    cs_free(counts);
    cs_free(f.images);
    cs_free(f.labels);
    return rc;
}

float *rn_train_losses_copy(const rn_train_result *r, const char *what)
{
    float *loss = cs_alloc((size_t)(r->steps > 0 ? r->steps : 1) * sizeof(float), what);
    memcpy(loss, r->loss, (size_t)r->steps * sizeof(float));
    return loss;
}

void rn_train_result_free(rn_train_result *r)
{
    cs_free(r->loss);
    cs_free(r->correct);
    cs_free(r->step_s);
    memset(r, 0, sizeof *r);
}

double rn_evaluate(rn_model *m, const rn_cifar *data, int img, int max_batches)
{
    rn_loader ld;
    if (img != m->img || rn_loader_init(&ld, data, m->capacity, img, 0, 0) != 0) return NAN; /* not 0: no accuracy */
    rn_loader_start_epoch(&ld, 0);
    int batches = ld.batches;
    if (max_batches > 0 && batches > max_batches) batches = max_batches;
    size_t img_floats = (size_t)m->capacity * 3 * img * img;
    float *images = cs_alloc(img_floats * sizeof(float), "evaluation images");
    int32_t *labels = cs_alloc((size_t)m->capacity * sizeof(int32_t), "evaluation labels");
    long correct_total = 0, seen = 0;
    int prof_was = cs_prof_enabled();
    cs_prof_enable(0);
    for (int b = 0; b < batches; b++) {
        int n = rn_loader_get(&ld, b, images, labels);
        rn_model_set_batch_n(m, images, labels, n);
        rn_model_forward(m, 0);
        rn_model_loss(m);
        float loss;
        int correct;
        rn_model_read_metrics(m, &loss, &correct);
        correct_total += correct;
        seen += n;
    }
    cs_prof_enable(prof_was);
    cs_free(images);
    cs_free(labels);
    rn_loader_free(&ld);
    return seen ? (double)correct_total / seen : 0.0;
}
