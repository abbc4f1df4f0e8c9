/* A bf16 GEMM on AVX-512 BF16: the products autocast asks for in bf16,
 * done in bf16 by the CPU instead of in fp32 on bf16 values.
 *
 *   C = alpha * bf16(op(A)) * bf16(op(B)) + beta * C      (row-major)
 *
 * The same five loops as cs_gemm_blocked.c (read that file first); what
 * changes is what is packed and how the micro-kernel multiplies.
 *
 * vdpbf16ps (AVX-512 BF16: Intel Cooper Lake and Sapphire Rapids, AMD
 * Zen 4 and later) takes two vectors of 32 bf16 and adds, in each of 16
 * fp32 lanes, the products of one PAIR of neighbouring bf16:
 *     c[j] += a[2j] * b[2j] + a[2j+1] * b[2j+1]
 * A bf16 product is exact in fp32 (8-bit significands), so this is fp32
 * accumulation of bf16 products, what autocast means, at twice the
 * products per instruction of an fp32 FMA, and half the bytes per operand
 * through the caches.
 *
 * So the packers store op(A) and op(B) as bf16 PAIRS along k: one 32-bit
 * word holds the elements at k = 2p and 2p+1 (low half, high half), and
 * the micro-kernel broadcasts A's pair for a row against a vector of B's
 * pairs for 16 columns. An odd K is padded with a zero. The packers round
 * each float to bf16 as they store it (nearest even, as the lab's
 * round_to): values that already are bf16 pass unchanged, others are
 * rounded as autocast's cast would.
 *
 * Not the bits of an fp32 GEMM on the same values: the sums are rounded in
 * another order (pairs, then lanes), and vdpbf16ps treats bf16 subnormals
 * (below 1.2e-38) as zero and flushes subnormal results. Deterministic:
 * threads split C only, never K, so the bits do not depend on their
 * number.
 *
 * Built on x86-64 with GCC or Clang for any -march: the AVX-512 code is
 * compiled for that target alone (a function attribute) and called only
 * when CPUID says the CPU has it; elsewhere cs_gemm_bf16 returns -1. */
#include "cs_gemm.h"

#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_bf16.h"
#include "cs_gemm_grid.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_BF16_CODE 1
#include <immintrin.h>
#define AVX512_BF16 __attribute__((target("avx512f,avx512bf16")))
#else
#define HAVE_BF16_CODE 0
#endif

int cs_gemm_bf16_available(void)
{
#if HAVE_BF16_CODE
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
#else
    return 0;
#endif
}

#if HAVE_BF16_CODE

/* ---- Blocks ----------------------------------------------------------------
 * MR x NR = 12 x 32: 24 zmm accumulators, 2 of B, 1 broadcast of A, in
 * AVX-512's 32 registers; each step of p (two of k) is 24 vdpbf16ps for
 * 2 vector loads and 12 broadcasts. KP = 128 pairs (k = 256): a B sliver
 * is 128 x 32 words = 16 KiB of L1, an A block MC x KP = 72 KiB of L2. */
#define MR 12
#define NR 32
#define KP 128
#define MC 144
#define NC 4096

/* The pair (lo at k = 2p, hi at k = 2p + 1) as one word, each rounded to
 * bf16 by the suite's rule (cs_bf16.h). */
static inline uint32_t pair(float lo, float hi)
{
    return (uint32_t)cs_f32_to_bf16(hi) << 16 | cs_f32_to_bf16(lo);
}

/* The pairs of one row of op(A) or one column of op(B) that lies along k
 * in memory (src[0 .. kc)), every stride-th word of dst; an odd kc's last
 * partner is 0. */
static void pack_along_k(const float *src, int kc, uint32_t *restrict dst, int stride)
{
    const int full = kc / 2;
    for (int p = 0; p < full; p++) dst[(size_t)p * stride] = pair(src[2 * p], src[2 * p + 1]);
    if (kc & 1) dst[(size_t)full * stride] = pair(src[kc - 1], 0.0f);
}

/* The pairs of `count` neighbours across k (lo: their row at k = 2p, hi:
 * at 2p + 1, NULL past an odd kc's end) into dst[0 .. width), zeros past
 * count. */
static void pack_across_k(const float *lo, const float *hi, int count, int width, uint32_t *restrict dst)
{
    if (count == width && hi) { /* the common case: vectorised */
        for (int j = 0; j < width; j++) dst[j] = pair(lo[j], hi[j]);
        return;
    }
    for (int j = 0; j < width; j++) dst[j] = j < count ? pair(lo[j], hi ? hi[j] : 0.0f) : 0;
}

