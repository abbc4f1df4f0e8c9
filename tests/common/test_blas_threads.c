/* Who runs the BLAS calls (cs_blas_threads.h):
 *  - the threading layer found at run time is the one CMake linked, and the
 *    one this test was told to expect (argv[1]: serial, pthreads, OpenMP or
 *    none), so a CI build against Debian's pthreads OpenBLAS proves which
 *    library it ran;
 *  - the policy sets OpenBLAS's own thread count (pthreads layer: 1 under
 *    "suite", the OpenMP team's size under "own") and never the team's;
 *  - CS_BLAS_POOL is read and a bad value refused;
 *  - a product split into panels, one single-threaded call per OpenMP
 *    thread, equals the exact result for every transpose, odd sizes, panel
 *    counts that leave an empty or a short panel, alpha/beta, and padded
 *    leading dimensions; the padding is never written. */
#include "cs_test.h"

#include "cs_blas_threads.h"
#include "cs_gemm.h"
#include "cs_rng.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef CS_HAVE_CBLAS
int openblas_get_num_threads(void);
#endif

#define SENTINEL 777.0f

/* Relative L2 error of C against the double-precision product; *pad_ok 0
 * when a padding element changed. */
static double rel_error(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                        int ldb, float beta, const float *C0, const float *C, int ldc, int *pad_ok)
{
    double num = 0, den = 0;
    *pad_ok = 1;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = tA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            double ref = alpha * s + (beta != 0 ? beta * C0[(size_t)i * ldc + j] : 0.0);
            double d = C[(size_t)i * ldc + j] - ref;
            num += d * d;
            den += ref * ref;
        }
        for (int j = N; j < ldc; j++)
            if (C[(size_t)i * ldc + j] != SENTINEL) *pad_ok = 0;
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static int split_case(int panels, int tA, int tB, int M, int N, int K, int pad, float alpha, float beta, cs_rng *rng)
{
    int a_rows = tA ? K : M, a_cols = tA ? M : K, b_rows = tB ? N : K, b_cols = tB ? K : N;
    int lda = a_cols + pad, ldb = b_cols + pad, ldc = N + pad;
    float *A = cs_test_floats((size_t)a_rows * lda), *B = cs_test_floats((size_t)b_rows * ldb);
    float *C = cs_test_floats((size_t)M * ldc), *C0 = cs_test_floats((size_t)M * ldc);
    cs_rng_fill_uniform(rng, A, (size_t)a_rows * lda, -1, 1);
    cs_rng_fill_uniform(rng, B, (size_t)b_rows * ldb, -1, 1);
    cs_rng_fill_uniform(rng, C, (size_t)M * ldc, -1, 1);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++)
            if (j >= N)
                C[(size_t)i * ldc + j] = SENTINEL;
            else if (beta == 0)
                C[(size_t)i * ldc + j] = NAN; /* must not be read */
    memcpy(C0, C, (size_t)M * ldc * sizeof *C);
    cs_gemm_cblas_panels(panels, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    int pad_ok;
    double err = rel_error(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C0, C, ldc, &pad_ok);
    int bad = !(err < 1e-5) || !pad_ok;
    if (bad)
        fprintf(stderr, "panels %d tA %d tB %d %dx%dx%d pad %d: rel err %.3g, padding %s\n", panels, tA, tB, M, N, K,
                pad, err, pad_ok ? "ok" : "OVERWRITTEN");
    free(A);
    free(B);
    free(C);
    free(C0);
    return bad;
}

static void test_split(void)
{
    /* wide (split by columns), tall (by rows), square, and sizes that do
     * not divide: 5 panels of 16-aligned width over 70 columns leave the
     * last ones short or empty */
    const int shapes[][4] = {{8, 300, 33, 0}, {301, 24, 17, 3}, {64, 64, 64, 1},
                             {5, 70, 9, 0},   {70, 5, 9, 2},    {1, 1, 1, 0}};
    cs_rng rng;
    cs_rng_seed(&rng, 5, 0);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int panels = 1; panels <= 5; panels++)
            for (int tA = 0; tA <= 1; tA++)
                for (int tB = 0; tB <= 1; tB++) {
                    CHECK(split_case(panels, tA, tB, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], 1.0f, 0.0f,
                                     &rng) == 0);
                    CHECK(split_case(panels, tA, tB, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], -0.5f,
                                     2.0f, &rng) == 0);
                }
}

static int omp_team(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static void test_policy(void)
{
    int team = omp_team();
    cs_blas_pool_set(CS_BLAS_POOL_OWN);
    CHECK(cs_blas_pool_get() == CS_BLAS_POOL_OWN);
    CHECK(omp_team() == team); /* the suite's team is never changed */
#ifdef CS_HAVE_CBLAS
    if (cs_blas_layer_runtime() == CS_BLAS_LAYER_PTHREADS) CHECK(openblas_get_num_threads() == team);
#endif
    cs_blas_pool_set(CS_BLAS_POOL_SUITE);
    CHECK(cs_blas_pool_get() == CS_BLAS_POOL_SUITE);
    CHECK(omp_team() == team);
#ifdef CS_HAVE_CBLAS
    if (cs_blas_layer_runtime() == CS_BLAS_LAYER_PTHREADS) CHECK(openblas_get_num_threads() == 1);
#endif
    if (cs_blas_layer_runtime() != CS_BLAS_LAYER_NONE) CHECK(cs_blas_threads_used() == team);

    char line[160];
    cs_blas_threads_describe(line, sizeof line);
    printf("BLAS threads: %s\n", line);
    if (cs_blas_layer_runtime() != CS_BLAS_LAYER_NONE)
        CHECK(strstr(line, cs_blas_layer_name(cs_blas_layer_runtime())) != NULL);

    /* the environment: unset and "suite" give suite, "own" own, else -1 */
    unsetenv("CS_BLAS_POOL");
    CHECK(cs_blas_pool_from_env("test") == 0 && cs_blas_pool_get() == CS_BLAS_POOL_SUITE);
    setenv("CS_BLAS_POOL", "own", 1);
    CHECK(cs_blas_pool_from_env("test") == 0 && cs_blas_pool_get() == CS_BLAS_POOL_OWN);
    setenv("CS_BLAS_POOL", "suite", 1);
    CHECK(cs_blas_pool_from_env("test") == 0 && cs_blas_pool_get() == CS_BLAS_POOL_SUITE);
    setenv("CS_BLAS_POOL", "OWN!", 1);
    fprintf(stderr, "(an error line about CS_BLAS_POOL is expected next)\n");
    CHECK(cs_blas_pool_from_env("test") == -1);
    unsetenv("CS_BLAS_POOL");
}

int main(int argc, char **argv)
{
    cs_blas_layer runs = cs_blas_layer_runtime(), built = cs_blas_layer_configured();
    printf("threading layer: built against %s, running %s (%s)\n", cs_blas_layer_name(built), cs_blas_layer_name(runs),
           cs_blas_library_path());
    if (argc > 1) CHECK(strcmp(cs_blas_layer_name(runs), argv[1]) == 0);
    CHECK(built == runs); /* the build tree's RUNPATH names the linked library */
    test_policy();
    if (cs_gemm_cblas_available())
        test_split();
    else
        printf("split: skipped (built without a CBLAS)\n");
    return cs_test_done();
}
