/* The ladder every case climbs (cs_ladder.h). */
#include "cs_ladder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_gpu.h"
#include "cs_memory.h"

int cs_ladder_select(const cs_options *opt, const char *const *names, const char *const *devices,
                     const char *const *not_here, int n, int run_gpu, const char *gpu_why, int *todo, const char **skip)
{
    int want_gpu = strcmp(opt->device, "cpu") != 0, want_cpu = strcmp(opt->device, "gpu") != 0;
    int ntodo = 0;
    for (int i = 0; i < n; i++) {
        skip[i] = NULL;
        if (!cs_variant_selected(opt, names[i])) continue;
        int is_gpu = strcmp(devices[i], "gpu") == 0;
        if (is_gpu ? !want_gpu : !want_cpu) continue;
        if (is_gpu && !run_gpu)
            skip[i] = gpu_why;
        else if (not_here && not_here[i])
            skip[i] = not_here[i];
        else
            todo[ntodo++] = i;
    }
    return ntodo;
}

void cs_rung_start(cs_rung *r, const char *name, const char *device, const char *lesson)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->device = device;
    r->lesson = lesson;
    cs_tracked_reset_peak();
    cs_gpu_tracked_reset_peak();
    r->host_at_start = cs_tracked_bytes(); /* its peak is counted above them */
}

size_t cs_rung_memory(const cs_rung *r)
{
    if (strcmp(r->device, "gpu") == 0) return cs_gpu_tracked_peak();
    size_t peak = cs_tracked_peak();
    return peak > r->host_at_start ? peak - r->host_at_start : 0;
}

/* The runner calls this; the profiler restarts when the first timed run
 * starts, so the phase table covers exactly the timed runs. */
typedef struct {
    cs_work_fn fn;
    void *ctx;
    int calls, warmup;
    cs_work_fn prepare;
} timed_ctx;

static int run_once(void *p)
{
    timed_ctx *c = p;
    if (c->calls++ == c->warmup) cs_prof_reset();
    return c->fn(c->ctx);
}

/* The runner hands its hooks this wrapper: the rung's own prepare gets
 * the rung's context. */
static int prepare_once(void *p)
{
    timed_ctx *c = p;
    return c->prepare(c->ctx);
}

int cs_rung_time(cs_rung *r, cs_work_fn fn, void *ctx, const cs_run_opts *opts)
{
    timed_ctx c = {fn, ctx, 0, opts->warmup, opts->prepare};
    cs_run_opts o = *opts;
    if (o.prepare) o.prepare = prepare_once;
    if (strcmp(r->device, "gpu") == 0) o.sync = cs_gpu_sync;
    cs_prof_reset();
    int rc = cs_run(run_once, &c, &o, &r->timing);
    if (rc) return rc;
    r->ran = 1;
    if (cs_prof_enabled()) r->nphases = cs_prof_entries(r->phases, CS_PROF_MAX_NAMES);
    return 0;
}

double cs_rung_phase_seconds(const cs_rung *r, const char *name)
{
    int runs = r->timing.repeats > 0 ? r->timing.repeats : 1;
    for (int i = 0; i < r->nphases; i++)
        if (strcmp(r->phases[i].name, name) == 0) return r->phases[i].total_s / runs;
    return 0.0;
}

cs_result *cs_rung_report(cs_report *rep, const cs_rung *r, double work, const char *unit, double ceiling,
                          const char *ceiling_name)
{
    cs_result row = {0};
    snprintf(row.variant, sizeof row.variant, "%s", r->name);
    snprintf(row.device, sizeof row.device, "%s", r->device);
    row.ran = 1;
    row.timing = r->timing;
    row.work = work;
    snprintf(row.unit, sizeof row.unit, "%s", unit);
    row.ceiling = ceiling;
    snprintf(row.ceiling_name, sizeof row.ceiling_name, "%s", ceiling_name ? ceiling_name : "");
    row.peak_mem = r->peak_mem;
    row.check = r->check;
    return cs_report_add(rep, &row);
}
