/* The ladder: which training variants exist, how one is run, and how its
 * training is compared with the reference's. */
#include "ladder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_gpu.h"
#include "cs_memory.h"

/* The names, in this order, are c1_variant_names (cli.c). */
static const c1_variant ladder[] = {
    {"cpu_slow", "cpu", 1,
     "one sample at a time, fresh buffers and byte->float every step, a second forward pass to log",
     NULL, c1_cpu_slow_train, NULL},
    {"cpu_batched", "cpu", 1,
     "batching alone: GEMMs over the whole batch; the rest as cpu_slow",
     NULL, c1_cpu_batched_train, NULL},
    {"cpu_fast", "cpu", 0,
     "batched GEMMs, buffers allocated once, data converted once, bias+ReLU fused, metrics from the training pass",
     c1_cpu_fast_setup, c1_cpu_fast_train, c1_cpu_fast_teardown},
#ifdef CS_HAVE_CUDA
    {"gpu_slow", "gpu", 1,
     "per step: pageable copies, cudaMalloc/cudaFree, per-sample kernels, weights copied back, a sync to read the loss",
     NULL, c1_gpu_slow_train, NULL},
    {"gpu_batched", "gpu", 1,
     "batching alone: cuBLAS over the whole batch; the copies, allocations and syncs as gpu_slow",
     c1_gpu_batched_setup, c1_gpu_batched_train, c1_gpu_batched_teardown},
    {"gpu_resident", "gpu", 0,
     "plus no copies: the data set uploaded once, buffers allocated once; still a sync and weight copy-back per step",
     c1_gpu_resident_setup, c1_gpu_resident_train, c1_gpu_resident_teardown},
    {"gpu_fast", "gpu", 0,
     "plus no per-step sync: fused kernels, loss kept on the device and read once, the step as a CUDA graph",
     c1_gpu_fast_setup, c1_gpu_fast_train, c1_gpu_fast_teardown},
#endif
};

const c1_variant *c1_find_variant(const char *name)
{
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++)
        if (strcmp(ladder[i].name, name) == 0) return &ladder[i];
    return NULL;
}

/* Per-step loss against the reference: the worst |loss - ref| / |ref|.
 * Losses of a classifier are well away from zero (log 10 = 2.3 at the
 * start), so a per-step relative error is meaningful here, and it catches a
 * single wrong step that an L2 norm over the whole curve would dilute. */
static cs_check compare_loss(const float *got, const float *ref, int steps, double tol)
{
    cs_check c = {0};
    c.n = (size_t)steps;
    c.tol = tol;
    int bad_ref = 0;
    for (int s = 0; s < steps; s++) {
        if (!isfinite(got[s])) { c.nonfinite++; continue; }
        if (!isfinite(ref[s])) { bad_ref++; continue; }
        double d = fabs((double)got[s] - ref[s]);
        double scale = fabs((double)ref[s]) > 1e-6 ? fabs((double)ref[s]) : 1e-6;
        if (d > c.max_abs) c.max_abs = d;
        if (d / scale > c.rel_l2) c.rel_l2 = d / scale;
    }
    c.status = (c.nonfinite == 0 && bad_ref == 0 && c.rel_l2 <= tol) ? CS_CHECK_PASS : CS_CHECK_FAIL;
    return c;
}

int c1_compare(const c1_workload *w, const c1_output *ref, const c1_output *got, int steps,
               cs_check *weights, cs_check *loss)
{
    *weights = cs_compare_f32(got->params, ref->params, w->layout.count, C1_TOL_WEIGHTS);
    *loss = compare_loss(got->loss, ref->loss, steps, C1_TOL_LOSS);
    return weights->status == CS_CHECK_PASS && loss->status == CS_CHECK_PASS;
}

/* The runner calls this; the profiler is reset when the first timed run
 * starts, so the phase table covers exactly the timed runs. */
