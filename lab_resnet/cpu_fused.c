/* Part 5 on the CPU: the fusions torch.compile's generated kernels make,
 * written by hand. Each gives the separate operations' result bit for bit
 * (the same float operations in the same order: the tests compare with
 * ==), in fewer passes over the activations and fewer thread-team starts:
 *
 *   operations                          passes, separate       fused
 *   bn + relu                           stats 2, norm 1, relu 1         stats 2, norm 1
 *   bn + add + relu (a block's end)     stats 2, norm 1, add 1, relu 1  stats 2, norm 1
 *   relu backward + bn backward         mask 1, sums 1, dx 1            the same, one thread team
 *   bn + relu + max pool (the stem)     stats 2, norm 1, relu 1, pool 1 stats 2, norm + pool 1
 *   relu backward + max pool backward   scatter 1, mask 1               scatter 1
 *
 * The convolutions' products stay as they are: torch.compile leaves them
 * to the vendor library too (cuDNN, oneDNN) and fuses what lies between
 * them. What the fused step does change about them, keeping the forward's
 * patch matrices for the backward, is in cpu_conv.c (conv_forward_keep). */
#include "cpu_ops.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_memory.h"

#define RN_PAR_MIN 16384 /* elements below which a loop runs on one thread (cpu_layers.c's) */

static inline float relu1(float v)
{
    return v > 0.0f ? v : 0.0f;
}

/* ---- short rows: memory in order ------------------------------------------------ */

/* Deep in the network at 32 x 32 a channel's rows hold 1 to 4 values
 * (layer3 2 x 2, layer4 1 x 1) and lie c * hw floats apart, so batch norm's
 * per-channel loops (cpu_layers.c) spend their time stepping between rows.
 * For such planes the fused kernels sweep memory in order, as a compiler
 * picks the loop order of the code it generates for a shape: image by
 * image, each thread over its block of channels, one running sum per
 * channel. Each channel's sums are the same additions in the same order
 * (a row's values from 0.0, then the rows one after another; cpu_layers.c
 * sums rows this short with plain loops too): the same bits. */

/* Thread id of nth's channels [*c0, *c1). */
static void channel_block(int c, int *c0, int *c1)
{
    int id = 0, nth = 1;
#ifdef _OPENMP
    id = omp_get_thread_num();
    nth = omp_get_num_threads();
#endif
    *c0 = (int)((long)c * id / nth);
    *c1 = (int)((long)c * (id + 1) / nth);
}

/* The training statistics of channels [c0, c1): mean[] and var[] (double),
 * as channel_stats computes them (the mean first, then the squared
 * deviations from it). */
static void short_stats(int n, int c, int hw, const float *x, int c0, int c1, double *mean, double *var)
{
    const double count = (double)n * hw;
    for (int ch = c0; ch < c1; ch++) mean[ch] = var[ch] = 0.0;
    for (int i = 0; i < n; i++)
        for (int ch = c0; ch < c1; ch++) {
            const float *p = x + ((size_t)i * c + ch) * hw;
            double s = 0.0;
            for (int j = 0; j < hw; j++) s += p[j];
            mean[ch] += s;
        }
    for (int ch = c0; ch < c1; ch++) mean[ch] /= count;
    for (int i = 0; i < n; i++)
        for (int ch = c0; ch < c1; ch++) {
            const float *p = x + ((size_t)i * c + ch) * hw;
            const double mu = mean[ch];
            double s = 0.0;
            for (int j = 0; j < hw; j++) s += (p[j] - mu) * (p[j] - mu);
            var[ch] += s;
        }
    for (int ch = c0; ch < c1; ch++) var[ch] /= count;
}

