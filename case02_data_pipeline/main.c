/* case02_data_pipeline: "My data pipeline can't keep up with incoming data".
 *
 * The seven steps of the case-study method (see docs/case02_data_pipeline.md).
 * Every figure printed comes from this run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_case.h"
#include "cs_cli.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_files.h"
#include "cs_memory.h"
#include "cs_plot.h"
#include "cs_profiler.h"
#include "cs_report.h"
#include "cs_sysinfo.h"
#include "cleanup.h"
#include "group_growth.h"
#include "pipeline.h"
#include "read_ceiling.h"

#define PROG "case02_data_pipeline"
#define NRUNGS 6
#define MAX_THREAD_POINTS 16

typedef struct {
    const char *name;
    c2_variant_fn fn;
    const char *lesson;
    int staged;            /* has extract/transform/load phases */
} rung;

static const rung ladder[NRUNGS] = {
    {"slow", c2_run_slow, "line by line: new strings per field, libc calendar, linear lookups, intermediate file", 1},
    {"views", c2_run_views, "no per-field allocation: fields are slices of one buffer, hand-written parsers", 1},
    {"hashed", c2_run_hashed, "hashed and cached lookups: currency, category, day, groups", 1},
    {"fused", c2_run_fused, "one fused pass: no intermediate file", 0},
    {"columnar", c2_run_columnar, "columnar batches: transform loops the compiler vectorizes", 0},
    {"fast", c2_run_fast, "file mapped, one pass, no allocation per row, all cores", 0},
};
static const char *const rung_names[NRUNGS] = {"slow", "views", "hashed", "fused", "columnar", "fast"};

/* ---- command line -------------------------------------------------------- */

typedef struct {
    const char *input;
    long long rows;
    int rows_set;
    long long generate;        /* --generate N: write a file and stop */
    const char *out_csv;
    c2_gen_options gen;
} c2_args;

enum { OPT_INPUT, OPT_ROWS, OPT_GENERATE, OPT_OUT_CSV, OPT_MALFORMED, OPT_CRLF, OPT_BOM,
       OPT_NO_FINAL_NEWLINE, OPT_CATEGORIES, OPT_SPELLINGS, OPT_DAYS, OPT_ZIPF };

static const cs_case_option case_options[] = {
    [OPT_INPUT] = {"input", "FILE", "run on this CSV (columns txn_id,timestamp,user_id,category,amount,currency,country)"},
    [OPT_ROWS] = {"rows", "N", "rows of the generated input when there is no --input (1..200000000; default 1000000, quick 100000)"},
    [OPT_GENERATE] = {"generate", "N", "write a generated CSV of N rows to --out-csv and stop"},
    [OPT_OUT_CSV] = {"out-csv", "FILE", "where --generate writes"},
    [OPT_MALFORMED] = {"malformed", "F", "share of malformed generated rows (0..0.5; default 0.005)"},
    [OPT_CRLF] = {"crlf", NULL, "generated file with CRLF line endings"},
    [OPT_BOM] = {"bom", NULL, "generated file starting with a UTF-8 byte order mark"},
    [OPT_NO_FINAL_NEWLINE] = {"no-final-newline", NULL, "generated file without a newline after the last row"},
    [OPT_CATEGORIES] = {"categories", "N", "distinct categories of the generated file (1..100000; default 12)"},
    [OPT_SPELLINGS] = {"spellings", "K", "spellings per category, of five (1..5; default 5)"},
    [OPT_DAYS] = {"days", "D", "days of the generated file, from 2026-03-01 (1..10000; default 30)"},
    [OPT_ZIPF] = {"zipf", "S", "category k drawn in proportion to 1/k^S (0..4; default 0: uniform)"},
};

