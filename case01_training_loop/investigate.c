/* Step 4: batching, conversion and copy costs measured on their own. */
#include "investigate.h"

#include <stdlib.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_gpu.h"
#include "cs_memory.h"
#include "cs_rng.h"
#include "cs_stats.h"

#define REPEATS 5

/* Median seconds of REPEATS calls of the layer's forward product, one
 * sample at a time (per_sample) or the whole batch at once. */
static double time_layer(cs_gemm_backend b, int per_sample, int batch, int rows, int cols, const float *X,
                         const float *W, float *Y)
{
    double t[REPEATS];
    for (int r = -1; r < REPEATS; r++) { /* r = -1: warm-up */
        double t0 = cs_now();
        if (per_sample)
            for (int i = 0; i < batch; i++) /* y_i = x_i W^T: M = 1 */
                cs_gemm(b, 0, 1, 1, rows, cols, 1.0f, X + (size_t)i * cols, cols, W, cols, 0.0f, Y + (size_t)i * rows,
                        rows);
        else
            cs_gemm(b, 0, 1, batch, rows, cols, 1.0f, X, cols, W, cols, 0.0f, Y, rows);
        if (r >= 0) t[r] = cs_now() - t0;
    }
    return cs_median(t, REPEATS);
}

void c1_investigate(const c1_workload *w, int gpu, c1_investigation *r)
{
    memset(r, 0, sizeof *r);
    const c1_config *c = &w->cfg;
    const int batch = c->batch;
    /* The biggest layer: the one with the most weights. */
    int rows = c->h1, cols = c->in;
    if ((size_t)c->h2 * c->h1 > (size_t)rows * cols) rows = c->h2, cols = c->h1;
    r->rows = rows;
    r->cols = cols;
    r->backend = cs_gemm_best_cpu();

    float *X = cs_alloc((size_t)batch * cols * sizeof(float), "investigation inputs");
    float *W = cs_alloc((size_t)rows * cols * sizeof(float), "investigation weights");
    float *Y = cs_alloc((size_t)batch * rows * sizeof(float), "investigation outputs");
    cs_rng rng;
    cs_rng_seed(&rng, c->seed, 77);
    cs_rng_fill_uniform(&rng, X, (size_t)batch * cols, 0.0f, 1.0f);
    cs_rng_fill_uniform(&rng, W, (size_t)rows * cols, -0.05f, 0.05f);

    double flop = 2.0 * batch * rows * cols;
    double ts = time_layer(r->backend, 1, batch, rows, cols, X, W, Y);
    double tb = time_layer(r->backend, 0, batch, rows, cols, X, W, Y);
    r->per_sample_gflops = ts > 0 ? flop / ts * 1e-9 : 0;
    r->batched_gflops = tb > 0 ? flop / tb * 1e-9 : 0;

    /* Conversion of one batch, as cpu_slow does it every step. */
    {
        double t[REPEATS];
        const int in = c->in;
        for (int k = -1; k < REPEATS; k++) {
            double t0 = cs_now();
            for (int i = 0; i < batch; i++) {
                const uint8_t *img = w->data->images + (size_t)w->order[i] * in;
                for (int j = 0; j < in; j++) X[(size_t)i * in + j] = c1_pixel(img[j]);
            }
            if (k >= 0) t[k] = cs_now() - t0;
        }
        r->convert_s = cs_median(t, REPEATS);
    }
    cs_free(X);
    cs_free(W);
    cs_free(Y);

    if (gpu) {
        size_t batch_bytes = (size_t)batch * c->in * sizeof(float);
        size_t weight_bytes = w->layout.count * sizeof(float);
        r->h2d_pageable_gbs = cs_gpu_copy_gbs(batch_bytes, 0, 1, REPEATS);
        r->d2h_pageable_gbs = cs_gpu_copy_gbs(weight_bytes, 0, 0, REPEATS);
        if (r->h2d_pageable_gbs > 0 && r->d2h_pageable_gbs > 0) {
            r->gpu = 1;
            r->batch_h2d_pageable_s = batch_bytes / (r->h2d_pageable_gbs * 1e9);
            r->weights_d2h_pageable_s = weight_bytes / (r->d2h_pageable_gbs * 1e9);
        }
    }
}
