/* The GPU side on a real device (built in CUDA builds only; skipped, exit 77,
 * when no device is usable): the cuBLAS GEMM backend against a float64
 * reference (through cs_gpu_selftest_gemm, since cs_gemm_cublas is CUDA-only),
 * tracked device memory, and the measuring functions giving figures. */
#include "cs_gpu.h"
#include "cs_test.h"

#include <string.h>

int main(void)
{
    char why[256];
    if (!cs_gpu_probe(why, sizeof why)) return cs_test_skip_gpu(why);

    size_t live_before = cs_gpu_tracked_bytes();
    cs_gpu_tracked_reset_peak();
    double rel_err = -1.0;
    int rc = cs_gpu_selftest_gemm(&rel_err);
    printf("cuBLAS GEMM self-test: worst relative error %.3g\n", rel_err);
    CHECK(rc == 0);
    CHECK(rel_err >= 0.0 && rel_err < 1e-5);
    /* The self-test's device buffers went through cs_gpu_malloc and were all
     * freed: the live count is back, the peak saw them. */
    CHECK(cs_gpu_tracked_bytes() == live_before);
    CHECK(cs_gpu_tracked_peak() > live_before);
    cs_gpu_tracked_reset_peak();
    CHECK(cs_gpu_tracked_peak() == live_before);
    CHECK(cs_gpu_used_bytes() > 0); /* at least the context and cuBLAS */

    cs_gpu_sync();
    cs_gpu_ceilings c;
    memset(&c, 0, sizeof c);
    cs_measure_gpu_ceilings(&c, 1);
    printf("ceilings (quick): D2D %.1f GB/s, SGEMM n=%d %.0f GFLOP/s, H2D pinned %.1f GB/s\n", c.mem_bw_gbs, c.sgemm_n,
           c.sgemm_gflops, c.h2d_pinned_gbs);
    CHECK(c.mem_bw_gbs > 0.0);
    CHECK(c.sgemm_n == 2048);
    CHECK(c.sgemm_gflops > 0.0);
    CHECK(c.h2d_pinned_gbs > 0.0);
    CHECK(cs_gpu_tracked_bytes() == live_before); /* measurement scratch untracked */

    for (int pinned = 0; pinned <= 1; pinned++) {
        for (int h2d = 0; h2d <= 1; h2d++) {
            double gbs = cs_gpu_copy_gbs((size_t)8 << 20, pinned, h2d, 3);
            printf("copy 8 MiB %s %s: %.2f GB/s\n", pinned ? "pinned" : "pageable", h2d ? "H2D" : "D2H", gbs);
            CHECK(gbs > 0.0);
        }
    }
    return cs_test_done();
}
