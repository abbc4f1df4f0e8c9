/* suite_summary: the one table across the cases that `make demo` ends with.
 *
 *   suite_summary RESULTS_DIR SUMMARY.md
 *
 * Reads RESULTS_DIR/<case>/results.csv of every case that ran, and writes a
 * Markdown table (case, slowest and fastest variant, speedup, correctness)
 * to SUMMARY.md and to the screen. Exit 1 when a case had a failed check,
 * 2 when no results were found. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_console.h"
#include "cs_outfile.h"
#include "cs_sysinfo.h"

#define MAX_FIELDS 32
#define MAX_CASES  16

/* Splits one CSV record (RFC 4180, no embedded newlines in our files) in
 * place; returns the number of fields. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *out = p;
        fields[n++] = p;
        if (*p == '"') { /* quoted: "" is a quote */
            char *q = p + 1;
            for (;;) {
                if (*q == '\0') break;
                if (*q == '"' && q[1] == '"') {
                    *out++ = '"';
                    q += 2;
                    continue;
                }
                if (*q == '"') {
                    q++;
                    break;
                }
                *out++ = *q++;
            }
            p = q;
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r') *out++ = *p++;
        }
        char sep = *p;
        *out = '\0';
        if (sep != ',') break;
        p++;
    }
    return n;
}

static int column(char **header, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0) return i;
    return -1;
}

typedef struct {
    char name[256];
    char slow[48], fast[48];
    double slow_s, fast_s;
    int ran, passed, failed, skipped;
    char reference[64]; /* the row marked REF: what the others were checked against */
    char failed_names[160];
    char skip_reason[160];
    int charts;     /* gnuplot scripts (*.gp) in its folder */
    char trace[64]; /* its trace file, or "" */
} case_summary;

/* What the case's folder holds besides its results: charts and a trace. */
static void read_files(const char *dir, case_summary *c)
{
    char path[CS_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, c->name);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".gp") == 0) c->charts++;
        if (len >= 10 && strcmp(e->d_name + len - 10, "trace.json") == 0 && strlen(e->d_name) < sizeof c->trace)
            snprintf(c->trace, sizeof c->trace, "%s", e->d_name);
    }
    closedir(d);
}

static char *fmt_time(double s, char *buf, size_t len)
{
    return cs_format_time(s, buf, len);
}

/* Returns 0 when read, -1 when the file is missing or has no usable header. */
static int read_case(const char *dir, const char *name, case_summary *c)
{
    char path[CS_PATH_MAX], line[8192];
    snprintf(path, sizeof path, "%s/%s/results.csv", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    char *h[MAX_FIELDS], hdr[8192];
    if (!fgets(hdr, sizeof hdr, f)) {
        fclose(f);
        return -1;
    }
    int nh = split_csv(hdr, h, MAX_FIELDS);
    int iv = column(h, nh, "variant"), im = column(h, nh, "median_s"), ic = column(h, nh, "check"),
        is = column(h, nh, "skip_reason");
    if (iv < 0 || im < 0 || ic < 0) {
        fprintf(stderr, "suite_summary: %s: missing variant/median_s/check columns\n", path);
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *v[MAX_FIELDS];
        int nv = split_csv(line, v, MAX_FIELDS);
        if (nv <= im || nv <= ic || nv <= iv) continue;
        if (strcmp(v[ic], "SKIP") == 0 || v[im][0] == '\0') {
            c->skipped++;
            if (is >= 0 && is < nv && !c->skip_reason[0]) snprintf(c->skip_reason, sizeof c->skip_reason, "%s", v[is]);
            continue;
        }
        double t = atof(v[im]);
        c->ran++;
        if (strcmp(v[ic], "REF") == 0) /* the reference: not checked against itself */
            snprintf(c->reference, sizeof c->reference, "%s", v[iv]);
        else if (strcmp(v[ic], "PASS") == 0)
            c->passed++;
        else {
            c->failed++;
            size_t len = strlen(c->failed_names);
            snprintf(c->failed_names + len, sizeof c->failed_names - len, "%s%s", len ? ", " : "", v[iv]);
        }
        if (c->ran == 1 || t > c->slow_s) {
            c->slow_s = t;
            snprintf(c->slow, sizeof c->slow, "%s", v[iv]);
        }
        if (c->ran == 1 || t < c->fast_s) {
            c->fast_s = t;
            snprintf(c->fast, sizeof c->fast, "%s", v[iv]);
        }
    }
    fclose(f);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const case_summary *)a)->name, ((const case_summary *)b)->name);
}

