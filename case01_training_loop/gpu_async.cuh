/* The asynchronous training run of gpu_async (7_gpu_async.cu), which the
 * next rung, gpu_fast (8_gpu_fast.cu), reuses as it is and changes in one
 * place: how a step's forward and backward passes are put on the stream.
 * gpu_async launches their kernels one by one; gpu_fast replays them from
 * CUDA graphs. */
#ifndef C1_GPU_ASYNC_CUH
#define C1_GPU_ASYNC_CUH

#include "gpu_kernels.cuh"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "workload.h"
}

typedef struct c1_async c1_async;

/* Puts one pass of the step (forward or backward) on st->stream. */
typedef void (*c1_async_pass)(c1_async *st);

struct c1_async {
    const char *name; /* the rung, for messages */
    c1_gpu_net net;
    int streaming;       /* 1: batches streamed from pinned memory (over budget) */
    cudaStream_t stream; /* the compute stream (non-blocking, capturable) */
    float *h_init;       /* pinned copy of the initial weights */
    float *d_loss;       /* order_steps: each step's loss... */
    int32_t *d_correct;  /* ...and correct count, read once per run */
    int *d_step;         /* the current step, published on the device */
    /* Resident mode: the data set on the device and its pinned source. */
    uint8_t *d_images, *d_labels;
    int32_t *d_order;
    uint8_t *h_images, *h_labels;
    int32_t *h_order;
    /* Streaming mode: two staging buffers each side (batch * in image bytes,
     * then batch label bytes), a copy stream, and the events that order it
     * with the compute stream. */
    size_t stage_bytes;
    uint8_t *h_stage[2], *d_stage[2];
    cudaStream_t copy_stream;
    cudaEvent_t copied[2];   /* the copy into d_stage[b] is done */
    cudaEvent_t consumed[2]; /* the gather out of d_stage[b] is done */
    /* The step's passes: c1_async_forward_kernels and
     * c1_async_backward_kernels unless the rung sets its own, with ctx for
     * what they need. */
    c1_async_pass forward, backward;
    void *ctx;
};

/* The state of a run: buffers, pinned sources, streams, and one untimed
 * pass of the step's kernels (so that loading them is not timed). */
c1_async *c1_async_open(const c1_workload *w, const char *name);
/* One training run (variants.h), no synchronization until its end. */
int c1_async_train(c1_async *st, const c1_workload *w, int steps, c1_output *out);
void c1_async_close(c1_async *st);

/* The step's passes launched kernel by kernel (the fused sequences of
 * gpu_kernels.cu). */
void c1_async_forward_kernels(c1_async *st);
void c1_async_backward_kernels(c1_async *st);

#endif
