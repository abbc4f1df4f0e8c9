/* The transform of the `hashed` and `fused` rungs: check and convert one
 * row with hashed and cached lookups (the currency by a switch, each raw
 * category spelling normalized once, the date cached). `hashed` introduces
 * it; `fused` keeps it and changes only what happens to the clean rows. */
#ifndef C2_CACHED_TRANSFORM_H
#define C2_CACHED_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "block_reader.h"
#include "pipeline.h"

/* c2_transform_row's verdict for a row that passes every rule (the others
 * are the c2_reason it was rejected for, or C2_TRANSFORM_OUT_OF_MEMORY). */
#define C2_ACCEPTED                C2_NREASONS
#define C2_TRANSFORM_OUT_OF_MEMORY (-1)

/* The category cache: each distinct raw spelling of a category (the bytes
 * of its field, and whether its quotes need resolving: the same bytes then
 * mean another value) with its normalized name, in an open-addressing hash
 * table. The bytes of both sit in one growing text buffer. */
#define CATEGORY_CACHE_MAX 65536 /* spellings remembered; more are normalized every time */

typedef struct {
    uint64_t hash;
    size_t raw, raw_len;   /* the field's bytes: offset into text, length */
    size_t norm, norm_len; /* the normalized name: offset into text, length */
    int escaped;           /* the field's needs_unescape */
    int used;              /* 0: an empty slot */
} cache_entry;

typedef struct {
    cache_entry *slots;
    size_t nslots, n; /* nslots: a power of two, at most half full */
    char *text;
    size_t text_len, text_cap;
} category_cache;

/* The day cache: dates already found valid, direct-mapped (each date has one
 * slot, picked from its month and day; a date of another year in the same
 * slot replaces it). Every slot starts as 1970-01-01, a valid date, so a
 * match is always a date that passed the rule. */
#define DAY_SLOTS 512

typedef struct {
    char date[DAY_SLOTS][10];
} day_cache;

/* The buffers and caches transform_row reuses for every row. */
typedef struct {
    char *scratch; /* a field's value with its quotes resolved */
    size_t scratch_cap;
    char *category; /* the normalized category (when the cache is full) */
    size_t category_cap;
    category_cache categories;
    day_cache days;
} row_buffers;

/* Empty buffers and caches, ready for the first row. */
void c2_row_buffers_init(row_buffers *b);
/* Frees what the buffers and caches hold. */
void c2_row_buffers_free(row_buffers *b);
/* Checks rec against the rules (pipeline.h) and, when it passes, fills row
 * (its category lives in b until the next call). Returns C2_ACCEPTED, the
 * c2_reason, or C2_TRANSFORM_OUT_OF_MEMORY. */
int c2_transform_row(const c2_job *job, const c2_record *rec, row_buffers *b, c2_clean_row *row);

#endif