static void bn_short_forward(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                             const float *residual, float *y, float *save_mean, float *save_invstd, float *running_mean,
                             float *running_var, float momentum, float eps)
{
    double *mean = cs_alloc(2 * (size_t)c * sizeof *mean, "batch norm's sums"), *var = mean + c;
    float *mu = cs_alloc(2 * (size_t)c * sizeof *mu, "batch norm's constants"), *scale = mu + c;
#pragma omp parallel if ((size_t)n * c * hw > RN_PAR_MIN)
    {
        int c0, c1;
        channel_block(c, &c0, &c1);
        short_stats(n, c, hw, x, c0, c1, mean, var);
        for (int ch = c0; ch < c1; ch++)
            rn_cpu_bn_train_finish(n, hw, ch, mean[ch], var[ch], gamma, save_mean, save_invstd, running_mean,
                                   running_var, momentum, eps, &mu[ch], &scale[ch]);
        for (int i = 0; i < n; i++)
            for (int ch = c0; ch < c1; ch++) {
                const size_t row = ((size_t)i * c + ch) * hw;
                const float m = mu[ch], sc = scale[ch], b = beta[ch];
                for (int j = 0; j < hw; j++) {
                    const float v = (x[row + j] - m) * sc + b;
                    y[row + j] = relu1(residual ? v + residual[row + j] : v);
                }
            }
    }
    cs_free(mu);
    cs_free(mean);
}

static void bn_short_backward(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                              const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                              float *dbeta)
{
    double *sum_dy = cs_alloc(2 * (size_t)c * sizeof *sum_dy, "batch norm's sums"), *sum_dyx = sum_dy + c;
    rn_bn_dx *k = cs_alloc((size_t)c * sizeof *k, "batch norm's constants");
#pragma omp parallel if ((size_t)n * c * hw > RN_PAR_MIN)
    {
        int c0, c1;
        channel_block(c, &c0, &c1);
        for (int ch = c0; ch < c1; ch++) sum_dy[ch] = sum_dyx[ch] = 0.0;
        /* The ReLU's mask into dy, and batch norm's sums, in one sweep. */
        for (int i = 0; i < n; i++)
            for (int ch = c0; ch < c1; ch++) {
                const size_t row = ((size_t)i * c + ch) * hw;
                const double mean = save_mean[ch];
                double a = 0.0, b = 0.0;
                for (int j = 0; j < hw; j++) {
                    const float g = y[row + j] > 0.0f ? dy[row + j] : 0.0f;
                    dy[row + j] = g;
                    a += g;
                    b += g * (x[row + j] - mean);
                }
                sum_dy[ch] += a;
                sum_dyx[ch] += b;
            }
        for (int ch = c0; ch < c1; ch++)
            rn_cpu_bn_backward_coeffs(n, hw, ch, gamma, save_mean, save_invstd, sum_dy[ch], sum_dyx[ch], dgamma, dbeta,
                                      &k[ch]);
        for (int i = 0; i < n; i++)
            for (int ch = c0; ch < c1; ch++) {
                const size_t row = ((size_t)i * c + ch) * hw;
                const rn_bn_dx q = k[ch];
                for (int j = 0; j < hw; j++) dx[row + j] = q.a * dy[row + j] + q.b * (x[row + j] - q.mu) + q.d;
            }
    }
    cs_free(k);
    cs_free(sum_dy);
}

void rn_cpu_bn_add_relu_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                      const float *residual, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, float momentum, float eps)
{
    if (hw < RN_SIMD_MIN_ROW) {
        bn_short_forward(n, c, hw, x, gamma, beta, residual, y, save_mean, save_invstd, running_mean, running_var,
                         momentum, eps);
        return;
    }
#pragma omp parallel for schedule(static) if ((size_t)n * c * hw > RN_PAR_MIN)
    for (int ch = 0; ch < c; ch++) {
        float mu, scale;
        rn_cpu_bn_train_channel(n, c, hw, x, ch, gamma, save_mean, save_invstd, running_mean, running_var, momentum,
                                eps, &mu, &scale);
        const float b = beta[ch];
        for (int i = 0; i < n; i++) {
            const size_t row = ((size_t)i * c + ch) * hw;
            const float *xp = x + row;
            float *yp = y + row;
            if (residual) {
                const float *rp = residual + row;
                for (int j = 0; j < hw; j++) {
                    const float v = (xp[j] - mu) * scale + b; /* what bn writes */
                    yp[j] = relu1(v + rp[j]);                 /* then add, then relu */
                }
            } else {
                for (int j = 0; j < hw; j++) yp[j] = relu1((xp[j] - mu) * scale + b);
            }
        }
    }
}

