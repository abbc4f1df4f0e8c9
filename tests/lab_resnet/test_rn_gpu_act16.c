/* Part 3's 16-bit channels-last activations on the GPU (backend.h's act16,
 * gpu_act16.cu) against the float path with the same rounding
 * (round_outputs), which holds the same values in float NCHW tensors
 * (built in CUDA builds only; skipped, exit 77, without a usable device or
 * without cuDNN's NHWC path).
 *
 * Each layer operation runs twice on the same fp16- or bf16-valued
 * inputs: on float NCHW tensors with the outputs rounded as they are
 * stored, and on the 16-bit NHWC copies with act16 on; the 16-bit results,
 * widened and put back in NCHW order, must be the same values - bit for bit
 * where no sum is reordered (ReLU, add, max pooling and its argmax, the
 * pooled gradient), within a few units in the last place of the precision
 * where one is (batch norm's statistics are summed over chunks of rows,
 * average pooling along the pixels, cuDNN's plans are other plans). Then a
 * whole training step of a small ResNet-18 with act16 against the same step
 * with RN_GPU_ACTIVATIONS=float: loss and every gradient within the
 * precision's tolerance, and the activation memory smaller. */
#define _POSIX_C_SOURCE 200112L /* setenv, unsetenv */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "backend.h"
#include "cs_gpu.h"
#include "cs_rng.h"
#include "cs_test.h"
#include "device_mem.h"
#include "model.h"
#include "precision.h"

static const rn_backend *gpu, *cpu;
static cs_rng rng;
static rn_precision prec;

/* ---- Buffers: device ones are freed by release(), in one place ----------- */
#define MAX_BUFS 256
static void *bufs[MAX_BUFS];
static int nbufs;

static void *dev_bytes(size_t bytes)
{
    void *p = rn_device_alloc(bytes ? bytes : 4, "act16 test");
    if (nbufs == MAX_BUFS) {
        fprintf(stderr, "test_rn_gpu_act16: too many buffers\n");
        exit(3);
    }
    bufs[nbufs++] = p;
    return p;
}

static void release(void)
{
    for (int i = 0; i < nbufs; i++) rn_device_free(bufs[i]);
    nbufs = 0;
}

/* n host values in [lo, hi), rounded to the precision (the values a 16-bit
 * layer reads), and their float NCHW device copy. */
static float *values(size_t n, float lo, float hi)
{
    float *h = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) h[i] = cs_rng_uniform(&rng, lo, hi);
    cpu->round_to(n, h, h, (int)prec);
    return h;
}

static float *dev_of(const float *h, size_t n)
{
    float *d = dev_bytes(n * sizeof(float));
    gpu->to_backend(d, h, n * sizeof(float));
    return d;
}

/* A float NCHW device tensor's 16-bit NHWC copy (act16_pack). */
static float *nhwc_of(const float *d, int n, int c, int hw)
{
    float *t = dev_bytes(((size_t)n * c * hw + 1) / 2 * sizeof(float));
    gpu->act16(prec);
    gpu->act16_pack(n, c, hw, d, t);
    gpu->act16(RN_FP32);
    return t;
}

/* A 16-bit NHWC device tensor's values on the host, NCHW. */
static float *fetch_nhwc(const float *t, int n, int c, int hw)
{
    size_t count = (size_t)n * c * hw;
    uint16_t *bits = malloc(count * sizeof(uint16_t));
    float *wide = malloc(count * sizeof(float)), *out = malloc(count * sizeof(float));
    gpu->to_host(bits, t, count * sizeof(uint16_t));
    cpu->unpack(count, bits, wide, (int)prec);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < hw; p++)
            for (int ch = 0; ch < c; ch++) out[((size_t)i * c + ch) * hw + p] = wide[((size_t)i * hw + p) * c + ch];
    free(bits);
    free(wide);
    return out;
}

static float *fetch(const float *d, size_t n)
{
    float *h = malloc(n * sizeof(float));
    gpu->to_host(h, d, n * sizeof(float));
    return h;
}

/* ---- Comparisons --------------------------------------------------------- */

/* Two units of the precision's last place, relative, in L2 (0: the same
 * bits demanded). */
static double ulps(double k)
{
    return k * (prec == RN_FP16 ? ldexp(1.0, -11) : ldexp(1.0, -8));
}

