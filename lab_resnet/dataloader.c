/* Part 2 of the lab: data loading (see dataloader.h).
 *
 * Every row trains the same `--batches` batches of epoch 0 from the same
 * initial weights (put back before each run, outside the clock), so each
 * row's per-step losses must equal the reference's: the data are the same
 * whoever loads them. A run is one such epoch; its time includes the
 * loading and, for workers started per epoch, starting them. */
#include "dataloader.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_fault.h"
#include "cs_ladder.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "lab_rungs.h"
#include "steps.h"

const char *const rn_dataloader_rows[RN_DATALOADER_ROWS] = {
    "workers_0", "workers_2", "workers_4", "workers_8", "baseline", "optimal_workers", "pin_memory", "persistent",
};

/* The lab expects this much from data loading (its Part 2). */
#define RN_DL_EXPECT_LO 1.3
#define RN_DL_EXPECT_HI 1.8

typedef struct {
    int workers; /* -1: the sweep's best */
    int pin, persistent;
    const char *lesson;
} dl_spec;

static const dl_spec specs[RN_DATALOADER_ROWS] = {
    {0, 0, 0, "num_workers=0: each batch loaded in the training thread"},
    {2, 0, 0, "2 worker threads loading ahead"},
    {4, 0, 0, "4 worker threads loading ahead"},
    {8, 0, 0, "8 worker threads loading ahead"},
    {0, 0, 0, "the lab's baseline: num_workers=0, pin_memory=False"},
    {-1, 0, 0, "the sweep's best worker count"},
    {-1, 1, 0, "+ pin_memory: page-locked staging, the copy of batch n+1 during batch n"},
    {-1, 1, 1, "+ persistent_workers: the workers kept between epochs"},
};

/* Row indexes with a meaning of their own. */
enum { ROW_BASELINE = 4, ROW_OPTIMAL = 5, ROW_PIN = 6, ROW_PERSISTENT = 7, SWEEP_ROWS = 4 };

/* The losses of the same batches agree to float rounding only on a GPU,
 * where cuDNN may sum in another order from run to run; on the CPU the
 * step is deterministic and they are identical. */
#define RN_DL_TOL_CPU 1e-6
#define RN_DL_TOL_GPU 1e-3

typedef struct {
    rn_lab *lab;
    rn_snapshot snap;
    int reference_steps;
    float *reference_loss; /* the reference run's per-step loss */
    rn_dl_row rows[RN_DATALOADER_ROWS];
    int ran[RN_DATALOADER_ROWS];
    const char *skip[RN_DATALOADER_ROWS];
    int optimal; /* the worker count of the optimized rows */
    const char *optimal_why;
    double tol;
} dl_state;

/* One row's runs: the workers it uses, and the last run's result. */
typedef struct {
    dl_state *s;
    rn_workers *workers;
    int async;
    int epoch; /* 0; another only under CS_FAULT_INJECT=<row> */
    rn_train_result last;
    int have_last;
} dl_run;

static int restore_weights(void *p)
{
    dl_run *r = p;
    rn_snapshot_restore(&r->s->lab->m, &r->s->snap);
    return 0;
}

static int train_epoch(void *p)
{
    dl_run *r = p;
    rn_lab *lab = r->s->lab;
    if (r->have_last) rn_train_result_free(&r->last);
    rn_train_opts o = {.batches = lab->epoch_batches, .warmup = 0, .workers = r->workers, .async_copy = r->async};
    int rc = rn_train_epoch(&lab->m, &lab->ld, r->epoch, &o, &r->last);
    r->have_last = 1;
    return rc;
}

