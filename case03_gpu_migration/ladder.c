/* The ladder: which variants exist and how one is run and checked. */
#include "ladder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_gpu.h"
#include "cs_memory.h"

const char *const c3_variant_names[C3_NVARIANTS] = {
    "cpu_naive", "cpu_blocked", "cpu_blas", "gpu_naive",
    "gpu_resident", "gpu_tiled", "gpu_cublas", "hybrid",
};
/* Where each one runs, for --variant X --device Y (hybrid needs the GPU). */
const char *const c3_variant_devices[C3_NVARIANTS] = {
    "cpu", "cpu", "cpu", "gpu", "gpu", "gpu", "gpu", "gpu",
};

static const c3_variant ladder[] = {
    {"cpu_naive", "cpu", "textbook triple loop, one pass per stage, one thread",
     NULL, c3_cpu_naive_run, NULL},
    {"cpu_blocked", "cpu", "cache-blocked vectorized GEMM on all cores, stages fused",
     NULL, c3_cpu_blocked_run, NULL},
    {"cpu_blas", "cpu", "the same pipeline with OpenBLAS SGEMM",
     NULL, c3_cpu_blas_run, NULL},
#ifdef CS_HAVE_CUDA
    {"gpu_naive", "gpu", "first port: alloc, pageable copy, naive kernel, copy back, free, sync: per operation",
     NULL, c3_gpu_naive_run, NULL},
    {"gpu_resident", "gpu", "data stays on the device across the chain; one copy in, one out",
     c3_gpu_resident_setup, c3_gpu_resident_run, c3_gpu_resident_teardown},
    {"gpu_tiled", "gpu", "shared-memory tiled GEMM kernel written by hand",
     c3_gpu_tiled_setup, c3_gpu_tiled_run, c3_gpu_tiled_teardown},
    {"gpu_cublas", "gpu", "cuBLAS, fused kernel, batched small products, pinned async copies on streams",
     c3_gpu_cublas_setup, c3_gpu_cublas_run, c3_gpu_cublas_teardown},
    {"hybrid", "gpu", "each piece to the CPU or the GPU by the measured crossover size",
     c3_hybrid_setup, c3_hybrid_run, c3_hybrid_teardown},
#endif
};

const c3_variant *c3_find_variant(const char *name)
{
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++)
        if (strcmp(ladder[i].name, name) == 0) return &ladder[i];
    return NULL;
}

/* The runner calls this; the profiler is reset when the first timed run
 * starts, so the phase table covers exactly the timed runs. */
typedef struct {
    const c3_variant *v;
    const c3_workload *w;
    c3_output *out;
    void *state;
    int calls, warmup;
} run_ctx;

static int run_once(void *p)
{
    run_ctx *c = p;
    if (c->calls++ == c->warmup) cs_prof_reset();
    return c->v->run(c->w, c->out, c->state);
}

int c3_run_variant(const c3_variant *v, const c3_workload *w, const cs_run_opts *opts,
                   c3_run *res)
{
    int gpu = strcmp(v->device, "gpu") == 0;
    memset(res, 0, sizeof *res);
    res->name = v->name;
    res->device = v->device;
    res->lesson = v->lesson;

    c3_output out;
    c3_output_alloc(&out, &w->cfg);
    c3_output original = out;
    cs_tracked_reset_peak();
    cs_gpu_tracked_reset_peak();
    size_t host_before = cs_tracked_bytes();

    void *state = NULL;
    double t0 = cs_now();
    int rc = v->setup ? v->setup(w, &out, &state) : 0;
    if (gpu) cs_gpu_sync();
    res->setup_s = cs_now() - t0;
    if (rc != 0) {
        c3_output_free(&original);
        return rc;
    }
    c3_output_poison(&out, &w->cfg);   /* a variant that skips a part fails the check */

    run_ctx ctx = {v, w, &out, state, 0, opts->warmup};
    cs_run_opts o = *opts;
    if (gpu) o.sync = cs_gpu_sync;
    cs_prof_reset();
    rc = cs_run(run_once, &ctx, &o, &res->timing);
    if (rc == 0) {
        /* Test hook: corrupt one output of the named variant, so the tests
         * can show that the check catches a wrong result (exit code 1). */
        const char *fault = getenv("CS_FAULT_INJECT");
        if (fault && strcmp(fault, v->name) == 0) out.x[0] += 1.0f;
        res->ran = 1;
        res->check = c3_check(w, &out, C3_TOL_FP32);
        res->nphases = cs_prof_entries(res->phases, CS_PROF_MAX_NAMES);
        res->peak_mem = gpu ? cs_gpu_tracked_peak() : cs_tracked_peak() - host_before;
    }
    if (v->teardown) v->teardown(state, &out);
    c3_output_free(&original);
    return rc;
}

double c3_phase_seconds(const c3_run *res, const char *name)
{
    int runs = res->timing.repeats > 0 ? res->timing.repeats : 1;
    for (int i = 0; i < res->nphases; i++)
        if (strcmp(res->phases[i].name, name) == 0) return res->phases[i].total_s / runs;
    return 0.0;
}
