/* Bytes of many short strings (category names) in a few large blocks that
 * never move once made: one allocation per block instead of one per string,
 * and a pointer into a block stays valid while the strings' owners are
 * sorted or the table that holds them grows. Used by the group stores
 * (aggregate.c) and by the result (output.c). */
#ifndef C2_TEXT_ARENA_H
#define C2_TEXT_ARENA_H

#include <stddef.h>

typedef struct c2_text_block c2_text_block;

typedef struct {
    c2_text_block *newest; /* the block being filled; older ones behind it */
    size_t block_bytes;    /* size of a new block (a longer string gets its own) */
} c2_text_arena;

/* block_bytes: e.g. 64 KiB; the arena starts empty (no allocation). */
void c2_text_arena_init(c2_text_arena *a, size_t block_bytes);

/* A copy of s[0..len) followed by a NUL, in the arena. Out of memory: exit 3. */
char *c2_text_arena_copy(c2_text_arena *a, const char *s, size_t len);

/* Forgets every string, keeping the newest block for reuse. */
void c2_text_arena_clear(c2_text_arena *a);

/* Frees every block; the arena is empty again. */
void c2_text_arena_free(c2_text_arena *a);

#endif
