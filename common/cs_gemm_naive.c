/* The textbook SGEMM: three nested loops, one dot product per element of C.
 *
 *   C = alpha * op(A) * op(B) + beta * C      (row-major, see cs_gemm.h)
 *
 * This is the "before" of the GEMM ladder, written the way most people
 * write it first. It is correct, and slow, for three reasons a profiler
 * shows:
 *  - B is walked down a column: B[k][j] and B[k+1][j] are a whole row apart
 *    (N floats), so every multiply-add touches a new cache line, and for
 *    large N the lines are evicted before the next j could reuse them;
 *  - one accumulator per element forms a chain of dependent additions, so
 *    the core waits for each add (about 4 cycles) instead of issuing two
 *    fused multiply-adds per cycle, and the loop over k cannot be vectorized
 *    without reordering the float sum (which the compiler may not do);
 *  - one thread: the other cores sit idle.
 * cs_gemm_blocked.c fixes all three; `diff` the two files. */
#include "cs_gemm.h"

#include <stddef.h>

void cs_gemm_naive(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                   int ldb, float beta, float *C, int ldc)
{
    /* Element (i, k) of op(A) and (k, j) of op(B), whatever the transposes:
     * A is stored K x M when transA, B is stored N x K when transB. */
    size_t a_row = transA ? 1 : (size_t)lda, a_col = transA ? (size_t)lda : 1;
    size_t b_row = transB ? 1 : (size_t)ldb, b_col = transB ? (size_t)ldb : 1;

    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) /* B[k][j]: a stride of ldb floats */
                sum += A[i * a_row + k * a_col] * B[k * b_row + j * b_col];
            float *c = &C[(size_t)i * ldc + j];
            /* beta == 0: C is not read, so garbage or NaN in C cannot leak. */
            *c = beta == 0.0f ? alpha * sum : alpha * sum + beta * *c;
        }
    }
}
