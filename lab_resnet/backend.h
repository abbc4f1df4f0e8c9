/* The layer operations of ResNet-18 training, behind one table, so that the
 * model (model.c) is written once and runs on the CPU or on the GPU, and so
 * that later parts of the lab (fp16/bf16, fused kernels, cuDNN) plug in as
 * other tables or other entries.
 *
 * Tensors are float32, NCHW, contiguous: element (n, c, y, x) of an
 * N x C x H x W tensor is at ((n * C + c) * H + y) * W + x. Every pointer
 * is host memory for the CPU backend and device memory for the GPU one.
 *
 * Conventions every backend keeps (the gradient checks rely on them):
 *  - backward functions OVERWRITE their outputs (dx, dweight, dgamma, ...),
 *    unless grad_accumulate is on (then the parameter gradients add up);
 *    where a tensor feeds two branches (a residual block's input) the
 *    model adds the two gradients with `add`;
 *  - dx may be NULL: that input needs no gradient (the image);
 *  - ReLU's derivative is 1 where its output is > 0, else 0;
 *  - max pooling sends the gradient to the first maximum of each window
 *    (row-major order), padding never wins;
 *  - batch norm in training mode normalises with the batch mean and the
 *    biased variance, and updates running_mean/running_var with momentum
 *    0.1 using the UNBIASED variance (n/(n-1)), as PyTorch does;
 *  - cross-entropy is the batch mean; its gradient is (softmax - onehot)/N.
 * All launches on the GPU go to the backend's one stream; `sync` waits. */
#ifndef RN_BACKEND_H
#define RN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* A convolution without bias: cout x cin x k x k weights (PyTorch's
 * layout), square kernel, stride, zero padding. */
typedef struct {
    int cin, cout, k, stride, pad;
} rn_conv_shape;

/* Output size of a convolution or pooling along one axis. */
static inline int rn_out_size(int in, int k, int stride, int pad)
{
    return (in + 2 * pad - k) / stride + 1;
}

/* The device-side scaler's int32 state (rn_backend.scaler_update). */
enum { RN_SCALER_FOUND_INF, RN_SCALER_GROWTH_TRACKER, RN_SCALER_STEP, RN_SCALER_SKIPPED, RN_SCALER_STATE };

/* One tensor of Part 5's multi-tensor Adam (rn_backend.adam_multi). */
typedef struct {
    float *param;
    const float *grad;
    float *m, *v;
    size_t count;
} rn_adam_tensor;

/* conv_live_copy's directions: a dense cout x cin x k x k tensor's computed
 * taps gathered compact; compact onto the computed taps (the others left
 * as they are); compact onto the computed taps, the others zeroed. */
enum { RN_LIVE_GATHER, RN_LIVE_SCATTER, RN_LIVE_EXPAND };

/* Graphs the backend holds at once (rn_backend.graph_end). */
#define RN_MAX_GRAPHS 2

/* Points a step may mark (rn_backend.mark). */
#define RN_MAX_MARKS 8

