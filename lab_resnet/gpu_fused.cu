/* Part 5 on the GPU: the fused kernels torch.compile generates, written by
 * hand (backend.h's bn_add_relu_forward_train, relu_bn_backward,
 * bn_relu_maxpool_forward_train, relu_maxpool_backward, adam_multi).
 *
 *   operations                        launches, separate             fused
 *   bn (+ add) + relu                 bn 1 (one block per channel),  stats 2 (all SMs), normalise+add+relu 1
 *                                     add 1, relu 1
 *   relu backward + bn backward       mask 1, bn 1                   sums 2 (masking dy on the way), dx 1
 *   bn + relu + max pool (the stem)   bn 1, relu 1, pool 1           stats 2, pool of relu(bn(x)) 1
 *   relu backward + max pool backward pool 1, mask 1                 pool 1 (the mask is "pooled > 0")
 *   Adam                              one per tensor (62)            one per 48 tensors (2)
 *
 * The two-stage batch norm reduction. The separate kernel (gpu_layers.cu)
 * gives each channel one block, which leaves most SMs idle where channels
 * are few (64 blocks in ResNet's first layers on an H100's 132 SMs: 2.8 ms
 * of a 17.5 ms step at 224). Here a channel's n * hw values are cut into
 * up to BN_CHUNKS chunks, one block each (stage 1: partial sums, in
 * double), then one thread per channel adds its chunks' partials in chunk
 * order (stage 2): as deterministic as one block per channel (no atomics,
 * a fixed order), but the sums are taken in another order than the
 * separate kernel's, so the results agree to rounding (compile's check
 * allows 1e-5), not bit for bit.
 *
 * tools/gpu_verify.sh runs test_rn_gpu_layers (every fused entry against
 * the separate operations) and `lab_resnet compile`; both passed on an
 * H200 (docs/results/gpu_h200/).
 * Every launcher enqueues on the backend's stream and returns without
 * waiting. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"
#include "gpu_pool.cuh"
#include "gpu_reduce.cuh"
#include "adam_bias.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "cs_console.h"
}

namespace
{

constexpr int FUSED_THREADS = 256;
constexpr int BN_CHUNKS = 32;           /* most blocks per channel */
constexpr unsigned BN_CHUNK_MIN = 4096; /* fewest elements per block */

/* The reduction's scratch, device memory kept between calls: two doubles
 * per (channel, chunk) for stage 1, and per channel the coefficients the
 * backward's dx needs. Grown (never inside a CUDA graph capture: the first
 * step sizes it) and freed by rn_gpu_fused_release. */
double *partials;
bn_dx_coef *coefs;
size_t partials_cap, coefs_cap;

void reserve_scratch(int c, int chunks)
{
    const size_t need_p = (size_t)c * chunks * 2, need_c = (size_t)c;
    if (need_p > partials_cap) {
        if (partials) CUDA_CHECK(cudaFree(partials));
        CUDA_CHECK(cudaMalloc(&partials, need_p * sizeof *partials));
        partials_cap = need_p;
    }
    if (need_c > coefs_cap) {
        if (coefs) CUDA_CHECK(cudaFree(coefs));
        CUDA_CHECK(cudaMalloc(&coefs, need_c * sizeof *coefs));
        coefs_cap = need_c;
    }
}

/* Chunks per channel for `count` values: enough blocks to fill the GPU
 * where channels are few, none smaller than BN_CHUNK_MIN values. */
int chunks_for(unsigned count)
{
    unsigned k = (count + BN_CHUNK_MIN - 1) / BN_CHUNK_MIN;
    if (k > (unsigned)BN_CHUNKS) k = BN_CHUNKS;
    return k ? (int)k : 1;
}

/* The partial sums' layout: two doubles per (channel, chunk), chunks in
 * order. A block's thread 0 writes its chunk's; stage 2 adds a channel's
 * in chunk order (a fixed order: deterministic). */
