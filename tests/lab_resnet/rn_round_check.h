/* backend.h's round_outputs, checked on any backend (test_rn_round_outputs
 * on the CPU, test_rn_gpu_layers on the GPU): every output the entry lists,
 * written with the mode on, must be the bits round_to gives of the same
 * operation's output with the mode off; and with the mode off again an
 * operation writes float (its outputs not all representable). Odd sizes;
 * each run starts from fresh copies of every input an operation changes
 * (running statistics, the dy relu_bn_backward masks, an accumulated dW).
 * The convolutions run under both conv_math settings a backend has: fp32
 * math (a float result, rounded after) and the 16-bit math (on the GPU a
 * result widened from half tensors, holding its values already). */
#ifndef RN_ROUND_CHECK_H
#define RN_ROUND_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "device_mem.h"
#include "precision.h"

/* ---- Buffers on the backend's side --------------------------------------- */

static void *rc_alloc(const rn_backend *be, size_t bytes)
{
    if (bytes == 0) bytes = 4;
    void *p = be->on_device ? rn_device_alloc(bytes, "round_outputs check") : malloc(bytes);
    if (p == NULL) {
        fprintf(stderr, "rn_round_check: out of memory\n");
        exit(3);
    }
    return p;
}

static void rc_free(const rn_backend *be, void *p)
{
    if (be->on_device)
        rn_device_free(p);
    else
        free(p);
}

/* Frees each of n buffers (NULLs skipped). */
static void rc_free_all(const rn_backend *be, float *const *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) rc_free(be, p[i]);
}

/* Deterministic values in [lo, hi): most of them not fp16 or bf16 values. */
static float *rc_values(const rn_backend *be, size_t n, float lo, float hi, uint32_t seed)
{
    float *h = malloc(n * sizeof(float));
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
    }
    float *d = rc_alloc(be, n * sizeof(float));
    be->to_backend(d, h, n * sizeof(float));
    free(h);
    return d;
}

static float *rc_copy(const rn_backend *be, const float *src, size_t n)
{
    float *h = malloc(n * sizeof(float));
    be->to_host(h, src, n * sizeof(float));
    float *d = rc_alloc(be, n * sizeof(float));
    be->to_backend(d, h, n * sizeof(float));
    free(h);
    return d;
}

/* The two runs of one output: `off` (mode off, then round_to on the
 * backend) against `on` (mode on), the same bits? Prints a line when not;
 * returns 1 on a difference. */
static int rc_differs(const rn_backend *be, const char *what, float *off, const float *on, size_t n, rn_precision p)
{
    be->round_to(n, off, off, (int)p);
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    be->to_host(a, off, n * sizeof(float));
    be->to_host(b, on, n * sizeof(float));
    size_t bad = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0 && bad++ == 0) first = i;
    if (bad)
        printf("  round_outputs %s, %s: %zu of %zu differ (first at %zu: %.9g rounded after, %.9g as written)\n",
               rn_precision_name(p), what, bad, n, first, (double)a[first], (double)b[first]);
    free(a);
    free(b);
    return bad != 0;
}

/* ---- The operations ------------------------------------------------------ */

/* Convolution forward and backward (dW overwritten, then accumulated), or
 * with `kept` Part 5's forward that keeps and backward that reads the kept
 * matrices, where the backend has them (0 failures where it has not). */
