/* The CPU backend's layers against small double-precision references.
 *
 * Every op has a plain reference here, written from its definition (a
 * direct convolution, batch norm from its formula, ...) in double. Each
 * check has two halves:
 *  - forward: the backend's float output against the reference's;
 *  - backward: the backend's float gradients for dy = r (fixed random r,
 *    i.e. the loss L = sum(y * r)) against central differences of the
 *    DOUBLE reference's L. In double, with step H = 1e-5, the numerical
 *    gradient is good to ~1e-9 (truncation H^2 * L''' ~ 1e-10, rounding
 *    1e-16 * |L| / H ~ 1e-10), so all of the error left is the float
 *    computation's own.
 * Tolerances: errors are max|got - ref| / max|ref| over a tensor. The float
 * ops sum at most a few hundred products (a 7x7x3 patch, a batch-norm
 * channel), so their relative error is a few float epsilons (6e-8) times a
 * small factor: the largest measured here is 2e-7. We allow 1e-5 (forward
 * and backward alike): fifty times that, and still far below any real
 * mistake (a wrong sign, index or missing term is an O(1) error).
 *
 * Backward outputs are filled with NaN before each call: backend.h says
 * they are overwritten, never accumulated into. */
#include "cs_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "backend.h"
#include "cpu_ops.h"
#include "cs_rng.h"
#include "precision.h"

#define TOL 1e-5 /* relative to the largest reference value (see above) */
#define H   1e-5 /* central-difference step, in double */

static const rn_backend *B;
static cs_rng rng;

/* ---- helpers ---------------------------------------------------------- */

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "test_rn_layers: out of memory\n");
        exit(3);
    }
    return p;
}

static float *rand_floats(size_t n, float lo, float hi)
{
    float *p = xmalloc(n * sizeof *p);
    cs_rng_fill_uniform(&rng, p, n, lo, hi);
    return p;
}

static float *nan_floats(size_t n)
{
    float *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = NAN;
    return p;
}

static double *to_double(const float *f, size_t n)
{
    double *d = xmalloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = f[i];
    return d;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* max|got - ref| / max|ref| (NaN in got gives NaN, which fails). */
static double rel_err(const float *got, const double *ref, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (isnan(d)) return NAN;
        if (d > num) num = d;
        if (fabs(ref[i]) > den) den = fabs(ref[i]);
    }
    return den > 0 ? num / den : num;
}

static void expect_close(const char *what, const float *got, const double *ref, size_t n)
{
    double e = rel_err(got, ref, n);
    if (!(e <= TOL)) fprintf(stderr, "  %s: relative error %.3g (tolerance %g)\n", what, e, TOL);
    CHECK(e <= TOL);
}

/* A scalar function of some double arrays (the reference op and L). */
typedef double (*loss_fn)(void *ctx);

/* grad[i] = dL/dp[i] by central differences of the double reference. */
static void numeric_grad(loss_fn f, void *ctx, double *p, size_t n, double *grad)
{
    for (size_t i = 0; i < n; i++) {
        const double keep = p[i];
        p[i] = keep + H;
        const double plus = f(ctx);
        p[i] = keep - H;
        const double minus = f(ctx);
        p[i] = keep;
        grad[i] = (plus - minus) / (2 * H);
    }
}

/* Checks one analytic gradient (float) against the numerical one. */
static void expect_grad(const char *what, loss_fn f, void *ctx, double *p, const float *analytic, size_t n)
{
    double *g = xmalloc(n * sizeof *g);
    numeric_grad(f, ctx, p, n, g);
    expect_close(what, analytic, g, n);
    free(g);
}

/* ---- convolution -------------------------------------------------------- */

typedef struct {
    rn_conv_shape s;
    int n, h, w, oh, ow;
    double *x, *wt, *r, *y;
} conv_ctx;

/* The definition: y[n][co][oy][ox] = sum over ci, ky, kx of
 * w[co][ci][ky][kx] * x[n][ci][oy*s - p + ky][ox*s - p + kx] (0 outside). */
static void conv_ref(const conv_ctx *c)
{
    const rn_conv_shape *s = &c->s;
    for (int n = 0; n < c->n; n++)
        for (int co = 0; co < s->cout; co++)
            for (int oy = 0; oy < c->oh; oy++)
                for (int ox = 0; ox < c->ow; ox++) {
                    double acc = 0.0;
                    for (int ci = 0; ci < s->cin; ci++)
                        for (int ky = 0; ky < s->k; ky++)
                            for (int kx = 0; kx < s->k; kx++) {
                                int iy = oy * s->stride - s->pad + ky;
                                int ix = ox * s->stride - s->pad + kx;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                acc += c->wt[((co * s->cin + ci) * s->k + ky) * s->k + kx] *
                                       c->x[((n * s->cin + ci) * c->h + iy) * c->w + ix];
                            }
                    c->y[((n * s->cout + co) * c->oh + oy) * c->ow + ox] = acc;
                }
}

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    conv_ref(c);
    return dot(c->y, c->r, (size_t)c->n * c->s.cout * c->oh * c->ow);
}

/* Part 5's kept patch matrices (backend.h's conv_forward_keep and
 * conv_backward_kept): the same y, dx and dW as the plain forward and
 * backward gave (y0, dx0, dw0), bit for bit, nothing written past
 * conv_keep_floats, and the same again while accumulating (dW += dW0). */
