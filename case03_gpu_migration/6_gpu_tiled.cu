/* gpu_tiled: gpu_resident with the hand-written shared-memory GEMM.
 *
 * Same buffers, same copies, same sequence of kernels (5_gpu_resident.cu's
 * pipeline); only the GEMM kernel changes. Once the transfers are gone, the
 * naive kernel is what is left in the phase table: each thread streams a
 * row of A and a column of B from global memory for one element of C. The
 * tiled kernel (gpu_kernels.cu) stages TILE x 16 and 16 x TILE slices in
 * shared memory, double-buffered so the next slice loads while this one is
 * multiplied, and has each thread compute a block of C from registers (4x4
 * with 64x64 tiles, 2x2 with 32x32 tiles when the big ones would leave SMs
 * idle): every value fetched from global memory is used TILE times instead
 * of once. The "kernel" phase shrinks by
 * that reuse; the copies are unchanged. */
#include "cs_cuda.cuh"
#include "gpu_kernels.cuh"
#include "gpu_resident.h"
#include "variants.h"

extern "C" int c3_gpu_tiled_setup(const c3_workload *w, c3_output *out, void **state)
{
    return c3_gpu_resident_setup(w, out, state);
}

extern "C" int c3_gpu_tiled_run(const c3_workload *w, c3_output *out, void *state)
{
    return c3_resident_run_with(w, out, state, c3_launch_gemm_tiled);
}

extern "C" void c3_gpu_tiled_teardown(void *state, c3_output *out)
{
    c3_gpu_resident_teardown(state, out);
}
