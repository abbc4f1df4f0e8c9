/* For the tests that run two models side by side and demand the same bits
 * (test_rn_checkpoint, test_rn_fused): one training step without the
 * optimizer, and the comparison of everything a step leaves. */
#ifndef RN_SAME_MODEL_H
#define RN_SAME_MODEL_H

#include <string.h>

#include "model.h"

/* Forward in training mode, loss, backward, on the given batch. */
static inline void rn_test_train_step(rn_model *m, const float *images, const int32_t *labels)
{
    rn_model_set_batch(m, images, labels);
    rn_model_forward(m, 1);
    rn_model_loss(m);
    rn_model_backward(m);
}

/* Every tensor's data and gradient, and every batch count, the same bits. */
static inline int rn_test_same_model(const rn_model *a, const rn_model *b)
{
    int same = a->nparams == b->nparams;
    for (int i = 0; same && i < a->nparams; i++) {
        const rn_param *p = &a->params[i], *q = &b->params[i];
        same &= memcmp(p->data, q->data, p->count * sizeof(float)) == 0;
        if (p->grad) same &= memcmp(p->grad, q->grad, p->count * sizeof(float)) == 0;
    }
    rn_bn_layer *x[RN_MAX_BN], *y[RN_MAX_BN];
    int n = rn_model_bn_layers((rn_model *)a, x);
    same &= n == rn_model_bn_layers((rn_model *)b, y);
    for (int i = 0; same && i < n; i++) same &= x[i]->num_batches_tracked == y[i]->num_batches_tracked;
    return same;
}

#endif
