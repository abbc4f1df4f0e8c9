/* The GPU API of cs_gpu.h for builds without CUDA (no CUDA compiler at
 * configure time, or -DCS_WITH_CUDA=OFF). Every function exists, so the cases
 * need no #ifdef: the probe says why there is no GPU, the GPU variants are
 * skipped with that reason, and the figures are zeros. */
#include "cs_gpu.h"

#include <stdio.h>
#include <string.h>

#define NOT_BUILT "CUDA was not built (no CUDA compiler found, or -DCS_WITH_CUDA=OFF)"

int cs_gpu_built(void)
{
    return 0;
}

int cs_gpu_probe(char *why, size_t len)
{
    if (why != NULL && len > 0) snprintf(why, len, "%s", NOT_BUILT);
    return 0;
}

void cs_gpu_describe(cs_sysinfo *s)
{
    s->gpu_present = 0;
    snprintf(s->gpu_name, sizeof s->gpu_name, "%s", NOT_BUILT);
    s->gpu_mem = 0;
    s->gpu_cc = 0;
    s->gpu_sms = 0;
    s->gpu_driver[0] = '\0';
    s->cuda_runtime[0] = '\0';
}

void cs_gpu_sync(void) {}

size_t cs_gpu_tracked_bytes(void)
{
    return 0;
}
size_t cs_gpu_tracked_peak(void)
{
    return 0;
}
void cs_gpu_tracked_reset_peak(void) {}
size_t cs_gpu_used_bytes(void)
{
    return 0;
}

void cs_measure_gpu_ceilings(cs_gpu_ceilings *c, int quick)
{
    (void)quick;
    memset(c, 0, sizeof *c);
}

double cs_gpu_copy_gbs(size_t bytes, int pinned, int h2d, int repeats)
{
    (void)bytes;
    (void)pinned;
    (void)h2d;
    (void)repeats;
    return 0.0;
}

int cs_gpu_selftest_gemm(double *rel_err)
{
    if (rel_err != NULL) *rel_err = 0.0;
    return -1;
}

void cs_gpu_release(void) {}
