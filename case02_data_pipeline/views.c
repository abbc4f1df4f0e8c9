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

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY C2_OUT_OF_MEMORY
#define READ_ERROR C2_READ_ERROR
/* transform_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: blocks -> records -> field views (block_reader.c) ----------------- */

/* ---- transform: check and convert one row ------------------------------------------ */

typedef struct {
    char day[11];                 /* "YYYY-MM-DD" */
    int hour;
    const char *category;         /* normalized, in a reused buffer */
    size_t category_len;
    int64_t usd_cents;
} clean_row;

/* The buffers transform_row reuses for every row. */
typedef struct {
    char *scratch;                /* a field's value with its quotes resolved */
    size_t scratch_cap;
    char *category;               /* the normalized category */
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
static int transform_row(const c2_job *job, const c2_record *rec, row_buffers *b, clean_row *row)
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

/* ---- the intermediate file ----------------------------------------------------------
 * One line of text per clean row: "day hour usd_cents category_len category".
 * The category goes last, as raw bytes after its length: it may hold any
 * byte (a quoted field can carry commas, quotes, even newlines), so no
 * separator could end it. */

static FILE *create_tmp(const c2_job *job, const char *variant, char *path, size_t path_len)
{
    const char *dir = job->tmp_dir ? job->tmp_dir : "/tmp";
    snprintf(path, path_len, "%s/case02_%s_XXXXXX", dir, variant);
    int fd = mkstemp(path);
    if (fd < 0) {
        cs_error("%s: cannot create a temporary file there: %s", dir, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        close(fd);
        remove(path);
    }
    return f;
}

static int write_row(FILE *tmp, const clean_row *row)
{
    fprintf(tmp, "%s %d %" PRId64 " %zu ", row->day, row->hour, row->usd_cents,
            row->category_len);
    fwrite(row->category, 1, row->category_len, tmp);
    fputc('\n', tmp);
    return ferror(tmp) ? -1 : 0;
}

/* Reads the next row back (its category into the reused buffer *cat).
 * Returns 1; 0 at the end; READ_ERROR when the file cannot be read or is not
 * what write_row wrote; OUT_OF_MEMORY. */
static int read_row(FILE *tmp, clean_row *row, char **cat, size_t *cat_cap)
{
    int got = fscanf(tmp, "%10s %d %" SCNd64 " %zu", row->day, &row->hour, &row->usd_cents,
                     &row->category_len);
    if (got == EOF && !ferror(tmp)) return 0;
    if (got != 4 || fgetc(tmp) != ' ' || row->hour < 0 || row->hour > 23) return READ_ERROR;
    if (c2_reserve(cat, cat_cap, row->category_len + 1) != 0) return OUT_OF_MEMORY;
    if (fread(*cat, 1, row->category_len, tmp) != row->category_len || fgetc(tmp) != '\n')
        return READ_ERROR;
    (*cat)[row->category_len] = '\0';
    row->category = *cat;
    return 1;
}

/* ---- load: the groups in a linked list ---------------------------------------------- */

typedef struct group_node {
    char day[11];
    char *category;
    size_t category_len;
    int64_t count, sum_cents, min_cents, max_cents;
    struct group_node *next;
} group_node;

/* Walks the list from its head: string comparisons with every group so far. */
static group_node *find_group(group_node *head, const char *day, const char *cat, size_t len)
{
    for (group_node *g = head; g; g = g->next)
        if (strcmp(g->day, day) == 0 && g->category_len == len && memcmp(g->category, cat, len) == 0)
            return g;
    return NULL;
}

/* Adds a row to its group, creating the group (at the head of the list). */
static int add_to_group(group_node **head, const clean_row *row)
{
    group_node *g = find_group(*head, row->day, row->category, row->category_len);
    if (!g) {
        g = malloc(sizeof *g);
        char *cat = malloc(row->category_len + 1);
        if (!g || !cat) {
            free(g);
            free(cat);
            return OUT_OF_MEMORY;
        }
        memcpy(cat, row->category, row->category_len + 1);
        memcpy(g->day, row->day, sizeof g->day);
        g->category = cat;
        g->category_len = row->category_len;
        g->count = g->sum_cents = 0;
        g->min_cents = g->max_cents = row->usd_cents;
        g->next = *head;
        *head = g;
    }
    if (row->usd_cents < g->min_cents) g->min_cents = row->usd_cents;
    if (row->usd_cents > g->max_cents) g->max_cents = row->usd_cents;
    g->count++;
    g->sum_cents += row->usd_cents;
    return 0;
}

static void groups_to_result(const group_node *head, c2_result *out)
{
    for (const group_node *n = head; n; n = n->next) {
        c2_group *g = c2_result_add_group(out, n->day, n->category, n->category_len);
        g->count = n->count;
        g->sum_cents = n->sum_cents;
        g->min_cents = n->min_cents;
        g->max_cents = n->max_cents;
    }
}

static void free_groups(group_node *head)
{
    while (head) {
        group_node *next = head->next;
        free(head->category);
        free(head);
        head = next;
    }
}

/* ---- the passes ---------------------------------------------------------------------- */

static int open_input(const c2_job *job, FILE **in)
{
    *in = fopen(job->path, "rb");
    if (!*in) {
        cs_error("%s: cannot open: %s", job->path, strerror(errno));
        return 2;
    }
    if (fseek(*in, (long)job->header.data_offset, SEEK_SET) != 0) {
        cs_error("%s: cannot read: %s", job->path, strerror(errno));
        fclose(*in);
        return 3;
    }
    return 0;
}

/* Extract and transform: each record of the input, each clean row to tmp.
 * Counts the rows and the rejections. Returns 0 or 3. */
static int extract_and_transform(const c2_job *job, FILE *in, FILE *tmp, const char *tmp_path,
                                 c2_result *out)
{
    int rc = 0;
    c2_block_reader reader = {in, NULL, 0, 0, 0, 0};
    row_buffers buffers = {NULL, 0, NULL, 0};
    c2_record rec;
    while (rc == 0) {
        cs_prof_begin("extract");
        int got = c2_next_record(&reader, &rec);
        cs_prof_end();
        if (got == 0) break;
        if (got != 1) {
            if (got == OUT_OF_MEMORY) cs_error("out of memory");
            else cs_error("%s: cannot read: %s", job->path, strerror(errno));
            rc = 3;
            break;
        }

        cs_prof_begin("transform");
        out->rows++;
        clean_row row;
        int verdict = rec.unterminated ? C2_UNTERMINATED_QUOTE
                                       : transform_row(job, &rec, &buffers, &row);
        if (verdict == ACCEPTED) {
            if (write_row(tmp, &row) != 0) {
                cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
                rc = 3;
            }
        } else if (verdict == OUT_OF_MEMORY) {
            cs_error("out of memory");
            rc = 3;
        } else {
            out->rejected[verdict]++;
        }
        cs_prof_end();
    }
    free(reader.buf);
    free(buffers.scratch);
    free(buffers.category);
    return rc;
}

/* Load: reads the clean rows back and aggregates them; counts the accepted
 * rows and their hours. Returns 0 or 3. */
static int load(const char *tmp_path, c2_result *out, group_node **groups)
{
    FILE *tmp = fopen(tmp_path, "rb");
    if (!tmp) {
        cs_error("%s: cannot open: %s", tmp_path, strerror(errno));
        return 3;
    }
    int rc = 0;
    char *cat = NULL;
    size_t cat_cap = 0;
    for (;;) {
        clean_row row;
        cs_prof_begin("load");
        int got = read_row(tmp, &row, &cat, &cat_cap);
        if (got == 1) {
            out->accepted++;
            out->hours[row.hour]++;
            if (add_to_group(groups, &row) != 0) got = OUT_OF_MEMORY;
        }
        cs_prof_end();
        if (got == 1) continue;
        if (got == OUT_OF_MEMORY) {
            cs_error("out of memory");
            rc = 3;
        } else if (got == READ_ERROR) {
            cs_error("%s: cannot read back the rows written", tmp_path);
            rc = 3;
        }
        break;
    }
    free(cat);
    fclose(tmp);
    return rc;
}

int c2_run_views(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = open_input(job, &in);
    if (rc) return rc;
    char tmp_path[4096];
    FILE *tmp = create_tmp(job, "views", tmp_path, sizeof tmp_path);
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

    group_node *groups = NULL;
    if (rc == 0) rc = load(tmp_path, out, &groups);
    if (rc == 0) groups_to_result(groups, out);
    free_groups(groups);
    remove(tmp_path);
    return rc;
}
