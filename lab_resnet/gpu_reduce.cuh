/* What the GPU's batch norm kernels share (gpu_layers.cu's one block per
 * channel, gpu_fused.cu's two stages): the deterministic sums (no atomics,
 * every sum in an order fixed by the launch configuration, so a run repeats
 * bit for bit), and the arithmetic from a channel's sums to its statistics
 * and gradients, written once.
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

/* Chunk k (the two-stage reductions of gpu_fused.cu and gpu_act16.cu) of `chunks` over [0, count): [*lo, *hi). */
__device__ __forceinline__ void chunk_range(unsigned count, int chunks, int k, unsigned *lo, unsigned *hi)
{
    *lo = (unsigned)((unsigned long long)count * k / chunks);
    *hi = (unsigned)((unsigned long long)count * (k + 1) / chunks);
}

/* A channel's training statistics from its sum and sum of squares over
 * `count` values (one pass, in double: gpu_layers.cu says why): the batch
 * mean, the biased variance it normalises with, 1/sqrt(var + eps). */
struct bn_stats {
    double mean, var;
    float invstd;
};

__device__ __forceinline__ bn_stats bn_stats_of(double sum, double sumsq, unsigned count, float eps)
{
    bn_stats st;
    st.mean = sum / count;
    st.var = sumsq / count - st.mean * st.mean; /* biased: normalises this batch */
    if (st.var < 0.0) st.var = 0.0;             /* rounding, never a real negative */
    st.invstd = (float)(1.0 / sqrt(st.var + (double)eps));
    return st;
}

/* Channel ch's statistics saved for the backward and folded into the
 * running ones. The running variance estimates the population's: unbiased,
 * as PyTorch keeps it (a batch of one value has no spread to correct). */
__device__ __forceinline__ void bn_store_stats(const bn_stats &st, unsigned count, int ch, float momentum,
                                               float *save_mean, float *save_invstd, float *running_mean,
                                               float *running_var)
{
    save_mean[ch] = (float)st.mean;
    save_invstd[ch] = st.invstd;
    const double unbiased = count > 1 ? st.var * count / (count - 1) : st.var;
    running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * (float)st.mean;
    running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * (float)unbiased;
}

/* The backward, with xhat = (x - mean) * invstd over `count` values:
 * dbeta = sum dy and dgamma = sum dy * xhat from the channel's two sums
 * (written, or added while accumulating), and the coefficients of
 *   dx = gamma * invstd * (dy - dbeta / count - xhat * dgamma / count). */
struct bn_dx_coef {
    float k, mean_dy, mean_dy_xhat;
};

__device__ __forceinline__ bn_dx_coef bn_param_grads(double sum_dy, double sum_dy_xmu, unsigned count, int ch,
                                                     float gamma, float invstd, int accumulate, bool store,
                                                     float *dgamma, float *dbeta)
{
    const float db = (float)sum_dy;
    const float dg = (float)(sum_dy_xmu * invstd);
    if (store) {
        dbeta[ch] = accumulate ? dbeta[ch] + db : db;
        dgamma[ch] = accumulate ? dgamma[ch] + dg : dg;
    }
    return bn_dx_coef{gamma * invstd, db / (float)count, dg / (float)count};
}

__device__ __forceinline__ float bn_dx(const bn_dx_coef &c, float x, float dy, float mean, float invstd)
{
    const float xhat = (x - mean) * invstd;
    return c.k * (dy - c.mean_dy - xhat * c.mean_dy_xhat);
}

} /* namespace */

#endif
