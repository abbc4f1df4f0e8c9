/* The optimized CPU pipeline shared by cpu_blocked and cpu_blas: they differ
 * only in the GEMM backend they pass, so the two rungs compare backends on
 * exactly the same surrounding code. */
#ifndef C3_CPU_CHAIN_H
#define C3_CPU_CHAIN_H

#include "cs_gemm.h"
#include "workload.h"

/* The chain: GEMM through `backend`, then the elementwise stage and the row
 * sum fused into one parallel pass over Z. */
void c3_cpu_fused_chain(const c3_workload *w, c3_output *out, cs_gemm_backend backend);
/* The small products, spread over the cores (one product per thread at a time). */
void c3_cpu_small_batch(const c3_workload *w, c3_output *out, cs_gemm_backend backend);

#endif
