/* Part 2 of the lab, `lab_resnet dataloader`: the same training batches
 * loaded in the training thread and by 2, 4 and 8 worker threads, then the
 * lab's four configurations (baseline, optimal workers, + pin_memory,
 * + persistent workers), each a rung of the ladder, told as the seven
 * steps. */
#ifndef RN_DATALOADER_H
#define RN_DATALOADER_H

#include "cs_ladder.h"
#include "lab.h"

/* Rows, in order (the names --variant accepts: options.c). */
#define RN_DATALOADER_ROWS 8
extern const char *const rn_dataloader_rows[RN_DATALOADER_ROWS];

/* What one row measured. */
typedef struct {
    cs_rung rung;            /* timing of whole epochs, the loss check */
    int workers;             /* the worker threads it ran with (0: in the training thread) */
    int pinned, persistent;  /* as it ran */
    double images_per_s;     /* images per epoch / median epoch, loading included */
    double lab_images_per_s; /* the lab's (loading excluded), last run */
    double data_share;       /* the step's share spent waiting for data, last run */
    double first_batch_s;    /* from the epoch's start to the first batch, last run */
    double start_s;          /* starting the worker threads, last run */
} rn_dl_row;

/* The run: steps 2 to 7 after step1_scenario. Returns 0, 1 when a check
 * failed, or another exit code. */
int rn_dataloader(rn_lab *lab);

#endif
