/* The CPU backend's round_outputs (backend.h): autocast's rounding of what
 * a layer writes. On the CPU every operation computes in float (OpenBLAS's
 * SGEMM writes float sums; F16C and the bf16 rounding are conversions, not
 * arithmetic), so each output is rounded right after its operation: the
 * one pass over it that the model made itself before the entry existed,
 * the same bits. The GPU's kernels round as they store, and there the pass
 * disappears (gpu_layers.cu); one entry lets the model say "these outputs
 * are 16-bit values" once for both. */
#include "cpu_ops.h"

#include "precision.h"

static int out_precision = RN_FP32;

void rn_cpu_round_outputs(int precision)
{
    out_precision = precision == RN_FP16 || precision == RN_BF16 ? precision : RN_FP32;
}

static void rounded(float *x, size_t count)
{
    if (x != NULL && out_precision != RN_FP32) rn_cpu_round_to(count, x, x, out_precision);
}

static size_t conv_out_count(const rn_conv_shape *s, int n, int h, int w)
{
    return (size_t)n * s->cout * rn_out_size(h, s->k, s->stride, s->pad) * rn_out_size(w, s->k, s->stride, s->pad);
}

static size_t conv_weights(const rn_conv_shape *s)
{
    return (size_t)s->cout * s->cin * s->k * s->k;
}

void rn_cpu_conv_forward_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                           float *work)
{
    rn_cpu_conv_forward(s, n, h, w, x, weight, y, work);
    rounded(y, conv_out_count(s, n, h, w));
}

void rn_cpu_conv_backward_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                            const float *dy, float *dx, float *dweight, float *work)
{
    rn_cpu_conv_backward(s, n, h, w, x, weight, dy, dx, dweight, work);
    rounded(dx, (size_t)n * s->cin * h * w);
    rounded(dweight, conv_weights(s));
}

void rn_cpu_conv_forward_keep_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                float *y, float *work, float *keep)
{
    rn_cpu_conv_forward_keep(s, n, h, w, x, weight, y, work, keep);
    rounded(y, conv_out_count(s, n, h, w));
}

void rn_cpu_conv_backward_kept_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                 const float *dy, float *dx, float *dweight, float *work, const float *kept)
{
    rn_cpu_conv_backward_kept(s, n, h, w, x, weight, dy, dx, dweight, work, kept);
    rounded(dx, (size_t)n * s->cin * h * w);
    rounded(dweight, conv_weights(s));
}

void rn_cpu_conv_backward_kept_live_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                      const float *dy, float *dx, float *dwlive, float *work, const float *kept)
{
    rn_cpu_conv_backward_kept_live(s, n, h, w, x, weight, dy, dx, dwlive, work, kept);
    rounded(dx, (size_t)n * s->cin * h * w);
    rounded(dwlive, rn_cpu_conv_live_floats(s, h, w));
}

void rn_cpu_bn_forward_train_r(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                               float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                               float momentum, float eps)
{
    rn_cpu_bn_forward_train(n, c, hw, x, gamma, beta, y, save_mean, save_invstd, running_mean, running_var, momentum,
                            eps);
    rounded(y, (size_t)n * c * hw);
}

void rn_cpu_bn_forward_eval_r(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                              const float *running_mean, const float *running_var, float eps, float *y)
{
    rn_cpu_bn_forward_eval(n, c, hw, x, gamma, beta, running_mean, running_var, eps, y);
    rounded(y, (size_t)n * c * hw);
}

void rn_cpu_bn_add_relu_forward_train_r(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                        const float *residual, float *y, float *save_mean, float *save_invstd,
                                        float *running_mean, float *running_var, float momentum, float eps)
{
    rn_cpu_bn_add_relu_forward_train(n, c, hw, x, gamma, beta, residual, y, save_mean, save_invstd, running_mean,
                                     running_var, momentum, eps);
    rounded(y, (size_t)n * c * hw);
}

void rn_cpu_bn_backward_r(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                          const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta)
{
    rn_cpu_bn_backward(n, c, hw, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
    rounded(dx, (size_t)n * c * hw);
}

void rn_cpu_bn_backward_bits_r(int n, int c, int hw, const uint16_t *x, int precision, const float *gamma,
                               const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                               float *dgamma, float *dbeta)
{
    rn_cpu_bn_backward_bits(n, c, hw, x, precision, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
    rounded(dx, (size_t)n * c * hw);
}

void rn_cpu_relu_bn_backward_r(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                               float *dbeta)
{
    rn_cpu_relu_bn_backward(n, c, hw, y, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
    rounded(dx, (size_t)n * c * hw);
}

void rn_cpu_add_r(size_t count, const float *a, const float *b, float *y)
{
    rn_cpu_add(count, a, b, y);
    rounded(y, count);
}

void rn_cpu_maxpool_backward_r(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                               const float *dy, float *dx)
{
    rn_cpu_maxpool_backward(n, c, h, w, k, stride, pad, argmax, dy, dx);
    rounded(dx, (size_t)n * c * h * w);
}

void rn_cpu_relu_maxpool_backward_r(int n, int c, int h, int w, int k, int stride, int pad, const float *pooled,
                                    const int32_t *argmax, const float *dy, float *dx)
{
    rn_cpu_relu_maxpool_backward(n, c, h, w, k, stride, pad, pooled, argmax, dy, dx);
    rounded(dx, (size_t)n * c * h * w);
}
