/* slow: the pipeline as first written, the way the course's Python version
 * is (the csv module, a list of strings per record, a temporary file between
 * the steps), carried over into C. Nothing in it is artificially slow; every
 * cost is one that real pipelines pay:
 *  - extract: the file is read a line at a time (getline); a line that
 *    leaves a quote open gets the next line appended; every field of every
 *    record is copied into a string of its own (one malloc per field);
 *  - transform: the timestamp goes through the C library's calendar
 *    (strptime, timegm, gmtime_r, strftime), the amount through strtod, the
 *    currency is compared with each known code in turn, the category is
 *    cleaned into a new string for every row, and each clean row is written
 *    as a line of text to a temporary file;
 *  - load: that file is read back, and each row's group is looked for in a
 *    linked list, from its head, by comparing strings.
 * Each phase is timed per row: the profiler's ~50 ns a call is small next to
 * what a row costs here. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cs_console.h"
#include "cs_profiler.h"
#include "pipeline.h"
#include "staged.h"

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY (-1)
#define READ_ERROR    (-2)
/* transform_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: lines -> records -> fields --------------------------------------- */

/* One field: its own malloc'd copy, NUL-terminated for the C library, and its
 * length (a quoted field may hold any byte, a NUL included). */
typedef struct {
    char *text;
    size_t len;
} field;

/* The fields of one record: a new, growing array for every record. */
typedef struct {
    field *items;
    size_t n, cap;
} field_list;

static void free_fields(field_list *fl)
{
    for (size_t i = 0; i < fl->n; i++) free(fl->items[i].text);
    free(fl->items);
    fl->items = NULL;
    fl->n = fl->cap = 0;
}

/* Appends one byte to a field's growing string (kept NUL-terminated). */
static int append_char(field *f, size_t *cap, char c)
{
    if (f->len + 2 > *cap) {
        size_t bigger = 2 * *cap;
        char *p = realloc(f->text, bigger);
        if (!p) return OUT_OF_MEMORY;
        f->text = p;
        *cap = bigger;
    }
    f->text[f->len++] = c;
    f->text[f->len] = '\0';
    return 0;
}

/* Reads the field that starts at rec[*pos] into a new string, resolving the
 * quotes as pipeline.h says, and leaves *pos on the ',' or the end after it.
 * Returns 0 or OUT_OF_MEMORY. */
static int read_field(const char *rec, size_t len, size_t *pos, field *f)
{
    size_t cap = 16, i = *pos;
    int failed = 0;
    f->len = 0;
    f->text = malloc(cap);
    if (!f->text) return OUT_OF_MEMORY;
    f->text[0] = '\0';
    if (i < len && rec[i] == '"') { /* a quoted field */
        for (i++; i < len;) {
            if (rec[i] == '"') {
                if (i + 1 < len && rec[i + 1] == '"') { /* "" stands for one " */
                    failed |= append_char(f, &cap, '"');
                    i += 2;
                    continue;
                }
                i++; /* the closing quote */
                break;
            }
            failed |= append_char(f, &cap, rec[i++]);
        }
    }
    /* Unquoted text, or text after the closing quote: as it is, up to the
     * next ',' or the end of the record. */
    size_t plain = i;
    while (i < len && rec[i] != ',' && rec[i] != '\n') failed |= append_char(f, &cap, rec[i++]);
    if (i < len && rec[i] == '\n' && i > plain && rec[i - 1] == '\r')
        f->text[--f->len] = '\0'; /* CR LF: the CR is not data */
    *pos = i;
    if (failed) {
        free(f->text);
        return OUT_OF_MEMORY;
    }
    return 0;
}

/* Splits a whole record (its lines, newlines included) into fields.
 * Returns 0 or OUT_OF_MEMORY. */
static int split_record(const char *rec, size_t len, field_list *out)
{
    size_t i = 0;
    for (;;) {
        field f;
        if (read_field(rec, len, &i, &f) != 0) return OUT_OF_MEMORY;
        if (out->n == out->cap) {
            size_t bigger = out->cap ? 2 * out->cap : 8;
            field *p = realloc(out->items, bigger * sizeof *p);
            if (!p) {
                free(f.text);
                return OUT_OF_MEMORY;
            }
            out->items = p;
            out->cap = bigger;
        }
        out->items[out->n++] = f;
        if (i < len && rec[i] == ',') {
            i++;
            continue;
        }
        return 0;
    }
}

/* Where a line leaves the quotes: the same rules as read_field, followed
 * from a given state over more text, so a record that spans lines is
 * checked one new line at a time. */
enum { AT_FIELD_START, IN_QUOTES, IN_PLAIN_TEXT };

