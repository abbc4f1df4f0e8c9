/* Part 5 of the lab, `lab_resnet compile`: what torch.compile buys, done by
 * hand, as rungs of one ladder over the same batches from the same weights:
 *   eager  Part 1's step, one operation at a time;
 *   fused  batch norm with the ReLU after it, batch norm + residual add +
 *          ReLU at each block's end, the stem's batch norm + ReLU + max
 *          pool, their backwards, and Adam on every tensor at once
 *          (model.h's rn_model_set_fused);
 *   graph  the whole step captured once as a CUDA graph and replayed (GPU).
 * Throughput, speedup over eager, peak memory, the gradients and the loss
 * curve against eager's, told as the seven steps. */
#ifndef RN_COMPILE_H
#define RN_COMPILE_H

#include "arena.h"
#include "cs_ladder.h"
#include "lab.h"

#define RN_COMPILE_ROWS 3
extern const char *const rn_compile_rows[RN_COMPILE_ROWS];

/* What one row measured. */
typedef struct {
    cs_rung rung; /* timing of whole runs of the batches, the checks */
    double images_per_s;
    size_t peak[RN_NCATEGORIES];
    size_t peak_total;
    double train_accuracy;
    int steps;
    float *loss;              /* per step, the last run's */
    double conv_s, between_s; /* per step (profiler): convolutions; the operations between them */
    double optimizer_s;       /* per step: Adam */
    cs_check grad_check;      /* the first batch's gradients against eager's */
    cs_check curve_check;     /* the loss curve against eager's */
} rn_compile_row;

/* The run: steps 2 to 7 after step1_scenario. Returns 0, 1 when a check
 * failed, or another exit code. */
int rn_compile(rn_lab *lab);

#endif
