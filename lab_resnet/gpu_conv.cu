/* Convolution on the GPU, two ways:
 *
 *  - im2col + cuBLAS, the CPU's algorithm moved over (see cpu_conv.c): every
 *    input patch is copied out as a column, col (cin*k*k x n*oh*ow) with the
 *    batch's images side by side, and the convolution becomes GEMMs:
 *        y_b  = W col_b                (forward, one strided-batched GEMM)
 *        dW   = dy' col^T              (one GEMM over the whole batch)
 *        dcol = W^T dy', then col2im   (one GEMM, then a gather kernel)
 *    where dy' is dy rearranged to cout x n*oh*ow (a transpose kernel).
 *    col is k*k times the input: on the GPU its write and read are the
 *    price of using a GEMM, and the profile shows it.
 *
 *  - cuDNN (when CMake found it, RN_HAVE_CUDNN): cudnnConvolutionForward /
 *    BackwardData / BackwardFilter, which pick among implicit GEMM (patches
 *    formed on the fly in shared memory, no col in global memory), FFT and
 *    Winograd. The algorithms are chosen once per shape and cached: from
 *    cuDNN's heuristics by default (cudnnGet*_v7: no trial runs, the same
 *    choice every run), or with RN_CUDNN_ALGO=find by timing every
 *    candidate on this GPU (cudnnFind*, what PyTorch's
 *    torch.backends.cudnn.benchmark = True does): often faster, at the price
 *    of a second or so at start and a choice that can change from one run
 *    to the next with the timings, so the last bits of the results can too.
 *
 * Which path runs: cuDNN when it was built, unless the environment says
 * RN_CONV=im2col (RN_CONV=cudnn asks for cuDNN explicitly). The variable is
 * read at every call, so a test can run both paths in one process; a
 * program should set it before it starts.
 *
 * Both paths compute in plain FP32 by default: cuBLAS's handle keeps its
 * default math mode, and cuDNN's convolutions are restricted to
 * CUDNN_FMA_MATH, because TF32 tensor cores (the default for FP32
 * convolutions on Ampere and later) round the inputs to 10 mantissa bits,
 * and the GPU would no longer match the CPU within float tolerance.
 *
 * Part 3 (rn_gpu_conv_math) switches them to tensor cores: --precision tf32
 * (and the fp16/bf16 rows) run the GEMMs with CUBLAS_COMPUTE_32F_FAST_TF32
 * per call and cuDNN with its default math (TF32 allowed), cuDNN's plans
 * kept per math mode. Under fp16/bf16 the model has already rounded every
 * input of a convolution to fp16 or bf16, and both fit in TF32 exactly: the
 * tensor cores then compute the same products as on half tensors with fp32
 * sums, from float32 tensors (twice the bytes of half tensors, and TF32's
 * rate, half of fp16's on Hopper). cuDNN goes further under fp16 and
 * bf16: its plans (kept per data type) take 16-bit tensors with fp32 sums,
 * the model's float tensors packed into 16-bit copies in `work` for each
 * call and the results widened back (exact both ways: the values are
 * already rounded), the copies channels last (NHWC) unless
 * RN_CUDNN_LAYOUT=nchw. With the model's activations in 16 bits already
 * (gpu_act16.cu: backend.h's act16) no copy of them is made: cuDNN reads
 * and writes the model's own NHWC tensors, and only the weights are packed.
 * Run on an H200 (docs/results/gpu_h200/).
 *
 * Both paths are deterministic: the im2col kernels write each element once
 * (col2im gathers instead of scattering with atomics), and cuDNN's
 * algorithms are chosen among those it declares CUDNN_DETERMINISTIC. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"
#include "precision.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <deque>
#include <mutex>
#include <vector>

/* CMake defines RN_HAVE_CUDNN=1 when it found cuDNN; 0 otherwise, so the
 * code below can test it in plain `if`s as well as in #if. */
#ifndef RN_HAVE_CUDNN
#define RN_HAVE_CUDNN 0
#endif
#if RN_HAVE_CUDNN
#include <cudnn.h>
#endif

extern "C" {
#include "cs_console.h"
}

