/* Hashed aggregation (aggregate.h): the groups in an open-addressing table.
 *
 * A group is found by hashing its key (the 10 bytes of the day, then the
 * category's bytes) to a slot, and probing the slots after it until the key
 * or an empty slot turns up (linear probing: neighbouring slots share a cache
 * line, so a short probe costs about one memory access). The table is kept
 * at most 2/3 full, which keeps the probe sequences short; it doubles when
 * it would fill beyond that.
 *
 * The slots hold only indexes. The groups themselves sit in a dense array in
 * the order they were first seen, with their full hash (so growing the table
 * never hashes a key again, and a probe compares keys only when the hashes
 * agree), and their category bytes sit in an arena: a few large blocks
 * instead of one malloc per group. */
#include "aggregate.h"

#include <string.h>

#include "cs_memory.h"
#include "text_arena.h"

#define FIRST_SLOTS 1024        /* a power of two: the slot is hash & (nslots - 1) */
#define ARENA_BLOCK (64 * 1024) /* bytes of category text per arena block */

typedef struct {
    uint64_t hash;
    char day[10];
    const char *category; /* in the arena */
    size_t category_len;
    int64_t count, sum_cents, min_cents, max_cents;
} entry;

struct c2_groups {
    entry *entries; /* the groups, in the order first seen */
    size_t n, entries_cap;
    uint32_t *slots; /* 1 + an index into entries; 0: an empty slot */
    size_t nslots;
    c2_text_arena arena; /* the groups' category bytes */
};

/* ---- the hash ---------------------------------------------------------------
 * Eight bytes at a time: each word is folded in with a multiplication (which
 * spreads every input bit over the higher bits of the product) and an
 * xor-shift (which brings the high bits back down), then a final mix
 * (MurmurHash3's) so the low bits that pick the slot depend on every byte.
 * The length is mixed in first, so "ab" and "ab\0" differ. */

static inline uint64_t load_word(const char *p, size_t n) /* n <= 8 bytes, zero-padded */
{
    uint64_t w = 0;
    memcpy(&w, p, n);
    return w;
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

static uint64_t key_hash(const char day[10], const char *cat, size_t len)
{
    uint64_t h = mix(0x243F6A8885A308D3ull, (uint64_t)len);
    h = mix(h, load_word(day, 8));
    h = mix(h, load_word(day + 8, 2));
    for (; len >= 8; cat += 8, len -= 8) h = mix(h, load_word(cat, 8));
    if (len > 0) h = mix(h, load_word(cat, len));
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

/* ---- the table ------------------------------------------------------------------ */

c2_groups *c2_groups_new(void)
{
    c2_groups *g = cs_calloc(sizeof *g, "case02 group table");
    c2_text_arena_init(&g->arena, ARENA_BLOCK);
    g->nslots = FIRST_SLOTS;
    g->slots = cs_calloc(g->nslots * sizeof *g->slots, "case02 group table");
    g->entries_cap = FIRST_SLOTS / 2;
    g->entries = cs_alloc(g->entries_cap * sizeof *g->entries, "case02 groups");
    return g;
}

void c2_groups_free(c2_groups *g)
{
    if (!g) return;
    c2_text_arena_free(&g->arena);
    cs_free(g->entries);
    cs_free(g->slots);
    cs_free(g);
}

/* Puts entry index i into the first empty slot of its probe sequence. */
static void place(c2_groups *g, size_t i)
{
    size_t mask = g->nslots - 1;
    size_t s = g->entries[i].hash & mask;
    while (g->slots[s] != 0) s = (s + 1) & mask;
    g->slots[s] = (uint32_t)(i + 1);
}

/* Doubles the slots and re-places every group (from its stored hash). */
static void grow_slots(c2_groups *g)
{
    cs_free(g->slots);
    g->nslots *= 2;
    g->slots = cs_calloc(g->nslots * sizeof *g->slots, "case02 group table");
    for (size_t i = 0; i < g->n; i++) place(g, i);
}

static entry *new_entry(c2_groups *g, uint64_t hash, const char day[10], const char *cat, size_t cat_len)
{
    if (g->n == g->entries_cap) {
        entry *bigger = cs_alloc(2 * g->entries_cap * sizeof *bigger, "case02 groups");
        memcpy(bigger, g->entries, g->n * sizeof *bigger);
        cs_free(g->entries);
        g->entries = bigger;
        g->entries_cap *= 2;
    }
    entry *e = &g->entries[g->n++];
    e->hash = hash;
    memcpy(e->day, day, 10);
    e->category = c2_text_arena_copy(&g->arena, cat, cat_len);
    e->category_len = cat_len;
    e->count = e->sum_cents = e->min_cents = e->max_cents = 0;
    return e;
}

void c2_groups_add(c2_groups *g, const char day[10], const char *cat, size_t cat_len, int64_t usd_cents)
{
    /* Grow before looking, so the probe below always ends at the key or at
     * an empty slot (load at most 2/3 after the insertion). */
    if ((g->n + 1) * 3 > g->nslots * 2) grow_slots(g);
    uint64_t hash = key_hash(day, cat, cat_len);
    size_t mask = g->nslots - 1;
    entry *e = NULL;
    for (size_t s = hash & mask;; s = (s + 1) & mask) {
        uint32_t k = g->slots[s];
        if (k == 0) { /* not there: a new group */
            e = new_entry(g, hash, day, cat, cat_len);
            g->slots[s] = (uint32_t)g->n;
            break;
        }
        entry *c = &g->entries[k - 1];
        if (c->hash == hash && c->category_len == cat_len && memcmp(c->day, day, 10) == 0 &&
            memcmp(c->category, cat, cat_len) == 0) {
            e = c;
            break;
        }
    }
    if (e->count == 0 || usd_cents < e->min_cents) e->min_cents = usd_cents;
    if (e->count == 0 || usd_cents > e->max_cents) e->max_cents = usd_cents;
    e->count++;
    e->sum_cents += usd_cents;
}

void c2_groups_to_result(c2_groups *g, c2_result *r)
{
    /* Into an empty result the groups go straight in (their keys are
     * distinct); otherwise through a temporary result and c2_result_merge,
     * which folds groups with equal keys. */
    c2_result tmp;
    c2_result_init(&tmp);
    c2_result *into = r->ngroups == 0 ? r : &tmp;
    for (size_t i = 0; i < g->n; i++) {
        const entry *e = &g->entries[i];
        c2_group *out = c2_result_add_group(into, e->day, e->category, e->category_len);
        out->count = e->count;
        out->sum_cents = e->sum_cents;
        out->min_cents = e->min_cents;
        out->max_cents = e->max_cents;
    }
    if (into == &tmp) {
        c2_result_merge(r, &tmp);
        c2_result_free(&tmp);
    }

    /* Empty the table, keeping its slots and one arena block for reuse. */
    g->n = 0;
    memset(g->slots, 0, g->nslots * sizeof *g->slots);
    c2_text_arena_clear(&g->arena);
}
