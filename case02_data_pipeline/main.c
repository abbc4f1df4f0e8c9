/* case02_data_pipeline: "My data pipeline can't keep up with incoming data".
 *
 * The seven steps of the case-study method (see docs/case02_data_pipeline.md),
 * each in steps.c; the ladder of rungs and how one runs, in runner.c; the
 * command line, in options.c. Every figure printed comes from this run. */
#include "cs_console.h"
#include "cleanup.h"
#include "options.h"
#include "steps.h"

int main(int argc, char **argv)
{
    c2_args a;
    cs_options opt;
    int rc = c2_parse_options(argc, argv, &a, &opt);
    if (rc) return rc < 0 ? 0 : rc;
    c2_cleanup_on_signals(); /* Ctrl-C leaves no temporary file behind (cleanup.h) */
    if (a.generate > 0 || a.out_csv) return c2_generate_only(&a, &opt); /* write a file and stop */

    static c2_study s; /* everything this run measures (steps.h) */
    if ((rc = c2_study_begin(&s, &a, &opt)) != 0) goto done;
    if ((rc = c2_prepare_input(&s)) != 0) goto done; /* the input and its reference result */

    step1_scenario(&s);
    if ((rc = step2_initial_profiling(&s)) != 0) goto done;
    step3_hypothesis(&s);
    if ((rc = step4_investigation(&s)) != 0) goto done;
    if ((rc = step5_optimization(&s)) != 0) goto done;
    step6_verification(&s);
    step7_key_lessons(&s);

    if ((rc = c2_write_results(&s)) != 0) goto done;
    if (s.failed) {
        cs_error("a variant's output differed from the reference's (see step 6)");
        rc = 1;
    }
done:
    c2_study_end(&s);
    return rc;
}
