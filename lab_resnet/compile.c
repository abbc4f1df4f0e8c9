/* Part 5 of the lab: compilation (see compile.h).
 *
 * Every row trains the same `--batches` batches of epoch 0 from the same
 * initial weights (put back before each run, outside the clock). The
 * checks, cheap next to the runs:
 *  - the first batch's gradients from the initial weights, every trainable
 *    tensor, against eager's: on the CPU the fused operations do the same
 *    float operations in the same order, so exactly (tolerance 0); on the
 *    GPU the fused reductions add in another order (1e-5);
 *  - the loss at every step against eager's: exactly on the CPU; on the
 *    GPU within RN_COMPILE_CURVE_GPU (each step's rounding moves the next
 *    step's weights). */
#include "compile.h"

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
#include "cs_runner.h"
#include "cs_stats.h"
#include "graph_step.h"
#include "lab_rungs.h"

const char *const rn_compile_rows[RN_COMPILE_ROWS] = {"eager", "fused", "graph"};

/* What the lab expects from torch.compile (its Part 5), and what the issue
 * asks of the fused rung on a CPU (32 x 32, batch 32, 2 threads). */
#define RN_COMPILE_EXPECT_LO 1.1
#define RN_COMPILE_EXPECT_HI 1.4
#define RN_FUSED_CPU_TARGET  1.05

/* The GPU's fused reductions add in another order than eager's. */
#define RN_COMPILE_GRAD_GPU  1e-5
#define RN_COMPILE_CURVE_GPU 1e-3

typedef struct {
    int fused, graph;
    const char *lesson;
} compile_spec;

static const compile_spec specs[RN_COMPILE_ROWS] = {
    {0, 0, "eager: Part 1's step, one operation (one pass over its tensors) at a time"},
    {1, 0,
     "fused: bn+relu, bn+add+relu, the stem's bn+relu+maxpool and their backwards in one pass each; "
     "multi-tensor Adam; on the CPU the convolutions keep their patch matrices for the backward and Adam skips "
     "layer4's taps that only see padding"},
    {1, 1, "graph: the fused step captured once as a CUDA graph and replayed"},
};

enum { ROW_EAGER, ROW_FUSED, ROW_GRAPH };

typedef struct {
    rn_lab *lab;
    rn_snapshot snap;
    int reference_steps;
    float *reference_loss;  /* eager's untimed run */
    float *reference_grads; /* eager's first batch, every trainable tensor */
    size_t ngrads;
    double ref_step_s, ref_conv_s, ref_between_s, ref_optimizer_s; /* per step, eager's profiled run */
    rn_compile_row rows[RN_COMPILE_ROWS];
    int ran[RN_COMPILE_ROWS];
    const char *skip[RN_COMPILE_ROWS];
    /* Each timed round's run of each row, the rows one after another:
     * pairs that saw the same moment of the machine (time_rows). */
    double round_s[RN_COMPILE_ROWS][CS_MAX_REPEATS];
    int rounds;
} compile_state;

typedef struct {
    compile_state *s;
    int epoch; /* 0; another only under CS_FAULT_INJECT=<row> */
    int graph; /* the row replays its steps as a CUDA graph */
    rn_train_result last;
    int have_last;
} compile_run;

static int restore_weights(void *p)
{
    compile_run *r = p;
    rn_snapshot_restore(&r->s->lab->m, &r->s->snap);
    return 0;
}

static int train_run(void *p)
{
    compile_run *r = p;
    rn_lab *lab = r->s->lab;
    if (r->have_last) rn_train_result_free(&r->last);
    rn_train_opts o = {.batches = lab->epoch_batches, .graph = r->graph};
    rn_lab_feed(lab, &o);
    int rc = rn_train_epoch(&lab->m, &lab->ld, r->epoch, &o, &r->last);
    r->have_last = 1;
    return rc;
}

/* Seconds per step the profiler saw in the convolutions, in the operations
 * between them (batch norm, ReLU, the adds, pooling: what fusion merges),
 * and in Adam. The prefixes take the fused regions too ("fwd bn+relu ...",
 * "bwd relu+bn ..."). */
static void profiled_split(double *conv_s, double *between_s, double *optimizer_s)
{
    static const char *const conv[] = {"fwd conv", "bwd conv"};
    static const char *const between[] = {"fwd bn",  "bwd bn",  "fwd relu",    "bwd relu",
                                          "fwd add", "bwd add", "fwd maxpool", "bwd maxpool"};
    static const char *const optimizer[] = {"optimizer step"};
    *conv_s = rn_prof_per_step(conv, 2);
    *between_s = rn_prof_per_step(between, (int)(sizeof between / sizeof between[0]));
    *optimizer_s = rn_prof_per_step(optimizer, 1);
}

