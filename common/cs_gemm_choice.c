/* Which fp32 GEMM the cases' CPU work multiplies in (cs_gemm_best_cpu):
 * OpenBLAS where it runs kernels made for this CPU, and a measurement
 * where it does not.
 *
 * Why: Debian's OpenBLAS 0.3.21 takes some CPUs it does not know for old
 * ones. On an Intel Xeon with AVX-512 (Sapphire Rapids' generation) it
 * runs its Prescott (SSE3) kernels, and its SGEMM reached 26-62 GFLOP/s on
 * ten of the cases' shapes on 2 cores where the suite's blocked SGEMM
 * reached 121-285 (an ad-hoc run; every case's BLAS line carries its own
 * probe's two rates, docs/results/blas_threading.md those of make bench's
 * runs). The cases do not
 * set OPENBLAS_CORETYPE for the user (it may be set on purpose, because
 * OpenBLAS's own choice computes wrong results on some processors); they
 * say what runs, and multiply in whichever of the two measured faster.
 * Where OpenBLAS's core matches the CPU nothing is timed: OpenBLAS is
 * then the faster, and a run's GEMM never depends on a timing.
 *
 * CS_CPU_GEMM: auto (the default) as above; blas or blocked decide. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cs_blas_info.h"
#include "cs_blas_threads.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gemm.h"

enum { PICK_AUTO, PICK_BLAS, PICK_BLOCKED };
/* The probe's rounds under OpenBLAS's pthreads build (below). */
#define PTHREADS_SPIN_S 0.2
enum { MAX_ROUNDS = 40 };
static const char *const modes[] = {"auto", "blas", "blocked", NULL};

static cs_gemm_cpu_pick pick;
static pthread_once_t pick_once = PTHREAD_ONCE_INIT;
static _Atomic int pick_made; /* set once `pick` is complete */

static double seconds_of(cs_gemm_probe_fn f, const float *a, const float *b, float *c)
{
    const double t0 = cs_now();
    f(CS_GEMM_PROBE_M, CS_GEMM_PROBE_N, CS_GEMM_PROBE_K, a, b, c);
    return cs_now() - t0;
}

int cs_gemm_probe_pair(cs_gemm_probe_fn f0, cs_gemm_probe_fn f1, double gflops[2])
{
    const size_t na = (size_t)CS_GEMM_PROBE_M * CS_GEMM_PROBE_K, nb = (size_t)CS_GEMM_PROBE_K * CS_GEMM_PROBE_N;
    float *a = malloc(sizeof(float) * na);
    float *b = malloc(sizeof(float) * nb);
    float *c = malloc(sizeof(float) * CS_GEMM_PROBE_M * CS_GEMM_PROBE_N);
    int ok = a && b && c;
    if (ok) {
        /* fixed values in [-1, 1): the rates do not depend on them */
        for (size_t i = 0; i < na; i++) a[i] = (float)(i % 251) / 125.5f - 1.0f;
        for (size_t i = 0; i < nb; i++) b[i] = (float)(i % 241) / 120.5f - 1.0f;
        double best[2] = {0, 0};
        cs_gemm_probe_fn f[2] = {f0, f1};
        /* OpenBLAS's pthreads build: its own worker threads spin for a
         * while after it loads and after openblas_set_num_threads (the
         * suite's thread policy calls it just before), and take the cores
         * the probe times. Measured on a 2-core Xeon: the first rounds at
         * 38 and 19 GFLOP/s where later ones ran at 170 and 40. There the
         * rounds go on until PTHREADS_SPIN_S has passed; the fastest count. */
        const double until = cs_now() + (cs_blas_layer_runtime() == CS_BLAS_LAYER_PTHREADS ? PTHREADS_SPIN_S : 0.0);
        for (int run = 0; run <= CS_GEMM_PROBE_RUNS || (cs_now() < until && run <= MAX_ROUNDS); run++)
            for (int j = 0; j < 2; j++) {
                const double s = seconds_of(f[j], a, b, c);
                if (run > 0 && (best[j] == 0 || s < best[j])) best[j] = s;
            }
        const double flop = 2.0 * CS_GEMM_PROBE_M * CS_GEMM_PROBE_N * CS_GEMM_PROBE_K;
        for (int j = 0; j < 2; j++) gflops[j] = best[j] > 0 ? flop / best[j] * 1e-9 : 0;
    }
    free(a);
    free(b);
    free(c);
    return ok;
}

static void probe_blocked(int m, int n, int k, const float *a, const float *b, float *c)
{
    cs_gemm_blocked(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

static void probe_cblas(int m, int n, int k, const float *a, const float *b, float *c)
{
    cs_gemm_cblas(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

/* OpenBLAS's kernels below this CPU's widest SIMD: time both, keep the faster. */
static void measure(void)
{
    double g[2];
    if (!cs_gemm_probe_pair(probe_blocked, probe_cblas, g)) {
        pick.backend = CS_GEMM_CBLAS;
        snprintf(pick.why, sizeof pick.why, "OpenBLAS, not measured (no memory for the probe)");
        return;
    }
    pick.measured = 1;
    pick.blocked_gflops = g[0];
    pick.cblas_gflops = g[1];
    pick.backend = g[0] > g[1] ? CS_GEMM_BLOCKED : CS_GEMM_CBLAS;
    snprintf(pick.why, sizeof pick.why, "%s, measured faster than %s (%.0f against %.0f GFLOP/s)",
             pick.backend == CS_GEMM_BLOCKED ? "the suite's blocked SGEMM" : "OpenBLAS",
             pick.backend == CS_GEMM_BLOCKED ? "OpenBLAS's" : "the suite's blocked SGEMM",
             pick.backend == CS_GEMM_BLOCKED ? g[0] : g[1], pick.backend == CS_GEMM_BLOCKED ? g[1] : g[0]);
}

static void choose_pick(void)
{
    const int mode = cs_env_pick("CS_CPU_GEMM", modes);
    if (!cs_gemm_cblas_available()) {
        pick.backend = CS_GEMM_BLOCKED;
        snprintf(pick.why, sizeof pick.why, "the suite's blocked SGEMM (no CBLAS built in)");
        return;
    }
    if (mode != PICK_AUTO) {
        pick.forced = 1;
        pick.backend = mode == PICK_BLAS ? CS_GEMM_CBLAS : CS_GEMM_BLOCKED;
        snprintf(pick.why, sizeof pick.why, "%s (CS_CPU_GEMM=%s)",
                 mode == PICK_BLAS ? "OpenBLAS" : "the suite's blocked SGEMM", modes[mode]);
        return;
    }
    cs_blas_info info;
    cs_blas_info_get(&info);
    if (info.is_openblas && info.mismatch) {
        measure();
        return;
    }
    pick.backend = CS_GEMM_CBLAS;
    snprintf(pick.why, sizeof pick.why, "the BLAS (its kernels match this CPU, or it is not OpenBLAS)");
}

static void choose(void)
{
    choose_pick();
    pick_made = 1;
}

const cs_gemm_cpu_pick *cs_gemm_cpu_pick_get(void)
{
    pthread_once(&pick_once, choose);
    return &pick;
}

const cs_gemm_cpu_pick *cs_gemm_cpu_pick_made(void)
{
    return pick_made ? &pick : NULL;
}

cs_gemm_backend cs_gemm_best_cpu(void)
{
    return cs_gemm_cpu_pick_get()->backend;
}

void cs_gemm_cpu_check_env(void)
{
    (void)cs_env_pick("CS_CPU_GEMM", modes);
}
