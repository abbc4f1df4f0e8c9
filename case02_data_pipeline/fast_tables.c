/* fast: the dictionaries' tables made and grown (fast_tables.h: what each
 * table is for, and the lookups). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "fast_tables.h"
#include "pipeline.h"

/* A table whose free slots are all zero bytes: see fast_tables.h. */
void *zeroed_table(size_t bytes, const char *what)
{
    void *p = calloc(1, bytes);
    if (!p) cs_die(3, "out of memory: asked for %zu bytes for %s", bytes, what);
#ifdef MADV_HUGEPAGE
    if (bytes >= (4u << 20)) {
        uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
        uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
        if (e > a) madvise((void *)a, e - a, MADV_HUGEPAGE);
    }
#endif
    return p;
}

/* ---- the string table ---- */

void str_table_init(str_table *t)
{
    t->nslots = 256;
    t->n = 0;
    t->slots = cs_alloc(t->nslots * sizeof *t->slots, "case02 fast: dictionary");
    for (size_t i = 0; i < t->nslots; i++) t->slots[i].id = -1;
}

/* Adds a key known to be absent; the key bytes must outlive the table. */
void str_add(str_table *t, uint64_t h, const char *key, size_t len, int flag, int id)
{
    if ((t->n + 1) * 2 > t->nslots) { /* keep it at most half full: short probes */
        str_slot *old = t->slots;
        size_t oldn = t->nslots;
        t->nslots *= 2;
        t->slots = cs_alloc(t->nslots * sizeof *t->slots, "case02 fast: dictionary");
        for (size_t i = 0; i < t->nslots; i++) t->slots[i].id = -1;
        for (size_t i = 0; i < oldn; i++) {
            if (old[i].id < 0) continue;
            size_t j = old[i].hash & (t->nslots - 1);
            while (t->slots[j].id >= 0) j = (j + 1) & (t->nslots - 1);
            t->slots[j] = old[i];
        }
        cs_free(old);
    }
    size_t mask = t->nslots - 1, i = h & mask;
    while (t->slots[i].id >= 0) i = (i + 1) & mask;
    t->slots[i] = (str_slot){h, key, len, flag, id};
    t->n++;
}

/* ---- the table of short spellings ---- */

void short_table_init(short_table *t, size_t nslots)
{
    t->nslots = nslots;
    t->n = 0;
    t->slots = zeroed_table(nslots * sizeof *t->slots, "case02 fast: spellings");
}

void short_add(short_table *t, size_t h, const uint64_t key[3], size_t len, int id)
{
    if ((t->n + 1) * 2 > t->nslots) { /* at most half full */
        short_table bigger;
        short_table_init(&bigger, t->nslots * 2);
        for (size_t i = 0; i < t->nslots; i++) {
            const short_slot *e = &t->slots[i];
            if (e->id1) short_add(&bigger, short_hash(e->key, e->len), e->key, e->len, e->id1 - 1);
        }
        free(t->slots);
        *t = bigger;
    }
    size_t mask = t->nslots - 1, i = h & mask;
    while (t->slots[i].id1) i = (i + 1) & mask;
    t->slots[i] = (short_slot){{key[0], key[1], key[2]}, (uint32_t)len, id + 1};
    t->n++;
}

/* ---- the days ---- */

void day_table_init(day_table *t)
{
    t->nslots = 64;
    t->n = 0;
    t->slots = cs_alloc(t->nslots * sizeof *t->slots, "case02 fast: days");
    for (size_t i = 0; i < t->nslots; i++) t->slots[i].id = -1;
    t->text_cap = 32;
    t->text = cs_alloc((size_t)t->text_cap * sizeof *t->text, "case02 fast: days");
    for (int i = 0; i < DAY_CACHE; i++) t->recent[i] = (day_slot){0, 0, -1};
}

int day_add(day_table *t, const char day[10], uint64_t lo, uint32_t hi)
{
    if ((size_t)(t->n + 1) * 2 > t->nslots) {
        day_slot *old = t->slots;
        size_t oldn = t->nslots;
        t->nslots *= 2;
        t->slots = cs_alloc(t->nslots * sizeof *t->slots, "case02 fast: days");
        for (size_t i = 0; i < t->nslots; i++) t->slots[i].id = -1;
        for (size_t i = 0; i < oldn; i++) {
            if (old[i].id < 0) continue;
            size_t j = day_hash(old[i].lo, old[i].hi) & (t->nslots - 1);
            while (t->slots[j].id >= 0) j = (j + 1) & (t->nslots - 1);
            t->slots[j] = old[i];
        }
        cs_free(old);
    }
    if (t->n == t->text_cap) {
        char(*bigger)[10] = cs_alloc(2 * (size_t)t->text_cap * sizeof *bigger, "case02 fast: days");
        memcpy(bigger, t->text, (size_t)t->n * sizeof *bigger);
        cs_free(t->text);
        t->text = bigger;
        t->text_cap *= 2;
    }
    int id = t->n++;
    memcpy(t->text[id], day, 10);
    size_t mask = t->nslots - 1, i = day_hash(lo, hi) & mask;
    while (t->slots[i].id >= 0) i = (i + 1) & mask;
    t->slots[i] = (day_slot){lo, hi, id};
    return id;
}

/* ---- the currency codes ---- */

void currency_table_init(currency_table *t)
{
    for (int i = 0; i < CODE_SLOTS; i++) t->code[i] = NO_CODE;
    for (int k = 0; k < C2_NRATES; k++) {
        uint32_t code = pack3(c2_rates[k].code);
        unsigned i = code_slot(code);
        while (t->code[i] != NO_CODE) i = (i + 1) % CODE_SLOTS;
        t->code[i] = code;
        t->index[i] = k;
    }
}
