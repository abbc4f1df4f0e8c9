/* fast: the row rules, with the lookups cached. A row sliced by the
 * scanner (fast_scan.h) is checked and converted, and an accepted row goes
 * to its group, in the thread's own dictionaries and groups (fast_worker.h).
 * All inline: they run for every row, inside the row loop (7_fast.c,
 * scan_chunk). The one step out of line, a spelling seen for the first
 * time, is in fast_rules.c. */
#ifndef C2_FAST_RULES_H
#define C2_FAST_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "fast_scan.h"
#include "fast_tables.h"
#include "fast_worker.h"
#include "pipeline.h"
#include "swar.h"

/* ======================================================================
 * The row rules, with the lookups cached
 * ====================================================================== */

/* A spelling seen for the first time: normalize it, find or create its
 * category, and remember the spelling. Runs once per distinct spelling. */
int new_spelling(worker *w, const c2_field *f, uint64_t h);

/* ======================================================================
 * An accepted row's way to its group
 *
 * Two lookups remain per accepted row once it is parsed: its spelling's
 * category id, then its (day, category) group. While the groups fit in the
 * dense table, every table is small enough for the cache, and a row does
 * both at once (category_id, then the dense cell).
 *
 * With 100,000 groups the tables take megabytes, and a row of a rare
 * category finds its entries in main memory: about 200 ns each on the
 * machine of docs/case02_data_pipeline.md, twice the time it takes to parse
 * the whole row. The processor would wait for each in turn, since the
 * row's next step needs the answer. So, once the groups are hashed, the
 * lookups run as a pipeline of three stages, each AHEAD rows (about a
 * microsecond of parsing) behind the one before:
 *   1. the row is parsed; its spelling's hash is computed and the slot it
 *      will read is requested (a prefetch: the load starts, nothing waits);
 *   2. AHEAD rows later that slot is in the cache: the category id is read,
 *      and the group's slot is requested in the same way;
 *   3. AHEAD rows later again, the row is added to its group.
 * The waits of many rows now overlap. Rows reach their groups a few rows
 * late, which changes nothing (sums, counts, minimums and maximums do not
 * depend on the order); every pending row is finished at the end of each
 * chunk.
 * ====================================================================== */

/* The general table's hash of a raw value (escapes and all). */
static inline uint64_t spelling_hash(const c2_field *f)
{
    return hash_bytes(SPELLING_SEED ^ (uint64_t)f->needs_unescape, f->ptr, f->len);
}

/* The category id of a raw value by the general table: one probe for a
 * spelling seen before (the bytes as they are in the file: no copy, no
 * normalizing). h: spelling_hash(f). */
static inline int spelling_id(worker *w, const c2_field *f, uint64_t h)
{
    int id = str_find(&w->spellings, h, f->ptr, f->len, f->needs_unescape);
    return id >= 0 ? id : new_spelling(w, f, h);
}

/* A value of at most 24 bytes (nearly all) goes by the short table, when
 * the 24 bytes it loads are inside the file: 1 and its key. A value that
 * holds escapes ('""') means other bytes than it shows, so the flag is part
 * of its key, beside the length (bit 31: lengths here are at most 24). */
static inline int short_key(const c2_field *f, const char *end, uint64_t key[3], size_t *key_len)
{
#if C2_SWAR
    if (f->len <= SHORT_KEY && end - f->ptr >= SHORT_KEY) {
        c2_key24(f->ptr, f->len, key);
        *key_len = f->len | (size_t)f->needs_unescape << 31;
        return 1;
    }
#else
    (void)f, (void)end, (void)key, (void)key_len;
#endif
    return 0;
}

/* The category id of a short value, by the short table (filled from the
 * general one the first time). */
static inline int short_id(worker *w, const c2_field *f, size_t h, const uint64_t key[3], size_t key_len)
{
    int id = short_find(&w->short_spellings, h, key, key_len);
    if (id < 0) {
        id = spelling_id(w, f, spelling_hash(f));
        short_add(&w->short_spellings, h, key, key_len, id);
    }
    return id;
}

