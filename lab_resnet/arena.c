/* The tracked arena (arena.h). Every buffer is remembered with its size and
 * category, so the run can say exactly how many bytes the activations, the
 * weights, the gradients, Adam's state and the scratch hold, now and at
 * their peak, and so that destroying the arena frees everything at once.
 *
 * Host buffers come from cs_calloc (64-byte aligned, and counted by
 * common's tracker too); device buffers from rn_device_alloc (device_mem.h,
 * cs_gpu_malloc underneath). */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "device_mem.h"

typedef struct {
    void *p;
    size_t bytes;
    rn_category cat;
} rn_block;

struct rn_arena {
    int on_device;
    rn_block *blocks; /* live buffers, in allocation order */
    size_t nblocks, cap;
    size_t current[RN_NCATEGORIES];
    size_t peak[RN_NCATEGORIES];
    size_t total, total_peak;
};

static const char *const category_names[RN_NCATEGORIES] = {
    "activations", "weights", "gradients", "optimizer", "workspace",
};

const char *rn_category_name(rn_category cat)
{
    return ((unsigned)cat < RN_NCATEGORIES) ? category_names[cat] : "unknown";
}

static void check_category(rn_category cat, const char *what)
{
    if ((unsigned)cat >= RN_NCATEGORIES) {
        /* A programming error, not bad input: stop before the books go wrong. */
        fprintf(stderr, "%s: arena: category %d is not valid (buffer %s)\n", cs_prog(), (int)cat,
                what ? what : "(unnamed)");
        exit(3);
    }
}

rn_arena *rn_arena_create(int on_device)
{
    rn_arena *a = cs_calloc(sizeof *a, "memory arena");
    a->on_device = on_device ? 1 : 0;
    return a;
}

static void free_buffer(const rn_arena *a, void *p)
{
    if (a->on_device)
        rn_device_free(p);
    else
        cs_free(p);
}

void rn_arena_destroy(rn_arena *a)
{
    if (a == NULL) return;
    for (size_t i = 0; i < a->nblocks; i++) free_buffer(a, a->blocks[i].p);
    cs_free(a->blocks);
    cs_free(a);
}

/* Appends one record, doubling the table when full (cs_alloc, so the books
 * themselves show up in common's tracked bytes). */
static void remember(rn_arena *a, void *p, size_t bytes, rn_category cat)
{
    if (a->nblocks == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        rn_block *grown = cs_alloc(cap * sizeof *grown, "memory arena's table");
        for (size_t i = 0; i < a->nblocks; i++) grown[i] = a->blocks[i];
        cs_free(a->blocks);
        a->blocks = grown;
        a->cap = cap;
    }
    a->blocks[a->nblocks++] = (rn_block){p, bytes, cat};
    a->current[cat] += bytes;
    if (a->current[cat] > a->peak[cat]) a->peak[cat] = a->current[cat];
    a->total += bytes;
    if (a->total > a->total_peak) a->total_peak = a->total;
}

void *rn_arena_bytes_alloc(rn_arena *a, rn_category cat, size_t bytes, const char *what)
{
    check_category(cat, what);
    /* A zero-byte request still gets a distinct pointer (one that can be
     * released), but it counts as zero bytes. */
    size_t asked = bytes ? bytes : 1;
    void *p;
    if (a->on_device) {
        p = rn_device_alloc(asked, what);
        rn_device_zero(p, asked);
    } else {
        p = cs_calloc(asked, what);
    }
    remember(a, p, bytes, cat);
    return p;
}

float *rn_arena_floats(rn_arena *a, rn_category cat, size_t nfloats, const char *what)
{
    if (nfloats > (size_t)-1 / sizeof(float)) {
        fprintf(stderr, "%s: out of memory: asked for %zu floats for %s\n", cs_prog(), nfloats,
                what ? what : "(unnamed)");
        exit(3);
    }
    return rn_arena_bytes_alloc(a, cat, nfloats * sizeof(float), what);
}

void rn_arena_release(rn_arena *a, void *p)
{
    if (p == NULL) return;
    /* Searched from the newest: scratch is usually given back soon after
     * it was taken. */
    for (size_t i = a->nblocks; i-- > 0;) {
        if (a->blocks[i].p != p) continue;
        a->current[a->blocks[i].cat] -= a->blocks[i].bytes;
        a->total -= a->blocks[i].bytes;
        free_buffer(a, p);
        for (size_t j = i + 1; j < a->nblocks; j++) a->blocks[j - 1] = a->blocks[j];
        a->nblocks--;
        return;
    }
    fprintf(stderr, "%s: arena: release of a pointer the arena did not give\n", cs_prog());
    exit(3);
}

int rn_arena_on_device(const rn_arena *a)
{
    return a->on_device;
}

size_t rn_arena_current(const rn_arena *a, rn_category cat)
{
    return ((unsigned)cat < RN_NCATEGORIES) ? a->current[cat] : 0;
}

size_t rn_arena_peak(const rn_arena *a, rn_category cat)
{
    return ((unsigned)cat < RN_NCATEGORIES) ? a->peak[cat] : 0;
}

size_t rn_arena_total(const rn_arena *a)
{
    return a->total;
}

size_t rn_arena_total_peak(const rn_arena *a)
{
    return a->total_peak;
}

void rn_arena_peaks_get(const rn_arena *a, rn_arena_peaks *p)
{
    for (int c = 0; c < RN_NCATEGORIES; c++) p->peak[c] = a->peak[c];
    p->total_peak = a->total_peak;
}

void rn_arena_peaks_set(rn_arena *a, const rn_arena_peaks *p)
{
    for (int c = 0; c < RN_NCATEGORIES; c++) a->peak[c] = p->peak[c];
    a->total_peak = p->total_peak;
}

void rn_arena_peaks_reset(rn_arena *a)
{
    for (int c = 0; c < RN_NCATEGORIES; c++) a->peak[c] = a->current[c];
    a->total_peak = a->total;
}
