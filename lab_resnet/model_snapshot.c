/* The model put back where it was (model.h, rn_snapshot): the lab's Part 2
 * trains every configuration from the same weights, so that each row's
 * losses can be checked against the baseline's, step by step. */
#include <string.h>

#include "cs_memory.h"
#include "device_mem.h"
#include "model.h"

int rn_snapshot_take(const rn_model *m, rn_snapshot *s)
{
    s->floats = 0;
    for (int i = 0; i < m->nparams; i++) s->floats += m->params[i].count;
    s->data = cs_alloc(s->floats * sizeof(float), "model snapshot");
    size_t at = 0;
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        m->be->to_host(s->data + at, p->data, p->count * sizeof(float));
        at += p->count;
    }
    return 0;
}

static void zero(const rn_model *m, float *p, size_t count)
{
    if (m->be->on_device)
        rn_device_zero(p, count * sizeof(float));
    else
        memset(p, 0, count * sizeof(float));
}

static void reset_bn(rn_bn_layer *b)
{
    b->num_batches_tracked = 0;
}

void rn_snapshot_restore(rn_model *m, const rn_snapshot *s)
{
    size_t at = 0;
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        m->be->to_backend(p->data, s->data + at, p->count * sizeof(float));
        at += p->count;
        if (p->trainable) { /* Adam starts again: no moments, step 0 */
            zero(m, p->m, p->count);
            zero(m, p->v, p->count);
        }
    }
    rn_model_zero_live_moments(m);
    m->adam_t = 0;
    rn_bn_layer *bn[RN_MAX_BN];
    int n = rn_model_bn_layers(m, bn);
    for (int i = 0; i < n; i++) reset_bn(bn[i]);
}

void rn_snapshot_free(rn_snapshot *s)
{
    cs_free(s->data);
    memset(s, 0, sizeof *s);
}
