/* Cache-blocked SGEMM in the BLIS / Goto style, in portable C.
 *
 *   C = alpha * op(A) * op(B) + beta * C      (row-major, see cs_gemm.h)
 *
 * The naive triple loop is slow because every multiply-add needs a fresh
 * element of B from far away in memory. This version reorganises the same
 * arithmetic so that almost every operand comes from a register or from the
 * L1 cache. Five loops around a micro-kernel, outermost first:
 *
 *   jc: columns of C in steps of NC    pack a KC x NC block of op(B) (L3)
 *   pc: the K dimension in steps of KC
 *   ic: rows of C in steps of MC       pack an MC x KC block of op(A) (L2)
 *   jr: columns in steps of NR         a KC x NR sliver of packed B (L1)
 *   ir: rows in steps of MR            a KC x MR sliver of packed A
 *       micro-kernel: an MR x NR block of C, accumulated in registers over
 *       the whole KC loop, then written back once.
 *
 * Each element of C is loaded and stored once per KC steps of k instead of
 * once per step, and each element of B fetched into L1 is used MC times.
 *
 * Packing copies a block into the exact order the micro-kernel reads it, so
 * all its loads are contiguous and aligned whatever the strides and
 * transposes of the caller (packing is where transA/transB disappear).
 * Blocks at the edges are packed with zeros up to MR / NR, so the kernel
 * always computes a full MR x NR block; the write-back stores only the part
 * that lies inside C. alpha and beta are applied at write-back: beta on the
 * first pass over K, 1 afterwards (the partial sums already sit in C).
 *
 * OpenMP: C is cut into one rectangle per thread (see cs_gemm_blocked at
 * the end); each thread runs the five loops on its rectangle with its own
 * packed buffers. */
#include "cs_gemm.h"
#include "cs_gemm_grid.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- Register block: MR x NR ------------------------------------------
 * The micro-kernel keeps an MR x NR block of C in vector registers. With
 * VLEN floats per vector register, it holds MR x 2 vectors of accumulators,
 * plus 2 vectors of B and 1 broadcast element of A per step of k:
 * 6 x 2 + 3 = 15 registers, which fits the 16 vector registers of SSE and
 * AVX2 (and leaves room on AVX-512 and Arm NEON, which have 32). Each step
 * of k then does 12 vector FMAs for 2 vector loads and 6 broadcasts, enough
 * independent FMAs to keep two FMA pipes busy despite their latency.
 *
 * VLEN follows the widest vector the compiler was told it may use
 * (__BIGGEST_ALIGNMENT__ is 16 for SSE/NEON, 32 for AVX, 64 for AVX-512),
 * so the same source makes a 6x8 kernel for SSE, 6x16 for AVX2, 6x32 for
 * AVX-512: nothing here assumes an instruction set. */
#if defined(__BIGGEST_ALIGNMENT__) && __BIGGEST_ALIGNMENT__ >= 16
#define VEC_BYTES __BIGGEST_ALIGNMENT__
#else
#define VEC_BYTES 16
#endif
#define VLEN ((int)(VEC_BYTES / sizeof(float)))
#define MR   6
#define NR   (2 * VLEN)

/* ---- Cache blocks: MC, KC, NC -----------------------------------------
 * KC: a KC x NR sliver of packed B (KC * NR * 4 bytes = 16 KiB for AVX2)
 *     plus a KC x MR sliver of A must stay in a 32 KiB L1 data cache while
 *     the kernel sweeps the A block: KC = 256.
 *     (With AVX-512, NR = 32 makes the sliver 32 KiB: the 48 KiB L1 of
 *     recent AVX-512 cores still holds it.)
 * MC: the MC x KC packed block of A (144 * 256 * 4 = 144 KiB) stays in L2
 *     (256 KiB .. 2 MiB per core on current x86 and Arm cores; 512 KiB on
 *     Zen 3) while every B sliver streams past it. A multiple of MR.
 * NC: the KC x NC packed block of B (256 * 4096 * 4 = 4 MiB) lives in the
 *     L3 (shared, several MiB). A multiple of NR. */
