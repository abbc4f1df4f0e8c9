/* Gradient accumulation in the backends (backend.h's grad_accumulate, Part
 * 4): with it on, a second backward on the same inputs leaves every
 * parameter gradient at twice the first (it added), and dx as the first
 * (still overwritten); off again, the next backward overwrites. Every
 * convolution path of the CPU (im2col, images in chunks, taps left out on a
 * 1 x 1 image, the direct 1 x 1, no images at all), batch norm and the
 * linear layer; the same on the GPU backend when there is a device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "backend.h"
#include "cpu_ops.h"
#include "cs_gpu.h"
#include "cs_rng.h"
#include "cs_test.h"

static cs_rng rng;

/* n random floats in backend memory (and their host copy in *host). */
static float *random_on(const rn_backend *be, rn_arena *ar, size_t n, float **host)
{
    float *h = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) h[i] = cs_rng_uniform(&rng, -1.0f, 1.0f);
    float *d = rn_arena_floats(ar, RN_WORKSPACE, n ? n : 1, "test data");
    be->to_backend(d, h, n * sizeof(float));
    if (host)
        *host = h;
    else
        free(h);
    return d;
}

static float *to_host(const rn_backend *be, const float *d, size_t n)
{
    float *h = malloc((n ? n : 1) * sizeof(float));
    be->to_host(h, d, n * sizeof(float));
    return h;
}

/* got against 2 x first (relative L2), and how it prints. */
static int doubled(const char *what, const float *first, const float *got, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - 2.0 * first[i];
        num += d * d;
        den += 4.0 * (double)first[i] * first[i];
    }
    double e = den > 0 ? sqrt(num / den) : sqrt(num);
    printf("    %-10s accumulated = 2 x one backward: rel. L2 %.1e\n", what, e);
    return e <= 1e-6;
}

/* One backward (overwrite), then one more with accumulation on. */
typedef void (*backward_fn)(const rn_backend *be, void *ctx);

static void twice(const rn_backend *be, backward_fn run, void *ctx, float **grads, size_t *counts, int ngrads,
                  const char *const *names, const float *dx, size_t ndx)
{
    float *first[4] = {0}, *dx_first = NULL;
    be->grad_accumulate(0);
    run(be, ctx);
    for (int g = 0; g < ngrads; g++) first[g] = to_host(be, grads[g], counts[g]);
    if (dx) dx_first = to_host(be, dx, ndx);
    be->grad_accumulate(1);
    run(be, ctx);
    be->grad_accumulate(0);
    for (int g = 0; g < ngrads; g++) {
        float *again = to_host(be, grads[g], counts[g]);
        CHECK(doubled(names[g], first[g], again, counts[g]));
        free(again);
    }
    if (dx) { /* overwritten, not added: the same values */
        float *again = to_host(be, dx, ndx);
        int same = memcmp(again, dx_first, ndx * sizeof(float)) == 0;
        printf("    %-10s overwritten: %s\n", "dx", same ? "the same values" : "DIFFERENT");
        CHECK(same);
        free(again);
        free(dx_first);
    }
    /* Off again: the next backward overwrites, back to the first values. */
    run(be, ctx);
    float *again = to_host(be, grads[0], counts[0]);
    int back = memcmp(again, first[0], counts[0] * sizeof(float)) == 0;
    printf("    %-10s accumulation off again: %s\n", names[0], back ? "overwritten" : "NOT overwritten");
    CHECK(back);
    free(again);
    for (int g = 0; g < ngrads; g++) free(first[g]);
}

typedef struct {
    rn_conv_shape s;
    int n, h, w;
    float *x, *wt, *dy, *dx, *dw, *work;
} conv_ctx;

static void conv_backward(const rn_backend *be, void *p)
{
    conv_ctx *c = p;
    be->conv_backward(&c->s, c->n, c->h, c->w, c->x, c->wt, c->dy, c->dx, c->dw, c->work);
}

static void check_conv(const rn_backend *be, rn_arena *ar, rn_conv_shape s, int n, int h, int w, const char *what)
{
    conv_ctx c = {.s = s, .n = n, .h = h, .w = w};
    int oh = rn_out_size(h, s.k, s.stride, s.pad), ow = rn_out_size(w, s.k, s.stride, s.pad);
    size_t nx = (size_t)n * s.cin * h * w, nw = (size_t)s.cout * s.cin * s.k * s.k, ny = (size_t)n * s.cout * oh * ow;
    size_t work = be->conv_work_floats(&s, n > 0 ? n : 1, h, w);
    printf("  %s conv k%d s%d p%d, %dx%dx%dx%d -> %d (%s):\n", be->name, s.k, s.stride, s.pad, n, s.cin, h, w, s.cout,
           what);
    c.x = random_on(be, ar, nx, NULL);
    c.wt = random_on(be, ar, nw, NULL);
    c.dy = random_on(be, ar, ny, NULL);
    c.dx = random_on(be, ar, nx, NULL);
    c.dw = random_on(be, ar, nw, NULL);
    c.work = rn_arena_floats(ar, RN_WORKSPACE, work ? work : 1, "work");
    if (n == 0) { /* no images: accumulating adds nothing, dW keeps its values */
        float *before = to_host(be, c.dw, nw);
        be->grad_accumulate(1);
        conv_backward(be, &c);
        be->grad_accumulate(0);
        float *after = to_host(be, c.dw, nw);
        CHECK(memcmp(before, after, nw * sizeof(float)) == 0);
        printf("    dweight    no images while accumulating: unchanged\n");
        free(before);
        free(after);
        return;
    }
    float *grads[1] = {c.dw};
    size_t counts[1] = {nw};
    const char *names[1] = {"dweight"};
    twice(be, conv_backward, &c, grads, counts, 1, names, c.dx, nx);
}

