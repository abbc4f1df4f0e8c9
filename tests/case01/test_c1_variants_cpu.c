/* The CPU rungs train the same network the same way: on a small network of
 * odd sizes (784 -> 33 -> 17 -> 10, batch 8, 200 generated images) every
 * rung's final weights and per-step losses match cpu_slow's within the
 * ladder's tolerances (c1_compare), every output the run owes is written
 * over the poison, a second run from the same state repeats the first
 * exactly, and over 30 steps (more than an epoch) the loss goes down. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_math.h"
#include "cs_test.h"
#include "ladder.h"
#include "variants.h"
#include "workload.h"

static const char *const cpu_rungs[] = {"cpu_slow", "cpu_batched", "cpu_fast"};
#define NRUNGS 3

/* setup, the run into a poisoned output, teardown; returns train's code. */
static int train_once(const c1_variant *v, const c1_workload *w, int steps, c1_output *out)
{
    c1_output_alloc(out, w, steps);
    c1_output_poison(out);
    void *state = NULL;
    if (v->setup && v->setup(w, &state) != 0) return -1;
    int rc = v->train(w, steps, out, state);
    if (v->teardown) v->teardown(state);
    return rc;
}

/* Nothing of the poison left, and the counts possible. */
static void check_written(const c1_workload *w, const c1_output *o, int steps, const char *name)
{
    size_t nonfinite = 0;
    for (size_t i = 0; i < w->layout.count; i++) nonfinite += !isfinite(o->params[i]);
    int bad_steps = 0;
    for (int s = 0; s < steps; s++)
        bad_steps += !isfinite(o->loss[s]) || !(o->loss[s] > 0.0f) || o->correct[s] < 0 || o->correct[s] > w->cfg.batch;
    if (nonfinite || bad_steps)
        fprintf(stderr, "%s: %zu weights not finite, %d steps with an impossible loss or count\n", name, nonfinite,
                bad_steps);
    CHECK(nonfinite == 0);
    CHECK(bad_steps == 0);
}

/* Every rung against cpu_slow over `steps` steps; fills outs[]. */
static void compare_rungs(const c1_workload *w, int steps, c1_output outs[NRUNGS])
{
    for (int r = 0; r < NRUNGS; r++) {
        const c1_variant *v = c1_find_variant(cpu_rungs[r]);
        CHECK(v != NULL);
        if (v == NULL) continue;
        CHECK(train_once(v, w, steps, &outs[r]) == 0);
        check_written(w, &outs[r], steps, v->name);

        cs_check cw, ca, cl;
        int same = c1_compare(w, &outs[0], &outs[r], steps, &cw, &ca, &cl);
        printf("%-12s %d steps: weight change rel L2 %.2e, along %+.2e, loss worst rel %.2e (abs %.2e), "
               "loss %.4f -> %.4f, correct %d -> %d: %s\n",
               v->name, steps, cw.rel_l2, ca.rel_l2, cl.rel_l2, cl.max_abs, outs[r].loss[0], outs[r].loss[steps - 1],
               outs[r].correct[0], outs[r].correct[steps - 1], same ? "same" : "DIFFERENT");
        CHECK(same);
        /* The accuracy of each step is counted on the same forward pass. */
        int counts_differ = 0;
        for (int s = 0; s < steps; s++) counts_differ += outs[r].correct[s] != outs[0].correct[s];
        CHECK(counts_differ == 0);
    }
}

int main(void)
{
    c1_dataset d;
    CHECK(c1_dataset_generate(&d, 200, 5) == 0);

    c1_config cfg = {.in = 0,
                     .h1 = 33,
                     .h2 = 17,
                     .out = C1_CLASSES,
                     .batch = 8,
                     .lr = 0.1f,
                     .steps = 30,
                     .slow_steps = 6,
                     .seed = 7};
    c1_workload w;
    CHECK(c1_workload_init(&w, &cfg, &d) == 0);

    /* The short run the ladder's check makes. */
    c1_output six[NRUNGS];
    compare_rungs(&w, 6, six);

    /* 30 steps: past the end of the first epoch (25 steps of 8 out of 200),
     * so cpu_fast also reuses images converted earlier in the run. */
    c1_output thirty[NRUNGS];
    compare_rungs(&w, 30, thirty);
    for (int r = 0; r < NRUNGS; r++) {
        /* The same training: a 30-step run begins as the 6-step run. */
        CHECK(memcmp(thirty[r].loss, six[r].loss, 6 * sizeof(float)) == 0);
        /* It learns: single batches are noisy, so the means of the first and
         * last five steps, and also the last step against the first. */
        double first = 0, last = 0;
        for (int s = 0; s < 5; s++) {
            first += thirty[r].loss[s];
            last += thirty[r].loss[25 + s];
        }
        printf("%-12s mean loss of steps 0-4 %.4f, of steps 25-29 %.4f\n", cpu_rungs[r], first / 5, last / 5);
        CHECK(last < first);
        CHECK(thirty[r].loss[29] < thirty[r].loss[0]);
    }
    /* The noise-free measure: the mean loss over all 200 images, before and
     * after the 30 steps (cpu_fast's forward pass evaluates it). */
    {
        int32_t all[200];
        for (int i = 0; i < 200; i++) all[i] = i;
        float *grad = malloc(w.layout.count * sizeof *grad);
        double before = c1_cpu_loss_and_grad(&w, w.init_params, all, 200, grad);
        double after = c1_cpu_loss_and_grad(&w, thirty[0].params, all, 200, grad);
        printf("loss over the whole data set: %.4f before, %.4f after 30 steps\n", before, after);
        CHECK(after < before - 0.02);
        free(grad);
    }

    /* cpu_fast keeps state between runs: the second run of one setup must
     * start again from the initial weights and convert the data again,
     * giving the very same numbers. */
    {
        const c1_variant *v = c1_find_variant("cpu_fast");
        void *state = NULL;
        c1_output a, b;
        c1_output_alloc(&a, &w, 30);
        c1_output_alloc(&b, &w, 30);
        c1_output_poison(&a);
        c1_output_poison(&b);
        CHECK(v->setup(&w, &state) == 0);
        CHECK(v->train(&w, 30, &a, state) == 0);
        CHECK(v->train(&w, 30, &b, state) == 0);
        v->teardown(state);
        CHECK(memcmp(a.params, b.params, w.layout.count * sizeof(float)) == 0);
        CHECK(memcmp(a.loss, b.loss, 30 * sizeof(float)) == 0);
        CHECK(memcmp(a.correct, b.correct, 30 * sizeof(int32_t)) == 0);
        c1_output_free(&a);
        c1_output_free(&b);
    }

    /* More steps than the sample order covers: refused with code 2. */
    for (int r = 0; r < NRUNGS; r++) {
        const c1_variant *v = c1_find_variant(cpu_rungs[r]);
        c1_output o;
        fprintf(stderr, "(expected) ");
        CHECK(train_once(v, &w, w.order_steps + 1, &o) == 2);
        c1_output_free(&o);
    }

    for (int r = 0; r < NRUNGS; r++) {
        c1_output_free(&six[r]);
        c1_output_free(&thirty[r]);
    }
    c1_workload_free(&w);
    c1_dataset_free(&d);
    return cs_test_done();
}
