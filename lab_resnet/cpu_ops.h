/* The CPU backend's operations (cpu_conv.c, cpu_layers.c), gathered into
 * the backend table by cpu_backend.c. Each one follows its entry's contract
 * in backend.h; the unit tests (tests/lab_resnet/test_rn_layers.c) call
 * them through rn_cpu_backend(). */
#ifndef RN_CPU_OPS_H
#define RN_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* Gradient accumulation (backend.h's grad_accumulate): 1 while on. */
extern int rn_cpu_accumulate;
void rn_cpu_grad_accumulate(int on);

/* cpu_conv.c: im2col + the best common GEMM backend. */
size_t rn_cpu_conv_work_floats(const rn_conv_shape *s, int n, int h, int w);
const char *rn_cpu_conv_algo(const rn_conv_shape *s, int n, int h, int w);
void rn_cpu_conv_forward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                         float *work);
void rn_cpu_conv_backward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                          const float *dy, float *dx, float *dweight, float *work);
/* The most floats the im2col matrix and the GEMM's output may take in one
 * convolution's scratch (default 16 Mi floats, 64 MiB): above it the batch
 * is processed in chunks of images. Returns the previous value; 0 restores
 * the default. For tests, which make chunks happen on tiny shapes; call it
 * before conv_work_floats. */
size_t rn_cpu_conv_set_chunk_floats(size_t floats);
/* Part 3 (backend.h's conv_math): under RN_BF16 the convolutions' GEMMs
 * multiply in bf16 (cs_gemm_bf16) where the CPU has AVX-512 BF16 and
 * RN_CPU_BF16_GEMM says so - auto (default): where the bf16 GEMM measured
 * faster than the fp32 SGEMM on this machine (cpu_bf16_choice.c); on;
 * off - and in the fp32 SGEMM otherwise and for every other precision. */
enum { RN_BF16_GEMM_AUTO, RN_BF16_GEMM_ON, RN_BF16_GEMM_OFF };
typedef struct {
    int available;       /* the CPU has AVX-512 BF16 */
    int mode;            /* RN_BF16_GEMM_*, from RN_CPU_BF16_GEMM */
    int measured;        /* auto timed both GEMMs: the rates below */
    double bf16_gflops;  /* the bf16 GEMM on the probe's product */
    double sgemm_gflops; /* the fp32 SGEMM the convolutions use otherwise */
    int use;             /* bf16's convolutions use the bf16 GEMM */
} rn_cpu_bf16_choice;
/* Exits 2 on a bad RN_CPU_BF16_GEMM (one line naming it). */
void rn_cpu_bf16_gemm_check_env(void);
/* The decision, measured at the first call (about 30 ms) and kept. */
const rn_cpu_bf16_choice *rn_cpu_bf16_gemm_choice(void);
int rn_cpu_bf16_gemm_enabled(void);
/* Why, in a few words: the CPU, the switch, or the two measured rates. */
const char *rn_cpu_bf16_gemm_why(char *buf, size_t n);
/* Whether the convolutions multiply in bf16 now. */
void rn_cpu_conv_math(int precision);
int rn_cpu_conv_bf16_products(void);
/* Part 5: the forward keeps its patch matrices (and layer4's compact
 * weights) in `keep` (keep_floats of them; 0: the shape builds none), and
 * the backward reads them there instead of building them again. */
size_t rn_cpu_conv_keep_floats(const rn_conv_shape *s, int n, int h, int w);
/* Part 5: the computed taps of a shape that leaves some out (layer4 at
 * 32 x 32), kept compact through the fused step: their count (0: none left
 * out), copies between a dense cout x cin x k x k tensor and the compact
 * cout x kdim one (RN_LIVE_GATHER dense to compact; RN_LIVE_SCATTER compact
 * onto the computed taps; RN_LIVE_EXPAND the same with the others zeroed),
 * whether a dense tensor is zero on every tap left out, the kept backward
 * writing the compact gradient (added to while accumulating), and Adam on
 * the computed taps alone (rn_cpu_adam_taps, the same bits per element). */