namespace
{

/* Tensor cores (TF32) for the convolutions' products, or FP32 exactly:
 * rn_gpu_conv_math. Under fp16/bf16 the im2col path goes further: its
 * matrices are 16-bit (half_gemm: RN_FP16 or RN_BF16, else 0), the GEMMs
 * read them with fp32 sums and write fp32. */
bool tensor_math = false;
int half_gemm = 0;

/* ------------------------------------------------------------------------
 * Which path, and how much scratch.
 * ------------------------------------------------------------------------ */
enum conv_path { PATH_IM2COL, PATH_CUDNN };

conv_path active_path(void)
{
    const char *e = getenv("RN_CONV");
    if (e == NULL || *e == '\0') return RN_HAVE_CUDNN ? PATH_CUDNN : PATH_IM2COL;
    if (strcmp(e, "im2col") == 0) return PATH_IM2COL;
    if (strcmp(e, "cudnn") == 0) {
        if (!RN_HAVE_CUDNN) {
            fprintf(stderr,
                    "%s: RN_CONV=cudnn: this build has no cuDNN (CMake did not "
                    "find it); unset RN_CONV or use RN_CONV=im2col\n",
                    cs_prog());
            exit(2);
        }
        return PATH_CUDNN;
    }
    fprintf(stderr, "%s: RN_CONV=%s: expected im2col or cudnn\n", cs_prog(), e);
    exit(2);
}

/* The most floats of scratch one convolution may use (default 32 Mi floats,
 * 128 MiB): above it the im2col path processes the batch in chunks of
 * images, and the cuDNN path skips algorithms that want more workspace.
 * RN_CONV_CHUNK_FLOATS overrides it (tests use it to make chunks happen on
 * tiny shapes; the memory part of the lab to trade memory for speed). */
constexpr size_t DEFAULT_CHUNK_FLOATS = (size_t)32 << 20;

size_t chunk_cap_floats(void)
{
    const char *e = getenv("RN_CONV_CHUNK_FLOATS");
    if (e == NULL || *e == '\0') return DEFAULT_CHUNK_FLOATS;
    char *end = NULL;
    errno = 0;
    const unsigned long long v = strtoull(e, &end, 10);
    if (errno != 0 || end == e || *end != '\0' || v == 0 || e[0] == '-') {
        fprintf(stderr, "%s: RN_CONV_CHUNK_FLOATS=%s: expected a positive number of floats\n", cs_prog(), e);
        exit(2);
    }
    return (size_t)v;
}

#if RN_HAVE_CUDNN
/* How cuDNN's algorithms are chosen: from its heuristics (default, the
 * same every run) or by timing them (RN_CUDNN_ALGO=find). */
bool cudnn_find_algorithms(void)
{
    return cs_env_choice("RN_CUDNN_ALGO", "heuristics", "find") != 0;
}

/* The layout of cuDNN's 16-bit copies (fp16 and bf16 rows): NHWC by
 * default, NCHW with RN_CUDNN_LAYOUT=nchw. Tensor cores read channels
 * last; on NCHW half tensors cuDNN transposes inside (extra kernels per
 * convolution, PyTorch's reason for channels_last), while the copies here
 * are made anyway, so transposing while packing costs one tiled pass
 * instead of a plain one. Which is faster on a given GPU is measured, not
 * assumed: tools/gpu_verify.sh runs the amp ladder both ways. */
bool cudnn_channels_last(void)
{
    return cs_env_choice("RN_CUDNN_LAYOUT", "nhwc", "nchw") == 0;
}
#endif

/* ------------------------------------------------------------------------
 * im2col + cuBLAS.
 * ------------------------------------------------------------------------ */

/* Sizes derived from the shape, and how many images go into one chunk. */
struct conv_plan {
    int oh, ow;
    int ohw;  /* output pixels per image */
    int kdim; /* cin * k * k: rows of col, columns of W */
    int nb;   /* images per chunk */
};

conv_plan make_plan(const rn_conv_shape *s, int n, int h, int w)
{
    conv_plan p;
    p.oh = rn_out_size(h, s->k, s->stride, s->pad);
    p.ow = rn_out_size(w, s->k, s->stride, s->pad);
    p.ohw = p.oh * p.ow;
    p.kdim = s->cin * s->k * s->k;
    /* Per image: its col columns (kdim x ohw) and its share of dy' (cout x
     * ohw), which the backward pass holds together. */
    const size_t per_image = (size_t)p.ohw * (size_t)(p.kdim + s->cout);
    size_t nb = per_image ? chunk_cap_floats() / per_image : (size_t)n;
    /* Every index within a chunk stays below 2^31: the kernels divide 32-bit
     * integers, and cuBLAS takes int leading dimensions. The kernels' grid-
     * stride loops step an int counter up to one grid (at most 8192 blocks of
     * 256 threads) past the end, so that much headroom is kept too. */
    const size_t biggest = per_image > (size_t)s->cin * h * w ? per_image : (size_t)s->cin * h * w;
    const size_t index_limit = (size_t)INT_MAX - 8192u * 256u;
    if (biggest && nb > index_limit / biggest) nb = index_limit / biggest;
    if (nb > (size_t)n) nb = (size_t)n;
    if (nb < 1) nb = 1; /* one image over the cap still runs: the cap is a target */
    p.nb = (int)nb;
    return p;
}

/* The 16-bit weights' place in the scratch, after col and dy' (64 floats
 * of room to align it to 256 bytes), and the scratch's size with them.
 * Always counted, so that switching the precision after the model sized
 * its scratch still fits. */
size_t im2col_half_weights_at(const rn_conv_shape *s, const conv_plan &p)
{
    const size_t at = (size_t)p.nb * p.ohw * (size_t)(p.kdim + s->cout);
    return (at + 63) / 64 * 64;
}

size_t im2col_work_floats(const rn_conv_shape *s, int n, int h, int w)
{
    const conv_plan p = make_plan(s, n, h, w);
    const size_t half_weights = ((size_t)s->cout * p.kdim + 1) / 2;
    return im2col_half_weights_at(s, p) + half_weights;
}

/* col (kdim x nb*ohw, row r = (ci * k + ky) * k + kx, column b * ohw + oy *
 * ow + ox) from nb images of x. A 2D grid: blockIdx.y walks the rows of col
 * (one (ci, ky, kx) per row, decoded once per block), x the columns, so
 * consecutive threads write consecutive addresses and read input pixels
 * `stride` apart in one row: coalesced writes, mostly coalesced reads.
 * Positions in the padding are written as zeros. */
/* A float as the GEMM's element type: itself, or (Part 3) the fp16 or bf16
 * value, exact for inputs the model already rounded to it. */
__device__ inline float as_elem(float v, float *)
{
    return v;
}
__device__ inline __half as_elem(float v, __half *)
{
    return __float2half_rn(v);
}
__device__ inline __nv_bfloat16 as_elem(float v, __nv_bfloat16 *)
{
    return __float2bfloat16_rn(v);
}

template <typename T>
__global__ void im2col_kernel(int kdim, int cols, int cin, int h, int w, int k, int stride, int pad, int ow, int ohw,
                              const float *__restrict__ x, T *__restrict__ col)
{
    for (int r = blockIdx.y; r < kdim; r += gridDim.y) {
        const int kx = r % k, ky = (r / k) % k, ci = r / (k * k);
        T *col_row = col + (size_t)r * cols;
        for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += gridDim.x * blockDim.x) {
            const int b = j / ohw, pix = j - b * ohw;
            const int oy = pix / ow, ox = pix - oy * ow;
            const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
            float v = 0.0f;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) v = x[(((size_t)b * cin + ci) * h + iy) * w + ix];
            col_row[j] = as_elem(v, (T *)nullptr);
        }
    }
}

/* The weights as the 16-bit GEMM's A (Part 3). */
template <typename T> __global__ void to_elem_kernel(size_t count, const float *__restrict__ src, T *__restrict__ dst)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = as_elem(src[i], (T *)nullptr);
}

/* dy' (cout x nb*ohw) from dy (nb x cout x ohw, NCHW): the rearrangement
 * that makes the batch's output gradient one matrix. */
template <typename T>
__global__ void gather_dy_kernel(int cout, int cols, int ohw, const float *__restrict__ dy, T *__restrict__ dyt)
{
    for (int co = blockIdx.y; co < cout; co += gridDim.y) {
        for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += gridDim.x * blockDim.x) {
            const int b = j / ohw, pix = j - b * ohw;
            dyt[(size_t)co * cols + j] = as_elem(dy[((size_t)b * cout + co) * ohw + pix], (T *)nullptr);
        }
    }
}

/* col2im as a GATHER, one thread per input element (b, ci, iy, ix): it sums
 * the entries of dcol that im2col copied from it, i.e. for each (ky, kx)
 * the output pixel with oy * stride - pad + ky = iy (when that oy is a
 * whole number inside the output), and likewise for x. Each dx element is
 * written once, in a fixed order: no atomics, deterministic, and no zeroing
 * pass before (the contract's overwrite comes for free). */
__global__ void col2im_kernel(int total, int cin, int h, int w, int k, int stride, int pad, int oh, int ow, int cols,
                              const float *__restrict__ dcol, float *__restrict__ dx)
{
    const int ohw = oh * ow;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const int ix = i % w;
        int t = i / w;
        const int iy = t % h;
        t /= h;
        const int ci = t % cin, b = t / cin;
        float g = 0.0f;
        for (int ky = 0; ky < k; ++ky) {
            const int ty = iy + pad - ky; /* = oy * stride */
            if (ty < 0) break;            /* only smaller for larger ky */
            const int oy = ty / stride;
            if (oy * stride != ty || oy >= oh) continue;
            for (int kx = 0; kx < k; ++kx) {
                const int tx = ix + pad - kx;
                if (tx < 0) break;
                const int ox = tx / stride;
                if (ox * stride != tx || ox >= ow) continue;
                const int r = (ci * k + ky) * k + kx;
                g += dcol[(size_t)r * cols + b * ohw + oy * ow + ox];
            }
        }
        dx[i] = g;
    }
}

/* A 2D grid for the row-by-column kernels: x over the columns, y over the
 * rows (at most 65535; the kernels loop over the rest). */
dim3 grid_rows_cols(int rows, int cols)
{
    unsigned gx = (unsigned)((cols + RN_THREADS - 1) / RN_THREADS);
    if (gx > 1024u) gx = 1024u; /* the kernels stride over longer rows */
    const unsigned gy = (unsigned)(rows < 65535 ? rows : 65535);
    return dim3(gx ? gx : 1u, gy ? gy : 1u);
}

