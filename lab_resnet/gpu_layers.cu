/* The GPU's layer operations other than convolution: batch norm, ReLU, add,
 * max and average pooling, the linear layer, softmax + cross-entropy, Adam.
 * What each computes is in backend.h; this file says how, and why so.
 *
 * Two rules run through every kernel here:
 *  - Deterministic: no atomics. Every sum is taken in an order fixed by the
 *    launch configuration (each thread its strided share, then a tree over
 *    the lanes of a warp, then over the warps in order), so a run repeats
 *    bit for bit, and a training curve does not wander between runs.
 *  - Memory-bound kernels are written for coalescing: neighbouring threads
 *    touch neighbouring addresses wherever the layout allows.
 * Every launcher enqueues on the backend's stream (rn_gpu_stream), checks the
 * launch and returns without waiting. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"
#include "gpu_pool.cuh"
#include "gpu_reduce.cuh"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "adam_bias.h"
#include "scale_update.h"

extern "C" {
#include "cs_console.h"
#include "precision.h"
}

namespace
{

/* ------------------------------------------------------------------------
 * Batch norm.
 *
 * One block per channel: the channel's n * hw values are spread over the
 * block's threads (thread t takes elements t, t + THREADS, ...; in NCHW
 * those are consecutive addresses within an image's plane, so loads
 * coalesce), and the block reduces the per-thread partial sums.
 *
 * The statistics come from ONE pass over x, sum and sum of squares, in
 * double: var = E[x^2] - mean^2 loses about log10(mean^2 / var) digits to
 * cancellation, which in float would be all of them for a channel with a
 * large mean and a small spread; double has 16 digits to lose, so one pass
 * (instead of a second pass for sum (x - mean)^2) is safe.
 *
 * y may be x: every thread has read its share of x for the statistics
 * before the block's barrier, and the second pass reads each element before
 * writing it. Likewise dx may be dy in the backward.
 *
 * One block per channel leaves SMs idle when channels are few (64 blocks on
 * 132 SMs in ResNet's first layers); a two-stage reduction (partial sums
 * per chunk of the batch, then per channel) would fill the GPU, and is a
 * later exercise of the lab.
 * ------------------------------------------------------------------------ */
constexpr int BN_THREADS = 512;

__global__ void __launch_bounds__(BN_THREADS)
    bn_train_kernel(int n, int c, int hw, const float *x, const float *__restrict__ gamma,
                    const float *__restrict__ beta, float *y, float *__restrict__ save_mean,
                    float *__restrict__ save_invstd, float *__restrict__ running_mean, float *__restrict__ running_var,
                    float momentum, float eps, int out_prec)
{
    const int ch = blockIdx.x;
    const unsigned count = (unsigned)n * (unsigned)hw;
    double sum = 0.0, sumsq = 0.0;
    for (unsigned j = threadIdx.x; j < count; j += BN_THREADS) {
        const double v = x[channel_elem(j, hw, c, ch)];
        sum += v;
        sumsq += v * v;
    }
    block_sum2<BN_THREADS>(sum, sumsq);

    const bn_stats st = bn_stats_of(sum, sumsq, count, eps);
    if (threadIdx.x == 0) bn_store_stats(st, count, ch, momentum, save_mean, save_invstd, running_mean, running_var);

    /* y = (x - mean) * (gamma * invstd) + beta. The mean is taken off first,
     * as on the CPU: folded into one shift, x * scale + shift would cancel
     * digits whenever |mean| is large next to the spread. */
    const float scale = gamma[ch] * st.invstd, mu = (float)st.mean;
    for (unsigned j = threadIdx.x; j < count; j += BN_THREADS) {
        const size_t e = channel_elem(j, hw, c, ch);
        y[e] = rn_stored(fmaf(x[e] - mu, scale, beta[ch]), out_prec);
    }
}

