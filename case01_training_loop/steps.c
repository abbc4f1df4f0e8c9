/* The seven steps of case01 (steps.h): what each step measures and says. */
#include "steps.h"

#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gemm.h"
#include "cs_gpu.h"
#include "cs_profiler.h"

#define PROG "case01_training_loop"

/* ---- small helpers --------------------------------------------------------- */

static double share(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

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

static const char *const phase_order[] = {"alloc", "data", "forward", "backward", "update", "sync/logging"};
#define NPHASES 6

static void print_phases(const c1_run *r)
{
    if (cs_brief()) return;
    const cs_rung *b = &r->base;
    char med[32], step[32], setup[32];
    /* Per run here, per step in step 6's table: both named on the line. */
    cs_say("  %s%s%s (%s):\n    %d steps per run, median %s per run (%s per step, as in step 6) over %d runs\n"
           "    after %d warm-up%s (and one check run); %.0f samples/s%s\n",
           cs_col_bold(), b->name, cs_col_reset(), b->lesson, r->steps,
           cs_format_time(b->timing.time.median, med, sizeof med),
           cs_format_time(b->timing.time.median / r->steps, step, sizeof step), b->timing.repeats, b->timing.warmup,
           b->timing.warmup == 1 ? "" : "s", r->samples_per_s,
           b->timing.reduced ? " (fewer repeats: the time budget per variant)" : "");
    if (b->setup_s > 1e-4)
        cs_say("    one-time setup outside the timed runs: %s\n", cs_format_time(b->setup_s, setup, sizeof setup));
    cs_prof_print_table(stdout, b->timing.repeats, b->timing.time.median);
}

/* The two phases that take the most of r's time, with their shares. */
static void top_phases(const c1_run *r, const char **p1, double *s1, const char **p2, double *s2)
{
    *p1 = *p2 = "none";
    *s1 = *s2 = 0;
    double med = r->base.timing.time.median;
    for (int i = 0; i < NPHASES; i++) {
        double s = share(cs_rung_phase_seconds(&r->base, phase_order[i]), med);
        if (s > *s1) {
            *p2 = *p1;
            *s2 = *s1;
            *p1 = phase_order[i];
            *s1 = s;
        } else if (s > *s2) {
            *p2 = phase_order[i];
            *s2 = s;
        }
    }
}

static const c1_run *find_run(const c1_study *s, const char *name)
{
    for (int i = 0; i < s->nruns; i++)
        if (s->runs[i].base.ran && strcmp(s->runs[i].base.name, name) == 0) return &s->runs[i];
    return NULL;
}

/* Runs the next rung of the list, prints its phase table. */
static int run_next(c1_study *s, const cs_run_opts *opts)
{
    const c1_variant *v = &c1_ladder[s->todo[s->next]];
    cs_prof_lane(v->name);
    cs_progress("running %s", v->name);
    int rc = c1_run_variant(v, &s->w, opts, s->have_ref ? &s->ref : NULL, &s->runs[s->nruns]);
    cs_progress_done();
    if (rc) {
        c1_run_free(&s->runs[s->nruns]);
        return rc;
    }
    print_phases(&s->runs[s->nruns]);
    s->nruns++;
    return 0;
}

/* ---- before the steps ------------------------------------------------------ */

int c1_study_options(int argc, char **argv, c1_study *s)
{
    memset(s, 0, sizeof *s);
    c1_args_defaults(&s->a);
    cs_cli_spec spec = c1_cli_spec(&s->a); /* the options: cli.c */
    int rc = cs_case_begin(argc, argv, &spec, &s->opt);
    if (rc) return rc;
    if (s->opt.quick) c1_args_apply_quick(&s->a);
    s->a.cfg.seed = s->opt.seed;
    s->run_opts = cs_run_defaults();
    c1_run_settings(&s->opt, &s->run_opts, &s->slow_opts);
    return 0;
}

/* The data: the user's IDX files, or a generated set. */
static int load_data(c1_study *s)
{
    if (s->a.data_dir) return c1_dataset_load_dir(&s->data, s->a.data_dir);
    double need = (double)s->a.samples * 28 * 28 * 5.0; /* bytes + floats of cpu_fast */
    if (s->sys.mem_total > 0 && need > 0.8 * (double)s->sys.mem_total) {
        cs_error("--samples %d: the data set needs %.1f GiB of host memory, this machine has %.1f GiB", s->a.samples,
                 need / (1 << 30), (double)s->sys.mem_total / (1 << 30));
        return 2;
    }
    return c1_dataset_generate(&s->data, s->a.samples, s->a.cfg.seed);
}

int c1_study_prepare(c1_study *s)
{
    /* Everything checked before any allocation or long work. The CPU GEMM's
     * choice (a probe where OpenBLAS runs slow kernels) is made first, so
     * that it times nothing of the case's and the BLAS line names it. */
    (void)cs_gemm_best_cpu();
    cs_sysinfo_get(&s->sys);
    if (cs_check_writable_dir(s->opt.out_dir) != 0) return 2;
    if (cs_case_devices(&s->opt, &s->dev) != 0) return 3;
    int rc = load_data(s);
    if (rc) return rc;

    /* The fast GPU variants time one epoch per run unless told otherwise;
     * the order must also cover the epoch of step 5. */
    c1_args *a = &s->a;
    s->spe = s->data.n / (a->cfg.batch > 0 ? a->cfg.batch : 1);
    if (a->cfg.gpu_steps == 0) a->cfg.gpu_steps = s->spe > 0 ? s->spe : 1;
    c1_config init_cfg = a->cfg;
    init_cfg.in = 0; /* from the data */
    if (!a->no_epoch && s->spe > init_cfg.steps) init_cfg.steps = s->spe;
    rc = c1_workload_init(&s->w, &init_cfg, &s->data);
    if (rc) return rc;
    s->w.cfg.steps = a->cfg.steps; /* what the timed runs use */
    s->flop_sample = train_flop_per_sample(&s->w.cfg);

    /* Which rungs run; the others get a skip line with the reason. */
    s->ntodo = cs_ladder_select(&s->opt, c1_variant_names, c1_variant_devices, NULL, C1_NVARIANTS, s->dev.run_gpu,
                                s->dev.why, s->todo, s->skip);
    return 0;
}

/* ---- 1. Scenario ----------------------------------------------------------- */

void step1_scenario(c1_study *s)
{
    const c1_config *cfg = &s->w.cfg;
    cs_step(1, "Scenario");
    cs_say("  \"My training loop takes hours instead of minutes.\" A first training loop does its\n"
           "  work one sample at a time, copies and converts data every step and waits for logs.\n"
           "  Model: MLP %d -> %d -> %d -> %d (ReLU, softmax cross-entropy), %zu parameters;\n"
           "  SGD, batch %d, learning rate %g, seed %llu.\n"
           "  Data: %d images of %dx%d, %s.\n"
           "  Each variant trains from the same initial weights in the same sample order:\n"
           "  %d steps per timed run (%d for the slow variants, %d for the fast GPU ones);\n"
           "  %.2f GFLOP of training per step.\n",
           cfg->in, cfg->h1, cfg->h2, cfg->out, s->w.layout.count, cfg->batch, cfg->lr, (unsigned long long)cfg->seed,
           s->data.n, s->data.rows, s->data.cols, s->data.source, cfg->steps, cfg->slow_steps, cfg->gpu_steps,
           s->flop_sample * cfg->batch / 1e9);
    if (!cs_brief()) cs_sysinfo_print(stdout, &s->sys);
    /* The probe's reason is on the GPU line above: not again. */
    if (!s->dev.run_gpu) cs_say("  GPU variants skipped: %s\n", cs_devices_why_not(&s->dev, &s->sys, "no GPU (above)"));

    if (!cs_measure_case_ceilings(&s->opt, s->dev.run_gpu, &s->cpu_ceil, &s->gpu_ceil)) {
        cs_say("  ceilings not measured (--no-ceilings): no %% of ceiling below\n");
        return;
    }
    cs_say("  ceilings measured now: best CPU SGEMM %.1f GFLOP/s (%s, n = %d)", s->cpu_ceil.best_gflops,
           cs_gemm_backend_name(s->cpu_ceil.best), s->cpu_ceil.gemm_n);
    if (s->dev.run_gpu)
        cs_say("; cuBLAS SGEMM %.0f GFLOP/s (n = %d), GPU copy %.0f GB/s", s->gpu_ceil.sgemm_gflops,
               s->gpu_ceil.sgemm_n, s->gpu_ceil.mem_bw_gbs);
    cs_say("\n");
}

/* ---- 2. Initial profiling -------------------------------------------------- */

/* The reference: cpu_slow's check run. When cpu_slow is not among the
 * selected variants, its check run still runs (untimed), since every
 * variant is compared with it. */
static int reference_run(c1_study *s)
{
    if (s->ntodo == 0 || strcmp(c1_ladder[s->todo[0]].name, "cpu_slow") == 0) return 0;
    const c1_variant *slow_v = c1_find_variant("cpu_slow");
    cs_progress("cpu_slow's check run (the reference)");
    c1_output_alloc(&s->ref, &s->w, c1_check_steps(&s->w.cfg));
    c1_output_poison(&s->ref);
    int prof_was = cs_prof_enabled();
    cs_prof_enable(0);
    int rc = slow_v->train(&s->w, c1_check_steps(&s->w.cfg), &s->ref, NULL);
    cs_prof_enable(prof_was);
    cs_progress_done();
    s->have_ref = 1; /* ours to free, even when the run failed */
    return rc;
}

int step2_initial_profiling(c1_study *s)
{
    int rc = reference_run(s);
    if (rc) return rc;
    cs_step(2, "Initial profiling");
    for (; s->next < s->ntodo; s->next++) {
        const char *name = c1_ladder[s->todo[s->next]].name;
        if (strcmp(name, "cpu_slow") != 0 && strcmp(name, "gpu_slow") != 0) break;
        rc = run_next(s, &s->slow_opts);
        if (rc) return rc;
        const c1_run *r = &s->runs[s->nruns - 1];
        if (strcmp(name, "cpu_slow") == 0) {
            s->cpu_slow = r;
            s->ref = r->check_out; /* borrowed: freed with the run */
            s->have_ref = 2;
        } else {
            s->gpu_slow = r;
        }
    }
    if (s->nruns == 0) cs_say("  (no slow variant selected)\n");
    return 0;
}

/* ---- 3. Hypothesis --------------------------------------------------------- */

void step3_hypothesis(const c1_study *s)
{
    cs_step(3, "Hypothesis");
    for (int k = 0; k < 2; k++) {
        const c1_run *r = k == 0 ? s->cpu_slow : s->gpu_slow;
        if (!r) continue;
        const char *p1, *p2;
        double s1, s2;
        top_phases(r, &p1, &s1, &p2, &s2);
        double rate = r->samples_per_s * s->flop_sample / 1e9;
        double ceil = k == 0 ? s->cpu_ceil.best_gflops : s->gpu_ceil.sgemm_gflops;
        cs_say("  %s spends %.0f%% of a step in \"%s\" and %.0f%% in \"%s\", and trains at %.2f GFLOP/s", r->base.name,
               s1, p1, s2, p2, rate);
        if (ceil > 0)
            cs_say(":\n  %.2f%% of the %.0f GFLOP/s this machine's best SGEMM reaches.\n", share(rate, ceil), ceil);
        else
            cs_say(".\n");
    }
    if (s->cpu_slow)
        cs_say("  Hypothesis (CPU): one sample at a time turns every layer into a matrix-vector product,\n"
               "  which reads each weight once per sample and so runs at memory speed, not at the\n"
               "  arithmetic rate; the extra logging pass and per-step allocation and conversion add\n"
               "  their share. Batching should buy the most; the rest is what remains after it.\n");
    if (s->gpu_slow)
        cs_say("  Hypothesis (GPU): the device waits for the host: per-sample launches, per-step copies\n"
               "  from pageable memory, cudaMalloc/cudaFree and a synchronizing weight copy every step.\n"
               "  Removing them one by one (the gpu_ rungs) shows what each cost.\n");
}

/* ---- 4. Investigation ------------------------------------------------------ */

void step4_investigation(c1_study *s)
{
    const c1_investigation *inv = &s->inv;
    const int batch = s->w.cfg.batch;
    cs_step(4, "Investigation");
    cs_progress("measuring batching and copy costs");
    c1_investigate(&s->w, s->dev.run_gpu, &s->inv);
    cs_progress_done();
    double flop = 2.0 * batch * inv->rows * inv->cols;
    cs_say("  The biggest layer (%d x %d weights) for one batch of %d, %s GEMM:\n"
           "    one sample at a time (M = 1): %8.2f GFLOP/s  (%s per batch)\n"
           "    the whole batch (M = %d):     %8.2f GFLOP/s  (%s per batch), %.1fx faster\n",
           inv->rows, inv->cols, batch, cs_gemm_backend_name(inv->backend), inv->per_sample_gflops,
           cs_format_time(inv->per_sample_gflops > 0 ? flop / inv->per_sample_gflops / 1e9 : 0, (char[32]){0}, 32),
           batch, inv->batched_gflops,
           cs_format_time(inv->batched_gflops > 0 ? flop / inv->batched_gflops / 1e9 : 0, (char[32]){0}, 32),
           inv->per_sample_gflops > 0 ? inv->batched_gflops / inv->per_sample_gflops : 0.0);
    cs_say("  Converting one batch from bytes to floats: %s (cpu_slow does it every step;\n"
           "  cpu_fast once per run).\n",
           cs_format_time(inv->convert_s, (char[32]){0}, 32));
    if (inv->gpu)
        cs_say("  On the GPU, from pageable memory at the bandwidth measured now: one batch up\n"
               "  %s (%.1f GB/s), all weights back down %s (%.1f GB/s): per step, in gpu_slow.\n",
               cs_format_time(inv->batch_h2d_pageable_s, (char[32]){0}, 32), inv->h2d_pageable_gbs,
               cs_format_time(inv->weights_d2h_pageable_s, (char[32]){0}, 32), inv->d2h_pageable_gbs);
}

/* ---- 5. Optimization ------------------------------------------------------- */

/* One real epoch with v: batch loss and accuracy during it. */
static int train_one_epoch(const c1_variant *v, const c1_workload *w, int spe, int gpu, c1_output *out)
{
    void *state = NULL;
    int rc = v->setup ? v->setup(w, &state) : 0;
    if (rc) return rc;
    int prof_was = cs_prof_enabled();
    cs_prof_enable(0); /* the phase tables cover the timed runs only */
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

int step5_optimization(c1_study *s)
{
    cs_step(5, "Optimization");
    for (; s->next < s->ntodo; s->next++) {
        int rc = run_next(s, c1_ladder[s->todo[s->next]].slow ? &s->slow_opts : &s->run_opts);
        if (rc) return rc;
    }
    /* One real epoch with the fastest variant that ran. */
    const c1_run *best = NULL;
    for (int i = 0; i < s->nruns; i++)
        if (s->runs[i].base.ran && (!best || s->runs[i].samples_per_s > best->samples_per_s)) best = &s->runs[i];
    if (!best || s->a.no_epoch || cs_brief()) return 0;
    s->epoch_variant = c1_find_variant(best->base.name);
    cs_progress("one epoch with %s", best->base.name);
    c1_output_alloc(&s->epoch_out, &s->w, s->spe);
    int rc =
        train_one_epoch(s->epoch_variant, &s->w, s->spe, strcmp(s->epoch_variant->device, "gpu") == 0, &s->epoch_out);
    cs_progress_done();
    return rc;
}

/* ---- 6. Verification ------------------------------------------------------- */

static void report_begin(c1_study *s)
{
    const c1_config *cfg = &s->w.cfg;
    cs_report *rep = &s->report;
    cs_report_init(rep, PROG);
    snprintf(rep->baseline, sizeof rep->baseline, "cpu_slow");
    cs_report_config(rep, "data", "%s", s->data.source);
    cs_report_config(rep, "samples", "%d", s->data.n);
    cs_report_config(rep, "layers", "%d-%d-%d-%d", cfg->in, cfg->h1, cfg->h2, cfg->out);
    cs_report_config(rep, "batch", "%d", cfg->batch);
    cs_report_config(rep, "lr", "%g", cfg->lr);
    cs_report_config(rep, "steps", "%d", cfg->steps);
    cs_report_config(rep, "slow_steps", "%d", cfg->slow_steps);
    cs_report_config(rep, "gpu_steps", "%d", cfg->gpu_steps);
    cs_report_config(rep, "seed", "%llu", (unsigned long long)cfg->seed);
    cs_report_config(rep, "check_steps", "%d", c1_check_steps(cfg));
    cs_report_config(rep, "tolerance_change_rel_l2", "%g", C1_TOL_CHANGE);
    cs_report_config(rep, "tolerance_change_along", "%g", C1_TOL_ALONG);
    cs_report_config(rep, "tolerance_loss_rel", "%g", C1_TOL_LOSS);
    cs_report_config(rep, "time_unit", "%s", "seconds per training step");
    cs_report_config(rep, "quick", "%d", s->opt.quick);
    cs_report_config(rep, "threads", "%d", s->sys.threads);
}

/* The report row of r: per training step, against the SGEMM ceiling of
 * its device in samples/s. */
static void report_run(c1_study *s, const c1_run *r)
{
    int is_gpu = strcmp(r->base.device, "gpu") == 0;
    double ceil_gflops = is_gpu ? s->gpu_ceil.sgemm_gflops : s->cpu_ceil.best_gflops;
    const char *ceil_name = is_gpu                              ? "cuBLAS SGEMM"
                            : s->cpu_ceil.best == CS_GEMM_CBLAS ? "OpenBLAS SGEMM"
                                                                : "blocked SGEMM";
    c1_run_report(&s->report, r, s->w.cfg.batch, ceil_gflops * 1e9 / s->flop_sample, ceil_name);
}

void step6_verification(c1_study *s)
{
    const c1_config *cfg = &s->w.cfg;
    cs_step(6, "Verification");
    cs_say("  Every variant's check run (%d steps from the same initial weights, same samples)\n"
           "  against cpu_slow's, the reference (REF: test_c1_reference checks it against a\n"
           "  double-precision implementation). The weights by what the training changed, w - w0,\n"
           "  against the reference's change: relative L2 error (tolerance %.0e) and how much\n"
           "  longer or shorter along it (tolerance %.0e); the loss of every step, worst relative\n"
           "  difference (tolerance %.0e). Why these tolerances: case01_training_loop/ladder.h.\n",
           c1_check_steps(cfg), C1_TOL_CHANGE, C1_TOL_ALONG, C1_TOL_LOSS);
    report_begin(s);
    for (int k = 0; k < C1_NVARIANTS; k++) {
        const c1_variant *v = &c1_ladder[k];
        if (s->skip[k]) {
            cs_report_skip(&s->report, v->name, v->device, s->skip[k]);
            continue;
        }
        const c1_run *r = find_run(s, v->name);
        if (!r) continue;
        report_run(s, r);
        if (r->base.check.status == CS_CHECK_REF) {
            cs_say("  %-13s the reference: REF\n", r->base.name);
            continue;
        }
        cs_say("  %-13s change rel. L2 error %.2e, along %+.1e, loss %.2e, non-finite %zu: %s%s%s\n", r->base.name,
               r->weights.rel_l2, r->along.rel_l2, r->loss.rel_l2, r->weights.nonfinite + r->loss.nonfinite,
               r->check_pass ? cs_col_pass() : cs_col_fail(), r->check_pass ? "PASS" : "FAIL", cs_col_reset());
    }
    cs_report_finish(&s->report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, &s->report);
    if (cs_brief()) return;
    cs_say("  time per training step%s\n"
           "  Epoch (%d steps of %d) at each variant's measured speed:",
           s->cpu_ceil.best_gflops > 0 ? "; % of ceiling: the FLOP rate against this machine's best SGEMM" : "", s->spe,
           cfg->batch);
    for (int i = 0; i < s->report.n; i++)
        if (s->report.rows[i].ran)
            cs_say("%s %s %s", i ? "," : "", s->report.rows[i].variant,
                   cs_format_time(s->report.rows[i].timing.time.median * s->spe, (char[32]){0}, 32));
    cs_say("\n");
}

/* ---- 7. Key lessons -------------------------------------------------------- */

void step7_key_lessons(const c1_study *s)
{
    const cs_report *rep = &s->report;
    const int spe = s->spe;
    cs_step(7, "Key lessons");
    const cs_result *cs = cs_report_find(rep, "cpu_slow"), *cb = cs_report_find(rep, "cpu_batched");
    const cs_result *cf = cs_report_find(rep, "cpu_fast"), *gs = cs_report_find(rep, "gpu_slow");
    const cs_result *gb = cs_report_find(rep, "gpu_batched"), *gr = cs_report_find(rep, "gpu_resident");
    const cs_result *ga = cs_report_find(rep, "gpu_async"), *gf = cs_report_find(rep, "gpu_fast");
#define RAN(r) ((r) && (r)->ran)
#define T(r)   ((r)->timing.time.median)
    char phrase[96];
#define CMP(a, b) cs_compare_phrase(a, b, phrase, sizeof phrase, NULL)
    if (RAN(cs) && RAN(cb))
        cs_say("  - Batch the math: the same training with GEMMs over the batch instead of one sample\n"
               "    at a time ran %s (cpu_slow -> cpu_batched).\n",
               CMP(cs, cb));
    if (RAN(cb) && RAN(cf))
        cs_say("  - Then remove the overheads around it: allocation once, conversion once, metrics from\n"
               "    the training pass: %s (cpu_batched -> cpu_fast).\n",
               CMP(cb, cf));
    if (RAN(cs) && RAN(cf))
        cs_say("  - cpu_fast trains %.1fx faster than cpu_slow: an epoch in %s instead of %s.\n", T(cs) / T(cf),
               cs_format_time(T(cf) * spe, (char[32]){0}, 32), cs_format_time(T(cs) * spe, (char[32]){0}, 32));
    if (RAN(gs) && RAN(gb)) cs_say("  - On the GPU, batching alone: %s (gpu_slow -> gpu_batched).\n", CMP(gs, gb));
    if (RAN(gb) && RAN(gr))
        cs_say("  - Keeping the data and buffers on the device: %s (gpu_batched -> gpu_resident).\n", CMP(gb, gr));
    if (RAN(gr) && RAN(ga))
        cs_say("  - No per-step sync, fused kernels, loss kept on the device: %s (gpu_resident -> gpu_async).\n",
               CMP(gr, ga));
    if (RAN(ga) && RAN(gf))
        cs_say("  - The step replayed from CUDA graphs: %s (gpu_async -> gpu_fast).\n", CMP(ga, gf));
    else if (RAN(gr) && RAN(gf))
        cs_say("  - No per-step sync, fused kernels, a CUDA graph: %s (gpu_resident -> gpu_fast).\n", CMP(gr, gf));
    if (RAN(gs) && RAN(gf))
        cs_say("  - gpu_fast trains %.1fx faster than gpu_slow on the same model and data.\n", T(gs) / T(gf));
    if (RAN(cf) && RAN(gf))
        cs_say("  - Used well, the GPU trains %.1fx faster than the best CPU variant here.\n", T(cf) / T(gf));
    if (!s->dev.run_gpu)
        cs_say("  - The GPU half of this lesson needs a CUDA device (%s).\n",
               cs_devices_why_not(&s->dev, &s->sys, "none here: see step 1"));
    cs_say("  - Same initial weights, same order, same mean gradient: the loss curves coincide, so\n"
           "    the fast versions are the same training, only faster (step 6).\n");
#undef CMP
#undef RAN
#undef T
}

/* ---- the results ----------------------------------------------------------- */

int c1_results(c1_study *s)
{
    const char *dir = s->opt.out_dir;
    if (cs_case_write_results(&s->report, &s->sys, dir) != 0) return 3;
    c1_chart_ladder(dir, &s->report);
    c1_chart_phases(dir, s->runs, s->nruns);
    c1_chart_loss_curves(dir, s->runs, s->nruns, c1_check_steps(&s->w.cfg));
    if (s->epoch_variant)
        c1_chart_epoch(dir, s->epoch_variant->name, s->epoch_out.loss, s->epoch_out.correct, s->w.cfg.batch, s->spe);
    if (cs_report_any_fail(&s->report)) {
        cs_error("a correctness check FAILED (see step 6)");
        return 1;
    }
    return 0;
}

void c1_study_free(c1_study *s)
{
    for (int i = 0; i < s->nruns; i++) c1_run_free(&s->runs[i]);
    c1_output_free(&s->epoch_out);
    if (s->have_ref == 1) c1_output_free(&s->ref);
    c1_workload_free(&s->w);
    c1_dataset_free(&s->data);
    cs_gpu_release();
}
