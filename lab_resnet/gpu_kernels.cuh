/* The GPU backend's operations (gpu_conv.cu, gpu_layers.cu), gathered into
 * the backend table by gpu_backend.cu. Each one follows its entry's contract
 * in backend.h: device pointers, NCHW, enqueued on the backend's one stream
 * and returned without waiting (only to_host and sync wait).
 *
 * C++ only (the .cu files include it); C code reaches these through
 * rn_gpu_backend(). */
#ifndef RN_GPU_KERNELS_CUH
#define RN_GPU_KERNELS_CUH

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

extern "C" {
#include "backend.h" /* rn_conv_shape, rn_out_size */
#include "precision.h"
}

/* gpu_backend.cu: the backend's stream, created on first use together with
 * its cuBLAS handle. Every kernel, copy and library call of the backend
 * goes on it, so they run in the order the model issues them. */
cudaStream_t rn_gpu_stream(void);

/* Threads per block of the elementwise kernels, and their grid: one thread
 * per element up to a cap, beyond which each thread loops (grid-stride), so
 * a huge count never asks for more blocks than the GPU can hold at once. */
#define RN_THREADS 256
static inline unsigned rn_grid_for(size_t count)
{
    size_t blocks = (count + RN_THREADS - 1) / RN_THREADS;
    const size_t cap = 8192; /* ~8 waves of 8 blocks on 132 SMs: plenty */
    if (blocks > cap) blocks = cap;
    return blocks ? (unsigned)blocks : 1u;
}

/* gpu_conv.cu: im2col + cuBLAS, or cuDNN when it was built (RN_CONV=im2col
 * in the environment forces im2col). */
size_t rn_gpu_conv_work_floats(const rn_conv_shape *s, int n, int h, int w);
void rn_gpu_conv_release(void);
const char *rn_gpu_conv_algo(const rn_conv_shape *s, int n, int h, int w);
void rn_gpu_conv_forward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                         float *work);
void rn_gpu_conv_backward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                          const float *dy, float *dx, float *dweight, float *work);

/* gpu_layers.cu */
void rn_gpu_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                             float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                             float momentum, float eps);
void rn_gpu_bn_forward_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, float eps, float *y);
void rn_gpu_bn_backward(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                        const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta);
void rn_gpu_bn_backward_bits(int n, int c, int hw, const uint16_t *x, int precision, const float *gamma,
                             const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                             float *dgamma, float *dbeta);
void rn_gpu_relu_forward(size_t count, const float *x, float *y);
void rn_gpu_relu_backward(size_t count, const float *y, const float *dy, float *dx);
void rn_gpu_add(size_t count, const float *a, const float *b, float *y);
void rn_gpu_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, const float *x, float *y,
                            int32_t *argmax);
void rn_gpu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                             const float *dy, float *dx);
void rn_gpu_avgpool_forward(int n, int c, int hw, const float *x, float *y);
void rn_gpu_avgpool_backward(int n, int c, int hw, const float *dy, float *dx);
void rn_gpu_linear_forward(int n, int in, int out, const float *x, const float *weight, const float *bias, float *y);
void rn_gpu_linear_backward(int n, int in, int out, const float *x, const float *weight, const float *dy, float *dx,
                            float *dweight, float *dbias);
void rn_gpu_xent(int n, int classes, const float *logits, const int32_t *labels, float *dlogits, float *loss,
                 int32_t *correct);
void rn_gpu_round_to(size_t count, const float *src, float *dst, int precision);
/* backend.h's round_outputs: the precision the layers' outputs are rounded
 * to as they are stored (RN_FP32: not at all), read by each launcher and
 * passed to its kernel, which stores rn_stored(value, it). */
void rn_gpu_round_outputs(int precision);
int rn_gpu_out_precision(void);
__device__ __forceinline__ float rn_stored(float v, int precision)
{
    /* round_to_kernel's conversions (gpu_layers.cu): the same bits */
    if (precision == RN_FP16) return __half2float(__float2half_rn(v));
    if (precision == RN_BF16) return __bfloat162float(__float2bfloat16_rn(v));
    return v;
}
/* The 16-bit storage of an activation: its fp16 or bf16 bits (rounded to
 * nearest, ties to even: rn_stored's values), and back. */
__device__ __forceinline__ uint16_t bits16_of(float v, int precision)
{
    return precision == RN_FP16 ? __half_as_ushort(__float2half_rn(v)) : __bfloat16_as_ushort(__float2bfloat16_rn(v));
}
__device__ __forceinline__ float float_of_bits16(uint16_t h, int precision)
{
    return precision == RN_FP16 ? __half2float(__ushort_as_half(h)) : __bfloat162float(__ushort_as_bfloat16(h));
}
/* gpu_layers.cu: exits 2, naming `op`, when count is past what a kernel
 * indexing with 32-bit integers reaches (2^31 - 1). */