__device__ __forceinline__ void put_partials(double *part, int ch, int chunks, int k, double a, double b)
{
    if (threadIdx.x != 0) return;
    part[((size_t)ch * chunks + k) * 2] = a;
    part[((size_t)ch * chunks + k) * 2 + 1] = b;
}

__device__ __forceinline__ void sum_partials(const double *part, int ch, int chunks, double *a, double *b)
{
    *a = *b = 0.0;
    for (int k = 0; k < chunks; k++) {
        *a += part[((size_t)ch * chunks + k) * 2];
        *b += part[((size_t)ch * chunks + k) * 2 + 1];
    }
}

/* Stage 1 of the forward's statistics: block (k, ch) sums chunk k of channel
 * ch, sum and sum of squares (double, one pass: gpu_layers.cu says why). */
__global__ void __launch_bounds__(FUSED_THREADS)
    bn_partial_kernel(int n, int c, int hw, int chunks, const float *__restrict__ x, double *__restrict__ part)
{
    const int k = blockIdx.x, ch = blockIdx.y;
    unsigned lo, hi;
    chunk_range((unsigned)n * (unsigned)hw, chunks, k, &lo, &hi);
    double sum = 0.0, sumsq = 0.0;
    for (unsigned j = lo + threadIdx.x; j < hi; j += FUSED_THREADS) {
        const double v = x[channel_elem(j, hw, c, ch)];
        sum += v;
        sumsq += v * v;
    }
    block_sum2<FUSED_THREADS>(sum, sumsq);
    put_partials(part, ch, chunks, k, sum, sumsq);
}

/* Stage 2: one thread per channel adds its chunks in order; then the same
 * statistics and running averages as gpu_layers.cu's bn_train_kernel. */
__global__ void bn_stats_kernel(int c, int chunks, unsigned count, const double *__restrict__ part,
                                float *__restrict__ save_mean, float *__restrict__ save_invstd,
                                float *__restrict__ running_mean, float *__restrict__ running_var, float momentum,
                                float eps)
{
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double sum, sumsq;
    sum_partials(part, ch, chunks, &sum, &sumsq);
    bn_store_stats(bn_stats_of(sum, sumsq, count, eps), count, ch, momentum, save_mean, save_invstd, running_mean,
                   running_var);
}

/* batch norm's output as the separate kernel computes it, from the saved
 * statistics: (x - mean) * (gamma * invstd) + beta. */
__device__ __forceinline__ float bn_value(float x, int ch, const float *__restrict__ gamma,
                                          const float *__restrict__ beta, const float *__restrict__ mean,
                                          const float *__restrict__ invstd)
{
    return fmaf(x - mean[ch], gamma[ch] * invstd[ch], beta[ch]);
}

/* Stage 3 of the forward: y = relu(bn(x) + residual), or relu(bn(x)) when
 * residual is NULL, one pass, one thread per element. y may be x. */
__global__ void bn_add_relu_kernel(size_t total, int c, int hw, const float *x, const float *__restrict__ gamma,
                                   const float *__restrict__ beta, const float *__restrict__ mean,
                                   const float *__restrict__ invstd, const float *residual, float *y, int out_prec)
{
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)((e / (size_t)hw) % (size_t)c);
        float v = bn_value(x[e], ch, gamma, beta, mean, invstd);
        if (residual) v = v + residual[e];
        y[e] = rn_stored(v > 0.0f ? v : 0.0f, out_prec);
    }
}

/* The stem: max pooling of relu(bn(x)), computed as the window is scanned;
 * the normalised plane is never written. */
__global__ void bn_relu_pool_kernel(size_t total, int c, int h, int w, int oh, int ow, int k, int stride, int pad,
                                    const float *__restrict__ x, const float *__restrict__ gamma,
                                    const float *__restrict__ beta, const float *__restrict__ mean,
                                    const float *__restrict__ invstd, float *__restrict__ pooled,
                                    int32_t *__restrict__ argmax)
{
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total; o += (size_t)gridDim.x * blockDim.x) {
        const pool_out p = pool_out_of(o, oh, ow, stride, pad);
        const int ch = (int)(p.plane % (size_t)c);
        const float *xp = x + p.plane * h * w;
        float best;
        int best_at;
        pool_window(
            h, w, k, p.y0, p.x0,
            [=](int at) {
                const float v = bn_value(xp[at], ch, gamma, beta, mean, invstd);
                return v > 0.0f ? v : 0.0f;
            },
            &best, &best_at);
        pooled[o] = best;
        argmax[o] = best_at;
    }
}