static void expect(const char *what, const float *got, const float *ref, size_t n, double tol)
{
    double num = 0.0, den = 0.0;
    int same = 1;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
        same &= got[i] == ref[i] || (isnan(got[i]) && isnan(ref[i]));
    }
    double e = sqrt(num) / (den > 0.0 ? sqrt(den) : 1.0);
    if (tol == 0.0) {
        printf("  %s %-38s %s\n", rn_precision_name(prec), what, same ? "the same values" : "DIFFERENT values");
        CHECK(same);
    } else {
        printf("  %s %-38s rel L2 %.2e (tolerance %.1e)\n", rn_precision_name(prec), what, e, tol);
        CHECK(e <= tol);
    }
}

/* The 16-bit result t (NHWC) against the float path's d (NCHW). */
static void expect_nhwc(const char *what, const float *t, const float *d, int n, int c, int hw, double tol)
{
    size_t count = (size_t)n * c * hw;
    float *got = fetch_nhwc(t, n, c, hw), *ref = fetch(d, count);
    expect(what, got, ref, count, tol);
    free(got);
    free(ref);
}

static void expect_dev(const char *what, const float *a, const float *b, size_t n, double tol)
{
    float *got = fetch(a, n), *ref = fetch(b, n);
    expect(what, got, ref, n, tol);
    free(got);
    free(ref);
}

/* The float path with its outputs rounded (the reference), or act16. */
static void float_mode(void)
{
    gpu->act16(RN_FP32);
    gpu->round_outputs(prec);
}
static void act16_mode(void)
{
    gpu->round_outputs(prec);
    gpu->act16(prec);
}
static void off(void)
{
    gpu->act16(RN_FP32);
    gpu->round_outputs(RN_FP32);
}

/* ---- Layer operations ----------------------------------------------------- */

static void check_bn(int n, int c, int hw)
{
    size_t count = (size_t)n * c * hw;
    float *hx = values(count, -2.0f, 3.0f), *hdy = values(count, -1.0f, 1.0f);
    float *hg = values((size_t)c, 0.5f, 1.5f), *hb = values((size_t)c, -0.5f, 0.5f);
    float *x = dev_of(hx, count), *dy = dev_of(hdy, count), *gamma = dev_of(hg, c), *beta = dev_of(hb, c);
    float *tx = nhwc_of(x, n, c, hw), *tdy = nhwc_of(dy, n, c, hw);
    float *stats[2][4], *y[2], *dx[2], *dg[2], *db[2];
    for (int k = 0; k < 2; k++) {
        for (int s = 0; s < 4; s++) stats[k][s] = dev_bytes((size_t)c * sizeof(float));
        float ones[4096], zeros[4096];
        for (int i = 0; i < c && i < 4096; i++) ones[i] = 1.0f, zeros[i] = 0.0f;
        gpu->to_backend(stats[k][2], zeros, (size_t)c * sizeof(float));
        gpu->to_backend(stats[k][3], ones, (size_t)c * sizeof(float));
        dg[k] = dev_bytes((size_t)c * sizeof(float));
        db[k] = dev_bytes((size_t)c * sizeof(float));
    }
    y[0] = dev_bytes(count * sizeof(float));
    dx[0] = dev_bytes(count * sizeof(float));
    y[1] = dev_bytes(count * sizeof(uint16_t));
    dx[1] = dev_bytes(count * sizeof(uint16_t));
    for (int k = 0; k < 2; k++) {
        k ? act16_mode() : float_mode();
        gpu->bn_forward_train(n, c, hw, k ? tx : x, gamma, beta, y[k], stats[k][0], stats[k][1], stats[k][2],
                              stats[k][3], 0.1f, 1e-5f);
        gpu->bn_backward(n, c, hw, k ? tx : x, gamma, stats[k][0], stats[k][1], k ? tdy : dy, dx[k], dg[k], db[k]);
    }
    off();
    printf(" batch norm, %d x %d x %d:\n", n, c, hw);
    expect_dev("mean", stats[1][0], stats[0][0], (size_t)c, 1e-6);
    expect_dev("1/sqrt(var + eps)", stats[1][1], stats[0][1], (size_t)c, 1e-6);
    expect_dev("running var", stats[1][3], stats[0][3], (size_t)c, 1e-6);
    expect_nhwc("y", y[1], y[0], n, c, hw, ulps(1));
    expect_dev("dgamma", dg[1], dg[0], (size_t)c, 1e-5);
    expect_dev("dbeta", db[1], db[0], (size_t)c, 1e-5);
    expect_nhwc("dx", dx[1], dx[0], n, c, hw, ulps(2));
    /* Evaluation: elementwise, the same arithmetic. */
    for (int k = 0; k < 2; k++) {
        k ? act16_mode() : float_mode();
        gpu->bn_forward_eval(n, c, hw, k ? tx : x, gamma, beta, stats[0][2], stats[0][3], 1e-5f, y[k]);
    }
    off();
    expect_nhwc("y (evaluation)", y[1], y[0], n, c, hw, 0.0);
    free(hx), free(hdy), free(hg), free(hb);
    release();
}

