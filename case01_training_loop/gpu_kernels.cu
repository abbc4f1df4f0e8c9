/* case01's kernels, the batched training step built from them, and two
 * small host helpers the GPU rungs share. See gpu_kernels.cuh for what each
 * computes; this file says how, and what limits each kernel.
 *
 * Napkin math for the default network (in 784, h1 = h2 = 1024, 10 classes,
 * batch 256): the weights are 1.86 M floats (7.4 MB), a step's GEMMs
 * 3 * 2 * 256 * 1.86 M = 2.9 GFLOP. The hand-written kernels move a few MB
 * each, a few microseconds on an H100 (3.35 TB/s): next to the GEMMs they
 * matter by their number (launch latency) more than by their bytes. */
#include "gpu_kernels.cuh"
#include "cs_cuda.cuh"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "cs_console.h"
#include "cs_memory.h"
}

#include <math.h>
#include <string.h>

namespace
{

constexpr int WARP = 32;
constexpr int ELEM_THREADS = 256; /* elementwise kernels: 8 warps a block */

unsigned int blocks_for(size_t items, int threads)
{
    return (unsigned int)((items + (size_t)threads - 1) / (size_t)threads);
}

/* After the loop, lane 0 holds the sum of the 32 lanes' values. */
__device__ float warp_sum(float v)
{
#pragma unroll
    for (int offset = WARP / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

/* ------------------------------------------------------------------------
 * One row of logits: the loss, the arg-max, and optionally the gradient.
 * z[j] + bias[j] are the logits (bias may be NULL). The maximum is
 * subtracted before exp (exp of a large logit would overflow to inf), so
 *     loss = log(sum_j exp(z_j - m)) - (z_label - m)
 * is logsumexp(z) - z_label computed without overflow. classes is 10 here:
 * the loops are short and everything stays in registers or L1.
 * ------------------------------------------------------------------------ */
__device__ __forceinline__ float logit_at(const float *z, const float *bias, int j)
{
    return bias ? z[j] + bias[j] : z[j];
}

struct row_result {
    float loss;
    int correct; /* 1 when the first arg-max is the label */
};

/* Inlined, and the result returned by value rather than through a pointer:
 * a pointer to a local would put it on the stack (local memory). */
__device__ __forceinline__ row_result row_xent(const float *z, const float *bias, int classes, int label, int batch,
                                               float *dz)
{
    float m = logit_at(z, bias, 0);
    int arg = 0;
    for (int j = 1; j < classes; ++j) { /* first maximum on ties: strict > */
        const float v = logit_at(z, bias, j);
        if (v > m) {
            m = v;
            arg = j;
        }
    }
    float s = 0.0f;
    for (int j = 0; j < classes; ++j) s += expf(logit_at(z, bias, j) - m);
    if (dz) {
        /* Correctly rounded reciprocals (__frcp_rn(s) is exactly the CPU's
         * 1.0f / sum), then multiplies, as the CPU code does. A division
         * per logit would compile to a call to the IEEE division's slow
         * path, and in the fused kernel that call made ptxas spill
         * registers around it. */
        const float inv_s = __frcp_rn(s);
        const float inv_batch = __frcp_rn((float)batch);
        for (int j = 0; j < classes; ++j) {
            /* __fmul_rn: p rounded on its own, as on the CPU, not fused
             * into an FMA with the subtraction below. */
            const float p = __fmul_rn(expf(logit_at(z, bias, j) - m), inv_s);
            dz[j] = (p - (j == label ? 1.0f : 0.0f)) * inv_batch;
        }
    }
    row_result r;
    r.loss = logf(s) - (logit_at(z, bias, label) - m);
    r.correct = arg == label;
    return r;
}

/* ========================================================================
 * Per-sample kernels (gpu_slow). Each sees one sample: a vector, not a
 * matrix, so every weight is read once per sample and used for one
 * multiply-add. All of them are limited by latency (launch overhead, a few
 * microseconds each, and too few threads to fill the GPU) long before
 * bandwidth: a step launches 9 of them per sample.
 * ======================================================================== */

/* Matrix-vector product, one warp per output: the 32 lanes read 32
 * consecutive weights of row j (coalesced) and add their products with a
 * shuffle reduction. Moves out_n * in_n * 4 bytes of W (x is re-read from
 * L1/L2); for layer 1, 3.2 MB for 1.6 MFLOP: memory-bound at 0.5 FLOP/byte,
 * and with out_n = 10 (layer 3) only 10 warps run: latency-bound. */
constexpr int MATVEC_THREADS = 256; /* 8 outputs per block */

__global__ void __launch_bounds__(MATVEC_THREADS)
    sample_forward_kernel(const float *__restrict__ W, const float *__restrict__ b, const float *__restrict__ x,
                          int out_n, int in_n, int relu, float *__restrict__ y)
{
    const int j = (int)((blockIdx.x * blockDim.x + threadIdx.x) / WARP);
    const int lane = threadIdx.x % WARP;
    if (j >= out_n) return; /* the whole warp leaves together */
    const float *row = W + (size_t)j * in_n;
    float acc = 0.0f;
    for (int k = lane; k < in_n; k += WARP) acc += row[k] * x[k];
    acc = warp_sum(acc);
    if (lane == 0) {
        const float v = acc + b[j];
        y[j] = relu ? fmaxf(v, 0.0f) : v;
    }
}

/* One sample's softmax + cross-entropy: one thread, ten logits. Pure
 * latency: the launch costs far more than the ~50 instructions it runs. */
__global__ void sample_softmax_xent_kernel(const float *__restrict__ z, const int32_t *__restrict__ label, int classes,
                                           int batch, float *__restrict__ dz, float *__restrict__ loss,
                                           int32_t *__restrict__ correct)
{
    const row_result r = row_xent(z, NULL, classes, *label, batch, dz);
    *loss = r.loss;
    *correct = r.correct;
}

/* gW[j][k] += dy[j] * x[k], one thread per weight, threads along k (a warp
 * reads and writes 32 consecutive weights: coalesced). Memory-bound: reads
 * and writes the whole gradient, 8 * out_n * in_n bytes (6.4 MB for layer
 * 1), for one multiply-add per weight, per sample. The thread with k == 0
 * also adds dy[j] to the bias gradient. */
__global__ void sample_outer_accumulate_kernel(float *__restrict__ gW, float *__restrict__ gb,
                                               const float *__restrict__ dy, const float *__restrict__ x, int in_n,
                                               size_t total)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int j = (int)(idx / (size_t)in_n);
    const int k = (int)(idx - (size_t)j * in_n);
    gW[idx] += dy[j] * x[k];
    if (k == 0) gb[j] += dy[j];
}

/* dx[k] = (act[k] > 0) * sum_j W[j][k] dy[j], one thread per input k: at
 * each j the threads of a warp read 32 consecutive weights of row j
 * (coalesced), dy[j] is a broadcast. Reads the whole W (4 * out_n * in_n
 * bytes) with only in_n threads (1024: 4 blocks on a 132-SM GPU), each
 * walking out_n rows in sequence: latency-bound. */
constexpr int COLUMN_THREADS = 256;

__global__ void sample_backward_input_kernel(const float *__restrict__ W, const float *__restrict__ dy, int out_n,
                                             int in_n, const float *__restrict__ act, float *__restrict__ dx)
{
    const int k = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (k >= in_n) return;
    float acc = 0.0f;
    for (int j = 0; j < out_n; ++j) acc += W[(size_t)j * in_n + k] * dy[j];
    dx[k] = act[k] > 0.0f ? acc : 0.0f;
}

/* ========================================================================
 * Batch kernels.
 * ======================================================================== */

/* Gather + convert: one thread per pixel of the batch. The threads of a
 * warp read 32 consecutive bytes of one image row (one 32-byte sector) and
 * write 32 consecutive floats (128 bytes): coalesced. Memory-bound:
 * batch * in * 5 bytes (1 MB at batch 256), under a microsecond of
 * bandwidth, so the launch dominates. The multiply is c1_pixel()'s, so the
 * floats are bit-identical to the CPU's. */
__global__ void gather_convert_kernel(const uint8_t *__restrict__ images, const uint8_t *__restrict__ labels,
                                      const int32_t *__restrict__ rows, int in, size_t total, float *__restrict__ X,
                                      int32_t *__restrict__ batch_labels, int step, int *__restrict__ step_out)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int i = (int)(idx / (size_t)in);
    const int k = (int)(idx - (size_t)i * in);
    const size_t row = (size_t)(rows ? rows[i] : i);
    X[idx] = (float)images[row * in + k] * (1.0f / 255.0f);
    if (k == 0) batch_labels[i] = (int32_t)labels[row];
    if (idx == 0 && step_out) *step_out = step;
}

/* The naive elementwise pair: two launches and two passes over Z (read,
 * write, read, write: 16 bytes per element, 2 MB each for 256 x 1024).
 * Memory-bound, a few microseconds each; their launches cost as much. */
__global__ void bias_add_kernel(float *__restrict__ Z, const float *__restrict__ bias, int n, size_t total)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    Z[idx] += bias[idx % (size_t)n];
}