static void check_conv_kept(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *wt,
                            const float *r, const float *y0, const float *dx0, const float *dw0, float *work)
{
    const size_t nkeep = B->conv_keep_floats(s, n, h, w), guard = 64;
    const size_t nx = (size_t)n * s->cin * h * w, nw = (size_t)s->cout * s->cin * s->k * s->k;
    const size_t ny =
        (size_t)n * s->cout * rn_out_size(h, s->k, s->stride, s->pad) * rn_out_size(w, s->k, s->stride, s->pad);
    float *keep = xmalloc((nkeep + guard) * sizeof *keep);
    for (size_t i = 0; i < nkeep + guard; i++) keep[i] = 777.0f;
    float *y = nan_floats(ny), *dx = nan_floats(nx), *dw = nan_floats(nw);
    B->conv_forward_keep(s, n, h, w, x, wt, y, work, keep);
    B->conv_backward_kept(s, n, h, w, x, wt, r, dx, dw, work, keep);
    const int same_y = memcmp(y, y0, ny * sizeof *y) == 0, same_dx = memcmp(dx, dx0, nx * sizeof *dx) == 0;
    const int same_dw = memcmp(dw, dw0, nw * sizeof *dw) == 0;
    /* Accumulating onto dW0, both ways. */
    float *acc = xmalloc(nw * sizeof *acc);
    memcpy(acc, dw0, nw * sizeof *acc);
    B->grad_accumulate(1);
    B->conv_backward(s, n, h, w, x, wt, r, dx, acc, work);
    B->conv_backward_kept(s, n, h, w, x, wt, r, dx, dw, work, keep);
    B->grad_accumulate(0);
    const int same_acc = memcmp(dw, acc, nw * sizeof *dw) == 0;
    int guard_ok = 1;
    for (size_t i = nkeep; i < nkeep + guard; i++) guard_ok &= keep[i] == 777.0f;
    printf("  kept for the backward (%zu floats): y %s, dx %s, dW %s, accumulated dW %s\n", nkeep,
           same_y ? "same" : "DIFFERENT", same_dx ? "same" : "DIFFERENT", same_dw ? "same" : "DIFFERENT",
           same_acc ? "same" : "DIFFERENT");
    CHECK(same_y && same_dx && same_dw && same_acc);
    free(acc);
    CHECK(guard_ok);
    free(keep);
    free(y);
    free(dx);
    free(dw);
}

/* One convolution: forward against the direct reference, dx and dW against
 * numerical gradients, the scratch never written past conv_work_floats,
 * and the backward once more with dx = NULL. chunk: scratch cap in floats
 * (0: the default), to force the batch into chunks of images. */
static void check_conv(int n, int cin, int cout, int h, int w, int k, int stride, int pad, size_t chunk)
{
    conv_ctx c = {{cin, cout, k, stride, pad}, n, h, w, 0, 0, NULL, NULL, NULL, NULL};
    c.oh = rn_out_size(h, k, stride, pad);
    c.ow = rn_out_size(w, k, stride, pad);
    const size_t nx = (size_t)n * cin * h * w, nw = (size_t)cout * cin * k * k;
    const size_t ny = (size_t)n * cout * c.oh * c.ow;
    char what[160];
    snprintf(what, sizeof what, "conv n=%d %d->%d %dx%d k=%d s=%d p=%d chunk=%zu", n, cin, cout, h, w, k, stride, pad,
             chunk);
    printf("%s (%s)\n", what, B->conv_algo(&c.s, n, h, w));

    rn_cpu_conv_set_chunk_floats(chunk);
    const size_t nwork = B->conv_work_floats(&c.s, n, h, w);
    const size_t guard = 64; /* sentinels after the scratch: must survive */
    float *work = xmalloc((nwork + guard) * sizeof *work);
    for (size_t i = 0; i < nwork + guard; i++) work[i] = 777.0f;

    float *x = rand_floats(nx, -1, 1), *wt = rand_floats(nw, -0.5f, 0.5f);
    float *r = rand_floats(ny, -1, 1);
    c.x = to_double(x, nx);
    c.wt = to_double(wt, nw);
    c.r = to_double(r, ny);
    c.y = xmalloc(ny * sizeof *c.y);

    float *y = nan_floats(ny);
    B->conv_forward(&c.s, n, h, w, x, wt, y, work);
    conv_ref(&c);
    snprintf(what + strlen(what), sizeof what - strlen(what), ": forward");
    expect_close(what, y, c.y, ny);

    float *dx = nan_floats(nx), *dw = nan_floats(nw);
    B->conv_backward(&c.s, n, h, w, x, wt, r, dx, dw, work);
    expect_grad("conv dx", conv_loss, &c, c.x, dx, nx);
    expect_grad("conv dweight", conv_loss, &c, c.wt, dw, nw);

    /* No input gradient asked (the image): dW must not change. */
    float *dw2 = nan_floats(nw);
    B->conv_backward(&c.s, n, h, w, x, wt, r, NULL, dw2, work);
    CHECK(memcmp(dw, dw2, nw * sizeof *dw) == 0);

    check_conv_kept(&c.s, n, h, w, x, wt, r, y, dx, dw, work);

    int guard_ok = 1;
    for (size_t i = nwork; i < nwork + guard; i++) guard_ok &= work[i] == 777.0f;
    CHECK(guard_ok);

    rn_cpu_conv_set_chunk_floats(0);
    free(work);
    free(x);
    free(wt);
    free(r);
    free(y);
    free(dx);
    free(dw);
    free(dw2);
    free(c.x);
    free(c.wt);
    free(c.r);
    free(c.y);
}

