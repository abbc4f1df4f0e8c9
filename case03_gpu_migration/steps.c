/* The seven steps of case03 (steps.h). Everything printed comes from this
 * run. */
#include "steps.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "cs_blas_info.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gpu.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "pool_fight.h"

/* ---- small helpers --------------------------------------------------------- */

static double share(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

static void print_phases(const c3_run *r)
{
    if (cs_brief()) return;
    char med[32], setup[32];
    cs_say("  %s%s%s (%s): median %s per run over %d runs after %d warm-up%s%s\n", cs_col_bold(), r->name,
           cs_col_reset(), r->lesson, cs_format_time(r->timing.time.median, med, sizeof med), r->timing.repeats,
           r->timing.warmup, r->timing.warmup == 1 ? "" : "s",
           r->timing.reduced ? " (fewer repeats: the time budget per variant)" : "");
    if (r->setup_s > 1e-4)
        cs_say("  one-time setup outside the timed runs: %s\n", cs_format_time(r->setup_s, setup, sizeof setup));
    /* the profiler still holds this variant's totals (reset at its first timed run) */
    cs_prof_print_table(stdout, r->timing.repeats, r->timing.time.median);
}

static const char *const transfer_phases[] = {"copy H2D", "copy D2H"};
static const char *const alloc_phases[] = {"alloc/free"};
static const char *const compute_phases_cpu[] = {"matmul", "small matmuls"};

static double phase_sum(const c3_run *r, const char *const *names, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += cs_rung_phase_seconds(r, names[i]);
    return s;
}

/* The slow starting points that step 2 profiles. */
static int is_starting_point(const char *name)
{
    return strcmp(name, "cpu_naive") == 0 || strcmp(name, "gpu_naive") == 0;
}

/* Runs the next rung to run, prints its phases. Returns 0 or its error code. */
static int run_next(c3_study *s)
{
    const c3_variant *v = &c3_ladder[s->todo[s->next]];
    cs_prof_lane(v->name);
    cs_progress("running %s", v->name);
    int rc = c3_run_variant(v, &s->w, &s->a->run, &s->runs[s->nruns]);
    cs_progress_done();
    if (rc) return rc;
    print_phases(&s->runs[s->nruns]);
    s->next++;
    s->nruns++;
    return 0;
}

/* The run of the rung called name, or NULL. */
static const c3_run *find_run(const c3_study *s, const char *name)
{
    for (int i = 0; i < s->nruns; i++)
        if (strcmp(s->runs[i].name, name) == 0) return &s->runs[i];
    return NULL;
}

/* ---- before step 1 --------------------------------------------------------- */

int c3_study_check(c3_study *s, const c3_args *a, const cs_options *opt)
{
    memset(s, 0, sizeof *s);
    s->a = a;
    s->opt = opt;
    cs_sysinfo_get(&s->sys);
    double need = c3_host_bytes(&a->cfg);
    if (s->sys.mem_total > 0 && need > 0.8 * (double)s->sys.mem_total) {
        char nb[32], hb[32];
        cs_error("--n %d --batch %d --small %d: the workload needs %s of host memory, this machine has %s", a->cfg.n,
                 a->cfg.batch, a->cfg.small, cs_format_bytes(need, nb, sizeof nb),
                 cs_format_bytes((double)s->sys.mem_total, hb, sizeof hb));
        return 2;
    }
    if (cs_check_writable_dir(opt->out_dir) != 0) return 2;
    if (cs_case_devices(opt, &s->dev) != 0) return 3;
    return 0;
}

/* ---- 1. Scenario ----------------------------------------------------------- */

/* Ceilings, so each rate can be read as a share of what the machine can do. */
static void measure_ceilings(c3_study *s)
{
    if (!cs_measure_case_ceilings(s->opt, s->dev.run_gpu, &s->cpu_ceil, &s->gpu_ceil)) {
        cs_say("  ceilings not measured (--no-ceilings): no %% of ceiling below\n");
        return;
    }
    const cs_cpu_ceilings *c = &s->cpu_ceil;
    cs_say("  ceilings measured now: memory copy %.1f GB/s; best CPU SGEMM %.1f GFLOP/s (%s, n = %d)", c->mem_bw_gbs,
           c->best_gflops, cs_gemm_backend_name(c->best), c->gemm_n);
    if (s->dev.run_gpu)
        cs_say("; GPU copy %.0f GB/s, cuBLAS SGEMM %.0f GFLOP/s (n = %d)", s->gpu_ceil.mem_bw_gbs,
               s->gpu_ceil.sgemm_gflops, s->gpu_ceil.sgemm_n);
    cs_say("\n");
}

void step1_scenario(c3_study *s)
{
    const c3_config *cfg = &s->a->cfg;
    cs_step(1, "Scenario");
    cs_say("  \"I have a GPU but my code is still slow.\" The first port to the GPU copies data\n"
           "  back and forth around every operation and sends small, wrong-shaped work to the GPU.\n"
           "  Workload, repeated as one job:\n"
           "    chain: %d iterations of  Z = X W (%d x %d),  X = %.4f * relu(Z + bias),  rowsum(X)\n"
           "    batch: %d independent products of %d x %d matrices\n"
           "    %.2f GFLOP per job; seed %llu\n",
           cfg->iters, cfg->n, cfg->n, sqrt(6.0 / cfg->n), cfg->batch, cfg->small, cfg->small, c3_flops(cfg) / 1e9,
           (unsigned long long)cfg->seed);
    if (!cs_brief()) cs_sysinfo_print(stdout, &s->sys);
    /* The probe's reason is on the GPU line above: not again. */
    if (!s->dev.run_gpu) cs_say("  GPU rungs skipped: %s\n", cs_devices_why_not(&s->dev, &s->sys, "no GPU (above)"));
    measure_ceilings(s);

    cs_prof_lane("setup");
    cs_prof_begin("workload + float64 reference");
    double t0 = cs_now();
    c3_workload_init(&s->w, cfg);
    s->have_workload = 1;
    c3_compute_reference(&s->w);
    cs_prof_end();
    cs_say("  inputs and float64 reference computed in %.2f s (not part of any variant's time)\n", cs_now() - t0);
}

void c3_choose_rungs(c3_study *s)
{
    const c3_config *cfg = &s->a->cfg;
    cs_report_init(&s->report, C3_PROG);
    cs_report_config(&s->report, "n", "%d", cfg->n);
    cs_report_config(&s->report, "iters", "%d", cfg->iters);
    cs_report_config(&s->report, "batch", "%d", cfg->batch);
    cs_report_config(&s->report, "small", "%d", cfg->small);
    cs_report_config(&s->report, "seed", "%llu", (unsigned long long)cfg->seed);
    cs_report_config(&s->report, "tolerance_rel_l2", "%g", C3_TOL_FP32);
    cs_report_config(&s->report, "quick", "%d", s->opt->quick);
    cs_report_config(&s->report, "threads", "%d", s->sys.threads);

    const char *names[C3_NVARIANTS], *devices[C3_NVARIANTS], *not_here[C3_NVARIANTS];
    CS_LADDER_NAMES(c3_ladder, C3_NVARIANTS, names, devices);
    c3_ladder_not_here(not_here);
    s->ntodo =
        cs_ladder_select(s->opt, names, devices, not_here, C3_NVARIANTS, s->dev.run_gpu, s->dev.why, s->todo, s->skip);
    /* Step 2 profiles both starting points, cpu_naive and gpu_naive, so they
     * run first; the others follow in ladder order (a stable partition). */
    int order[C3_NVARIANTS], n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < s->ntodo; i++)
            if (is_starting_point(c3_ladder[s->todo[i]].name) == (pass == 0)) order[n++] = s->todo[i];
    memcpy(s->todo, order, (size_t)n * sizeof *order);
}

