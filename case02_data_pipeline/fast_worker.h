/* fast: a thread's state (its counters, dictionaries and groups) and the
 * groups' tables, dense while the groups are few, hashed when they are
 * many. Finding a row's cell is inline here (every accepted row does it);
 * making a thread's state and growing the groups' tables: fast_worker.c. */
#ifndef C2_FAST_WORKER_H
#define C2_FAST_WORKER_H

#include <stdint.h>

#include "fast_tables.h"
#include "pipeline.h"

#define MAX_THREADS 256 /* threads at most, each with its own worker */

/* ======================================================================
 * Per-thread state and the groups
 *
 * A group is a (day id, category id) pair: both ids are small integers
 * from the thread's dictionaries (fast_tables.h). While there are few of them the
 * groups sit in a dense table, cells[day * cat_dim + category]: one
 * multiply-add finds a group, with no hashing and no comparison (columnar's
 * lesson). But a dense table takes the product of the two dimensions,
 * whether or not each pair occurs: 30 days x 12 categories fit in 16 KiB,
 * while 90 days x 10,000 categories would take 29 MiB per thread for the
 * 100,000 or so groups that occur, and the occupied cells would be spread
 * over all of it. So the dense table grows (doubling a dimension) only up
 * to DENSE_MAX_CELLS; the first group beyond moves every group, once, into
 * a hash table on the pair of ids: one multiplication hashes the pair, the
 * table is kept at most half full (nearly always one probe) and doubles
 * when it would pass that, so its memory follows the groups that exist.
 * Either way a row finds its group in a few instructions, whatever the
 * number of groups: no small cache in front of a slow path.
 * ====================================================================== */

/* One group's accumulators, 32 bytes: one row touches one half cache line. */
typedef struct {
    int64_t count, sum, min, max;
} cell;

#define EMPTY_CELL      ((cell){0, 0, INT64_MAX, INT64_MIN})
#define DENSE_MAX_CELLS (1u << 14) /* 512 KiB of cells: a core's L2 cache here */

/* A slot of the hash table of groups. */
typedef struct {
    uint64_t key; /* group_key(day id, category id); NO_GROUP: a free slot */
    cell c;
} group_slot;

/* The pair of ids as one integer, plus one, so that a free slot is all
 * zero bytes (see zeroed_table): no day id reaches 2^32 - 1. */
#define NO_GROUP 0
static inline uint64_t group_key(int day, int cat)
{
    return ((uint64_t)(uint32_t)day << 32 | (uint32_t)cat) + 1;
}
static inline int key_day(uint64_t key)
{
    return (int)((key - 1) >> 32);
}
static inline int key_cat(uint64_t key)
{
    return (int)(uint32_t)(key - 1);
}

/* An accepted row between the stages of its way to its group (see "An
 * accepted row's way to its group"). */
typedef struct {
    c2_field category; /* the raw value, in the file */
    uint64_t key[3];   /* a short value's key (short_table) */
    size_t key_len;    /* its length and escape flag, or LONG_KEY */
    uint64_t hash;     /* of the key, for the table it goes to */
    int day, cat;
    int64_t usd;
} pending_row;

#define LONG_KEY SIZE_MAX /* key_len of a value the short table does not take */
#define AHEAD    8        /* rows between two stages */
#define PIPE     32       /* pending rows kept (a power of two, more than 2 * AHEAD + 1) */

typedef struct {
    /* the counters of the summary */
    int64_t rows, accepted, rejected[C2_NREASONS], hours[24];

    day_table days;
    short_table short_spellings; /* the same for short values, faster (see short_table) */
    str_table spellings;         /* raw category value (as in the file) -> category id */
    str_table categories;        /* normalized category -> category id */
    const char **cat_text;       /* normalized bytes of each category id */
    size_t *cat_len;
    int ncats, cat_cap;
    c2_text_arena arena; /* bytes that outlive a row: dictionary keys */

    /* the groups: dense while cells != NULL, else hashed */
    cell *cells; /* cells[day * cat_dim + category] */
    int day_dim, cat_dim;
    group_slot *slots; /* the hash table: nslots, a power of two */
    size_t nslots, ngroups;
    int slot_shift; /* 64 - log2(nslots): the hash's top bits pick the slot */

    /* accepted rows on their way to their group ("An accepted row's way
     * to its group"): pending[n % PIPE] for n in [added, pushed) */
    pending_row pending[PIPE];
    unsigned pushed, resolved, added;

    /* scratch for a value with escapes and for normalizing */
    char *scratch;
    size_t scratch_cap;
} worker;

/* A thread's state, empty (made on the thread's first chunk). */
worker *worker_new(void);
void worker_free(worker *w);

/* ---- the hash table of groups ---- */

/* Fibonacci hashing: the key times 2^64 / golden ratio; the top bits of the
 * product depend on every bit of both ids. */
static inline size_t slot_of(uint64_t key, int shift)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> shift);
}

/* The cell of a new group in the hash table (fast_worker.c). */
cell *new_hashed_group(worker *w, uint64_t key);

/* ---- finding a row's group ---- */

/* The cell of a group in the hash table, made if new. */
static inline cell *hashed_cell(worker *w, uint64_t key)
{
    size_t mask = w->nslots - 1;
    for (size_t i = slot_of(key, w->slot_shift);; i = (i + 1) & mask) {
        group_slot *s = &w->slots[i];
        if (s->key == key) return &s->c;
        if (s->key == NO_GROUP) return new_hashed_group(w, key);
    }
}

/* The cell of (day, cat) when the dense table cannot hold it: the table
 * grows, or gives way to the hash table (fast_worker.c). */
cell *cell_beyond_dense(worker *w, int day, int cat);

/* One accepted row into its group's cell. */
static inline void add_to_cell(cell *c, int64_t usd)
{
    c->count++;
    c->sum += usd;
    if (usd < c->min) c->min = usd;
    if (usd > c->max) c->max = usd;
}

#endif
