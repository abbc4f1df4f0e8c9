/* The GPU backend against the CPU backend, operation by operation (built in
 * CUDA builds only; skipped, exit 77, when no device is usable).
 *
 * Every entry of backend.h runs on both backends with the same seeded
 * inputs; outputs and gradients must agree within a relative L2 error of
 * 1e-4 (float32 both sides; only the order of the sums differs), integer
 * results (max-pool arg-max, correct count) exactly. Odd sizes everywhere,
 * so no kernel is right only for multiples of a block. The conventions are
 * checked on the way: outputs start full of a sentinel (backward functions
 * must overwrite, not add), dx = NULL is accepted, in-place calls where the
 * contract allows them, and repeated runs give identical bits (the GPU
 * kernels are written without atomics).
 *
 * Convolutions run in up to three passes: the default path (cuDNN when it
 * was built), then RN_CONV=im2col, then im2col with RN_CONV_CHUNK_FLOATS so
 * small that the batch goes one image at a time (the chunk loop, and dW
 * accumulated over chunks). */
#define _POSIX_C_SOURCE 200112L /* setenv, unsetenv */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cs_gpu.h"
#include "cs_rng.h"
#include "cs_test.h"
#include "device_mem.h"
#include "precision.h"
#include "rn_round_check.h"

#define TOL      1e-4
#define SENTINEL 777.0f /* what outputs hold before a call: it must be gone after */

static const rn_backend *cpu, *gpu;
static cs_rng rng;

/* ---- Buffers --------------------------------------------------------------
 * Every buffer a check takes is remembered and freed by release_all() at
 * the end of that check, so the checks read as straight lines. Names: g_*
 * live on the device (the GPU backend's), *_ref hold the CPU's results. */
#define MAX_BUFS 4096 /* check_adam_multi takes about 1100 (50 tensors, 3 steps) */
static struct {
    void *p;
    int on_device;
} bufs[MAX_BUFS];
static int nbufs;

static void remember(void *p, int on_device)
{
    if (nbufs == MAX_BUFS) {
        fprintf(stderr, "test_rn_gpu_layers: more than %d live buffers\n", MAX_BUFS);
        exit(3);
    }
    bufs[nbufs].p = p;
    bufs[nbufs].on_device = on_device;
    nbufs++;
}

static void release_all(void)
{
    for (int i = 0; i < nbufs; i++) {
        if (bufs[i].on_device)
            rn_device_free(bufs[i].p);
        else
            free(bufs[i].p);
    }
    nbufs = 0;
}

static void *host_bytes(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "test_rn_gpu_layers: out of host memory (%zu bytes)\n", bytes);
        exit(3);
    }
    remember(p, 0);
    return p;
}

static float *host_floats(size_t n)
{
    return host_bytes(n * sizeof(float));
}

static float *host_random(size_t n, float lo, float hi)
{
    float *p = host_floats(n);
    cs_rng_fill_uniform(&rng, p, n, lo, hi);
    return p;
}