static int rc_conv(const rn_backend *be, rn_precision p, const rn_conv_shape *s, int n, int h, int w, int kept)
{
    const size_t keep_floats = kept && be->conv_keep_floats ? be->conv_keep_floats(s, n, h, w) : 0;
    if (kept && keep_floats == 0) return 0;
    const int oh = rn_out_size(h, s->k, s->stride, s->pad), ow = rn_out_size(w, s->k, s->stride, s->pad);
    const size_t nx = (size_t)n * s->cin * h * w, ny = (size_t)n * s->cout * oh * ow,
                 nw = (size_t)s->cout * s->cin * s->k * s->k;
    float *x = rc_values(be, nx, -1, 1, 1), *wt = rc_values(be, nw, -0.5f, 0.5f, 2), *dy = rc_values(be, ny, -1, 1, 3);
    float *work = rc_alloc(be, be->conv_work_floats(s, n, h, w) * sizeof(float));
    float *keep = kept ? rc_alloc(be, keep_floats * sizeof(float)) : NULL;
    float *y[2], *dx[2], *dw[2], *acc[2] = {NULL, NULL};
    for (int on = 0; on < 2; on++) {
        y[on] = rc_alloc(be, ny * sizeof(float));
        dx[on] = rc_alloc(be, nx * sizeof(float));
        dw[on] = rc_alloc(be, nw * sizeof(float));
        be->round_outputs(on ? (int)p : RN_FP32);
        if (kept) {
            be->conv_forward_keep(s, n, h, w, x, wt, y[on], work, keep);
            be->conv_backward_kept(s, n, h, w, x, wt, dy, dx[on], dw[on], work, keep);
        } else {
            be->conv_forward(s, n, h, w, x, wt, y[on], work);
            be->conv_backward(s, n, h, w, x, wt, dy, dx[on], dw[on], work);
            acc[on] = rc_values(be, nw, -0.25f, 0.25f, 4);
            be->grad_accumulate(1);
            be->conv_backward(s, n, h, w, x, wt, dy, NULL, acc[on], work);
            be->grad_accumulate(0);
        }
        be->round_outputs(RN_FP32);
    }
    int bad = rc_differs(be, kept ? "conv_forward_keep y" : "conv_forward y", y[0], y[1], ny, p) +
              rc_differs(be, kept ? "conv_backward_kept dx" : "conv_backward dx", dx[0], dx[1], nx, p) +
              rc_differs(be, kept ? "conv_backward_kept dweight" : "conv_backward dweight", dw[0], dw[1], nw, p);
    if (!kept) bad += rc_differs(be, "conv_backward dweight accumulated", acc[0], acc[1], nw, p);
    float *all[] = {x, wt, dy, work, keep, y[0], y[1], dx[0], dx[1], dw[0], dw[1], acc[0], acc[1]};
    rc_free_all(be, all, sizeof all / sizeof all[0]);
    return bad;
}

/* Batch norm's forwards and backwards, plain and fused. */
typedef struct {
    int n, c, hw;
    size_t count;
    float *x, *gamma, *beta, *rm, *rv, *mean, *invstd, *dy, *res, *relu_y;
} rc_bn;

static void rc_bn_make(const rn_backend *be, rc_bn *b, int n, int c, int hw)
{
    b->n = n;
    b->c = c;
    b->hw = hw;
    b->count = (size_t)n * c * hw;
    b->x = rc_values(be, b->count, -2, 3, 11);
    b->gamma = rc_values(be, (size_t)c, 0.5f, 1.5f, 12);
    b->beta = rc_values(be, (size_t)c, -0.5f, 0.5f, 13);
    b->rm = rc_values(be, (size_t)c, -0.1f, 0.1f, 14);
    b->rv = rc_values(be, (size_t)c, 0.5f, 1.5f, 15);
    b->mean = rc_alloc(be, (size_t)c * sizeof(float));
    b->invstd = rc_alloc(be, (size_t)c * sizeof(float));
    b->dy = rc_values(be, b->count, -1, 1, 16);
    b->res = rc_values(be, b->count, -1, 1, 17);
    b->relu_y = rc_values(be, b->count, -1, 1, 18); /* half of it > 0: the ReLU's mask */
    float *y = rc_alloc(be, b->count * sizeof(float));
    float *rm = rc_copy(be, b->rm, (size_t)c), *rv = rc_copy(be, b->rv, (size_t)c);
    be->bn_forward_train(n, c, hw, b->x, b->gamma, b->beta, y, b->mean, b->invstd, rm, rv, 0.1f, 1e-5f);
    rc_free(be, y);
    rc_free(be, rm);
    rc_free(be, rv);
}

static void rc_bn_free(const rn_backend *be, rc_bn *b)
{
    float *all[] = {b->x, b->gamma, b->beta, b->rm, b->rv, b->mean, b->invstd, b->dy, b->res, b->relu_y};
    rc_free_all(be, all, sizeof all / sizeof all[0]);
}

