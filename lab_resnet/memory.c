/* Part 4 of the lab: memory (see memory.h).
 *
 * Every row trains the same `--batches` batches of --batch images (epoch 0)
 * from the same initial weights, put back before each run outside the
 * clock. Gradient accumulation keeps the batch and adds the gradients of K
 * of them before one optimizer step: an effective batch of K x B at the
 * memory of B. Checkpointing keeps the batch and the steps, and trades
 * stored activations for a second forward pass. Each row's memory is the
 * model's arena's peak while it trained, by category.
 *
 * The checks, sharp and cheap next to the runs:
 *  - every row's first loss (batch 0, the initial weights, before any step)
 *    equals the reference run's: the same batch through the same network;
 *  - a row with one step per batch (accum_1, checkpoint_none and
 *    checkpoint_stages) gives the reference run's losses at every step:
 *    exactly on the CPU (checkpointing recomputes the same arithmetic);
 *  - accumulation: the gradients added over the first group of K batches
 *    equal the sum of the K batches' gradients computed one at a time, in
 *    double on the host, divided by K. */
#include "memory.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_fault.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "lab_rungs.h"
#include "memory_budget.h"

const char *const rn_memory_rows[RN_MEMORY_ROWS] = {"accum_1", "accum_2",         "accum_4",
                                                    "accum_8", "checkpoint_none", "checkpoint_stages"};

/* The lab expects this from checkpointing (its Part 4): memory saved, and
 * the training slower by. */
#define RN_CKPT_MEM_EXPECT_LO  0.30
#define RN_CKPT_MEM_EXPECT_HI  0.50
#define RN_CKPT_TIME_EXPECT_LO 0.10
#define RN_CKPT_TIME_EXPECT_HI 0.20

/* The accumulated gradients against their sum in double: float32 additions
 * in another order (one beta = 1 GEMM per batch against the host's sum),
 * about 1e-7 here; a group that overwrites instead of adding is 0.5 or
 * more off. */
#define RN_ACCUM_TOL 1e-5

typedef struct {
    int accum, checkpoint;
    const char *lesson;
} mem_spec;

static const mem_spec specs[RN_MEMORY_ROWS] = {
    {1, 0, "accum_1: one optimizer step per batch (Part 1's step)"},
    {2, 0, "accum_2: the gradients of 2 batches added, then one step: twice the batch at the memory of one"},
    {4, 0, "accum_4: 4 batches per optimizer step"},
    {8, 0, "accum_8: 8 batches per optimizer step"},
    {1, 0, "checkpoint_none: every activation the backward reads kept from the forward"},
    {1, 1, "checkpoint_stages: only the inputs of the stem and of layer1-4 kept; their forward again in the backward"},
};

enum { ROW_ACCUM_1, ROW_ACCUM_8 = 3, ROW_CKPT_NONE, ROW_CKPT_STAGES };

typedef struct {
    rn_lab *lab;
    rn_snapshot snap;
    int reference_steps;
    float *reference_loss;                /* the untimed run's: one step per batch, no checkpointing */
    double forward_share;                 /* of the reference's step */
    size_t laid_out_plain, laid_out_ckpt; /* the activations' layout without and with checkpointing */
    rn_memory_row rows[RN_MEMORY_ROWS];
    int ran[RN_MEMORY_ROWS];
    const char *skip[RN_MEMORY_ROWS];
    rn_mem_probe probe;
    double fit_fixed, fit_per_image; /* fp32's layout: bytes = fixed + images x per_image */
    size_t budget;                   /* --mem-budget in bytes (0: not asked) */
    rn_budget_row budget_rows[RN_BUDGET_CONFIGS];
} mem_state;

/* One row's runs and the last run's result. */
typedef struct {
    mem_state *s;
    const mem_spec *spec;
    int epoch; /* 0; another only under CS_FAULT_INJECT=<row> */
    rn_train_result last;
    int have_last;
} mem_run;

static int restore_weights(void *p)
{
    mem_run *r = p;
    rn_snapshot_restore(&r->s->lab->m, &r->s->snap);
    return 0;
}

