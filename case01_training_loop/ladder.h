/* The ladder of training variants in teaching order, running one of them
 * (setup, the untimed check run, warm-up and timed runs) and comparing its
 * training with the reference's. */
#ifndef C1_LADDER_H
#define C1_LADDER_H

#include "cs_compare.h"
#include "cs_profiler.h"
#include "cs_runner.h"
#include "variants.h"

#define C1_NVARIANTS 7

/* Tolerances of the verification, float32 training against float32
 * training in another summation order: the final weights' relative L2
 * error, and each step's loss relative to the reference's. Reordered float
 * sums differ by a few ulps per operation; over a few SGD steps this grows
 * to ~1e-6 in the weights. The margin covers a ReLU input that lands on the
 * other side of zero in one variant (it changes one gradient row). */
#define C1_TOL_WEIGHTS 1e-4
#define C1_TOL_LOSS 1e-4

typedef struct {
    const char *name;
    const char *device;
    const char *lesson;
    int ran;
    char skip_reason[200];
    int steps;                      /* steps per timed run */
    double setup_s;
    cs_timing timing;               /* seconds per run of `steps` steps */
    double samples_per_s;           /* steps * batch / median */
    cs_check weights;               /* final weights of the check run vs the reference */
    cs_check loss;                  /* per-step loss of the check run vs the reference */
    int check_pass;
    size_t peak_mem;                /* tracked host bytes (cpu) or device bytes (gpu) */
    int nphases;
    cs_prof_entry phases[CS_PROF_MAX_NAMES];  /* totals over the timed runs */
    c1_output check_out;            /* the check run's output (curves for the chart) */
} c1_run;

extern const char *const c1_variant_names[C1_NVARIANTS];

/* The variant called name, or NULL when it was not built (GPU rungs without
 * CUDA). */
const c1_variant *c1_find_variant(const char *name);

/* Compares a training run with the reference run over `steps` steps: the
 * final weights (relative L2 error, worst element, non-finite count) and
 * the per-step loss (worst |loss - ref| / |ref|; a NaN loss is non-finite).
 * Returns 1 when both are within C1_TOL_WEIGHTS and C1_TOL_LOSS. */
int c1_compare(const c1_workload *w, const c1_output *ref, const c1_output *got, int steps,
               cs_check *weights, cs_check *loss);

/* Runs v: setup, one untimed check run of cfg.slow_steps steps (its output
 * kept in res->check_out, compared with ref when ref is not NULL), then
 * warm-ups and timed runs of res->steps steps with the profiler covering
 * exactly the timed runs, teardown. Returns 0 or the variant's error code. */
int c1_run_variant(const c1_variant *v, const c1_workload *w, const cs_run_opts *opts,
                   const c1_output *ref, c1_run *res);
void c1_run_free(c1_run *res);

/* Per-run seconds of the phase called name in res (0 if absent). */
double c1_phase_seconds(const c1_run *res, const char *name);

#endif