static void check_elementwise(int n, int c, int hw)
{
    size_t count = (size_t)n * c * hw;
    float *ha = values(count, -1.0f, 1.0f), *hb = values(count, -1.0f, 1.0f);
    float *a = dev_of(ha, count), *b = dev_of(hb, count);
    float *ta = nhwc_of(a, n, c, hw), *tb = nhwc_of(b, n, c, hw);
    float *y[2] = {dev_bytes(count * sizeof(float)), dev_bytes(count * sizeof(uint16_t))};
    float *r[2] = {dev_bytes(count * sizeof(float)), dev_bytes(count * sizeof(uint16_t))};
    float *s[2] = {dev_bytes(count * sizeof(float)), dev_bytes(count * sizeof(uint16_t))};
    for (int k = 0; k < 2; k++) {
        k ? act16_mode() : float_mode();
        gpu->add(count, k ? ta : a, k ? tb : b, y[k]);
        gpu->relu_forward(count, y[k], r[k]);
        gpu->relu_backward(count, r[k], k ? tb : b, s[k]);
    }
    off();
    printf(" elementwise, %zu values:\n", count);
    expect_nhwc("add", y[1], y[0], n, c, hw, 0.0);
    expect_nhwc("relu", r[1], r[0], n, c, hw, 0.0);
    expect_nhwc("relu backward", s[1], s[0], n, c, hw, 0.0);
    free(ha), free(hb);
    release();
}

static void check_pools(int n, int c, int h, int w)
{
    const int k = 3, stride = 2, pad = 1, oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    size_t count = (size_t)n * c * h * w, out = (size_t)n * c * oh * ow;
    float *hx = values(count, 0.0f, 1.0f), *hdy = values(out, -1.0f, 1.0f); /* ties from the rounding */
    float *x = dev_of(hx, count), *dy = dev_of(hdy, out);
    float *tx = nhwc_of(x, n, c, h * w), *tdy = nhwc_of(dy, n, c, oh * ow);
    float *y[2] = {dev_bytes(out * sizeof(float)), dev_bytes(out * sizeof(uint16_t))};
    int32_t *arg[2] = {dev_bytes(out * sizeof(int32_t)), dev_bytes(out * sizeof(int32_t))};
    float *dx[2] = {dev_bytes(count * sizeof(float)), dev_bytes(count * sizeof(uint16_t))};
    for (int j = 0; j < 2; j++) {
        j ? act16_mode() : float_mode();
        gpu->maxpool_forward(n, c, h, w, k, stride, pad, j ? tx : x, y[j], arg[j]);
        gpu->maxpool_backward(n, c, h, w, k, stride, pad, arg[j], j ? tdy : dy, dx[j]);
    }
    off();
    printf(" max pooling, %d x %d x %d x %d:\n", n, c, h, w);
    expect_nhwc("y", y[1], y[0], n, c, oh * ow, 0.0);
    expect_nhwc("dx", dx[1], dx[0], n, c, h * w, 0.0);
    int32_t *a0 = malloc(out * sizeof(int32_t)), *a1 = malloc(out * sizeof(int32_t));
    gpu->to_host(a0, arg[0], out * sizeof(int32_t));
    gpu->to_host(a1, arg[1], out * sizeof(int32_t));
    int same = 1;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < oh * ow; p++)
            for (int ch = 0; ch < c; ch++)
                same &= a1[((size_t)i * oh * ow + p) * c + ch] == a0[((size_t)i * c + ch) * oh * ow + p];
    printf("  %s %-38s %s\n", rn_precision_name(prec), "argmax", same ? "the same winners" : "DIFFERENT winners");
    CHECK(same);
    free(a0), free(a1);

    /* Global average pooling over the whole plane: float features out,
     * the gradient back in 16 bits. */
    float *g[2] = {dev_bytes((size_t)n * c * sizeof(float)), dev_bytes((size_t)n * c * sizeof(float))};
    float *hgd = values((size_t)n * c, -1.0f, 1.0f), *gd = dev_of(hgd, (size_t)n * c);
    float *gx[2] = {dev_bytes(count * sizeof(float)), dev_bytes(count * sizeof(uint16_t))};
    for (int j = 0; j < 2; j++) {
        j ? act16_mode() : float_mode();
        gpu->avgpool_forward(n, c, h * w, j ? tx : x, g[j]);
        gpu->avgpool_backward(n, c, h * w, gd, gx[j]);
    }
    off();
    expect_dev("average pool", g[1], g[0], (size_t)n * c, 1e-6);
    /* The float path leaves the division's result unrounded (the model
     * rounds it after): rounded here, the 16 bits act16 stores. */
    float *ref = fetch(gx[0], count), *got = fetch_nhwc(gx[1], n, c, h * w);
    cpu->round_to(count, ref, ref, (int)prec);
    expect("average pool backward", got, ref, count, 0.0);
    free(ref), free(got);
    free(hx), free(hdy), free(hgd);
    release();
}

