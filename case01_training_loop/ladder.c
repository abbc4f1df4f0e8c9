/* The ladder: which training variants exist, how one is run, and how its
 * training is compared with the reference's. */
#include "ladder.h"

#include <math.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_fault.h"
#include "cs_gpu.h"

/* The table (ladder_table.h), with the rungs' functions. */
#define C1_FN(fn) fn
#include "ladder_table.h"

const c1_variant *const c1_ladder = ladder;

const c1_variant *c1_find_variant(const char *name)
{
    for (int i = 0; i < C1_NVARIANTS; i++)
        if (strcmp(ladder[i].name, name) == 0) return &ladder[i];
    return NULL;
}

/* Per-step loss against the reference: the worst |loss - ref| / |ref|.
 * Losses of a classifier are well away from zero (log 10 = 2.3 at the
 * start), so a per-step relative error is meaningful here, and it catches a
 * single wrong step that an L2 norm over the whole curve would dilute. */
static cs_check compare_loss(const float *got, const float *ref, int steps, double tol)
{
    cs_check c = {0};
    c.n = (size_t)steps;
    c.tol = tol;
    int bad_ref = 0;
    for (int s = 0; s < steps; s++) {
        if (!isfinite(got[s])) {
            c.nonfinite++;
            continue;
        }
        if (!isfinite(ref[s])) {
            bad_ref++;
            continue;
        }
        double d = fabs((double)got[s] - ref[s]);
        double scale = fabs((double)ref[s]) > 1e-6 ? fabs((double)ref[s]) : 1e-6;
        if (d > c.max_abs) c.max_abs = d;
        if (d / scale > c.rel_l2) c.rel_l2 = d / scale;
    }
    c.status = (c.nonfinite == 0 && bad_ref == 0 && c.rel_l2 <= tol) ? CS_CHECK_PASS : CS_CHECK_FAIL;
    return c;
}

/* The weights' change d = got - w0 against the reference's d_ref = ref - w0
 * (see the tolerances in ladder.h), in double: *change gets |d - d_ref| /
 * |d_ref|, *along gets (d - d_ref) . d_ref / |d_ref|^2 in its rel_l2. */
static void compare_change(const float *got, const float *ref, const float *w0, size_t n, cs_check *change,
                           cs_check *along)
{
    cs_check c = {.n = n, .tol = C1_TOL_CHANGE};
    double diff2 = 0, ref2 = 0, dot = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) {
            c.nonfinite++;
            continue;
        }
        double d = (double)got[i] - ref[i], d_ref = (double)ref[i] - w0[i];
        if (fabs(d) > c.max_abs) c.max_abs = fabs(d);
        diff2 += d * d;
        ref2 += d_ref * d_ref;
        dot += d * d_ref;
    }
    c.rel_l2 = ref2 > 0 ? sqrt(diff2 / ref2) : sqrt(diff2);
    c.status = c.nonfinite == 0 && c.rel_l2 <= C1_TOL_CHANGE ? CS_CHECK_PASS : CS_CHECK_FAIL;
    *change = c;
    c.tol = C1_TOL_ALONG;
    c.rel_l2 = ref2 > 0 ? dot / ref2 : dot;
    c.status = c.nonfinite == 0 && fabs(c.rel_l2) <= C1_TOL_ALONG ? CS_CHECK_PASS : CS_CHECK_FAIL;
    *along = c;
}

int c1_compare(const c1_workload *w, const c1_output *ref, const c1_output *got, int steps, cs_check *weights,
               cs_check *along, cs_check *loss)
{
    compare_change(got->params, ref->params, w->init_params, w->layout.count, weights, along);
    *loss = compare_loss(got->loss, ref->loss, steps, C1_TOL_LOSS);
    return weights->status == CS_CHECK_PASS && along->status == CS_CHECK_PASS && loss->status == CS_CHECK_PASS;
}

/* What the runner times: one training run of the rung. */
typedef struct {
    const c1_variant *v;
    const c1_workload *w;
    c1_output *out;
    void *state;
    int steps;
} run_ctx;

static int train_once(void *p)
{
    run_ctx *c = p;
    return c->v->train(c->w, c->steps, c->out, c->state);
}

/* The tests' faults in rung v's check run (CS_FAULT_INJECT), each a bug
 * its check must catch: "<rung>" trains with the gradient 1.01x too large
 * (the learning rate 1.01x: the same SGD update), "<rung>_loss" reports
 * the loss averaged over batch - 1 samples. */
