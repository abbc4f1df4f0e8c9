/* What the lab's ladders (Part 2's dataloader, Part 3's amp, the parts
 * after them) do alike: time one row's runs of the same batches, and turn
 * the rows into the run's report and result files. */
#ifndef RN_LAB_RUNGS_H
#define RN_LAB_RUNGS_H

#include "cs_ladder.h"
#include "cs_report.h"
#include "lab.h"

/* A row's timed runs: `run` trains the row's batches once, `prepare` puts
 * the initial weights back before each run, outside the clock; --warmup
 * (default 1) untimed runs and --repeat (default 3, 2 with --quick) timed
 * ones, the GPU synchronised before the clock is read; the profiler's lane
 * and the progress line carry the row's name. Returns cs_rung_time's code. */
int rn_rung_time_runs(const rn_lab *lab, cs_rung *rung, const char *name, int (*prepare)(void *), int (*run)(void *),
                      void *ctx);

/* The report with the configuration every ladder of the lab states: the
 * part, the data, the batch, the image side, the batches per run, the
 * time unit. The caller adds its own, then its rows with rn_report_rows. */
void rn_report_begin(cs_report *report, const rn_lab *lab, const char *part, const char *time_unit);

/* Rows i < n: a SKIP line where skip[i], a result where ran[i] (its time
 * from rungs[i], its images from images_per_s[i], its peak activation
 * bytes from peak_activations[i], the column every results.csv of the lab
 * has: the tracked arena's activations category); then the table printed
 * and results.csv/json written into --out. Returns 0 or 3. */
int rn_report_rows(cs_report *report, const rn_lab *lab, int n, const char *const *names, const char *const *skip,
                   const int *ran, const cs_rung *const *rungs, const double *images_per_s,
                   const size_t *peak_activations);

/* The model's arena's peak bytes by category, and of their sum, since its
 * peaks were last reset (a row's memory). */
void rn_peaks_take(const rn_arena *a, size_t *peak, size_t *total);

/* One run of a ladder's row whose rounds alternate (Parts 3 and 5): the
 * profiler and the arena's peaks start afresh (the trace lane named after
 * the row), run(ctx) is timed on the host clock, the device waited for, in
 * *seconds. */
int rn_rung_one_run(const rn_lab *lab, const char *name, int (*run)(void *), void *ctx, double *seconds);
/* Rounds of a ladder whose rows alternate: --warmup untimed ones (default
 * 1), then --repeat timed ones (default `usual`, 2 with --quick; at most
 * CS_MAX_REPEATS). */
void rn_rounds_count(const cs_options *opt, int usual, int *warmup, int *repeats);
/* A row's timing from its timed rounds' seconds. */
void rn_rung_from_rounds(cs_rung *rung, const double *seconds, int repeats, int warmup);
/* Row against base round by round: base's seconds over row's in each
 * round (two runs side by side share the machine's drift), and in how
 * many rounds row was the faster. */
cs_stats rn_rounds_paired(const double *base_s, const double *row_s, int rounds, int *wins);
/* The arena's peaks since the run began, raised into a row's (peak: one
 * per category, *total their sum's). */
void rn_peaks_raise(const rn_arena *a, size_t *peak, size_t *total);

/* Seconds per step the profiler saw in the regions whose names start with
 * one of the n `prefixes`, over the steps it saw (its "forward" regions,
 * one per step); 0 before any step. */
double rn_prof_per_step(const char *const *prefixes, int n);

/* Batch b of `epoch` from the lab's loader (its shuffle and augmentation,
 * as a training run sees it) into the model's input; returns its images.
 * For the ladders' untimed checks, which replay a run's first batches. */
int rn_lab_load_batch(rn_lab *lab, int epoch, int b);

/* Every trainable tensor's gradient, in the parameters' order, end to end
 * into out (host, rn_model_trainable_count floats). */
void rn_gradients_to_host(const rn_model *m, float *out);
/* The same for their weights. */
void rn_weights_to_host(const rn_model *m, float *out);

/* The name of that column. */
#define RN_PEAK_ACTIVATION_COLUMN "peak_activation_bytes"

#endif