static int train_run(void *p)
{
    mem_run *r = p;
    rn_lab *lab = r->s->lab;
    if (r->have_last) rn_train_result_free(&r->last);
    rn_train_opts o = {.batches = lab->epoch_batches, .accum_steps = r->spec->accum};
    rn_lab_feed(lab, &o);
    int rc = rn_train_epoch(&lab->m, &lab->ld, r->epoch, &o, &r->last);
    r->have_last = 1;
    return rc;
}

/* ---- the accumulation check ----------------------------------------------------- */

/* The parameter gradients added into sum (double, host); one is a host
 * buffer of them all. */
static void add_gradients(const rn_model *m, double *sum, float *one, size_t n)
{
    rn_gradients_to_host(m, one);
    for (size_t k = 0; k < n; k++) sum[k] += one[k];
}

/* Batches 0..K-1 of `epoch` from the initial weights, each through the
 * calls a training step makes (forward, loss, loss gradient / K, backward);
 * `accumulate`: the later ones add to the gradients (the row's way) and
 * the sum lands in got, else each overwrites them and is added into sum in
 * double on the host (through got). */
static void group_gradients(mem_state *s, int epoch, int K, int accumulate, double *sum, float *got)
{
    rn_model *m = &s->lab->m;
    rn_snapshot_restore(m, &s->snap);
    for (int j = 0; j < K; j++) {
        rn_lab_load_batch(s->lab, epoch, j);
        rn_model_forward(m, 1);
        rn_model_loss(m);
        rn_model_scale_loss_grad(m, 1.0f / (float)K);
        rn_model_backward_adding(m, accumulate && j > 0);
        if (!accumulate) add_gradients(m, sum, got, rn_model_trainable_count(m));
    }
    if (accumulate) rn_gradients_to_host(m, got);
    rn_snapshot_restore(m, &s->snap);
}

static cs_check accumulation_check(mem_state *s, int K, int epoch)
{
    rn_model *m = &s->lab->m;
    size_t n = rn_model_trainable_count(m);
    double *sum = cs_calloc(n * sizeof(double), "summed gradients");
    float *got = cs_alloc(n * sizeof(float), "accumulated gradients");
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    group_gradients(s, epoch, K, 0, sum, got); /* got: each batch's on its way into sum */
    group_gradients(s, epoch, K, 1, NULL, got);
    cs_prof_enable(prof);
    cs_check c = cs_compare_f32_f64(got, sum, n, RN_ACCUM_TOL);
    cs_free(sum);
    cs_free(got);
    return c;
}

/* ---- a row ------------------------------------------------------------------------- */

/* The row's checks (see the top of the file). */
static void check_row(mem_state *s, int i, const rn_train_result *t)
{
    rn_memory_row *row = &s->rows[i];
    double tol = s->lab->on_gpu ? 1e-5 : 0.0; /* the GPU's reductions may add in another order */
    row->first_loss = cs_compare_f32(t->loss, s->reference_loss, t->steps > 0 ? 1 : 0, tol);
    if (t->steps == 0) row->first_loss.status = CS_CHECK_FAIL;
    row->curve = cs_check_skipped();
    if (specs[i].accum == 1) {
        row->curve = cs_compare_f32(t->loss, s->reference_loss, (size_t)t->steps, tol);
        if (t->steps != s->reference_steps) row->curve.status = CS_CHECK_FAIL;
    }
    row->rung.check = cs_check_merge(cs_check_merge(row->first_loss, row->curve), row->accumulated);
}

static void record_row(mem_state *s, int i, const mem_run *r)
{
    rn_model *m = &s->lab->m;
    rn_memory_row *row = &s->rows[i];
    const rn_train_result *t = &r->last;
    row->images_per_s = t->images / row->rung.timing.time.median;
    rn_peaks_take(m->arena, row->peak, &row->peak_total);
    row->rung.peak_mem = row->peak_total;
    row->steps = t->steps;
    row->optimizer_steps = t->steps / specs[i].accum;
    row->final_loss = t->last_loss;
    static const char *const recompute[] = {"checkpoint recompute"};
    row->recompute_s = rn_prof_per_step(recompute, 1); /* per batch: one forward each */
    row->loss = rn_train_losses_copy(t, "row losses");
    check_row(s, i, t);
}

