/* case01's CUDA kernels and their launchers, shared by the GPU rungs so that
 * no kernel is written twice, and the batched training step (forward,
 * backward) that gpu_batched, gpu_resident, gpu_async and gpu_fast enqueue.
 *
 * Matrices are row-major, as on the CPU side: a batch of activations is
 * batch x features, a weight matrix out x in (PyTorch's layout, workload.h).
 * Every launcher enqueues its kernel on `stream` (0 = the default stream),
 * checks the launch with CUDA_CHECK_LAUNCH() and returns without waiting.
 * Empty work (a zero size) launches nothing.
 *
 * These are C++ functions (only .cu files call them). */
#ifndef C1_GPU_KERNELS_CUH
#define C1_GPU_KERNELS_CUH

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

extern "C" { /* workload.h is a C header with no extern "C" of its own */
#include "workload.h"
}

/* ---- Per-sample kernels (gpu_slow) ---------------------------------------
 * One sample at a time, the way a loop over the batch is first ported. */

/* y[j] = act(b[j] + sum_k W[j][k] x[k]) for j < out_n, W out_n x in_n;
 * act is ReLU when relu != 0, else the identity. One warp per output. */
void c1_launch_sample_forward(const float *dW, const float *dB, const float *dX, int out_n, int in_n, int relu,
                              float *dY, cudaStream_t stream);

/* One sample's loss and logit gradient from its logits z[0..classes):
 * *loss = logsumexp(z) - z[label], *correct = (first arg-max == label),
 * dz[j] = (softmax(z)[j] - (j == label)) / batch. One thread. */
void c1_launch_sample_softmax_xent(const float *dZ, const int32_t *dLabel, int classes, int batch, float *dDz,
                                   float *dLoss, int32_t *dCorrect, cudaStream_t stream);

/* dW[j][k] += dy[j] * x[k] and db[j] += dy[j] (W out_n x in_n): one
 * sample's contribution to the weight and bias gradients. */
void c1_launch_sample_outer_accumulate(float *dGW, float *dGb, const float *dDy, const float *dX, int out_n, int in_n,
                                       cudaStream_t stream);

/* dx[k] = (act[k] > 0) * sum_j W[j][k] dy[j] for k < in_n: the gradient
 * through a layer (W^T dy) and the ReLU of the layer below it (act is that
 * layer's output). */
void c1_launch_sample_backward_input(const float *dW, const float *dDy, int out_n, int in_n, const float *dAct,
                                     float *dDx, cudaStream_t stream);

/* ---- Batch kernels (gpu_batched, gpu_resident, gpu_async, gpu_fast) ------ */

/* X[i][k] = images[row_i * in + k] / 255 and batch_labels[i] = labels[row_i]
 * for i < batch, where row_i = rows[i], or i when rows is NULL (the bytes
 * were gathered already). When step_out is not NULL, *step_out = step: the
 * step number published on the device for kernels inside a CUDA graph,
 * whose arguments cannot change from one replay to the next. */
void c1_launch_gather_convert(const uint8_t *dImages, const uint8_t *dLabels, const int32_t *dRows, int batch, int in,
                              float *dX, int32_t *dBatchLabels, int step, int *dStepOut, cudaStream_t stream);

/* Z[i][j] += bias[j] (rows x n). */
void c1_launch_bias_add(float *dZ, const float *dBias, int rows, int n, cudaStream_t stream);

/* Z[i] = max(Z[i], 0) for count elements. */
void c1_launch_relu(float *dZ, size_t count, cudaStream_t stream);

/* Fused: Z[i][j] = max(Z[i][j] + bias[j], 0) (rows x n), one pass. */
void c1_launch_bias_relu(float *dZ, const float *dBias, int rows, int n, cudaStream_t stream);

/* The batch's loss from its logits Z (batch x classes, bias included):
 * *loss = mean over rows of logsumexp(z) - z[label], *correct = rows whose
 * first arg-max is the label. */
void c1_launch_xent_loss(const float *dZ, const int32_t *dLabels, int batch, int classes, float *dLoss,
                         int32_t *dCorrect, cudaStream_t stream);

/* dZgrad[i][j] = (softmax(z_i)[j] - (j == label_i)) / batch. */
void c1_launch_softmax_grad(const float *dZ, const int32_t *dLabels, int batch, int classes, float *dDz,
                            cudaStream_t stream);

/* Fused bias + softmax + cross-entropy: logits z = Z + bias (bias may be
 * NULL), then dDz as c1_launch_softmax_grad and the loss and correct count
 * as c1_launch_xent_loss, in one kernel. They go to dLoss[t] and
 * dCorrect[t] with t = *dStep, or t = 0 when dStep is NULL. */
