/* The vendor BLAS backend: OpenBLAS's cblas_sgemm, when CMake found it
 * (CS_HAVE_CBLAS). It is the rung a student's own GEMM is measured against:
 * hand-written assembly kernels per CPU family, tuned block sizes and a
 * thread pool. Without it the function does nothing and returns -1. */
#include "cs_gemm.h"

#ifdef CS_HAVE_CBLAS
#include <cblas.h>

int cs_gemm_cblas(int transA, int transB, int M, int N, int K,
                  float alpha, const float *A, int lda, const float *B, int ldb,
                  float beta, float *C, int ldc)
{
    /* Row-major storage, as everywhere in this suite. */
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
                beta, C, ldc);
    return 0;
}

int cs_gemm_cblas_available(void) { return 1; }

#else

int cs_gemm_cblas(int transA, int transB, int M, int N, int K,
                  float alpha, const float *A, int lda, const float *B, int ldb,
                  float beta, float *C, int ldc)
{
    (void)transA; (void)transB; (void)M; (void)N; (void)K; (void)alpha;
    (void)A; (void)lda; (void)B; (void)ldb; (void)beta; (void)C; (void)ldc;
    return -1;   /* built without a CBLAS: C is left untouched */
}

int cs_gemm_cblas_available(void) { return 0; }

#endif