void rn_gpu_check_fits_int(size_t count, const char *op);
void rn_gpu_conv_math(int precision);
void rn_gpu_grad_accumulate(int on);
int rn_gpu_accumulating(void);
void rn_gpu_pack(size_t count, const float *src, uint16_t *dst, int precision);
void rn_gpu_unpack(size_t count, const uint16_t *src, float *dst, int precision);
/* The same between an n x c x hw float tensor (NCHW) and 16-bit copies in
 * NHWC order ("channels last": element (img, pixel, channel) at
 * (img * hw + pixel) * c + channel), for cuDNN's tensor cores (Part 3). */
void rn_gpu_pack_channels_last(int n, int c, int hw, const float *src, uint16_t *dst, int precision);
void rn_gpu_unpack_channels_last(int n, int c, int hw, const uint16_t *src, float *dst, int precision);
void rn_gpu_scale(size_t count, float *x, float alpha);
void rn_gpu_unscale_check(size_t count, float *x, float inv_scale, int32_t *found_inf);
void rn_gpu_scale_by(size_t count, float *x, const float *scale);
void rn_gpu_unscale_check_by(size_t count, float *x, const float *scale, int32_t *state);
void rn_gpu_adam_skip(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                      float eps, const int32_t *state);
void rn_gpu_scaler_update(float *scale, int32_t *state, double growth, double backoff, int interval);
void rn_gpu_adam(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                 float eps, int t);

/* gpu_fused.cu: Part 5's fused kernels (backend.h's entries of the same
 * names); rn_gpu_fused_release frees their reduction scratch. */
void rn_gpu_bn_add_relu_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                      const float *residual, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, float momentum, float eps);
void rn_gpu_relu_bn_backward(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                             float *dbeta);
void rn_gpu_bn_relu_maxpool_forward_train(int n, int c, int h, int w, int k, int stride, int pad, const float *x,
                                          const float *gamma, const float *beta, float *pooled, int32_t *argmax,
                                          float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                                          float momentum, float eps);
void rn_gpu_relu_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const float *pooled,
                                  const int32_t *argmax, const float *dy, float *dx);
void rn_gpu_adam_multi(int ntensors, const rn_adam_tensor *ts, float lr, float b1, float b2, float eps, int t);
void rn_gpu_fused_release(void);
/* The two-stage batch norm reduction's scratch and stage 2 (gpu_fused.cu),
 * shared with gpu_act16.cu, whose stage 1 reads channels-last tensors:
 * rn_gpu_bn_partials makes room for two doubles per (channel, chunk) and
 * returns them (laid out channel by channel, chunks in order); the stage-2
 * launchers add a channel's chunks in order into its statistics, or into
 * its parameter gradients and the coefficients of dx (rn_gpu_bn_coefs: a
 * bn_dx_coef per channel, gpu_reduce.cuh). */
double *rn_gpu_bn_partials(int c, int chunks);
const void *rn_gpu_bn_coefs(void);
void rn_gpu_bn_stats_from_partials(int c, int chunks, unsigned count, float *save_mean, float *save_invstd,
                                   float *running_mean, float *running_var, float momentum, float eps);
void rn_gpu_bn_grads_from_partials(int c, int chunks, unsigned count, const float *gamma, const float *save_invstd,
                                   float *dgamma, float *dbeta);
/* gpu_act16.cu: Part 3's activations in 16 bits, channels last (backend.h's
 * act16 entries). The table's layer entries are the rn_gpu_act_ ones, which
 * run the 16-bit kernels while the mode is on and the float ones above
 * otherwise; the rn_gpu_ functions above stay float in every mode (the
 * convolutions add float weight gradients with rn_gpu_add). */
int rn_gpu_act16_ok(int precision);
void rn_gpu_act16(int precision);
int rn_gpu_act16_precision(void);
void rn_gpu_act16_pack(int n, int c, int hw, const float *src, float *dst);
int rn_gpu_conv_act16_ok(void);
void rn_gpu_act_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                                 float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                                 float momentum, float eps);
void rn_gpu_act_bn_forward_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                const float *running_mean, const float *running_var, float eps, float *y);
void rn_gpu_act_bn_backward(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                            const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta);
void rn_gpu_act_relu_forward(size_t count, const float *x, float *y);
void rn_gpu_act_relu_backward(size_t count, const float *y, const float *dy, float *dx);
void rn_gpu_act_add(size_t count, const float *a, const float *b, float *y);
void rn_gpu_act_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, const float *x, float *y,
                                int32_t *argmax);
void rn_gpu_act_maxpool_backward(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                                 const float *dy, float *dx);
void rn_gpu_act_avgpool_forward(int n, int c, int hw, const float *x, float *y);
void rn_gpu_act_avgpool_backward(int n, int c, int hw, const float *dy, float *dx);

/* gpu_graph.cu: Part 5's CUDA graph (backend.h's graph_* entries);
 * rn_gpu_graph_release frees the graph and cuBLAS's fixed workspace once
 * the stream's cuBLAS handle is destroyed. */
int rn_gpu_graph_begin(void);
int rn_gpu_graph_end(void);
void rn_gpu_graph_launch(int id);
void rn_gpu_graph_free(void);
void rn_gpu_graph_release(void);

#endif
