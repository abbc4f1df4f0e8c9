/* The ladder: which variants exist and how one is run and checked. */
#include "ladder.h"

#include <string.h>

#include "cs_clock.h"
#include "cs_fault.h"
#include "cs_gemm.h"
#include "cs_gpu.h"

/* In ladder order: the number of each rung's file (1_cpu_naive.c, ...,
 * 8_hybrid.cu) is its place here. hybrid's device is "gpu": it needs one. */
const c3_variant c3_ladder[C3_NVARIANTS] = {
    {"cpu_naive", "cpu", "textbook triple loop, one pass per stage, one thread", NULL, c3_cpu_naive_run, NULL},
    {"cpu_blocked", "cpu", "cache-blocked vectorized GEMM on all cores, stages fused", NULL, c3_cpu_blocked_run, NULL},
    {"cpu_blas", "cpu", "the same pipeline with OpenBLAS SGEMM", NULL, c3_cpu_blas_run, NULL},
    {"gpu_naive", "gpu", "first port: alloc, pageable copy, naive kernel, copy back, free, sync: per operation", NULL,
     CS_CUDA_ONLY(c3_gpu_naive_run), NULL},
    {"gpu_resident", "gpu", "data stays on the device across the chain; one copy in, one out",
     CS_CUDA_ONLY(c3_gpu_resident_setup), CS_CUDA_ONLY(c3_gpu_resident_run), CS_CUDA_ONLY(c3_gpu_resident_teardown)},
    {"gpu_tiled", "gpu", "shared-memory tiled GEMM kernel written by hand", CS_CUDA_ONLY(c3_gpu_tiled_setup),
     CS_CUDA_ONLY(c3_gpu_tiled_run), CS_CUDA_ONLY(c3_gpu_tiled_teardown)},
    {"gpu_cublas", "gpu", "cuBLAS, fused kernel, batched small products, pinned async copies on streams",
     CS_CUDA_ONLY(c3_gpu_cublas_setup), CS_CUDA_ONLY(c3_gpu_cublas_run), CS_CUDA_ONLY(c3_gpu_cublas_teardown)},
    {"hybrid", "gpu", "each piece to the CPU or the GPU by the measured crossover size", CS_CUDA_ONLY(c3_hybrid_setup),
     CS_CUDA_ONLY(c3_hybrid_run), CS_CUDA_ONLY(c3_hybrid_teardown)},
};

void c3_ladder_not_here(const char *not_here[C3_NVARIANTS])
{
    for (int i = 0; i < C3_NVARIANTS; i++) {
        not_here[i] = NULL;
        if (strcmp(c3_ladder[i].name, "cpu_blas") == 0 && !cs_gemm_cblas_available())
            not_here[i] = "built without OpenBLAS (apt-get install libopenblas-dev)";
    }
}

/* One timed run of a variant (cs_rung_time calls it). */
typedef struct {
    const c3_variant *v;
    const c3_workload *w;
    c3_output *out;
    void *state;
} run_ctx;

static int run_once(void *p)
{
    run_ctx *c = p;
    return c->v->run(c->w, c->out, c->state);
}

/* The tests' faults (CS_FAULT_INJECT), one per part of the check, each a
 * bug it must catch in rung v's output: "<rung>" one element of X off by
 * 1; "<rung>_rowsum" every row sum short of one column's share (a loop
 * bound off by one: 1/n of each sum); "<rung>_small" the last small
 * product a copy of the one before (an index off by one). */
static void inject_faults(const c3_variant *v, const c3_config *c, c3_output *out)
{
    if (cs_fault_injected(v->name)) out->x[0] += 1.0f;
    if (cs_fault_injected_for(v->name, "rowsum"))
        for (size_t i = 0; i < (size_t)c->iters * c->n; i++) out->rowsum[i] *= (float)(c->n - 1) / (float)c->n;
    size_t s2 = (size_t)c->small * c->small;
    if (cs_fault_injected_for(v->name, "small") && c->batch >= 2)
        memcpy(out->small + (size_t)(c->batch - 1) * s2, out->small + (size_t)(c->batch - 2) * s2, s2 * sizeof(float));
}

int c3_run_variant(const c3_variant *v, const c3_workload *w, const cs_run_opts *opts, c3_run *res)
{
    c3_output out;
    c3_output_alloc(&out, &w->cfg);
    c3_output original = out;
    cs_rung_start(res, v->name, v->device, v->lesson); /* its memory: what it adds from here */

    int gpu = strcmp(v->device, "gpu") == 0;
    void *state = NULL;
    double t0 = cs_now();
    int rc = v->setup ? v->setup(w, &out, &state) : 0;
    if (gpu) cs_gpu_sync();
    res->setup_s = cs_now() - t0;
    if (rc != 0) {
        c3_output_free(&original);
        return rc;
    }
    c3_output_poison(&out, &w->cfg); /* a variant that skips a part fails the check */

    run_ctx ctx = {v, w, &out, state};
    rc = cs_rung_time(res, run_once, &ctx, opts);
    if (rc == 0) {
        inject_faults(v, &w->cfg, &out);
        res->check = c3_check(w, &out, C3_TOL_FP32);
        res->peak_mem = cs_rung_memory(res);
    }
    if (v->teardown) v->teardown(state, &out);
    c3_output_free(&original);
    return rc;
}
