/* The first version's step loop (see cpu_first_loop.h). */
#include "cpu_first_loop.h"

#include <string.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"

int c1_train_first_version(const c1_workload *w, int steps, c1_output *out, const c1_first_version *v)
{
    if (steps > w->order_steps || steps > out->steps) {
        cs_error("%s: %d steps asked, but the sample order covers %d and the output %d", v->name, steps, w->order_steps,
                 out->steps);
        return 2;
    }
    const c1_config *c = &w->cfg;
    const int B = c->batch;
    const size_t np = w->layout.count;
    const size_t grad_rows = v->per_sample ? 1 : (size_t)B;

    float *params = cs_alloc(np * sizeof(float), "first-version weights");
    memcpy(params, w->init_params, np * sizeof(float));
    c1_weights p = c1_weights_of(&w->layout, params);

    for (int s = 0; s < steps; s++) {
        const int32_t *idx = w->order + (size_t)s * B;

        /* Everything the step needs, allocated now and freed at its end. */
        cs_prof_begin("alloc");
        float *x = cs_alloc((size_t)B * c->in * sizeof(float), "step buffer: batch");
        float *a1 = cs_alloc((size_t)B * c->h1 * sizeof(float), "step buffer: layer 1");
        float *a2 = cs_alloc((size_t)B * c->h2 * sizeof(float), "step buffer: layer 2");
        float *z = cs_alloc((size_t)B * c->out * sizeof(float), "step buffer: logits");
        float *log_a1 = cs_alloc((size_t)B * c->h1 * sizeof(float), "step buffer: logging layer 1");
        float *log_a2 = cs_alloc((size_t)B * c->h2 * sizeof(float), "step buffer: logging layer 2");
        float *log_z = cs_alloc((size_t)B * c->out * sizeof(float), "step buffer: logging logits");
        float *dz = cs_alloc(grad_rows * c->out * sizeof(float), "step buffer: logit grads");
        float *d2 = cs_alloc(grad_rows * c->h2 * sizeof(float), "step buffer: layer 2 grads");
        float *d1 = cs_alloc(grad_rows * c->h1 * sizeof(float), "step buffer: layer 1 grads");
        float *grad = v->per_sample ? cs_calloc(np * sizeof(float), "step buffer: weight grads")
                                    : cs_alloc(np * sizeof(float), "step buffer: weight grads");
        cs_prof_end();
        c1_grads g = c1_grads_of(&w->layout, grad);

        cs_prof_begin("data");
        c1_convert_rows(w, idx, B, x);
        cs_prof_end();

        cs_prof_begin("forward");
        v->forward(c, &p, B, x, a1, a2, z);
        cs_prof_end();

        /* The metrics for the log: the whole forward pass again. */
        cs_prof_begin("sync/logging");
        v->forward(c, &p, B, x, log_a1, log_a2, log_z);
        c1_batch_metrics(w, idx, log_z, B, &out->loss[s], &out->correct[s]);
        cs_prof_end();

        cs_prof_begin("backward");
        v->backward(w, &p, &g, B, idx, x, a1, a2, z, dz, d2, d1);
        cs_prof_end();

        cs_prof_begin("update");
        c1_sgd_update(params, grad, np, c->lr, 0);
        cs_prof_end();

        cs_prof_begin("alloc");
        cs_free(x);
        cs_free(a1);
        cs_free(a2);
        cs_free(z);
        cs_free(log_a1);
        cs_free(log_a2);
        cs_free(log_z);
        cs_free(dz);
        cs_free(d2);
        cs_free(d1);
        cs_free(grad);
        cs_prof_end();
    }

    memcpy(out->params, params, np * sizeof(float));
    cs_free(params);
    return 0;
}