typedef struct rn_backend {
    const char *name; /* "cpu" or "gpu" */
    int on_device;    /* pointers are device memory */

    /* Floats of scratch a convolution of this shape on an n x cin x h x w
     * input needs (forward and backward); the model gives it `work`. */
    size_t (*conv_work_floats)(const rn_conv_shape *s, int n, int h, int w);
    /* Which algorithm runs the convolution, for the run's report, e.g.
     * "im2col + OpenBLAS SGEMM", "im2col + cuBLAS", "cuDNN". */
    const char *(*conv_algo)(const rn_conv_shape *s, int n, int h, int w);
    void (*conv_forward)(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                         float *work);
    void (*conv_backward)(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                          const float *dy, float *dx, float *dweight, float *work);

    /* Batch norm over n x c x hw. save_mean and save_invstd (c floats each,
     * 1/sqrt(var + eps)) are written by the training forward and read by
     * the backward. The forwards' y may be x (each channel's statistics are
     * taken before any of its y is written, and each y after its x is
     * read); the backward's dx may be dy (likewise its sums). */
    void (*bn_forward_train)(int n, int c, int hw, const float *x, const float *gamma, const float *beta, float *y,
                             float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                             float momentum, float eps);
    void (*bn_forward_eval)(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, float eps, float *y);
    void (*bn_backward)(int n, int c, int hw, const float *x, const float *gamma, const float *save_mean,
                        const float *save_invstd, const float *dy, float *dx, float *dgamma, float *dbeta);
    /* bn_backward with x in Part 3's 16-bit storage (fp16 or bf16 bits of
     * `precision`, as pack writes them), widened as it is read: the same
     * arithmetic on the same values as bn_backward on the unpacked floats,
     * with no float copy of x (a 16-bit model's stem then needs one
     * stem-sized working buffer, not two). */
    void (*bn_backward_bits)(int n, int c, int hw, const uint16_t *x, int precision, const float *gamma,
                             const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                             float *dgamma, float *dbeta);

    /* y = max(x, 0) (y may be x); dx = dy where y > 0 (dx may be dy). */
    void (*relu_forward)(size_t count, const float *x, float *y);
    void (*relu_backward)(size_t count, const float *y, const float *dy, float *dx);
    /* y = a + b (y may be a or b). */
    void (*add)(size_t count, const float *a, const float *b, float *y);

    /* Max pooling k x k, stride, padding (ResNet's 3, 2, 1); argmax holds,
     * per output element, the index within its (n, c) input plane. */
    void (*maxpool_forward)(int n, int c, int h, int w, int k, int stride, int pad, const float *x, float *y,
                            int32_t *argmax);
    void (*maxpool_backward)(int n, int c, int h, int w, int k, int stride, int pad, const int32_t *argmax,
                             const float *dy, float *dx);
    /* Global average pooling: n x c x hw -> n x c. */
    void (*avgpool_forward)(int n, int c, int hw, const float *x, float *y);
    void (*avgpool_backward)(int n, int c, int hw, const float *dy, float *dx);

    /* y = x W^T + b, W out x in (PyTorch's layout). */
    void (*linear_forward)(int n, int in, int out, const float *x, const float *weight, const float *bias, float *y);
    void (*linear_backward)(int n, int in, int out, const float *x, const float *weight, const float *dy, float *dx,
                            float *dweight, float *dbias);

    /* Batch-mean cross-entropy of n x classes logits against labels (n
     * int32 on the same side as the logits); writes dlogits, the batch
     * loss to *loss and the number of correct arg-max predictions to
     * *correct, both as device or host scalars like the other pointers
     * (on the GPU they stay on the device until read). */
    void (*xent)(int n, int classes, const float *logits, const int32_t *labels, float *dlogits, float *loss,
                 int32_t *correct);

    /* Adam with bias correction, PyTorch's formulation:
     *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
     *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)       (t >= 1) */
    void (*adam)(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                 float eps, int t);

    /* Mixed precision's numerics (Part 3): dst = src rounded to fp16 or bf16
     * (precision.h's rn_precision) and kept as float; dst may be src. */
    void (*round_to)(size_t count, const float *src, float *dst, int precision);
    /* The math the convolutions use from now on (rn_precision as int):
     * fp32 exactly (FMA), tf32 (tensor cores, fp32 tensors), or fp16/bf16
     * (GPU: tensor cores on half tensors, fp32 sums; CPU: bf16 products by
     * AVX-512 BF16 where the CPU has it, else fp32 products of the rounded
     * values). NULL: only fp32 math. */
    void (*conv_math)(int precision);
    /* The 16-bit storage of an activation kept for the backward pass:
     * pack writes the fp16 or bf16 bits of src (values round_to gave, so
     * exactly), unpack widens them back to float. */
    void (*pack)(size_t count, const float *src, uint16_t *dst, int precision);
    void (*unpack)(size_t count, const uint16_t *src, float *dst, int precision);
    /* Autocast's rounding of what each layer writes, done by the layer as
     * it writes: while precision is RN_FP16 or RN_BF16 (RN_FP32: off, the
     * default) these outputs hold values of that precision, exactly those
     * round_to would give of the float results -
     *   conv_forward's and conv_forward_keep's y; every conv backward's dx
     *     and dweight (dwlive) (while accumulating: the sum, rounded);
     *   bn_forward_train's, bn_forward_eval's and
     *     bn_add_relu_forward_train's y;
     *   bn_backward's, bn_backward_bits' and relu_bn_backward's dx;
     *   add's y; maxpool_backward's and relu_maxpool_backward's dx
     * - and nothing else (the stem's fused forward, pooling's forwards, fc,
     * the loss and the optimizer write float). The GPU's kernels round in
     * their store, so a 16-bit step saves a pass over each of those tensors;
     * the CPU rounds each result after the operation (its GEMMs write
     * float sums), the pass the model made before. The model sets it for
     * its own passes only (model.c), as grad_accumulate. */
    void (*round_outputs)(int precision);
    /* Part 3 on the GPU: the activations between layers in 16 bits, channels
     * last, as autocast with channels_last keeps them (gpu_act16.cu).
     * act16_ok(precision): whether the backend can for this precision (the
     * GPU on cuDNN's NHWC path, unless RN_GPU_ACTIVATIONS=float; NULL:
     * never). While act16(precision) is on (RN_FP16 or RN_BF16; RN_FP32:
     * off, the default), every activation the layer operations read or
     * write - the convolutions' x, y, dy and dx, batch norm's x, y, dy and
     * dx, the ReLU's, add's and max pooling's inputs and outputs, the average
     * pool's x and dx - holds its n x c x h x w values as fp16 or bf16 bits
     * in NHWC order ((img * h * w + pixel) * c + channel), behind the same
     * float pointers: the values round_outputs would give, in half the
     * bytes, with no widening or packing pass between layers. Weights,
     * parameter gradients, statistics, the pooled features and everything
     * else stay float. act16_pack: a float NCHW tensor (the image) into that
     * form. The model turns it on for its own passes only, as round_outputs. */
    int (*act16_ok)(int precision);
    void (*act16)(int precision);
    void (*act16_pack)(int n, int c, int hw, const float *src, float *dst);
    /* Mixed precision's loss scaling (Part 3, grad_scaler.h): x *= alpha;
     * and PyTorch's _amp_foreach_non_finite_check_and_unscale_ on one
     * tensor: x *= inv_scale, and *found_inf (one int32, backend memory)
     * set to 1 when any element was not finite (never cleared here). */
    void (*scale)(size_t count, float *x, float alpha);
    void (*unscale_check)(size_t count, float *x, float inv_scale, int32_t *found_inf);
    /* The same with the scaler's state in backend memory, which only the
     * device reads (the device-side skip: no host wait in the step, as a
     * CUDA graph needs). state[RN_SCALER_*] (int32) and *scale (float):
     *   scale_by: x *= *scale;  unscale_check_by: x *= float(1 / double(*scale)),
     *   the found-inf flag set on a non-finite element;
     *   adam_skip: Adam with t = step + 1, or nothing when the flag is set;
     *   scaler_update: GradScaler's update from the flag, the step count
     *   advanced when the step was taken, then the flag cleared. */
    void (*scale_by)(size_t count, float *x, const float *scale);
    void (*unscale_check_by)(size_t count, float *x, const float *scale, int32_t *state);
    void (*adam_skip)(size_t count, float *param, const float *grad, float *m, float *v, float lr, float b1, float b2,
                      float eps, const int32_t *state);
    void (*scaler_update)(float *scale, int32_t *state, double growth, double backoff, int interval);

    /* Part 5's fusions, what torch.compile's generated kernels do: each
     * gives the separate operations' result (the same bits on the CPU) in
     * fewer passes over the data. NULL where a backend has none: the model
     * then runs the separate operations.
     *   bn_add_relu_forward_train: y = relu(bn(x) + residual), or
     *     relu(bn(x)) when residual is NULL: batch norm's training forward
     *     with the add and the ReLU in its normalising pass;
     *   relu_bn_backward: batch norm's backward when a ReLU with output y
     *     follows it: dy becomes the ReLU's input gradient (dy where
     *     y > 0, else 0), then batch norm's backward reads it (a block's
     *     shortcut reads it after); dx may be dy;
     *   bn_relu_maxpool_forward_train: the stem's batch norm, ReLU and max
     *     pooling; only the pooled plane and its argmax are written (the
     *     normalised one stays in the cache);
     *   relu_maxpool_backward: max pooling's backward through the ReLU
     *     before it: the gradient reaches a window's winner only where the
     *     pooled value is > 0 (a max of ReLU outputs is > 0 exactly where
     *     the ReLU let its winner through);
     *   adam_multi: Adam on every tensor at once (one team start or one
     *     launch instead of one per tensor). */
    void (*bn_add_relu_forward_train)(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                                      const float *residual, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, float momentum, float eps);
    void (*relu_bn_backward)(int n, int c, int hw, const float *y, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd, float *dy, float *dx, float *dgamma,
                             float *dbeta);
    void (*bn_relu_maxpool_forward_train)(int n, int c, int h, int w, int k, int stride, int pad, const float *x,
                                          const float *gamma, const float *beta, float *pooled, int32_t *argmax,
                                          float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                                          float momentum, float eps);
    void (*relu_maxpool_backward)(int n, int c, int h, int w, int k, int stride, int pad, const float *pooled,
                                  const int32_t *argmax, const float *dy, float *dx);
    void (*adam_multi)(int ntensors, const rn_adam_tensor *ts, float lr, float b1, float b2, float eps, int t);
    /* Part 5's trade of memory for passes, what torch.compile's
     * partitioner weighs when it picks what the forward saves for the
     * backward: a convolution's forward keeps what its backward would build
     * again (on the CPU the im2col patch matrices and layer4's compact
     * weights) in `keep`, conv_keep_floats of them (0: nothing to keep for
     * this shape), and conv_backward_kept reads them there; the same
     * results as conv_forward and conv_backward. */
    size_t (*conv_keep_floats)(const rn_conv_shape *s, int n, int h, int w);
    void (*conv_forward_keep)(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                              float *y, float *work, float *keep);
    void (*conv_backward_kept)(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                               const float *dy, float *dx, float *dweight, float *work, const float *kept);
    /* And for a shape that leaves taps out (layer4 at 32 x 32, cpu_ops.h):
     * the computed taps' gradient and Adam's moments kept compact through
     * the step, Adam on those taps alone. NULL where a backend has none. */
    size_t (*conv_live_floats)(const rn_conv_shape *s, int h, int w);
    void (*conv_live_copy)(const rn_conv_shape *s, int h, int w, const float *src, float *dst, int dir);
    int (*conv_live_dead_zero)(const rn_conv_shape *s, int h, int w, const float *dense);
    void (*conv_backward_kept_live)(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                                    const float *dy, float *dx, float *dwlive, float *work, const float *kept);
    void (*conv_adam_live)(const rn_conv_shape *s, int h, int w, float *param, const float *glive, float *mlive,
                           float *vlive, float lr, float b1, float b2, float eps, int t);

    /* Part 5's graph rung (the GPU; NULL on the CPU): graph_begin starts
     * recording the backend's stream (what is queued from then on is
     * recorded, not run; nothing may wait for the host or allocate) and
     * returns 0; graph_end stops and instantiates the graph and returns its
     * id (-1 on failure, the reason said on stderr); graph_launch replays
     * graph `id` on the stream; graph_free drops them all. Up to
     * RN_MAX_GRAPHS at once (one per input slot). */
    int (*graph_begin)(void);
    int (*graph_end)(void);
    void (*graph_launch)(int id);
    void (*graph_free)(void);

    /* Gradient accumulation (Part 4): while on, backward functions ADD the
     * parameter gradients (dweight, dgamma, dbeta, dbias) to what those
     * buffers hold, as PyTorch's .grad accumulates between zero_grad calls
     * (beta = 1 in the GEMMs and cuDNN, += elsewhere); dx is still
     * overwritten. Off (the default) restores overwriting. */
    void (*grad_accumulate)(int on);

    /* Copies between host memory and the backend's memory (plain memcpy on
     * the CPU), and waiting for queued work (nothing on the CPU). */
    void (*to_backend)(void *dst, const void *src_host, size_t bytes);
    void (*to_host)(void *dst_host, const void *src, size_t bytes);
    void (*sync)(void);

    /* Timing of a named region for the profiler: on the CPU a host-clock
     * region (cs_prof_begin/end, nested as the calls nest); on the GPU a
     * pair of CUDA events on the backend's stream, added to the profiler
     * at the next flush (cs_gpu_phase_*), so no region forces a sync. */
    int (*region_begin)(const char *name);
    void (*region_end)(int handle);
    void (*regions_flush)(void);

    /* A step's split without a wait per phase: mark(i) records point i of
     * the current step, i < RN_MAX_MARKS (CPU: the host clock; GPU: a CUDA
     * event on the stream, so no mark makes the host wait). After the step
     * has been waited for (the loss read), marks_read(t, n) writes
     * t[i] = seconds from mark 0 to mark i, for i < n. */
    void (*mark)(int i);
    void (*marks_read)(double *t, int n);

    /* Host staging buffers for the loader's workers: page-locked when
     * pinned and the backend has a device (cudaHostAlloc: copies from them
     * run at the link's speed and may be asynchronous), else ordinary
     * memory. Exits with a line naming `what` when the memory is not there. */
    void *(*host_alloc)(size_t bytes, int pinned, const char *what);
    void (*host_free)(void *p, int pinned);

    /* The asynchronous input of Part 2's pin_memory (PyTorch's
     * pin_memory=True with .to(device, non_blocking=True)). On the GPU the
     * copies overlap compute; the CPU keeps the same protocol with memcpy
     * (nothing to overlap: the dataloader does not pin there, the tests
     * run the GPU's order of calls with it). Two input slots:
     *   input_copy(slot, dst, src, bytes): on a second stream, once the
     *     step that last read the slot has released it, src (pinned) to dst;
     *   input_acquire(slot): the compute stream waits for the slot's copies;
     *   input_release(slot): after the work that reads the slot is queued,
     *     marks the slot free for the next copy into it;
     *   input_copied(slot): the host waits for the slot's copies (their
     *     pinned sources may then be refilled).
     * So the copy of batch n + 1 runs while batch n computes. */
    void (*input_copy)(int slot, void *dst, const void *src_pinned, size_t bytes);
    void (*input_acquire)(int slot);
    void (*input_release)(int slot);
    void (*input_copied)(int slot);

    /* Frees what the backend holds for the whole program (GPU: cuDNN and
     * cuBLAS handles, the stream), after the last operation and after every
     * buffer was freed: no backend call may follow it. May be NULL. */
    void (*release)(void);
} rn_backend;

/* The CPU backend (cpu_backend.c: im2col + the common GEMM backends, OpenMP). */
const rn_backend *rn_cpu_backend(void);
/* The GPU backend, or NULL when CUDA was not built (gpu_backend.cu: CUDA
 * kernels, im2col + cuBLAS, cuDNN for convolutions when it was found). */
const rn_backend *rn_gpu_backend(void);

#endif