/* ---- 2. Initial profiling -------------------------------------------------- */

/* The slow starting points: cpu_naive, and the first GPU port (those of
 * them at the head of the rungs that run). */
int step2_initial_profiling(c3_study *s)
{
    cs_step(2, "Initial profiling");
    while (s->next < s->ntodo) {
        const char *name = c3_ladder[s->todo[s->next]].name;
        if (!is_starting_point(name)) break;
        int rc = run_next(s);
        if (rc) return rc;
        const c3_run *r = &s->runs[s->nruns - 1];
        if (strcmp(name, "cpu_naive") == 0)
            s->cpu_slow = r;
        else
            s->gpu_slow = r;
    }
    if (s->nruns == 0) cs_say("  (no slow variant selected)\n");
    return 0;
}

/* ---- 3. Hypothesis --------------------------------------------------------- */

void step3_hypothesis(const c3_study *s)
{
    cs_step(3, "Hypothesis");
    const c3_run *g = s->gpu_slow, *c = s->cpu_slow;
    if (g) {
        double med = g->timing.time.median;
        double tr = phase_sum(g, transfer_phases, 2), al = phase_sum(g, alloc_phases, 1);
        double ks = cs_rung_phase_seconds(g, "kernel+sync");
        cs_say("  gpu_naive spends %.0f%% of its time copying between host and device and %.0f%%\n"
               "  allocating and freeing device memory; its kernels (with a sync after each) take %.0f%%.\n"
               "  Hypothesis: the GPU is not the bottleneck; the traffic around it is. Keeping data on\n"
               "  the device, batching the small products and overlapping the remaining copies should\n"
               "  remove most of it, and a better kernel then matters for what is left.\n",
               share(tr, med), share(al, med), share(ks, med));
    }
    if (c) {
        double med = c->timing.time.median;
        double mm = phase_sum(c, compute_phases_cpu, 2);
        double mm_rate = c3_flops(&s->a->cfg) / 1e9 / (mm > 0 ? mm : med);
        double best = s->cpu_ceil.best_gflops;
        cs_say("  cpu_naive spends %.0f%% of its time in matrix products, at %.2f GFLOP/s", share(mm, med), mm_rate);
        if (best > 0)
            cs_say(": %.1f%% of the\n  %.0f GFLOP/s this machine's best SGEMM reaches", share(mm_rate, best), best);
        cs_say(". Hypothesis: the products are\n"
               "  limited by memory access (the naive loop reloads W column by column), not by\n"
               "  arithmetic; cache blocking, vectorization and all cores should close most of the gap.\n");
    }
}

