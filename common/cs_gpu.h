/* The GPU side of common/, callable from C. In builds without CUDA these
 * functions exist too (cs_gpu_none.c): the probe says why there is no GPU.
 *
 * CUDA-only helpers (error checks, cuBLAS GEMM, event timers) are in
 * cs_cuda.cuh, included by .cu files. */
#ifndef CS_GPU_H
#define CS_GPU_H

#include <stddef.h>
#include "cs_sysinfo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when CUDA support was compiled in. */
int cs_gpu_built(void);

/* 1 when a CUDA device is usable. Otherwise 0, with the reason in why:
 * "CUDA was not built (no CUDA compiler found, or -DCS_WITH_CUDA=OFF)" or
 * "no CUDA device: no NVIDIA GPU or driver found (cudaGetDeviceCount:
 * <error string>)" (any error there, e.g. cudaErrorInsufficientDriver on a
 * machine without a driver, counts as no device). The result is cached. */
int cs_gpu_probe(char *why, size_t len);

/* Fills the GPU fields of s (name, memory, CC, SMs, driver, runtime). */
void cs_gpu_describe(cs_sysinfo *s);

/* cudaDeviceSynchronize with error check (no-op without CUDA). Usable as a
 * cs_sync_fn for the runner. */
void cs_gpu_sync(void);

/* Device memory: bytes live and peak through cs_gpu_malloc, and the
 * device's used bytes (total - free from cudaMemGetInfo). */
size_t cs_gpu_tracked_bytes(void);
size_t cs_gpu_tracked_peak(void);
void cs_gpu_tracked_reset_peak(void);
size_t cs_gpu_used_bytes(void);

/* Device ceilings, measured once: device-to-device copy bandwidth (GB/s,
 * bytes read + written), cuBLAS SGEMM GFLOP/s at n = 4096 (2048 quick),
 * pinned host-to-device bandwidth (GB/s) at 256 MiB (64 MiB quick). */
typedef struct {
    double mem_bw_gbs;
    double sgemm_gflops;
    int sgemm_n;
    double h2d_pinned_gbs;
} cs_gpu_ceilings;
void cs_measure_gpu_ceilings(cs_gpu_ceilings *c, int quick);

/* Host-device copy bandwidth in GB/s for one size: median of repeats.
 * pinned: cudaMallocHost buffer, else malloc'ed (pageable). h2d: host to
 * device, else device to host. Returns 0 without CUDA. */
double cs_gpu_copy_gbs(size_t bytes, int pinned, int h2d, int repeats);

/* Checks the cuBLAS GEMM backend (cs_cuda.cuh, not callable from C) against
 * a float64 host reference: the four transpose combinations on non-square
 * matrices with padded strides and beta != 0, beta == 0 over a C full of
 * NaN, and the strided-batched form. *rel_err: the worst
 * max|C - ref| / max|ref| over the checks. Returns 0 when all are within
 * 1e-5 and no element outside C was written, 1 when not (one line on stderr
 * per failing check), -1 when no GPU is usable or CUDA was not built. */
int cs_gpu_selftest_gemm(double *rel_err);

/* Frees what the library holds on the device for the whole process (the
 * cuBLAS handle and its workspace, the profiler's event pairs). Call it at
 * the end of main, after the last GPU work, so that memory checkers such as
 * compute-sanitizer --leak-check see every allocation returned. Safe to
 * call when nothing was created or CUDA was not built. */
void cs_gpu_release(void);

#ifdef __cplusplus
}
#endif

#endif
