/* A short training run on generated data whose loss must fall, on the CPU
 * backend: ResNet-18 at 32 x 32, batch 8, Adam lr 1e-3, 24 steps over the
 * same 64 images (so the model can fit them). Also: the trainable parameter
 * count is ResNet-18's with a 10-class head, the names are torchvision's,
 * and a save/load round trip gives the same weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_test.h"
#include "cifar.h"
#include "loader.h"
#include "model.h"
#include "safetensors.h"
#include "train.h"

int main(void)
{
    const lr_backend *be = lr_cpu_backend();
    lr_model m;
    lr_model_init(&m, be, 7);
    CHECK(lr_model_trainable_count(&m) == 11181642);
    CHECK(lr_model_param(&m, "conv1.weight") != NULL);
    CHECK(lr_model_param(&m, "layer2.0.downsample.0.weight") != NULL);
    CHECK(lr_model_param(&m, "layer4.1.bn2.running_var") != NULL);
    CHECK(lr_model_param(&m, "layer1.0.downsample.0.weight") == NULL);   /* no shortcut conv there */
    CHECK(lr_model_param(&m, "fc.weight")->shape[0] == 10 && lr_model_param(&m, "fc.weight")->shape[1] == 512);

    lr_model_prepare(&m, 8, 32);
    m.lr = 1e-3f;
    lr_cifar d;
    memset(&d, 0, sizeof d);
    CHECK(lr_cifar_generate(&d, 64, 3) == 0);
    lr_loader ld;
    CHECK(lr_loader_init(&ld, &d, 8, 32, 0, 3) == 0);   /* no augmentation: fit the 64 images */

    lr_train_opts o = {.batches = 8, .warmup = 0, .log_every = 0};
    double first = 0, last = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        lr_train_result r;
        CHECK(lr_train_epoch(&m, &ld, epoch, &o, &r) == 0);
        double mean = 0;
        for (int i = 0; i < r.steps; i++) {
            CHECK(isfinite(r.loss[i]));
            mean += r.loss[i];
        }
        mean /= r.steps;
        printf("epoch %d: mean loss %.4f, accuracy %.1f%%\n", epoch, mean, 100.0 * r.train_accuracy);
        if (epoch == 0) first = mean;
        last = mean;
        lr_train_result_free(&r);
    }
    CHECK(last < first * 0.8);   /* the loss must clearly fall */

    /* Save, load into a fresh model, same weights. */
    char path[] = "/tmp/test_lr_train_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK(lr_model_save(&m, path) == 0);
    lr_model m2;
    lr_model_init(&m2, be, 99);
    CHECK(lr_model_load(&m2, path, 99) == 0);
    int same = 1;
    for (int i = 0; i < m.nparams; i++)
        if (memcmp(m.params[i].data, m2.params[i].data, m.params[i].count * sizeof(float)) != 0) same = 0;
    CHECK(same);
    CHECK(m2.bn1.num_batches_tracked == m.bn1.num_batches_tracked && m.bn1.num_batches_tracked == 24);
    unlink(path);
    lr_model_free(&m2);

    /* A 1000-class head (an ImageNet export) loads with the head
     * re-initialised for 10 classes; everything else is taken from the file. */
    {
        lr_st_writer *w = lr_st_writer_new();
        float *big = calloc(1000 * 512, sizeof(float));
        for (int i = 0; i < m.nparams; i++) {
            const lr_param *p = &m.params[i];
            if (p == m.fc_weight) {
                int64_t shape[2] = {1000, 512};
                lr_st_writer_add(w, p->name, 2, shape, big);
            } else if (p == m.fc_bias) {
                int64_t shape[1] = {1000};
                lr_st_writer_add(w, p->name, 1, shape, big);
            } else {
                lr_st_writer_add(w, p->name, p->ndims, p->shape, p->data);
            }
        }
        CHECK(lr_st_writer_save(w, path) == 0);
        lr_st_writer_free(w);
        free(big);
        lr_model m3, fresh;
        lr_model_init(&m3, be, 5);
        lr_model_init(&fresh, be, 5);
        CHECK(lr_model_load(&m3, path, 5) == 0);
        CHECK(memcmp(m3.fc_weight->data, fresh.fc_weight->data, 10 * 512 * sizeof(float)) == 0);
        CHECK(memcmp(m3.params[0].data, m.params[0].data, m.params[0].count * sizeof(float)) == 0);
        unlink(path);
        lr_model_free(&m3);
        lr_model_free(&fresh);
    }

    lr_loader_free(&ld);
    lr_cifar_free(&d);
    lr_model_free(&m);
    return cs_test_done();
}
