/* Part 6 of the lab: the comparison (see compare.h).
 *
 * Every configuration trains the same `--batches` batches of epoch 0 from
 * the same initial weights (put back before each run, outside the clock,
 * with a fresh GradScaler). Step 2 is an untimed, profiled run of the
 * baseline: the losses every row is checked against and the evidence the
 * report's bottlenecks quote. The checks:
 *  - the first loss (batch 0, initial weights, before any step) against
 *    the same batch's loss through the same network in the row's precision
 *    (fp32, or autocast's type for the AMP rows: fp16 on a GPU, bf16 on a
 *    CPU), computed once untimed: exactly on the CPU (workers,
 *    accumulation and fusion change nothing there). Not against fp32's
 *    under fp16: autocast's rounding (1.8e-4 at batch 32,
 *    1.2e-3 at batch 8) is too close to another batch's loss (1.7e-2 off)
 *    for a tolerance to tell them apart;
 *  - the loss curve against a reference trained the same way: the
 *    baseline's (step 2) for the rows with one optimizer step per batch,
 *    and for the accumulation rows the baseline trained with the same
 *    accumulation (untimed, once). Not the baseline's there: with a
 *    quarter of the optimizer steps the curve falls later (0.32 from the
 *    baseline's at 224 x 224 on an H200, whose first 60 batches learn
 *    fast), a difference of schedule, not an error. Part 4 checks the
 *    accumulated gradients themselves against their sum in double.
 *    Exactly where the arithmetic is the reference's (fp32: the DataLoader,
 *    the fusions and accumulation change nothing) on the CPU; within
 *    RN_CMP_CURVE_BOUND under autocast (the training went the same way). */
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "cs_console.h"
#include "cs_fault.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "grad_scaler.h"
#include "graph_step.h"
#include "lab_rungs.h"

const char *const rn_compare_rows[RN_COMPARE_ROWS] = {"baseline", "dataloader", "amp",        "fused",
                                                      "graph",    "amp_only",   "accum_only", "all"};

const rn_cmp_spec rn_compare_specs[RN_COMPARE_ROWS] = {
    {"Baseline", "Baseline", 0, 0, 1, 0, 0, "baseline: Part 1's loop, loading in the training thread, fp32"},
    {"+ Optimized DataLoader", "+ DataLoader", 1, 0, 1, 0, 0,
     "dataloader: + worker threads, persistent (pinned memory on a GPU)"},
    {"+ AMP", NULL, 1, 1, 1, 0, 0, "amp: + autocast (GPU: fp16 with GradScaler; CPU: bf16)"},
    {"+ Fusion", NULL, 1, 1, 1, 1, 0, "fused: + Part 5's fused operations"},
    {"+ CUDA Graph", NULL, 1, 1, 1, 1, 1, "graph: + the step replayed as a CUDA graph"},
    {NULL, "+ AMP", 0, 1, 1, 0, 0, "amp_only: the baseline with autocast (fp16 + GradScaler, or bf16)"},
    {NULL, "+ Grad Accum", 0, 0, RN_COMPARE_ACCUM, 0, 0, "accum_only: the baseline, one optimizer step per 4 batches"},
    {NULL, "+ All", 1, 1, RN_COMPARE_ACCUM, 1, 0, "all: DataLoader, AMP, accumulation over 4 batches and fusion"},
};

enum { ROW_BASELINE, ROW_GRAPH = 4 };

/* AMP as PyTorch's autocast does it by default on the device:
 * torch.autocast("cuda") is fp16 (with GradScaler), torch.autocast("cpu")
 * bf16 (no scaler: float32's range), which is also the type a CPU with
 * AVX-512 BF16 multiplies in (Part 3). */
rn_precision rn_compare_amp_precision(const rn_lab *lab)
{
    return lab->on_gpu ? RN_FP16 : RN_BF16;
}

/* The loss curve where the arithmetic differs: the training went the same
 * way (Part 3's bound). */
#define RN_CMP_CURVE_BOUND 0.15
/* On a GPU the same configuration repeats to float rounding. */
#define RN_CMP_GPU_EXACT 1e-3

typedef struct {
    rn_cmp_run *run;
    rn_snapshot snap;
    int reference_steps;
    float *reference_loss;
    float *accum_loss; /* the accumulation rows' reference, NULL until needed */
    int accum_steps;
    float first_loss_amp; /* the first batch's loss under autocast, untimed */
    rn_train_result reference;
    int have_reference;
} cmp_state;

