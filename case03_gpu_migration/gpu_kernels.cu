/* case03's kernels: the naive first port, the hand-tiled GEMM, and the
 * elementwise + reduction stage both naive and fused. See gpu_kernels.cuh
 * for what each computes; this file says how and why. */
#include "gpu_kernels.cuh"
#include "cs_cuda.cuh"

namespace {

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

__global__ void gemm_naive_kernel(int M, int N, int K,
                                  const float *__restrict__ A, int lda,
                                  const float *__restrict__ B, int ldb,
                                  float *__restrict__ C, int ldc)
{
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    const int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= M || col >= N)
        return;
    float acc = 0.0f;
    for (int k = 0; k < K; ++k)
        acc += A[(size_t)row * lda + k] * B[(size_t)k * ldb + col];
    C[(size_t)row * ldc + col] = acc;
}

/* ------------------------------------------------------------------------
 * Tiled GEMM (the idea of SGEMM_CUDA's kernels 3 to 5).
 *
 * A block computes a TILE x TILE block of C. It walks along K in slices of
 * depth BK: the block first copies a TILE x BK slice of A and a BK x TILE
 * slice of B from global into shared memory (all threads together, one
 * element each per pass), waits for everyone (__syncthreads), then every
 * thread multiplies out of shared memory. Each element staged is then read
 * TILE times from fast on-chip memory instead of from global memory: the
 * global traffic drops by a factor of ~TILE/2 against the naive kernel.
 *
 * Shared memory is itself not free (about as slow as L1), so each thread
 * computes a TM x TN register block of C rather than one element: per step
 * k it loads TM values of A and TN values of B into registers and does
 * TM*TN multiply-adds with them (16 FMAs for 8 shared loads instead of 1
 * for 2). That register reuse is what moves the kernel from
 * shared-memory-bound towards compute-bound.
 *
 * Choices:
 *  - TILE = 64, BK = 8: As and Bs take 2 * 64 * 8 * 4 B = 4 KiB, so many
 *    blocks fit on an SM and hide each other's load latency.
 *  - TM = TN = 4: 16 accumulators per thread, (64/4)^2 = 256 threads a block.
 *  - Thread (ty, tx) owns rows ty, ty+16, ty+32, ty+48 and columns tx, tx+16,
 *    tx+32, tx+48 of the block (strided, not 4 adjacent ones): neighbouring
 *    threads then read neighbouring words of Bs (no shared-memory bank
 *    conflicts) and write neighbouring words of C (coalesced stores).
 *  - Bounds: elements of the slices that fall outside A or B are staged as
 *    zeros (they add nothing to the sums) and only elements inside C are
 *    stored, so any M, N, K >= 1 works, not only multiples of 64.
 * Not done here, on purpose (the next steps of SGEMM_CUDA): vectorised
 * float4 loads, double buffering, warp tiling. cuBLAS does all of them.
 * ------------------------------------------------------------------------ */
constexpr int TILE = 64;                      /* C block per thread block */
constexpr int BK = 8;                         /* depth of the staged slices */
constexpr int TM = 4;                         /* rows of C per thread */
constexpr int TN = 4;                         /* columns of C per thread */
constexpr int THREADS_X = TILE / TN;          /* 16 threads across columns */
constexpr int THREADS_Y = TILE / TM;          /* 16 threads down rows */
constexpr int TILED_THREADS = THREADS_X * THREADS_Y;   /* 256 */

__global__ void __launch_bounds__(TILED_THREADS)
gemm_tiled_kernel(int M, int N, int K,
                  const float *__restrict__ A, int lda,
                  const float *__restrict__ B, int ldb,
                  float *__restrict__ C, int ldc)
{
    __shared__ float As[TILE][BK];    /* rows row0.. of A, columns k0..k0+BK */
    __shared__ float Bs[BK][TILE];    /* rows k0..k0+BK of B, columns col0.. */

    const int row0 = blockIdx.y * TILE;           /* this block's C block */
    const int col0 = blockIdx.x * TILE;
    const int t = threadIdx.x;                    /* 0..255 */
    const int tx = t % THREADS_X;
    const int ty = t / THREADS_X;

    float acc[TM][TN];                            /* lives in registers */
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j)
            acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += BK) {
        /* Stage the A slice (TILE x BK = 512 floats, 2 per thread). Thread
         * e takes element e in row-major order: consecutive threads read
         * consecutive addresses of a row of A (8 floats = one 32-byte
         * sector) and write consecutive words of As. */
        for (int e = t; e < TILE * BK; e += TILED_THREADS) {
            const int r = e / BK, c = e % BK;
            const int gr = row0 + r, gc = k0 + c;
            As[r][c] = (gr < M && gc < K) ? A[(size_t)gr * lda + gc] : 0.0f;
        }
        /* Stage the B slice (BK x TILE): a warp reads 32 consecutive floats
         * of one row of B, fully coalesced. */
        for (int e = t; e < BK * TILE; e += TILED_THREADS) {
            const int r = e / TILE, c = e % TILE;
            const int gr = k0 + r, gc = col0 + c;
            Bs[r][c] = (gr < K && gc < N) ? B[(size_t)gr * ldb + gc] : 0.0f;
        }
        __syncthreads();              /* the slices are complete */

        /* Multiply out of shared memory. The loops have constant bounds and
         * are unrolled, so acc[][], a[] and b[] stay in registers. */
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM; ++i)
                a[i] = As[ty + i * THREADS_Y][k];
