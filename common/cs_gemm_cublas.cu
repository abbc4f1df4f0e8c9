/* The cuBLAS GEMM backend: the same row-major C = alpha*op(A)*op(B) + beta*C
 * as cs_gemm.h, on device pointers.
 *
 * cuBLAS, like the Fortran BLAS, is column-major. A row-major matrix read as
 * column-major is its transpose, so the row-major product
 *     C (M x N) = op(A) op(B)
 * is, in cuBLAS's view of the same memory, the column-major product
 *     C^T (N x M) = op(B)^T op(A)^T.
 * So we swap the operands (B first, then A) and the sizes (N, M): no data is
 * moved or transposed, and each lda/ldb/ldc keeps its meaning (the stride
 * between row-major rows is the stride between column-major columns).
 *
 * Math mode: the handle's default (cs_cublas() sets CUBLAS_DEFAULT_MATH),
 * full FP32 arithmetic. TF32 tensor cores would be several times faster on
 * Ampere and later, but round the inputs to 10 mantissa bits: a different
 * answer, not a faster one.
 *
 * Also here: cs_gpu_selftest_gemm(), the check of this file against a
 * float64 host reference, callable from C tests. */
#include "cs_cuda.cuh"

extern "C" {
#include "cs_console.h"
#include "cs_rng.h"
}

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>

/* transX selects op(X) = X^T in row-major terms, which is op = N in the
 * column-major view (where the memory already reads as X^T), and the
 * reverse. */
static cublasOperation_t op_of(int trans)
{
    return trans ? CUBLAS_OP_T : CUBLAS_OP_N;
}

/* ---- One handle per stream ---------------------------------------------
 * A cuBLAS handle owns a workspace that its kernels may use. One handle
 * switched between streams with cublasSetStream would let two GEMMs that run
 * at the same time on different streams share that workspace; a handle per
 * stream keeps concurrent streams apart (frameworks do the same). The
 * default stream (0) uses the process's handle. */
#define CS_MAX_STREAM_HANDLES 64

static struct {
    cudaStream_t stream;
    cublasHandle_t handle;
} stream_handles[CS_MAX_STREAM_HANDLES];
static int n_stream_handles;
static std::mutex stream_handles_mutex;

cublasHandle_t cs_cublas_for_stream(cudaStream_t stream)
{
    if (stream == 0) {
        cublasHandle_t h = cs_cublas();
        CUBLAS_CHECK(cublasSetStream(h, 0));
        return h;
    }
    std::lock_guard<std::mutex> lock(stream_handles_mutex);
    for (int i = 0; i < n_stream_handles; i++)
        if (stream_handles[i].stream == stream) return stream_handles[i].handle;
    if (n_stream_handles == CS_MAX_STREAM_HANDLES) {
        fprintf(stderr,
                "%s: cs_cublas_for_stream: more than %d streams with a cuBLAS handle "
                "(call cs_cublas_release_stream before cudaStreamDestroy)\n",
                cs_prog(), CS_MAX_STREAM_HANDLES);
        exit(3);
    }
    cublasHandle_t h;
    CUBLAS_CHECK(cublasCreate(&h));
    CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
    CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH)); /* full FP32, as cs_cublas() */
    CUBLAS_CHECK(cublasSetStream(h, stream));
    stream_handles[n_stream_handles].stream = stream;
    stream_handles[n_stream_handles].handle = h;
    n_stream_handles++;
    return h;
}

void cs_cublas_release_stream(cudaStream_t stream)
{
    if (stream == 0) return;
    std::lock_guard<std::mutex> lock(stream_handles_mutex);
    for (int i = 0; i < n_stream_handles; i++) {
        if (stream_handles[i].stream != stream) continue;
        CUBLAS_CHECK(cublasDestroy(stream_handles[i].handle));
        stream_handles[i] = stream_handles[--n_stream_handles];
        return;
    }
}

void cs_gemm_cublas(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda, const float *dB,
                    int ldb, float beta, float *dC, int ldc, cudaStream_t stream)
{
    cublasHandle_t h = cs_cublas_for_stream(stream);
    CUBLAS_CHECK(cublasSgemm(h, op_of(transB), op_of(transA), N, M, K, &alpha, dB, ldb, dA, lda, &beta, dC, ldc));
}

void cs_gemm_cublas_batched(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda,
                            long long strideA, const float *dB, int ldb, long long strideB, float beta, float *dC,
                            int ldc, long long strideC, int batch, cudaStream_t stream)
{
    cublasHandle_t h = cs_cublas_for_stream(stream);
    /* One launch for all `batch` products: many small GEMMs would each leave
     * most of the GPU idle if launched one by one. */
    CUBLAS_CHECK(cublasSgemmStridedBatched(h, op_of(transB), op_of(transA), N, M, K, &alpha, dB, ldb, strideB, dA, lda,
                                           strideA, &beta, dC, ldc, strideC, batch));
}

