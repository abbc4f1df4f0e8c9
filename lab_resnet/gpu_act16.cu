/* Part 3 on the GPU: the activations between layers in 16 bits, channels
 * last (backend.h's act16), as PyTorch's autocast with channels_last keeps
 * them.
 *
 *   what a 16-bit step moves             float between layers   act16
 *   a convolution's input and output     float NCHW, packed to  16-bit NHWC,
 *                                        16-bit NHWC for cuDNN  read and written
 *                                        and widened back       by cuDNN as is
 *   batch norm, ReLU, add, max pooling   4 bytes a value        2 bytes a value
 *   the saved activations                packed (a pass each)   are the outputs
 *
 * The same values either way: every layer's output was already rounded to
 * fp16 or bf16 as it was stored (round_outputs), so holding those values in
 * 16 bits changes no number; what changes is the bytes moved and the passes
 * made. Only the sums' order differs (batch norm's statistics are summed
 * over chunks of rows here), so results agree to rounding, not bit for bit.
 *
 * Layout: an n x c x h x w activation is n x h x w x c, element (img, pixel,
 * channel) at (img * hw + pixel) * c + channel: a pixel's channels are
 * neighbours, which is what cuDNN's tensor-core convolutions read; batch
 * norm's per-channel sums then run across a block's lanes (a warp covers 64
 * consecutive channels of a row) and down its rows.
 *
 * Every function here is a table entry that runs the float kernel
 * (gpu_layers.cu) unless the mode is on. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"
#include "gpu_pool.cuh"
#include "gpu_reduce.cuh"

extern "C" {
#include "cs_console.h"
}

namespace
{

/* The mode: RN_FP16 or RN_BF16 while the model's pass keeps its
 * activations in 16 bits, else 0 (rn_gpu_act16). */
int act_prec;

__device__ __forceinline__ float ld16(const uint16_t *p, size_t e, int prec)
{
    return float_of_bits16(p[e], prec);
}

/* ------------------------------------------------------------------------
 * Batch norm's sums over channels-last data (stage 1 of gpu_fused.cu's
 * two-stage reduction): block (k, g) takes chunk k of the rows (pixels of
 * the batch) for channels 64 g ... 64 g + 63. Its 256 threads are 32 lanes
 * across the channels (two neighbours each, one walk down the rows per
 * channel: the even channels' loads, then the odd ones', the second mostly
 * from cache; reading both in one walk is a tuning left open) by 8 down the
 * rows; each sums its share in double (gpu_layers.cu says why), then lane
 * column by lane column the 8 row shares are added in order (no atomics:
 * deterministic).
 * Forward: sum x and sum x^2; backward: sum dy and sum dy (x - mean).
 * ------------------------------------------------------------------------ */
constexpr int CL_THREADS = 256, CL_LANES = 32, CL_ROWS = CL_THREADS / CL_LANES, CL_CHANNELS = 2 * CL_LANES;
constexpr int CL_MAX_BLOCKS = 512; /* about four per SM on an H100 or H200 */

template <bool backward>
__global__ void __launch_bounds__(CL_THREADS)
    cl_bn_partial_kernel(unsigned rows, int c, int chunks, const uint16_t *__restrict__ x,
                         const uint16_t *__restrict__ dy, const float *__restrict__ mean, int prec,
                         double *__restrict__ part)
{
    __shared__ double share[CL_ROWS][CL_CHANNELS][2];
    const int k = blockIdx.x, lane = threadIdx.x % CL_LANES, row_lane = threadIdx.x / CL_LANES;
    double a[2] = {0.0, 0.0}, b[2] = {0.0, 0.0};
    unsigned lo, hi;
    chunk_range(rows, chunks, k, &lo, &hi);
    for (int j = 0; j < 2; j++) {
        const int ch = blockIdx.y * CL_CHANNELS + 2 * lane + j;
        if (ch >= c) break;
        const float mu = backward ? mean[ch] : 0.0f;
        for (unsigned r = lo + row_lane; r < hi; r += CL_ROWS) {
            const size_t e = (size_t)r * c + ch;
            const float v = ld16(x, e, prec);
            if (backward) {
                const float g = ld16(dy, e, prec);
                a[j] += g;
                b[j] += (double)g * (double)(v - mu);
            } else {
                a[j] += v;
                b[j] += (double)v * v;
            }
        }
    }
    for (int j = 0; j < 2; j++) {
        share[row_lane][2 * lane + j][0] = a[j];
        share[row_lane][2 * lane + j][1] = b[j];
    }
    __syncthreads();
    if (threadIdx.x >= CL_CHANNELS) return;
    const int ch = blockIdx.y * CL_CHANNELS + threadIdx.x;
    if (ch >= c) return;
    double sa = 0.0, sb = 0.0;
    for (int r = 0; r < CL_ROWS; r++) {
        sa += share[r][threadIdx.x][0];
        sb += share[r][threadIdx.x][1];
    }
    part[((size_t)ch * chunks + k) * 2] = sa;
    part[((size_t)ch * chunks + k) * 2 + 1] = sb;
}

