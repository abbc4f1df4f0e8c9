/* hashed: views with hashed and cached lookups. Every row of views asked
 * the same questions again: which currency is "EUR" (up to twelve string
 * comparisons), what is " Groceries" normalized (a copy and a loop), is
 * 2026-03-14 a valid date, and above all, which group is (2026-03-14,
 * groceries) (a walk along a list of every group seen so far). Here:
 *  - the currency is found with one switch on its three bytes
 *    (c2_find_currency), in constant time;
 *  - each raw spelling of a category is normalized once, and remembered in
 *    a small hash table from its bytes to the normalized name;
 *  - each valid date is remembered (a direct-mapped cache), so a row of a
 *    known day checks only its time of day;
 *  - the groups live in a hash table (aggregate.c): one probe, usually one
 *    key comparison, however many groups there are.
 * Still the intermediate file between transform and load.
 *
 * What it teaches: an answer computed once and looked up after is cheaper
 * than the same answer computed again, and a lookup should cost the same
 * with ten entries as with ten thousand. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_console.h"
#include "aggregate.h"
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

/* The category cache: each distinct raw spelling of a category (the bytes
 * of its field, and whether its quotes need resolving: the same bytes then
 * mean another value) with its normalized name, in an open-addressing hash
 * table. The bytes of both sit in one growing text buffer. */
#define CATEGORY_CACHE_MAX 65536  /* spellings remembered; more are normalized every time */

typedef struct {
    uint64_t hash;
    size_t raw, raw_len;          /* the field's bytes: offset into text, length */
    size_t norm, norm_len;        /* the normalized name: offset into text, length */
    int escaped;                  /* the field's needs_unescape */
    int used;                     /* 0: an empty slot */
} cache_entry;

typedef struct {
    cache_entry *slots;
    size_t nslots, n;             /* nslots: a power of two, at most half full */
    char *text;
    size_t text_len, text_cap;
} category_cache;

/* The day cache: dates already found valid, direct-mapped (each date has one
 * slot, picked from its month and day; a date of another year in the same
 * slot replaces it). Every slot starts as 1970-01-01, a valid date, so a
 * match is always a date that passed the rule. */
#define DAY_SLOTS 512

typedef struct {
    char date[DAY_SLOTS][10];
} day_cache;

/* The buffers and caches transform_row reuses for every row. */
typedef struct {
    char *scratch;                /* a field's value with its quotes resolved */
    size_t scratch_cap;
    char *category;               /* the normalized category (when the cache is full) */
    size_t category_cap;
    category_cache categories;
    day_cache days;
} row_buffers;

/* Makes *buf hold at least n bytes. Returns 0 or OUT_OF_MEMORY. */
static int reserve(char **buf, size_t *cap, size_t n)
{
    if (n <= *cap) return 0;
    size_t bigger = n > 2 * *cap ? n : 2 * *cap;
    char *p = realloc(*buf, bigger);
    if (!p) return OUT_OF_MEMORY;
    *buf = p;
    *cap = bigger;
    return 0;
}

/* A field's value: the view itself, or, when its quotes need resolving, its
 * copy in the scratch buffer (never longer than the view). NULL when out of
 * memory. */
static const char *field_value(const c2_field *f, row_buffers *b, size_t *len)
{
    if (!f->needs_unescape) {
        *len = f->len;
        return f->ptr;
    }
    if (reserve(&b->scratch, &b->scratch_cap, f->len + 1) != 0) return NULL;
    *len = c2_field_copy(f, b->scratch, b->scratch_cap);
    return b->scratch;
}

/* The timestamp, its date looked up in the day cache first: a date seen
 * valid before leaves only the time of day ("THH:MM:SSZ") to check. Same
 * rule as c2_parse_timestamp, which checks the rest when the date is new. */
static size_t day_slot(const char *s)
{
    /* From the month's last digit and the day: the days of one month get
     * distinct slots. Any bytes give some slot (a hit compares all ten). */
    return ((size_t)(unsigned char)s[6] * 37 + (size_t)(unsigned char)s[8] * 11 +
            (unsigned char)s[9]) % DAY_SLOTS;
}

static int time_of_day_ok(const char *t, int *hour)
{
    static const char shape[] = "Tdd:dd:ddZ";           /* d: a digit */
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? (unsigned char)(t[i] - '0') > 9 : t[i] != shape[i]) return 0;
    int hh = (t[1] - '0') * 10 + (t[2] - '0');
    if (hh > 23 || t[4] > '5' || t[7] > '5') return 0;  /* minutes and seconds: 00-59 */
    *hour = hh;
    return 1;
}

static void day_cache_init(day_cache *c)
{
    for (size_t i = 0; i < DAY_SLOTS; i++) memcpy(c->date[i], "1970-01-01", 10);
}

static int parse_timestamp_cached(day_cache *c, const char *s, size_t len, char day[10], int *hour)
{
    if (len == 20 && memcmp(c->date[day_slot(s)], s, 10) == 0) {
        if (!time_of_day_ok(s + 10, hour)) return 0;
        memcpy(day, s, 10);
        return 1;
    }
    if (!c2_parse_timestamp(s, len, day, hour)) return 0;
    memcpy(c->date[day_slot(s)], s, 10);
    return 1;
}

