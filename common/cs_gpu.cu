/* The GPU side of common/: finding a device, describing it, checked and
 * tracked allocations, event timers, device-side profiler phases, and the
 * device's ceilings (copy bandwidth, SGEMM rate).
 *
 * Every CUDA and cuBLAS call is checked: a GPU error that is ignored shows up
 * much later as wrong numbers or a crash somewhere else, so the first failing
 * call stops the program with its file, line and the error's name (exit 3).
 * The one exception is the probe, where an error is an answer ("no device")
 * rather than a failure. */
#include "cs_cuda.cuh"

/* The C headers of common/ have no extern "C" guards of their own. */
extern "C" {
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_fault.h"
#include "cs_profiler.h"
#include "cs_stats.h"
}

#include <atomic>
#include <mutex>
#include <unordered_map>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs_gpu_built(void)
{
    return 1;
}

/* ---- Errors -------------------------------------------------------------- */

void cs_cuda_fail(cudaError_t err, const char *call, const char *file, int line)
{
    /* An allocation failure says so in plain words: the student's next step
     * (a smaller size) is different from that of any other CUDA error. */
    const char *oom = err == cudaErrorMemoryAllocation ? "out of device memory: " : "";
    fprintf(stderr, "%s: %s:%d: %sCUDA error in %s: %s (%s)\n", cs_prog(), file, line, oom, call,
            cudaGetErrorString(err), cudaGetErrorName(err));
    exit(3);
}

void cs_cublas_fail(cublasStatus_t st, const char *call, const char *file, int line)
{
    const char *oom = st == CUBLAS_STATUS_ALLOC_FAILED ? "out of device memory: " : "";
    fprintf(stderr, "%s: %s:%d: %scuBLAS error in %s: %s (%s)\n", cs_prog(), file, line, oom, call,
            cublasGetStatusString(st), cublasGetStatusName(st));
    exit(3);
}

/* ---- Probe and description ----------------------------------------------- */

static std::once_flag probe_once;
static int probe_found;        /* 1 when a device is usable */
static char probe_reason[160]; /* why not, when probe_found == 0 */

/* Runs once (std::call_once). Any error here means "no device", with the
 * error in the reason: a laptop without a driver (cudaErrorInsufficientDriver),
 * a container without the GPU passed in (cudaErrorNoDevice), a busy
 * exclusive-mode GPU... none of them is a reason to crash a CPU run. */
static void probe_now(void)
{
    /* Lets tests and students take the no-GPU path on a GPU machine.
     * Any value but "" and "0" disables. */
    const char *off = getenv("CS_DISABLE_GPU");
    if (off != NULL && off[0] != '\0' && strcmp(off, "0") != 0) {
        snprintf(probe_reason, sizeof probe_reason, "GPU disabled by CS_DISABLE_GPU");
        return;
    }

    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        /* Without a driver the runtime says "CUDA driver version is
         * insufficient for CUDA runtime version", which reads as "upgrade
         * the driver" on a machine with no GPU at all: say what it means. */
        const char *what = err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice
                               ? "no NVIDIA GPU or driver found"
                               : "the CUDA runtime found no usable device";
        snprintf(probe_reason, sizeof probe_reason, "no CUDA device: %s (cudaGetDeviceCount: %s)", what,
                 cudaGetErrorString(err));
        cudaGetLastError(); /* clear the error so later calls don't report it again */
        return;
    }
    if (count == 0) {
        snprintf(probe_reason, sizeof probe_reason, "no CUDA device: cudaGetDeviceCount found 0 devices");
        return;
    }

    /* The suite uses the current device: 0 unless the program chose another
     * before its first probe (lab_resnet ddp's ranks pick one GPU each, and
     * NCCL refuses two ranks on one device). cudaFree(0) is the idiom that
     * creates the context now, so its cost (often 100+ ms) is not charged to
     * the first variant that touches the GPU, and a device that cannot host
     * a context is found here rather than mid-run. */
    int dev = 0;
    err = cudaGetDevice(&dev);
    if (err == cudaSuccess) err = cudaSetDevice(dev);
    if (err == cudaSuccess) {
        err = cudaFree(0);
        if (err != cudaSuccess) {
            snprintf(probe_reason, sizeof probe_reason, "no CUDA device: cudaFree(0): %s", cudaGetErrorString(err));
        }
    } else {
        snprintf(probe_reason, sizeof probe_reason, "no CUDA device: cudaSetDevice(%d): %s", dev,
                 cudaGetErrorString(err));
    }
    if (err != cudaSuccess) {
        cudaGetLastError();
        return;
    }
    probe_found = 1;
}

