/* gpu_async: gpu_resident without the per-step synchronization, with fused
 * kernels.
 *
 * What changed against gpu_resident, and why it is faster:
 *  - no synchronization inside the run. Each step's loss and correct count
 *    stay on the device, in an array with a slot per step, and come back
 *    with the final weights in one copy at the end of the run. Nothing is
 *    copied back "for logging". The host only enqueues work, so it runs
 *    ahead of the device and the device never waits for it: the GPU goes
 *    from one step to the next without an idle gap;
 *  - fused kernels: bias + ReLU in one pass (instead of two), bias +
 *    softmax + cross-entropy + logit gradient in one launch (instead of
 *    three), the ReLU backward folded into the bias-gradient reduction.
 *    16 launches per step instead of 22, and fewer passes over memory;
 *  - the upload sources (data set, order, initial weights) are in pinned
 *    memory, made in setup, so the once-per-run upload is an asynchronous
 *    DMA at the link's full speed.
 * When the data set is larger than cfg.gpu_data_budget (non-zero), it is not
 * uploaded: each step's rows are gathered on the host into one of two pinned
 * staging buffers and copied on a second stream into one of two device
 * buffers while the device computes the previous step (double buffering;
 * events order the two streams).
 * What it keeps, and what gpu_fast removes next: the host still launches the
 * step's 14 forward and backward kernels one by one, and checks each launch.
 * The run itself is c1_async_train (gpu_async.cuh), which gpu_fast reuses.
 *
 * Phases: all on the device, with events ("data", "forward", "backward",
 * "update", "sync/logging" for the final copy), read once at the end of the
 * run; the host's gathering in streaming mode is "data" on the host clock. */
#include <stdlib.h>
#include <string.h>

#include "cs_cuda.cuh"
#include "gpu_async.cuh"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "cs_memory.h"
#include "cs_profiler.h"
}
#include "variants.h"

/* Device-phase bookkeeping: the profiler holds at most CS_GPU_PHASE_MAX
 * pending event pairs. A run that would exceed it (thousands of small
 * steps) flushes when it gets close: the host then waits for the device
 * once per ~800 steps, not once per step. */
typedef struct {
    int pending;
} phase_budget;

static int phase_begin(phase_budget *pb, const char *name, cudaStream_t s)
{
    const int h = cs_gpu_phase_begin(name, s);
    if (h >= 0) pb->pending++;
    return h;
}

static void phase_room(phase_budget *pb, int needed)
{
    if (pb->pending + needed > CS_GPU_PHASE_MAX) {
        cs_gpu_phases_flush();
        pb->pending = 0;
    }
}

static void *pinned_copy(const void *src, size_t bytes, const char *what)
{
    if (bytes == 0) return NULL;
    void *p = cs_host_pinned_alloc(bytes, what);
    memcpy(p, src, bytes);
    return p;
}

void c1_async_forward_kernels(c1_async *st)
{
    c1_gpu_forward_fused(&st->net, st->d_loss, st->d_correct, st->d_step, st->stream);
}

void c1_async_backward_kernels(c1_async *st)
{
    c1_gpu_backward_fused(&st->net, st->stream);
}