template <typename T>
void launch_im2col(const rn_conv_shape *s, const conv_plan &p, int nb, int h, int w, const float *x, T *col,
                   cudaStream_t st)
{
    const int cols = nb * p.ohw;
    im2col_kernel<T><<<grid_rows_cols(p.kdim, cols), RN_THREADS, 0, st>>>(p.kdim, cols, s->cin, h, w, s->k, s->stride,
                                                                          s->pad, p.ow, p.ohw, x, col);
    CUDA_CHECK_LAUNCH();
}

template <typename T> void launch_gather_dy(int cout, int cols, int ohw, const float *dy, T *dyt, cudaStream_t st)
{
    gather_dy_kernel<T><<<grid_rows_cols(cout, cols), RN_THREADS, 0, st>>>(cout, cols, ohw, dy, dyt);
    CUDA_CHECK_LAUNCH();
}

/* ---- Part 3: the im2col path on 16-bit matrices ----------------------------
 * The same products with col, dy' and W as fp16 or bf16 (T), read by
 * tensor cores with fp32 sums, written as fp32: col and dy' take the first
 * half of their fp32 places in the scratch, W its own place after them.
 * dcol is fp32 (col2im sums it), over col's whole place once the dW
 * product, queued first on the stream, has read col. */
/* The weights as T in their place in the scratch. */
template <typename T>
T *weights_16(const rn_conv_shape *s, const conv_plan &p, const float *weight, float *work, cudaStream_t st)
{
    const size_t nw = (size_t)s->cout * p.kdim;
    T *w16 = (T *)(work + im2col_half_weights_at(s, p));
    to_elem_kernel<T><<<rn_grid_for(nw), RN_THREADS, 0, st>>>(nw, weight, w16);
    CUDA_CHECK_LAUNCH();
    return w16;
}

template <typename T>
void im2col_forward_16(const rn_conv_shape *s, const conv_plan &p, int n, int h, int w, const float *x,
                       const float *weight, float *y, float *work)
{
    const cudaStream_t st = rn_gpu_stream();
    const size_t in_image = (size_t)s->cin * h * w, out_image = (size_t)s->cout * p.ohw;
    T *col = (T *)work, *w16 = weights_16<T>(s, p, weight, work, st);
    const int bf16 = half_gemm == RN_BF16;
    for (int b0 = 0; b0 < n; b0 += p.nb) {
        const int nb = n - b0 < p.nb ? n - b0 : p.nb;
        const int cols = nb * p.ohw;
        launch_im2col<T>(s, p, nb, h, w, x + b0 * in_image, col, st);
        cs_gemm_cublas_batched_16(0, 0, s->cout, p.ohw, p.kdim, 1.0f, w16, p.kdim, 0, col, cols, p.ohw, 0.0f,
                                  y + b0 * out_image, p.ohw, (long long)out_image, nb, bf16, st);
    }
}

template <typename T>
void im2col_backward_16(const rn_conv_shape *s, const conv_plan &p, int n, int h, int w, const float *x,
                        const float *weight, const float *dy, float *dx, float *dweight, float *work)
{
    const cudaStream_t st = rn_gpu_stream();
    const size_t in_image = (size_t)s->cin * h * w, out_image = (size_t)s->cout * p.ohw;
    float *dcol = work; /* kdim x cols floats, after col (its first half) was read */
    T *col = (T *)work, *dyt = (T *)(work + (size_t)p.kdim * p.nb * p.ohw);
    T *w16 = weights_16<T>(s, p, weight, work, st);
    const int bf16 = half_gemm == RN_BF16;
    for (int b0 = 0; b0 < n; b0 += p.nb) {
        const int nb = n - b0 < p.nb ? n - b0 : p.nb;
        const int cols = nb * p.ohw;
        launch_im2col<T>(s, p, nb, h, w, x + b0 * in_image, col, st);
        launch_gather_dy<T>(s->cout, cols, p.ohw, dy + b0 * out_image, dyt, st);
        const float beta = b0 == 0 && !rn_gpu_accumulating() ? 0.0f : 1.0f;
        cs_gemm_cublas_16(0, 1, s->cout, p.kdim, cols, 1.0f, dyt, cols, col, cols, beta, dweight, p.kdim, bf16, st);
        if (dx == NULL) continue;
        cs_gemm_cublas_16(1, 0, p.kdim, cols, s->cout, 1.0f, w16, p.kdim, dyt, cols, 0.0f, dcol, cols, bf16, st);
        const int total = (int)((size_t)nb * in_image);
        col2im_kernel<<<rn_grid_for((size_t)total), RN_THREADS, 0, st>>>(total, s->cin, h, w, s->k, s->stride, s->pad,
                                                                         p.oh, p.ow, cols, dcol, dx + b0 * in_image);
        CUDA_CHECK_LAUNCH();
    }
}

void im2col_forward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                    float *work)
{
    const conv_plan p = make_plan(s, n, h, w);
    if (half_gemm == RN_FP16) return im2col_forward_16<__half>(s, p, n, h, w, x, weight, y, work);
    if (half_gemm == RN_BF16) return im2col_forward_16<__nv_bfloat16>(s, p, n, h, w, x, weight, y, work);
    const cudaStream_t st = rn_gpu_stream();
    const size_t in_image = (size_t)s->cin * h * w, out_image = (size_t)s->cout * p.ohw;
    for (int b0 = 0; b0 < n; b0 += p.nb) {
        const int nb = n - b0 < p.nb ? n - b0 : p.nb;
        const int cols = nb * p.ohw;
        launch_im2col<float>(s, p, nb, h, w, x + b0 * in_image, work, st);
        /* y_b (cout x ohw) = W (cout x kdim) col_b (kdim x ohw), for each
         * image b of the chunk in one launch: W is shared (stride 0), col_b
         * starts ohw columns after col_{b-1} within rows `cols` long, and
         * y_b is image b's NCHW block. */
        (tensor_math ? cs_gemm_cublas_batched_tf32
                     : cs_gemm_cublas_batched)(0, 0, s->cout, p.ohw, p.kdim, 1.0f, weight, p.kdim, 0, work, cols, p.ohw,
                                               0.0f, y + b0 * out_image, p.ohw, (long long)out_image, nb, st);
    }
}