/* Stage 1 of the backward: dy becomes the ReLU's input gradient (dy where
 * y > 0, else 0), written back for the shortcut's backward, while block
 * (k, ch) sums chunk k of it and of dy * (x - mean). */
__global__ void __launch_bounds__(FUSED_THREADS)
    relu_bn_partial_kernel(int n, int c, int hw, int chunks, const float *__restrict__ y, const float *__restrict__ x,
                           const float *__restrict__ mean, float *dy, double *__restrict__ part)
{
    const int k = blockIdx.x, ch = blockIdx.y;
    unsigned lo, hi;
    chunk_range((unsigned)n * (unsigned)hw, chunks, k, &lo, &hi);
    const float mu = mean[ch];
    double sum_dy = 0.0, sum_dy_xmu = 0.0;
    for (unsigned j = lo + threadIdx.x; j < hi; j += FUSED_THREADS) {
        const size_t e = channel_elem(j, hw, c, ch);
        const float g = y[e] > 0.0f ? dy[e] : 0.0f;
        dy[e] = g;
        sum_dy += g;
        sum_dy_xmu += (double)g * (double)(x[e] - mu);
    }
    block_sum2<FUSED_THREADS>(sum_dy, sum_dy_xmu);
    put_partials(part, ch, chunks, k, sum_dy, sum_dy_xmu);
}

/* Stage 2 of the backward: per channel, dbeta and dgamma (added to when
 * accumulating), and dx's coefficients into coef. */
__global__ void relu_bn_grads_kernel(int c, int chunks, unsigned count, const double *__restrict__ part,
                                     const float *__restrict__ gamma, const float *__restrict__ invstd,
                                     float *__restrict__ dgamma, float *__restrict__ dbeta,
                                     bn_dx_coef *__restrict__ coef, int accumulate)
{
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double sum_dy, sum_dy_xmu;
    sum_partials(part, ch, chunks, &sum_dy, &sum_dy_xmu);
    coef[ch] = bn_param_grads(sum_dy, sum_dy_xmu, count, ch, gamma[ch], invstd[ch], accumulate, true, dgamma, dbeta);
}

/* Stage 3 of the backward: dx = gamma * invstd * (dy - mean(dy) - xhat *
 * mean(dy * xhat)), from the masked dy. dx may be dy. */
__global__ void bn_dx_kernel(size_t total, int c, int hw, const float *__restrict__ x, const float *__restrict__ mean,
                             const float *__restrict__ invstd, const bn_dx_coef *__restrict__ coef, const float *dy,
                             float *dx, int out_prec)
{
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)((e / (size_t)hw) % (size_t)c);
        dx[e] = rn_stored(bn_dx(coef[ch], x[e], dy[e], mean[ch], invstd[ch]), out_prec);
    }
}

/* Max pooling's backward through the ReLU before it: the gradient reaches
 * a window's winner only where the pooled value is > 0. */
__global__ void relu_pool_backward_kernel(size_t total, int h, int w, int oh, int ow, int k, int stride, int pad,
                                          const float *__restrict__ pooled, const int32_t *__restrict__ argmax,
                                          const float *__restrict__ dy, float *__restrict__ dx, int out_prec)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        dx[i] = rn_stored(
            pool_gather(i, h, w, oh, ow, k, stride, pad, argmax, dy, [pooled](size_t o) { return pooled[o] > 0.0f; }),
            out_prec);
}

/* Multi-tensor Adam: up to ADAM_LIST tensors per launch, their pointers in
 * the kernel's parameters (about 2 KB, under the 4 KB every CUDA version
 * takes), their elements laid end to end (start[i] .. start[i + 1]). Each
 * thread walks the elements grid-stride, its tensor index only moving
 * forward. The same arithmetic per element as gpu_layers.cu's adam_kernel,
 * the bias corrections computed once on the host in double: the same
 * bits. */