void c1_launch_bias_softmax_xent(const float *dZ, const float *dBias, const int32_t *dLabels, int batch, int classes,
                                 float *dDz, float *dLoss, int32_t *dCorrect, const int *dStep, cudaStream_t stream);

/* dA[i] = act[i] > 0 ? dA[i] : 0 for count elements (in place): the
 * gradient through a ReLU, from its output. */
void c1_launch_relu_backward(float *dDa, const float *dAct, size_t count, cudaStream_t stream);

/* db[j] = sum_i dZ[i][j] (rows x n): the bias gradient, summed in a fixed
 * order (no atomics), so the same input always gives the same bits. */
void c1_launch_bias_grad(const float *dDz, int rows, int n, float *dDb, cudaStream_t stream);

/* Fused ReLU backward + bias gradient: dZ = (act > 0) * dA in place and
 * db = column sums of the result, in one pass. */
void c1_launch_relu_backward_bias_grad(float *dDa, const float *dAct, int rows, int n, float *dDb, cudaStream_t stream);

/* p[i] -= lr * g[i] for count elements: the SGD step on all parameters
 * (they lie back to back in one array, as do their gradients). */
void c1_launch_sgd(float *dP, const float *dG, size_t count, float lr, cudaStream_t stream);

/* ---- The batched training step ------------------------------------------- */

/* The device buffers of one batched step, and the network's shape. params
 * and grads follow the workload's layout (W1, b1, W2, b2, W3, b3). */
typedef struct {
    int in, h1, h2, out, batch;
    c1_layout layout;
    float *params;   /* layout.count: the weights being trained */
    float *grads;    /* layout.count: their gradients for this batch */
    float *x;        /* batch x in: the batch as floats */
    int32_t *labels; /* batch */
    float *a1;       /* batch x h1: layer 1's pre-activation, then relu of it */
    float *a2;       /* batch x h2: same for layer 2 */
    float *z3;       /* batch x out: logits */
    float *d3;       /* batch x out: gradient of the loss wrt the logits */
    float *d2;       /* batch x h2: gradient wrt a2, then wrt layer 2's pre-activation */
    float *d1;       /* batch x h1: same for layer 1 */
} c1_gpu_net;

/* Fills the shape from w; every pointer NULL. */
void c1_gpu_net_init(c1_gpu_net *n, const c1_workload *w);
/* Allocates the per-batch buffers (x .. d1) and grads, not params
 * (cs_gpu_malloc: exit 3 when out of device memory). */
void c1_gpu_net_alloc_batch(c1_gpu_net *n);
/* Frees what c1_gpu_net_alloc_batch allocated and clears those pointers. */
void c1_gpu_net_free_batch(c1_gpu_net *n);

/* The forward pass as first written for the batch: cuBLAS for the three
 * layers, then bias, ReLU, loss and logit gradient as separate kernels
 * (10 launches). Writes a1, a2, z3, d3, *dLoss and *dCorrect. */
void c1_gpu_forward_unfused(const c1_gpu_net *n, float *dLoss, int32_t *dCorrect, cudaStream_t stream);

/* The backward pass with separate ReLU-mask and bias-gradient kernels
 * (10 launches). Writes grads (all of them), d2, d1. */
void c1_gpu_backward_unfused(const c1_gpu_net *n, cudaStream_t stream);

/* The same forward pass with fused bias+ReLU and bias+softmax+cross-entropy
 * (6 launches): the loss and correct count go to dLoss[*dStep] and
 * dCorrect[*dStep] (slot 0 when dStep is NULL). */
void c1_gpu_forward_fused(const c1_gpu_net *n, float *dLoss, int32_t *dCorrect, const int *dStep, cudaStream_t stream);

/* The same backward pass with fused ReLU-mask + bias-gradient (8 launches). */
void c1_gpu_backward_fused(const c1_gpu_net *n, cudaStream_t stream);

/* ---- Shared checks --------------------------------------------------------- */

/* 0 when a run of `steps` steps fits w (its sample order) and out (its
 * per-step arrays); else one line on stderr naming the variant and 2. */
int c1_gpu_check_run(const char *variant, const c1_workload *w, int steps, const c1_output *out);

/* The batch of step `step` on the host, as the CPU code makes it: rows
 * w->order[step * batch + i] converted to floats (c1_pixel) into x
 * (batch x in) and their labels into labels (batch). */
void c1_host_gather_convert(const c1_workload *w, int step, float *x, int32_t *labels);

#endif