/* The category id of a raw value, at once. */
static inline int category_id(worker *w, const c2_field *f, const char *end)
{
    uint64_t key[3];
    size_t key_len;
    if (short_key(f, end, key, &key_len)) return short_id(w, f, short_hash(key, key_len), key, key_len);
    return spelling_id(w, f, spelling_hash(f));
}

/* Stage 1: the row's spelling: its key and hash, its slot requested. */
static inline void stage1_spelling(worker *w, pending_row *p, const char *end)
{
    if (short_key(&p->category, end, p->key, &p->key_len)) {
        p->hash = short_hash(p->key, p->key_len);
        __builtin_prefetch(&w->short_spellings.slots[p->hash & (w->short_spellings.nslots - 1)]);
    } else {
        p->key_len = LONG_KEY;
        p->hash = spelling_hash(&p->category);
        __builtin_prefetch(&w->spellings.slots[p->hash & (w->spellings.nslots - 1)]);
    }
}

/* Stage 2: the category id, then the group's slot requested (40 bytes,
 * which may straddle two cache lines: both are asked for). */
static inline void stage2_category(worker *w, pending_row *p)
{
    p->cat = p->key_len != LONG_KEY ? short_id(w, &p->category, p->hash, p->key, p->key_len)
                                    : spelling_id(w, &p->category, p->hash);
    const group_slot *g = &w->slots[slot_of(group_key(p->day, p->cat), w->slot_shift)];
    __builtin_prefetch(g);
    __builtin_prefetch((const char *)(g + 1) - 1);
}

/* Stage 3: into the group. */
static inline void stage3_group(worker *w, const pending_row *p)
{
    add_to_cell(hashed_cell(w, group_key(p->day, p->cat)), p->usd);
}

/* An accepted row to its group: at once while the groups are dense, else
 * into the pipeline (the rows AHEAD and 2 * AHEAD before it move on). */
static inline void to_group(worker *w, const c2_field *category, int day, int64_t usd, const char *end)
{
    if (w->cells) {
        int cat = category_id(w, category, end);
        cell *c = day < w->day_dim && cat < w->cat_dim ? &w->cells[(size_t)day * w->cat_dim + cat]
                                                       : cell_beyond_dense(w, day, cat);
        add_to_cell(c, usd);
        return;
    }
    pending_row *p = &w->pending[w->pushed % PIPE];
    p->category = *category;
    p->day = day;
    p->usd = usd;
    stage1_spelling(w, p, end);
    w->pushed++;
    if (w->pushed - w->resolved > AHEAD) stage2_category(w, &w->pending[w->resolved++ % PIPE]);
    if (w->resolved - w->added > AHEAD) stage3_group(w, &w->pending[w->added++ % PIPE]);
}

/* Every pending row to its group (at the end of a chunk). */
static inline void drain_rows(worker *w)
{
    while (w->resolved < w->pushed) stage2_category(w, &w->pending[w->resolved++ % PIPE]);
    while (w->added < w->resolved) stage3_group(w, &w->pending[w->added++ % PIPE]);
}

/* "THH:MM:SSZ" at s[10..19] (the rule of c2_parse_timestamp): the eight
 * bytes of the clock checked as one word (swar.h), with no branch. */
static inline int time_of_day(const char *s, int *hour)
{
#if C2_SWAR
    return (s[10] == 'T') & (s[19] == 'Z') & c2_swar_clock(s + 11, hour);
#else
    char day[10];
    return c2_parse_timestamp(s, 20, day, hour); /* the date was checked already: same answer */
#endif
}

/* The cache slot of a date: a number computed from its month, day and
 * year digits (for a valid date every (month, day) pair of a year gets its
 * own slot). No loop and no probe: one multiplication-free sum and one
 * comparison, which is true for almost every row, so it is predicted. */
static inline unsigned day_cache_slot(const char *s)
{
    unsigned month = ((unsigned char)s[5] & 15u) * 10 + ((unsigned char)s[6] & 15u);
    unsigned mday = ((unsigned char)s[8] & 15u) * 10 + ((unsigned char)s[9] & 15u);
    unsigned year = (unsigned char)s[3] & 15u;
    return (month * 32 + mday + year * 37) & (DAY_CACHE - 1);
}

