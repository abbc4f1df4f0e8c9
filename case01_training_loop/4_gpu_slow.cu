/* gpu_slow: the training loop moved to the GPU line by line, the way it
 * usually is the first time. It is correct, and slow for reasons that have
 * nothing to do with the GPU's speed. Every step:
 *  - converts its batch to floats on the host and copies it from pageable
 *    memory with a synchronous cudaMemcpy (the driver stages it through a
 *    pinned buffer; the host waits for it);
 *  - allocates its device buffers with cudaMalloc and frees them with
 *    cudaFree (tens of microseconds each, and cudaFree waits for the device);
 *  - runs the network one sample at a time: a matrix-vector kernel per layer
 *    per sample, an outer-product kernel per layer per sample for the
 *    gradients. 9 launches per sample, ~2,300 per step of 256, each doing
 *    a few microseconds of work, and every weight read once per sample
 *    instead of once per batch;
 *  - synchronizes to read the loss, and copies all the weights (7.4 MB)
 *    back to the host, "for logging".
 * The update itself is right: the gradients of the whole batch are summed
 * first, then one SGD step.
 *
 * Phases: "alloc", "data" and "sync/logging" on the host clock (the calls
 * there wait anyway), "forward", "backward" and "update" with events on the
 * device. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "cs_memory.h"
#include "cs_profiler.h"
#include "workload.h"
}
#include "variants.h"

/* The per-step device buffers: everything but the weights. */
typedef struct {
    float *x;         /* batch x in */
    int32_t *labels;  /* batch */
    float *a1, *a2;   /* batch x h1, batch x h2: each sample's activations */
    float *z3, *dz3;  /* batch x out: each sample's logits and their gradient */
    float *d2, *d1;   /* h2, h1: one sample's gradient through layers 2 and 1 */
    float *grads;     /* layout.count: the batch's gradient, summed over samples */
    float *loss;      /* batch: each sample's loss */
    int32_t *correct; /* batch: 1 where the sample's arg-max was its label */
} slow_step_buffers;

static float *device_floats(size_t count, const char *what)
{
    return (float *)cs_gpu_malloc(count * sizeof(float), what);
}

static void alloc_step(slow_step_buffers *b, const c1_workload *w)
{
    const c1_config *c = &w->cfg;
    const size_t B = (size_t)c->batch;
    b->x = device_floats(B * c->in, "gpu_slow batch X");
    b->labels = (int32_t *)cs_gpu_malloc(B * sizeof(int32_t), "gpu_slow batch labels");
    b->a1 = device_floats(B * c->h1, "gpu_slow layer 1 activations");
    b->a2 = device_floats(B * c->h2, "gpu_slow layer 2 activations");
    b->z3 = device_floats(B * c->out, "gpu_slow logits");
    b->dz3 = device_floats(B * c->out, "gpu_slow logit gradients");
    b->d2 = device_floats((size_t)c->h2, "gpu_slow layer 2 gradient");
    b->d1 = device_floats((size_t)c->h1, "gpu_slow layer 1 gradient");
    b->grads = device_floats(w->layout.count, "gpu_slow gradients");
    b->loss = device_floats(B, "gpu_slow per-sample loss");
    b->correct = (int32_t *)cs_gpu_malloc(B * sizeof(int32_t), "gpu_slow per-sample correct");
}

static void free_step(slow_step_buffers *b)
{
    cs_gpu_free(b->x);
    cs_gpu_free(b->labels);
    cs_gpu_free(b->a1);
    cs_gpu_free(b->a2);
    cs_gpu_free(b->z3);
    cs_gpu_free(b->dz3);
    cs_gpu_free(b->d2);
    cs_gpu_free(b->d1);
    cs_gpu_free(b->grads);
    cs_gpu_free(b->loss);
    cs_gpu_free(b->correct);
}

