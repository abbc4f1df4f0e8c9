/* The GPU backend: the table of backend.h filled with the CUDA operations of
 * gpu_conv.cu and gpu_layers.cu, the backend's one stream, host <-> device
 * copies, profiler regions as CUDA events, and the device memory the arena
 * takes (device_mem.h).
 *
 * One stream for everything: the model issues its operations in order and
 * each depends on the one before, so a second stream would buy no overlap,
 * only the duty to order the two by hand. The host thread only enqueues; it
 * waits in to_host (to read the loss), sync, regions_flush, rn_device_zero
 * and rn_device_free, and nowhere else. */
#include "cs_cuda.cuh"
#include <nvtx3/nvToolsExt.h> /* header-only NVTX v3, from the CUDA toolkit */
#include "gpu_kernels.cuh"
#include "device_mem.h"
extern "C" {
#include "cs_console.h"
#include "cs_memory.h"
}

#include <cstdlib>
#include <mutex>

namespace
{

std::once_flag stream_once;
cudaStream_t backend_stream;
bool stream_created;

/* A blocking stream (default flags), not cudaStreamNonBlocking: work on it
 * still waits for, and is waited for by, the legacy default stream, so a
 * plain cudaMemcpy elsewhere in the program (a test, a checkpoint) sees the
 * backend's results without an explicit sync. The cuBLAS handle for the
 * stream is made here, at setup, so its creation (milliseconds) lands in no
 * timed region. */
void create_stream(void)
{
    CUDA_CHECK(cudaStreamCreate(&backend_stream));
    (void)cs_cublas_for_stream(backend_stream);
    stream_created = true;
}

void release_marks_and_input(void);

/* The end of the program: cuDNN's handle and plans, the stream's cuBLAS
 * handle, the stream; so a leak check sees nothing held. Only if the
 * backend was ever used. */
void gpu_release(void)
{
    if (!stream_created) return;
    CUDA_CHECK(cudaStreamSynchronize(backend_stream));
    release_marks_and_input();
    rn_gpu_conv_release();
    rn_gpu_fused_release();
    cs_cublas_release_stream(backend_stream);
    rn_gpu_graph_release();
    CUDA_CHECK(cudaStreamDestroy(backend_stream));
    stream_created = false;
}

/* Copies: asynchronous on the stream, then a wait, so that they keep
 * memcpy's contract (the host buffer may be reused, or read, on return).
 * to_host must wait anyway to be read; to_backend from pinned memory would
 * otherwise still be reading the buffer when the loader refills it. */
void gpu_to_backend(void *dst, const void *src_host, size_t bytes)
{
    if (bytes == 0) return;
    const cudaStream_t s = rn_gpu_stream();
    CUDA_CHECK(cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
}

void gpu_to_host(void *dst_host, const void *src, size_t bytes)
{
    if (bytes == 0) return;
    const cudaStream_t s = rn_gpu_stream();
    CUDA_CHECK(cudaMemcpyAsync(dst_host, src, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
}

void gpu_sync(void)
{
    CUDA_CHECK(cudaStreamSynchronize(rn_gpu_stream()));
}

/* Profiler regions: a pair of events on the stream, so a region measures
 * the device's time for the work enqueued inside it, and starting or ending
 * one never makes the host wait. The flush (after the work) waits and adds
 * every pending region to the profiler. */
int gpu_region_begin(const char *name)
{
    int h = cs_gpu_phase_begin(name, rn_gpu_stream());
    if (h >= 0) nvtxRangePushA(name); /* the same name on Nsight Systems' timeline */
    return h;
}

void gpu_region_end(int handle)
{
    if (handle >= 0) nvtxRangePop();
    cs_gpu_phase_end(handle, rn_gpu_stream());
}

void gpu_regions_flush(void)
{
    cs_gpu_phases_flush();
}

/* Marks: one event per point, recorded on the stream; read after the
 * step's own wait (the loss), so reading them waits for nothing more. */
cudaEvent_t mark_events[RN_MAX_MARKS];
bool marks_created;

void gpu_mark(int i)
{
    if (i < 0 || i >= RN_MAX_MARKS) return;
    if (!marks_created) {
        for (cudaEvent_t &e : mark_events) CUDA_CHECK(cudaEventCreate(&e));
        marks_created = true;
    }
    CUDA_CHECK(cudaEventRecord(mark_events[i], rn_gpu_stream()));
}

void gpu_marks_read(double *t, int n)
{
    if (!marks_created || n < 1) return;
    if (n > RN_MAX_MARKS) n = RN_MAX_MARKS;
    CUDA_CHECK(cudaEventSynchronize(mark_events[n - 1]));
    t[0] = 0.0;
    for (int i = 1; i < n; i++) {
        float ms = 0.0f;
        CUDA_CHECK(cudaEventElapsedTime(&ms, mark_events[0], mark_events[i]));
        t[i] = ms * 1e-3;
    }
}

/* The asynchronous input: a second stream for the copies, and per slot an
 * event for "copied" (on the copy stream) and one for "released" (on the
 * compute stream). Non-blocking: the copy stream must not wait for the
 * legacy default stream, or nothing would overlap. An event never recorded
 * counts as complete, so the first copy into a slot waits for nothing. */
cudaStream_t copy_stream;
cudaEvent_t copied_event[2], released_event[2];
bool input_created;

/* Staging for the loader's workers: page-locked when asked (the DMA engine
 * reads it directly; from pageable memory the driver first copies into a
 * pinned bounce buffer of its own, and the copy cannot be asynchronous). */
void *gpu_host_alloc(size_t bytes, int pinned, const char *what)
{
    if (!pinned) return cs_alloc(bytes, what);
    void *p = NULL;
    cudaError_t e = cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocDefault);
    if (e != cudaSuccess) {
        cs_error("%s: cudaHostAlloc of %zu bytes failed: %s", what ? what : "pinned staging", bytes,
                 cudaGetErrorString(e));
        exit(3);
    }
    return p;
}

void gpu_host_free(void *p, int pinned)
{
    if (p == NULL) return;
    if (!pinned) {
        cs_free(p);
        return;
    }
    /* No copy may still read it: the copies run on the copy stream. */
    CUDA_CHECK(cudaStreamSynchronize(rn_gpu_stream()));
    if (input_created) CUDA_CHECK(cudaStreamSynchronize(copy_stream));
    CUDA_CHECK(cudaFreeHost(p));
}

void create_input(void)
{
    if (input_created) return;
    CUDA_CHECK(cudaStreamCreateWithFlags(&copy_stream, cudaStreamNonBlocking));
    for (int i = 0; i < 2; i++) {
        CUDA_CHECK(cudaEventCreateWithFlags(&copied_event[i], cudaEventDisableTiming));
        CUDA_CHECK(cudaEventCreateWithFlags(&released_event[i], cudaEventDisableTiming));
    }
    input_created = true;
}

void gpu_input_copy(int slot, void *dst, const void *src_pinned, size_t bytes)
{
    create_input();
    slot &= 1;
    CUDA_CHECK(cudaStreamWaitEvent(copy_stream, released_event[slot], 0));
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src_pinned, bytes, cudaMemcpyHostToDevice, copy_stream));
    CUDA_CHECK(cudaEventRecord(copied_event[slot], copy_stream));
}

void gpu_input_acquire(int slot)
{
    create_input();
    CUDA_CHECK(cudaStreamWaitEvent(rn_gpu_stream(), copied_event[slot & 1], 0));
}

void gpu_input_release(int slot)
{
    create_input();
    CUDA_CHECK(cudaEventRecord(released_event[slot & 1], rn_gpu_stream()));
}

void gpu_input_copied(int slot)
{
    create_input();
    CUDA_CHECK(cudaEventSynchronize(copied_event[slot & 1]));
}

void release_marks_and_input(void)
{
    if (marks_created)
        for (cudaEvent_t e : mark_events) CUDA_CHECK(cudaEventDestroy(e));
    marks_created = false;
    if (!input_created) return;
    CUDA_CHECK(cudaStreamSynchronize(copy_stream));
    for (int i = 0; i < 2; i++) {
        CUDA_CHECK(cudaEventDestroy(copied_event[i]));
        CUDA_CHECK(cudaEventDestroy(released_event[i]));
    }
    CUDA_CHECK(cudaStreamDestroy(copy_stream));
    input_created = false;
}

std::once_flag table_once;
rn_backend table;

void fill_table(void)
{
    table.name = "gpu";
    table.on_device = 1;
    table.conv_work_floats = rn_gpu_conv_work_floats;
    table.conv_algo = rn_gpu_conv_algo;
    table.conv_forward = rn_gpu_conv_forward;
    table.conv_backward = rn_gpu_conv_backward;
    table.bn_forward_train = rn_gpu_act_bn_forward_train; /* float, or 16-bit NHWC (act16) */
    table.bn_forward_eval = rn_gpu_act_bn_forward_eval;
    table.bn_backward = rn_gpu_act_bn_backward;
    table.bn_backward_bits = rn_gpu_bn_backward_bits;
    table.relu_forward = rn_gpu_act_relu_forward;
    table.relu_backward = rn_gpu_act_relu_backward;
    table.add = rn_gpu_act_add;
    table.maxpool_forward = rn_gpu_act_maxpool_forward;
    table.maxpool_backward = rn_gpu_act_maxpool_backward;
    table.avgpool_forward = rn_gpu_act_avgpool_forward;
    table.avgpool_backward = rn_gpu_act_avgpool_backward;
    table.linear_forward = rn_gpu_linear_forward;
    table.linear_backward = rn_gpu_linear_backward;
    table.xent = rn_gpu_xent;
    table.adam = rn_gpu_adam;
    table.round_to = rn_gpu_round_to;
    table.pack = rn_gpu_pack;
    table.conv_math = rn_gpu_conv_math;
    table.grad_accumulate = rn_gpu_grad_accumulate;
    table.unpack = rn_gpu_unpack;
    table.round_outputs = rn_gpu_round_outputs;
    table.act16_ok = rn_gpu_act16_ok;
    table.act16 = rn_gpu_act16;
    table.act16_pack = rn_gpu_act16_pack;
    table.scale = rn_gpu_scale;
    table.unscale_check = rn_gpu_unscale_check;
    table.scale_by = rn_gpu_scale_by;
    table.unscale_check_by = rn_gpu_unscale_check_by;
    table.adam_skip = rn_gpu_adam_skip;
    table.scaler_update = rn_gpu_scaler_update;
    table.bn_add_relu_forward_train = rn_gpu_bn_add_relu_forward_train;
    table.relu_bn_backward = rn_gpu_relu_bn_backward;
    table.bn_relu_maxpool_forward_train = rn_gpu_bn_relu_maxpool_forward_train;
    table.relu_maxpool_backward = rn_gpu_relu_maxpool_backward;
    table.adam_multi = rn_gpu_adam_multi;
    table.graph_begin = rn_gpu_graph_begin;
    table.graph_end = rn_gpu_graph_end;
    table.graph_launch = rn_gpu_graph_launch;
    table.graph_free = rn_gpu_graph_free;
    table.to_backend = gpu_to_backend;
    table.to_host = gpu_to_host;
    table.sync = gpu_sync;
    table.region_begin = gpu_region_begin;
    table.region_end = gpu_region_end;
    table.regions_flush = gpu_regions_flush;
    table.mark = gpu_mark;
    table.marks_read = gpu_marks_read;
    table.host_alloc = gpu_host_alloc;
    table.host_free = gpu_host_free;
    table.input_copy = gpu_input_copy;
    table.input_acquire = gpu_input_acquire;
    table.input_release = gpu_input_release;
    table.input_copied = gpu_input_copied;
    table.release = gpu_release;
}

} /* namespace */