/* Every trainable tensor's gradient after the first batch of `epoch` from
 * the initial weights (forward in training mode, loss, backward), fused or
 * not, into out (host); the weights and statistics put back after. */
static void first_batch_gradients(compile_state *s, int epoch, int fused, float *out)
{
    rn_model *m = &s->lab->m;
    rn_snapshot_restore(m, &s->snap);
    rn_lab_load_batch(s->lab, epoch, 0);
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    rn_model_set_fused(m, fused);
    rn_model_forward(m, 1);
    rn_model_loss(m);
    rn_model_backward(m);
    rn_model_set_fused(m, 0);
    cs_prof_enable(prof);
    rn_gradients_to_host(m, out);
    rn_snapshot_restore(m, &s->snap);
}

/* The row's checks: its first batch's gradients against eager's, and its
 * loss curve against eager's run. */
static cs_check check_row(compile_state *s, int i, const compile_run *r)
{
    const int gpu = s->lab->on_gpu;
    const rn_train_result *t = &r->last;
    float *grads = cs_alloc(s->ngrads * sizeof(float), "row gradients");
    first_batch_gradients(s, r->epoch, specs[i].fused, grads);
    cs_check g = cs_compare_f32(grads, s->reference_grads, s->ngrads, gpu ? RN_COMPILE_GRAD_GPU : 0.0);
    cs_free(grads);
    cs_check c = cs_compare_f32(t->loss, s->reference_loss, (size_t)t->steps, gpu ? RN_COMPILE_CURVE_GPU : 0.0);
    if (t->steps != s->reference_steps) c.status = CS_CHECK_FAIL;
    s->rows[i].grad_check = g;
    s->rows[i].curve_check = c;
    return cs_check_merge(g, c);
}

/* What the last run of row i left: throughput, memory, accuracy, losses,
 * then its checks. */
static void record_row(compile_state *s, int i, const compile_run *r)
{
    rn_compile_row *row = &s->rows[i];
    const rn_train_result *t = &r->last;
    row->images_per_s = t->images / row->rung.timing.time.median;
    row->rung.peak_mem = row->peak_total;
    row->train_accuracy = t->train_accuracy;
    row->steps = t->steps;
    row->loss = rn_train_losses_copy(t, "row losses");
    row->rung.check = check_row(s, i, r);
    s->ran[i] = 1;
}

/* One run of row i (its settings on, its weights put back, outside the
 * clock), its time in *seconds; a timed one adds the profiler's split per
 * step and the memory peaks to the row's. */
static int one_run(compile_state *s, int i, compile_run *r, int timed, double *seconds)
{
    rn_lab *lab = s->lab;
    rn_compile_row *row = &s->rows[i];
    rn_model_set_fused(&lab->m, specs[i].fused);
    r->graph = specs[i].graph;
    restore_weights(r);
    const int rc = rn_rung_one_run(lab, rn_compile_rows[i], train_run, r, seconds);
    rn_model_set_fused(&lab->m, 0);
    if (rc != 0 || !timed) return rc;
    double conv, between, optimizer;
    profiled_split(&conv, &between, &optimizer);
    row->conv_s += conv, row->between_s += between, row->optimizer_s += optimizer;
    rn_peaks_raise(lab->m.arena, row->peak, &row->peak_total);
    return 0;
}

/* The selected rows' runs interleaved (eager, fused, eager, fused, ...):
 * this machine's speed drifts by up to 2x within minutes, more than the
 * difference fusion makes, and runs side by side see the same drift.
 * --warmup untimed rounds (default 1), then --repeat timed ones (default 5,
 * 2 with --quick). */
