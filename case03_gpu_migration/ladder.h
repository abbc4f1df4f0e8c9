/* The ladder of variants in teaching order, and running one of them:
 * setup, then common/cs_ladder's runner (warm-ups, timed repeats, the
 * phase table), the correctness check and the memory figure. */
#ifndef C3_LADDER_H
#define C3_LADDER_H

#include "cs_ladder.h"
#include "variants.h"

#define C3_NVARIANTS 8

/* What one rung measured: case03 records nothing beyond what every rung
 * does (common/cs_ladder.h). */
typedef cs_rung c3_run;

/* Every rung in ladder order, GPU ones too: their functions are NULL in a
 * build without CUDA (CS_CUDA_ONLY), where they never run. */
extern const c3_variant c3_ladder[C3_NVARIANTS];

/* not_here[i]: why rung i cannot run in this build (NULL: it can). */
void c3_ladder_not_here(const char *not_here[C3_NVARIANTS]);

/* Runs v on w: setup, poisoned output, warm-ups and repeats with the
 * profiler reset at the first timed run, check against the reference,
 * teardown. Returns 0 or the variant's error code. */
int c3_run_variant(const c3_variant *v, const c3_workload *w, const cs_run_opts *opts, c3_run *res);

#endif