size_t rn_cpu_conv_live_floats(const rn_conv_shape *s, int h, int w);
void rn_cpu_conv_live_copy(const rn_conv_shape *s, int h, int w, const float *src, float *dst, int dir);
int rn_cpu_conv_live_dead_zero(const rn_conv_shape *s, int h, int w, const float *dense);
void rn_cpu_conv_backward_kept_live(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                    const float *dy, float *dx, float *dwlive, float *work, const float *kept);
void rn_cpu_conv_adam_live(const rn_conv_shape *s, int h, int w, float *param, const float *glive, float *mlive,
                           float *vlive, float lr, float b1, float b2, float eps, int t);
void rn_cpu_adam_taps(size_t planes, int k, int ky0, int ky1, int kx0, int kx1, float *param, const float *grad,
                      float *m, float *v, float lr, float b1, float b2, float eps, int t);

void rn_cpu_conv_forward_keep(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                              float *y, float *work, float *keep);
void rn_cpu_conv_backward_kept(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                               const float *dy, float *dx, float *dweight, float *work, const float *kept);

/* cpu_layers.c */
/* Batch norm's training statistics of channel ch (save_mean, save_invstd,
 * the running statistics) and the constants of its normalisation,
 * y = (x - mu) * scale + beta: shared by the plain and the fused forward. */
void rn_cpu_bn_train_channel(int n, int c, int hw, const float *x, int ch, const float *gamma, float *save_mean,
                             float *save_invstd, float *running_mean, float *running_var, float momentum, float eps,
                             float *mu, float *scale);
/* The same from the channel's mean and biased variance (computed in
 * double, as channel_stats does): the saved and running statistics, and
 * mu and scale. */
void rn_cpu_bn_train_finish(int n, int hw, int ch, double mean, double var, const float *gamma, float *save_mean,
                            float *save_invstd, float *running_mean, float *running_var, float momentum, float eps,
                            float *mu, float *scale);
/* Rows shorter than this sum with plain loops (cpu_layers.c: a simd
 * reduction's horizontal sum costs more than it saves on them). */
#define RN_SIMD_MIN_ROW 16
/* Batch norm backward's per-channel constants, dx = a * dy + b * (x - mu) + d,
 * from the channel's sums of dy and dy * (x - mean); writes dgamma and
 * dbeta (overwritten, or added while accumulating). */
typedef struct {
    float a, b, d, mu;
} rn_bn_dx;
void rn_cpu_bn_backward_coeffs(int n, int hw, int ch, const float *gamma, const float *save_mean,
                               const float *save_invstd, double sum_dy, double sum_dy_xc, float *dgamma, float *dbeta,
                               rn_bn_dx *k);
/* Batch norm's backward of channel ch (rn_cpu_bn_backward's per-channel
 * work: its sums, dgamma and dbeta, then its dx when dx is set). */
void rn_cpu_bn_backward_channel(int n, int c, int hw, int ch, const float *x, const float *gamma,
                                const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta);
/* Max pooling of one h x w plane (rn_cpu_maxpool_forward's per-plane work). */
void rn_cpu_maxpool_plane(int h, int w, int k, int stride, int pad, const float *xp, float *yp, int32_t *ap);
void rn_cpu_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                             float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                             float momentum, float eps);
void rn_cpu_bn_forward_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, float eps, float *y);
void rn_cpu_bn_backward(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                        const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta);
void rn_cpu_bn_backward_bits(int n, int c, int hw, const uint16_t *x, int precision, const float *gamma,
                             const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                             float *dgamma, float *dbeta);
void rn_cpu_relu_forward(size_t count, const float *x, float *y);
void rn_cpu_relu_backward(size_t count, const float *y, const float *dy, float *dx);
void rn_cpu_add(size_t count, const float *a, const float *b, float *y);
void rn_cpu_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, const float *x, float *y,
                            int32_t *argmax);
