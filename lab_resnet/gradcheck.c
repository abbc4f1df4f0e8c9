/* The directional gradient check of the whole model (see gradcheck.h). */
#include "gradcheck.h"

#include <math.h>
#include <string.h>

#include "cs_memory.h"
#include "cs_rng.h"

/* What the check must give back: every parameter and buffer as it was (the
 * training forward moves the running statistics), and each batch norm's
 * num_batches_tracked. */
typedef struct {
    float *data[RN_MAX_PARAMS];  /* w0, every tensor */
    float *grad[RN_MAX_PARAMS];  /* the backward's gradient at w0 (trainable tensors) */
    double scale[RN_MAX_PARAMS]; /* the direction's unit per tensor: the rms of w0 */
    int64_t tracked[RN_MAX_BN];
} saved_state;

/* The direction's scale for one tensor: the rms of its weights, or 1e-2
 * for a tensor of zeros (batch norm's bias at initialisation). */
static double tensor_scale(const float *w, size_t count)
{
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
    for (size_t i = 0; i < count; i++) s += (double)w[i] * w[i];
    s = sqrt(s / (double)count);
    return s > 1e-2 ? s : 1e-2;
}

static int in_direction(const rn_model *m, const rn_param *p, int below_fc)
{
    return p->trainable && !(below_fc && (p == m->fc_weight || p == m->fc_bias));
}

static void save_state(rn_model *m, saved_state *s)
{
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        s->data[i] = cs_alloc(p->count * sizeof(float), "gradient check: saved weights");
        m->be->to_host(s->data[i], p->data, p->count * sizeof(float));
        s->scale[i] = tensor_scale(s->data[i], p->count);
        s->grad[i] = NULL;
    }
    rn_bn_layer *bn[RN_MAX_BN];
    int n = rn_model_bn_layers(m, bn);
    for (int i = 0; i < n; i++) s->tracked[i] = bn[i]->num_batches_tracked;
}

/* The backward's gradients, once it ran at w0. */
static void save_gradients(rn_model *m, saved_state *s)
{
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        if (!p->trainable) continue;
        s->grad[i] = cs_alloc(p->count * sizeof(float), "gradient check: gradient");
        m->be->to_host(s->grad[i], p->grad, p->count * sizeof(float));
    }
}

static void restore_state(rn_model *m, saved_state *s)
{
    for (int i = 0; i < m->nparams; i++) {
        m->be->to_backend(m->params[i].data, s->data[i], m->params[i].count * sizeof(float));
        cs_free(s->data[i]);
        cs_free(s->grad[i]);
    }
    rn_bn_layer *bn[RN_MAX_BN];
    int n = rn_model_bn_layers(m, bn);
    for (int i = 0; i < n; i++) bn[i]->num_batches_tracked = s->tracked[i];
}

static void direction_free(const rn_model *m, int8_t **d)
{
    for (int t = 0; t < m->nparams; t++) cs_free(d[t]);
    cs_free(d);
}

/* The direction's signs, one byte per element of every trainable tensor:
 * the sign of the backward's gradient, or a seeded random sign where it is
 * zero. Along it g . d is the sum of |g| (a strong signal, where a random
 * direction gives a random walk that finite differences of a float32 loss
 * resolve to about 10% only), and yet the finite difference does not take
 * the backward's word for anything: a gradient zeroed below fc gives 0
 * against the random walk of the true one, a sign flip or a permutation
 * gives finite differences far smaller than the sum of |g|, a gradient 10%
 * too large predicts 10% more than the loss moved. */
static int8_t **direction_signs(const rn_model *m, uint64_t seed, float **g)
{
    int8_t **d = cs_alloc(sizeof(int8_t *) * (size_t)m->nparams, "gradient check: direction");
    for (int t = 0; t < m->nparams; t++) {
        const rn_param *p = &m->params[t];
        d[t] = NULL;
        if (!p->trainable) continue;
        d[t] = cs_alloc(p->count, "gradient check: direction");
        uint64_t stream = cs_rng_mix(seed ^ (uint64_t)t << 32);
        int8_t *dt = d[t];
        const float *gt = g[t];
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < p->count; i++) {
            int8_t random = cs_rng_mix(stream + i) >> 63 ? 1 : -1; /* a hash: the same on any thread count */
            dt[i] = gt[i] > 0 ? 1 : gt[i] < 0 ? -1 : random;
        }
    }
    return d;
}

