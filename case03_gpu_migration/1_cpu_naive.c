/* cpu_naive: the code as first written. Each stage is its own pass over
 * memory, and the matrix product is the textbook triple loop
 * (cs_gemm_naive), which walks down a column of W for every element of Z:
 * one cache line fetched per multiply-add once W no longer fits the cache. */
#include <math.h>

#include "cs_gemm.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "variants.h"

int c3_cpu_naive_run(const c3_workload *w, c3_output *out, void *state)
{
    (void)state;
    const c3_config *c = &w->cfg;
    int n = c->n, s = c->small;
    size_t n2 = (size_t)n * n, s2 = (size_t)s * s;
    float *z = cs_alloc(n2 * sizeof(float), "cpu_naive Z");
    float *x = cs_alloc(n2 * sizeof(float), "cpu_naive X");
    const float *x_prev = w->x0;

    for (int k = 0; k < c->iters; k++) {
        cs_prof_begin("matmul");
        cs_gemm_naive(0, 0, n, n, n, 1.0f, x_prev, n, w->w, n, 0.0f, z, n);
        cs_prof_end();

        cs_prof_begin("elementwise"); /* pass 1: read Z, write X */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                float v = z[(size_t)i * n + j] + w->bias[j];
                x[(size_t)i * n + j] = w->scale * (v > 0.0f ? v : 0.0f);
            }
        cs_prof_end();

        cs_prof_begin("reduction"); /* pass 2: read X again */
        float *rowsum = out->rowsum + (size_t)k * n;
        for (int i = 0; i < n; i++) {
            float sum = 0.0f;
            for (int j = 0; j < n; j++) sum += x[(size_t)i * n + j];
            rowsum[i] = sum;
        }
        cs_prof_end();
        x_prev = x;
        /* the next product reads X while writing Z: no copy needed */
    }
    for (size_t i = 0; i < n2; i++) out->x[i] = x_prev[i];

    cs_prof_begin("small matmuls");
    for (int p = 0; p < c->batch; p++)
        cs_gemm_naive(0, 0, s, s, s, 1.0f, w->small_a + p * s2, s, w->small_b + p * s2, s, 0.0f, out->small + p * s2,
                      s);
    cs_prof_end();

    cs_free(z);
    cs_free(x);
    return 0;
}