static int on_option(int index, const char *arg, void *p)
{
    c2_args *a = p;
    long v;
    double d;
    switch (index) {
    case OPT_INPUT: a->input = arg; break;
    case OPT_ROWS:
        if (cs_parse_long("--rows", arg, 1, 200000000, &v)) return 2;
        a->rows = v, a->rows_set = 1;
        break;
    case OPT_GENERATE:
        if (cs_parse_long("--generate", arg, 0, 200000000, &v)) return 2;
        a->generate = v;
        break;
    case OPT_OUT_CSV: a->out_csv = arg; break;
    case OPT_MALFORMED:
        if (cs_parse_double("--malformed", arg, 0.0, 0.5, &d)) return 2;
        a->gen.malformed = d;
        break;
    case OPT_CRLF: a->gen.crlf = 1; break;
    case OPT_BOM: a->gen.bom = 1; break;
    case OPT_NO_FINAL_NEWLINE: a->gen.final_newline = 0; break;
    case OPT_CATEGORIES:
        if (cs_parse_long("--categories", arg, 1, C2_GEN_MAX_CATEGORIES, &v)) return 2;
        a->gen.categories = (int)v;
        break;
    case OPT_SPELLINGS:
        if (cs_parse_long("--spellings", arg, 1, 5, &v)) return 2;
        a->gen.spellings = (int)v;
        break;
    case OPT_DAYS:
        if (cs_parse_long("--days", arg, 1, C2_GEN_MAX_DAYS, &v)) return 2;
        a->gen.days = (int)v;
        break;
    case OPT_ZIPF:
        if (cs_parse_double("--zipf", arg, 0.0, C2_GEN_MAX_ZIPF, &d)) return 2;
        a->gen.zipf = d;
        break;
    }
    return 0;
}

/* ---- running one rung ------------------------------------------------------ */

typedef struct {
    const rung *r;
    int ran;
    cs_timing timing;
    c2_result result;          /* from the instrumented run */
    double instrumented_s;
    size_t peak_rss;
    int nphases;
    cs_prof_entry phases[CS_PROF_MAX_NAMES];
    cs_check check;
    char diff[256];
} rung_run;

