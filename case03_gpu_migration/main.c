/* case03_gpu_migration: "I have a GPU but my code is still slow".
 *
 * The seven steps of the case-study method (see docs/case03_gpu_migration.md):
 * scenario, initial profiling, hypothesis, investigation, optimization,
 * verification, key lessons. Everything printed comes from this run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "cs_blas_info.h"
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
#include "pool_fight.h"
#include "ladder.h"

#define PROG "case03_gpu_migration"

/* ---- command line -------------------------------------------------------- */

typedef struct {
    c3_config cfg;
    int n_set, iters_set, batch_set, small_set;
    int sweep_max, sweep_set;
    int naive_gemm_n, naive_gemm_set;
    int no_investigate;
    int crossover;            /* --crossover N, 0 when not given */
} c3_args;

enum { OPT_N, OPT_ITERS, OPT_BATCH, OPT_SMALL, OPT_SWEEP_MAX, OPT_NAIVE_GEMM_N, OPT_NO_INVESTIGATE,
       OPT_CROSSOVER };

static const cs_case_option case_options[] = {
    [OPT_N] = {"n", "N", "chain matrix size n x n (16..16384; default 512, quick 256)"},
    [OPT_ITERS] = {"iters", "N", "chain iterations (1..1000; default 8, quick 4)"},
    [OPT_BATCH] = {"batch", "N", "number of small products (1..1000000; default 512, quick 128)"},
    [OPT_SMALL] = {"small", "N", "small matrix size (2..1024; default 64)"},
    [OPT_SWEEP_MAX] = {"sweep-max", "N", "largest n of the size sweep (16..16384; default 4096, quick 512)"},
    [OPT_NAIVE_GEMM_N] = {"naive-gemm-n", "N", "size at which the naive GEMM is timed in step 4 (16..4096; default 512, quick 256)"},
    [OPT_NO_INVESTIGATE] = {"no-investigate", NULL, "skip the sweeps of step 4 (tests use this)"},
    [OPT_CROSSOVER] = {"crossover", "N", "hybrid sends products of n >= N to the GPU, whatever step 4 measures (1..16384)"},
};

static int on_option(int index, const char *arg, void *p)
{
    c3_args *a = p;
    long v;
    switch (index) {
    case OPT_N:
        if (cs_parse_long("--n", arg, C3_N_MIN, C3_N_MAX, &v)) return 2;
        a->cfg.n = (int)v, a->n_set = 1;
        break;
    case OPT_ITERS:
        if (cs_parse_long("--iters", arg, 1, C3_ITERS_MAX, &v)) return 2;
        a->cfg.iters = (int)v, a->iters_set = 1;
        break;
    case OPT_BATCH:
        if (cs_parse_long("--batch", arg, 1, C3_BATCH_MAX, &v)) return 2;
        a->cfg.batch = (int)v, a->batch_set = 1;
        break;
    case OPT_SMALL:
        if (cs_parse_long("--small", arg, 2, C3_SMALL_MAX, &v)) return 2;
        a->cfg.small = (int)v, a->small_set = 1;
        break;
    case OPT_SWEEP_MAX:
        if (cs_parse_long("--sweep-max", arg, 16, C3_N_MAX, &v)) return 2;
        a->sweep_max = (int)v, a->sweep_set = 1;
        break;
    case OPT_NAIVE_GEMM_N:
        if (cs_parse_long("--naive-gemm-n", arg, 16, 4096, &v)) return 2;
        a->naive_gemm_n = (int)v, a->naive_gemm_set = 1;
        break;
    case OPT_NO_INVESTIGATE:
        a->no_investigate = 1;
        break;
    case OPT_CROSSOVER:
        if (cs_parse_long("--crossover", arg, 1, C3_N_MAX, &v)) return 2;
        a->crossover = (int)v;
        break;
    }
    return 0;
}

/* ---- small helpers --------------------------------------------------------- */