static float *host_filled(size_t n, float v)
{
    float *p = host_floats(n);
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

static float *host_copy(const float *src, size_t n)
{
    float *p = host_floats(n);
    memcpy(p, src, n * sizeof(float));
    return p;
}

/* A device copy of host memory. */
static void *dev_copy_bytes(const void *src, size_t bytes)
{
    void *d = rn_device_alloc(bytes ? bytes : 1, "test buffer");
    remember(d, 1);
    gpu->to_backend(d, src, bytes);
    return d;
}

static float *dev_copy(const float *src, size_t n)
{
    return dev_copy_bytes(src, n * sizeof(float));
}

static float *dev_filled(size_t n, float v)
{
    float *h = host_filled(n, v);
    return dev_copy(h, n);
}

/* A host copy of device floats. */
static float *fetch(const float *d, size_t n)
{
    float *h = host_floats(n);
    gpu->to_host(h, d, n * sizeof(float));
    return h;
}

/* ---- Comparisons --------------------------------------------------------- */

/* ||got - ref|| / ||ref|| (absolute when ref is all zeros); NaN anywhere in
 * got makes it NaN, which fails every "<= tol". */
static double rel_l2(const float *got, const float *ref, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return sqrt(num) / (den > 0.0 ? sqrt(den) : 1.0);
}

/* The device result d against the CPU's ref, within tol. */
static void expect_within(const char *what, const float *d, const float *ref, size_t n, double tol)
{
    float *got = fetch(d, n);
    double e = rel_l2(got, ref, n);
    printf("  %-44s rel L2 %.2e\n", what, e);
    if (!(e <= tol)) fprintf(stderr, "%s: relative L2 error %.3g above %g\n", what, e, tol);
    CHECK(e <= tol);
}

static void expect_close(const char *what, const float *d, const float *ref, size_t n)
{
    expect_within(what, d, ref, n, TOL);
}

/* Two device results that must be bit-identical (a repeated run). */
static void expect_same_bits(const char *what, const float *d1, const float *d2, size_t n)
{
    float *a = fetch(d1, n), *b = fetch(d2, n);
    int same = memcmp(a, b, n * sizeof(float)) == 0;
    printf("  %-44s %s\n", what, same ? "identical on repeat" : "DIFFERS on repeat");
    CHECK(same);
}

/* ---- 16-bit storage (Part 3) ------------------------------------------------ */

/* The GPU's pack and unpack against the CPU's, bit for bit, on values of
 * every magnitude (fp16's overflow and subnormals included). */
static void check_storage(size_t count, rn_precision p)
{
    float *x = host_floats(count);
    for (size_t i = 0; i < count; i++) {
        float v = cs_rng_uniform(&rng, -1.0f, 1.0f);
        x[i] = ldexpf(v, (int)(i % 60) - 40); /* 2^-40 .. 2^19 */
    }
    uint16_t *ref = host_bytes(count * sizeof(uint16_t)), *got = host_bytes(count * sizeof(uint16_t));
    float *back_ref = host_floats(count), *back = host_floats(count);
    cpu->pack(count, x, ref, (int)p);
    cpu->unpack(count, ref, back_ref, (int)p);
    const float *g_x = dev_copy(x, count);
    uint16_t *g_bits = dev_copy_bytes(ref, count * sizeof(uint16_t));
    float *g_back = dev_filled(count, SENTINEL);
    gpu->pack(count, g_x, g_bits, (int)p);
    gpu->unpack(count, g_bits, g_back, (int)p);
    gpu->to_host(got, g_bits, count * sizeof(uint16_t));
    gpu->to_host(back, g_back, count * sizeof(float));
    int same = memcmp(got, ref, count * sizeof(uint16_t)) == 0 && memcmp(back, back_ref, count * sizeof(float)) == 0;
    printf(" %s storage, %zu values: pack and unpack %s the CPU's\n", rn_precision_name(p), count,
           same ? "bit for bit as" : "DIFFER from");
    CHECK(same);
    release_all();
}

/* ---- Convolution ------------------------------------------------------------ */

typedef struct {
    int cin, cout, k, stride, pad, n, h, w;
} conv_case;

/* ResNet-18's four kinds: the 7x7 stem, 3x3 stride 1 and 2, the 1x1
 * stride-2 shortcut; and ResNet-50's 1x1 stride 1 (its Bottlenecks' first
 * and last convolutions); odd, non-square images; one wider case. */
static const conv_case conv_cases[] = {
    {3, 8, 7, 2, 3, 2, 17, 15},
    {5, 6, 3, 1, 1, 3, 9, 11},
    {4, 7, 3, 2, 1, 2, 13, 9},
    {6, 5, 1, 2, 0, 3, 11, 7},
    {6, 9, 1, 1, 0, 2, 7, 5},
    /* wider than a 32 x 32 tile in channels and pixels, neither a multiple
     * of 32: the channels-last copies' partial tiles on every side */
    {40, 36, 3, 1, 1, 2, 9, 7},
};

/* Part 3: inputs rounded to fp16 or bf16 first (as the model rounds them),
 * for the tensor-core passes: TF32 and the 16-bit GEMMs hold them exactly,
 * so the products are exact and only the order of the fp32 sums differs. */
static rn_precision round_inputs = RN_FP32;

static void round_fp16(const float *x, size_t n)
{
    if (round_inputs != RN_FP32) rn_round_to(n, x, (float *)x, round_inputs);
}

static void check_conv(const conv_case *c, const char *pass)
{
    const rn_conv_shape s = {c->cin, c->cout, c->k, c->stride, c->pad};
    const int oh = rn_out_size(c->h, c->k, c->stride, c->pad);
    const int ow = rn_out_size(c->w, c->k, c->stride, c->pad);
    const size_t nx = (size_t)c->n * c->cin * c->h * c->w;
    const size_t nw = (size_t)c->cout * c->cin * c->k * c->k;
    const size_t ny = (size_t)c->n * c->cout * oh * ow;
    printf(" conv k%d s%d p%d, %dx%dx%dx%d -> %d, %s (%s):\n", c->k, c->stride, c->pad, c->n, c->cin, c->h, c->w,
           c->cout, gpu->conv_algo(&s, c->n, c->h, c->w), pass);

    const float *x = host_random(nx, -1.0f, 1.0f);
    const float *wt = host_random(nw, -0.5f, 0.5f);
    const float *dy = host_random(ny, -1.0f, 1.0f);
    round_fp16(x, nx);
    round_fp16(wt, nw);
    round_fp16(dy, ny);

    /* CPU reference. */
    size_t cw = cpu->conv_work_floats(&s, c->n, c->h, c->w);
    float *cwork = host_floats(cw ? cw : 1);
    float *y_ref = host_filled(ny, SENTINEL);
    float *dx_ref = host_filled(nx, SENTINEL);
    float *dw_ref = host_filled(nw, SENTINEL);
    cpu->conv_forward(&s, c->n, c->h, c->w, x, wt, y_ref, cwork);
    cpu->conv_backward(&s, c->n, c->h, c->w, x, wt, dy, dx_ref, dw_ref, cwork);
    /* cuDNN on 16-bit tensors writes 16-bit results: the reference rounded
     * the same way (the sums then differ only where they straddle a
     * rounding boundary). */
    double tol = TOL;
    if (strstr(gpu->conv_algo(&s, c->n, c->h, c->w), "16 tensors") != NULL) {
        rn_round_to(ny, y_ref, y_ref, round_inputs);
        rn_round_to(nx, dx_ref, dx_ref, round_inputs);
        rn_round_to(nw, dw_ref, dw_ref, round_inputs);
        /* A sum landing on the other side of a rounding boundary moves its
         * element by one unit in the last place: on tensors of 30 values
         * that alone is more than 1e-4. A wrong convolution is off by O(1). */
        tol = round_inputs == RN_BF16 ? 1.0 / 128 : 1.0 / 1024;
    }

    /* GPU. */
    size_t gw = gpu->conv_work_floats(&s, c->n, c->h, c->w);
    float *g_work = gw ? dev_filled(gw, SENTINEL) : NULL;
    const float *g_x = dev_copy(x, nx), *g_w = dev_copy(wt, nw), *g_dy = dev_copy(dy, ny);
    float *g_y = dev_filled(ny, SENTINEL);
    float *g_dx = dev_filled(nx, SENTINEL), *g_dw = dev_filled(nw, SENTINEL);
    gpu->conv_forward(&s, c->n, c->h, c->w, g_x, g_w, g_y, g_work);
    gpu->conv_backward(&s, c->n, c->h, c->w, g_x, g_w, g_dy, g_dx, g_dw, g_work);
    expect_within("forward y", g_y, y_ref, ny, tol);
    expect_within("backward dx", g_dx, dx_ref, nx, tol);
    expect_within("backward dweight", g_dw, dw_ref, nw, tol);

    /* dx = NULL (the image's convolution): dweight alone, and the same
     * bits as with dx, run after run. */
    float *g_dw2 = dev_filled(nw, SENTINEL);
    gpu->conv_backward(&s, c->n, c->h, c->w, g_x, g_w, g_dy, NULL, g_dw2, g_work);
    expect_within("backward dweight with dx NULL", g_dw2, dw_ref, nw, tol);
    expect_same_bits("backward dweight", g_dw, g_dw2, nw);
    release_all();
}

static void check_convs(const char *pass)
{
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) check_conv(&conv_cases[i], pass);
}

/* 5 images of 301 x 301: 453005 columns. */
static const conv_case big_conv_case = {4, 4, 3, 1, 1, 5, 301, 301};

/* No images: the weight's gradient is zero, written (not left as it was). */
static void check_conv_no_images(void)
{
    const rn_conv_shape s = {3, 4, 3, 1, 1};
    const size_t nw = (size_t)4 * 3 * 3 * 3;
    printf(" conv backward with no images:\n");
    size_t gw = gpu->conv_work_floats(&s, 1, 5, 5);
    float *g_work = gw ? dev_filled(gw, SENTINEL) : NULL;
    const float *g_w = dev_copy(host_random(nw, -0.5f, 0.5f), nw);
    float *g_dw = dev_filled(nw, SENTINEL);
    gpu->conv_backward(&s, 0, 5, 5, NULL, g_w, NULL, NULL, g_dw, g_work);
    expect_close("dweight is zero", g_dw, host_filled(nw, 0.0f), nw);
    release_all();
}