c1_async *c1_async_open(const c1_workload *w, const char *name)
{
    const c1_config *c = &w->cfg;
    const c1_dataset *d = w->data;
    const size_t B = (size_t)c->batch;
    const size_t image_bytes = (size_t)d->n * c->in;
    const size_t order_count = (size_t)w->order_steps * B;
    const size_t slots = w->order_steps > 0 ? (size_t)w->order_steps : 1;

    c1_async *st = (c1_async *)cs_calloc(sizeof *st, "gpu_async state");
    st->name = name;
    st->streaming = c->gpu_data_budget > 0 && image_bytes > c->gpu_data_budget;
    st->forward = c1_async_forward_kernels;
    st->backward = c1_async_backward_kernels;

    /* A stream of our own, non-blocking (and, for gpu_fast, capturable: the
     * legacy default stream cannot be captured), with its cuBLAS handle. */
    CUDA_CHECK(cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking));
    (void)cs_cublas_for_stream(st->stream);

    c1_gpu_net_init(&st->net, w);
    st->net.params = (float *)cs_gpu_malloc(w->layout.count * sizeof(float), "gpu_async weights");
    c1_gpu_net_alloc_batch(&st->net);
    st->d_loss = (float *)cs_gpu_malloc(slots * sizeof(float), "gpu_async per-step loss");
    st->d_correct = (int32_t *)cs_gpu_malloc(slots * sizeof(int32_t), "gpu_async per-step correct");
    st->d_step = (int *)cs_gpu_malloc(sizeof(int), "gpu_async step number");
    st->h_init =
        (float *)pinned_copy(w->init_params, w->layout.count * sizeof(float), "gpu_async pinned initial weights");

    if (!st->streaming) {
        st->d_images = (uint8_t *)cs_gpu_malloc(image_bytes, "gpu_async data set images");
        st->d_labels = (uint8_t *)cs_gpu_malloc((size_t)d->n, "gpu_async data set labels");
        st->d_order =
            order_count ? (int32_t *)cs_gpu_malloc(order_count * sizeof(int32_t), "gpu_async sample order") : NULL;
        st->h_images = (uint8_t *)pinned_copy(d->images, image_bytes, "gpu_async pinned images");
        st->h_labels = (uint8_t *)pinned_copy(d->labels, (size_t)d->n, "gpu_async pinned labels");
        st->h_order = (int32_t *)pinned_copy(w->order, order_count * sizeof(int32_t), "gpu_async pinned order");
    } else {
        st->stage_bytes = B * c->in + B;
        CUDA_CHECK(cudaStreamCreateWithFlags(&st->copy_stream, cudaStreamNonBlocking));
        for (int b = 0; b < 2; ++b) {
            st->h_stage[b] = (uint8_t *)cs_host_pinned_alloc(st->stage_bytes, "gpu_async pinned staging");
            st->d_stage[b] = (uint8_t *)cs_gpu_malloc(st->stage_bytes, "gpu_async batch staging");
            /* Ordering only, no timing: cheaper to record and wait on. */
            CUDA_CHECK(cudaEventCreateWithFlags(&st->copied[b], cudaEventDisableTiming));
            CUDA_CHECK(cudaEventCreateWithFlags(&st->consumed[b], cudaEventDisableTiming));
        }
    }

    /* One untimed pass of the step's kernels on defined inputs (zeros), so
     * that loading cuBLAS's and our kernels happens here and not during the
     * first timed run (or gpu_fast's capture). It changes nothing a run
     * reads: every run uploads its weights and writes its loss slots. */
    CUDA_CHECK(cudaMemsetAsync(st->net.params, 0, w->layout.count * sizeof(float), st->stream));
    CUDA_CHECK(cudaMemsetAsync(st->net.x, 0, B * c->in * sizeof(float), st->stream));
    CUDA_CHECK(cudaMemsetAsync(st->net.labels, 0, B * sizeof(int32_t), st->stream));
    CUDA_CHECK(cudaMemsetAsync(st->d_step, 0, sizeof(int), st->stream));
    c1_async_forward_kernels(st);
    c1_async_backward_kernels(st);
    CUDA_CHECK(cudaStreamSynchronize(st->stream));
    return st;
}

/* Streaming mode: gathers step t's rows on the host into staging buffer
 * t % 2 and copies them on the copy stream into device buffer t % 2. */
static void enqueue_batch_copy(c1_async *st, const c1_workload *w, int t, phase_budget *pb)
{
    const int b = t & 1;
    const int B = w->cfg.batch, in = w->cfg.in;
    const int32_t *rows = w->order + (size_t)t * B;
    uint8_t *stage = st->h_stage[b];

    /* The copy of step t - 2 read this staging buffer: it must be done
     * before the host overwrites it. When this waits, the host is two steps
     * ahead of the device (it waits for the device, not for data): outside
     * the "data" phase, which times the host's gathering only. */
    CUDA_CHECK(cudaEventSynchronize(st->copied[b]));
    cs_prof_begin("data");
    for (int i = 0; i < B; ++i) {
        memcpy(stage + (size_t)i * in, w->data->images + (size_t)rows[i] * in, (size_t)in);
        stage[(size_t)B * in + i] = w->data->labels[rows[i]];
    }
    cs_prof_end();

    /* The device buffer is free once step t - 2's gather has read it. */
    CUDA_CHECK(cudaStreamWaitEvent(st->copy_stream, st->consumed[b], 0));
    const int h = phase_begin(pb, "data", st->copy_stream);
    CUDA_CHECK(cudaMemcpyAsync(st->d_stage[b], stage, st->stage_bytes, cudaMemcpyHostToDevice, st->copy_stream));
    cs_gpu_phase_end(h, st->copy_stream);
    CUDA_CHECK(cudaEventRecord(st->copied[b], st->copy_stream));
}