int cs_gpu_probe(char *why, size_t len)
{
    std::call_once(probe_once, probe_now);
    if (why != NULL && len > 0) snprintf(why, len, "%s", probe_found ? "" : probe_reason);
    return probe_found;
}

/* The driver and runtime encode versions as 1000*major + 10*minor. */
static void format_cuda_version(int v, char *buf, size_t len)
{
    snprintf(buf, len, "%d.%d", v / 1000, (v % 1000) / 10);
}

void cs_gpu_describe(cs_sysinfo *s)
{
    char why[sizeof s->gpu_name];
    s->gpu_present = cs_gpu_probe(why, sizeof why);
    s->gpu_mem = 0;
    s->gpu_cc = 0;
    s->gpu_sms = 0;
    s->gpu_driver[0] = '\0';
    s->cuda_runtime[0] = '\0';
    if (!s->gpu_present) {
        snprintf(s->gpu_name, sizeof s->gpu_name, "%s", why);
        /* The runtime this program was linked with is known even without a
         * device; there is no driver version to ask for. */
        int runtime = 0;
        if (cudaRuntimeGetVersion(&runtime) == cudaSuccess)
            format_cuda_version(runtime, s->cuda_runtime, sizeof s->cuda_runtime);
        cudaGetLastError();
        return;
    }

    cudaDeviceProp prop;
    int dev = 0;
    CUDA_CHECK(cudaGetDevice(&dev)); /* the one the probe used */
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    /* prop.name has room for 256 characters; real names are far shorter. */
    snprintf(s->gpu_name, sizeof s->gpu_name, "%.*s", (int)sizeof s->gpu_name - 1, prop.name);
    s->gpu_mem = prop.totalGlobalMem;
    s->gpu_cc = prop.major * 10 + prop.minor;
    s->gpu_sms = prop.multiProcessorCount;

    int driver = 0, runtime = 0;
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    format_cuda_version(driver, s->gpu_driver, sizeof s->gpu_driver);
    format_cuda_version(runtime, s->cuda_runtime, sizeof s->cuda_runtime);
}

void cs_gpu_sync(void)
{
    /* Without a device there is nothing to wait for (and the call would
     * fail): this keeps the function safe as a runner's sync hook. */
    if (!cs_gpu_probe(NULL, 0)) return;
    CUDA_CHECK(cudaDeviceSynchronize());
}

/* ---- Tracked device memory ----------------------------------------------- */

/* cudaMalloc returns no room for a header in front of the block (as
 * cs_alloc does on the host: device memory is not ours to write from the
 * host), so the size of each live block is kept in a host-side table keyed by
 * the pointer. The mutex guards the table; the counters are atomic so they
 * can be read without taking it. */
static std::mutex tracked_mutex;
static std::unordered_map<void *, size_t> tracked_blocks;
static std::atomic<size_t> tracked_live{0};
static std::atomic<size_t> tracked_peak{0};

void *cs_gpu_malloc_at(size_t bytes, const char *what, const char *file, int line)
{
    void *p = NULL;
    /* The tests' faults (CS_FAULT_INJECT): gpu_oom asks for more than any
     * device holds, the real out-of-memory path; gpu_error fails as a
     * runtime error would (a launch failure reported at the next call). */
    if (cs_fault_injected("gpu_oom")) bytes = (size_t)1 << 62;
    if (cs_fault_injected("gpu_error")) cs_cuda_fail(cudaErrorLaunchFailure, "cudaMalloc (injected)", file, line);
    cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError(); /* clear it, so cudaMemGetInfo below does not fail */
        size_t free_b = 0, total_b = 0;
        CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
        fprintf(stderr,
                "%s: out of device memory: asked for %zu bytes for %s "
                "(free %zu of %zu bytes) at %s:%d\n",
                cs_prog(), bytes, what ? what : "(unnamed)", free_b, total_b, file, line);
        exit(3);
    }
    if (err != cudaSuccess) cs_cuda_fail(err, "cudaMalloc", file, line);
    if (p == NULL) return NULL; /* bytes == 0: nothing to track */

    std::lock_guard<std::mutex> lock(tracked_mutex);
    tracked_blocks[p] = bytes;
    size_t live = tracked_live += bytes;
    if (live > tracked_peak) tracked_peak = live; /* under the mutex: no race */
    return p;
}

