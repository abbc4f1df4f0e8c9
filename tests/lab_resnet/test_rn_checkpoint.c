/* Gradient checkpointing (model.h, rn_model_set_checkpoint, Part 4): the
 * same two training steps with and without it give the same gradients,
 * weights, running statistics and batch counts, bit for bit on the CPU, in
 * fp32 and under bf16's 16-bit storage, for ResNet-18 and ResNet-50 (whose
 * segments are 3, 4, 6 and 3 Bottlenecks); and the checkpointed model
 * holds fewer bytes of activations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_profiler.h"
#include "cs_test.h"
#include "loader.h"
#include "model.h"
#include "rn_same_model.h"

static void build(rn_model *m, rn_arch arch, int checkpoint, rn_precision p)
{
    rn_model_init_arch(m, rn_cpu_backend(), 21, arch);
    rn_model_set_precision(m, p);
    rn_model_set_checkpoint(m, checkpoint);
    rn_model_prepare(m, 4, 32);
}

static void check(rn_arch arch, rn_precision p, const float *images, const int32_t *labels)
{
    cs_prof_enable(0); /* the models live on this stack: the profiler must not keep their region names */
    rn_model plain, ckpt;
    build(&plain, arch, 0, p);
    build(&ckpt, arch, 1, p);
    size_t act_plain = rn_arena_current(plain.arena, RN_ACTIVATIONS);
    size_t act_ckpt = rn_arena_current(ckpt.arena, RN_ACTIVATIONS);
    int ok = 1;
    for (int step = 0; step < 2; step++) {
        rn_test_train_step(&plain, images, labels);
        rn_test_train_step(&ckpt, images, labels);
        ok &= rn_test_same_model(&plain, &ckpt); /* the gradients before the step */
        rn_model_adam_step(&plain);
        rn_model_adam_step(&ckpt);
        ok &= rn_test_same_model(&plain, &ckpt);
    }
    printf("%s %s: gradients, weights, running statistics and batch counts over 2 steps %s; activations %zu bytes "
           "checkpointed, %zu without\n",
           rn_arch_name(arch), rn_precision_name(p), ok ? "the same bits" : "DIFFER", act_ckpt, act_plain);
    CHECK(ok);
    CHECK(act_ckpt < act_plain);
    CHECK(plain.bn1.num_batches_tracked == 2);
    rn_model_free(&plain);
    rn_model_free(&ckpt);
}

int main(void)
{
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, 16, 5) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, 4, 32, 0, 5) == 0);
    float images[4 * 3 * 32 * 32];
    int32_t labels[4];
    rn_loader_get(&ld, 0, images, labels);
    check(RN_RESNET18, RN_FP32, images, labels);
    check(RN_RESNET18, RN_BF16, images, labels);
    check(RN_RESNET50, RN_FP32, images, labels);
    check(RN_RESNET50, RN_BF16, images, labels);
    rn_loader_free(&ld);
    rn_cifar_free(&d);
    return cs_test_done();
}
