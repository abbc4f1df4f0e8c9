/* The whole model's gradient against finite differences of its loss
 * (gradcheck.h), on a correct backward and on one that stops at fc (which
 * must fail it); then a short training run on generated data whose loss
 * must fall, on the CPU backend: ResNet-18 at 32 x 32, batch 8, Adam lr
 * 1e-3, 24 steps over the same 64 images (so the model can fit them). Also: the trainable parameter
 * count is ResNet-18's with a 10-class head, the names are torchvision's,
 * and a save/load round trip gives the same weights; a diverged epoch stops
 * with exit code 1 and its result still set and freed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_profiler.h"
#include "cs_test.h"
#include "cifar.h"
#include "gradcheck.h"
#include "loader.h"
#include "model.h"
#include "safetensors.h"
#include "train.h"

/* The directional check on the loader's first batch: a correct backward
 * within RN_GRADCHECK_TOL along both directions, and the weights, running
 * statistics and batch counts as they were; a backward that stops at fc
 * fails it below fc by about 1 (fc alone learns, so a falling loss would
 * not tell). */
static void whole_model_gradcheck(rn_model *m, rn_loader *ld)
{
    float *images = malloc((size_t)m->batch * 3 * 32 * 32 * sizeof(float));
    int32_t labels[8];
    rn_loader_start_epoch(ld, 0);
    rn_loader_get(ld, 0, images, labels);
    rn_model_set_batch(m, images, labels);
    const rn_param *w = rn_model_param(m, "layer3.0.conv1.weight");
    const rn_param *rv = rn_model_param(m, "layer3.0.bn1.running_var");
    float w5 = w->data[5], rv5 = rv->data[5];
    int64_t tracked = m->bn1.num_batches_tracked;
    rn_dir_check c[RN_GRADCHECK_DIRS];
    rn_gradcheck(m, 11, c);
    for (int k = 0; k < RN_GRADCHECK_DIRS; k++)
        printf("gradient check, %s: predicted %.6e, moved %.6e, relative difference %.2e\n", c[k].over, c[k].backward,
               c[k].finite_diff, c[k].rel);
    CHECK(rn_gradcheck_worst(c) <= RN_GRADCHECK_TOL);
    CHECK(c[1].backward > 0 && c[1].finite_diff > 0);
    CHECK(w->data[5] == w5 && rv->data[5] == rv5 && m->bn1.num_batches_tracked == tracked);

    m->fault = RN_FAULT_STOPS_AT_FC;
    rn_gradcheck(m, 11, c);
    m->fault = RN_FAULT_NONE;
    printf("with the backward stopping at fc, below fc: predicted %.3e, moved %.3e, relative difference %.2f\n",
           c[1].backward, c[1].finite_diff, c[1].rel);
    CHECK(c[1].backward == 0 && c[1].rel > 0.99);
    free(images);
}

/* Gradient accumulation in the loop (rn_train_opts.accum_steps): 5 batches
 * in groups of 2 take 2 optimizer steps (the trailing batch none), and give
 * the weights of the same steps taken by hand: each batch's loss gradient
 * divided by 2, the group's two backward passes added, then Adam. */
static void test_accumulation(rn_loader *ld)
{
    /* These models live on this function's stack: the profiler must not
     * keep their region names past it. */
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    rn_model a, b;
    rn_model_init(&a, rn_cpu_backend(), 5);
    rn_model_init(&b, rn_cpu_backend(), 5);
    rn_model_prepare(&a, 8, 32);
    rn_model_prepare(&b, 8, 32);
    rn_train_opts o = {.batches = 5, .accum_steps = 2};
    rn_train_result r;
    CHECK(rn_train_epoch(&a, ld, 0, &o, &r) == 0);
    rn_train_result_free(&r);

    float images[8 * 3 * 32 * 32];
    int32_t labels[8];
    rn_loader_start_epoch(ld, 0);
    for (int i = 0; i < 5; i++) {
        rn_loader_get(ld, i, images, labels);
        rn_model_set_batch(&b, images, labels);
        rn_model_forward(&b, 1);
        rn_model_loss(&b);
        b.be->scale(8 * RN_CLASSES, b.dlogits, 0.5f);
        b.be->grad_accumulate(i % 2 == 1);
        rn_model_backward(&b);
        b.be->grad_accumulate(0);
        if (i % 2 == 1) rn_model_adam_step(&b);
    }
    int same = 1;
    for (int i = 0; i < a.nparams; i++)
        same &= memcmp(a.params[i].data, b.params[i].data, a.params[i].count * sizeof(float)) == 0;
    printf("accumulation: %d optimizer steps for 5 batches in groups of 2; the weights as by hand: %s\n", a.adam_t,
           same ? "identical" : "DIFFERENT");
    CHECK(a.adam_t == 2 && b.adam_t == 2);
    CHECK(same);
    rn_model_free(&a);
    rn_model_free(&b);
    cs_prof_enable(prof);
}

