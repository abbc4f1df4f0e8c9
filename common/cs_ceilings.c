/* This machine's ceilings: how fast it can move bytes and do FLOPs, measured
 * once per run so every variant's rate can be shown as a share of them.
 *
 * Measured, not looked up: a datasheet says what the silicon could do; a
 * student's program runs on this machine, in this VM, with these memory
 * channels and this BLAS. */
#include "cs_ceilings.h"

#include "cs_blas_info.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_rng.h"
#include "cs_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static void *alloc_or_die(size_t bytes, const char *what)
{
    size_t rounded = (bytes + 63) / 64 * 64; /* aligned_alloc wants a multiple */
    void *p = aligned_alloc(64, rounded);
    if (!p) {
        fprintf(stderr, "out of memory: asked for %zu bytes for %s\n", rounded, what);
        exit(3);
    }
    return p;
}

/* ---- Memory bandwidth ---------------------------------------------------
 * Two arrays much larger than the caches, copied by all threads. The arrays
 * are first touched by the same threads, in the same static split, as the
 * copy (on multi-socket machines a page lives on the node of the thread that
 * first wrote it). Bytes counted: read + written (2 x size); the cache's
 * write-allocate read of the destination is not counted. Best of several
 * repeats: the ceiling is what the machine can do, not its average. */
static double measure_copy_gbs(size_t bytes, int repeats)
{
    size_t n = bytes / sizeof(double);
    double *src = alloc_or_die(n * sizeof(double), "the bandwidth test's source");
    double *dst = alloc_or_die(n * sizeof(double), "the bandwidth test's destination");

    long nn = (long)n;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < nn; i++) {
        src[i] = (double)i;
        dst[i] = 0.0;
    }

    double best = 0.0;
    for (int r = 0; r < repeats; r++) {
        double t0 = cs_now();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < nn; i++) dst[i] = src[i];
        double t = cs_now() - t0;
        double gbs = 2.0 * (double)(n * sizeof(double)) / t * 1e-9;
        if (gbs > best) best = gbs;
    }
    /* keep the copy from being optimised away */
    if (dst[n / 2] != (double)(n / 2)) fprintf(stderr, "bandwidth test: copy gave a wrong value\n");
    free(src);
    free(dst);
    return best;
}

/* ---- GEMM rate ----------------------------------------------------------- */
/* GFLOP/s of one square SGEMM: from the median run, or from the fastest
 * (a ceiling is what the machine can do: on a shared or virtual machine a
 * neighbour's burst slows some runs, never speeds one up). */
static double time_gemm(cs_gemm_backend b, int n, int repeats, int use_best)
{
    if (n <= 0 || (b == CS_GEMM_CBLAS && !cs_gemm_cblas_available())) return 0.0;
    if (repeats < 1) repeats = 1;

    size_t elems = (size_t)n * n;
    float *A = alloc_or_die(elems * sizeof(float), "the GEMM timing's A");
    float *B = alloc_or_die(elems * sizeof(float), "the GEMM timing's B");
    float *C = alloc_or_die(elems * sizeof(float), "the GEMM timing's C");
    double *times = alloc_or_die((size_t)repeats * sizeof(double), "the GEMM timings");

    cs_rng rng;
    cs_rng_seed(&rng, 1234, 0);
    cs_rng_fill_uniform(&rng, A, elems, -1.0f, 1.0f);
    cs_rng_fill_uniform(&rng, B, elems, -1.0f, 1.0f);
    memset(C, 0, elems * sizeof(float));

    /* warm-up: page faults, thread start-up, caches, the CPU's clock ramp */
    cs_gemm(b, 0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
    for (int r = 0; r < repeats; r++) {
        double t0 = cs_now();
        cs_gemm(b, 0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
        times[r] = cs_now() - t0;
    }
    double t = cs_median(times, repeats);
    if (use_best)
        for (int r = 0; r < repeats; r++)
            if (times[r] < t) t = times[r];

    free(A);
    free(B);
    free(C);
    free(times);
    return t > 0 ? 2.0 * n * (double)n * n / t * 1e-9 : 0.0;
}

double cs_time_gemm_gflops(cs_gemm_backend b, int n, int repeats)
{
    return time_gemm(b, n, repeats, 0);
}

double cs_time_gemm_gflops_best(cs_gemm_backend b, int n, int repeats)
{
    return time_gemm(b, n, repeats, 1);
}

/* ---- Theoretical peak (an estimate) --------------------------------------- */

/* "cpu MHz" of the first CPU in /proc/cpuinfo; 0 when absent (many Arm
 * kernels do not report it). Under a hypervisor or with boost this is the
 * nominal clock, so a measured rate can exceed the estimate. */
static double cpu_mhz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0.0;
    char line[512];
    double mhz = 0.0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu MHz", 7) == 0) {
            const char *colon = strchr(line, ':');
            if (colon) mhz = atof(colon + 1);
            break;
        }
    }
    fclose(f);
    return mhz;
}

