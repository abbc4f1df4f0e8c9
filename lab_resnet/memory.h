/* Part 4 of the lab, `lab_resnet memory`: the same batches from the same
 * weights with gradient accumulation (1, 2, 4 and 8 batches per optimizer
 * step) and with gradient checkpointing off and on, each a rung of the
 * ladder: time, throughput, effective batch and peak memory by category;
 * with --mem-budget MB the largest batch that fits for fp32, AMP,
 * checkpointing and both; told as the seven steps. */
#ifndef RN_MEMORY_H
#define RN_MEMORY_H

#include "arena.h"
#include "cs_ladder.h"
#include "lab.h"

/* Rows, in order (the names --variant accepts: options.c). */
#define RN_MEMORY_ROWS 6
extern const char *const rn_memory_rows[RN_MEMORY_ROWS];

/* What one row measured. */
typedef struct {
    cs_rung rung; /* timing of whole runs of the batches, the checks */
    int accum, checkpoint;
    int effective_batch;         /* images per optimizer step: accum x --batch */
    int steps, optimizer_steps;  /* batches trained, and optimizer steps taken, per run */
    double images_per_s;         /* images per run / median run */
    size_t peak[RN_NCATEGORIES]; /* the model's peak bytes by category */
    size_t peak_total;           /* peak of their sum */
    double recompute_s;          /* per batch: checkpointing's forward again, from the profiler */
    double final_loss;           /* mean loss of the last tenth of the batches, the last run's */
    float *loss;                 /* per batch, the last run's */
    cs_check first_loss;         /* batch 0's loss (the initial weights) against the reference run's */
    cs_check curve;              /* one step per batch: every loss against the reference run's */
    cs_check accumulated;        /* accum > 1: the first group's gradients against their separate sum */
} rn_memory_row;

/* The run: steps 2 to 7 after step1_scenario. Returns 0, 1 when a check
 * failed, or another exit code. */
int rn_memory(rn_lab *lab);

#endif
