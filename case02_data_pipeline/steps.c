/* The seven steps of case02's case study (steps.h): what each prints, and
 * the measurements behind it. Every figure printed comes from this run. */
#include "steps.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_clock.h"
#include "cs_fault.h"
#include "cs_console.h"
#include "cs_profiler.h"
#include "cleanup.h"
#include "group_growth.h"
#include "read_ceiling.h"

/* ---- before the steps: settings, input, reference ---------------------------- */

int c2_study_begin(c2_study *s, c2_args *a, const cs_options *opt)
{
    memset(s, 0, sizeof *s);
    s->args = a;
    s->opt = opt;
    c2_result_init(&s->reference);
    if (cs_check_writable_dir(opt->out_dir) != 0) return 2;

    s->run_opts = cs_run_defaults();
    s->run_opts.warmup = opt->warmup >= 0 ? opt->warmup : 1;
    /* 15 by default: the fast rungs take tens of milliseconds, and on a shared
     * machine a median of 5 moves with every neighbour's burst; the budget
     * below keeps the slow rungs to a few runs. */
    s->run_opts.repeats = opt->repeat > 0 ? opt->repeat : (opt->quick ? 3 : 15);
    s->run_opts.budget_s = opt->quick ? 1.5 : 6.0;
    cs_sysinfo_get(&s->sys);

    /* Which rungs run: those --variant selects, in ladder order (every rung
     * runs on the CPU, so none is skipped). */
    const char *names[C2_NRUNGS], *devices[C2_NRUNGS], *skip[C2_NRUNGS];
    CS_LADDER_NAMES(c2_ladder, C2_NRUNGS, names, devices);
    s->ntodo = cs_ladder_select(opt, names, devices, NULL, C2_NRUNGS, 0, NULL, s->todo, skip);
    s->runs = calloc(C2_NRUNGS, sizeof *s->runs); /* one per rung that ran */
    if (!s->runs) {
        cs_error("out of memory");
        return 3;
    }
    return 0;
}

/* A CSV of --rows rows from the seed, under a name no other file has
 * (mkstemps creates it), removed at the end or when the run is interrupted. */
static int generate_input(c2_study *s)
{
    c2_args *a = s->args;
    snprintf(s->generated, sizeof s->generated, "%s/%s_XXXXXX.csv", s->tmp_dir, C2_PROG);
    int fd = mkstemps(s->generated, 4);
    if (fd < 0) {
        cs_error("%s: cannot create a temporary file there: %s", s->tmp_dir, strerror(errno));
        s->generated[0] = '\0'; /* nothing to remove */
        return 2;
    }
    close(fd);
    c2_cleanup_add(s->generated);
    a->gen.rows = a->rows;
    a->gen.seed = s->opt->seed;
    cs_progress("generating %lld rows", a->rows);
    double t0 = cs_now();
    int rc = c2_generate(s->generated, &a->gen);
    s->gen_s = cs_now() - t0;
    cs_progress_done();
    if (rc) return rc;
    s->path = s->generated;
    return 0;
}

int c2_prepare_input(c2_study *s)
{
    int rc;
    s->tmp_dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    s->path = s->args->input;
    if (!s->path && (rc = generate_input(s)) != 0) return rc;
    s->job = (c2_job){.path = s->path, .tmp_dir = s->tmp_dir, .threads = s->opt->threads};
    rc = c2_read_header(s->path, &s->job.header);
    if (rc) return rc;
    struct stat st;
    stat(s->path, &st);
    s->job.file_bytes = st.st_size;
    s->mb = s->job.file_bytes / 1e6;

    /* The reference: the job done once by plain code (reference.c), timed
     * here so step 6 can show what the check costs. */
    cs_progress("the reference pass");
    double t0 = cs_now();
    rc = c2_reference(&s->job, &s->reference);
    s->ref_s = cs_now() - t0;
    cs_progress_done();
    if (rc) return rc;
    c2_result_sort(&s->reference);
    /* Test hook (as for the rungs): a wrong reference fails every rung. */
    if (cs_fault_injected("reference") && s->reference.ngroups > 0) s->reference.groups[0].sum_cents += 1;
    return 0;
}

/* ---- 1. Scenario ---------------------------------------------------------------- */

