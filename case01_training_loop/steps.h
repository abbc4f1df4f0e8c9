/* The seven steps of case01, as main() calls them (steps.c). Everything one
 * run of the case study holds lives in c1_study: the options, the machine,
 * the data and the workload, the rungs that ran, the report. */
#ifndef C1_STEPS_H
#define C1_STEPS_H

#include "cli.h"
#include "cs_case.h"
#include "cs_ceilings.h"
#include "cs_gpu.h"
#include "cs_report.h"
#include "cs_sysinfo.h"
#include "investigate.h"
#include "ladder.h"

typedef struct {
    /* The options (cli.c). */
    c1_args a;
    cs_options opt;
    cs_run_opts run_opts, slow_opts; /* the fast rungs', the slow rungs' */
    /* The machine and the work. */
    cs_sysinfo sys;
    cs_devices dev;
    c1_dataset data;
    c1_workload w;
    int spe;            /* steps per epoch */
    double flop_sample; /* training FLOP of one sample */
    cs_cpu_ceilings cpu_ceil;
    cs_gpu_ceilings gpu_ceil;
    /* The rungs that run, in ladder order (indexes into c1_ladder), and
     * why each selected one that does not run is skipped. */
    int todo[C1_NVARIANTS], ntodo, next;
    const char *skip[C1_NVARIANTS];
    /* What they measured. */
    c1_run runs[C1_NVARIANTS];
    int nruns;
    const c1_run *cpu_slow, *gpu_slow;
    c1_output ref; /* cpu_slow's check run, the reference */
    int have_ref;  /* 1: ref is ours; 2: borrowed from cpu_slow's run */
    c1_investigation inv;
    c1_output epoch_out; /* step 5's epoch, charted at the end */
    const c1_variant *epoch_variant;
    cs_report report;
} c1_study;

/* The options. Returns 0 to go on, -1 after --help or --version, 2 on bad
 * usage. */
int c1_study_options(int argc, char **argv, c1_study *s);
/* Everything checked and loaded before any long work: the machine, the
 * output folder, the devices, the data, the workload, the rungs to run.
 * Returns 0 or the exit code (one line printed). */
int c1_study_prepare(c1_study *s);

void step1_scenario(c1_study *s);
int step2_initial_profiling(c1_study *s);
void step3_hypothesis(const c1_study *s);
void step4_investigation(c1_study *s);
int step5_optimization(c1_study *s);
void step6_verification(c1_study *s);
void step7_key_lessons(const c1_study *s);

/* The result files and charts; the exit code: 0, 1 when a check failed,
 * 3 when a file could not be written. */
int c1_results(c1_study *s);
void c1_study_free(c1_study *s);

#endif
