/* fast: a thread's state made and freed, and the groups' tables grown
 * (fast_worker.h: what they hold, and the lookups). */
#include <stdlib.h>
#include <string.h>

#include "cs_memory.h"
#include "fast_worker.h"

#define ARENA_BLOCK (64 * 1024) /* bytes per block of dictionary keys */

static void cells_empty(cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++) c[i] = EMPTY_CELL;
}

worker *worker_new(void)
{
    worker *w = cs_calloc(sizeof *w, "case02 fast: thread state");
    c2_text_arena_init(&w->arena, ARENA_BLOCK);
    day_table_init(&w->days);
    short_table_init(&w->short_spellings, 256);
    str_table_init(&w->spellings);
    str_table_init(&w->categories);
    w->cat_cap = 32;
    w->cat_text = cs_alloc((size_t)w->cat_cap * sizeof *w->cat_text, "case02 fast: categories");
    w->cat_len = cs_alloc((size_t)w->cat_cap * sizeof *w->cat_len, "case02 fast: categories");
    w->day_dim = 32;
    w->cat_dim = 16;
    w->cells = cs_alloc((size_t)w->day_dim * w->cat_dim * sizeof *w->cells, "case02 fast: groups");
    cells_empty(w->cells, (size_t)w->day_dim * w->cat_dim);
    w->scratch_cap = 256;
    w->scratch = cs_alloc(w->scratch_cap, "case02 fast: scratch");
    return w;
}

void worker_free(worker *w)
{
    if (!w) return;
    cs_free(w->days.slots);
    cs_free(w->days.text);
    free(w->short_spellings.slots);
    cs_free(w->spellings.slots);
    cs_free(w->categories.slots);
    cs_free(w->cat_text);
    cs_free(w->cat_len);
    c2_text_arena_free(&w->arena);
    cs_free(w->cells);
    free(w->slots);
    cs_free(w->scratch);
    cs_free(w);
}

/* ---- the hash table of groups ---- */

static void slots_alloc(worker *w, size_t nslots)
{
    w->slots = zeroed_table(nslots * sizeof *w->slots, "case02 fast: groups");
    w->nslots = nslots;
    w->slot_shift = 64 - __builtin_ctzll(nslots);
}

/* Puts a group known to be absent into the first free slot of its probe
 * sequence (the table has room); returns its cell. */
static cell *slot_put(worker *w, uint64_t key, const cell *c)
{
    size_t mask = w->nslots - 1, i = slot_of(key, w->slot_shift);
    while (w->slots[i].key != NO_GROUP) i = (i + 1) & mask;
    w->slots[i].key = key;
    w->slots[i].c = *c;
    return &w->slots[i].c;
}

/* The cell of a new group in the hash table: twice the slots first, if
 * one more group would fill it beyond half. The slot is the top bits of
 * the hash, so in the table twice as large the groups keep their order:
 * moving them reads the old table and writes the new one front to back,
 * which the memory system does fastest. */
cell *new_hashed_group(worker *w, uint64_t key)
{
    if ((w->ngroups + 1) * 2 > w->nslots) {
        group_slot *old = w->slots;
        size_t oldn = w->nslots;
        slots_alloc(w, 2 * oldn);
        for (size_t i = 0; i < oldn; i++)
            if (old[i].key != NO_GROUP) slot_put(w, old[i].key, &old[i].c);
        free(old);
    }
    w->ngroups++;
    cell empty = EMPTY_CELL;
    return slot_put(w, key, &empty);
}

/* The dense table is full: every group it holds moves into a hash table. */
static void dense_to_hashed(worker *w)
{
    size_t groups = 0, n = (size_t)w->day_dim * w->cat_dim;
    for (size_t i = 0; i < n; i++) groups += w->cells[i].count > 0;
    size_t nslots = 1024;
    while (nslots < 2 * groups) nslots *= 2; /* at most half full, as always */
    slots_alloc(w, nslots);
    for (int d = 0; d < w->day_dim; d++)
        for (int c = 0; c < w->cat_dim; c++) {
            const cell *x = &w->cells[(size_t)d * w->cat_dim + c];
            if (x->count > 0) slot_put(w, group_key(d, c), x);
        }
    w->ngroups = groups;
    cs_free(w->cells);
    w->cells = NULL;
}

/* ---- finding a row's group ---- */

/* The dense table cannot hold (day, cat): doubles a dimension (or both)
 * while it stays within DENSE_MAX_CELLS, else moves to the hash table. */
static void dense_make_room(worker *w, int day, int cat)
{
    int nd = w->day_dim, nc = w->cat_dim;
    while (day >= nd) nd *= 2;
    while (cat >= nc) nc *= 2;
    if ((size_t)nd * (size_t)nc > DENSE_MAX_CELLS) {
        dense_to_hashed(w);
        return;
    }
    cell *bigger = cs_alloc((size_t)nd * nc * sizeof *bigger, "case02 fast: groups");
    cells_empty(bigger, (size_t)nd * nc);
    for (int d = 0; d < w->day_dim; d++)
        memcpy(&bigger[(size_t)d * nc], &w->cells[(size_t)d * w->cat_dim], (size_t)w->cat_dim * sizeof *bigger);
    cs_free(w->cells);
    w->cells = bigger;
    w->day_dim = nd;
    w->cat_dim = nc;
}

/* The cell of (day, cat) when the dense table cannot hold it: the table
 * grows, or gives way to the hash table. Out of line: it runs a few times
 * per run, and the row loop stays short without it. */
__attribute__((noinline)) cell *cell_beyond_dense(worker *w, int day, int cat)
{
    if (w->cells) dense_make_room(w, day, cat);
    if (w->cells) return &w->cells[(size_t)day * w->cat_dim + cat];
    return hashed_cell(w, group_key(day, cat));
}