/* Operation `op` of batch norm with the mode on or off, into out (count);
 * bn_backward_bits reads x in p's 16 bits either way. */
static void rc_bn_run(const rn_backend *be, const rc_bn *b, int op, float *out, int mode_on, rn_precision p)
{
    const int n = b->n, c = b->c, hw = b->hw;
    float *rm = rc_copy(be, b->rm, (size_t)c), *rv = rc_copy(be, b->rv, (size_t)c);
    float *sm = rc_alloc(be, (size_t)c * sizeof(float)), *si = rc_alloc(be, (size_t)c * sizeof(float));
    float *dg = rc_alloc(be, (size_t)c * sizeof(float)), *db = rc_alloc(be, (size_t)c * sizeof(float));
    float *dy = rc_copy(be, b->dy, b->count);
    uint16_t *bits = rc_alloc(be, b->count * sizeof(uint16_t));
    be->round_outputs(mode_on ? (int)p : RN_FP32);
    switch (op) {
    case 0: be->bn_forward_train(n, c, hw, b->x, b->gamma, b->beta, out, sm, si, rm, rv, 0.1f, 1e-5f); break;
    case 1: be->bn_forward_eval(n, c, hw, b->x, b->gamma, b->beta, b->rm, b->rv, 1e-5f, out); break;
    case 2: be->bn_backward(n, c, hw, b->x, b->gamma, b->mean, b->invstd, dy, out, dg, db); break;
    case 3:
        be->pack(b->count, b->x, bits, (int)p); /* x's bits: rounding x on the way */
        be->bn_backward_bits(n, c, hw, bits, (int)p, b->gamma, b->mean, b->invstd, dy, out, dg, db);
        break;
    case 4:
        be->bn_add_relu_forward_train(n, c, hw, b->x, b->gamma, b->beta, b->res, out, sm, si, rm, rv, 0.1f, 1e-5f);
        break;
    case 5:
        be->bn_add_relu_forward_train(n, c, hw, b->x, b->gamma, b->beta, NULL, out, sm, si, rm, rv, 0.1f, 1e-5f);
        break;
    case 6: be->relu_bn_backward(n, c, hw, b->relu_y, b->x, b->gamma, b->mean, b->invstd, dy, out, dg, db); break;
    case 7: be->add(b->count, b->x, b->dy, out); break;
    }
    be->round_outputs(RN_FP32);
    float *all[] = {rm, rv, sm, si, dg, db, dy};
    rc_free_all(be, all, sizeof all / sizeof all[0]);
    rc_free(be, bits);
}

static int rc_bn_ops(const rn_backend *be, rn_precision p, int n, int c, int hw)
{
    static const char *const names[] = {"bn_forward_train y",
                                        "bn_forward_eval y",
                                        "bn_backward dx",
                                        "bn_backward_bits dx",
                                        "bn_add_relu_forward_train y",
                                        "bn_add_relu_forward_train y (no residual)",
                                        "relu_bn_backward dx",
                                        "add y"};
    rc_bn b;
    rc_bn_make(be, &b, n, c, hw);
    int bad = 0;
    for (int op = 0; op < 8; op++) {
        if ((op == 4 || op == 5) && !be->bn_add_relu_forward_train) continue;
        if (op == 6 && !be->relu_bn_backward) continue;
        float *off = rc_alloc(be, b.count * sizeof(float)), *on = rc_alloc(be, b.count * sizeof(float));
        rc_bn_run(be, &b, op, off, 0, p);
        rc_bn_run(be, &b, op, on, 1, p);
        bad += rc_differs(be, names[op], off, on, b.count, p);
        rc_free(be, off);
        rc_free(be, on);
    }
    rc_bn_free(be, &b);
    return bad;
}

/* Max pooling's backwards (ResNet's 3, 2, 1 window: overlapping windows
 * add their gradients, the sums the rounding must see whole). */
