/* --precision's numerics (model.h, rn_model_set_precision): in a bf16 and
 * an fp16 step every logit, every activation gradient reaching fc and every
 * convolution's weight gradient holds a value of that precision (rounded
 * where autocast's tensors would be of it), while batch norm's gradients
 * stay fp32; the step's loss stays within a few percent of the fp32 one on
 * the same batch; and back in fp32 the step is bit for bit the fp32 one.
 * The 16-bit storage of the saved activations: it takes exactly half the
 * bytes of their float buffers, and holds exactly the values the forward
 * computed with (the last block's output, still in its working buffer, is
 * its unpacked bits bit for bit). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_test.h"
#include "loader.h"
#include "model.h"
#include "precision.h"

static int representable(const float *x, size_t n, rn_precision p)
{
    for (size_t i = 0; i < n; i++) {
        float r;
        rn_round_to(1, &x[i], &r, p);
        if (memcmp(&r, &x[i], sizeof r) != 0) return 0;
    }
    return 1;
}

/* After the forward: the last block's output in float equals its 16 bits
 * widened (an fp32 model holds no bits: nothing to compare). */
static int last_out_kept_exactly(const rn_model *m)
{
    const rn_saved *out = &m->blocks[m->nblocks - 1].out;
    if (!out->bits) return 1;
    float *unpacked = malloc(out->count * sizeof(float));
    rn_unpack(out->count, out->bits, unpacked, m->precision);
    int same = memcmp(unpacked, out->f, out->count * sizeof(float)) == 0;
    free(unpacked);
    return same;
}

static float step_loss(rn_model *m, const float *images, const int32_t *labels)
{
    rn_model_set_batch(m, images, labels);
    rn_model_forward(m, 1);
    CHECK(last_out_kept_exactly(m));
    rn_model_loss(m);
    rn_model_backward(m);
    float loss;
    int correct;
    rn_model_read_metrics(m, &loss, &correct);
    return loss;
}

int main(void)
{
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, 16, 2) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, 4, 32, 0, 2) == 0);
    float images[4 * 3 * 32 * 32];
    int32_t labels[4];
    rn_loader_get(&ld, 0, images, labels);

    rn_model m;
    rn_model_init(&m, rn_cpu_backend(), 12);
    rn_model_prepare(&m, 4, 32);
    float loss32 = step_loss(&m, images, labels);
    rn_param *c = rn_model_param(&m, "layer3.0.conv1.weight");
    float *g32 = malloc(c->count * sizeof(float));
    memcpy(g32, c->grad, c->count * sizeof(float));

    size_t saved = m.stem_c.count + m.stem_a.count + m.pool.count;
    for (int i = 0; i < m.nblocks; i++) {
        const rn_block *b = &m.blocks[i];
        saved += b->c1.count + b->a1.count + b->c2.count + b->out.count + (b->has_downsample ? b->ds_c.count : 0);
    }
    size_t act32 = rn_arena_current(m.arena, RN_ACTIVATIONS);

    const rn_precision lows[] = {RN_BF16, RN_FP16};
    for (int k = 0; k < 2; k++) {
        rn_model_set_precision(&m, lows[k]);
        size_t act16 = rn_arena_current(m.arena, RN_ACTIVATIONS);
        printf("%s: activations %zu bytes (fp32 %zu): %zu saved values at 2 bytes instead of 4\n",
               rn_precision_name(lows[k]), act16, act32, saved);
        /* Exactly half the saved bytes: no working buffer grows (the
         * stem's backward reads its activations in their 16 bits). */
        CHECK(act32 - act16 == saved * 2);
        float loss = step_loss(&m, images, labels);
        CHECK(m.blocks[m.nblocks - 1].out.bits != NULL);
        int logits_ok = representable(m.logits, 4 * RN_CLASSES, lows[k]);
        int conv_ok = representable(c->grad, c->count, lows[k]);
        int fc_ok = representable(rn_model_param(&m, "fc.weight")->grad, 512 * RN_CLASSES, lows[k]);
        int bn_fp32 = !representable(rn_model_param(&m, "layer3.0.bn1.weight")->grad, 256, lows[k]);
        printf("%s: loss %.5f (fp32 %.5f); logits, conv and fc weight gradients of that precision: %d %d %d; "
               "batch norm's gradients fp32: %d\n",
               rn_precision_name(lows[k]), (double)loss, (double)loss32, logits_ok, conv_ok, fc_ok, bn_fp32);
        CHECK(logits_ok && conv_ok && fc_ok && bn_fp32);
        CHECK(isfinite(loss) && fabsf(loss - loss32) <= 0.05f * loss32);
    }
    rn_model_set_precision(&m, RN_FP32);
    float again = step_loss(&m, images, labels);
    CHECK(again == loss32 && memcmp(g32, c->grad, c->count * sizeof(float)) == 0);

    CHECK(rn_arena_current(m.arena, RN_ACTIVATIONS) == act32);
    free(g32);
    rn_model_free(&m);
    rn_loader_free(&ld);
    rn_cifar_free(&d);
    return cs_test_done();
}