#pragma unroll
            for (int j = 0; j < TN; ++j)
                b[j] = Bs[k][tx + j * THREADS_X];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j)
                    acc[i][j] += a[i] * b[j];
        }
        __syncthreads();              /* nobody still reads before we overwrite */
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int r = row0 + ty + i * THREADS_Y;
        if (r >= M)
            continue;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
            const int c = col0 + tx + j * THREADS_X;
            if (c < N)
                C[(size_t)r * ldc + c] = acc[i][j];
        }
    }
}

/* ------------------------------------------------------------------------
 * Naive elementwise stage and reduction: two kernels, two passes over
 * memory (Z read, X written, X read again).
 * ------------------------------------------------------------------------ */
constexpr int ELEM_THREADS = 256;

__global__ void bias_relu_scale_kernel(const float *__restrict__ Z,
                                       const float *__restrict__ bias, float scale,
                                       size_t total, int n, float *__restrict__ X)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total)
        return;
    const int col = (int)(idx % (size_t)n);
    X[idx] = scale * fmaxf(Z[idx] + bias[col], 0.0f);
}

/* One thread per row: thread i reads row i from left to right. At any
 * moment the 32 threads of a warp read 32 addresses n floats apart, so each
 * load is its own memory transaction, and only `rows` threads exist (a few
 * hundred: a fraction of what the GPU can run at once). */
__global__ void rowsum_kernel(const float *__restrict__ X, int rows, int n,
                              float *__restrict__ rowsum)
{
    const int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows)
        return;
    const float *x = X + (size_t)row * n;
    float s = 0.0f;
    for (int j = 0; j < n; ++j)
        s += x[j];
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
    for (int offset = WARP / 2; offset > 0; offset /= 2)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

__global__ void __launch_bounds__(FUSED_THREADS)
bias_relu_scale_rowsum_kernel(const float *__restrict__ Z,
                              const float *__restrict__ bias, float scale, int n,
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
    if (lane == 0)
        warp_sums[warp] = partial;
    __syncthreads();                  /* all 8 warp sums are in shared memory */

    if (warp == 0) {
        partial = lane < FUSED_THREADS / WARP ? warp_sums[lane] : 0.0f;
        partial = warp_sum(partial);
        if (lane == 0)
            rowsum[row] = partial;
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
void c3_launch_gemm_naive(int M, int N, int K, const float *dA, int lda,
                          const float *dB, int ldb, float *dC, int ldc,
                          cudaStream_t stream)
{
    if (M <= 0 || N <= 0)
        return;
    const dim3 block(NAIVE_BLOCK, NAIVE_BLOCK);
    const dim3 grid(blocks_for((size_t)N, NAIVE_BLOCK), blocks_for((size_t)M, NAIVE_BLOCK));
    gemm_naive_kernel<<<grid, block, 0, stream>>>(M, N, K, dA, lda, dB, ldb, dC, ldc);
    CUDA_CHECK_LAUNCH();
}

void c3_launch_gemm_tiled(int M, int N, int K, const float *dA, int lda,
                          const float *dB, int ldb, float *dC, int ldc,
                          cudaStream_t stream)
{
    if (M <= 0 || N <= 0)
        return;
    const dim3 grid(blocks_for((size_t)N, TILE), blocks_for((size_t)M, TILE));
    gemm_tiled_kernel<<<grid, TILED_THREADS, 0, stream>>>(M, N, K, dA, lda, dB, ldb, dC, ldc);
    CUDA_CHECK_LAUNCH();
}

void c3_launch_bias_relu_scale(const float *dZ, const float *dBias, float scale,
                               int rows, int n, float *dX, cudaStream_t stream)
{
    if (rows <= 0 || n <= 0)
        return;
    const size_t total = (size_t)rows * (size_t)n;
    bias_relu_scale_kernel<<<blocks_for(total, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(
        dZ, dBias, scale, total, n, dX);
    CUDA_CHECK_LAUNCH();
}

void c3_launch_rowsum(const float *dX, int rows, int n, float *dRowsum,
                      cudaStream_t stream)
{
    if (rows <= 0)
        return;
    rowsum_kernel<<<blocks_for((size_t)rows, ELEM_THREADS), ELEM_THREADS, 0, stream>>>(
        dX, rows, n, dRowsum);
    CUDA_CHECK_LAUNCH();
}

void c3_launch_bias_relu_scale_rowsum(const float *dZ, const float *dBias, float scale,
                                      int rows, int n, float *dX, float *dRowsum,
                                      cudaStream_t stream)
{
    if (rows <= 0)
        return;
    bias_relu_scale_rowsum_kernel<<<(unsigned int)rows, FUSED_THREADS, 0, stream>>>(
        dZ, dBias, scale, n, dX, dRowsum);
    CUDA_CHECK_LAUNCH();
}