static int time_rows(compile_state *s, const int *rows, int n)
{
    const cs_options *opt = &s->lab->a->opt;
    int warmup, repeats;
    rn_rounds_count(opt, 5, &warmup, &repeats);
    static double samples[RN_COMPILE_ROWS][CS_MAX_REPEATS];
    compile_run runs[RN_COMPILE_ROWS];
    memset(runs, 0, sizeof runs);
    for (int k = 0; k < n; k++) {
        int i = rows[k];
        cs_rung_start(&s->rows[i].rung, rn_compile_rows[i], s->lab->on_gpu ? "gpu" : "cpu", specs[i].lesson);
        runs[k].s = s;
        runs[k].epoch = cs_fault_injected(rn_compile_rows[i]) ? 1 : 0; /* the tests' fault: another epoch */
    }
    cs_say("  The rows' runs alternate (%d untimed, then %d timed rounds) so that the machine's drift\n"
           "  falls on every row alike.\n",
           warmup, repeats);
    int rc = 0;
    for (int w = 0; rc == 0 && w < warmup + repeats; w++) {
        cs_progress("compile: round %d of %d", w + 1, warmup + repeats);
        for (int k = 0; rc == 0 && k < n; k++) {
            double t;
            rc = one_run(s, rows[k], &runs[k], w >= warmup, &t);
            if (w >= warmup) samples[k][w - warmup] = s->round_s[rows[k]][w - warmup] = t;
        }
    }
    cs_progress_done();
    s->rounds = repeats;
    for (int k = 0; k < n; k++) {
        rn_compile_row *row = &s->rows[rows[k]];
        if (rc == 0) {
            rn_rung_from_rounds(&row->rung, samples[k], repeats, warmup);
            row->conv_s /= repeats, row->between_s /= repeats, row->optimizer_s /= repeats;
            record_row(s, rows[k], &runs[k]);
        }
        if (runs[k].have_last) rn_train_result_free(&runs[k].last);
    }
    return rc;
}

/* ---- 2. Initial profiling: eager's run ------------------------------------------ */

static int reference_run(compile_state *s)
{
    rn_lab *lab = s->lab;
    rn_model *m = &lab->m;
    cs_step(2, "Initial profiling: where eager's step goes");
    s->ngrads = rn_model_trainable_count(m);
    s->reference_grads = cs_alloc(s->ngrads * sizeof(float), "reference gradients");
    first_batch_gradients(s, 0, 0, s->reference_grads);
    cs_prof_reset();
    cs_prof_lane("reference");
    rn_train_opts o = {.batches = lab->epoch_batches};
    rn_train_result t;
    int rc = rn_train_epoch(m, &lab->ld, 0, &o, &t);
    if (rc == 0) {
        s->reference_steps = t.steps;
        s->reference_loss = rn_train_losses_copy(&t, "reference losses");
        s->ref_step_s = rn_phase_total(&t);
        profiled_split(&s->ref_conv_s, &s->ref_between_s, &s->ref_optimizer_s);
        double step = s->ref_step_s > 0 ? s->ref_step_s : 1;
        char b[4][32];
        cs_say("  One eager run of %d batches of %d, profiled and untimed: the loss curve and the\n"
               "  first batch's gradients every row is checked against. The mean step took %s (%s):\n"
               "    convolutions                                  %9s  %4.1f%%\n"
               "    between them (batch norm, ReLU, adds, pooling) %8s  %4.1f%%\n"
               "    Adam                                          %9s  %4.1f%%\n",
               t.steps, lab->a->batch, cs_format_time(s->ref_step_s, b[0], 32),
               lab->on_gpu ? "device time" : "host clock", cs_format_time(s->ref_conv_s, b[1], 32),
               100.0 * s->ref_conv_s / step, cs_format_time(s->ref_between_s, b[2], 32),
               100.0 * s->ref_between_s / step, cs_format_time(s->ref_optimizer_s, b[3], 32),
               100.0 * s->ref_optimizer_s / step);
    }
    rn_train_result_free(&t);
    return rc;
}

/* ---- 3. Hypothesis ---------------------------------------------------------------- */

static void hypothesis(const compile_state *s)
{
    double step = s->ref_step_s > 0 ? s->ref_step_s : 1;
    double bound = step / (step - s->ref_between_s > 0 ? step - s->ref_between_s : step);
    cs_step(3, "Hypothesis");
    cs_say("  Fusion leaves the convolutions' products alone (torch.compile hands them to cuDNN or\n"
           "  oneDNN too) and merges the operations between them: each reads and writes its whole\n"
           "  tensor, and (on a GPU) costs a launch. Even if they took no time at all,\n"
           "  the step would be %.2fx faster: that bounds what fusing them can give here.\n"
           "  Adam (%.0f%% of the step) reads and writes four numbers per parameter however it is launched.\n",
           bound, 100.0 * s->ref_optimizer_s / step);
    if (!s->lab->on_gpu)
        cs_say("  The compiler also chooses what the forward saves for the backward (its partitioner\n"
               "  weighs memory against recomputing). Eager saves each convolution's input and its\n"
               "  backward builds the patch matrix (im2col) again from it; the fused step keeps the\n"
               "  forward's: one pass less per convolution, paid in memory (the table's activations).\n"
               "  And it specialises for the shapes it sees: where layer4's 3x3 kernels meet a 1x1 image\n"
               "  most of their taps only ever multiply padding, so their gradient and Adam's moments\n"
               "  stay zero and Adam leaves them as they are; the fused step updates the other taps alone.\n");
}