cudaStream_t rn_gpu_stream(void)
{
    std::call_once(stream_once, create_stream);
    return backend_stream;
}

/* The table needs no device: the stream (and with it the CUDA context) is
 * made by the first operation, so a program can ask for the table, and for
 * its name, before it knows whether a GPU is there (cs_gpu_probe says). */
extern "C" const rn_backend *rn_gpu_backend(void)
{
    std::call_once(table_once, fill_table);
    return &table;
}

/* ---- Device memory for the arena (device_mem.h) ------------------------- */

extern "C" void *rn_device_alloc(size_t bytes, const char *what)
{
    return cs_gpu_malloc_at(bytes, what, __FILE__, __LINE__);
}

/* Waits for the stream first: a buffer is given back when the model is done
 * with it on the host's side, but kernels enqueued before may still be
 * reading it on the device. */
extern "C" void rn_device_free(void *p)
{
    if (p == NULL) return;
    CUDA_CHECK(cudaStreamSynchronize(rn_gpu_stream()));
    cs_gpu_free(p);
}

/* On the backend's stream (ordered before any kernel that reads the
 * buffer), then a wait, as device_mem.h promises. */
extern "C" void rn_device_zero(void *p, size_t bytes)
{
    if (p == NULL || bytes == 0) return;
    const cudaStream_t s = rn_gpu_stream();
    CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
}
