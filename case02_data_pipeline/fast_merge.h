/* fast: the threads' partial results merged into one, in steps in
 * proportion to the groups (fast_merge.c). */
#ifndef C2_FAST_MERGE_H
#define C2_FAST_MERGE_H

#include "fast_worker.h"
#include "pipeline.h"

/* The counters and groups of the workers (nthreads of them, at most
 * MAX_THREADS) added to out, the groups in the output's order. */
void merge_workers(worker **workers, int nthreads, c2_result *out);

#endif