/* A convolution on cuDNN's path: act16's plan reads and writes the model's
 * tensors, the float path's packs and widens copies. */
static void check_conv(int n, int cin, int cout, int k, int stride, int pad, int h, int w)
{
    const rn_conv_shape s = {cin, cout, k, stride, pad};
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    size_t nx = (size_t)n * cin * h * w, ny = (size_t)n * cout * oh * ow, nw = (size_t)cout * cin * k * k;
    float *hx = values(nx, -1.0f, 1.0f), *hdy = values(ny, -1.0f, 1.0f), *hw_ = values(nw, -0.5f, 0.5f);
    float *x = dev_of(hx, nx), *dy = dev_of(hdy, ny), *wt = dev_of(hw_, nw);
    float *tx = nhwc_of(x, n, cin, h * w), *tdy = nhwc_of(dy, n, cout, oh * ow);
    float *y[2] = {dev_bytes(ny * sizeof(float)), dev_bytes(ny * sizeof(uint16_t))};
    float *dx[2] = {dev_bytes(nx * sizeof(float)), dev_bytes(nx * sizeof(uint16_t))};
    float *dw[2] = {dev_bytes(nw * sizeof(float)), dev_bytes(nw * sizeof(float))};
    gpu->conv_math(prec);
    for (int j = 0; j < 2; j++) {
        j ? act16_mode() : float_mode();
        size_t floats = gpu->conv_work_floats(&s, n, h, w);
        float *work = dev_bytes(floats * sizeof(float));
        gpu->conv_forward(&s, n, h, w, j ? tx : x, wt, y[j], work);
        gpu->conv_backward(&s, n, h, w, j ? tx : x, wt, j ? tdy : dy, dx[j], dw[j], work);
    }
    off();
    gpu->conv_math(RN_FP32);
    printf(" convolution %dx%dx%dx%d k%d s%d -> %d:\n", n, cin, h, w, k, stride, cout);
    expect_nhwc("y", y[1], y[0], n, cout, oh * ow, ulps(2));
    expect_nhwc("dx", dx[1], dx[0], n, cin, h * w, ulps(2));
    expect_dev("dweight", dw[1], dw[0], nw, ulps(2));
    free(hx), free(hdy), free(hw_);
    release();
}

/* ---- A whole step ----------------------------------------------------------- */

typedef struct {
    float loss;
    float *grads; /* every trainable tensor's gradient, end to end */
    size_t n, activations;
    int act16;
} step_result;