void im2col_backward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, const float *dy,
                     float *dx, float *dweight, float *work)
{
    const conv_plan p = make_plan(s, n, h, w);
    if (half_gemm == RN_FP16) return im2col_backward_16<__half>(s, p, n, h, w, x, weight, dy, dx, dweight, work);
    if (half_gemm == RN_BF16) return im2col_backward_16<__nv_bfloat16>(s, p, n, h, w, x, weight, dy, dx, dweight, work);
    const cudaStream_t st = rn_gpu_stream();
    const size_t in_image = (size_t)s->cin * h * w, out_image = (size_t)s->cout * p.ohw;
    float *col = work;                                 /* kdim x cols */
    float *dyt = work + (size_t)p.kdim * p.nb * p.ohw; /* cout x cols */
    for (int b0 = 0; b0 < n; b0 += p.nb) {
        const int nb = n - b0 < p.nb ? n - b0 : p.nb;
        const int cols = nb * p.ohw;
        launch_im2col<float>(s, p, nb, h, w, x + b0 * in_image, col, st);
        launch_gather_dy<float>(s->cout, cols, p.ohw, dy + b0 * out_image, dyt, st);
        /* dW (cout x kdim) = dy' (cout x cols) col^T: the first chunk
         * overwrites (beta 0, as the contract asks), later ones add. */
        const float beta = b0 == 0 && !rn_gpu_accumulating() ? 0.0f : 1.0f;
        (tensor_math ? cs_gemm_cublas_tf32 : cs_gemm_cublas)(0, 1, s->cout, p.kdim, cols, 1.0f, dyt, cols, col, cols,
                                                             beta, dweight, p.kdim, st);
        if (dx == NULL) continue;
        /* dcol (kdim x cols) = W^T dy', into col's memory: the dW product
         * above was enqueued first on the same stream, so it has read col
         * before this one overwrites it. */
        (tensor_math ? cs_gemm_cublas_tf32 : cs_gemm_cublas)(1, 0, p.kdim, cols, s->cout, 1.0f, weight, p.kdim, dyt,
                                                             cols, 0.0f, col, cols, st);
        const int total = (int)((size_t)nb * in_image);
        col2im_kernel<<<rn_grid_for((size_t)total), RN_THREADS, 0, st>>>(total, s->cin, h, w, s->k, s->stride, s->pad,
                                                                         p.oh, p.ow, cols, col, dx + b0 * in_image);
        CUDA_CHECK_LAUNCH();
    }
}

/* ------------------------------------------------------------------------
 * cuDNN.
 * ------------------------------------------------------------------------ */
#if RN_HAVE_CUDNN

#define CUDNN_CHECK(call)                                                                  \
    do {                                                                                   \
        cudnnStatus_t rn_st_ = (call);                                                     \
        if (rn_st_ != CUDNN_STATUS_SUCCESS) cudnn_fail(rn_st_, #call, __FILE__, __LINE__); \
    } while (0)

[[noreturn]] void cudnn_fail(cudnnStatus_t st, const char *call, const char *file, int line)
{
    const char *oom = st == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED ||
                              st == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED
                          ? "out of memory: "
                          : "";
    fprintf(stderr, "%s: %s:%d: %scuDNN error in %s: %s\n", cs_prog(), file, line, oom, call, cudnnGetErrorString(st));
    exit(3);
}

/* The cuDNN handle, on the backend's stream. Created on first use (it loads
 * cuDNN's kernels: tens of milliseconds, best done at setup, which the
 * model's conv_work_floats queries are). */
std::once_flag cudnn_once;
cudnnHandle_t cudnn_handle_v;
bool cudnn_created;

cudnnHandle_t cudnn_handle(void)
{
    std::call_once(cudnn_once, [] {
        CUDNN_CHECK(cudnnCreate(&cudnn_handle_v));
        CUDNN_CHECK(cudnnSetStream(cudnn_handle_v, rn_gpu_stream()));
        cudnn_created = true;
    });
    return cudnn_handle_v;
}

/* Everything cuDNN needs for one shape: descriptors and the three chosen
 * algorithms, with the workspace the largest of them needs. */
struct cudnn_plan {
    rn_conv_shape s;
    int n, h, w;
    bool find;      /* chosen by timing (RN_CUDNN_ALGO=find) */
    bool tensor;    /* TF32 tensor cores allowed (rn_gpu_conv_math) */
    int asked_half; /* rn_gpu_conv_math's 16-bit precision when made (the cache's key) */
    int half;       /* the tensors it runs on: RN_FP16 or RN_BF16 (fp32 sums), or 0: float */
    bool nhwc;      /* the 16-bit copies channels last (cudnn_channels_last; a key too) */
    bool act16;     /* x, y, dy and dx are the model's own 16-bit NHWC tensors (gpu_act16.cu; a key too) */
    /* The math each chosen algorithm runs with, set on the descriptor
     * before its call (cuDNN decides from algorithm and math type together;
     * PyTorch does the same). FP32 plans keep CUDNN_FMA_MATH throughout. */
    cudnnMathType_t fwd_math, bwd_data_math, bwd_filter_math;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t cudnn_bytes; /* cuDNN's own workspace, the largest of the three choices' */
    size_t work_bytes;  /* all of `work`: cuDNN's, then on half tensors their 16-bit copies (half_layout) */
    char text[240];     /* the three algorithms, for the run's report */
};

std::mutex plans_mutex;
/* One per shape seen; a handful per run. A deque: adding a plan moves none
 * of the others, so rn_gpu_conv_algo can hand out a plan's text. */
std::deque<cudnn_plan> plans;

/* The plan for this shape, its algorithms chosen the way `find` says. */
bool same_shape(const cudnn_plan &q, const rn_conv_shape *s, int n, int h, int w, bool find, bool nhwc)
{
    return q.find == find && q.tensor == tensor_math && q.asked_half == half_gemm && q.nhwc == nhwc &&
           q.act16 == (rn_gpu_act16_precision() != 0) && q.n == n && q.h == h && q.w == w && q.s.cin == s->cin &&
           q.s.cout == s->cout && q.s.k == s->k && q.s.stride == s->stride && q.s.pad == s->pad;
}

/* cuDNN's algorithm enums as words (cudnn_cnn.h), for the report. */
template <size_t N> const char *algo_name(const char *const (&names)[N], int algo)
{
    return algo >= 0 && (size_t)algo < N ? names[algo] : "other";
}
const char *const fwd_names[] = {"implicit GEMM", "implicit precomputed GEMM", "GEMM", "direct", "FFT", "tiled FFT",
                                 "Winograd",      "Winograd (non-fused)"};
const char *const bwd_data_names[] = {"algo 0", "algo 1", "FFT", "tiled FFT", "Winograd", "Winograd (non-fused)"};
const char *const bwd_filter_names[] = {"algo 0",   "algo 1", "FFT", "algo 3", "Winograd", "Winograd (non-fused)",
                                        "tiled FFT"};
size_t largest_answer_bytes; /* the most conv_work_floats has answered */

/* What conv_work_floats answered, per shape and batch (under plans_mutex):
 * a convolution first seen in a call must fit the `work` its caller sized
 * from these answers (call_limit). */
struct work_answer {
    rn_conv_shape s;
    int n, h, w, asked_half;
    int half; /* the tensors the answered plan ran on (0: float, it fell back) */
    bool find, tensor, nhwc, act16;
    size_t bytes;
};
std::vector<work_answer> answers;

/* The most bytes of `work` a plan first made in a call may use: the latest
 * answer for the same shape and settings with at least as many images.
 * Such calls bring a smaller batch than the caller asked about (a short
 * last batch, an evaluation), and the caller asked for its shapes when it
 * sized `work` (model.c asks again at every precision change), so the
 * latest answer is its own; older answers, for other models or other
 * precisions, neither raise nor lower it (workspace is not monotone in the
 * batch: the cap rules algorithms out at large ones). *half: that plan's
 * tensors, which the call keeps (a short batch of a shape that fell back to
 * float stays float). No answer for this shape: the largest answered at
 * all, the old promise. */
size_t call_limit(const rn_conv_shape *s, int n, int h, int w, bool find, bool nhwc, int *half)
{
    *half = half_gemm;
    for (size_t i = answers.size(); i-- > 0;) {
        const work_answer &a = answers[i];
        if (a.n >= n && a.h == h && a.w == w && a.find == find && a.nhwc == nhwc &&
            a.act16 == (rn_gpu_act16_precision() != 0) && a.tensor == tensor_math && a.asked_half == half_gemm &&
            a.s.cin == s->cin && a.s.cout == s->cout && a.s.k == s->k && a.s.stride == s->stride && a.s.pad == s->pad) {
            *half = a.half;
            return a.bytes;
        }
    }
    return largest_answer_bytes;
}

/* The workspace an algorithm of each direction needs with math type mt
 * (set on the plan's descriptor), or cuDNN's status when it does not run
 * so. */
cudnnStatus_t workspace_of(const cudnn_plan &p, cudnnConvolutionFwdAlgo_t a, cudnnMathType_t mt, size_t *bytes)
{
    const cudnnStatus_t st = cudnnSetConvolutionMathType(p.cd, mt);
    return st != CUDNN_STATUS_SUCCESS
               ? st
               : cudnnGetConvolutionForwardWorkspaceSize(cudnn_handle(), p.xd, p.wd, p.cd, p.yd, a, bytes);
}
cudnnStatus_t workspace_of(const cudnn_plan &p, cudnnConvolutionBwdDataAlgo_t a, cudnnMathType_t mt, size_t *bytes)
{
    const cudnnStatus_t st = cudnnSetConvolutionMathType(p.cd, mt);
    return st != CUDNN_STATUS_SUCCESS
               ? st
               : cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn_handle(), p.wd, p.yd, p.cd, p.xd, a, bytes);
}
cudnnStatus_t workspace_of(const cudnn_plan &p, cudnnConvolutionBwdFilterAlgo_t a, cudnnMathType_t mt, size_t *bytes)
{
    const cudnnStatus_t st = cudnnSetConvolutionMathType(p.cd, mt);
    return st != CUDNN_STATUS_SUCCESS
               ? st
               : cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn_handle(), p.xd, p.yd, p.cd, p.wd, a, bytes);
}