/* ---- 4. Investigation ------------------------------------------------------ */

/* The GEMM backends at one size, and what the BLAS library runs. */
static void gemm_backends(const c3_study *s)
{
    const cs_cpu_ceilings *c = &s->cpu_ceil;
    int naive_n = s->a->naive_gemm_n;
    cs_blas_info blas;
    cs_blas_info_get(&blas);
    /* The backends' rates are the ceilings' (none under --no-ceilings). */
    if (c->best_gflops > 0) {
        double naive_gflops = cs_time_gemm_gflops(CS_GEMM_NAIVE, naive_n, 1);
        /* The naive loop at a smaller n (it would take seconds at the ceilings' n): the
         * heading says the sizes differ, and the rates are per second, so comparable. */
        cs_say("  GEMM backends on this CPU (one n x n SGEMM each, at the n shown: the naive loop at a\n"
               "  smaller one; %d threads):\n",
               s->sys.threads);
        cs_say("    %-8s n = %-5d %8.2f GFLOP/s\n", "naive", naive_n, naive_gflops);
    }
    for (int b = CS_GEMM_BLOCKED; b < CS_GEMM_NBACKENDS; b++)
        if (c->gemm_gflops[b] > 0)
            cs_say("    %-8s n = %-5d %8.2f GFLOP/s\n", cs_gemm_backend_name(b), c->gemm_n, c->gemm_gflops[b]);
    if (c->gemm_gflops[CS_GEMM_CBLAS] > 0)
        cs_say("    blocked reaches %.0f%% of OpenBLAS\n",
               share(c->gemm_gflops[CS_GEMM_BLOCKED], c->gemm_gflops[CS_GEMM_CBLAS]));
    if (c->peak_gflops_est > 0)
        cs_say("    estimated peak: %.0f GFLOP/s (%d cores x %.0f MHz x %d FLOP/cycle, %s)\n", c->peak_gflops_est,
               s->sys.threads, s->sys.cpu_mhz, c->flops_per_cycle_core, s->sys.isa);
    if (!cs_brief()) {
        cs_say("  Profile the library too:\n");
        cs_blas_info_explain(stdout, &blas, c->gemm_gflops[CS_GEMM_CBLAS], c->peak_gflops_est);
    }
}

