/* case01's GPU rungs against the CPU reference (cpu_slow) on a small network
 * with odd sizes (no multiple of a warp or a tile): the final weights and the
 * per-step loss within the ladder's tolerances, the per-step correct counts,
 * and the device memory all returned. gpu_fast also with its batches
 * streamed through pinned memory (a tiny data budget) and without CUDA
 * graphs (C1_NO_GRAPH=1). Skipped (77) without a usable GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_gpu.h"
#include "cs_profiler.h"
#include "cs_test.h"
#include "ladder.h"
#include "variants.h"
#include "workload.h"

#define STEPS 6

typedef struct {
    const char *name;
    int (*setup)(const c1_workload *w, void **state);
    int (*train)(const c1_workload *w, int steps, c1_output *out, void *state);
    void (*teardown)(void *state);
} gpu_rung;

/* Each step's correct count within one of the reference's: a logit near a
 * tie may flip its arg-max between summation orders, a wrong count would
 * be off by more. */
static void check_correct(const char *label, const c1_output *ref, const c1_output *got, int steps)
{
    int worst = 0;
    for (int s = 0; s < steps; s++) {
        int diff = abs(got->correct[s] - ref->correct[s]);
        if (diff > worst) worst = diff;
    }
    if (worst > 1) fprintf(stderr, "%s: a step's correct count is off by %d\n", label, worst);
    CHECK(worst <= 1);
}

/* Compares got with ref over STEPS steps; prints the figures. */
static void check_against(const char *label, const c1_workload *w, const c1_output *ref, const c1_output *got)
{
    cs_check cw, ca, cl;
    int ok = c1_compare(w, ref, got, STEPS, &cw, &ca, &cl);
    printf("%-28s weight change: rel. L2 %.3g, along %+.3g, max abs %.3g; loss: rel. %.3g, max abs %.3g: %s\n", label,
           cw.rel_l2, ca.rel_l2, cw.max_abs, cl.rel_l2, cl.max_abs, ok ? "PASS" : "FAIL");
    CHECK(ok == 1);
    CHECK(cw.nonfinite == 0);
    check_correct(label, ref, got, STEPS);
}

/* setup, one training run of `steps` steps into out (poisoned first),
 * teardown when keep_state is NULL; else the state is handed back. */
static int train_once(const gpu_rung *r, const c1_workload *w, int steps, c1_output *out, void **keep_state)
{
    void *state = NULL;
    if (r->setup) {
        int rc = r->setup(w, &state);
        if (rc != 0) return rc;
    }
    c1_output_poison(out);
    int rc = r->train(w, steps, out, state);
    if (keep_state)
        *keep_state = state;
    else if (r->teardown)
        r->teardown(state);
    return rc;
}

static int outputs_identical(const c1_workload *w, const c1_output *a, const c1_output *b, int steps)
{
    return memcmp(a->params, b->params, w->layout.count * sizeof(float)) == 0 &&
           memcmp(a->loss, b->loss, (size_t)steps * sizeof(float)) == 0 &&
           memcmp(a->correct, b->correct, (size_t)steps * sizeof(int32_t)) == 0;
}