/* The arena's device zero-fill (rn_device_zero): Adam's moments start from
 * it, so a buffer that is not all zeros would bias every step. */
static void check_device_zero(size_t count)
{
    printf(" device zero-fill, %zu floats:\n", count);
    float *g = dev_filled(count, SENTINEL);
    rn_device_zero(g, count * sizeof(float));
    const float *back = fetch(g, count);
    size_t nonzero = 0;
    for (size_t i = 0; i < count; i++) nonzero += back[i] != 0.0f;
    printf("  %-44s %zu of %zu not zero\n", "after rn_device_zero", nonzero, count);
    CHECK(nonzero == 0);
    release_all();
}

/* ---- Batch norm ---------------------------------------------------------------- */

static void check_bn(int n, int c, int hw)
{
    const size_t count = (size_t)n * c * hw;
    const float momentum = 0.1f, eps = 1e-5f;
    printf(" batch norm %d x %d x %d:\n", n, c, hw);
    /* Channels with a mean away from zero: the variance's cancellation is
     * what a careless one-pass formula gets wrong. */
    const float *x = host_random(count, 1.5f, 3.5f);
    const float *gamma = host_random((size_t)c, 0.5f, 1.5f);
    const float *beta = host_random((size_t)c, -0.5f, 0.5f);
    const float *rm0 = host_random((size_t)c, -0.1f, 0.1f);
    const float *rv0 = host_random((size_t)c, 0.5f, 1.5f);
    const float *dy = host_random(count, -1.0f, 1.0f);

    float *y_ref = host_filled(count, SENTINEL);
    float *sm_ref = host_filled((size_t)c, SENTINEL), *si_ref = host_filled((size_t)c, SENTINEL);
    float *rm_ref = host_copy(rm0, (size_t)c), *rv_ref = host_copy(rv0, (size_t)c);
    cpu->bn_forward_train(n, c, hw, x, gamma, beta, y_ref, sm_ref, si_ref, rm_ref, rv_ref, momentum, eps);

    const float *g_x = dev_copy(x, count), *g_gamma = dev_copy(gamma, (size_t)c);
    const float *g_beta = dev_copy(beta, (size_t)c);
    float *g_y = dev_filled(count, SENTINEL);
    float *g_save_mean = dev_filled((size_t)c, SENTINEL);
    float *g_save_invstd = dev_filled((size_t)c, SENTINEL);
    float *g_running_mean = dev_copy(rm0, (size_t)c), *g_running_var = dev_copy(rv0, (size_t)c);
    gpu->bn_forward_train(n, c, hw, g_x, g_gamma, g_beta, g_y, g_save_mean, g_save_invstd, g_running_mean,
                          g_running_var, momentum, eps);
    expect_close("train forward y", g_y, y_ref, count);
    expect_close("train save_mean", g_save_mean, sm_ref, (size_t)c);
    expect_close("train save_invstd", g_save_invstd, si_ref, (size_t)c);
    expect_close("train running_mean", g_running_mean, rm_ref, (size_t)c);
    expect_close("train running_var (unbiased)", g_running_var, rv_ref, (size_t)c);

    /* Evaluation with the updated running statistics (the CPU's, on both). */
    float *ye_ref = host_filled(count, SENTINEL);
    cpu->bn_forward_eval(n, c, hw, x, gamma, beta, rm_ref, rv_ref, eps, ye_ref);
    const float *g_rm_ref = dev_copy(rm_ref, (size_t)c), *g_rv_ref = dev_copy(rv_ref, (size_t)c);
    float *g_y_eval = dev_filled(count, SENTINEL);
    gpu->bn_forward_eval(n, c, hw, g_x, g_gamma, g_beta, g_rm_ref, g_rv_ref, eps, g_y_eval);
    expect_close("eval forward y", g_y_eval, ye_ref, count);

    /* Backward from the CPU's saved statistics, so both start equal. */
    float *dx_ref = host_filled(count, SENTINEL);
    float *dgam_ref = host_filled((size_t)c, SENTINEL);
    float *dbet_ref = host_filled((size_t)c, SENTINEL);
    cpu->bn_backward(n, c, hw, x, gamma, sm_ref, si_ref, dy, dx_ref, dgam_ref, dbet_ref);
    const float *g_sm_ref = dev_copy(sm_ref, (size_t)c), *g_si_ref = dev_copy(si_ref, (size_t)c);
    const float *g_dy = dev_copy(dy, count);
    float *g_dx = dev_filled(count, SENTINEL);
    float *g_dgamma = dev_filled((size_t)c, SENTINEL), *g_dbeta = dev_filled((size_t)c, SENTINEL);
    gpu->bn_backward(n, c, hw, g_x, g_gamma, g_sm_ref, g_si_ref, g_dy, g_dx, g_dgamma, g_dbeta);
    expect_close("backward dx", g_dx, dx_ref, count);
    expect_close("backward dgamma", g_dgamma, dgam_ref, (size_t)c);
    expect_close("backward dbeta", g_dbeta, dbet_ref, (size_t)c);

    float *g_dgamma2 = dev_filled((size_t)c, SENTINEL), *g_dbeta2 = dev_filled((size_t)c, SENTINEL);
    gpu->bn_backward(n, c, hw, g_x, g_gamma, g_sm_ref, g_si_ref, g_dy, NULL, g_dgamma2, g_dbeta2);
    expect_close("backward dgamma with dx NULL", g_dgamma2, dgam_ref, (size_t)c);
    expect_same_bits("backward dgamma", g_dgamma, g_dgamma2, (size_t)c);
    expect_same_bits("backward dbeta", g_dbeta, g_dbeta2, (size_t)c);

    /* In place (dx is dy: the stem's backward writes bn1's input gradient
     * over its output's): the same bits as into a buffer of its own. */
    float *g_inplace = (float *)dev_copy(dy, count);
    gpu->bn_backward(n, c, hw, g_x, g_gamma, g_sm_ref, g_si_ref, g_inplace, g_inplace, g_dgamma2, g_dbeta2);
    expect_same_bits("backward dx in place", g_dx, g_inplace, count);

    /* The forwards in place (y is x: the 16-bit stem normalises conv1's
     * output where it lies): the same bits as out of place. */
    float *g_y2 = (float *)dev_copy(x, count);
    float *g_rm2 = dev_copy(rm0, (size_t)c), *g_rv2 = dev_copy(rv0, (size_t)c);
    float *g_sm2 = dev_filled((size_t)c, SENTINEL), *g_si2 = dev_filled((size_t)c, SENTINEL);
    gpu->bn_forward_train(n, c, hw, g_y2, g_gamma, g_beta, g_y2, g_sm2, g_si2, g_rm2, g_rv2, momentum, eps);
    expect_same_bits("train forward y in place", g_y, g_y2, count);
    float *g_ye2 = (float *)dev_copy(x, count);
    gpu->bn_forward_eval(n, c, hw, g_ye2, g_gamma, g_beta, g_rm_ref, g_rv_ref, eps, g_ye2);
    expect_same_bits("eval forward y in place", g_y_eval, g_ye2, count);

    /* Part 3: x in 16 bits, widened as read, against the float backward on
     * the same values (the same bits) and against the CPU's. */
    const rn_precision lows[2] = {RN_FP16, RN_BF16};
    for (int k = 0; k < 2; k++) {
        uint16_t *bits = host_bytes(count * sizeof(uint16_t));
        float *xr = host_floats(count);
        rn_pack(count, x, bits, lows[k]);
        rn_unpack(count, bits, xr, lows[k]);
        float *dxb_ref = host_filled(count, SENTINEL), *dgb_ref = host_filled((size_t)c, SENTINEL);
        float *dbb_ref = host_filled((size_t)c, SENTINEL);
        cpu->bn_backward_bits(n, c, hw, bits, (int)lows[k], gamma, sm_ref, si_ref, dy, dxb_ref, dgb_ref, dbb_ref);
        const uint16_t *g_bits = dev_copy_bytes(bits, count * sizeof(uint16_t));
        const float *g_xr = dev_copy(xr, count);
        float *g_dxf = dev_filled(count, SENTINEL), *g_dxb = dev_filled(count, SENTINEL);
        float *g_dg = dev_filled((size_t)c, SENTINEL), *g_db = dev_filled((size_t)c, SENTINEL);
        float *g_dgb = dev_filled((size_t)c, SENTINEL), *g_dbb = dev_filled((size_t)c, SENTINEL);
        gpu->bn_backward(n, c, hw, g_xr, g_gamma, g_sm_ref, g_si_ref, g_dy, g_dxf, g_dg, g_db);
        gpu->bn_backward_bits(n, c, hw, g_bits, (int)lows[k], g_gamma, g_sm_ref, g_si_ref, g_dy, g_dxb, g_dgb, g_dbb);
        expect_same_bits(k == 0 ? "backward from fp16 bits: dx" : "backward from bf16 bits: dx", g_dxf, g_dxb, count);
        expect_same_bits("  dgamma", g_dg, g_dgb, (size_t)c);
        expect_same_bits("  dbeta", g_db, g_dbb, (size_t)c);
        expect_close("  dx against the CPU's", g_dxb, dxb_ref, count);
        expect_close("  dgamma against the CPU's", g_dgb, dgb_ref, (size_t)c);
    }
    release_all();
}