static int quote_state_after(const char *s, size_t len, int state)
{
    for (size_t i = 0; i < len; i++) {
        if (state == AT_FIELD_START) {
            state = s[i] == '"' ? IN_QUOTES : s[i] == ',' ? AT_FIELD_START : IN_PLAIN_TEXT;
        } else if (state == IN_QUOTES) {
            if (s[i] == '"') {
                if (i + 1 < len && s[i + 1] == '"')
                    i++; /* "" stays inside */
                else
                    state = IN_PLAIN_TEXT;
            }
        } else if (s[i] == ',') {
            state = AT_FIELD_START;
        }
    }
    return state;
}

/* Reads the next record: a line, and the lines after it while a quoted field
 * is still open (the way a line reader copes with embedded newlines). Blank
 * lines are skipped. Returns 1 with the fields in *fields, or with
 * *unterminated set when the file ended inside a quoted field; 0 at the end
 * of the file; OUT_OF_MEMORY or READ_ERROR. */
static int read_record(FILE *in, char **line, size_t *line_cap, field_list *fields, int *unterminated)
{
    *unterminated = 0;
    ssize_t n;
    do {
        n = getline(line, line_cap, in);
        if (n < 0) return ferror(in) ? READ_ERROR : 0;
    } while (strcmp(*line, "\n") == 0 || strcmp(*line, "\r\n") == 0);

    size_t len = (size_t)n, cap = len + 1;
    char *rec = malloc(cap);
    if (!rec) return OUT_OF_MEMORY;
    memcpy(rec, *line, len + 1);
    int state = quote_state_after(rec, len, AT_FIELD_START);
    while (state == IN_QUOTES) { /* the record goes on in the next line */
        n = getline(line, line_cap, in);
        if (n < 0) {
            free(rec);
            if (ferror(in)) return READ_ERROR;
            *unterminated = 1; /* the file ended inside the quotes */
            return 1;
        }
        if (len + (size_t)n + 1 > cap) {
            cap = 2 * (len + (size_t)n + 1);
            char *longer = realloc(rec, cap);
            if (!longer) {
                free(rec);
                return OUT_OF_MEMORY;
            }
            rec = longer;
        }
        memcpy(rec + len, *line, (size_t)n + 1);
        state = quote_state_after(rec + len, (size_t)n, IN_QUOTES);
        len += (size_t)n;
    }
    int rc = split_record(rec, len, fields);
    free(rec);
    return rc == 0 ? 1 : rc;
}

/* ---- transform: check and convert one row ------------------------------------------ */

/* The timestamp through the C library's calendar. strptime checks each
 * number's range but not the date ("2026-02-30" passes), so the date goes
 * through timegm and back through gmtime_r: a date that does not exist
 * comes back changed (Feb 30 -> Mar 2) and is rejected. The shape is checked
 * first, because strptime skips spaces and takes one-digit numbers. */
static int parse_timestamp(const char *s, size_t len, char day[11], int *hour)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ"; /* d: a digit */
    if (len != sizeof shape - 1) return 0;
    for (size_t i = 0; i < len; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i]) return 0;

    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end != s + len) return 0;
    if (tm.tm_year + 1900 < 1970 || tm.tm_sec > 59) return 0; /* strptime takes leap seconds */

    struct tm asked = tm, back;
    time_t t = timegm(&tm);
    if (!gmtime_r(&t, &back)) return 0;
    if (back.tm_year != asked.tm_year || back.tm_mon != asked.tm_mon || back.tm_mday != asked.tm_mday) return 0;
    strftime(day, 11, "%Y-%m-%d", &back);
    *hour = back.tm_hour;
    return 1;
}

/* The amount: its shape by the rule first (strtod would also take " 12",
 * "+1", "1e5", "0x1A", "inf"), then its value by strtod.
 *
 * Why llround(strtod(s) * 100) is exactly the cents: an accepted amount is
 * N / 100 with N an integer, |N| < 1e12 < 2^40 (10 integer digits, 2
 * decimals). strtod returns N / 100 rounded to the nearest double, a relative
 * error of at most u = 2^-53; the product by 100 is rounded once more, by at
 * most u. The result is N * (1 + d) with |d| <= 2u + u^2 < 2^-51: an absolute
 * error below 2^40 * 2^-51 = 2^-11, far from the 0.5 it would take for
 * llround to land on a neighbour of N. (strtod reads '.' as the decimal point
 * because this program never calls setlocale.) */
static int amount_shape_ok(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-') i++;
    size_t digits = 0;
    while (i < len && isdigit((unsigned char)s[i])) i++, digits++;
    if (digits < 1 || digits > 10) return 0;
    if (i == len) return 1;
    if (s[i] != '.') return 0;
    i++;
    size_t decimals = 0;
    while (i < len && isdigit((unsigned char)s[i])) i++, decimals++;
    return i == len && decimals >= 1 && decimals <= 2;
}

static int parse_amount(const char *s, size_t len, int64_t *cents)
{
    if (!amount_shape_ok(s, len)) return 0;
    *cents = llround(strtod(s, NULL) * 100.0);
    return 1;
}

/* The currency: compared with each known code in turn. (The length check
 * catches a field with a NUL byte after a valid code.) */