typedef struct {
    int n, c, hw;
    float *x, *gamma, *mean, *invstd, *dy, *dx, *dgamma, *dbeta;
} bn_ctx;

static void bn_backward(const rn_backend *be, void *p)
{
    bn_ctx *b = p;
    be->bn_backward(b->n, b->c, b->hw, b->x, b->gamma, b->mean, b->invstd, b->dy, b->dx, b->dgamma, b->dbeta);
}

static void check_bn(const rn_backend *be, rn_arena *ar, int n, int c, int hw)
{
    printf("  %s batch norm %d x %d x %d:\n", be->name, n, c, hw);
    size_t count = (size_t)n * c * hw;
    bn_ctx b = {.n = n, .c = c, .hw = hw};
    float *invstd_h;
    b.x = random_on(be, ar, count, NULL);
    b.gamma = random_on(be, ar, (size_t)c, NULL);
    b.mean = random_on(be, ar, (size_t)c, NULL);
    b.invstd = random_on(be, ar, (size_t)c, &invstd_h);
    for (int i = 0; i < c; i++) invstd_h[i] = 1.0f + fabsf(invstd_h[i]); /* positive, as 1/sqrt(var + eps) */
    be->to_backend(b.invstd, invstd_h, (size_t)c * sizeof(float));
    free(invstd_h);
    b.dy = random_on(be, ar, count, NULL);
    b.dx = random_on(be, ar, count, NULL);
    b.dgamma = random_on(be, ar, (size_t)c, NULL);
    b.dbeta = random_on(be, ar, (size_t)c, NULL);
    float *grads[2] = {b.dgamma, b.dbeta};
    size_t counts[2] = {(size_t)c, (size_t)c};
    const char *names[2] = {"dgamma", "dbeta"};
    twice(be, bn_backward, &b, grads, counts, 2, names, b.dx, count);
}

typedef struct {
    int n, in, out;
    float *x, *w, *dy, *dx, *dw, *db;
} linear_ctx;

static void linear_backward(const rn_backend *be, void *p)
{
    linear_ctx *l = p;
    be->linear_backward(l->n, l->in, l->out, l->x, l->w, l->dy, l->dx, l->dw, l->db);
}

static void check_linear(const rn_backend *be, rn_arena *ar, int n, int in, int out)
{
    printf("  %s linear %d x %d -> %d:\n", be->name, n, in, out);
    linear_ctx l = {.n = n, .in = in, .out = out};
    l.x = random_on(be, ar, (size_t)n * in, NULL);
    l.w = random_on(be, ar, (size_t)out * in, NULL);
    l.dy = random_on(be, ar, (size_t)n * out, NULL);
    l.dx = random_on(be, ar, (size_t)n * in, NULL);
    l.dw = random_on(be, ar, (size_t)out * in, NULL);
    l.db = random_on(be, ar, (size_t)out, NULL);
    float *grads[2] = {l.dw, l.db};
    size_t counts[2] = {(size_t)out * in, (size_t)out};
    const char *names[2] = {"dweight", "dbias"};
    twice(be, linear_backward, &l, grads, counts, 2, names, l.dx, (size_t)n * in);
}

static void check_backend(const rn_backend *be)
{
    rn_arena *ar = rn_arena_create(be->on_device);
    const rn_conv_shape c3 = {5, 6, 3, 1, 1}, c3s2 = {4, 7, 3, 2, 1}, c1 = {6, 5, 1, 1, 0}, c7 = {3, 8, 7, 2, 3};
    check_conv(be, ar, c3, 3, 9, 11, "im2col");
    check_conv(be, ar, c3s2, 2, 13, 9, "stride 2");
    check_conv(be, ar, c7, 2, 17, 15, "the stem");
    check_conv(be, ar, c3, 2, 1, 1, "1 x 1 image: taps left out");
    check_conv(be, ar, c1, 3, 5, 7, "1 x 1 direct");
    check_conv(be, ar, c3, 0, 9, 11, "no images");
    if (!be->on_device) { /* images in chunks of one: dW adds over the chunks, then onto what it held */
        size_t old = rn_cpu_conv_set_chunk_floats(1);
        check_conv(be, ar, c3, 3, 9, 11, "chunks of one image");
        rn_cpu_conv_set_chunk_floats(old);
    }
    check_bn(be, ar, 4, 5, 9);
    check_linear(be, ar, 6, 16, 10);
    rn_arena_destroy(ar);
}

int main(void)
{
    cs_rng_seed(&rng, 4242, 0);
    check_backend(rn_cpu_backend());
    char why[256];
    const rn_backend *gpu = rn_gpu_backend();
    if (gpu && cs_gpu_probe(why, sizeof why))
        check_backend(gpu);
    else
        printf("GPU backend not checked: %s\n", gpu ? why : "this build has no GPU backend");
    return cs_test_done();
}
