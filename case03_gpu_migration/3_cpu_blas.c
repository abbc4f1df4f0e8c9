/* cpu_blas: cpu_blocked with the vendor BLAS (OpenBLAS) doing the products.
 * Same pipeline (cpu_chain.c), another GEMM: the gap between the two rungs
 * is what years of hand-tuned assembly kernels buy over portable C, and it
 * depends on which kernels OpenBLAS picked for this CPU (see the
 * investigation step: profile the library too). */
#include "cpu_chain.h"
#include "cs_console.h"
#include "variants.h"

int c3_cpu_blas_run(const c3_workload *w, c3_output *out, void *state)
{
    (void)state;
    if (!cs_gemm_cblas_available()) {
        cs_error("cpu_blas: built without OpenBLAS (apt-get install libopenblas-dev, then rebuild)");
        return 2;
    }
    c3_cpu_fused_chain(w, out, CS_GEMM_CBLAS);
    c3_cpu_small_batch(w, out, CS_GEMM_CBLAS);
    return 0;
}
