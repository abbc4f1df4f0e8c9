/* case03's kernels: the naive first port, the hand-tiled GEMM, and the
 * elementwise + reduction stage both naive and fused. See gpu_kernels.cuh
 * for what each computes; this file says how and why. */
#include "gpu_kernels.cuh"
#include "cs_cuda.cuh"

namespace
{

/* ------------------------------------------------------------------------
 * Naive GEMM: one thread per element of C.
 *
 * threadIdx.x runs along the columns of C, so the 16 threads of a block row
 * (and the 32 of a warp, which spans two block rows) read consecutive
 * elements of B's row k and write consecutive elements of C: those accesses
 * coalesce. Every thread of a block row reads the same A[row][k], which is
 * one broadcast. What makes it slow is reuse, not coalescing: each element
 * of A and B is read from global memory (or at best L2/L1) N resp. M times,
 * so the kernel is bound by memory traffic at ~0.5 FLOP per byte loaded.
 * ------------------------------------------------------------------------ */
constexpr int NAIVE_BLOCK = 16;

__global__ void gemm_naive_kernel(int M, int N, int K, const float *__restrict__ A, int lda,
                                  const float *__restrict__ B, int ldb, float *__restrict__ C, int ldc)
{
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    const int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= M || col >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) acc += A[(size_t)row * lda + k] * B[(size_t)k * ldb + col];
    C[(size_t)row * ldc + col] = acc;
}

/* ------------------------------------------------------------------------
 * Tiled GEMM (the idea of SGEMM_CUDA's kernels 3 to 5).
 *
 * A block computes a TILE x TILE block of C. It walks along K in slices of
 * depth BK: the block copies a TILE x BK slice of A and a BK x TILE slice of
 * B from global into shared memory (all threads together), waits for
 * everyone (__syncthreads), then every thread multiplies out of shared
 * memory. Each element staged is then read TILE times from fast on-chip
 * memory instead of from global memory: the global traffic drops by a
 * factor of ~TILE/2 against the naive kernel.
 *
 * Shared memory is itself not free (about as slow as L1), so each thread
 * computes a TM x TM register block of C rather than one element: per step
 * k it loads TM values of A and TM of B into registers and does TM*TM
 * multiply-adds with them. That register reuse is what moves the kernel
 * from shared-memory-bound towards compute-bound.
 *
 * Double buffering: two copies of each slice in shared memory. While the
 * threads multiply slice i out of one copy, the loads of slice i+1 from
 * global memory are already in flight (into registers), and are stored into
 * the other copy afterwards: the global-memory latency hides behind the
 * arithmetic instead of stalling every slice, and one __syncthreads per
 * slice is enough (a thread can only overwrite the copy that every thread
 * finished reading before the previous barrier).
 *
 * Two shapes, chosen by the launcher so that the grid fills the GPU:
 *  - TILE 64, TM 4 (16 accumulators per thread): the most reuse, but at
 *    n = 512 only 8 x 8 = 64 blocks, which leaves half of an H100's 132
 *    SMs idle (Nsight Compute says so: "grid too small").
 *  - TILE 32, TM 2: four times as many blocks, less reuse per thread.
 * Both use 256 threads; thread (ty, tx) owns rows ty, ty+TY, ... and
 * columns tx, tx+TX, ... (strided): neighbouring threads read neighbouring
 * words of Bs (no bank conflicts) and write neighbouring words of C
 * (coalesced). Elements of the slices outside A or B are staged as zeros
 * and only elements inside C are stored, so any M, N, K >= 1 works.
 * Not done here, on purpose: vectorised float4 loads, warp tiling, tensor
 * cores. cuBLAS does all of them.
 * ------------------------------------------------------------------------ */
constexpr int BK = 16; /* depth of the staged slices */
constexpr int TILED_THREADS = 256;

