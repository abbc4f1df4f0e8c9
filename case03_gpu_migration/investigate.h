/* Step 4 of case03: measurements that test the hypothesis.
 *  - bandwidth sweep: host<->device copies, pageable vs pinned, H2D and D2H,
 *    from KB to hundreds of MB (and host memcpy for scale);
 *  - size sweep: one n x n product timed on the CPU (blocked), on the GPU
 *    (compute only) and on the GPU including the transfers of A, B and C;
 *    the crossover is the smallest n from which the GPU with transfers wins
 *    (and keeps winning). */
#ifndef C3_INVESTIGATE_H
#define C3_INVESTIGATE_H

#include <stddef.h>

#define C3_SWEEP_MAX 24

typedef struct {
    int npoints;
    size_t bytes[C3_SWEEP_MAX];
    double host_memcpy_gbs[C3_SWEEP_MAX];
    double h2d_pageable_gbs[C3_SWEEP_MAX]; /* 0 when no GPU */
    double h2d_pinned_gbs[C3_SWEEP_MAX];
    double d2h_pageable_gbs[C3_SWEEP_MAX];
    double d2h_pinned_gbs[C3_SWEEP_MAX];
    int gpu; /* GPU columns measured */
} c3_bandwidth_sweep;

typedef struct {
    int npoints;
    int n[C3_SWEEP_MAX];
    double cpu_s[C3_SWEEP_MAX];         /* cpu_blocked GEMM */
    double gpu_compute_s[C3_SWEEP_MAX]; /* 0 when no GPU */
    double gpu_total_s[C3_SWEEP_MAX];   /* H2D A,B + GEMM + D2H C, pinned */
    int gpu;
    int crossover; /* 0: GPU never wins (or no GPU) */
} c3_size_sweep;

#ifdef __cplusplus
extern "C" {
#endif

/* max_bytes: largest copy; gpu: measure the device columns. */
void c3_bandwidth_sweep_run(c3_bandwidth_sweep *s, size_t max_bytes, int gpu);
/* Sizes 16, 32, ..., max_n (powers of two). */
void c3_size_sweep_run(c3_size_sweep *s, int max_n, int gpu);

#ifdef CS_HAVE_CUDA
/* One n x n SGEMM on the device: compute-only seconds (cuBLAS, events) and
 * seconds including pinned H2D of A and B and D2H of C; medians of repeats. */
void c3_gpu_time_gemm(int n, int repeats, double *compute_s, double *total_s);
#endif
#ifdef __cplusplus
}
#endif

#endif
