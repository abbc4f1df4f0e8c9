/* This machine's ceilings, measured once per run, so each variant's rate
 * can be shown as a share of what the hardware can do (napkin math):
 *  - memory bandwidth: a large parallel copy (bytes read + written per s);
 *  - FLOP rate: the best GEMM backend built in, at n = 1024 (512 quick),
 *    from its fastest of several runs;
 *  - an estimated theoretical peak: cores x MHz x FLOP per cycle for the
 *    CPU's widest SIMD with two FMA pipes (a label on the chart, not a
 *    measurement). */
#ifndef CS_CEILINGS_H
#define CS_CEILINGS_H

#include "cs_cli.h"
#include "cs_gemm.h"
#include "cs_gpu.h"

typedef struct {
    double mem_bw_gbs;                     /* GB/s (1e9 bytes) */
    int gemm_n;                            /* size the GEMMs were timed at */
    double gemm_gflops[CS_GEMM_NBACKENDS]; /* per backend; 0 = not measured (naive is not) */
    cs_gemm_backend best;                  /* backend with the highest rate */
    double best_gflops;
    double peak_gflops_est;   /* estimate, see above (0 if MHz unknown) */
    int flops_per_cycle_core; /* used in the estimate */
} cs_cpu_ceilings;

/* Measures (about 0.5 s; quick: about 0.1 s). */
void cs_measure_cpu_ceilings(cs_cpu_ceilings *c, int quick);

/* A case's ceilings: the CPU's, and the GPU's when gpu is set, with a
 * progress line; all zero, and 0 returned,
 * under --no-ceilings (the tests' runs: about 1 s and 512 MB saved), else 1.
 * A zero ceiling means "not measured": no % of ceiling is shown. */
int cs_measure_case_ceilings(const cs_options *o, int gpu, cs_cpu_ceilings *cpu, cs_gpu_ceilings *gpu_c);

/* Times one square SGEMM of size n with backend b: GFLOP/s, the median of
 * `repeats` runs after one warm-up. */
double cs_time_gemm_gflops(cs_gemm_backend b, int n, int repeats);
/* Same, from the fastest run: what the ceilings use. */
double cs_time_gemm_gflops_best(cs_gemm_backend b, int n, int repeats);

#endif