void step1_scenario(c2_study *s)
{
    const c2_args *a = s->args;
    cs_step(1, "Scenario");
    cs_say("  \"My data pipeline can't keep up with incoming data.\" The nightly ETL job reads card\n"
           "  transactions, rejects malformed rows, converts every amount to US cents, and sums them by\n"
           "  day and category. One record at a time, it cannot keep up with a million records an hour.\n");
    if (s->generated[0]) {
        cs_say("  Input: %lld generated rows (seed %llu, %.1f%% malformed", a->rows, (unsigned long long)s->opt->seed,
               100 * a->gen.malformed);
        if (a->gen.categories || a->gen.spellings || a->gen.days || a->gen.zipf > 0) {
            int cats, spellings, days;
            c2_gen_shape(&a->gen, &cats, &spellings, &days);
            cs_say("; %d categories in %d spellings over %d days, ", cats, spellings, days);
            if (a->gen.zipf > 0)
                cs_say("Zipf %g", a->gen.zipf);
            else
                cs_say("uniform");
        }
        cs_say("), %.1f MB, written in %.2f s\n", s->mb, s->gen_s);
    } else
        cs_say("  Input: %s, %.1f MB\n", s->path, s->mb);
    cs_say("  %lld rows summed into %zu (day, category) groups\n", (long long)s->reference.rows, s->reference.ngroups);
    if (!cs_brief()) cs_sysinfo_print(stdout, &s->sys);
}

/* ---- 2. Initial profiling ------------------------------------------------------- */

/* Runs rung r as the next of s->runs and prints its lines. */
static int run_next(c2_study *s, const c2_rung *r)
{
    c2_rung_run *rr = &s->runs[s->nruns];
    cs_progress("running %s", r->name);
    int rc = c2_run_rung(r, &s->job, &s->run_opts, rr);
    cs_progress_done();
    if (rc) {
        c2_result_free(&rr->result);
        return rc;
    }
    c2_print_rung(rr, s->mb);
    s->nruns++;
    return 0;
}

int step2_initial_profiling(c2_study *s)
{
    cs_step(2, "Initial profiling");
    s->next = 0;
    if (s->ntodo > 0 && c2_ladder[s->todo[0]].staged) {
        int rc = run_next(s, &c2_ladder[s->todo[0]]);
        if (rc) return rc;
        s->next = 1;
    } else {
        cs_say("  (the slow rung was not selected)\n");
    }
    return 0;
}

/* ---- 3. Hypothesis -------------------------------------------------------------- */

void step3_hypothesis(c2_study *s)
{
    cs_step(3, "Hypothesis");
    if (s->nruns == 0) return;
    const c2_rung_run *r = &s->runs[0];
    double tot = r->instrumented_s, med = r->base.timing.time.median;
    double ex = c2_phase_of(r, "extract"), tr = c2_phase_of(r, "transform"), lo = c2_phase_of(r, "load");
    cs_say("  %s processed %.0f records/s (%.1f MB/s). Its time: extract %.0f%%, transform %.0f%%,\n"
           "  load %.0f%%. Every stage is busy with per-record overhead (allocations, library calls,\n"
           "  linear searches, a second pass over an intermediate file), not with the bytes: the\n"
           "  hypothesis is that the job is CPU-bound by that overhead, far below what the machine\n"
           "  can read. Step 4 tests it.\n",
           r->base.name, r->result.rows / med, s->mb / med, tot > 0 ? 100 * ex / tot : 0, tot > 0 ? 100 * tr / tot : 0,
           tot > 0 ? 100 * lo / tot : 0);
}

/* ---- 4. Investigation ----------------------------------------------------------- */

/* slow's per-record work depends on the data too: its groups are a list
 * searched from the head for every row. */
static int group_growth(const c2_study *s)
{
    c2_group_growth gg;
    int rc = c2_measure_group_growth(&gg);
    if (rc) return rc;
    cs_say("  And the groups: slow adds each row to its (day, category) group by walking a list of every\n"
           "  group so far; hashed looks it up in a hash table. Each store alone, rows spread over G groups:\n"
           "    %8s %16s %16s\n",
           "groups", "slow's list", "hashed's table");
    for (int i = 0; i < C2_GROWTH_POINTS; i++)
        cs_say("    %8d %13.0f ns %13.0f ns  per row\n", gg.groups[i], gg.list_ns[i], gg.table_ns[i]);
    int last = C2_GROWTH_POINTS - 1;
    cs_say("  From %d to %d groups the list's time per row grew %.0fx, the table's %.1fx. slow's cost\n"
           "  per row depends on how many groups the data has (this file: %zu).\n",
           gg.groups[0], gg.groups[last], gg.list_ns[last] / gg.list_ns[0], gg.table_ns[last] / gg.table_ns[0],
           s->reference.ngroups);
    return 0;
}