__global__ void relu_kernel(float *__restrict__ Z, size_t total)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    Z[idx] = fmaxf(Z[idx], 0.0f);
}

/* Fused bias + ReLU: one pass, 8 bytes per element (half the traffic of the
 * pair above) and one launch instead of two. Memory-bound. */
__global__ void bias_relu_kernel(float *__restrict__ Z, const float *__restrict__ bias, int n, size_t total)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    Z[idx] = fmaxf(Z[idx] + bias[idx % (size_t)n], 0.0f);
}

/* ------------------------------------------------------------------------
 * Loss kernels. The batch loss is a sum over rows, reduced in one block so
 * that the order of the additions is fixed (each thread sums its rows in
 * order, then a tree over shared memory): the same logits always give the
 * same bits, which atomicAdd from many blocks would not. One block is
 * enough: a batch of 256 rows of 10 logits is 10 KB. Latency-bound
 * (a few microseconds, mostly launch and the block's serial tree).
 * ------------------------------------------------------------------------ */
constexpr int LOSS_THREADS = 256; /* a power of two, for the tree */

/* Reduces the block's partial loss and count; thread 0 gets the totals.
 * The losses are summed in double, as the CPU reference does: a few hundred
 * adds, nothing next to the launch. */
__device__ void block_reduce_loss(double *sh_loss, int *sh_count, double loss, int count)
{
    const int t = threadIdx.x;
    sh_loss[t] = loss;
    sh_count[t] = count;
    __syncthreads();
    for (int stride = LOSS_THREADS / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            sh_loss[t] += sh_loss[t + stride];
            sh_count[t] += sh_count[t + stride];
        }
        __syncthreads();
    }
}