int c1_async_train(c1_async *st, const c1_workload *w, int steps, c1_output *out)
{
    const int rc = c1_gpu_check_run(st->name, w, steps, out);
    if (rc) return rc;
    const c1_config *c = &w->cfg;
    const c1_dataset *d = w->data;
    c1_gpu_net *net = &st->net;
    const cudaStream_t s = st->stream;
    const size_t B = (size_t)c->batch;
    const size_t param_bytes = w->layout.count * sizeof(float);
    const int phases_per_step = st->streaming ? 5 : 4;
    phase_budget pb = {0};

    /* Once per run, asynchronous from pinned memory: the initial weights
     * and (resident mode) the data set and the sample order. */
    int h = phase_begin(&pb, "data", s);
    CUDA_CHECK(cudaMemcpyAsync(net->params, st->h_init, param_bytes, cudaMemcpyHostToDevice, s));
    if (!st->streaming) {
        CUDA_CHECK(cudaMemcpyAsync(st->d_images, st->h_images, (size_t)d->n * c->in, cudaMemcpyHostToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(st->d_labels, st->h_labels, (size_t)d->n, cudaMemcpyHostToDevice, s));
        if (st->d_order)
            CUDA_CHECK(cudaMemcpyAsync(st->d_order, st->h_order, (size_t)w->order_steps * B * sizeof(int32_t),
                                       cudaMemcpyHostToDevice, s));
    }
    cs_gpu_phase_end(h, s);
    if (st->streaming && steps > 0) enqueue_batch_copy(st, w, 0, &pb);

    for (int t = 0; t < steps; ++t) {
        phase_room(&pb, phases_per_step + 1); /* + 1: the final copy */
        const int b = t & 1;

        /* The batch: gathered on the device, from the resident data set or
         * from the staging buffer the copy stream filled. The kernel also
         * publishes t as the current step, where the loss kernel finds its
         * slot (a graph's kernel arguments are fixed: gpu_fast needs this). */
        if (st->streaming) {
            if (t + 1 < steps) enqueue_batch_copy(st, w, t + 1, &pb); /* overlaps this step */
            CUDA_CHECK(cudaStreamWaitEvent(s, st->copied[b], 0));
        }
        h = phase_begin(&pb, "data", s);
        if (st->streaming)
            c1_launch_gather_convert(st->d_stage[b], st->d_stage[b] + B * c->in, NULL, c->batch, c->in, net->x,
                                     net->labels, t, st->d_step, s);
        else
            c1_launch_gather_convert(st->d_images, st->d_labels, st->d_order + (size_t)t * B, c->batch, c->in, net->x,
                                     net->labels, t, st->d_step, s);
        cs_gpu_phase_end(h, s);
        if (st->streaming) CUDA_CHECK(cudaEventRecord(st->consumed[b], s));

        h = phase_begin(&pb, "forward", s);
        st->forward(st);
        cs_gpu_phase_end(h, s);

        h = phase_begin(&pb, "backward", s);
        st->backward(st);
        cs_gpu_phase_end(h, s);

        h = phase_begin(&pb, "update", s);
        c1_launch_sgd(net->params, net->grads, w->layout.count, c->lr, s);
        cs_gpu_phase_end(h, s);
    }

    /* The one copy back of the run: losses, correct counts, final weights.
     * The copies into pageable memory return when the data is there. */
    phase_room(&pb, 1);
    h = phase_begin(&pb, "sync/logging", s);
    if (steps > 0) {
        CUDA_CHECK(cudaMemcpyAsync(out->loss, st->d_loss, (size_t)steps * sizeof(float), cudaMemcpyDeviceToHost, s));
        CUDA_CHECK(
            cudaMemcpyAsync(out->correct, st->d_correct, (size_t)steps * sizeof(int32_t), cudaMemcpyDeviceToHost, s));
    }
    CUDA_CHECK(cudaMemcpyAsync(out->params, net->params, param_bytes, cudaMemcpyDeviceToHost, s));
    cs_gpu_phase_end(h, s);
    CUDA_CHECK(cudaStreamSynchronize(s));
    if (st->streaming) CUDA_CHECK(cudaStreamSynchronize(st->copy_stream));
    cs_gpu_phases_flush();
    return 0;
}

void c1_async_close(c1_async *st)
{
    if (!st) return;
    CUDA_CHECK(cudaStreamSynchronize(st->stream));
    if (st->streaming) {
        CUDA_CHECK(cudaStreamSynchronize(st->copy_stream));
        for (int b = 0; b < 2; ++b) {
            CUDA_CHECK(cudaEventDestroy(st->copied[b]));
            CUDA_CHECK(cudaEventDestroy(st->consumed[b]));
            cs_host_pinned_free(st->h_stage[b]);
            cs_gpu_free(st->d_stage[b]);
        }
        CUDA_CHECK(cudaStreamDestroy(st->copy_stream));
    }
    /* The handle goes before its stream (and before gpu_fast frees the
     * workspace it gave the handle). */
    cs_cublas_release_stream(st->stream);
    CUDA_CHECK(cudaStreamDestroy(st->stream));

    c1_gpu_net_free_batch(&st->net);
    cs_gpu_free(st->net.params);
    cs_gpu_free(st->d_loss);
    cs_gpu_free(st->d_correct);
    cs_gpu_free(st->d_step);
    cs_gpu_free(st->d_images);
    cs_gpu_free(st->d_labels);
    cs_gpu_free(st->d_order);
    cs_host_pinned_free(st->h_init);
    cs_host_pinned_free(st->h_images);
    cs_host_pinned_free(st->h_labels);
    cs_host_pinned_free(st->h_order);
    cs_free(st);
}

/* ---- the rung ------------------------------------------------------------ */

extern "C" int c1_gpu_async_setup(const c1_workload *w, void **state)
{
    *state = c1_async_open(w, "gpu_async");
    return 0;
}

extern "C" int c1_gpu_async_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    return c1_async_train((c1_async *)state, w, steps, out);
}

extern "C" void c1_gpu_async_teardown(void *state)
{
    c1_async_close((c1_async *)state);
}