/* Evaluation: the running statistics, elementwise, one thread per element. */
__global__ void bn_eval_kernel(size_t total, int c, int hw, const float *x, /* y may be x */
                               const float *__restrict__ gamma, const float *__restrict__ beta,
                               const float *__restrict__ running_mean, const float *__restrict__ running_var, float eps,
                               float *y, int out_prec)
{
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)((e / (size_t)hw) % (size_t)c);
        const float invstd = 1.0f / sqrtf(running_var[ch] + eps);
        y[e] = rn_stored((x[e] - running_mean[ch]) * invstd * gamma[ch] + beta[ch], out_prec);
    }
}

/* Backward, with xhat = (x - mean) * invstd and m = n * hw:
 *   dbeta  = sum dy
 *   dgamma = sum dy * xhat
 *   dx     = gamma * invstd * (dy - dbeta / m - xhat * dgamma / m)
 * The two sums first (one reduction), then dx: x and dy are read twice. */
/* x as floats, or (Part 3's 16-bit storage) as fp16 or bf16 bits widened
 * as they are read: T is float or uint16_t, widen() (below) does the rest,
 * so both read the same values into the same arithmetic. */
__device__ inline float widen(float v, int);
__device__ inline float widen(uint16_t h, int precision);

template <typename T>
__global__ void __launch_bounds__(BN_THREADS)
    bn_backward_kernel(int n, int c, int hw, const T *__restrict__ x, int precision, const float *__restrict__ gamma,
                       const float *__restrict__ save_mean, const float *__restrict__ save_invstd, const float *dy,
                       float *dx, float *__restrict__ dgamma, float *__restrict__ dbeta, int accumulate, int out_prec)
{
    const int ch = blockIdx.x;
    const unsigned count = (unsigned)n * (unsigned)hw;
    const float mean = save_mean[ch], invstd = save_invstd[ch];
    double sum_dy = 0.0, sum_dy_xmu = 0.0;
    for (unsigned j = threadIdx.x; j < count; j += BN_THREADS) {
        const size_t e = channel_elem(j, hw, c, ch);
        const double g = dy[e];
        sum_dy += g;
        sum_dy_xmu += g * (double)(widen(x[e], precision) - mean);
    }
    block_sum2<BN_THREADS>(sum_dy, sum_dy_xmu);

    const bn_dx_coef coef =
        bn_param_grads(sum_dy, sum_dy_xmu, count, ch, gamma[ch], invstd, accumulate, threadIdx.x == 0, dgamma, dbeta);
    if (dx == NULL) return;
    for (unsigned j = threadIdx.x; j < count; j += BN_THREADS) {
        const size_t e = channel_elem(j, hw, c, ch);
        dx[e] = rn_stored(bn_dx(coef, widen(x[e], precision), dy[e], mean, invstd), out_prec);
    }
}

/* ------------------------------------------------------------------------
 * Elementwise: ReLU, its derivative (from the OUTPUT: y > 0 exactly where
 * x > 0, and y is what the forward pass kept), add. Grid-stride loops.
 * y may alias x, dx may alias dy, y may alias a or b: each element is read
 * before it is written by the same thread, so in place is safe (hence no
 * __restrict__ on those pointers).
 * ------------------------------------------------------------------------ */
__global__ void relu_forward_kernel(size_t count, const float *x, float *y)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

__global__ void relu_backward_kernel(size_t count, const float *y, const float *dy, float *dx)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* Autocast's numerics kept in float (precision.h): each value rounded to
 * the nearest fp16 or bf16 (ties to even, the intrinsics' _rn) and back. */
__global__ void round_to_kernel(size_t count, const float *src, float *dst, int precision)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x) {
        const float v = src[i];
        dst[i] = precision == RN_FP16 ? __half2float(__float2half_rn(v)) : __bfloat162float(__float2bfloat16_rn(v));
    }
}

__global__ void pack_kernel(size_t count, const float *src, uint16_t *dst, int precision)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = bits16_of(src[i], precision);
}

