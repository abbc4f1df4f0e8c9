/* The report: speedups and throughput from a hand-made set of rows, the
 * printed table, and the two result files (exact CSV header, CSV quoting,
 * valid JSON with null for what does not apply). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_test.h"
#include "json_validate.h"
#include "cs_console.h"
#include "cs_report.h"

/* A row that ran: median/min/max in seconds, work in GFLOP. */
static cs_result ran_row(const char *variant, double median, double min, double max, double work,
                         cs_check_status status, double max_abs, double rel_l2)
{
    cs_result row;
    memset(&row, 0, sizeof row);
    snprintf(row.variant, sizeof row.variant, "%s", variant);
    snprintf(row.device, sizeof row.device, "cpu");
    row.ran = 1;
    row.timing.time.n = 5;
    row.timing.time.median = median;
    row.timing.time.min = min;
    row.timing.time.max = max;
    row.timing.time.mean = median;
    row.timing.time.stddev = 0.01;
    row.timing.warmup = 1;
    row.timing.repeats = 5;
    row.work = work;
    snprintf(row.unit, sizeof row.unit, "GFLOP/s");
    row.ceiling = 100.0;
    snprintf(row.ceiling_name, sizeof row.ceiling_name, "OpenBLAS SGEMM");
    row.peak_mem = 1048576;
    row.check.status = status;
    row.check.n = 100;
    row.check.max_abs = max_abs;
    row.check.rel_l2 = rel_l2;
    row.check.tol = 1e-4;
    return row;
}

static void make_report(cs_report *r)
{
    cs_report_init(r, "demo");
    cs_report_config(r, "n", "%d", 512);
    cs_report_config(r, "threads", "%d", 2);
    cs_report_config(r, "n", "%d", 1024); /* the same key again: replaced */
    cs_result slow = ran_row("slow", 2.0, 1.9, 2.2, 10.0, CS_CHECK_PASS, 1e-6, 1e-7);
    cs_result fast = ran_row("fast, really", 0.5, 0.45, 0.6, 10.0, CS_CHECK_PASS, 2e-6, 3e-7);
    cs_result bad = ran_row("broken", 1.0, 1.0, 1.0, 10.0, CS_CHECK_FAIL, NAN, NAN);
    CHECK(cs_report_add(r, &slow) == &r->rows[0]);
    cs_report_add(r, &fast);
    cs_result *skipped = cs_report_skip(r, "gpu_naive", "gpu", "no CUDA device");
    CHECK(skipped != NULL && !skipped->ran);
    cs_report_add(r, &bad);
    CHECK(r->n == 4);
    CHECK(r->n_config == 2);
}

static void test_finish(void)
{
    cs_report r;
    make_report(&r);
    cs_report_finish(&r);
    /* Baseline: the first row that ran (slow). */
    CHECK_NEAR(cs_report_find(&r, "slow")->speedup, 1.0, 1e-12);
    CHECK_NEAR(cs_report_find(&r, "fast, really")->speedup, 4.0, 1e-12);
    CHECK_NEAR(cs_report_find(&r, "broken")->speedup, 2.0, 1e-12);
    CHECK(isnan(cs_report_find(&r, "gpu_naive")->speedup));
    CHECK_NEAR(cs_report_find(&r, "slow")->throughput, 5.0, 1e-12);
    CHECK_NEAR(cs_report_find(&r, "fast, really")->throughput, 20.0, 1e-12);
    CHECK(cs_report_find(&r, "nope") == NULL);
    CHECK(cs_report_any_fail(&r));

    /* A named baseline. */
    snprintf(r.baseline, sizeof r.baseline, "fast, really");
    cs_report_finish(&r);
    CHECK_NEAR(cs_report_find(&r, "slow")->speedup, 0.25, 1e-12);
    CHECK_NEAR(cs_report_find(&r, "fast, really")->speedup, 1.0, 1e-12);

    /* A named baseline that was skipped: back to the first that ran. */
    snprintf(r.baseline, sizeof r.baseline, "gpu_naive");
    cs_report_finish(&r);
    CHECK_NEAR(cs_report_find(&r, "fast, really")->speedup, 4.0, 1e-12);

    /* Without a failing row, any_fail is 0. */
    r.rows[3].check.status = CS_CHECK_PASS;
    CHECK(!cs_report_any_fail(&r));
}

static void test_print(void)
{
    cs_report r;
    make_report(&r);
    cs_report_finish(&r);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (!f) return;
    cs_report_print(f, &r);
    fclose(f);
    CHECK(strstr(text, "variant") != NULL);
    CHECK(strstr(text, "1.0x") != NULL);
    CHECK(strstr(text, "4.0x") != NULL);
    CHECK(strstr(text, "skipped: no CUDA device") != NULL);
    CHECK(strstr(text, "PASS") != NULL);
    CHECK(strstr(text, "FAIL") != NULL);
    CHECK(strstr(text, "20.00 GFLOP/s") != NULL || strstr(text, "20.0 GFLOP/s") != NULL);
    CHECK(strstr(text, "20.0%") != NULL);
    CHECK(strstr(text, "% of ceiling: against OpenBLAS SGEMM = 100 GFLOP/s measured this run") != NULL);
    /* One line per distinct ceiling, not one per row. */
    const char *first = strstr(text, "% of ceiling: against");
    CHECK(first && strstr(first + 1, "% of ceiling: against") == NULL);
    /* Not on a terminal: no colour escapes. */
    CHECK(strchr(text, '\033') == NULL);
    free(text);
}

/* The text without whitespace outside strings, so checks do not depend on
 * the writer's indentation. */
