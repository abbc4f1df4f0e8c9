/* case02's job, defined once: every variant computes exactly this.
 *
 * INPUT: a CSV file of card transactions (RFC 4180 as people meet it).
 *  - An optional UTF-8 byte order mark (EF BB BF) at the very start is skipped.
 *  - The first record is the header. Columns are found by name, in any order:
 *    txn_id, timestamp, user_id, category, amount, currency, country (exact,
 *    case-sensitive names; other columns are allowed and ignored; a missing
 *    one is a usage error, exit 2).
 *  - Records end at LF; a CR right before the LF is dropped (CRLF files). The
 *    last record may lack its newline. An empty line (nothing, or only a CR,
 *    between two newlines) is skipped and not counted as a row.
 *  - Fields are separated by ','. A field that starts with '"' is quoted: it
 *    runs to the next '"' that is not doubled; inside it ',' CR and LF are
 *    data and '""' stands for one '"'. Characters between the closing quote
 *    and the next ',' or end of record are appended to the field as they are.
 *    A '"' inside an unquoted field is an ordinary character.
 *  - A quoted field still open at the end of the file makes the rest of the
 *    file one record, rejected as unterminated_quote (that is what RFC 4180
 *    implies; the generator only ever writes such a row last).
 *
 * ROWS: each data record is one row. A row is rejected, counted under the
 * FIRST reason that applies, in this order:
 *   unterminated_quote  (see above)
 *   missing_field       fewer fields than the header
 *   extra_field         more fields than the header
 *   bad_timestamp       not exactly YYYY-MM-DDTHH:MM:SSZ (20 characters, no
 *                       spaces) with year 1970-9999, month 1-12, day valid
 *                       for that month (leap years: Gregorian), hour 0-23,
 *                       minute 0-59, second 0-59
 *   bad_amount          not: optional '-', 1 to 10 digits, optionally '.'
 *                       and 1 or 2 digits (no spaces, '+' or exponent)
 *   unknown_currency    not exactly one of the codes of c2_rates (case-sensitive)
 * Every other row is accepted (txn_id, user_id and country are carried, not
 * checked).
 *
 * TRANSFORM of an accepted row:
 *   category: ASCII spaces and tabs trimmed at both ends, A-Z lower-cased
 *             (other bytes, UTF-8 included, unchanged);
 *   amount:   in cents of its currency (12.5 -> 1250), converted to US cents
 *             in integers: usd = round(cents * rate_ppm / 1e6), rounding
 *             half away from zero (c2_to_usd_cents), so every variant agrees
 *             to the cent;
 *   day:      "YYYY-MM-DD" of the timestamp; hour: its HH.
 *
 * LOAD: groups by (day, category): count, sum, min, max of the USD cents;
 * mean = sum / count rounded half away from zero to a cent. A 24-bin
 * histogram of accepted rows by hour. Output: the groups sorted by day, then
 * category (bytewise), as CSV (c2_write_groups_csv), and a summary of rows,
 * accepted and rejected by reason, and the histogram (c2_write_summary). */
#ifndef C2_PIPELINE_H
#define C2_PIPELINE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "text_arena.h"

/* ---- rejection reasons ---------------------------------------------------- */
typedef enum {
    C2_UNTERMINATED_QUOTE = 0,
    C2_MISSING_FIELD,
    C2_EXTRA_FIELD,
    C2_BAD_TIMESTAMP,
    C2_BAD_AMOUNT,
    C2_UNKNOWN_CURRENCY,
    C2_NREASONS
} c2_reason;

/* "unterminated_quote", "missing_field", ... (indexed by c2_reason) */
extern const char *const c2_reason_names[C2_NREASONS];

/* ---- the columns ------------------------------------------------------------ */
enum {
    C2_COL_TXN_ID,
    C2_COL_TIMESTAMP,
    C2_COL_USER_ID,
    C2_COL_CATEGORY,
    C2_COL_AMOUNT,
    C2_COL_CURRENCY,
    C2_COL_COUNTRY,
    C2_NCOLS
};
extern const char *const c2_column_names[C2_NCOLS];

typedef struct {
    int index[C2_NCOLS]; /* field index of each needed column */
    int nfields;         /* fields in the header: every row must have as many */
    size_t data_offset;  /* bytes of BOM + header record, newline included:
                              the data records start here */
} c2_header;

/* ---- the currency table ------------------------------------------------------ */
typedef struct {
    char code[4];     /* "EUR" */
    int64_t rate_ppm; /* US dollars per unit, in millionths: EUR 1080000 */
} c2_rate;
#define C2_NRATES 12
extern const c2_rate c2_rates[C2_NRATES];

