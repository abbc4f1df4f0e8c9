/* backend.h's round_outputs on the CPU backend, and the model's use of it.
 *
 * The operations: every output the entry lists, written with the mode on,
 * is round_to of the output written with it off (rn_round_check.h, which
 * test_rn_gpu_layers runs on the GPU), and the mode, once off, rounds
 * nothing.
 *
 * The model: a 16-bit step on the CPU backend (the layers round their own
 * outputs) and on the same backend without the entry (the model rounds
 * after each layer, as before the entry existed) leave the same bits:
 * every weight, gradient and batch count, the loss and the logits; in fp16
 * and bf16, plain, fused (Part 5), with checkpointing (Part 4) and with two
 * accumulated batches. And after the steps the mode is off: the backend's
 * add writes float sums again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_test.h"
#include "loader.h"
#include "model.h"
#include "rn_round_check.h"
#include "rn_same_model.h"

enum { PLAIN, FUSED, CHECKPOINT, ACCUMULATE, NWAYS };
static const char *const way_names[NWAYS] = {"plain", "fused", "checkpointing", "two accumulated batches"};

static void run_step(rn_model *m, int way, const float *images, const int32_t *labels)
{
    rn_test_train_step(m, images, labels);
    if (way != ACCUMULATE) return;
    rn_model_set_batch(m, images, labels); /* the same batch again, its gradients added */
    rn_model_forward(m, 1);
    rn_model_loss(m);
    rn_model_backward_adding(m, 1);
}

static int same_step(rn_precision p, int way, const rn_backend *plain, const float *images, const int32_t *labels)
{
    rn_model a, b;
    rn_model_init(&a, rn_cpu_backend(), 5);
    rn_model_init(&b, plain, 5);
    rn_model *both[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        rn_model_set_precision(both[i], p);
        if (way == CHECKPOINT) rn_model_set_checkpoint(both[i], 1);
        rn_model_prepare(both[i], 4, 32);
        if (way == FUSED) rn_model_set_fused(both[i], 1);
        run_step(both[i], way, images, labels);
    }
    float la, lb;
    int ca, cb;
    rn_model_read_metrics(&a, &la, &ca);
    rn_model_read_metrics(&b, &lb, &cb);
    int same = rn_test_same_model(&a, &b) && memcmp(&la, &lb, sizeof la) == 0 && ca == cb &&
               memcmp(a.logits, b.logits, 4 * RN_CLASSES * sizeof(float)) == 0;
    printf("  model %s, %-24s layers rounding / model rounding: %s (loss %.6f)\n", rn_precision_name(p), way_names[way],
           same ? "the same bits" : "DIFFERENT", (double)la);
    rn_model_free(&a);
    rn_model_free(&b);
    return same;
}

int main(void)
{
    const rn_backend *cpu = rn_cpu_backend();
    CHECK(cpu->round_outputs != NULL);
    CHECK(rn_check_round_outputs(cpu) == 0);

    rn_cifar d;
    CHECK(rn_cifar_generate(&d, 16, 3) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, 4, 32, 0, 3) == 0);
    float images[4 * 3 * 32 * 32];
    int32_t labels[4];
    rn_loader_get(&ld, 0, images, labels);

    rn_backend plain = *cpu; /* the model then rounds after each layer itself */
    plain.round_outputs = NULL;
    const rn_precision lows[] = {RN_FP16, RN_BF16};
    for (int k = 0; k < 2; k++)
        for (int way = 0; way < NWAYS; way++) CHECK(same_step(lows[k], way, &plain, images, labels));
    /* The models' passes turned the mode off behind them. */
    CHECK(rc_writes_rounded(cpu, RN_BF16, 0) == 0);

    rn_loader_free(&ld);
    rn_cifar_free(&d);
    return cs_test_done();
}
