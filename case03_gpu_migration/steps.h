/* The seven steps of case03, as main() tells them: each function prints
 * one step of the case study (see docs/case03_gpu_migration.md) and keeps
 * what later steps need in the c3_study. */
#ifndef C3_STEPS_H
#define C3_STEPS_H

#include "cs_case.h"
#include "cs_ceilings.h"
#include "cs_gpu.h"
#include "cs_report.h"
#include "cs_sysinfo.h"
#include "investigate.h"
#include "ladder.h"
#include "options.h"

typedef struct {
    const c3_args *a;
    const cs_options *opt;
    cs_sysinfo sys;
    cs_devices dev;           /* dev.run_gpu: the GPU rungs run; else dev.why */
    cs_cpu_ceilings cpu_ceil; /* what this machine can do, measured in step 1 */
    cs_gpu_ceilings gpu_ceil;
    c3_workload w; /* the inputs and their float64 reference */
    int have_workload;
    cs_report report;
    int todo[C3_NVARIANTS], ntodo;  /* ladder indexes of the rungs that run, in order */
    int next;                       /* the first of todo not run yet */
    const char *skip[C3_NVARIANTS]; /* why a selected rung does not run (NULL: it does) */
    c3_run runs[C3_NVARIANTS];
    int nruns;
    const c3_run *cpu_slow, *gpu_slow; /* step 2's starting points, when they ran */
    c3_bandwidth_sweep bw;             /* step 4's sweeps (npoints 0: not run) */
    c3_size_sweep sweep;
} c3_study;

/* Everything checked before any allocation or long work: the job fits in
 * memory, --out is writable, the devices --device asks for are there.
 * Returns 0, or the exit code after one line printed. */
int c3_study_check(c3_study *s, const c3_args *a, const cs_options *opt);

/* 1. The job, the machine and its ceilings; the inputs and the reference. */
void step1_scenario(c3_study *s);
/* Which rungs run (--variant, --device, this build); the others' reasons. */
void c3_choose_rungs(c3_study *s);
/* 2. The slow starting points, cpu_naive and gpu_naive, with their phases.
 * Returns 0 or a rung's error code. */
int step2_initial_profiling(c3_study *s);
/* 3. The hypothesis, from step 2's phase tables. */
void step3_hypothesis(const c3_study *s);
/* 4. The GEMM backends, the library, the thread pools and the sweeps. */
void step4_investigation(c3_study *s);
/* 5. The other rungs. Returns 0 or a rung's error code. */
int step5_optimization(c3_study *s);
/* 6. Every rung against the reference, then the before/after table. */
void step6_verification(c3_study *s);
/* 7. The rules, each with this run's numbers. */
void step7_key_lessons(const c3_study *s);

/* The result files and charts. Returns 0, 3 when a file could not be
 * written, or 1 when a correctness check failed. */
int c3_write_results(c3_study *s);
/* Frees the workload and the GPU's handles (a leak check sees nothing). */
void c3_study_free(c3_study *s);

#endif