void rn_cpu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                             const float *dy, float *dx);
void rn_cpu_avgpool_forward(int n, int c, int hw, const float *x, float *y);
void rn_cpu_avgpool_backward(int n, int c, int hw, const float *dy, float *dx);
void rn_cpu_linear_forward(int n, int in, int out, const float *x, const float *weight, const float *bias, float *y);
void rn_cpu_linear_backward(int n, int in, int out, const float *x, const float *weight, const float *dy, float *dx,
                            float *dweight, float *dbias);
void rn_cpu_xent(int n, int classes, const float *logits, const int32_t *labels, float *dlogits, float *loss,
                 int32_t *correct);
void rn_cpu_round_to(size_t count, const float *src, float *dst, int precision);
void rn_cpu_pack(size_t count, const float *src, uint16_t *dst, int precision);
void rn_cpu_unpack(size_t count, const uint16_t *src, float *dst, int precision);
void rn_cpu_scale(size_t count, float *x, float alpha);
void rn_cpu_unscale_check(size_t count, float *x, float inv_scale, int32_t *found_inf);
void rn_cpu_scale_by(size_t count, float *x, const float *scale);
void rn_cpu_unscale_check_by(size_t count, float *x, const float *scale, int32_t *state);
void rn_cpu_adam_skip(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                      float eps, const int32_t *state);
void rn_cpu_scaler_update(float *scale, int32_t *state, double growth, double backoff, int interval);
void rn_cpu_adam(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                 float eps, int t);
void rn_cpu_adam_multi(int ntensors, const rn_adam_tensor *ts, float lr, float b1, float b2, float eps, int t);

/* cpu_fused.c: Part 5's fusions (backend.h). */
void rn_cpu_bn_add_relu_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                      const float *residual, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, float momentum, float eps);
void rn_cpu_relu_bn_backward(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                             float *dbeta);
void rn_cpu_bn_relu_maxpool_forward_train(int n, int c, int h, int w, int k, int stride, int pad, const float *x,
                                          const float *gamma, const float *beta, float *pooled, int32_t *argmax,
                                          float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                                          float momentum, float eps);
void rn_cpu_relu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const float *pooled,
                                  const int32_t *argmax, const float *dy, float *dx);

/* cpu_round.c: the table's entries under round_outputs (backend.h): each
 * operation above, its outputs then rounded while the mode is on. */
void rn_cpu_round_outputs(int precision);
void rn_cpu_conv_forward_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                           float *work);
void rn_cpu_conv_backward_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                            const float *dy, float *dx, float *dweight, float *work);
void rn_cpu_conv_forward_keep_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                float *y, float *work, float *keep);
void rn_cpu_conv_backward_kept_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                 const float *dy, float *dx, float *dweight, float *work, const float *kept);
void rn_cpu_conv_backward_kept_live_r(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                      const float *dy, float *dx, float *dwlive, float *work, const float *kept);
void rn_cpu_bn_forward_train_r(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                               float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                               float momentum, float eps);
void rn_cpu_bn_forward_eval_r(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                              const float *running_mean, const float *running_var, float eps, float *y);
void rn_cpu_bn_add_relu_forward_train_r(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                        const float *residual, float *y, float *save_mean, float *save_invstd,
                                        float *running_mean, float *running_var, float momentum, float eps);
void rn_cpu_bn_backward_r(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                          const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta);
void rn_cpu_bn_backward_bits_r(int n, int c, int hw, const uint16_t *x, int precision, const float *gamma,
                               const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                               float *dgamma, float *dbeta);
void rn_cpu_relu_bn_backward_r(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                               float *dbeta);
void rn_cpu_add_r(size_t count, const float *a, const float *b, float *y);
void rn_cpu_maxpool_backward_r(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                               const float *dy, float *dx);
void rn_cpu_relu_maxpool_backward_r(int n, int c, int h, int w, int k, int stride, int pad, const float *pooled,
                                    const int32_t *argmax, const float *dy, float *dx);

#endif