void cs_gpu_free(void *p)
{
    if (p == NULL) return;
    {
        std::lock_guard<std::mutex> lock(tracked_mutex);
        auto it = tracked_blocks.find(p);
        if (it == tracked_blocks.end()) {
            /* A double free or a pointer from plain cudaMalloc: a bug to fix,
             * not something to paper over. */
            fprintf(stderr,
                    "%s: cs_gpu_free: %p was not allocated by cs_gpu_malloc "
                    "(or was freed twice)\n",
                    cs_prog(), p);
            exit(3);
        }
        tracked_live -= it->second;
        tracked_blocks.erase(it);
    }
    CUDA_CHECK(cudaFree(p));
}

size_t cs_gpu_tracked_bytes(void)
{
    return tracked_live;
}
size_t cs_gpu_tracked_peak(void)
{
    return tracked_peak;
}

void cs_gpu_tracked_reset_peak(void)
{
    std::lock_guard<std::mutex> lock(tracked_mutex);
    tracked_peak = tracked_live.load();
}

size_t cs_gpu_used_bytes(void)
{
    if (!cs_gpu_probe(NULL, 0)) return 0;
    /* Includes the context, cuBLAS's workspace and other processes' memory:
     * the device's view, next to the tracked bytes (this program's arrays). */
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    return total_b - free_b;
}

/* ---- Pinned host memory -------------------------------------------------- */

void *cs_host_pinned_alloc_at(size_t bytes, const char *what, const char *file, int line)
{
    void *p = NULL;
    cudaError_t err = cudaMallocHost(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        fprintf(stderr, "%s: out of pinned host memory: asked for %zu bytes for %s at %s:%d\n", cs_prog(), bytes,
                what ? what : "(unnamed)", file, line);
        exit(3);
    }
    if (err != cudaSuccess) cs_cuda_fail(err, "cudaMallocHost", file, line);
    return p;
}

void cs_host_pinned_free(void *p)
{
    if (p == NULL) return;
    CUDA_CHECK(cudaFreeHost(p));
}

/* ---- cuBLAS handle ------------------------------------------------------- */

static std::once_flag cublas_once;
static cublasHandle_t cublas_handle;
static int cublas_created;

static void cublas_create(void)
{
    CUBLAS_CHECK(cublasCreate(&cublas_handle));
    /* alpha and beta are host floats (the default, made explicit). */
    CUBLAS_CHECK(cublasSetPointerMode(cublas_handle, CUBLAS_POINTER_MODE_HOST));
    /* Full FP32 arithmetic: no TF32 tensor-core shortcut, which would round
     * the inputs to 10 mantissa bits and fail the suite's float tolerances. */
    CUBLAS_CHECK(cublasSetMathMode(cublas_handle, CUBLAS_DEFAULT_MATH));
    /* Destroyed by cs_gpu_release() at the end of main, not in an atexit
     * handler, which could run after the CUDA runtime has been torn down. */
    cublas_created = 1;
}

cublasHandle_t cs_cublas(void)
{
    /* Creating a handle costs milliseconds and allocates device memory:
     * once per process, on first use. */
    std::call_once(cublas_once, cublas_create);
    return cublas_handle;
}

/* ---- Event timers -------------------------------------------------------- */

void cs_gpu_timer_create(cs_gpu_timer *t)
{
    CUDA_CHECK(cudaEventCreate(&t->start));
    CUDA_CHECK(cudaEventCreate(&t->stop));
}

void cs_gpu_timer_destroy(cs_gpu_timer *t)
{
    CUDA_CHECK(cudaEventDestroy(t->start));
    CUDA_CHECK(cudaEventDestroy(t->stop));
}

void cs_gpu_timer_start(cs_gpu_timer *t, cudaStream_t s)
{
    CUDA_CHECK(cudaEventRecord(t->start, s));
}
void cs_gpu_timer_stop(cs_gpu_timer *t, cudaStream_t s)
{
    CUDA_CHECK(cudaEventRecord(t->stop, s));
}