/* ---- 4 and 5: the rows -------------------------------------------------------------- */

static void print_row(const compile_state *s, int i)
{
    const rn_compile_row *r = &s->rows[i];
    const cs_stats *st = &r->rung.timing.time;
    char b[5][32];
    if (specs[i].graph) { /* the profiler's regions are not in the graph */
        cs_say("  %-6s run %8s (%s..%s)  %6.1f images/s  per step: one graph launch\n", rn_compile_rows[i],
               cs_format_time(st->median, b[0], 32), cs_format_time(st->min, b[1], 32),
               cs_format_time(st->max, b[2], 32), r->images_per_s);
        return;
    }
    cs_say("  %-6s run %8s (%s..%s)  %6.1f images/s  per step: conv %s, between %s, Adam %s\n", rn_compile_rows[i],
           cs_format_time(st->median, b[0], 32), cs_format_time(st->min, b[1], 32), cs_format_time(st->max, b[2], 32),
           r->images_per_s, cs_format_time(r->conv_s, b[3], 32), cs_format_time(r->between_s, b[4], 32),
           cs_format_time(r->optimizer_s, (char[32]){0}, 32));
}

/* Prints rows [from, to) that ran, and the skipped ones' reasons. */
static void print_rows(const compile_state *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (s->ran[i]) print_row(s, i);
        if (s->skip[i]) cs_say("  %s: %s\n", rn_compile_rows[i], s->skip[i]);
    }
}

/* ---- 6. Verification -------------------------------------------------------------- */

static int verify(const compile_state *s)
{
    const int gpu = s->lab->on_gpu;
    cs_step(6, "Verification");
    cs_say("  Two checks per row, relative L2 differences against eager's untimed run:\n"
           "   - the first batch's gradients (%zu values) from the initial weights: %s;\n"
           "   - the loss at each of the %d steps: %s.\n",
           s->ngrads, gpu ? "within 1e-05 (fused reductions add in another order)" : "exactly (the same arithmetic)",
           s->reference_steps, gpu ? "within 1e-03" : "exactly");
    if (s->ran[ROW_GRAPH])
        cs_say("  graph's gradients are its step's, run once as it is; its replays are checked by its losses.\n");
    int failed = 0;
    for (int i = 0; i < RN_COMPILE_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_compile_row *r = &s->rows[i];
        int ok = r->rung.check.status == CS_CHECK_PASS;
        failed |= !ok;
        cs_say("    %-6s gradients %.2e (tol. %.2g)  losses %.2e (tol. %.2g)  %s%s%s   train accuracy %4.1f%%\n",
               rn_compile_rows[i], r->grad_check.rel_l2, r->grad_check.tol, r->curve_check.rel_l2, r->curve_check.tol,
               ok ? cs_col_pass() : cs_col_fail(), cs_check_word(r->rung.check.status), cs_col_reset(),
               100.0 * r->train_accuracy);
    }
    return failed;
}

/* ---- the results -------------------------------------------------------------------- */

static double speedup_over_eager(const compile_state *s, int i)
{
    return s->ran[ROW_EAGER] && s->rows[i].rung.timing.time.median > 0
               ? s->rows[ROW_EAGER].rung.timing.time.median / s->rows[i].rung.timing.time.median
               : NAN;
}

static int write_figures(const compile_state *s, const char *dir)
{
    char path[CS_PATH_MAX];
    cs_outfile o;
    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "compile.csv")) != 0) return 3;
    fprintf(o.f, "configuration,run_s,run_min_s,run_max_s,images_per_s,speedup,conv_s_per_step,between_s_per_step,"
                 "optimizer_s_per_step,peak_activations,peak_total,train_accuracy,grad_rel_diff,loss_rel_diff,check\n");
    for (int i = 0; i < RN_COMPILE_ROWS; i++) {
        if (!s->ran[i]) continue;
        const rn_compile_row *r = &s->rows[i];
        const cs_stats *st = &r->rung.timing.time;
        fprintf(o.f, "%s,%.6f,%.6f,%.6f,%.3f,%.4f,%.6f,%.6f,%.6f,%zu,%zu,%.4f,%.3e,%.3e,%s\n", rn_compile_rows[i],
                st->median, st->min, st->max, r->images_per_s, speedup_over_eager(s, i), r->conv_s, r->between_s,
                r->optimizer_s, r->peak[RN_ACTIVATIONS], r->peak_total, r->train_accuracy, r->grad_check.rel_l2,
                r->curve_check.rel_l2, cs_check_word(r->rung.check.status));
    }
    return cs_outfile_commit(&o) != 0 ? 3 : 0;
}

