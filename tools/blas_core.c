/* Prints which OpenBLAS core this suite's BLAS runs and which core matches
 * this CPU, for scripts (tools/run_bench.sh gives PyTorch, which runs on the
 * system's OpenBLAS too, the matching core as its best setting):
 *     core=Zen suggested=Zen env= layer=OpenMP
 * Nothing is printed after "core=" when no OpenBLAS is linked (and the
 * layer, serial, pthreads or OpenMP, is then "none"). */
#include <stdio.h>

#include "cs_blas_info.h"
#include "cs_blas_threads.h"

int main(void)
{
    cs_blas_info b;
    cs_blas_info_get(&b);
    printf("core=%s suggested=%s env=%s layer=%s\n", b.is_openblas ? b.core : "", b.suggested_core, b.env_coretype,
           cs_blas_layer_name(cs_blas_layer_runtime()));
    return 0;
}