__global__ void unpack_kernel(size_t count, const uint16_t *src, float *dst, int precision)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = float_of_bits16(src[i], precision);
}

/* The same, changing the layout on the way (Part 3's NHWC copies for
 * cuDNN): per image a c x hw matrix (NCHW) becomes hw x c (NHWC,
 * "channels last"), or back. A plain per-element copy would read or write
 * with a stride of c or hw elements; instead each block moves a 32 x 32
 * tile through shared memory (one column of padding so the transposed read
 * hits 32 different banks), reading rows and writing rows: both sides
 * coalesced. Blocks of 32 x 8 threads, four elements each; blockIdx.z
 * walks the images. */
constexpr int TILE = 32, TILE_ROWS = 8;

/* Each side of a copy as float: the 16-bit bits widened, or stored. */
__device__ inline float widen(float v, int)
{
    return v;
}
__device__ inline float widen(uint16_t h, int precision)
{
    return float_of_bits16(h, precision);
}
__device__ inline float narrow(float v, float *, int)
{
    return v;
}
__device__ inline uint16_t narrow(float v, uint16_t *, int precision)
{
    return bits16_of(v, precision);
}

/* NCHW float to NHWC 16-bit (to_nhwc) or back: the source's rows are
 * channels or pixels, the tile read along them and written across. */
template <typename In, typename Out, bool to_nhwc>
__global__ void channels_last_kernel(int n, int c, int hw, const In *__restrict__ src, Out *__restrict__ dst,
                                     int precision)
{
    __shared__ float tile[TILE][TILE + 1];
    const int c0 = blockIdx.y * TILE, p0 = blockIdx.x * TILE;
    const int rows = to_nhwc ? c : hw, cols = to_nhwc ? hw : c; /* the source's */
    const int r0 = to_nhwc ? c0 : p0, k0 = to_nhwc ? p0 : c0;
    for (int img = blockIdx.z; img < n; img += gridDim.z) {
        const In *s = src + (size_t)img * c * hw;
        Out *d = dst + (size_t)img * c * hw;
        for (int i = threadIdx.y; i < TILE; i += TILE_ROWS) { /* a source row per i */
            const int r = r0 + i, k = k0 + threadIdx.x;
            if (r < rows && k < cols) tile[i][threadIdx.x] = widen(s[(size_t)r * cols + k], precision);
        }
        __syncthreads();
        for (int i = threadIdx.y; i < TILE; i += TILE_ROWS) { /* a destination row per i */
            const int k = k0 + i, r = r0 + threadIdx.x;
            if (k < cols && r < rows) d[(size_t)k * rows + r] = narrow(tile[threadIdx.x][i], (Out *)nullptr, precision);
        }
        __syncthreads(); /* the tile is refilled for the next image */
    }
}

/* The tiles of an n x c x hw tensor: hw along x, c along y (at most 65535
 * tiles of channels, far above any network's width), the images along z up
 * to its limit, the kernels looping over the rest. */
dim3 channels_last_grid(int n, int c, int hw)
{
    const int images = n < 65535 ? n : 65535;
    return dim3((unsigned)((hw + TILE - 1) / TILE), (unsigned)((c + TILE - 1) / TILE), (unsigned)images);
}

__global__ void scale_kernel(size_t count, float *x, float alpha)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        x[i] *= alpha;
}

/* PyTorch's non-finite check and unscale: the flag is only ever set to 1,
 * so threads that race on it all write the same value. */
__global__ void unscale_check_kernel(size_t count, float *x, float inv_scale, int32_t *found_inf)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x) {
        const float v = x[i];
        if (!isfinite(v)) *found_inf = 1;
        x[i] = v * inv_scale;
    }
}

__global__ void add_kernel(size_t count, const float *a, const float *b, float *y, int out_prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        y[i] = rn_stored(a[i] + b[i], out_prec);
}

