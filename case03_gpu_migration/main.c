/* case03_gpu_migration: "I have a GPU but my code is still slow".
 *
 * The seven steps of the case-study method (see docs/case03_gpu_migration.md):
 * scenario, initial profiling, hypothesis, investigation, optimization,
 * verification, key lessons. Each step's narration is in steps.c, the rungs
 * of the ladder in 1_cpu_naive.c ... 8_hybrid.cu (in ladder.c's order), the
 * command line in options.c. Everything printed comes from this run. */
#include "options.h"
#include "steps.h"

int main(int argc, char **argv)
{
    c3_args a;
    cs_options opt;
    int rc = c3_parse_options(argc, argv, &a, &opt);
    if (rc) return rc < 0 ? 0 : rc;

    /* Everything checked before any allocation or long work. */
    c3_study s;
    rc = c3_study_check(&s, &a, &opt);
    if (rc) return rc;

    /* 1. the job, the machine and its ceilings; the inputs and the reference */
    step1_scenario(&s);
    c3_choose_rungs(&s);
    /* 2. the slow starting points, cpu_naive and gpu_naive, and where their time goes */
    rc = step2_initial_profiling(&s);
    if (rc) goto done;
    /* 3. what step 2's phase tables say to try */
    step3_hypothesis(&s);
    /* 4. the GEMM backends, the library, its thread pools, the copy and size sweeps */
    step4_investigation(&s);
    /* 5. the rest of the ladder, one idea per rung */
    rc = step5_optimization(&s);
    if (rc) goto done;
    /* 6. every rung against the float64 reference, then the before/after table */
    step6_verification(&s);
    /* 7. the rules, with this run's numbers */
    step7_key_lessons(&s);

    /* results.csv, results.json, trace.json and the charts; exit 1 on a failed check */
    rc = c3_write_results(&s);
done:
    c3_study_free(&s);
    return rc;
}