constexpr int ADAM_LIST = 48;
struct adam_list {
    float *param[ADAM_LIST];
    const float *grad[ADAM_LIST];
    float *m[ADAM_LIST], *v[ADAM_LIST];
    size_t start[ADAM_LIST + 1];
    int n;
};

__global__ void adam_multi_kernel(adam_list l, float lr, float b1, float b2, float eps, float bias_corr1,
                                  float bias_corr2)
{
    const size_t total = l.start[l.n];
    int t = 0;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        while (e >= l.start[t + 1]) t++;
        const size_t i = e - l.start[t];
        const float g = l.grad[t][i];
        const float mi = b1 * l.m[t][i] + (1.0f - b1) * g;
        const float vi = b2 * l.v[t][i] + (1.0f - b2) * g * g;
        l.m[t][i] = mi;
        l.v[t][i] = vi;
        l.param[t][i] -= lr * (mi / bias_corr1) / (sqrtf(vi / bias_corr2) + eps);
    }
}

/* The launchers' common checks: the kernels index a channel with 32 bits. */
void check_channel_fits(int n, int hw, const char *op)
{
    if ((size_t)n * (size_t)hw > 0x7fffffffu) {
        fprintf(stderr, "%s: %s: a channel of %zu values is more than this kernel indexes (2^31 - 1)\n", cs_prog(), op,
                (size_t)n * (size_t)hw);
        exit(2);
    }
}

/* Stages 1 and 2 of the forward's statistics. */
void bn_statistics(int n, int c, int hw, const float *x, float *save_mean, float *save_invstd, float *running_mean,
                   float *running_var, float momentum, float eps)
{
    const unsigned count = (unsigned)n * (unsigned)hw;
    const int chunks = chunks_for(count);
    reserve_scratch(c, chunks);
    bn_partial_kernel<<<dim3(chunks, c), FUSED_THREADS, 0, rn_gpu_stream()>>>(n, c, hw, chunks, x, partials);
    CUDA_CHECK_LAUNCH();
    bn_stats_kernel<<<(c + FUSED_THREADS - 1) / FUSED_THREADS, FUSED_THREADS, 0, rn_gpu_stream()>>>(
        c, chunks, count, partials, save_mean, save_invstd, running_mean, running_var, momentum, eps);
    CUDA_CHECK_LAUNCH();
}

} /* namespace */

