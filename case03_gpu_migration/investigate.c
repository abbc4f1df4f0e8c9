/* Step 4: the bandwidth sweep and the size sweep (see investigate.h). */
#include "investigate.h"

#include <stdlib.h>
#include <string.h>

#include "cs_ceilings.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gpu.h"
#include "cs_memory.h"
#include "cs_stats.h"

/* Host memcpy rate for one size: enough copies per sample that a sample
 * lasts well over the clock's resolution, median of 5 samples. */
static double host_memcpy_gbs(size_t bytes)
{
    char *src = cs_alloc(bytes, "bandwidth sweep source");
    char *dst = cs_alloc(bytes, "bandwidth sweep destination");
    memset(src, 1, bytes);
    memset(dst, 0, bytes);
    size_t copies = (64u << 20) / bytes;
    if (copies < 1) copies = 1;
    double t[5];
    for (int r = 0; r < 5; r++) {
        double t0 = cs_now();
        for (size_t c = 0; c < copies; c++) {
            memcpy(dst, src, bytes);
            __asm__ volatile("" : : "r"(dst) : "memory"); /* keep every copy */
        }
        t[r] = (cs_now() - t0) / copies;
    }
    cs_free(src);
    cs_free(dst);
    return bytes / 1e9 / cs_median(t, 5);
}

void c3_bandwidth_sweep_run(c3_bandwidth_sweep *s, size_t max_bytes, int gpu)
{
    memset(s, 0, sizeof *s);
    s->gpu = gpu;
    for (size_t b = 4096; b <= max_bytes && s->npoints < C3_SWEEP_MAX; b *= 4) {
        int i = s->npoints++;
        int repeats = b >= (64u << 20) ? 3 : 5;
        cs_progress("bandwidth sweep: %zu KiB", b >> 10);
        s->bytes[i] = b;
        s->host_memcpy_gbs[i] = host_memcpy_gbs(b);
        if (gpu) {
            s->h2d_pageable_gbs[i] = cs_gpu_copy_gbs(b, 0, 1, repeats);
            s->h2d_pinned_gbs[i] = cs_gpu_copy_gbs(b, 1, 1, repeats);
            s->d2h_pageable_gbs[i] = cs_gpu_copy_gbs(b, 0, 0, repeats);
            s->d2h_pinned_gbs[i] = cs_gpu_copy_gbs(b, 1, 0, repeats);
        }
    }
    cs_progress_done();
}

void c3_size_sweep_run(c3_size_sweep *s, int max_n, int gpu)
{
    memset(s, 0, sizeof *s);
    s->gpu = gpu;
    for (int n = 16; n <= max_n && s->npoints < C3_SWEEP_MAX; n *= 2) {
        int i = s->npoints++;
        double flops = 2.0 * n * n * n;
        /* big products take seconds on a CPU: fewer repeats there */
        int repeats = flops > 2e10 ? 1 : flops > 1e9 ? 3 : 7;
        cs_progress("size sweep: n = %d", n);
        s->n[i] = n;
        s->cpu_s[i] = flops / 1e9 / cs_time_gemm_gflops(CS_GEMM_BLOCKED, n, repeats);
#ifdef CS_HAVE_CUDA
        if (gpu) c3_gpu_time_gemm(n, repeats < 3 ? 3 : repeats, &s->gpu_compute_s[i], &s->gpu_total_s[i]);
#endif
    }
    cs_progress_done();
    /* The crossover: the smallest n from which the GPU, transfers included,
     * is faster at every larger size measured. */
    s->crossover = 0;
    if (gpu) {
        for (int i = s->npoints - 1; i >= 0 && s->gpu_total_s[i] < s->cpu_s[i]; i--) s->crossover = s->n[i];
    }
}

/* The crossover hybrid uses (variants.h). */
static int crossover_n, crossover_forced;
void c3_set_crossover(int n)
{
    if (!crossover_forced) crossover_n = n; /* --crossover wins over a measurement */
}
void c3_force_crossover(int n)
{
    crossover_n = n;
    crossover_forced = 1;
}
int c3_crossover_forced(void)
{
    return crossover_forced;
}
int c3_get_crossover(void)
{
    return crossover_n;
}