/* The step along the direction, in units of each tensor's rms, that the
 * gradient predicts to move the loss by RN_GRADCHECK_MOVE: small enough
 * that the loss is close to linear over it (few ReLUs and max-pool windows
 * switch), large enough to stand well above the float32 loss's rounding. */
static double step_size(const rn_model *m, const saved_state *s, int8_t **d, int below_fc)
{
    double slope = 0;
    for (int t = 0; t < m->nparams; t++) {
        const rn_param *p = &m->params[t];
        if (!in_direction(m, p, below_fc)) continue;
        double part = 0;
        const float *gt = s->grad[t];
        const int8_t *dt = d[t];
#pragma omp parallel for reduction(+ : part) schedule(static)
        for (size_t i = 0; i < p->count; i++) part += (double)gt[i] * dt[i];
        slope += s->scale[t] * part;
    }
    return slope > 0 ? RN_GRADCHECK_MOVE / slope : 1e-3;
}

/* Sets the weights to w0 + step * d, rounded to float (running statistics
 * back to w0's); returns the training forward's loss, and in *predicted
 * g . (w - w0) over the weights as they were set, so that the rounding of
 * the step does not count as an error. */
static double loss_at(rn_model *m, const saved_state *s, int8_t **d, int below_fc, double step, float *tmp,
                      double *predicted)
{
    *predicted = 0;
    for (int t = 0; t < m->nparams; t++) {
        rn_param *p = &m->params[t];
        if (!in_direction(m, p, below_fc)) {
            m->be->to_backend(p->data, s->data[t], p->count * sizeof(float));
            continue;
        }
        double h = step * s->scale[t], part = 0;
        const float *w0 = s->data[t], *g = s->grad[t];
        const int8_t *dt = d[t];
#pragma omp parallel for reduction(+ : part) schedule(static)
        for (size_t i = 0; i < p->count; i++) {
            tmp[i] = (float)(w0[i] + h * dt[i]);
            part += (double)g[i] * ((double)tmp[i] - w0[i]);
        }
        *predicted += part;
        m->be->to_backend(p->data, tmp, p->count * sizeof(float));
    }
    rn_model_forward(m, 1);
    rn_model_loss(m);
    float loss;
    int correct;
    rn_model_read_metrics(m, &loss, &correct);
    return loss;
}

void rn_gradcheck(rn_model *m, uint64_t seed, rn_dir_check out[RN_GRADCHECK_DIRS])
{
    /* The state to give back, then the gradient at w0. */
    saved_state s;
    save_state(m, &s);
    rn_model_forward(m, 1);
    rn_model_loss(m);
    rn_model_backward(m);
    save_gradients(m, &s);
    int8_t **d = direction_signs(m, seed, s.grad);
    float *tmp = cs_alloc(rn_model_largest_count(m) * sizeof(float), "gradient check: weights");
    for (int k = 0; k < RN_GRADCHECK_DIRS; k++) {
        int below_fc = k == 1;
        rn_dir_check *c = &out[k];
        c->over = below_fc ? "every parameter below fc" : "every parameter";
        double step = step_size(m, &s, d, below_fc), up, down;
        double plus = loss_at(m, &s, d, below_fc, step, tmp, &up);
        double minus = loss_at(m, &s, d, below_fc, -step, tmp, &down);
        c->backward = up - down;
        c->finite_diff = plus - minus;
        double scale = fmax(fabs(c->backward), fabs(c->finite_diff));
        c->rel = scale > 0 ? fabs(c->backward - c->finite_diff) / scale : 0.0;
        if (!isfinite(c->backward) || !isfinite(c->finite_diff)) c->rel = NAN;
    }
    restore_state(m, &s);
    direction_free(m, d);
    cs_free(tmp);
}

double rn_gradcheck_worst(const rn_dir_check *c)
{
    double worst = 0;
    for (int k = 0; k < RN_GRADCHECK_DIRS; k++)
        if (isnan(c[k].rel) || c[k].rel > worst) worst = c[k].rel;
    return worst;
}