typedef struct {
    cmp_state *s;
    const rn_cmp_spec *spec;
    rn_workers *workers;
    rn_grad_scaler scaler;
    int epoch; /* 0; another only under CS_FAULT_INJECT=<row> */
    rn_train_result last;
    int have_last;
} cmp_one;

static int restore_weights(void *p)
{
    cmp_one *r = p;
    rn_snapshot_restore(&r->s->run->lab->m, &r->s->snap);
    rn_scaler_reset(&r->scaler);
    return 0;
}

static int train_run(void *p)
{
    cmp_one *r = p;
    rn_lab *lab = r->s->run->lab;
    if (r->have_last) rn_train_result_free(&r->last);
    rn_train_opts o = {.batches = lab->epoch_batches, .workers = r->workers, .accum_steps = r->spec->accum};
    o.async_copy = r->workers && lab->on_gpu && lab->be->input_copy != NULL;
    if (r->spec->amp && rn_compare_amp_precision(lab) == RN_FP16) o.scaler = &r->scaler;
    o.graph = r->spec->graph;
    int rc = rn_train_epoch(&lab->m, &lab->ld, r->epoch, &o, &r->last);
    r->have_last = 1;
    return rc;
}

static void check_row(cmp_state *s, int i, const rn_train_result *t)
{
    const rn_cmp_spec *spec = &rn_compare_specs[i];
    rn_cmp_row *row = &s->run->rows[i];
    const int gpu = s->run->lab->on_gpu;
    const float *first = spec->amp ? &s->first_loss_amp : s->reference_loss;
    /* On a GPU the fused rows' batch norm sums in another order (two
     * stages): their first loss agrees to the curve's tolerance. */
    row->first_check = cs_compare_f32(t->loss, first, t->steps > 0 ? 1 : 0,
                                      !gpu          ? 0.0
                                      : spec->fused ? RN_CMP_GPU_EXACT
                                                    : 1e-6);
    const int accum = spec->accum > 1;
    const float *curve = accum ? s->accum_loss : s->reference_loss;
    double curve_tol = spec->amp ? RN_CMP_CURVE_BOUND : gpu ? RN_CMP_GPU_EXACT : 0.0;
    row->curve_check = cs_compare_f32(t->loss, curve, (size_t)t->steps, curve_tol);
    if (t->steps != (accum ? s->accum_steps : s->reference_steps)) row->curve_check.status = CS_CHECK_FAIL;
    row->rung.check = cs_check_merge(row->first_check, row->curve_check);
}

static void record_row(cmp_state *s, int i, const cmp_one *r)
{
    rn_lab *lab = s->run->lab;
    rn_cmp_row *row = &s->run->rows[i];
    const rn_train_result *t = &r->last;
    static const char *const conv[] = {"fwd conv", "bwd conv"};
    row->images_per_s = t->images / row->rung.timing.time.median;
    row->epoch_s = row->rung.timing.time.median * s->run->batches_per_epoch / (t->steps > 0 ? t->steps : 1);
    size_t peak[RN_NCATEGORIES];
    rn_peaks_take(lab->m.arena, peak, &row->peak_total);
    row->peak_act = peak[RN_ACTIVATIONS];
    row->rung.peak_mem = row->peak_total;
    memcpy(row->phase_s, t->phase_mean_s, sizeof row->phase_s);
    row->conv_s = rn_prof_per_step(conv, 2);
    row->test_accuracy = rn_evaluate(&lab->m, &lab->test, lab->a->img, lab->a->eval_batches);
    check_row(s, i, t);
}

/* The configuration's model settings on, its runs timed, its settings off. */
static int run_row(cmp_state *s, int i)
{
    rn_lab *lab = s->run->lab;
    const rn_cmp_spec *spec = &rn_compare_specs[i];
    rn_cmp_row *row = &s->run->rows[i];
    cs_rung_start(&row->rung, rn_compare_rows[i], lab->on_gpu ? "gpu" : "cpu", spec->lesson);
    rn_model_set_precision(&lab->m, spec->amp ? rn_compare_amp_precision(lab) : RN_FP32);
    rn_model_set_fused(&lab->m, spec->fused);
    rn_arena_peaks_reset(lab->m.arena);
    cmp_one r = {.s = s, .spec = spec};
    rn_scaler_init(&r.scaler);
    row->workers = spec->dataloader ? s->run->workers : 0;
    if (row->workers) r.workers = rn_workers_create(&lab->ld, lab->be, row->workers, lab->a->prefetch, 1, lab->on_gpu);
    r.epoch = cs_fault_injected(rn_compare_rows[i]) ? 1 : 0;
    cs_prof_reset();
    int rc = rn_rung_time_runs(lab, &row->rung, rn_compare_rows[i], restore_weights, train_run, &r);
    if (rc == 0) {
        record_row(s, i, &r);
        s->run->ran[i] = 1;
    }
    if (r.have_last) rn_train_result_free(&r.last);
    rn_workers_destroy(r.workers);
    rn_model_set_fused(&lab->m, 0);
    rn_model_set_precision(&lab->m, RN_FP32);
    return rc;
}

