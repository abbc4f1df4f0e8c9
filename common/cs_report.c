/* The before/after table and the result files.
 *
 * A report is a list of rows, one per variant. cs_report_finish() turns the
 * measured medians into the derived figures (throughput, speedup, share of
 * the machine's ceiling) so that the printed table, results.csv and
 * results.json all show the same numbers. A figure that does not apply
 * (a skipped row, a case that counts no work) is NaN in memory, "-" in the
 * table, an empty field in the CSV and null in the JSON. */
#include "cs_report.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "cs_console.h"
#include "cs_csv.h"
#include "cs_json.h"
#include "cs_outfile.h"
#include "cs_plot.h"

void cs_report_init(cs_report *r, const char *case_name)
{
    memset(r, 0, sizeof *r);
    snprintf(r->case_name, sizeof r->case_name, "%s", case_name ? case_name : "");
}

void cs_report_config(cs_report *r, const char *key, const char *fmt, ...)
{
    /* The same key twice keeps the last value (one entry per key). */
    int i = 0;
    while (i < r->n_config && strcmp(r->config_key[i], key) != 0) i++;
    if (i == CS_REPORT_MAX_CONFIG) {
        cs_warn("report: more than %d configuration entries; \"%s\" is not recorded", CS_REPORT_MAX_CONFIG, key);
        return;
    }
    snprintf(r->config_key[i], sizeof r->config_key[i], "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->config_val[i], sizeof r->config_val[i], fmt, ap);
    va_end(ap);
    if (i == r->n_config) r->n_config++;
}

int cs_report_column(cs_report *r, const char *name)
{
    if (r->n_extra == CS_REPORT_MAX_EXTRA) {
        cs_warn("report: more than %d columns of the case's own; \"%s\" is not recorded", CS_REPORT_MAX_EXTRA, name);
        return -1;
    }
    snprintf(r->extra_name[r->n_extra], sizeof r->extra_name[0], "%s", name);
    return r->n_extra++;
}

void cs_result_extra(cs_result *row, int k, double v)
{
    if (k < 0 || k >= CS_REPORT_MAX_EXTRA) return;
    row->extra[k] = v;
    row->extra_set |= 1u << k;
}

cs_result *cs_report_add(cs_report *r, const cs_result *row)
{
    if (r->n == CS_REPORT_MAX_ROWS) {
        cs_warn("report: more than %d rows; \"%s\" is not recorded", CS_REPORT_MAX_ROWS, row->variant);
        return NULL;
    }
    r->rows[r->n] = *row;
    return &r->rows[r->n++];
}

cs_result *cs_report_skip(cs_report *r, const char *variant, const char *device, const char *reason)
{
    cs_result row;
    memset(&row, 0, sizeof row);
    snprintf(row.variant, sizeof row.variant, "%s", variant);
    snprintf(row.device, sizeof row.device, "%s", device ? device : "");
    snprintf(row.skip_reason, sizeof row.skip_reason, "%s", reason ? reason : "");
    row.ran = 0;
    row.throughput = NAN;
    row.speedup = NAN;
    row.check = cs_check_skipped();
    return cs_report_add(r, &row);
}

/* The row speedups are measured against: the named baseline when it ran,
 * else the first row that ran; NULL when nothing ran. */
static const cs_result *baseline_row(const cs_report *r)
{
    if (r->baseline[0]) {
        const cs_result *b = cs_report_find(r, r->baseline);
        if (b && b->ran) return b;
    }
    for (int i = 0; i < r->n; i++)
        if (r->rows[i].ran) return &r->rows[i];
    return NULL;
}

void cs_report_finish(cs_report *r)
{
    const cs_result *base = baseline_row(r);
    double base_median = base ? base->timing.time.median : NAN;
    for (int i = 0; i < r->n; i++) {
        cs_result *row = &r->rows[i];
        double median = row->timing.time.median;
        if (!row->ran || !(median > 0)) {
            row->throughput = NAN;
            row->speedup = NAN;
            continue;
        }
        row->throughput = row->work > 0 ? row->work / median : NAN;
        /* The baseline's own speedup is exactly 1, not a ratio that could
         * print as 0.99x through rounding. */
        if (row == base)
            row->speedup = 1.0;
        else
            row->speedup = base_median > 0 ? base_median / median : NAN;
    }
}

/* Share of the ceiling in percent, NaN when the row has none. */
static double pct_of_ceiling(const cs_result *row)
{
    if (!row->ran || !(row->ceiling > 0) || !isfinite(row->throughput)) return NAN;
    return 100.0 * row->throughput / row->ceiling;
}

/* ---- the table ---------------------------------------------------------- */

/* A rate with three significant digits without exponents: "1.62", "16.2",
 * "162", "1623". */
static char *fmt_rate(char *buf, size_t len, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (a >= 100)
        snprintf(buf, len, "%.0f", v);
    else if (a >= 10)
        snprintf(buf, len, "%.1f", v);
    else if (a >= 0.01 || a == 0)
        snprintf(buf, len, "%.2f", v);
    else
        snprintf(buf, len, "%.2g", v);
    return buf;
}

/* "1.0x", "23.4x", "1234x", "0.25x", "0.99x", "0.012x": below 1, two
 * decimals (two significant digits under 0.1), so that 0.998 prints as
 * "1.00x" and not as "1x", which %.2g would make of it. */
static char *fmt_speedup(char *buf, size_t len, double s)
{
    if (!isfinite(s))
        snprintf(buf, len, "-");
    else if (s >= 100)
        snprintf(buf, len, "%.0fx", s);
    else if (s >= 1)
        snprintf(buf, len, "%.1fx", s);
    else if (s >= 0.1)
        snprintf(buf, len, "%.2fx", s);
    else
        snprintf(buf, len, "%.2gx", s);
    return buf;
}

/* Colour only on the terminal's stdout, never inside a file. */
static const char *col(FILE *f, const char *code)
{
    return f == stdout ? code : "";
}

/* One table row's cells, formatted before printing so that the column
 * widths can be fitted to the contents. */
typedef struct {
    char median[32], spread[64], repeats[16], throughput[64], pct[16], speedup[16], error[16];
} table_cells;

static void format_cells(const cs_result *row, table_cells *c)
{
    char a[32], b[32];
    cs_format_time(row->timing.time.median, c->median, sizeof c->median);
    snprintf(c->spread, sizeof c->spread, "%s..%s", cs_format_time(row->timing.time.min, a, sizeof a),
             cs_format_time(row->timing.time.max, b, sizeof b));
    snprintf(c->repeats, sizeof c->repeats, "%d%s", row->timing.repeats, row->timing.reduced ? "*" : "");
    if (isfinite(row->throughput)) {
        fmt_rate(a, sizeof a, row->throughput);
        snprintf(c->throughput, sizeof c->throughput, "%s %s", a, row->unit);
    } else {
        snprintf(c->throughput, sizeof c->throughput, "-");
    }
    double pct = pct_of_ceiling(row);
    if (isfinite(pct))
        snprintf(c->pct, sizeof c->pct, "%.1f%%", pct);
    else
        snprintf(c->pct, sizeof c->pct, "-");
    fmt_speedup(c->speedup, sizeof c->speedup, row->speedup);
    if (cs_check_judged(row->check.status) && isfinite(row->check.rel_l2))
        snprintf(c->error, sizeof c->error, "%.2e", row->check.rel_l2);
    else
        snprintf(c->error, sizeof c->error, "-");
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

void cs_report_print(FILE *f, const cs_report *r)
{
    table_cells cells[CS_REPORT_MAX_ROWS];
    int any_ceiling = 0, any_reduced = 0;
    int w_var = (int)strlen("variant"), w_dev = (int)strlen("device");
    int w_med = (int)strlen("median"), w_spread = (int)strlen("min..max");
    int w_rep = (int)strlen("repeats"), w_tp = (int)strlen("throughput");
    for (int i = 0; i < r->n; i++) {
        const cs_result *row = &r->rows[i];
        w_var = max_int(w_var, (int)strlen(row->variant));
        w_dev = max_int(w_dev, (int)strlen(row->device));
        if (!row->ran) continue;
        format_cells(row, &cells[i]);
        w_med = max_int(w_med, (int)strlen(cells[i].median));
        w_spread = max_int(w_spread, (int)strlen(cells[i].spread));
        w_rep = max_int(w_rep, (int)strlen(cells[i].repeats));
        w_tp = max_int(w_tp, (int)strlen(cells[i].throughput));
        if (row->ceiling > 0) any_ceiling = 1;
        if (row->timing.reduced) any_reduced = 1;
    }

    fprintf(f, "%s  %-*s  %-*s  %*s  %-*s  %*s  %*s", col(f, cs_col_bold()), w_var, "variant", w_dev, "device", w_med,
            "median", w_spread, "min..max", w_rep, "repeats", w_tp, "throughput");
    if (any_ceiling) fprintf(f, "  %12s", "% of ceiling");
    fprintf(f, "  %7s  %-5s  %10s%s\n", "speedup", "check", "rel. error", col(f, cs_col_reset()));

    for (int i = 0; i < r->n; i++) {
        const cs_result *row = &r->rows[i];
        fprintf(f, "  %-*s  %-*s  ", w_var, row->variant, w_dev, row->device);
        if (!row->ran) {
            /* A reason said once: the rows after it that share it say so. */
            int same = i > 0 && !r->rows[i - 1].ran && strcmp(r->rows[i - 1].skip_reason, row->skip_reason) == 0;
            fprintf(f, "%sskipped: %s%s\n", col(f, cs_col_dim()), same ? "as above" : row->skip_reason,
                    col(f, cs_col_reset()));
            continue;
        }
        const table_cells *c = &cells[i];
        fprintf(f, "%*s  %-*s  %*s  %*s", w_med, c->median, w_spread, c->spread, w_rep, c->repeats, w_tp,
                c->throughput);
        if (any_ceiling) fprintf(f, "  %12s", c->pct);
        const char *word = cs_check_word(row->check.status);
        const char *colour = row->check.status == CS_CHECK_PASS   ? cs_col_pass()
                             : row->check.status == CS_CHECK_FAIL ? cs_col_fail()
                                                                  : "";
        /* Pad outside the colour codes so the columns stay aligned. */
        fprintf(f, "  %7s  %s%s%s%*s  %10s\n", c->speedup, col(f, colour), word, col(f, *colour ? cs_col_reset() : ""),
                5 - (int)strlen(word), "", c->error);
    }

    const cs_result *base = baseline_row(r);
    if (base) fprintf(f, "  speedup: median time of %s / median time of the row\n", base->variant);
    if (any_reduced) fprintf(f, "  * repeats lowered by the time budget\n");
    /* One line per distinct ceiling, in the order the rows use them. */
    for (int i = 0; i < r->n; i++) {
        const cs_result *row = &r->rows[i];
        if (!row->ran || !(row->ceiling > 0)) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) {
            const cs_result *p = &r->rows[j];
            seen = p->ran && p->ceiling == row->ceiling && strcmp(p->ceiling_name, row->ceiling_name) == 0 &&
                   strcmp(p->unit, row->unit) == 0;
        }
        if (seen) continue;
        char v[32];
        fprintf(f, "  %% of ceiling: against %s = %s %s measured this run\n",
                row->ceiling_name[0] ? row->ceiling_name : "this machine's ceiling",
                fmt_rate(v, sizeof v, row->ceiling), row->unit);
    }
}

/* ---- the files ------------------------------------------------------------ */

enum { CSV_COLUMNS = 18 };

static void write_csv(FILE *f, const cs_report *r)
{
    fputs("case,variant,device,repeats,median_s,min_s,max_s,throughput,unit,speedup,"
          "peak_mem_bytes,check,max_error,rel_l2,pct_of_ceiling,ceiling_name,skip_reason,config",
          f);
    for (int k = 0; k < r->n_extra; k++) fprintf(f, ",%s", r->extra_name[k]);
    fputc('\n', f);

    /* The configuration as one field: "key=value;key=value". */
    char config[CS_REPORT_MAX_CONFIG * (32 + 96 + 2)];
    size_t len = 0;
    config[0] = '\0';
    for (int i = 0; i < r->n_config && len < sizeof config; i++)
        len += (size_t)snprintf(config + len, sizeof config - len, "%s%s=%s", i ? ";" : "", r->config_key[i],
                                r->config_val[i]);

    for (int i = 0; i < r->n; i++) {
        const cs_result *row = &r->rows[i];
        int ran = row->ran;
        int checked = ran && cs_check_judged(row->check.status);
        /* Numbers are formatted into these; what does not apply stays "". */
        char repeats[16] = "", median[32], min[32], max[32], throughput[32], speedup[32];
        char peak[32] = "", max_error[32], rel_l2[32], pct[32];
        if (ran) snprintf(repeats, sizeof repeats, "%d", row->timing.repeats);
        if (ran) snprintf(peak, sizeof peak, "%zu", row->peak_mem);
        cs_fmt_num(median, sizeof median, ran ? row->timing.time.median : NAN);
        cs_fmt_num(min, sizeof min, ran ? row->timing.time.min : NAN);
        cs_fmt_num(max, sizeof max, ran ? row->timing.time.max : NAN);
        cs_fmt_num(throughput, sizeof throughput, ran ? row->throughput : NAN);
        cs_fmt_num(speedup, sizeof speedup, ran ? row->speedup : NAN);
        cs_fmt_num(max_error, sizeof max_error, checked ? row->check.max_abs : NAN);
        cs_fmt_num(rel_l2, sizeof rel_l2, checked ? row->check.rel_l2 : NAN);
        cs_fmt_num(pct, sizeof pct, pct_of_ceiling(row));

        const char *fields[CSV_COLUMNS] = {
            r->case_name,
            row->variant,
            row->device,
            repeats,
            median,
            min,
            max,
            throughput,
            row->unit,
            speedup,
            peak,
            cs_check_word(ran ? row->check.status : CS_CHECK_SKIP),
            max_error,
            rel_l2,
            pct,
            row->ceiling > 0 ? row->ceiling_name : "",
            ran ? "" : row->skip_reason,
            config,
        };
        char extra[CS_REPORT_MAX_EXTRA][32];
        const char *all[CSV_COLUMNS + CS_REPORT_MAX_EXTRA];
        memcpy(all, fields, sizeof fields);
        for (int k = 0; k < r->n_extra; k++) {
            extra[k][0] = '\0';
            if (ran && (row->extra_set >> k & 1u)) snprintf(extra[k], sizeof extra[k], "%.17g", row->extra[k]);
            all[CSV_COLUMNS + k] = extra[k];
        }
        cs_csv_row(f, all, CSV_COLUMNS + r->n_extra);
    }
}

/* A number, or null when it does not apply. */
static void json_num_if(cs_json *j, const char *key, int applies, double v)
{
    cs_json_kv_number(j, key, applies ? v : NAN);
}

static void write_json(FILE *f, const cs_report *r, const cs_sysinfo *s)
{
    cs_json j;
    cs_json_init(&j, f, 1);
    cs_json_begin_object(&j);
    cs_json_kv_string(&j, "case", r->case_name);
    cs_json_key(&j, "system");
    if (s)
        cs_sysinfo_json(&j, s);
    else
        cs_json_null(&j);
    cs_json_key(&j, "config");
    cs_json_begin_object(&j);
    for (int i = 0; i < r->n_config; i++) cs_json_kv_string(&j, r->config_key[i], r->config_val[i]);
    cs_json_end_object(&j);

    cs_json_key(&j, "results");
    cs_json_begin_array(&j);
    for (int i = 0; i < r->n; i++) {
        const cs_result *row = &r->rows[i];
        const cs_stats *t = &row->timing.time;
        int ran = row->ran;
        int checked = ran && cs_check_judged(row->check.status);
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "variant", row->variant);
        cs_json_kv_string(&j, "device", row->device);
        cs_json_kv_bool(&j, "ran", ran);
        cs_json_kv_string(&j, "skip_reason", ran ? NULL : row->skip_reason);
        if (ran) {
            cs_json_kv_int(&j, "repeats", row->timing.repeats);
            cs_json_kv_int(&j, "warmup", row->timing.warmup);
        } else {
            cs_json_key(&j, "repeats");
            cs_json_null(&j);
            cs_json_key(&j, "warmup");
            cs_json_null(&j);
        }
        json_num_if(&j, "median_s", ran, t->median);
        json_num_if(&j, "min_s", ran, t->min);
        json_num_if(&j, "max_s", ran, t->max);
        json_num_if(&j, "mean_s", ran, t->mean);
        json_num_if(&j, "stddev_s", ran, t->stddev);
        json_num_if(&j, "throughput", ran, row->throughput);
        cs_json_kv_string(&j, "unit", row->unit);
        json_num_if(&j, "speedup", ran, row->speedup);
        json_num_if(&j, "ceiling", row->ceiling > 0, row->ceiling);
        cs_json_kv_string(&j, "ceiling_name", row->ceiling > 0 ? row->ceiling_name : NULL);
        cs_json_kv_number(&j, "pct_of_ceiling", pct_of_ceiling(row));
        if (ran)
            cs_json_kv_int(&j, "peak_mem_bytes", (int64_t)row->peak_mem);
        else {
            cs_json_key(&j, "peak_mem_bytes");
            cs_json_null(&j);
        }
        cs_json_kv_string(&j, "check", cs_check_word(ran ? row->check.status : CS_CHECK_SKIP));
        json_num_if(&j, "max_error", checked, row->check.max_abs);
        json_num_if(&j, "rel_l2", checked, row->check.rel_l2);
        for (int k = 0; k < r->n_extra; k++)
            json_num_if(&j, r->extra_name[k], ran && (row->extra_set >> k & 1u), row->extra[k]);
        cs_json_end_object(&j);
    }
    cs_json_end_array(&j);
    cs_json_end_object(&j);
    fputc('\n', f);
}