int main(void)
{
    const rn_backend *be = rn_cpu_backend();
    rn_model m;
    rn_model_init(&m, be, 7);
    CHECK(rn_model_trainable_count(&m) == 11181642);
    CHECK(rn_model_param(&m, "conv1.weight") != NULL);
    CHECK(rn_model_param(&m, "layer2.0.downsample.0.weight") != NULL);
    CHECK(rn_model_param(&m, "layer4.1.bn2.running_var") != NULL);
    CHECK(rn_model_param(&m, "layer1.0.downsample.0.weight") == NULL); /* no shortcut conv there */
    CHECK(rn_model_param(&m, "fc.weight")->shape[0] == 10 && rn_model_param(&m, "fc.weight")->shape[1] == 512);

    rn_model_prepare(&m, 8, 32);
    m.lr = 1e-3f;
    rn_cifar d;
    memset(&d, 0, sizeof d);
    CHECK(rn_cifar_generate(&d, 64, 3) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, 8, 32, 0, 3) == 0); /* no augmentation: fit the 64 images */

    whole_model_gradcheck(&m, &ld);
    test_accumulation(&ld);
    /* Evaluation at another size than the prepared one has no accuracy. */
    CHECK(isnan(rn_evaluate(&m, &d, 64, 1)));
    double acc = rn_evaluate(&m, &d, 32, 2);
    CHECK(acc >= 0.0 && acc <= 1.0);

    rn_train_opts o = {.batches = 8, .warmup = 0, .log_every = 0};
    double first = 0, last = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        rn_train_result r;
        CHECK(rn_train_epoch(&m, &ld, epoch, &o, &r) == 0);
        double mean = 0;
        for (int i = 0; i < r.steps; i++) {
            CHECK(isfinite(r.loss[i]));
            mean += r.loss[i];
        }
        mean /= r.steps;
        printf("epoch %d: mean loss %.4f, accuracy %.1f%%\n", epoch, mean, 100.0 * r.train_accuracy);
        if (epoch == 0) first = mean;
        last = mean;
        rn_train_result_free(&r);
    }
    CHECK(last < first * 0.8); /* the loss must clearly fall */

    /* Save, load into a fresh model, same weights. */
    char path[] = "/tmp/test_rn_train_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK(rn_model_save(&m, path) == 0);
    rn_model m2;
    rn_model_init(&m2, be, 99);
    CHECK(rn_model_load(&m2, path, 99) == 0);
    int same = 1;
    for (int i = 0; i < m.nparams; i++)
        if (memcmp(m.params[i].data, m2.params[i].data, m.params[i].count * sizeof(float)) != 0) same = 0;
    CHECK(same);
    CHECK(m2.bn1.num_batches_tracked == m.bn1.num_batches_tracked && m.bn1.num_batches_tracked == 24);
    unlink(path);
    rn_model_free(&m2);

    /* A 1000-class head (an ImageNet export) loads with the head
     * re-initialised for 10 classes; everything else is taken from the file. */
    {
        rn_st_writer *w = rn_st_writer_new();
        float *big = calloc(1000 * 512, sizeof(float));
        for (int i = 0; i < m.nparams; i++) {
            const rn_param *p = &m.params[i];
            if (p == m.fc_weight) {
                int64_t shape[2] = {1000, 512};
                rn_st_writer_add(w, p->name, 2, shape, big);
            } else if (p == m.fc_bias) {
                int64_t shape[1] = {1000};
                rn_st_writer_add(w, p->name, 1, shape, big);
            } else {
                rn_st_writer_add(w, p->name, p->ndims, p->shape, p->data);
            }
        }
        CHECK(rn_st_writer_save(w, path) == 0);
        rn_st_writer_free(w);
        free(big);
        rn_model m3, fresh;
        rn_model_init(&m3, be, 5);
        rn_model_init(&fresh, be, 5);
        CHECK(rn_model_load(&m3, path, 5) == 0);
        CHECK(memcmp(m3.fc_weight->data, fresh.fc_weight->data, 10 * 512 * sizeof(float)) == 0);
        CHECK(memcmp(m3.params[0].data, m.params[0].data, m.params[0].count * sizeof(float)) == 0);
        unlink(path);
        rn_model_free(&m3);
        rn_model_free(&fresh);
    }

    /* Divergence: a head of NaN gives a loss that is not finite at the
     * first batch; the epoch stops there with exit code 1, its result
     * holding that one batch (freed as any other). */
    {
        for (int k = 0; k < 10; k++) m.fc_bias->data[k] = NAN;
        rn_train_result r;
        CHECK(rn_train_epoch(&m, &ld, 0, &o, &r) == 1);
        CHECK(r.steps == 1 && r.loss != NULL && r.correct != NULL);
        CHECK(!isfinite(r.loss[0]) && !isfinite(r.first_loss) && !isfinite(r.last_loss));
        rn_train_result_free(&r);
        CHECK(r.loss == NULL && r.steps == 0);
    }

    rn_loader_free(&ld);
    rn_cifar_free(&d);
    rn_model_free(&m);
    return cs_test_done();
}
