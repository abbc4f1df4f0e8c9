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
 * (Prescott's SSE3 kernels) reached 40 and the suite's blocked SGEMM,
 * which the fp32 convolutions then use (cs_gemm_best_cpu), 120-285. The
 * SGEMM timed here is the one the convolutions use. The answer depends on
 * the CPU and on the BLAS build, so it is asked of them. Either way the products are
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

#include "cpu_ops.h"
#include "cs_console.h"
#include "cs_gemm.h"

static const char *const modes[] = {"auto", "on", "off", NULL};
static rn_cpu_bf16_choice choice;
static int probed, probe_ok;
static double probe_rates[2]; /* GFLOP/s: [0] the SGEMM the convolutions use, [1] the bf16 GEMM */

static void probe_sgemm(int m, int n, int k, const float *a, const float *b, float *c)
{
    cs_gemm(cs_gemm_best_cpu(), 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

static void probe_bf16(int m, int n, int k, const float *a, const float *b, float *c)
{
    cs_gemm_bf16(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
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
        (void)cs_gemm_best_cpu(); /* its own probe, if any, before this one */
        probe_ok = cs_gemm_probe_pair(probe_sgemm, probe_bf16, probe_rates);
    }
    choice.measured = choice.mode == RN_BF16_GEMM_AUTO && probe_ok;
    choice.bf16_gflops = choice.measured ? probe_rates[1] : 0;
    choice.sgemm_gflops = choice.measured ? probe_rates[0] : 0;
    /* auto with no memory for the probe: the instruction's promise, unmeasured */
    choice.use =
        choice.available && (choice.mode == RN_BF16_GEMM_ON ||
                             (choice.mode == RN_BF16_GEMM_AUTO && (!probe_ok || probe_rates[1] > probe_rates[0])));
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
                 sgemm, c->sgemm_gflops, CS_GEMM_PROBE_M, CS_GEMM_PROBE_N, CS_GEMM_PROBE_K);
    return buf;
}
