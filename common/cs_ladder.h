/* The ladder every case climbs: one record per rung that ran, the runner
 * that times a rung, the choice of which rungs run, and the report row a
 * rung gives. Each case keeps its own typed table of rungs (what a rung
 * needs differs from case to case); what they all do with a rung is here.
 *
 * A case's table lists every rung, GPU ones too in a build without CUDA,
 * their functions wrapped in CS_CUDA_ONLY (NULL there): the names the
 * command line accepts and the skip lines come from the same table, so
 * there is no second list of names to keep in step. */
#ifndef CS_LADDER_H
#define CS_LADDER_H

#include <stddef.h>

#include "cs_cli.h"
#include "cs_compare.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "cs_runner.h"

#ifdef CS_HAVE_CUDA
#define CS_CUDA_ONLY(fn) (fn)
#else
#define CS_CUDA_ONLY(fn) NULL
#endif

/* names[i] = table[i].name and devices[i] = table[i].device, for i < n. */
#define CS_LADDER_NAMES(table, n, names, devices)     \
    do {                                              \
        for (int cs_i_ = 0; cs_i_ < (n); cs_i_++) {   \
            (names)[cs_i_] = (table)[cs_i_].name;     \
            (devices)[cs_i_] = (table)[cs_i_].device; \
        }                                             \
    } while (0)

/* What one rung measured. */
typedef struct {
    const char *name, *device, *lesson;
    int ran;
    double setup_s;       /* one-time setup, outside the timed runs */
    cs_timing timing;     /* seconds per timed run */
    cs_check check;       /* against the case's reference */
    size_t peak_mem;      /* tracked host bytes (cpu) or device bytes (gpu) */
    size_t host_at_start; /* tracked host bytes held at cs_rung_start */
    int nphases;
    cs_prof_entry phases[CS_PROF_MAX_NAMES]; /* totals over the timed runs */
} cs_rung;

/* Which rungs of a table run: the indexes of those --variant selects and
 * --device allows, in ladder order, into todo; the ones selected but not
 * runnable get skip[i]: gpu_why for a GPU rung without a usable GPU, else
 * not_here[i], why the rung cannot run in this build (NULL: it can; the
 * whole array may be NULL). Returns how many run. */
int cs_ladder_select(const cs_options *opt, const char *const *names, const char *const *devices,
                     const char *const *not_here, int n, int run_gpu, const char *gpu_why, int *todo,
                     const char **skip);

/* A record for the rung about to run; resets the memory peaks, so that
 * cs_rung_memory gives what this rung added. */
void cs_rung_start(cs_rung *r, const char *name, const char *device, const char *lesson);
/* The rung's memory peak since cs_rung_start: device bytes for a GPU rung,
 * host bytes above what was held at its start otherwise. */
size_t cs_rung_memory(const cs_rung *r);

/* Times fn(ctx) under opts (cs_run: warm-ups, then the timed repeats; a GPU
 * rung is synchronized before every clock read). The profiler restarts at
 * the first timed run, so r->phases covers exactly the timed runs; with the
 * profiler off (a case that profiles a run of its own first, then times
 * with cs_prof_enable(0)) r->phases is left as it is. Sets r->ran on
 * success. Returns 0 or fn's error code. */
int cs_rung_time(cs_rung *r, cs_work_fn fn, void *ctx, const cs_run_opts *opts);

/* Seconds per timed run of the phase called name (0 if absent). */
double cs_rung_phase_seconds(const cs_rung *r, const char *name);

/* The report row of a rung that ran: work units per run in unit, against
 * a ceiling (0: none). Returns the stored row, for a case's own touches. */
cs_result *cs_rung_report(cs_report *rep, const cs_rung *r, double work, const char *unit, double ceiling,
                          const char *ceiling_name);

#endif