/* Part 5's fused batch norm (gpu_fused.cu: the two-stage reduction) against
 * the CPU's fused entries: relu(bn(x) + residual) and relu(bn(x)), then the
 * backward through the ReLU from the CPU's statistics (dy masked in place,
 * as the shortcut then reads it), out of place and in place. */
static void check_fused_bn(int n, int c, int hw)
{
    const size_t count = (size_t)n * c * hw;
    const float momentum = 0.1f, eps = 1e-5f;
    printf(" fused batch norm + add + relu %d x %d x %d:\n", n, c, hw);
    CHECK(gpu->bn_add_relu_forward_train != NULL && gpu->relu_bn_backward != NULL);
    const float *x = host_random(count, 1.5f, 3.5f), *res = host_random(count, -3.0f, 1.0f);
    const float *gamma = host_random((size_t)c, 0.5f, 1.5f), *beta = host_random((size_t)c, -0.5f, 0.5f);
    const float *rm0 = host_random((size_t)c, -0.1f, 0.1f), *rv0 = host_random((size_t)c, 0.5f, 1.5f);
    const float *dy = host_random(count, -1.0f, 1.0f);
    const float *g_x = dev_copy(x, count), *g_res = dev_copy(res, count), *g_gamma = dev_copy(gamma, (size_t)c);
    const float *g_beta = dev_copy(beta, (size_t)c);
    for (int with_res = 0; with_res < 2; with_res++) {
        float *y_ref = host_filled(count, SENTINEL), *sm = host_filled((size_t)c, SENTINEL);
        float *si = host_filled((size_t)c, SENTINEL);
        float *rm = host_copy(rm0, (size_t)c), *rv = host_copy(rv0, (size_t)c);
        cpu->bn_add_relu_forward_train(n, c, hw, x, gamma, beta, with_res ? res : NULL, y_ref, sm, si, rm, rv, momentum,
                                       eps);
        float *g_y = dev_filled(count, SENTINEL), *g_sm = dev_filled((size_t)c, SENTINEL);
        float *g_si = dev_filled((size_t)c, SENTINEL);
        float *g_rm = dev_copy(rm0, (size_t)c), *g_rv = dev_copy(rv0, (size_t)c);
        gpu->bn_add_relu_forward_train(n, c, hw, g_x, g_gamma, g_beta, with_res ? g_res : NULL, g_y, g_sm, g_si, g_rm,
                                       g_rv, momentum, eps);
        expect_close(with_res ? "relu(bn(x) + residual)" : "relu(bn(x))", g_y, y_ref, count);
        expect_close("save_mean", g_sm, sm, (size_t)c);
        expect_close("save_invstd", g_si, si, (size_t)c);
        expect_close("running_mean", g_rm, rm, (size_t)c);
        expect_close("running_var", g_rv, rv, (size_t)c);
        if (!with_res) continue;
        /* The backward through the ReLU, from the CPU's y and statistics. */
        float *dy_ref = host_copy(dy, count), *dx_ref = host_filled(count, SENTINEL);
        float *dg_ref = host_filled((size_t)c, SENTINEL), *db_ref = host_filled((size_t)c, SENTINEL);
        cpu->relu_bn_backward(n, c, hw, y_ref, x, gamma, sm, si, dy_ref, dx_ref, dg_ref, db_ref);
        const float *g_yr = dev_copy(y_ref, count), *g_smr = dev_copy(sm, (size_t)c), *g_sir = dev_copy(si, (size_t)c);
        float *g_dy = dev_copy(dy, count), *g_dx = dev_filled(count, SENTINEL);
        float *g_dg = dev_filled((size_t)c, SENTINEL), *g_db = dev_filled((size_t)c, SENTINEL);
        gpu->relu_bn_backward(n, c, hw, g_yr, g_x, g_gamma, g_smr, g_sir, g_dy, g_dx, g_dg, g_db);
        expect_close("backward dy masked by the relu", g_dy, dy_ref, count);
        expect_close("backward dx", g_dx, dx_ref, count);
        expect_close("backward dgamma", g_dg, dg_ref, (size_t)c);
        expect_close("backward dbeta", g_db, db_ref, (size_t)c);
        float *g_inplace = dev_copy(dy, count);
        gpu->relu_bn_backward(n, c, hw, g_yr, g_x, g_gamma, g_smr, g_sir, g_inplace, g_inplace, g_dg, g_db);
        expect_same_bits("backward dx in place", g_dx, g_inplace, count);
    }
    release_all();
}

