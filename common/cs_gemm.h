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

/* The fp32 GEMM the cases' CPU work uses (cs_gemm_choice.c): OpenBLAS
 * where its kernels match this CPU (or the BLAS is not OpenBLAS); where
 * OpenBLAS runs kernels below the CPU's SIMD, whichever of it and the
 * blocked GEMM measured faster on one product, once per process; blocked
 * without a CBLAS. CS_CPU_GEMM=auto|blas|blocked (auto the default)
 * overrides; a bad value exits 2 with one line. */
typedef struct {
    cs_gemm_backend backend;
    int measured;                        /* 1: chosen by timing both */
    int forced;                          /* 1: CS_CPU_GEMM said which */
    double blocked_gflops, cblas_gflops; /* the probe's rates, when measured */
    char why[160];                       /* e.g. "the suite's blocked SGEMM, measured faster than ..." */
} cs_gemm_cpu_pick;
const cs_gemm_cpu_pick *cs_gemm_cpu_pick_get(void);
cs_gemm_backend cs_gemm_best_cpu(void);
/* The pick if this process has made it, else NULL, without making it:
 * cs_sysinfo's BLAS line names it only then, so a case that does no GEMM
 * (case02) pays for no probe. The cases that multiply through
 * cs_gemm_best_cpu make it before they read the system. */
const cs_gemm_cpu_pick *cs_gemm_cpu_pick_made(void);
/* CS_CPU_GEMM checked now (before the long work): exits 2 when bad. */
void cs_gemm_cpu_check_env(void);

/* The probe both choices time (this one and lab_resnet's bf16 GEMM): a
 * layer2 3x3 convolution's forward product at 32 x 32 (128 output
 * channels, 128 x 9 taps, 1024 output pixels), about 0.3 GFLOP. The two
 * functions take turns, one untimed and CS_GEMM_PROBE_RUNS timed runs
 * each; each keeps its fastest. gflops[j] is f_j's rate; returns 0 when
 * there was no memory for it. f computes C (m x n) = A (m x k) B (k x n). */
enum { CS_GEMM_PROBE_M = 128, CS_GEMM_PROBE_N = 1024, CS_GEMM_PROBE_K = 1152, CS_GEMM_PROBE_RUNS = 3 };
typedef void (*cs_gemm_probe_fn)(int m, int n, int k, const float *a, const float *b, float *c);
int cs_gemm_probe_pair(cs_gemm_probe_fn f0, cs_gemm_probe_fn f1, double gflops[2]);

/* Float64 reference C = A * B (row-major, no transposes, beta = 0),
 * cache-blocked and OpenMP-parallel so references stay cheap to compute. */
void cs_gemm_f64(int M, int N, int K, const double *A, int lda, const double *B, int ldb, double *C, int ldc);

#endif
