/* fast: the per-thread dictionaries, from strings, short spellings, days
 * and currency codes to small ids, and the hashing they share. What a row
 * does with them (find a key) is inline here: the row loop does it for
 * every row. What grows a table runs once per new key: fast_tables.c. */
#ifndef C2_FAST_TABLES_H
#define C2_FAST_TABLES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "swar.h"

/* ======================================================================
 * Per-thread dictionaries: strings to small ids
 * ====================================================================== */

/* A table whose free slots are all zero bytes. calloc maps a large block
 * as fresh pages from the kernel, which are zero already: nothing is
 * written until a slot is used, and a table of 10 MB costs no pass over it
 * (cs_calloc clears what it allocates). A large one is also backed by
 * 2 MiB pages where the kernel allows (madvise): the processor then finds
 * its addresses with one translation entry per 2 MiB instead of per 4 KiB.
 * Freed with free(). */
void *zeroed_table(size_t bytes, const char *what);

/* Loads of a few bytes, any alignment (memcpy of a constant size compiles
 * to one load instruction). */
static inline uint64_t load_word(const char *p, size_t n)
{
    uint64_t w = 0;
    memcpy(&w, p, n);
    return w;
}

static inline uint64_t load32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* The last 1 to 8 bytes of a key in one word, every byte included, with
 * loads of fixed size only (a memcpy of a variable size becomes a byte
 * loop): 4 to 8 bytes as two 4-byte loads that may overlap, 1 to 3 bytes as
 * three single bytes (first, middle, last). For a given n, different bytes
 * give different words. */
static inline uint64_t tail_word(const char *p, size_t n)
{
    if (n == 8) return c2_load64(p);
    if (n >= 4) return load32(p) | load32(p + n - 4) << 32;
    if (n > 0)
        return (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
               (uint64_t)(unsigned char)p[n - 1] << 16;
    return 0;
}

/* The hash of aggregate.c: eight bytes at a time (the last ones through
 * tail_word), then a final mix. */
static inline uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

static inline uint64_t hash_bytes(uint64_t seed, const char *s, size_t len)
{
    uint64_t h = mix(seed, (uint64_t)len);
    for (; len > 8; s += 8, len -= 8) h = mix(h, c2_load64(s));
    h = mix(h, tail_word(s, len));
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
}

/* memcmp(a, b, n) == 0, inlined for the short keys of this job. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    for (; n > 8; a += 8, b += 8, n -= 8)
        if (c2_load64(a) != c2_load64(b)) return 0;
    return tail_word(a, n) == tail_word(b, n);
}

/* The seeds of hash_bytes for a raw category value (the spelling table)
 * and for a normalized category (the category table, the merge's names). */
#define SPELLING_SEED 0x243F6A8885A308D3ull
#define CATEGORY_SEED 0x13198A2E03707344ull

/* A string -> id table (open addressing, linear probing, at most half full).
 * The key is (flag, bytes): the spelling table sets the flag for a quoted
 * value that still holds escapes, whose bytes mean something else. */
typedef struct {
    uint64_t hash;
    const char *key;
    size_t len;
    int flag;
    int id; /* -1: an empty slot */
} str_slot;

typedef struct {
    str_slot *slots;
    size_t nslots, n;
} str_table;

void str_table_init(str_table *t);

static inline int str_find(const str_table *t, uint64_t h, const char *s, size_t len, int flag)
{
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const str_slot *e = &t->slots[i];
        if (e->id < 0) return -1;
        if (e->hash == h && e->len == len && e->flag == flag && same_bytes(e->key, s, len)) return e->id;
    }
}

/* Adds a key known to be absent; the key bytes must outlive the table. */
void str_add(str_table *t, uint64_t h, const char *key, size_t len, int flag, int id);

/* Spellings of at most 24 bytes: the key is its three words (swar.h,
 * c2_key24) and its length, stored in the slot itself (32 bytes: two
 * slots per cache line). Hashing is three multiplications and comparing is
 * four integer comparisons, the same steps for every length: no loop whose
 * trip count changes from row to row (the general table's hash and
 * comparison loop over the bytes, the processor mispredicts where those
 * loops end, and its key bytes are one more memory access away). At most
 * half full: the first slot looked at is usually the one, and the table
 * stays as small as that allows (with 100,000 spellings it no longer fits
 * in the cache, see "An accepted row's way to its group" in
 * fast_rules.h). */