/* Chunks of rows for c channels: enough blocks to fill the GPU, none with
 * fewer than 256 rows. */
int cl_chunks(unsigned rows, int c)
{
    const int groups = (c + CL_CHANNELS - 1) / CL_CHANNELS;
    unsigned k = (rows + 255) / 256, most = (unsigned)(CL_MAX_BLOCKS / groups);
    if (most < 1) most = 1;
    if (k > most) k = most;
    return k ? (int)k : 1;
}

/* Stage 3 of the forward: y = (x - mean) * (gamma * invstd) + beta, as
 * gpu_layers.cu's bn_train_kernel, rounded into 16 bits. y may be x. */
__global__ void cl_bn_apply_kernel(size_t total, int c, const uint16_t *x, const float *__restrict__ gamma,
                                   const float *__restrict__ beta, const float *__restrict__ mean,
                                   const float *__restrict__ invstd, uint16_t *y, int prec)
{
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)(e % (size_t)c);
        y[e] = bits16_of(fmaf(ld16(x, e, prec) - mean[ch], gamma[ch] * invstd[ch], beta[ch]), prec);
    }
}

/* Evaluation with the running statistics, as bn_eval_kernel. */
__global__ void cl_bn_eval_kernel(size_t total, int c, const uint16_t *x, const float *__restrict__ gamma,
                                  const float *__restrict__ beta, const float *__restrict__ running_mean,
                                  const float *__restrict__ running_var, float eps, uint16_t *y, int prec)
{
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)(e % (size_t)c);
        const float invstd = 1.0f / sqrtf(running_var[ch] + eps);
        y[e] = bits16_of((ld16(x, e, prec) - running_mean[ch]) * invstd * gamma[ch] + beta[ch], prec);
    }
}

/* Stage 3 of the backward: dx from the coefficients stage 2 wrote. dx may
 * be dy. */
__global__ void cl_bn_dx_kernel(size_t total, int c, const uint16_t *__restrict__ x, const float *__restrict__ mean,
                                const float *__restrict__ invstd, const bn_dx_coef *__restrict__ coef,
                                const uint16_t *dy, uint16_t *dx, int prec)
{
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)(e % (size_t)c);
        dx[e] = bits16_of(bn_dx(coef[ch], ld16(x, e, prec), ld16(dy, e, prec), mean[ch], invstd[ch]), prec);
    }
}

/* ------------------------------------------------------------------------
 * Elementwise, layout-free: ReLU (from the output, as gpu_layers.cu), its
 * derivative, add (the sum rounded into 16 bits). In place is safe.
 * ------------------------------------------------------------------------ */
__global__ void cl_relu_forward_kernel(size_t count, const uint16_t *x, uint16_t *y, int prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        y[i] = ld16(x, i, prec) > 0.0f ? x[i] : (uint16_t)0;
}

__global__ void cl_relu_backward_kernel(size_t count, const uint16_t *y, const uint16_t *dy, uint16_t *dx, int prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dx[i] = ld16(y, i, prec) > 0.0f ? dy[i] : (uint16_t)0;
}

__global__ void cl_add_kernel(size_t count, const uint16_t *a, const uint16_t *b, uint16_t *y, int prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        y[i] = bits16_of(ld16(a, i, prec) + ld16(b, i, prec), prec);
}

/* ------------------------------------------------------------------------
 * Pooling on channels-last planes: gpu_pool.cuh's window scan and gather
 * with NHWC indexing; the argmax is still the winner's index within its
 * (n, c) plane (iy * w + ix), stored per output in NHWC order. Neighbouring
 * threads take neighbouring channels: coalesced.
 * ------------------------------------------------------------------------ */
__global__ void cl_maxpool_forward_kernel(size_t total, int c, int h, int w, int oh, int ow, int k, int stride, int pad,
                                          const uint16_t *__restrict__ x, uint16_t *__restrict__ y,
                                          int32_t *__restrict__ argmax, int prec)
{
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total; o += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)(o % (size_t)c);
        const size_t t = o / (size_t)c;
        const pool_out p = pool_out_of(t, oh, ow, stride, pad); /* p.plane: the image */
        const uint16_t *xp = x + p.plane * h * w * c + ch;
        float best;
        int best_at;
        pool_window(
            h, w, k, p.y0, p.x0, [=](int at) { return ld16(xp, (size_t)at * c, prec); }, &best, &best_at);
        y[o] = best_at < 0 ? (uint16_t)0 : xp[(size_t)best_at * c]; /* the winner's bits */
        argmax[o] = best_at;
    }
}