static void test_conv(void)
{
    check_conv(2, 3, 4, 7, 7, 3, 1, 1, 0); /* ResNet's 3x3 */
    check_conv(2, 3, 4, 7, 7, 3, 2, 1, 0); /* 3x3 stride 2 (first block of a stage) */
    check_conv(2, 3, 4, 7, 7, 7, 2, 3, 0); /* the stem */
    check_conv(2, 3, 4, 7, 7, 1, 2, 0, 0); /* the downsample shortcut */
    check_conv(2, 3, 4, 7, 7, 1, 1, 0, 0); /* 1x1 stride 1: no im2col */
    check_conv(2, 3, 5, 6, 5, 3, 2, 1, 0); /* h != w */
    check_conv(3, 2, 3, 5, 5, 3, 1, 1, 0);
    check_conv(2, 4, 3, 2, 2, 3, 1, 1, 0); /* layer3's 2x2 images: every tap used */
    /* Taps that read only padding are skipped (conv_algo says so):
     * layer4's 1x1 images (the centre tap alone), its first block (2x2 ->
     * 1x1: taps 1..2 each way), a 7x7 stem on a 3x3 image (taps 1..5), and
     * a shape where every tap reads padding (y = 0, all gradients 0). */
    check_conv(2, 5, 3, 1, 1, 3, 1, 1, 0);
    check_conv(2, 4, 3, 2, 2, 3, 2, 1, 0);
    check_conv(2, 3, 4, 3, 3, 7, 2, 3, 0);
    check_conv(1, 2, 3, 1, 1, 1, 2, 1, 0);
    check_conv(2, 3, 2, 1, 3, 3, 1, 1, 0); /* 1x3: taps 1 of 3 down, 3 across */
    check_conv(2, 3, 2, 4, 1, 3, 2, 1, 0); /* 4x1: all down, 1 across */
    /* Chunks of images: one image per GEMM, and 2 + 1 (a short last chunk). */
    check_conv(3, 2, 3, 5, 5, 3, 1, 1, 1);
    check_conv(3, 2, 3, 5, 5, 3, 1, 1, (size_t)(2 * 9 + 3) * 25 * 2);
    check_conv(3, 2, 3, 1, 1, 3, 1, 1, 1); /* chunks with skipped taps */
}

/* ---- batch norm ------------------------------------------------------- */

typedef struct {
    int n, c, hw;
    double *x, *gamma, *beta, *r, *y, *mean, *var;
    double eps;
} bn_ctx;

/* Training-mode batch norm from its definition: batch mean, biased variance. */
static void bn_ref(bn_ctx *b)
{
    const double m = (double)b->n * b->hw;
    for (int ch = 0; ch < b->c; ch++) {
        double s = 0.0, q = 0.0;
        for (int i = 0; i < b->n; i++)
            for (int j = 0; j < b->hw; j++) s += b->x[(i * b->c + ch) * b->hw + j];
        const double mean = s / m;
        for (int i = 0; i < b->n; i++)
            for (int j = 0; j < b->hw; j++) {
                double d = b->x[(i * b->c + ch) * b->hw + j] - mean;
                q += d * d;
            }
        const double var = q / m;
        b->mean[ch] = mean;
        b->var[ch] = var;
        for (int i = 0; i < b->n; i++)
            for (int j = 0; j < b->hw; j++) {
                size_t at = (size_t)(i * b->c + ch) * b->hw + j;
                b->y[at] = (b->x[at] - mean) / sqrt(var + b->eps) * b->gamma[ch] + b->beta[ch];
            }
    }
}

static double bn_loss(void *p)
{
    bn_ctx *b = p;
    bn_ref(b);
    return dot(b->y, b->r, (size_t)b->n * b->c * b->hw);
}

static void test_bn(void)
{
    const int n = 3, c = 4, hw = 5;
    const size_t nx = (size_t)n * c * hw;
    const float eps = 1e-5f, momentum = 0.1f;
    printf("batch norm n=%d c=%d hw=%d\n", n, c, hw);

    /* Each channel off-centre by a different amount, so that the mean
     * matters and a mix-up of channels shows. */
    float *x = rand_floats(nx, -1, 1);
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < hw; j++) x[(i * c + ch) * hw + j] += 0.5f * ch - 0.7f;
    float *gamma = rand_floats(c, 0.5f, 1.5f), *beta = rand_floats(c, -0.5f, 0.5f);
    float *r = rand_floats(nx, -1, 1);
    float *rm = rand_floats(c, -0.2f, 0.2f), *rv = rand_floats(c, 0.5f, 1.5f);
    float rm0[4], rv0[4];
    memcpy(rm0, rm, sizeof rm0);
    memcpy(rv0, rv, sizeof rv0);

    bn_ctx b = {n,
                c,
                hw,
                to_double(x, nx),
                to_double(gamma, c),
                to_double(beta, c),
                to_double(r, nx),
                xmalloc(nx * sizeof(double)),
                xmalloc(c * sizeof(double)),
                xmalloc(c * sizeof(double)),
                eps};
    float *y = nan_floats(nx), *smean = nan_floats(c), *sinv = nan_floats(c);
    B->bn_forward_train(n, c, hw, x, gamma, beta, y, smean, sinv, rm, rv, momentum, eps);
    bn_ref(&b);
    expect_close("bn train forward", y, b.y, nx);
    double sd[4], rmx[4], rvx[4];
    const double m = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        sd[ch] = 1.0 / sqrt(b.var[ch] + eps);
        /* PyTorch's running statistics: momentum 0.1, UNBIASED variance. */
        rmx[ch] = (1 - momentum) * rm0[ch] + momentum * b.mean[ch];
        rvx[ch] = (1 - momentum) * rv0[ch] + momentum * b.var[ch] * m / (m - 1);
    }
    expect_close("bn save_mean", smean, b.mean, c);
    expect_close("bn save_invstd", sinv, sd, c);
    expect_close("bn running_mean", rm, rmx, c);
    expect_close("bn running_var", rv, rvx, c);

    float *dx = nan_floats(nx), *dg = nan_floats(c), *db = nan_floats(c);
    B->bn_backward(n, c, hw, x, gamma, smean, sinv, r, dx, dg, db);
    /* The batch statistics depend on x: the reference recomputes them. */
    expect_grad("bn dx", bn_loss, &b, b.x, dx, nx);
    expect_grad("bn dgamma", bn_loss, &b, b.gamma, dg, c);
    expect_grad("bn dbeta", bn_loss, &b, b.beta, db, c);
    /* In place (dx is dy, as the stem's backward calls it): the same bits. */
    float *inplace = xmalloc(nx * sizeof(float)), *dg2 = nan_floats(c), *db2 = nan_floats(c);
    memcpy(inplace, r, nx * sizeof(float));
    B->bn_backward(n, c, hw, x, gamma, smean, sinv, inplace, inplace, dg2, db2);
    CHECK(memcmp(inplace, dx, nx * sizeof(float)) == 0);
    free(inplace);
    free(dg2);
    free(db2);

    /* Eval: the running statistics, not the batch's. */
    float *ye = nan_floats(nx);
    double *yex = xmalloc(nx * sizeof *yex);
    B->bn_forward_eval(n, c, hw, x, gamma, beta, rm, rv, eps, ye);
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < hw; j++) {
                size_t at = (size_t)(i * c + ch) * hw + j;
                yex[at] = ((double)x[at] - rm[ch]) / sqrt((double)rv[ch] + eps) * gamma[ch] + beta[ch];
            }
    expect_close("bn eval forward", ye, yex, nx);

    free(x);
    free(gamma);
    free(beta);
    free(r);
    free(rm);
    free(rv);
    free(y);
    free(smean);
    free(sinv);
    free(dx);
    free(dg);
    free(db);
    free(ye);
    free(yex);
    free(b.x);
    free(b.gamma);
    free(b.beta);
    free(b.r);
    free(b.y);
    free(b.mean);
    free(b.var);
}