/* Copy bandwidth by size: host memcpy, and pageable against pinned. */
static void bandwidth_sweep(c3_study *s)
{
    const c3_bandwidth_sweep *bw = &s->bw;
    cs_prof_begin("bandwidth sweep");
    c3_bandwidth_sweep_run(&s->bw, s->opt->quick ? (16u << 20) : (256u << 20), s->dev.run_gpu);
    cs_prof_end();
    cs_say("  Bandwidth sweep (GB/s):\n  %10s %12s", "size", "host memcpy");
    if (bw->gpu) cs_say(" %12s %12s %12s %12s", "H2D pageable", "H2D pinned", "D2H pageable", "D2H pinned");
    cs_say("\n");
    for (int i = 0; i < bw->npoints; i++) {
        char sz[32];
        cs_say("  %10s %12.1f", cs_format_bytes((double)bw->bytes[i], sz, sizeof sz), bw->host_memcpy_gbs[i]);
        if (bw->gpu)
            cs_say(" %12.1f %12.1f %12.1f %12.1f", bw->h2d_pageable_gbs[i], bw->h2d_pinned_gbs[i],
                   bw->d2h_pageable_gbs[i], bw->d2h_pinned_gbs[i]);
        cs_say("\n");
    }
    /* the GPU columns are measured exactly when the GPU rungs run */
    if (!bw->gpu)
        cs_say("  (host-device columns skipped: %s)\n", cs_devices_why_not(&s->dev, &s->sys, "no GPU, see step 1"));
}

/* One n x n SGEMM by size, CPU against GPU; the crossover hybrid uses. */
static void size_sweep(c3_study *s)
{
    const c3_size_sweep *sw = &s->sweep;
    cs_prof_begin("size sweep");
    c3_size_sweep_run(&s->sweep, s->a->sweep_max, s->dev.run_gpu);
    cs_prof_end();
    cs_say("  Size sweep, one n x n SGEMM (ms):\n  %6s %12s", "n", "CPU blocked");
    if (sw->gpu) cs_say(" %14s %16s", "GPU compute", "GPU + transfers");
    cs_say("\n");
    for (int i = 0; i < sw->npoints; i++) {
        cs_say("  %6d %12.3f", sw->n[i], sw->cpu_s[i] * 1e3);
        if (sw->gpu) cs_say(" %14.3f %16.3f", sw->gpu_compute_s[i] * 1e3, sw->gpu_total_s[i] * 1e3);
        cs_say("\n");
    }
    if (!sw->gpu) return;
    if (sw->crossover) {
        cs_say("  Crossover: from n = %d up, the GPU wins even paying for the transfers;\n"
               "  below it the CPU is faster. hybrid uses %s.\n",
               sw->crossover, c3_crossover_forced() ? "--crossover instead" : "this size");
        c3_set_crossover(sw->crossover);
    } else {
        cs_say("  No crossover up to n = %d: with transfers, the CPU wins at every size measured.\n", s->a->sweep_max);
        c3_set_crossover(-1); /* hybrid: everything on the CPU */
    }
}

void step4_investigation(c3_study *s)
{
    cs_step(4, "Investigation");
    gemm_backends(s);
    if (s->a->no_investigate) {
        cs_say("  sweeps skipped (--no-investigate)\n");
        return;
    }
    cs_prof_lane("investigation");
    c3_pool_fight fight;
    c3_pool_fight_run(&fight, &s->w);
    c3_pool_fight_print(&fight);
    bandwidth_sweep(s);
    size_sweep(s);
}

