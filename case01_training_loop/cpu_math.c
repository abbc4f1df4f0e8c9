/* Shared arithmetic of the CPU rungs (see cpu_math.h). */
#include "cpu_math.h"

#include <math.h>

#include "cs_gemm.h"

c1_weights c1_weights_of(const c1_layout *l, const float *flat)
{
    c1_weights p = {flat + l->w1, flat + l->b1, flat + l->w2, flat + l->b2, flat + l->w3, flat + l->b3};
    return p;
}

c1_grads c1_grads_of(const c1_layout *l, float *flat)
{
    c1_grads g = {flat + l->w1, flat + l->b1, flat + l->w2, flat + l->b2, flat + l->w3, flat + l->b3};
    return g;
}

void c1_convert_rows(const c1_workload *w, const int32_t *idx, int count, float *x)
{
    size_t in = (size_t)w->cfg.in;
    for (int i = 0; i < count; i++) {
        const uint8_t *img = w->data->images + (size_t)idx[i] * in;
        float *row = x + (size_t)i * in;
        for (size_t k = 0; k < in; k++) row[k] = c1_pixel(img[k]);
    }
}

float c1_xent_row(const float *z, int n, int label, int *hit, float *dz, float scale)
{
    /* Pass 1: the maximum (its first position is the prediction). */
    int best = 0;
    for (int j = 1; j < n; j++)
        if (z[j] > z[best]) best = j;
    float m = z[best];
    float z_label = z[label];
    *hit = (best == label);

    /* Pass 2: sum of exp(z - max), each term <= 1, so no overflow; the
     * terms are parked in dz for pass 3. */
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
        float e = expf(z[j] - m);
        sum += e;
        if (dz) dz[j] = e;
    }
    /* -log softmax(z)[label] = log(sum exp(z - m)) - (z[label] - m) */
    float loss = logf(sum) - (z_label - m);

    if (dz) { /* pass 3: softmax - onehot, scaled for the batch mean */
        float inv = 1.0f / sum;
        for (int j = 0; j < n; j++) dz[j] = (dz[j] * inv - (j == label ? 1.0f : 0.0f)) * scale;
    }
    return loss;
}

void c1_batch_metrics(const c1_workload *w, const int32_t *idx, const float *z, int rows, float *loss, int32_t *correct)
{
    double sum = 0.0; /* double: 256 float losses summed in order */
    int32_t hits = 0;
    for (int i = 0; i < rows; i++) {
        int hit;
        sum += c1_xent_row(z + (size_t)i * w->cfg.out, w->cfg.out, w->data->labels[idx[i]], &hit, NULL, 0.0f);
        hits += hit;
    }
    *loss = (float)(sum / rows);
    *correct = hits;
}

void c1_gemm_forward(const float *x, int rows, int in, const float *w, int out, float *y)
{
    /* y (rows x out) = x (rows x in) * W^T: W is stored out x in, so it is
     * B with transB, leading dimension in. */
    cs_gemm(cs_gemm_best_cpu(), 0, 1, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
}

void c1_gemm_weight_grad(const float *dy, int rows, int out, const float *x, int in, float *gw)
{
    /* gw (out x in) = dy^T (out x rows) * x (rows x in): the sum over the
     * batch of each sample's outer product, done as one product. */
    cs_gemm(cs_gemm_best_cpu(), 1, 0, out, in, rows, 1.0f, dy, out, x, in, 0.0f, gw, in);
}

void c1_gemm_input_grad(const float *dy, int rows, int out, const float *w, int in, float *dx)
{
    /* dx (rows x in) = dy (rows x out) * W (out x in) */
    cs_gemm(cs_gemm_best_cpu(), 0, 0, rows, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
}

void c1_sgd_update(float *p, const float *g, size_t n, float lr, int parallel)
{
    /* Memory-bound (read p and g, write p): threads help only as far as
     * they add memory bandwidth, which on most machines they do. */
    (void)parallel; /* read only by the pragma (unused without OpenMP) */
#pragma omp parallel for schedule(static) if (parallel)
    for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
}