static c1_workload fault_workload(const c1_variant *v, const c1_workload *w)
{
    c1_workload f = *w;
    if (cs_fault_injected(v->name)) f.cfg.lr *= 1.01f;
    return f;
}

static void fault_loss(const c1_variant *v, c1_output *out, int steps, int batch)
{
    if (!cs_fault_injected_for(v->name, "loss") || batch < 2) return;
    for (int s = 0; s < steps; s++) out->loss[s] *= (float)batch / (float)(batch - 1);
}

/* The check run: untimed, the same number of steps for every variant, its
 * output poisoned first so that anything left unwritten fails. The rung's
 * check is the weights' two and the loss's merged, with the weights' error.
 * The reference (ref NULL: cpu_slow) is marked REF: the others are compared
 * with it, and it with an independent double-precision implementation by
 * the test test_c1_reference. */
static int check_run(const c1_variant *v, const c1_workload *w, const c1_output *ref, void *state, c1_run *res)
{
    const int check_steps = c1_check_steps(&w->cfg);
    c1_output_alloc(&res->check_out, w, check_steps);
    c1_output_poison(&res->check_out);
    c1_workload trained = fault_workload(v, w);
    int rc = v->train(&trained, check_steps, &res->check_out, state);
    if (strcmp(v->device, "gpu") == 0 && rc == 0) cs_gpu_sync();
    if (rc != 0) return rc;
    fault_loss(v, &res->check_out, check_steps, w->cfg.batch);
    cs_check *c = &res->base.check;
    if (ref == NULL) {
        memset(c, 0, sizeof *c);
        c->status = CS_CHECK_REF;
        res->check_pass = 1;
        return 0;
    }
    res->check_pass = c1_compare(w, ref, &res->check_out, check_steps, &res->weights, &res->along, &res->loss);
    *c = cs_check_merge(res->weights, res->loss);
    if (!res->check_pass) c->status = CS_CHECK_FAIL;
    c->rel_l2 = res->weights.rel_l2; /* the table's error column: the weight change's */
    return 0;
}

int c1_run_variant(const c1_variant *v, const c1_workload *w, const cs_run_opts *opts, const c1_output *ref,
                   c1_run *res)
{
    int gpu = strcmp(v->device, "gpu") == 0;
    memset(res, 0, sizeof *res);
    cs_rung_start(&res->base, v->name, v->device, v->lesson);
    res->steps = v->slow ? w->cfg.slow_steps : gpu && w->cfg.gpu_steps > 0 ? w->cfg.gpu_steps : w->cfg.steps;

    void *state = NULL;
    double t0 = cs_now();
    int rc = v->setup ? v->setup(w, &state) : 0;
    if (gpu) cs_gpu_sync();
    res->base.setup_s = cs_now() - t0;
    if (rc != 0) return rc;

    rc = check_run(v, w, ref, state, res);

    /* The timed runs (the check run was already a warm-up of sorts, but the
     * runner's own warm-up still comes first, as everywhere in the suite). */
    if (rc == 0) {
        c1_output out = {0};
        c1_output_alloc(&out, w, res->steps);
        run_ctx ctx = {v, w, &out, state, res->steps};
        rc = cs_rung_time(&res->base, train_once, &ctx, opts);
        if (rc == 0) {
            double med = res->base.timing.time.median;
            res->samples_per_s = med > 0 ? (double)res->steps * w->cfg.batch / med : 0.0;
            res->base.peak_mem = cs_rung_memory(&res->base);
        }
        c1_output_free(&out);
    }
    if (v->teardown) v->teardown(state);
    return rc;
}

void c1_run_free(c1_run *res)
{
    c1_output_free(&res->check_out);
}

/* The seconds of one step, from a run's statistics of whole runs. */
static cs_timing per_step(const cs_timing *t, int steps)
{
    cs_timing s = *t;
    s.time.median /= steps;
    s.time.min /= steps;
    s.time.max /= steps;
    s.time.mean /= steps;
    s.time.stddev /= steps;
    s.cpu_s /= steps;
    return s;
}

cs_result *c1_run_report(cs_report *rep, const c1_run *r, int batch, double ceiling, const char *ceiling_name)
{
    cs_result *row = cs_rung_report(rep, &r->base, batch, "samples/s", ceiling, ceiling_name);
    if (row) row->timing = per_step(&r->base.timing, r->steps); /* the table is per step */
    return row;
}
