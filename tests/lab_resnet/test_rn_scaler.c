/* Part 3's GradScaler (grad_scaler.h), as PyTorch's:
 *  - the rules: a step with inf/NaN halves the scale and resets the count;
 *    2000 clean steps in a row double it, exactly at the 2000th; a doubling
 *    that would overflow float leaves the scale and resets the count; the
 *    reciprocal is computed in double;
 *  - on the model (CPU): a forced overflow (an infinite gradient) skips the
 *    step, leaving parameters, Adam's moments and its step count as they
 *    were, and halves the scale; a clean scaled step unscales to the
 *    gradients of the unscaled loss and steps;
 *  - the device-side skip (state in backend memory, no host read) gives the
 *    host-read path's results bit for bit;
 *  - the GPU's Adam bias correction (adam_bias.h, the same code on host and
 *    device) is 1 - b^t as libm's pow gives it, within one float step.
 * With --trace FILE (one 0 or 1 per line: a step that found inf or not) it
 * prints the state after each update, "step,found_inf,scale,growth_tracker",
 * for docs/grad_scaler_check.py to set against PyTorch's own GradScaler. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam_bias.h"
#include "cifar.h"
#include "cs_test.h"
#include "grad_scaler.h"
#include "loader.h"
#include "model.h"

static int trace(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "test_rn_scaler: cannot read %s\n", path);
        return 2;
    }
    rn_grad_scaler s;
    rn_scaler_init(&s);
    printf("step,found_inf,scale,growth_tracker\n");
    int found, step = 0;
    while (fscanf(f, "%d", &found) == 1) {
        rn_scaler_update(&s, found != 0);
        printf("%d,%d,%.9g,%d\n", ++step, found != 0, (double)s.scale, (int)s.growth_tracker);
    }
    fclose(f);
    return 0;
}

static void test_rules(void)
{
    rn_grad_scaler s;
    rn_scaler_init(&s);
    CHECK(s.scale == 65536.0f && s.growth_tracker == 0 && s.growth_interval == 2000);
    rn_scaler_update(&s, 1);
    CHECK(s.scale == 32768.0f && s.growth_tracker == 0 && s.skipped == 1);
    for (int i = 0; i < 1999; i++) rn_scaler_update(&s, 0);
    CHECK(s.scale == 32768.0f && s.growth_tracker == 1999);
    rn_scaler_update(&s, 0); /* the 2000th clean step in a row */
    CHECK(s.scale == 65536.0f && s.growth_tracker == 0);
    for (int i = 0; i < 1000; i++) rn_scaler_update(&s, 0);
    rn_scaler_update(&s, 1); /* an overflow in the middle resets the count */
    CHECK(s.scale == 32768.0f && s.growth_tracker == 0 && s.skipped == 2);

    /* The scale grows only to a finite value. */
    s.scale = ldexpf(1.0f, 127);
    s.growth_tracker = 1999;
    rn_scaler_update(&s, 0);
    CHECK(s.scale == ldexpf(1.0f, 127) && s.growth_tracker == 0);

    /* The reciprocal in double, then rounded once. */
    s.scale = 3.0f;
    CHECK(rn_scaler_inv_scale(&s) == (float)(1.0 / 3.0));
}

/* The model's trainable parameters and Adam's moments, on the host (CPU
 * backend). Not batch norm's running statistics: the forward updates them,
 * skipped step or not, in PyTorch as here. */
static float *copy_state(const rn_model *m, size_t *n)
{
    size_t total = 0;
    for (int i = 0; i < m->nparams; i++) total += m->params[i].trainable ? 3 * m->params[i].count : 0;
    float *c = malloc(total * sizeof(float)), *at = c;
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        if (!p->trainable) continue;
        memcpy(at, p->data, p->count * sizeof(float)), at += p->count;
        memcpy(at, p->m, p->count * sizeof(float)), at += p->count;
        memcpy(at, p->v, p->count * sizeof(float)), at += p->count;
    }
    *n = total;
    return c;
}

static void forward_backward(rn_model *m, const rn_grad_scaler *s)
{
    rn_model_forward(m, 1);
    rn_model_loss(m);
    if (s) rn_amp_scale_loss(m, s);
    rn_model_backward(m);
}