/* The stem's fused batch norm + ReLU + max pool and its backward through
 * the ReLU, against the CPU's. */
static void check_fused_stem(int n, int c, int h, int w)
{
    const int k = 3, stride = 2, pad = 1;
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * oh * ow;
    printf(" fused stem batch norm + relu + max pool %d x %d x %d x %d:\n", n, c, h, w);
    CHECK(gpu->bn_relu_maxpool_forward_train != NULL && gpu->relu_maxpool_backward != NULL);
    const float *x = host_random(nx, -1.0f, 1.0f), *dy = host_random(ny, -1.0f, 1.0f);
    const float *gamma = host_random((size_t)c, 0.5f, 1.5f), *beta = host_random((size_t)c, -0.5f, 0.5f);
    float *pooled = host_filled(ny, SENTINEL), *sm = host_filled((size_t)c, 0), *si = host_filled((size_t)c, 0);
    float *rm = host_filled((size_t)c, 0.0f), *rv = host_filled((size_t)c, 1.0f);
    int32_t *arg_ref = host_bytes(ny * sizeof(int32_t));
    cpu->bn_relu_maxpool_forward_train(n, c, h, w, k, stride, pad, x, gamma, beta, pooled, arg_ref, sm, si, rm, rv,
                                       0.1f, 1e-5f);
    const float *g_x = dev_copy(x, nx), *g_gamma = dev_copy(gamma, (size_t)c), *g_beta = dev_copy(beta, (size_t)c);
    float *g_pooled = dev_filled(ny, SENTINEL), *g_sm = dev_filled((size_t)c, 0), *g_si = dev_filled((size_t)c, 0);
    float *g_rm = dev_filled((size_t)c, 0.0f), *g_rv = dev_filled((size_t)c, 1.0f);
    int32_t *g_arg = dev_copy_bytes(arg_ref, ny * sizeof(int32_t));
    gpu->bn_relu_maxpool_forward_train(n, c, h, w, k, stride, pad, g_x, g_gamma, g_beta, g_pooled, g_arg, g_sm, g_si,
                                       g_rm, g_rv, 0.1f, 1e-5f);
    expect_close("pooled relu(bn(x))", g_pooled, pooled, ny);
    expect_close("running_var", g_rv, rv, (size_t)c);
    int32_t *arg = host_bytes(ny * sizeof(int32_t));
    gpu->to_host(arg, g_arg, ny * sizeof(int32_t));
    /* The statistics differ in their last bits (one pass against two): a
     * window whose best values sit within rounding of each other, or of
     * the ReLU's zero, may pick another; the clear winners must agree. */
    size_t differ = 0;
    for (size_t i = 0; i < ny; i++) differ += arg[i] != arg_ref[i] && pooled[i] > 1e-3f;
    printf("  %-44s %zu of %zu differ (pooled value > 1e-3)\n", "argmax", differ, ny);
    CHECK(differ == 0);
    float *dx_ref = host_filled(nx, SENTINEL);
    cpu->relu_maxpool_backward(n, c, h, w, k, stride, pad, pooled, arg_ref, dy, dx_ref);
    const float *g_pooled_ref = dev_copy(pooled, ny), *g_dy = dev_copy(dy, ny);
    const int32_t *g_arg_ref = dev_copy_bytes(arg_ref, ny * sizeof(int32_t));
    float *g_dx = dev_filled(nx, SENTINEL);
    gpu->relu_maxpool_backward(n, c, h, w, k, stride, pad, g_pooled_ref, g_arg_ref, g_dy, g_dx);
    expect_close("backward dx through the relu", g_dx, dx_ref, nx);
    release_all();
}

/* ---- Elementwise ------------------------------------------------------------------ */

static void check_elementwise(size_t count)
{
    printf(" relu and add, %zu elements:\n", count);
    const float *x = host_random(count, -1.0f, 1.0f);
    const float *dy = host_random(count, -1.0f, 1.0f);
    const float *b = host_random(count, -1.0f, 1.0f);

    float *y_ref = host_filled(count, SENTINEL);
    cpu->relu_forward(count, x, y_ref);
    float *dx_ref = host_filled(count, SENTINEL);
    cpu->relu_backward(count, y_ref, dy, dx_ref);
    float *sum_ref = host_filled(count, SENTINEL);
    cpu->add(count, x, b, sum_ref);

    float *g_x = dev_copy(x, count), *g_y = dev_filled(count, SENTINEL);
    gpu->relu_forward(count, g_x, g_y);
    expect_close("relu forward", g_y, y_ref, count);
    gpu->relu_forward(count, g_x, g_x); /* in place: y = x */
    expect_close("relu forward in place", g_x, y_ref, count);

    const float *g_y_ref = dev_copy(y_ref, count);
    float *g_dy = dev_copy(dy, count), *g_dx = dev_filled(count, SENTINEL);
    gpu->relu_backward(count, g_y_ref, g_dy, g_dx);
    expect_close("relu backward", g_dx, dx_ref, count);
    gpu->relu_backward(count, g_y_ref, g_dy, g_dy); /* in place: dx = dy */
    expect_close("relu backward in place", g_dy, dx_ref, count);

    float *g_a = dev_copy(x, count), *g_b = dev_copy(b, count);
    float *g_sum = dev_filled(count, SENTINEL);
    gpu->add(count, g_a, g_b, g_sum);
    expect_close("add", g_sum, sum_ref, count);
    gpu->add(count, g_a, g_b, g_a); /* in place: y = a */
    expect_close("add in place", g_a, sum_ref, count);
    release_all();
}