/* ---- 2 and 3: the baseline, profiled ------------------------------------------------ */

/* The first batch's loss from the initial weights under autocast (a
 * training forward and the loss, untimed); the model put back after. */
static float first_loss_amp(cmp_state *s)
{
    rn_model *m = &s->run->lab->m;
    rn_snapshot_restore(m, &s->snap);
    rn_model_set_precision(m, rn_compare_amp_precision(s->run->lab));
    rn_lab_load_batch(s->run->lab, 0, 0);
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    rn_model_forward(m, 1);
    rn_model_loss(m);
    cs_prof_enable(prof);
    float loss;
    int correct;
    rn_model_read_metrics(m, &loss, &correct);
    rn_model_set_precision(m, RN_FP32);
    rn_snapshot_restore(m, &s->snap);
    return loss;
}

static int reference_run(cmp_state *s)
{
    rn_lab *lab = s->run->lab;
    cs_step(2, "Initial profiling: the baseline, once, untimed");
    s->first_loss_amp = first_loss_amp(s);
    cs_prof_reset();
    cs_prof_lane("reference");
    rn_train_opts o = {.batches = lab->epoch_batches};
    int rc = rn_train_epoch(&lab->m, &lab->ld, 0, &o, &s->reference);
    s->have_reference = 1;
    if (rc != 0) return rc;
    const rn_train_result *t = &s->reference;
    s->reference_steps = t->steps;
    s->reference_loss = rn_train_losses_copy(t, "reference losses");
    static const char *const conv[] = {"fwd conv", "bwd conv"};
    double step = rn_phase_total(t), conv_s = rn_prof_per_step(conv, 2);
    char b[4][32];
    cs_say("  %d batches of %d: the mean batch took %s: waiting for data %.1f%%, forward %.1f%%,\n"
           "  backward %.1f%%, Adam %.1f%%; the convolutions %s of it (%.0f%%).\n",
           t->steps, lab->a->batch, cs_format_time(step, b[0], 32), 100.0 * rn_data_share(t),
           100.0 * t->phase_mean_s[RN_PHASE_FORWARD] / step, 100.0 * t->phase_mean_s[RN_PHASE_BACKWARD] / step,
           100.0 * t->phase_mean_s[RN_PHASE_OPTIMIZER] / step, cs_format_time(conv_s, b[1], 32),
           step > 0 ? 100.0 * conv_s / step : 0);
    cs_step(3, "Hypothesis");
    cs_say("  Each technique removes one cost: workers the wait for data (%.1f%% here), AMP the cost\n"
           "  of fp32 arithmetic where the hardware multiplies 16-bit numbers (%s), fusion the\n"
           "  passes between the convolutions, accumulation nothing in time (it buys a larger\n"
           "  effective batch at the same memory). Together they can remove at most what their\n"
           "  costs add up to; the convolutions stay.\n",
           100.0 * rn_data_share(t), lab->on_gpu ? "tensor cores" : "none on this CPU: expect AMP slower here");
    return 0;
}

/* The accumulation rows' reference curve: the baseline (fp32, loading in
 * this thread) with one optimizer step per RN_COMPARE_ACCUM batches,
 * untimed and unprofiled, from the initial weights; only when such a row
 * runs. */
static int accum_reference(cmp_state *s, const int *todo, int ntodo)
{
    int needed = 0;
    for (int k = 0; k < ntodo; k++) needed |= rn_compare_specs[todo[k]].accum > 1;
    if (!needed) return 0;
    rn_lab *lab = s->run->lab;
    rn_snapshot_restore(&lab->m, &s->snap);
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    rn_train_opts o = {.batches = lab->epoch_batches, .accum_steps = RN_COMPARE_ACCUM};
    rn_train_result t;
    int rc = rn_train_epoch(&lab->m, &lab->ld, 0, &o, &t);
    cs_prof_enable(prof);
    rn_snapshot_restore(&lab->m, &s->snap);
    if (rc != 0) return rc;
    s->accum_steps = t.steps;
    s->accum_loss = rn_train_losses_copy(&t, "accumulation reference losses");
    rn_train_result_free(&t);
    return 0;
}

/* ---- 4 and 5: the rows -------------------------------------------------------------- */

