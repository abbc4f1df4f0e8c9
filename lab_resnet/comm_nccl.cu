/* comm_nccl.h on NCCL (the CUDA toolkit's), written against NCCL's
 * documented API (ncclGetUniqueId, ncclCommInitRank, ncclAllReduce in place
 * on a stream, ncclCommDestroy). Run on one H200 as a one-rank communicator
 * (`lab_resnet ddp --quick --device gpu`, docs/results/gpu_h200/): the code
 * path, not the lesson; no session has had two GPUs to run two ranks. */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>

#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"

extern "C" {
#include "comm_nccl.h"
#include "cs_console.h"
#include "cs_memory.h"
}

#define NCCL_CHECK(call)                                                                                   \
    do {                                                                                                   \
        ncclResult_t rn_r_ = (call);                                                                       \
        if (rn_r_ != ncclSuccess) {                                                                        \
            cs_error("%s:%d: NCCL error in %s: %s", __FILE__, __LINE__, #call, ncclGetErrorString(rn_r_)); \
            rn_comm_abort(3);                                                                              \
        }                                                                                                  \
    } while (0)

/* Timed calls between two reads: a pair of events each, reused. */
#define RN_MAX_TIMED 2048
typedef struct {
    cudaEvent_t begin, end;
    int copy;
} timed_call;
static timed_call calls[RN_MAX_TIMED];
static int ncalls, events_made, open_comms;
static cudaStream_t side;
static cudaEvent_t compute_mark, side_mark;

static cudaStream_t stream_of(int on_side)
{
    if (!on_side) return rn_gpu_stream();
    if (!side) {
        CUDA_CHECK(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking));
        CUDA_CHECK(cudaEventCreateWithFlags(&compute_mark, cudaEventDisableTiming));
        CUDA_CHECK(cudaEventCreateWithFlags(&side_mark, cudaEventDisableTiming));
    }
    return side;
}

static timed_call *timed_begin(cudaStream_t s, int copy)
{
    if (ncalls == RN_MAX_TIMED) {
        cs_error("internal: more than %d timed NCCL calls between two reads", RN_MAX_TIMED);
        rn_comm_abort(3);
    }
    timed_call *c = &calls[ncalls];
    if (ncalls == events_made) {
        CUDA_CHECK(cudaEventCreate(&c->begin));
        CUDA_CHECK(cudaEventCreate(&c->end));
        events_made++;
    }
    ncalls++;
    c->copy = copy;
    CUDA_CHECK(cudaEventRecord(c->begin, s));
    return c;
}

extern "C" int rn_nccl_built(void)
{
    return 1;
}

extern "C" int rn_nccl_pick_device(int local_rank, char *why, size_t len)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        if (why) snprintf(why, len, "no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        cudaGetLastError(); /* clear it: the CPU run goes on */
        return 0;
    }
    CUDA_CHECK(cudaSetDevice(local_rank % n));
    return n;
}

