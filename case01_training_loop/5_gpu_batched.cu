/* gpu_batched: gpu_slow with one change, batching. The network runs on the
 * whole batch at once: each layer is one cuBLAS SGEMM (batch x in times
 * in x out) instead of 256 matrix-vector kernels, so each weight is read
 * once per batch and used 256 times, and a step launches ~20 kernels
 * instead of ~2,500. The gradients come out of the batch products directly
 * (dW = dZ^T X), no per-sample outer products.
 *
 * Everything else is gpu_slow's, on purpose, so that the difference in
 * time is batching alone. Every step still
 *  - converts the batch to floats on the host and copies it from pageable
 *    memory with a synchronous cudaMemcpy;
 *  - allocates its device buffers with cudaMalloc and frees them;
 *  - synchronizes to read the loss and copies the weights back.
 * The bias, ReLU and loss are separate kernels (fusing them is gpu_fast's
 * change).
 *
 * Phases: "alloc", "data" and "sync/logging" on the host clock, "forward",
 * "backward" and "update" with events on the device. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "cs_memory.h"
#include "cs_profiler.h"
#include "workload.h"
}
#include "variants.h"

/* Host buffers for the batch, made once (the per-step work this rung keeps
 * is on the device side). Pageable memory, as malloc gives. */
typedef struct {
    float *h_x;        /* batch x in */
    int32_t *h_labels; /* batch */
} batched_state;

extern "C" int c1_gpu_batched_setup(const c1_workload *w, void **state)
{
    const size_t B = (size_t)w->cfg.batch;
    batched_state *st = (batched_state *)cs_calloc(sizeof *st, "gpu_batched state");
    st->h_x = (float *)cs_alloc(B * w->cfg.in * sizeof(float), "gpu_batched host batch");
    st->h_labels = (int32_t *)cs_alloc(B * sizeof(int32_t), "gpu_batched host labels");
    /* The cuBLAS handle: creating it takes milliseconds, not part of a run. */
    (void)cs_cublas_for_stream(0);
    *state = st;
    return 0;
}

extern "C" int c1_gpu_batched_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    batched_state *st = (batched_state *)state;
    const int rc = c1_gpu_check_run("gpu_batched", w, steps, out);
    if (rc) return rc;
    const c1_config *c = &w->cfg;
    const size_t param_bytes = w->layout.count * sizeof(float);
    const cudaStream_t s0 = 0;

    c1_gpu_net net;
    c1_gpu_net_init(&net, w);
    cs_prof_begin("alloc");
    net.params = (float *)cs_gpu_malloc(param_bytes, "gpu_batched weights");
    cs_prof_end();
    cs_prof_begin("data");
    CUDA_CHECK(cudaMemcpy(net.params, w->init_params, param_bytes, cudaMemcpyHostToDevice));
    cs_prof_end();

    for (int s = 0; s < steps; ++s) {
        cs_prof_begin("alloc");
        c1_gpu_net_alloc_batch(&net);
        float *d_loss = (float *)cs_gpu_malloc(sizeof(float), "gpu_batched step loss");
        int32_t *d_correct = (int32_t *)cs_gpu_malloc(sizeof(int32_t), "gpu_batched step correct");
        cs_prof_end();

        cs_prof_begin("data");
        c1_host_gather_convert(w, s, st->h_x, st->h_labels);
        CUDA_CHECK(cudaMemcpy(net.x, st->h_x, (size_t)c->batch * c->in * sizeof(float), cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(net.labels, st->h_labels, (size_t)c->batch * sizeof(int32_t), cudaMemcpyHostToDevice));
        cs_prof_end();

        int h = cs_gpu_phase_begin("forward", s0);
        c1_gpu_forward_unfused(&net, d_loss, d_correct, s0);
        cs_gpu_phase_end(h, s0);

        h = cs_gpu_phase_begin("backward", s0);
        c1_gpu_backward_unfused(&net, s0);
        cs_gpu_phase_end(h, s0);

        h = cs_gpu_phase_begin("update", s0);
        c1_launch_sgd(net.params, net.grads, w->layout.count, c->lr, s0);
        cs_gpu_phase_end(h, s0);

        cs_prof_begin("sync/logging");
        CUDA_CHECK(cudaMemcpy(&out->loss[s], d_loss, sizeof(float), cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(&out->correct[s], d_correct, sizeof(int32_t), cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(out->params, net.params, param_bytes, cudaMemcpyDeviceToHost));
        cs_prof_end();
        cs_gpu_phases_flush();

        cs_prof_begin("alloc");
        c1_gpu_net_free_batch(&net);
        cs_gpu_free(d_loss);
        cs_gpu_free(d_correct);
        cs_prof_end();
    }
    if (steps == 0) CUDA_CHECK(cudaMemcpy(out->params, net.params, param_bytes, cudaMemcpyDeviceToHost));

    cs_prof_begin("alloc");
    cs_gpu_free(net.params);
    cs_prof_end();
    return 0;
}

extern "C" void c1_gpu_batched_teardown(void *state)
{
    batched_state *st = (batched_state *)state;
    if (!st) return;
    cs_free(st->h_x);
    cs_free(st->h_labels);
    cs_free(st);
}