/* ------------------------------------------------------------------------
 * Max pooling: one thread per output element forward, one per input
 * element backward (a gather, no atomics); gpu_pool.cuh says how and why.
 * ------------------------------------------------------------------------ */
__global__ void maxpool_forward_kernel(size_t total, int h, int w, int oh, int ow, int k, int stride, int pad,
                                       const float *__restrict__ x, float *__restrict__ y, int32_t *__restrict__ argmax)
{
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total; o += (size_t)gridDim.x * blockDim.x) {
        const pool_out p = pool_out_of(o, oh, ow, stride, pad);
        const float *xp = x + p.plane * h * w;
        float best;
        int best_at;
        pool_window(
            h, w, k, p.y0, p.x0, [xp](int at) { return xp[at]; }, &best, &best_at);
        y[o] = best;
        argmax[o] = best_at;
    }
}

__global__ void maxpool_backward_kernel(size_t total, int h, int w, int oh, int ow, int k, int stride, int pad,
                                        const int32_t *__restrict__ argmax, const float *__restrict__ dy,
                                        float *__restrict__ dx, int out_prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        dx[i] =
            rn_stored(pool_gather(i, h, w, oh, ow, k, stride, pad, argmax, dy, [](size_t) { return true; }), out_prec);
}

/* ------------------------------------------------------------------------
 * Global average pooling: one warp per (n, c) plane, lanes striding over
 * its hw values (coalesced), a warp tree for the sum. The backward spreads
 * each gradient evenly, one thread per input element.
 * ------------------------------------------------------------------------ */
constexpr int AVG_THREADS = 256;
constexpr int AVG_ROWS_PER_BLOCK = AVG_THREADS / WARP;

__global__ void __launch_bounds__(AVG_THREADS)
    avgpool_forward_kernel(size_t rows, int hw, const float *__restrict__ x, float *__restrict__ y)
{
    const size_t row = (size_t)blockIdx.x * AVG_ROWS_PER_BLOCK + threadIdx.x / WARP;
    const int lane = threadIdx.x % WARP;
    if (row >= rows) return; /* a whole warp leaves together: the shuffles stay full */
    const float *xr = x + row * hw;
    float s = 0.0f;
    for (int i = lane; i < hw; i += WARP) s += xr[i];
    s = warp_sum(s);
    if (lane == 0) y[row] = s / (float)hw;
}

__global__ void avgpool_backward_kernel(size_t total, int hw, const float *__restrict__ dy, float *__restrict__ dx)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        dx[i] = dy[i / (size_t)hw] / (float)hw;
}

/* ------------------------------------------------------------------------
 * Linear layer helpers: the products are cuBLAS's; the bias is added to
 * each row, and its gradient is the column sum of dy, one thread per column
 * summing the rows in order (neighbouring threads read neighbouring
 * columns: coalesced).
 * ------------------------------------------------------------------------ */
__global__ void add_bias_rows_kernel(size_t total, int out, const float *__restrict__ bias, float *__restrict__ y)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        y[i] += bias[i % (size_t)out];
}

__global__ void column_sum_kernel(int rows, int cols, const float *__restrict__ m, float *__restrict__ sums,
                                  int accumulate)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; ++r) s += m[(size_t)r * cols + j];
    sums[j] = accumulate ? sums[j] + s : s;
}

/* ------------------------------------------------------------------------
 * Softmax + cross-entropy, fused, in ONE block so that the batch's loss and
 * correct count are summed in a fixed order without atomics or a second
 * kernel. A warp per row (rows warp, warp + 8, ...): the row's max and
 * first arg-max, the sum of exp(z - max) (subtracting the max keeps exp
 * from overflowing), then the gradient (softmax - onehot) / n. The batch is
 * small (a few hundred rows of 10 or 1000 logits), so one block is enough.
 * ------------------------------------------------------------------------ */
constexpr int XENT_THREADS = 256;
constexpr int XENT_WARPS = XENT_THREADS / WARP;

