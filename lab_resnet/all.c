/* The lab's parts in sequence (see all.h). */
#include "all.h"

#include <stdio.h>
#include <string.h>

#include "amp.h"
#include "compare.h"
#include "compile.h"
#include "cs_console.h"
#include "cs_files.h"
#include "dataloader.h"
#include "memory.h"
#include "steps.h"

int rn_part1(rn_lab *lab, int profile, int baseline)
{
    int rc = 0, both = profile && baseline;
    if (profile) {
        rc = step2_initial_profiling(lab);
        if (rc == 0) step3_hypothesis(lab);
        /* The baseline starts again from the initial weights. */
        if (rc == 0 && baseline) rc = rn_lab_fresh_model(lab);
    }
    if (rc == 0 && baseline) rc = step4_baseline_epoch(lab);
    if (rc == 0 && both) step5_optimization(lab);
    if (rc == 0 && baseline) {
        step6_verification(lab);
        rc = rn_results(lab); /* the table, the result files, --save */
    }
    if (rc == 0 && both) step7_key_lessons(lab);
    /* Exit 1 when the check failed (after the results are written). */
    if (rc == 0 && baseline && !rn_lab_verified(lab)) rc = 1;
    return rc;
}

/* The parts after the first: their subcommand, folder, title, run and the
 * batches each trains per run by default (--quick: its own). */
typedef struct {
    rn_command cmd;
    const char *folder, *title;
    int (*run)(rn_lab *);
    int batches, quick_batches;
} rn_part;

static int part1(rn_lab *lab)
{
    return rn_part1(lab, 1, 1);
}

static const rn_part parts[] = {
    {RN_CMD_ALL, "part1_baseline", "the baseline and its profile", part1, 0, 6},
    {RN_CMD_DATALOADER, "part2_dataloader", "data loading", rn_dataloader, 24, 6},
    {RN_CMD_AMP, "part3_amp", "mixed precision", rn_amp, 24, 6},
    {RN_CMD_MEMORY, "part4_memory", "memory", rn_memory, 24, 8},
    {RN_CMD_COMPILE, "part5_compile", "compilation", rn_compile, 24, 6},
    {RN_CMD_COMPARE, "part6_compare", "the comparison, dashboard and report", rn_compare, 24, 6},
};

int rn_all(rn_lab *lab)
{
    rn_args *a = lab->a;
    char top[CS_PATH_MAX];
    snprintf(top, sizeof top, "%s", a->opt.out_dir);
    const int nparts = (int)(sizeof parts / sizeof parts[0]);
    int failed = 0;
    for (int p = 0; p < nparts; p++) {
        const rn_part *part = &parts[p];
        /* Each part from the initial weights, into its own folder, over its
         * own batch count (the whole epoch for the baseline) unless --batches
         * was given. */
        int rc = p > 0 ? rn_lab_fresh_model(lab) : 0;
        if (rc) return rc;
        a->cmd = part->cmd;
        cs_path_join(a->opt.out_dir, sizeof a->opt.out_dir, top, part->folder);
        if (cs_mkdir_p(a->opt.out_dir) != 0) return 3;
        int wanted = a->batches ? a->batches : a->opt.quick ? part->quick_batches : part->batches;
        lab->epoch_batches = wanted > 0 && wanted < lab->ld.batches ? wanted : lab->ld.batches;
        cs_say("\n######## Part %d of %d: %s (%s/) ########\n", p + 1, nparts, part->title, a->opt.out_dir);
        rc = part->run(lab);
        if (rc == 1) {
            failed = 1; /* a check failed: said in the part; the rest still runs */
        } else if (rc) {
            return rc;
        }
    }
    snprintf(a->opt.out_dir, sizeof a->opt.out_dir, "%s", top);
    cs_say("\nAll six parts ran; the report: %s/part6_compare/optimization_report.md\n", top);
    return failed;
}
