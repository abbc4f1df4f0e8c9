/* cpu_blocked: cpu_naive with a cache-blocked, vectorized, multi-threaded
 * GEMM (common/cs_gemm_blocked.c: read it next to cs_gemm_naive.c) and the
 * elementwise stages fused (cpu_chain.c). */
#include "cpu_chain.h"
#include "variants.h"

void c3_cpu_blocked_chain(const c3_workload *w, c3_output *out)
{
    c3_cpu_fused_chain(w, out, CS_GEMM_BLOCKED);
}

void c3_cpu_blocked_small(const c3_workload *w, c3_output *out)
{
    c3_cpu_small_batch(w, out, CS_GEMM_BLOCKED);
}

int c3_cpu_blocked_run(const c3_workload *w, c3_output *out, void *state)
{
    (void)state;
    c3_cpu_blocked_chain(w, out);
    c3_cpu_blocked_small(w, out);
    return 0;
}
