/* The seven steps of case02's case study, each printing its part of the
 * run (see docs/case02_data_pipeline.md). main() calls them in order;
 * everything they measure is kept in one c2_study, which the later steps
 * read. */
#ifndef C2_STEPS_H
#define C2_STEPS_H

#include "cs_cli.h"
#include "cs_files.h"
#include "cs_report.h"
#include "cs_runner.h"
#include "cs_sysinfo.h"
#include "options.h"
#include "pipeline.h"
#include "runner.h"

#define C2_MAX_THREAD_POINTS 16

typedef struct {
    c2_args *args;
    const cs_options *opt;
    cs_run_opts run_opts; /* warm-ups, repeats, budget of a rung's timing */
    cs_sysinfo sys;

    /* the input: the user's file, or one generated from the seed */
    char generated[CS_PATH_MAX]; /* the generated file ("" for --input) */
    const char *tmp_dir, *path;
    double gen_s; /* seconds to generate it */
    c2_job job;
    double mb;           /* its size in MB */
    c2_result reference; /* what every rung is checked against (reference.c) */
    double ref_s;        /* seconds the reference took */

    /* the rungs: those selected (indexes into c2_ladder), and those that ran */
    int todo[C2_NRUNGS], ntodo, next;
    c2_rung_run *runs;
    int nruns;

    double read_records_s; /* step 4: the read rate, in records/s */
    double scale_threads[C2_MAX_THREAD_POINTS], scale_rate[C2_MAX_THREAD_POINTS];
    int nscale;       /* step 5: fast's thread scaling */
    cs_report report; /* step 6: one row per rung */
    int failed;       /* step 6: a rung's output differed */
} c2_study;

/* The run's settings, the system, which rungs run. Returns 0, or an exit
 * code after a one-line message. */
int c2_study_begin(c2_study *s, c2_args *a, const cs_options *opt);
/* The input (generated unless --input), its header, and the reference
 * result. Returns 0 or an exit code. */
int c2_prepare_input(c2_study *s);

void step1_scenario(c2_study *s);
int step2_initial_profiling(c2_study *s);
void step3_hypothesis(c2_study *s);
int step4_investigation(c2_study *s);
int step5_optimization(c2_study *s);
void step6_verification(c2_study *s);
void step7_key_lessons(c2_study *s);

/* The result files (results.csv/json, groups.csv, summary.csv, trace.json)
 * and the charts (charts.c). Returns 0 or 3. */
int c2_write_results(c2_study *s);
/* Frees what the study holds and removes the generated input. */
void c2_study_end(c2_study *s);

/* charts.c: the ladder, fast's thread scaling, the staged rungs' phases. */
void c2_charts(const c2_study *s);

#endif
