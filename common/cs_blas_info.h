/* Profile the library too: which BLAS is linked, which kernel family
 * ("core") OpenBLAS picked for this CPU, and whether that core uses the
 * widest SIMD the CPU offers. OpenBLAS chooses its core at load time from
 * CPUID (DYNAMIC_ARCH builds) or from the OPENBLAS_CORETYPE environment
 * variable; an old core on a new CPU silently runs several times slower.
 * This module reports; it never changes the choice (see docs). */
#ifndef CS_BLAS_INFO_H
#define CS_BLAS_INFO_H

#include <stdio.h>

typedef struct {
    int linked;              /* a CBLAS was built in */
    int is_openblas;         /* and it is OpenBLAS */
    char config[160];        /* openblas_get_config() */
    char core[48];           /* openblas_get_corename(), e.g. "Zen", "Prescott" */
    char core_isa[16];       /* widest SIMD of that core: "SSE3", "AVX", "AVX2", "AVX-512" */
    char cpu_isa[16];        /* widest SIMD of this CPU, same words */
    int core_rank, cpu_rank; /* 0 SSE, 1 AVX, 2 AVX2, 3 AVX-512 (-1 unknown core) */
    int mismatch;            /* core_rank < cpu_rank */
    char suggested_core[32]; /* OPENBLAS_CORETYPE value matching the CPU */
    char env_coretype[48];   /* OPENBLAS_CORETYPE as set in the environment, or "" */
    int threads;             /* openblas_get_num_threads() */
    /* 16-bit arithmetic: what this CPU multiplies in 16 bits (CPUID), and
     * whether the linked BLAS offers a bf16 GEMM (cblas_sbgemm: OpenBLAS
     * built with BUILD_BFLOAT16; Debian's 0.3.21 is not). Mixed precision
     * can only be faster on a CPU where both are there and used. */
    int cpu_avx512_bf16, cpu_avx512_fp16, cpu_amx_bf16;
    int blas_bf16_gemm;
} cs_blas_info;

/* This CPU's 16-bit multiply instructions as words, e.g. "AVX-512 BF16",
 * "AVX-512 BF16, AVX-512 FP16, AMX-BF16", or "" when it has none. */
const char *cs_cpu_16bit_words(const cs_blas_info *b, char *buf, size_t n);

void cs_blas_info_get(cs_blas_info *b);

/* Widest SIMD of this CPU in the words above, and its rank. */
const char *cs_cpu_isa_word(int *rank);

/* Rank of an OpenBLAS core name (case-insensitive, e.g. "Zen" or "ZEN"):
 * 0 SSE, 1 AVX, 2 AVX2, 3 AVX-512, -1 not in the table. If isa is not
 * NULL it receives the core's SIMD word ("SSE3", "AVX2", ...; "?" unknown). */
int cs_blas_core_rank(const char *core, const char **isa);

/* Prints what runs and, when the core is weaker than the CPU, what that
 * costs (measured GFLOP/s against the estimated peak) and how a user can
 * change it: explains OPENBLAS_CORETYPE and why it may be set on purpose. */
void cs_blas_info_explain(FILE *f, const cs_blas_info *b, double measured_gflops, double peak_gflops_est);

#endif
