/* Step 4 of case03: cpu_blas timed with OpenBLAS on its own threads and on
 * the suite's OpenMP team (see pool_fight.c). */
#ifndef C3_POOL_FIGHT_H
#define C3_POOL_FIGHT_H

#include "cs_blas_threads.h"
#include "cs_compare.h"
#include "workload.h"

typedef struct {
    double median_s, min_s, max_s; /* one cpu_blas run */
    double stage_s;                /* its fused OpenMP stage, per run */
    int threads;                   /* BLAS threads under this policy */
    cs_check_status check;
} c3_pool_row;

typedef struct {
    int ran; /* 0: built without OpenBLAS */
    cs_blas_layer layer;
    c3_pool_row own, suite;
} c3_pool_fight;

/* Times both policies and restores the one in force. Returns 0. */
int c3_pool_fight_run(c3_pool_fight *f, const c3_workload *w);
/* The two rows and a verdict chosen from their medians and spreads. */
void c3_pool_fight_print(const c3_pool_fight *f);

#endif