/* Single-precision FLOP per cycle per core for the CPU's widest SIMD,
 * assuming two FMA pipes (an FMA counts 2 FLOP): lanes x 2 x 2.
 * AVX-512: 16 lanes -> 64; AVX2+FMA: 8 -> 32; AVX (no FMA: one add and one
 * multiply pipe): 16; SSE: 8. Cores with one FMA pipe (some AVX-512 parts)
 * reach half the estimate. */
static int flops_per_cycle(void)
{
    int rank;
    cs_cpu_isa_word(&rank);
    switch (rank) {
    case 3: return 64;
    case 2: return 32;
    case 1: return 16;
    case 0: return 8;
    default:
#if defined(__aarch64__)
        return 16; /* NEON: 4 lanes x 2 x two FMA pipes */
#else
        return 0; /* unknown: no estimate */
#endif
    }
}

void cs_measure_cpu_ceilings(cs_cpu_ceilings *c, int quick)
{
    memset(c, 0, sizeof *c);

    size_t bytes = (size_t)(quick ? 64 : 256) << 20;
    c->mem_bw_gbs = measure_copy_gbs(bytes, quick ? 3 : 5);

    /* The naive backend is not timed: at n = 1024 it needs seconds. The
     * blocked GEMM is timed before OpenBLAS, whose idle threads keep
     * spinning for a while after each call and would take cores away. */
    c->gemm_n = quick ? 512 : 1024;
    int repeats = quick ? 3 : 7;
    c->gemm_gflops[CS_GEMM_BLOCKED] = cs_time_gemm_gflops_best(CS_GEMM_BLOCKED, c->gemm_n, repeats);
    if (cs_gemm_cblas_available())
        c->gemm_gflops[CS_GEMM_CBLAS] = cs_time_gemm_gflops_best(CS_GEMM_CBLAS, c->gemm_n, repeats);

    c->best = CS_GEMM_BLOCKED;
    c->best_gflops = c->gemm_gflops[CS_GEMM_BLOCKED];
    if (c->gemm_gflops[CS_GEMM_CBLAS] > c->best_gflops) {
        c->best = CS_GEMM_CBLAS;
        c->best_gflops = c->gemm_gflops[CS_GEMM_CBLAS];
    }

    int cores = 1;
#ifdef _OPENMP
    cores = omp_get_max_threads();
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online > 0 && cores > online) cores = (int)online;
    c->flops_per_cycle_core = flops_per_cycle();
    c->peak_gflops_est = cores * cpu_mhz() * 1e-3 * c->flops_per_cycle_core;
}

int cs_measure_case_ceilings(const cs_options *o, int gpu, cs_cpu_ceilings *cpu, cs_gpu_ceilings *gpu_c)
{
    memset(cpu, 0, sizeof *cpu);
    memset(gpu_c, 0, sizeof *gpu_c);
    if (o->no_ceilings) return 0;
    cs_progress("measuring this machine's ceilings");
    cs_measure_cpu_ceilings(cpu, o->quick);
    if (gpu) cs_measure_gpu_ceilings(gpu_c, o->quick);
    cs_progress_done();
    return 1;
}
