/* cs_run: warm-ups and repeats are counted, sync is called around each
 * timed run, the budget lowers the repeat count (and says so), and an error
 * from the work function comes back with what was measured so far. */
#include "cs_runner.h"
#include "cs_test.h"

#include <time.h>

typedef struct {
    int calls;
    int fail_at;    /* call number that returns 5 (0: never) */
    double sleep_s; /* each call sleeps this long */
} work_ctx;

static int work(void *p)
{
    work_ctx *w = p;
    w->calls++;
    if (w->sleep_s > 0) {
        struct timespec ts = {0, (long)(w->sleep_s * 1e9)};
        nanosleep(&ts, NULL);
    }
    return w->calls == w->fail_at ? 5 : 0;
}

static int sync_calls;
static void count_sync(void)
{
    sync_calls++;
}

int main(void)
{
    cs_run_opts d = cs_run_defaults();
    CHECK(d.warmup == 1 && d.repeats == 5 && d.min_repeats == 3);
    CHECK(d.budget_s == 0.0 && d.sync == NULL);

    /* warm-ups + repeats, and the sync hook before every clock read */
    work_ctx w = {0};
    cs_run_opts o = cs_run_defaults();
    o.warmup = 2;
    o.repeats = 7;
    o.sync = count_sync;
    cs_timing t;
    CHECK(cs_run(work, &w, &o, &t) == 0);
    CHECK(w.calls == 9);
    CHECK(t.warmup == 2 && t.repeats == 7 && t.reduced == 0);
    CHECK(t.time.n == 7);
    CHECK(t.time.min >= 0 && t.time.min <= t.time.median && t.time.median <= t.time.max);
    CHECK(sync_calls == 2 * 9); /* before and after each of the 9 runs */

    /* budget: ~20 ms per run, 0.05 s budget, 10 asked -> floor(2.5) = 2,
     * raised to min_repeats 3 */
    w = (work_ctx){.sleep_s = 0.02};
    o = cs_run_defaults();
    o.repeats = 10;
    o.budget_s = 0.05;
    CHECK(cs_run(work, &w, &o, &t) == 0);
    CHECK(t.repeats == 3);
    CHECK(t.reduced == 1);
    CHECK(w.calls == 1 + 3);
    CHECK(t.time.median >= 0.019);  /* the sleep is really timed */
    CHECK(t.cpu_s < t.time.median); /* sleeping uses little CPU */

    /* no warm-up: the first timed run is the estimate */
    w = (work_ctx){.sleep_s = 0.02};
    o.warmup = 0;
    CHECK(cs_run(work, &w, &o, &t) == 0);
    CHECK(t.warmup == 0 && t.repeats == 3 && t.reduced == 1);
    CHECK(w.calls == 3);

    /* a generous budget changes nothing */
    w = (work_ctx){0};
    o = cs_run_defaults();
    o.budget_s = 100.0;
    CHECK(cs_run(work, &w, &o, &t) == 0);
    CHECK(t.repeats == 5 && t.reduced == 0);

    /* min_repeats above repeats is capped at repeats */
    w = (work_ctx){.sleep_s = 0.02};
    o = cs_run_defaults();
    o.repeats = 2;
    o.min_repeats = 4;
    o.budget_s = 0.001;
    CHECK(cs_run(work, &w, &o, &t) == 0);
    CHECK(t.repeats == 2 && t.reduced == 0);

    /* an error in a timed run: its code, and the runs before it */
    w = (work_ctx){.fail_at = 4};
    o = cs_run_defaults();
    CHECK(cs_run(work, &w, &o, &t) == 5);
    CHECK(w.calls == 4); /* stopped at the failing call */
    CHECK(t.warmup == 1 && t.repeats == 2 && t.time.n == 2);

    /* an error in the warm-up: nothing timed */
    w = (work_ctx){.fail_at = 1};
    CHECK(cs_run(work, &w, &o, &t) == 5);
    CHECK(w.calls == 1 && t.repeats == 0 && t.warmup == 0);

    return cs_test_done();
}