/* ---- Pooling ------------------------------------------------------------------------ */

static void check_maxpool(int n, int c, int h, int w, int k, int stride, int pad, float lo, float hi, int ties)
{
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * oh * ow;
    printf(" max pool k%d s%d p%d, %dx%dx%dx%d, values in [%g, %g)%s:\n", k, stride, pad, n, c, h, w, (double)lo,
           (double)hi, ties ? " in steps of 0.5 (ties)" : "");
    float *x = host_random(nx, lo, hi);
    if (ties) /* a few distinct values: most windows hold their maximum twice */
        for (size_t i = 0; i < nx; i++) x[i] = floorf(x[i] * 2.0f) / 2.0f;
    const float *dy = host_random(ny, -1.0f, 1.0f);

    float *y_ref = host_filled(ny, SENTINEL);
    int32_t *arg_ref = host_bytes(ny * sizeof(int32_t));
    cpu->maxpool_forward(n, c, h, w, k, stride, pad, x, y_ref, arg_ref);
    float *dx_ref = host_filled(nx, SENTINEL);
    cpu->maxpool_backward(n, c, h, w, k, stride, pad, arg_ref, dy, dx_ref);

    const float *g_x = dev_copy(x, nx);
    float *g_y = dev_filled(ny, SENTINEL);
    int32_t *g_argmax = dev_copy_bytes(host_filled(ny, SENTINEL), ny * sizeof(int32_t));
    gpu->maxpool_forward(n, c, h, w, k, stride, pad, g_x, g_y, g_argmax);
    expect_close("forward y", g_y, y_ref, ny);

    /* The same inputs and the same rule (first maximum, padding never
     * wins) give the same indices, ties included. */
    int32_t *arg = host_bytes(ny * sizeof(int32_t));
    gpu->to_host(arg, g_argmax, ny * sizeof(int32_t));
    size_t differ = 0, in_padding = 0;
    for (size_t i = 0; i < ny; i++) {
        differ += arg[i] != arg_ref[i];
        in_padding += arg[i] < 0 || arg[i] >= h * w;
    }
    printf("  %-44s %zu of %zu differ, %zu outside the plane\n", "forward argmax", differ, ny, in_padding);
    CHECK(differ == 0);
    CHECK(in_padding == 0);

    /* Backward from the CPU's indices, so both route the same gradients. */
    const int32_t *g_argmax_ref = dev_copy_bytes(arg_ref, ny * sizeof(int32_t));
    const float *g_dy = dev_copy(dy, ny);
    float *g_dx = dev_filled(nx, SENTINEL);
    gpu->maxpool_backward(n, c, h, w, k, stride, pad, g_argmax_ref, g_dy, g_dx);
    expect_close("backward dx", g_dx, dx_ref, nx);
    release_all();
}

static void check_avgpool(int n, int c, int hw)
{
    const size_t nx = (size_t)n * c * hw, ny = (size_t)n * c;
    printf(" global average pool %d x %d x %d:\n", n, c, hw);
    const float *x = host_random(nx, -1.0f, 1.0f);
    const float *dy = host_random(ny, -1.0f, 1.0f);
    float *y_ref = host_filled(ny, SENTINEL), *dx_ref = host_filled(nx, SENTINEL);
    cpu->avgpool_forward(n, c, hw, x, y_ref);
    cpu->avgpool_backward(n, c, hw, dy, dx_ref);

    const float *g_x = dev_copy(x, nx), *g_dy = dev_copy(dy, ny);
    float *g_y = dev_filled(ny, SENTINEL), *g_dx = dev_filled(nx, SENTINEL);
    gpu->avgpool_forward(n, c, hw, g_x, g_y);
    gpu->avgpool_backward(n, c, hw, g_dy, g_dx);
    expect_close("forward y", g_y, y_ref, ny);
    expect_close("backward dx", g_dx, dx_ref, nx);
    release_all();
}

/* ---- Linear ------------------------------------------------------------------------------ */

static void check_linear(int n, int in, int out)
{
    const size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    printf(" linear %d x %d -> %d:\n", n, in, out);
    const float *x = host_random(nx, -1.0f, 1.0f);
    const float *wt = host_random(nw, -0.5f, 0.5f);
    const float *bias = host_random((size_t)out, -0.5f, 0.5f);
    const float *dy = host_random(ny, -1.0f, 1.0f);

    float *y_ref = host_filled(ny, SENTINEL);
    cpu->linear_forward(n, in, out, x, wt, bias, y_ref);
    float *dx_ref = host_filled(nx, SENTINEL), *dw_ref = host_filled(nw, SENTINEL);
    float *db_ref = host_filled((size_t)out, SENTINEL);
    cpu->linear_backward(n, in, out, x, wt, dy, dx_ref, dw_ref, db_ref);

    const float *g_x = dev_copy(x, nx), *g_w = dev_copy(wt, nw);
    const float *g_bias = dev_copy(bias, (size_t)out), *g_dy = dev_copy(dy, ny);
    float *g_y = dev_filled(ny, SENTINEL);
    gpu->linear_forward(n, in, out, g_x, g_w, g_bias, g_y);
    expect_close("forward y", g_y, y_ref, ny);

    float *g_dx = dev_filled(nx, SENTINEL), *g_dw = dev_filled(nw, SENTINEL);
    float *g_dbias = dev_filled((size_t)out, SENTINEL);
    gpu->linear_backward(n, in, out, g_x, g_w, g_dy, g_dx, g_dw, g_dbias);
    expect_close("backward dx", g_dx, dx_ref, nx);
    expect_close("backward dweight", g_dw, dw_ref, nw);
    expect_close("backward g_bias", g_dbias, db_ref, (size_t)out);

    float *g_dw2 = dev_filled(nw, SENTINEL), *g_dbias2 = dev_filled((size_t)out, SENTINEL);
    gpu->linear_backward(n, in, out, g_x, g_w, g_dy, NULL, g_dw2, g_dbias2);
    expect_close("backward dweight with dx NULL", g_dw2, dw_ref, nw);
    expect_close("backward g_bias with dx NULL", g_dbias2, db_ref, (size_t)out);
    release_all();
}

/* ---- Softmax + cross-entropy ---------------------------------------------------------- */