void cs_gemm_cublas_tf32(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda,
                         const float *dB, int ldb, float beta, float *dC, int ldc, cudaStream_t stream)
{
    cublasHandle_t h = cs_cublas_for_stream(stream);
    CUBLAS_CHECK(cublasGemmEx(h, op_of(transB), op_of(transA), N, M, K, &alpha, dB, CUDA_R_32F, ldb, dA, CUDA_R_32F,
                              lda, &beta, dC, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
}

void cs_gemm_cublas_batched_tf32(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda,
                                 long long strideA, const float *dB, int ldb, long long strideB, float beta, float *dC,
                                 int ldc, long long strideC, int batch, cudaStream_t stream)
{
    cublasHandle_t h = cs_cublas_for_stream(stream);
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, op_of(transB), op_of(transA), N, M, K, &alpha, dB, CUDA_R_32F, ldb,
                                            strideB, dA, CUDA_R_32F, lda, strideA, &beta, dC, CUDA_R_32F, ldc, strideC,
                                            batch, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
}

void cs_gemm_cublas_16(int transA, int transB, int M, int N, int K, float alpha, const void *dA, int lda,
                       const void *dB, int ldb, float beta, float *dC, int ldc, int bf16, cudaStream_t stream)
{
    cublasHandle_t h = cs_cublas_for_stream(stream);
    const cudaDataType_t t = bf16 ? CUDA_R_16BF : CUDA_R_16F;
    CUBLAS_CHECK(cublasGemmEx(h, op_of(transB), op_of(transA), N, M, K, &alpha, dB, t, ldb, dA, t, lda, &beta, dC,
                              CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void cs_gemm_cublas_batched_16(int transA, int transB, int M, int N, int K, float alpha, const void *dA, int lda,
                               long long strideA, const void *dB, int ldb, long long strideB, float beta, float *dC,
                               int ldc, long long strideC, int batch, int bf16, cudaStream_t stream)
{
    cublasHandle_t h = cs_cublas_for_stream(stream);
    const cudaDataType_t t = bf16 ? CUDA_R_16BF : CUDA_R_16F;
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, op_of(transB), op_of(transA), N, M, K, &alpha, dB, t, ldb, strideB, dA,
                                            t, lda, strideA, &beta, dC, CUDA_R_32F, ldc, strideC, batch,
                                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

/* ---- Self-test ----------------------------------------------------------- */

#define SELFTEST_TOL 1e-5

typedef struct {
    int transA, transB, M, N, K, batch; /* batch 1: cs_gemm_cublas, else batched */
    float alpha, beta;                  /* beta == 0: C starts as NaN */
} gemm_case;

static float *host_floats(size_t n)
{
    float *p = (float *)malloc(n * sizeof(float));
    if (p == NULL) {
        fprintf(stderr, "cs_gpu_selftest_gemm: out of host memory (%zu floats)\n", n);
        exit(3);
    }
    return p;
}

/* Runs one case on the device and compares it with a float64 reference.
 * Returns max|C - ref| / max|ref| (NaN if any result was NaN); *outside_ok
 * is cleared when an element of the C array outside the M x N matrices
 * (the row padding up to ldc, the gap up to strideC) changed. */
static double run_case(const gemm_case *c, cs_rng *rng, int *outside_ok)
{
    /* Stored shapes (rows x cols, row-major) and padded strides: a backend
     * that confused a leading dimension with a width fails here. */
    int rowsA = c->transA ? c->K : c->M, colsA = c->transA ? c->M : c->K;
    int rowsB = c->transB ? c->N : c->K, colsB = c->transB ? c->K : c->N;
    int lda = colsA + 3, ldb = colsB + 2, ldc = c->N + 5;
    long long strideA = (long long)rowsA * lda + 7;
    long long strideB = (long long)rowsB * ldb + 5;
    long long strideC = (long long)c->M * ldc + 11;
    size_t nA = (size_t)(strideA * c->batch), nB = (size_t)(strideB * c->batch);
    size_t nC = (size_t)(strideC * c->batch);

    float *A = host_floats(nA), *B = host_floats(nB);
    float *C0 = host_floats(nC), *C = host_floats(nC);
    cs_rng_fill_uniform(rng, A, nA, -1.0f, 1.0f);
    cs_rng_fill_uniform(rng, B, nB, -1.0f, 1.0f);
    if (c->beta != 0.0f)
        cs_rng_fill_uniform(rng, C0, nC, -1.0f, 1.0f);
    else
        for (size_t i = 0; i < nC; i++) C0[i] = NAN; /* beta == 0 must not read C */

    float *dA = (float *)cs_gpu_malloc(nA * sizeof(float), "self-test A");
    float *dB = (float *)cs_gpu_malloc(nB * sizeof(float), "self-test B");
    float *dC = (float *)cs_gpu_malloc(nC * sizeof(float), "self-test C");
    CUDA_CHECK(cudaMemcpy(dA, A, nA * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dB, B, nB * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dC, C0, nC * sizeof(float), cudaMemcpyHostToDevice));

    if (c->batch == 1) {
        cs_gemm_cublas(c->transA, c->transB, c->M, c->N, c->K, c->alpha, dA, lda, dB, ldb, c->beta, dC, ldc, 0);
        CUDA_CHECK(cudaDeviceSynchronize());
    } else {
        /* The batched form on a stream of its own, to exercise that path. */
        cudaStream_t s;
        CUDA_CHECK(cudaStreamCreate(&s));
        cs_gemm_cublas_batched(c->transA, c->transB, c->M, c->N, c->K, c->alpha, dA, lda, strideA, dB, ldb, strideB,
                               c->beta, dC, ldc, strideC, c->batch, s);
        CUDA_CHECK(cudaStreamSynchronize(s));
        cs_cublas_release_stream(s);
        CUDA_CHECK(cudaStreamDestroy(s));
    }
    CUDA_CHECK(cudaMemcpy(C, dC, nC * sizeof(float), cudaMemcpyDeviceToHost));

    double max_diff = 0.0, max_ref = 0.0;
    for (int p = 0; p < c->batch; p++) {
        const float *a = A + p * strideA, *b = B + p * strideB;
        const float *c0 = C0 + p * strideC, *got = C + p * strideC;
        for (int i = 0; i < c->M; i++) {
            for (int j = 0; j < c->N; j++) {
                double sum = 0.0;
                for (int k = 0; k < c->K; k++) {
                    double aik = c->transA ? a[(size_t)k * lda + i] : a[(size_t)i * lda + k];
                    double bkj = c->transB ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
                    sum += aik * bkj;
                }
                double ref = c->alpha * sum;
                if (c->beta != 0.0f) ref += (double)c->beta * c0[(size_t)i * ldc + j];
                double diff = fabs(got[(size_t)i * ldc + j] - ref);
                /* Written so that a NaN result makes max_diff NaN (a plain
                 * `diff > max_diff` is false for NaN and would hide it). */
                if (!(diff <= max_diff)) max_diff = diff;
                if (fabs(ref) > max_ref) max_ref = fabs(ref);
            }
        }
    }
    /* Everything outside the matrices must be bit-identical (NaN included). */
    for (size_t e = 0; e < nC; e++) {
        long long in_mat = (long long)e % strideC;
        int row = (int)(in_mat / ldc), col = (int)(in_mat % ldc);
        int inside = row < c->M && col < c->N;
        if (!inside && memcmp(&C[e], &C0[e], sizeof(float)) != 0) *outside_ok = 0;
    }

    cs_gpu_free(dA);
    cs_gpu_free(dB);
    cs_gpu_free(dC);
    free(A);
    free(B);
    free(C0);
    free(C);
    return max_diff / (max_ref > 0.0 ? max_ref : 1.0);
}

int cs_gpu_selftest_gemm(double *rel_err)
{
    if (rel_err != NULL) *rel_err = 0.0;
    if (!cs_gpu_probe(NULL, 0)) return -1;

    /* Odd sizes (no multiple of a tile), M != N != K, and M = 1. */
    static const gemm_case cases[] = {
        {0, 0, 37, 53, 29, 1, 1.5f, 0.5f},   {0, 1, 37, 53, 29, 1, 1.5f, 0.5f},   {1, 0, 37, 53, 29, 1, 1.5f, 0.5f},
        {1, 1, 37, 53, 29, 1, 1.5f, 0.5f},   {0, 0, 64, 48, 100, 1, 1.0f, 0.0f},  {0, 1, 1, 40, 7, 1, 1.0f, 0.25f},
        {0, 0, 19, 23, 31, 3, -0.75f, 2.0f}, {0, 1, 19, 23, 31, 3, -0.75f, 2.0f}, {1, 0, 19, 23, 31, 3, -0.75f, 2.0f},
        {1, 1, 19, 23, 31, 3, -0.75f, 2.0f}, {1, 0, 17, 9, 33, 2, 1.0f, 0.0f},
    };
    cs_rng rng;
    cs_rng_seed(&rng, 2024, 0);
    double worst = 0.0;
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gemm_case *c = &cases[i];
        int outside_ok = 1;
        double err = run_case(c, &rng, &outside_ok);
        if (!(err <= worst)) worst = err; /* NaN-propagating max, as above */
        if (!(err <= SELFTEST_TOL) || !outside_ok) {
            fprintf(stderr,
                    "cs_gpu_selftest_gemm: transA=%d transB=%d M=%d N=%d K=%d "
                    "batch=%d beta=%g: relative error %.3g%s\n",
                    c->transA, c->transB, c->M, c->N, c->K, c->batch, (double)c->beta, err,
                    outside_ok ? "" : ", wrote outside C");
            failed = 1;
        }
    }
    if (rel_err != NULL) *rel_err = worst;
    return failed;
}
