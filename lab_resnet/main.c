/* lab_resnet: the Week 13 lab's ResNet-18 training loop, Part 1: baseline
 * and profile, Part 2: data loading, Part 3: mixed precision, Part 4: memory,
 * Part 5: compilation (see docs/lab_resnet.md).
 *
 *   lab_resnet                 the seven steps: profile, then the baseline epoch
 *   lab_resnet baseline        one epoch (or --batches N) with its figures
 *   lab_resnet profile         the first --profile-batches batches, profiled
 *   lab_resnet check-step      one step on fixed data, written as CSV for PyTorch
 *   lab_resnet dataloader      Part 2: workers, pinned memory, persistent workers
 *   lab_resnet amp             Part 3: fp32, tf32, fp16 with GradScaler, bf16
 *   lab_resnet memory          Part 4: gradient accumulation, checkpointing, the largest batch
 *   lab_resnet compile         Part 5: eager, fused operations, CUDA graph replay
 *   lab_resnet --generate DIR  write the generated data set in CIFAR-10's format
 *
 * The options are in options.c, the run's device, data and model in lab.c,
 * the narration of each step in steps.c. */
#include "lab.h"
#include "amp.h"
#include "compile.h"
#include "dataloader.h"
#include "memory.h"
#include "options.h"
#include "steps.h"

int main(int argc, char **argv)
{
    /* The options, and what can be checked before any work: the files
     * named, then the results' place. */
    rn_args a;
    int rc = rn_options_parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (a.generate_dir) return rn_generate_data(&a);
    if ((rc = rn_options_check_out(&a)) != 0) return rc;

    /* The device, the data (generated, or CIFAR-10's files), the model. */
    rn_lab lab;
    rc = rn_lab_open(&lab, &a);
    if (rc == 0 && a.cmd == RN_CMD_CHECK_STEP) {
        rc = rn_lab_check_step(&lab);
        rn_lab_close(&lab);
        return rc;
    }
    int profile = a.cmd == RN_CMD_ALL || a.cmd == RN_CMD_PROFILE;
    int baseline = a.cmd == RN_CMD_ALL || a.cmd == RN_CMD_BASELINE;

    if (rc == 0) step1_scenario(&lab);
    if (rc == 0 && a.cmd == RN_CMD_DATALOADER) {
        rc = rn_dataloader(&lab); /* Part 2: steps 2 to 7 */
        rn_lab_close(&lab);
        return rc;
    }
    if (rc == 0 && a.cmd == RN_CMD_AMP) {
        rc = rn_amp(&lab); /* Part 3: steps 2 to 7 */
        rn_lab_close(&lab);
        return rc;
    }
    if (rc == 0 && a.cmd == RN_CMD_MEMORY) {
        rc = rn_memory(&lab); /* Part 4: steps 2 to 7 */
        rn_lab_close(&lab);
        return rc;
    }
    if (rc == 0 && a.cmd == RN_CMD_COMPILE) {
        rc = rn_compile(&lab); /* Part 5: steps 2 to 7 */
        rn_lab_close(&lab);
        return rc;
    }
    if (rc == 0 && profile) {
        rc = step2_initial_profiling(&lab);
        if (rc == 0) step3_hypothesis(&lab);
        /* The baseline starts again from the initial weights. */
        if (rc == 0 && baseline) rc = rn_lab_fresh_model(&lab);
    }
    if (rc == 0 && baseline) rc = step4_baseline_epoch(&lab);
    if (rc == 0 && a.cmd == RN_CMD_ALL) step5_optimization(&lab);
    if (rc == 0 && baseline) {
        step6_verification(&lab);
        rc = rn_results(&lab); /* the table, the result files, --save */
    }
    if (rc == 0 && a.cmd == RN_CMD_ALL) step7_key_lessons(&lab);
    /* Exit 1 when the check failed (after the results are written). */
    if (rc == 0 && baseline && !rn_lab_verified(&lab)) rc = 1;
    rn_lab_close(&lab);
    return rc;
}
