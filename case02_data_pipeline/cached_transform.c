/* Check and convert one row with cached lookups (see cached_transform.h). */
#include "cached_transform.h"

#include <stdlib.h>
#include <string.h>

#define OUT_OF_MEMORY C2_TRANSFORM_OUT_OF_MEMORY
#define ACCEPTED      C2_ACCEPTED

/* The timestamp, its date looked up in the day cache first: a date seen
 * valid before leaves only the time of day ("THH:MM:SSZ") to check. Same
 * rule as c2_parse_timestamp, which checks the rest when the date is new. */
static size_t day_slot(const char *s)
{
    /* From the month's last digit and the day: the days of one month get
     * distinct slots. Any bytes give some slot (a hit compares all ten). */
    return ((size_t)(unsigned char)s[6] * 37 + (size_t)(unsigned char)s[8] * 11 + (unsigned char)s[9]) % DAY_SLOTS;
}

static int time_of_day_ok(const char *t, int *hour)
{
    static const char shape[] = "Tdd:dd:ddZ"; /* d: a digit */
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? (unsigned char)(t[i] - '0') > 9 : t[i] != shape[i]) return 0;
    int hh = (t[1] - '0') * 10 + (t[2] - '0');
    if (hh > 23 || t[4] > '5' || t[7] > '5') return 0; /* minutes and seconds: 00-59 */
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
    if (c2_reserve(&b->category, &b->category_cap, len + 1) != 0) return NULL;
    *out_len = c2_normalize_category(s, len, b->category, b->category_cap);
    return b->category;
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
    uint64_t hash = c2_fnv1a(f->ptr, f->len) ^ (uint64_t)f->needs_unescape;
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
    if (!(v = c2_field_value(f, &b->scratch, &b->scratch_cap, &len))) return NULL;
    if (c->n >= CATEGORY_CACHE_MAX) return normalize_category(v, len, b, out_len);
    if (c2_reserve(&c->text, &c->text_cap, c->text_len + f->len + len + 1) != 0) return NULL;
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
int c2_transform_row(const c2_job *job, const c2_record *rec, row_buffers *b, c2_clean_row *row)
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
    if (!parse_timestamp_cached(&b->days, s, len, row->day, &row->hour)) return C2_BAD_TIMESTAMP;
    row->day[10] = '\0';
    int64_t cents;
    if (!(s = c2_field_value(amount, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    if (!c2_parse_amount(s, len, &cents)) return C2_BAD_AMOUNT;
    if (!(s = c2_field_value(currency, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    int cur = c2_find_currency(s, len);
    if (cur < 0) return C2_UNKNOWN_CURRENCY;

    row->usd_cents = c2_to_usd_cents(cents, c2_rates[cur].rate_ppm);
    row->category = cached_category(category, b, &row->category_len);
    if (!row->category) return OUT_OF_MEMORY;
    return ACCEPTED;
}

void c2_row_buffers_init(row_buffers *b)
{
    memset(b, 0, sizeof *b);
    day_cache_init(&b->days);
}

void c2_row_buffers_free(row_buffers *b)
{
    free(b->scratch);
    free(b->category);
    free(b->categories.slots);
    free(b->categories.text);
    memset(b, 0, sizeof *b);
}
