/* Step 4 of case01: focused measurements that test the hypothesis.
 *  - batching: the same GEMM backend fed one sample at a time (M = 1, a
 *    matrix-vector product) against the whole batch at once (M = batch),
 *    on the network's biggest layer;
 *  - conversion: byte -> float of one batch, the work cpu_slow repeats;
 *  - on the GPU: what a per-step pageable copy of the batch and a copy of
 *    all weights back to the host cost at the bandwidth measured now. */
#ifndef C1_INVESTIGATE_H
#define C1_INVESTIGATE_H

#include "cs_gemm.h"
#include "workload.h"

typedef struct {
    cs_gemm_backend backend;
    int rows, cols;                /* the layer timed: rows x cols weights */
    double per_sample_gflops;      /* batch products with M = 1 */
    double batched_gflops;         /* one product with M = batch */
    double convert_s;              /* byte -> float of one batch */
    int gpu;                       /* the GPU figures below were measured */
    double batch_h2d_pageable_s;   /* one batch of floats, host to device, pageable */
    double weights_d2h_pageable_s; /* all weights device to host, pageable */
    double h2d_pageable_gbs, d2h_pageable_gbs;
} c1_investigation;

void c1_investigate(const c1_workload *w, int gpu, c1_investigation *r);

#endif