/* The time and figures of row i, run with `workers` threads. */
static int run_row(dl_state *s, int i, int workers, int pinned, int persistent)
{
    rn_lab *lab = s->lab;
    rn_dl_row *row = &s->rows[i];
    cs_rung_start(&row->rung, rn_dataloader_rows[i], lab->on_gpu ? "gpu" : "cpu", specs[i].lesson);
    row->workers = workers;
    row->pinned = pinned;
    row->persistent = persistent;
    dl_run r = {.s = s};
    if (workers > 0) r.workers = rn_workers_create(&lab->ld, lab->be, workers, lab->a->prefetch, persistent, pinned);
    r.async = pinned && lab->be->input_copy != NULL;
    /* The tests' fault: the row's loader shuffles for the wrong epoch (other
     * batches), which its loss check must catch. */
    r.epoch = cs_fault_injected(rn_dataloader_rows[i]) ? 1 : 0;
    int rc = rn_rung_time_runs(lab, &row->rung, rn_dataloader_rows[i], restore_weights, train_epoch, &r);
    if (rc == 0) {
        const rn_train_result *t = &r.last;
        row->images_per_s = t->images / row->rung.timing.time.median;
        row->lab_images_per_s = t->lab_images_per_s;
        row->data_share = rn_data_share(t);
        row->first_batch_s = t->first_batch_s;
        row->start_s = r.workers ? rn_workers_start_s(r.workers) : 0;
        row->rung.check = cs_compare_f32(t->loss, s->reference_loss, (size_t)t->steps, s->tol);
        if (t->steps != s->reference_steps) row->rung.check.status = CS_CHECK_FAIL;
        row->rung.peak_mem = cs_rung_memory(&row->rung);
        s->ran[i] = 1;
    }
    if (r.have_last) rn_train_result_free(&r.last);
    rn_workers_destroy(r.workers);
    return rc;
}

/* ---- 2. Initial profiling: the reference run ------------------------------------ */

static void print_split(const rn_train_result *t)
{
    double step = rn_phase_total(t);
    cs_say("  The mean batch, %s:\n   ", cs_format_time(step, (char[32]){0}, 32));
    for (int p = 0; p < RN_NPHASES; p++)
        cs_say("%s %s %s (%.1f%%)", p ? (p == 3 ? ",\n   " : ",") : "", rn_phase_name((rn_phase)p),
               cs_format_time(t->phase_mean_s[p], (char[32]){0}, 32), step > 0 ? 100.0 * t->phase_mean_s[p] / step : 0);
    cs_say(".\n");
}

/* One untimed epoch with loading in the training thread: the losses every
 * row is checked against, and the split step 3 reasons from. */
static int reference_run(dl_state *s, rn_train_result *t)
{
    rn_lab *lab = s->lab;
    cs_step(2, "Initial profiling: where a batch's time goes without workers");
    rn_snapshot_restore(&lab->m, &s->snap);
    rn_train_opts o = {.batches = lab->epoch_batches};
    int rc = rn_train_epoch(&lab->m, &lab->ld, 0, &o, t);
    if (rc) return rc;
    s->reference_steps = t->steps;
    s->reference_loss = rn_train_losses_copy(t, "reference losses");
    cs_say("  One epoch of %d batches of %d (%d images), every batch loaded in the training\n"
           "  thread, untimed: the reference every row's losses are checked against.\n",
           t->steps, lab->a->batch, t->images);
    print_split(t);
    cs_say("  Epoch %s (loading included): %.1f images/s; the lab's throughput (loading\n"
           "  excluded) %.1f images/s.\n",
           cs_format_time(t->wall_s, (char[32]){0}, 32), t->images / t->wall_s, t->lab_images_per_s);
    return 0;
}

/* ---- 3. Hypothesis -------------------------------------------------------------- */

static void hypothesis(const dl_state *s, const rn_train_result *t)
{
    const rn_lab *lab = s->lab;
    double share = rn_data_share(t);
    int cores = lab->sys.cores, threads = lab->sys.threads;
    cs_step(3, "Hypothesis");
    cs_say("  Loading is %.1f%% of a batch. Workers can at best hide it behind the compute: the\n"
           "  epoch then takes the rest, %.2fx faster at most (1 / (1 - %.3f)).\n",
           100.0 * share, share < 1 ? 1.0 / (1.0 - share) : 0.0, share);
    if (lab->on_gpu)
        cs_say("  On the GPU the compute runs on the device: the workers have the CPU's %d cores to\n"
               "  themselves, so more of them should help until loading is hidden.\n",
               cores);
    else
        cs_say("  On the CPU the workers and the step share %d cores: the step's own %d OpenMP threads\n"
               "  (and BLAS's) compute, each worker adds one thread (one OpenMP thread each, no BLAS\n"
               "  call, as PyTorch's workers run with torch.set_num_threads(1)). A worker loading a\n"
               "  batch takes a core from the step while it does; so workers can gain at most the\n"
               "  %.1f%% above, and more workers than cores only add switching.\n",
               cores, threads, 100.0 * share);
}

/* ---- 4 and 5: the rows ------------------------------------------------------------ */

