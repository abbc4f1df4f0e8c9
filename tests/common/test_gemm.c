/* GEMM backends against an exact double computation: every transpose,
 * alpha/beta case, odd sizes and padded leading dimensions; the float64
 * reference GEMM against a plain triple loop; the ceilings' GEMM timing. */
#include "cs_test.h"

#include "cs_ceilings.h"
#include "cs_blas_info.h"
#include "cs_gemm.h"
#include "cs_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL 12345.0f /* written in C's padding: must survive */

typedef struct {
    int M, N, K, pad;
} shape;

/* Element (i, k) of op(A) and (k, j) of op(B). */
static float opA(int tA, const float *A, int lda, int i, int k)
{
    return tA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
}
static float opB(int tB, const float *B, int ldb, int k, int j)
{
    return tB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
}

/* Relative L2 error of C (M x N, ldc) against the exact result computed in
 * double from the same inputs (C0: C before the call). Also checks that no
 * element is NaN and that C's padding still holds the sentinel. */
static double check_one(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                        int ldb, float beta, const float *C0, const float *C, int ldc, int *padding_ok)
{
    double num = 0.0, den = 0.0;
    *padding_ok = 1;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) s += (double)opA(tA, A, lda, i, k) * (double)opB(tB, B, ldb, k, j);
            double ref = alpha * s;
            if (beta != 0.0f) ref += (double)beta * C0[(size_t)i * ldc + j];
            double d = (double)C[(size_t)i * ldc + j] - ref;
            num += d * d; /* NaN in C makes num NaN: the caller's check fails */
            den += ref * ref;
        }
        for (int j = N; j < ldc; j++)
            if (C[(size_t)i * ldc + j] != SENTINEL) *padding_ok = 0;
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Runs backend b on one shape for all transposes and both alpha/beta cases;
 * returns the number of failing cases. */
static int test_shape(cs_gemm_backend b, shape s, cs_rng *rng)
{
    int fails = 0;
    for (int tA = 0; tA <= 1; tA++) {
        for (int tB = 0; tB <= 1; tB++) {
            for (int ab = 0; ab < 2; ab++) {
                float alpha = ab == 0 ? 1.0f : -1.5f;
                float beta = ab == 0 ? 0.0f : 0.5f;
                /* stored shapes: A is M x K (K x M when tA), B is K x N (N x K) */
                int a_rows = tA ? s.K : s.M, a_cols = tA ? s.M : s.K;
                int b_rows = tB ? s.N : s.K, b_cols = tB ? s.K : s.N;
                int lda = a_cols + s.pad, ldb = b_cols + s.pad, ldc = s.N + s.pad;
                float *A = cs_test_floats((size_t)a_rows * lda);
                float *B = cs_test_floats((size_t)b_rows * ldb);
                float *C = cs_test_floats((size_t)s.M * ldc);
                float *C0 = cs_test_floats((size_t)s.M * ldc);
                cs_rng_fill_uniform(rng, A, (size_t)a_rows * lda, -1.0f, 1.0f);
                cs_rng_fill_uniform(rng, B, (size_t)b_rows * ldb, -1.0f, 1.0f);
                cs_rng_fill_uniform(rng, C, (size_t)s.M * ldc, -1.0f, 1.0f);
                for (int i = 0; i < s.M; i++)
                    for (int j = 0; j < ldc; j++) {
                        float *c = &C[(size_t)i * ldc + j];
                        if (j >= s.N)
                            *c = SENTINEL;
                        else if (beta == 0.0f)
                            *c = NAN; /* must not leak */
                    }
                memcpy(C0, C, (size_t)s.M * ldc * sizeof *C);

                int rc = cs_gemm(b, tA, tB, s.M, s.N, s.K, alpha, A, lda, B, ldb, beta, C, ldc);
                int padding_ok;
                double err = check_one(tA, tB, s.M, s.N, s.K, alpha, A, lda, B, ldb, beta, C0, C, ldc, &padding_ok);
                if (rc != 0 || !(err < 1e-5) || !padding_ok) {
                    fprintf(stderr,
                            "%s %dx%dx%d pad %d tA %d tB %d alpha %g beta %g: "
                            "rc %d, rel err %.3g, padding %s\n",
                            cs_gemm_backend_name(b), s.M, s.N, s.K, s.pad, tA, tB, alpha, beta, rc, err,
                            padding_ok ? "ok" : "OVERWRITTEN");
                    fails++;
                }
                free(A);
                free(B);
                free(C);
                free(C0);
            }
        }
    }
    return fails;
}