int step4_investigation(c2_study *s)
{
    cs_step(4, "Investigation");
    c2_read_rate rr;
    int rc = c2_measure_read_rate(s->path, 3, &rr);
    if (rc) return rc;
    s->read_records_s =
        rr.all_threads_gbs * 1e9 / (double)(s->job.file_bytes > 0 ? s->job.file_bytes : 1) * (double)rr.newlines;
    cs_say("  Just reading the file (page cache, 4 MiB blocks, counting newlines): %.2f GB/s on one thread,\n"
           "  %.2f GB/s on %d threads, i.e. %.0f records/s.\n",
           rr.one_thread_gbs, rr.all_threads_gbs, rr.threads, s->read_records_s);
    if (s->nruns > 0)
        cs_say("  %s runs at %.2f%% of that: the hypothesis holds; the cost is in the per-record work.\n",
               s->runs[0].base.name, 100 * (s->mb / s->runs[0].base.timing.time.median) / (rr.all_threads_gbs * 1e3));
    /* Shown when slow ran. */
    if (s->nruns > 0 && s->runs[0].r == &c2_ladder[0]) return group_growth(s);
    return 0;
}

/* ---- 5. Optimization ------------------------------------------------------------ */

/* fast timed on 1, 2, ... threads (up to the hardware threads, at least 2),
 * the profiler off. */
static int thread_scaling(c2_study *s, const c2_rung_run *fast_run)
{
    int maxt = s->sys.threads > 1 ? s->sys.threads : 2;
    if (maxt > C2_MAX_THREAD_POINTS) maxt = C2_MAX_THREAD_POINTS;
    cs_say("  Thread scaling of fast:\n");
    cs_prof_enable(0);
    for (int t = 1; t <= maxt; t++) {
        c2_job jt = s->job;
        jt.threads = t;
        cs_timing tm;
        cs_run_opts o = s->run_opts;
        o.warmup = 1;
        int rc = c2_time_rung(fast_run->r, &jt, &o, &tm);
        if (rc) return rc;
        int n = s->nscale;
        s->scale_threads[n] = t;
        s->scale_rate[n] = fast_run->result.rows / tm.time.median;
        cs_say("    %2d thread%s %12.0f records/s  %8.0f MB/s  (%.2fx one thread)\n", t, t > 1 ? "s" : " ",
               s->scale_rate[n], s->mb / tm.time.median, s->scale_rate[n] / s->scale_rate[0]);
        s->nscale++;
    }
    cs_prof_enable(1);
    if (maxt > s->sys.cores) cs_say("    (more threads than the %d cores: the extra ones share cores)\n", s->sys.cores);
    return 0;
}

int step5_optimization(c2_study *s)
{
    cs_step(5, "Optimization");
    for (; s->next < s->ntodo; s->next++) {
        int rc = run_next(s, &c2_ladder[s->todo[s->next]]);
        if (rc) return rc;
    }
    const c2_rung_run *fast_run = NULL;
    for (int i = 0; i < s->nruns; i++)
        if (strcmp(s->runs[i].base.name, "fast") == 0) fast_run = &s->runs[i];
    return fast_run ? thread_scaling(s, fast_run) : 0;
}

/* ---- 6. Verification ------------------------------------------------------------ */

/* Rung r's output against the reference: its PASS/FAIL line and its report
 * row. Returns 1 when it differs. */
static int check_rung(c2_study *s, c2_rung_run *r)
{
    int differs = c2_result_compare(&r->result, &s->reference, r->diff, sizeof r->diff);
    /* The largest difference in cents over the groups, when the two have
     * the same groups with the same counts (else a count differs, and the
     * message says which). */
    double error = c2_result_max_error(&r->result, &s->reference);
    cs_check *c = &r->base.check;
    c->status = differs ? CS_CHECK_FAIL : CS_CHECK_PASS;
    c->n = r->result.ngroups;
    c->max_abs = error >= 0 ? error : NAN;
    c->rel_l2 = differs ? NAN : 0;
    c->tol = 0;
    char err_text[48];
    if (error >= 0)
        snprintf(err_text, sizeof err_text, "max error %.0f cents", error);
    else
        snprintf(err_text, sizeof err_text, "groups or counts differ");
    cs_say("  %-9s %s%s%s  %s (tolerance 0)%s%s\n", r->base.name, differs ? cs_col_fail() : cs_col_pass(),
           differs ? "FAIL" : "PASS", cs_col_reset(), err_text, differs ? ": " : "", differs ? r->diff : "");
    cs_rung_report(&s->report, &r->base, (double)r->result.rows, "records/s", s->read_records_s, "reading the file");
    return differs;
}

