/* Cache-blocked SGEMM in the BLIS / Goto style, in portable C.
 *
 *   C = alpha * op(A) * op(B) + beta * C      (row-major, see cs_gemm.h)
 *
 * The naive triple loop is slow because every multiply-add needs a fresh
 * element of B from far away in memory. This version reorganises the same
 * arithmetic so that almost every operand comes from a register or from the
 * L1 cache. Five loops around a micro-kernel, outermost first:
 *
 *   jc: columns of C in steps of NC    a KC x NC block of op(B) -> L3
 *   pc: the K dimension in steps of KC   (packed once, shared by all threads)
 *   ic: rows of C in steps of MC       an MC x KC block of op(A) -> L2
 *                                        (packed by each thread for itself)
 *   jr: columns in steps of NR         a KC x NR sliver of packed B -> L1
 *   ir: rows in steps of MR            a KC x MR sliver of packed A
 *       micro-kernel: an MR x NR block of C, accumulated in registers over
 *       the whole KC loop, then written back once.
 *
 * Packing copies a block into the exact order the micro-kernel reads it, so
 * all its loads are contiguous and aligned whatever the strides and
 * transposes of the caller (packing is where transA/transB disappear).
 * Blocks at the edges are packed with zeros up to MR / NR, so the kernel
 * always computes a full MR x NR block; the write-back stores only the part
 * that lies inside C. alpha and beta are applied at write-back: beta on the
 * first pass over K, 1 afterwards (the partial sums already sit in C).
 *
 * OpenMP: one parallel region per call. The threads pack the shared B block
 * together, then divide the ic blocks (rows of C) among themselves; each
 * thread owns its packed-A buffer, and no two threads write the same C. */
#include "cs_gemm.h"

#include <stdio.h>
#include <stdlib.h>
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
#define MR 6
#define NR (2 * VLEN)

/* ---- Cache blocks: MC, KC, NC -----------------------------------------
 * KC: a KC x NR sliver of packed B (KC * NR * 4 bytes = 16 KiB for AVX2)
 *     plus a KC x MR sliver of A must stay in a 32 KiB L1 data cache while
 *     the kernel sweeps the A block: KC = 256.
 * MC: the MC x KC packed block of A (144 * 256 * 4 = 144 KiB) stays in L2
 *     (256 KiB .. 2 MiB per core on current x86 and Arm cores) while every
 *     B sliver streams past it. Reduced per call so that the threads get
 *     equal shares of rows (see choose_mc).
 * NC: the KC x NC packed block of B (256 * 4080 * 4 = 4 MiB) lives in the
 *     shared L3. A multiple of NR. */
#define KC 256
#define MC 144
#define NC 4080

/* Packed buffers are aligned to a cache line (64 bytes), which is also the
 * widest vector, so the kernel's vector loads never split cache lines. */
#define ALIGN 64

