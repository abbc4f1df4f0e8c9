/* The pieces of gpu_cublas that hybrid reuses: setup for a chosen subset of
 * the work, the two halves of the job as asynchronous enqueues, and the one
 * wait at the end. (C++: only .cu files include it.) Teardown is
 * c3_gpu_cublas_teardown() from variants.h, for either setup. */
#ifndef C3_GPU_CUBLAS_H
#define C3_GPU_CUBLAS_H

extern "C" { /* workload.h is a C header */
#include "workload.h"
}

typedef struct c3_cublas_state c3_cublas_state;

/* Makes the pinned host buffers, device buffers and streams for the parts
 * that will run on the GPU: the chain when gpu_chain, the small batch when
 * gpu_small. The inputs of those parts are copied once into pinned memory,
 * and out's arrays for their outputs are pointed at pinned buffers (the
 * teardown copies the results back and restores them). The cuBLAS handle
 * is created here, outside the timed runs. Returns 0. */
int c3_cublas_setup_parts(const c3_workload *w, c3_output *out, int gpu_chain, int gpu_small, c3_cublas_state **state);

/* Enqueue the whole chain on its stream (H2D of X0, W, bias; per iteration
 * cuBLAS SGEMM + the fused kernel; D2H of X and the row sums into out).
 * Returns at once: the work runs while the host does something else. */
void c3_cublas_enqueue_chain(c3_cublas_state *st, const c3_workload *w, c3_output *out);

/* Enqueue the small batch, in chunks, one stream per chunk (H2D of A and B,
 * one strided-batched SGEMM, D2H of C into out). Returns at once. */
void c3_cublas_enqueue_small(c3_cublas_state *st, const c3_workload *w, c3_output *out);

/* Waits for every stream (host profile region "sync wait"), then adds the
 * device-side phases to the profiler. */
void c3_cublas_wait(c3_cublas_state *st);

#endif
