/* hybrid: each piece of work where it runs fastest, both devices at once.
 *
 * The size sweep of step 4 gives the crossover: the smallest n from which
 * one n x n product on the GPU, transfers included, beats the CPU. Below it
 * the fixed costs of the GPU (a launch, a PCIe round trip: tens of
 * microseconds) exceed the whole CPU computation. So:
 *  - the chain (n x n products, n at or above the crossover) goes to the GPU,
 *    exactly as in gpu_cublas;
 *  - the small products (64x64: far below any crossover) stay on the CPU,
 *    where their operands fit in cache and there is nothing to transfer;
 *  - the GPU part is enqueued first (asynchronous: the host gets control
 *    back at once), the CPU computes its part meanwhile, and the host waits
 *    for the GPU only at the end. The run then takes about the longer of
 *    the two parts, not their sum.
 * The decision is printed once, with the crossover it came from. */
#include "gpu_cublas.h"

extern "C" { /* C headers without extern "C" of their own */
#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "investigate.h"
#include "workload.h"
}
#include "variants.h"

/* Largest n of the short sweep setup runs when step 4 has not measured the
 * crossover: big enough to pass the crossover of any current GPU, small
 * enough to take a few seconds on the CPU. */
#define HYBRID_SWEEP_MAX_N 1024

typedef struct {
    c3_cublas_state *gpu; /* buffers and streams for the GPU parts */
    int chain_on_gpu;
    int small_on_gpu;
} hybrid_state;

static const char *where(int on_gpu)
{
    return on_gpu ? "GPU" : "CPU";
}

extern "C" int c3_hybrid_setup(const c3_workload *w, c3_output *out, void **state)
{
    const c3_config *c = &w->cfg;

    int crossover = c3_get_crossover();
    const char *source = c3_crossover_forced() ? "forced by --crossover" : "from the size sweep of step 4";
    if (crossover == 0) {
        c3_size_sweep sweep;
        c3_size_sweep_run(&sweep, HYBRID_SWEEP_MAX_N, 1);
        crossover = sweep.crossover;
        source = "measured on this machine";
        c3_set_crossover(crossover > 0 ? crossover : -1);
    }

    hybrid_state *st = (hybrid_state *)cs_calloc(sizeof *st, "hybrid state");
    if (crossover > 0) {
        st->chain_on_gpu = c->n >= crossover;
        st->small_on_gpu = c->small >= crossover;
        cs_say("  hybrid: crossover n = %d %s: chain (n = %d) on the %s, "
               "%d products of %dx%d on the %s\n",
               crossover, source, c->n, where(st->chain_on_gpu), c->batch, c->small, c->small, where(st->small_on_gpu));
    } else {
        /* The GPU with its transfers never won in the sweep: all on the CPU. */
        cs_say("  hybrid: in the size sweep the GPU never beat the CPU (transfers included): "
               "chain (n = %d) and %d products of %dx%d on the CPU\n",
               c->n, c->batch, c->small, c->small);
    }

    /* gpu_cublas's setup, for the parts that go to the GPU only. */
    int rc = c3_cublas_setup_parts(w, out, st->chain_on_gpu, st->small_on_gpu, &st->gpu);
    *state = st;
    return rc;
}

extern "C" int c3_hybrid_run(const c3_workload *w, c3_output *out, void *state)
{
    hybrid_state *st = (hybrid_state *)state;

    /* 1. Hand the GPU its work: these calls return at once. */
    cs_prof_begin("gpu enqueue");
    if (st->chain_on_gpu) c3_cublas_enqueue_chain(st->gpu, w, out);
    if (st->small_on_gpu) c3_cublas_enqueue_small(st->gpu, w, out);
    cs_prof_end();

    /* 2. The CPU's share, while the GPU works. */
    cs_prof_begin("cpu work");
    if (!st->chain_on_gpu) c3_cpu_blocked_chain(w, out);
    if (!st->small_on_gpu) c3_cpu_blocked_small(w, out);
    cs_prof_end();

    /* 3. Wait for the GPU ("sync wait": near zero when the CPU part took
     * longer than the GPU part). */
    c3_cublas_wait(st->gpu);
    return 0;
}

extern "C" void c3_hybrid_teardown(void *state, c3_output *out)
{
    hybrid_state *st = (hybrid_state *)state;
    if (!st) return;
    c3_gpu_cublas_teardown(st->gpu, out);
    cs_free(st);
}
