/* Gradient check of cpu_fast's backward pass (c1_cpu_loss_and_grad, the
 * code cpu_fast's step runs) on a tiny network: 3 x 4 "images" (12 inputs),
 * hidden layers of 7 and 5 units, 10 classes, batches of 4.
 *
 * Every parameter's analytic derivative is compared with a central finite
 * difference of the loss computed in double precision by an independent
 * forward pass written here. A parameter whose perturbation moves some
 * pre-activation across zero (a ReLU's kink, where the derivative jumps) is
 * skipped: detected exactly, by comparing the ReLUs' on/off pattern of the
 * perturbed passes with the unperturbed one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_math.h"
#include "cs_rng.h"
#include "cs_test.h"
#include "workload.h"

#define ROWS    3
#define COLS    4
#define NIMAGES 6
#define BATCH   4
#define FD_EPS  1e-5 /* double precision: truncation ~eps^2, rounding ~1e-16/eps */
#define REL_TOL 1e-3

/* Batch-mean loss in double; when pattern is not NULL, the on/off state of
 * every ReLU of every sample (count * (h1 + h2) bytes). */
static double loss_f64(const c1_workload *w, const double *p, const int32_t *idx, int count, unsigned char *pattern)
{
    const c1_config *c = &w->cfg;
    const c1_layout *l = &w->layout;
    double x[ROWS * COLS], a1[64], a2[64], z[C1_CLASSES];
    double total = 0.0;
    for (int s = 0; s < count; s++) {
        const uint8_t *img = w->data->images + (size_t)idx[s] * c->in;
        for (int k = 0; k < c->in; k++) x[k] = img[k] / 255.0;
        for (int j = 0; j < c->h1; j++) {
            double v = p[l->b1 + j];
            for (int k = 0; k < c->in; k++) v += p[l->w1 + (size_t)j * c->in + k] * x[k];
            a1[j] = v > 0 ? v : 0;
            if (pattern) *pattern++ = v > 0;
        }
        for (int j = 0; j < c->h2; j++) {
            double v = p[l->b2 + j];
            for (int k = 0; k < c->h1; k++) v += p[l->w2 + (size_t)j * c->h1 + k] * a1[k];
            a2[j] = v > 0 ? v : 0;
            if (pattern) *pattern++ = v > 0;
        }
        double m = -INFINITY;
        for (int j = 0; j < c->out; j++) {
            double v = p[l->b3 + j];
            for (int k = 0; k < c->h2; k++) v += p[l->w3 + (size_t)j * c->h2 + k] * a2[k];
            z[j] = v;
            if (v > m) m = v;
        }
        double sum = 0.0;
        for (int j = 0; j < c->out; j++) sum += exp(z[j] - m);
        total += log(sum) + m - z[w->data->labels[idx[s]]];
    }
    return total / count;
}