/* ---- 5. Optimization ------------------------------------------------------- */

int step5_optimization(c3_study *s)
{
    cs_step(5, "Optimization");
    while (s->next < s->ntodo) {
        int rc = run_next(s);
        if (rc) return rc;
    }
    return 0;
}

/* ---- 6. Verification ------------------------------------------------------- */

void step6_verification(c3_study *s)
{
    cs_step(6, "Verification");
    cs_say("  Every variant against the float64 reference on the same inputs: relative L2 error of\n"
           "  X, the row sums and the small products (the worst of the three), tolerance %.0e (float32).\n",
           C3_TOL_FP32);
    double flops = c3_flops(&s->a->cfg) / 1e9;
    /* Rows in ladder order: the runs, and the skipped rungs with their reason. */
    for (int k = 0; k < C3_NVARIANTS; k++) {
        const c3_variant *v = &c3_ladder[k];
        if (s->skip[k]) {
            cs_report_skip(&s->report, v->name, v->device, s->skip[k]);
            continue;
        }
        const c3_run *r = find_run(s, v->name);
        if (!r) continue;
        int is_gpu = strcmp(r->device, "gpu") == 0;
        const char *cpu_best = s->cpu_ceil.best == CS_GEMM_CBLAS ? "OpenBLAS SGEMM" : "blocked SGEMM";
        cs_rung_report(&s->report, r, flops, "GFLOP/s", is_gpu ? s->gpu_ceil.sgemm_gflops : s->cpu_ceil.best_gflops,
                       is_gpu ? "cuBLAS SGEMM" : cpu_best);
        cs_say("  %-13s rel. L2 error %.2e, max abs error %.2e, non-finite %zu: %s%s%s\n", r->name, r->check.rel_l2,
               r->check.max_abs, r->check.nonfinite, r->check.status == CS_CHECK_PASS ? cs_col_pass() : cs_col_fail(),
               cs_check_word(r->check.status), cs_col_reset());
    }
    cs_report_finish(&s->report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, &s->report);
}

/* ---- 7. Key lessons -------------------------------------------------------- */

#define RAN(r) ((r) && (r)->ran)

/* The CPU lessons: blocking and cores, and the library. */
static void cpu_lessons(const c3_study *s)
{
    const cs_result *cn = cs_report_find(&s->report, "cpu_naive"), *cb = cs_report_find(&s->report, "cpu_blocked");
    const cs_result *bl = cs_report_find(&s->report, "cpu_blas");
    char phrase[96];
    if (RAN(cn) && RAN(cb))
        cs_say("  - Memory access order decides CPU speed: blocking, SIMD and %d cores took the job from\n"
               "    %s to %s (%s).\n",
               s->sys.threads, cs_format_time(cn->timing.time.median, (char[32]){0}, 32),
               cs_format_time(cb->timing.time.median, (char[32]){0}, 32),
               cs_compare_phrase(cn, cb, phrase, sizeof phrase, NULL));
    if (RAN(cb) && RAN(bl)) {
        /* Which won, and by how much, from the measured spread: a tie says so. */
        int tie = 0;
        cs_compare_phrase(cb, bl, phrase, sizeof phrase, &tie);
        if (tie)
            cs_say("  - Portable blocked C and OpenBLAS tied here: their timed runs overlap (%.2fx on the\n"
                   "    medians), so this run cannot tell them apart (a quieter machine or more --repeat can).\n",
                   cb->timing.time.median / bl->timing.time.median);
        else if (bl->timing.time.median < cb->timing.time.median)
            cs_say("  - Tuned libraries usually win: OpenBLAS ran the job %s than portable blocked C.\n", phrase);
        else
            cs_say("  - Libraries are not magic: OpenBLAS ran the job %s than portable blocked C here;\n"
                   "    look at the phase tables and at which kernels the library picked (step 4).\n",
                   phrase);
    }
}

