/* The device-resident pipeline shared by gpu_resident and gpu_tiled: the
 * same buffers, copies and kernel sequence, with the GEMM kernel as a
 * parameter. The two rungs differ only in the launcher they pass, so the
 * difference between them is the kernel and nothing else. (C++: only .cu
 * files include it.) */
#ifndef C3_GPU_RESIDENT_H
#define C3_GPU_RESIDENT_H

#include "gpu_kernels.cuh"
extern "C" { /* workload.h is a C header */
#include "workload.h"
}

/* One run of the pipeline (see 5_gpu_resident.cu) on the buffers made by
 * c3_gpu_resident_setup(), every product computed by `gemm`. Returns 0. */
int c3_resident_run_with(const c3_workload *w, c3_output *out, void *state, c3_gemm_launcher gemm);

#endif