static void check_xent(int n, int classes)
{
    const size_t nz = (size_t)n * classes;
    printf(" cross-entropy %d x %d:\n", n, classes);
    float *logits = host_random(nz, -3.0f, 3.0f);
    /* Row 0 all equal: the arg-max is a tie, and both must take the first. */
    for (int j = 0; j < classes; j++) logits[j] = 0.5f;
    int32_t *labels = host_bytes((size_t)n * sizeof(int32_t));
    for (int i = 0; i < n; i++) labels[i] = (int32_t)cs_rng_below(&rng, (uint32_t)classes);
    labels[0] = 0; /* the tie's first index: counted correct on both sides */

    float *dz_ref = host_filled(nz, SENTINEL);
    float loss_ref = SENTINEL;
    int32_t correct_ref = -1;
    cpu->xent(n, classes, logits, labels, dz_ref, &loss_ref, &correct_ref);

    const float *g_logits = dev_copy(logits, nz);
    const int32_t *g_labels = dev_copy_bytes(labels, (size_t)n * sizeof(int32_t));
    float *g_dz = dev_filled(nz, SENTINEL);
    float *g_loss = dev_filled(1, SENTINEL), *g_loss2 = dev_filled(1, SENTINEL);
    const int32_t unset = -1;
    int32_t *g_correct = dev_copy_bytes(&unset, sizeof unset);
    gpu->xent(n, classes, g_logits, g_labels, g_dz, g_loss, g_correct);
    expect_close("dlogits", g_dz, dz_ref, nz);

    float loss = 0.0f, loss2 = 0.0f;
    int32_t correct = -1;
    gpu->to_host(&loss, g_loss, sizeof loss);
    gpu->to_host(&correct, g_correct, sizeof correct);
    double rel = fabs((double)loss - loss_ref) / fabs((double)loss_ref);
    printf("  %-44s %.7g vs %.7g (rel %.1e)\n", "loss", (double)loss, (double)loss_ref, rel);
    CHECK(rel <= 1e-5);
    printf("  %-44s %d vs %d\n", "correct", (int)correct, (int)correct_ref);
    CHECK(correct == correct_ref);

    /* The loss is a reduction over the batch: the same bits on a repeat. */
    float *g_dz2 = dev_filled(nz, SENTINEL);
    gpu->xent(n, classes, g_logits, g_labels, g_dz2, g_loss2, g_correct);
    gpu->to_host(&loss2, g_loss2, sizeof loss2);
    CHECK(memcmp(&loss, &loss2, sizeof loss) == 0);
    release_all();
}

/* ---- Adam ------------------------------------------------------------------------------ */

static void check_adam(size_t count, int steps)
{
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    printf(" adam, %zu parameters, %d steps:\n", count, steps);
    float *p_ref = host_random(count, -1.0f, 1.0f);
    float *m_ref = host_filled(count, 0.0f), *v_ref = host_filled(count, 0.0f);
    float *g_param = dev_copy(p_ref, count);
    float *g_m = dev_copy(m_ref, count), *g_v = dev_copy(v_ref, count);
    for (int t = 1; t <= steps; t++) {
        const float *g = host_random(count, -1.0f, 1.0f);
        const float *g_grad = dev_copy(g, count);
        cpu->adam(count, p_ref, g, m_ref, v_ref, lr, b1, b2, eps, t);
        gpu->adam(count, g_param, g_grad, g_m, g_v, lr, b1, b2, eps, t);
    }
    expect_close("param", g_param, p_ref, count);
    expect_close("m", g_m, m_ref, count);
    expect_close("v", g_v, v_ref, count);
    release_all();
}

/* Part 5's multi-tensor Adam: more tensors than one launch takes (48),
 * sizes from 1 up, against the GPU's per-tensor Adam (the same bits) and
 * the CPU's. */
static void check_adam_multi(int ntensors, int steps)
{
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    printf(" multi-tensor adam, %d tensors, %d steps:\n", ntensors, steps);
    CHECK(gpu->adam_multi != NULL);
    rn_adam_tensor ts[64];
    float *p_ref[64], *m_ref[64], *v_ref[64], *p1[64], *m1[64], *v1[64];
    size_t count[64];
    CHECK(ntensors <= 64);
    for (int i = 0; i < ntensors; i++) {
        count[i] = 1 + (size_t)(i * 977) % 5003;
        p_ref[i] = host_random(count[i], -1.0f, 1.0f);
        m_ref[i] = host_filled(count[i], 0.0f);
        v_ref[i] = host_filled(count[i], 0.0f);
        ts[i] = (rn_adam_tensor){dev_copy(p_ref[i], count[i]), NULL, dev_filled(count[i], 0.0f),
                                 dev_filled(count[i], 0.0f), count[i]};
        p1[i] = dev_copy(p_ref[i], count[i]);
        m1[i] = dev_filled(count[i], 0.0f);
        v1[i] = dev_filled(count[i], 0.0f);
    }
    for (int t = 1; t <= steps; t++) {
        for (int i = 0; i < ntensors; i++) {
            const float *g = host_random(count[i], -1.0f, 1.0f);
            ts[i].grad = dev_copy(g, count[i]);
            cpu->adam(count[i], p_ref[i], g, m_ref[i], v_ref[i], lr, b1, b2, eps, t);
            gpu->adam(count[i], p1[i], ts[i].grad, m1[i], v1[i], lr, b1, b2, eps, t);
        }
        gpu->adam_multi(ntensors, ts, lr, b1, b2, eps, t);
    }
    int same = 1;
    for (int i = 0; i < ntensors; i++) {
        float *a = fetch(ts[i].param, count[i]), *b = fetch(p1[i], count[i]);
        same &= memcmp(a, b, count[i] * sizeof(float)) == 0;
        expect_close(i == 0 ? "param against the CPU's (first tensor)" : "param against the CPU's", ts[i].param,
                     p_ref[i], count[i]);
    }
    printf("  %-44s %s\n", "against one launch per tensor", same ? "the same bits" : "DIFFERENT");
    CHECK(same);
    release_all();
}