/* Unfused, part 1: the loss and the correct count (reads the logits). */
__global__ void __launch_bounds__(LOSS_THREADS)
    xent_loss_kernel(const float *__restrict__ Z, const int32_t *__restrict__ labels, int batch, int classes,
                     float *__restrict__ loss, int32_t *__restrict__ correct)
{
    __shared__ double sh_loss[LOSS_THREADS];
    __shared__ int sh_count[LOSS_THREADS];
    double part = 0.0;
    int hits = 0;
    for (int r = threadIdx.x; r < batch; r += LOSS_THREADS) {
        const row_result res = row_xent(Z + (size_t)r * classes, NULL, classes, labels[r], batch, NULL);
        part += res.loss;
        hits += res.correct;
    }
    block_reduce_loss(sh_loss, sh_count, part, hits);
    if (threadIdx.x == 0) {
        *loss = (float)(sh_loss[0] / batch);
        *correct = sh_count[0];
    }
}

/* Unfused, part 2: the logit gradient, one thread per row, reading the
 * logits again and recomputing the maximum and the sum of exponentials
 * that part 1 already had. Latency-bound (256 threads). */
__global__ void softmax_grad_kernel(const float *__restrict__ Z, const int32_t *__restrict__ labels, int batch,
                                    int classes, float *__restrict__ dZ)
{
    const int r = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (r >= batch) return;
    (void)row_xent(Z + (size_t)r * classes, NULL, classes, labels[r], batch, dZ + (size_t)r * classes);
}

