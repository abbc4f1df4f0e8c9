/* Part 5's fusions (backend.h's bn_add_relu_forward_train, relu_bn_backward,
 * bn_relu_maxpool_forward_train, relu_maxpool_backward, adam_multi,
 * conv_forward_keep and conv_backward_kept;
 * model.h's rn_model_set_fused): two training steps with and without them
 * give the same gradients, weights, running statistics and batch counts,
 * bit for bit on the CPU, for ResNet-18 (BasicBlocks) and ResNet-50
 * (Bottlenecks), at 32 x 32 (rows of 256 to 1 values: both of batch norm's
 * summing paths) and 64 x 64. The fused model must really call every fused
 * operation (counted through a wrapped backend); under bf16 the ones that
 * are exact there (batch norm + ReLU, its backward, Adam), again with the
 * separate operations' bits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_profiler.h"
#include "cs_test.h"
#include "loader.h"
#include "model.h"
#include "rn_same_model.h"

/* The CPU backend with the fused entries counted. */
static rn_backend counting;
static int calls[8];

static void c_bn_add_relu(int n, int c, int hw, const float *x, const float *g, const float *b, const float *res,
                          float *y, float *sm, float *si, float *rm, float *rv, float mom, float eps)
{
    calls[0]++;
    rn_cpu_backend()->bn_add_relu_forward_train(n, c, hw, x, g, b, res, y, sm, si, rm, rv, mom, eps);
}

static void c_relu_bn_bwd(int n, int c, int hw, const float *y, const float *x, const float *g, const float *sm,
                          const float *si, float *dy, float *dx, float *dg, float *db)
{
    calls[1]++;
    rn_cpu_backend()->relu_bn_backward(n, c, hw, y, x, g, sm, si, dy, dx, dg, db);
}

static void c_stem_fwd(int n, int c, int h, int w, int k, int s, int p, const float *x, const float *g, const float *b,
                       float *pooled, int32_t *am, float *sm, float *si, float *rm, float *rv, float mom, float eps)
{
    calls[2]++;
    rn_cpu_backend()->bn_relu_maxpool_forward_train(n, c, h, w, k, s, p, x, g, b, pooled, am, sm, si, rm, rv, mom, eps);
}

static void c_stem_bwd(int n, int c, int h, int w, int k, int s, int p, const float *pooled, const int32_t *am,
                       const float *dy, float *dx)
{
    calls[3]++;
    rn_cpu_backend()->relu_maxpool_backward(n, c, h, w, k, s, p, pooled, am, dy, dx);
}

static void c_adam_multi(int nt, const rn_adam_tensor *ts, float lr, float b1, float b2, float eps, int t)
{
    calls[4]++;
    rn_cpu_backend()->adam_multi(nt, ts, lr, b1, b2, eps, t);
}

static void c_conv_fwd_keep(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *wt, float *y,
                            float *work, float *keep)
{
    calls[5]++;
    rn_cpu_backend()->conv_forward_keep(s, n, h, w, x, wt, y, work, keep);
}

static void c_conv_bwd_kept(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *wt,
                            const float *dy, float *dx, float *dw, float *work, const float *kept)
{
    calls[6]++;
    rn_cpu_backend()->conv_backward_kept(s, n, h, w, x, wt, dy, dx, dw, work, kept);
}

static void c_conv_bwd_kept_live(const rn_conv_shape *s, int n, int h, int w, const float *x, const float *wt,
                                 const float *dy, float *dx, float *dwlive, float *work, const float *kept)
{
    calls[7]++;
    rn_cpu_backend()->conv_backward_kept_live(s, n, h, w, x, wt, dy, dx, dwlive, work, kept);
}

/* The fused model against the plain one. The fused step keeps layer4's
 * gradient and Adam's moments compact at 32 x 32 (its live taps): leaving
 * it writes them back, and coming back gathers them again, which both
 * comparisons exercise. */
static int same_after_leaving(const rn_model *plain, rn_model *fused)
{
    rn_model_set_fused(fused, 0);
    int same = rn_test_same_model(plain, fused);
    rn_model_set_fused(fused, 1);
    return same;
}

