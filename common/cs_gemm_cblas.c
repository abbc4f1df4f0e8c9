/* The vendor BLAS backend: OpenBLAS's cblas_sgemm, when CMake found it
 * (CS_HAVE_CBLAS). It is the rung a student's own GEMM is measured against:
 * hand-written assembly kernels per CPU family, tuned block sizes and a
 * thread pool. Without it the function does nothing and returns -1.
 * Who runs the calls (OpenBLAS's own threads or the suite's OpenMP team) is
 * the policy of cs_blas_threads.h; under the suite's policy a large product
 * is split here into one panel of C per OpenMP thread. */
#include "cs_gemm.h"

#ifdef CS_HAVE_CBLAS
#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_blas_threads.h"

/* Below this many multiply-adds a product is not split: the fork and join
 * of a parallel region (a few microseconds) would cost more than a second
 * core saves. 64^3 takes about 10 us on one core. */
#define SPLIT_MIN_MADDS (64.0 * 64.0 * 64.0)
/* Panels are whole multiples of this many rows or columns, so that no
 * thread is left with a sliver that runs OpenBLAS's slower edge kernels. */
#define SPLIT_ALIGN 16

static void sgemm_one_call(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                           const float *B, int ldb, float beta, float *C, int ldc)
{
    /* Row-major storage, as everywhere in this suite. */
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                A, lda, B, ldb, beta, C, ldc);
}

/* How many panels this product is split into (1: one call, as it is). Only
 * under the "suite" policy, with a BLAS that has no threads on the suite's
 * pool (pthreads told to use one, or serial), outside any parallel region
 * (inside one, each thread already has its own work), and when large. */
static int split_panels(int M, int N, int K)
{
#ifdef _OPENMP
    cs_blas_layer layer = cs_blas_layer_runtime();
    if (cs_blas_pool_get() != CS_BLAS_POOL_SUITE) return 1;
    if (layer != CS_BLAS_LAYER_PTHREADS && layer != CS_BLAS_LAYER_SERIAL) return 1;
    if (omp_in_parallel() || (double)M * N * K < SPLIT_MIN_MADDS) return 1;
    int along = N >= M ? N : M;
    int most = (along + SPLIT_ALIGN - 1) / SPLIT_ALIGN;
    int t = omp_get_max_threads();
    return t < most ? t : most;
#else
    (void)M;
    (void)N;
    (void)K;
    return 1;
#endif
}

int cs_gemm_cblas(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc)
{
    int panels = split_panels(M, N, K);
    if (panels <= 1) {
        sgemm_one_call(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return 0;
    }
    cs_gemm_cblas_panels(panels, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return 0;
}

void cs_gemm_cblas_panels(int panels, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc)
{
    if (panels < 1) panels = 1;
    /* One panel of C per thread: columns when C is wider than tall, else
     * rows. Each thread's call reads all of the other operand, so the split
     * goes along the longer side, where that shared part is smallest. A
     * column panel j0.. of op(B) starts at B + j0 (or row j0 of B when B is
     * transposed); a row panel i0.. of op(A) at row i0 of A (or column i0
     * when A is transposed). */
    int by_columns = N >= M;
    int along = by_columns ? N : M;
    int per = ((along + panels - 1) / panels + SPLIT_ALIGN - 1) / SPLIT_ALIGN * SPLIT_ALIGN;
#pragma omp parallel for num_threads(panels) schedule(static, 1)
    for (int p = 0; p < panels; p++) {
        int s = p * per, e = s + per < along ? s + per : along;
        if (s >= e) continue;
        if (by_columns)
            sgemm_one_call(transA, transB, M, e - s, K, alpha, A, lda, transB ? B + (size_t)s * ldb : B + s, ldb, beta,
                           C + s, ldc);
        else
            sgemm_one_call(transA, transB, e - s, N, K, alpha, transA ? A + s : A + (size_t)s * lda, lda, B, ldb, beta,
                           C + (size_t)s * ldc, ldc);
    }
}

int cs_gemm_cblas_available(void)
{
    return 1;
}

#else

int cs_gemm_cblas(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc)
{
    (void)transA;
    (void)transB;
    (void)M;
    (void)N;
    (void)K;
    (void)alpha;
    (void)A;
    (void)lda;
    (void)B;
    (void)ldb;
    (void)beta;
    (void)C;
    (void)ldc;
    return -1; /* built without a CBLAS: C is left untouched */
}

void cs_gemm_cblas_panels(int panels, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc)
{
    (void)panels;
    cs_gemm_cblas(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int cs_gemm_cblas_available(void)
{
    return 0;
}

#endif
