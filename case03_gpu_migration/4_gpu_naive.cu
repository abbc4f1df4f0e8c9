/* gpu_naive: the first port to the GPU, as it is usually written.
 *
 * Each operation became a library call that takes host arrays and returns
 * host arrays, so that it drops into the CPU code unchanged: allocate device
 * buffers, copy the operands up, launch, wait, copy the result down, free.
 * It is correct, and it is slow for reasons that have nothing to do with the
 * GPU's speed:
 *  - every operation moves its operands over PCIe (a few tens of GB/s, from
 *    pageable memory less) although the next operation needs them on the
 *    device again: Z goes down and straight back up, X likewise;
 *  - cudaMalloc/cudaFree cost tens to hundreds of microseconds each, and
 *    cudaFree synchronizes the device;
 *  - every operation waits for the GPU (cudaDeviceSynchronize), so the host
 *    and the device never work at the same time;
 *  - the small products (e.g. 64x64) are launched one by one: a few
 *    microseconds of GPU work each, wrapped in the same malloc/copy/sync/free
 *    round trip, so the overheads are nearly all of their time.
 * The phase table shows it: "copy H2D", "copy D2H" and "alloc/free" next to
 * "kernel+sync". Host clocks are right here, because each operation
 * synchronizes before its region ends. */
#include <string.h>

#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"

/* common/'s C headers have no extern "C" of their own: include them with C
 * linkage, so that this C++ file links against the C functions. */
extern "C" {
#include "cs_memory.h"
#include "cs_profiler.h"
#include "workload.h"
}
#include "variants.h"

/* C = A * B (A M x K, B K x N, row-major, host arrays) the first-port way. */
static void naive_gemm_op(const float *hA, const float *hB, float *hC, int M, int N, int K)
{
    const size_t a_bytes = (size_t)M * K * sizeof(float);
    const size_t b_bytes = (size_t)K * N * sizeof(float);
    const size_t c_bytes = (size_t)M * N * sizeof(float);

    cs_prof_begin("alloc/free");
    float *dA = (float *)cs_gpu_malloc(a_bytes, "gpu_naive GEMM A");
    float *dB = (float *)cs_gpu_malloc(b_bytes, "gpu_naive GEMM B");
    float *dC = (float *)cs_gpu_malloc(c_bytes, "gpu_naive GEMM C");
    cs_prof_end();

    cs_prof_begin("copy H2D");
    CUDA_CHECK(cudaMemcpy(dA, hA, a_bytes, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dB, hB, b_bytes, cudaMemcpyHostToDevice));
    cs_prof_end();

    cs_prof_begin("kernel+sync");
    c3_launch_gemm_naive(M, N, K, dA, K, dB, N, dC, N, 0);
    CUDA_CHECK(cudaDeviceSynchronize());
    cs_prof_end();

    cs_prof_begin("copy D2H");
    CUDA_CHECK(cudaMemcpy(hC, dC, c_bytes, cudaMemcpyDeviceToHost));
    cs_prof_end();

    cs_prof_begin("alloc/free");
    cs_gpu_free(dA);
    cs_gpu_free(dB);
    cs_gpu_free(dC);
    cs_prof_end();
}

/* X = scale * relu(Z + bias[col]) (rows x n, host arrays). */
static void naive_bias_relu_scale_op(const float *hZ, const float *hBias, float scale, int rows, int n, float *hX)
{
    const size_t m_bytes = (size_t)rows * n * sizeof(float);
    const size_t bias_bytes = (size_t)n * sizeof(float);

    cs_prof_begin("alloc/free");
    float *dZ = (float *)cs_gpu_malloc(m_bytes, "gpu_naive elementwise Z");
    float *dBias = (float *)cs_gpu_malloc(bias_bytes, "gpu_naive elementwise bias");
    float *dX = (float *)cs_gpu_malloc(m_bytes, "gpu_naive elementwise X");
    cs_prof_end();

    cs_prof_begin("copy H2D");
    CUDA_CHECK(cudaMemcpy(dZ, hZ, m_bytes, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dBias, hBias, bias_bytes, cudaMemcpyHostToDevice));
    cs_prof_end();

    cs_prof_begin("kernel+sync");
    c3_launch_bias_relu_scale(dZ, dBias, scale, rows, n, dX, 0);
    CUDA_CHECK(cudaDeviceSynchronize());
    cs_prof_end();

    cs_prof_begin("copy D2H");
    CUDA_CHECK(cudaMemcpy(hX, dX, m_bytes, cudaMemcpyDeviceToHost));
    cs_prof_end();

    cs_prof_begin("alloc/free");
    cs_gpu_free(dZ);
    cs_gpu_free(dBias);
    cs_gpu_free(dX);
    cs_prof_end();
}

/* rowsum[i] = sum_j X[i][j] (rows x n, host arrays). */
static void naive_rowsum_op(const float *hX, int rows, int n, float *hRowsum)
{
    const size_t m_bytes = (size_t)rows * n * sizeof(float);
    const size_t r_bytes = (size_t)rows * sizeof(float);

    cs_prof_begin("alloc/free");
    float *dX = (float *)cs_gpu_malloc(m_bytes, "gpu_naive rowsum X");
    float *dR = (float *)cs_gpu_malloc(r_bytes, "gpu_naive rowsum sums");
    cs_prof_end();

    cs_prof_begin("copy H2D");
    CUDA_CHECK(cudaMemcpy(dX, hX, m_bytes, cudaMemcpyHostToDevice));
    cs_prof_end();

    cs_prof_begin("kernel+sync");
    c3_launch_rowsum(dX, rows, n, dR, 0);
    CUDA_CHECK(cudaDeviceSynchronize());
    cs_prof_end();

    cs_prof_begin("copy D2H");
    CUDA_CHECK(cudaMemcpy(hRowsum, dR, r_bytes, cudaMemcpyDeviceToHost));
    cs_prof_end();

    cs_prof_begin("alloc/free");
    cs_gpu_free(dX);
    cs_gpu_free(dR);
    cs_prof_end();
}

extern "C" int c3_gpu_naive_run(const c3_workload *w, c3_output *out, void *state)
{
    (void)state;
    const int n = w->cfg.n;
    const size_t nn = (size_t)n * n;

    /* Host temporaries for the chain, as the CPU code had them. */
    float *z = (float *)cs_alloc(nn * sizeof(float), "gpu_naive host Z");
    float *x = (float *)cs_alloc(nn * sizeof(float), "gpu_naive host X");

    /* The chain: three round trips per iteration. */
    const float *x_prev = w->x0;
    for (int k = 0; k < w->cfg.iters; ++k) {
        naive_gemm_op(x_prev, w->w, z, n, n, n);                 /* Z = X W */
        naive_bias_relu_scale_op(z, w->bias, w->scale, n, n, x); /* X = f(Z) */
        naive_rowsum_op(x, n, n, out->rowsum + (size_t)k * n);   /* row sums */
        x_prev = x;
    }
    memcpy(out->x, x_prev, nn * sizeof(float));

    /* The batch: one full round trip per 64x64 product. */
    const int s = w->cfg.small;
    const size_t ss = (size_t)s * s;
    for (int p = 0; p < w->cfg.batch; ++p)
        naive_gemm_op(w->small_a + p * ss, w->small_b + p * ss, out->small + p * ss, s, s, s);

    cs_free(x);
    cs_free(z);
    return 0;
}
