/* Step 4, one more measurement: two thread pools fighting over the cores.
 *
 * cpu_blas's chain alternates an OpenBLAS product with an OpenMP stage
 * (bias + ReLU + scale + row sums). Debian's default OpenBLAS (the pthreads
 * build) runs its products on a pool of its own, whose idle workers keep
 * spinning for about 0.1 s after each call, waiting for the next one; the
 * suite's OpenMP threads do the same between parallel regions. Each pool's
 * spinners then take cores from the other's working threads. The same
 * happens in Python whenever numpy's BLAS and another threaded library take
 * turns.
 *
 * cpu_blas (the chain and the batch of small products) is timed twice, each with the same inputs and its own check:
 *   own    OpenBLAS on its own threads (what a program gets by default);
 *   suite  OpenBLAS told to use one thread, the suite's OpenMP team running
 *          the product as one call per thread (common/cs_blas_threads.h).
 * With the OpenMP build both rows run on one pool: no fight to see. */
#include "pool_fight.h"

#include <stdio.h>

#include "cpu_chain.h"
#include "variants.h"
#include "cs_blas_threads.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_gemm.h"
#include "cs_profiler.h"
#include "cs_stats.h"

#define FIGHT_RUNS 7
static const char *const fused_stage = "bias+relu+scale+rowsum (fused)";

/* Median seconds of the chain under one policy, its fused stage's median
 * share per run (from the profiler's totals), and the check's status. */
static void time_policy(const c3_workload *w, c3_output *out, cs_blas_pool pool, c3_pool_row *row)
{
    double t[FIGHT_RUNS];
    cs_blas_pool_set(pool);
    c3_cpu_blas_run(w, out, NULL); /* warm-up: threads, caches */
    double stage0 = cs_prof_total(fused_stage);
    for (int r = 0; r < FIGHT_RUNS; r++) {
        c3_output_poison(out, &w->cfg);
        double t0 = cs_now();
        c3_cpu_blas_run(w, out, NULL);
        t[r] = cs_now() - t0;
    }
    cs_stats st = cs_stats_of(t, FIGHT_RUNS);
    row->median_s = st.median;
    row->min_s = st.min;
    row->max_s = st.max;
    row->stage_s = (cs_prof_total(fused_stage) - stage0) / FIGHT_RUNS;
    row->threads = cs_blas_threads_used();
    row->check = c3_check(w, out, C3_TOL_FP32).status;
}

int c3_pool_fight_run(c3_pool_fight *f, const c3_workload *w)
{
    f->ran = 0;
    if (!cs_gemm_cblas_available() || cs_blas_layer_runtime() == CS_BLAS_LAYER_NONE) return 0;
    cs_blas_pool before = cs_blas_pool_get();
    c3_output out;
    c3_output_alloc(&out, &w->cfg);
    f->layer = cs_blas_layer_runtime();
    time_policy(w, &out, CS_BLAS_POOL_OWN, &f->own);
    time_policy(w, &out, CS_BLAS_POOL_SUITE, &f->suite);
    cs_blas_pool_set(before); /* the variants run under the chosen policy */
    c3_output_free(&out);
    f->ran = 1;
    return 0;
}

static void print_row(const char *label, const c3_pool_row *r)
{
    cs_say("    %-36s %8.2f ms (%.2f..%.2f)  fused stage %7.2f ms  %d threads  check %s\n", label, r->median_s * 1e3,
           r->min_s * 1e3, r->max_s * 1e3, r->stage_s * 1e3, r->threads, cs_check_word(r->check));
}

void c3_pool_fight_print(const c3_pool_fight *f)
{
    if (!f->ran) {
        cs_say("  Two thread pools: not measured (built without OpenBLAS).\n");
        return;
    }
    cs_say("  Two thread pools: cpu_blas's chain (product, then an OpenMP stage), OpenBLAS's\n"
           "  %s build, median of %d runs (min..max):\n",
           cs_blas_layer_name(f->layer), FIGHT_RUNS);
    print_row("BLAS on its own threads (own)", &f->own);
    print_row("BLAS on the suite's OpenMP team", &f->suite);
    /* The verdict follows the spread: when either median lies inside the
     * other row's min..max, the gap is within the noise: a tie, called one. */
    const c3_pool_row *slow = f->own.median_s >= f->suite.median_s ? &f->own : &f->suite;
    const c3_pool_row *fast = slow == &f->own ? &f->suite : &f->own;
    double ratio = fast->median_s > 0 ? slow->median_s / fast->median_s : 0;
    if (fast->median_s >= slow->min_s || slow->median_s <= fast->max_s)
        cs_say("  No measurable difference: the two rows overlap (%.2fx of medians).%s\n", ratio,
               f->layer == CS_BLAS_LAYER_OPENMP
                   ? " This OpenBLAS threads on\n  the suite's own OpenMP pool, so there is no"
                     " second pool to fight; the pthreads build\n  (Debian's default) shows it."
                   : "");
    else if (slow == &f->own)
        cs_say("  Two pools fighting: %.2fx slower when OpenBLAS keeps its own threads (its fused\n"
               "  stage %.2f ms against %.2f ms: the stage after each product runs while BLAS's\n"
               "  idle workers still spin). One pool at a time fixes it; the variants below use it.\n",
               ratio, f->own.stage_s * 1e3, f->suite.stage_s * 1e3);
    else
        cs_say("  Here OpenBLAS's own threads were %.2fx faster than the suite's team: on this\n"
               "  machine its threading beats one call per thread (CS_BLAS_POOL=own selects it).\n",
               ratio);
}
