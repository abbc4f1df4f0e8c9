/* The ladder: every rung of case01 in its order, the GPU ones too. The
 * position in this table is the number of the rung's file (1_cpu_slow.c,
 * ...). A rung's functions are written C1_FN(f): ladder.c includes the
 * table with C1_FN(f) = f (the GPU ones NULL in a build without CUDA, by
 * CS_CUDA_ONLY), cli.c with C1_FN(f) = NULL, for the names and devices
 * alone (CS_LADDER_NAMES): the command line, and its fuzz target that links
 * cli.c without the rungs, know them from this one table. */
#ifndef C1_FN
#error "define C1_FN(fn) before including ladder_table.h"
#endif

static const c1_variant ladder[C1_NVARIANTS] = {
    {"cpu_slow", "cpu", 1,
     "one sample at a time, fresh buffers and byte->float every step, a second forward pass to log", NULL,
     C1_FN(c1_cpu_slow_train), NULL},
    {"cpu_batched", "cpu", 1, "batching alone: GEMMs over the whole batch; the rest as cpu_slow", NULL,
     C1_FN(c1_cpu_batched_train), NULL},
    {"cpu_fast", "cpu", 0,
     "batched GEMMs, buffers allocated once, data converted once, bias+ReLU fused, metrics from the training pass",
     C1_FN(c1_cpu_fast_setup), C1_FN(c1_cpu_fast_train), C1_FN(c1_cpu_fast_teardown)},
    {"gpu_slow", "gpu", 1,
     "per step: pageable copies, cudaMalloc/cudaFree, per-sample kernels, weights copied back, a sync to read the loss",
     NULL, C1_FN(CS_CUDA_ONLY(c1_gpu_slow_train)), NULL},
    {"gpu_batched", "gpu", 1,
     "batching alone: cuBLAS over the whole batch; the copies, allocations and syncs as gpu_slow",
     C1_FN(CS_CUDA_ONLY(c1_gpu_batched_setup)), C1_FN(CS_CUDA_ONLY(c1_gpu_batched_train)),
     C1_FN(CS_CUDA_ONLY(c1_gpu_batched_teardown))},
    {"gpu_resident", "gpu", 0,
     "plus no copies: the data set uploaded once, buffers allocated once; still a sync and weight copy-back per step",
     C1_FN(CS_CUDA_ONLY(c1_gpu_resident_setup)), C1_FN(CS_CUDA_ONLY(c1_gpu_resident_train)),
     C1_FN(CS_CUDA_ONLY(c1_gpu_resident_teardown))},
    {"gpu_async", "gpu", 0,
     "plus no per-step sync: fused kernels, loss kept on the device and read once at the end of the run",
     C1_FN(CS_CUDA_ONLY(c1_gpu_async_setup)), C1_FN(CS_CUDA_ONLY(c1_gpu_async_train)),
     C1_FN(CS_CUDA_ONLY(c1_gpu_async_teardown))},
    {"gpu_fast", "gpu", 0, "plus CUDA graphs: the step's forward and backward passes each replayed with one launch",
     C1_FN(CS_CUDA_ONLY(c1_gpu_fast_setup)), C1_FN(CS_CUDA_ONLY(c1_gpu_fast_train)),
     C1_FN(CS_CUDA_ONLY(c1_gpu_fast_teardown))},
};