/* The first usable algorithm of cuDNN's list (best first): it runs on this
 * shape, gives the same bits every time, fits in the workspace limit, and
 * in FP32 computes with FMA instructions: the list may also hold
 * tensor-core (TF32) variants, which are then skipped; entries marked with
 * FMA math are preferred, then those with the default math, which the
 * descriptor's CUDNN_FMA_MATH still restricts to FMA. With tensor cores
 * allowed, any math type but ALLOW_CONVERSION (it may convert float or
 * bf16 tensors to fp16, where values above 65504 overflow). cuDNN itself
 * is asked whether the algorithm runs with that math type within the limit
 * (an entry listed with the default math may not run with FMA's). None
 * usable: `fallback`. *math: the math type to run it with. */
template <typename Perf, typename Algo>
Algo pick(const cudnn_plan &plan, const std::vector<Perf> &perf, int got, size_t limit_bytes, Algo fallback,
          cudnnMathType_t *math, bool *usable)
{
    const bool tensor = plan.tensor;
    const cudnnMathType_t preferred[2] = {CUDNN_FMA_MATH, CUDNN_DEFAULT_MATH};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < got; ++i) {
            const Perf &p = perf[(size_t)i];
            if (p.status != CUDNN_STATUS_SUCCESS || p.determinism != CUDNN_DETERMINISTIC || p.memory > limit_bytes ||
                p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION || (!tensor && p.mathType != preferred[m]))
                continue;
            const cudnnMathType_t run = tensor ? p.mathType : CUDNN_FMA_MATH;
            size_t bytes = 0;
            if (workspace_of(plan, p.algo, run, &bytes) != CUDNN_STATUS_SUCCESS || bytes > limit_bytes) continue;
            *math = run;
            return p.algo;
        }
    *math = tensor ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    *usable = false;
    return fallback;
}

/* The descriptor's math type while cuDNN lists algorithms for the plan
 * (each chosen one then runs with its own): tensor-op math on half tensors,
 * the default (TF32 allowed) or FMA on float ones. */
cudnnMathType_t listing_math(const cudnn_plan &p)
{
    return p.half ? CUDNN_TENSOR_OP_MATH : p.tensor ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

/* cuDNN's lists, best first: from its heuristics (no trial runs, so
 * choosing costs microseconds and touches no data), or, with `find`, from
 * running each candidate once on this GPU and sorting by the time taken
 * (cuDNN allocates the buffers for those trials itself). The fallbacks, for
 * a list with nothing usable: implicit-GEMM variants that are
 * deterministic and need little or no workspace. */
bool choose_algorithms(cudnn_plan &p, size_t limit_bytes, bool find)
{
    cudnnHandle_t h = cudnn_handle();
    int max = 0, got = 0; /* each list as long as cuDNN says it can be */
    bool usable = true;   /* every choice from cuDNN's list, none a fallback */

    CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max));
    max = max > 0 ? max : 1;
    std::vector<cudnnConvolutionFwdAlgoPerf_t> fwd((size_t)max);
    if (find)
        CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, p.xd, p.wd, p.cd, p.yd, max, &got, fwd.data()));
    else
        CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.xd, p.wd, p.cd, p.yd, max, &got, fwd.data()));
    p.fwd = pick(p, fwd, got, limit_bytes, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, &p.fwd_math, &usable);

    CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, listing_math(p))); /* workspace_of changed it */
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max));
    max = max > 0 ? max : 1;
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> bd((size_t)max);
    if (find)
        CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, p.wd, p.yd, p.cd, p.xd, max, &got, bd.data()));
    else
        CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.wd, p.yd, p.cd, p.xd, max, &got, bd.data()));
    p.bwd_data = pick(p, bd, got, limit_bytes, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, &p.bwd_data_math, &usable);

    CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, listing_math(p)));
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max));
    max = max > 0 ? max : 1;
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> bf((size_t)max);
    if (find)
        CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, p.xd, p.yd, p.cd, p.wd, max, &got, bf.data()));
    else
        CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.xd, p.yd, p.cd, p.wd, max, &got, bf.data()));
    p.bwd_filter = pick(p, bf, got, limit_bytes, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, &p.bwd_filter_math, &usable);

    /* The exact workspace of the three choices, asked for each. */
    size_t a = 0, b = 0, c = 0;
    CUDNN_CHECK(workspace_of(p, p.fwd, p.fwd_math, &a));
    CUDNN_CHECK(workspace_of(p, p.bwd_data, p.bwd_data_math, &b));
    CUDNN_CHECK(workspace_of(p, p.bwd_filter, p.bwd_filter_math, &c));
    p.cudnn_bytes = a > b ? a : b;
    if (c > p.cudnn_bytes) p.cudnn_bytes = c;
    return usable;
}

/* On half tensors (Part 3's fp16 and bf16 rows) the model's float tensors
 * are packed into 16-bit copies for cuDNN and its results widened back:
 * exact both ways, as the model has already rounded every value to the
 * precision. Where each copy lives in `work`, after cuDNN's workspace (each
 * 256-byte aligned): x, w and then y in the forward; x, w, dy, dw and dx in
 * the backward; and a float dW to add from while gradients accumulate.
 * With the activations in 16 bits already (act16) only the weights' copies
 * are made: x, y, dy and dx take no room. */