double cs_gpu_timer_seconds(cs_gpu_timer *t)
{
    /* The events are timestamps taken by the GPU when the stream reaches
     * them, so this measures the device's work, not the host's launch calls. */
    float ms = 0.0f;
    CUDA_CHECK(cudaEventSynchronize(t->stop));
    CUDA_CHECK(cudaEventElapsedTime(&ms, t->start, t->stop));
    return ms * 1e-3;
}

/* ---- Device-side profiler phases ----------------------------------------- */

/* Phases pending since the last flush, in begin order; a handle is an index
 * here. Event pairs are created on first use and reused after each flush
 * (creating events in a timed loop would cost more than what they time).
 * Single-threaded, like the profiler itself. */
typedef struct {
    const char *name;
    int ended; /* cs_gpu_phase_end was called */
} gpu_phase;

static gpu_phase phases[CS_GPU_PHASE_MAX];
static cs_gpu_timer phase_events[CS_GPU_PHASE_MAX];
static int phases_created; /* event pairs created so far */
static int phases_pending; /* phases begun since the last flush */

int cs_gpu_phase_begin(const char *name, cudaStream_t s)
{
    if (!cs_prof_enabled()) return -1;
    if (phases_pending == CS_GPU_PHASE_MAX) {
        fprintf(stderr,
                "%s: more than %d GPU phases pending: call cs_gpu_phases_flush() "
                "more often\n",
                cs_prog(), CS_GPU_PHASE_MAX);
        exit(3);
    }
    int h = phases_pending++;
    if (h == phases_created) {
        cs_gpu_timer_create(&phase_events[h]);
        phases_created++;
    }
    phases[h].name = name;
    phases[h].ended = 0;
    cs_gpu_timer_start(&phase_events[h], s);
    return h;
}

void cs_gpu_phase_end(int handle, cudaStream_t s)
{
    if (handle < 0 || handle >= phases_pending) return; /* -1: profiler was off */
    cs_gpu_timer_stop(&phase_events[handle], s);
    phases[handle].ended = 1;
}

void cs_gpu_phases_flush(void)
{
    for (int i = 0; i < phases_pending; i++) {
        if (!phases[i].ended) {
            cs_warn("GPU phase \"%s\" was begun but never ended: not counted", phases[i].name);
            continue;
        }
        cs_prof_add(phases[i].name, cs_gpu_timer_seconds(&phase_events[i]));
    }
    phases_pending = 0;
}

void cs_gpu_release(void)
{
    if (cublas_created) {
        CUBLAS_CHECK(cublasDestroy(cublas_handle));
        cublas_created = 0; /* cs_cublas() after this is a bug: call_once won't re-create */
    }
    for (int i = 0; i < phases_created; i++) cs_gpu_timer_destroy(&phase_events[i]);
    phases_created = 0;
    phases_pending = 0;
}

/* ---- Ceilings ------------------------------------------------------------ */

/* A value pattern for the SGEMM inputs. Not zeros: a GPU multiplying zeros
 * draws less power and may clock higher than with real data. */
static __global__ void fill_pattern(float *x, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = (float)((unsigned)(i * 2654435761u) >> 24) / 256.0f - 0.5f;
}

static void fill_device(float *x, size_t n)
{
    const int threads = 256;
    fill_pattern<<<(unsigned)((n + threads - 1) / threads), threads>>>(x, n);
    CUDA_CHECK_LAUNCH();
}

/* Device-to-device copy bandwidth, counting bytes read + written: the
 * figure to hold a streaming kernel against. Best of several, since a
 * ceiling is what the device can do, not what it usually does. */
static double measure_d2d_gbs(size_t bytes)
{
    void *src = NULL, *dst = NULL;
    /* Scratch for the measurement, not the case's data: plain cudaMalloc,
     * so the tracked figures stay the case's own. */
    CUDA_CHECK(cudaMalloc(&src, bytes));
    CUDA_CHECK(cudaMalloc(&dst, bytes));
    CUDA_CHECK(cudaMemset(src, 1, bytes));
    CUDA_CHECK(cudaMemset(dst, 0, bytes));

    cs_gpu_timer t;
    cs_gpu_timer_create(&t);
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice)); /* warm-up */
    double best = 0.0;
    for (int r = 0; r < 5; r++) {
        cs_gpu_timer_start(&t, 0);
        CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
        cs_gpu_timer_stop(&t, 0);
        double s = cs_gpu_timer_seconds(&t);
        if (r == 0 || s < best) best = s;
    }
    cs_gpu_timer_destroy(&t);
    CUDA_CHECK(cudaFree(src));
    CUDA_CHECK(cudaFree(dst));
    return best > 0.0 ? 2.0 * (double)bytes / 1e9 / best : 0.0;
}

