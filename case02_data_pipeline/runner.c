/* case02's ladder and its rung runner (runner.h). */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cs_clock.h"
#include "cs_fault.h"
#include "cs_console.h"
#include "cs_files.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "cleanup.h"

const c2_rung c2_ladder[C2_NRUNGS] = {
    {"slow", "cpu", c2_run_slow,
     "line by line: new strings per field, libc calendar, linear lookups, intermediate file", 1},
    {"views", "cpu", c2_run_views, "no per-field allocation: fields are slices of one buffer, hand-written parsers", 1},
    {"hashed", "cpu", c2_run_hashed, "hashed and cached lookups: currency, category, day, groups", 1},
    {"fused", "cpu", c2_run_fused, "one fused pass: no intermediate file", 0},
    {"columnar", "cpu", c2_run_columnar, "columnar batches: transform loops the compiler vectorizes", 0},
    {"parallel", "cpu", c2_run_parallel,
     "columnar on every core: the file mapped and cut at record boundaries, one pass per thread, results merged", 0},
    {"fast", "cpu", c2_run_fast,
     "each thread's work rewritten: SIMD row splitting, word-at-a-time values, no allocation per row, lookups "
     "prefetched",
     0},
};

typedef struct {
    const c2_rung *r;
    const c2_job *job;
} timed_ctx;

/* A timed run is the job end to end, output included: the rung, then its
 * groups sorted and written as CSV with the summary, as the real job
 * would. They go to scratch files in the temporary folder (removed right
 * after), so the timed runs leave nothing behind; the output folder gets
 * the reference's files once, at the end. */
static int write_scratch_output(const c2_result *res)
{
    const char *tmpdir = getenv("TMPDIR");
    char groups[CS_PATH_MAX], summary[CS_PATH_MAX];
    snprintf(groups, sizeof groups, "%s/case02_timed_groups_%ld.csv", tmpdir && *tmpdir ? tmpdir : "/tmp",
             (long)getpid());
    snprintf(summary, sizeof summary, "%s/case02_timed_summary_%ld.csv", tmpdir && *tmpdir ? tmpdir : "/tmp",
             (long)getpid());
    c2_cleanup_add(groups); /* removed if the run is interrupted */
    c2_cleanup_add(summary);
    int rc = c2_write_groups_csv(res, groups) != 0 || c2_write_summary(res, summary) != 0 ? 3 : 0;
    c2_cleanup_remove(groups);
    c2_cleanup_remove(summary);
    return rc;
}

static int run_timed(void *p)
{
    timed_ctx *c = p;
    c2_result tmp;
    c2_result_init(&tmp);
    int rc = c->r->fn(c->job, &tmp);
    if (rc == 0) {
        c2_result_sort(&tmp);
        rc = write_scratch_output(&tmp);
    }
    c2_result_free(&tmp);
    return rc;
}

/* The tests' faults (CS_FAULT_INJECT), each a bug the comparison must catch
 * in the named rung's result: "<rung>" one cent too many in the first
 * group's sum; "<rung>_reject" one rejected row counted under the next
 * reason; "<rung>_hour" one accepted row counted in the next hour. */
static void inject_faults(const char *rung, c2_result *res)
{
    if (cs_fault_injected(rung) && res->ngroups > 0) res->groups[0].sum_cents += 1;
    if (cs_fault_injected_for(rung, "reject"))
        for (int i = 0; i + 1 < C2_NREASONS; i++)
            if (res->rejected[i] > 0) {
                res->rejected[i]--;
                res->rejected[i + 1]++;
                break;
            }
    if (cs_fault_injected_for(rung, "hour"))
        for (int h = 0; h < 24; h++)
            if (res->hours[h] > 0) {
                res->hours[h]--;
                res->hours[(h + 1) % 24]++;
                break;
            }
}

/* The first run is instrumented (phase profiler on) and serves as the
 * warm-up; the timed runs follow with the profiler off, so its cost (two
 * clock reads per region) never enters the figures. */
int c2_run_rung(const c2_rung *r, const c2_job *job, const cs_run_opts *opts, c2_rung_run *out)
{
    memset(out, 0, sizeof *out);
    cs_rung_start(&out->base, r->name, r->device, r->lesson);
    out->r = r;
    c2_result_init(&out->result);
    cs_prof_lane(r->name);
    cs_prof_reset();
    cs_prof_enable(1);
    /* Peak memory of the rung: the high-water mark of the resident set
     * during its run, above what the process held just before it (not
     * cs_rung_memory: the rungs allocate with plain malloc, untracked).
     * Memory the earlier rungs freed is handed back to the system first
     * (malloc_trim), or the allocator would reuse it unseen. */
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    size_t before = cs_current_rss_bytes();
    cs_peak_rss_reset();
    double t0 = cs_now();
    int rc = r->fn(job, &out->result);
    out->instrumented_s = cs_now() - t0;
    size_t peak = cs_peak_rss_since_reset();
    out->base.peak_mem = peak > before ? peak - before : 0;
    if (rc) return rc;
    /* The phases shown are this instrumented run's: the timed runs below,
     * with the profiler off, leave them as they are (cs_rung_time). */
    out->base.nphases = cs_prof_entries(out->base.phases, CS_PROF_MAX_NAMES);
    c2_result_sort(&out->result);
    inject_faults(r->name, &out->result);

    cs_prof_enable(0);
    cs_run_opts o = *opts;
    o.warmup = opts->warmup > 0 ? opts->warmup - 1 : 0;
    timed_ctx ctx = {r, job};
    rc = cs_rung_time(&out->base, run_timed, &ctx, &o);
    cs_prof_enable(1);
    return rc;
}

int c2_time_rung(const c2_rung *r, const c2_job *job, const cs_run_opts *opts, cs_timing *t)
{
    timed_ctx ctx = {r, job};
    return cs_run(run_timed, &ctx, opts, t);
}

void c2_print_rung(const c2_rung_run *rr, double mb)
{
    if (cs_brief()) return;
    char med[32], peak[32];
    double med_s = rr->base.timing.time.median;
    cs_say("  %s%s%s (%s)\n    median %s over %d runs: %.0f records/s, %.0f MB/s; peak memory added %s\n",
           cs_col_bold(), rr->base.name, cs_col_reset(), rr->base.lesson, cs_format_time(med_s, med, sizeof med),
           rr->base.timing.repeats, (double)rr->result.rows / med_s, mb / med_s,
           cs_format_bytes((double)rr->base.peak_mem, peak, sizeof peak));
    cs_say("    phases of the instrumented first run (%.2f s, profiler on):\n", rr->instrumented_s);
    /* re-create the table from the stored entries */
    cs_prof_reset();
    for (int i = 0; i < rr->base.nphases; i++) cs_prof_add(rr->base.phases[i].name, rr->base.phases[i].total_s);
    cs_prof_print_table(stdout, 1, rr->instrumented_s);
}

double c2_phase_of(const c2_rung_run *rr, const char *name)
{
    for (int i = 0; i < rr->base.nphases; i++)
        if (strcmp(rr->base.phases[i].name, name) == 0) return rr->base.phases[i].total_s;
    return 0;
}