static void print_row(const rn_cmp_run *run, int i)
{
    const rn_cmp_row *r = &run->rows[i];
    const cs_stats *st = &r->rung.timing.time;
    char b[3][32];
    double base = run->ran[ROW_BASELINE] ? run->rows[ROW_BASELINE].rung.timing.time.median : NAN;
    cs_say("  %-11s run %8s (%s..%s)  %6.1f images/s  %5.2fx  peak %6.1f MiB  test accuracy %4.1f%%\n",
           rn_compare_rows[i], cs_format_time(st->median, b[0], 32), cs_format_time(st->min, b[1], 32),
           cs_format_time(st->max, b[2], 32), r->images_per_s, base / st->median, r->peak_total / 1048576.0,
           100.0 * r->test_accuracy);
}

static int run_rows(cmp_state *s, const int *todo, int ntodo, int lab_table)
{
    for (int k = 0; k < ntodo; k++) {
        int i = todo[k];
        const rn_cmp_spec *spec = &rn_compare_specs[i];
        int in_lab = spec->label_lab != NULL, in_profiling = spec->label_profiling != NULL;
        /* Each row once: the lab's table runs those in it, the profiling
         * table the rest. */
        if (lab_table ? !in_lab : (in_lab || !in_profiling)) continue;
        int rc = run_row(s, i);
        if (rc) return rc;
        print_row(s->run, i);
    }
    if (lab_table && s->run->skip[ROW_GRAPH]) cs_say("  graph: %s\n", s->run->skip[ROW_GRAPH]);
    return 0;
}

/* ---- 6. Verification -------------------------------------------------------------- */

static int verify(const cmp_state *s)
{
    const rn_cmp_run *run = s->run;
    cs_step(6, "Verification");
    cs_say("  Relative differences: the first loss against the same batch through the same weights\n"
           "  in the row's precision (%s), and the loss curve against the baseline's, trained\n"
           "  with the row's accumulation (one optimizer step per %d batches for accum_only and all,\n"
           "  an untimed run) so that both take the same optimizer steps: %s in fp32, within\n"
           "  %.2f under autocast (the training went the same way).\n",
           run->lab->on_gpu ? "within 1e-06" : "exactly", RN_COMPARE_ACCUM,
           run->lab->on_gpu ? "within 1e-03" : "exactly", RN_CMP_CURVE_BOUND);
    int failed = 0;
    for (int i = 0; i < RN_COMPARE_ROWS; i++) {
        if (!run->ran[i]) continue;
        const rn_cmp_row *r = &run->rows[i];
        int ok = r->rung.check.status == CS_CHECK_PASS;
        failed |= !ok;
        cs_say("    %-11s first loss %.2e (tol. %.2g)  losses %.2e (tol. %.2g)  %s%s%s\n", rn_compare_rows[i],
               r->first_check.rel_l2, r->first_check.tol, r->curve_check.rel_l2, r->curve_check.tol,
               ok ? cs_col_pass() : cs_col_fail(), cs_check_word(r->rung.check.status), cs_col_reset());
    }
    return failed;
}

/* ---- the results -------------------------------------------------------------------- */

/* One of the lab's tables: the rows with a label in it that ran. */
static int write_table(const rn_cmp_run *run, const char *dir, const char *file, int lab_table)
{
    char path[CS_PATH_MAX];
    cs_outfile o;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, file)) != 0) return 3;
    fprintf(o.f, "%s\n", RN_COMPARE_CSV_HEADER);
    double base = run->ran[ROW_BASELINE] ? run->rows[ROW_BASELINE].rung.timing.time.median : NAN;
    for (int i = 0; i < RN_COMPARE_ROWS; i++) {
        const char *label = lab_table ? rn_compare_specs[i].label_lab : rn_compare_specs[i].label_profiling;
        if (!label || !run->ran[i]) continue;
        const rn_cmp_row *r = &run->rows[i];
        fprintf(o.f, "%s,%.2f,%.3f,%.1f,%.3f,%.2f\n", label, r->images_per_s, r->epoch_s, r->peak_total / 1048576.0,
                base / r->rung.timing.time.median, 100.0 * r->test_accuracy);
    }
    return cs_outfile_commit(&o) != 0 ? 3 : 0;
}