/* Part 3's batch norm on 16-bit storage: the backward reading x in its
 * fp16 or bf16 bits gives, bit for bit, what the float backward gives on
 * the same values unpacked (dx out of place, in place over dy, and none);
 * the forwards give the same bits in place (y is x) as out of place, which
 * the 16-bit stem relies on. Rows shorter and longer than the SIMD path's
 * threshold. */
static void check_bn_bits(int n, int c, int hw, rn_precision p)
{
    const size_t nx = (size_t)n * c * hw;
    printf("batch norm on %s bits n=%d c=%d hw=%d\n", rn_precision_name(p), n, c, hw);
    float *x = rand_floats(nx, -2, 3), *gamma = rand_floats(c, 0.5f, 1.5f), *beta = rand_floats(c, -0.5f, 0.5f);
    float *dy = rand_floats(nx, -1, 1), *rm = rand_floats(c, -0.2f, 0.2f), *rv = rand_floats(c, 0.5f, 1.5f);
    uint16_t *bits = xmalloc(nx * sizeof(uint16_t));
    rn_pack(nx, x, bits, p);
    rn_unpack(nx, bits, x, p); /* x now holds exactly the bits' values */
    float *y = nan_floats(nx), *sm = nan_floats(c), *si = nan_floats(c), *rm2 = xmalloc(c * sizeof(float));
    float *rv2 = xmalloc(c * sizeof(float)), *sm2 = nan_floats(c), *si2 = nan_floats(c);
    memcpy(rm2, rm, c * sizeof(float));
    memcpy(rv2, rv, c * sizeof(float));
    B->bn_forward_train(n, c, hw, x, gamma, beta, y, sm, si, rm, rv, 0.1f, 1e-5f);
    float *inplace = xmalloc(nx * sizeof(float));
    memcpy(inplace, x, nx * sizeof(float));
    B->bn_forward_train(n, c, hw, inplace, gamma, beta, inplace, sm2, si2, rm2, rv2, 0.1f, 1e-5f);
    CHECK(memcmp(inplace, y, nx * sizeof(float)) == 0 && memcmp(sm, sm2, c * sizeof(float)) == 0 &&
          memcmp(rv, rv2, c * sizeof(float)) == 0);
    float *ye = nan_floats(nx);
    B->bn_forward_eval(n, c, hw, x, gamma, beta, rm, rv, 1e-5f, ye);
    memcpy(inplace, x, nx * sizeof(float));
    B->bn_forward_eval(n, c, hw, inplace, gamma, beta, rm, rv, 1e-5f, inplace);
    CHECK(memcmp(inplace, ye, nx * sizeof(float)) == 0);

    float *dx = nan_floats(nx), *dg = nan_floats(c), *db = nan_floats(c);
    float *dx2 = nan_floats(nx), *dg2 = nan_floats(c), *db2 = nan_floats(c);
    B->bn_backward(n, c, hw, x, gamma, sm, si, dy, dx, dg, db);
    B->bn_backward_bits(n, c, hw, bits, (int)p, gamma, sm, si, dy, dx2, dg2, db2);
    int same = memcmp(dx, dx2, nx * sizeof(float)) == 0 && memcmp(dg, dg2, c * sizeof(float)) == 0 &&
               memcmp(db, db2, c * sizeof(float)) == 0;
    memcpy(inplace, dy, nx * sizeof(float));
    B->bn_backward_bits(n, c, hw, bits, (int)p, gamma, sm, si, inplace, inplace, dg2, db2);
    same &= memcmp(inplace, dx, nx * sizeof(float)) == 0;
    float *dg3 = nan_floats(c), *db3 = nan_floats(c);
    B->bn_backward_bits(n, c, hw, bits, (int)p, gamma, sm, si, dy, NULL, dg3, db3);
    same &= memcmp(dg3, dg, c * sizeof(float)) == 0 && memcmp(db3, db, c * sizeof(float)) == 0;
    printf("  backward from the bits: %s\n", same ? "the float backward's bits" : "DIFFERENT");
    CHECK(same);
    float *all[] = {x,   gamma,   beta, dy, rm, rv, y,   sm,  si,  rm2, rv2, sm2,
                    si2, inplace, ye,   dx, dg, db, dx2, dg2, db2, dg3, db3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    free(bits);
}

static void test_bn_bits(void)
{
    check_bn_bits(3, 5, 7, RN_FP16);    /* rows under RN_SIMD_MIN_ROW */
    check_bn_bits(2, 4, 1031, RN_BF16); /* SIMD rows */
    check_bn_bits(4, 3, 196, RN_FP16);
}

/* ---- ReLU and add ---------------------------------------------------------- */

typedef struct {
    size_t count;
    double *x, *r;
} relu_ctx;

static double relu_loss(void *p)
{
    relu_ctx *c = p;
    double s = 0.0;
    for (size_t i = 0; i < c->count; i++) s += (c->x[i] > 0 ? c->x[i] : 0.0) * c->r[i];
    return s;
}

static void test_relu_add(void)
{
    const size_t count = 50;
    printf("relu, add (%zu elements)\n", count);
    /* Values at least 0.05 away from the kink, so that H never crosses it. */
    float *x = rand_floats(count, 0.05f, 1.0f);
    for (size_t i = 0; i < count; i++)
        if (cs_rng_below(&rng, 2)) x[i] = -x[i];
    float *r = rand_floats(count, -1, 1);
    relu_ctx c = {count, to_double(x, count), to_double(r, count)};
    double *yref = xmalloc(count * sizeof *yref);
    for (size_t i = 0; i < count; i++) yref[i] = x[i] > 0 ? x[i] : 0.0;

    float *y = nan_floats(count), *dx = nan_floats(count);
    B->relu_forward(count, x, y);
    expect_close("relu forward", y, yref, count);
    B->relu_backward(count, y, r, dx);
    expect_grad("relu dx", relu_loss, &c, c.x, dx, count);

    /* In place, as the model calls them (y = x, dx = dy). */
    float *inplace = xmalloc(count * sizeof *inplace);
    memcpy(inplace, x, count * sizeof *inplace);
    B->relu_forward(count, inplace, inplace);
    CHECK(memcmp(inplace, y, count * sizeof *y) == 0);
    float *g = xmalloc(count * sizeof *g);
    memcpy(g, r, count * sizeof *g);
    B->relu_backward(count, y, g, g);
    CHECK(memcmp(g, dx, count * sizeof *g) == 0);

    /* add, out of place and into one of its inputs. */
    float *sum = nan_floats(count);
    double *sref = xmalloc(count * sizeof *sref);
    for (size_t i = 0; i < count; i++) sref[i] = (double)x[i] + r[i];
    B->add(count, x, r, sum);
    expect_close("add", sum, sref, count);
    memcpy(g, x, count * sizeof *g);
    B->add(count, g, r, g);
    CHECK(memcmp(g, sum, count * sizeof *g) == 0);

    free(x);
    free(r);
    free(c.x);
    free(c.r);
    free(yref);
    free(y);
    free(dx);
    free(inplace);
    free(g);
    free(sum);
    free(sref);
}

/* ---- pooling ----------------------------------------------------------- */

typedef struct {
    int n, c, h, w, k, stride, pad, oh, ow;
    double *x, *r, *y;
    int32_t *arg;
} pool_ctx;

/* Max pooling from its definition: the first largest in-image pixel of
 * each window in row-major order (padding is not a candidate). */
static void maxpool_ref(pool_ctx *p)
{
    for (int pl = 0; pl < p->n * p->c; pl++)
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                double best = -INFINITY;
                int at = -1;
                for (int ky = 0; ky < p->k; ky++)
                    for (int kx = 0; kx < p->k; kx++) {
                        int iy = oy * p->stride - p->pad + ky, ix = ox * p->stride - p->pad + kx;
                        if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
                        double v = p->x[(size_t)pl * p->h * p->w + iy * p->w + ix];
                        if (at < 0 || v > best) {
                            best = v;
                            at = iy * p->w + ix;
                        }
                    }
                size_t o = (size_t)pl * p->oh * p->ow + oy * p->ow + ox;
                p->y[o] = best;
                p->arg[o] = at;
            }
}