static double share(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

static void print_phases(const c3_run *r)
{
    if (cs_brief()) return;
    char med[32], setup[32];
    cs_say("  %s%s%s (%s): median %s per run over %d runs after %d warm-up%s%s\n",
           cs_col_bold(), r->name, cs_col_reset(), r->lesson,
           cs_format_time(r->timing.time.median, med, sizeof med), r->timing.repeats,
           r->timing.warmup, r->timing.warmup == 1 ? "" : "s",
           r->timing.reduced ? " (fewer repeats: the time budget per variant)" : "");
    if (r->setup_s > 1e-4)
        cs_say("  one-time setup outside the timed runs: %s\n",
               cs_format_time(r->setup_s, setup, sizeof setup));
    /* the profiler still holds this variant's totals (reset at its first timed run) */
    cs_prof_print_table(stdout, r->timing.repeats, r->timing.time.median);
}

static double phase_sum(const c3_run *r, const char *const *names, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += c3_phase_seconds(r, names[i]);
    return s;
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    c3_args a = {.cfg = {.n = 512, .iters = 8, .batch = 512, .small = 64}};
    a.sweep_max = 4096;
    a.naive_gemm_n = 512;
    cs_options opt;
    cs_cli_spec spec = {
        .prog = PROG,
        .summary = "I have a GPU but my code is still slow: transfers and wrong-shaped work on the GPU",
        .options = case_options,
        .n_options = sizeof case_options / sizeof case_options[0],
        .handler = on_option,
        .ctx = &a,
        .variant_names = c3_variant_names,
        .variant_devices = c3_variant_devices,
        .n_variants = C3_NVARIANTS,
    };
    int rc = cs_case_begin(argc, argv, &spec, &opt);
    if (rc) return rc < 0 ? 0 : rc;
    if (a.crossover) c3_force_crossover(a.crossover);

    if (opt.quick) {
        if (!a.n_set) a.cfg.n = 256;
        if (!a.iters_set) a.cfg.iters = 4;
        if (!a.batch_set) a.cfg.batch = 128;
        if (!a.sweep_set) a.sweep_max = 512;
        if (!a.naive_gemm_set) a.naive_gemm_n = 256;
    }
    a.cfg.seed = opt.seed;
    cs_run_opts run_opts = cs_run_defaults();
    run_opts.warmup = opt.warmup >= 0 ? opt.warmup : 1;
    run_opts.repeats = opt.repeat > 0 ? opt.repeat : (opt.quick ? 3 : 5);
    /* No variant may hold a demo up for long: the runner lowers the repeat
     * count of a slow one (never below 3, or fewer when fewer were asked). */
    run_opts.budget_s = opt.quick ? 2.0 : 8.0;

    /* Everything checked before any allocation or long work. */
    cs_sysinfo sys;
    cs_sysinfo_get(&sys);
    double need = c3_host_bytes(&a.cfg);
    if (sys.mem_total > 0 && need > 0.8 * (double)sys.mem_total) {
        char nb[32], hb[32];
        cs_error("--n %d --batch %d --small %d: the workload needs %s of host memory, this machine has %s",
                 a.cfg.n, a.cfg.batch, a.cfg.small, cs_format_bytes(need, nb, sizeof nb),
                 cs_format_bytes((double)sys.mem_total, hb, sizeof hb));
        return 2;
    }
    if (cs_check_writable_dir(opt.out_dir) != 0) return 2;

    cs_devices dev;
    if (cs_case_devices(&opt, &dev) != 0) return 3;
    const int want_cpu = dev.want_cpu, want_gpu = dev.want_gpu, run_gpu = dev.run_gpu;
    const char *gpu_why = dev.why;

    /* ---- 1. Scenario ---- */
    cs_step(1, "Scenario");
    cs_say("  \"I have a GPU but my code is still slow.\" The first port to the GPU copies data\n"
           "  back and forth around every operation and sends small, wrong-shaped work to the GPU.\n"
           "  Workload, repeated as one job:\n"
           "    chain: %d iterations of  Z = X W (%d x %d),  X = %.4f * relu(Z + bias),  rowsum(X)\n"
           "    batch: %d independent products of %d x %d matrices\n"
           "    %.2f GFLOP per job; seed %llu\n",
           a.cfg.iters, a.cfg.n, a.cfg.n, sqrt(6.0 / a.cfg.n), a.cfg.batch, a.cfg.small, a.cfg.small,
           c3_flops(&a.cfg) / 1e9, (unsigned long long)a.cfg.seed);
    if (!cs_brief()) cs_sysinfo_print(stdout, &sys);
    if (!run_gpu)
        cs_say("  GPU rungs skipped: %s\n", gpu_why);

    /* Ceilings, so each rate can be read as a share of what the machine can do. */
    cs_progress("measuring this machine's ceilings");
    cs_cpu_ceilings cpu_ceil;
    cs_measure_cpu_ceilings(&cpu_ceil, opt.quick);
    cs_gpu_ceilings gpu_ceil = {0};
    if (run_gpu) cs_measure_gpu_ceilings(&gpu_ceil, opt.quick);
    cs_progress_done();
    cs_say("  ceilings measured now: memory copy %.1f GB/s; best CPU SGEMM %.1f GFLOP/s (%s, n = %d)",
           cpu_ceil.mem_bw_gbs, cpu_ceil.best_gflops, cs_gemm_backend_name(cpu_ceil.best), cpu_ceil.gemm_n);
    if (run_gpu)
        cs_say("; GPU copy %.0f GB/s, cuBLAS SGEMM %.0f GFLOP/s (n = %d)",
               gpu_ceil.mem_bw_gbs, gpu_ceil.sgemm_gflops, gpu_ceil.sgemm_n);
    cs_say("\n");

    cs_prof_lane("setup");
    cs_prof_begin("workload + float64 reference");
    double t0 = cs_now();
    c3_workload w;
    c3_workload_init(&w, &a.cfg);
    c3_compute_reference(&w);
    cs_prof_end();
    cs_say("  inputs and float64 reference computed in %.2f s (not part of any variant's time)\n",
           cs_now() - t0);

    /* Which rungs run. */
    c3_run runs[C3_NVARIANTS];
    int nruns = 0;
    cs_report report;
    cs_report_init(&report, PROG);
    cs_report_config(&report, "n", "%d", a.cfg.n);
    cs_report_config(&report, "iters", "%d", a.cfg.iters);
    cs_report_config(&report, "batch", "%d", a.cfg.batch);
    cs_report_config(&report, "small", "%d", a.cfg.small);
    cs_report_config(&report, "seed", "%llu", (unsigned long long)a.cfg.seed);
    cs_report_config(&report, "tolerance_rel_l2", "%g", C3_TOL_FP32);
    cs_report_config(&report, "quick", "%d", opt.quick);
    cs_report_config(&report, "threads", "%d", sys.threads);

    /* Which rungs run; the others get a skip line with the reason. */
    const c3_variant *todo[C3_NVARIANTS];
    const char *skip_reason[C3_NVARIANTS] = {0};
    int ntodo = 0;
    for (int i = 0; i < C3_NVARIANTS; i++) {
        const char *name = c3_variant_names[i];
        if (!cs_variant_selected(&opt, name)) continue;
        int is_gpu = strncmp(name, "gpu", 3) == 0 || strcmp(name, "hybrid") == 0;
        const c3_variant *v = c3_find_variant(name);
        if (is_gpu && !want_gpu) continue;
        if (!is_gpu && !want_cpu) continue;
        if (is_gpu && !run_gpu)
            skip_reason[i] = gpu_why;
        else if (strcmp(name, "cpu_blas") == 0 && !cs_gemm_cblas_available())
            skip_reason[i] = "built without OpenBLAS (apt-get install libopenblas-dev)";
        else if (v)
            todo[ntodo++] = v;
    }

    /* ---- 2. Initial profiling ---- */
    /* The slow starting points: cpu_naive, and the first GPU port. */
    cs_step(2, "Initial profiling");
    int exit_code = 0;
    int next = 0;
    const c3_run *cpu_slow = NULL, *gpu_slow = NULL;
    for (; next < ntodo; next++) {
        const char *name = todo[next]->name;
        if (strcmp(name, "cpu_naive") != 0 && strcmp(name, "gpu_naive") != 0) break;
        cs_prof_lane(name);
        cs_progress("running %s", name);
        rc = c3_run_variant(todo[next], &w, &run_opts, &runs[nruns]);
        cs_progress_done();
        if (rc) { exit_code = rc; goto done; }
        print_phases(&runs[nruns]);
        if (strcmp(name, "cpu_naive") == 0) cpu_slow = &runs[nruns];
        else gpu_slow = &runs[nruns];
        nruns++;
    }
    if (nruns == 0) cs_say("  (no slow variant selected)\n");

    /* ---- 3. Hypothesis ---- */
    cs_step(3, "Hypothesis");
    static const char *const transfer_phases[] = {"copy H2D", "copy D2H"};
    static const char *const alloc_phases[] = {"alloc/free"};
    static const char *const compute_phases_cpu[] = {"matmul", "small matmuls"};
    if (gpu_slow) {
        double med = gpu_slow->timing.time.median;
        double tr = phase_sum(gpu_slow, transfer_phases, 2), al = phase_sum(gpu_slow, alloc_phases, 1);
        double ks = c3_phase_seconds(gpu_slow, "kernel+sync");
        cs_say("  gpu_naive spends %.0f%% of its time copying between host and device and %.0f%%\n"
               "  allocating and freeing device memory; its kernels (with a sync after each) take %.0f%%.\n"
               "  Hypothesis: the GPU is not the bottleneck; the traffic around it is. Keeping data on\n"
               "  the device, batching the small products and overlapping the remaining copies should\n"
               "  remove most of it, and a better kernel then matters for what is left.\n",
               share(tr, med), share(al, med), share(ks, med));
    }
    if (cpu_slow) {
        double med = cpu_slow->timing.time.median;
        double mm = phase_sum(cpu_slow, compute_phases_cpu, 2);
        double mm_rate = c3_flops(&a.cfg) / 1e9 / (mm > 0 ? mm : med);
        cs_say("  cpu_naive spends %.0f%% of its time in matrix products, at %.2f GFLOP/s: %.1f%% of the\n"
               "  %.0f GFLOP/s this machine's best SGEMM reaches. Hypothesis: the products are\n"
               "  limited by memory access (the naive loop reloads W column by column), not by\n"
               "  arithmetic; cache blocking, vectorization and all cores should close most of the gap.\n",
               share(mm, med), mm_rate, share(mm_rate, cpu_ceil.best_gflops), cpu_ceil.best_gflops);
    }

    /* ---- 4. Investigation ---- */
    cs_step(4, "Investigation");
    c3_bandwidth_sweep bw = {0};
    c3_size_sweep sweep = {0};
    {
        cs_blas_info blas;
        cs_blas_info_get(&blas);
        double naive_gflops = cs_time_gemm_gflops(CS_GEMM_NAIVE, a.naive_gemm_n, 1);
        cs_say("  GEMM backends on this CPU (one n x n SGEMM, %d threads):\n", sys.threads);
        cs_say("    %-8s n = %-5d %8.2f GFLOP/s\n", "naive", a.naive_gemm_n, naive_gflops);
        for (int b = CS_GEMM_BLOCKED; b < CS_GEMM_NBACKENDS; b++)
            if (cpu_ceil.gemm_gflops[b] > 0)
                cs_say("    %-8s n = %-5d %8.2f GFLOP/s%s\n", cs_gemm_backend_name(b), cpu_ceil.gemm_n,
                       cpu_ceil.gemm_gflops[b],
                       b == CS_GEMM_BLOCKED && cpu_ceil.gemm_gflops[CS_GEMM_CBLAS] > 0 ? "" : "");
        if (cpu_ceil.gemm_gflops[CS_GEMM_CBLAS] > 0)
            cs_say("    blocked reaches %.0f%% of OpenBLAS\n",
                   share(cpu_ceil.gemm_gflops[CS_GEMM_BLOCKED], cpu_ceil.gemm_gflops[CS_GEMM_CBLAS]));
        if (cpu_ceil.peak_gflops_est > 0)
            cs_say("    estimated peak: %.0f GFLOP/s (%d cores x %.0f MHz x %d FLOP/cycle, %s)\n",
                   cpu_ceil.peak_gflops_est, sys.threads, sys.cpu_mhz, cpu_ceil.flops_per_cycle_core, sys.isa);
        if (!cs_brief()) {
            cs_say("  Profile the library too:\n");
            cs_blas_info_explain(stdout, &blas, cpu_ceil.gemm_gflops[CS_GEMM_CBLAS], cpu_ceil.peak_gflops_est);
        }
    }
    if (!a.no_investigate) {
        cs_prof_lane("investigation");
        c3_pool_fight fight;
        c3_pool_fight_run(&fight, &w);
        c3_pool_fight_print(&fight);
        cs_prof_begin("bandwidth sweep");
        c3_bandwidth_sweep_run(&bw, opt.quick ? (16u << 20) : (256u << 20), run_gpu);
        cs_prof_end();
        cs_say("  Bandwidth sweep (GB/s):\n  %10s %12s", "size", "host memcpy");
        if (bw.gpu) cs_say(" %12s %12s %12s %12s", "H2D pageable", "H2D pinned", "D2H pageable", "D2H pinned");
        cs_say("\n");
        for (int i = 0; i < bw.npoints; i++) {
            char sz[32];
            cs_say("  %10s %12.1f", cs_format_bytes((double)bw.bytes[i], sz, sizeof sz), bw.host_memcpy_gbs[i]);
            if (bw.gpu)
                cs_say(" %12.1f %12.1f %12.1f %12.1f", bw.h2d_pageable_gbs[i], bw.h2d_pinned_gbs[i],
                       bw.d2h_pageable_gbs[i], bw.d2h_pinned_gbs[i]);
            cs_say("\n");
        }
        if (!bw.gpu) cs_say("  (host-device columns skipped: %s)\n", run_gpu ? "" : gpu_why);

        cs_prof_begin("size sweep");
        c3_size_sweep_run(&sweep, a.sweep_max, run_gpu);
        cs_prof_end();
        cs_say("  Size sweep, one n x n SGEMM (ms):\n  %6s %12s", "n", "CPU blocked");
        if (sweep.gpu) cs_say(" %14s %16s", "GPU compute", "GPU + transfers");
        cs_say("\n");
        for (int i = 0; i < sweep.npoints; i++) {
            cs_say("  %6d %12.3f", sweep.n[i], sweep.cpu_s[i] * 1e3);
            if (sweep.gpu) cs_say(" %14.3f %16.3f", sweep.gpu_compute_s[i] * 1e3, sweep.gpu_total_s[i] * 1e3);
            cs_say("\n");
        }
        if (sweep.gpu) {
            if (sweep.crossover) {
                cs_say("  Crossover: from n = %d up, the GPU wins even paying for the transfers;\n"
                       "  below it the CPU is faster. hybrid uses %s.\n", sweep.crossover,
                       c3_crossover_forced() ? "--crossover instead" : "this size");
                c3_set_crossover(sweep.crossover);
            } else {
                cs_say("  No crossover up to n = %d: with transfers, the CPU wins at every size measured.\n",
                       a.sweep_max);
                c3_set_crossover(-1);   /* hybrid: everything on the CPU */
            }
        }
    } else {
        cs_say("  sweeps skipped (--no-investigate)\n");
    }

    /* ---- 5. Optimization ---- */
    cs_step(5, "Optimization");
    for (; next < ntodo; next++) {
        const char *name = todo[next]->name;
        cs_prof_lane(name);
        cs_progress("running %s", name);
        rc = c3_run_variant(todo[next], &w, &run_opts, &runs[nruns]);
        cs_progress_done();
        if (rc) { exit_code = rc; goto done; }
        print_phases(&runs[nruns]);
        nruns++;
    }

    /* ---- 6. Verification ---- */
    cs_step(6, "Verification");
    cs_say("  Every variant against the float64 reference on the same inputs: relative L2 error of\n"
           "  X, the row sums and the small products (the worst of the three), tolerance %.0e (float32).\n",
           C3_TOL_FP32);
    double flops = c3_flops(&a.cfg) / 1e9;
    /* Rows in ladder order: the runs, and the skipped rungs with their reason. */
    for (int k = 0; k < C3_NVARIANTS; k++) {
        const char *name = c3_variant_names[k];
        if (skip_reason[k]) {
            cs_report_skip(&report, name, strncmp(name, "cpu", 3) == 0 ? "cpu" : "gpu", skip_reason[k]);
            continue;
        }
        const c3_run *r = NULL;
        for (int i = 0; i < nruns; i++)
            if (strcmp(runs[i].name, name) == 0) r = &runs[i];
        if (!r) continue;
        cs_result row = {0};
        snprintf(row.variant, sizeof row.variant, "%s", r->name);
        snprintf(row.device, sizeof row.device, "%s", r->device);
        row.ran = 1;
        row.timing = r->timing;
        row.work = flops;
        snprintf(row.unit, sizeof row.unit, "GFLOP/s");
        int is_gpu = strcmp(r->device, "gpu") == 0;
        row.ceiling = is_gpu ? gpu_ceil.sgemm_gflops : cpu_ceil.best_gflops;
        snprintf(row.ceiling_name, sizeof row.ceiling_name, "%s",
                 is_gpu ? "cuBLAS SGEMM" : cpu_ceil.best == CS_GEMM_CBLAS ? "OpenBLAS SGEMM" : "blocked SGEMM");
        row.peak_mem = r->peak_mem;
        row.check = r->check;
        cs_report_add(&report, &row);
        cs_say("  %-13s rel. L2 error %.2e, max abs error %.2e, non-finite %zu: %s%s%s\n", r->name,
               r->check.rel_l2, r->check.max_abs, r->check.nonfinite,
               r->check.status == CS_CHECK_PASS ? cs_col_pass() : cs_col_fail(),
               cs_check_word(r->check.status), cs_col_reset());
    }
    cs_report_finish(&report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, &report);

    /* ---- 7. Key lessons ---- */
    cs_step(7, "Key lessons");
    {
        const cs_result *cn = cs_report_find(&report, "cpu_naive"), *cb = cs_report_find(&report, "cpu_blocked");
        const cs_result *bl = cs_report_find(&report, "cpu_blas"), *gn = cs_report_find(&report, "gpu_naive");
        const cs_result *gr = cs_report_find(&report, "gpu_resident"), *gc = cs_report_find(&report, "gpu_cublas");
        const cs_result *hy = cs_report_find(&report, "hybrid");
#define RAN(r) ((r) && (r)->ran)
        if (RAN(cn) && RAN(cb))
            cs_say("  - Memory access order decides CPU speed: blocking, SIMD and %d cores took the job from\n"
                   "    %.3f s to %.3f s (%.1fx).\n", sys.threads, cn->timing.time.median, cb->timing.time.median,
                   cn->timing.time.median / cb->timing.time.median);
        if (RAN(cb) && RAN(bl)) {
            double tb = cb->timing.time.median, tl = bl->timing.time.median;
            if (tl < tb)
                cs_say("  - Tuned libraries usually win: OpenBLAS ran the job %.2fx faster than portable blocked C.\n", tb / tl);
            else
                cs_say("  - Libraries are not magic: portable blocked C ran the job %.2fx faster than OpenBLAS here;\n"
                       "    look at the phase tables and at which kernels the library picked (step 4).\n", tl / tb);
        }
        if (RAN(gn) && gpu_slow)
            cs_say("  - A GPU port that copies around every operation is slow: gpu_naive spent %.0f%% of its\n"
                   "    time in transfers and %.0f%% in allocation.\n",
                   share(phase_sum(gpu_slow, transfer_phases, 2), gpu_slow->timing.time.median),
                   share(phase_sum(gpu_slow, alloc_phases, 1), gpu_slow->timing.time.median));
        if (RAN(gn) && RAN(gr))
            cs_say("  - Keep data resident: the same kernels without the round trips ran %.1fx faster.\n",
                   gn->timing.time.median / gr->timing.time.median);
        if (RAN(gn) && RAN(gc))
            cs_say("  - Libraries, batching, fusion, pinned memory and streams: gpu_cublas is %.1fx faster\n"
                   "    than gpu_naive on the same job.\n", gn->timing.time.median / gc->timing.time.median);
        if (RAN(cb) && RAN(gc))
            cs_say("  - Used well, the GPU beats the best CPU rung by %.1fx here (gpu_cublas against %s).\n",
                   (RAN(bl) && bl->timing.time.median < cb->timing.time.median ? bl : cb)->timing.time.median /
                       gc->timing.time.median,
                   RAN(bl) && bl->timing.time.median < cb->timing.time.median ? "cpu_blas" : "cpu_blocked");
        if (sweep.gpu && c3_get_crossover() > 0)
            cs_say("  - Small work belongs on the CPU: below n = %d a product is faster there than a trip\n"
                   "    to the GPU%s.\n", c3_get_crossover(), RAN(hy) ? "; hybrid routes work by that size" : "");
        if (!run_gpu)
            cs_say("  - The GPU half of this lesson needs a CUDA device (%s).\n", gpu_why);
        cs_say("  - Measure before optimizing: every figure above came from this run's profile.\n");
#undef RAN
    }

    /* ---- results ---- */
    {
        if (cs_case_write_results(&report, &sys, opt.out_dir) != 0) { exit_code = 3; goto done; }
        c3_chart_variants(opt.out_dir, &report);
        if (sweep.npoints) c3_chart_size_sweep(opt.out_dir, &sweep);
        if (bw.npoints) c3_chart_bandwidth(opt.out_dir, &bw);
        /* phases chart: the GPU pair when it ran, else the CPU pair */
        const c3_run *pair[2];
        int np = 0;
        const char *want[2][2] = {{"gpu_naive", "gpu_cublas"}, {"cpu_naive", "cpu_blocked"}};
        for (int g = 0; g < 2 && np < 2; g++) {
            np = 0;
            for (int k = 0; k < 2; k++)
                for (int i = 0; i < nruns; i++)
                    if (strcmp(runs[i].name, want[g][k]) == 0) pair[np++] = &runs[i];
        }
        if (np > 0) c3_chart_phases(opt.out_dir, pair, np);
    }
    if (cs_report_any_fail(&report)) {
        cs_error("a correctness check FAILED (see step 6)");
        exit_code = 1;
    }

done:
    c3_workload_free(&w);
    cs_gpu_release();   /* cuBLAS handle and events: a leak check sees nothing held */
    return exit_code;
}
