/* cs_ladder: which rungs run and why the others do not, the profiler
 * covering exactly the timed runs, per-run phase seconds, the fault hook,
 * and the report row built from a rung. */
#include "cs_fault.h"
#include "cs_ladder.h"
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_memory.h"

typedef struct {
    const char *name, *device;
    int (*fn)(void *);
} toy_rung;

static int calls;
static int work(void *ctx)
{
    (void)ctx;
    calls++;
    cs_prof_add("phase", 0.5); /* every run adds half a second to "phase" */
    return 0;
}
static int failing(void *ctx)
{
    (void)ctx;
    return 4;
}

static const toy_rung table[] = {
    {"cpu_slow", "cpu", work}, {"cpu_fast", "cpu", work}, {"gpu_fast", "gpu", CS_CUDA_ONLY(work)}};

int main(void)
{
    const char *names[3], *devices[3];
    CS_LADDER_NAMES(table, 3, names, devices);
    CHECK(strcmp(names[2], "gpu_fast") == 0 && strcmp(devices[2], "gpu") == 0);

    /* every rung selected, no GPU: the GPU rung is skipped with the reason */
    cs_options opt = {0};
    snprintf(opt.device, sizeof opt.device, "auto");
    int todo[3];
    const char *skip[3];
    const char *not_here[3] = {NULL, "built without it", NULL};
    int n = cs_ladder_select(&opt, names, devices, NULL, 3, 0, "no CUDA device", todo, skip);
    CHECK(n == 2 && todo[0] == 0 && todo[1] == 1);
    CHECK(skip[0] == NULL && skip[2] != NULL && strcmp(skip[2], "no CUDA device") == 0);
    /* a rung this build cannot run: skipped with its own reason */
    n = cs_ladder_select(&opt, names, devices, not_here, 3, 1, "", todo, skip);
    CHECK(n == 2 && todo[0] == 0 && todo[1] == 2 && strcmp(skip[1], "built without it") == 0);
    /* --device cpu: GPU rungs neither run nor get a skip line */
    snprintf(opt.device, sizeof opt.device, "cpu");
    n = cs_ladder_select(&opt, names, devices, NULL, 3, 1, "", todo, skip);
    CHECK(n == 2 && skip[2] == NULL);
    /* --device gpu: only the GPU rung */
    snprintf(opt.device, sizeof opt.device, "gpu");
    n = cs_ladder_select(&opt, names, devices, NULL, 3, 1, "", todo, skip);
    CHECK(n == 1 && todo[0] == 2);

    /* the profiler covers the timed runs only: 2 warm-ups + 4 repeats, 4 x 0.5 s */
    cs_prof_enable(1);
    cs_rung r;
    cs_rung_start(&r, "cpu_fast", "cpu", "the lesson");
    cs_run_opts o = cs_run_defaults();
    o.warmup = 2;
    o.repeats = 4;
    CHECK(cs_rung_time(&r, work, NULL, &o) == 0);
    CHECK(calls == 6 && r.ran == 1 && r.timing.repeats == 4);
    CHECK(r.nphases >= 1);
    CHECK(cs_rung_phase_seconds(&r, "phase") > 0.49 && cs_rung_phase_seconds(&r, "phase") < 0.51);
    CHECK(cs_rung_phase_seconds(&r, "absent") == 0.0);

    /* with the profiler off the phases recorded before stay as they are
     * (a case that profiles one run of its own, then times with it off) */
    cs_prof_enable(0);
    int before = r.nphases;
    CHECK(cs_rung_time(&r, work, NULL, &o) == 0);
    CHECK(r.nphases == before && cs_rung_phase_seconds(&r, "phase") > 0.0);
    cs_prof_enable(1);

    /* an error comes back, and the rung is not marked as run */
    cs_rung bad;
    cs_rung_start(&bad, "cpu_slow", "cpu", "");
    CHECK(cs_rung_time(&bad, failing, NULL, &o) == 4 && bad.ran == 0);

    /* memory added since the start, above what was held before */
    cs_rung m;
    cs_rung_start(&m, "cpu_slow", "cpu", "");
    void *block = cs_alloc(1 << 20, "test");
    CHECK(cs_rung_memory(&m) >= (1u << 20));
    cs_free(block);

    /* the fault hook names one rung */
    setenv("CS_FAULT_INJECT", "cpu_fast", 1);
    CHECK(cs_fault_injected("cpu_fast") == 1 && cs_fault_injected("cpu_slow") == 0);
    unsetenv("CS_FAULT_INJECT");
    CHECK(cs_fault_injected("cpu_fast") == 0);

    /* the report row carries the rung's figures */
    cs_report rep;
    cs_report_init(&rep, "test");
    r.peak_mem = 1234;
    r.check.status = CS_CHECK_PASS;
    cs_result *row = cs_rung_report(&rep, &r, 10.0, "items/s", 99.0, "a ceiling");
    CHECK(rep.n == 1 && strcmp(row->variant, "cpu_fast") == 0 && strcmp(row->device, "cpu") == 0);
    CHECK(row->ran == 1 && row->work == 10.0 && strcmp(row->unit, "items/s") == 0);
    CHECK(row->ceiling == 99.0 && strcmp(row->ceiling_name, "a ceiling") == 0);
    CHECK(row->peak_mem == 1234 && row->check.status == CS_CHECK_PASS);
    CHECK(row->timing.repeats == 4);
    return cs_test_done();
}