__global__ void cl_maxpool_backward_kernel(size_t total, int c, int h, int w, int oh, int ow, int k, int stride,
                                           int pad, const int32_t *__restrict__ argmax, const uint16_t *__restrict__ dy,
                                           uint16_t *__restrict__ dx, int prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)(i % (size_t)c);
        size_t t = i / (size_t)c;
        const int ix = (int)(t % (size_t)w);
        t /= (size_t)w;
        const int iy = (int)(t % (size_t)h);
        const size_t out0 = (t / (size_t)h) * oh * ow;
        const float g = pool_gather_at(
            iy, ix, w, oh, ow, k, stride, pad, argmax,
            [=](int oy, int ox) { return (out0 + (size_t)oy * ow + ox) * c + ch; }, [](size_t) { return true; },
            [=](size_t o) { return ld16(dy, o, prec); });
        dx[i] = bits16_of(g, prec);
    }
}

/* Global average pooling: one thread per (image, channel), walking the
 * image's pixels (neighbouring threads read neighbouring channels); the
 * pooled features are float, as the float path's. Backward: each pixel's
 * share of the gradient, rounded into 16 bits. */
__global__ void cl_avgpool_forward_kernel(size_t total, int c, int hw, const uint16_t *__restrict__ x,
                                          float *__restrict__ y, int prec)
{
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total; o += (size_t)gridDim.x * blockDim.x) {
        const size_t img = o / (size_t)c, ch = o % (size_t)c;
        const uint16_t *xp = x + img * hw * c + ch;
        float s = 0.0f;
        for (int p = 0; p < hw; p++) s += ld16(xp, (size_t)p * c, prec);
        y[o] = s / (float)hw;
    }
}

__global__ void cl_avgpool_backward_kernel(size_t total, int c, int hw, const float *__restrict__ dy,
                                           uint16_t *__restrict__ dx, int prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t ch = i % (size_t)c, img = i / ((size_t)c * hw);
        dx[i] = bits16_of(dy[img * c + ch] / (float)hw, prec);
    }
}

const uint16_t *h16(const float *p)
{
    return (const uint16_t *)p;
}
uint16_t *h16(float *p)
{
    return (uint16_t *)p;
}

} /* namespace */

/* ---- The mode ------------------------------------------------------------ */

int rn_gpu_act16_ok(int precision)
{
    if (precision != RN_FP16 && precision != RN_BF16) return 0;
    if (cs_env_choice("RN_GPU_ACTIVATIONS", "half", "float") != 0) return 0;
    return rn_gpu_conv_act16_ok();
}

void rn_gpu_act16(int precision)
{
    act_prec = precision == RN_FP16 || precision == RN_BF16 ? precision : 0;
}

int rn_gpu_act16_precision(void)
{
    return act_prec;
}

void rn_gpu_act16_pack(int n, int c, int hw, const float *src, float *dst)
{
    rn_gpu_pack_channels_last(n, c, hw, src, h16(dst), act_prec ? act_prec : RN_FP16);
}

/* ---- The table's layer entries -------------------------------------------- */