__global__ void __launch_bounds__(XENT_THREADS)
    xent_kernel(int n, int classes, const float *__restrict__ logits, const int32_t *__restrict__ labels,
                float *__restrict__ dlogits, float *__restrict__ loss, int32_t *__restrict__ correct)
{
    __shared__ double warp_loss[XENT_WARPS];
    __shared__ int warp_correct[XENT_WARPS];
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    double my_loss = 0.0; /* lane 0's running sums over this warp's rows */
    int my_correct = 0;

    for (int row = warp; row < n; row += XENT_WARPS) {
        const float *z = logits + (size_t)row * classes;
        float *dz = dlogits + (size_t)row * classes;
        const int label = labels[row];

        /* Max and first arg-max: each lane scans its columns in ascending
         * order (strict >), then lanes combine preferring the larger value
         * and, on a tie, the smaller index: the row's first maximum. */
        float best = -INFINITY;
        int best_at = INT_MAX;
        for (int j = lane; j < classes; j += WARP)
            if (z[j] > best) {
                best = z[j];
                best_at = j;
            }
        for (int off = WARP / 2; off > 0; off >>= 1) {
            const float ob = __shfl_down_sync(FULL_MASK, best, off);
            const int oa = __shfl_down_sync(FULL_MASK, best_at, off);
            if (ob > best || (ob == best && oa < best_at)) {
                best = ob;
                best_at = oa;
            }
        }
        best = __shfl_sync(FULL_MASK, best, 0);
        best_at = __shfl_sync(FULL_MASK, best_at, 0);

        float se = 0.0f;
        for (int j = lane; j < classes; j += WARP) se += expf(z[j] - best);
        se = __shfl_sync(FULL_MASK, warp_sum(se), 0);

        const float inv_se = 1.0f / se, inv_n = 1.0f / (float)n;
        for (int j = lane; j < classes; j += WARP) {
            const float p = expf(z[j] - best) * inv_se;
            dz[j] = (p - (j == label ? 1.0f : 0.0f)) * inv_n;
        }
        if (lane == 0) {
            /* -log softmax[label] = log(se) + max - z[label]. A label out of
             * range is a bug upstream: NaN makes it visible in the loss. */
            const bool valid = label >= 0 && label < classes;
            my_loss += valid ? (double)logf(se) + (double)best - (double)z[label] : NAN;
            my_correct += best_at == label;
        }
    }
    if (lane == 0) {
        warp_loss[warp] = my_loss;
        warp_correct[warp] = my_correct;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double total = 0.0;
        int right = 0;
        for (int i = 0; i < XENT_WARPS; ++i) { /* warp order: fixed */
            total += warp_loss[i];
            right += warp_correct[i];
        }
        *loss = (float)(total / n);
        *correct = right;
    }
}

/* ------------------------------------------------------------------------
 * Adam, one thread per parameter: read p, g, m, v once, write p, m, v once
 * (the whole update is memory-bound; one pass is the least traffic). The
 * bias corrections 1 - b^t are the same for every element, so the host
 * computes them once per step.
 * ------------------------------------------------------------------------ */
/* Every element this thread owns, one Adam update each. */
__device__ void adam_elements(size_t count, float *__restrict__ param, const float *__restrict__ grad,
                              float *__restrict__ m, float *__restrict__ v, float lr, float b1, float b2, float eps,
                              float bias_corr1, float bias_corr2)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x) {
        const float g = grad[i];
        const float mi = b1 * m[i] + (1.0f - b1) * g;
        const float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= lr * (mi / bias_corr1) / (sqrtf(vi / bias_corr2) + eps);
    }
}

__global__ void adam_kernel(size_t count, float *__restrict__ param, const float *__restrict__ grad,
                            float *__restrict__ m, float *__restrict__ v, float lr, float b1, float b2, float eps,
                            float bias_corr1, float bias_corr2)
{
    adam_elements(count, param, grad, m, v, lr, b1, b2, eps, bias_corr1, bias_corr2);
}