static int results(const rn_cmp_run *run)
{
    rn_lab *lab = run->lab;
    const char *dir = lab->a->opt.out_dir;
    cs_report report;
    rn_report_begin(&report, lab, "6: comparison", "seconds per run of batches_per_run batches");
    cs_report_config(&report, "workers", "%d", run->workers);
    const cs_rung *rungs[RN_COMPARE_ROWS];
    double ips[RN_COMPARE_ROWS];
    size_t activations[RN_COMPARE_ROWS];
    for (int i = 0; i < RN_COMPARE_ROWS; i++) {
        rungs[i] = &run->rows[i].rung;
        ips[i] = run->rows[i].images_per_s;
        activations[i] = run->rows[i].peak_act;
    }
    if (rn_report_rows(&report, lab, RN_COMPARE_ROWS, rn_compare_rows, run->skip, run->ran, rungs, ips, activations) !=
        0)
        return 3;
    if (write_table(run, dir, "optimization_results.csv", 1) != 0) return 3;
    if (write_table(run, dir, "profiling_results.csv", 0) != 0) return 3;
    rn_chart_compare(dir, run);
    if (rn_compare_report(run, dir) != 0) return 3;
    cs_say("  The lab's tables: %s/optimization_results.csv, profiling_results.csv; its report:\n"
           "  %s/optimization_report.md\n",
           dir, dir);
    return 0;
}

/* ---- 7. Key lessons --------------------------------------------------------------- */

static void lessons(const rn_cmp_run *run)
{
    cs_step(7, "Key lessons");
    if (!run->ran[ROW_BASELINE]) {
        cs_say("  - The baseline is needed for a verdict; --variant left it out.\n");
        return;
    }
    double base = run->rows[ROW_BASELINE].rung.timing.time.median;
    double prev = base;
    for (int i = 1; i < RN_COMPARE_ROWS; i++) {
        if (!run->ran[i] || !rn_compare_specs[i].label_lab) continue;
        double t = run->rows[i].rung.timing.time.median;
        cs_say("  - %-22s %5.2fx over the row before it, %5.2fx over the baseline\n", rn_compare_specs[i].label_lab,
               prev / t, base / t);
        prev = t;
    }
    cs_say("  - The report (optimization_report.md) says which of them to keep on this machine and why.\n");
}

static void choose_workers(rn_cmp_run *run)
{
    const rn_args *a = run->lab->a;
    if (a->num_workers >= 1) {
        run->workers = a->num_workers;
        run->workers_why = "--num-workers";
    } else {
        run->workers = run->lab->sys.cores < 1 ? 1 : run->lab->sys.cores > 8 ? 8 : run->lab->sys.cores;
        run->workers_why = "one per core, at most 8";
    }
}

int rn_compare(rn_lab *lab)
{
    static rn_cmp_run run; /* large: the report reads it after */
    memset(&run, 0, sizeof run);
    run.lab = lab;
    cmp_state s = {.run = &run};
    rn_snapshot_take(&lab->m, &s.snap);
    choose_workers(&run);
    run.batches_per_epoch = (lab->train.n + lab->a->batch - 1) / lab->a->batch;
    cs_say("  Part 6, the comparison: every configuration trains the same %d batches (epoch 0) from\n"
           "  the same initial weights; the optimized DataLoader uses %d workers (%s); epoch times\n"
           "  are a whole epoch's %d batches at the measured rate.\n",
           lab->epoch_batches, run.workers, run.workers_why, run.batches_per_epoch);
    const char *devices[RN_COMPARE_ROWS], *not_here[RN_COMPARE_ROWS] = {0};
    for (int i = 0; i < RN_COMPARE_ROWS; i++) devices[i] = lab->on_gpu ? "gpu" : "cpu";
    if (!lab->be->graph_begin) not_here[ROW_GRAPH] = RN_GRAPH_CPU_SKIP;
    int todo[RN_COMPARE_ROWS];
    int ntodo =
        cs_ladder_select(&lab->a->opt, rn_compare_rows, devices, not_here, RN_COMPARE_ROWS, 1, "", todo, run.skip);
    int rc = reference_run(&s);
    if (rc == 0) rc = accum_reference(&s, todo, ntodo);
    cs_prof_enable(1);
    if (rc == 0) {
        cs_step(4, "Investigation: the Week 13 lab's configurations, each on top of the one before");
        rc = run_rows(&s, todo, ntodo, 1);
    }
    if (rc == 0) {
        cs_step(5, "Optimization: the profiling lab's, each alone on the baseline, then all");
        rc = run_rows(&s, todo, ntodo, 0);
    }
    int failed = rc == 0 ? verify(&s) : 0;
    if (rc == 0) rc = results(&run);
    if (rc == 0) lessons(&run);
    if (s.have_reference) rn_train_result_free(&s.reference);
    cs_free(s.reference_loss);
    cs_free(s.accum_loss);
    rn_snapshot_free(&s.snap);
    return rc ? rc : failed;
}