void rn_gpu_act_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                                 float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                                 float momentum, float eps)
{
    if (!act_prec) {
        rn_gpu_bn_forward_train(n, c, hw, x, gamma, beta, y, save_mean, save_invstd, running_mean, running_var,
                                momentum, eps);
        return;
    }
    if (n <= 0 || c <= 0 || hw <= 0) return;
    const size_t rows = (size_t)n * hw, total = rows * c;
    rn_gpu_check_fits_int(rows, "bn_forward_train (16-bit)");
    const int chunks = cl_chunks((unsigned)rows, c);
    double *part = rn_gpu_bn_partials(c, chunks);
    const dim3 grid((unsigned)chunks, (unsigned)((c + CL_CHANNELS - 1) / CL_CHANNELS));
    cl_bn_partial_kernel<false>
        <<<grid, CL_THREADS, 0, rn_gpu_stream()>>>((unsigned)rows, c, chunks, h16(x), NULL, NULL, act_prec, part);
    CUDA_CHECK_LAUNCH();
    rn_gpu_bn_stats_from_partials(c, chunks, (unsigned)rows, save_mean, save_invstd, running_mean, running_var,
                                  momentum, eps);
    cl_bn_apply_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(total, c, h16(x), gamma, beta, save_mean,
                                                                               save_invstd, h16(y), act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_bn_forward_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                const float *running_mean, const float *running_var, float eps, float *y)
{
    if (!act_prec) {
        rn_gpu_bn_forward_eval(n, c, hw, x, gamma, beta, running_mean, running_var, eps, y);
        return;
    }
    const size_t total = (size_t)n * c * hw;
    if (n <= 0 || c <= 0 || hw <= 0) return;
    cl_bn_eval_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, c, h16(x), gamma, beta, running_mean, running_var, eps, h16(y), act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_bn_backward(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                            const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta)
{
    if (!act_prec) {
        rn_gpu_bn_backward(n, c, hw, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
        return;
    }
    if (n <= 0 || c <= 0 || hw <= 0) return;
    const size_t rows = (size_t)n * hw, total = rows * c;
    rn_gpu_check_fits_int(rows, "bn_backward (16-bit)");
    const int chunks = cl_chunks((unsigned)rows, c);
    double *part = rn_gpu_bn_partials(c, chunks);
    const dim3 grid((unsigned)chunks, (unsigned)((c + CL_CHANNELS - 1) / CL_CHANNELS));
    cl_bn_partial_kernel<true><<<grid, CL_THREADS, 0, rn_gpu_stream()>>>((unsigned)rows, c, chunks, h16(x), h16(dy),
                                                                         save_mean, act_prec, part);
    CUDA_CHECK_LAUNCH();
    rn_gpu_bn_grads_from_partials(c, chunks, (unsigned)rows, gamma, save_invstd, dgamma, dbeta);
    if (dx == NULL) return;
    cl_bn_dx_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, c, h16(x), save_mean, save_invstd, (const bn_dx_coef *)rn_gpu_bn_coefs(), h16(dy), h16(dx), act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_relu_forward(size_t count, const float *x, float *y)
{
    if (!act_prec) {
        rn_gpu_relu_forward(count, x, y);
        return;
    }
    if (count == 0) return;
    cl_relu_forward_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, h16(x), h16(y), act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_relu_backward(size_t count, const float *y, const float *dy, float *dx)
{
    if (!act_prec) {
        rn_gpu_relu_backward(count, y, dy, dx);
        return;
    }
    if (count == 0) return;
    cl_relu_backward_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, h16(y), h16(dy), h16(dx),
                                                                                    act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_add(size_t count, const float *a, const float *b, float *y)
{
    if (!act_prec) {
        rn_gpu_add(count, a, b, y);
        return;
    }
    if (count == 0) return;
    cl_add_kernel<<<rn_grid_for(count), RN_THREADS, 0, rn_gpu_stream()>>>(count, h16(a), h16(b), h16(y), act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, const float *x, float *y,
                                int32_t *argmax)
{
    if (!act_prec) {
        rn_gpu_maxpool_forward(n, c, h, w, k, stride, pad, x, y, argmax);
        return;
    }
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t total = (size_t)n * c * oh * ow;
    if (n <= 0 || c <= 0 || oh <= 0 || ow <= 0) return;
    rn_gpu_check_fits_int((size_t)h * w, "maxpool_forward (16-bit)");
    cl_maxpool_forward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, c, h, w, oh, ow, k, stride, pad, h16(x), h16(y), argmax, act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                                 const float *dy, float *dx)
{
    if (!act_prec) {
        rn_gpu_maxpool_backward(n, c, h, w, k, stride, pad, argmax, dy, dx);
        return;
    }
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t total = (size_t)n * c * h * w;
    if (dx == NULL || total == 0 || oh <= 0 || ow <= 0) return;
    rn_gpu_check_fits_int((size_t)h * w, "maxpool_backward (16-bit)");
    cl_maxpool_backward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, c, h, w, oh, ow, k, stride, pad, argmax, h16(dy), h16(dx), act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_avgpool_forward(int n, int c, int hw, const float *x, float *y)
{
    if (!act_prec) {
        rn_gpu_avgpool_forward(n, c, hw, x, y);
        return;
    }
    const size_t total = (size_t)n * c;
    if (total == 0 || hw <= 0) return;
    cl_avgpool_forward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(total, c, hw, h16(x), y,
                                                                                      act_prec);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_act_avgpool_backward(int n, int c, int hw, const float *dy, float *dx)
{
    if (!act_prec) {
        rn_gpu_avgpool_backward(n, c, hw, dy, dx);
        return;
    }
    const size_t total = (size_t)n * c * hw;
    if (dx == NULL || total == 0) return;
    cl_avgpool_backward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(total, c, hw, dy, h16(dx),
                                                                                       act_prec);
    CUDA_CHECK_LAUNCH();
}