/* ---- the result of the job ------------------------------------------------- */
typedef struct {
    char day[11];        /* "YYYY-MM-DD" */
    char *category;      /* normalized, NUL-terminated, owned by the result */
    size_t category_len; /* bytes (a category may contain a NUL only if the
                              input did; compare with memcmp on this length) */
    int64_t count, sum_cents, min_cents, max_cents;
} c2_group;

typedef struct {
    c2_group *groups; /* any order until c2_result_sort */
    size_t ngroups, cap;
    c2_text_arena text; /* the groups' category bytes, in a few large blocks
                              (one malloc per group would cost more than the
                              merge of 100,000 groups itself) */
    int64_t rows;       /* data records seen (blank lines excluded) */
    int64_t accepted;
    int64_t rejected[C2_NREASONS];
    int64_t hours[24]; /* accepted rows by hour */
} c2_result;

/* ---- the job given to every variant ---------------------------------------- */
typedef struct {
    const char *path; /* the input CSV */
    c2_header header; /* read once, before the rungs (steps.c) */
    int64_t file_bytes;
    const char *tmp_dir; /* where variants with an intermediate file put it */
    int threads;         /* OpenMP threads for the parallel variants */
} c2_job;

/* Every variant: reads job->path, fills out (initialized by the caller with
 * c2_result_init). Returns 0, or an exit code after a one-line message
 * (2: the file cannot be read; 3: out of memory or an I/O error). */
typedef int (*c2_variant_fn)(const c2_job *job, c2_result *out);

int c2_run_slow(const c2_job *job, c2_result *out);     /* 1_slow.c */
int c2_run_views(const c2_job *job, c2_result *out);    /* 2_views.c */
int c2_run_hashed(const c2_job *job, c2_result *out);   /* 3_hashed.c */
int c2_run_fused(const c2_job *job, c2_result *out);    /* 4_fused.c */
int c2_run_columnar(const c2_job *job, c2_result *out); /* 5_columnar.c */
int c2_run_parallel(const c2_job *job, c2_result *out); /* 6_parallel.c */
int c2_run_fast(const c2_job *job, c2_result *out);     /* 7_fast.c */

/* The reference every rung is checked against (reference.c): the job done
 * by plain code that shares nothing with the rungs, in one pass whose cost
 * grows with the input only. Same contract as a variant. */
int c2_reference(const c2_job *job, c2_result *out);

/* ---- shared rules (rules.c): the fast, allocation-free parsers ------------- */

/* Timestamp per the rule above: 1 and *day (10 chars, not terminated),
 * *hour set, or 0 when invalid. */
int c2_parse_timestamp(const char *s, size_t len, char day[10], int *hour);
/* Amount per the rule above: 1 and *cents set, or 0. */
int c2_parse_amount(const char *s, size_t len, int64_t *cents);
/* Index into c2_rates, or -1. */
int c2_find_currency(const char *s, size_t len);
/* round(cents * rate_ppm / 1e6), half away from zero. Inline: every
 * accepted row of every variant runs it, and a call costs more than it. */
static inline int64_t c2_to_usd_cents(int64_t cents, int64_t rate_ppm)
{
    /* |cents| < 1e12 and rate_ppm < 2e6: the product is below 2e18, inside
     * int64 (9.2e18). C's division truncates toward zero and the remainder
     * takes the dividend's sign, so rounding half away from zero is one
     * step up for a remainder >= 0.5 and one down for <= -0.5. Comparisons
     * are 0 or 1 and are added: no branch, whose direction would change
     * at random from row to row. */
    int64_t product = cents * rate_ppm;
    int64_t quotient = product / 1000000;
    int64_t remainder = product % 1000000;
    return quotient + (remainder >= 500000) - (remainder <= -500000);
}
/* Normalizes a category: trims spaces/tabs, lower-cases A-Z, writing at most
 * cap bytes to out; returns the normalized length (may exceed cap: then
 * only cap bytes were written). */
size_t c2_normalize_category(const char *s, size_t len, char *out, size_t cap);

/* ---- the record scanner (csv_scan.c) ------------------------------------------
 * Splits one record starting at buf[pos] (end = buffer end). Fields are
 * slices into the buffer; a field with '""' or text after its closing quote
 * needs unescaping (flag set), done by c2_field_copy into scratch space. */
typedef struct {
    const char *ptr;    /* first byte of the field's text (inside the quotes) */
    size_t len;         /* bytes, escapes included */
    int quoted;         /* started with '"' */
    int needs_unescape; /* contains '""' or trailing text after the quote */
} c2_field;

#define C2_MAX_FIELDS 64 /* fields kept per record; more are counted only */

