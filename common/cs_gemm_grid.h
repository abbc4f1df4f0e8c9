/* What the cache-blocked GEMMs (cs_gemm_blocked.c, cs_gemm_bf16.c) share:
 * each thread's packing buffer, and the split of C into one rectangle per
 * thread. Internal to common/. */
#ifndef CS_GEMM_GRID_H
#define CS_GEMM_GRID_H

#include <stddef.h>

/* Packed buffers are aligned to a cache line (64 bytes), which is also the
 * widest vector, so the kernels' vector loads never split cache lines. */
#define CS_GEMM_ALIGN 64

/* This thread's packing buffer, at least `bytes` long and CS_GEMM_ALIGN
 * aligned, kept from one call to the next (exits with a line when the
 * memory is not there). */
void *cs_gemm_thread_buffer(size_t bytes);

/* Splits C (M x N) into a grid of rows x cols = nthreads rectangles, the
 * grid whose rectangles are closest to square. */
void cs_gemm_choose_grid(int M, int N, int nthreads, int *rows, int *cols);

static inline int cs_gemm_round_up(int x, int m)
{
    return (x + m - 1) / m * m;
}

#endif