static double maxpool_loss(void *q)
{
    pool_ctx *p = q;
    maxpool_ref(p);
    return dot(p->y, p->r, (size_t)p->n * p->c * p->oh * p->ow);
}

/* values: 0 distinct (a shuffled ramp: no ties, steps of 0.01 >> H),
 * 1 all equal (ties: the first pixel must win), 2 distinct and all
 * negative (a zero from the padding must never win). */
static void check_maxpool(int n, int c, int h, int w, int values)
{
    pool_ctx p = {n, c, h, w, 3, 2, 1, 0, 0, NULL, NULL, NULL, NULL};
    p.oh = rn_out_size(h, 3, 2, 1);
    p.ow = rn_out_size(w, 3, 2, 1);
    const size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * p.oh * p.ow;
    printf("max pool 3/2/1 n=%d c=%d %dx%d values=%s\n", n, c, h, w,
           values == 0   ? "distinct"
           : values == 1 ? "equal"
                         : "negative");
    float *x = xmalloc(nx * sizeof *x);
    for (size_t i = 0; i < nx; i++) x[i] = values == 1 ? 0.25f : 0.01f * (float)i - 0.5f;
    for (size_t i = nx; values != 1 && i > 1; i--) { /* Fisher-Yates */
        size_t j = cs_rng_below(&rng, (uint32_t)i);
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
    if (values == 2)
        for (size_t i = 0; i < nx; i++) x[i] -= 0.01f * (float)nx;
    float *r = rand_floats(ny, -1, 1);
    p.x = to_double(x, nx);
    p.r = to_double(r, ny);
    p.y = xmalloc(ny * sizeof *p.y);
    p.arg = xmalloc(ny * sizeof *p.arg);

    float *y = nan_floats(ny), *dx = nan_floats(nx);
    int32_t *arg = xmalloc(ny * sizeof *arg);
    B->maxpool_forward(n, c, h, w, 3, 2, 1, x, y, arg);
    maxpool_ref(&p);
    expect_close("max pool forward", y, p.y, ny);
    CHECK(memcmp(arg, p.arg, ny * sizeof *arg) == 0);
    B->maxpool_backward(n, c, h, w, 3, 2, 1, arg, r, dx);
    if (values != 1) {
        expect_grad("max pool dx", maxpool_loss, &p, p.x, dx, nx);
    } else {
        /* Ties: the gradient is not defined by the limit; check the rule. */
        double *dref = xmalloc(nx * sizeof *dref);
        for (size_t i = 0; i < nx; i++) dref[i] = 0.0;
        for (size_t o = 0; o < ny; o++) dref[(o / ((size_t)p.oh * p.ow)) * h * w + p.arg[o]] += r[o];
        expect_close("max pool dx (ties)", dx, dref, nx);
        free(dref);
    }
    free(x);
    free(r);
    free(p.x);
    free(p.r);
    free(p.y);
    free(p.arg);
    free(y);
    free(dx);
    free(arg);
}

typedef struct {
    int planes, hw;
    double *x, *r;
} avg_ctx;

static double avgpool_loss(void *q)
{
    avg_ctx *a = q;
    double s = 0.0;
    for (int pl = 0; pl < a->planes; pl++) {
        double m = 0.0;
        for (int j = 0; j < a->hw; j++) m += a->x[(size_t)pl * a->hw + j];
        s += m / a->hw * a->r[pl];
    }
    return s;
}

static void test_pooling(void)
{
    check_maxpool(2, 3, 7, 7, 0);
    check_maxpool(2, 3, 8, 8, 0); /* ResNet's 16x16 -> 8x8 in small */
    check_maxpool(1, 2, 6, 5, 0);
    check_maxpool(1, 2, 5, 5, 1);
    check_maxpool(2, 2, 5, 6, 2);

    const int n = 2, c = 3, hw = 5;
    const size_t nx = (size_t)n * c * hw, ny = (size_t)n * c;
    printf("global average pool n=%d c=%d hw=%d\n", n, c, hw);
    float *x = rand_floats(nx, -1, 1), *r = rand_floats(ny, -1, 1);
    avg_ctx a = {n * c, hw, to_double(x, nx), to_double(r, ny)};
    double *yref = xmalloc(ny * sizeof *yref);
    for (size_t pl = 0; pl < ny; pl++) {
        yref[pl] = 0.0;
        for (int j = 0; j < hw; j++) yref[pl] += a.x[pl * hw + j] / hw;
    }
    float *y = nan_floats(ny), *dx = nan_floats(nx);
    B->avgpool_forward(n, c, hw, x, y);
    expect_close("avg pool forward", y, yref, ny);
    B->avgpool_backward(n, c, hw, r, dx);
    expect_grad("avg pool dx", avgpool_loss, &a, a.x, dx, nx);
    free(x);
    free(r);
    free(a.x);
    free(a.r);
    free(yref);
    free(y);
    free(dx);
}

/* ---- Part 5's fused operations ------------------------------------------ */

/* relu(bn(x) + residual), or relu(bn(x)) without one, from the definitions
 * above; the stem's max pool of it when `pool` is set (p.x is z). */
typedef struct {
    bn_ctx b;
    double *res, *z;
    pool_ctx p;
    int pool;
} fused_ctx;

static double fused_loss(void *q)
{
    fused_ctx *f = q;
    const size_t nx = (size_t)f->b.n * f->b.c * f->b.hw;
    bn_ref(&f->b);
    for (size_t i = 0; i < nx; i++) {
        const double v = f->b.y[i] + (f->res ? f->res[i] : 0.0);
        f->z[i] = v > 0.0 ? v : 0.0;
    }
    if (!f->pool) return dot(f->z, f->b.r, nx);
    maxpool_ref(&f->p);
    return dot(f->p.y, f->p.r, (size_t)f->p.n * f->p.c * f->p.oh * f->p.ow);
}

static fused_ctx fused_ctx_of(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                              const float *r, float eps)
{
    const size_t nx = (size_t)n * c * hw;
    fused_ctx f;
    memset(&f, 0, sizeof f);
    f.b = (bn_ctx){n,
                   c,
                   hw,
                   to_double(x, nx),
                   to_double(gamma, (size_t)c),
                   to_double(beta, (size_t)c),
                   to_double(r, nx),
                   xmalloc(nx * sizeof(double)),
                   xmalloc((size_t)c * sizeof(double)),
                   xmalloc((size_t)c * sizeof(double)),
                   eps};
    f.z = xmalloc(nx * sizeof(double));
    return f;
}

static void fused_ctx_free(fused_ctx *f)
{
    double *d[] = {f->b.x, f->b.gamma, f->b.beta, f->b.r, f->b.y, f->b.mean, f->b.var, f->res, f->z, f->p.r, f->p.y};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) free(d[i]);
    free(f->p.arg);
}