/* Adam skipped on the device when the scaler found inf/NaN; its step count
 * read there too. The bias corrections as the host computes them for
 * adam_kernel (adam_bias.h): the same results, bit for bit. */
__global__ void adam_skip_kernel(size_t count, float *__restrict__ param, const float *__restrict__ grad,
                                 float *__restrict__ m, float *__restrict__ v, float lr, float b1, float b2, float eps,
                                 const int32_t *__restrict__ state)
{
    if (state[RN_SCALER_FOUND_INF]) return;
    const int t = state[RN_SCALER_STEP] + 1;
    const float bias_corr1 = rn_adam_bias_correction(b1, t);
    const float bias_corr2 = rn_adam_bias_correction(b2, t);
    adam_elements(count, param, grad, m, v, lr, b1, b2, eps, bias_corr1, bias_corr2);
}

__global__ void scale_by_kernel(size_t count, float *x, const float *scale)
{
    const float alpha = *scale;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        x[i] *= alpha;
}

__global__ void unscale_check_by_kernel(size_t count, float *x, const float *scale, int32_t *state)
{
    const float inv = (float)(1.0 / (double)*scale);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x) {
        const float v = x[i];
        if (!isfinite(v)) state[RN_SCALER_FOUND_INF] = 1;
        x[i] = v * inv;
    }
}

/* GradScaler's update (scale_update.h), one thread. */
__global__ void scaler_update_kernel(float *scale, int32_t *state, double growth, double backoff, int interval)
{
    rn_scale_update_state(scale, state, growth, backoff, interval);
}

} /* namespace */

/* The batch-norm and pooling kernels index a channel or a plane with 32-bit
 * integers (argmax is int32; 32-bit division is several times cheaper than
 * 64-bit). ResNet's tensors are far below 2^31 elements per channel; a
 * larger one is a usage error, said so rather than computed wrong. */
void rn_gpu_check_fits_int(size_t count, const char *op)
{
    if (count > (size_t)INT_MAX) {
        fprintf(stderr,
                "%s: %s: a size of %zu is more than this kernel indexes "
                "(2^31 - 1)\n",
                cs_prog(), op, count);
        exit(2);
    }
}

/* ---- Launchers: the backend table's entries ----------------------------- */