static void check(rn_arch arch, rn_precision p, int batch, int img, const float *images, const int32_t *labels)
{
    cs_prof_enable(0); /* the models live on this stack: the profiler must not keep their region names */
    rn_model plain, fused;
    rn_model_init_arch(&plain, rn_cpu_backend(), 21, arch);
    rn_model_init_arch(&fused, &counting, 21, arch);
    rn_model_set_precision(&plain, p);
    rn_model_set_precision(&fused, p);
    rn_model_set_fused(&fused, 1);
    rn_model_prepare(&plain, batch, img);
    rn_model_prepare(&fused, batch, img);
    memset(calls, 0, sizeof calls);
    int ok = 1;
    for (int step = 0; step < 2; step++) {
        rn_test_train_step(&plain, images, labels);
        rn_test_train_step(&fused, images, labels);
        ok &= same_after_leaving(&plain, &fused); /* the gradients before the step */
        rn_model_adam_step(&plain);
        rn_model_adam_step(&fused);
        ok &= same_after_leaving(&plain, &fused);
    }
    printf("%s %s batch %d at %d x %d: fused and separate over 2 steps %s; fused calls: bn+add+relu %d, "
           "relu+bn backward %d, stem %d + %d, multi-tensor Adam %d, convolutions keeping their patches %d + %d, "
           "of them on the computed taps alone %d\n",
           rn_arch_name(arch), rn_precision_name(p), batch, img, img, ok ? "the same bits" : "DIFFER", calls[0],
           calls[1], calls[2], calls[3], calls[4], calls[5], calls[6] + calls[7], calls[7]);
    CHECK(ok);
    /* Every convolution that builds a patch matrix keeps it, in any
     * precision: ResNet-18's 20; ResNet-50's stem, 16 3x3 and 3 strided
     * shortcuts (its 1x1 stride-1 ones read their input as it is). In
     * fp32 at 32 x 32 layer4's 3x3 convolutions (ResNet-18's 4, ResNet-50's
     * 3) keep their computed taps' gradient compact. */
    CHECK(calls[5] == 2 * 20 && calls[6] + calls[7] == 2 * 20);
    const int live = p == RN_FP32 && img == 32 ? (arch == RN_RESNET18 ? 4 : 3) : 0;
    CHECK(calls[7] == 2 * live);
    if (p == RN_FP32) {
        /* Every batch norm but the stem's and the shortcuts' is fused, forward and backward. */
        int nbn = arch == RN_RESNET18 ? 16 : 48;
        CHECK(calls[0] == 2 * nbn && calls[1] == 2 * nbn);
        CHECK(calls[2] == 2 && calls[3] == 2 && calls[4] == 2);
    } else {
        /* 16-bit storage: batch norm + ReLU (inside blocks) and its
         * backward, Adam; the block's end and the stem's forward
         * separately. The stem's backward takes the ReLU's mask from the
         * pooled values in 16-bit storage whether fused or not (no float
         * copy of its activations): one call per step. */
        int inner = arch == RN_RESNET18 ? 8 : 32;
        CHECK(calls[0] == 2 * inner && calls[1] == 2 * (arch == RN_RESNET18 ? 16 : 48));
        CHECK(calls[2] == 0 && calls[3] == 2 && calls[4] == 2);
    }
    rn_model_free(&plain);
    rn_model_free(&fused);
}

static void run(int batch, int img, uint64_t seed)
{
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, 16, seed) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, batch, img, 0, seed) == 0);
    float *images = malloc((size_t)batch * 3 * img * img * sizeof *images);
    int32_t labels[16];
    CHECK(images != NULL);
    rn_loader_get(&ld, 0, images, labels);
    check(RN_RESNET18, RN_FP32, batch, img, images, labels);
    if (img == 32) {
        check(RN_RESNET18, RN_BF16, batch, img, images, labels);
        check(RN_RESNET50, RN_FP32, batch, img, images, labels);
    }
    free(images);
    rn_loader_free(&ld);
    rn_cifar_free(&d);
}

int main(void)
{
    counting = *rn_cpu_backend();
    counting.bn_add_relu_forward_train = c_bn_add_relu;
    counting.relu_bn_backward = c_relu_bn_bwd;
    counting.bn_relu_maxpool_forward_train = c_stem_fwd;
    counting.relu_maxpool_backward = c_stem_bwd;
    counting.adam_multi = c_adam_multi;
    counting.conv_forward_keep = c_conv_fwd_keep;
    counting.conv_backward_kept = c_conv_bwd_kept;
    counting.conv_backward_kept_live = c_conv_bwd_kept_live;
    run(4, 32, 5);
    run(2, 64, 6);
    return cs_test_done();
}