/* Rows [ic, ic+mc) x k in [pc, pc+kc) of op(A) into row panels of MR:
 * panel r holds, for each pair p, the MR rows' pairs
 * (Ap[r * kp + p * MR + i]); rows past mc are 0. Like cs_gemm_blocked.c,
 * each packer reads its matrix along its rows. */
static void pack_a(int transA, const float *A, int lda, int ic, int pc, int mc, int kc, uint32_t *restrict Ap)
{
    const int kp = (kc + 1) / 2, mc_padded = cs_gemm_round_up(mc, MR);
    if (!transA) {
        for (int r = 0; r < mc_padded; r += MR)
            for (int i = 0; i < MR; i++) {
                uint32_t *d = Ap + (size_t)r * kp + i;
                if (r + i < mc)
                    pack_along_k(A + (size_t)(ic + r + i) * lda + pc, kc, d, MR);
                else
                    for (int p = 0; p < kp; p++) d[(size_t)p * MR] = 0;
            }
    } else {
        /* A is K x M: rows 2p and 2p+1 of A hold the pairs of MR rows of op(A) */
        for (int p = 0; p < kp; p++) {
            const float *lo = A + (size_t)(pc + 2 * p) * lda + ic;
            const float *hi = 2 * p + 1 < kc ? lo + lda : NULL;
            for (int r = 0; r < mc_padded; r += MR) {
                const int rows = mc - r < MR ? mc - r : MR;
                pack_across_k(lo + r, hi ? hi + r : NULL, rows, MR, Ap + (size_t)r * kp + (size_t)p * MR);
            }
        }
    }
}

/* k in [pc, pc+kc) x columns [jc, jc+nc) of op(B) into column panels of
 * NR: panel jr holds, for each pair p, the NR columns' pairs
 * (Bp[jr * kp + p * NR + j]); columns past nc are 0. */
static void pack_b(int transB, const float *B, int ldb, int pc, int jc, int kc, int nc, uint32_t *restrict Bp)
{
    const int kp = (kc + 1) / 2, nc_padded = cs_gemm_round_up(nc, NR);
    if (!transB) {
        /* rows 2p and 2p+1 of B, read side by side */
        for (int p = 0; p < kp; p++) {
            const float *lo = B + (size_t)(pc + 2 * p) * ldb + jc;
            const float *hi = 2 * p + 1 < kc ? lo + ldb : NULL;
            for (int jr = 0; jr < nc_padded; jr += NR) {
                const int cols = nc - jr < NR ? nc - jr : NR;
                pack_across_k(lo + jr, hi ? hi + jr : NULL, cols, NR, Bp + (size_t)jr * kp + (size_t)p * NR);
            }
        }
    } else {
        /* B is N x K: column j of op(B) is row j of B */
        for (int jr = 0; jr < nc_padded; jr += NR)
            for (int j = 0; j < NR; j++) {
                uint32_t *d = Bp + (size_t)jr * kp + j;
                if (jr + j < nc)
                    pack_along_k(B + (size_t)(jc + jr + j) * ldb + pc, kc, d, NR);
                else
                    for (int p = 0; p < kp; p++) d[(size_t)p * NR] = 0;
            }
    }
}

/* acc[MR][NR] = sum over pairs p < kp of a's pairs x b's pairs. */
AVX512_BF16
static void micro_kernel(int kp, const uint32_t *restrict a, const uint32_t *restrict b, float *restrict acc)
{
    __m512 c[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kp; p++) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)(b + (size_t)p * NR));
        const __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(b + (size_t)p * NR + 16));
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[(size_t)p * MR + i]);
            c[i][0] = _mm512_dpbf16_ps(c[i][0], ai, b0);
            c[i][1] = _mm512_dpbf16_ps(c[i][1], ai, b1);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
        _mm512_store_ps(acc + i * NR, c[i][0]);
        _mm512_store_ps(acc + i * NR + 16, c[i][1]);
    }
}

/* C block (mr x nr) = alpha * acc + beta * C; beta == 0: C not read. */
static void write_back(int mr, int nr, const float *acc, float alpha, float beta, float *C, int ldc)
{
    for (int i = 0; i < mr; i++) {
        float *c = C + (size_t)i * ldc;
        const float *s = acc + i * NR;
        if (beta == 0.0f)
            for (int j = 0; j < nr; j++) c[j] = alpha * s[j];
        else
            for (int j = 0; j < nr; j++) c[j] = alpha * s[j] + beta * c[j];
    }
}