static int run_row(mem_state *s, int i)
{
    rn_lab *lab = s->lab;
    rn_memory_row *row = &s->rows[i];
    cs_rung_start(&row->rung, rn_memory_rows[i], lab->on_gpu ? "gpu" : "cpu", specs[i].lesson);
    row->accum = specs[i].accum;
    row->checkpoint = specs[i].checkpoint;
    row->effective_batch = specs[i].accum * lab->a->batch;
    mem_run r = {.s = s, .spec = &specs[i]};
    /* The tests' fault: the row trains on another epoch's batches, which
     * its first-loss check must catch. */
    r.epoch = cs_fault_injected(rn_memory_rows[i]) ? 1 : 0;
    row->accumulated = specs[i].accum > 1 ? accumulation_check(s, specs[i].accum, r.epoch) : cs_check_skipped();
    rn_model_set_checkpoint(&lab->m, specs[i].checkpoint);
    rn_arena_peaks_reset(lab->m.arena); /* this row's peaks from here */
    cs_prof_reset();
    int rc = rn_rung_time_runs(lab, &row->rung, rn_memory_rows[i], restore_weights, train_run, &r);
    if (rc == 0) {
        record_row(s, i, &r);
        s->ran[i] = 1;
    }
    rn_model_set_checkpoint(&lab->m, 0);
    if (r.have_last) rn_train_result_free(&r.last);
    return rc;
}

static const char *mib(double bytes, char *buf)
{
    snprintf(buf, 32, "%.1f MiB", bytes / 1048576.0);
    return buf;
}

static void print_row(const mem_state *s, int i)
{
    const rn_memory_row *r = &s->rows[i];
    const cs_stats *st = &r->rung.timing.time;
    cs_say("  %-17s run %8s (%s..%s)  %6.1f images/s  batch %d x %d = %-4d  activations %s  total %s",
           rn_memory_rows[i], cs_format_time(st->median, (char[32]){0}, 32), cs_format_time(st->min, (char[32]){0}, 32),
           cs_format_time(st->max, (char[32]){0}, 32), r->images_per_s, r->accum, s->lab->a->batch, r->effective_batch,
           mib((double)r->peak[RN_ACTIVATIONS], (char[32]){0}), mib((double)r->peak_total, (char[32]){0}));
    if (r->recompute_s > 0) cs_say("  recompute %s/batch", cs_format_time(r->recompute_s, (char[32]){0}, 32));
    cs_say("\n");
}

static int run_rows(mem_state *s, const int *todo, int ntodo, int from, int to)
{
    for (int k = 0; k < ntodo; k++) {
        int i = todo[k];
        if (i < from || i >= to) continue;
        int rc = run_row(s, i);
        if (rc) return rc;
        print_row(s, i);
    }
    return 0;
}

/* ---- 2. Initial profiling: the reference run ------------------------------------ */

static int reference_run(mem_state *s)
{
    rn_lab *lab = s->lab;
    rn_model *m = &lab->m;
    cs_step(2, "Initial profiling: one step per batch, every activation kept");
    rn_arena_peaks_reset(m->arena);
    cs_prof_reset();
    cs_prof_lane("reference");
    rn_train_opts o = {.batches = lab->epoch_batches};
    rn_train_result t;
    int rc = rn_train_epoch(m, &lab->ld, 0, &o, &t);
    if (rc == 0) {
        s->reference_steps = t.steps;
        s->reference_loss = rn_train_losses_copy(&t, "reference losses");
        double step = rn_phase_total(&t);
        s->forward_share = step > 0 ? t.phase_mean_s[RN_PHASE_FORWARD] / step : 0;
        size_t act = rn_arena_peak(m->arena, RN_ACTIVATIONS), total = rn_arena_total_peak(m->arena);
        cs_say("  One run of %d batches of %d, profiled and untimed: the losses every row is checked\n"
               "  against. Peak memory of the model (%s): %s, of which the activations %s (%.0f%%);\n"
               "  the rest (weights, their gradients, Adam's two moments, scratch) does not depend on\n"
               "  the batch. The forward pass took %.0f%% of the mean step.\n",
               t.steps, lab->a->batch, lab->on_gpu ? "device" : "host", mib((double)total, (char[32]){0}),
               mib((double)act, (char[32]){0}), total ? 100.0 * (double)act / (double)total : 0,
               100.0 * s->forward_share);
    }
    rn_train_result_free(&t);
    return rc;
}