template <int TILE, int TM>
__global__ void __launch_bounds__(TILED_THREADS)
    gemm_tiled_kernel(int M, int N, int K, const float *__restrict__ A, int lda, const float *__restrict__ B, int ldb,
                      float *__restrict__ C, int ldc)
{
    constexpr int TX = TILE / TM; /* threads across columns */
    constexpr int TY = TILE / TM; /* threads down rows */
    static_assert(TX * TY == TILED_THREADS, "one thread per TM x TM block of C");
    constexpr int LOADS = TILE * BK / TILED_THREADS; /* slice elements per thread */

    __shared__ float As[2][TILE][BK]; /* rows row0.. of A, columns k0..k0+BK */
    __shared__ float Bs[2][BK][TILE]; /* rows k0..k0+BK of B, columns col0.. */

    const int row0 = blockIdx.y * TILE; /* this block's C block */
    const int col0 = blockIdx.x * TILE;
    const int t = threadIdx.x;
    const int tx = t % TX;
    const int ty = t / TX;

    /* Thread t stages elements t, t + 256, ... of each slice in row-major
     * order: consecutive threads read consecutive addresses of a row of A
     * (BK floats) and of B (TILE floats), and write consecutive words. */
    float a_next[LOADS], b_next[LOADS];
    auto load_slice = [&](int k0) {
#pragma unroll
        for (int l = 0; l < LOADS; ++l) {
            const int e = t + l * TILED_THREADS;
            const int ar = row0 + e / BK, ac = k0 + e % BK;
            a_next[l] = (ar < M && ac < K) ? A[(size_t)ar * lda + ac] : 0.0f;
            const int br = k0 + e / TILE, bc = col0 + e % TILE;
            b_next[l] = (br < K && bc < N) ? B[(size_t)br * ldb + bc] : 0.0f;
        }
    };
    auto store_slice = [&](int buf) {
#pragma unroll
        for (int l = 0; l < LOADS; ++l) {
            const int e = t + l * TILED_THREADS;
            As[buf][e / BK][e % BK] = a_next[l];
            Bs[buf][e / TILE][e % TILE] = b_next[l];
        }
    };

    float acc[TM][TM]; /* lives in registers */
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TM; ++j) acc[i][j] = 0.0f;

    load_slice(0);
    store_slice(0);
    __syncthreads(); /* slice 0 is complete */

    int buf = 0;
    for (int k0 = 0; k0 < K; k0 += BK) {
        const bool more = k0 + BK < K;
        if (more) load_slice(k0 + BK); /* in flight while we multiply below */

            /* Multiply out of shared memory. The loops have constant bounds and
         * are unrolled, so acc[][], a[] and b[] stay in registers. */
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a[TM], b[TM];
#pragma unroll
            for (int i = 0; i < TM; ++i) a[i] = As[buf][ty + i * TY][k];
#pragma unroll
            for (int j = 0; j < TM; ++j) b[j] = Bs[buf][k][tx + j * TX];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TM; ++j) acc[i][j] += a[i] * b[j];
        }
        if (more) store_slice(buf ^ 1); /* the copy nobody reads any more */
        __syncthreads();                /* next slice complete, this one free */
        buf ^= 1;
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int r = row0 + ty + i * TY;
        if (r >= M) continue;
#pragma unroll
        for (int j = 0; j < TM; ++j) {
            const int c = col0 + tx + j * TX;
            if (c < N) C[(size_t)r * ldc + c] = acc[i][j];
        }
    }
}

/* ------------------------------------------------------------------------
 * Naive elementwise stage and reduction: two kernels, two passes over
 * memory (Z read, X written, X read again).
 * ------------------------------------------------------------------------ */
constexpr int ELEM_THREADS = 256;

__global__ void bias_relu_scale_kernel(const float *__restrict__ Z, const float *__restrict__ bias, float scale,
                                       size_t total, int n, float *__restrict__ X)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int col = (int)(idx % (size_t)n);
    X[idx] = scale * fmaxf(Z[idx] + bias[col], 0.0f);
}

/* One thread per row: thread i reads row i from left to right. At any
 * moment the 32 threads of a warp read 32 addresses n floats apart, so each
 * load is its own memory transaction, and only `rows` threads exist (a few
 * hundred: a fraction of what the GPU can run at once). */
__global__ void rowsum_kernel(const float *__restrict__ X, int rows, int n, float *__restrict__ rowsum)
{
    const int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) return;
    const float *x = X + (size_t)row * n;
    float s = 0.0f;
    for (int j = 0; j < n; ++j) s += x[j];
    rowsum[row] = s;
}

/* ------------------------------------------------------------------------
 * Fused stage: one block per row. The block's threads stride along the row
 * (thread t takes columns t, t+256, ...), so each warp load is 32
 * consecutive floats: coalesced. Each thread computes x, writes it, and
 * keeps its partial sum in a register; the block then adds the 256
 * partials: within each warp with shuffles (registers to registers, no
 * memory), across the 8 warps through 8 words of shared memory. Z is read
 * once and X written once: one pass instead of three.
 * ------------------------------------------------------------------------ */
constexpr int FUSED_THREADS = 256;
constexpr int WARP = 32;