typedef struct {
    const c1_variant *v;
    const c1_workload *w;
    c1_output *out;
    void *state;
    int steps;
    int calls, warmup;
} run_ctx;

static int run_once(void *p)
{
    run_ctx *c = p;
    if (c->calls++ == c->warmup) cs_prof_reset();
    return c->v->train(c->w, c->steps, c->out, c->state);
}

int c1_run_variant(const c1_variant *v, const c1_workload *w, const cs_run_opts *opts,
                   const c1_output *ref, c1_run *res)
{
    int gpu = strcmp(v->device, "gpu") == 0;
    memset(res, 0, sizeof *res);
    res->name = v->name;
    res->device = v->device;
    res->lesson = v->lesson;
    res->steps = v->slow ? w->cfg.slow_steps : gpu && w->cfg.gpu_steps > 0 ? w->cfg.gpu_steps : w->cfg.steps;
    const int check_steps = w->cfg.slow_steps;

    cs_tracked_reset_peak();
    cs_gpu_tracked_reset_peak();
    size_t host_before = cs_tracked_bytes();

    void *state = NULL;
    double t0 = cs_now();
    int rc = v->setup ? v->setup(w, &state) : 0;
    if (gpu) cs_gpu_sync();
    res->setup_s = cs_now() - t0;
    if (rc != 0) return rc;

    /* The check run: untimed, the same number of steps for every variant,
     * its output poisoned first so that anything left unwritten fails. */
    c1_output_alloc(&res->check_out, w, check_steps);
    c1_output_poison(&res->check_out);
    rc = v->train(w, check_steps, &res->check_out, state);
    if (gpu && rc == 0) cs_gpu_sync();
    if (rc == 0) {
        /* Test hook: corrupt one weight of the named variant, so the tests
         * can show that the check catches a wrong result (exit code 1). */
        const char *fault = getenv("CS_FAULT_INJECT");
        if (fault && strcmp(fault, v->name) == 0) res->check_out.params[0] += 0.01f;
        if (ref != NULL) {
            res->check_pass = c1_compare(w, ref, &res->check_out, check_steps,
                                         &res->weights, &res->loss);
        } else {   /* the reference itself: only finiteness can be checked */
            cs_check self_w, self_l;
            res->check_pass = c1_compare(w, &res->check_out, &res->check_out, check_steps,
                                         &self_w, &self_l);
            res->weights = self_w;
            res->loss = self_l;
        }
    }

    /* The timed runs (the check run was already a warm-up of sorts, but the
     * runner's own warm-up still comes first, as everywhere in the suite). */
    c1_output out = {0};
    if (rc == 0) {
        c1_output_alloc(&out, w, res->steps);
        run_ctx ctx = {v, w, &out, state, res->steps, 0, opts->warmup};
        cs_run_opts o = *opts;
        if (gpu) o.sync = cs_gpu_sync;
        cs_prof_reset();
        rc = cs_run(run_once, &ctx, &o, &res->timing);
        if (rc == 0) {
            res->ran = 1;
            double med = res->timing.time.median;
            res->samples_per_s = med > 0 ? (double)res->steps * w->cfg.batch / med : 0.0;
            res->nphases = cs_prof_entries(res->phases, CS_PROF_MAX_NAMES);
            res->peak_mem = gpu ? cs_gpu_tracked_peak() : cs_tracked_peak() - host_before;
        }
        c1_output_free(&out);
    }
    if (v->teardown) v->teardown(state);
    return rc;
}

void c1_run_free(c1_run *res)
{
    c1_output_free(&res->check_out);
}

double c1_phase_seconds(const c1_run *res, const char *name)
{
    int runs = res->timing.repeats > 0 ? res->timing.repeats : 1;
    for (int i = 0; i < res->nphases; i++)
        if (strcmp(res->phases[i].name, name) == 0) return res->phases[i].total_s / runs;
    return 0.0;
}
