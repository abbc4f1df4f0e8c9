/* cpu_batched: cpu_slow with ONE change, batching. Each layer is now one
 * matrix-matrix product over the whole batch (through the CPU's GEMM,
 * cs_gemm_best_cpu: OpenBLAS, or the blocked GEMM where it measured
 * faster or no BLAS was built in), forward and backward: a
 * weight fetched into the cache is used for all 256 samples instead of one,
 * and the per-sample outer products become one product per layer.
 *
 * Everything else is cpu_slow's, on purpose, so the chart shows what
 * batching alone bought: a fresh allocation of every buffer each step, the
 * batch converted from bytes again every step, the second forward pass for
 * the log, bias and ReLU as separate passes, all on one thread outside the
 * GEMM. cpu_fast removes those. */

#include "cpu_first_loop.h"
#include "cpu_math.h"
#include "variants.h"

/* y[i][j] += b[j] for every row: a pass over y of its own. */
static void add_bias(float *y, int rows, int cols, const float *b)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) y[(size_t)i * cols + j] += b[j];
}

/* y = max(y, 0): another pass. */
static void relu(float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(y[i] > 0.0f)) y[i] = 0.0f;
}

/* The three layers for `rows` samples, each one GEMM over the batch. */
static void forward_batch(const c1_config *c, const c1_weights *p, int rows, const float *x, float *a1, float *a2,
                          float *z)
{
    c1_gemm_forward(x, rows, c->in, p->w1, c->h1, a1);
    add_bias(a1, rows, c->h1, p->b1);
    relu(a1, (size_t)rows * c->h1);
    c1_gemm_forward(a1, rows, c->h1, p->w2, c->h2, a2);
    add_bias(a2, rows, c->h2, p->b2);
    relu(a2, (size_t)rows * c->h2);
    c1_gemm_forward(a2, rows, c->h2, p->w3, c->out, z);
    add_bias(z, rows, c->out, p->b3);
}

/* gb[j] = sum over the rows of dy[i][j]: a bias's gradient. Rows in order,
 * so each sum adds the samples in the order cpu_slow adds them (outer_add in
 * 1_cpu_slow.c, one sample after the other). */
static void column_sums(const float *dy, int rows, int cols, float *gb)
{
    for (int j = 0; j < cols; j++) gb[j] = 0.0f;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) gb[j] += dy[(size_t)i * cols + j];
}

/* dx = 0 where the ReLU's output x is not > 0 (its derivative is 0 there). */
static void relu_grad(float *dx, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(x[i] > 0.0f)) dx[i] = 0.0f;
}

/* Gradients of the batch-mean loss into g, a layer at a time over the whole
 * batch. z holds the logits; dz, d2, d1 hold the whole batch. */
static void backward_batch(const c1_workload *w, const c1_weights *p, const c1_grads *g, int rows, const int32_t *idx,
                           const float *x, const float *a1, const float *a2, const float *z, float *dz, float *d2,
                           float *d1)
{
    const c1_config *c = &w->cfg;
    for (int i = 0; i < rows; i++) {
        int hit;
        c1_xent_row(z + (size_t)i * c->out, c->out, w->data->labels[idx[i]], &hit, dz + (size_t)i * c->out,
                    1.0f / rows);
    }
    c1_gemm_weight_grad(dz, rows, c->out, a2, c->h2, g->w3);
    column_sums(dz, rows, c->out, g->b3);
    c1_gemm_input_grad(dz, rows, c->out, p->w3, c->h2, d2);
    relu_grad(d2, a2, (size_t)rows * c->h2);
    c1_gemm_weight_grad(d2, rows, c->h2, a1, c->h1, g->w2);
    column_sums(d2, rows, c->h2, g->b2);
    c1_gemm_input_grad(d2, rows, c->h2, p->w2, c->h1, d1);
    relu_grad(d1, a1, (size_t)rows * c->h1);
    c1_gemm_weight_grad(d1, rows, c->h1, x, c->in, g->w1);
    column_sums(d1, rows, c->h1, g->b1);
}

int c1_cpu_batched_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    (void)state;
    static const c1_first_version v = {"cpu_batched", forward_batch, backward_batch, 0};
    return c1_train_first_version(w, steps, out, &v);
}
