/* Part 5's graph rung on the GPU (backend.h's graph_begin, graph_end,
 * graph_launch, graph_free): the backend's stream captured into a CUDA
 * graph, instantiated once and replayed, so that a step's 300-odd kernel
 * launches cost one.
 *
 * What capture asks of the work it records (graph_step.c keeps to it):
 *  - no host wait inside (no cudaMemcpy to the host, no synchronize): the
 *    loss and accuracy are read after the replay, Adam's step count and
 *    bias corrections are on the device;
 *  - no allocation inside: the step runs once before the capture, which
 *    sizes every scratch buffer and makes cuDNN's plans, and cuBLAS gets a
 *    fixed workspace of its own here (what PyTorch sets for its graphs);
 *  - the same addresses every replay: the batch is copied into the model's
 *    input slot before each launch, and each slot has its own graph.
 *
 * tools/gpu_verify.sh runs `lab_resnet compile`, whose graph row is checked
 * against eager's losses and gradients; it passed on an H200
 * (docs/results/gpu_h200/). */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"

#include <stdio.h>

extern "C" {
#include "cs_console.h"
}

namespace
{

/* Up to RN_MAX_GRAPHS graphs (one per input slot: each reads its own
 * buffer), the one being captured at [ngraphs]. */
cudaGraph_t graphs[RN_MAX_GRAPHS];
cudaGraphExec_t execs[RN_MAX_GRAPHS];
int ngraphs;
bool capturing;

/* cuBLAS's workspace while graphs may replay: 32 MiB, PyTorch's size for
 * Hopper (CUBLAS_WORKSPACE_CONFIG=:4096:8). */
constexpr size_t CUBLAS_WORKSPACE_BYTES = (size_t)32 << 20;
void *cublas_workspace;

int said(const char *what, cudaError_t e)
{
    fprintf(stderr, "%s: CUDA graph: %s: %s\n", cs_prog(), what, cudaGetErrorString(e));
    return -1;
}

} /* namespace */

int rn_gpu_graph_begin(void)
{
    if (capturing || ngraphs == RN_MAX_GRAPHS) {
        fprintf(stderr, "%s: CUDA graph: %s\n", cs_prog(),
                capturing ? "already capturing" : "no room for another graph");
        return -1;
    }
    cudaStream_t s = rn_gpu_stream();
    if (cublas_workspace == NULL) {
        CUDA_CHECK(cudaStreamSynchronize(s));
        CUDA_CHECK(cudaMalloc(&cublas_workspace, CUBLAS_WORKSPACE_BYTES));
        CUBLAS_CHECK(cublasSetWorkspace(cs_cublas_for_stream(s), cublas_workspace, CUBLAS_WORKSPACE_BYTES));
    }
    /* Thread-local: another thread's CUDA calls (the data workers' pinned
     * copies run on their own streams) do not invalidate this capture. */
    cudaError_t e = cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    if (e != cudaSuccess) return said("cudaStreamBeginCapture", e);
    capturing = true;
    return 0;
}

int rn_gpu_graph_end(void)
{
    if (!capturing) return -1;
    capturing = false;
    cudaGraph_t g;
    cudaError_t e = cudaStreamEndCapture(rn_gpu_stream(), &g);
    if (e != cudaSuccess) return said("cudaStreamEndCapture (did something in the step wait for the host?)", e);
    e = cudaGraphInstantiate(&execs[ngraphs], g, 0);
    if (e != cudaSuccess) {
        CUDA_CHECK(cudaGraphDestroy(g));
        return said("cudaGraphInstantiate", e);
    }
    graphs[ngraphs] = g;
    return ngraphs++;
}

void rn_gpu_graph_launch(int id)
{
    if (id < 0 || id >= ngraphs) {
        fprintf(stderr, "%s: CUDA graph: no graph %d\n", cs_prog(), id);
        exit(3);
    }
    CUDA_CHECK(cudaGraphLaunch(execs[id], rn_gpu_stream()));
}

void rn_gpu_graph_free(void)
{
    for (int i = 0; i < ngraphs; i++) {
        CUDA_CHECK(cudaGraphExecDestroy(execs[i]));
        CUDA_CHECK(cudaGraphDestroy(graphs[i]));
    }
    ngraphs = 0;
}

/* At the backend's end, after its cuBLAS handle is destroyed (so that no
 * handle points at the workspace when it is freed). */
void rn_gpu_graph_release(void)
{
    rn_gpu_graph_free();
    if (cublas_workspace) CUDA_CHECK(cudaFree(cublas_workspace));
    cublas_workspace = NULL;
}