static int find_currency(const char *s, size_t len)
{
    for (int i = 0; i < C2_NRATES; i++)
        if (strcmp(c2_rates[i].code, s) == 0 && strlen(c2_rates[i].code) == len) return i;
    return -1;
}

/* The category, trimmed of spaces and tabs with A-Z lower-cased, into a new
 * string. A-Z by hand: tolower would follow the locale. */
static char *normalize_category(const char *s, size_t len, size_t *out_len)
{
    size_t begin = 0, end = len;
    while (begin < end && (s[begin] == ' ' || s[begin] == '\t')) begin++;
    while (end > begin && (s[end - 1] == ' ' || s[end - 1] == '\t')) end--;
    char *cat = malloc(end - begin + 1);
    if (!cat) return NULL;
    for (size_t i = begin; i < end; i++)
        cat[i - begin] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    cat[end - begin] = '\0';
    *out_len = end - begin;
    return cat;
}

/* Checks a row by the rules, in the order of pipeline.h, and converts it.
 * Returns ACCEPTED (row filled; the caller frees row->category), the
 * c2_reason it is rejected for, or OUT_OF_MEMORY. */
static int transform_row(const c2_job *job, const field_list *fields, c2_clean_row *row)
{
    const int *col = job->header.index;
    if (fields->n < (size_t)job->header.nfields) return C2_MISSING_FIELD;
    if (fields->n > (size_t)job->header.nfields) return C2_EXTRA_FIELD;
    const field *ts = &fields->items[col[C2_COL_TIMESTAMP]];
    const field *amount = &fields->items[col[C2_COL_AMOUNT]];
    const field *currency = &fields->items[col[C2_COL_CURRENCY]];
    const field *category = &fields->items[col[C2_COL_CATEGORY]];

    if (!parse_timestamp(ts->text, ts->len, row->day, &row->hour)) return C2_BAD_TIMESTAMP;
    int64_t cents;
    if (!parse_amount(amount->text, amount->len, &cents)) return C2_BAD_AMOUNT;
    int cur = find_currency(currency->text, currency->len);
    if (cur < 0) return C2_UNKNOWN_CURRENCY;

    row->usd_cents = c2_to_usd_cents(cents, c2_rates[cur].rate_ppm);
    row->category = normalize_category(category->text, category->len, &row->category_len);
    if (!row->category) return OUT_OF_MEMORY;
    return ACCEPTED;
}

/* ---- the intermediate file and the linked list of groups (staged.c) ----------------- */

/* ---- the passes ---------------------------------------------------------------------- */

/* Extract and transform: each record of the input, each clean row to tmp.
 * Counts the rows and the rejections. Returns 0 or 3. */
static int extract_and_transform(const c2_job *job, FILE *in, FILE *tmp, const char *tmp_path, c2_result *out)
{
    int rc = 0;
    char *line = NULL;
    size_t line_cap = 0;
    while (rc == 0) {
        field_list fields = {NULL, 0, 0};
        int unterminated;
        cs_prof_begin("extract");
        int got = read_record(in, &line, &line_cap, &fields, &unterminated);
        cs_prof_end();
        if (got == 0) break;
        if (got != 1) {
            if (got == OUT_OF_MEMORY)
                cs_error("out of memory");
            else
                cs_error("%s: cannot read: %s", job->path, strerror(errno));
            rc = 3;
            break;
        }

        cs_prof_begin("transform");
        out->rows++;
        c2_clean_row row;
        int verdict = unterminated ? C2_UNTERMINATED_QUOTE : transform_row(job, &fields, &row);
        if (verdict == ACCEPTED) {
            if (c2_tmp_write_row(tmp, &row) != 0) {
                cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
                rc = 3;
            }
            free((char *)row.category); /* slow's new string for this row */
        } else if (verdict == OUT_OF_MEMORY) {
            cs_error("out of memory");
            rc = 3;
        } else {
            out->rejected[verdict]++;
        }
        free_fields(&fields);
        cs_prof_end();
    }
    free(line);
    return rc;
}

int c2_run_slow(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = c2_open_input(job, &in);
    if (rc) return rc;
    char tmp_path[4096];
    FILE *tmp = c2_tmp_create(job, "slow", tmp_path, sizeof tmp_path);
    if (!tmp) {
        fclose(in);
        return 3;
    }

    rc = extract_and_transform(job, in, tmp, tmp_path, out);
    fclose(in);
    if (fclose(tmp) != 0 && rc == 0) {
        cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
        rc = 3;
    }

    c2_group_node *groups = NULL;
    /* a new string for every row read back, as first written */
    if (rc == 0) rc = c2_tmp_load(tmp_path, out, 1, c2_group_list_add, &groups);
    if (rc == 0) c2_group_list_to_result(groups, out);
    c2_group_list_free(groups);
    c2_tmp_remove(tmp_path);
    return rc;
}