extern "C" void rn_nccl_open(rn_group *g)
{
    if (g->rank < 0) return;
    ncclUniqueId id;
    if (g->rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    rn_group_bcast(g, &id, sizeof id);
    ncclComm_t *c = (ncclComm_t *)cs_alloc(sizeof(ncclComm_t), "NCCL communicator");
    NCCL_CHECK(ncclCommInitRank(c, g->size, id, g->rank));
    g->nccl = c;
    open_comms++;
}

/* The side stream and the events, once the last communicator is gone
 * (rn_nccl_close has drained both streams). */
static void release_streams_and_events(void)
{
    if (side) {
        CUDA_CHECK(cudaStreamDestroy(side));
        CUDA_CHECK(cudaEventDestroy(compute_mark));
        CUDA_CHECK(cudaEventDestroy(side_mark));
        side = NULL;
    }
    for (int i = 0; i < events_made; i++) {
        CUDA_CHECK(cudaEventDestroy(calls[i].begin));
        CUDA_CHECK(cudaEventDestroy(calls[i].end));
    }
    events_made = ncalls = 0;
}

extern "C" void rn_nccl_close(rn_group *g)
{
    if (!g->nccl) return;
    /* Nothing of this communicator's may still be queued on either stream. */
    CUDA_CHECK(cudaStreamSynchronize(rn_gpu_stream()));
    if (side) CUDA_CHECK(cudaStreamSynchronize(side));
    NCCL_CHECK(ncclCommDestroy(*(ncclComm_t *)g->nccl));
    cs_free(g->nccl);
    g->nccl = NULL;
    if (--open_comms == 0) release_streams_and_events();
}

/* On the compute stream an all-reduce's time is all exposed: it is timed.
 * On the side stream it runs beside the backward, and only the part the
 * compute stream waits for counts (rn_nccl_compute_after_side), as MPI's
 * wait time does on the CPU. */
extern "C" void rn_nccl_allreduce(const rn_group *g, float *dev, size_t n, int on_side)
{
    cudaStream_t s = stream_of(on_side);
    timed_call *c = on_side ? NULL : timed_begin(s, 0);
    NCCL_CHECK(ncclAllReduce(dev, dev, n, ncclFloat, ncclSum, *(ncclComm_t *)g->nccl, s));
    if (c) CUDA_CHECK(cudaEventRecord(c->end, s));
}

extern "C" void rn_nccl_copy(float *dst, const float *src, size_t n)
{
    cudaStream_t s = rn_gpu_stream();
    timed_call *c = timed_begin(s, 1);
    CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, s));
    CUDA_CHECK(cudaEventRecord(c->end, s));
}

extern "C" void rn_nccl_side_after_compute(void)
{
    cudaStream_t s = stream_of(1);
    CUDA_CHECK(cudaEventRecord(compute_mark, rn_gpu_stream()));
    CUDA_CHECK(cudaStreamWaitEvent(s, compute_mark, 0));
}

/* The wait is timed on the compute stream: from when its work before the
 * wait is done to when the side stream's all-reduces are, the
 * communication the overlap did not hide. */
extern "C" void rn_nccl_compute_after_side(void)
{
    cudaStream_t s = stream_of(1);
    timed_call *c = timed_begin(rn_gpu_stream(), 0);
    CUDA_CHECK(cudaEventRecord(side_mark, s));
    CUDA_CHECK(cudaStreamWaitEvent(rn_gpu_stream(), side_mark, 0));
    CUDA_CHECK(cudaEventRecord(c->end, rn_gpu_stream()));
}

extern "C" void rn_nccl_take_times(double *comm_s, double *copy_s)
{
    *comm_s = *copy_s = 0;
    for (int i = 0; i < ncalls; i++) {
        float ms = 0;
        CUDA_CHECK(cudaEventSynchronize(calls[i].end));
        CUDA_CHECK(cudaEventElapsedTime(&ms, calls[i].begin, calls[i].end));
        if (calls[i].copy)
            *copy_s += 1e-3 * ms;
        else
            *comm_s += 1e-3 * ms;
    }
    ncalls = 0;
}

extern "C" void rn_nccl_time_allreduce(const rn_group *g, size_t floats, int reps, double *times)
{
    float *buf = NULL;
    CUDA_CHECK(cudaMalloc(&buf, floats * sizeof(float)));
    CUDA_CHECK(cudaMemset(buf, 0, floats * sizeof(float)));
    rn_nccl_allreduce(g, buf, floats, 0); /* warm-up */
    double comm, copy;
    rn_nccl_take_times(&comm, &copy);
    for (int r = 0; r < reps; r++) {
        rn_nccl_allreduce(g, buf, floats, 0);
        rn_nccl_take_times(&comm, &copy);
        times[r] = comm;
    }
    CUDA_CHECK(cudaFree(buf));
}