extern "C" int c1_gpu_slow_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    (void)state;
    const int rc = c1_gpu_check_run("gpu_slow", w, steps, out);
    if (rc) return rc;
    const c1_config *c = &w->cfg;
    const c1_layout *L = &w->layout;
    const int B = c->batch, in = c->in, h1 = c->h1, h2 = c->h2, nout = c->out;
    const size_t param_bytes = L->count * sizeof(float);
    const cudaStream_t s0 = 0; /* the default stream: everything in order */

    /* Host side of the batch (pageable, as a plain malloc gives). */
    float *h_x = (float *)cs_alloc((size_t)B * in * sizeof(float), "gpu_slow host batch");
    int32_t *h_labels = (int32_t *)cs_alloc((size_t)B * sizeof(int32_t), "gpu_slow host labels");
    float *h_loss = (float *)cs_alloc((size_t)B * sizeof(float), "gpu_slow host losses");
    int32_t *h_correct = (int32_t *)cs_alloc((size_t)B * sizeof(int32_t), "gpu_slow host correct");

    /* The weights live on the device for the run; they start from the
     * workload's initial weights. */
    cs_prof_begin("alloc");
    float *d_params = device_floats(L->count, "gpu_slow weights");
    cs_prof_end();
    cs_prof_begin("data");
    CUDA_CHECK(cudaMemcpy(d_params, w->init_params, param_bytes, cudaMemcpyHostToDevice));
    cs_prof_end();
    const float *W1 = d_params + L->w1, *b1 = d_params + L->b1;
    const float *W2 = d_params + L->w2, *b2 = d_params + L->b2;
    const float *W3 = d_params + L->w3, *b3 = d_params + L->b3;

    for (int s = 0; s < steps; ++s) {
        slow_step_buffers b;
        cs_prof_begin("alloc");
        alloc_step(&b, w);
        cs_prof_end();
        float *gW1 = b.grads + L->w1, *gb1 = b.grads + L->b1;
        float *gW2 = b.grads + L->w2, *gb2 = b.grads + L->b2;
        float *gW3 = b.grads + L->w3, *gb3 = b.grads + L->b3;

        /* The batch: converted on the host, copied synchronously. */
        cs_prof_begin("data");
        c1_host_gather_convert(w, s, h_x, h_labels);
        CUDA_CHECK(cudaMemcpy(b.x, h_x, (size_t)B * in * sizeof(float), cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(b.labels, h_labels, (size_t)B * sizeof(int32_t), cudaMemcpyHostToDevice));
        cs_prof_end();

        /* Forward, one sample at a time: 4 launches per sample. */
        int h = cs_gpu_phase_begin("forward", s0);
        for (int i = 0; i < B; ++i) {
            const float *x_i = b.x + (size_t)i * in;
            float *a1_i = b.a1 + (size_t)i * h1;
            float *a2_i = b.a2 + (size_t)i * h2;
            float *z3_i = b.z3 + (size_t)i * nout;
            c1_launch_sample_forward(W1, b1, x_i, h1, in, 1, a1_i, s0);
            c1_launch_sample_forward(W2, b2, a1_i, h2, h1, 1, a2_i, s0);
            c1_launch_sample_forward(W3, b3, a2_i, nout, h2, 0, z3_i, s0);
            c1_launch_sample_softmax_xent(z3_i, b.labels + i, nout, B, b.dz3 + (size_t)i * nout, b.loss + i,
                                          b.correct + i, s0);
        }
        cs_gpu_phase_end(h, s0);

        /* Backward, one sample at a time: each sample's gradient is added
         * into the batch's (5 launches per sample). */
        h = cs_gpu_phase_begin("backward", s0);
        CUDA_CHECK(cudaMemsetAsync(b.grads, 0, param_bytes, s0));
        for (int i = 0; i < B; ++i) {
            const float *x_i = b.x + (size_t)i * in;
            const float *a1_i = b.a1 + (size_t)i * h1;
            const float *a2_i = b.a2 + (size_t)i * h2;
            const float *dz3_i = b.dz3 + (size_t)i * nout;
            c1_launch_sample_outer_accumulate(gW3, gb3, dz3_i, a2_i, nout, h2, s0);
            c1_launch_sample_backward_input(W3, dz3_i, nout, h2, a2_i, b.d2, s0);
            c1_launch_sample_outer_accumulate(gW2, gb2, b.d2, a1_i, h2, h1, s0);
            c1_launch_sample_backward_input(W2, b.d2, h2, h1, a1_i, b.d1, s0);
            c1_launch_sample_outer_accumulate(gW1, gb1, b.d1, x_i, h1, in, s0);
        }
        cs_gpu_phase_end(h, s0);

        /* One SGD step with the batch's gradient. */
        h = cs_gpu_phase_begin("update", s0);
        c1_launch_sgd(d_params, b.grads, L->count, c->lr, s0);
        cs_gpu_phase_end(h, s0);

        /* Read the loss (waits for the device) and copy the weights back
         * "for logging": into out->params, which after the last step holds
         * the result. */
        cs_prof_begin("sync/logging");
        CUDA_CHECK(cudaMemcpy(h_loss, b.loss, (size_t)B * sizeof(float), cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(h_correct, b.correct, (size_t)B * sizeof(int32_t), cudaMemcpyDeviceToHost));
        double sum = 0.0;
        int32_t hits = 0;
        for (int i = 0; i < B; ++i) {
            sum += h_loss[i];
            hits += h_correct[i];
        }
        out->loss[s] = (float)(sum / B);
        out->correct[s] = hits;
        CUDA_CHECK(cudaMemcpy(out->params, d_params, param_bytes, cudaMemcpyDeviceToHost));
        cs_prof_end();
        cs_gpu_phases_flush(); /* the device is idle: its events are ready */

        cs_prof_begin("alloc");
        free_step(&b);
        cs_prof_end();
    }
    if (steps == 0) /* no step copied the weights back: the initial ones are the result */
        CUDA_CHECK(cudaMemcpy(out->params, d_params, param_bytes, cudaMemcpyDeviceToHost));

    cs_prof_begin("alloc");
    cs_gpu_free(d_params);
    cs_prof_end();
    cs_free(h_x);
    cs_free(h_labels);
    cs_free(h_loss);
    cs_free(h_correct);
    return 0;
}
