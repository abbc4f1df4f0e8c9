/* The ladder of variants in teaching order, and running one of them:
 * setup, warm-up and timed repeats (common/cs_runner), the correctness
 * check, its phase table and memory figures. */
#ifndef C3_LADDER_H
#define C3_LADDER_H

#include "cs_compare.h"
#include "cs_profiler.h"
#include "cs_runner.h"
#include "variants.h"

#define C3_NVARIANTS 8

typedef struct {
    const char *name;
    const char *device;
    const char *lesson;
    int ran;
    char skip_reason[200];
    double setup_s;                 /* one-time setup, outside the timed runs */
    cs_timing timing;
    cs_check check;
    size_t peak_mem;                /* tracked host bytes (cpu) or device bytes (gpu) */
    int nphases;
    cs_prof_entry phases[CS_PROF_MAX_NAMES];  /* totals over the timed runs */
} c3_run;

/* Names of all rungs, in ladder order (GPU ones too in CPU builds). */
extern const char *const c3_variant_names[C3_NVARIANTS];
extern const char *const c3_variant_devices[C3_NVARIANTS];

/* The variant called name, or NULL when it was not built (GPU rungs without
 * CUDA). */
const c3_variant *c3_find_variant(const char *name);

/* Runs v on w: setup, poisoned output, warm-ups and repeats with the
 * profiler reset at the first timed run, check against the reference,
 * teardown. Returns 0 or the variant's error code. */
int c3_run_variant(const c3_variant *v, const c3_workload *w, const cs_run_opts *opts,
                   c3_run *res);

/* Per-run seconds of the phase called name in res (0 if absent). */
double c3_phase_seconds(const c3_run *res, const char *name);

#endif
