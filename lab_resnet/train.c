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

/* The epoch's figures from the `steps` batches that ran: the throughput and
 * the medians over those after the warm-up, the first and last tenth's loss,
 * the running accuracy. */
static void summarize(rn_train_result *r, int steps, int warmup, int batch, const double *step_s, const double *load_s,
                      const double *copy_s, const double *train_s, long correct_total, long seen)
{
    r->steps = steps;
    int first = warmup < steps ? warmup : 0; /* all steps timed if the warm-up is all */
    for (int b = first; b < steps; b++) r->timed_s += step_s[b];
    r->timed_images = (steps - first) * batch;
    r->images_per_s = r->timed_s > 0 ? r->timed_images / r->timed_s : 0.0;
    if (steps - first > 0) {
        cs_stats st = cs_stats_of(step_s + first, steps - first);
        r->step_median_s = st.median;
        r->step_min_s = st.min;
        r->step_max_s = st.max;
        r->load_median_s = cs_stats_of(load_s + first, steps - first).median;
        r->copy_median_s = cs_stats_of(copy_s + first, steps - first).median;
        r->train_median_s = cs_stats_of(train_s + first, steps - first).median;
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
    r->train_accuracy = seen ? (double)correct_total / seen : 0;
}

int rn_train_epoch(rn_model *m, rn_loader *ld, int epoch, const rn_train_opts *o, rn_train_result *r)
{
    const rn_backend *be = m->be;
    memset(r, 0, sizeof *r);
    int rc = 0, steps = o->batches, done = 0;
    size_t img_floats = (size_t)ld->batch * 3 * ld->img_size * ld->img_size;
    size_t per_step = (size_t)(steps > 0 ? steps : 1);
    float *images = cs_alloc(img_floats * sizeof(float), "batch images (host)");
    int32_t *labels = cs_alloc((size_t)ld->batch * sizeof(int32_t), "batch labels (host)");
    double *step_s = cs_alloc(per_step * sizeof(double), "step times");
    double *load_s = cs_alloc(per_step * sizeof(double), "loading times");
    double *train_s = cs_alloc(per_step * sizeof(double), "training times");
    double *copy_s = cs_alloc(per_step * sizeof(double), "copy times");
    r->loss = cs_alloc(per_step * sizeof(float), "loss per step");
    r->correct = cs_alloc(per_step * sizeof(int32_t), "correct per step");
    rn_loader_start_epoch(ld, epoch);

    long correct_total = 0, seen = 0;
    double t_epoch = cs_now();
    for (int b = 0; b < steps; b++) {
        double t0 = cs_now();
        cs_prof_begin("data loading");
        rn_loader_get(ld, b, images, labels);
        cs_prof_end();
        double t_loaded = cs_now();
        int h = be->region_begin("copy H2D");
        rn_model_set_batch(m, images, labels); /* pageable memory: the copy is done on return */
        be->region_end(h);
        double t_copied = cs_now();
        rn_model_forward(m, 1);
        rn_model_loss(m);
        rn_model_backward(m);
        rn_model_adam_step(m);
        /* The lab's loop reads loss.item() every step: a sync. */
        float loss;
        int correct;
        cs_prof_begin("sync/loss.item()");
        rn_model_read_metrics(m, &loss, &correct);
        cs_prof_end();
        be->regions_flush();
        step_s[b] = cs_now() - t0;
        load_s[b] = t_loaded - t0;
        copy_s[b] = t_copied - t_loaded;
        train_s[b] = step_s[b] - load_s[b] - copy_s[b];
        r->loss[b] = loss;
        r->correct[b] = correct;
        correct_total += correct;
        seen += ld->batch;
        done = b + 1;
        if (!isfinite(loss)) {
            cs_error("step %d: the loss is %g: training diverged", b + 1, loss);
            rc = 1;
            goto out;
        }
        if (o->log_every > 0 && ((b + 1) % o->log_every == 0 || b + 1 == steps))
            cs_say("    batch %5d/%d  loss %.4f  running accuracy %5.1f%%  batch time %s\n", b + 1, steps, loss,
                   100.0 * correct_total / seen, cs_format_time(step_s[b], (char[32]){0}, 32));
    }
out:
    /* The same figures on either path: on divergence, over the batches that
     * ran, the last of them the one whose loss is not finite. */
    r->wall_s = cs_now() - t_epoch;
    summarize(r, done, o->warmup, ld->batch, step_s, load_s, copy_s, train_s, correct_total, seen);
    cs_free(images);
    cs_free(labels);
    cs_free(step_s);
    cs_free(load_s);
    cs_free(train_s);
    cs_free(copy_s);
    return rc;
}

void rn_train_result_free(rn_train_result *r)
{
    cs_free(r->loss);
    cs_free(r->correct);
    memset(r, 0, sizeof *r);
}

double rn_evaluate(rn_model *m, const rn_cifar *data, int img, int max_batches)
{
    rn_loader ld;
    if (img != m->img || rn_loader_init(&ld, data, m->batch, img, 0, 0) != 0) return NAN; /* not 0: no accuracy */
    rn_loader_start_epoch(&ld, 0);
    int batches = ld.batches;
    if (max_batches > 0 && batches > max_batches) batches = max_batches;
    size_t img_floats = (size_t)m->batch * 3 * img * img;
    float *images = cs_alloc(img_floats * sizeof(float), "evaluation images");
    int32_t *labels = cs_alloc((size_t)m->batch * sizeof(int32_t), "evaluation labels");
    long correct_total = 0, seen = 0;
    int prof_was = cs_prof_enabled();
    cs_prof_enable(0);
    for (int b = 0; b < batches; b++) {
        rn_loader_get(&ld, b, images, labels);
        rn_model_set_batch(m, images, labels);
        rn_model_forward(m, 0);
        rn_model_loss(m);
        float loss;
        int correct;
        rn_model_read_metrics(m, &loss, &correct);
        correct_total += correct;
        seen += m->batch;
    }
    cs_prof_enable(prof_was);
    cs_free(images);
    cs_free(labels);
    rn_loader_free(&ld);
    return seen ? (double)correct_total / seen : 0.0;
}
