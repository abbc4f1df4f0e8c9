/* GEMM backends shared by the cases, behind one interface.
 *
 *   C = alpha * op(A) * op(B) + beta * C      (row-major, float32)
 *
 * op(A) is M x K (A itself is K x M when transA), op(B) is K x N; lda, ldb,
 * ldc are row strides in elements. beta == 0 means C is not read (it may
 * hold garbage or NaN).
 *
 * Backends, slowest to fastest:
 *   naive    the textbook triple loop: one dot product per element of C,
 *            walking B down a column (a new cache line for every k).
 *   blocked  cache blocking: A and B are packed into panels that fit the
 *            caches, a small register-blocked kernel the compiler
 *            vectorizes, and OpenMP over the blocks of C.
 *   cblas    the vendor BLAS (OpenBLAS) when it was found at build time.
 * The cuBLAS backend works on device memory and lives in cs_gpu.h. */
#ifndef CS_GEMM_H
#define CS_GEMM_H

typedef enum { CS_GEMM_NAIVE = 0, CS_GEMM_BLOCKED, CS_GEMM_CBLAS, CS_GEMM_NBACKENDS } cs_gemm_backend;

void cs_gemm_naive(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                   int ldb, float beta, float *C, int ldc);

void cs_gemm_blocked(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                     int ldb, float beta, float *C, int ldc);

/* Returns 0, or -1 when the suite was built without a CBLAS (C untouched). */
int cs_gemm_cblas(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc);

/* C split into `panels` panels (columns when N >= M, else rows; whole
 * multiples of 16), each computed by one single-threaded CBLAS call on its
 * own OpenMP thread: how cs_gemm_cblas runs a large product under the
 * suite's thread policy (cs_blas_threads.h). Without a CBLAS C is left
 * untouched. Exposed so tests can split at any count. */
void cs_gemm_cblas_panels(int panels, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc);

/* The bf16 GEMM (cs_gemm_bf16.c): op(A) and op(B) rounded to bf16 (to
 * nearest even) as they are packed, their products summed in fp32 by
 * AVX-512 BF16's vdpbf16ps; C, alpha and beta as above. Not the bits of
 * an fp32 GEMM on the same values (other summation order; bf16 subnormals
 * count as zero). Returns 0, or -1 when this CPU or this build has no
 * AVX-512 BF16 (C untouched). */
int cs_gemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                 int ldb, float beta, float *C, int ldc);
/* 1 when cs_gemm_bf16 runs here (x86-64 build, CPU with AVX-512 BF16). */
int cs_gemm_bf16_available(void);

/* 1 when the CBLAS backend was built in. */
int cs_gemm_cblas_available(void);

/* Dispatch by backend (CBLAS missing: falls back to blocked and returns -1). */
int cs_gemm(cs_gemm_backend b, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
            const float *B, int ldb, float beta, float *C, int ldc);

/* "naive", "blocked", "cblas". */
const char *cs_gemm_backend_name(cs_gemm_backend b);

/* The fastest CPU backend built in (cblas if available, else blocked). */
cs_gemm_backend cs_gemm_best_cpu(void);

/* Float64 reference C = A * B (row-major, no transposes, beta = 0),
 * cache-blocked and OpenMP-parallel so references stay cheap to compute. */
void cs_gemm_f64(int M, int N, int K, const double *A, int lda, const double *B, int ldb, double *C, int ldc);

#endif
