/* cpu_slow: the training loop as it is usually first written.
 *
 *   - One sample at a time: each layer is a matrix-vector product, so every
 *     weight is fetched from memory for a single multiply-add and fetched
 *     again for the next sample (7.5 MiB of weights, 256 times per pass).
 *     The backward pass likewise adds one outer product per sample into
 *     the weight gradients: a read and a write of all of them per sample.
 *   - A fresh allocation of every buffer each step, freed at its end.
 *   - The batch converted from bytes to floats again every step.
 *   - The loss and accuracy for the log computed by a second full forward
 *     pass over the batch ("model(x)" called again for the metrics), run
 *     before the update so it sees the weights the training pass saw.
 *
 * Same arithmetic as every other rung: the per-sample gradients are summed
 * over the batch first, then one SGD step. */

#include "cpu_first_loop.h"
#include "cpu_math.h"
#include "variants.h"

/* One dense layer for one sample: y[j] = sum_k W[j][k] x[k] + b[j], then
 * ReLU when relu is set. */
static void dense_sample(const float *x, int in, const float *wt, const float *b, int out, float *y, int relu)
{
    for (int j = 0; j < out; j++) {
        const float *wj = wt + (size_t)j * in;
        float acc = 0.0f;
        for (int k = 0; k < in; k++) acc += wj[k] * x[k];
        acc += b[j];
        y[j] = (relu && !(acc > 0.0f)) ? 0.0f : acc;
    }
}

/* The three layers for `rows` samples, one after the other. */
static void forward_batch(const c1_config *c, const c1_weights *p, int rows, const float *x, float *a1, float *a2,
                          float *z)
{
    for (int i = 0; i < rows; i++) {
        dense_sample(x + (size_t)i * c->in, c->in, p->w1, p->b1, c->h1, a1 + (size_t)i * c->h1, 1);
        dense_sample(a1 + (size_t)i * c->h1, c->h1, p->w2, p->b2, c->h2, a2 + (size_t)i * c->h2, 1);
        dense_sample(a2 + (size_t)i * c->h2, c->h2, p->w3, p->b3, c->out, z + (size_t)i * c->out, 0);
    }
}

/* One sample's share of a layer's gradients: gW += dy x^T, gb += dy. */
static void outer_add(const float *dy, int out, const float *x, int in, float *gw, float *gb)
{
    for (int j = 0; j < out; j++) {
        float *gj = gw + (size_t)j * in;
        for (int k = 0; k < in; k++) gj[k] += dy[j] * x[k];
        gb[j] += dy[j];
    }
}

/* One sample's gradient at a layer's input: dx = W^T dy, then through the
 * ReLU that produced x (derivative 1 where x > 0, i.e. where the
 * pre-activation was > 0, else 0). */
static void input_grad_sample(const float *dy, int out, const float *wt, int in, const float *x, float *dx)
{
    for (int k = 0; k < in; k++) dx[k] = 0.0f;
    for (int j = 0; j < out; j++) {
        const float *wj = wt + (size_t)j * in;
        for (int k = 0; k < in; k++) dx[k] += wj[k] * dy[j];
    }
    for (int k = 0; k < in; k++)
        if (!(x[k] > 0.0f)) dx[k] = 0.0f;
}

/* Gradients of the batch-mean loss, summed sample by sample into g (zeroed
 * by the caller). z holds the logits; dz, d2, d1 hold one sample. */
static void backward_batch(const c1_workload *w, const c1_weights *p, const c1_grads *g, int rows, const int32_t *idx,
                           const float *x, const float *a1, const float *a2, const float *z, float *dz, float *d2,
                           float *d1)
{
    const c1_config *c = &w->cfg;
    for (int i = 0; i < rows; i++) {
        const float *xi = x + (size_t)i * c->in;
        const float *a1i = a1 + (size_t)i * c->h1;
        const float *a2i = a2 + (size_t)i * c->h2;
        int hit;
        c1_xent_row(z + (size_t)i * c->out, c->out, w->data->labels[idx[i]], &hit, dz, 1.0f / rows);
        outer_add(dz, c->out, a2i, c->h2, g->w3, g->b3);
        input_grad_sample(dz, c->out, p->w3, c->h2, a2i, d2);
        outer_add(d2, c->h2, a1i, c->h1, g->w2, g->b2);
        input_grad_sample(d2, c->h2, p->w2, c->h1, a1i, d1);
        outer_add(d1, c->h1, xi, c->in, g->w1, g->b1);
    }
}

int c1_cpu_slow_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    (void)state;
    static const c1_first_version v = {"cpu_slow", forward_batch, backward_batch, 1};
    return c1_train_first_version(w, steps, out, &v);
}