/* The GPU lessons: transfers, residency, libraries, and where small work belongs. */
static void gpu_lessons(const c3_study *s)
{
    const cs_result *cb = cs_report_find(&s->report, "cpu_blocked"), *bl = cs_report_find(&s->report, "cpu_blas");
    const cs_result *gn = cs_report_find(&s->report, "gpu_naive"), *gr = cs_report_find(&s->report, "gpu_resident");
    const cs_result *gc = cs_report_find(&s->report, "gpu_cublas"), *hy = cs_report_find(&s->report, "hybrid");
    const c3_run *slow = s->gpu_slow;
    if (RAN(gn) && slow)
        cs_say("  - A GPU port that copies around every operation is slow: gpu_naive spent %.0f%% of its\n"
               "    time in transfers and %.0f%% in allocation.\n",
               share(phase_sum(slow, transfer_phases, 2), slow->timing.time.median),
               share(phase_sum(slow, alloc_phases, 1), slow->timing.time.median));
    char phrase[96];
    if (RAN(gn) && RAN(gr))
        cs_say("  - Keep data resident: the same kernels without the round trips ran %s.\n",
               cs_compare_phrase(gn, gr, phrase, sizeof phrase, NULL));
    if (RAN(gn) && RAN(gc))
        cs_say("  - Libraries, batching, fusion, pinned memory and streams: gpu_cublas ran %s\n"
               "    than gpu_naive on the same job.\n",
               cs_compare_phrase(gn, gc, phrase, sizeof phrase, NULL));
    if (RAN(cb) && RAN(gc)) {
        const cs_result *best_cpu = RAN(bl) && bl->timing.time.median < cb->timing.time.median ? bl : cb;
        cs_say("  - Used well, the GPU beats the best CPU rung by %.1fx here (gpu_cublas against %s).\n",
               best_cpu->timing.time.median / gc->timing.time.median, best_cpu->variant);
    }
    if (s->sweep.gpu && c3_get_crossover() > 0)
        cs_say("  - Small work belongs on the CPU: below n = %d a product is faster there than a trip\n"
               "    to the GPU%s.\n",
               c3_get_crossover(), RAN(hy) ? "; hybrid routes work by that size" : "");
    if (!s->dev.run_gpu)
        cs_say("  - The GPU half of this lesson needs a CUDA device (%s).\n",
               cs_devices_why_not(&s->dev, &s->sys, "none here: see step 1"));
}

void step7_key_lessons(const c3_study *s)
{
    cs_step(7, "Key lessons");
    cpu_lessons(s);
    gpu_lessons(s);
    cs_say("  - Measure before optimizing: every figure above came from this run's profile.\n");
}

#undef RAN

/* ---- results --------------------------------------------------------------- */

int c3_write_results(c3_study *s)
{
    const char *dir = s->opt->out_dir;
    if (cs_case_write_results(&s->report, &s->sys, dir) != 0) return 3;
    c3_chart_variants(dir, &s->report);
    if (s->sweep.npoints) c3_chart_size_sweep(dir, &s->sweep);
    if (s->bw.npoints) c3_chart_bandwidth(dir, &s->bw);
    /* phases chart: the GPU pair when it ran, else the CPU pair */
    const c3_run *pair[2];
    int np = 0;
    const char *want[2][2] = {{"gpu_naive", "gpu_cublas"}, {"cpu_naive", "cpu_blocked"}};
    for (int g = 0; g < 2 && np < 2; g++) {
        np = 0;
        for (int k = 0; k < 2; k++)
            if (find_run(s, want[g][k])) pair[np++] = find_run(s, want[g][k]);
    }
    if (np > 0) c3_chart_phases(dir, pair, np);
    if (cs_report_any_fail(&s->report)) {
        cs_error("a correctness check FAILED (see step 6)");
        return 1;
    }
    return 0;
}

void c3_study_free(c3_study *s)
{
    if (s->have_workload) c3_workload_free(&s->w);
    cs_gpu_release(); /* cuBLAS handle and events: a leak check sees nothing held */
}
