/* The deterministic sums the GPU's batch norm kernels share (gpu_layers.cu,
 * gpu_fused.cu): no atomics, every sum in an order fixed by the launch
 * configuration, so a run repeats bit for bit.
 *
 * C++ only (the .cu files include it). */
#ifndef RN_GPU_REDUCE_CUH
#define RN_GPU_REDUCE_CUH

#include <stddef.h>

namespace
{

constexpr unsigned FULL_MASK = 0xffffffffu;
constexpr int WARP = 32;

/* A sum over the 32 lanes of a warp: lane 0 ends with the total, adding at
 * distances 16, 8, 4, 2, 1 (a fixed tree, so a fixed rounding). */
template <typename T> __device__ T warp_sum(T v)
{
    for (int off = WARP / 2; off > 0; off >>= 1) v += __shfl_down_sync(FULL_MASK, v, off);
    return v;
}

/* Two sums over a block of THREADS threads (a multiple of 32): every thread
 * gets both totals. Warps reduce with shuffles, then warp 0 reduces the
 * per-warp partials in warp order. Call at most once per kernel (the shared
 * partials are not guarded for reuse). */
template <int THREADS> __device__ void block_sum2(double &a, double &b)
{
    static_assert(THREADS % WARP == 0 && THREADS <= 1024, "whole warps, one block");
    constexpr int NWARPS = THREADS / WARP;
    __shared__ double part_a[NWARPS], part_b[NWARPS];
    __shared__ double total_a, total_b;
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    a = warp_sum(a);
    b = warp_sum(b);
    if (lane == 0) {
        part_a[warp] = a;
        part_b[warp] = b;
    }
    __syncthreads();
    if (warp == 0) {
        a = lane < NWARPS ? part_a[lane] : 0.0;
        b = lane < NWARPS ? part_b[lane] : 0.0;
        a = warp_sum(a);
        b = warp_sum(b);
        if (lane == 0) {
            total_a = a;
            total_b = b;
        }
    }
    __syncthreads();
    a = total_a;
    b = total_b;
}

/* The (n, c) plane's elements of channel ch, counted j = img * hw + i over
 * the batch: where element j lives in an NCHW tensor. 32-bit division (the
 * launchers check n * hw fits): 64-bit division costs several times more. */
__device__ __forceinline__ size_t channel_elem(unsigned j, unsigned hw, int c, int ch)
{
    const unsigned img = j / hw, i = j - img * hw;
    return ((size_t)img * c + ch) * hw + i;
}

} /* namespace */

#endif