/* cuBLAS SGEMM rate on n x n matrices: 2 n^3 floating-point operations
 * (one multiply and one add per term) per call. */
static double measure_sgemm_gflops(int n)
{
    size_t elems = (size_t)n * (size_t)n;
    float *a = NULL, *b = NULL, *c = NULL;
    CUDA_CHECK(cudaMalloc(&a, elems * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&b, elems * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&c, elems * sizeof(float)));
    fill_device(a, elems);
    fill_device(b, elems);

    cs_gpu_timer t;
    cs_gpu_timer_create(&t);
    /* Warm-up: the first call loads cuBLAS's kernels and picks an algorithm. */
    cs_gemm_cublas(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n, 0);
    enum { REPEATS = 5 };
    double secs[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        cs_gpu_timer_start(&t, 0);
        cs_gemm_cublas(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n, 0);
        cs_gpu_timer_stop(&t, 0);
        secs[r] = cs_gpu_timer_seconds(&t);
    }
    cs_gpu_timer_destroy(&t);
    CUDA_CHECK(cudaFree(a));
    CUDA_CHECK(cudaFree(b));
    CUDA_CHECK(cudaFree(c));
    double s = cs_median(secs, REPEATS);
    return s > 0.0 ? 2.0 * (double)n * n * n / 1e9 / s : 0.0;
}

void cs_measure_gpu_ceilings(cs_gpu_ceilings *c, int quick)
{
    memset(c, 0, sizeof *c);
    if (!cs_gpu_probe(NULL, 0)) return;
    /* Large enough to dwarf the caches (50 MB of L2 on an H100) and the
     * per-call overhead. */
    size_t bytes = (quick ? 64u : 256u) << 20;
    c->mem_bw_gbs = measure_d2d_gbs(bytes);
    c->sgemm_n = quick ? 2048 : 4096;
    c->sgemm_gflops = measure_sgemm_gflops(c->sgemm_n);
    c->h2d_pinned_gbs = cs_gpu_copy_gbs(bytes, 1, 1, 5);
}

/* ---- Host-device copy bandwidth ------------------------------------------ */

double cs_gpu_copy_gbs(size_t bytes, int pinned, int h2d, int repeats)
{
    if (bytes == 0 || !cs_gpu_probe(NULL, 0)) return 0.0;
    if (repeats < 1) repeats = 1;

    void *host = NULL;
    if (pinned) {
        host = cs_host_pinned_alloc(bytes, "copy bandwidth buffer");
    } else {
        host = malloc(bytes);
        if (host == NULL) {
            fprintf(stderr, "%s: out of memory: asked for %zu bytes for copy bandwidth buffer\n", cs_prog(), bytes);
            exit(3);
        }
    }
    /* Touch every page, so the first copy does not also pay for the OS
     * handing the pages out. */
    memset(host, 1, bytes);
    void *dev = NULL;
    CUDA_CHECK(cudaMalloc(&dev, bytes)); /* measurement scratch: untracked */

    /* Timed on the host clock around the copy and a synchronize, for both
     * kinds. A pageable copy goes through the driver's pinned staging buffer:
     * the CPU copying into or out of it is part of the cost, and events on
     * the stream time only the device's DMA. The same clock for both kinds
     * keeps pinned and pageable comparable. */
    double *secs = (double *)malloc((size_t)repeats * sizeof *secs);
    if (secs == NULL) {
        fprintf(stderr, "%s: out of memory: asked for %d timings\n", cs_prog(), repeats);
        exit(3);
    }
    for (int r = -1; r < repeats; r++) { /* r == -1: the warm-up, not kept */
        double t0 = cs_now();
        if (h2d)
            CUDA_CHECK(cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice));
        else
            CUDA_CHECK(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaDeviceSynchronize());
        double s = cs_now() - t0;
        if (r >= 0) secs[r] = s;
    }
    double median = cs_median(secs, repeats);
    free(secs);

    CUDA_CHECK(cudaFree(dev));
    if (pinned)
        cs_host_pinned_free(host);
    else
        free(host);
    return median > 0.0 ? (double)bytes / 1e9 / median : 0.0;
}