/* The reference's rows: accepted, and rejected by reason. */
static void print_rejections(const c2_result *ref)
{
    int64_t rej = 0;
    for (int k = 0; k < C2_NREASONS; k++) rej += ref->rejected[k];
    cs_say("  %lld rows: %lld accepted, %lld rejected (", (long long)ref->rows, (long long)ref->accepted,
           (long long)rej);
    for (int k = 0, first = 1; k < C2_NREASONS; k++)
        if (ref->rejected[k]) {
            cs_say("%s%s %lld", first ? "" : ", ", c2_reason_names[k], (long long)ref->rejected[k]);
            first = 0;
        }
    cs_say("); %zu groups\n", ref->ngroups);
}

void step6_verification(c2_study *s)
{
    cs_step(6, "Verification");
    cs_report *rep = &s->report;
    cs_report_init(rep, C2_PROG);
    cs_report_config(rep, "input", "%s", s->generated[0] ? "generated" : s->path);
    cs_report_config(rep, "rows", "%lld", s->nruns ? (long long)s->runs[0].result.rows : 0LL);
    cs_report_config(rep, "bytes", "%lld", (long long)s->job.file_bytes);
    cs_report_config(rep, "seed", "%llu", (unsigned long long)s->opt->seed);
    cs_report_config(rep, "threads", "%d", s->sys.threads);
    cs_report_config(rep, "quick", "%d", s->opt->quick);
    /* Every rung, slow included, against the reference (reference.c), computed
     * once before step 1: a plain pass whose cost grows with the rows only. */
    cs_say("  Every rung's output (groups, counts, rejections by reason, hour histogram) against the\n"
           "  reference (reference.c: the job written plainly, one pass, %.2f s for this file). The\n"
           "  figures are integer cents, so the tolerance is 0 cents:\n",
           s->ref_s);
    for (int i = 0; i < s->nruns; i++) s->failed |= check_rung(s, &s->runs[i]);
    print_rejections(&s->reference);
    cs_report_finish(rep);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, rep);
}

/* ---- 7. Key lessons ------------------------------------------------------------- */

void step7_key_lessons(c2_study *s)
{
    cs_step(7, "Key lessons");
    const c2_rung_run *runs = s->runs;
    int n = s->nruns;
    for (int i = 1; i < n; i++) {
        const c2_rung_run *p = &runs[i - 1], *c = &runs[i];
        cs_say("  - %s -> %s: %.2fx (%s)\n", p->base.name, c->base.name,
               p->base.timing.time.median / c->base.timing.time.median, c->base.lesson);
    }
    if (n > 1)
        cs_say("  - Altogether %s is %.0fx faster than %s on the same file: %.0f against %.0f records/s.\n",
               runs[n - 1].base.name, runs[0].base.timing.time.median / runs[n - 1].base.timing.time.median,
               runs[0].base.name, runs[n - 1].result.rows / runs[n - 1].base.timing.time.median,
               runs[0].result.rows / runs[0].base.timing.time.median);
    cs_say("  - Per-record overhead, not the bytes, limits a record-at-a-time pipeline: measure the\n"
           "    read rate first, then remove allocation, library calls and passes one at a time.\n");
}

/* ---- the results ---------------------------------------------------------------- */

int c2_write_results(c2_study *s)
{
    const char *dir = s->opt->out_dir;
    char p[CS_PATH_MAX];
    if (cs_report_write(&s->report, &s->sys, dir) != 0) return 3;
    if (s->nruns > 0) { /* the output: the first rung's */
        const c2_result *res = &s->runs[0].result;
        if (c2_write_groups_csv(res, cs_path_join(p, sizeof p, dir, "groups.csv")) != 0 ||
            c2_write_summary(res, cs_path_join(p, sizeof p, dir, "summary.csv")) != 0)
            return 3;
    }
    if (cs_prof_write_trace(cs_path_join(p, sizeof p, dir, "trace.json")) != 0) return 3;
    if (!s->opt->brief) {
        cs_say("\n  Results: %s/groups.csv, summary.csv, results.csv, results.json, trace.json\n", dir);
        cs_prof_say_left_out();
    }
    c2_charts(s);
    return 0;
}

void c2_study_end(c2_study *s)
{
    for (int i = 0; i < s->nruns; i++) c2_result_free(&s->runs[i].result);
    c2_result_free(&s->reference);
    free(s->runs);
    if (s->generated[0]) c2_cleanup_remove(s->generated);
}
