/* The ladder of training variants in teaching order, running one of them
 * (setup, the untimed check run, warm-up and timed runs) and comparing its
 * training with the reference's. The record, the runner and the report row
 * are common/'s (cs_ladder.h); what is case01's own is here. */
#ifndef C1_LADDER_H
#define C1_LADDER_H

#include "cs_ladder.h"
#include "variants.h"

#define C1_NVARIANTS 8

/* Tolerances of the verification, float32 training against float32
 * training in another summation order: the final weights' relative L2
 * error, and each step's loss relative to the reference's. Reordered float
 * sums differ by a few ulps per operation; over a few SGD steps this grows
 * to ~1e-6 in the weights. The margin covers a ReLU input that lands on the
 * other side of zero in one variant (it changes one gradient row). */
#define C1_TOL_WEIGHTS 1e-4
#define C1_TOL_LOSS    1e-4

/* One rung that ran: common/'s record (name, device, lesson, setup time,
 * timing of whole runs, the merged check, memory peak, phases), then what
 * case01 adds. */
typedef struct {
    cs_rung base;
    int steps;            /* steps per timed run */
    double samples_per_s; /* steps * batch / median */
    cs_check weights;     /* final weights of the check run vs the reference */
    cs_check loss;        /* per-step loss of the check run vs the reference */
    int check_pass;
    c1_output check_out; /* the check run's output (curves for the chart) */
} c1_run;

/* The ladder, in its order (ladder_table.h): every rung, the GPU ones too
 * (their functions NULL in a build without CUDA). */
extern const c1_variant *const c1_ladder;

/* The rungs' names and devices, what --variant accepts (cli.c: taken from
 * the table by c1_cli_spec). */
extern const char *c1_variant_names[C1_NVARIANTS];
extern const char *c1_variant_devices[C1_NVARIANTS];

/* The rung called name, or NULL when there is none. */
const c1_variant *c1_find_variant(const char *name);

/* Compares a training run with the reference run over `steps` steps: the
 * final weights (relative L2 error, worst element, non-finite count) and
 * the per-step loss (worst |loss - ref| / |ref|; a NaN loss is non-finite).
 * Returns 1 when both are within C1_TOL_WEIGHTS and C1_TOL_LOSS. */
int c1_compare(const c1_workload *w, const c1_output *ref, const c1_output *got, int steps, cs_check *weights,
               cs_check *loss);

/* Runs v: setup, one untimed check run of cfg.slow_steps steps (its output
 * kept in res->check_out, compared with ref when ref is not NULL), then
 * warm-ups and timed runs of res->steps steps with the profiler covering
 * exactly the timed runs, teardown. Returns 0 or the variant's error code. */
int c1_run_variant(const c1_variant *v, const c1_workload *w, const cs_run_opts *opts, const c1_output *ref,
                   c1_run *res);
void c1_run_free(c1_run *res);

/* The report row of a run: time per training step, batch samples per step
 * against a ceiling in samples/s. */
cs_result *c1_run_report(cs_report *rep, const c1_run *r, int batch, double ceiling, const char *ceiling_name);

#endif
