/* lab_resnet: the Week 13 lab's ResNet-18 training loop, Part 1: baseline
 * and profile, Part 2: data loading, Part 3: mixed precision, Part 4: memory,
 * Part 5: compilation, Part 6: the comparison (see docs/lab_resnet.md).
 *
 *   lab_resnet                 the seven steps: profile, then the baseline epoch
 *   lab_resnet baseline        one epoch (or --batches N) with its figures
 *   lab_resnet profile         the first --profile-batches batches, profiled
 *   lab_resnet check-step      one step on fixed data, written as CSV for PyTorch
 *   lab_resnet dataloader      Part 2: workers, pinned memory, persistent workers
 *   lab_resnet amp             Part 3: fp32, tf32, fp16 with GradScaler, bf16
 *   lab_resnet memory          Part 4: gradient accumulation, checkpointing, the largest batch
 *   lab_resnet compile         Part 5: eager, fused operations, CUDA graph replay
 *   lab_resnet compare         Part 6: the techniques together, the dashboard and the report
 *   lab_resnet all             Parts 1 to 6 in order, each in its own folder
 *   lab_resnet export          the model as ONNX (--onnx FILE)
 *   mpirun -np N lab_resnet ddp  data-parallel training over MPI's ranks (distributed lab)
 *   lab_resnet --generate DIR  write the generated data set in CIFAR-10's format
 *
 * The options are in options.c, the run's device, data and model in lab.c,
 * the narration of each step in steps.c. */
#include "lab.h"

#include <stdio.h>
#include <string.h>

#include "all.h"
#include "amp.h"
#include "compare.h"
#include "comm.h"
#include "compile.h"
#include "cs_console.h"
#include "dataloader.h"
#include "ddp.h"
#include "memory.h"
#include "options.h"
#include "steps.h"

static int run_lab(int argc, char **argv)
{
    /* The options, and what can be checked before any work: the files
     * named, then the results' place. */
    rn_args a;
    int rc = rn_options_parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (a.generate_dir) return rn_generate_data(&a);
    /* ddp: rank 0 alone writes the results (two ranks probing one folder
     * at once would trip over each other's probe). */
    if ((a.cmd != RN_CMD_DDP || rn_comm_rank() == 0) && (rc = rn_options_check_out(&a)) != 0) return rc;
    if (a.cmd == RN_CMD_DDP && (rc = rn_ddp_choose_device(&a)) != 0) return rc;

    /* The device, the data (generated, or CIFAR-10's files), the model. */
    rn_lab lab;
    rc = rn_lab_open(&lab, &a);
    if (rc == 0 && a.cmd == RN_CMD_CHECK_STEP) {
        rc = rn_lab_check_step(&lab);
        rn_lab_close(&lab);
        return rc;
    }
    if (rc == 0 && a.cmd == RN_CMD_EXPORT) {
        rc = rn_lab_export(&lab);
        rn_lab_close(&lab);
        return rc;
    }
    int profile = a.cmd == RN_CMD_ALL || a.cmd == RN_CMD_PROFILE;
    int baseline = a.cmd == RN_CMD_ALL || a.cmd == RN_CMD_BASELINE;

    if (rc == 0) step1_scenario(&lab);
    if (rc == 0) switch (a.cmd) {
        case RN_CMD_DATALOADER: rc = rn_dataloader(&lab); break; /* Part 2: steps 2 to 7 */
        case RN_CMD_AMP: rc = rn_amp(&lab); break;               /* Part 3 */
        case RN_CMD_MEMORY: rc = rn_memory(&lab); break;         /* Part 4 */
        case RN_CMD_COMPILE: rc = rn_compile(&lab); break;       /* Part 5 */
        case RN_CMD_COMPARE: rc = rn_compare(&lab); break;       /* Part 6 */
        case RN_CMD_EVERY: rc = rn_all(&lab); break;             /* Parts 1 to 6 */
        case RN_CMD_DDP: rc = rn_ddp(&lab); break;               /* the distributed lab */
        default: rc = rn_part1(&lab, profile, baseline); break;  /* Part 1 */
        }
    rn_lab_close(&lab);
    return rc;
}

int main(int argc, char **argv)
{
    /* ddp starts MPI before anything else reads argv or prints. */
    int ddp = argc > 1 && strcmp(argv[1], "ddp") == 0;
    int rc = rn_ddp_start(&argc, &argv);
    if (rc == 0) rc = run_lab(argc, argv);
    return ddp ? rn_ddp_end(rc) : rc;
}
