/* cpu_fast: cpu_batched with the rest of cpu_slow's habits removed.
 *
 *   - Buffers allocated once, in setup, and reused by every step.
 *   - Data converted once: each image is turned into floats the first time
 *     a run visits it, into a float copy of the data set (allocated in
 *     setup, n x in floats), and a step only copies its rows out of it.
 *     Lazily rather than the whole data set at the start of the run: a
 *     short run (the check run, --quick) converts only the images it
 *     visits, a run over several epochs still converts each image once, and
 *     rows never visited never become resident. The flags are cleared at
 *     the start of every run, so each timed run pays its own conversions.
 *   - The metrics taken from the training forward pass: the softmax that
 *     forms the logits' gradient also gives the loss and the arg-max, so
 *     the second forward pass is gone.
 *   - Fewer passes over memory: bias and ReLU in one pass after the GEMM;
 *     bias, softmax, cross-entropy and the logits' gradient in one pass;
 *     the ReLU's derivative and the bias gradient in one pass.
 *   - OpenMP over those passes and the SGD update (the GEMMs are threaded by
 *     the library).
 *
 * Forward and backward of a batch live in loss_and_grad(), which the
 * gradient check (c1_cpu_loss_and_grad) runs too. */
#include <string.h>

#include "cpu_math.h"
#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "variants.h"

/* What one batch of `rows` samples needs, forward and backward. */
typedef struct {
    float *x;        /* rows x in: the batch as floats */
    float *a1, *a2;  /* rows x h1, rows x h2: the layers' outputs (after ReLU) */
    float *z;        /* rows x out: the logits, then in place their gradient */
    float *d2, *d1;  /* rows x h2, rows x h1: gradients at the layers' outputs */
    float *row_loss; /* rows: each sample's loss, summed in order afterwards */
} batch_buffers;

typedef struct {
    batch_buffers buf;
    float *params, *grad; /* layout.count floats each */
    float *data;          /* the data set as floats, n x in, filled lazily */
    uint8_t *converted;   /* per image: 1 once its row of data is filled this run */
} fast_state;

static void buffers_alloc(batch_buffers *b, const c1_config *c, int rows)
{
    size_t r = (size_t)rows;
    b->x = cs_alloc(r * c->in * sizeof(float), "cpu_fast batch");
    b->a1 = cs_alloc(r * c->h1 * sizeof(float), "cpu_fast layer 1");
    b->a2 = cs_alloc(r * c->h2 * sizeof(float), "cpu_fast layer 2");
    b->z = cs_alloc(r * c->out * sizeof(float), "cpu_fast logits");
    b->d2 = cs_alloc(r * c->h2 * sizeof(float), "cpu_fast layer 2 grads");
    b->d1 = cs_alloc(r * c->h1 * sizeof(float), "cpu_fast layer 1 grads");
    b->row_loss = cs_alloc(r * sizeof(float), "cpu_fast per-sample loss");
}

static void buffers_free(batch_buffers *b)
{
    cs_free(b->x);
    cs_free(b->a1);
    cs_free(b->a2);
    cs_free(b->z);
    cs_free(b->d2);
    cs_free(b->d1);
    cs_free(b->row_loss);
}

/* y = relu(y + b), row by row: one pass instead of two. */
static void bias_relu(float *y, int rows, int cols, const float *b)
{
#pragma omp parallel for schedule(static)
    for (int i = 0; i < rows; i++) {
        float *yi = y + (size_t)i * cols;
        for (int j = 0; j < cols; j++) {
            float v = yi[j] + b[j];
            yi[j] = v > 0.0f ? v : 0.0f;
        }
    }
}

/* z += b3, then each row's loss into row_loss and, in place of the logits,
 * their gradient (softmax - onehot) / rows. Returns the rows whose arg-max
 * is the label. */
static int32_t bias_softmax_xent(const c1_workload *w, const int32_t *idx, int rows, float *z, const float *b3,
                                 float *row_loss)
{
    const int out = w->cfg.out;
    int32_t correct = 0;
#pragma omp parallel for schedule(static) reduction(+ : correct)
    for (int i = 0; i < rows; i++) {
        float *zi = z + (size_t)i * out;
        for (int j = 0; j < out; j++) zi[j] += b3[j];
        int hit;
        row_loss[i] = c1_xent_row(zi, out, w->data->labels[idx[i]], &hit, zi, 1.0f / rows);
        correct += hit;
    }
    return correct;
}

/* Through the ReLU that produced act (when act is not NULL): d = 0 where
 * act is not > 0; and in the same pass gb[j] = sum over the rows of d[i][j],
 * the bias gradient. Threads take blocks of columns, each summing its
 * columns over the rows in order: the same sums as a serial loop, whatever
 * the thread count. */
static void relu_grad_bias_grad(float *d, const float *act, int rows, int cols, float *gb)
{
    enum { COLS = 64 }; /* a block: 64 running sums, vectorized across j */
    const int blocks = (cols + COLS - 1) / COLS;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < blocks; blk++) {
        const int j0 = blk * COLS, n = cols - j0 < COLS ? cols - j0 : COLS;
        float sum[COLS] = {0};
        for (int i = 0; i < rows; i++) {
            float *di = d + (size_t)i * cols + j0;
            if (act) {
                const float *ai = act + (size_t)i * cols + j0;
                for (int j = 0; j < n; j++) di[j] = ai[j] > 0.0f ? di[j] : 0.0f;
            }
            for (int j = 0; j < n; j++) sum[j] += di[j];
        }
        for (int j = 0; j < n; j++) gb[j0 + j] = sum[j];
    }
}