/* The row with the lowest median epoch among rows [from, to) that ran, or -1. */
static int fastest_row(const dl_state *s, int from, int to)
{
    int best = -1;
    for (int i = from; i < to; i++)
        if (s->ran[i] && (best < 0 || s->rows[i].rung.timing.time.median < s->rows[best].rung.timing.time.median))
            best = i;
    return best;
}

/* cs_compare_phrase for row `after` against row `before`: "1.2x faster", or
 * a tie when their timed runs overlap (*tie set). */
static const char *compare_rows(const dl_state *s, int before, int after, char *buf, size_t len, int *tie)
{
    cs_result b = {0}, a = {0};
    b.timing = s->rows[before].rung.timing;
    a.timing = s->rows[after].rung.timing;
    return cs_compare_phrase(&b, &a, buf, len, tie);
}

static void print_row(const dl_state *s, int i)
{
    const rn_dl_row *r = &s->rows[i];
    const cs_stats *st = &r->rung.timing.time;
    char how[64];
    snprintf(how, sizeof how, "%d workers%s%s", r->workers, r->pinned ? ", pinned" : "",
             r->persistent ? ", persistent" : "");
    cs_say("  %-16s %-24s epoch %8s (%s..%s)  %6.1f images/s (lab's %6.1f)  data %4.1f%%  first batch %s\n",
           rn_dataloader_rows[i], how, cs_format_time(st->median, (char[32]){0}, 32),
           cs_format_time(st->min, (char[32]){0}, 32), cs_format_time(st->max, (char[32]){0}, 32), r->images_per_s,
           r->lab_images_per_s, 100.0 * r->data_share, cs_format_time(r->first_batch_s, (char[32]){0}, 32));
}

/* Why more workers did or did not help, from the sweep's own figures: the
 * wait they hid against what the epoch gained. */
static void explain_sweep(const dl_state *s)
{
    int best = fastest_row(s, 1, SWEEP_ROWS);
    if (!s->ran[0] || best < 0) return;
    char phrase[128];
    int tie = 0;
    compare_rows(s, 0, best, phrase, sizeof phrase, &tie);
    int faster = !tie && s->rows[best].rung.timing.time.median < s->rows[0].rung.timing.time.median;
    cs_say("  The fastest with workers, %s, waited for data %.1f%% of a batch where workers_0 loaded\n"
           "  for %.1f%%; its epoch against workers_0: %s.\n  %s\n",
           rn_dataloader_rows[best], 100.0 * s->rows[best].data_share, 100.0 * s->rows[0].data_share, phrase,
           faster ? "The loading the workers hid was worth more than the cores they took from the step."
                  : "What the workers hid was no more than what they cost: loading is a small share of a\n"
                    "  batch here, and on these cores a worker's loading slows the step's threads.");
}

static int run_sweep(dl_state *s, const int *todo, int ntodo)
{
    cs_step(4, "Investigation: the number of workers");
    cs_say("  Each row: %d batches from the same weights, median epoch over its timed runs\n"
           "  (loading and starting the workers included), prefetch_factor %d.\n",
           s->lab->epoch_batches, s->lab->a->prefetch);
    for (int k = 0; k < ntodo; k++) {
        int i = todo[k];
        if (i >= SWEEP_ROWS) continue;
        int rc = run_row(s, i, specs[i].workers, 0, 0);
        if (rc) return rc;
        print_row(s, i);
    }
    explain_sweep(s);
    return 0;
}

/* The optimized rows' worker count: --num-workers, else the sweep's
 * fastest with workers (the lab's optimal_workers; a count of 0 leaves
 * nothing to pin or keep). */
static void choose_optimal(dl_state *s)
{
    const rn_args *a = s->lab->a;
    if (a->num_workers > 0) {
        s->optimal = a->num_workers;
        s->optimal_why = "--num-workers";
        return;
    }
    int best = fastest_row(s, 1, SWEEP_ROWS);
    s->optimal = best < 0 ? 2 : specs[best].workers;
    s->optimal_why = best < 0 ? "no sweep row with workers ran: 2" : "the sweep's fastest with workers";
}