/* Checks the gradient for the samples idx; returns the parameters skipped. */
static size_t check_batch(const c1_workload *w, const float *params, const int32_t *idx, int count)
{
    const size_t np = w->layout.count;
    const size_t npat = (size_t)count * (w->cfg.h1 + w->cfg.h2);
    float *grad = malloc(np * sizeof *grad);
    double *p = malloc(np * sizeof *p);
    unsigned char *base = malloc(npat), *plus = malloc(npat), *minus = malloc(npat);
    for (size_t i = 0; i < np; i++) {
        grad[i] = NAN; /* every entry must be written */
        p[i] = params[i];
    }

    double loss_f32 = c1_cpu_loss_and_grad(w, params, idx, count, grad);
    double loss_ref = loss_f64(w, p, idx, count, base);
    /* The float forward pass agrees with the double one to float rounding. */
    CHECK_NEAR(loss_f32, loss_ref, 1e-5 * fmax(1.0, fabs(loss_ref)));

    size_t skipped = 0, nonzero = 0, bad = 0, nonfinite = 0;
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        if (!isfinite(grad[i])) {
            nonfinite++;
            continue;
        }
        double keep = p[i];
        p[i] = keep + FD_EPS;
        double lp = loss_f64(w, p, idx, count, plus);
        p[i] = keep - FD_EPS;
        double lm = loss_f64(w, p, idx, count, minus);
        p[i] = keep;
        if (memcmp(plus, base, npat) != 0 || memcmp(minus, base, npat) != 0) {
            skipped++; /* a ReLU kink inside +-eps */
            continue;
        }
        double fd = (lp - lm) / (2.0 * FD_EPS);
        double a = grad[i];
        double rel = fabs(a - fd) / fmax(fmax(fabs(a), fabs(fd)), 1e-3);
        if (rel > worst) worst = rel;
        if (rel > REL_TOL) {
            if (bad < 5)
                fprintf(stderr, "param %zu: analytic %.9g, finite difference %.9g (rel %.3g)\n", i, a, fd, rel);
            bad++;
        }
        if (fabs(fd) > 1e-6) nonzero++;
    }
    printf("batch of %d: loss %.6f (double %.6f), %zu parameters, %zu skipped at a kink, "
           "%zu non-zero, worst relative error %.2e\n",
           count, loss_f32, loss_ref, np, skipped, nonzero, worst);
    CHECK(nonfinite == 0);
    CHECK(bad == 0);
    CHECK(worst <= REL_TOL);
    /* Not vacuous: most derivatives are non-zero (few dead ReLUs), and the
     * kinks skipped are few. */
    CHECK(nonzero >= np / 2);
    CHECK(skipped <= np / 20);

    free(grad);
    free(p);
    free(base);
    free(plus);
    free(minus);
    return skipped;
}

int main(void)
{
    /* Six hand-made 3 x 4 images: random bytes, labels spread over the
     * classes (one class appearing twice, most not at all). */
    uint8_t images[NIMAGES * ROWS * COLS], labels[NIMAGES] = {3, 7, 0, 9, 3, 5};
    cs_rng r;
    cs_rng_seed(&r, 2024, 0);
    for (size_t i = 0; i < sizeof images; i++) images[i] = (uint8_t)cs_rng_below(&r, 256);
    c1_dataset d = {.n = NIMAGES, .rows = ROWS, .cols = COLS, .images = images, .labels = labels};
    strcpy(d.source, "hand-made 3x4 images");

    c1_config cfg = {.in = 0,
                     .h1 = 7,
                     .h2 = 5,
                     .out = C1_CLASSES,
                     .batch = BATCH,
                     .lr = 0.1f,
                     .steps = 1,
                     .slow_steps = 1,
                     .seed = 11};
    c1_workload w;
    CHECK(c1_workload_init(&w, &cfg, &d) == 0);
    CHECK(w.cfg.in == ROWS * COLS);
    CHECK(w.layout.count == (size_t)(7 * 12 + 7 + 5 * 7 + 5 + 10 * 5 + 10));

    /* PyTorch's init scaled up 3x, so that the logits spread and the
     * softmax is far from uniform (larger, more varied gradients), and the
     * hidden biases made positive, so that most ReLUs are on for some
     * sample of the batch (a unit off for all four has zero derivatives,
     * which would make the check vacuous). */
    float *params = malloc(w.layout.count * sizeof *params);
    for (size_t i = 0; i < w.layout.count; i++) params[i] = 3.0f * w.init_params[i];
    for (int j = 0; j < w.cfg.h1; j++) params[w.layout.b1 + j] = fabsf(params[w.layout.b1 + j]) + 0.5f;
    for (int j = 0; j < w.cfg.h2; j++) params[w.layout.b2 + j] = fabsf(params[w.layout.b2 + j]) + 0.5f;

    const int32_t batch_a[BATCH] = {0, 1, 2, 3};
    const int32_t batch_b[BATCH] = {4, 5, 1, 4}; /* a sample twice: counted twice */
    check_batch(&w, params, batch_a, BATCH);
    check_batch(&w, params, batch_b, BATCH);
    check_batch(&w, params, batch_a + 1, 3); /* an odd batch size */

    free(params);
    c1_workload_free(&w);
    return cs_test_done();
}
