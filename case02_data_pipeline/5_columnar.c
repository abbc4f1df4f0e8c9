/* columnar: fused with one change: rows in columnar batches. fused took each
 * record through every step before the next one: scan, check, convert,
 * hash the group, update it. Each row's work was a long chain of calls and
 * branches, and the CPU's vector units sat idle. Here the records of a
 * block are parsed a batch at a time (4096 rows) into arrays, one per
 * column: day id, hour, category id, amount in cents, currency, reject
 * reason. Then each step is a plain loop over whole columns:
 *   transform: the USD conversion of every amount, the reason counts and the
 *              hour histogram, loops the compiler vectorizes;
 *   aggregate: groups in a dense table indexed by (day id, category id),
 *              no hashing at all (ids come from small dictionaries filled
 *              while parsing), instead of a hash table probed per row.
 * The reading is unchanged (large blocks, fread). The phases, per batch:
 * "read", "parse", "transform", "aggregate".
 *
 * What it teaches: the same work, organized as simple loops over arrays,
 * lets the compiler use SIMD and the CPU overlap iterations; and a lookup
 * that can be an array index should be one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "aggregate.h"
#include "cs_profiler.h"
#include "block_reader.h"
#include "columnar.h"
#include "pipeline.h"

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY C2_OUT_OF_MEMORY
/* check_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: blocks -> records -> field views ------------------------------------ */

/* block_reader.c: c2_block_read, c2_block_next_record. */

/* ---- parse: records -> columns ---------------------------------------------------- */

#define BATCH_ROWS 4096 /* rows per batch: its columns (120 KiB) stay in the L2 cache */
#define NO_HOUR    24   /* the hour of a rejected row: a 25th bin, never reported */

/* One batch of rows as columns: element i of every array is row i. A
 * rejected row keeps its place (its reason says why) with harmless values
 * in the other columns (day 0, category 0, currency 0, 0 cents, NO_HOUR),
 * so the loops of transform and aggregate run over every row without
 * asking first whether it was accepted. */
typedef struct {
    int n;                        /* rows in the batch */
    uint8_t reason[BATCH_ROWS];   /* c2_reason, or ACCEPTED */
    uint8_t hour[BATCH_ROWS];     /* 0-23, or NO_HOUR */
    int32_t day[BATCH_ROWS];      /* day id (the days dictionary) */
    int32_t category[BATCH_ROWS]; /* category id (the names dictionary) */
    int32_t currency[BATCH_ROWS]; /* index into c2_rates; 32 bits: GCC turns
                                         rate[currency[i]] into a vector gather for
                                         32- or 64-bit indexes, not for 8-bit ones */
    int64_t cents[BATCH_ROWS];    /* the amount in cents of its currency */
    int64_t usd[BATCH_ROWS];      /* transform's output: US cents */
} batch;

/* The dictionaries: strings to small ids, in open-addressing hash tables
 * (fused's category cache, with an id where it kept the normalized name).
 * There are three:
 *   spellings: a category's raw bytes (and whether its quotes need
 *              resolving: the same bytes then mean another value) -> its id;
 *   names:     a normalized category -> its id, so that "Fuel" and " FUEL"
 *              share one;
 *   days:      a date found valid ("YYYY-MM-DD") -> its id, so a row of a
 *              known day checks only its time of day (with fused's day
 *              cache in front of it).
 * Ids count from 0 in the order first seen: they index the dense table. */
#define SPELLINGS_MAX 65536 /* spellings remembered; more are normalized every time */

typedef struct {
    uint64_t hash;
    size_t key, key_len; /* the key's bytes: offset into text, length */
    int escaped;         /* spellings: the field's needs_unescape */
    int id;
    int used; /* 0: an empty slot */
} dict_entry;

typedef struct {
    dict_entry *slots;
    size_t nslots, n; /* nslots: a power of two, at most half full */
    char *text;       /* the bytes of every key */
    size_t text_len, text_cap;
    size_t *key_at; /* the n-th key added: offset into text (for names and
                                     days the n-th key has id n: id -> its text) */
    size_t key_at_cap;
} dict;