/* batch norm + residual add + ReLU (a block's end) and its backward
 * through the ReLU, against the definition's numerical gradients: x,
 * gamma, beta, and the residual's (the masked dy the call leaves). */
static void check_fused_block_end(int n, int c, int hw, int with_residual)
{
    const size_t nx = (size_t)n * c * hw;
    const float eps = 1e-5f;
    printf("fused bn%s + relu n=%d c=%d hw=%d\n", with_residual ? " + add" : "", n, c, hw);
    float *x = rand_floats(nx, -1, 1), *res = rand_floats(nx, -1, 1), *r = rand_floats(nx, -1, 1);
    float *gamma = rand_floats((size_t)c, 0.5f, 1.5f), *beta = rand_floats((size_t)c, -0.5f, 0.5f);
    float *rm = rand_floats((size_t)c, -0.2f, 0.2f), *rv = rand_floats((size_t)c, 0.5f, 1.5f);
    fused_ctx f = fused_ctx_of(n, c, hw, x, gamma, beta, r, eps);
    if (with_residual) f.res = to_double(res, nx);
    float *y = nan_floats(nx), *sm = nan_floats((size_t)c), *si = nan_floats((size_t)c);
    B->bn_add_relu_forward_train(n, c, hw, x, gamma, beta, with_residual ? res : NULL, y, sm, si, rm, rv, 0.1f, eps);
    fused_loss(&f);
    expect_close("fused forward", y, f.z, nx);
    float *dy = xmalloc(nx * sizeof(float)), *dx = nan_floats(nx), *dg = nan_floats((size_t)c);
    float *db = nan_floats((size_t)c);
    memcpy(dy, r, nx * sizeof(float));
    B->relu_bn_backward(n, c, hw, y, x, gamma, sm, si, dy, dx, dg, db);
    expect_grad("fused dx", fused_loss, &f, f.b.x, dx, nx);
    expect_grad("fused dgamma", fused_loss, &f, f.b.gamma, dg, (size_t)c);
    expect_grad("fused dbeta", fused_loss, &f, f.b.beta, db, (size_t)c);
    if (with_residual) expect_grad("fused d residual (the masked dy)", fused_loss, &f, f.res, dy, nx);
    fused_ctx_free(&f);
    float *own[] = {x, res, r, gamma, beta, rm, rv, y, sm, si, dy, dx, dg, db};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) free(own[i]);
}

