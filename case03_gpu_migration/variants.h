/* The ladder of variants: every one has the same signature.
 *
 *   setup(w, out, &state)   one-time work outside the timed runs (device
 *                           buffers, pinned staging, streams); it may point
 *                           out's arrays at its own (pinned) buffers.
 *   run(w, out, state)      one full job: from the host inputs in w to the
 *                           host outputs in out. This is what is timed.
 *   teardown(state, out)    frees what setup made (and restores out).
 *
 * setup and teardown may be NULL. run returns 0, or an exit code. */
#ifndef C3_VARIANTS_H
#define C3_VARIANTS_H

#include <stddef.h>
#include "workload.h"

typedef struct {
    const char *name;
    const char *device; /* "cpu" or "gpu" */
    const char *lesson; /* one line: what this rung changes */
    int (*setup)(const c3_workload *w, c3_output *out, void **state);
    int (*run)(const c3_workload *w, c3_output *out, void *state);
    void (*teardown)(void *state, c3_output *out);
} c3_variant;

#ifdef __cplusplus
extern "C" {
#endif

/* CPU rungs (always built; cpu_blas returns 2 with a message when no CBLAS). */
int c3_cpu_naive_run(const c3_workload *w, c3_output *out, void *state);
int c3_cpu_blocked_run(const c3_workload *w, c3_output *out, void *state);
int c3_cpu_blas_run(const c3_workload *w, c3_output *out, void *state);

/* The pieces of cpu_blocked that hybrid reuses. */
void c3_cpu_blocked_chain(const c3_workload *w, c3_output *out);
void c3_cpu_blocked_small(const c3_workload *w, c3_output *out);

#ifdef CS_HAVE_CUDA
/* GPU rungs (built with CUDA). */
int c3_gpu_naive_run(const c3_workload *w, c3_output *out, void *state);

int c3_gpu_resident_setup(const c3_workload *w, c3_output *out, void **state);
int c3_gpu_resident_run(const c3_workload *w, c3_output *out, void *state);
void c3_gpu_resident_teardown(void *state, c3_output *out);

int c3_gpu_tiled_setup(const c3_workload *w, c3_output *out, void **state);
int c3_gpu_tiled_run(const c3_workload *w, c3_output *out, void *state);
void c3_gpu_tiled_teardown(void *state, c3_output *out);

int c3_gpu_cublas_setup(const c3_workload *w, c3_output *out, void **state);
int c3_gpu_cublas_run(const c3_workload *w, c3_output *out, void *state);
void c3_gpu_cublas_teardown(void *state, c3_output *out);

/* hybrid: each piece of work to the CPU or the GPU by the crossover size. */
int c3_hybrid_setup(const c3_workload *w, c3_output *out, void **state);
int c3_hybrid_run(const c3_workload *w, c3_output *out, void *state);
void c3_hybrid_teardown(void *state, c3_output *out);
#endif

/* The crossover size hybrid uses: set by the investigation step from its
 * size sweep (-1: the GPU never won there); when unset (0), hybrid's setup
 * measures it with a short sweep. */
void c3_set_crossover(int n);
int c3_get_crossover(void);
/* --crossover N: hybrid routes by N whatever step 4 measures (tests use it
 * to send work to the GPU on purpose, at a size they choose). */
void c3_force_crossover(int n);
int c3_crossover_forced(void);

#ifdef __cplusplus
}
#endif

#endif