static int rc_pool(const rn_backend *be, rn_precision p, int n, int c, int h, int w)
{
    const int oh = rn_out_size(h, 3, 2, 1), ow = rn_out_size(w, 3, 2, 1);
    const size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * oh * ow;
    float *x = rc_values(be, nx, -1, 1, 21), *pooled = rc_alloc(be, ny * sizeof(float));
    float *dy = rc_values(be, ny, -1, 1, 22);
    int32_t *argmax = rc_alloc(be, ny * sizeof(int32_t));
    be->maxpool_forward(n, c, h, w, 3, 2, 1, x, pooled, argmax);
    float *dx[2][2];
    for (int on = 0; on < 2; on++) {
        be->round_outputs(on ? (int)p : RN_FP32);
        dx[0][on] = rc_alloc(be, nx * sizeof(float));
        be->maxpool_backward(n, c, h, w, 3, 2, 1, argmax, dy, dx[0][on]);
        dx[1][on] = rc_alloc(be, nx * sizeof(float));
        if (be->relu_maxpool_backward) be->relu_maxpool_backward(n, c, h, w, 3, 2, 1, pooled, argmax, dy, dx[1][on]);
        be->round_outputs(RN_FP32);
    }
    int bad = rc_differs(be, "maxpool_backward dx", dx[0][0], dx[0][1], nx, p);
    if (be->relu_maxpool_backward) bad += rc_differs(be, "relu_maxpool_backward dx", dx[1][0], dx[1][1], nx, p);
    for (int i = 0; i < 4; i++) rc_free(be, dx[i / 2][i % 2]);
    rc_free(be, x);
    rc_free(be, pooled);
    rc_free(be, dy);
    rc_free(be, argmax);
    return bad;
}

/* With the mode off (turned on and off first when `toggle`), add writes
 * float sums: some of them are not values of p (the inputs were chosen
 * so). Returns 1 when all are. */
static int rc_writes_rounded(const rn_backend *be, rn_precision p, int toggle)
{
    const size_t n = 257;
    float *a = rc_values(be, n, -1, 1, 31), *b = rc_values(be, n, -1, 1, 32), *y = rc_alloc(be, n * sizeof(float));
    if (toggle) {
        be->round_outputs((int)p);
        be->round_outputs(RN_FP32);
    }
    be->add(n, a, b, y);
    float *h = malloc(n * sizeof(float)), *r = malloc(n * sizeof(float));
    be->to_host(h, y, n * sizeof(float));
    rn_round_to(n, h, r, p);
    const int all_rounded = memcmp(h, r, n * sizeof(float)) == 0;
    if (all_rounded) printf("  round_outputs off: add's output still rounded to %s\n", rn_precision_name(p));
    free(h);
    free(r);
    rc_free(be, a);
    rc_free(be, b);
    rc_free(be, y);
    return all_rounded;
}

/* Every check above for fp16 and bf16; returns the number of failures and
 * prints one line per backend and precision. */
static int rn_check_round_outputs(const rn_backend *be)
{
    static const rn_conv_shape convs[] = {{5, 6, 3, 1, 1}, {4, 7, 1, 2, 0}, {3, 8, 7, 2, 3}};
    const rn_precision lows[] = {RN_FP16, RN_BF16};
    int failures = 0;
    for (int k = 0; k < 2; k++) {
        const rn_precision p = lows[k];
        int bad = 0;
        for (int math = 0; math < (be->conv_math ? 2 : 1); math++) {
            if (be->conv_math) be->conv_math(math ? (int)p : RN_FP32);
            for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) bad += rc_conv(be, p, &convs[i], 3, 11, 9, 0);
        }
        if (be->conv_math) be->conv_math(RN_FP32);
        bad += rc_conv(be, p, &convs[0], 3, 11, 9, 1);
        bad += rc_bn_ops(be, p, 3, 5, 7 * 9);
        bad += rc_pool(be, p, 2, 3, 11, 9);
        bad += rc_writes_rounded(be, p, 1);
        be->sync();
        printf("  %-44s %s\n",
               p == RN_FP16 ? "round_outputs fp16: as round_to after" : "round_outputs bf16: as round_to after",
               bad ? "DIFFERENT" : "the same bits");
        failures += bad;
    }
    return failures;
}

#endif
