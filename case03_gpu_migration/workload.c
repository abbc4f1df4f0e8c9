/* case03's workload: seeded inputs, the float64 reference, the check. */
#include "workload.h"

#include <math.h>
#include <string.h>

#include "cs_gemm.h"
#include "cs_memory.h"
#include "cs_rng.h"

double c3_host_bytes(const c3_config *c)
{
    double n2 = (double)c->n * c->n, s2 = (double)c->small * c->small;
    double inputs = 4.0 * (2 * n2 + c->n) + 4.0 * 2 * c->batch * s2;
    double reference = 8.0 * (n2 + (double)c->iters * c->n + c->batch * s2);
    /* the float64 reference needs its own copies of the inputs and a Z */
    double reference_work = 8.0 * 3 * n2 + 8.0 * 2 * c->batch * s2;
    double outputs = 2 * 4.0 * (n2 + (double)c->iters * c->n + c->batch * s2);
    double variant_work = 4.0 * 2 * n2; /* a Z and a ping-pong X per variant */
    return inputs + reference + reference_work + outputs + variant_work;
}

double c3_flops(const c3_config *c)
{
    double n = c->n, s = c->small;
    return c->iters * (2.0 * n * n * n + 4.0 * n * n) + c->batch * 2.0 * s * s * s;
}

void c3_workload_init(c3_workload *w, const c3_config *c)
{
    memset(w, 0, sizeof *w);
    w->cfg = *c;
    size_t n2 = (size_t)c->n * c->n, s2 = (size_t)c->small * c->small;
    w->x0 = cs_alloc(n2 * sizeof(float), "case03 input X0");
    w->w = cs_alloc(n2 * sizeof(float), "case03 weights W");
    w->bias = cs_alloc((size_t)c->n * sizeof(float), "case03 bias");
    w->small_a = cs_alloc((size_t)c->batch * s2 * sizeof(float), "case03 small A");
    w->small_b = cs_alloc((size_t)c->batch * s2 * sizeof(float), "case03 small B");

    /* One stream per array, so changing a size does not shift the others. */
    cs_rng r;
    cs_rng_seed(&r, c->seed, 0);
    cs_rng_fill_uniform(&r, w->x0, n2, -1.0f, 1.0f);
    cs_rng_seed(&r, c->seed, 1);
    cs_rng_fill_uniform(&r, w->w, n2, -1.0f, 1.0f);
    cs_rng_seed(&r, c->seed, 2);
    cs_rng_fill_uniform(&r, w->bias, (size_t)c->n, -0.1f, 0.1f);
    cs_rng_seed(&r, c->seed, 3);
    cs_rng_fill_uniform(&r, w->small_a, (size_t)c->batch * s2, -1.0f, 1.0f);
    cs_rng_seed(&r, c->seed, 4);
    cs_rng_fill_uniform(&r, w->small_b, (size_t)c->batch * s2, -1.0f, 1.0f);

    /* Z = X W sums n products of variance 1/3 * 1/3; ReLU keeps half of the
     * second moment: scale = sqrt(6/n) brings it back to that of X0, so the
     * values neither explode nor vanish over the iterations. */
    w->scale = (float)sqrt(6.0 / c->n);
}