/* The stem's batch norm + ReLU + max pool, and max pooling's backward
 * through the ReLU followed by batch norm's backward. */
static void check_fused_stem(int n, int c, int h, int w)
{
    const int k = 3, stride = 2, pad = 1, hw = h * w;
    const int oh = rn_out_size(h, k, stride, pad), ow = rn_out_size(w, k, stride, pad);
    const size_t nx = (size_t)n * c * hw, ny = (size_t)n * c * oh * ow;
    const float eps = 1e-5f;
    printf("fused stem bn + relu + maxpool n=%d c=%d %dx%d\n", n, c, h, w);
    float *x = rand_floats(nx, -1, 1), *r = rand_floats(ny, -1, 1);
    float *gamma = rand_floats((size_t)c, 0.5f, 1.5f), *beta = rand_floats((size_t)c, -0.5f, 0.5f);
    float *rm = rand_floats((size_t)c, -0.2f, 0.2f), *rv = rand_floats((size_t)c, 0.5f, 1.5f);
    float *unused_r = rand_floats(nx, -1, 1);
    fused_ctx f = fused_ctx_of(n, c, hw, x, gamma, beta, unused_r, eps);
    f.pool = 1;
    f.p = (pool_ctx){n,
                     c,
                     h,
                     w,
                     k,
                     stride,
                     pad,
                     oh,
                     ow,
                     f.z,
                     to_double(r, ny),
                     xmalloc(ny * sizeof(double)),
                     xmalloc(ny * sizeof(int32_t))};
    float *pooled = nan_floats(ny), *sm = nan_floats((size_t)c), *si = nan_floats((size_t)c);
    int32_t *arg = xmalloc(ny * sizeof(int32_t));
    B->bn_relu_maxpool_forward_train(n, c, h, w, k, stride, pad, x, gamma, beta, pooled, arg, sm, si, rm, rv, 0.1f,
                                     eps);
    fused_loss(&f);
    expect_close("fused stem forward", pooled, f.p.y, ny);
    float *dz = nan_floats(nx), *dx = nan_floats(nx), *dg = nan_floats((size_t)c), *db = nan_floats((size_t)c);
    B->relu_maxpool_backward(n, c, h, w, k, stride, pad, pooled, arg, r, dz);
    B->bn_backward(n, c, hw, x, gamma, sm, si, dz, dx, dg, db);
    expect_grad("fused stem dx", fused_loss, &f, f.b.x, dx, nx);
    expect_grad("fused stem dgamma", fused_loss, &f, f.b.gamma, dg, (size_t)c);
    expect_grad("fused stem dbeta", fused_loss, &f, f.b.beta, db, (size_t)c);
    f.p.x = NULL; /* z, freed with f */
    fused_ctx_free(&f);
    float *own[] = {x, r, gamma, beta, rm, rv, unused_r, pooled, sm, si, dz, dx, dg, db};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) free(own[i]);
    free(arg);
}

static void test_fused(void)
{
    check_fused_block_end(3, 4, 5, 1);
    check_fused_block_end(3, 4, 5, 0);
    check_fused_block_end(5, 3, 1, 1); /* 1x1 planes: the fused kernels' in-order sweep */
    check_fused_stem(2, 3, 6, 6);
    check_fused_stem(2, 2, 7, 5); /* odd sides: windows cut by the padding */
}

/* ---- linear ------------------------------------------------------------- */

typedef struct {
    int n, in, out;
    double *x, *wt, *b, *r, *y;
} lin_ctx;

static void linear_ref(lin_ctx *l)
{
    for (int i = 0; i < l->n; i++)
        for (int o = 0; o < l->out; o++) {
            double s = l->b[o];
            for (int j = 0; j < l->in; j++) s += l->x[i * l->in + j] * l->wt[o * l->in + j];
            l->y[i * l->out + o] = s;
        }
}

static double linear_loss(void *q)
{
    lin_ctx *l = q;
    linear_ref(l);
    return dot(l->y, l->r, (size_t)l->n * l->out);
}

static void test_linear(void)
{
    const int n = 3, in = 7, out = 4;
    printf("linear n=%d %d->%d\n", n, in, out);
    const size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    float *x = rand_floats(nx, -1, 1), *wt = rand_floats(nw, -1, 1);
    float *b = rand_floats(out, -1, 1), *r = rand_floats(ny, -1, 1);
    lin_ctx l = {n,
                 in,
                 out,
                 to_double(x, nx),
                 to_double(wt, nw),
                 to_double(b, out),
                 to_double(r, ny),
                 xmalloc(ny * sizeof(double))};
    float *y = nan_floats(ny);
    B->linear_forward(n, in, out, x, wt, b, y);
    linear_ref(&l);
    expect_close("linear forward", y, l.y, ny);
    float *dx = nan_floats(nx), *dw = nan_floats(nw), *db = nan_floats(out);
    B->linear_backward(n, in, out, x, wt, r, dx, dw, db);
    expect_grad("linear dx", linear_loss, &l, l.x, dx, nx);
    expect_grad("linear dweight", linear_loss, &l, l.wt, dw, nw);
    expect_grad("linear dbias", linear_loss, &l, l.b, db, out);
    free(x);
    free(wt);
    free(b);
    free(r);
    free(y);
    free(dx);
    free(dw);
    free(db);
    free(l.x);
    free(l.wt);
    free(l.b);
    free(l.r);
    free(l.y);
}

/* ---- cross-entropy ------------------------------------------------------ */

typedef struct {
    int n, classes;
    double *z;
    const int32_t *labels;
} xent_ctx;

