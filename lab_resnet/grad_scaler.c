/* PyTorch's GradScaler (see grad_scaler.h). */
#include "grad_scaler.h"

#include <math.h>
#include <string.h>

#include "arena.h"
#include "scale_update.h"

void rn_scaler_init(rn_grad_scaler *s)
{
    memset(s, 0, sizeof *s);
    s->scale = 65536.0f;
    s->growth_factor = 2.0;
    s->backoff_factor = 0.5;
    s->growth_interval = 2000;
}

void rn_scaler_reset(rn_grad_scaler *s)
{
    int32_t *flag = s->found_inf, *state = s->dev_state;
    float *scale = s->dev_scale;
    rn_scaler_init(s);
    s->found_inf = flag;
    s->dev_state = state;
    s->dev_scale = scale;
}

float rn_scaler_inv_scale(const rn_grad_scaler *s)
{
    /* "FP32 division can be imprecise for certain compile options, so we
     * carry out the reciprocal in FP64" (grad_scaler.py). */
    return (float)(1.0 / (double)s->scale);
}

void rn_scaler_update(rn_grad_scaler *s, int found_inf)
{
    s->steps++;
    if (!rn_scale_update(&s->scale, &s->growth_tracker, found_inf, s->growth_factor, s->backoff_factor,
                         s->growth_interval))
        s->skipped++;
}

void rn_amp_scale_loss(rn_model *m, const rn_grad_scaler *s)
{
    rn_model_scale_loss_grad(m, s->scale);
}

static int32_t *found_inf_flag(rn_model *m, rn_grad_scaler *s)
{
    if (s->found_inf == NULL) /* the model's arena: backend memory, freed with the model */
        s->found_inf = rn_arena_bytes_alloc(m->arena, RN_WORKSPACE, sizeof(int32_t), "found_inf");
    int32_t zero = 0;
    m->be->to_backend(s->found_inf, &zero, sizeof zero);
    return s->found_inf;
}

int rn_amp_unscale(rn_model *m, rn_grad_scaler *s)
{
    const rn_backend *be = m->be;
    int32_t *flag = found_inf_flag(m, s);
    float inv = rn_scaler_inv_scale(s);
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        if (p->trainable) be->unscale_check(p->count, p->grad, inv, flag);
    }
    int32_t found = 0;
    be->to_host(&found, flag, sizeof found); /* the host reads it: PyTorch's scaler.step does */
    return found != 0;
}

int rn_amp_step(rn_model *m, rn_grad_scaler *s)
{
    int found = rn_amp_unscale(m, s);
    if (!found) rn_model_adam_step(m);
    rn_scaler_update(s, found);
    return found;
}

void rn_scaler_to_device(rn_model *m, rn_grad_scaler *s)
{
    if (s->dev_state == NULL) {
        s->dev_scale = rn_arena_floats(m->arena, RN_WORKSPACE, 1, "loss scale");
        s->dev_state = rn_arena_bytes_alloc(m->arena, RN_WORKSPACE, RN_SCALER_STATE * sizeof(int32_t), "scaler state");
    }
    int32_t state[RN_SCALER_STATE] = {0};
    state[RN_SCALER_GROWTH_TRACKER] = s->growth_tracker;
    state[RN_SCALER_STEP] = m->adam_t;
    state[RN_SCALER_SKIPPED] = (int32_t)s->skipped;
    m->be->to_backend(s->dev_scale, &s->scale, sizeof s->scale);
    m->be->to_backend(s->dev_state, state, sizeof state);
}

void rn_amp_scale_loss_device(rn_model *m, const rn_grad_scaler *s)
{
    m->be->scale_by((size_t)m->batch * RN_CLASSES, m->dlogits, s->dev_scale);
}

void rn_amp_step_device(rn_model *m, rn_grad_scaler *s)
{
    const rn_backend *be = m->be;
    int top = be->region_begin(m->region_names[RN_REGION_OPTIMIZER]);
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        if (p->trainable) be->unscale_check_by(p->count, p->grad, s->dev_scale, s->dev_state);
    }
    float lr = m->fault == RN_FAULT_ADAM_ASCENDS ? -m->lr : m->lr;
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        if (p->trainable)
            be->adam_skip(p->count, p->data, p->grad, p->m, p->v, lr, m->beta1, m->beta2, m->eps, s->dev_state);
    }
    be->scaler_update(s->dev_scale, s->dev_state, s->growth_factor, s->backoff_factor, s->growth_interval);
    be->region_end(top);
    s->steps++;
}

void rn_scaler_from_device(rn_model *m, rn_grad_scaler *s)
{
    int32_t state[RN_SCALER_STATE];
    m->be->to_host(&s->scale, s->dev_scale, sizeof s->scale);
    m->be->to_host(state, s->dev_state, sizeof state);
    s->growth_tracker = state[RN_SCALER_GROWTH_TRACKER];
    s->skipped = state[RN_SCALER_SKIPPED];
    m->adam_t = state[RN_SCALER_STEP];
}
