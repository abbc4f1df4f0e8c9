/* The before/after table and the result files of a case.
 *
 * A case adds one cs_result per variant (run or skipped), then calls
 * cs_report_finish(): speedups are computed against the baseline variant
 * (the first row that ran, normally the slow one) as median / median, and the
 * table is printed; cs_report_write() writes results.csv and results.json. */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdio.h>
#include <stddef.h>
#include "cs_runner.h"
#include "cs_compare.h"
#include "cs_sysinfo.h"

#define CS_REPORT_MAX_ROWS   32
#define CS_REPORT_MAX_CONFIG 32
#define CS_REPORT_MAX_EXTRA  4 /* columns a case adds after the common ones */

typedef struct {
    char variant[48];
    char device[8]; /* "cpu" or "gpu" */
    int ran;        /* 0: skipped (skip_reason says why) */
    char skip_reason[200];
    cs_timing timing;      /* seconds per run */
    double work;           /* units of work per run (for throughput) */
    double throughput;     /* work / median (filled by cs_report_finish) */
    char unit[24];         /* e.g. "GFLOP/s" (work is then counted in GFLOP) */
    double ceiling;        /* this machine's ceiling in the same unit (0: none) */
    char ceiling_name[48]; /* e.g. "OpenBLAS SGEMM" or "cuBLAS SGEMM" */
    double speedup;        /* baseline median / this median (cs_report_finish) */
    size_t peak_mem;       /* bytes: tracked host (or device) peak of this variant */
    cs_check check;
    /* The case's own columns (cs_report_column): extra[k] is written where
     * bit k of extra_set is set, empty (null) otherwise. */
    double extra[CS_REPORT_MAX_EXTRA];
    unsigned extra_set;
} cs_result;

typedef struct {
    char case_name[64];
    char baseline[48]; /* variant the speedups are against ("" = first that ran) */
    cs_result rows[CS_REPORT_MAX_ROWS];
    int n;
    char config_key[CS_REPORT_MAX_CONFIG][32];
    char config_val[CS_REPORT_MAX_CONFIG][96];
    int n_config;
    char extra_name[CS_REPORT_MAX_EXTRA][40];
    int n_extra;
} cs_report;

void cs_report_init(cs_report *r, const char *case_name);
/* Adds a configuration entry (written to both files). */
void cs_report_config(cs_report *r, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Declares a column of the case's own, written after the common ones in
 * results.csv and as a key of each row in results.json (the lab's
 * peak_activation_bytes). Returns its index for cs_result_extra, or -1
 * (with a warning) past CS_REPORT_MAX_EXTRA. */
int cs_report_column(cs_report *r, const char *name);
/* Row's value in column k (cs_report_column's index; ignored when < 0). */
void cs_result_extra(cs_result *row, int k, double v);
/* Adds a row (copied); returns a pointer to the stored row. */
cs_result *cs_report_add(cs_report *r, const cs_result *row);
/* A skipped row. */
cs_result *cs_report_skip(cs_report *r, const char *variant, const char *device, const char *reason);
/* Computes throughput and speedups. */
void cs_report_finish(cs_report *r);
/* The before/after table: variant, device, median, min..max, throughput,
 * % of ceiling, speedup, check, error. */
void cs_report_print(FILE *f, const cs_report *r);
/* Writes dir/results.csv and dir/results.json atomically. Returns 0 or -1. */
int cs_report_write(const cs_report *r, const cs_sysinfo *s, const char *dir);
/* A bar chart of the rows that ran (log scale), each bar annotated with its
 * speedup over the baseline: the median time per run in ms, or with
 * `throughput` set the throughput in the rows' unit. Writes DIR/NAME.gp and
 * .dat and renders NAME.png (cs_plot). */
void cs_report_chart(const cs_report *r, const char *dir, const char *name, const char *title, const char *ylabel,
                     int throughput);

/* 1 when any row that ran has check FAIL. */
int cs_report_any_fail(const cs_report *r);
/* Row by variant name, or NULL. */
const cs_result *cs_report_find(const cs_report *r, const char *variant);

/* How `after` compared with `before` in this run, as a lesson may say it:
 * "3.2x faster" or "1.4x slower" from the medians, or "no faster within
 * the measured spread (...)" when their min..max ranges overlap (the
 * lesson then follows the numbers, not the order of the ladder). Returns
 * buf; *tie is set to 1 for the tie (may be NULL). */
const char *cs_compare_phrase(const cs_result *before, const cs_result *after, char *buf, size_t len, int *tie);

#endif
