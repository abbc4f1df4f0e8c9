/* The text arena of case02's groups (text_arena.h). */
#include "text_arena.h"

#include <string.h>

#include "cs_memory.h"

struct c2_text_block {
    c2_text_block *next; /* the older block */
    size_t used, cap;
    char bytes[];
};

void c2_text_arena_init(c2_text_arena *a, size_t block_bytes)
{
    a->newest = NULL;
    a->block_bytes = block_bytes;
}

char *c2_text_arena_copy(c2_text_arena *a, const char *s, size_t len)
{
    c2_text_block *b = a->newest;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > a->block_bytes ? len + 1 : a->block_bytes;
        b = cs_alloc(sizeof *b + cap, "case02 category text");
        b->next = a->newest;
        b->used = 0;
        b->cap = cap;
        a->newest = b;
    }
    char *p = b->bytes + b->used;
    if (len > 0) memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

static void free_chain(c2_text_block *b)
{
    while (b) {
        c2_text_block *next = b->next;
        cs_free(b);
        b = next;
    }
}

void c2_text_arena_clear(c2_text_arena *a)
{
    if (!a->newest) return;
    free_chain(a->newest->next);
    a->newest->next = NULL;
    a->newest->used = 0;
}

void c2_text_arena_free(c2_text_arena *a)
{
    free_chain(a->newest);
    a->newest = NULL;
}