static void test_backends(void)
{
    const shape shapes[] = {
        {1, 1, 1, 0},       {7, 5, 3, 0},       {17, 33, 65, 0},
        {64, 64, 64, 0},    {100, 130, 257, 0}, /* K crosses the blocked GEMM's KC = 256 */
        {300, 200, 100, 5},                     /* lda/ldb/ldc larger than the rows */
    };
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    cs_rng rng;
    cs_rng_seed(&rng, 7, 0);

    for (int b = 0; b < CS_GEMM_NBACKENDS; b++) {
        if (b == CS_GEMM_CBLAS && !cs_gemm_cblas_available()) {
            printf("cblas: skipped (built without a CBLAS)\n");
            continue;
        }
        for (int s = 0; s < nshapes; s++) CHECK(test_shape((cs_gemm_backend)b, shapes[s], &rng) == 0);
    }

    /* The blocked GEMM's other edges: more columns than NC (two jc blocks),
     * a prime-sized problem spread over the threads, and one row. */
    const shape more[] = {{3, 4103, 5, 1}, {211, 197, 263, 3}, {1, 300, 40, 0}, {290, 1, 7, 2}};
    for (int s = 0; s < (int)(sizeof more / sizeof more[0]); s++)
        CHECK(test_shape(CS_GEMM_BLOCKED, more[s], &rng) == 0);
}

/* alpha == 0 scales C by beta (A and B are not needed); with beta == 0 too,
 * C becomes exactly 0 even if it held NaN. */
static void test_alpha_zero(void)
{
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 2, 3, 4, 5, 6};
    float C[4] = {1, 2, 3, 4};
    cs_gemm_blocked(0, 0, 2, 2, 3, 0.0f, A, 3, B, 2, 0.5f, C, 2);
    CHECK(C[0] == 0.5f && C[3] == 2.0f);
    float D[4] = {NAN, NAN, NAN, NAN};
    cs_gemm_blocked(0, 0, 2, 2, 3, 0.0f, A, 3, B, 2, 0.0f, D, 2);
    CHECK(D[0] == 0.0f && D[1] == 0.0f && D[2] == 0.0f && D[3] == 0.0f);
}