#define KC 256
#define MC 144
#define NC 4096

#define ALIGN CS_GEMM_ALIGN

/* One vector of VLEN floats (a GCC/Clang vector extension): the compiler
 * keeps a local array of these in registers and maps `+` and `*` to the
 * widest SIMD instructions it targets. Plain loops would be simpler to read,
 * and were tried first: the same kernel with `float c[MR][NR]` and loops
 * over i and j reached only about 65 GFLOP/s at n = 1024 on 2 Zen 3 cores
 * (this version: about 160; OpenBLAS: about 175), because GCC 12 does not
 * keep a plain array of accumulators in registers across the k loop: it
 * shuffles and spills part of it to the stack on every step. */
typedef float vfloat __attribute__((vector_size(VEC_BYTES)));

/* `c += a * b` should compile to one fused multiply-add (FMA) instruction,
 * which does both operations in one step: on FMA hardware this doubles the
 * FLOP rate. In strict ISO C mode (-std=c11, as this suite builds) GCC does
 * not fuse a multiply and an add written in C, because the fused result is
 * rounded once instead of twice; this attribute allows it for the kernel
 * alone. Clang fuses within one expression by default. */
#if defined(__GNUC__) && !defined(__clang__)
#define ALLOW_FMA __attribute__((optimize("fp-contract=fast")))
#else
#define ALLOW_FMA
#endif

/* acc[MR][NR] = sum over p < kc of a[p][0..MR) x b[p][0..NR): the core of
 * the whole GEMM, where nearly all the time goes. a: MR floats per step of
 * p, b: NR floats per step of p (packed, 64-byte aligned). */
ALLOW_FMA
static void micro_kernel(int kc, const float *restrict a, const float *restrict b, float acc[MR][NR])
{
    vfloat c[MR][2];
    for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = (vfloat){0};

    for (int p = 0; p < kc; p++) {
        vfloat b0, b1;
        memcpy(&b0, b + (size_t)p * NR, sizeof b0); /* one vector load */
        memcpy(&b1, b + (size_t)p * NR + VLEN, sizeof b1);
        for (int i = 0; i < MR; i++) {        /* unrolled by GCC */
            float ai = a[(size_t)p * MR + i]; /* broadcast */
            c[i][0] += ai * b0;               /* vector FMA */
            c[i][1] += ai * b1;
        }
    }
    for (int i = 0; i < MR; i++) {
        memcpy(&acc[i][0], &c[i][0], sizeof c[i][0]);
        memcpy(&acc[i][VLEN], &c[i][1], sizeof c[i][1]);
    }
}

/* C block (mr x nr, mr <= MR, nr <= NR) = alpha * acc + beta * C.
 * beta == 0: C is only written, never read (it may hold NaN). */
static void write_back(int mr, int nr, const float acc[MR][NR], float alpha, float beta, float *C, int ldc)
{
    for (int i = 0; i < mr; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < nr; j++) c[j] = alpha * acc[i][j];
        else
            for (int j = 0; j < nr; j++) c[j] = alpha * acc[i][j] + beta * c[j];
    }
}

/* Both packers read the source matrix along its rows, the order in which
 * it is stored: each read is sequential, so the hardware prefetcher streams
 * it in. (Reading a narrow panel of a row-major matrix top to bottom would
 * touch a new page on every row, a TLB miss and a cache miss each time;
 * that made packing a fifth of the run time.) The scattered writes land in
 * the packed buffer, which is small enough to stay in cache. */

/* Packs rows [ic, ic+mc) x columns [pc, pc+kc) of op(A) into row panels of
 * height MR: panel r holds, for each p, the MR elements of column p in rows
 * ic + r ... ic + r + MR - 1 (Ap[r * kc + p * MR + i]); rows past mc are
 * zeros. */
