/* case01_training_loop: "My training loop takes hours instead of minutes".
 *
 * The seven steps of the case-study method (see docs/case01_training_loop.md):
 * scenario, initial profiling, hypothesis, investigation, optimization,
 * verification, key lessons. Each step is a function of steps.c; the
 * options are cli.c's, the ladder of rungs ladder.c's. Everything printed
 * comes from this run. */
#include "steps.h"

int main(int argc, char **argv)
{
    c1_study s; /* everything this run holds: steps.h */
    int rc = c1_study_options(argc, argv, &s);
    if (rc) return rc < 0 ? 0 : rc;

    /* The machine, the output folder, the devices, the data and the
     * workload, all checked before any long work. */
    rc = c1_study_prepare(&s);
    if (rc == 0) {
        step1_scenario(&s);               /* the problem and this run's size */
        rc = step2_initial_profiling(&s); /* the slow rungs' phase tables */
    }
    if (rc == 0) {
        step3_hypothesis(&s);        /* from step 2's largest phases */
        step4_investigation(&s);     /* batching and copies, measured alone */
        rc = step5_optimization(&s); /* the other rungs, then one real epoch */
    }
    if (rc == 0) {
        step6_verification(&s); /* every rung against cpu_slow, the table */
        step7_key_lessons(&s);  /* this run's ratios */
        rc = c1_results(&s);    /* result files and charts; 1 if a check failed */
    }
    c1_study_free(&s);
    return rc;
}