/* Fused bias + softmax + cross-entropy: one launch, the logits read once,
 * the bias added on the fly (no separate pass writing Z + b), the gradient,
 * loss and count from the same maximum and sum. Its slot comes from the
 * device (dStep) so that the kernel's arguments are the same at every step
 * and the launch can be replayed from a CUDA graph. Latency-bound. */
__global__ void __launch_bounds__(LOSS_THREADS)
    bias_softmax_xent_kernel(const float *__restrict__ Z, const float *__restrict__ bias,
                             const int32_t *__restrict__ labels, int batch, int classes, float *__restrict__ dZ,
                             float *__restrict__ loss, int32_t *__restrict__ correct, const int *__restrict__ step)
{
    __shared__ double sh_loss[LOSS_THREADS];
    __shared__ int sh_count[LOSS_THREADS];
    double part = 0.0;
    int hits = 0;
    for (int r = threadIdx.x; r < batch; r += LOSS_THREADS) {
        const row_result res =
            row_xent(Z + (size_t)r * classes, bias, classes, labels[r], batch, dZ + (size_t)r * classes);
        part += res.loss;
        hits += res.correct;
    }
    block_reduce_loss(sh_loss, sh_count, part, hits);
    if (threadIdx.x == 0) {
        const int slot = step ? *step : 0;
        loss[slot] = (float)(sh_loss[0] / batch);
        correct[slot] = sh_count[0];
    }
}

/* ReLU backward: 12 bytes per element (read dA and act, write dA).
 * Memory-bound. */
__global__ void relu_backward_kernel(float *__restrict__ dA, const float *__restrict__ act, size_t total)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    dA[idx] = act[idx] > 0.0f ? dA[idx] : 0.0f;
}

/* ------------------------------------------------------------------------
 * Bias gradient: column sums of a rows x n matrix, without atomics.
 * A block owns 32 columns and has 32 x 16 threads: threadIdx.x is the
 * column (a warp reads 32 consecutive floats of a row: coalesced),
 * threadIdx.y picks every 16th row. Each thread sums its rows in order,
 * then thread y == 0 adds the 16 partials in order: a fixed summation
 * order, so the result is bit-stable. With MASK the ReLU backward is folded
 * in: each element is masked, written back and summed in the same pass
 * (12 bytes per element instead of 12 + 4 in two kernels).
 * Reads 4 * rows * n bytes (1 MB at 256 x 1024), memory-bound in principle,
 * but only n / 32 blocks (32 for n = 1024) run: latency-bound on a large
 * GPU. For the logits (n = 10) one block.
 * ------------------------------------------------------------------------ */
constexpr int BG_COLS = 32;
constexpr int BG_ROWS = 16;

template <bool MASK>
__global__ void __launch_bounds__(BG_COLS *BG_ROWS)
    bias_grad_kernel(float *__restrict__ dZ, const float *__restrict__ act, int rows, int n, float *__restrict__ db)
{
    __shared__ float partial[BG_ROWS][BG_COLS + 1]; /* +1: no bank conflicts in the final sum */
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int col = blockIdx.x * BG_COLS + tx;
    float acc = 0.0f;
    if (col < n) {
        for (int r = ty; r < rows; r += BG_ROWS) {
            const size_t idx = (size_t)r * n + col;
            float v = dZ[idx];
            if (MASK) {
                v = act[idx] > 0.0f ? v : 0.0f;
                dZ[idx] = v;
            }
            acc += v;
        }
    }
    partial[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && col < n) {
        float s = 0.0f;
#pragma unroll
        for (int y = 0; y < BG_ROWS; ++y) s += partial[y][tx];
        db[col] = s;
    }
}

