/* The training loop as first written, shared by cpu_slow and cpu_batched:
 * every step allocates all its buffers and frees them at its end, converts
 * the batch from bytes again, and runs a second full forward pass for the
 * log (before the update, so it sees the weights the training pass saw).
 * The two rungs differ only in how a layer is computed (one sample at a
 * time, or one GEMM over the batch): they hand their forward and backward
 * passes in, so `diff 1_cpu_slow.c 2_cpu_batched.c` is exactly that lesson. */
#ifndef C1_CPU_FIRST_LOOP_H
#define C1_CPU_FIRST_LOOP_H

#include "cpu_math.h"
#include "workload.h"

typedef struct {
    const char *name; /* the rung, for messages */
    /* The three layers for `rows` samples: x -> a1 -> a2 -> z. */
    void (*forward)(const c1_config *c, const c1_weights *p, int rows, const float *x, float *a1, float *a2, float *z);
    /* Gradients of the batch-mean loss into g; dz, d2, d1 are scratch. */
    void (*backward)(const c1_workload *w, const c1_weights *p, const c1_grads *g, int rows, const int32_t *idx,
                     const float *x, const float *a1, const float *a2, const float *z, float *dz, float *d2, float *d1);
    /* 1: dz, d2, d1 hold one sample's gradients and the weight gradients
     * are summed into (so they start at zero); 0: they hold the batch's and
     * the weight gradients are written, not added to. */
    int per_sample;
} c1_first_version;

/* One training run of `steps` steps (see variants.h). Returns 0, or 2 when
 * more steps are asked than the order or the output covers. */
int c1_train_first_version(const c1_workload *w, int steps, c1_output *out, const c1_first_version *v);

#endif
