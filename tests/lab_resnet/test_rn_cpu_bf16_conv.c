/* Part 3's bf16 products on the CPU (cpu_conv.c): under conv_math(RN_BF16)
 * and RN_CPU_BF16_GEMM=on the convolutions multiply in bf16 (cs_gemm_bf16)
 * exactly where the CPU has AVX-512 BF16, and say so in conv_algo; under
 * auto (the default) exactly where the bf16 GEMM measured faster than the
 * SGEMM (cpu_bf16_choice.c, its rates reported); their forward and backward
 * agree with the fp32 SGEMM's on the same bf16 values to fp32 summation
 * error (the products are exact either way); RN_CPU_BF16_GEMM=off, fp32 and
 * fp16 give the fp32 SGEMM's bits; a bad RN_CPU_BF16_GEMM is the caller's
 * one-line error (the CLI test bad_cpu_bf16_gemm). Runs on any CPU: where
 * there is no AVX-512 BF16 it checks that bf16 falls back to the SGEMM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_ops.h"
#include "cs_compare.h"
#include "cs_gemm.h"
#include "cs_rng.h"
#include "cs_test.h"
#include "precision.h"

enum { N = 3, H = 9, W = 7 };
static const rn_conv_shape shape = {.cin = 20, .cout = 24, .k = 3, .stride = 1, .pad = 1};

typedef struct {
    float *y, *dx, *dw;
} conv_out;

static float *bf16_values(size_t n, cs_rng *rng)
{
    float *p = malloc(n * sizeof *p);
    if (!p) exit(3);
    cs_rng_fill_uniform(rng, p, n, -1.0f, 1.0f);
    rn_round_to(n, p, p, RN_BF16); /* the values a bf16 tensor holds */
    return p;
}

static conv_out run_conv(const rn_backend *be, int precision, const float *x, const float *wt, const float *dy)
{
    const size_t ny = (size_t)N * shape.cout * H * W, nx = (size_t)N * shape.cin * H * W;
    const size_t nw = (size_t)shape.cout * shape.cin * 9;
    conv_out o = {malloc(ny * sizeof(float)), malloc(nx * sizeof(float)), malloc(nw * sizeof(float))};
    float *work = malloc((be->conv_work_floats(&shape, N, H, W) + 1) * sizeof(float));
    if (!o.y || !o.dx || !o.dw || !work) exit(3);
    be->conv_math(precision);
    be->conv_forward(&shape, N, H, W, x, wt, o.y, work);
    be->conv_backward(&shape, N, H, W, x, wt, dy, o.dx, o.dw, work);
    be->conv_math(RN_FP32);
    free(work);
    return o;
}

static int same_bits(const conv_out *a, const conv_out *b)
{
    const size_t ny = (size_t)N * shape.cout * H * W, nx = (size_t)N * shape.cin * H * W;
    const size_t nw = (size_t)shape.cout * shape.cin * 9;
    return !memcmp(a->y, b->y, ny * 4) && !memcmp(a->dx, b->dx, nx * 4) && !memcmp(a->dw, b->dw, nw * 4);
}

static double worst_diff(const conv_out *a, const conv_out *b)
{
    const size_t ny = (size_t)N * shape.cout * H * W, nx = (size_t)N * shape.cin * H * W;
    const size_t nw = (size_t)shape.cout * shape.cin * 9;
    double d = cs_compare_f32(a->y, b->y, ny, 1.0).rel_l2;
    double e = cs_compare_f32(a->dx, b->dx, nx, 1.0).rel_l2;
    double f = cs_compare_f32(a->dw, b->dw, nw, 1.0).rel_l2;
    return d > e ? (d > f ? d : f) : (e > f ? e : f);
}

static void drop(conv_out *o)
{
    free(o->y);
    free(o->dx);
    free(o->dw);
}

int main(void)
{
    const rn_backend *be = rn_cpu_backend();
    cs_rng rng;
    cs_rng_seed(&rng, 11, 0);
    float *x = bf16_values((size_t)N * shape.cin * H * W, &rng);
    float *wt = bf16_values((size_t)shape.cout * shape.cin * 9, &rng);
    float *dy = bf16_values((size_t)N * shape.cout * H * W, &rng);
    const int hw = cs_gemm_bf16_available();

    CHECK(be->conv_math != NULL);
    unsetenv("RN_CPU_BF16_GEMM"); /* auto: measured where there is AVX-512 BF16 */
    be->conv_math(RN_BF16);
    const rn_cpu_bf16_choice *auto_choice = rn_cpu_bf16_gemm_choice();
    CHECK(auto_choice->measured == hw);
    CHECK(!hw || (auto_choice->bf16_gflops > 0 && auto_choice->sgemm_gflops > 0));
    CHECK(rn_cpu_conv_bf16_products() == (hw && auto_choice->bf16_gflops > auto_choice->sgemm_gflops));
    printf("auto: bf16 GEMM %s (%s)\n", rn_cpu_conv_bf16_products() ? "used" : "not used",
           rn_cpu_bf16_gemm_why((char[192]){0}, 192));

    setenv("RN_CPU_BF16_GEMM", "on", 1); /* the rest checks the bf16 GEMM itself */
    be->conv_math(RN_BF16);
    CHECK(rn_cpu_conv_bf16_products() == hw);
    CHECK(!rn_cpu_bf16_gemm_choice()->measured);
    CHECK((strstr(be->conv_algo(&shape, N, H, W), "bf16 GEMM") != NULL) == hw);
    be->conv_math(RN_FP16);
    CHECK(!rn_cpu_conv_bf16_products());
    be->conv_math(RN_FP32);
    CHECK(!rn_cpu_conv_bf16_products());
    CHECK(strstr(be->conv_algo(&shape, N, H, W), "bf16 GEMM") == NULL);

    conv_out fp32 = run_conv(be, RN_FP32, x, wt, dy);
    conv_out fp16 = run_conv(be, RN_FP16, x, wt, dy);
    conv_out bf16 = run_conv(be, RN_BF16, x, wt, dy);
    CHECK(same_bits(&fp16, &fp32));
    /* Exact products, fp32 sums in another order: a few float epsilons. */
    const double diff = worst_diff(&bf16, &fp32);
    printf("bf16 products %s: forward and backward against the fp32 SGEMM, worst rel. L2 %.2e\n",
           hw ? "(AVX-512 BF16)" : "(no AVX-512 BF16: the SGEMM)", diff);
    CHECK(diff <= 1e-6);
    CHECK(hw || same_bits(&bf16, &fp32));

    setenv("RN_CPU_BF16_GEMM", "off", 1);
    conv_out off = run_conv(be, RN_BF16, x, wt, dy);
    CHECK(same_bits(&off, &fp32));
    be->conv_math(RN_BF16);
    CHECK(!rn_cpu_conv_bf16_products());
    be->conv_math(RN_FP32);
    unsetenv("RN_CPU_BF16_GEMM");
    CHECK(rn_cpu_bf16_gemm_choice()->measured == hw); /* measured once, kept */

    drop(&fp32);
    drop(&fp16);
    drop(&bf16);
    drop(&off);
    free(x);
    free(wt);
    free(dy);
    return cs_test_done();
}
