/* gpu_resident: gpu_batched with the copies and allocations removed.
 *
 * What changed against gpu_batched, and why it is faster:
 *  - the device buffers are allocated once, in setup: no cudaMalloc or
 *    cudaFree inside a run (cudaFree also waited for the device);
 *  - the data set goes to the device once per run, as bytes (a quarter of
 *    the floats' size), with the sample order; each step's batch is then
 *    gathered and converted to floats by a kernel on the device, from
 *    memory at ~3 TB/s, instead of converted on the host and copied over
 *    PCIe from pageable memory.
 * What it keeps, and what gpu_async removes next: every step still
 * synchronizes to read the loss and copies all the weights back to the
 * host for logging, so the host waits for the device and the device for
 * the host, once per step; and the bias, ReLU and loss kernels are still
 * separate.
 *
 * Phases: "data" (the upload) and "sync/logging" on the host clock;
 * "data" (the gather), "forward", "backward", "update" on the device. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "cs_memory.h"
#include "cs_profiler.h"
#include "workload.h"
}
#include "variants.h"

/* Everything on the device, made once in setup. */
typedef struct {
    c1_gpu_net net;     /* weights, gradients, the batch's buffers */
    uint8_t *d_images;  /* n * in: the data set as bytes */
    uint8_t *d_labels;  /* n */
    int32_t *d_order;   /* order_steps * batch: the sample order */
    float *d_loss;      /* the current step's loss */
    int32_t *d_correct; /* and correct count */
} resident_state;

extern "C" int c1_gpu_resident_setup(const c1_workload *w, void **state)
{
    const c1_dataset *d = w->data;
    const size_t image_bytes = (size_t)d->n * w->cfg.in;
    const size_t order_count = (size_t)w->order_steps * w->cfg.batch;

    resident_state *st = (resident_state *)cs_calloc(sizeof *st, "gpu_resident state");
    c1_gpu_net_init(&st->net, w);
    st->net.params = (float *)cs_gpu_malloc(w->layout.count * sizeof(float), "gpu_resident weights");
    c1_gpu_net_alloc_batch(&st->net);
    st->d_images = (uint8_t *)cs_gpu_malloc(image_bytes, "gpu_resident data set images");
    st->d_labels = (uint8_t *)cs_gpu_malloc((size_t)d->n, "gpu_resident data set labels");
    st->d_order =
        order_count ? (int32_t *)cs_gpu_malloc(order_count * sizeof(int32_t), "gpu_resident sample order") : NULL;
    st->d_loss = (float *)cs_gpu_malloc(sizeof(float), "gpu_resident step loss");
    st->d_correct = (int32_t *)cs_gpu_malloc(sizeof(int32_t), "gpu_resident step correct");
    (void)cs_cublas_for_stream(0); /* the handle, made outside the timed runs */
    *state = st;
    return 0;
}

extern "C" int c1_gpu_resident_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    resident_state *st = (resident_state *)state;
    const int rc = c1_gpu_check_run("gpu_resident", w, steps, out);
    if (rc) return rc;
    const c1_config *c = &w->cfg;
    const c1_dataset *d = w->data;
    c1_gpu_net *net = &st->net;
    const size_t param_bytes = w->layout.count * sizeof(float);
    const size_t order_count = (size_t)w->order_steps * c->batch;
    const cudaStream_t s0 = 0;

    /* Once per run: the data set (bytes), the order and the initial weights
     * go up. Synchronous copies from pageable memory, timed on the host. */
    cs_prof_begin("data");
    CUDA_CHECK(cudaMemcpy(st->d_images, d->images, (size_t)d->n * c->in, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(st->d_labels, d->labels, (size_t)d->n, cudaMemcpyHostToDevice));
    if (order_count)
        CUDA_CHECK(cudaMemcpy(st->d_order, w->order, order_count * sizeof(int32_t), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(net->params, w->init_params, param_bytes, cudaMemcpyHostToDevice));
    cs_prof_end();

    for (int s = 0; s < steps; ++s) {
        /* The batch is gathered and converted on the device: no copy. */
        int h = cs_gpu_phase_begin("data", s0);
        c1_launch_gather_convert(st->d_images, st->d_labels, st->d_order + (size_t)s * c->batch, c->batch, c->in,
                                 net->x, net->labels, s, NULL, s0);
        cs_gpu_phase_end(h, s0);

        h = cs_gpu_phase_begin("forward", s0);
        c1_gpu_forward_unfused(net, st->d_loss, st->d_correct, s0);
        cs_gpu_phase_end(h, s0);

        h = cs_gpu_phase_begin("backward", s0);
        c1_gpu_backward_unfused(net, s0);
        cs_gpu_phase_end(h, s0);

        h = cs_gpu_phase_begin("update", s0);
        c1_launch_sgd(net->params, net->grads, w->layout.count, c->lr, s0);
        cs_gpu_phase_end(h, s0);

        /* Still here: wait for the step, read its loss, copy the weights
         * back for logging. */
        cs_prof_begin("sync/logging");
        CUDA_CHECK(cudaMemcpy(&out->loss[s], st->d_loss, sizeof(float), cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(&out->correct[s], st->d_correct, sizeof(int32_t), cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(out->params, net->params, param_bytes, cudaMemcpyDeviceToHost));
        cs_prof_end();
        cs_gpu_phases_flush();
    }
    if (steps == 0) CUDA_CHECK(cudaMemcpy(out->params, net->params, param_bytes, cudaMemcpyDeviceToHost));
    return 0;
}

extern "C" void c1_gpu_resident_teardown(void *state)
{
    resident_state *st = (resident_state *)state;
    if (!st) return;
    CUDA_CHECK(cudaDeviceSynchronize()); /* nothing may still use the buffers */
    c1_gpu_net_free_batch(&st->net);
    cs_gpu_free(st->net.params);
    cs_gpu_free(st->d_images);
    cs_gpu_free(st->d_labels);
    cs_gpu_free(st->d_order);
    cs_gpu_free(st->d_loss);
    cs_gpu_free(st->d_correct);
    cs_free(st);
}
