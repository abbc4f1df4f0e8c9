/* The ladder of training variants in teaching order, running one of them
 * (setup, the untimed check run, warm-up and timed runs) and comparing its
 * training with the reference's. The record, the runner and the report row
 * are common/'s (cs_ladder.h); what is case01's own is here. */
#ifndef C1_LADDER_H
#define C1_LADDER_H

#include "cs_ladder.h"
#include "variants.h"

#define C1_NVARIANTS 8

/* Steps of every rung's check run (the reference's too). */
#define C1_CHECK_STEPS 8

/* Tolerances of the verification: float32 training against float32 training
 * in another summation order, over C1_CHECK_STEPS steps. Measured (CPU,
 * generated data and Fashion-MNIST, the default and --quick sizes, batch 1
 * to 256) with a gradient 1.01x too large as the fault to catch.
 *
 * The weights are judged by what the training changed, d = w - w0, against
 * the reference's change d_ref. Not by the weights themselves: 8 steps move
 * them by about 0.1%, so their own relative error hid a gradient 1.01x (or
 * even 1.1x) too large under any tolerance that float rounding passes.
 *
 * C1_TOL_ALONG: how much longer or shorter d is along d_ref,
 *   (d - d_ref) . d_ref / |d_ref|^2. Rounding: 1e-8; the worst measured,
 *   2.2e-5, came with a ReLU input that rounding put on the other side of
 *   zero (Fashion-MNIST at the default size); the 1.01x gradient gives
 *   1.0e-2. Tolerance 2e-4, ten times the worst.
 * C1_TOL_CHANGE: the relative L2 error |d - d_ref| / |d_ref|, for what is
 *   not a matter of length (a wrong row, a permutation, a sign). Rounding:
 *   1e-6 to 3e-6 while no ReLU input changes side; one flipped ReLU
 *   changes one sample's share of one row's gradient, about
 *   1 / sqrt(width * batch): 2.05e-4 on the default generated data of
 *   `make bench`, 1.8e-3 the worst measured. Tolerance 2e-2: ten times
 *   that, against errors of order 1.
 * C1_TOL_LOSS: each step's loss relative to the reference's. Rounding: 0
 *   to 1.1e-6 (with the flipped ReLU); the 1.01x gradient moves the later
 *   steps' loss by 2.6e-5, a loss averaged over batch - 1 samples by 1 /
 *   batch. Tolerance 1e-5. */
#define C1_TOL_ALONG  2e-4
#define C1_TOL_CHANGE 2e-2
#define C1_TOL_LOSS   1e-5

/* One rung that ran: common/'s record (name, device, lesson, setup time,
 * timing of whole runs, the merged check, memory peak, phases), then what
 * case01 adds. */
typedef struct {
    cs_rung base;
    int steps;            /* steps per timed run */
    double samples_per_s; /* steps * batch / median */
    cs_check weights;     /* the check run's weight change vs the reference's (C1_TOL_CHANGE) */
    cs_check along;       /* its length along the reference's (C1_TOL_ALONG; in rel_l2, signed) */
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
 * weights' change from w->init_params (relative L2 error, worst element,
 * non-finite count; and its length along the reference's change) and the
 * per-step loss (worst |loss - ref| / |ref|; a NaN loss is non-finite).
 * Returns 1 when all three are within their tolerances (above). */
int c1_compare(const c1_workload *w, const c1_output *ref, const c1_output *got, int steps, cs_check *weights,
               cs_check *along, cs_check *loss);

/* Runs v: setup, one untimed check run of c1_check_steps steps (its output
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