static int run_lab_configurations(dl_state *s, const int *todo, int ntodo)
{
    rn_lab *lab = s->lab;
    cs_step(5, "Optimization: the lab's four configurations");
    choose_optimal(s);
    cs_say("  optimal_workers, pin_memory and persistent use %d workers (%s).\n", s->optimal, s->optimal_why);
    for (int k = 0; k < ntodo; k++) {
        int i = todo[k];
        if (i < SWEEP_ROWS) continue;
        int workers = specs[i].workers < 0 ? s->optimal : specs[i].workers;
        int pinned = specs[i].pin && lab->on_gpu;
        int rc = run_row(s, i, workers, pinned, specs[i].persistent);
        if (rc) return rc;
        print_row(s, i);
    }
    if (s->skip[ROW_PIN]) cs_say("  pin_memory: %s\n", s->skip[ROW_PIN]);
    int started = s->ran[ROW_PIN] ? ROW_PIN : s->ran[ROW_OPTIMAL] ? ROW_OPTIMAL : -1;
    if (s->ran[ROW_PERSISTENT] && started >= 0)
        cs_say("  Starting %d worker threads took %s per epoch (%s); persistent workers start once, and the\n"
               "  first batch of an epoch came %s after its start with them, %s without.\n",
               s->optimal, cs_format_time(s->rows[started].start_s, (char[32]){0}, 32), rn_dataloader_rows[started],
               cs_format_time(s->rows[ROW_PERSISTENT].first_batch_s, (char[32]){0}, 32),
               cs_format_time(s->rows[started].first_batch_s, (char[32]){0}, 32));
    return 0;
}

/* ---- 6. Verification -------------------------------------------------------------- */

static int verify(dl_state *s)
{
    const rn_lab *lab = s->lab;
    cs_step(6, "Verification");
    cs_say("  Each row's per-step losses against the reference's (the same %d batches from the same\n"
           "  weights): relative L2 difference, tolerance %.0e (%s).\n",
           s->reference_steps, s->tol,
           lab->on_gpu ? "cuDNN may sum in another order from run to run"
                       : "the CPU's step is deterministic: identical losses expected");
    int failed = 0;
    for (int i = 0; i < RN_DATALOADER_ROWS; i++) {
        if (!s->ran[i]) continue;
        const cs_check *c = &s->rows[i].rung.check;
        int ok = c->status == CS_CHECK_PASS;
        failed |= !ok;
        cs_say("    %-16s %.2e  %s%s%s\n", rn_dataloader_rows[i], c->rel_l2, ok ? cs_col_pass() : cs_col_fail(),
               cs_check_word(c->status), cs_col_reset());
    }
    return failed;
}

/* ---- the results -------------------------------------------------------------------- */

static double speedup_over(const dl_state *s, int i, int base)
{
    return s->rows[i].rung.timing.time.median > 0
               ? s->rows[base].rung.timing.time.median / s->rows[i].rung.timing.time.median
               : 0;
}

/* dataloader.csv: the figures the results table has no column for. */
static int write_figures(const dl_state *s, const char *dir)
{
    char path[CS_PATH_MAX];
    cs_outfile o;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "dataloader.csv")) != 0) return 3;
    fprintf(o.f, "configuration,workers,prefetch_factor,pin_memory,persistent_workers,epoch_s,images_per_s,"
                 "lab_images_per_s,data_wait_share,first_batch_s,worker_start_s,speedup,check\n");
    int base = s->ran[ROW_BASELINE] ? ROW_BASELINE : 0;
    for (int i = 0; i < RN_DATALOADER_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_dl_row *r = &s->rows[i];
        fprintf(o.f, "%s,%d,%d,%d,%d,%.6f,%.3f,%.3f,%.5f,%.6f,%.6f,%.4f,%s\n", rn_dataloader_rows[i], r->workers,
                r->workers ? s->lab->a->prefetch : 0, r->pinned, r->persistent, r->rung.timing.time.median,
                r->images_per_s, r->lab_images_per_s, r->data_share, r->first_batch_s, r->start_s,
                s->ran[base] ? speedup_over(s, i, base) : 0, cs_check_word(r->rung.check.status));
    }
    return cs_outfile_commit(&o) != 0 ? 3 : 0;
}