static int results(compile_state *s)
{
    rn_lab *lab = s->lab;
    const char *dir = lab->a->opt.out_dir;
    cs_report report;
    rn_report_begin(&report, lab, "5: compilation (fusion and graph replay)",
                    "seconds per run of batches_per_run batches");
    const cs_rung *rungs[RN_COMPILE_ROWS];
    double ips[RN_COMPILE_ROWS];
    size_t activations[RN_COMPILE_ROWS];
    for (int i = 0; i < RN_COMPILE_ROWS; i++) {
        rungs[i] = &s->rows[i].rung;
        ips[i] = s->rows[i].images_per_s;
        activations[i] = s->rows[i].peak[RN_ACTIVATIONS];
    }
    if (rn_report_rows(&report, lab, RN_COMPILE_ROWS, rn_compile_rows, s->skip, s->ran, rungs, ips, activations) != 0)
        return 3;
    if (write_figures(s, dir) != 0) return 3;
    rn_chart_compile(dir, s->rows, s->ran, rn_compile_rows, RN_COMPILE_ROWS, lab->on_gpu);
    return 0;
}

/* ---- 7. Key lessons --------------------------------------------------------------- */

/* Row `row` against row `base` round by round: base's time over row's in
 * each timed round (two runs side by side, the machine's drift shared),
 * their spread, and in how many rounds row was the faster. The verdicts
 * rest on these pairs: the runs' min..max ranges overlap whenever the
 * machine drifts more between rounds than the rows differ. */
static cs_stats paired(const compile_state *s, int base, int row, int *wins)
{
    return rn_rounds_paired(s->round_s[base], s->round_s[row], s->rounds, wins);
}

static void say_paired(const char *what, const cs_stats *p, int wins, int rounds)
{
    cs_say("    Round by round (%s): %.2fx..%.2fx, median %.2fx, faster in %d of %d rounds.\n", what, p->min, p->max,
           p->median, wins, rounds);
}