/* fused's day cache, with each date's id: dates already found valid,
 * direct-mapped (each date has one slot, picked from its month and day; a
 * date of another year in the same slot replaces it). A hit costs one
 * 10-byte comparison; a miss goes to the days dictionary. */
#define DAY_SLOTS 512

typedef struct {
    char date[DAY_SLOTS][10];
    int32_t id[DAY_SLOTS]; /* -1: an empty slot */
} day_cache;

/* The buffers, dictionaries and caches parse_row reuses for every row. */
typedef struct {
    char *scratch; /* a field's value with its quotes resolved */
    size_t scratch_cap;
    char *category; /* a category being normalized */
    size_t category_cap;
    dict spellings, names, days;
    day_cache recent_days;
} row_buffers;

static size_t day_slot(const char *s)
{
    /* From the month's last digit and the day: the days of one month get
     * distinct slots. Any bytes give some slot (a hit compares all ten). */
    return ((size_t)(unsigned char)s[6] * 37 + (size_t)(unsigned char)s[8] * 11 + (unsigned char)s[9]) % DAY_SLOTS;
}

static void day_cache_init(day_cache *c)
{
    for (size_t i = 0; i < DAY_SLOTS; i++) c->id[i] = -1;
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

/* Doubles the slots (the first time: makes them). Returns 0 or OUT_OF_MEMORY. */
static int grow_dict(dict *d)
{
    size_t nslots = d->nslots ? 2 * d->nslots : 256;
    dict_entry *slots = calloc(nslots, sizeof *slots);
    if (!slots) return OUT_OF_MEMORY;
    for (size_t i = 0; i < d->nslots; i++) {
        if (!d->slots[i].used) continue;
        size_t s = d->slots[i].hash & (nslots - 1);
        while (slots[s].used) s = (s + 1) & (nslots - 1);
        slots[s] = d->slots[i];
    }
    free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return 0;
}

/* The entry of key: the one holding it (used), or the empty slot where it
 * goes (not used). NULL when out of memory. */
static dict_entry *dict_find(dict *d, uint64_t hash, const char *key, size_t len, int escaped)
{
    if (d->n * 2 >= d->nslots && grow_dict(d) != 0) return NULL;
    size_t mask = d->nslots - 1, s;
    for (s = hash & mask; d->slots[s].used; s = (s + 1) & mask) {
        dict_entry *e = &d->slots[s];
        if (e->hash == hash && e->escaped == escaped && e->key_len == len && memcmp(d->text + e->key, key, len) == 0)
            return e;
    }
    return &d->slots[s];
}

/* Fills the empty slot e with key -> id. Returns 0 or OUT_OF_MEMORY. */
static int dict_add(dict *d, dict_entry *e, uint64_t hash, const char *key, size_t len, int escaped, int id)
{
    if (c2_reserve(&d->text, &d->text_cap, d->text_len + len + 1) != 0) return OUT_OF_MEMORY;
    if (d->n == d->key_at_cap) {
        size_t cap = d->key_at_cap ? 2 * d->key_at_cap : 64;
        size_t *p = realloc(d->key_at, cap * sizeof *p);
        if (!p) return OUT_OF_MEMORY;
        d->key_at = p;
        d->key_at_cap = cap;
    }
    e->hash = hash;
    e->key = d->text_len;
    e->key_len = len;
    e->escaped = escaped;
    e->id = id;
    e->used = 1;
    memcpy(d->text + e->key, key, len);
    d->text_len += len;
    d->key_at[d->n++] = e->key;
    return 0;
}

/* The k-th key added and its length (keys are appended to text in order, so
 * a key ends where the next one starts). */
static const char *dict_key(const dict *d, size_t k, size_t *len)
{
    size_t at = d->key_at[k];
    *len = (k + 1 < d->n ? d->key_at[k + 1] : d->text_len) - at;
    return d->text + at;
}

static void dict_free(dict *d)
{
    free(d->slots);
    free(d->text);
    free(d->key_at);
}

/* The id of a row's category: from the spellings when this spelling was
 * seen before, else resolved, normalized, looked up among the names (a new
 * name gets the next id) and remembered. Returns the id, or OUT_OF_MEMORY. */
static int category_id(const c2_field *f, row_buffers *b)
{
    uint64_t hash = c2_fnv1a(f->ptr, f->len) ^ (uint64_t)f->needs_unescape;
    dict_entry *e = dict_find(&b->spellings, hash, f->ptr, f->len, f->needs_unescape);
    if (!e) return OUT_OF_MEMORY;
    if (e->used) return e->id;

    /* A new spelling (e is the empty slot where it goes). */
    const char *v;
    size_t len;
    if (!(v = c2_field_value(f, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    if (c2_reserve(&b->category, &b->category_cap, len + 1) != 0) return OUT_OF_MEMORY;
    size_t norm_len = c2_normalize_category(v, len, b->category, b->category_cap);
    uint64_t norm_hash = c2_fnv1a(b->category, norm_len);
    dict_entry *name = dict_find(&b->names, norm_hash, b->category, norm_len, 0);
    if (!name) return OUT_OF_MEMORY;
    if (!name->used && dict_add(&b->names, name, norm_hash, b->category, norm_len, 0, (int)b->names.n) != 0)
        return OUT_OF_MEMORY;
    if (b->spellings.n < SPELLINGS_MAX &&
        dict_add(&b->spellings, e, hash, f->ptr, f->len, f->needs_unescape, name->id) != 0)
        return OUT_OF_MEMORY;
    return name->id;
}

/* The timestamp: 1 with its day id and hour, 0 when invalid, or
 * OUT_OF_MEMORY. A date already in the days dictionary passed the rule
 * once: only its time of day ("THH:MM:SSZ") is left to check. Same rule as
 * c2_parse_timestamp, which checks everything when the date is new. */
static int timestamp_day(const char *s, size_t len, row_buffers *b, int32_t *day, uint8_t *hour)
{
    if (len != 20) return 0;
    int hh;
    day_cache *c = &b->recent_days;
    size_t slot = day_slot(s);
    if (c->id[slot] >= 0 && memcmp(c->date[slot], s, 10) == 0) {
        if (!time_of_day_ok(s + 10, &hh)) return 0;
        *day = c->id[slot];
        *hour = (uint8_t)hh;
        return 1;
    }
    uint64_t hash = c2_fnv1a(s, 10);
    dict_entry *e = dict_find(&b->days, hash, s, 10, 0);
    if (!e) return OUT_OF_MEMORY;
    if (e->used) {
        if (!time_of_day_ok(s + 10, &hh)) return 0;
    } else {
        char date[10];
        if (!c2_parse_timestamp(s, len, date, &hh)) return 0;
        if (dict_add(&b->days, e, hash, s, 10, 0, (int)b->days.n) != 0) return OUT_OF_MEMORY;
    }
    memcpy(c->date[slot], s, 10);
    c->id[slot] = e->id;
    *day = e->id;
    *hour = (uint8_t)hh;
    return 1;
}

/* Checks a row by the rules, in the order of pipeline.h, filling its
 * columns in row i. Returns ACCEPTED, the c2_reason it is rejected for, or
 * OUT_OF_MEMORY. */
static int check_row(const c2_job *job, const c2_record *rec, row_buffers *b, batch *bt, int i)
{
    if (rec->unterminated) return C2_UNTERMINATED_QUOTE;
    const int *col = job->header.index;
    if (rec->nfields < job->header.nfields) return C2_MISSING_FIELD;
    if (rec->nfields > job->header.nfields) return C2_EXTRA_FIELD;
    const c2_field *ts = &rec->fields[col[C2_COL_TIMESTAMP]];
    const c2_field *amount = &rec->fields[col[C2_COL_AMOUNT]];
    const c2_field *currency = &rec->fields[col[C2_COL_CURRENCY]];
    const c2_field *category = &rec->fields[col[C2_COL_CATEGORY]];
    const char *s;
    size_t len;
    int ok;

    if (!(s = c2_field_value(ts, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    if ((ok = timestamp_day(s, len, b, &bt->day[i], &bt->hour[i])) != 1)
        return ok == 0 ? C2_BAD_TIMESTAMP : OUT_OF_MEMORY;
    if (!(s = c2_field_value(amount, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    if (!c2_parse_amount(s, len, &bt->cents[i])) return C2_BAD_AMOUNT;
    if (!(s = c2_field_value(currency, &b->scratch, &b->scratch_cap, &len))) return OUT_OF_MEMORY;
    int cur = c2_find_currency(s, len);
    if (cur < 0) return C2_UNKNOWN_CURRENCY;
    bt->currency[i] = cur;

    int cat = category_id(category, b);
    if (cat < 0) return OUT_OF_MEMORY;
    bt->category[i] = cat;
    return ACCEPTED;
}

/* Appends a record to the batch as row bt->n. Returns 0 or OUT_OF_MEMORY. */
static int parse_row(const c2_job *job, const c2_record *rec, row_buffers *b, batch *bt)
{
    int i = bt->n++;
    int verdict = check_row(job, rec, b, bt, i);
    if (verdict == OUT_OF_MEMORY) return OUT_OF_MEMORY;
    bt->reason[i] = (uint8_t)verdict;
    if (verdict != ACCEPTED) { /* the harmless values of a rejected row */
        bt->hour[i] = NO_HOUR;
        bt->day[i] = 0;
        bt->category[i] = 0;
        bt->currency[i] = 0;
        bt->cents[i] = 0;
    }
    return 0;
}

/* ---- transform: plain loops over the columns ------------------------------------------
 * Each loop does one simple thing to every row of the batch, with no
 * branch and no call, so the compiler turns it into SIMD code: 4 (AVX2) to
 * 8 (AVX-512) rows per instruction. Check with
 *   gcc -O3 -march=native -fopt-info-vec ... 5_columnar.c
 * which prints "loop vectorized" with the line of each loop it vectorized
 * (GCC 12, AVX2: the three loops below). */

/* The rates as the USD loop wants them: an integer for the exact product,
 * and a double per cent for the estimate. */
typedef struct {
    int64_t ppm[C2_NRATES];
    double per_cent[C2_NRATES]; /* rate_ppm / 1e6 */
} rate_columns;

static void rate_columns_init(rate_columns *r)
{
    for (int k = 0; k < C2_NRATES; k++) {
        r->ppm[k] = c2_rates[k].rate_ppm;
        r->per_cent[k] = (double)c2_rates[k].rate_ppm / 1e6;
    }
}

static inline double bits_to_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d); /* a reinterpretation: no instruction at all */
    return d;
}

static inline uint64_t double_to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* The bits of the double 2^52. Between 2^52 and 2^53 doubles are exactly
 * the integers, and the low 52 bits of such a double are the integer minus
 * 2^52. So, for 0 <= x < 2^52: (double)x == bits_to_double(x | TWO52_BITS)
 * - 2^52, and for a double 0 <= y < 2^51, the integer nearest to y is
 * double_to_bits(y + 2^52) - TWO52_BITS. */
#define TWO52_BITS 0x4330000000000000ull

/* US cents of every row: round(cents * rate_ppm / 1e6), half away from zero,
 * exactly as c2_to_usd_cents.
 *
 * c2_to_usd_cents divides an int64 by 1e6. A division by a constant is
 * compiled into a multiplication by its inverse that needs the high 64 bits
 * of a 64x64-bit product, which no AVX2 vector instruction computes, and
 * AVX2 cannot convert int64 to double either: written that way, this loop
 * stays scalar (-fopt-info-vec: "not vectorized"). So it is written with
 * what vectors have:
 *   1. a = |cents| (< 1e12) as a double, exactly, by the 2^52 trick above;
 *   2. the quotient q estimated in double: a * rate / 1e6 + 0.5, rounded to
 *      the nearest integer (2^52 trick again). The estimate's error is below
 *      1e-3 (three roundings of 2^-53 relative, on values below 1.3e12), so
 *      q is the exact answer or off by one;
 *   3. the remainder computed exactly in int64 (the product a * rate is
 *      below 1.3e18): r = a * rate + 500000 - q * 1e6. The exact answer has
 *      0 <= r < 1e6; r < 0 means q is one too big, r >= 1e6 one too small.
 *      A comparison is 0 or 1: added without a branch;
 *   4. the sign of cents put back (half away from zero is symmetric).
 * Every step is an element-wise multiply, add, compare or select: the
 * vectorizer handles it (the rate is a gather indexed by currency). */
static void usd_cents(int n, const int64_t *restrict cents, const int32_t *restrict currency,
                      const int64_t *restrict rate_ppm, const double *restrict rate_per_cent, int64_t *restrict usd)
{
    for (int i = 0; i < n; i++) {
        int64_t c = cents[i];
        int64_t a = c < 0 ? -c : c;
        double a_double = bits_to_double((uint64_t)a | TWO52_BITS) - 0x1p52;
        double estimate = a_double * rate_per_cent[currency[i]] + 0.5;
        int64_t q = (int64_t)(double_to_bits(estimate + 0x1p52) - TWO52_BITS);
        int64_t r = a * rate_ppm[currency[i]] + 500000 - q * 1000000;
        q += (r >= 1000000) - (r < 0);
        usd[i] = c < 0 ? -q : q;
    }
}

/* The rows of each reason (and the accepted ones), and the hour histogram.
 * A histogram written as hist[hour[i]]++ does not vectorize: two rows of the
 * same hour in one vector would need the same counter incremented twice (a
 * conflict), so the compiler keeps it scalar. Counting one value at a time
 * over the whole column does vectorize: compare 32 bytes with the value, add
 * the 0/1 results. 7 + 24 passes over a few KiB of bytes, all in L1. */
static void count_reasons_and_hours(const batch *bt, c2_result *out)
{
    const int n = bt->n;
    const uint8_t *restrict reason = bt->reason;
    const uint8_t *restrict hour = bt->hour;
    out->rows += n;
    for (int k = 0; k <= ACCEPTED; k++) {
        int count = 0;
        for (int i = 0; i < n; i++) count += reason[i] == k;
        if (k == ACCEPTED)
            out->accepted += count;
        else
            out->rejected[k] += count;
    }
    for (int h = 0; h < 24; h++) { /* NO_HOUR (24) is never counted */
        int count = 0;
        for (int i = 0; i < n; i++) count += hour[i] == h;
        out->hours[h] += count;
    }
}

/* ---- aggregate: a dense table of the groups ---------------------------------------------
 * Day and category ids are small (tens of each), so a group needs no hash
 * at all: its accumulators sit at [day * cat_dim + category] of four plain
 * arrays. Adding a row is four loads and four stores at a computed index:
 * no hashing, no key comparison, no probing (fused's c2_groups_add hashes
 * and compares the day and the category for every row). One more cell at
 * the end, the trash cell, takes the rejected rows, so the loop has no
 * branch to mispredict.
 *
 * This loop is a scatter (the index comes from the data) with conflicts
 * (many rows of one batch hit the same group), so it does not vectorize;
 * its speed comes from being short and cache-resident.
 *
 * The table grows (doubling a dimension) when a batch brings a new day or
 * category beyond its size. Past DENSE_MAX_CELLS (many distinct days or
 * categories: the dense table would be mostly empty) it stops growing, and
 * the groups that do not fit go to the hashed groups of aggregate.c. */
#define DENSE_MAX_CELLS (1u << 20) /* 32 MiB of accumulators */

typedef struct {
    int64_t *count, *sum, *min, *max; /* day_dim * cat_dim cells, then the trash cell */
    int day_dim, cat_dim;
    c2_groups *overflow; /* groups that do not fit, once it stopped growing */
} dense_table;

/* Allocates the arrays for nd x nc cells (+ trash), all empty: min starts at
 * the largest int64 and max at the smallest, so the first row sets both
 * through the same comparisons as every other row. Returns 0 or OUT_OF_MEMORY. */
static int dense_alloc(dense_table *t, int nd, int nc)
{
    size_t cells = (size_t)nd * (size_t)nc + 1;
    t->count = calloc(cells, sizeof *t->count);
    t->sum = calloc(cells, sizeof *t->sum);
    t->min = malloc(cells * sizeof *t->min);
    t->max = malloc(cells * sizeof *t->max);
    if (!t->count || !t->sum || !t->min || !t->max) return OUT_OF_MEMORY;
    for (size_t i = 0; i < cells; i++) {
        t->min[i] = INT64_MAX;
        t->max[i] = INT64_MIN;
    }
    t->day_dim = nd;
    t->cat_dim = nc;
    return 0;
}

static void dense_free(dense_table *t)
{
    free(t->count);
    free(t->sum);
    free(t->min);
    free(t->max);
    c2_groups_free(t->overflow);
}

/* Makes room for ndays x ncats groups, or stops growing (see above).
 * Returns 0 or OUT_OF_MEMORY. */
static int dense_make_room(dense_table *t, int ndays, int ncats)
{
    if (t->overflow || (ndays <= t->day_dim && ncats <= t->cat_dim)) return 0;
    int nd = t->day_dim, nc = t->cat_dim;
    while (nd < ndays) nd *= 2;
    while (nc < ncats) nc *= 2;
    if ((size_t)nd * (size_t)nc > DENSE_MAX_CELLS) {
        t->overflow = c2_groups_new();
        return 0;
    }
    dense_table old = *t;
    if (dense_alloc(t, nd, nc) != 0) {
        dense_free(t);
        *t = old;
        return OUT_OF_MEMORY;
    }
    for (int d = 0; d < old.day_dim; d++) {
        size_t from = (size_t)d * old.cat_dim, to = (size_t)d * nc;
        memcpy(&t->count[to], &old.count[from], old.cat_dim * sizeof *t->count);
        memcpy(&t->sum[to], &old.sum[from], old.cat_dim * sizeof *t->sum);
        memcpy(&t->min[to], &old.min[from], old.cat_dim * sizeof *t->min);
        memcpy(&t->max[to], &old.max[from], old.cat_dim * sizeof *t->max);
    }
    old.overflow = NULL;
    dense_free(&old);
    return 0;
}

/* Adds the batch's accepted rows to their groups. Returns 0 or OUT_OF_MEMORY. */
static int aggregate_batch(const batch *bt, dense_table *t, const row_buffers *b)
{
    if (dense_make_room(t, (int)b->days.n, (int)b->names.n) != 0) return OUT_OF_MEMORY;
    const int n = bt->n, cat_dim = t->cat_dim;
    const size_t trash = (size_t)t->day_dim * (size_t)cat_dim;
    int64_t *restrict count = t->count, *restrict sum = t->sum;
    int64_t *restrict min = t->min, *restrict max = t->max;
    if (!t->overflow) {
        for (int i = 0; i < n; i++) {
            size_t cell = bt->reason[i] == ACCEPTED ? (size_t)bt->day[i] * cat_dim + (size_t)bt->category[i] : trash;
            int64_t v = bt->usd[i];
            count[cell]++;
            sum[cell] += v;
            min[cell] = v < min[cell] ? v : min[cell];
            max[cell] = v > max[cell] ? v : max[cell];
        }
        return 0;
    }
    /* The table stopped growing: rows whose group does not fit go to the
     * hashed groups (a group always lands on the same side). */
    for (int i = 0; i < n; i++) {
        if (bt->reason[i] != ACCEPTED) continue;
        int d = bt->day[i], c = bt->category[i];
        int64_t v = bt->usd[i];
        if (d < t->day_dim && c < cat_dim) {
            size_t cell = (size_t)d * cat_dim + (size_t)c;
            count[cell]++;
            sum[cell] += v;
            min[cell] = v < min[cell] ? v : min[cell];
            max[cell] = v > max[cell] ? v : max[cell];
        } else {
            size_t day_len, name_len;
            const char *day = dict_key(&b->days, (size_t)d, &day_len);
            const char *name = dict_key(&b->names, (size_t)c, &name_len);
            c2_groups_add(t->overflow, day, name, name_len, v);
        }
    }
    return 0;
}

/* The groups of the table into out. */
static void dense_to_result(const dense_table *t, const row_buffers *b, c2_result *out)
{
    c2_result part;
    c2_result_init(&part);
    int ndays = (int)b->days.n < t->day_dim ? (int)b->days.n : t->day_dim;
    int ncats = (int)b->names.n < t->cat_dim ? (int)b->names.n : t->cat_dim;
    for (int d = 0; d < ndays; d++)
        for (int c = 0; c < ncats; c++) {
            size_t cell = (size_t)d * t->cat_dim + (size_t)c;
            if (t->count[cell] == 0) continue;
            size_t day_len, name_len;
            const char *day = dict_key(&b->days, (size_t)d, &day_len);
            const char *name = dict_key(&b->names, (size_t)c, &name_len);
            c2_group *g = c2_result_add_group(&part, day, name, name_len);
            g->count = t->count[cell];
            g->sum_cents = t->sum[cell];
            g->min_cents = t->min[cell];
            g->max_cents = t->max[cell];
        }
    c2_result_merge(out, &part);
    c2_result_free(&part);
    if (t->overflow) c2_groups_to_result(t->overflow, out);
}

/* ---- the pass -------------------------------------------------------------------------- */

/* Everything one pass keeps (columnar.h): the dictionaries and caches, the
 * dense table, one batch of columns and the conversion rates. */
struct c2_columnar {
    row_buffers buffers;
    dense_table table;
    batch bt;
    rate_columns rates;
};

c2_columnar *c2_columnar_new(void)
{
    c2_columnar *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    day_cache_init(&st->buffers.recent_days);
    rate_columns_init(&st->rates);
    if (dense_alloc(&st->table, 32, 16) != 0) {
        free(st);
        return NULL;
    }
    return st;
}

void c2_columnar_free(c2_columnar *st)
{
    if (!st) return;
    dense_free(&st->table);
    free(st->buffers.scratch);
    free(st->buffers.category);
    dict_free(&st->buffers.spellings);
    dict_free(&st->buffers.names);
    dict_free(&st->buffers.days);
    free(st);
}

/* Starts and ends a phase, when this pass names its phases. */
static void phase_begin(int profile, const char *name)
{
    if (profile) cs_prof_begin(name);
}
static void phase_end(int profile)
{
    if (profile) cs_prof_end();
}

int c2_columnar_records(c2_columnar *st, const c2_job *job, c2_block_reader *reader, c2_result *out, int profile)
{
    batch *bt = &st->bt;
    c2_record rec;
    int more = 1; /* the buffer may hold more whole records */
    while (more) {
        phase_begin(profile, "parse");
        bt->n = 0;
        while (bt->n < BATCH_ROWS && (more = c2_block_next_record(reader, &rec)))
            if (parse_row(job, &rec, &st->buffers, bt) != 0) {
                phase_end(profile);
                cs_error("out of memory");
                return 3;
            }
        phase_end(profile);
        if (bt->n == 0) break;

        phase_begin(profile, "transform");
        usd_cents(bt->n, bt->cents, bt->currency, st->rates.ppm, st->rates.per_cent, bt->usd);
        count_reasons_and_hours(bt, out);
        phase_end(profile);

        phase_begin(profile, "aggregate");
        int rc = aggregate_batch(bt, &st->table, &st->buffers);
        phase_end(profile);
        if (rc != 0) {
            cs_error("out of memory");
            return 3;
        }
    }
    return 0;
}

void c2_columnar_finish(const c2_columnar *st, c2_result *out)
{
    dense_to_result(&st->table, &st->buffers, out);
}

/* The one pass, block after block; each block's whole records batch after
 * batch: parse into the columns, transform the columns, aggregate them.
 * Returns 0 or 3. */
static int one_pass(const c2_job *job, FILE *in, c2_result *out, c2_columnar *st)
{
    int rc = 0;
    c2_block_reader reader = {in, NULL, 0, 0, 0, 0};
    while (rc == 0 && !(reader.eof && reader.pos >= reader.end)) {
        if ((rc = c2_block_read(&reader, job->path)) != 0) break;
        rc = c2_columnar_records(st, job, &reader, out, 1);
    }
    free(reader.buf);
    return rc;
}

int c2_run_columnar(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = c2_open_input(job, &in);
    if (rc) return rc;
    c2_columnar *st = c2_columnar_new();
    if (!st) {
        cs_error("out of memory");
        rc = 3;
    }
    if (rc == 0) rc = one_pass(job, in, out, st);
    fclose(in);
    if (rc == 0) c2_columnar_finish(st, out);
    c2_columnar_free(st);
    return rc;
}