static void test_on_the_model(void)
{
    rn_model m;
    rn_model_init(&m, rn_cpu_backend(), 3);
    rn_model_prepare(&m, 4, 32);
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, 16, 4) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, 4, 32, 0, 4) == 0);
    float images[4 * 3 * 32 * 32];
    int32_t labels[4];
    rn_loader_get(&ld, 0, images, labels);
    rn_model_set_batch(&m, images, labels);

    /* The unscaled gradients, for reference. */
    rn_param *fc = rn_model_param(&m, "fc.weight"), *c1 = rn_model_param(&m, "conv1.weight");
    forward_backward(&m, NULL);
    float *fc_ref = malloc(fc->count * sizeof(float)), *c1_ref = malloc(c1->count * sizeof(float));
    memcpy(fc_ref, fc->grad, fc->count * sizeof(float));
    memcpy(c1_ref, c1->grad, c1->count * sizeof(float));

    rn_grad_scaler s;
    rn_scaler_init(&s);
    size_t n, n2;
    float *before = copy_state(&m, &n);
    forward_backward(&m, &s);
    c1->grad[7] = INFINITY; /* the forced overflow */
    CHECK(rn_amp_step(&m, &s) == 1);
    float *after = copy_state(&m, &n2);
    CHECK(n == n2 && memcmp(before, after, n * sizeof(float)) == 0); /* nothing moved */
    CHECK(m.adam_t == 0 && s.scale == 32768.0f && s.skipped == 1);

    forward_backward(&m, &s);
    /* Unscaled by hand here to compare: rn_amp_step will do the same. */
    double worst = 0;
    for (size_t i = 0; i < fc->count; i++) {
        double g = fc->grad[i] * rn_scaler_inv_scale(&s), r = fc_ref[i];
        double rel = fabs(g - r) / (fabs(r) > 1e-30 ? fabs(r) : 1e-30);
        if (rel > worst && fabs(r) > 1e-12) worst = rel;
    }
    printf("scaled by 2^15 and unscaled, fc's gradient against the unscaled loss's: worst relative %.1e\n", worst);
    CHECK(worst <= 1e-6);
    CHECK(rn_amp_step(&m, &s) == 0);
    CHECK(m.adam_t == 1 && s.scale == 32768.0f && s.growth_tracker == 1);
    free(after);
    after = copy_state(&m, &n2);
    CHECK(memcmp(before, after, n * sizeof(float)) != 0); /* this one stepped */
    free(before);
    free(after);
    free(fc_ref);
    free(c1_ref);
    rn_loader_free(&ld);
    rn_cifar_free(&d);
    rn_model_free(&m);
}

/* The device-side skip against the host-read one: two models from the same
 * seed, the same batches, overflows forced at steps 2 and 4, a growth
 * interval of 2 so the scale also grows: every weight and Adam's moments
 * equal bit for bit, and the scaler's state and step count too. */
static void test_device_side_skip(void)
{
    rn_model host, dev;
    rn_model *both[2] = {&host, &dev};
    rn_grad_scaler sh, sd;
    rn_grad_scaler *sc[2] = {&sh, &sd};
    for (int k = 0; k < 2; k++) {
        rn_model_init(both[k], rn_cpu_backend(), 9);
        rn_model_prepare(both[k], 4, 32);
        both[k]->lr = 1e-3f;
        rn_scaler_init(sc[k]);
        sc[k]->growth_interval = 2;
    }
    rn_scaler_to_device(&dev, &sd);
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, 32, 6) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, 4, 32, 1, 6) == 0);
    float images[4 * 3 * 32 * 32];
    int32_t labels[4];
    for (int step = 0; step < 6; step++) {
        int overflow = step == 1 || step == 3;
        rn_loader_get(&ld, step, images, labels);
        for (int k = 0; k < 2; k++) {
            rn_model *m = both[k];
            rn_model_set_batch(m, images, labels);
            rn_model_forward(m, 1);
            rn_model_loss(m);
            if (k == 0)
                rn_amp_scale_loss(m, sc[k]);
            else
                rn_amp_scale_loss_device(m, sc[k]);
            rn_model_backward(m);
            if (overflow) rn_model_param(m, "layer2.0.conv1.weight")->grad[3] = NAN;
            if (k == 0)
                rn_amp_step(m, sc[k]);
            else
                rn_amp_step_device(m, sc[k]);
        }
    }
    rn_scaler_from_device(&dev, &sd);
    size_t n, n2;
    float *a = copy_state(&host, &n), *b = copy_state(&dev, &n2);
    CHECK(n == n2 && memcmp(a, b, n * sizeof(float)) == 0);
    printf("device-side skip against the host-read one, 6 steps, 2 skipped: scale %g and %g, Adam step %d and %d, "
           "growth tracker %d and %d\n",
           (double)sh.scale, (double)sd.scale, host.adam_t, dev.adam_t, (int)sh.growth_tracker, (int)sd.growth_tracker);
    CHECK(sh.scale == sd.scale && sh.growth_tracker == sd.growth_tracker && sh.skipped == 2 && sd.skipped == 2);
    CHECK(host.adam_t == 4 && dev.adam_t == 4);
    CHECK(sh.scale == 32768.0f); /* 2^16 halved at steps 2 and 4, doubled after the last two clean ones */
    free(a);
    free(b);
    rn_loader_free(&ld);
    rn_cifar_free(&d);
    rn_model_free(&host);
    rn_model_free(&dev);
}

/* b^t by squaring against libm's pow, Adam's two betas, a run's worth of
 * steps: equal after rounding to float, or one float step apart where the
 * double results straddle a rounding boundary. */
static void test_bias_correction(void)
{
    const double betas[2] = {0.9f, 0.999f}; /* the model's float betas, widened as Adam's callers widen them */
    long same = 0, steps = 0;
    float worst = 0.0f;
    for (int k = 0; k < 2; k++)
        for (int t = 1; t <= 200000; t++, steps++) {
            const float got = rn_adam_bias_correction(betas[k], t), want = (float)(1.0 - pow(betas[k], t));
            same += got == want;
            if (got != want && fabsf(got - want) > worst) worst = fabsf(got - want);
            CHECK(got == want || nextafterf(want, got) == got);
        }
    printf("Adam's bias correction by squaring: %ld of %ld steps equal to libm's pow after rounding, any other one "
           "float step apart (largest difference %.3g)\n",
           same, steps, (double)worst);
    CHECK(same > steps * 9 / 10);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--trace") == 0) return trace(argv[2]);
    test_rules();
    test_on_the_model();
    test_device_side_skip();
    test_bias_correction();
    return cs_test_done();
}
