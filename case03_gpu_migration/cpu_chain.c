/* What changed from cpu_naive:
 *  1. the product goes through a fast GEMM backend (blocked or BLAS);
 *  2. bias + ReLU + scale and the row sum are fused: Z is read once, each
 *     row while it is still in L1, instead of two passes over n*n floats;
 *  3. every stage runs on all cores (OpenMP over rows, or over products);
 *  4. the final activations are written straight into the output buffer
 *     instead of being copied there at the end. */
#include "cpu_chain.h"

#include <string.h>

#include "cs_memory.h"
#include "cs_profiler.h"

void c3_cpu_fused_chain(const c3_workload *w, c3_output *out, cs_gemm_backend backend)
{
    const c3_config *c = &w->cfg;
    int n = c->n;
    size_t n2 = (size_t)n * n;
    float *z = cs_alloc(n2 * sizeof(float), "cpu chain Z");
    const float *x_prev = w->x0;

    for (int k = 0; k < c->iters; k++) {
        cs_prof_begin("matmul");
        cs_gemm(backend, 0, 0, n, n, n, 1.0f, x_prev, n, w->w, n, 0.0f, z, n);
        cs_prof_end();

        cs_prof_begin("bias+relu+scale+rowsum (fused)");
        float *rowsum = out->rowsum + (size_t)k * n;
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) c3_bias_relu_scale_rowsum(z, w->bias, w->scale, n, i, i + 1, out->x, rowsum);
        cs_prof_end();
        x_prev = out->x; /* X lives in the output buffer; Z is a separate one */
    }
    if (c->iters == 0) memcpy(out->x, w->x0, n2 * sizeof(float));
    cs_free(z);
}

void c3_cpu_small_batch(const c3_workload *w, c3_output *out, cs_gemm_backend backend)
{
    const c3_config *c = &w->cfg;
    int s = c->small;
    size_t s2 = (size_t)s * s;
    cs_prof_begin("small matmuls");
/* A 64x64 product is too small to split across threads, but a batch of
     * them is embarrassingly parallel: one product per thread at a time.
     * (The GEMM called inside runs on one thread: nested parallel regions
     * are off by default.) */
#pragma omp parallel for schedule(dynamic, 8)
    for (int p = 0; p < c->batch; p++)
        cs_gemm(backend, 0, 0, s, s, s, 1.0f, w->small_a + p * s2, s, w->small_b + p * s2, s, 0.0f, out->small + p * s2,
                s);
    cs_prof_end();
}
