/* The repeat-and-median runner: never times the first run.
 *
 * cs_run() calls fn warmup times untimed, then `repeats` times timed and
 * returns the statistics. If sync is given it is called before every clock
 * read (a GPU variant passes cudaDeviceSynchronize through it), so
 * asynchronous work is counted where it happens.
 *
 * budget_s > 0 caps the time spent on timed repeats: after the warm-ups the
 * runner estimates one run's time and lowers the repeat count (never below
 * min_repeats) so that slow variants do not make a demo take minutes. The
 * count actually used is reported in cs_timing.repeats, and the case prints
 * it, so nothing is hidden. */
#ifndef CS_RUNNER_H
#define CS_RUNNER_H

#include "cs_stats.h"

#define CS_MAX_REPEATS 1000

typedef int (*cs_work_fn)(void *ctx); /* returns 0, or an exit code */
typedef void (*cs_sync_fn)(void);

typedef struct {
    int warmup;      /* untimed runs first (default 1) */
    int repeats;     /* timed runs asked for (default 5) */
    int min_repeats; /* never fewer than this when the budget bites (default 3, capped at repeats) */
    double budget_s; /* 0: no cap */
    cs_sync_fn sync; /* NULL for CPU work */
    /* Called with fn's ctx before every run, warm-ups included, outside the
     * clock (e.g. a training run put back to its initial weights, so every
     * run does the same work); NULL: nothing. A non-zero return stops the
     * runner with that code. */
    cs_work_fn prepare;
} cs_run_opts;

typedef struct {
    cs_stats time; /* seconds per run */
    int warmup;    /* warm-up runs done */
    int repeats;   /* timed runs done */
    int reduced;   /* 1 when the budget lowered the repeat count */
    double cpu_s;  /* process CPU seconds over the timed runs, per run */
} cs_timing;

/* Default options: warmup 1, repeats 5, min_repeats 3, no budget, no sync,
 * no prepare. */
cs_run_opts cs_run_defaults(void);

/* Runs fn as described above. Returns 0, or the first non-zero value fn
 * returned (then *out holds what was measured so far). */
int cs_run(cs_work_fn fn, void *ctx, const cs_run_opts *opts, cs_timing *out);

#endif
