/* The repeat-and-median runner. The shape of every measurement in the suite:
 *
 *   warm-ups (untimed: caches, page faults, JIT/driver start-up land here)
 *   repeats  (each timed alone: sync, clock, fn, sync, clock)
 *   statistics over the repeats
 *
 * With a budget, the warm-ups double as a probe of how long one run takes,
 * and the repeat count is lowered so the timed part fits the budget. */
#include "cs_runner.h"

#include "cs_clock.h"

#include <math.h>
#include <stddef.h>

cs_run_opts cs_run_defaults(void)
{
    cs_run_opts o;
    o.warmup = 1;
    o.repeats = 5;
    o.min_repeats = 3;
    o.budget_s = 0.0;
    o.sync = NULL;
    o.prepare = NULL;
    return o;
}

/* Waits for asynchronous work (GPU kernels) so the clock read after it
 * counts that work; a no-op for CPU variants. */
static void sync_if(const cs_run_opts *o)
{
    if (o->sync != NULL) o->sync();
}

/* The repeat count that fits the budget, given one run's estimated time:
 * floor(budget / estimate), never below min_repeats (itself capped at the
 * count asked for, and at least 1) and never above the count asked for. */
static int repeats_within_budget(const cs_run_opts *o, int repeats, double estimate_s)
{
    if (o->budget_s <= 0.0 || estimate_s <= 0.0) return repeats;
    int floor_count = o->min_repeats < 1 ? 1 : o->min_repeats;
    if (floor_count > repeats) floor_count = repeats;
    double fit = floor(o->budget_s / estimate_s); /* double: the ratio can exceed INT_MAX */
    if (fit >= repeats) return repeats;
    return fit > floor_count ? (int)fit : floor_count;
}

int cs_run(cs_work_fn fn, void *ctx, const cs_run_opts *opts, cs_timing *out)
{
    cs_run_opts o = opts ? *opts : cs_run_defaults();
    cs_timing local;
    if (out == NULL) out = &local;

    int warmup = o.warmup < 0 ? 0 : o.warmup;
    int repeats = o.repeats < 1 ? 1 : o.repeats;
    if (repeats > CS_MAX_REPEATS) repeats = CS_MAX_REPEATS;

    double samples[CS_MAX_REPEATS];
    double cpu_total = 0.0;
    *out = (cs_timing){0};

    /* Warm-ups: not part of the statistics. The last one is timed only to
     * estimate one run for the budget (earlier ones may still be cold). */
    double estimate_s = 0.0;
    for (int i = 0; i < warmup; i++) {
        int prc = o.prepare ? o.prepare(ctx) : 0;
        if (prc != 0) return prc;
        sync_if(&o);
        double t0 = cs_now();
        int rc = fn(ctx);
        sync_if(&o);
        estimate_s = cs_now() - t0;
        if (rc != 0) return rc;
        out->warmup = i + 1;
    }
    if (warmup > 0) {
        int fitted = repeats_within_budget(&o, repeats, estimate_s);
        if (fitted < repeats) {
            repeats = fitted;
            out->reduced = 1;
        }
    }

    int done = 0;
    int rc = 0;
    while (done < repeats) {
        if (o.prepare && (rc = o.prepare(ctx)) != 0) break;
        sync_if(&o);
        double c0 = cs_cpu_time();
        double t0 = cs_now();
        rc = fn(ctx);
        sync_if(&o);
        double t1 = cs_now();
        double c1 = cs_cpu_time();
        if (rc != 0) break; /* a failed run is not a timing */
        samples[done++] = t1 - t0;
        cpu_total += c1 - c0;
        /* No warm-up to learn from: the first timed run is the estimate. */
        if (warmup == 0 && done == 1) {
            int fitted = repeats_within_budget(&o, repeats, samples[0]);
            if (fitted < repeats) {
                repeats = fitted;
                out->reduced = 1;
            }
        }
    }

    out->repeats = done;
    out->time = cs_stats_of(samples, done);
    out->cpu_s = done > 0 ? cpu_total / done : 0.0;
    return rc;
}