int main(void)
{
    char why[256];
    if (!cs_gpu_probe(why, sizeof why)) return cs_test_skip_gpu(why);
    cpu = rn_cpu_backend();
    gpu = rn_gpu_backend();
    if (gpu == NULL) return cs_test_skip_gpu("this build has no GPU backend");
    CHECK(strcmp(gpu->name, "gpu") == 0);
    CHECK(gpu->on_device == 1);
    cs_rng_seed(&rng, 1313, 0);

    /* Convolutions: the default path, then im2col forced, then im2col one
     * image per chunk. */
    const rn_conv_shape probe_shape = {3, 8, 7, 2, 3};
    const char *algo = gpu->conv_algo(&probe_shape, 2, 17, 15);
    check_convs("default path");
    if (strncmp(algo, "cuDNN", 5) == 0) { /* "cuDNN, heuristics (forward ..., ...)" */
        CHECK(strstr(algo, "heuristics") != NULL);
        /* The algorithms chosen by timing them (new plans for every shape). */
        setenv("RN_CUDNN_ALGO", "find", 1);
        CHECK(strstr(gpu->conv_algo(&probe_shape, 2, 17, 15), "timed") != NULL);
        check_convs("cuDNN, RN_CUDNN_ALGO=find");
        unsetenv("RN_CUDNN_ALGO");
        setenv("RN_CONV", "im2col", 1);
        CHECK(strcmp(gpu->conv_algo(&probe_shape, 2, 17, 15), "im2col + cuBLAS") == 0);
        check_convs("RN_CONV=im2col");
    } else {
        printf(" (cuDNN not built: the default path was im2col + cuBLAS)\n");
        CHECK(strcmp(algo, "im2col + cuBLAS") == 0);
        setenv("RN_CONV", "im2col", 1);
    }
    setenv("RN_CONV_CHUNK_FLOATS", "1", 1); /* below one image: chunks of one */
    check_convs("im2col, one image per chunk");
    /* Two images per chunk for three images: a full chunk, then a short
     * last one (per image: 99 pixels x (45 + 6) floats = 5049). */
    setenv("RN_CONV_CHUNK_FLOATS", "10098", 1);
    check_conv(&conv_cases[1], "im2col, chunks of 2 and 1");
    unsetenv("RN_CONV_CHUNK_FLOATS");
    unsetenv("RN_CONV");
    /* More columns than the im2col grid has threads (1024 blocks of 256):
     * its grid-stride loop runs several times; on every path. */
    check_conv(&big_conv_case, "default path");
    setenv("RN_CONV", "im2col", 1);
    check_conv(&big_conv_case, "RN_CONV=im2col");
    unsetenv("RN_CONV");
    /* Part 3's tensor cores on fp16- and bf16-rounded inputs: the default
     * path (cuDNN with TF32 allowed), then im2col on 16-bit matrices. */
    CHECK(gpu->conv_math != NULL);
    const rn_precision lows[2] = {RN_FP16, RN_BF16};
    for (int k = 0; k < 2; k++) {
        gpu->conv_math(lows[k]);
        round_inputs = lows[k];
        CHECK(strstr(gpu->conv_algo(&probe_shape, 2, 17, 15), "cuDNN") == NULL ||
              strstr(gpu->conv_algo(&probe_shape, 2, 17, 15), lows[k] == RN_FP16 ? "fp16 tensors" : "bf16 tensors") !=
                  NULL);
        check_convs(lows[k] == RN_FP16 ? "cuDNN on fp16 tensors (or im2col)" : "cuDNN on bf16 tensors (or im2col)");
        /* The 16-bit copies channels last (the default) and NCHW: the
         * same products, the transposing copies exact. */
        CHECK(strstr(gpu->conv_algo(&probe_shape, 2, 17, 15), "cuDNN") == NULL ||
              strstr(gpu->conv_algo(&probe_shape, 2, 17, 15), "NHWC") != NULL);
        setenv("RN_CUDNN_LAYOUT", "nchw", 1);
        CHECK(strstr(gpu->conv_algo(&probe_shape, 2, 17, 15), "NHWC") == NULL);
        check_convs(lows[k] == RN_FP16 ? "cuDNN on fp16 tensors, NCHW copies" : "cuDNN on bf16 tensors, NCHW copies");
        unsetenv("RN_CUDNN_LAYOUT");
        setenv("RN_CONV", "im2col", 1);
        CHECK(strstr(gpu->conv_algo(&probe_shape, 2, 17, 15), rn_precision_name(lows[k])) != NULL);
        check_convs(lows[k] == RN_FP16 ? "im2col, fp16 matrices" : "im2col, bf16 matrices");
        unsetenv("RN_CONV");
    }
    round_inputs = RN_FP32;
    gpu->conv_math(RN_FP32);
    check_conv_no_images();
    check_device_zero(1000003);
    check_storage(1000003, RN_FP16);
    check_storage(1000003, RN_BF16);

    check_bn(3, 5, 63);
    check_bn(17, 7, 1);       /* ResNet's last stage at 32x32: 1x1 planes */
    check_bn(2, 3, 1031);     /* more values per channel than a block has threads */
    check_bn(4, 64, 56 * 56); /* layer1's shape at 224: 12544 values per channel */
    check_elementwise(1001);
    check_elementwise(3000001); /* past the grid cap (8192 x 256): grid-stride loops */
    check_maxpool(2, 3, 13, 11, 3, 2, 1, -1.0f, 1.0f, 0);
    check_maxpool(2, 2, 8, 8, 3, 2, 1, -3.0f, -1.0f, 0); /* all negative: padding (0) must not win */
    check_maxpool(1, 2, 9, 7, 2, 2, 0, -1.0f, 1.0f, 0);
    check_maxpool(2, 3, 13, 11, 3, 2, 1, 0.0f, 1.5f, 1); /* ties, as after a ReLU: first wins */
    check_avgpool(3, 5, 49);
    check_avgpool(4, 37, 1);
    check_linear(5, 37, 11);
    check_linear(33, 64, 10);
    check_xent(7, 10);
    check_xent(37, 10);  /* more rows than the kernel has warps */
    check_xent(3, 1000); /* more classes than a warp has lanes */
    check_adam(1003, 3);
    check_fused_bn(3, 5, 63);
    check_fused_bn(17, 7, 1);       /* 1x1 planes: one chunk per channel */
    check_fused_bn(4, 64, 56 * 56); /* layer1 at 224: 12544 values, 4 chunks per channel */
    check_fused_bn(64, 8, 56 * 56); /* 200704 values: the most chunks (32) */
    check_fused_stem(2, 3, 13, 11);
    check_fused_stem(4, 64, 16, 16);
    check_adam_multi(50, 3);
    /* Part 3's rounding in the layers' own stores (rn_round_check.h): on
     * cuDNN's paths (float, and widened from half tensors), then im2col. */
    CHECK(gpu->round_outputs != NULL);
    CHECK(rn_check_round_outputs(gpu) == 0);
    setenv("RN_CONV", "im2col", 1);
    CHECK(rn_check_round_outputs(gpu) == 0);
    unsetenv("RN_CONV");

    release_all();
    if (gpu->release) gpu->release();
    cs_gpu_release();
    return cs_test_done();
}
