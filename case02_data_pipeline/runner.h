/* case02's ladder: the rungs in order, and how one rung runs, is timed and
 * is shown. The record, the timing and the report row are the shared
 * ladder's (cs_ladder.h); what is case02's own: a rung's result is the
 * job's output (c2_result), its phases come from a first, instrumented run
 * (the timed runs have the profiler off), and its memory is the resident
 * set it added (the rungs allocate with plain malloc). */
#ifndef C2_RUNNER_H
#define C2_RUNNER_H

#include "cs_ladder.h"
#include "pipeline.h"

#define C2_NRUNGS 7

typedef struct {
    const char *name;
    const char *device; /* "cpu": every rung of this case */
    c2_variant_fn fn;
    const char *lesson;
    int staged; /* has extract/transform/load phases */
} c2_rung;

/* The ladder, in order: each rung adds one idea to the one before it. */
extern const c2_rung c2_ladder[C2_NRUNGS];

/* What one rung measured. */
typedef struct {
    cs_rung base;          /* name, lesson, timing, check; peak_mem: resident
                              bytes added; phases: the instrumented run's */
    const c2_rung *r;      /* its entry in c2_ladder */
    c2_result result;      /* from the instrumented run, sorted */
    double instrumented_s; /* wall time of the instrumented run */
    char diff[256];        /* the first difference from the reference, if any */
} c2_rung_run;

/* Runs rung r on job: once instrumented (the phase profiler on; it also
 * serves as the first warm-up), then the timed runs under opts with the
 * profiler off. Returns 0 or the rung's exit code. */
int c2_run_rung(const c2_rung *r, const c2_job *job, const cs_run_opts *opts, c2_rung_run *out);

/* Times rung r on job under opts (the profiler as the caller left it),
 * each run the job end to end, output included. Returns 0 or an exit code. */
int c2_time_rung(const c2_rung *r, const c2_job *job, const cs_run_opts *opts, cs_timing *t);

/* The rung's lines of step 2 or 5: its rates and memory, and the phase
 * table of its instrumented run; mb: the input's size in MB. */
void c2_print_rung(const c2_rung_run *rr, double mb);

/* Seconds of the phase called name in the instrumented run (0 if absent). */
double c2_phase_of(const c2_rung_run *rr, const char *name);

#endif