static double *to_f64(const float *x, size_t n)
{
    double *d = cs_alloc(n * sizeof(double), "case03 reference copy");
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

void c3_compute_reference(c3_workload *w)
{
    const c3_config *c = &w->cfg;
    int n = c->n, s = c->small;
    size_t n2 = (size_t)n * n, s2 = (size_t)s * s;

    double *x = to_f64(w->x0, n2);
    double *wt = to_f64(w->w, n2);
    double *z = cs_alloc(n2 * sizeof(double), "case03 reference Z");
    double scale = w->scale;
    w->ref_rowsum = cs_alloc((size_t)c->iters * n * sizeof(double), "case03 reference rowsum");
    for (int k = 0; k < c->iters; k++) {
        cs_gemm_f64(n, n, n, x, n, wt, n, z, n);
        double *rowsum = w->ref_rowsum + (size_t)k * n;
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                double v = z[(size_t)i * n + j] + w->bias[j];
                v = scale * (v > 0 ? v : 0);
                x[(size_t)i * n + j] = v;
                sum += v;
            }
            rowsum[i] = sum;
        }
    }
    w->ref_x = x;
    cs_free(wt);
    cs_free(z);

    double *a = to_f64(w->small_a, (size_t)c->batch * s2);
    double *b = to_f64(w->small_b, (size_t)c->batch * s2);
    w->ref_small = cs_alloc((size_t)c->batch * s2 * sizeof(double), "case03 reference small C");
    for (int p = 0; p < c->batch; p++) cs_gemm_f64(s, s, s, a + p * s2, s, b + p * s2, s, w->ref_small + p * s2, s);
    cs_free(a);
    cs_free(b);
}

void c3_workload_free(c3_workload *w)
{
    cs_free(w->x0);
    cs_free(w->w);
    cs_free(w->bias);
    cs_free(w->small_a);
    cs_free(w->small_b);
    cs_free(w->ref_x);
    cs_free(w->ref_rowsum);
    cs_free(w->ref_small);
    memset(w, 0, sizeof *w);
}

void c3_output_alloc(c3_output *o, const c3_config *c)
{
    size_t n2 = (size_t)c->n * c->n, s2 = (size_t)c->small * c->small;
    o->x = cs_alloc(n2 * sizeof(float), "case03 output X");
    o->rowsum = cs_alloc((size_t)c->iters * c->n * sizeof(float), "case03 output rowsum");
    o->small = cs_alloc((size_t)c->batch * s2 * sizeof(float), "case03 output small C");
}

void c3_output_free(c3_output *o)
{
    cs_free(o->x);
    cs_free(o->rowsum);
    cs_free(o->small);
    memset(o, 0, sizeof *o);
}

void c3_output_poison(c3_output *o, const c3_config *c)
{
    size_t n2 = (size_t)c->n * c->n, s2 = (size_t)c->small * c->small;
    size_t nr = (size_t)c->iters * c->n, ns = (size_t)c->batch * s2;
    for (size_t i = 0; i < n2; i++) o->x[i] = NAN;
    for (size_t i = 0; i < nr; i++) o->rowsum[i] = NAN;
    for (size_t i = 0; i < ns; i++) o->small[i] = NAN;
}

cs_check c3_check(const c3_workload *w, const c3_output *o, double tol)
{
    const c3_config *c = &w->cfg;
    size_t n2 = (size_t)c->n * c->n, s2 = (size_t)c->small * c->small;
    cs_check x = cs_compare_f32_f64(o->x, w->ref_x, n2, tol);
    cs_check r = cs_compare_f32_f64(o->rowsum, w->ref_rowsum, (size_t)c->iters * c->n, tol);
    cs_check s = cs_compare_f32_f64(o->small, w->ref_small, (size_t)c->batch * s2, tol);
    return cs_check_merge(cs_check_merge(x, r), s);
}

void c3_bias_relu_scale_rowsum(const float *z, const float *bias, float scale, int n, int r0, int r1, float *x,
                               float *rowsum)
{
    for (int i = r0; i < r1; i++) {
        const float *zi = z + (size_t)i * n;
        float *xi = x + (size_t)i * n;
        float sum = 0.0f;
/* One pass: the row is read once and stays in L1 for the sum. The
         * select compiles to a vector max (fmaxf would not vectorize
         * without -ffast-math: its NaN rules differ). */
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j < n; j++) {
            float t = zi[j] + bias[j];
            float v = scale * (t > 0.0f ? t : 0.0f);
            xi[j] = v;
            sum += v;
        }
        rowsum[i] = sum;
    }
}