/* 1 and the day's id and the hour, or 0 for a bad timestamp. The calendar
 * check (c2_parse_timestamp) runs once per distinct day; a day seen before
 * is found in the cache (or, when two dates share a slot, in the table) and
 * only needs its time of day checked. */
static inline int timestamp(worker *w, const char *s, size_t len, int *day, int *hour)
{
    if (len != 20) return 0;
    uint64_t lo = load_word(s, 8);
    uint32_t hi = (uint32_t)load_word(s + 8, 2);
    day_table *t = &w->days;
    day_slot *c = &t->recent[day_cache_slot(s)];
    if (c->lo != lo || c->hi != hi || c->id < 0) {
        int id = day_find(t, lo, hi);
        if (id < 0) {
            char text[10];
            int h;
            if (!c2_parse_timestamp(s, len, text, &h)) return 0;
            id = day_add(t, text, lo, hi);
        }
        *c = (day_slot){lo, hi, id};
    }
    *day = c->id;
    return time_of_day(s, hour);
}

/* The value of a short field (timestamp, amount, currency): the slice
 * itself, or unescaped into buf. NULL when it would not fit in cap, which
 * no valid value of these fields comes near. */
static inline const char *short_value(const c2_field *f, char *buf, size_t cap, size_t *len)
{
    if (!f->needs_unescape) {
        *len = f->len;
        return f->ptr;
    }
    *len = c2_field_copy(f, buf, cap);
    return *len <= cap ? buf : NULL;
}

/* c2_parse_amount, through swar.h when the 8 bytes it loads are readable
 * (s + 8 <= readable_end) and the amount is of the kind it handles. */
static inline int amount_cents(const char *s, size_t len, const char *readable_end, int64_t *cents)
{
#if C2_SWAR
    if (readable_end - s >= 8) {
        int ok = c2_swar_amount(s, len, cents);
        if (ok >= 0) return ok;
    }
#else
    (void)readable_end;
#endif
    return c2_parse_amount(s, len, cents);
}

/* One row through the rules into the worker's counters and groups. `end`
 * is the end of the file: fields may be read by whole words up to it. */
static inline void take_row(worker *w, const row_view *r, const plan *pl, const char *end)
{
    const int header_fields = pl->header_fields;
    w->rows++;
    c2_reason reason;
    if (r->unterminated) {
        reason = C2_UNTERMINATED_QUOTE;
    } else if (r->nfields < header_fields) {
        reason = C2_MISSING_FIELD;
    } else if (r->nfields > header_fields) {
        reason = C2_EXTRA_FIELD;
    } else {
        char ts_buf[32], amount_buf[32], currency_buf[8];
        size_t ts_len, amount_len, currency_len;
        const char *ts = short_value(&r->want[W_TIMESTAMP], ts_buf, sizeof ts_buf, &ts_len);
        const char *amount = short_value(&r->want[W_AMOUNT], amount_buf, sizeof amount_buf, &amount_len);
        const char *currency = short_value(&r->want[W_CURRENCY], currency_buf, sizeof currency_buf, &currency_len);
        int day, hour, cur = -1;
        int64_t cents;
        if (!ts || !timestamp(w, ts, ts_len, &day, &hour)) {
            reason = C2_BAD_TIMESTAMP;
        } else if (!amount || !amount_cents(amount, amount_len,
                                            amount == amount_buf ? amount_buf + sizeof amount_buf : end, &cents)) {
            reason = C2_BAD_AMOUNT;
        } else if (!currency || (cur = currency_index(&pl->currencies, currency, currency_len)) < 0) {
            reason = C2_UNKNOWN_CURRENCY;
        } else {
            w->accepted++;
            w->hours[hour]++;
            to_group(w, &r->want[W_CATEGORY], day, c2_to_usd_cents(cents, c2_rates[cur].rate_ppm), end);
            return;
        }
    }
    w->rejected[reason]++;
}

#endif