static void pack_a(int transA, const float *A, int lda, int ic, int pc, int mc, int kc, float *restrict Ap)
{
    int mc_padded = (mc + MR - 1) / MR * MR;
    if (!transA) {
        /* a row of A is a row of op(A): copy it down its panel's column i */
        for (int r = 0; r < mc_padded; r += MR) {
            float *panel = Ap + (size_t)r * kc;
            for (int i = 0; i < MR; i++) {
                if (r + i < mc) {
                    const float *src = A + (size_t)(ic + r + i) * lda + pc;
                    for (int p = 0; p < kc; p++) panel[(size_t)p * MR + i] = src[p];
                } else {
                    for (int p = 0; p < kc; p++) panel[(size_t)p * MR + i] = 0.0f;
                }
            }
        }
    } else {
        /* A is K x M: its row p is column p of op(A), cut into MR-long pieces */
        for (int p = 0; p < kc; p++) {
            const float *src = A + (size_t)(pc + p) * lda + ic;
            for (int r = 0; r < mc_padded; r += MR) {
                float *d = Ap + (size_t)r * kc + (size_t)p * MR;
                for (int i = 0; i < MR; i++) d[i] = r + i < mc ? src[r + i] : 0.0f;
            }
        }
    }
}

/* Packs rows [pc, pc+kc) x columns [jc, jc+nc) of op(B) into column panels
 * of width NR: panel jr holds, for each p, the NR elements of row p in
 * columns jc + jr ... jc + jr + NR - 1 (Bp[jr * kc + p * NR + j]); columns
 * past nc are zeros. */
static void pack_b(int transB, const float *B, int ldb, int pc, int jc, int kc, int nc, float *restrict Bp)
{
    int nc_padded = (nc + NR - 1) / NR * NR;
    if (!transB) {
        /* a row of B is a row of op(B), cut into NR-wide pieces */
        for (int p = 0; p < kc; p++) {
            const float *src = B + (size_t)(pc + p) * ldb + jc;
            for (int jr = 0; jr < nc_padded; jr += NR) {
                float *d = Bp + (size_t)jr * kc + (size_t)p * NR;
                if (jr + NR <= nc) { /* the common case: a fixed-size copy */
                    for (int j = 0; j < NR; j++) d[j] = src[jr + j];
                } else {
                    for (int j = 0; j < NR; j++) d[j] = jr + j < nc ? src[jr + j] : 0.0f;
                }
            }
        }
    } else {
        /* B is N x K: its row j is column j of op(B): copy it down column j
         * of its panel */
        for (int jr = 0; jr < nc_padded; jr += NR) {
            float *panel = Bp + (size_t)jr * kc;
            for (int j = 0; j < NR; j++) {
                if (jr + j < nc) {
                    const float *src = B + (size_t)(jc + jr + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) panel[(size_t)p * NR + j] = src[p];
                } else {
                    for (int p = 0; p < kc; p++) panel[(size_t)p * NR + j] = 0.0f;
                }
            }
        }
    }
}

/* Multiplies a packed mc x kc block of A by a packed kc x nc block of B
 * into C (already offset to the block's corner). */
static void macro_kernel(int mc, int nc, int kc, float alpha, const float *Ap, const float *Bp, float beta, float *C,
                         int ldc)
{
    float acc[MR][NR] __attribute__((aligned(ALIGN)));
    for (int jr = 0; jr < nc; jr += NR) { /* B sliver stays in L1 */
        int nr = nc - jr < NR ? nc - jr : NR;
        const float *b = Bp + (size_t)jr * kc;
        for (int ir = 0; ir < mc; ir += MR) { /* A block streams from L2 */
            int mr = mc - ir < MR ? mc - ir : MR;
            float *c = C + (size_t)ir * ldc + jr;
            /* Ask for the C block's cache lines now: they arrive while the
             * kernel computes, instead of stalling the write-back (without
             * this, about a fifth of the time went to waiting for C). */
            for (int i = 0; i < mr; i++) {
                __builtin_prefetch(c + (size_t)i * ldc, 1);
                __builtin_prefetch(c + (size_t)i * ldc + nr - 1, 1);
            }
            micro_kernel(kc, Ap + (size_t)ir * kc, b, acc);
            write_back(mr, nr, acc, alpha, beta, c, ldc);
        }
    }
}