struct half_layout {
    int xhw, khw, yhw;                  /* pixels per image plane of x, w (k * k) and y */
    size_t nx, nw, ny;                  /* the tensors' element counts */
    size_t x, w, dy, dw, dx, dw_f, end; /* byte offsets */
};

size_t align256(size_t b)
{
    return (b + 255) & ~(size_t)255;
}

half_layout half_layout_of(const cudnn_plan &p)
{
    half_layout l;
    l.xhw = p.h * p.w;
    l.khw = p.s.k * p.s.k;
    l.yhw = rn_out_size(p.h, p.s.k, p.s.stride, p.s.pad) * rn_out_size(p.w, p.s.k, p.s.stride, p.s.pad);
    const size_t acts = p.act16 ? 0 : 1;
    const size_t nx = l.nx = acts * p.n * p.s.cin * l.xhw;
    const size_t nw = l.nw = (size_t)p.s.cout * p.s.cin * l.khw;
    const size_t ny = l.ny = acts * p.n * p.s.cout * l.yhw;
    l.x = align256(p.cudnn_bytes);
    l.w = l.x + align256(nx * 2);
    l.dy = l.w + align256(nw * 2); /* the forward's y too */
    l.dw = l.dy + align256(ny * 2);
    l.dx = l.dw + align256(nw * 2);
    l.dw_f = l.dx + align256(nx * 2);
    l.end = l.dw_f + align256(nw * sizeof(float));
    return l;
}

/* The plan for this shape, made on first sight. from_query: asked by
 * conv_work_floats, whose answer sizes the caller's workspace, so any
 * algorithm within the cap may be chosen. A shape first seen in a
 * convolution call (a smaller last batch, say) must make do with the
 * workspace the caller already has: at least the largest answer given so
 * far, since callers size `work` as the largest over their convolutions. */
/* The plan's descriptors for its data type: fp16 or bf16 tensors with
 * float compute (cuDNN's PSEUDO_HALF and PSEUDO_BFLOAT16 configurations,
 * bf16 from compute capability 8.0) and tensor-op math, or float tensors
 * in FP32 exactly or with TF32 allowed (what PyTorch's allow_tf32 sets). */
void set_descriptors(cudnn_plan &p)
{
    const rn_conv_shape *s = &p.s;
    const cudnnDataType_t dt = p.half == RN_FP16   ? CUDNN_DATA_HALF
                               : p.half == RN_BF16 ? CUDNN_DATA_BFLOAT16
                                                   : CUDNN_DATA_FLOAT;
    /* Channels last on half tensors when asked: the filter's NHWC is
     * cout x k x k x cin (the dimensions are given in NCHW order either way). */
    const cudnnTensorFormat_t fmt = p.half && p.nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.xd, fmt, dt, p.n, s->cin, p.h, p.w));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(p.wd, dt, fmt, s->cout, s->cin, s->k, s->k));
    /* PyTorch's "convolution" is a cross-correlation (the kernel is not
     * flipped), and so is what the CPU backend computes. */
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p.cd, s->pad, s->pad, s->stride, s->stride, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, listing_math(p)));
    int on = 0, oc = 0, oh = 0, ow = 0;
    CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p.cd, p.xd, p.wd, &on, &oc, &oh, &ow));
    if (on != p.n || oc != s->cout || oh != rn_out_size(p.h, s->k, s->stride, s->pad) ||
        ow != rn_out_size(p.w, s->k, s->stride, s->pad)) {
        fprintf(stderr, "%s: cuDNN's output size %dx%dx%dx%d differs from rn_out_size's\n", cs_prog(), on, oc, oh, ow);
        exit(3);
    }
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.yd, fmt, dt, on, oc, oh, ow));
}

/* The algorithms for the plan's data type within `limit` bytes of `work`
 * (the 16-bit copies' share taken off first); returns whether cuDNN listed
 * a usable one for each of the three. */
bool choose_within(cudnn_plan &p, size_t limit)
{
    if (p.half) {
        p.cudnn_bytes = 0;
        const size_t copies = half_layout_of(p).end + 256;
        limit = limit > copies ? limit - copies : 0;
    }
    const bool usable = choose_algorithms(p, limit, p.find);
    p.work_bytes = p.half ? half_layout_of(p).end : p.cudnn_bytes;
    return usable;
}

cudnn_plan get_plan(const rn_conv_shape *s, int n, int h, int w, bool from_query)
{
    const bool find = cudnn_find_algorithms(); /* RN_CUDNN_ALGO, read once per call */
    const bool nhwc = cudnn_channels_last();   /* RN_CUDNN_LAYOUT, likewise */
    std::lock_guard<std::mutex> lock(plans_mutex);
    /* A query may use up to the cap (its answer sizes the caller's `work`);
     * a call, exactly what the caller was promised (call_limit): a plan made
     * for a query with more workspace than that is not reused for it. The
     * promise may exceed the cap (a query's fallback algorithm needed more:
     * the caller sized `work` from that answer), and a call is held to the
     * promise, not to the cap (on an H200, tf32's stem at 224 x 224, batch
     * 32, was answered 134522000 bytes, 0.2% over the cap: the call, held
     * to the cap, could not reuse the plan it was promised). */
    size_t limit = chunk_cap_floats() * sizeof(float);
    int answered_half = half_gemm;
    if (!from_query) limit = call_limit(s, n, h, w, find, nhwc, &answered_half);
    for (const cudnn_plan &q : plans)
        if (same_shape(q, s, n, h, w, find, nhwc) &&
            (from_query || (q.work_bytes <= limit && (answered_half || !q.half))))
            return q;

    cudnn_plan p;
    p.s = *s;
    p.n = n;
    p.h = h;
    p.w = w;
    p.find = find;
    p.tensor = tensor_math;
    p.asked_half = p.half = half_gemm;
    p.nhwc = nhwc;
    p.act16 = rn_gpu_act16_precision() != 0;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.yd));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&p.wd));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p.cd));

    /* 16-bit copies larger than the scratch cap (a large batch at 224), or
     * a configuration this cuDNN and GPU do not run (nothing usable
     * listed): float tensors with TF32 tensor cores for this shape, the
     * step before half tensors. */
    if (p.half) {
        p.cudnn_bytes = 0;
        if (half_layout_of(p).end > limit || !answered_half) p.half = 0; /* limit: the cap, or the promise */
    }
    set_descriptors(p);
    if (!choose_within(p, limit) && p.half) {
        p.half = 0;
        set_descriptors(p);
        choose_within(p, limit);
    }
    /* The model's tensors are 16-bit NHWC: a float plan could not read them. */
    if (p.act16 && (p.half != rn_gpu_act16_precision() || !p.nhwc)) {
        fprintf(stderr,
                "%s: cuDNN: convolution %dx%dx%dx%d (k%d s%d p%d -> %d) has no usable algorithm on 16-bit NHWC "
                "tensors here; run with RN_GPU_ACTIVATIONS=float\n",
                cs_prog(), n, s->cin, h, w, s->k, s->stride, s->pad, s->cout);
        exit(3);
    }
    /* pick() keeps to the limit, but its fallbacks (nothing on the list fit)
     * do not: their workspace, passed to cuDNN as the size of `work`, could
     * exceed the buffer the caller sized from earlier answers, and cuDNN
     * would write past it. Say so instead. */
    if (!from_query && p.work_bytes > limit) {
        fprintf(stderr,
                "%s: cuDNN: convolution %dx%dx%dx%d (k%d s%d p%d -> %d) needs %zu bytes "
                "of workspace, more than conv_work_floats promised (%zu): ask "
                "conv_work_floats for this shape first\n",
                cs_prog(), n, s->cin, h, w, s->k, s->stride, s->pad, s->cout, p.work_bytes, limit);
        exit(3);
    }
    snprintf(p.text, sizeof p.text, "cuDNN, %s%s%s (forward %s, backward data %s, filter %s)",
             p.find ? "timed" : "heuristics",
             p.half == RN_FP16   ? (p.nhwc ? ", fp16 tensors NHWC (tensor cores, fp32 sums)"
                                           : ", fp16 tensors NCHW (tensor cores, fp32 sums)")
             : p.half == RN_BF16 ? (p.nhwc ? ", bf16 tensors NHWC (tensor cores, fp32 sums)"
                                           : ", bf16 tensors NCHW (tensor cores, fp32 sums)")
             : p.tensor          ? ", TF32 tensor cores allowed"
                                 : "",
             p.act16 ? ", activations kept so" : "", algo_name(fwd_names, (int)p.fwd),
             algo_name(bwd_data_names, (int)p.bwd_data), algo_name(bwd_filter_names, (int)p.bwd_filter));
    plans.push_back(p);
    return p;
}

