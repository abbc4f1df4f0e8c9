/* Part 5's graph rung (graph_step.h). */
#include "graph_step.h"

#include <string.h>

#include "cs_profiler.h"

int rn_graph_run_start(rn_graph_run *g, rn_model *m, rn_grad_scaler *scaler, int accum, const char **why)
{
    const rn_backend *be = m->be;
    memset(g, 0, sizeof *g);
    for (int i = 0; i < RN_MAX_GRAPHS; i++) g->graph[i] = -1;
    if (!be->graph_begin) {
        *why = RN_GRAPH_CPU_SKIP;
        return -1;
    }
    if (accum > 1) {
        *why = "gradient accumulation's steps differ (the optimizer every K batches): not one graph";
        return -1;
    }
    if (m->fault == RN_FAULT_STOPS_AT_FC || m->fault == RN_FAULT_ONE_CHANNEL) {
        *why = "this injected fault copies zeros from the host inside the step, which a graph cannot hold";
        return -1;
    }
    /* fp32: a scaler of its own carries Adam's step count to the device
     * (rn_model_adam_step_device keeps its scale as it is). */
    g->amp = scaler != NULL;
    if (!g->amp) {
        rn_scaler_init(&g->own);
        scaler = &g->own;
    }
    g->scaler = scaler;
    rn_scaler_to_device(m, scaler);
    return 0;
}

/* The step with nothing read on the host: what the graph holds. */
static void device_step(rn_graph_run *g, rn_model *m)
{
    rn_model_forward(m, 1);
    rn_model_loss(m);
    if (g->amp) rn_amp_scale_loss_device(m, g->scaler);
    rn_model_backward(m);
    if (g->amp)
        rn_amp_step_device(m, g->scaler);
    else
        rn_model_adam_step_device(m, g->scaler->dev_scale, g->scaler->dev_state);
}

/* The graph of this input slot's step, recorded (not run). The profiler is
 * off meanwhile: its GPU regions are events, which a replay would not
 * time. */
static int capture(rn_graph_run *g, rn_model *m, int slot)
{
    const rn_backend *be = m->be;
    int prof = cs_prof_enabled();
    cs_prof_enable(0);
    int rc = be->graph_begin();
    if (rc == 0) {
        device_step(g, m);
        g->graph[slot] = be->graph_end();
        rc = g->graph[slot] < 0 ? -1 : 0;
    }
    cs_prof_enable(prof);
    return rc;
}

int rn_graph_run_step(rn_graph_run *g, rn_model *m)
{
    const rn_backend *be = m->be;
    const int slot = m->x == m->x_slot[1];
    be->mark(0);
    if (!g->warm || m->batch != m->capacity) {
        device_step(g, m);
        g->warm |= m->batch == m->capacity;
    } else {
        if (g->graph[slot] >= 0)
            g->replays++;
        else if (capture(g, m, slot) != 0)
            return -1;
        be->graph_launch(g->graph[slot]);
    }
    /* One launch: its forward, backward and optimizer are not told apart. */
    be->mark(1);
    be->mark(2);
    be->mark(3);
    return 0;
}

void rn_graph_run_end(rn_graph_run *g, rn_model *m)
{
    const rn_backend *be = m->be;
    be->graph_free();
    rn_bn_layer *bn[RN_MAX_BN];
    for (int i = 0; i < rn_model_bn_layers(m, bn); i++) bn[i]->num_batches_tracked += g->replays;
    if (g->scaler) {
        g->scaler->steps += g->replays;
        rn_scaler_from_device(m, g->scaler); /* m->adam_t too */
    }
    if (g->own.dev_state) { /* fp32's: made for this run */
        rn_arena_release(m->arena, g->own.dev_scale);
        rn_arena_release(m->arena, g->own.dev_state);
    }
    memset(g, 0, sizeof *g);
}