/* ---- 3. Hypothesis ---------------------------------------------------------------- */

/* The activations category once laid out with checkpointing `on`. */
static size_t activations_laid_out(rn_model *m, int on)
{
    rn_model_set_checkpoint(m, on);
    size_t bytes = rn_arena_current(m->arena, RN_ACTIVATIONS);
    rn_model_set_checkpoint(m, 0);
    return bytes;
}

static void hypothesis(mem_state *s)
{
    rn_lab *lab = s->lab;
    int B = lab->a->batch;
    char b1[32], b2[32];
    cs_step(3, "Hypothesis");
    s->laid_out_plain = activations_laid_out(&lab->m, 0);
    s->laid_out_ckpt = activations_laid_out(&lab->m, 1);
    rn_arena_peaks_reset(lab->m.arena);
    double cut = 1.0 - (double)s->laid_out_ckpt / (double)s->laid_out_plain;
    cs_say("  Checkpointing: laid out, the activations take %s without it and %s with it (%.0f%%\n"
           "  less): the segments' inner activations share one region, the size of the largest\n"
           "  segment's, and the gradients' working buffers stay. The price is the forward of the\n"
           "  stem and layer1-3 again in the backward (layer4's is not redone: its outputs are the\n"
           "  last kept): at most the forward's %.0f%% of a step, less layer4's part.\n",
           mib((double)s->laid_out_plain, b1), mib((double)s->laid_out_ckpt, b2), 100.0 * cut,
           100.0 * s->forward_share);
    rn_probe_fit(&s->probe, 0, &s->fit_fixed, &s->fit_per_image);
    cs_say("  Accumulation: the model is laid out for one batch of %d whatever K, so the memory should\n"
           "  stay while the optimizer sees K x %d images per step. Laid out (a probe model of 1 and 2\n"
           "  images), the model takes %s plus %s per image: one batch of %d would take %s.\n"
           "  Batch norm still sees each batch of %d alone: K batches of %d are not one batch of %d x %d.\n",
           B, B, mib(s->fit_fixed, b1), mib(s->fit_per_image, b2), 8 * B,
           mib(s->fit_fixed + 8.0 * B * s->fit_per_image, (char[32]){0}), B, B, 8, B);
}

/* ---- 5. The batch that does not fit ----------------------------------------------- */

static void budget_search(mem_state *s)
{
    char b1[32], b2[32], b3[32];
    cs_say("  The largest batch in %s (--mem-budget), each configuration on a probe model laid out\n"
           "  from the fit's estimate up to the first batch that does not fit, then one training step\n"
           "  at the largest that does (its peak counts):\n",
           mib((double)s->budget, b1));
    rn_probe_max_batches(&s->probe, s->budget, s->budget_rows);
    for (int c = 0; c < RN_BUDGET_CONFIGS; c++) {
        const rn_budget_row *r = &s->budget_rows[c];
        cs_say("    %-15s max batch %6d%s  (%s + %s per image; step peak %s, step %s)\n", rn_budget_configs[c],
               r->max_batch, r->capped ? "+" : " ", mib(r->fixed, b1), mib(r->per_image, b2),
               mib((double)r->step_peak, b3), cs_format_time(r->step_s, (char[32]){0}, 32));
    }
}

/* ---- 6. Verification -------------------------------------------------------------- */