/* The report text of this shape's plan (made now if new); it lives until
 * rn_gpu_conv_release. */
const char *cudnn_plan_text(const rn_conv_shape *s, int n, int h, int w)
{
    (void)get_plan(s, n, h, w, true);
    const bool find = cudnn_find_algorithms(), nhwc = cudnn_channels_last();
    std::lock_guard<std::mutex> lock(plans_mutex);
    for (const cudnn_plan &q : plans)
        if (same_shape(q, s, n, h, w, find, nhwc)) return q.text;
    return "cuDNN";
}

size_t cudnn_work_floats(const rn_conv_shape *s, int n, int h, int w)
{
    const cudnn_plan p = get_plan(s, n, h, w, true);
    std::lock_guard<std::mutex> lock(plans_mutex);
    if (p.work_bytes > largest_answer_bytes) largest_answer_bytes = p.work_bytes;
    const work_answer a = {*s, n, h, w, p.asked_half, p.half, p.find, p.tensor, p.nhwc, p.act16, p.work_bytes};
    /* The model asks again at every precision change: one of each kept,
     * moved to the end (the latest, which call_limit reads first). */
    for (size_t i = 0; i < answers.size(); i++) {
        const work_answer &b = answers[i];
        if (memcmp(&a.s, &b.s, sizeof a.s) == 0 && a.n == b.n && a.h == b.h && a.w == b.w &&
            a.asked_half == b.asked_half && a.half == b.half && a.find == b.find && a.tensor == b.tensor &&
            a.nhwc == b.nhwc && a.act16 == b.act16 && a.bytes == b.bytes) {
            answers.erase(answers.begin() + (ptrdiff_t)i);
            break;
        }
    }
    answers.push_back(a);
    return (p.work_bytes + sizeof(float) - 1) / sizeof(float);
}

/* A 16-bit copy in `work` at byte offset `at`. */
uint16_t *half_at(float *work, size_t at)
{
    return (uint16_t *)((char *)work + at);
}

/* An n x c x hw float tensor into its 16-bit copy in the plan's layout,
 * and a copy back: the model's tensors stay NCHW float throughout. */
void to_copy(const cudnn_plan &p, int n, int c, int hw, const float *src, uint16_t *dst)
{
    if (p.nhwc)
        rn_gpu_pack_channels_last(n, c, hw, src, dst, p.half);
    else
        rn_gpu_pack((size_t)n * c * hw, src, dst, p.half);
}

void from_copy(const cudnn_plan &p, int n, int c, int hw, const uint16_t *src, float *dst)
{
    if (p.nhwc)
        rn_gpu_unpack_channels_last(n, c, hw, src, dst, p.half);
    else
        rn_gpu_unpack((size_t)n * c * hw, src, dst, p.half);
}

/* Returns the precision y was widened from (RN_FP16 or RN_BF16: its
 * values are of that precision already), or 0 when cuDNN wrote float. */
int cudnn_forward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                  float *work)
{
    const cudnn_plan p = get_plan(s, n, h, w, false);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, p.fwd_math));
    if (!p.half) {
        CUDNN_CHECK(cudnnConvolutionForward(cudnn_handle(), &one, p.xd, x, p.wd, weight, p.cd, p.fwd, work,
                                            p.cudnn_bytes, &zero, p.yd, y));
        return 0;
    }
    const half_layout l = half_layout_of(p);
    uint16_t *wh = half_at(work, l.w);
    to_copy(p, s->cout, s->cin, l.khw, weight, wh);
    if (p.act16) { /* the model's tensors as they are */
        CUDNN_CHECK(cudnnConvolutionForward(cudnn_handle(), &one, p.xd, x, p.wd, wh, p.cd, p.fwd, work, p.cudnn_bytes,
                                            &zero, p.yd, y));
        return p.half;
    }
    uint16_t *xh = half_at(work, l.x), *yh = half_at(work, l.dy);
    to_copy(p, n, s->cin, l.xhw, x, xh);
    CUDNN_CHECK(cudnnConvolutionForward(cudnn_handle(), &one, p.xd, xh, p.wd, wh, p.cd, p.fwd, work, p.cudnn_bytes,
                                        &zero, p.yd, yh));
    from_copy(p, n, s->cout, l.yhw, yh, y);
    return p.half;
}

/* The backward on half tensors: dW and dx computed in 16 bits (fp32 sums)
 * and widened, as autocast's convolution gives the half weight copy's
 * gradient; while gradients accumulate, dW is widened into a float scratch
 * and added (rn_gpu_add rounds the sum while the outputs are rounded). */
void cudnn_backward_half(const cudnn_plan &p, const float *x, const float *weight, const float *dy, float *dx,
                         float *dweight, float *work)
{
    const half_layout l = half_layout_of(p);
    const int n = p.n, cin = p.s.cin, cout = p.s.cout;
    const float one = 1.0f, zero = 0.0f;
    /* With act16 the model's x, dy and dx are 16-bit NHWC already. */
    const uint16_t *xh = (const uint16_t *)x, *dyh = (const uint16_t *)dy;
    uint16_t *wh = half_at(work, l.w), *dwh = half_at(work, l.dw), *dxh = (uint16_t *)dx;
    if (!p.act16) {
        uint16_t *xc = half_at(work, l.x), *dyc = half_at(work, l.dy);
        to_copy(p, n, cin, l.xhw, x, xc);
        to_copy(p, n, cout, l.yhw, dy, dyc);
        xh = xc;
        dyh = dyc;
        dxh = half_at(work, l.dx);
    }
    CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, p.bwd_filter_math));
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn_handle(), &one, p.xd, xh, p.yd, dyh, p.cd, p.bwd_filter, work,
                                               p.cudnn_bytes, &zero, p.wd, dwh));
    if (rn_gpu_accumulating()) {
        float *dw_f = (float *)((char *)work + l.dw_f);
        from_copy(p, cout, cin, l.khw, dwh, dw_f);
        rn_gpu_add(l.nw, dweight, dw_f, dweight);
    } else {
        from_copy(p, cout, cin, l.khw, dwh, dweight);
    }
    if (dx == NULL) return;
    to_copy(p, cout, cin, l.khw, weight, wh);
    CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, p.bwd_data_math));
    CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn_handle(), &one, p.wd, wh, p.yd, dyh, p.cd, p.bwd_data, work,
                                             p.cudnn_bytes, &zero, p.xd, dxh));
    if (!p.act16) from_copy(p, n, cin, l.xhw, dxh, dx);
}