static void test_dispatch(void)
{
    CHECK(strcmp(cs_gemm_backend_name(CS_GEMM_NAIVE), "naive") == 0);
    CHECK(strcmp(cs_gemm_backend_name(CS_GEMM_BLOCKED), "blocked") == 0);
    CHECK(strcmp(cs_gemm_backend_name(CS_GEMM_CBLAS), "cblas") == 0);
    /* The CPU's GEMM: blocked without a CBLAS; OpenBLAS where its kernels
     * match the CPU (nothing timed); else the faster of the two as the
     * probe measured them (or as CS_CPU_GEMM says: this test leaves it
     * unset). */
    const cs_gemm_cpu_pick *pick = cs_gemm_cpu_pick_get();
    CHECK(cs_gemm_best_cpu() == pick->backend);
    CHECK(!pick->forced && pick->why[0] != '\0');
    if (!cs_gemm_cblas_available()) {
        CHECK(pick->backend == CS_GEMM_BLOCKED && !pick->measured);
    } else {
        cs_blas_info b;
        cs_blas_info_get(&b);
        CHECK(pick->measured == (b.is_openblas && b.mismatch));
        if (pick->measured)
            CHECK(pick->blocked_gflops > 0 && pick->cblas_gflops > 0 &&
                  pick->backend == (pick->blocked_gflops > pick->cblas_gflops ? CS_GEMM_BLOCKED : CS_GEMM_CBLAS));
        else
            CHECK(pick->backend == CS_GEMM_CBLAS);
    }

    /* CBLAS through the dispatcher: 0, or -1 with the result computed anyway */
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[4] = {0};
    int rc = cs_gemm(CS_GEMM_CBLAS, 0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    CHECK(rc == (cs_gemm_cblas_available() ? 0 : -1));
    CHECK(C[0] == 19.0f && C[1] == 22.0f && C[2] == 43.0f && C[3] == 50.0f);
    float D[4] = {-1, -1, -1, -1};
    rc = cs_gemm_cblas(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, D, 2);
    if (!cs_gemm_cblas_available())
        CHECK(rc == -1 && D[0] == -1.0f); /* C untouched */
    else
        CHECK(rc == 0 && D[3] == 50.0f);
}

/* cs_gemm_f64 against a plain triple loop in double, with sizes that cross
 * its blocks (32 x 256 x 128) and padded leading dimensions. */
static void test_f64(void)
{
    const shape shapes[] = {{1, 1, 1, 0}, {37, 53, 41, 0}, {130, 300, 129, 3}, {65, 2, 300, 1}};
    cs_rng rng;
    cs_rng_seed(&rng, 11, 0);
    for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
        int M = shapes[s].M, N = shapes[s].N, K = shapes[s].K, pad = shapes[s].pad;
        int lda = K + pad, ldb = N + pad, ldc = N + pad;
        double *A = malloc((size_t)M * lda * sizeof *A);
        double *B = malloc((size_t)K * ldb * sizeof *B);
        double *C = malloc((size_t)M * ldc * sizeof *C);
        for (size_t i = 0; i < (size_t)M * lda; i++) A[i] = cs_rng_double(&rng) - 0.5;
        for (size_t i = 0; i < (size_t)K * ldb; i++) B[i] = cs_rng_double(&rng) - 0.5;
        for (size_t i = 0; i < (size_t)M * ldc; i++) C[i] = NAN; /* beta = 0 */
        cs_gemm_f64(M, N, K, A, lda, B, ldb, C, ldc);
        double worst = 0.0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double ref = 0.0;
                for (int k = 0; k < K; k++) ref += A[(size_t)i * lda + k] * B[(size_t)k * ldb + j];
                double d = fabs(C[(size_t)i * ldc + j] - ref);
                if (isnan(d)) d = INFINITY; /* a NaN left in C fails */
                if (d > worst) worst = d;
            }
        CHECK(worst < 1e-12);
        free(A);
        free(B);
        free(C);
    }
}

/* The ceilings' GEMM timing gives a positive rate; CBLAS reports 0 when it
 * is not built in; the quick ceilings fill what the header promises. */
static void test_ceilings(void)
{
    CHECK(cs_time_gemm_gflops(CS_GEMM_BLOCKED, 64, 3) > 0.0);
    if (!cs_gemm_cblas_available()) CHECK(cs_time_gemm_gflops(CS_GEMM_CBLAS, 64, 3) == 0.0);

    cs_cpu_ceilings c;
    cs_measure_cpu_ceilings(&c, 1);
    CHECK(c.mem_bw_gbs > 0.0);
    CHECK(c.gemm_n == 512);
    CHECK(c.gemm_gflops[CS_GEMM_NAIVE] == 0.0); /* not timed */
    CHECK(c.gemm_gflops[CS_GEMM_BLOCKED] > 0.0);
    CHECK(c.best_gflops == c.gemm_gflops[c.best]);
    CHECK(c.best_gflops >= c.gemm_gflops[CS_GEMM_BLOCKED]);
    CHECK(c.peak_gflops_est >= 0.0);
    printf("ceilings (quick): copy %.1f GB/s, blocked %.1f GFLOP/s, cblas %.1f GFLOP/s, "
           "peak estimate %.1f GFLOP/s (%d FLOP/cycle/core)\n",
           c.mem_bw_gbs, c.gemm_gflops[CS_GEMM_BLOCKED], c.gemm_gflops[CS_GEMM_CBLAS], c.peak_gflops_est,
           c.flops_per_cycle_core);
}

int main(void)
{
    test_backends();
    test_alpha_zero();
    test_dispatch();
    test_f64();
    test_ceilings();
    return cs_test_done();
}
