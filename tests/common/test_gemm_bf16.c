/* The bf16 GEMM (cs_gemm_bf16.c) against a double computation on the same
 * inputs rounded to bf16 by a scalar reference: every transpose, alpha and
 * beta, odd K (a pair padded with zero), sizes off the 12 x 32 register
 * block and past the cache blocks, padded leading dimensions; rounding in
 * the packers (unrounded inputs give the bits of rounded ones); NaN and
 * inf through; beta = 0 never reading C; the same bits on 1 and 2 threads.
 * Skipped (exit 77) where the CPU has no AVX-512 BF16, after checking the
 * call then refuses and leaves C alone. */
#include "cs_test.h"

#include "cs_gemm.h"
#include "cs_rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define SENTINEL 12345.0f /* written in C's padding: must survive */

/* The scalar reference: float to bf16 by round to nearest, ties to even,
 * kept as float. */
static float bf16_ref(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return f;
    const uint32_t lsb = (u >> 16) & 1u;
    u = (u + 0x7fffu + lsb) & 0xffff0000u;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void fill(float *x, size_t n, cs_rng *rng)
{
    cs_rng_fill_uniform(rng, x, n, -1.0f, 1.0f);
}

typedef struct {
    int tA, tB, M, N, K, pad;
    float alpha, beta;
} gemm_case;

typedef struct {
    float *A, *B, *C0, *C;
    int lda, ldb, ldc;
} operands;

static operands make(const gemm_case *g, cs_rng *rng)
{
    operands o;
    const int a_rows = g->tA ? g->K : g->M, a_cols = g->tA ? g->M : g->K;
    const int b_rows = g->tB ? g->N : g->K, b_cols = g->tB ? g->K : g->N;
    o.lda = a_cols + g->pad;
    o.ldb = b_cols + g->pad;
    o.ldc = g->N + g->pad;
    o.A = cs_test_floats((size_t)a_rows * o.lda);
    o.B = cs_test_floats((size_t)b_rows * o.ldb);
    o.C0 = cs_test_floats((size_t)g->M * o.ldc);
    o.C = cs_test_floats((size_t)g->M * o.ldc);
    fill(o.A, (size_t)a_rows * o.lda, rng);
    fill(o.B, (size_t)b_rows * o.ldb, rng);
    for (int i = 0; i < g->M; i++)
        for (int j = 0; j < o.ldc; j++)
            o.C0[(size_t)i * o.ldc + j] = j < g->N ? cs_rng_uniform(rng, -1.0f, 1.0f) : SENTINEL;
    memcpy(o.C, o.C0, (size_t)g->M * o.ldc * sizeof(float));
    return o;
}

static void drop(operands *o)
{
    free(o->A);
    free(o->B);
    free(o->C0);
    free(o->C);
}

/* Relative L2 error of C against alpha * bf16(op(A)) bf16(op(B)) + beta C0
 * in double; *padding_ok 0 when C's padding was written. */
static double error_of(const gemm_case *g, const operands *o, int *padding_ok)
{
    double num = 0.0, den = 0.0;
    *padding_ok = 1;
    for (int i = 0; i < g->M; i++) {
        for (int j = 0; j < g->N; j++) {
            double s = 0.0;
            for (int k = 0; k < g->K; k++) {
                const float a = g->tA ? o->A[(size_t)k * o->lda + i] : o->A[(size_t)i * o->lda + k];
                const float b = g->tB ? o->B[(size_t)j * o->ldb + k] : o->B[(size_t)k * o->ldb + j];
                s += (double)bf16_ref(a) * (double)bf16_ref(b);
            }
            double ref = g->alpha * s;
            if (g->beta != 0.0f) ref += (double)g->beta * o->C0[(size_t)i * o->ldc + j];
            const double d = (double)o->C[(size_t)i * o->ldc + j] - ref;
            num += d * d;
            den += ref * ref;
        }
        for (int j = g->N; j < o->ldc; j++)
            if (o->C[(size_t)i * o->ldc + j] != SENTINEL) *padding_ok = 0;
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static int run(const gemm_case *g, const operands *o, float *C)
{
    return cs_gemm_bf16(g->tA, g->tB, g->M, g->N, g->K, g->alpha, o->A, o->lda, o->B, o->ldb, g->beta, C, o->ldc);
}

/* fp32 sums of exact bf16 products: the error is the summation's, a few
 * float epsilons; rounding an operand the wrong way (truncating, say)
 * moves a product by up to 2^-8 and the result by about 1e-3. */
#define TOL 2e-6

static void check_shapes(cs_rng *rng)
{
    const int shapes[][4] = {{1, 1, 1, 0},     {12, 32, 2, 0},   {13, 33, 3, 1},  {7, 5, 257, 3},
                             {25, 70, 600, 0}, {150, 40, 64, 2}, {3, 4100, 5, 0}, {64, 96, 513, 5}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++)
            for (int ab = 0; ab < 2; ab++) {
                gemm_case g = {t >> 1,       t & 1,        shapes[s][0],      shapes[s][1],
                               shapes[s][2], shapes[s][3], ab ? -1.5f : 1.0f, ab ? 0.5f : 0.0f};
                operands o = make(&g, rng);
                int padding_ok = 0;
                CHECK(run(&g, &o, o.C) == 0);
                const double err = error_of(&g, &o, &padding_ok);
                if (!(err <= TOL))
                    fprintf(stderr, "tA %d tB %d %dx%dx%d pad %d alpha %g beta %g: rel. error %.3g\n", g.tA, g.tB, g.M,
                            g.N, g.K, g.pad, (double)g.alpha, (double)g.beta, err);
                CHECK(err <= TOL);
                CHECK(padding_ok);
                drop(&o);
            }
}

/* Unrounded operands give the bits their bf16 roundings give: the packers
 * round to nearest even, as autocast's cast does. */
static void check_rounding_in_packers(cs_rng *rng)
{
    gemm_case g = {0, 1, 30, 50, 77, 0, 1.0f, 0.0f};
    operands o = make(&g, rng);
    float *C2 = cs_test_floats((size_t)g.M * o.ldc);
    CHECK(run(&g, &o, o.C) == 0);
    for (size_t i = 0; i < (size_t)g.M * o.lda; i++) o.A[i] = bf16_ref(o.A[i]);
    for (size_t i = 0; i < (size_t)g.N * o.ldb; i++) o.B[i] = bf16_ref(o.B[i]);
    CHECK(run(&g, &o, C2) == 0);
    CHECK(memcmp(o.C, C2, (size_t)g.M * o.ldc * sizeof(float)) == 0);
    free(C2);
    drop(&o);
}

/* NaN and inf reach C (GradScaler's found-inf check depends on them);
 * with beta = 0 a NaN in C is never read. */
static void check_special_values(cs_rng *rng)
{
    gemm_case g = {0, 0, 20, 40, 9, 0, 1.0f, 0.0f};
    operands o = make(&g, rng);
    for (size_t i = 0; i < (size_t)g.M * o.ldc; i++) o.C[i] = NAN;
    o.A[3 * o.lda + 4] = INFINITY; /* row 3 */
    o.B[2 * o.ldb + 7] = NAN;      /* column 7 */
    CHECK(run(&g, &o, o.C) == 0);
    int bad = 0;
    for (int i = 0; i < g.M; i++)
        for (int j = 0; j < g.N; j++) {
            const float c = o.C[(size_t)i * o.ldc + j];
            if (j == 7 || i == 3)
                bad += !(isnan(c) || isinf(c));
            else
                bad += !isfinite(c);
        }
    CHECK(bad == 0);
    drop(&o);
}

/* Threads split C, never K: the same bits on 1 and 2 threads. */
static void check_threads(cs_rng *rng)
{
#ifdef _OPENMP
    gemm_case g = {1, 0, 200, 300, 260, 0, 1.0f, 0.0f};
    operands o = make(&g, rng);
    float *C2 = cs_test_floats((size_t)g.M * o.ldc);
    const int was = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK(run(&g, &o, o.C) == 0);
    omp_set_num_threads(2);
    CHECK(run(&g, &o, C2) == 0);
    omp_set_num_threads(was);
    CHECK(memcmp(o.C, C2, (size_t)g.M * o.ldc * sizeof(float)) == 0);
    free(C2);
    drop(&o);
#else
    (void)rng;
#endif
}

int main(void)
{
    cs_rng rng;
    cs_rng_seed(&rng, 7, 0);
    if (!cs_gemm_bf16_available()) {
        float C[4] = {1, 2, 3, 4};
        const float A[4] = {1, 1, 1, 1};
        CHECK(cs_gemm_bf16(0, 0, 2, 2, 2, 1.0f, A, 2, A, 2, 0.0f, C, 2) == -1);
        CHECK(C[0] == 1 && C[3] == 4);
        if (cs_test_failed) return cs_test_done();
        printf("skipped: this CPU has no AVX-512 BF16 (vdpbf16ps), so the bf16 GEMM does not run here\n");
        return 77;
    }
    check_shapes(&rng);
    check_rounding_in_packers(&rng);
    check_special_values(&rng);
    check_threads(&rng);
    return cs_test_done();
}