/* Returns as cudnn_forward: the precision dx and dweight hold, or 0. */
int cudnn_backward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, const float *dy,
                   float *dx, float *dweight, float *work)
{
    const cudnn_plan p = get_plan(s, n, h, w, false);
    if (p.half) {
        cudnn_backward_half(p, x, weight, dy, dx, dweight, work);
        return p.half;
    }
    const float one = 1.0f, zero = 0.0f;
    /* beta 0: both results are overwritten, as the contract asks (dW's
     * beta 1 while gradients accumulate). */
    CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, p.bwd_filter_math));
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn_handle(), &one, p.xd, x, p.yd, dy, p.cd, p.bwd_filter, work,
                                               p.cudnn_bytes, rn_gpu_accumulating() ? &one : &zero, p.wd, dweight));
    if (dx != NULL) CUDNN_CHECK(cudnnSetConvolutionMathType(p.cd, p.bwd_data_math));
    if (dx != NULL)
        CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn_handle(), &one, p.wd, weight, p.yd, dy, p.cd, p.bwd_data, work,
                                                 p.cudnn_bytes, &zero, p.xd, dx));
    return 0;
}

#endif /* RN_HAVE_CUDNN */

} /* namespace */

/* ---- The backend table's entries ---------------------------------------- */

size_t rn_gpu_conv_work_floats(const rn_conv_shape *s, int n, int h, int w)
{
#if RN_HAVE_CUDNN
    if (active_path() == PATH_CUDNN) return cudnn_work_floats(s, n, h, w);
#endif
    return im2col_work_floats(s, n, h, w);
}

/* Which path, and with cuDNN which of its algorithms, this shape uses (the
 * lab's run prints it: cuDNN's heuristics choose per shape and GPU). */
const char *rn_gpu_conv_algo(const rn_conv_shape *s, int n, int h, int w)
{
#if RN_HAVE_CUDNN
    if (active_path() == PATH_CUDNN) return cudnn_plan_text(s, n, h, w);
#endif
    (void)s;
    (void)n;
    (void)h;
    (void)w;
    return half_gemm == RN_FP16   ? "im2col + cuBLAS, fp16 matrices (tensor cores, fp32 sums)"
           : half_gemm == RN_BF16 ? "im2col + cuBLAS, bf16 matrices (tensor cores, fp32 sums)"
           : tensor_math          ? "im2col + cuBLAS, TF32 tensor cores"
                                  : "im2col + cuBLAS";
}

/* Whether the 16-bit NHWC activations (gpu_act16.cu) can go through the
 * convolutions: on cuDNN's path with channels-last tensors. */
int rn_gpu_conv_act16_ok(void)
{
#if RN_HAVE_CUDNN
    return active_path() == PATH_CUDNN && cudnn_channels_last();
#else
    return 0;
#endif
}

/* The im2col path reads float NCHW tensors only. */
static void check_not_act16(const char *op)
{
    if (rn_gpu_act16_precision() == 0) return;
    fprintf(stderr, "%s: %s: 16-bit NHWC activations need cuDNN's path (RN_CONV=cudnn)\n", cs_prog(), op);
    exit(3);
}

/* Part 3's rounding of the outputs (backend.h's round_outputs): a result
 * widened from 16-bit tensors of the precision asked holds its values
 * already; a float one (im2col's GEMMs sum into float, and cuDNN's float
 * fallback) is rounded here, one pass, as the model did before. */
static void round_unless(int widened_from, float *t, size_t count)
{
    const int p = rn_gpu_out_precision();
    if (t != NULL && p != RN_FP32 && widened_from != p) rn_gpu_round_to(count, t, t, p);
}

void rn_gpu_conv_forward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight, float *y,
                         float *work)
{
    if (n <= 0) return;
    int widened_from = 0;
#if RN_HAVE_CUDNN
    if (active_path() == PATH_CUDNN)
        widened_from = cudnn_forward(s, n, h, w, x, weight, y, work);
    else
#endif
    {
        check_not_act16("conv_forward");
        im2col_forward(s, n, h, w, x, weight, y, work);
    }
    if (rn_gpu_act16_precision()) return; /* cuDNN wrote the 16-bit values */
    const int oh = rn_out_size(h, s->k, s->stride, s->pad), ow = rn_out_size(w, s->k, s->stride, s->pad);
    round_unless(widened_from, y, (size_t)n * s->cout * oh * ow);
}

void rn_gpu_conv_backward(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *weight,
                          const float *dy, float *dx, float *dweight, float *work)
{
    if (n <= 0) {
        /* No images: the weight had no effect, its gradient is zero (the
         * contract: backward functions overwrite their outputs). */
        const size_t wsize = (size_t)s->cout * s->cin * s->k * s->k;
        if (!rn_gpu_accumulating()) CUDA_CHECK(cudaMemsetAsync(dweight, 0, wsize * sizeof *dweight, rn_gpu_stream()));
        return;
    }
    int widened_from = 0;
#if RN_HAVE_CUDNN
    if (active_path() == PATH_CUDNN)
        widened_from = cudnn_backward(s, n, h, w, x, weight, dy, dx, dweight, work);
    else
#endif
    {
        check_not_act16("conv_backward");
        im2col_backward(s, n, h, w, x, weight, dy, dx, dweight, work);
    }
    if (rn_gpu_act16_precision()) return; /* cuDNN wrote the 16-bit values, dW widened from them */
    round_unless(widened_from, dx, (size_t)n * s->cin * h * w);
    round_unless(widened_from, dweight, (size_t)s->cout * s->cin * s->k * s->k);
}

/* Part 3: tensor cores for every precision but fp32 (see the top). */
void rn_gpu_conv_math(int precision)
{
    tensor_math = precision != RN_FP32;
    half_gemm = precision == RN_FP16 || precision == RN_BF16 ? precision : 0;
}

/* Frees cuDNN's handle and the plans' descriptors (rn_gpu_backend()'s
 * release, at the end of the program). Nothing to do without cuDNN. */
void rn_gpu_conv_release(void)
{
#if RN_HAVE_CUDNN
    std::lock_guard<std::mutex> lock(plans_mutex);
    for (cudnn_plan &p : plans) {
        CUDNN_CHECK(cudnnDestroyTensorDescriptor(p.xd));
        CUDNN_CHECK(cudnnDestroyTensorDescriptor(p.yd));
        CUDNN_CHECK(cudnnDestroyFilterDescriptor(p.wd));
        CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(p.cd));
    }
    plans.clear();
    answers.clear();
    if (cudnn_created) {
        CUDNN_CHECK(cudnnDestroy(cudnn_handle_v));
        cudnn_created = false;
    }
#endif
}
