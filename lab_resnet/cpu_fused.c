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
 * The convolutions stay as they are: torch.compile leaves them to the
 * vendor library too (cuDNN, oneDNN) and fuses what lies between them. */
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

void rn_cpu_bn_add_relu_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                      const float *residual, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, float momentum, float eps)
{
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