static step_result one_step(const float *images, const int32_t *labels, int batch, int img)
{
    rn_model m;
    rn_model_init(&m, gpu, 7);
    rn_model_prepare(&m, batch, img);
    rn_model_set_precision(&m, prec);
    rn_model_set_batch(&m, images, labels);
    rn_model_forward(&m, 1);
    rn_model_loss(&m);
    rn_model_backward(&m);
    step_result r = {0};
    int correct;
    rn_model_read_metrics(&m, &r.loss, &correct);
    r.n = rn_model_trainable_count(&m);
    r.grads = malloc(r.n * sizeof(float));
    size_t at = 0;
    for (int i = 0; i < m.nparams; i++)
        if (m.params[i].trainable) {
            gpu->to_host(r.grads + at, m.params[i].grad, m.params[i].count * sizeof(float));
            at += m.params[i].count;
        }
    r.activations = rn_arena_current(m.arena, RN_ACTIVATIONS);
    r.act16 = m.act16;
    rn_model_free(&m);
    return r;
}

static void check_step(int batch, int img)
{
    size_t n = (size_t)batch * 3 * img * img;
    float *images = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) images[i] = cs_rng_uniform(&rng, -2.0f, 2.0f);
    int32_t labels[64];
    for (int i = 0; i < batch; i++) labels[i] = (int32_t)(i * 7 % RN_CLASSES);
    step_result a = one_step(images, labels, batch, img);
    setenv("RN_GPU_ACTIVATIONS", "float", 1);
    step_result f = one_step(images, labels, batch, img);
    unsetenv("RN_GPU_ACTIVATIONS");
    printf(" a training step, batch %d at %d x %d: act16 %s, float path %s; activations %.1f MiB vs %.1f MiB\n", batch,
           img, img, a.act16 ? "on" : "OFF", f.act16 ? "ON" : "off", a.activations / 1048576.0,
           f.activations / 1048576.0);
    CHECK(a.act16 && !f.act16);
    CHECK(a.activations < f.activations);
    printf("  %s loss %.6f vs %.6f\n", rn_precision_name(prec), a.loss, f.loss);
    CHECK(fabsf(a.loss - f.loss) <= 4.0f * (float)ulps(1) * fabsf(f.loss) + 1e-4f);
    /* Gradients through 20 layers of 16-bit rounding in another order:
     * autocast's own run-to-run noise, a few percent in bf16. */
    expect("every gradient", a.grads, f.grads, a.n, prec == RN_FP16 ? 2e-2 : 8e-2);
    free(a.grads), free(f.grads), free(images);
}

/* --layers-only: the layer operations without cuDNN (no convolutions, no
 * step), for compute-sanitizer's racecheck, which fails inside cuDNN's
 * 16-bit kernels on an H200 (seen with CUDA 13.0's sanitizer 2025.3.1,
 * float activations or not). */
int main(int argc, char **argv)
{
    const int layers_only = argc > 1 && strcmp(argv[1], "--layers-only") == 0;
    char why[256];
    if (!cs_gpu_probe(why, sizeof why)) return cs_test_skip_gpu(why);
    gpu = rn_gpu_backend();
    cpu = rn_cpu_backend();
    if (gpu == NULL) return cs_test_skip_gpu("this build has no GPU backend");
    if (gpu->act16_ok == NULL || !gpu->act16_ok(RN_FP16))
        return cs_test_skip_gpu("no 16-bit NHWC activations here (cuDNN not built, or RN_CONV/RN_CUDNN_LAYOUT)");
    CHECK(!gpu->act16_ok(RN_FP32));
    cs_rng_seed(&rng, 1616, 0);
    const rn_precision lows[2] = {RN_FP16, RN_BF16};
    for (int i = 0; i < 2; i++) {
        prec = lows[i];
        check_bn(3, 5, 63);       /* odd channels: a block's lanes past the end */
        check_bn(4, 64, 56 * 56); /* layer1 at 224 */
        check_bn(2, 130, 9);      /* three channel groups */
        check_elementwise(3, 7, 1001);
        check_pools(2, 5, 13, 11);
        check_pools(2, 64, 16, 16);
        if (layers_only) continue;
        check_conv(3, 8, 16, 3, 1, 1, 9, 7);
        check_conv(2, 3, 64, 7, 2, 3, 32, 32); /* the stem */
        check_conv(2, 64, 128, 1, 2, 0, 8, 8); /* a shortcut */
        check_step(4, 32);
    }
    if (gpu->release) gpu->release();
    cs_gpu_release();
    return cs_test_done();
}