static int verify(const mem_state *s)
{
    cs_step(6, "Verification");
    cs_say("  Against the untimed reference run (relative differences; %s):\n"
           "   - every row: batch 0's loss, before any step (the same batch through the same weights);\n"
           "   - one step per batch (accum_1, checkpoint_none, checkpoint_stages): the loss at all %d steps;\n"
           "   - accumulation: the first group's added gradients against their sum in double (tol. %.0e).\n",
           s->lab->on_gpu ? "tolerance 1e-05 on the GPU" : "exact on the CPU", s->reference_steps, RN_ACCUM_TOL);
    int failed = 0;
    for (int i = 0; i < RN_MEMORY_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_memory_row *r = &s->rows[i];
        int ok = r->rung.check.status == CS_CHECK_PASS;
        failed |= !ok;
        cs_say("    %-17s first loss %.2e", rn_memory_rows[i], r->first_loss.rel_l2);
        if (r->curve.status != CS_CHECK_SKIP) cs_say("  losses %.2e", r->curve.rel_l2);
        if (r->accumulated.status != CS_CHECK_SKIP) cs_say("  gradients %.2e", r->accumulated.rel_l2);
        cs_say("  %s%s%s   final loss %.4f after %d optimizer steps\n", ok ? cs_col_pass() : cs_col_fail(),
               cs_check_word(r->rung.check.status), cs_col_reset(), r->final_loss, r->optimizer_steps);
    }
    return failed;
}

/* ---- the results -------------------------------------------------------------------- */

/* memory.csv: the figures the results table has no column for. */
static int write_figures(const mem_state *s, const char *dir)
{
    char path[CS_PATH_MAX];
    cs_outfile o;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "memory.csv")) != 0) return 3;
    fprintf(o.f, "configuration,accum_steps,checkpoint,batch,effective_batch,batches,optimizer_steps,run_s,"
                 "images_per_s,peak_activations,peak_weights,peak_gradients,peak_optimizer,peak_workspace,peak_total,"
                 "recompute_s_per_batch,final_loss,check\n");
    for (int i = 0; i < RN_MEMORY_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_memory_row *r = &s->rows[i];
        fprintf(o.f, "%s,%d,%s,%d,%d,%d,%d,%.6f,%.3f", rn_memory_rows[i], r->accum, r->checkpoint ? "stages" : "none",
                s->lab->a->batch, r->effective_batch, r->steps, r->optimizer_steps, r->rung.timing.time.median,
                r->images_per_s);
        for (int c = 0; c < RN_NCATEGORIES; c++) fprintf(o.f, ",%zu", r->peak[c]);
        fprintf(o.f, ",%zu,%.6f,%.5f,%s\n", r->peak_total, r->recompute_s, r->final_loss,
                cs_check_word(r->rung.check.status));
    }
    return cs_outfile_commit(&o) != 0 ? 3 : 0;
}

/* max_batch.csv (configuration,max_batch, the lab's question) and
 * max_batch_detail.csv (the fit and the step that confirmed it). */
static int write_budget(const mem_state *s, const char *dir)
{
    char path[CS_PATH_MAX];
    cs_outfile o, d;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "max_batch.csv")) != 0) return 3;
    if (cs_outfile_open(&d, cs_path_join(path, sizeof path, dir, "max_batch_detail.csv")) != 0) {
        cs_outfile_abort(&o);
        return 3;
    }
    fprintf(o.f, "configuration,max_batch\n");
    fprintf(d.f, "configuration,max_batch,capped,budget_bytes,fixed_bytes,bytes_per_image,laid_out_bytes,"
                 "step_peak_bytes,step_s,img_size,device\n");
    for (int c = 0; c < RN_BUDGET_CONFIGS; c++) {
        const rn_budget_row *r = &s->budget_rows[c];
        fprintf(o.f, "%s,%d\n", rn_budget_configs[c], r->max_batch);
        fprintf(d.f, "%s,%d,%d,%zu,%.0f,%.0f,%zu,%zu,%.4f,%d,%s\n", rn_budget_configs[c], r->max_batch, r->capped,
                s->budget, r->fixed, r->per_image, r->laid_out, r->step_peak, r->step_s, s->lab->a->img,
                s->lab->on_gpu ? "gpu" : "cpu");
    }
    int bad = cs_outfile_commit(&o) != 0;
    return (cs_outfile_commit(&d) != 0 || bad) ? 3 : 0;
}

