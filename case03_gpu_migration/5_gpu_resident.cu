/* gpu_resident: the same naive kernels as gpu_naive, with the data kept on
 * the device.
 *
 * What changed against gpu_naive, and why it is faster:
 *  - the device buffers are allocated once, in setup, outside the timed run:
 *    no cudaMalloc/cudaFree per operation (and no implicit synchronization
 *    in cudaFree);
 *  - the inputs go up once and the outputs come down once. Z and the
 *    intermediate X never leave the device: the six n x n transfers of every
 *    chain iteration (X and W up for the product, Z down, Z up, X down, X up
 *    again for the row sums) become two uploads (X0, W) and one download
 *    (X) for the whole run;
 *  - the kernels are enqueued back to back on one stream with no
 *    synchronization between them: the stream already runs them in order,
 *    and while the GPU works on one the host enqueues the next. The host
 *    waits once, at the end.
 * Still naive: the copies come from pageable memory (the driver stages them
 * through a pinned buffer, at a fraction of the link's speed), the GEMM
 * kernel is the naive one, the elementwise stage and the reduction are two
 * passes, and every small product is its own kernel launch (a few
 * microseconds each of launch overhead for a few microseconds of work).
 *
 * The pipeline takes the GEMM launcher as a parameter: 6_gpu_tiled.cu runs
 * exactly this with the tiled kernel. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"
#include "gpu_resident.h"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "cs_memory.h"
#include "workload.h"
}
#include "variants.h"

/* The device buffers, made once in setup. */
typedef struct {
    float *d_x;       /* n*n: X_{k-1}, overwritten in place by X_k */
    float *d_w;       /* n*n */
    float *d_bias;    /* n */
    float *d_z;       /* n*n: the product of the current iteration */
    float *d_rowsum;  /* iters*n */
    float *d_small_a; /* batch*small*small (NULL when the batch is empty) */
    float *d_small_b;
    float *d_small_c;
} resident_state;

/* count floats on the device, or NULL for none. */
static float *device_floats(size_t count, const char *what)
{
    return count ? (float *)cs_gpu_malloc(count * sizeof(float), what) : NULL;
}

extern "C" int c3_gpu_resident_setup(const c3_workload *w, c3_output *out, void **state)
{
    (void)out;
    const c3_config *c = &w->cfg;
    const size_t nn = (size_t)c->n * c->n;
    const size_t batch_floats = (size_t)c->batch * c->small * c->small;

    resident_state *st = (resident_state *)cs_calloc(sizeof *st, "gpu_resident state");
    /* One X buffer is enough: in iteration k the product reads X_{k-1} into
     * Z, and only then (same stream, so in order) does the elementwise
     * kernel overwrite X with X_k. */
    st->d_x = device_floats(nn, "gpu_resident X");
    st->d_w = device_floats(nn, "gpu_resident W");
    st->d_bias = device_floats((size_t)c->n, "gpu_resident bias");
    st->d_z = device_floats(nn, "gpu_resident Z");
    st->d_rowsum = device_floats((size_t)c->iters * c->n, "gpu_resident row sums");
    st->d_small_a = device_floats(batch_floats, "gpu_resident small A");
    st->d_small_b = device_floats(batch_floats, "gpu_resident small B");
    st->d_small_c = device_floats(batch_floats, "gpu_resident small C");
    *state = st;
    return 0;
}

int c3_resident_run_with(const c3_workload *w, c3_output *out, void *state, c3_gemm_launcher gemm)
{
    const resident_state *st = (const resident_state *)state;
    const c3_config *c = &w->cfg;
    const int n = c->n;
    const size_t nn = (size_t)n * n;
    const int s = c->small;
    const size_t ss = (size_t)s * s;
    const size_t batch_bytes = (size_t)c->batch * ss * sizeof(float);
    const cudaStream_t stream = 0; /* the default stream: everything in order */

    /* Inputs up, once (pageable host memory: cudaMemcpy, synchronous). */
    int h = cs_gpu_phase_begin("copy H2D", stream);
    CUDA_CHECK(cudaMemcpy(st->d_x, w->x0, nn * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(st->d_w, w->w, nn * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(st->d_bias, w->bias, (size_t)n * sizeof(float), cudaMemcpyHostToDevice));
    if (batch_bytes) {
        CUDA_CHECK(cudaMemcpy(st->d_small_a, w->small_a, batch_bytes, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(st->d_small_b, w->small_b, batch_bytes, cudaMemcpyHostToDevice));
    }
    cs_gpu_phase_end(h, stream);

    /* All the kernels, back to back: no copies, no waits in between. */
    h = cs_gpu_phase_begin("kernel", stream);
    for (int k = 0; k < c->iters; ++k) {
        gemm(n, n, n, st->d_x, n, st->d_w, n, st->d_z, n, stream); /* Z = X W */
        c3_launch_bias_relu_scale(st->d_z, st->d_bias, w->scale, n, n, st->d_x, stream);
        c3_launch_rowsum(st->d_x, n, n, st->d_rowsum + (size_t)k * n, stream);
    }
    /* Still one launch per small product. */
    for (int p = 0; p < c->batch; ++p)
        gemm(s, s, s, st->d_small_a + p * ss, s, st->d_small_b + p * ss, s, st->d_small_c + p * ss, s, stream);
    cs_gpu_phase_end(h, stream);

    /* Outputs down, once. cudaMemcpy to pageable memory waits for the
     * kernels before it copies, and returns when the data is on the host. */
    h = cs_gpu_phase_begin("copy D2H", stream);
    CUDA_CHECK(cudaMemcpy(out->x, st->d_x, nn * sizeof(float), cudaMemcpyDeviceToHost));
    if (c->iters > 0)
        CUDA_CHECK(cudaMemcpy(out->rowsum, st->d_rowsum, (size_t)c->iters * n * sizeof(float), cudaMemcpyDeviceToHost));
    if (batch_bytes) CUDA_CHECK(cudaMemcpy(out->small, st->d_small_c, batch_bytes, cudaMemcpyDeviceToHost));
    cs_gpu_phase_end(h, stream);

    /* The one synchronization of the run (it also reports any error of an
     * asynchronous kernel). */
    CUDA_CHECK(cudaDeviceSynchronize());
    cs_gpu_phases_flush();
    return 0;
}

extern "C" int c3_gpu_resident_run(const c3_workload *w, c3_output *out, void *state)
{
    return c3_resident_run_with(w, out, state, c3_launch_gemm_naive);
}

extern "C" void c3_gpu_resident_teardown(void *state, c3_output *out)
{
    (void)out;
    resident_state *st = (resident_state *)state;
    if (!st) return;
    cs_gpu_free(st->d_x);
    cs_gpu_free(st->d_w);
    cs_gpu_free(st->d_bias);
    cs_gpu_free(st->d_z);
    cs_gpu_free(st->d_rowsum);
    cs_gpu_free(st->d_small_a);
    cs_gpu_free(st->d_small_b);
    cs_gpu_free(st->d_small_c);
    cs_free(st);
}