/* One vector of VLEN floats (a GCC/Clang vector extension): the compiler
 * keeps a local array of these in registers and maps `+` and `*` to the
 * widest SIMD instructions it targets. Plain loops would be simpler to read,
 * and were tried first: the same kernel with `float c[MR][NR]` and loops
 * over i and j reached only about 65 GFLOP/s at n = 1024 on 2 Zen 3 cores
 * (this version: about 155), because GCC 12 does not keep a plain array of
 * accumulators in registers across the k loop: it shuffles and spills part
 * of it to the stack on every step. */
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
static void micro_kernel(int kc, const float *restrict a, const float *restrict b,
                         float acc[MR][NR])
{
    vfloat c[MR][2];
    for (int i = 0; i < MR; i++)
        c[i][0] = c[i][1] = (vfloat){0};

    for (int p = 0; p < kc; p++) {
        vfloat b0, b1;
        memcpy(&b0, b + (size_t)p * NR, sizeof b0);        /* one vector load */
        memcpy(&b1, b + (size_t)p * NR + VLEN, sizeof b1);
        for (int i = 0; i < MR; i++) {                    /* unrolled by GCC */
            float ai = a[(size_t)p * MR + i];             /* broadcast */
            c[i][0] += ai * b0;                           /* vector FMA */
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
static void write_back(int mr, int nr, const float acc[MR][NR], float alpha,
                       float beta, float *C, int ldc)
{
    for (int i = 0; i < mr; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < nr; j++) c[j] = alpha * acc[i][j];
        else
            for (int j = 0; j < nr; j++) c[j] = alpha * acc[i][j] + beta * c[j];
    }
}

/* Packs rows [ic, ic+mc) x columns [pc, pc+kc) of op(A) into row panels of
 * height MR: panel r holds, for each p, the MR elements of column p in rows
 * ic + r*MR ...; rows past mc are zeros. */
static void pack_a(int transA, const float *A, int lda, int ic, int pc, int mc,
                   int kc, float *restrict dst)
{
    for (int r = 0; r < mc; r += MR) {
        int rows = mc - r < MR ? mc - r : MR;
        for (int p = 0; p < kc; p++) {
            float *d = dst + (size_t)p * MR;
            for (int i = 0; i < rows; i++) {
                size_t row = (size_t)(ic + r + i), col = (size_t)(pc + p);
                d[i] = transA ? A[col * lda + row] : A[row * lda + col];
            }
            for (int i = rows; i < MR; i++) d[i] = 0.0f;
        }
        dst += (size_t)kc * MR;
    }
}

/* Packs one column panel of op(B): rows [pc, pc+kc) x columns
 * [jc, jc+cols) (cols <= NR), NR floats per row, padded with zeros. */
static void pack_b_panel(int transB, const float *B, int ldb, int pc, int jc,
                         int kc, int cols, float *restrict dst)
{
    for (int p = 0; p < kc; p++) {
        float *d = dst + (size_t)p * NR;
        size_t row = (size_t)(pc + p);
        if (!transB) {
            const float *src = B + row * ldb + jc;   /* contiguous */
            for (int j = 0; j < cols; j++) d[j] = src[j];
        } else {
            for (int j = 0; j < cols; j++) d[j] = B[(size_t)(jc + j) * ldb + row];
        }
        for (int j = cols; j < NR; j++) d[j] = 0.0f;
    }
}

/* Multiplies a packed mc x kc block of A by a packed kc x nc block of B
 * into C (already offset to the block's corner). */
static void macro_kernel(int mc, int nc, int kc, float alpha, const float *Ap,
                         const float *Bp, float beta, float *C, int ldc)
{
    float acc[MR][NR] __attribute__((aligned(ALIGN)));
    for (int jr = 0; jr < nc; jr += NR) {          /* B sliver stays in L1 */
        int nr = nc - jr < NR ? nc - jr : NR;
        const float *b = Bp + (size_t)jr * kc;
        for (int ir = 0; ir < mc; ir += MR) {      /* A block streams from L2 */
            int mr = mc - ir < MR ? mc - ir : MR;
            micro_kernel(kc, Ap + (size_t)ir * kc, b, acc);
            write_back(mr, nr, acc, alpha, beta, C + (size_t)ir * ldc + jr, ldc);
        }
    }
}

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* Rows per ic block: at most MC, a multiple of MR, and chosen so the number
 * of blocks is a multiple of the thread count (M = 1024 on 2 threads gives
 * 8 blocks of 128 rows rather than 7 of 144 plus one of 16). */
static int choose_mc(int M, int nthreads)
{
    int nblocks = (M + MC - 1) / MC;
    nblocks = round_up(nblocks, nthreads);
    int mc = round_up((M + nblocks - 1) / nblocks, MR);
    return mc < MC ? mc : MC;
}

static float *alloc_packed(size_t nfloats)
{
    size_t bytes = nfloats * sizeof(float);
    bytes = (bytes + ALIGN - 1) / ALIGN * ALIGN;   /* aligned_alloc wants a multiple */
    float *p = aligned_alloc(ALIGN, bytes);
    if (!p) {
        fprintf(stderr, "out of memory: asked for %zu bytes for a packed GEMM block\n",
                bytes);
        exit(3);
    }
    return p;
}

void cs_gemm_blocked(int transA, int transB, int M, int N, int K,
                     float alpha, const float *A, int lda, const float *B, int ldb,
                     float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0 || alpha == 0.0f) {                 /* C = beta * C */
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
    if ((double)M * N * K < 1e6)
        nthreads = 1;
#endif
    int mc_max = choose_mc(M, nthreads);
    int kc_max = K < KC ? K : KC;
    int nc_max = round_up(N < NC ? N : NC, NR);

    float *Bp = alloc_packed((size_t)kc_max * nc_max);                  /* shared */
    float *Ap_all = alloc_packed((size_t)nthreads * mc_max * kc_max);   /* one per thread */

#pragma omp parallel num_threads(nthreads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *Ap = Ap_all + (size_t)tid * mc_max * kc_max;

        for (int jc = 0; jc < N; jc += NC) {
            int nc = N - jc < NC ? N - jc : NC;
            for (int pc = 0; pc < K; pc += KC) {
                int kc = K - pc < KC ? K - pc : KC;
                float beta_now = pc == 0 ? beta : 1.0f;   /* C already holds partial sums */

                /* All threads pack the B block together (one NR-wide panel each
                 * at a time); the implicit barrier at the end of the loop
                 * makes it complete before anyone reads it. */
#pragma omp for schedule(static)
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = nc - jr < NR ? nc - jr : NR;
                    pack_b_panel(transB, B, ldb, pc, jc + jr, kc, cols, Bp + (size_t)jr * kc);
                }

                /* Each thread takes whole row blocks of C: packs its A block,
                 * then multiplies it by the shared B block. */
#pragma omp for schedule(static)
                for (int ic = 0; ic < M; ic += mc_max) {
                    int mc = M - ic < mc_max ? M - ic : mc_max;
                    pack_a(transA, A, lda, ic, pc, mc, kc, Ap);
                    macro_kernel(mc, nc, kc, alpha, Ap, Bp, beta_now,
                                 C + (size_t)ic * ldc + jc, ldc);
                }
                /* (implicit barrier: nobody repacks B while it is in use) */
            }
        }
    }
    free(Bp);
    free(Ap_all);
}