static int results(dl_state *s)
{
    rn_lab *lab = s->lab;
    const char *dir = lab->a->opt.out_dir;
    cs_report report;
    rn_report_begin(&report, lab, "2: data loading", "seconds per epoch of batches_per_run batches");
    cs_report_config(&report, "prefetch_factor", "%d", lab->a->prefetch);
    cs_report_config(&report, "optimal_workers", "%d", s->optimal);
    const cs_rung *rungs[RN_DATALOADER_ROWS];
    double ips[RN_DATALOADER_ROWS];
    size_t activations[RN_DATALOADER_ROWS]; /* the same layout in every row: loading changes none of it */
    for (int i = 0; i < RN_DATALOADER_ROWS; i++) {
        rungs[i] = &s->rows[i].rung;
        ips[i] = s->rows[i].images_per_s;
        activations[i] = rn_arena_peak(lab->m.arena, RN_ACTIVATIONS);
    }
    if (rn_report_rows(&report, lab, RN_DATALOADER_ROWS, rn_dataloader_rows, s->skip, s->ran, rungs, ips,
                       activations) != 0)
        return 3;
    if (write_figures(s, dir) != 0) return 3;
    rn_chart_dataloader(dir, s->rows, s->ran, rn_dataloader_rows, ROW_BASELINE, lab->on_gpu);
    return 0;
}

/* ---- 7. Key lessons --------------------------------------------------------------- */

static void lessons(const dl_state *s)
{
    cs_step(7, "Key lessons");
    int base = s->ran[ROW_BASELINE] ? ROW_BASELINE : s->ran[0] ? 0 : -1;
    int best = fastest_row(s, ROW_OPTIMAL, RN_DATALOADER_ROWS);
    if (base < 0 || best < 0) {
        cs_say("  - The lab's baseline and an optimized configuration are both needed for a verdict;\n"
               "    --variant left one out.\n");
        return;
    }
    char phrase[128];
    int tie = 0;
    compare_rows(s, base, best, phrase, sizeof phrase, &tie);
    double x = speedup_over(s, best, base);
    cs_say("  - Data loading: %s (%s) against %s: %s.\n", rn_dataloader_rows[best],
           cs_format_time(s->rows[best].rung.timing.time.median, (char[32]){0}, 32), rn_dataloader_rows[base], phrase);
    int met = !tie && x >= RN_DL_EXPECT_LO;
    cs_say("  - The lab expects %.1f-%.1fx from data loading: %s on this machine (%.2fx), because loading\n"
           "    was %.1f%% of the baseline's batch%s.\n",
           RN_DL_EXPECT_LO, RN_DL_EXPECT_HI, met ? "met" : "not met", x, 100.0 * s->rows[base].data_share,
           met ? "" : ": workers cannot save more than the loading costs");
    cs_say("  - Workers help when loading is a large share of a step and they have cores of their\n"
           "    own: on a GPU, or at the lab's 224 x 224 (--img-size 224), not at 32 x 32 on a few cores.\n");
}

int rn_dataloader(rn_lab *lab)
{
    dl_state s = {.lab = lab, .tol = lab->on_gpu ? RN_DL_TOL_GPU : RN_DL_TOL_CPU};
    rn_snapshot_take(&lab->m, &s.snap);
    cs_say("  Part 2, data loading: every row trains the same %d batches (epoch 0) from the same\n"
           "  initial weights; a row's time is the whole epoch, loading and worker start-up included.\n",
           lab->epoch_batches);
    const char *names[RN_DATALOADER_ROWS], *devices[RN_DATALOADER_ROWS], *not_here[RN_DATALOADER_ROWS] = {0};
    for (int i = 0; i < RN_DATALOADER_ROWS; i++) {
        names[i] = rn_dataloader_rows[i];
        devices[i] = lab->on_gpu ? "gpu" : "cpu";
    }
    if (!lab->on_gpu)
        not_here[ROW_PIN] = "pinned memory speeds host-to-device copies; on the CPU the batch is already where "
                            "the step reads it (the persistent row keeps its workers unpinned)";
    int todo[RN_DATALOADER_ROWS];
    int ntodo = cs_ladder_select(&lab->a->opt, names, devices, not_here, RN_DATALOADER_ROWS, 1, "", todo, s.skip);
    rn_train_result ref;
    int rc = reference_run(&s, &ref);
    if (rc == 0) hypothesis(&s, &ref);
    rn_train_result_free(&ref);
    cs_prof_reset();
    cs_prof_enable(1);
    if (rc == 0) rc = run_sweep(&s, todo, ntodo);
    if (rc == 0) rc = run_lab_configurations(&s, todo, ntodo);
    int failed = rc == 0 ? verify(&s) : 0;
    if (rc == 0) rc = results(&s);
    if (rc == 0) lessons(&s);
    cs_free(s.reference_loss);
    rn_snapshot_free(&s.snap);
    return rc ? rc : failed;
}