static void write_table(FILE *f, const case_summary *cs, int n, const char *machine, const char *when)
{
    fprintf(f, "# Results across the case studies\n\n");
    fprintf(f, "Machine: %s  \nRun: %s\n\n", machine, when);
    fprintf(f, "| case | slowest variant | fastest variant | speedup | correctness | skipped |\n");
    fprintf(f, "|---|---|---|---:|---|---|\n");
    for (int i = 0; i < n; i++) {
        const case_summary *c = &cs[i];
        char a[32], b[32];
        if (c->ran == 0) {
            fprintf(f, "| %s | - | - | - | no variant ran | %d |\n", c->name, c->skipped);
            continue;
        }
        fprintf(f, "| %s | %s (%s) | %s (%s) | %.1fx | ", c->name, c->slow, fmt_time(c->slow_s, a, sizeof a), c->fast,
                fmt_time(c->fast_s, b, sizeof b), c->fast_s > 0 ? c->slow_s / c->fast_s : 0.0);
        if (c->failed)
            fprintf(f, "FAIL: %s (%d of %d) | ", c->failed_names, c->failed, c->ran);
        else
            fprintf(f, "PASS (%d of %d%s%s%s) | ", c->passed, c->ran - (c->reference[0] != 0),
                    c->reference[0] ? "; " : "", c->reference, c->reference[0] ? " the reference" : "");
        if (c->skipped)
            fprintf(f, "%d: %s |\n", c->skipped, c->skip_reason);
        else
            fprintf(f, "0 |\n");
    }
    fprintf(f, "\nSpeedup = median time of the slowest variant / median time of the fastest, same run.\n"
               "Correctness: each variant against its case's reference, within the case's stated tolerance.\n"
               "Each case's folder holds its results.csv and results.json, and:\n");
    for (int i = 0; i < n; i++) {
        if (cs[i].charts)
            fprintf(f, "- %s: %d chart%s (.gp, and .png where gnuplot ran)", cs[i].name, cs[i].charts,
                    cs[i].charts == 1 ? "" : "s");
        else
            fprintf(f, "- %s: no charts", cs[i].name);
        fprintf(f, "%s%s\n", cs[i].trace[0] ? ", " : ", no trace", cs[i].trace);
    }
}

int main(int argc, char **argv)
{
    cs_console_init("suite_summary", 0);
    if (argc != 3) {
        fprintf(stderr, "usage: suite_summary RESULTS_DIR SUMMARY.md\n");
        return 2;
    }
    const char *dir = argv[1];
    DIR *d = opendir(dir);
    if (!d) {
        cs_error("%s: cannot open the results folder", dir);
        return 2;
    }
    case_summary cases[MAX_CASES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_CASES) {
        if (e->d_name[0] == '.') continue;
        if (read_case(dir, e->d_name, &cases[n]) == 0) read_files(dir, &cases[n++]);
    }
    closedir(d);
    if (n == 0) {
        cs_error("%s: no <case>/results.csv found", dir);
        return 2;
    }
    qsort(cases, n, sizeof cases[0], by_name);

    cs_sysinfo sys;
    cs_sysinfo_get(&sys);
    char machine[512], when[64];
    cs_sysinfo_oneline(&sys, machine, sizeof machine);
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));

    write_table(stdout, cases, n, machine, when);
    cs_outfile o;
    if (cs_outfile_open(&o, argv[2]) != 0) return 2;
    write_table(o.f, cases, n, machine, when);
    if (cs_outfile_commit(&o) != 0) return 2;
    printf("\n(written to %s)\n", argv[2]);
    int failed = 0;
    for (int i = 0; i < n; i++) failed |= cases[i].failed > 0;
    return failed ? 1 : 0;
}