int main(void)
{
    char why[256];
    if (!cs_gpu_probe(why, sizeof why)) return cs_test_skip_gpu(why);

    c1_dataset data;
    if (c1_dataset_generate(&data, 200, 11) != 0) return 1;
    c1_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.in = data.rows * data.cols;
    cfg.h1 = 33;
    cfg.h2 = 17;
    cfg.out = C1_CLASSES;
    cfg.batch = 8;
    cfg.lr = 0.1f;
    cfg.steps = STEPS;
    cfg.slow_steps = STEPS;
    cfg.seed = 5;
    cfg.gpu_data_budget = 0;
    c1_workload w;
    if (c1_workload_init(&w, &cfg, &data) != 0) return 1;

    /* The reference. */
    c1_output ref, got, again;
    c1_output_alloc(&ref, &w, STEPS);
    c1_output_alloc(&got, &w, STEPS);
    c1_output_alloc(&again, &w, STEPS);
    c1_output_poison(&ref);
    CHECK(c1_cpu_slow_train(&w, STEPS, &ref, NULL) == 0);

    const gpu_rung rungs[] = {
        {"gpu_slow", NULL, c1_gpu_slow_train, NULL},
        {"gpu_batched", c1_gpu_batched_setup, c1_gpu_batched_train, c1_gpu_batched_teardown},
        {"gpu_resident", c1_gpu_resident_setup, c1_gpu_resident_train, c1_gpu_resident_teardown},
        {"gpu_async", c1_gpu_async_setup, c1_gpu_async_train, c1_gpu_async_teardown},
        {"gpu_fast", c1_gpu_fast_setup, c1_gpu_fast_train, c1_gpu_fast_teardown},
    };
    const gpu_rung *fast = &rungs[4];

    /* Every rung against the reference; each returns all its device memory. */
    for (size_t i = 0; i < sizeof rungs / sizeof rungs[0]; i++) {
        size_t live = cs_gpu_tracked_bytes();
        cs_prof_reset();
        CHECK(train_once(&rungs[i], &w, STEPS, &got, NULL) == 0);
        check_against(rungs[i].name, &w, &ref, &got);
        CHECK(cs_gpu_tracked_bytes() == live);
        /* The device phases reached the profiler; allocation inside the run
         * is what the slow rungs do and the later ones removed. */
        CHECK(cs_prof_total("forward") > 0.0);
        if (i <= 1)
            CHECK(cs_prof_total("alloc") > 0.0);
        else
            CHECK(cs_prof_total("alloc") == 0.0);
    }

    /* gpu_fast run twice with one state: the second run starts again from
     * the initial weights (nothing left over from the first) and, being the
     * same kernels on the same data, gives the same bits. */
    {
        size_t live = cs_gpu_tracked_bytes();
        void *state = NULL;
        CHECK(train_once(fast, &w, STEPS, &got, &state) == 0);
        c1_output_poison(&again);
        CHECK(c1_gpu_fast_train(&w, STEPS, &again, state) == 0);
        CHECK(outputs_identical(&w, &got, &again, STEPS));
        /* A shorter run after a longer one: its first step is the reference's. */
        c1_output_poison(&again);
        CHECK(c1_gpu_fast_train(&w, 1, &again, state) == 0);
        CHECK(again.loss[0] == got.loss[0]);
        CHECK(again.correct[0] == got.correct[0]);
        /* More steps than the sample order covers: exit code 2, not a crash. */
        CHECK(c1_gpu_fast_train(&w, w.order_steps + 1, &again, state) == 2);
        c1_gpu_fast_teardown(state);
        CHECK(cs_gpu_tracked_bytes() == live);
    }

    /* The streaming path: a data budget of one byte keeps the data set on
     * the host; batches go through the double-buffered pinned copies. Odd
     * and even step counts end on either buffer. */
    c1_workload w_stream = w; /* shares w's arrays: not freed */
    w_stream.cfg.gpu_data_budget = 1;
    {
        size_t live = cs_gpu_tracked_bytes();
        void *state = NULL;
        CHECK(train_once(fast, &w_stream, STEPS, &got, &state) == 0);
        check_against("gpu_fast streaming", &w_stream, &ref, &got);
        c1_output_poison(&again);
        CHECK(c1_gpu_fast_train(&w_stream, STEPS, &again, state) == 0);
        CHECK(outputs_identical(&w, &got, &again, STEPS));
        c1_output_poison(&again);
        CHECK(c1_gpu_fast_train(&w_stream, STEPS - 1, &again, state) == 0);
        CHECK(memcmp(again.loss, got.loss, (STEPS - 1) * sizeof(float)) == 0);
        c1_gpu_fast_teardown(state);
        CHECK(cs_gpu_tracked_bytes() == live);
    }

    /* Without CUDA graphs (read at setup), resident and streaming. */
    setenv("C1_NO_GRAPH", "1", 1);
    {
        size_t live = cs_gpu_tracked_bytes();
        CHECK(train_once(fast, &w, STEPS, &got, NULL) == 0);
        check_against("gpu_fast C1_NO_GRAPH=1", &w, &ref, &got);
        CHECK(train_once(fast, &w_stream, STEPS, &got, NULL) == 0);
        check_against("gpu_fast streaming no graph", &w_stream, &ref, &got);
        CHECK(cs_gpu_tracked_bytes() == live);
    }
    unsetenv("C1_NO_GRAPH");

    c1_output_free(&ref);
    c1_output_free(&got);
    c1_output_free(&again);
    c1_workload_free(&w);
    c1_dataset_free(&data);
    cs_gpu_release();
    return cs_test_done();
}