int cs_report_write(const cs_report *r, const cs_sysinfo *s, const char *dir)
{
    if (cs_mkdir_p(dir) != 0) return -1;
    char path[CS_PATH_MAX];
    cs_outfile o;

    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "results.csv")) != 0) return -1;
    write_csv(o.f, r);
    if (cs_outfile_commit(&o) != 0) return -1;

    if (cs_outfile_open(&o, cs_path_join(path, sizeof path, dir, "results.json")) != 0) return -1;
    write_json(o.f, r, s);
    return cs_outfile_commit(&o);
}

int cs_report_any_fail(const cs_report *r)
{
    for (int i = 0; i < r->n; i++)
        if (r->rows[i].ran && r->rows[i].check.status == CS_CHECK_FAIL) return 1;
    return 0;
}

const cs_result *cs_report_find(const cs_report *r, const char *variant)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->rows[i].variant, variant) == 0) return &r->rows[i];
    return NULL;
}

void cs_report_chart(const cs_report *r, const char *dir, const char *name, const char *title, const char *ylabel,
                     int throughput)
{
    const char *labels[CS_REPORT_MAX_ROWS];
    const char *annot[CS_REPORT_MAX_ROWS];
    double value[CS_REPORT_MAX_ROWS];
    char text[CS_REPORT_MAX_ROWS][24];
    int n = 0;
    for (int i = 0; i < r->n; i++) {
        const cs_result *row = &r->rows[i];
        if (!row->ran) continue;
        labels[n] = row->variant;
        value[n] = throughput ? row->throughput : row->timing.time.median * 1e3;
        snprintf(text[n], sizeof text[n], "%.1fx", row->speedup);
        annot[n] = text[n];
        n++;
    }
    if (n == 0) return;
    cs_plot_bars(dir, name, title, ylabel, 1, labels, value, annot, n);
    cs_plot_render(dir, name);
}

/* Two decimals below 1.1x, so that a measured 1.03x never prints as "1.0x faster". */
static int cs_ratio_decimals(double ratio)
{
    return ratio < 1.095 ? 2 : 1;
}

const char *cs_compare_phrase(const cs_result *before, const cs_result *after, char *buf, size_t len, int *tie)
{
    const cs_stats *b = &before->timing.time, *a = &after->timing.time;
    int overlap = a->min <= b->max && b->min <= a->max;
    if (tie) *tie = overlap;
    if (overlap)
        snprintf(buf, len, "no faster within the measured spread (%.2fx on the medians)", b->median / a->median);
    else if (a->median < b->median)
        snprintf(buf, len, "%.*fx faster", cs_ratio_decimals(b->median / a->median), b->median / a->median);
    else
        snprintf(buf, len, "%.*fx slower", cs_ratio_decimals(a->median / b->median), a->median / b->median);
    return buf;
}