static int results(mem_state *s)
{
    rn_lab *lab = s->lab;
    const char *dir = lab->a->opt.out_dir;
    cs_report report;
    rn_report_begin(&report, lab, "4: memory", "seconds per run of batches_per_run batches");
    cs_report_config(&report, "memory", "%s", "the model's peak bytes (arena), all categories");
    if (s->budget) cs_report_config(&report, "mem_budget_bytes", "%zu", s->budget);
    const cs_rung *rungs[RN_MEMORY_ROWS];
    double ips[RN_MEMORY_ROWS];
    size_t activations[RN_MEMORY_ROWS];
    for (int i = 0; i < RN_MEMORY_ROWS; i++) {
        rungs[i] = &s->rows[i].rung;
        ips[i] = s->rows[i].images_per_s;
        activations[i] = s->rows[i].peak[RN_ACTIVATIONS];
    }
    if (rn_report_rows(&report, lab, RN_MEMORY_ROWS, rn_memory_rows, s->skip, s->ran, rungs, ips, activations) != 0)
        return 3;
    if (write_figures(s, dir) != 0) return 3;
    if (s->budget && write_budget(s, dir) != 0) return 3;
    rn_chart_memory(dir, s->rows, s->ran, rn_memory_rows, RN_MEMORY_ROWS, lab->on_gpu);
    if (s->budget)
        rn_chart_max_batch(dir, s->budget_rows, rn_budget_configs, RN_BUDGET_CONFIGS, s->budget, lab->on_gpu);
    return 0;
}

/* ---- 7. Key lessons --------------------------------------------------------------- */

static void lesson_checkpointing(const mem_state *s)
{
    const rn_memory_row *none = &s->rows[ROW_CKPT_NONE], *ckpt = &s->rows[ROW_CKPT_STAGES];
    if (!s->ran[ROW_CKPT_NONE] || !s->ran[ROW_CKPT_STAGES]) {
        cs_say("  - Checkpointing: checkpoint_none and checkpoint_stages are both needed; --variant left one out.\n");
        return;
    }
    double saved = 1.0 - (double)ckpt->peak[RN_ACTIVATIONS] / (double)none->peak[RN_ACTIVATIONS];
    double whole = 1.0 - (double)ckpt->peak_total / (double)none->peak_total;
    double slower = 1.0 - ckpt->images_per_s / none->images_per_s;
    cs_result b = {0}, a = {0};
    b.timing = none->rung.timing;
    a.timing = ckpt->rung.timing;
    char phrase[128];
    cs_compare_phrase(&b, &a, phrase, sizeof phrase, NULL);
    cs_say("  - Checkpointing cut the activations' peak by %.0f%% (the whole model's by %.0f%%) and ran %s:\n"
           "    %.0f%% %s throughput, %s per batch recomputing. The lab expects %.0f-%.0f%% less memory at\n"
           "    %.0f-%.0f%% slower: memory %s, time %s.\n",
           100.0 * saved, 100.0 * whole, phrase, 100.0 * fabs(slower), slower >= 0 ? "less" : "more",
           cs_format_time(ckpt->recompute_s, (char[32]){0}, 32), 100.0 * RN_CKPT_MEM_EXPECT_LO,
           100.0 * RN_CKPT_MEM_EXPECT_HI, 100.0 * RN_CKPT_TIME_EXPECT_LO, 100.0 * RN_CKPT_TIME_EXPECT_HI,
           saved >= RN_CKPT_MEM_EXPECT_LO ? "met" : "not met", slower <= RN_CKPT_TIME_EXPECT_HI ? "met" : "not met");
}

static void lesson_accumulation(const mem_state *s)
{
    const rn_memory_row *one = &s->rows[ROW_ACCUM_1], *eight = &s->rows[ROW_ACCUM_8];
    if (!s->ran[ROW_ACCUM_1] || !s->ran[ROW_ACCUM_8]) {
        cs_say("  - Accumulation: accum_1 and accum_8 are both needed for a verdict; --variant left one out.\n");
        return;
    }
    double change = (double)eight->peak_total / (double)one->peak_total - 1.0;
    double alone = s->fit_fixed + (double)eight->effective_batch * s->fit_per_image;
    cs_say("  - Accumulation trained an effective batch of %d (8 x %d) in %s, %+.1f%% against one step per\n"
           "    batch; one batch of %d laid out would take %s. Throughput %.1f against %.1f images/s:\n"
           "    the same forward and backward work, 8 times fewer optimizer steps.\n",
           eight->effective_batch, s->lab->a->batch, mib((double)eight->peak_total, (char[32]){0}), 100.0 * change,
           eight->effective_batch, mib(alone, (char[32]){0}), eight->images_per_s, one->images_per_s);
}