typedef struct {
    c2_field fields[C2_MAX_FIELDS];
    int nfields;      /* fields in the record (may exceed C2_MAX_FIELDS) */
    int unterminated; /* a quoted field ran to the end of the buffer */
    int blank;        /* an empty line (skip it) */
} c2_record;

/* Scans the record at buf[pos..end); returns the position after it (after
 * its LF, or end). */
size_t c2_scan_record(const char *buf, size_t pos, size_t end, c2_record *rec);
/* The field's value with quotes resolved, into out (cap bytes); returns its
 * length (may exceed cap: then truncated). */
size_t c2_field_copy(const c2_field *f, char *out, size_t cap);

/* ---- header, results, output (output.c) ---------------------------------------- */

/* Reads the header of path. Returns 0, or 2 after a one-line message:
 * "FILE: cannot open: <reason>", "FILE: empty file", "FILE: binary file (NUL
 * byte at offset N)", "FILE: line 1: missing column 'amount' (found: a, b)". */
int c2_read_header(const char *path, c2_header *h);

/* Opens job->path positioned at its first record (after the header), for
 * the rungs that read with stdio. Returns 0, 2 (cannot open) or 3 (cannot
 * seek), with one line on stderr. */
int c2_open_input(const c2_job *job, FILE **in);

void c2_result_init(c2_result *r);
void c2_result_free(c2_result *r);
/* Makes room for this many groups in all (a caller that knows saves the
 * copies of growing). */
void c2_result_reserve(c2_result *r, size_t groups);
/* Appends a group (copies the category); returns it. */
c2_group *c2_result_add_group(c2_result *r, const char day[10], const char *cat, size_t cat_len);
/* Sorts groups by day, then category (bytewise). */
void c2_result_sort(c2_result *r);
/* Adds the counts and groups of src into dst (same keys merged). */
void c2_result_merge(c2_result *dst, const c2_result *src);
/* mean in cents, rounded half away from zero */
int64_t c2_group_mean(const c2_group *g);
/* Compares two sorted results; 0 if identical, else 1 with a one-line
 * description of the first difference in msg. */
int c2_result_compare(const c2_result *a, const c2_result *b, char *msg, size_t len);
/* The largest difference in cents between the sums, minimums, maximums and
 * means of two sorted results' groups, when they hold the same groups with
 * the same counts; -1 when they do not. */
double c2_result_max_error(const c2_result *a, const c2_result *b);
/* Writes the groups CSV / the summary CSV atomically. Return 0 or -1. */
int c2_write_groups_csv(const c2_result *r, const char *path);
int c2_write_summary(const c2_result *r, const char *path);

/* ---- the generator (generate.c) ----------------------------------------------- */
typedef struct {
    int64_t rows; /* data rows */
    uint64_t seed;
    double malformed;  /* share of malformed rows (default 0.005) */
    int crlf;          /* CRLF line endings */
    int bom;           /* write a UTF-8 BOM */
    int final_newline; /* end the last record with a newline (default 1) */
    /* The shape of the data (0: the default); see generate.c. */
    int categories; /* distinct categories (default 12) */
    int spellings;  /* spellings per category, of the five (default 5) */
    int days;       /* days from 2026-03-01 (default C2_GEN_DAYS) */
    double zipf;    /* category k drawn in proportion to 1/k^zipf (default 0: uniform) */
} c2_gen_options;

#define C2_GEN_DAYS           30
#define C2_GEN_MAX_CATEGORIES 100000
#define C2_GEN_MAX_DAYS       10000
#define C2_GEN_MAX_ZIPF       4.0

/* Writes a CSV per the options to path atomically. Returns 0, or 2/3 after
 * a one-line message. */
int c2_generate(const char *path, const c2_gen_options *o);

/* The shape the options give, their defaults filled in: categories,
 * spellings per category, days. */
void c2_gen_shape(const c2_gen_options *o, int *categories, int *spellings, int *days);

/* A clean row: what transform makes of an accepted record, and load takes.
 * The category's bytes belong to whoever filled the row (a new string in
 * slow, a reused buffer in the later rungs). */
typedef struct {
    char day[11]; /* "YYYY-MM-DD" */
    int hour;
    const char *category; /* normalized */
    size_t category_len;
    int64_t usd_cents;
} c2_clean_row;

/* FNV-1a: a byte at a time, simple and good enough for the caches of a few
 * hundred short keys (categories, days) of the hashed, fused and columnar
 * rungs; the group table, with millions of lookups, uses a faster hash. */
static inline uint64_t c2_fnv1a(const char *s, size_t len)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

#endif