/* One thread's share: rows [i0, i1) x columns [j0, j1) of C, computed with
 * the five loops on this thread's own packed buffers (Ap: MC x KC,
 * Bp: KC x NC). */
static void gemm_rectangle(int transA, int transB, int i0, int i1, int j0, int j1, int K, float alpha, const float *A,
                           int lda, const float *B, int ldb, float beta, float *C, int ldc, float *Ap, float *Bp)
{
    for (int jc = j0; jc < j1; jc += NC) {
        int nc = j1 - jc < NC ? j1 - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            float beta_now = pc == 0 ? beta : 1.0f; /* C already holds partial sums */

            pack_b(transB, B, ldb, pc, jc, kc, nc, Bp);
            for (int ic = i0; ic < i1; ic += MC) {
                int mc = i1 - ic < MC ? i1 - ic : MC;
                pack_a(transA, A, lda, ic, pc, mc, kc, Ap);
                macro_kernel(mc, nc, kc, alpha, Ap, Bp, beta_now, C + (size_t)ic * ldc + jc, ldc);
            }
        }
    }
}

void cs_gemm_blocked(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                     int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) { /* C = beta * C */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float *c = C + (size_t)i * ldc + j;
                *c = beta == 0.0f ? 0.0f : beta * *c;
            }
        return;
    }

    int nthreads = 1;
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
    /* Below about a million multiply-adds, starting threads costs more
     * than it saves. */
    if ((double)M * N * K < 1e6) nthreads = 1;
#endif
    (void)nthreads; /* read only by the OpenMP pragma below */

    /* OpenMP: each thread owns one rectangle of C and runs the whole
     * single-threaded algorithm on it, with its own packed buffers. No two
     * threads write the same element of C, and no thread ever waits for
     * another until the end: a thread slowed down (by another program, or
     * by a BLAS thread pool still spinning after its last call) delays only
     * its own rectangle, instead of every thread at every step. */
#pragma omp parallel num_threads(nthreads)
    {
        int tid = 0, team = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        team = omp_get_num_threads(); /* may be fewer than asked for */
#endif
        int grid_rows, grid_cols;
        cs_gemm_choose_grid(M, N, team, &grid_rows, &grid_cols);
        /* rectangle edges on multiples of MR and NR, so only the last
         * rectangle of each row and column has partial micro-tiles */
        int h = cs_gemm_round_up((M + grid_rows - 1) / grid_rows, MR);
        int w = cs_gemm_round_up((N + grid_cols - 1) / grid_cols, NR);
        int i0 = (tid / grid_cols) * h, j0 = (tid % grid_cols) * w;
        int i1 = i0 + h < M ? i0 + h : M, j1 = j0 + w < N ? j0 + w : N;

        if (i0 < i1 && j0 < j1) {
            int kc_max = K < KC ? K : KC;
            int nc_max = cs_gemm_round_up(j1 - j0 < NC ? j1 - j0 : NC, NR);
            int mc_max = cs_gemm_round_up(i1 - i0 < MC ? i1 - i0 : MC, MR);
            /* owned (and so first touched) by the thread that uses them;
             * Bp starts on an ALIGN boundary after Ap */
            size_t a_floats = ((size_t)mc_max * kc_max * sizeof(float) + ALIGN - 1) / ALIGN * ALIGN / sizeof(float);
            float *Ap = cs_gemm_thread_buffer((a_floats + (size_t)kc_max * nc_max) * sizeof(float));
            float *Bp = Ap + a_floats;
            gemm_rectangle(transA, transB, i0, i1, j0, j1, K, alpha, A, lda, B, ldb, beta, C, ldc, Ap, Bp);
        }
    }
}