__device__ float warp_sum(float v)
{
    /* After the loop, lane 0 holds the sum of the 32 lanes' values. */
#pragma unroll
    for (int offset = WARP / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

__global__ void __launch_bounds__(FUSED_THREADS)
    bias_relu_scale_rowsum_kernel(const float *__restrict__ Z, const float *__restrict__ bias, float scale, int n,
                                  float *__restrict__ X, float *__restrict__ rowsum)
{
    __shared__ float warp_sums[FUSED_THREADS / WARP];

    const int row = blockIdx.x;
    const float *z = Z + (size_t)row * n;
    float *x = X + (size_t)row * n;

    float partial = 0.0f;
    for (int j = threadIdx.x; j < n; j += FUSED_THREADS) {
        const float v = scale * fmaxf(z[j] + bias[j], 0.0f);
        x[j] = v;
        partial += v;
    }

    const int lane = threadIdx.x % WARP;
    const int warp = threadIdx.x / WARP;
    partial = warp_sum(partial);
    if (lane == 0) warp_sums[warp] = partial;
    __syncthreads(); /* all 8 warp sums are in shared memory */

    if (warp == 0) {
        partial = lane < FUSED_THREADS / WARP ? warp_sums[lane] : 0.0f;
        partial = warp_sum(partial);
        if (lane == 0) rowsum[row] = partial;
    }
}

unsigned int blocks_for(size_t items, int threads)
{
    return (unsigned int)((items + (size_t)threads - 1) / (size_t)threads);
}

} // namespace

/* ------------------------------------------------------------------------
 * Launchers. Empty work (M or N == 0) launches nothing: a grid of zero
 * blocks is a launch error.
 * ------------------------------------------------------------------------ */
void c3_launch_gemm_naive(int M, int N, int K, const float *dA, int lda, const float *dB, int ldb, float *dC, int ldc,
                          cudaStream_t stream)
{
    if (M <= 0 || N <= 0) return;
    const dim3 block(NAIVE_BLOCK, NAIVE_BLOCK);
    const dim3 grid(blocks_for((size_t)N, NAIVE_BLOCK), blocks_for((size_t)M, NAIVE_BLOCK));
    gemm_naive_kernel<<<grid, block, 0, stream>>>(M, N, K, dA, lda, dB, ldb, dC, ldc);
    CUDA_CHECK_LAUNCH();
}

void c3_launch_gemm_tiled(int M, int N, int K, const float *dA, int lda, const float *dB, int ldb, float *dC, int ldc,
                          cudaStream_t stream)
{
    if (M <= 0 || N <= 0) return;
    /* The big tile only when it still gives every SM at least two blocks;
     * otherwise the small one, so no SM idles (read once per process). */
    static int sms = 0;
    if (sms == 0) {
        int dev = 0;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    }
    const size_t big_blocks = (size_t)blocks_for((size_t)N, 64) * blocks_for((size_t)M, 64);
    if (big_blocks >= 2 * (size_t)sms) {
        const dim3 grid(blocks_for((size_t)N, 64), blocks_for((size_t)M, 64));
        gemm_tiled_kernel<64, 4><<<grid, TILED_THREADS, 0, stream>>>(M, N, K, dA, lda, dB, ldb, dC, ldc);
    } else {
        const dim3 grid(blocks_for((size_t)N, 32), blocks_for((size_t)M, 32));
        gemm_tiled_kernel<32, 2><<<grid, TILED_THREADS, 0, stream>>>(M, N, K, dA, lda, dB, ldb, dC, ldc);
    }
    CUDA_CHECK_LAUNCH();
}

void c3_launch_bias_relu_scale(const float *dZ, const float *dBias, float scale, int rows, int n, float *dX,
                               cudaStream_t stream)
{
    if (rows <= 0 || n <= 0) return;
    const size_t total = (size_t)rows * (size_t)n;
    bias_relu_scale_kernel<<<blocks_for(total, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dZ, dBias, scale, total, n,
                                                                                         dX);
    CUDA_CHECK_LAUNCH();
}

void c3_launch_rowsum(const float *dX, int rows, int n, float *dRowsum, cudaStream_t stream)
{
    if (rows <= 0) return;
    rowsum_kernel<<<blocks_for((size_t)rows, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(dX, rows, n, dRowsum);
    CUDA_CHECK_LAUNCH();
}

void c3_launch_bias_relu_scale_rowsum(const float *dZ, const float *dBias, float scale, int rows, int n, float *dX,
                                      float *dRowsum, cudaStream_t stream)
{
    if (rows <= 0) return;
    bias_relu_scale_rowsum_kernel<<<(unsigned int)rows, FUSED_THREADS, 0, stream>>>(dZ, dBias, scale, n, dX, dRowsum);
    CUDA_CHECK_LAUNCH();
}