static void lesson_budget(const mem_state *s)
{
    if (!s->budget) return;
    const rn_budget_row *r = s->budget_rows;
    cs_say("  - In %s: fp32 fits a batch of %d, AMP's 16-bit activations %d, checkpointing %d, both %d:\n"
           "    what each buys is its cut of the per-image bytes (%s in fp32, %s with both), since the\n"
           "    weights, gradients and Adam's state (%s) stay; AMP adds %s of weight-copy scratch.\n",
           mib((double)s->budget, (char[32]){0}), r[0].max_batch, r[1].max_batch, r[2].max_batch, r[3].max_batch,
           mib(r[0].per_image, (char[32]){0}), mib(r[3].per_image, (char[32]){0}), mib(r[0].fixed, (char[32]){0}),
           mib(r[1].fixed - r[0].fixed, (char[32]){0}));
}

static void lessons(const mem_state *s)
{
    cs_step(7, "Key lessons");
    lesson_checkpointing(s);
    lesson_accumulation(s);
    lesson_budget(s);
}

/* ---- the run ---------------------------------------------------------------------------- */

/* What can be checked before the runs: the budget against the memory there is. */
static int check_budget(mem_state *s)
{
    rn_lab *lab = s->lab;
    s->budget = (size_t)lab->a->mem_budget_mb * 1024 * 1024;
    size_t have = lab->on_gpu ? lab->sys.gpu_mem : lab->sys.mem_total;
    if (s->budget && have && s->budget > have) {
        cs_error("--mem-budget %d: more than the %s's %s", lab->a->mem_budget_mb, lab->on_gpu ? "GPU" : "machine",
                 mib((double)have, (char[32]){0}));
        return 2;
    }
    return 0;
}

static int run_ladder(mem_state *s, const int *todo, int ntodo)
{
    int rc = reference_run(s);
    if (rc == 0) hypothesis(s);
    cs_prof_enable(1);
    if (rc == 0) {
        cs_step(4, "Investigation: gradient accumulation");
        rc = run_rows(s, todo, ntodo, ROW_ACCUM_1, ROW_CKPT_NONE);
    }
    if (rc == 0) {
        cs_step(5, "Optimization: gradient checkpointing");
        rc = run_rows(s, todo, ntodo, ROW_CKPT_NONE, RN_MEMORY_ROWS);
    }
    if (rc == 0 && s->budget) budget_search(s);
    return rc;
}

int rn_memory(rn_lab *lab)
{
    mem_state s = {.lab = lab};
    int rc = check_budget(&s);
    if (rc) return rc;
    rn_snapshot_take(&lab->m, &s.snap);
    rn_probe_open(&s.probe, lab->be, lab->a->opt.seed, lab->a->arch, lab->a->img);
    cs_say("  Part 4, memory: every row trains the same %d batches of %d (epoch 0) from the same initial\n"
           "  weights; a row's time is the whole run of them.\n",
           lab->epoch_batches, lab->a->batch);
    const char *names[RN_MEMORY_ROWS], *devices[RN_MEMORY_ROWS];
    for (int i = 0; i < RN_MEMORY_ROWS; i++) {
        names[i] = rn_memory_rows[i];
        devices[i] = lab->on_gpu ? "gpu" : "cpu";
    }
    int todo[RN_MEMORY_ROWS];
    int ntodo = cs_ladder_select(&lab->a->opt, names, devices, NULL, RN_MEMORY_ROWS, 1, "", todo, s.skip);
    rc = run_ladder(&s, todo, ntodo);
    int failed = rc == 0 ? verify(&s) : 0;
    if (rc == 0) rc = results(&s);
    if (rc == 0) lessons(&s);
    for (int i = 0; i < RN_MEMORY_ROWS; i++) cs_free(s.rows[i].loss);
    cs_free(s.reference_loss);
    rn_probe_close(&s.probe);
    rn_snapshot_free(&s.snap);
    return rc ? rc : failed;
}
