/* gpu_tiled: gpu_resident with the hand-written shared-memory GEMM.
 *
 * Same buffers, same copies, same sequence of kernels (gpu_resident.cu's
 * pipeline); only the GEMM kernel changes. Once the transfers are gone, the
 * naive kernel is what is left in the phase table: each thread streams a
 * row of A and a column of B from global memory for one element of C. The
 * tiled kernel (gpu_kernels.cu) stages 64x8 and 8x64 slices in shared memory
 * and has each thread compute a 4x4 block of C from registers, so every
 * value fetched from global memory is used 64 times instead of once, and
 * every value read from shared memory 4 times. The "kernel" phase shrinks by
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
