/* Step 4's device measurement: one n x n SGEMM on the GPU, with and without
 * the transfers its operands need. The size sweep puts these next to the CPU
 * time of the same product; where "total" drops below the CPU time is the
 * crossover hybrid uses.
 *
 * Both figures are timed with CUDA events on one stream (the device's own
 * clock, start and stop recorded in the stream between the operations),
 * after one untimed warm-up, as the median of `repeats`. The host memory is
 * pinned, so the transfers run at the link's full speed: this is the best
 * case for the GPU, which makes the crossover an honest lower bound. */
#include "cs_cuda.cuh"

extern "C" { /* C headers without extern "C" of their own */
#include "cs_memory.h"
#include "cs_rng.h"
#include "cs_stats.h"
#include "investigate.h"
}

/* Fixed seed: the values do not matter for the timing, only that they are
 * ordinary numbers (not zeros, not denormals). */
#define C3_TIME_GEMM_SEED 12345u

extern "C" void c3_gpu_time_gemm(int n, int repeats, double *compute_s, double *total_s)
{
    if (repeats < 1) repeats = 1;
    const size_t bytes = (size_t)n * n * sizeof(float);

    float *hA = (float *)cs_host_pinned_alloc(bytes, "size sweep pinned A");
    float *hB = (float *)cs_host_pinned_alloc(bytes, "size sweep pinned B");
    float *hC = (float *)cs_host_pinned_alloc(bytes, "size sweep pinned C");
    cs_rng rng;
    cs_rng_seed(&rng, C3_TIME_GEMM_SEED, 0);
    cs_rng_fill_uniform(&rng, hA, (size_t)n * n, -1.0f, 1.0f);
    cs_rng_fill_uniform(&rng, hB, (size_t)n * n, -1.0f, 1.0f);

    float *dA = (float *)cs_gpu_malloc(bytes, "size sweep A");
    float *dB = (float *)cs_gpu_malloc(bytes, "size sweep B");
    float *dC = (float *)cs_gpu_malloc(bytes, "size sweep C");

    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    cs_gpu_timer timer;
    cs_gpu_timer_create(&timer);
    double *times = (double *)cs_alloc((size_t)repeats * sizeof(double), "size sweep times");

    /* Warm-up, untimed: creates the cuBLAS handle, loads its kernel for this
     * shape, and leaves A and B on the device for the compute-only runs. */
    CUDA_CHECK(cudaMemcpyAsync(dA, hA, bytes, cudaMemcpyHostToDevice, s));
    CUDA_CHECK(cudaMemcpyAsync(dB, hB, bytes, cudaMemcpyHostToDevice, s));
    cs_gemm_cublas(0, 0, n, n, n, 1.0f, dA, n, dB, n, 0.0f, dC, n, s);
    CUDA_CHECK(cudaMemcpyAsync(hC, dC, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));

    /* Compute only: the operands are already on the device. */
    for (int r = 0; r < repeats; ++r) {
        cs_gpu_timer_start(&timer, s);
        cs_gemm_cublas(0, 0, n, n, n, 1.0f, dA, n, dB, n, 0.0f, dC, n, s);
        cs_gpu_timer_stop(&timer, s);
        times[r] = cs_gpu_timer_seconds(&timer); /* waits for the stop event */
    }
    *compute_s = cs_median(times, repeats);

    /* What a caller with host data pays: A and B up, the product, C down. */
    for (int r = 0; r < repeats; ++r) {
        cs_gpu_timer_start(&timer, s);
        CUDA_CHECK(cudaMemcpyAsync(dA, hA, bytes, cudaMemcpyHostToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(dB, hB, bytes, cudaMemcpyHostToDevice, s));
        cs_gemm_cublas(0, 0, n, n, n, 1.0f, dA, n, dB, n, 0.0f, dC, n, s);
        CUDA_CHECK(cudaMemcpyAsync(hC, dC, bytes, cudaMemcpyDeviceToHost, s));
        cs_gpu_timer_stop(&timer, s);
        times[r] = cs_gpu_timer_seconds(&timer);
    }
    *total_s = cs_median(times, repeats);

    cs_free(times);
    cs_gpu_timer_destroy(&timer);
    cs_cublas_release_stream(s);
    CUDA_CHECK(cudaStreamDestroy(s));
    cs_gpu_free(dA);
    cs_gpu_free(dB);
    cs_gpu_free(dC);
    cs_host_pinned_free(hA);
    cs_host_pinned_free(hB);
    cs_host_pinned_free(hC);
}