/* The ReLU's mask goes into dy, then batch norm's backward reads it, both
 * in one thread team (one start, a barrier between). At 32 x 32 the
 * tensors fit in the cache, so a pass over them is cheap and the team's
 * start is a large part of a small operation. Two other ways were slower
 * here: the mask taken on the fly inside batch norm's sums (2x: a compare
 * and a blend per value in both its passes), and the mask written channel
 * by channel just before the channel's sums (1.2-1.4x: short strided rows,
 * where the flat loop is one vectorized sweep). */
void rn_cpu_relu_bn_backward(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                             float *dbeta)
{
    if (hw < RN_SIMD_MIN_ROW) {
        bn_short_backward(n, c, hw, y, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
        return;
    }
    const size_t total = (size_t)n * c * hw;
#pragma omp parallel if (total > RN_PAR_MIN)
    {
#pragma omp for simd schedule(static)
        for (size_t i = 0; i < total; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
#pragma omp for schedule(static)
        for (int ch = 0; ch < c; ch++)
            rn_cpu_bn_backward_channel(n, c, hw, ch, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
    }
}

void rn_cpu_bn_relu_maxpool_forward_train(int n, int c, int h, int w, int k, int stride, int pad, const float *x,
                                          const float *gamma, const float *beta, float *pooled, int32_t *argmax,
                                          float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                                          float momentum, float eps)
{
    const size_t plane = (size_t)h * w, total = (size_t)n * c * plane;
    const size_t out_plane = (size_t)rn_out_size(h, k, stride, pad) * rn_out_size(w, k, stride, pad);
    float *mu = cs_alloc(2 * (size_t)c * sizeof *mu, "fused stem's batch norm constants"), *scale = mu + c;
#pragma omp parallel for schedule(static) if (total > RN_PAR_MIN)
    for (int ch = 0; ch < c; ch++)
        rn_cpu_bn_train_channel(n, c, (int)plane, x, ch, gamma, save_mean, save_invstd, running_mean, running_var,
                                momentum, eps, &mu[ch], &scale[ch]);
    /* Each thread normalises one (image, channel) plane at a time into its
     * own buffer (at 32 x 32, 16 x 16 floats: it stays in L1) and pools it. */
    int threads = 1;
#ifdef _OPENMP
    threads = total > RN_PAR_MIN ? omp_get_max_threads() : 1;
#endif
    float *bufs = cs_alloc((size_t)threads * plane * sizeof *bufs, "fused stem's plane buffers");
    const int planes = n * c;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        int id = 0;
#ifdef _OPENMP
        id = omp_get_thread_num();
#endif
        float *buf = bufs + (size_t)id * plane;
#pragma omp for schedule(static)
        for (int pl = 0; pl < planes; pl++) {
            const int ch = pl % c;
            const float *xp = x + (size_t)pl * plane, m = mu[ch], s = scale[ch], b = beta[ch];
            for (size_t j = 0; j < plane; j++) buf[j] = relu1((xp[j] - m) * s + b);
            rn_cpu_maxpool_plane(h, w, k, stride, pad, buf, pooled + pl * out_plane, argmax + pl * out_plane);
        }
    }
    cs_free(bufs);
    cs_free(mu);
}

void rn_cpu_relu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const float *pooled,
                                  const int32_t *argmax, const float *dy, float *dx)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const int planes = n * c;
#pragma omp parallel for schedule(static) if ((size_t)planes * h * w > RN_PAR_MIN)
    for (int pl = 0; pl < planes; pl++) {
        float *dxp = dx + (size_t)pl * h * w;
        const size_t at = (size_t)pl * oh * ow;
        memset(dxp, 0, (size_t)h * w * sizeof *dxp);
        for (int o = 0; o < oh * ow; o++)
            if (argmax[at + o] >= 0 && pooled[at + o] > 0.0f) dxp[argmax[at + o]] += dy[at + o];
    }
}