static void lessons(const compile_state *s)
{
    cs_step(7, "Key lessons");
    if (!s->ran[ROW_EAGER] || !s->ran[ROW_FUSED]) {
        cs_say("  - eager and fused are both needed for a verdict; --variant left one out.\n");
        return;
    }
    cs_result b = {0}, a = {0};
    b.timing = s->rows[ROW_EAGER].rung.timing;
    a.timing = s->rows[ROW_FUSED].rung.timing;
    char phrase[128];
    cs_compare_phrase(&b, &a, phrase, sizeof phrase, NULL);
    int wins;
    const cs_stats p = paired(s, ROW_EAGER, ROW_FUSED, &wins);
    const int every = wins == s->rounds; /* faster in every round: measurably */
    const rn_compile_row *e = &s->rows[ROW_EAGER], *f = &s->rows[ROW_FUSED];
    char t[4][32];
    cs_say("  - Speed: fused against eager, the runs' medians: %s.\n", phrase);
    say_paired("each fused run right after its eager one", &p, wins, s->rounds);
    /* torch.compile is fusion, and on a GPU graph replay too (its
     * mode="reduce-overhead"): the lab's expectation is set against the
     * whole of it, the graph row where it ran. */
    int whole_wins = wins;
    const cs_stats whole = s->ran[ROW_GRAPH] ? paired(s, ROW_EAGER, ROW_GRAPH, &whole_wins) : p;
    cs_say("    The lab expects %.1f-%.1fx from torch.compile; %s against eager, round by round: median\n"
           "    %.2fx, faster in %d of %d rounds: %s.\n",
           RN_COMPILE_EXPECT_LO, RN_COMPILE_EXPECT_HI, s->ran[ROW_GRAPH] ? "fusion with graph replay" : "fusion",
           whole.median, whole_wins, s->rounds,
           whole_wins == s->rounds && whole.median >= RN_COMPILE_EXPECT_LO ? "met" : "not met");
    if (!s->lab->on_gpu)
        cs_say("    On a CPU this project asks fusion for at least %.2fx: %s on this machine.\n", RN_FUSED_CPU_TARGET,
               every && p.median >= RN_FUSED_CPU_TARGET ? "met" : "not met");
    cs_say("  - Where it came from: the operations between the convolutions took %s per step eager\n"
           "    and %s fused; Adam %s and %s; the convolutions %s and %s.\n",
           cs_format_time(e->between_s, t[0], 32), cs_format_time(f->between_s, t[1], 32),
           cs_format_time(e->optimizer_s, t[2], 32), cs_format_time(f->optimizer_s, t[3], 32),
           cs_format_time(e->conv_s, (char[32]){0}, 32), cs_format_time(f->conv_s, (char[32]){0}, 32));
    if (!s->lab->on_gpu) {
        const double mib = 1024.0 * 1024.0;
        cs_say("  - On a CPU each operation is a function call and a thread-team start, not a kernel\n"
               "    launch, and at 32 x 32 its tensors fit in the cache: merging the passes between the\n"
               "    convolutions saves little (step 3's bound). A GPU pays a launch and a trip through\n"
               "    device memory per operation, which is where merging them pays.\n"
               "  - Keeping the patch matrices takes a pass out of every convolution's backward,\n"
               "    paid in memory: %.1f MiB of activations at the peak instead of %.1f MiB.\n",
               (double)f->peak[RN_ACTIVATIONS] / mib, (double)e->peak[RN_ACTIVATIONS] / mib);
    }
    if (s->ran[ROW_GRAPH]) {
        cs_result g = {0};
        g.timing = s->rows[ROW_GRAPH].rung.timing;
        cs_compare_phrase(&a, &g, phrase, sizeof phrase, NULL);
        cs_say("  - Graph replay against the fused step: %s: the host's launch of each kernel (and the\n"
               "    wait while it queues them) is what a graph takes out; the kernels are the same.\n",
               phrase);
        const cs_stats pg = paired(s, ROW_FUSED, ROW_GRAPH, &wins);
        say_paired("each graph run right after its fused one", &pg, wins, s->rounds);
    }
    if (f->rung.check.status == CS_CHECK_PASS)
        cs_say("  - The fused step gives eager's result (step 6): fusion changes where values live, not\n"
               "    what is computed.\n");
    else
        cs_say("  - The fused step does NOT give eager's result (step 6): its speed means nothing until it does.\n");
}

int rn_compile(rn_lab *lab)
{
    compile_state s = {.lab = lab};
    rn_snapshot_take(&lab->m, &s.snap);
    cs_say("  Part 5, compilation: every row trains the same %d batches (epoch 0) from the same\n"
           "  initial weights; a row's time is the whole run of them.\n",
           lab->epoch_batches);
    const char *names[RN_COMPILE_ROWS], *devices[RN_COMPILE_ROWS], *not_here[RN_COMPILE_ROWS] = {0};
    for (int i = 0; i < RN_COMPILE_ROWS; i++) {
        names[i] = rn_compile_rows[i];
        devices[i] = lab->on_gpu ? "gpu" : "cpu";
    }
    if (!lab->be->graph_begin) not_here[ROW_GRAPH] = RN_GRAPH_CPU_SKIP;
    int todo[RN_COMPILE_ROWS];
    int ntodo = cs_ladder_select(&lab->a->opt, names, devices, not_here, RN_COMPILE_ROWS, 1, "", todo, s.skip);
    int rc = reference_run(&s);
    if (rc == 0) hypothesis(&s);
    cs_prof_enable(1);
    if (rc == 0) {
        cs_step(4, "Investigation: eager, timed beside the fused step");
        rc = time_rows(&s, todo, ntodo);
        if (rc == 0) print_rows(&s, ROW_EAGER, ROW_FUSED);
    }
    if (rc == 0) {
        cs_step(5, "Optimization: fused operations (and graph replay on a GPU)");
        print_rows(&s, ROW_FUSED, RN_COMPILE_ROWS);
    }
    int failed = rc == 0 ? verify(&s) : 0;
    if (rc == 0) rc = results(&s);
    if (rc == 0) lessons(&s);
    for (int i = 0; i < RN_COMPILE_ROWS; i++) cs_free(s.rows[i].loss);
    cs_free(s.reference_loss);
    cs_free(s.reference_grads);
    rn_snapshot_free(&s.snap);
    return rc ? rc : failed;
}
