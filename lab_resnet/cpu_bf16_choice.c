/* Part 3 on the CPU: do bf16's convolutions multiply in the lab's bf16
 * GEMM (common/cs_gemm_bf16.c) or in the fp32 SGEMM? Measured on this
 * machine, once, the way cuDNN's benchmark mode picks an algorithm.
 *
 * Why measure instead of "AVX-512 BF16 present, so use it": vdpbf16ps
 * does twice an fp32 FMA's products per instruction, but CPUs do not run
 * it at the same rate. On the AMD Zen 4 of docs/results the bf16 GEMM ran
 * 1.4x-2.0x OpenBLAS's SGEMM. On an Intel Xeon with AVX-512 BF16 and FP16
 * (Sapphire Rapids' generation) it issued 0.5 per cycle against the FMA's
 * 2 (one core, measured), half the products per cycle: OpenBLAS's
 * AVX-512 SGEMM (OPENBLAS_CORETYPE=SkylakeX) then reached 150-260 GFLOP/s
 * and the bf16 GEMM 100-150, while OpenBLAS's own pick on that CPU
 * (Prescott's SSE3 kernels) reached 40. The answer depends on the CPU and
 * on the BLAS build, so it is asked of them. Either way the products are
 * exact (bf16 x bf16 fits fp32) and summed in fp32, autocast's numerics;
 * only the order of the sums differs (test_rn_cpu_bf16_conv).
 *
 * The GPU's cuDNN path defaults to heuristics so that a run's bits never
 * depend on a timing; here the two candidates differ only in the order of
 * fp32 sums (about 1e-7 relative), and the margins seen so far (1.2x-2.3x
 * either way) leave the choice stable from run to run. A run that must be
 * bit-reproducible sets the switch.
 *
 * RN_CPU_BF16_GEMM: auto (the default) measures; on uses the bf16 GEMM
 * wherever the CPU has AVX-512 BF16; off never does. */
#include <stdio.h>
#include <stdlib.h>

#include "cpu_ops.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gemm.h"

/* A layer2 3x3 convolution's forward product at 32 x 32 (128 output
 * channels, 128 x 9 taps, 1024 of its batch's output pixels): about
 * 0.3 GFLOP, a few milliseconds per run; the two GEMMs take turns, three
 * timed runs each after one untimed, and each keeps its fastest. */
enum { PROBE_M = 128, PROBE_N = 1024, PROBE_K = 1152, PROBE_RUNS = 3 };

static const char *const modes[] = {"auto", "on", "off", NULL};
static rn_cpu_bf16_choice choice;
static int probed, probe_ok;
static double probe_bf16, probe_sgemm;

static double seconds_of(int bf16, const float *a, const float *b, float *c)
{
    const double t0 = cs_now();
    if (bf16)
        cs_gemm_bf16(0, 0, PROBE_M, PROBE_N, PROBE_K, 1.0f, a, PROBE_K, b, PROBE_N, 0.0f, c, PROBE_N);
    else
        cs_gemm(cs_gemm_best_cpu(), 0, 0, PROBE_M, PROBE_N, PROBE_K, 1.0f, a, PROBE_K, b, PROBE_N, 0.0f, c, PROBE_N);
    return cs_now() - t0;
}

/* Both GEMMs' GFLOP/s on the probe; 0 when there was no memory for it. */
static int measure(double *bf16_gflops, double *sgemm_gflops)
{
    float *a = malloc(sizeof(float) * PROBE_M * PROBE_K);
    float *b = malloc(sizeof(float) * PROBE_K * PROBE_N);
    float *c = malloc(sizeof(float) * PROBE_M * PROBE_N);
    int ok = a && b && c;
    if (ok) {
        /* fixed values in [-1, 1): the rates do not depend on them */
        for (int i = 0; i < PROBE_M * PROBE_K; i++) a[i] = (float)(i % 251) / 125.5f - 1.0f;
        for (int i = 0; i < PROBE_K * PROBE_N; i++) b[i] = (float)(i % 241) / 120.5f - 1.0f;
        double best[2] = {0, 0};
        for (int run = 0; run <= PROBE_RUNS; run++)
            for (int bf16 = 0; bf16 < 2; bf16++) {
                const double s = seconds_of(bf16, a, b, c);
                if (run > 0 && (best[bf16] == 0 || s < best[bf16])) best[bf16] = s;
            }
        const double flop = 2.0 * PROBE_M * PROBE_N * PROBE_K;
        *sgemm_gflops = flop / best[0] * 1e-9;
        *bf16_gflops = flop / best[1] * 1e-9;
    }
    free(a);
    free(b);
    free(c);
    return ok;
}

void rn_cpu_bf16_gemm_check_env(void)
{
    choice.mode = cs_env_pick("RN_CPU_BF16_GEMM", modes);
}

const rn_cpu_bf16_choice *rn_cpu_bf16_gemm_choice(void)
{
    rn_cpu_bf16_gemm_check_env(); /* the switch may change between calls (tests) */
    choice.available = cs_gemm_bf16_available();
    if (choice.available && choice.mode == RN_BF16_GEMM_AUTO && !probed) {
        probed = 1;
        probe_ok = measure(&probe_bf16, &probe_sgemm);
    }
    choice.measured = choice.mode == RN_BF16_GEMM_AUTO && probe_ok;
    choice.bf16_gflops = choice.measured ? probe_bf16 : 0;
    choice.sgemm_gflops = choice.measured ? probe_sgemm : 0;
    /* auto with no memory for the probe: the instruction's promise, unmeasured */
    choice.use = choice.available && (choice.mode == RN_BF16_GEMM_ON ||
                                      (choice.mode == RN_BF16_GEMM_AUTO && (!probe_ok || probe_bf16 > probe_sgemm)));
    return &choice;
}

int rn_cpu_bf16_gemm_enabled(void)
{
    return rn_cpu_bf16_gemm_choice()->use;
}

const char *rn_cpu_bf16_gemm_why(char *buf, size_t n)
{
    const rn_cpu_bf16_choice *c = rn_cpu_bf16_gemm_choice();
    const char *sgemm = cs_gemm_best_cpu() == CS_GEMM_CBLAS ? "the BLAS's fp32 SGEMM" : "the blocked fp32 SGEMM";
    if (!c->available)
        snprintf(buf, n, "this CPU has no AVX-512 BF16");
    else if (c->mode == RN_BF16_GEMM_OFF)
        snprintf(buf, n, "RN_CPU_BF16_GEMM=off");
    else if (c->mode == RN_BF16_GEMM_ON)
        snprintf(buf, n, "RN_CPU_BF16_GEMM=on");
    else if (!c->measured)
        snprintf(buf, n, "not measured (no memory for the probe)");
    else
        snprintf(buf, n, "the bf16 GEMM measured %.0f GFLOP/s, %s %.0f, on a %d x %d x %d product", c->bf16_gflops,
                 sgemm, c->sgemm_gflops, PROBE_M, PROBE_N, PROBE_K);
    return buf;
}
