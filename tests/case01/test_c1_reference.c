/* The reference checked against something independent of it: cpu_slow is
 * what every rung is compared with (its row says REF), so here it is
 * compared with the same training written again in double precision, as
 * plainly as it can be (this file: no code of the case's but the workload's
 * data, initial weights and sample order), over the ladder's check steps,
 * with the ladder's measures and tolerances (ladder.h). The same comparison
 * must fail for a double-precision training whose gradient is 1.01x too
 * large: the test can fail. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_test.h"
#include "ladder.h"
#include "variants.h"
#include "workload.h"

/* One layer for one sample: y = W x + b, then ReLU when relu is set. */
static void layer(const double *wt, const double *b, int out, int in, const double *x, double *y, int relu)
{
    for (int j = 0; j < out; j++) {
        double acc = b[j];
        for (int k = 0; k < in; k++) acc += wt[(size_t)j * in + k] * x[k];
        y[j] = relu && acc <= 0 ? 0 : acc;
    }
}

/* Adds one sample's gradient of its loss (scaled by 1/batch) into g, and
 * returns that loss. p and g are laid out as the workload's parameters. */
static double sample_grad(const c1_workload *w, const double *p, const uint8_t *pixels, int label, double scale,
                          double *g)
{
    const c1_config *c = &w->cfg;
    const c1_layout *l = &w->layout;
    double x[4096], h1[512], h2[512], z[C1_CLASSES], dz[C1_CLASSES], d2[512], d1[512];
    for (int k = 0; k < c->in; k++) x[k] = pixels[k] / 255.0;
    layer(p + l->w1, p + l->b1, c->h1, c->in, x, h1, 1);
    layer(p + l->w2, p + l->b2, c->h2, c->h1, h1, h2, 1);
    layer(p + l->w3, p + l->b3, c->out, c->h2, h2, z, 0);
    double top = z[0], sum = 0;
    for (int j = 1; j < c->out; j++) top = fmax(top, z[j]);
    for (int j = 0; j < c->out; j++) sum += exp(z[j] - top);
    for (int j = 0; j < c->out; j++) dz[j] = scale * (exp(z[j] - top) / sum - (j == label));
    /* Back through the layers: dW += dy x^T, db += dy, dx = W^T dy masked by the ReLU. */
    const double *ins[3] = {h2, h1, x};
    const double *dys[3] = {dz, d2, d1};
    double *dxs[3] = {d2, d1, NULL};
    const size_t wofs[3] = {l->w3, l->w2, l->w1}, bofs[3] = {l->b3, l->b2, l->b1};
    const int outs[3] = {c->out, c->h2, c->h1}, ins_n[3] = {c->h2, c->h1, c->in};
    for (int L = 0; L < 3; L++) {
        for (int j = 0; j < outs[L]; j++) {
            g[bofs[L] + j] += dys[L][j];
            for (int k = 0; k < ins_n[L]; k++) g[wofs[L] + (size_t)j * ins_n[L] + k] += dys[L][j] * ins[L][k];
        }
        if (!dxs[L]) continue;
        for (int k = 0; k < ins_n[L]; k++) {
            double acc = 0;
            for (int j = 0; j < outs[L]; j++) acc += p[wofs[L] + (size_t)j * ins_n[L] + k] * dys[L][j];
            dxs[L][k] = ins[L][k] > 0 ? acc : 0;
        }
    }
    return top + log(sum) - z[label];
}

/* `steps` steps of SGD in double from the workload's initial weights, at
 * lr * lr_scale; p gets the weights, loss each step's batch-mean loss. */
static void train_double(const c1_workload *w, int steps, double lr_scale, double *p, double *loss)
{
    size_t n = w->layout.count;
    double *g = malloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++) p[i] = w->init_params[i];
    int batch = w->cfg.batch, in = w->cfg.in;
    for (int s = 0; s < steps; s++) {
        memset(g, 0, n * sizeof *g);
        loss[s] = 0;
        for (int i = 0; i < batch; i++) {
            int idx = w->order[(size_t)s * batch + i];
            loss[s] +=
                sample_grad(w, p, w->data->images + (size_t)idx * in, w->data->labels[idx], 1.0 / batch, g) / batch;
        }
        for (size_t i = 0; i < n; i++) p[i] -= (double)w->cfg.lr * lr_scale * g[i];
    }
    free(g);
}

/* The ladder's three measures of got (float) against ref (double). */
static int compare(const c1_workload *w, const c1_output *got, const double *ref, const double *ref_loss, int steps,
                   const char *label)
{
    double diff2 = 0, ref2 = 0, dot = 0, loss_rel = 0;
    for (size_t i = 0; i < w->layout.count; i++) {
        double d = got->params[i] - ref[i], d_ref = ref[i] - w->init_params[i];
        diff2 += d * d;
        ref2 += d_ref * d_ref;
        dot += d * d_ref;
    }
    for (int s = 0; s < steps; s++) loss_rel = fmax(loss_rel, fabs(got->loss[s] - ref_loss[s]) / ref_loss[s]);
    double change = sqrt(diff2 / ref2), along = dot / ref2;
    int ok = change <= C1_TOL_CHANGE && fabs(along) <= C1_TOL_ALONG && loss_rel <= C1_TOL_LOSS;
    printf("%s: change rel. L2 error %.2e (tolerance %g), along %+.2e (%g), loss %.2e (%g): %s\n", label, change,
           C1_TOL_CHANGE, along, C1_TOL_ALONG, loss_rel, C1_TOL_LOSS, ok ? "PASS" : "FAIL");
    return ok;
}

int main(void)
{
    c1_dataset d;
    CHECK(c1_dataset_generate(&d, 600, 3) == 0);
    c1_config cfg = {
        .h1 = 96, .h2 = 48, .out = C1_CLASSES, .batch = 64, .lr = 0.05f, .steps = 1, .slow_steps = 1, .seed = 9};
    cfg.check_steps = C1_CHECK_STEPS;
    c1_workload w;
    CHECK(c1_workload_init(&w, &cfg, &d) == 0);
    int steps = c1_check_steps(&cfg);

    /* cpu_slow's check run, as the ladder makes it. */
    const c1_variant *slow = c1_find_variant("cpu_slow");
    c1_output got;
    c1_output_alloc(&got, &w, steps);
    c1_output_poison(&got);
    CHECK(slow->train(&w, steps, &got, NULL) == 0);

    double *ref = malloc(w.layout.count * sizeof *ref), loss[64];
    train_double(&w, steps, 1.0, ref, loss);
    CHECK(compare(&w, &got, ref, loss, steps, "cpu_slow against double precision"));

    /* The same comparison against a gradient 1.01x too large must fail. */
    train_double(&w, steps, 1.01, ref, loss);
    CHECK(!compare(&w, &got, ref, loss, steps, "cpu_slow against double precision, gradient 1.01x (expected FAIL)"));

    free(ref);
    c1_output_free(&got);
    c1_workload_free(&w);
    c1_dataset_free(&d);
    return cs_test_done();
}
