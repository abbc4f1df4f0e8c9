/* The lab's ladders' common steps (see lab_rungs.h). */
#include "lab_rungs.h"

#include <string.h>

#include "cs_clock.h"
#include "cs_console.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_profiler.h"

int rn_rung_time_runs(const rn_lab *lab, cs_rung *rung, const char *name, int (*prepare)(void *), int (*run)(void *),
                      void *ctx)
{
    const cs_options *opt = &lab->a->opt;
    cs_run_opts o = cs_run_defaults();
    rn_rounds_count(opt, 3, &o.warmup, &o.repeats); /* cs_run caps repeats at CS_MAX_REPEATS too */
    o.min_repeats = o.repeats;
    o.prepare = prepare;
    if (lab->on_gpu) o.sync = lab->be->sync;
    cs_prof_lane(name);
    cs_progress("%s: %d runs of %d batches", name, o.warmup + o.repeats, lab->epoch_batches);
    int rc = cs_rung_time(rung, run, ctx, &o);
    cs_progress_done();
    return rc;
}

void rn_report_begin(cs_report *report, const rn_lab *lab, const char *part, const char *time_unit)
{
    cs_report_init(report, RN_PROG);
    cs_report_config(report, "part", "%s", part);
    cs_report_config(report, "arch", "%s", rn_arch_name(lab->a->arch));
    cs_report_config(report, "data", "%s", lab->train.source);
    cs_report_config(report, "batch", "%d", lab->a->batch);
    cs_report_config(report, "img_size", "%d", lab->a->img);
    cs_report_config(report, "batches_per_run", "%d", lab->epoch_batches);
    cs_report_config(report, "time_unit", "%s", time_unit);
}

int rn_report_rows(cs_report *report, const rn_lab *lab, int n, const char *const *names, const char *const *skip,
                   const int *ran, const cs_rung *const *rungs, const double *images_per_s,
                   const size_t *peak_activations)
{
    const char *device = lab->on_gpu ? "gpu" : "cpu";
    int column = cs_report_column(report, RN_PEAK_ACTIVATION_COLUMN);
    for (int i = 0; i < n; i++) {
        if (skip[i]) cs_report_skip(report, names[i], device, skip[i]);
        if (!ran[i]) continue;
        double images = images_per_s[i] * rungs[i]->timing.time.median;
        cs_result *row = cs_rung_report(report, rungs[i], images, "images/s", 0, NULL);
        if (row) cs_result_extra(row, column, (double)peak_activations[i]);
    }
    cs_report_finish(report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, report);
    const char *dir = lab->a->opt.out_dir;
    if (cs_mkdir_p(dir) != 0) return 3;
    return cs_case_write_results(report, &lab->sys, dir) != 0 ? 3 : 0;
}

void rn_peaks_take(const rn_arena *a, size_t *peak, size_t *total)
{
    for (int c = 0; c < RN_NCATEGORIES; c++) peak[c] = rn_arena_peak(a, (rn_category)c);
    *total = rn_arena_total_peak(a);
}

int rn_rung_one_run(const rn_lab *lab, const char *name, int (*run)(void *), void *ctx, double *seconds)
{
    rn_arena_peaks_reset(lab->m.arena);
    cs_prof_reset();
    cs_prof_lane(name);
    const double t0 = cs_now();
    const int rc = run(ctx);
    if (lab->on_gpu) lab->be->sync();
    *seconds = cs_now() - t0;
    return rc;
}

void rn_rounds_count(const cs_options *opt, int usual, int *warmup, int *repeats)
{
    *warmup = opt->warmup >= 0 ? opt->warmup : 1;
    *repeats = opt->repeat > 0 ? opt->repeat : opt->quick ? 2 : usual;
    if (*repeats > CS_MAX_REPEATS) *repeats = CS_MAX_REPEATS;
}

void rn_rung_from_rounds(cs_rung *rung, const double *seconds, int repeats, int warmup)
{
    rung->timing.time = cs_stats_of(seconds, repeats);
    rung->timing.repeats = repeats;
    rung->timing.warmup = warmup;
    rung->ran = 1;
}

cs_stats rn_rounds_paired(const double *base_s, const double *row_s, int rounds, int *wins)
{
    double ratio[CS_MAX_REPEATS];
    *wins = 0;
    for (int r = 0; r < rounds; r++) {
        ratio[r] = base_s[r] / row_s[r];
        *wins += ratio[r] > 1.0;
    }
    return cs_stats_of(ratio, rounds);
}

void rn_peaks_raise(const rn_arena *a, size_t *peak, size_t *total)
{
    size_t now[RN_NCATEGORIES], now_total;
    rn_peaks_take(a, now, &now_total);
    for (int c = 0; c < RN_NCATEGORIES; c++)
        if (now[c] > peak[c]) peak[c] = now[c];
    if (now_total > *total) *total = now_total;
}

double rn_prof_per_step(const char *const *prefixes, int n)
{
    cs_prof_entry e[CS_PROF_MAX_NAMES];
    int count = cs_prof_entries(e, CS_PROF_MAX_NAMES);
    double total = 0;
    long steps = 0;
    for (int i = 0; i < count; i++) {
        if (strcmp(e[i].name, "forward") == 0) steps = e[i].calls;
        for (int k = 0; k < n; k++)
            if (strncmp(e[i].name, prefixes[k], strlen(prefixes[k])) == 0) total += e[i].total_s;
    }
    return steps > 0 ? total / steps : 0;
}

int rn_lab_load_batch(rn_lab *lab, int epoch, int b)
{
    rn_model *m = &lab->m;
    float *images = cs_alloc((size_t)m->capacity * 3 * m->img * m->img * sizeof(float), "check images");
    int32_t *labels = cs_alloc((size_t)m->capacity * sizeof(int32_t), "check labels");
    rn_loader_start_epoch(&lab->ld, epoch);
    int n = rn_loader_get(&lab->ld, b, images, labels);
    rn_model_set_batch_n(m, images, labels, n);
    cs_free(images);
    cs_free(labels);
    return n;
}

/* Every trainable tensor's gradient (grads) or weights, end to end. */
static void trainable_to_host(const rn_model *m, int grads, float *out)
{
    size_t at = 0;
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        if (!p->trainable) continue;
        m->be->to_host(out + at, grads ? p->grad : p->data, p->count * sizeof(float));
        at += p->count;
    }
}

void rn_gradients_to_host(const rn_model *m, float *out)
{
    trainable_to_host(m, 1, out);
}

void rn_weights_to_host(const rn_model *m, float *out)
{
    trainable_to_host(m, 0, out);
}