/* SGD: p -= lr * g, one thread per parameter. Memory-bound: 12 bytes per
 * parameter (read p and g, write p), 22 MB for the default network, about
 * 7 us at 3.35 TB/s: one launch for all six tensors, since they lie back
 * to back in one array. */
__global__ void sgd_kernel(float *__restrict__ p, const float *__restrict__ g, size_t total, float lr)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    p[idx] -= lr * g[idx];
}

} // namespace

/* ========================================================================
 * Launchers.
 * ======================================================================== */

void c1_launch_sample_forward(const float *dW, const float *dB, const float *dX, int out_n, int in_n, int relu,
                              float *dY, cudaStream_t stream)
{
    if (out_n <= 0) return;
    const int warps_per_block = MATVEC_THREADS / WARP;
    sample_forward_kernel<<<blocks_for((size_t)out_n, warps_per_block), MATVEC_THREADS, 0, stream>>>(dW, dB, dX, out_n,
                                                                                                     in_n, relu, dY);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_sample_softmax_xent(const float *dZ, const int32_t *dLabel, int classes, int batch, float *dDz,
                                   float *dLoss, int32_t *dCorrect, cudaStream_t stream)
{
    if (classes <= 0) return;
    sample_softmax_xent_kernel<<<1, 1, 0, stream>>>(dZ, dLabel, classes, batch, dDz, dLoss, dCorrect);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_sample_outer_accumulate(float *dGW, float *dGb, const float *dDy, const float *dX, int out_n, int in_n,
                                       cudaStream_t stream)
{
    const size_t total = (size_t)out_n * (size_t)in_n;
    if (total == 0) return;
    sample_outer_accumulate_kernel<<<blocks_for(total, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dGW, dGb, dDy, dX,
                                                                                                 in_n, total);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_sample_backward_input(const float *dW, const float *dDy, int out_n, int in_n, const float *dAct,
                                     float *dDx, cudaStream_t stream)
{
    if (in_n <= 0) return;
    sample_backward_input_kernel<<<blocks_for((size_t)in_n, COLUMN_THREADS), COLUMN_THREADS, 0, stream>>>(
        dW, dDy, out_n, in_n, dAct, dDx);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_gather_convert(const uint8_t *dImages, const uint8_t *dLabels, const int32_t *dRows, int batch, int in,
                              float *dX, int32_t *dBatchLabels, int step, int *dStepOut, cudaStream_t stream)
{
    const size_t total = (size_t)batch * (size_t)in;
    if (total == 0) return;
    gather_convert_kernel<<<blocks_for(total, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(
        dImages, dLabels, dRows, in, total, dX, dBatchLabels, step, dStepOut);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_bias_add(float *dZ, const float *dBias, int rows, int n, cudaStream_t stream)
{
    const size_t total = (size_t)rows * (size_t)n;
    if (total == 0) return;
    bias_add_kernel<<<blocks_for(total, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dZ, dBias, n, total);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_relu(float *dZ, size_t count, cudaStream_t stream)
{
    if (count == 0) return;
    relu_kernel<<<blocks_for(count, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dZ, count);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_bias_relu(float *dZ, const float *dBias, int rows, int n, cudaStream_t stream)
{
    const size_t total = (size_t)rows * (size_t)n;
    if (total == 0) return;
    bias_relu_kernel<<<blocks_for(total, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dZ, dBias, n, total);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_xent_loss(const float *dZ, const int32_t *dLabels, int batch, int classes, float *dLoss,
                         int32_t *dCorrect, cudaStream_t stream)
{
    if (batch <= 0 || classes <= 0) return;
    xent_loss_kernel<<<1, LOSS_THREADS, 0, stream>>>(dZ, dLabels, batch, classes, dLoss, dCorrect);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_softmax_grad(const float *dZ, const int32_t *dLabels, int batch, int classes, float *dDz,
                            cudaStream_t stream)
{
    if (batch <= 0 || classes <= 0) return;
    softmax_grad_kernel<<<blocks_for((size_t)batch, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dZ, dLabels, batch,
                                                                                              classes, dDz);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_bias_softmax_xent(const float *dZ, const float *dBias, const int32_t *dLabels, int batch, int classes,
                                 float *dDz, float *dLoss, int32_t *dCorrect, const int *dStep, cudaStream_t stream)
{
    if (batch <= 0 || classes <= 0) return;
    bias_softmax_xent_kernel<<<1, LOSS_THREADS, 0, stream>>>(dZ, dBias, dLabels, batch, classes, dDz, dLoss, dCorrect,
                                                             dStep);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_relu_backward(float *dDa, const float *dAct, size_t count, cudaStream_t stream)
{
    if (count == 0) return;
    relu_backward_kernel<<<blocks_for(count, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dDa, dAct, count);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_bias_grad(const float *dDz, int rows, int n, float *dDb, cudaStream_t stream)
{
    if (n <= 0) return;
    /* Without MASK the kernel only reads dZ: the cast drops nothing. */
    bias_grad_kernel<false><<<blocks_for((size_t)n, BG_COLS), dim3(BG_COLS, BG_ROWS), 0, stream>>>(
        const_cast<float *>(dDz), NULL, rows, n, dDb);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_relu_backward_bias_grad(float *dDa, const float *dAct, int rows, int n, float *dDb, cudaStream_t stream)
{
    if (n <= 0) return;
    bias_grad_kernel<true>
        <<<blocks_for((size_t)n, BG_COLS), dim3(BG_COLS, BG_ROWS), 0, stream>>>(dDa, dAct, rows, n, dDb);
    CUDA_CHECK_LAUNCH();
}

void c1_launch_sgd(float *dP, const float *dG, size_t count, float lr, cudaStream_t stream)
{
    if (count == 0) return;
    sgd_kernel<<<blocks_for(count, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dP, dG, count, lr);
    CUDA_CHECK_LAUNCH();
}

/* ========================================================================
 * The batched training step.
 *
 * Row-major shapes (B = batch), and the cuBLAS call for each product
 * (cs_gemm_cublas: C (M x N) = op(A) op(B), row-major, lda/ldb/ldc the
 * row strides of the stored matrices):
 *   forward   Z1 = X  W1^T   B x h1   (0,1, M=B,  N=h1, K=in)
 *             Z2 = A1 W2^T   B x h2   (0,1, M=B,  N=h2, K=h1)
 *             Z3 = A2 W3^T   B x out  (0,1, M=B,  N=out, K=h2)
 *   backward  dW3 = dZ3^T A2  out x h2 (1,0, M=out, N=h2, K=B)
 *             dA2 = dZ3 W3    B x h2   (0,0, M=B,  N=h2, K=out)
 *             dW2 = dZ2^T A1  h2 x h1  (1,0, M=h2, N=h1, K=B)
 *             dA1 = dZ2 W2    B x h1   (0,0, M=B,  N=h1, K=h2)
 *             dW1 = dZ1^T X   h1 x in  (1,0, M=h1, N=in, K=B)
 * All with beta = 0: C is written, never read.
 * ======================================================================== */

void c1_gpu_net_init(c1_gpu_net *n, const c1_workload *w)
{
    memset(n, 0, sizeof *n);
    n->in = w->cfg.in;
    n->h1 = w->cfg.h1;
    n->h2 = w->cfg.h2;
    n->out = w->cfg.out;
    n->batch = w->cfg.batch;
    n->layout = w->layout;
}

static float *device_floats(size_t count, const char *what)
{
    return count ? (float *)cs_gpu_malloc(count * sizeof(float), what) : NULL;
}

void c1_gpu_net_alloc_batch(c1_gpu_net *n)
{
    const size_t B = (size_t)n->batch;
    n->grads = device_floats(n->layout.count, "case01 gradients");
    n->x = device_floats(B * n->in, "case01 batch X");
    n->labels = (int32_t *)cs_gpu_malloc(B * sizeof(int32_t), "case01 batch labels");
    n->a1 = device_floats(B * n->h1, "case01 layer 1 activations");
    n->a2 = device_floats(B * n->h2, "case01 layer 2 activations");
    n->z3 = device_floats(B * n->out, "case01 logits");
    n->d3 = device_floats(B * n->out, "case01 logit gradient");
    n->d2 = device_floats(B * n->h2, "case01 layer 2 gradient");
    n->d1 = device_floats(B * n->h1, "case01 layer 1 gradient");
}

void c1_gpu_net_free_batch(c1_gpu_net *n)
{
    cs_gpu_free(n->grads);
    cs_gpu_free(n->x);
    cs_gpu_free(n->labels);
    cs_gpu_free(n->a1);
    cs_gpu_free(n->a2);
    cs_gpu_free(n->z3);
    cs_gpu_free(n->d3);
    cs_gpu_free(n->d2);
    cs_gpu_free(n->d1);
    n->grads = n->x = n->a1 = n->a2 = n->z3 = n->d3 = n->d2 = n->d1 = NULL;
    n->labels = NULL;
}

/* The three products of the forward pass, as in the table above. Each
 * writes the pre-activation of its layer (bias not yet added). */
static void forward_gemm(const c1_gpu_net *n, int layer, cudaStream_t s)
{
    const float *P = n->params;
    const int B = n->batch;
    if (layer == 1)
        cs_gemm_cublas(0, 1, B, n->h1, n->in, 1.0f, n->x, n->in, P + n->layout.w1, n->in, 0.0f, n->a1, n->h1, s);
    else if (layer == 2)
        cs_gemm_cublas(0, 1, B, n->h2, n->h1, 1.0f, n->a1, n->h1, P + n->layout.w2, n->h1, 0.0f, n->a2, n->h2, s);
    else
        cs_gemm_cublas(0, 1, B, n->out, n->h2, 1.0f, n->a2, n->h2, P + n->layout.w3, n->h2, 0.0f, n->z3, n->out, s);
}

void c1_gpu_forward_unfused(const c1_gpu_net *n, float *dLoss, int32_t *dCorrect, cudaStream_t stream)
{
    const float *P = n->params;
    const int B = n->batch;
    forward_gemm(n, 1, stream);
    c1_launch_bias_add(n->a1, P + n->layout.b1, B, n->h1, stream);
    c1_launch_relu(n->a1, (size_t)B * n->h1, stream);
    forward_gemm(n, 2, stream);
    c1_launch_bias_add(n->a2, P + n->layout.b2, B, n->h2, stream);
    c1_launch_relu(n->a2, (size_t)B * n->h2, stream);
    forward_gemm(n, 3, stream);
    c1_launch_bias_add(n->z3, P + n->layout.b3, B, n->out, stream);
    c1_launch_xent_loss(n->z3, n->labels, B, n->out, dLoss, dCorrect, stream);
    c1_launch_softmax_grad(n->z3, n->labels, B, n->out, n->d3, stream);
}

void c1_gpu_forward_fused(const c1_gpu_net *n, float *dLoss, int32_t *dCorrect, const int *dStep, cudaStream_t stream)
{
    const float *P = n->params;
    const int B = n->batch;
    forward_gemm(n, 1, stream);
    c1_launch_bias_relu(n->a1, P + n->layout.b1, B, n->h1, stream);
    forward_gemm(n, 2, stream);
    c1_launch_bias_relu(n->a2, P + n->layout.b2, B, n->h2, stream);
    forward_gemm(n, 3, stream);
    c1_launch_bias_softmax_xent(n->z3, P + n->layout.b3, n->labels, B, n->out, n->d3, dLoss, dCorrect, dStep, stream);
}

/* The backward products; which ones and in which order is the same for both
 * versions, only the ReLU/bias kernels between them differ. */
static void grad_w3(const c1_gpu_net *n, cudaStream_t s) /* dW3 = dZ3^T A2 */
{
    cs_gemm_cublas(1, 0, n->out, n->h2, n->batch, 1.0f, n->d3, n->out, n->a2, n->h2, 0.0f, n->grads + n->layout.w3,
                   n->h2, s);
}
static void grad_a2(const c1_gpu_net *n, cudaStream_t s) /* dA2 = dZ3 W3 */
{
    cs_gemm_cublas(0, 0, n->batch, n->h2, n->out, 1.0f, n->d3, n->out, n->params + n->layout.w3, n->h2, 0.0f, n->d2,
                   n->h2, s);
}
static void grad_w2(const c1_gpu_net *n, cudaStream_t s) /* dW2 = dZ2^T A1 */
{
    cs_gemm_cublas(1, 0, n->h2, n->h1, n->batch, 1.0f, n->d2, n->h2, n->a1, n->h1, 0.0f, n->grads + n->layout.w2, n->h1,
                   s);
}
static void grad_a1(const c1_gpu_net *n, cudaStream_t s) /* dA1 = dZ2 W2 */
{
    cs_gemm_cublas(0, 0, n->batch, n->h1, n->h2, 1.0f, n->d2, n->h2, n->params + n->layout.w2, n->h1, 0.0f, n->d1,
                   n->h1, s);
}
static void grad_w1(const c1_gpu_net *n, cudaStream_t s) /* dW1 = dZ1^T X */
{
    cs_gemm_cublas(1, 0, n->h1, n->in, n->batch, 1.0f, n->d1, n->h1, n->x, n->in, 0.0f, n->grads + n->layout.w1, n->in,
                   s);
}

void c1_gpu_backward_unfused(const c1_gpu_net *n, cudaStream_t stream)
{
    const int B = n->batch;
    float *G = n->grads;
    grad_w3(n, stream);
    c1_launch_bias_grad(n->d3, B, n->out, G + n->layout.b3, stream);
    grad_a2(n, stream);
    c1_launch_relu_backward(n->d2, n->a2, (size_t)B * n->h2, stream); /* dZ2 */
    c1_launch_bias_grad(n->d2, B, n->h2, G + n->layout.b2, stream);
    grad_w2(n, stream);
    grad_a1(n, stream);
    c1_launch_relu_backward(n->d1, n->a1, (size_t)B * n->h1, stream); /* dZ1 */
    c1_launch_bias_grad(n->d1, B, n->h1, G + n->layout.b1, stream);
    grad_w1(n, stream);
}

void c1_gpu_backward_fused(const c1_gpu_net *n, cudaStream_t stream)
{
    const int B = n->batch;
    float *G = n->grads;
    grad_w3(n, stream);
    c1_launch_bias_grad(n->d3, B, n->out, G + n->layout.b3, stream);
    grad_a2(n, stream);
    c1_launch_relu_backward_bias_grad(n->d2, n->a2, B, n->h2, G + n->layout.b2, stream);
    grad_w2(n, stream);
    grad_a1(n, stream);
    c1_launch_relu_backward_bias_grad(n->d1, n->a1, B, n->h1, G + n->layout.b1, stream);
    grad_w1(n, stream);
}

/* ========================================================================
 * Shared host helpers.
 * ======================================================================== */

int c1_gpu_check_run(const char *variant, const c1_workload *w, int steps, const c1_output *out)
{
    if (steps < 0 || steps > w->order_steps) {
        cs_error("%s: %d steps asked, the sample order covers %d", variant, steps, w->order_steps);
        return 2;
    }
    if (out->steps < steps) {
        cs_error("%s: %d steps asked, the output has room for %d", variant, steps, out->steps);
        return 2;
    }
    return 0;
}

void c1_host_gather_convert(const c1_workload *w, int step, float *x, int32_t *labels)
{
    const int B = w->cfg.batch, in = w->cfg.in;
    const int32_t *rows = w->order + (size_t)step * B;
    for (int i = 0; i < B; ++i) {
        const uint8_t *src = w->data->images + (size_t)rows[i] * in;
        float *dst = x + (size_t)i * in;
        for (int k = 0; k < in; ++k) dst[k] = c1_pixel(src[k]);
        labels[i] = w->data->labels[rows[i]];
    }
}
