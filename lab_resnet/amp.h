/* Part 3 of the lab, `lab_resnet amp`: the same training batches from the
 * same weights in fp32, tf32 (GPU), fp16 with GradScaler's loss scaling
 * (the host reading the overflow flag, as PyTorch does, and the device
 * skipping the step itself) and bf16, each a rung of the ladder: time,
 * throughput, peak memory by category, the loss curve and the accuracy side
 * by side, told as the seven steps. */
#ifndef RN_AMP_H
#define RN_AMP_H

#include "arena.h"
#include "cs_ladder.h"
#include "lab.h"

/* Rows, in order (the names --variant accepts: options.c). */
#define RN_AMP_ROWS 5
extern const char *const rn_amp_rows[RN_AMP_ROWS];

/* What one row measured. */
typedef struct {
    cs_rung rung; /* timing of whole runs of the batches, the loss check */
    rn_precision precision;
    double images_per_s;         /* images per run / median run */
    size_t peak[RN_NCATEGORIES]; /* the model's peak bytes by category */
    size_t peak_total;           /* peak of their sum */
    double train_accuracy, test_accuracy;
    int steps;
    float *loss;           /* per step, the last run's */
    long skipped, scaled;  /* fp16: GradScaler's skipped steps and steps, the last run's */
    double final_scale;    /* fp16: the scale after the last run (NaN otherwise) */
    double loss_rel_diff;  /* the loss curve against fp32's reference, relative L2 */
    cs_check logits_check; /* the first batch's logits against fp32's */
    cs_check curve_check;  /* the loss curve against fp32's (fp16's for the device-side skip) */
} rn_amp_row;

/* The run: steps 2 to 7 after step1_scenario. Returns 0, 1 when a check
 * failed, or another exit code. */
int rn_amp(rn_lab *lab);

#endif