#define SHORT_KEY 24

typedef struct {
    uint64_t key[3];
    uint32_t len;
    int id1; /* the id plus one; 0: a free slot (zeroed_table) */
} short_slot;

typedef struct {
    short_slot *slots;
    size_t nslots, n;
} short_table;

void short_table_init(short_table *t, size_t nslots);

static inline size_t short_hash(const uint64_t key[3], size_t len)
{
    uint64_t h =
        (key[0] ^ len) * 0x9E3779B97F4A7C15ull + key[1] * 0xC2B2AE3D27D4EB4Full + key[2] * 0x165667B19E3779F9ull;
    return (size_t)(h ^ (h >> 29) ^ (h >> 41));
}

static inline int short_find(const short_table *t, size_t h, const uint64_t key[3], size_t len)
{
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const short_slot *e = &t->slots[i];
        if (e->id1 == 0) return -1;
        if (e->key[0] == key[0] && e->key[1] == key[1] && e->key[2] == key[2] && e->len == len) return e->id1 - 1;
    }
}

void short_add(short_table *t, size_t h, const uint64_t key[3], size_t len, int id);

/* Days: "YYYY-MM-DD" -> id, only for dates that passed c2_parse_timestamp
 * once, so a known day needs only its time of day checked. The key is the
 * ten bytes as two integers: one 8-byte and one 2-byte comparison. */
#define DAY_CACHE 512 /* entries of the day cache: 8 KiB, stays in L1 */

typedef struct {
    uint64_t lo; /* bytes 0..7 */
    uint32_t hi; /* bytes 8..9 */
    int id;      /* -1: empty */
} day_slot;

typedef struct {
    day_slot *slots;
    size_t nslots;
    int n;
    char (*text)[10]; /* the day of each id */
    int text_cap;
    day_slot recent[DAY_CACHE]; /* a cache in front of the table, see timestamp (fast_rules.h) */
} day_table;

void day_table_init(day_table *t);

static inline size_t day_hash(uint64_t lo, uint32_t hi)
{
    uint64_t h = (lo ^ ((uint64_t)hi << 48) ^ hi) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32);
}

static inline int day_find(const day_table *t, uint64_t lo, uint32_t hi)
{
    size_t mask = t->nslots - 1;
    for (size_t i = day_hash(lo, hi) & mask;; i = (i + 1) & mask) {
        const day_slot *e = &t->slots[i];
        if (e->id < 0) return -1;
        if (e->lo == lo && e->hi == hi) return e->id;
    }
}

int day_add(day_table *t, const char day[10], uint64_t lo, uint32_t hi);

/* The currency codes of c2_rates, each packed into one integer (three
 * bytes), in a small hash table: one multiplication, one load, one
 * comparison per row, however many codes there are. (c2_find_currency's
 * switch compiles to a chain of branches, and which currency comes next is
 * random: they are mispredicted often.) Same answer as c2_find_currency. */
#define CODE_SLOTS 32          /* a power of two, at least twice C2_NRATES */
#define NO_CODE    0xFFFFFFFFu /* an empty slot: pack3 never gives it */

typedef struct {
    uint32_t code[CODE_SLOTS];
    int index[CODE_SLOTS]; /* into c2_rates */
} currency_table;

static inline uint32_t pack3(const char *s)
{
    return (uint32_t)(unsigned char)s[0] | (uint32_t)(unsigned char)s[1] << 8 | (uint32_t)(unsigned char)s[2] << 16;
}

/* The top 5 bits of the product: they depend on every bit of the code. */
static inline unsigned code_slot(uint32_t code)
{
    return (code * 0x9E3779B1u) >> 27;
}

void currency_table_init(currency_table *t);

static inline int currency_index(const currency_table *t, const char *s, size_t len)
{
    if (len != 3) return -1;
    uint32_t code = pack3(s);
    for (unsigned i = code_slot(code);; i = (i + 1) % CODE_SLOTS) {
        if (t->code[i] == code) return t->index[i];
        if (t->code[i] == NO_CODE) return -1;
    }
}

#endif
