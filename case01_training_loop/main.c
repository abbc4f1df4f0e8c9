/* case01_training_loop: "My training loop takes hours instead of minutes".
 *
 * The seven steps of the case-study method (see docs/case01_training_loop.md):
 * scenario, initial profiling, hypothesis, investigation, optimization,
 * verification, key lessons. Everything printed comes from this run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "cli.h"
#include "cs_case.h"
#include "cs_ceilings.h"
#include "cs_cli.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gpu.h"
#include "cs_memory.h"
#include "cs_plot.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "cs_sysinfo.h"
#include "investigate.h"
#include "ladder.h"

#define PROG "case01_training_loop"

/* ---- small helpers --------------------------------------------------------- */

static double share(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

/* Training FLOP of one sample: the forward pass is 2 per weight; the
 * backward pass 2 per weight for the weight gradients and 2 per weight for
 * the input gradients, except the first layer's (the pixels need none).
 * Biases, ReLU, softmax and cpu_slow's extra logging pass are not counted:
 * this is the useful work every variant must do. */
static double train_flop_per_sample(const c1_config *c)
{
    double w1 = (double)c->in * c->h1;
    double weights = w1 + (double)c->h1 * c->h2 + (double)c->h2 * c->out;
    return 6.0 * weights - 2.0 * w1;
}

static const char *const phase_order[] = {"alloc", "data", "forward", "backward", "update",
                                          "sync/logging"};
#define NPHASES 6

static void print_phases(const c1_run *r)
{
    if (cs_brief()) return;
    char med[32], setup[32];
    cs_say("  %s%s%s (%s):\n    %d steps per run, median %s per run over %d runs after %d warm-up%s "
           "(and one check run); %.0f samples/s%s\n",
           cs_col_bold(), r->name, cs_col_reset(), r->lesson, r->steps,
           cs_format_time(r->timing.time.median, med, sizeof med), r->timing.repeats,
           r->timing.warmup, r->timing.warmup == 1 ? "" : "s", r->samples_per_s,
           r->timing.reduced ? " (fewer repeats: the time budget per variant)" : "");
    if (r->setup_s > 1e-4)
        cs_say("    one-time setup outside the timed runs: %s\n",
               cs_format_time(r->setup_s, setup, sizeof setup));
    cs_prof_print_table(stdout, r->timing.repeats, r->timing.time.median);
}

/* The two phases that take the most of r's time, with their shares. */
static void top_phases(const c1_run *r, const char **p1, double *s1, const char **p2, double *s2)
{
    *p1 = *p2 = "none";
    *s1 = *s2 = 0;
    double med = r->timing.time.median;
    for (int i = 0; i < NPHASES; i++) {
        double s = share(c1_phase_seconds(r, phase_order[i]), med);
        if (s > *s1) { *p2 = *p1; *s2 = *s1; *p1 = phase_order[i]; *s1 = s; }
        else if (s > *s2) { *p2 = phase_order[i]; *s2 = s; }
    }
}

static const c1_run *find_run(const c1_run *runs, int nruns, const char *name)
{
    for (int i = 0; i < nruns; i++)
        if (runs[i].ran && strcmp(runs[i].name, name) == 0) return &runs[i];
    return NULL;
}

/* The seconds of one step, from a run's statistics of whole runs. */
static cs_timing per_step(const cs_timing *t, int steps)
{
    cs_timing s = *t;
    s.time.median /= steps;
    s.time.min /= steps;
    s.time.max /= steps;
    s.time.mean /= steps;
    s.time.stddev /= steps;
    s.cpu_s /= steps;
    return s;
}

/* ---- step 5's epoch: the fastest variant trains one real epoch ------------- */

static int train_one_epoch(const c1_variant *v, const c1_workload *w, int spe, int gpu,
                           c1_output *out)
{
    void *state = NULL;
    int rc = v->setup ? v->setup(w, &state) : 0;
    if (rc) return rc;
    int prof_was = cs_prof_enabled();
    cs_prof_enable(0);   /* the phase tables cover the timed runs only */
    double t0 = cs_now();
    rc = v->train(w, spe, out, state);
    if (gpu && rc == 0) cs_gpu_sync();
    double t = cs_now() - t0;
    cs_prof_enable(prof_was);
    if (v->teardown) v->teardown(state);
    if (rc == 0) {
        char tb[32];
        cs_say("  One real epoch with %s: %d steps of %d samples in %s (%.0f samples/s).\n"
               "  Batch loss and accuracy during the epoch:\n",
               v->name, spe, w->cfg.batch, cs_format_time(t, tb, sizeof tb),
               t > 0 ? (double)spe * w->cfg.batch / t : 0.0);
        int marks = spe < 10 ? spe : 10;
        for (int k = 0; k < marks; k++) {
            int s = (int)((long)(k + 1) * spe / marks) - 1;
            cs_say("    step %5d: loss %.4f, accuracy %5.1f%%\n", s + 1, out->loss[s],
                   100.0 * out->correct[s] / w->cfg.batch);
        }
    }
    return rc;
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    c1_args a;
    c1_args_defaults(&a);
    cs_options opt;
    cs_cli_spec spec = c1_cli_spec(&a);   /* the options: cli.c */
    int rc = cs_case_begin(argc, argv, &spec, &opt);
    if (rc) return rc < 0 ? 0 : rc;
    if (opt.quick) c1_args_apply_quick(&a);
    a.cfg.seed = opt.seed;
    cs_run_opts run_opts = cs_run_defaults();
    /* The check run before the timed runs already warms every variant up
     * (same code, same buffers), so one more untimed run is the default only
     * for the fast variants; the slow ones would spend seconds on it. */
    run_opts.warmup = opt.warmup >= 0 ? opt.warmup : 1;
    run_opts.repeats = opt.repeat > 0 ? opt.repeat : (opt.quick ? 3 : 5);
    run_opts.budget_s = opt.quick ? 1.5 : 8.0;
    cs_run_opts slow_opts = run_opts;
    if (opt.warmup < 0) slow_opts.warmup = 0;

    /* Everything checked before any allocation or long work. */
    cs_sysinfo sys;
    cs_sysinfo_get(&sys);
    if (cs_check_writable_dir(opt.out_dir) != 0) return 2;

    cs_devices dev;
    if (cs_case_devices(&opt, &dev) != 0) return 3;
    const int want_cpu = dev.want_cpu, want_gpu = dev.want_gpu, run_gpu = dev.run_gpu;
    const char *gpu_why = dev.why;

    /* The data: the user's IDX files, or a generated set. */
    c1_dataset data;
    memset(&data, 0, sizeof data);
    if (a.data_dir) {
        rc = c1_dataset_load_dir(&data, a.data_dir);
    } else {
        double need = (double)a.samples * 28 * 28 * 5.0;   /* bytes + floats of cpu_fast */
        if (sys.mem_total > 0 && need > 0.8 * (double)sys.mem_total) {
            cs_error("--samples %d: the data set needs %.1f GiB of host memory, this machine has %.1f GiB",
                     a.samples, need / (1 << 30), (double)sys.mem_total / (1 << 30));
            return 2;
        }
        rc = c1_dataset_generate(&data, a.samples, a.cfg.seed);
    }
    if (rc) return rc;

    /* The fast GPU variants time one epoch per run unless told otherwise;
     * the order must also cover the epoch of step 5. */
    int spe = data.n / (a.cfg.batch > 0 ? a.cfg.batch : 1);
    if (a.cfg.gpu_steps == 0) a.cfg.gpu_steps = spe > 0 ? spe : 1;
    c1_config init_cfg = a.cfg;
    init_cfg.in = 0;   /* from the data */
    if (!a.no_epoch && spe > init_cfg.steps) init_cfg.steps = spe;
    c1_workload w;
    rc = c1_workload_init(&w, &init_cfg, &data);
    if (rc) { c1_dataset_free(&data); return rc; }
    w.cfg.steps = a.cfg.steps;   /* what the timed runs use */
    const c1_config *cfg = &w.cfg;
    double flop_sample = train_flop_per_sample(cfg);

    /* ---- 1. Scenario ---- */
    cs_step(1, "Scenario");
    cs_say("  \"My training loop takes hours instead of minutes.\" A first training loop does its\n"
           "  work one sample at a time, copies and converts data every step and waits for logs.\n"
           "  Model: MLP %d -> %d -> %d -> %d (ReLU, softmax cross-entropy), %zu parameters;\n"
           "  SGD, batch %d, learning rate %g, seed %llu.\n"
           "  Data: %d images of %dx%d, %s.\n"
           "  Each variant trains from the same initial weights in the same sample order:\n"
           "  %d steps per timed run (%d for the slow variants, %d for the fast GPU ones);\n"
           "  %.2f GFLOP of training per step.\n",
           cfg->in, cfg->h1, cfg->h2, cfg->out, w.layout.count, cfg->batch, cfg->lr,
           (unsigned long long)cfg->seed, data.n, data.rows, data.cols, data.source,
           cfg->steps, cfg->slow_steps, cfg->gpu_steps, flop_sample * cfg->batch / 1e9);
    if (!cs_brief()) cs_sysinfo_print(stdout, &sys);
    if (!run_gpu)
        cs_say("  GPU variants skipped: %s\n", gpu_why);

    cs_progress("measuring this machine's ceilings");
    cs_cpu_ceilings cpu_ceil;
    cs_measure_cpu_ceilings(&cpu_ceil, opt.quick);
    cs_gpu_ceilings gpu_ceil = {0};
    if (run_gpu) cs_measure_gpu_ceilings(&gpu_ceil, opt.quick);
    cs_progress_done();
    cs_say("  ceilings measured now: best CPU SGEMM %.1f GFLOP/s (%s, n = %d)",
           cpu_ceil.best_gflops, cs_gemm_backend_name(cpu_ceil.best), cpu_ceil.gemm_n);
    if (run_gpu)
        cs_say("; cuBLAS SGEMM %.0f GFLOP/s (n = %d), GPU copy %.0f GB/s",
               gpu_ceil.sgemm_gflops, gpu_ceil.sgemm_n, gpu_ceil.mem_bw_gbs);
    cs_say("\n");

    /* Which rungs run; the others get a skip line with the reason. */
    const c1_variant *todo[C1_NVARIANTS];
    const char *skip_reason[C1_NVARIANTS] = {0};
    int ntodo = 0;
    for (int i = 0; i < C1_NVARIANTS; i++) {
        const char *name = c1_variant_names[i];
        if (!cs_variant_selected(&opt, name)) continue;
        int is_gpu = strncmp(name, "gpu", 3) == 0;
        if (is_gpu ? !want_gpu : !want_cpu) continue;
        const c1_variant *v = c1_find_variant(name);
        if (is_gpu && !run_gpu) skip_reason[i] = gpu_why;
        else if (v) todo[ntodo++] = v;
    }

    cs_report report;
    cs_report_init(&report, PROG);
    snprintf(report.baseline, sizeof report.baseline, "cpu_slow");
    cs_report_config(&report, "data", "%s", data.source);
    cs_report_config(&report, "samples", "%d", data.n);
    cs_report_config(&report, "layers", "%d-%d-%d-%d", cfg->in, cfg->h1, cfg->h2, cfg->out);
    cs_report_config(&report, "batch", "%d", cfg->batch);
    cs_report_config(&report, "lr", "%g", cfg->lr);
    cs_report_config(&report, "steps", "%d", cfg->steps);
    cs_report_config(&report, "slow_steps", "%d", cfg->slow_steps);
    cs_report_config(&report, "gpu_steps", "%d", cfg->gpu_steps);
    cs_report_config(&report, "seed", "%llu", (unsigned long long)cfg->seed);
    cs_report_config(&report, "tolerance_weights_rel_l2", "%g", C1_TOL_WEIGHTS);
    cs_report_config(&report, "tolerance_loss_rel", "%g", C1_TOL_LOSS);
    cs_report_config(&report, "time_unit", "%s", "seconds per training step");
    cs_report_config(&report, "quick", "%d", opt.quick);
    cs_report_config(&report, "threads", "%d", sys.threads);

    c1_run runs[C1_NVARIANTS];
    memset(runs, 0, sizeof runs);
    int nruns = 0, exit_code = 0, next = 0;
    c1_investigation inv = {0};
    c1_output epoch_out = {0};             /* step 5's epoch, charted at the end */
    const c1_variant *epoch_variant = NULL;

    /* The reference: cpu_slow's check run. When cpu_slow is not among the
     * selected variants, its check run still runs (untimed), since every
     * variant is compared with it. */
    c1_output ref = {0};
    int have_ref = 0;
    const c1_variant *slow_v = c1_find_variant("cpu_slow");
    if (ntodo > 0 && strcmp(todo[0]->name, "cpu_slow") != 0) {
        cs_progress("cpu_slow's check run (the reference)");
        c1_output_alloc(&ref, &w, cfg->slow_steps);
        c1_output_poison(&ref);
        int prof_was = cs_prof_enabled();
        cs_prof_enable(0);
        rc = slow_v->train(&w, cfg->slow_steps, &ref, NULL);
        cs_prof_enable(prof_was);
        cs_progress_done();
        if (rc) { exit_code = rc; goto done; }
        have_ref = 1;
    }

    /* ---- 2. Initial profiling ---- */
    cs_step(2, "Initial profiling");
    const c1_run *cpu_slow = NULL, *gpu_slow = NULL;
    for (; next < ntodo; next++) {
        const char *name = todo[next]->name;
        if (strcmp(name, "cpu_slow") != 0 && strcmp(name, "gpu_slow") != 0) break;
        cs_prof_lane(name);
        cs_progress("running %s", name);
        rc = c1_run_variant(todo[next], &w, &slow_opts, have_ref ? &ref : NULL, &runs[nruns]);
        cs_progress_done();
        if (rc) { exit_code = rc; goto done; }
        print_phases(&runs[nruns]);
        if (strcmp(name, "cpu_slow") == 0) {
            cpu_slow = &runs[nruns];
            ref = runs[nruns].check_out;   /* borrowed: freed with the run */
            have_ref = 2;
        } else {
            gpu_slow = &runs[nruns];
        }
        nruns++;
    }
    if (nruns == 0) cs_say("  (no slow variant selected)\n");

    /* ---- 3. Hypothesis ---- */
    cs_step(3, "Hypothesis");
    for (int k = 0; k < 2; k++) {
        const c1_run *r = k == 0 ? cpu_slow : gpu_slow;
        if (!r) continue;
        const char *p1, *p2;
        double s1, s2;
        top_phases(r, &p1, &s1, &p2, &s2);
        double rate = r->samples_per_s * flop_sample / 1e9;
        double ceil = k == 0 ? cpu_ceil.best_gflops : gpu_ceil.sgemm_gflops;
        cs_say("  %s spends %.0f%% of a step in \"%s\" and %.0f%% in \"%s\", and trains at %.2f GFLOP/s:\n"
               "  %.2f%% of the %.0f GFLOP/s this machine's best SGEMM reaches.\n",
               r->name, s1, p1, s2, p2, rate, share(rate, ceil), ceil);
    }
    if (cpu_slow)
        cs_say("  Hypothesis (CPU): one sample at a time turns every layer into a matrix-vector product,\n"
               "  which reads each weight once per sample and so runs at memory speed, not at the\n"
               "  arithmetic rate; the extra logging pass and per-step allocation and conversion add\n"
               "  their share. Batching should buy the most; the rest is what remains after it.\n");
    if (gpu_slow)
        cs_say("  Hypothesis (GPU): the device waits for the host: per-sample launches, per-step copies\n"
               "  from pageable memory, cudaMalloc/cudaFree and a synchronizing weight copy every step.\n"
               "  Removing them one by one (the gpu_ rungs) shows what each cost.\n");

    /* ---- 4. Investigation ---- */
    cs_step(4, "Investigation");
    cs_progress("measuring batching and copy costs");
    c1_investigate(&w, run_gpu, &inv);
    cs_progress_done();
    {
        double flop = 2.0 * cfg->batch * inv.rows * inv.cols;
        cs_say("  The biggest layer (%d x %d weights) for one batch of %d, %s GEMM:\n"
               "    one sample at a time (M = 1): %8.2f GFLOP/s  (%s per batch)\n"
               "    the whole batch (M = %d):     %8.2f GFLOP/s  (%s per batch), %.1fx faster\n",
               inv.rows, inv.cols, cfg->batch, cs_gemm_backend_name(inv.backend), inv.per_sample_gflops,
               cs_format_time(inv.per_sample_gflops > 0 ? flop / inv.per_sample_gflops / 1e9 : 0, (char[32]){0}, 32),
               cfg->batch, inv.batched_gflops,
               cs_format_time(inv.batched_gflops > 0 ? flop / inv.batched_gflops / 1e9 : 0, (char[32]){0}, 32),
               inv.per_sample_gflops > 0 ? inv.batched_gflops / inv.per_sample_gflops : 0.0);
        cs_say("  Converting one batch from bytes to floats: %s (cpu_slow does it every step;\n"
               "  cpu_fast once per run).\n", cs_format_time(inv.convert_s, (char[32]){0}, 32));
        if (inv.gpu)
            cs_say("  On the GPU, from pageable memory at the bandwidth measured now: one batch up\n"
                   "  %s (%.1f GB/s), all weights back down %s (%.1f GB/s): per step, in gpu_slow.\n",
                   cs_format_time(inv.batch_h2d_pageable_s, (char[32]){0}, 32), inv.h2d_pageable_gbs,
                   cs_format_time(inv.weights_d2h_pageable_s, (char[32]){0}, 32), inv.d2h_pageable_gbs);
    }

    /* ---- 5. Optimization ---- */
    cs_step(5, "Optimization");
    for (; next < ntodo; next++) {
        const char *name = todo[next]->name;
        cs_prof_lane(name);
        cs_progress("running %s", name);
        rc = c1_run_variant(todo[next], &w, todo[next]->slow ? &slow_opts : &run_opts,
                            have_ref ? &ref : NULL, &runs[nruns]);
        cs_progress_done();
        if (rc) { exit_code = rc; goto done; }
        print_phases(&runs[nruns]);
        nruns++;
    }
    {
        /* One real epoch with the fastest variant that ran. */
        const c1_run *best = NULL;
        for (int i = 0; i < nruns; i++)
            if (runs[i].ran && (!best || runs[i].samples_per_s > best->samples_per_s)) best = &runs[i];
        if (best && !a.no_epoch && !cs_brief()) {
            epoch_variant = c1_find_variant(best->name);
            cs_progress("one epoch with %s", best->name);
            c1_output_alloc(&epoch_out, &w, spe);
            rc = train_one_epoch(epoch_variant, &w, spe, strcmp(epoch_variant->device, "gpu") == 0,
                                 &epoch_out);
            cs_progress_done();
            if (rc) { exit_code = rc; goto done; }
        }
    }

    /* ---- 6. Verification ---- */
    cs_step(6, "Verification");
    cs_say("  Every variant's check run (%d steps from the same initial weights, same samples)\n"
           "  against cpu_slow's: final weights, relative L2 error (tolerance %.0e), and the loss\n"
           "  of every step, worst relative difference (tolerance %.0e).\n",
           cfg->slow_steps, C1_TOL_WEIGHTS, C1_TOL_LOSS);
    for (int k = 0; k < C1_NVARIANTS; k++) {
        const char *name = c1_variant_names[k];
        if (skip_reason[k]) {
            cs_report_skip(&report, name, strncmp(name, "cpu", 3) == 0 ? "cpu" : "gpu", skip_reason[k]);
            continue;
        }
        const c1_run *r = find_run(runs, nruns, name);
        if (!r) continue;
        cs_result row = {0};
        snprintf(row.variant, sizeof row.variant, "%s", r->name);
        snprintf(row.device, sizeof row.device, "%s", r->device);
        row.ran = 1;
        row.timing = per_step(&r->timing, r->steps);
        row.work = cfg->batch;   /* samples per step */
        snprintf(row.unit, sizeof row.unit, "samples/s");
        int is_gpu = strcmp(r->device, "gpu") == 0;
        double ceil_gflops = is_gpu ? gpu_ceil.sgemm_gflops : cpu_ceil.best_gflops;
        row.ceiling = ceil_gflops * 1e9 / flop_sample;   /* samples/s at the SGEMM rate */
        snprintf(row.ceiling_name, sizeof row.ceiling_name, "%s",
                 is_gpu ? "cuBLAS SGEMM" : cpu_ceil.best == CS_GEMM_CBLAS ? "OpenBLAS SGEMM" : "blocked SGEMM");
        row.peak_mem = r->peak_mem;
        row.check = cs_check_merge(r->weights, r->loss);
        if (!r->check_pass) row.check.status = CS_CHECK_FAIL;
        row.check.rel_l2 = r->weights.rel_l2;   /* the table's error column: the weights' */
        cs_report_add(&report, &row);
        cs_say("  %-13s weights rel. L2 error %.2e, loss max rel. difference %.2e, non-finite %zu: %s%s%s\n",
               r->name, r->weights.rel_l2, r->loss.rel_l2, r->weights.nonfinite + r->loss.nonfinite,
               r->check_pass ? cs_col_pass() : cs_col_fail(), r->check_pass ? "PASS" : "FAIL",
               cs_col_reset());
    }
    cs_report_finish(&report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, &report);
    if (!cs_brief()) {
        cs_say("  time per training step; %% of ceiling: the FLOP rate against this machine's best SGEMM\n"
               "  Epoch (%d steps of %d) at each variant's measured speed:", spe, cfg->batch);
        for (int i = 0; i < report.n; i++)
            if (report.rows[i].ran)
                cs_say("%s %s %s", i ? "," : "", report.rows[i].variant,
                       cs_format_time(report.rows[i].timing.time.median * spe, (char[32]){0}, 32));
        cs_say("\n");
    }

    /* ---- 7. Key lessons ---- */
    cs_step(7, "Key lessons");
    {
        const cs_result *cs = cs_report_find(&report, "cpu_slow"), *cb = cs_report_find(&report, "cpu_batched");
        const cs_result *cf = cs_report_find(&report, "cpu_fast"), *gs = cs_report_find(&report, "gpu_slow");
        const cs_result *gb = cs_report_find(&report, "gpu_batched"), *gr = cs_report_find(&report, "gpu_resident");
        const cs_result *gf = cs_report_find(&report, "gpu_fast");
#define RAN(r) ((r) && (r)->ran)
#define T(r) ((r)->timing.time.median)
        if (RAN(cs) && RAN(cb))
            cs_say("  - Batch the math: the same training with GEMMs over the batch instead of one sample\n"
                   "    at a time ran %.1fx faster (cpu_slow -> cpu_batched).\n", T(cs) / T(cb));
        if (RAN(cb) && RAN(cf))
            cs_say("  - Then remove the overheads around it: allocation once, conversion once, metrics from\n"
                   "    the training pass: another %.1fx (cpu_batched -> cpu_fast).\n", T(cb) / T(cf));
        if (RAN(cs) && RAN(cf))
            cs_say("  - cpu_fast trains %.1fx faster than cpu_slow: an epoch in %s instead of %s.\n",
                   T(cs) / T(cf), cs_format_time(T(cf) * spe, (char[32]){0}, 32),
                   cs_format_time(T(cs) * spe, (char[32]){0}, 32));
        if (RAN(gs) && RAN(gb))
            cs_say("  - On the GPU, batching alone: %.1fx (gpu_slow -> gpu_batched).\n", T(gs) / T(gb));
        if (RAN(gb) && RAN(gr))
            cs_say("  - Keeping the data and buffers on the device: %.1fx (gpu_batched -> gpu_resident).\n",
                   T(gb) / T(gr));
        if (RAN(gr) && RAN(gf))
            cs_say("  - No per-step sync, fused kernels, a CUDA graph: %.1fx (gpu_resident -> gpu_fast).\n",
                   T(gr) / T(gf));
        if (RAN(gs) && RAN(gf))
            cs_say("  - gpu_fast trains %.1fx faster than gpu_slow on the same model and data.\n", T(gs) / T(gf));
        if (RAN(cf) && RAN(gf))
            cs_say("  - Used well, the GPU trains %.1fx faster than the best CPU variant here.\n", T(cf) / T(gf));
        if (!run_gpu)
            cs_say("  - The GPU half of this lesson needs a CUDA device (%s).\n", gpu_why);
        cs_say("  - Same initial weights, same order, same mean gradient: the loss curves coincide, so\n"
               "    the fast versions are the same training, only faster (step 6).\n");
#undef RAN
#undef T
    }

    /* ---- results ---- */
    {
        if (cs_case_write_results(&report, &sys, opt.out_dir) != 0) { exit_code = 3; goto done; }
        c1_chart_ladder(opt.out_dir, &report);
        c1_chart_phases(opt.out_dir, runs, nruns);
        c1_chart_loss_curves(opt.out_dir, runs, nruns, cfg->slow_steps);
        if (epoch_variant)
            c1_chart_epoch(opt.out_dir, epoch_variant->name, epoch_out.loss, epoch_out.correct,
                           cfg->batch, spe);
    }
    if (cs_report_any_fail(&report)) {
        cs_error("a correctness check FAILED (see step 6)");
        exit_code = 1;
    }

done:
    for (int i = 0; i < nruns; i++) c1_run_free(&runs[i]);
    c1_output_free(&epoch_out);
    if (have_ref == 1) c1_output_free(&ref);
    c1_workload_free(&w);
    c1_dataset_free(&data);
    cs_gpu_release();
    return exit_code;
}