/* Forward and backward of the batch in b->x (samples idx): the gradient of
 * the batch-mean loss into g; returns that loss, *correct the hits. */
static double loss_and_grad(const c1_workload *w, const c1_weights *p, batch_buffers *b, const int32_t *idx, int rows,
                            const c1_grads *g, int32_t *correct)
{
    const c1_config *c = &w->cfg;

    cs_prof_begin("forward");
    c1_gemm_forward(b->x, rows, c->in, p->w1, c->h1, b->a1);
    bias_relu(b->a1, rows, c->h1, p->b1);
    c1_gemm_forward(b->a1, rows, c->h1, p->w2, c->h2, b->a2);
    bias_relu(b->a2, rows, c->h2, p->b2);
    c1_gemm_forward(b->a2, rows, c->h2, p->w3, c->out, b->z);
    *correct = bias_softmax_xent(w, idx, rows, b->z, p->b3, b->row_loss);
    double sum = 0.0; /* in sample order: the same sum on any thread count */
    for (int i = 0; i < rows; i++) sum += b->row_loss[i];
    cs_prof_end();

    cs_prof_begin("backward");
    const float *dz = b->z; /* the logits' gradient, written over them */
    c1_gemm_weight_grad(dz, rows, c->out, b->a2, c->h2, g->w3);
    relu_grad_bias_grad(b->z, NULL, rows, c->out, g->b3);
    c1_gemm_input_grad(dz, rows, c->out, p->w3, c->h2, b->d2);
    relu_grad_bias_grad(b->d2, b->a2, rows, c->h2, g->b2);
    c1_gemm_weight_grad(b->d2, rows, c->h2, b->a1, c->h1, g->w2);
    c1_gemm_input_grad(b->d2, rows, c->h2, p->w2, c->h1, b->d1);
    relu_grad_bias_grad(b->d1, b->a1, rows, c->h1, g->b1);
    c1_gemm_weight_grad(b->d1, rows, c->h1, b->x, c->in, g->w1);
    cs_prof_end();

    return sum / rows;
}

/* The step's rows into st->buf.x, each image converted on its first visit
 * of the run and copied from the float data set afterwards. */
static void gather_batch(const c1_workload *w, fast_state *st, const int32_t *idx, int rows)
{
    const size_t in = (size_t)w->cfg.in;
    for (int i = 0; i < rows; i++) {
        float *row = st->data + (size_t)idx[i] * in;
        if (!st->converted[idx[i]]) {
            c1_convert_rows(w, &idx[i], 1, row);
            st->converted[idx[i]] = 1;
        }
        memcpy(st->buf.x + (size_t)i * in, row, in * sizeof(float));
    }
}

int c1_cpu_fast_setup(const c1_workload *w, void **state)
{
    const size_t np = w->layout.count, n = (size_t)w->data->n;
    fast_state *st = cs_calloc(sizeof *st, "cpu_fast state");
    buffers_alloc(&st->buf, &w->cfg, w->cfg.batch);
    st->params = cs_alloc(np * sizeof(float), "cpu_fast weights");
    st->grad = cs_alloc(np * sizeof(float), "cpu_fast weight grads");
    st->data = cs_alloc(n * w->cfg.in * sizeof(float), "cpu_fast data set as floats");
    st->converted = cs_alloc(n, "cpu_fast conversion flags");
    *state = st;
    return 0;
}

void c1_cpu_fast_teardown(void *state)
{
    fast_state *st = state;
    if (!st) return;
    buffers_free(&st->buf);
    cs_free(st->params);
    cs_free(st->grad);
    cs_free(st->data);
    cs_free(st->converted);
    cs_free(st);
}

int c1_cpu_fast_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    fast_state *st = state;
    if (!st) {
        cs_error("cpu_fast: train called without setup");
        return 2;
    }
    if (steps > w->order_steps || steps > out->steps) {
        cs_error("cpu_fast: %d steps asked, but the sample order covers %d and the output %d", steps, w->order_steps,
                 out->steps);
        return 2;
    }
    const c1_config *c = &w->cfg;
    const int B = c->batch;
    const size_t np = w->layout.count;

    memcpy(st->params, w->init_params, np * sizeof(float));
    c1_weights p = c1_weights_of(&w->layout, st->params);
    c1_grads g = c1_grads_of(&w->layout, st->grad);

    cs_prof_begin("data");
    memset(st->converted, 0, (size_t)w->data->n); /* this run converts for itself */
    cs_prof_end();

    for (int s = 0; s < steps; s++) {
        const int32_t *idx = w->order + (size_t)s * B;

        cs_prof_begin("data");
        gather_batch(w, st, idx, B);
        cs_prof_end();

        out->loss[s] = (float)loss_and_grad(w, &p, &st->buf, idx, B, &g, &out->correct[s]);

        cs_prof_begin("update");
        c1_sgd_update(st->params, st->grad, np, c->lr, 1);
        cs_prof_end();
    }

    memcpy(out->params, st->params, np * sizeof(float));
    return 0;
}

double c1_cpu_loss_and_grad(const c1_workload *w, const float *params, const int32_t *idx, int count, float *grad)
{
    batch_buffers b;
    buffers_alloc(&b, &w->cfg, count);
    c1_convert_rows(w, idx, count, b.x);
    c1_weights p = c1_weights_of(&w->layout, params);
    c1_grads g = c1_grads_of(&w->layout, grad);
    int32_t correct;
    double loss = loss_and_grad(w, &p, &b, idx, count, &g, &correct);
    buffers_free(&b);
    return loss;
}
