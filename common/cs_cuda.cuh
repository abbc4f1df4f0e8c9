/* CUDA helpers for .cu files: error checks that name the file and line,
 * tracked device allocation that reports an out-of-memory error with the
 * bytes asked for, the cuBLAS GEMM backend (row-major, like cs_gemm.h), and
 * event timers for device-side phases. */
#ifndef CS_CUDA_CUH
#define CS_CUDA_CUH

#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <stddef.h>
#include "cs_gpu.h"

/* Any CUDA error: "FILE:LINE: CUDA error in CALL: <string> (<name>)" on
 * stderr, exit code 3. An allocation failure is reported as
 * "out of device memory". */
#define CUDA_CHECK(call)                                                              \
    do {                                                                              \
        cudaError_t cs_err_ = (call);                                                 \
        if (cs_err_ != cudaSuccess) cs_cuda_fail(cs_err_, #call, __FILE__, __LINE__); \
    } while (0)

/* Checks the last kernel launch (configuration errors) without syncing. */
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

#define CUBLAS_CHECK(call)                                                                      \
    do {                                                                                        \
        cublasStatus_t cs_st_ = (call);                                                         \
        if (cs_st_ != CUBLAS_STATUS_SUCCESS) cs_cublas_fail(cs_st_, #call, __FILE__, __LINE__); \
    } while (0)

#ifdef __cplusplus
extern "C" {
#endif

void cs_cuda_fail(cudaError_t err, const char *call, const char *file, int line) __attribute__((noreturn));
void cs_cublas_fail(cublasStatus_t st, const char *call, const char *file, int line) __attribute__((noreturn));

/* cudaMalloc, tracked. Out of memory: "out of device memory: asked for N
 * bytes for WHAT (free F of T bytes) at FILE:LINE" and exit code 3. */
void *cs_gpu_malloc_at(size_t bytes, const char *what, const char *file, int line);
#define cs_gpu_malloc(bytes, what) cs_gpu_malloc_at((bytes), (what), __FILE__, __LINE__)
void cs_gpu_free(void *p);

/* Pinned (page-locked) host memory, same error reporting. */
void *cs_host_pinned_alloc_at(size_t bytes, const char *what, const char *file, int line);
#define cs_host_pinned_alloc(bytes, what) cs_host_pinned_alloc_at((bytes), (what), __FILE__, __LINE__)
void cs_host_pinned_free(void *p);

/* The process's cuBLAS handle (created on first use, pointer mode host). */
cublasHandle_t cs_cublas(void);

/* The cuBLAS handle for work on `stream`: one handle per stream, created on
 * first use (so concurrent streams never share a handle's workspace);
 * stream 0 gets the process's handle. Call cs_cublas_release_stream(s)
 * before cudaStreamDestroy(s), and call cs_cublas_for_stream(s) once in a
 * setup step so the handle's creation (milliseconds) is not timed. */
cublasHandle_t cs_cublas_for_stream(cudaStream_t stream);
void cs_cublas_release_stream(cudaStream_t stream);

/* Row-major SGEMM on device pointers, same meaning as cs_gemm_naive():
 * C = alpha*op(A)*op(B) + beta*C. Runs on `stream` (0 = default stream).
 * Row-major is computed as the column-major product C^T = op(B)^T op(A)^T. */
void cs_gemm_cublas(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda, const float *dB,
                    int ldb, float beta, float *dC, int ldc, cudaStream_t stream);

/* Strided-batched row-major SGEMM: `batch` independent products, matrix p
 * at dA + p*strideA etc. */
void cs_gemm_cublas_batched(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda,
                            long long strideA, const float *dB, int ldb, long long strideB, float beta, float *dC,
                            int ldc, long long strideC, int batch, cudaStream_t stream);

/* The same two products on TF32 tensor cores (cublasGemmEx with
 * CUBLAS_COMPUTE_32F_FAST_TF32: float32 data, inputs rounded to 10 mantissa
 * bits, float32 sums), chosen per call: the handle's math mode, which
 * other cases rely on, is left alone. Exact for inputs that fp16 or bf16
 * values already are (both fit in TF32). */
void cs_gemm_cublas_tf32(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda,
                         const float *dB, int ldb, float beta, float *dC, int ldc, cudaStream_t stream);
void cs_gemm_cublas_batched_tf32(int transA, int transB, int M, int N, int K, float alpha, const float *dA, int lda,
                                 long long strideA, const float *dB, int ldb, long long strideB, float beta, float *dC,
                                 int ldc, long long strideC, int batch, cudaStream_t stream);

/* The same with 16-bit inputs and float32 output and sums (tensor cores):
 * A and B hold IEEE half (bf16 = 0) or bfloat16 (bf16 = 1) values, C is
 * float32; cublasGemmEx with CUBLAS_COMPUTE_32F. */
void cs_gemm_cublas_16(int transA, int transB, int M, int N, int K, float alpha, const void *dA, int lda,
                       const void *dB, int ldb, float beta, float *dC, int ldc, int bf16, cudaStream_t stream);
void cs_gemm_cublas_batched_16(int transA, int transB, int M, int N, int K, float alpha, const void *dA, int lda,
                               long long strideA, const void *dB, int ldb, long long strideB, float beta, float *dC,
                               int ldc, long long strideC, int batch, int bf16, cudaStream_t stream);

/* A pair of CUDA events: start and stop on a stream, seconds between them. */
typedef struct {
    cudaEvent_t start, stop;
} cs_gpu_timer;
void cs_gpu_timer_create(cs_gpu_timer *t);
void cs_gpu_timer_destroy(cs_gpu_timer *t);
void cs_gpu_timer_start(cs_gpu_timer *t, cudaStream_t s);
void cs_gpu_timer_stop(cs_gpu_timer *t, cudaStream_t s);
/* Waits for the stop event; seconds elapsed. */
double cs_gpu_timer_seconds(cs_gpu_timer *t);

/* Device-side phases for the profiler: a pair of events around work on a
 * stream. Host clocks cannot time asynchronous work, events can:
 *     int h = cs_gpu_phase_begin("copy H2D", stream);
 *     cudaMemcpyAsync(...);
 *     cs_gpu_phase_end(h, stream);
 * cs_gpu_phases_flush() (after the work, it synchronizes) adds each phase's
 * device time to the profiler with cs_prof_add(). When the profiler is off
 * these do nothing (return -1 / ignore -1). Up to CS_GPU_PHASE_MAX phases
 * pending between flushes; events are pooled and reused. */
#define CS_GPU_PHASE_MAX 4096
int cs_gpu_phase_begin(const char *name, cudaStream_t s);
void cs_gpu_phase_end(int handle, cudaStream_t s);
void cs_gpu_phases_flush(void);

#ifdef __cplusplus
}
#endif

#endif
