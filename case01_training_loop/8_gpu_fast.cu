/* gpu_fast: gpu_async with the step replayed from CUDA graphs.
 *
 * What changed against gpu_async, and why it is faster: one thing, how the
 * step's forward and backward passes reach the device. gpu_async launches
 * their 6 and 8 kernels one by one; each launch costs the host a few
 * microseconds of argument checks and submission, and with a small batch
 * the device finishes a kernel sooner than the host submits the next. Here
 * each pass is captured once (in setup) into a CUDA graph and replayed with
 * one cudaGraphLaunch per step: the driver checks and submits the whole
 * pass as one unit.
 *
 * Everything else is gpu_async's run (c1_async_train, gpu_async.cuh): the
 * same buffers, the same kernels in the same order, no synchronization
 * inside the run, the same streaming path. Two details a graph needs:
 *  - a graph's kernel arguments are fixed at capture, so what changes from
 *    step to step (which slot gets the loss) is read from device memory:
 *    the gather kernel, launched directly with the step number, publishes
 *    it there (gpu_async does the same, so the kernels are the same);
 *  - cuBLAS gets a workspace of our own, so that its kernels, once
 *    captured, never allocate.
 * C1_NO_GRAPH=1 in the environment (read at setup) skips the capture: the
 * rung then launches kernel by kernel, as gpu_async does. */
#include <stdlib.h>
#include <string.h>

#include "cs_cuda.cuh"
#include "gpu_async.cuh"

extern "C" { /* common/'s C headers have no extern "C" of their own */
#include "cs_memory.h"
}
#include "variants.h"

/* cuBLAS's workspace, given to the handle explicitly so that capturing
 * its kernels in a graph never allocates (32 MiB: NVIDIA's advice for
 * Hopper; enough for any SGEMM algorithm here). */
#define FAST_CUBLAS_WORKSPACE ((size_t)32 << 20)

typedef struct {
    c1_async *run; /* gpu_async's state and run */
    void *cublas_workspace;
    cudaGraphExec_t forward_graph, backward_graph; /* NULL with C1_NO_GRAPH */
} fast_state;

static int env_no_graph(void)
{
    const char *v = getenv("C1_NO_GRAPH");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* Captures what `pass` puts on st->stream into an executable graph. */
static cudaGraphExec_t capture(c1_async *st, c1_async_pass pass)
{
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CUDA_CHECK(cudaStreamBeginCapture(st->stream, cudaStreamCaptureModeThreadLocal));
    pass(st);
    CUDA_CHECK(cudaStreamEndCapture(st->stream, &graph));
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    CUDA_CHECK(cudaGraphDestroy(graph));
    /* Uploads the graph's work descriptors now, not at the first launch. */
    CUDA_CHECK(cudaGraphUpload(exec, st->stream));
    return exec;
}

/* The step's passes, each one launch of its graph. */
static void forward_graph(c1_async *st)
{
    CUDA_CHECK(cudaGraphLaunch(((fast_state *)st->ctx)->forward_graph, st->stream));
}

static void backward_graph(c1_async *st)
{
    CUDA_CHECK(cudaGraphLaunch(((fast_state *)st->ctx)->backward_graph, st->stream));
}

extern "C" int c1_gpu_fast_setup(const c1_workload *w, void **state)
{
    fast_state *fs = (fast_state *)cs_calloc(sizeof *fs, "gpu_fast state");
    c1_async *st = c1_async_open(w, "gpu_fast");
    fs->run = st;
    if (!env_no_graph()) {
        cublasHandle_t handle = cs_cublas_for_stream(st->stream);
        fs->cublas_workspace = cs_gpu_malloc(FAST_CUBLAS_WORKSPACE, "gpu_fast cuBLAS workspace");
        CUBLAS_CHECK(cublasSetWorkspace(handle, fs->cublas_workspace, FAST_CUBLAS_WORKSPACE));
        /* One more untimed pass, now with that workspace, so that any kernel
         * cuBLAS picks for it is loaded before the capture, not during it. */
        c1_async_forward_kernels(st);
        c1_async_backward_kernels(st);
        CUDA_CHECK(cudaStreamSynchronize(st->stream));
        fs->forward_graph = capture(st, c1_async_forward_kernels);
        fs->backward_graph = capture(st, c1_async_backward_kernels);
        CUDA_CHECK(cudaStreamSynchronize(st->stream));
        st->forward = forward_graph;
        st->backward = backward_graph;
        st->ctx = fs;
    }
    *state = fs;
    return 0;
}

extern "C" int c1_gpu_fast_train(const c1_workload *w, int steps, c1_output *out, void *state)
{
    return c1_async_train(((fast_state *)state)->run, w, steps, out);
}

extern "C" void c1_gpu_fast_teardown(void *state)
{
    fast_state *fs = (fast_state *)state;
    if (!fs) return;
    CUDA_CHECK(cudaStreamSynchronize(fs->run->stream));
    if (fs->forward_graph) {
        CUDA_CHECK(cudaGraphExecDestroy(fs->forward_graph));
        CUDA_CHECK(cudaGraphExecDestroy(fs->backward_graph));
    }
    c1_async_close(fs->run);           /* releases the cuBLAS handle first... */
    cs_gpu_free(fs->cublas_workspace); /* ...then its workspace can go */
    cs_free(fs);
}