/* Batch mean of -log softmax(z)[label], from the definition. */
static double xent_loss(void *q)
{
    xent_ctx *x = q;
    double total = 0.0;
    for (int i = 0; i < x->n; i++) {
        double s = 0.0;
        for (int j = 0; j < x->classes; j++) s += exp(x->z[i * x->classes + j]);
        total += log(s) - x->z[i * x->classes + x->labels[i]];
    }
    return total / x->n;
}

static void test_xent(void)
{
    const int n = 5, classes = 6;
    printf("cross-entropy n=%d classes=%d\n", n, classes);
    const size_t nz = (size_t)n * classes;
    float *z = rand_floats(nz, -3, 3);
    int32_t labels[5];
    int32_t expect_correct = 0;
    for (int i = 0; i < n; i++) {
        labels[i] = (int32_t)cs_rng_below(&rng, classes);
        /* Make some predictions right: raise the label's logit in two rows. */
        if (i < 2) z[i * classes + labels[i]] = 5.0f;
    }
    for (int i = 0; i < n; i++) {
        int arg = 0;
        for (int j = 1; j < classes; j++)
            if (z[i * classes + j] > z[i * classes + arg]) arg = j;
        expect_correct += arg == labels[i];
    }
    xent_ctx x = {n, classes, to_double(z, nz), labels};
    float *dz = nan_floats(nz), loss = NAN;
    int32_t correct = -1;
    B->xent(n, classes, z, labels, dz, &loss, &correct);
    const double lref = xent_loss(&x);
    CHECK_NEAR(loss, lref, TOL * fabs(lref));
    CHECK(correct == expect_correct);
    CHECK(expect_correct >= 2);
    expect_grad("cross-entropy dlogits", xent_loss, &x, x.z, dz, nz);

    /* Large logits: the log-sum-exp must not overflow. */
    for (size_t i = 0; i < nz; i++) z[i] += 1000.0f;
    B->xent(n, classes, z, labels, dz, &loss, &correct);
    CHECK(isfinite(loss));
    CHECK_NEAR(loss, lref, 1e-3); /* float logits near 1000 keep ~1e-4 absolute */
    free(z);
    free(x.z);
    free(dz);
}

/* ---- Adam ---------------------------------------------------------------- */

/* Two steps, lr 0.1, b1 0.9, b2 0.999, eps 1e-8, worked by hand:
 *  element 0: p = 1, g = 0.5 then -0.25
 *    t=1: m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25: p = 1 - 0.1 * 0.5/0.5 = 0.9
 *    t=2: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
 *         m^ = 0.02/0.19 = 0.1052632, v^ = 0.00031225/0.001999 = 0.1562031,
 *         p = 0.9 - 0.1 * 0.1052632/0.3952254 = 0.8733663
 *  element 1: p = -2, g = -3 twice: m^ = -3, v^ = 9 at every step, so each
 *         step moves p by lr * 3/3 = 0.1: -1.9, then -1.8
 *  element 2: g = 0: m = v = 0, p stays 0.7 */
static void test_adam(void)
{
    printf("adam, two steps\n");
    float p[3] = {1.0f, -2.0f, 0.7f}, m[3] = {0}, v[3] = {0};
    const float g1[3] = {0.5f, -3.0f, 0.0f}, g2[3] = {-0.25f, -3.0f, 0.0f};
    B->adam(3, p, g1, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 1);
    CHECK_NEAR(p[0], 0.9, 1e-6);
    CHECK_NEAR(p[1], -1.9, 1e-6);
    CHECK_NEAR(m[0], 0.05, 1e-7);
    /* 1 - 0.999f is 0.00099998713 in float (0.999 has no exact float):
     * v is off by 1.3e-5 relative, hence 1e-4 relative tolerances on v. */
    CHECK_NEAR(v[0], 0.00025, 0.00025 * 1e-4);
    B->adam(3, p, g2, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 2);
    CHECK_NEAR(m[0], 0.02, 1e-7);
    CHECK_NEAR(v[0], 0.00031225, 0.00031225 * 1e-4);
    CHECK_NEAR(p[0], 0.8733663, 2e-6);
    CHECK_NEAR(p[1], -1.8, 2e-6);
    CHECK(p[2] == 0.7f);
}

/* ---- arena ---------------------------------------------------------------- */

static void test_arena(void)
{
    printf("arena\n");
    rn_arena *a = rn_arena_create(0);
    CHECK(!rn_arena_on_device(a));
    float *w = rn_arena_floats(a, RN_WEIGHTS, 100, "w");
    float *act = rn_arena_floats(a, RN_ACTIVATIONS, 1000, "act");
    void *idx = rn_arena_bytes_alloc(a, RN_ACTIVATIONS, 24, "idx");
    int zero = 1;
    for (int i = 0; i < 1000; i++) zero &= act[i] == 0.0f;
    CHECK(zero);
    CHECK(((uintptr_t)act & 63) == 0);
    CHECK(rn_arena_current(a, RN_WEIGHTS) == 400);
    CHECK(rn_arena_current(a, RN_ACTIVATIONS) == 4024);
    rn_arena_release(a, act);
    CHECK(rn_arena_current(a, RN_ACTIVATIONS) == 24);
    CHECK(rn_arena_peak(a, RN_ACTIVATIONS) == 4024);
    float *ws = rn_arena_floats(a, RN_WORKSPACE, 10, "ws");
    CHECK(rn_arena_total_peak(a) == 4424); /* the moment before the release */
    CHECK(rn_arena_current(a, RN_WORKSPACE) == 40);
    CHECK(strcmp(rn_category_name(RN_OPTIMIZER), "optimizer") == 0);
    (void)w;
    (void)idx;
    (void)ws;
    rn_arena_destroy(a);
}

int main(void)
{
    B = rn_cpu_backend();
    cs_rng_seed(&rng, 2024, 0);
    CHECK(strcmp(B->name, "cpu") == 0 && !B->on_device);
    test_conv();
    test_bn();
    test_bn_bits();
    test_relu_add();
    test_pooling();
    test_fused();
    test_linear();
    test_xent();
    test_adam();
    test_arena();
    return cs_test_done();
}