void rn_gpu_bn_add_relu_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                      const float *residual, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, float momentum, float eps)
{
    if (n <= 0 || c <= 0 || hw <= 0) return;
    check_channel_fits(n, hw, "bn_add_relu_forward_train");
    bn_statistics(n, c, hw, x, save_mean, save_invstd, running_mean, running_var, momentum, eps);
    const size_t total = (size_t)n * c * hw;
    bn_add_relu_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, c, hw, x, gamma, beta, save_mean, save_invstd, residual, y, rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_relu_bn_backward(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                             float *dbeta)
{
    if (n <= 0 || c <= 0 || hw <= 0) return;
    check_channel_fits(n, hw, "relu_bn_backward");
    const unsigned count = (unsigned)n * (unsigned)hw;
    const int chunks = chunks_for(count);
    reserve_scratch(c, chunks);
    relu_bn_partial_kernel<<<dim3(chunks, c), FUSED_THREADS, 0, rn_gpu_stream()>>>(n, c, hw, chunks, y, x, save_mean,
                                                                                   dy, partials);
    CUDA_CHECK_LAUNCH();
    relu_bn_grads_kernel<<<(c + FUSED_THREADS - 1) / FUSED_THREADS, FUSED_THREADS, 0, rn_gpu_stream()>>>(
        c, chunks, count, partials, gamma, save_invstd, dgamma, dbeta, coefs, rn_gpu_accumulating());
    CUDA_CHECK_LAUNCH();
    if (dx == NULL) return;
    const size_t total = (size_t)n * c * hw;
    bn_dx_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(total, c, hw, x, save_mean, save_invstd, coefs,
                                                                         dy, dx, rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_bn_relu_maxpool_forward_train(int n, int c, int h, int w, int k, int stride, int pad, const float *x,
                                          const float *gamma, const float *beta, float *pooled, int32_t *argmax,
                                          float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                                          float momentum, float eps)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || oh <= 0 || ow <= 0) return;
    check_channel_fits(n, h * w, "bn_relu_maxpool_forward_train");
    bn_statistics(n, c, h * w, x, save_mean, save_invstd, running_mean, running_var, momentum, eps);
    const size_t total = (size_t)n * c * oh * ow;
    bn_relu_pool_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, c, h, w, oh, ow, k, stride, pad, x, gamma, beta, save_mean, save_invstd, pooled, argmax);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_relu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const float *pooled,
                                  const int32_t *argmax, const float *dy, float *dx)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t total = (size_t)n * c * h * w;
    if (dx == NULL || total == 0 || oh <= 0 || ow <= 0) return;
    check_channel_fits(h, w, "relu_maxpool_backward");
    relu_pool_backward_kernel<<<rn_grid_for(total), RN_THREADS, 0, rn_gpu_stream()>>>(
        total, h, w, oh, ow, k, stride, pad, pooled, argmax, dy, dx, rn_gpu_out_precision());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_adam_multi(int ntensors, const rn_adam_tensor *ts, float lr, float b1, float b2, float eps, int t)
{
    const float bias_corr1 = rn_adam_bias_correction(b1, t);
    const float bias_corr2 = rn_adam_bias_correction(b2, t);
    for (int first = 0; first < ntensors; first += ADAM_LIST) {
        adam_list l;
        l.n = ntensors - first < ADAM_LIST ? ntensors - first : ADAM_LIST;
        l.start[0] = 0;
        for (int i = 0; i < l.n; i++) {
            const rn_adam_tensor *a = &ts[first + i];
            l.param[i] = a->param;
            l.grad[i] = a->grad;
            l.m[i] = a->m;
            l.v[i] = a->v;
            l.start[i + 1] = l.start[i] + a->count;
        }
        if (l.start[l.n] == 0) continue;
        adam_multi_kernel<<<rn_grid_for(l.start[l.n]), RN_THREADS, 0, rn_gpu_stream()>>>(l, lr, b1, b2, eps, bias_corr1,
                                                                                         bias_corr2);
        CUDA_CHECK_LAUNCH();
    }
}

double *rn_gpu_bn_partials(int c, int chunks)
{
    reserve_scratch(c, chunks);
    return partials;
}

const void *rn_gpu_bn_coefs(void)
{
    return coefs;
}

void rn_gpu_bn_stats_from_partials(int c, int chunks, unsigned count, float *save_mean, float *save_invstd,
                                   float *running_mean, float *running_var, float momentum, float eps)
{
    bn_stats_kernel<<<(c + FUSED_THREADS - 1) / FUSED_THREADS, FUSED_THREADS, 0, rn_gpu_stream()>>>(
        c, chunks, count, partials, save_mean, save_invstd, running_mean, running_var, momentum, eps);
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_bn_grads_from_partials(int c, int chunks, unsigned count, const float *gamma, const float *save_invstd,
                                   float *dgamma, float *dbeta)
{
    relu_bn_grads_kernel<<<(c + FUSED_THREADS - 1) / FUSED_THREADS, FUSED_THREADS, 0, rn_gpu_stream()>>>(
        c, chunks, count, partials, gamma, save_invstd, dgamma, dbeta, coefs, rn_gpu_accumulating());
    CUDA_CHECK_LAUNCH();
}

void rn_gpu_fused_release(void)
{
    if (partials) CUDA_CHECK(cudaFree(partials));
    if (coefs) CUDA_CHECK(cudaFree(coefs));
    partials = NULL;
    coefs = NULL;
    partials_cap = coefs_cap = 0;
}
