/* case03's CUDA kernels and their launchers, shared by every GPU rung so that
 * no kernel is written twice.
 *
 * All matrices are row-major, as on the CPU side: element (i, j) of a matrix
 * with leading dimension ld is at p[i*ld + j]. Every launcher enqueues its
 * kernel on `stream` (0 = the default stream), checks the launch with
 * CUDA_CHECK_LAUNCH() and returns without waiting for the kernel.
 *
 * These are C++ functions (only .cu files call them). */
#ifndef C3_GPU_KERNELS_CUH
#define C3_GPU_KERNELS_CUH

#include <cuda_runtime.h>

/* The signature every GEMM launcher shares: C = A * B with A M x K, B K x N,
 * C M x N (device pointers). gpu_resident and gpu_tiled differ only in which
 * launcher they plug into the same pipeline. */
typedef void (*c3_gemm_launcher)(int M, int N, int K, const float *dA, int lda, const float *dB, int ldb, float *dC,
                                 int ldc, cudaStream_t stream);

/* The first port: one thread per element of C, 16x16 blocks, every operand
 * read from global memory (each element of A N times, each of B M times). */
void c3_launch_gemm_naive(int M, int N, int K, const float *dA, int lda, const float *dB, int ldb, float *dC, int ldc,
                          cudaStream_t stream);

/* Shared-memory tiling: a block of 256 threads computes a TILE x TILE block
 * of C from TILE x 16 slices of A and 16 x TILE slices of B, double-buffered
 * in shared memory; each thread accumulates a TM x TM register block. The
 * launcher takes TILE 64, TM 4 when that still gives every SM two blocks,
 * else TILE 32, TM 2 (more, smaller blocks). Any M, N, K >= 1. */
void c3_launch_gemm_tiled(int M, int N, int K, const float *dA, int lda, const float *dB, int ldb, float *dC, int ldc,
                          cudaStream_t stream);

/* x[i][j] = scale * max(z[i][j] + bias[j], 0) for rows x n elements, one
 * thread per element (z and x: leading dimension n). */
void c3_launch_bias_relu_scale(const float *dZ, const float *dBias, float scale, int rows, int n, float *dX,
                               cudaStream_t stream);

/* rowsum[i] = sum_j x[i][j], one thread per row summing it serially: the
 * naive reduction (a warp's 32 threads read 32 different rows, so no two
 * loads share a memory transaction). */
void c3_launch_rowsum(const float *dX, int rows, int n, float *dRowsum, cudaStream_t stream);

/* The fused stage: bias + ReLU + scale and the row sum in one pass over Z,
 * one block per row (coalesced loads, warp-shuffle + shared-memory
 * reduction). Writes x (rows x n) and rowsum (rows). */
void c3_launch_bias_relu_scale_rowsum(const float *dZ, const float *dBias, float scale, int rows, int n, float *dX,
                                      float *dRowsum, cudaStream_t stream);

#endif