void rn_gpu_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                             float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                             float momentum, float eps)
{
    if (c <= 0 || n <= 0 || hw <= 0) return;
    rn_gpu_check_fits_int((size_t)n * hw, "bn_forward_train");
    bn_train_kernel<<<c, BN_THREADS, 0, rn_gpu_stream()>>>(n, c, hw, x, gamma, beta, y, save_mean, save_invstd,
                                                           running_mean, running_var, momentum, eps,
                                                           rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_bn_forward_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, float eps, float *y)
{
    const size_t total = (size_t)n * c * hw;
    if (n <= 0 || c <= 0 || hw <= 0) return;
    bn_eval_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(total, c, hw, x, gamma, beta, running_mean,
                                                                           running_var, eps, y, rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

/* Gradient accumulation (backend.h's grad_accumulate): read by every
 * backward that writes a parameter gradient, here and in gpu_conv.cu. */
static int accumulate_grads;

void rn_gpu_grad_accumulate(int on)
{
    accumulate_grads = on != 0;
}

int rn_gpu_accumulating(void)
{
    return accumulate_grads;
}

/* Part 3's rounding of the layers' outputs (backend.h's round_outputs):
 * each kernel that writes one takes it as a parameter and stores
 * rn_stored(value), so the rounding costs no pass of its own. */
static int out_precision = RN_FP32;

void rn_gpu_round_outputs(int precision)
{
    out_precision = precision == RN_FP16 || precision == RN_BF16 ? precision : RN_FP32;
}

int rn_gpu_out_precision(void)
{
    return out_precision;
}

void rn_gpu_bn_backward(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                        const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta)
{
    if (c <= 0 || n <= 0 || hw <= 0) return;
    rn_gpu_check_fits_int((size_t)n * hw, "bn_backward");
    bn_backward_kernel<<<c, BN_THREADS, 0, rn_gpu_stream()>>>(n, c, hw, x, 0, gamma, save_mean, save_invstd, dy, dx,
                                                              dgamma, dbeta, rn_gpu_accumulating(),
                                                              rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_bn_backward_bits(int n, int c, int hw, const uint16_t *x, int precision, const float *gamma,
                             const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                             float *dgamma, float *dbeta)
{
    if (c <= 0 || n <= 0 || hw <= 0) return;
    rn_gpu_check_fits_int((size_t)n * hw, "bn_backward_bits");
    bn_backward_kernel<<<c, BN_THREADS, 0, rn_gpu_stream()>>>(n, c, hw, x, precision, gamma, save_mean, save_invstd, dy,
                                                              dx, dgamma, dbeta, rn_gpu_accumulating(),
                                                              rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_relu_forward(size_t count, const float *x, float *y)
{
    if (count == 0) return;
    relu_forward_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, x, y);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_relu_backward(size_t count, const float *y, const float *dy, float *dx)
{
    if (count == 0) return;
    relu_backward_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, y, dy, dx);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_add(size_t count, const float *a, const float *b, float *y)
{
    if (count == 0) return;
    add_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, a, b, y, rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, const float *x, float *y,
                            int32_t *argmax)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t total = (size_t)n * c * oh * ow;
    if (n <= 0 || c <= 0 || oh <= 0 || ow <= 0) return;
    rn_gpu_check_fits_int((size_t)h * w, "maxpool_forward");
    maxpool_forward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(total, h, w, oh, ow, k, stride, pad,
                                                                                   x, y, argmax);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                             const float *dy, float *dx)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t total = (size_t)n * c * h * w;
    if (dx == NULL || total == 0 || oh <= 0 || ow <= 0) return;
    rn_gpu_check_fits_int((size_t)h * w, "maxpool_backward");
    maxpool_backward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, h, w, oh, ow, k, stride, pad, argmax, dy, dx, rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_avgpool_forward(int n, int c, int hw, const float *x, float *y)
{
    const size_t rows = (size_t)n * c;
    if (rows == 0 || hw <= 0) return;
    const size_t blocks = (rows + AVG_ROWS_PER_BLOCK - 1) / AVG_ROWS_PER_BLOCK;
    rn_gpu_check_fits_int(blocks, "avgpool_forward (blocks)");
    avgpool_forward_kernel<<<(unsigned)blocks, AVG_THREADS, 0, rn_gpu_stream()>>>(rows, hw, x, y);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_avgpool_backward(int n, int c, int hw, const float *dy, float *dx)
{
    const size_t total = (size_t)n * c * hw;
    if (dx == NULL || total == 0) return;
    avgpool_backward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(total, hw, dy, dx);
    CUDA_CHECK_LAUNCH();
}

/* y (n x out) = x (n x in) W^T + b, W (out x in) row-major: one GEMM with
 * op(B) = W^T, then the bias. */
void rn_gpu_linear_forward(int n, int in, int out, const float *x, const float *weight, const float *bias, float *y)
{
    if (n <= 0 || out <= 0) return;
    const cudaStream_t s = rn_gpu_stream();
    cs_gemm_cublas(0, 1, n, out, in, 1.0f, x, in, weight, in, 0.0f, y, out, s);
    const size_t total = (size_t)n * out;
    add_bias_rows_kernel<<<rn_grid_for(total), RN_THREADS, 0, s>>>(total, out, bias, y);
    CUDA_CHECK_LAUNCH();
}

/* dW (out x in) = dy^T x;  dx (n x in) = dy W;  db = column sums of dy. */
void rn_gpu_linear_backward(int n, int in, int out, const float *x, const float *weight, const float *dy, float *dx,
                            float *dweight, float *dbias)
{
    if (n <= 0 || out <= 0 || in <= 0) return;
    const cudaStream_t s = rn_gpu_stream();
    const int acc = rn_gpu_accumulating();
    cs_gemm_cublas(1, 0, out, in, n, 1.0f, dy, out, x, in, acc ? 1.0f : 0.0f, dweight, in, s);
    if (dx != NULL) cs_gemm_cublas(0, 0, n, in, out, 1.0f, dy, out, weight, in, 0.0f, dx, in, s);
    const unsigned blocks = (unsigned)((out + RN_THREADS - 1) / RN_THREADS);
    column_sum_kernel<<<blocks, RN_THREADS, 0, s>>>(n, out, dy, dbias, acc);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_xent(int n, int classes, const float *logits, const int32_t *labels, float *dlogits, float *loss,
                 int32_t *correct)
{
    if (n <= 0 || classes <= 0) return;
    xent_kernel<<<1, XENT_THREADS, 0, rn_gpu_stream()>>>(n, classes, logits, labels, dlogits, loss, correct);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_round_to(size_t count, const float *src, float *dst, int precision)
{
    if (count == 0) return;
    if (precision == RN_FP32 || precision == RN_TF32) { /* TF32 rounds inside the products only */
        if (dst != src)
            CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToDevice, rn_gpu_stream()));
        return;
    }
    round_to_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, src, dst, precision);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_pack(size_t count, const float *src, uint16_t *dst, int precision)
{
    if (count == 0) return;
    pack_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, src, dst, precision);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_unpack(size_t count, const uint16_t *src, float *dst, int precision)
{
    if (count == 0) return;
    unpack_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, src, dst, precision);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_pack_channels_last(int n, int c, int hw, const float *src, uint16_t *dst, int precision)
{
    if (n <= 0 || c <= 0 || hw <= 0) return;
    channels_last_kernel<float, uint16_t, true>
        <<<channels_last_grid(n, c, hw), dim3(TILE, TILE_ROWS), 0, rn_gpu_stream()>>>(n, c, hw, src, dst, precision);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_unpack_channels_last(int n, int c, int hw, const uint16_t *src, float *dst, int precision)
{
    if (n <= 0 || c <= 0 || hw <= 0) return;
    channels_last_kernel<uint16_t, float, false>
        <<<channels_last_grid(n, c, hw), dim3(TILE, TILE_ROWS), 0, rn_gpu_stream()>>>(n, c, hw, src, dst, precision);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_scale(size_t count, float *x, float alpha)
{
    if (count == 0) return;
    scale_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, x, alpha);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_unscale_check(size_t count, float *x, float inv_scale, int32_t *found_inf)
{
    if (count == 0) return;
    unscale_check_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, x, inv_scale, found_inf);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_scale_by(size_t count, float *x, const float *scale)
{
    if (count == 0) return;
    scale_by_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, x, scale);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_unscale_check_by(size_t count, float *x, const float *scale, int32_t *state)
{
    if (count == 0) return;
    unscale_check_by_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, x, scale, state);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_adam_skip(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                      float eps, const int32_t *state)
{
    if (count == 0) return;
    adam_skip_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, param, grad, m, v, lr, b1, b2, eps,
                                                                             state);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_scaler_update(float *scale, int32_t *state, double growth, double backoff, int interval)
{
    scaler_update_kernel<<<1, 1, 0, rn_gpu_stream()>>>(scale, state, growth, backoff, interval);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_adam(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                 float eps, int t)
{
    if (count == 0) return;
    /* In double, then rounded once: b^t for t in the thousands is where
     * float's pow would drift first (adam_bias.h). */
    const float bias_corr1 = rn_adam_bias_correction(b1, t);
    const float bias_corr2 = rn_adam_bias_correction(b2, t);
    adam_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, param, grad, m, v, lr, b1, b2, eps,
                                                                        bias_corr1, bias_corr2);
    CUDA_CHECK_LAUNCH();
}