/* The category, trimmed of spaces and tabs with A-Z lower-cased, into the
 * reused category buffer. NULL when out of memory. */
static const char *normalize_category(const char *s, size_t len, row_buffers *b, size_t *out_len)
{
    if (reserve(&b->category, &b->category_cap, len + 1) != 0) return NULL;
    *out_len = c2_normalize_category(s, len, b->category, b->category_cap);
    return b->category;
}

/* FNV-1a: a byte at a time, simple and good enough for a few hundred short
 * keys (the group table, with millions of lookups, uses a faster hash). */
static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

/* Doubles the slots (the first time: makes them). Returns 0 or OUT_OF_MEMORY. */
static int grow_category_cache(category_cache *c)
{
    size_t nslots = c->nslots ? 2 * c->nslots : 256;
    cache_entry *slots = calloc(nslots, sizeof *slots);
    if (!slots) return OUT_OF_MEMORY;
    for (size_t i = 0; i < c->nslots; i++) {
        if (!c->slots[i].used) continue;
        size_t s = c->slots[i].hash & (nslots - 1);
        while (slots[s].used) s = (s + 1) & (nslots - 1);
        slots[s] = c->slots[i];
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = nslots;
    return 0;
}

/* The category of a row, normalized: from the cache when its spelling was
 * seen before, else resolved, normalized and remembered. Valid until the
 * next call. NULL when out of memory. */
static const char *cached_category(const c2_field *f, row_buffers *b, size_t *out_len)
{
    category_cache *c = &b->categories;
    if (c->n * 2 >= c->nslots && grow_category_cache(c) != 0) return NULL;
    uint64_t hash = fnv1a(f->ptr, f->len) ^ (uint64_t)f->needs_unescape;
    size_t mask = c->nslots - 1, s;
    for (s = hash & mask; c->slots[s].used; s = (s + 1) & mask) {
        const cache_entry *e = &c->slots[s];
        if (e->hash == hash && e->escaped == f->needs_unescape && e->raw_len == f->len &&
            memcmp(c->text + e->raw, f->ptr, f->len) == 0) {
            *out_len = e->norm_len;
            return c->text + e->norm;
        }
    }

    /* A new spelling (s is the empty slot where it goes). */
    const char *v;
    size_t len;
    if (!(v = field_value(f, b, &len))) return NULL;
    if (c->n >= CATEGORY_CACHE_MAX) return normalize_category(v, len, b, out_len);
    if (reserve(&c->text, &c->text_cap, c->text_len + f->len + len + 1) != 0) return NULL;
    cache_entry *e = &c->slots[s];
    e->hash = hash;
    e->escaped = f->needs_unescape;
    e->raw = c->text_len;
    e->raw_len = f->len;
    memcpy(c->text + e->raw, f->ptr, f->len);
    e->norm = e->raw + e->raw_len;
    e->norm_len = c2_normalize_category(v, len, c->text + e->norm, len);
    e->used = 1;
    c->text_len = e->norm + e->norm_len;
    c->n++;
    *out_len = e->norm_len;
    return c->text + e->norm;
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

    if (!(s = field_value(ts, b, &len))) return OUT_OF_MEMORY;
    if (!parse_timestamp_cached(&b->days, s, len, row->day, &row->hour)) return C2_BAD_TIMESTAMP;
    row->day[10] = '\0';
    int64_t cents;
    if (!(s = field_value(amount, b, &len))) return OUT_OF_MEMORY;
    if (!c2_parse_amount(s, len, &cents)) return C2_BAD_AMOUNT;
    if (!(s = field_value(currency, b, &len))) return OUT_OF_MEMORY;
    int cur = c2_find_currency(s, len);
    if (cur < 0) return C2_UNKNOWN_CURRENCY;

    row->usd_cents = c2_to_usd_cents(cents, c2_rates[cur].rate_ppm);
    row->category = cached_category(category, b, &row->category_len);
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
    if (reserve(cat, cat_cap, row->category_len + 1) != 0) return OUT_OF_MEMORY;
    if (fread(*cat, 1, row->category_len, tmp) != row->category_len || fgetc(tmp) != '\n')
        return READ_ERROR;
    (*cat)[row->category_len] = '\0';
    row->category = *cat;
    return 1;
}

/* ---- load: the groups in a hash table (aggregate.c) ---------------------------------- */

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
    row_buffers buffers = {NULL, 0, NULL, 0, {NULL, 0, 0, NULL, 0, 0}, {{{0}}}};
    day_cache_init(&buffers.days);
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
    free(buffers.categories.slots);
    free(buffers.categories.text);
    return rc;
}

/* Load: reads the clean rows back and aggregates them; counts the accepted
 * rows and their hours. Returns 0 or 3. */
static int load(const char *tmp_path, c2_result *out, c2_groups *groups)
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
            c2_groups_add(groups, row.day, row.category, row.category_len, row.usd_cents);
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

int c2_run_hashed(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = open_input(job, &in);
    if (rc) return rc;
    char tmp_path[4096];
    FILE *tmp = create_tmp(job, "hashed", tmp_path, sizeof tmp_path);
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

    c2_groups *groups = c2_groups_new();
    if (rc == 0) rc = load(tmp_path, out, groups);
    if (rc == 0) c2_groups_to_result(groups, out);
    c2_groups_free(groups);
    remove(tmp_path);
    return rc;
}
