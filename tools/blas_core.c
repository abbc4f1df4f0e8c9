/* Prints which OpenBLAS core this suite's BLAS runs and which core matches
 * this CPU, for scripts (tools/run_bench.sh gives PyTorch, which runs on the
 * system's OpenBLAS too, the matching core as its best setting):
 *     core=Zen suggested=Zen env=
 * Nothing is printed after "core=" when no OpenBLAS is linked. */
#include <stdio.h>

#include "cs_blas_info.h"

int main(void)
{
    cs_blas_info b;
    cs_blas_info_get(&b);
    printf("core=%s suggested=%s env=%s\n", b.is_openblas ? b.core : "",
           b.suggested_core, b.env_coretype);
    return 0;
}
