/* The ladder of training variants: every one has the same signature.
 *
 *   setup(w, &state)              one-time work outside the timed runs
 *                                 (allowed: creating a cuBLAS handle or a
 *                                 stream; NOT the per-step work a variant is
 *                                 about: gpu_async and gpu_fast upload the
 *                                 data set in train, once per run, and say so).
 *   train(w, steps, out, state)   one full training run: copies
 *                                 w->init_params into its own weights, then
 *                                 trains `steps` steps taking the samples
 *                                 w->order[s * batch + i], and leaves the final
 *                                 weights, the per-step loss and the per-step
 *                                 correct count in out. This is what is timed.
 *   teardown(state)               frees what setup made.
 *
 * setup and teardown may be NULL. train returns 0, or an exit code (2 bad
 * input, 3 runtime failure) after printing one line.
 *
 * Phase names, shared by all variants so the charts line up (cs_prof_begin /
 * cs_prof_end on the host, cs_gpu_phase_begin / _end for device work):
 *   "alloc"         allocating and freeing buffers inside the run
 *   "data"          getting the batch ready: byte -> float conversion, copies
 *                   to the device, the data set's upload
 *   "forward"       the three layers, bias, ReLU, softmax and loss
 *   "backward"      gradients of all weights and biases
 *   "update"        the SGD step
 *   "sync/logging"  waiting for the device, reading the loss, copying weights
 *                   back for logging, the extra forward pass for metrics */
#ifndef C1_VARIANTS_H
#define C1_VARIANTS_H

#include "workload.h"

typedef struct {
    const char *name;
    const char *device; /* "cpu" or "gpu" */
    int slow;           /* 1: its timed runs train cfg.slow_steps steps, else cfg.steps */
    const char *lesson; /* one line: what this rung changes */
    int (*setup)(const c1_workload *w, void **state);
    int (*train)(const c1_workload *w, int steps, c1_output *out, void *state);
    void (*teardown)(void *state);
} c1_variant;

#ifdef __cplusplus
extern "C" {
#endif

/* CPU rungs (always built). */
int c1_cpu_slow_train(const c1_workload *w, int steps, c1_output *out, void *state);
int c1_cpu_batched_train(const c1_workload *w, int steps, c1_output *out, void *state);
int c1_cpu_fast_setup(const c1_workload *w, void **state);
int c1_cpu_fast_train(const c1_workload *w, int steps, c1_output *out, void *state);
void c1_cpu_fast_teardown(void *state);

#ifdef CS_HAVE_CUDA
/* GPU rungs (built with CUDA). Each isolates one root cause:
 *   gpu_slow      per-step pageable copies, cudaMalloc/cudaFree, per-sample
 *                 kernels, weights copied back and a sync every step
 *   gpu_batched   batching alone: cuBLAS on the whole batch, everything else
 *                 as gpu_slow
 *   gpu_resident  plus removing the copies: data set uploaded once per run,
 *                 buffers allocated once; still a sync and a weight copy-back
 *                 every step for logging
 *   gpu_async     plus removing the per-step sync: fused bias+ReLU and
 *                 softmax+cross-entropy kernels, loss and correct counts kept
 *                 on the device and read once at the end of the run
 *   gpu_fast      plus the step's forward and backward passes captured as
 *                 CUDA graphs, each replayed with one launch */
int c1_gpu_slow_train(const c1_workload *w, int steps, c1_output *out, void *state);
int c1_gpu_batched_setup(const c1_workload *w, void **state);
int c1_gpu_batched_train(const c1_workload *w, int steps, c1_output *out, void *state);
void c1_gpu_batched_teardown(void *state);
int c1_gpu_resident_setup(const c1_workload *w, void **state);
int c1_gpu_resident_train(const c1_workload *w, int steps, c1_output *out, void *state);
void c1_gpu_resident_teardown(void *state);
int c1_gpu_async_setup(const c1_workload *w, void **state);
int c1_gpu_async_train(const c1_workload *w, int steps, c1_output *out, void *state);
void c1_gpu_async_teardown(void *state);
int c1_gpu_fast_setup(const c1_workload *w, void **state);
int c1_gpu_fast_train(const c1_workload *w, int steps, c1_output *out, void *state);
void c1_gpu_fast_teardown(void *state);
#endif

#ifdef __cplusplus
}
#endif

#endif