typedef struct {
    const rung *r;
    const c2_job *job;
    int rc;
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
    c2_cleanup_add(groups);   /* removed if the run is interrupted */
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

/* The first run is instrumented (phase profiler on) and serves as the
 * warm-up; the timed runs follow with the profiler off, so its cost (two
 * clock reads per region) never enters the figures. */
static int run_rung(const rung *r, const c2_job *job, const cs_run_opts *opts, rung_run *out)
{
    memset(out, 0, sizeof *out);
    out->r = r;
    c2_result_init(&out->result);
    cs_prof_lane(r->name);
    cs_prof_reset();
    cs_prof_enable(1);
    /* Peak memory of the rung: the high-water mark of the resident set
     * during its run, above what the process held just before it. Memory
     * the earlier rungs freed is handed back to the system first
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
    out->peak_rss = peak > before ? peak - before : 0;
    if (rc) return rc;
    out->nphases = cs_prof_entries(out->phases, CS_PROF_MAX_NAMES);
    c2_result_sort(&out->result);
    /* Test hook: corrupt the named rung's result, so the tests can show that
     * the comparison catches a wrong answer (exit code 1). */
    const char *fault = getenv("CS_FAULT_INJECT");
    if (fault && strcmp(fault, r->name) == 0 && out->result.ngroups > 0) out->result.groups[0].sum_cents += 1;

    cs_prof_enable(0);
    cs_run_opts o = *opts;
    o.warmup = opts->warmup > 0 ? opts->warmup - 1 : 0;
    timed_ctx ctx = {r, job, 0};
    rc = cs_run(run_timed, &ctx, &o, &out->timing);
    cs_prof_enable(1);
    if (rc) return rc;
    out->ran = 1;
    return 0;
}

static void print_rung(const rung_run *rr, double mb)
{
    if (cs_brief()) return;
    char med[32], peak[32];
    double med_s = rr->timing.time.median;
    cs_say("  %s%s%s (%s)\n    median %s over %d runs: %.0f records/s, %.0f MB/s; peak memory added %s\n",
           cs_col_bold(), rr->r->name, cs_col_reset(), rr->r->lesson,
           cs_format_time(med_s, med, sizeof med), rr->timing.repeats,
           (double)rr->result.rows / med_s, mb / med_s,
           cs_format_bytes((double)rr->peak_rss, peak, sizeof peak));
    cs_say("    phases of the instrumented first run (%.2f s, profiler on):\n", rr->instrumented_s);
    /* re-create the table from the stored entries */
    cs_prof_reset();
    for (int i = 0; i < rr->nphases; i++) cs_prof_add(rr->phases[i].name, rr->phases[i].total_s);
    cs_prof_print_table(stdout, 1, rr->instrumented_s);
}

static double phase_of(const rung_run *rr, const char *name)
{
    for (int i = 0; i < rr->nphases; i++)
        if (strcmp(rr->phases[i].name, name) == 0) return rr->phases[i].total_s;
    return 0;
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    c2_args a = {.rows = 1000000, .gen = {.malformed = 0.005, .final_newline = 1}};
    cs_options opt;
    cs_cli_spec spec = {
        .prog = PROG,
        .summary = "My data pipeline can't keep up: an ETL job made fast by vectorization, fusion and caching",
        .usage_notes = "Without --input a CSV of --rows rows is generated (and removed at the end), by default\n"
                       "12 categories over 30 days; --categories, --spellings, --days and --zipf change that.\n"
                       "Exit codes: 0 ok, 1 a variant's output differed, 2 bad usage or input, 3 runtime failure.",
        .options = case_options,
        .n_options = sizeof case_options / sizeof case_options[0],
        .handler = on_option,
        .ctx = &a,
        .variant_names = rung_names,
        .n_variants = NRUNGS,
    };
    int rc = cs_case_begin(argc, argv, &spec, &opt);
    if (rc) return rc < 0 ? 0 : rc;
    c2_cleanup_on_signals();   /* Ctrl-C leaves no temporary file behind (cleanup.h) */
    if (strcmp(opt.device, "gpu") == 0) {
        cs_error("--device gpu: this case has no GPU variant (it is CPU work: parsing and hashing)");
        return 2;
    }

    /* --generate N --out-csv FILE: write a file and stop. */
    if (a.generate > 0 || a.out_csv) {
        if (!a.out_csv || a.generate <= 0) {
            cs_error("--generate N and --out-csv FILE go together");
            return 2;
        }
        /* written under a temporary name, then renamed over the path: a
         * device, a FIFO or a link there would be replaced, so they are
         * refused before any work */
        if ((rc = cs_check_output_file("--out-csv", a.out_csv)) != 0) return rc;
        a.gen.rows = a.generate;
        a.gen.seed = opt.seed;
        return c2_generate(a.out_csv, &a.gen);
    }
    if (opt.quick && !a.rows_set) a.rows = 100000;
    if (cs_check_writable_dir(opt.out_dir) != 0) return 2;

    cs_run_opts run_opts = cs_run_defaults();
    run_opts.warmup = opt.warmup >= 0 ? opt.warmup : 1;
    /* 15 by default: the fast rungs take tens of milliseconds, and on a shared
     * machine a median of 5 moves with every neighbour's burst; the budget
     * below keeps the slow rungs to a few runs. */
    run_opts.repeats = opt.repeat > 0 ? opt.repeat : (opt.quick ? 3 : 15);
    run_opts.budget_s = opt.quick ? 1.5 : 6.0;

    cs_sysinfo sys;
    cs_sysinfo_get(&sys);

    rung_run *runs = NULL;     /* one per rung that ran */
    int nruns = 0;
    c2_result reference;       /* what every rung is checked against (reference.c) */
    c2_result_init(&reference);

    /* The input: the user's file, or one generated from the seed. */
    char generated[CS_PATH_MAX] = "";
    const char *tmp_dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    const char *path = a.input;
    double gen_s = 0;
    if (!path) {
        /* A name no other file has (mkstemps creates it), removed at the end
         * or when the run is interrupted. */
        snprintf(generated, sizeof generated, "%s/%s_XXXXXX.csv", tmp_dir, PROG);
        int fd = mkstemps(generated, 4);
        if (fd < 0) {
            cs_error("%s: cannot create a temporary file there: %s", tmp_dir, strerror(errno));
            return 2;
        }
        close(fd);
        c2_cleanup_add(generated);
        a.gen.rows = a.rows;
        a.gen.seed = opt.seed;
        cs_progress("generating %lld rows", a.rows);
        double t0 = cs_now();
        rc = c2_generate(generated, &a.gen);
        gen_s = cs_now() - t0;
        cs_progress_done();
        if (rc) goto cleanup;
        path = generated;
    }
    c2_job job = {.path = path, .tmp_dir = tmp_dir, .threads = opt.threads};
    rc = c2_read_header(path, &job.header);
    if (rc) goto cleanup;
    struct stat st;
    stat(path, &st);
    job.file_bytes = st.st_size;
    double mb = job.file_bytes / 1e6;

    /* The reference: the job done once by plain code (reference.c), timed
     * here so step 6 can show what the check costs. */
    cs_progress("the reference pass");
    double ref_t0 = cs_now();
    rc = c2_reference(&job, &reference);
    double ref_s = cs_now() - ref_t0;
    cs_progress_done();
    if (rc) goto cleanup;
    c2_result_sort(&reference);
    /* Test hook (as for the rungs below): a wrong reference fails every rung. */
    const char *fault = getenv("CS_FAULT_INJECT");
    if (fault && strcmp(fault, "reference") == 0 && reference.ngroups > 0) reference.groups[0].sum_cents += 1;

    /* ---- 1. Scenario ---- */
    cs_step(1, "Scenario");
    cs_say("  \"My data pipeline can't keep up with incoming data.\" The nightly ETL job reads card\n"
           "  transactions, rejects malformed rows, converts every amount to US cents, and sums them by\n"
           "  day and category. One record at a time, it cannot keep up with a million records an hour.\n");
    if (generated[0]) {
        cs_say("  Input: %lld generated rows (seed %llu, %.1f%% malformed", a.rows, (unsigned long long)opt.seed,
               100 * a.gen.malformed);
        if (a.gen.categories || a.gen.spellings || a.gen.days || a.gen.zipf > 0) {
            int cats, spellings, days;
            c2_gen_shape(&a.gen, &cats, &spellings, &days);
            cs_say("; %d categories in %d spellings over %d days, ", cats, spellings, days);
            if (a.gen.zipf > 0) cs_say("Zipf %g", a.gen.zipf);
            else cs_say("uniform");
        }
        cs_say("), %.1f MB, written in %.2f s\n", mb, gen_s);
    }
    else
        cs_say("  Input: %s, %.1f MB\n", path, mb);
    cs_say("  %lld rows summed into %zu (day, category) groups\n", (long long)reference.rows, reference.ngroups);
    if (!cs_brief()) cs_sysinfo_print(stdout, &sys);

    /* Which rungs run. */
    const rung *todo[NRUNGS];
    int ntodo = 0;
    for (int i = 0; i < NRUNGS; i++)
        if (cs_variant_selected(&opt, ladder[i].name)) todo[ntodo++] = &ladder[i];
    runs = calloc(NRUNGS, sizeof *runs);
    if (!runs) { cs_error("out of memory"); rc = 3; goto cleanup; }

    /* ---- 2. Initial profiling ---- */
    cs_step(2, "Initial profiling");
    int next = 0;
    if (ntodo > 0 && todo[0]->staged) {
        cs_progress("running %s", todo[0]->name);
        rc = run_rung(todo[0], &job, &run_opts, &runs[nruns]);
        cs_progress_done();
        if (rc) goto cleanup;
        print_rung(&runs[nruns], mb);
        nruns++;
        next = 1;
    } else {
        cs_say("  (the slow rung was not selected)\n");
    }

    /* ---- 3. Hypothesis ---- */
    cs_step(3, "Hypothesis");
    if (nruns > 0) {
        const rung_run *s = &runs[0];
        double tot = s->instrumented_s;
        double ex = phase_of(s, "extract"), tr = phase_of(s, "transform"), lo = phase_of(s, "load");
        cs_say("  %s processed %.0f records/s (%.1f MB/s). Its time: extract %.0f%%, transform %.0f%%,\n"
               "  load %.0f%%. Every stage is busy with per-record overhead (allocations, library calls,\n"
               "  linear searches, a second pass over an intermediate file), not with the bytes: the\n"
               "  hypothesis is that the job is CPU-bound by that overhead, far below what the machine\n"
               "  can read. Step 4 tests it.\n",
               s->r->name, s->result.rows / s->timing.time.median, mb / s->timing.time.median,
               tot > 0 ? 100 * ex / tot : 0, tot > 0 ? 100 * tr / tot : 0, tot > 0 ? 100 * lo / tot : 0);
    }

    /* ---- 4. Investigation ---- */
    cs_step(4, "Investigation");
    c2_read_rate rr;
    rc = c2_measure_read_rate(path, 3, &rr);
    if (rc) goto cleanup;
    double read_records_s = rr.all_threads_gbs * 1e9 / (double)(job.file_bytes > 0 ? job.file_bytes : 1) *
                            (double)rr.newlines;
    cs_say("  Just reading the file (page cache, 4 MiB blocks, counting newlines): %.2f GB/s on one thread,\n"
           "  %.2f GB/s on %d threads, i.e. %.0f records/s.\n",
           rr.one_thread_gbs, rr.all_threads_gbs, rr.threads, read_records_s);
    if (nruns > 0)
        cs_say("  %s runs at %.2f%% of that: the hypothesis holds; the cost is in the per-record work.\n",
               runs[0].r->name, 100 * (mb / runs[0].timing.time.median) / (rr.all_threads_gbs * 1e3));
    /* slow's per-record work depends on the data too: its groups are a list
     * searched from the head for every row. Shown when slow ran. */
    if (nruns > 0 && runs[0].r == &ladder[0]) {
        c2_group_growth gg;
        rc = c2_measure_group_growth(&gg);
        if (rc) goto cleanup;
        cs_say("  And the groups: slow adds each row to its (day, category) group by walking a list of every\n"
               "  group so far; hashed looks it up in a hash table. Each store alone, rows spread over G groups:\n"
               "    %8s %16s %16s\n", "groups", "slow's list", "hashed's table");
        for (int i = 0; i < C2_GROWTH_POINTS; i++)
            cs_say("    %8d %13.0f ns %13.0f ns  per row\n", gg.groups[i], gg.list_ns[i], gg.table_ns[i]);
        int last = C2_GROWTH_POINTS - 1;
        cs_say("  From %d to %d groups the list's time per row grew %.0fx, the table's %.1fx. slow's cost\n"
               "  per row depends on how many groups the data has (this file: %zu).\n",
               gg.groups[0], gg.groups[last], gg.list_ns[last] / gg.list_ns[0],
               gg.table_ns[last] / gg.table_ns[0], reference.ngroups);
    }

    /* ---- 5. Optimization ---- */
    cs_step(5, "Optimization");
    for (; next < ntodo; next++) {
        cs_progress("running %s", todo[next]->name);
        rc = run_rung(todo[next], &job, &run_opts, &runs[nruns]);
        cs_progress_done();
        if (rc) goto cleanup;
        print_rung(&runs[nruns], mb);
        nruns++;
    }
    /* Thread scaling of fast. */
    double scale_threads[MAX_THREAD_POINTS], scale_rate[MAX_THREAD_POINTS];
    int nscale = 0;
    const rung_run *fast_run = NULL;
    for (int i = 0; i < nruns; i++)
        if (strcmp(runs[i].r->name, "fast") == 0) fast_run = &runs[i];
    if (fast_run) {
        int maxt = sys.threads > 1 ? sys.threads : 2;
        if (maxt > MAX_THREAD_POINTS) maxt = MAX_THREAD_POINTS;
        cs_say("  Thread scaling of fast:\n");
        cs_prof_enable(0);
        for (int t = 1; t <= maxt; t++) {
            c2_job jt = job;
            jt.threads = t;
            timed_ctx ctx = {&ladder[5], &jt, 0};
            cs_timing tm;
            cs_run_opts o = run_opts;
            o.warmup = 1;
            rc = cs_run(run_timed, &ctx, &o, &tm);
            if (rc) goto cleanup;
            scale_threads[nscale] = t;
            scale_rate[nscale] = fast_run->result.rows / tm.time.median;
            cs_say("    %2d thread%s %12.0f records/s  %8.0f MB/s  (%.2fx one thread)\n", t, t > 1 ? "s" : " ",
                   scale_rate[nscale], mb / tm.time.median, scale_rate[nscale] / scale_rate[0]);
            nscale++;
        }
        cs_prof_enable(1);
        if (maxt > sys.cores)
            cs_say("    (more threads than the %d cores: the extra ones share cores)\n", sys.cores);
    }

    /* ---- 6. Verification ---- */
    cs_step(6, "Verification");
    cs_report report;
    cs_report_init(&report, PROG);
    cs_report_config(&report, "input", "%s", generated[0] ? "generated" : path);
    cs_report_config(&report, "rows", "%lld", nruns ? (long long)runs[0].result.rows : 0LL);
    cs_report_config(&report, "bytes", "%lld", (long long)job.file_bytes);
    cs_report_config(&report, "seed", "%llu", (unsigned long long)opt.seed);
    cs_report_config(&report, "threads", "%d", sys.threads);
    cs_report_config(&report, "quick", "%d", opt.quick);
    /* Every rung, slow included, against the reference (reference.c), computed
     * once before step 1: a plain pass whose cost grows with the rows only. */
    cs_say("  Every rung's output (groups, counts, rejections by reason, hour histogram) against the\n"
           "  reference (reference.c: the job written plainly, one pass, %.2f s for this file). The\n"
           "  figures are integer cents, so the tolerance is 0 cents:\n", ref_s);
    int failed = 0;
    for (int i = 0; i < nruns; i++) {
        rung_run *r = &runs[i];
        int differs = c2_result_compare(&r->result, &reference, r->diff, sizeof r->diff);
        /* The largest difference in cents over the groups, when the two
         * have the same groups with the same counts (else a count differs,
         * and the message says which). */
        double error = c2_result_max_error(&r->result, &reference);
        r->check.status = differs ? CS_CHECK_FAIL : CS_CHECK_PASS;
        r->check.n = r->result.ngroups;
        r->check.max_abs = error >= 0 ? error : NAN;
        r->check.rel_l2 = differs ? NAN : 0;
        r->check.tol = 0;
        failed |= differs;
        char err_text[48];
        if (error >= 0) snprintf(err_text, sizeof err_text, "max error %.0f cents", error);
        else snprintf(err_text, sizeof err_text, "groups or counts differ");
        cs_say("  %-9s %s%s%s  %s (tolerance 0)%s%s\n", r->r->name, differs ? cs_col_fail() : cs_col_pass(),
               differs ? "FAIL" : "PASS", cs_col_reset(), err_text, differs ? ": " : "",
               differs ? r->diff : "");
        cs_result row = {0};
        snprintf(row.variant, sizeof row.variant, "%s", r->r->name);
        snprintf(row.device, sizeof row.device, "cpu");
        row.ran = 1;
        row.timing = r->timing;
        row.work = (double)r->result.rows;
        snprintf(row.unit, sizeof row.unit, "records/s");
        row.ceiling = read_records_s;
        snprintf(row.ceiling_name, sizeof row.ceiling_name, "reading the file");
        row.peak_mem = r->peak_rss;
        row.check = r->check;
        cs_report_add(&report, &row);
    }
    {
        const c2_result *ref_result = &reference;
        int64_t rej = 0;
        for (int k = 0; k < C2_NREASONS; k++) rej += ref_result->rejected[k];
        cs_say("  %lld rows: %lld accepted, %lld rejected (", (long long)ref_result->rows,
               (long long)ref_result->accepted, (long long)rej);
        for (int k = 0, first = 1; k < C2_NREASONS; k++)
            if (ref_result->rejected[k]) {
                cs_say("%s%s %lld", first ? "" : ", ", c2_reason_names[k], (long long)ref_result->rejected[k]);
                first = 0;
            }
        cs_say("); %zu groups\n", ref_result->ngroups);
    }
    cs_report_finish(&report);
    if (!cs_brief()) cs_say("\n");
    cs_report_print(stdout, &report);

    /* ---- 7. Key lessons ---- */
    cs_step(7, "Key lessons");
    for (int i = 1; i < nruns; i++) {
        const rung_run *p = &runs[i - 1], *c = &runs[i];
        cs_say("  - %s -> %s: %.2fx (%s)\n", p->r->name, c->r->name,
               p->timing.time.median / c->timing.time.median, c->r->lesson);
    }
    if (nruns > 1)
        cs_say("  - Altogether %s is %.0fx faster than %s on the same file: %.0f against %.0f records/s.\n",
               runs[nruns - 1].r->name, runs[0].timing.time.median / runs[nruns - 1].timing.time.median,
               runs[0].r->name, runs[nruns - 1].result.rows / runs[nruns - 1].timing.time.median,
               runs[0].result.rows / runs[0].timing.time.median);
    cs_say("  - Per-record overhead, not the bytes, limits a record-at-a-time pipeline: measure the\n"
           "    read rate first, then remove allocation, library calls and passes one at a time.\n");

    /* ---- results ---- */
    {
        char p1[CS_PATH_MAX];
        if (cs_report_write(&report, &sys, opt.out_dir) != 0) { rc = 3; goto cleanup; }
        const rung_run *ref = nruns ? &runs[0] : NULL;   /* the output: the first rung's */
        if (ref) {
            if (c2_write_groups_csv(&ref->result, cs_path_join(p1, sizeof p1, opt.out_dir, "groups.csv")) != 0 ||
                c2_write_summary(&ref->result, cs_path_join(p1, sizeof p1, opt.out_dir, "summary.csv")) != 0) {
                rc = 3;
                goto cleanup;
            }
        }
        if (cs_prof_write_trace(cs_path_join(p1, sizeof p1, opt.out_dir, "trace.json")) != 0) {
            rc = 3;
            goto cleanup;
        }
        if (!opt.brief)
            cs_say("\n  Results: %s/groups.csv, summary.csv, results.csv, results.json, trace.json\n", opt.out_dir);
        /* ladder chart: records/s per rung with each change's gain */
        const char *labels[NRUNGS], *annot[NRUNGS];
        double rate[NRUNGS];
        char text[NRUNGS][32];
        for (int i = 0; i < nruns; i++) {
            labels[i] = runs[i].r->name;
            rate[i] = runs[i].result.rows / runs[i].timing.time.median;
            if (i == 0) snprintf(text[i], sizeof text[i], "%.0f/s", rate[i]);
            else snprintf(text[i], sizeof text[i], "x%.2f", rate[i] / rate[i - 1]);
            annot[i] = text[i];
        }
        if (nruns > 0) {
            cs_plot_bars(opt.out_dir, "ladder", "Records per second by rung (above each bar: gain over the rung before)",
                         "records/s (log scale)", 1, labels, rate, annot, nruns);
            cs_plot_render(opt.out_dir, "ladder");
        }
        if (nscale > 0) {
            const char *series[2] = {"fast", "linear from 1 thread"};
            double y[2 * MAX_THREAD_POINTS];
            for (int i = 0; i < nscale; i++) {
                y[i] = scale_rate[i];
                y[nscale + i] = scale_rate[0] * scale_threads[i];
            }
            cs_plot_lines(opt.out_dir, "threads", "fast: records per second by thread count", "threads",
                          "records/s", 0, 0, series, 2, scale_threads, y, nscale, NULL);
            cs_plot_render(opt.out_dir, "threads");
        }
        /* phases of the staged rungs, seconds of the instrumented run */
        const char *groups[NRUNGS], *parts[3] = {"extract", "transform", "load"};
        double v[NRUNGS * 3];
        int ng = 0;
        for (int i = 0; i < nruns; i++) {
            if (!runs[i].r->staged) continue;
            groups[ng] = runs[i].r->name;
            for (int k = 0; k < 3; k++) v[ng * 3 + k] = phase_of(&runs[i], parts[k]);
            ng++;
        }
        if (ng > 0) {
            cs_plot_stacked(opt.out_dir, "phases", "Staged rungs: seconds per phase (instrumented run)",
                            "seconds", groups, ng, parts, 3, v);
            cs_plot_render(opt.out_dir, "phases");
        }
    }
    if (failed) {
        cs_error("a variant's output differed from the reference's (see step 6)");
        rc = 1;
    }

cleanup:
    for (int i = 0; i < nruns; i++) c2_result_free(&runs[i].result);
    c2_result_free(&reference);
    free(runs);
    if (generated[0]) c2_cleanup_remove(generated);
    return rc;
}
