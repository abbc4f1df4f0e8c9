/* views: slow with no allocation per field or per row. The file is read in
 * large blocks into one buffer, and a record's fields are views of that
 * buffer (c2_field: a pointer and a length) instead of new strings. A field
 * is copied only when its quotes must be resolved ('""', or text after the
 * closing quote), into a scratch buffer that is reused for every row; the
 * category is normalized into another reused buffer. The timestamp and the
 * amount are parsed straight from their bytes (c2_parse_timestamp,
 * c2_parse_amount), which needs no NUL-terminated copy, unlike strptime and
 * strtod. Everything else is as in slow: the currency compared with each
 * code in turn, the intermediate file, the linked list of groups.
 *
 * What it teaches: a malloc and a free cost more than the few bytes they
 * carry, and copying data you only look at once is work for nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_console.h"
#include "cs_profiler.h"
#include "block_reader.h"
#include "pipeline.h"
#include "staged.h"

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY C2_OUT_OF_MEMORY
/* transform_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: blocks -> records -> field views (block_reader.c) ----------------- */

/* ---- transform: check and convert one row ------------------------------------------ */

/* The buffers transform_row reuses for every row. */
typedef struct {
    char *scratch; /* a field's value with its quotes resolved */
    size_t scratch_cap;
    char *category; /* the normalized category */
    size_t category_cap;
} row_buffers;

/* The currency: compared with each known code in turn. */
static int find_currency(const char *s, size_t len)
{
    for (int i = 0; i < C2_NRATES; i++)
        if (len == 3 && memcmp(c2_rates[i].code, s, 3) == 0) return i;
    return -1;
}

/* The category, trimmed of spaces and tabs with A-Z lower-cased, into the
 * reused category buffer. NULL when out of memory. */
static const char *normalize_category(const char *s, size_t len, row_buffers *b, size_t *out_len)
{
    if (c2_reserve(&b->category, &b->category_cap, len + 1) != 0) return NULL;
    *out_len = c2_normalize_category(s, len, b->category, b->category_cap);
    return b->category;
}

/* Checks a row by the rules, in the order of pipeline.h, and converts it.
 * Returns ACCEPTED (row filled; its category lives in b until the next row),
 * the c2_reason it is rejected for, or OUT_OF_MEMORY. */
static int transform_row(const c2_job *job, const c2_record *rec, row_buffers *b, c2_clean_row *row)
{
    const int *col = job->header.index;
    if (rec->nfields < job->header.nfields) return C2_MISSING_FIELD;
    if (rec->nfields > job->header.nfields) return C2_EXTRA_FIELD;
    const c2_field *ts = &rec->fields[col[C2_COL_TIMESTAMP]];
    const c2_field *amount = &rec->fields[col[C2_COL_AMOUNT]];
    const c2_field *currency = &rec->fields[col[C2_COL_CURRENCY]];
    const c2_field *category = &rec->fields[col[C2_COL_CATEGORY]];
    const char *s;
    size_t len;

    if (!(s = c2_field_value(ts, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    if (!c2_parse_timestamp(s, len, row->day, &row->hour)) return C2_BAD_TIMESTAMP;
    row->day[10] = '\0';
    int64_t cents;
    if (!(s = c2_field_value(amount, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    if (!c2_parse_amount(s, len, &cents)) return C2_BAD_AMOUNT;
    if (!(s = c2_field_value(currency, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    int cur = find_currency(s, len);
    if (cur < 0) return C2_UNKNOWN_CURRENCY;

    row->usd_cents = c2_to_usd_cents(cents, c2_rates[cur].rate_ppm);
    if (!(s = c2_field_value(category, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    row->category = normalize_category(s, len, b, &row->category_len);
    if (!row->category) return OUT_OF_MEMORY;
    return ACCEPTED;
}

/* ---- the intermediate file and the linked list of groups (staged.c) ----------------- */

/* ---- the passes ---------------------------------------------------------------------- */

/* The transform as c2_extract_to_tmp calls it. */
static int transform(const c2_job *job, const c2_record *rec, void *buffers, c2_clean_row *row)
{
    return transform_row(job, rec, buffers, row);
}

int c2_run_views(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = c2_open_input(job, &in);
    if (rc) return rc;
    char tmp_path[4096];
    FILE *tmp = c2_tmp_create(job, "views", tmp_path, sizeof tmp_path);
    if (!tmp) {
        fclose(in);
        return 3;
    }

    row_buffers buffers = {NULL, 0, NULL, 0};
    rc = c2_extract_to_tmp(job, in, tmp, tmp_path, out, transform, &buffers);
    free(buffers.scratch);
    free(buffers.category);
    fclose(in);
    if (fclose(tmp) != 0 && rc == 0) {
        cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
        rc = 3;
    }

    c2_group_node *groups = NULL;
    if (rc == 0) rc = c2_tmp_load(tmp_path, out, 0, c2_group_list_add, &groups);
    if (rc == 0) c2_group_list_to_result(groups, out);
    c2_group_list_free(groups);
    c2_tmp_remove(tmp_path);
    return rc;
}