static void macro_kernel(int mc, int nc, int kp, float alpha, const uint32_t *Ap, const uint32_t *Bp, float beta,
                         float *C, int ldc)
{
    float acc[MR * NR] __attribute__((aligned(CS_GEMM_ALIGN)));
    for (int jr = 0; jr < nc; jr += NR) {
        const int nr = nc - jr < NR ? nc - jr : NR;
        for (int ir = 0; ir < mc; ir += MR) {
            const int mr = mc - ir < MR ? mc - ir : MR;
            float *c = C + (size_t)ir * ldc + jr;
            for (int i = 0; i < mr; i++) {
                __builtin_prefetch(c + (size_t)i * ldc, 1);
                __builtin_prefetch(c + (size_t)i * ldc + nr - 1, 1);
            }
            micro_kernel(kp, Ap + (size_t)ir * kp, Bp + (size_t)jr * kp, acc);
            write_back(mr, nr, acc, alpha, beta, c, ldc);
        }
    }
}

static void gemm_rectangle(int transA, int transB, int i0, int i1, int j0, int j1, int K, float alpha, const float *A,
                           int lda, const float *B, int ldb, float beta, float *C, int ldc, uint32_t *Ap, uint32_t *Bp)
{
    for (int jc = j0; jc < j1; jc += NC) {
        const int nc = j1 - jc < NC ? j1 - jc : NC;
        for (int pc = 0; pc < K; pc += 2 * KP) {
            const int kc = K - pc < 2 * KP ? K - pc : 2 * KP;
            const float beta_now = pc == 0 ? beta : 1.0f;
            pack_b(transB, B, ldb, pc, jc, kc, nc, Bp);
            for (int ic = i0; ic < i1; ic += MC) {
                const int mc = i1 - ic < MC ? i1 - ic : MC;
                pack_a(transA, A, lda, ic, pc, mc, kc, Ap);
                macro_kernel(mc, nc, (kc + 1) / 2, alpha, Ap, Bp, beta_now, C + (size_t)ic * ldc + jc, ldc);
            }
        }
    }
}

static void gemm_threads(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc)
{
    int nthreads = 1;
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
    if ((double)M * N * K < 1e6) nthreads = 1; /* starting threads costs more */
#endif
    (void)nthreads;
#pragma omp parallel num_threads(nthreads)
    {
        int tid = 0, team = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        team = omp_get_num_threads();
#endif
        int grid_rows, grid_cols;
        cs_gemm_choose_grid(M, N, team, &grid_rows, &grid_cols);
        const int h = cs_gemm_round_up((M + grid_rows - 1) / grid_rows, MR);
        const int w = cs_gemm_round_up((N + grid_cols - 1) / grid_cols, NR);
        const int i0 = (tid / grid_cols) * h, j0 = (tid % grid_cols) * w;
        const int i1 = i0 + h < M ? i0 + h : M, j1 = j0 + w < N ? j0 + w : N;
        if (i0 < i1 && j0 < j1) {
            const int kp_max = (K + 1) / 2 < KP ? (K + 1) / 2 : KP;
            const int nc_max = cs_gemm_round_up(j1 - j0 < NC ? j1 - j0 : NC, NR);
            const int mc_max = cs_gemm_round_up(i1 - i0 < MC ? i1 - i0 : MC, MR);
            const size_t a_words = (size_t)cs_gemm_round_up(mc_max * kp_max, CS_GEMM_ALIGN / 4);
            uint32_t *Ap = cs_gemm_thread_buffer((a_words + (size_t)kp_max * nc_max) * sizeof(uint32_t));
            gemm_rectangle(transA, transB, i0, i1, j0, j1, K, alpha, A, lda, B, ldb, beta, C, ldc, Ap, Ap + a_words);
        }
    }
}

#endif /* HAVE_BF16_CODE */

int cs_gemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                 int ldb, float beta, float *C, int ldc)
{
    if (!cs_gemm_bf16_available()) return -1;
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0 || alpha == 0.0f) { /* C = beta * C, as the float GEMMs */
        cs_gemm_blocked(transA, transB, M, N, 0, alpha, A, lda, B, ldb, beta, C, ldc);
        return 0;
    }
#if HAVE_BF16_CODE
    gemm_threads(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
    return 0;
}