static char *compact_json(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    int in_string = 0;
    for (; *s; s++) {
        if (in_string) {
            *o++ = *s;
            if (*s == '\\' && s[1])
                *o++ = *++s;
            else if (*s == '"')
                in_string = 0;
        } else if (*s == '"') {
            *o++ = *s;
            in_string = 1;
        } else if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static void test_files(const char *tmp)
{
    cs_report r;
    make_report(&r);
    cs_report_finish(&r);
    cs_sysinfo s;
    memset(&s, 0, sizeof s);
    snprintf(s.cpu_model, sizeof s.cpu_model, "Test CPU \"quoted\"");
    s.cores = 2;
    s.threads = 2;

    /* The folder does not exist yet: it is created. */
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/out/demo", tmp);
    CHECK(cs_report_write(&r, &s, dir) == 0);

    snprintf(path, sizeof path, "%s/results.csv", dir);
    char *csv = read_whole_file(path);
    CHECK(csv != NULL);
    if (csv) {
        const char *header = "case,variant,device,repeats,median_s,min_s,max_s,throughput,unit,speedup,"
                             "peak_mem_bytes,check,max_error,rel_l2,pct_of_ceiling,ceiling_name,"
                             "skip_reason,config\n";
        CHECK(strncmp(csv, header, strlen(header)) == 0);
        CHECK(strstr(csv, "\ndemo,slow,cpu,5,2,1.9,2.2,5,GFLOP/s,1,1048576,PASS,1e-06,1e-07,5,"
                          "OpenBLAS SGEMM,,n=1024;threads=2\n") != NULL);
        CHECK(strstr(csv, "\ndemo,\"fast, really\",cpu,5,0.5,") != NULL);
        CHECK(strstr(csv, "\ndemo,gpu_naive,gpu,,,,,,,,,SKIP,,,,,no CUDA device,n=1024;threads=2\n") != NULL);
        /* NaN errors are empty fields. */
        CHECK(strstr(csv, ",FAIL,,,") != NULL);
        int lines = 0;
        for (const char *p = csv; *p; p++) lines += *p == '\n';
        CHECK(lines == 5);
        free(csv);
    }

    snprintf(path, sizeof path, "%s/results.json", dir);
    char *json = read_whole_file(path);
    CHECK(json != NULL);
    if (json) {
        const char *why = NULL;
        long at = 0;
        int ok = json_valid(json, &why, &at);
        CHECK(ok);
        if (!ok) fprintf(stderr, "results.json: %s at offset %ld\n", why, at);
        char *c = compact_json(json);
        CHECK(strstr(c, "\"case\":\"demo\"") != NULL);
        CHECK(strstr(c, "\"system\":{") != NULL);
        CHECK(strstr(c, "\"config\":{\"n\":\"1024\",\"threads\":\"2\"}") != NULL);
        CHECK(strstr(c, "\"variant\":\"fast, really\"") != NULL);
        CHECK(strstr(c, "\"variant\":\"gpu_naive\",\"device\":\"gpu\",\"ran\":false,"
                        "\"skip_reason\":\"no CUDA device\"") != NULL);
        CHECK(strstr(c, "\"check\":\"FAIL\",\"max_error\":null,\"rel_l2\":null}") != NULL);
        CHECK(strstr(c, "\"speedup\":4,") != NULL);
        CHECK(strstr(c, "\"ceiling_name\":\"OpenBLAS SGEMM\"") != NULL);
        CHECK(strstr(c, "NaN") == NULL && strstr(c, "nan") == NULL);
        free(c);
        free(json);
    }

    /* Only the two files: no temporary left behind. */
    DIR *d = opendir(dir);
    int entries = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.') entries++;
    if (d) closedir(d);
    CHECK(entries == 2);

    /* A folder that cannot be created: -1. */
    snprintf(path, sizeof path, "%s/results.csv/sub", dir);
    CHECK(cs_report_write(&r, &s, path) == -1);

    snprintf(path, sizeof path, "%s/results.csv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/results.json", dir);
    unlink(path);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/out", tmp);
    rmdir(path);
}

/* A case's own column: after the common ones in results.csv, a key of each
 * row in results.json; empty (null) where the row did not set it. */
static void test_extra_columns(const char *tmp)
{
    cs_report r;
    make_report(&r);
    int k = cs_report_column(&r, "peak_activation_bytes");
    CHECK(k == 0);
    cs_result_extra(&r.rows[0], k, 20971520.0);
    cs_report_finish(&r);
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/extra", tmp);
    CHECK(cs_report_write(&r, NULL, dir) == 0);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    char *csv = read_whole_file(path);
    CHECK(csv != NULL && strstr(csv, "skip_reason,config,peak_activation_bytes\n") != NULL);
    CHECK(csv != NULL && strstr(csv, ",n=1024;threads=2,20971520\n") != NULL);
    CHECK(csv != NULL && strstr(csv, "\ndemo,\"fast, really\",") != NULL &&
          strstr(strstr(csv, "\ndemo,\"fast, really\","), ",n=1024;threads=2,\n") != NULL);
    free(csv);
    snprintf(path, sizeof path, "%s/results.json", dir);
    char *json = read_whole_file(path);
    char *c = json ? compact_json(json) : NULL;
    CHECK(c != NULL && strstr(c, "\"rel_l2\":1e-07,\"peak_activation_bytes\":20971520}") != NULL);
    CHECK(c != NULL && strstr(c, "\"peak_activation_bytes\":null") != NULL);
    free(c);
    free(json);
    unlink(path);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    cs_console_init("test_report", 0);
    char tmp[] = "/tmp/cs_test_report_XXXXXX";
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_finish();
    test_print();
    test_files(tmp);
    test_extra_columns(tmp);
    rmdir(tmp);
    return cs_test_done();
}
