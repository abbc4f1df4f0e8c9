/* ResNet-50 (model.h, --arch resnet50, Part 4's bonus challenge 2):
 * torchvision's structure and names (267 tensors, 23,528,522 trainable
 * parameters with 10 classes, Bottleneck shapes with the stride on the
 * 3x3), a training step that gives finite numbers and moves the loss, its
 * weights saved and loaded back bit for bit, and ImageNet's 1000-class head
 * replaced on load as for ResNet-18. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cs_profiler.h"
#include "cs_test.h"
#include "model.h"
#include "safetensors.h"

static int shape_is(rn_model *m, const char *name, int ndims, int64_t a, int64_t b, int64_t c, int64_t d)
{
    const rn_param *p = rn_model_param(m, name);
    const int64_t want[4] = {a, b, c, d};
    if (!p || p->ndims != ndims) return 0;
    for (int i = 0; i < ndims; i++)
        if (p->shape[i] != want[i]) return 0;
    return 1;
}

static void test_structure(rn_model *m)
{
    CHECK(m->nparams == 267);
    CHECK(rn_model_trainable_count(m) == 23528522);
    CHECK(m->nblocks == 16 && m->features == 2048);
    CHECK(shape_is(m, "layer1.0.conv1.weight", 4, 64, 64, 1, 1));
    CHECK(shape_is(m, "layer1.0.conv3.weight", 4, 256, 64, 1, 1));
    CHECK(shape_is(m, "layer1.0.downsample.0.weight", 4, 256, 64, 1, 1));
    CHECK(shape_is(m, "layer2.0.conv2.weight", 4, 128, 128, 3, 3));
    CHECK(m->blocks[3].conv2.s.stride == 2 && m->blocks[3].conv1.s.stride == 1); /* layer2.0: the 3x3 strides */
    CHECK(shape_is(m, "layer3.5.bn3.running_var", 1, 1024, 0, 0, 0));
    CHECK(shape_is(m, "layer4.2.conv3.weight", 4, 2048, 512, 1, 1));
    CHECK(shape_is(m, "fc.weight", 2, RN_CLASSES, 2048, 0, 0));
    CHECK(rn_model_param(m, "layer1.1.downsample.0.weight") == NULL);
    rn_bn_layer *bn[RN_MAX_BN];
    CHECK(rn_model_bn_layers(m, bn) == 53);
}

static void test_step(rn_model *m)
{
    enum { N = 4 };
    static float images[N * 3 * 32 * 32];
    int32_t labels[N] = {1, 4, 7, 9};
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) images[i] = sinf((float)i * 0.37f);
    rn_model_prepare(m, N, 32);
    float loss[12];
    int correct;
    for (int step = 0; step < 12; step++) {
        rn_model_set_batch(m, images, labels);
        rn_model_forward(m, 1);
        rn_model_loss(m);
        rn_model_backward(m);
        rn_model_adam_step(m);
        rn_model_read_metrics(m, &loss[step], &correct);
        CHECK(isfinite(loss[step]));
    }
    printf("resnet50: loss over 12 steps on one batch:");
    for (int i = 0; i < 12; i++) printf(" %.4f", loss[i]);
    printf("\n");
    /* The same batch again and again: Adam fits it (not step by step: batch
     * norm over 4 images makes each step's loss jump, in PyTorch too). */
    CHECK(loss[9] + loss[10] + loss[11] < 3 * 0.6f * loss[0]);
    double norm = 0;
    const rn_param *g = rn_model_param(m, "layer1.0.conv1.weight");
    for (size_t i = 0; i < g->count; i++) norm += (double)g->grad[i] * g->grad[i];
    CHECK(norm > 0); /* the gradient reached the first block */
}

static void test_save_load(rn_model *m)
{
    char path[] = "/tmp/rn_resnet50_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(rn_model_save(m, path) == 0);
    rn_model back;
    rn_model_init_arch(&back, rn_cpu_backend(), 99, RN_RESNET50);
    CHECK(rn_model_load(&back, path, 99) == 0);
    int same = 1;
    for (int i = 0; i < m->nparams; i++)
        same &= memcmp(m->params[i].data, back.params[i].data, m->params[i].count * sizeof(float)) == 0;
    CHECK(same);
    CHECK(back.blocks[15].bn3.num_batches_tracked == m->blocks[15].bn3.num_batches_tracked);
    /* A ResNet-18 file is not a ResNet-50's. */
    rn_model r18;
    rn_model_init(&r18, rn_cpu_backend(), 1);
    CHECK(rn_model_load(&r18, path, 1) == 2);
    rn_model_free(&r18);
    rn_model_free(&back);
    unlink(path);
}

/* ImageNet's head (fc.weight [1000, 2048], fc.bias [1000]) over the same
 * features: the backbone loads, fc is re-initialised for 10 classes. */
static void test_imagenet_head(const rn_model *m)
{
    char path[] = "/tmp/rn_resnet50_head_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    static float head_w[1000 * 2048], head_b[1000];
    rn_st_writer *w = rn_st_writer_new();
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        if (p == m->fc_weight) {
            const int64_t shape[2] = {1000, 2048};
            rn_st_writer_add(w, p->name, 2, shape, head_w);
        } else if (p == m->fc_bias) {
            const int64_t shape[1] = {1000};
            rn_st_writer_add(w, p->name, 1, shape, head_b);
        } else {
            rn_st_writer_add(w, p->name, p->ndims, p->shape, p->data);
        }
    }
    CHECK(rn_st_writer_save(w, path) == 0);
    rn_st_writer_free(w);
    rn_model back;
    rn_model_init_arch(&back, rn_cpu_backend(), 7, RN_RESNET50);
    CHECK(rn_model_load(&back, path, 7) == 0);
    const rn_param *conv = rn_model_param(&back, "layer4.2.conv3.weight");
    CHECK(memcmp(conv->data, rn_model_param((rn_model *)m, "layer4.2.conv3.weight")->data,
                 conv->count * sizeof(float)) == 0);
    CHECK(back.fc_weight->shape[0] == RN_CLASSES && back.fc_weight->data[0] != 0.0f); /* re-initialised */
    rn_model_free(&back);
    unlink(path);
}

int main(void)
{
    cs_prof_enable(0); /* the models live on this stack */
    rn_model m;
    rn_model_init_arch(&m, rn_cpu_backend(), 3, RN_RESNET50);
    test_structure(&m);
    test_step(&m);
    test_save_load(&m);
    test_imagenet_head(&m);
    rn_model_free(&m);
    return cs_test_done();
}
