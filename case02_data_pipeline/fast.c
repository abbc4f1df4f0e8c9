/* fast: the whole job in one pass over a memory-mapped file, on every core.
 *
 * What changed from columnar:
 *  1. no read() copies: the file is mapped (mmap) and parsed where the page
 *     cache holds it; read in large blocks only if mapping fails;
 *  2. the file is cut into chunks (several per thread) and the chunks are
 *     parsed in parallel (OpenMP). The hard part is where a chunk starts: a quoted
 *     field may hold a newline, so "the first LF after the cut" is not always
 *     a record boundary. Each thread works out the scanner's state at its
 *     cut from the quotes just before it (see "Where the chunks start");
 *  3. each thread has its own dictionaries, dense table and counters, so the
 *     threads never share a cache line while they work; the partial results
 *     are merged once at the end;
 *  4. the record scanner is written for this job: it slices only the four
 *     fields the rules read, and the row rules run right after it (no
 *     intermediate batch arrays: every value is still in a register or in L1
 *     when it is used).
 * No allocation per row: every table grows by doubling, and scratch space
 * for the rare quoted value with escapes is reused. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "aggregate.h"
#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "pipeline.h"
#include "swar.h"

#define READ_BLOCK (16u << 20)         /* bytes per read() when mmap is not possible */
#define MAX_THREADS 256
#define CHUNKS_PER_THREAD 8            /* so a thread slowed down is helped by the others */
#define DENSE_MAX_CELLS (1u << 20)     /* 32 MiB of cells per thread; beyond: hashed groups */
#define ARENA_BLOCK (64 * 1024)

/* ======================================================================
 * The input: the file mapped, or read whole
 * ====================================================================== */

typedef struct {
    const char *data;      /* the whole file */
    size_t size;
    int mapped;            /* 1: munmap at the end */
    char *copy;            /* or the copy read into memory (cs_free at the end) */
} input;

/* Reads the whole file into memory in large blocks (when mmap fails). */
static int read_whole(const char *path, int fd, size_t size, input *in)
{
    char *buf = cs_alloc(size, "case02 fast: the input file");
    size_t got = 0;
    while (got < size) {
        size_t want = size - got < READ_BLOCK ? size - got : READ_BLOCK;
        ssize_t n = read(fd, buf + got, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            cs_error("%s: cannot read: %s", path, strerror(errno));
            cs_free(buf);
            return 3;
        }
        if (n == 0) break;             /* the file shrank since fstat: use what is there */
        got += (size_t)n;
    }
    in->data = in->copy = buf;
    in->size = got;
    return 0;
}

static int open_input(const char *path, input *in)
{
    memset(in, 0, sizeof *in);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        return 2;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return 2;
    }
    size_t size = (size_t)st.st_size;
    int rc = 0;
    if (size == 0) {
        in->data = "";                 /* mmap refuses a length of 0 */
    } else {
        /* The file's pages in the page cache become our memory: no copy.
         * PROT_READ and MAP_PRIVATE: nothing we do can reach the file.
         * MADV_SEQUENTIAL asks the kernel to read ahead aggressively (each
         * thread walks its chunk front to back). One caveat of mapping: a
         * file truncated by another process while mapped makes the read of
         * a vanished page fail with SIGBUS, so a job that reads files still
         * being written should read() them instead. */
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            madvise(p, size, MADV_SEQUENTIAL);
            in->data = p;
            in->size = size;
            in->mapped = 1;
        } else {
            rc = read_whole(path, fd, size, in);
        }
    }
    close(fd);
    return rc;
}

static void close_input(input *in)
{
    if (in->mapped) munmap((void *)in->data, in->size);
    cs_free(in->copy);
}

/* ======================================================================
 * Finding bytes
 *
 * Eight bytes at a time (swar.h): a word is compared with a byte value
 * all at once, giving the top bit of each byte that matched; on a
 * little-endian machine the lowest byte is the first in memory, so the
 * number of trailing zero bits divided by 8 is the offset of the first
 * match. Big-endian machines take the byte loops. Loads stay inside
 * [p, end): the mapping ends there.
 *
 * Why not memchr: it is vectorized and wins on long runs, but a call costs
 * more than scanning the 5 to 20 bytes of a typical field this way.
 * ====================================================================== */
/* The first ',' or LF in [p, end), or end. */
static inline const char *find_separator(const char *p, const char *end)
{
#if C2_SWAR
    for (; end - p >= 8; p += 8) {
        uint64_t w = c2_load64(p);
        uint64_t hits = c2_bytes_equal(w, ',') | c2_bytes_equal(w, '\n');
        if (hits) return p + (__builtin_ctzll(hits) >> 3);
    }
#endif
    while (p < end && *p != ',' && *p != '\n') p++;
    return p;
}

/* The first '"' in [p, end), or NULL (as memchr). */
static inline const char *find_quote(const char *p, const char *end)
{
#if C2_SWAR
    for (; end - p >= 8; p += 8) {
        uint64_t hits = c2_bytes_equal(c2_load64(p), '"');
        if (hits) return p + (__builtin_ctzll(hits) >> 3);
    }
#endif
    for (; p < end; p++)
        if (*p == '"') return p;
    return NULL;
}

/* ======================================================================
 * Where the chunks start
 *
 * A chunk's nominal start (the cut) is an arbitrary byte; its records start
 * at the first record boundary at or after it. A boundary is the byte after
 * a LF that is not inside a quoted field, so we must know whether the cut
 * falls inside quotes. The classic answer is quote parity: an odd number of
 * '"' before the cut means "inside" ('""' counts twice, so escaped quotes do
 * not upset it), counted per chunk in parallel and summed as a prefix.
 *
 * Two things improve on it here:
 *
 * 1. Parity is fooled by a case pipeline.h allows: a '"' inside an unquoted
 *    field (ab"c) or after a closing quote ("ab"c"d) is an ordinary byte,
 *    yet it flips the parity, and every chunk after it would start at the
 *    wrong place. So we carry the scanner's own state instead of one bit:
 *      FIELD     at the start of a field: a '"' opens a quoted field
 *      UNQUOTED  in an unquoted field or after a closing quote: '"' is data
 *      QUOTED    inside a quoted field: ',' and LF are data
 *      QUOTE     inside a quoted field, right after a '"': a second '"'
 *                makes it an escaped quote, anything else closed the field
 *    Between two quotes only ',' and LF matter, and only the last byte of
 *    the run decides the state (',' or LF: FIELD; anything else: UNQUOTED;
 *    inside QUOTED nothing changes). So a stretch of the file can be run
 *    from quote to quote with memchr, for all four starting states at once:
 *    that gives its "transfer", the state at its end for each state at its
 *    start.
 *
 * 2. Counting over the whole file before parsing reads every byte twice.
 *    But the state at a cut rarely depends on much of what comes before
 *    it: after a few quotes and separators, all four starting states end
 *    up in the same state (run  x,"ab",y  from each of the four: all end in
 *    UNQUOTED, inside the field y). So each thread looks back from its cut
 *    over a window, and doubles it until the four agree: that is then the
 *    state at the cut, whatever came before, exactly. Here that takes a
 *    few hundred bytes. In a file without quotes they never agree ("inside
 *    a quote" would stay inside), and the window grows back to the start of
 *    the data, whose state is known: one memchr over the chunks before,
 *    which is what the parity count would have read anyway.
 * ====================================================================== */

enum { ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE, NSTATES };

/* The state after a '"' read in each state. */
static const unsigned char after_quote[NSTATES] = {
    [ST_FIELD] = ST_QUOTED,        /* opens a quoted field */
    [ST_UNQUOTED] = ST_UNQUOTED,   /* an ordinary byte */
    [ST_QUOTED] = ST_QUOTE,        /* closes, unless the next byte is '"' too */
    [ST_QUOTE] = ST_QUOTED,        /* '""': an escaped quote, still inside */
};

/* The state after a non-empty run of bytes without '"' that ends with `last`,
 * from a state outside quotes (FIELD, UNQUOTED or QUOTE). */
static inline unsigned char after_run(char last)
{
    return last == ',' || last == '\n' ? ST_FIELD : ST_UNQUOTED;
}

/* The transfer of bytes [a, b): out[s] = the state after them when the
 * state before them is s. */
static void transfer(const char *buf, size_t a, size_t b, unsigned char out[NSTATES])
{
    unsigned char s[NSTATES] = {ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE};
    size_t pos = a;
    while (pos < b) {
        const char *q = memchr(buf + pos, '"', b - pos);
        size_t qpos = q ? (size_t)(q - buf) : b;
        if (qpos > pos) {
            unsigned char run = after_run(buf[qpos - 1]);
            for (int k = 0; k < NSTATES; k++)
                if (s[k] != ST_QUOTED) s[k] = run;
        }
        if (!q) break;
        for (int k = 0; k < NSTATES; k++) s[k] = after_quote[s[k]];
        pos = qpos + 1;
    }
    memcpy(out, s, NSTATES);
}

#define FIRST_WINDOW 4096        /* bytes looked at before a cut, at first */

/* The scanner's state right before byte `cut` (begin < cut: begin is the
 * data start, where the state is FIELD). */
static int state_at_cut(const char *buf, size_t begin, size_t cut)
{
    /* at_cut[s]: the state at the cut when the state at `from` is s */
    unsigned char at_cut[NSTATES] = {ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE};
    size_t from = cut, window = FIRST_WINDOW;
    for (;;) {
        size_t lo = from - begin > window ? from - window : begin;
        unsigned char t[NSTATES];
        transfer(buf, lo, from, t);              /* the state at `from`, by the state at lo */
        for (int s = 0; s < NSTATES; s++) t[s] = at_cut[t[s]];
        memcpy(at_cut, t, NSTATES);              /* now by the state at lo */
        from = lo;
        if (from == begin) return at_cut[ST_FIELD];
        if (at_cut[0] == at_cut[1] && at_cut[0] == at_cut[2] && at_cut[0] == at_cut[3])
            return at_cut[0];                    /* the same, whatever came before */
        window *= 2;
    }
}

/* The first record start at or after x, given the state before byte x
 * (x > the data start). */
static size_t first_record_start(const char *buf, size_t x, size_t end, int state)
{
    if (x >= end) return end;
    if (state == ST_FIELD && buf[x - 1] == '\n') return x;   /* the cut is a boundary */
    while (x < end) {
        if (state == ST_QUOTED) {       /* only a '"' can get us out */
            const char *q = memchr(buf + x, '"', end - x);
            if (!q) return end;         /* unterminated: the rest is one record */
            state = ST_QUOTE;
            x = (size_t)(q - buf) + 1;
            continue;
        }
        const char *lf = memchr(buf + x, '\n', end - x);
        size_t limit = lf ? (size_t)(lf - buf) : end;
        const char *q = memchr(buf + x, '"', limit - x);
        if (!q) return lf ? limit + 1 : end;   /* a LF outside quotes: a boundary */
        size_t qpos = (size_t)(q - buf);
        if (qpos > x) state = after_run(buf[qpos - 1]);
        state = after_quote[state];
        x = qpos + 1;
    }
    return end;
}

/* ======================================================================
 * Per-thread dictionaries: strings to small ids
 * ====================================================================== */

/* Bytes that must outlive a row (dictionary keys): a few large blocks. */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

static const char *arena_copy(arena_block **arena, const char *s, size_t len)
{
    arena_block *b = *arena;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > ARENA_BLOCK ? len : ARENA_BLOCK;
        b = cs_alloc(sizeof *b + cap, "case02 fast: dictionary keys");
        b->next = *arena;
        b->used = 0;
        b->cap = cap;
        *arena = b;
    }
    char *p = b->data + b->used;
    if (len > 0) memcpy(p, s, len);
    b->used += len;
    return p;
}

static void arena_free(arena_block *b)
{
    while (b) {
        arena_block *next = b->next;
        cs_free(b);
        b = next;
    }
}

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

/* A string -> id table (open addressing, linear probing, at most half full).
 * The key is (flag, bytes): the spelling table sets the flag for a quoted
 * value that still holds escapes, whose bytes mean something else. */
typedef struct {
    uint64_t hash;
    const char *key;
    size_t len;
    int flag;
    int id;                /* -1: an empty slot */
} str_slot;

typedef struct {
    str_slot *slots;
    size_t nslots, n;
} str_table;

static void str_table_init(str_table *t)
{
    t->nslots = 256;
    t->n = 0;
    t->slots = cs_alloc(t->nslots * sizeof *t->slots, "case02 fast: dictionary");
    for (size_t i = 0; i < t->nslots; i++) t->slots[i].id = -1;
}

static inline int str_find(const str_table *t, uint64_t h, const char *s, size_t len, int flag)
{
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const str_slot *e = &t->slots[i];
        if (e->id < 0) return -1;
        if (e->hash == h && e->len == len && e->flag == flag && same_bytes(e->key, s, len))
            return e->id;
    }
}

/* Adds a key known to be absent; the key bytes must outlive the table. */
static void str_add(str_table *t, uint64_t h, const char *key, size_t len, int flag, int id)
{
    if ((t->n + 1) * 2 > t->nslots) {  /* keep it at most half full: short probes */
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

/* Spellings of at most 16 bytes: the key is its two words (swar.h,
 * c2_key16) and its length, stored in the slot itself. Hashing is two
 * multiplications and comparing is three integer comparisons, the same
 * steps for every length: no loop whose trip count changes from row to row
 * (the general table's hash and comparison loop over the bytes, and the
 * processor mispredicts where those loops end). At most a quarter full, so
 * the first slot looked at is nearly always the one. */
typedef struct {
    uint64_t key[2];
    uint32_t len;
    int id;                    /* -1: empty */
} short_slot;

typedef struct {
    short_slot *slots;
    size_t nslots, n;
} short_table;

static void short_table_init(short_table *t, size_t nslots)
{
    t->nslots = nslots;
    t->n = 0;
    t->slots = cs_alloc(nslots * sizeof *t->slots, "case02 fast: spellings");
    for (size_t i = 0; i < nslots; i++) t->slots[i] = (short_slot){{0, 0}, 0, -1};
}

static inline size_t short_hash(const uint64_t key[2], size_t len)
{
    uint64_t h = (key[0] ^ len) * 0x9E3779B97F4A7C15ull + key[1] * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29) ^ (h >> 41));
}

static inline int short_find(const short_table *t, size_t h, const uint64_t key[2], size_t len)
{
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const short_slot *e = &t->slots[i];
        if (e->id < 0) return -1;
        if (e->key[0] == key[0] && e->key[1] == key[1] && e->len == len) return e->id;
    }
}

static void short_add(short_table *t, size_t h, const uint64_t key[2], size_t len, int id)
{
    if ((t->n + 1) * 4 > t->nslots) {   /* at most a quarter full */
        short_table bigger;
        short_table_init(&bigger, t->nslots * 2);
        for (size_t i = 0; i < t->nslots; i++) {
            const short_slot *e = &t->slots[i];
            if (e->id >= 0) short_add(&bigger, short_hash(e->key, e->len), e->key, e->len, e->id);
        }
        cs_free(t->slots);
        *t = bigger;
    }
    size_t mask = t->nslots - 1, i = h & mask;
    while (t->slots[i].id >= 0) i = (i + 1) & mask;
    t->slots[i] = (short_slot){{key[0], key[1]}, (uint32_t)len, id};
    t->n++;
}

/* Days: "YYYY-MM-DD" -> id, only for dates that passed c2_parse_timestamp
 * once, so a known day needs only its time of day checked. The key is the
 * ten bytes as two integers: one 8-byte and one 2-byte comparison. */
#define DAY_CACHE 512          /* entries of the day cache: 8 KiB, stays in L1 */

typedef struct {
    uint64_t lo;           /* bytes 0..7 */
    uint32_t hi;           /* bytes 8..9 */
    int id;                /* -1: empty */
} day_slot;

typedef struct {
    day_slot *slots;
    size_t nslots;
    int n;
    char (*text)[10];      /* the day of each id */
    int text_cap;
    day_slot recent[DAY_CACHE];   /* a cache in front of the table, see timestamp */
} day_table;

static void day_table_init(day_table *t)
{
    t->nslots = 64;
    t->n = 0;
    t->slots = cs_alloc(t->nslots * sizeof *t->slots, "case02 fast: days");
    for (size_t i = 0; i < t->nslots; i++) t->slots[i].id = -1;
    t->text_cap = 32;
    t->text = cs_alloc((size_t)t->text_cap * sizeof *t->text, "case02 fast: days");
    for (int i = 0; i < DAY_CACHE; i++) t->recent[i] = (day_slot){0, 0, -1};
}

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

static int day_add(day_table *t, const char day[10], uint64_t lo, uint32_t hi)
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

/* ======================================================================
 * Per-thread state and the dense table
 * ====================================================================== */

/* One group's accumulators, 32 bytes: one row touches one half cache line. */
typedef struct {
    int64_t count, sum, min, max;
} cell;

typedef struct {
    /* the counters of the summary */
    int64_t rows, accepted, rejected[C2_NREASONS], hours[24];

    day_table days;
    short_table short_spellings;   /* the same for short values, faster (see short_table) */
    str_table spellings;       /* raw category value (as in the file) -> category id */
    str_table categories;      /* normalized category -> category id */
    const char **cat_text;     /* normalized bytes of each category id */
    size_t *cat_len;
    int ncats, cat_cap;
    arena_block *arena;

    /* groups: cells[day * cat_dim + category], while that stays small;
     * the hashed groups of aggregate.c once it would not */
    cell *cells;
    int day_dim, cat_dim;
    c2_groups *overflow;

    /* scratch for a value with escapes and for normalizing */
    char *scratch;
    size_t scratch_cap;
} worker;

static void cells_empty(cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++) c[i] = (cell){0, 0, INT64_MAX, INT64_MIN};
}

static worker *worker_new(void)
{
    worker *w = cs_calloc(sizeof *w, "case02 fast: thread state");
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

static void worker_free(worker *w)
{
    if (!w) return;
    cs_free(w->days.slots);
    cs_free(w->days.text);
    cs_free(w->short_spellings.slots);
    cs_free(w->spellings.slots);
    cs_free(w->categories.slots);
    cs_free(w->cat_text);
    cs_free(w->cat_len);
    arena_free(w->arena);
    cs_free(w->cells);
    c2_groups_free(w->overflow);
    cs_free(w->scratch);
    cs_free(w);
}

/* Makes the dense table hold (day, cat) by doubling a dimension, unless
 * that would pass DENSE_MAX_CELLS: then the table keeps its size and the
 * groups that do not fit go to hashed groups (aggregate.c) instead, the
 * graceful fallback for many distinct days or categories. A (day, category)
 * pair always lands in the same one of the two, so no group is split. */
static void cells_make_room(worker *w, int day, int cat)
{
    int nd = w->day_dim, nc = w->cat_dim;
    while (day >= nd) nd *= 2;
    while (cat >= nc) nc *= 2;
    if ((size_t)nd * (size_t)nc > DENSE_MAX_CELLS) {
        if (!w->overflow) w->overflow = c2_groups_new();
        return;
    }
    cell *bigger = cs_alloc((size_t)nd * nc * sizeof *bigger, "case02 fast: groups");
    cells_empty(bigger, (size_t)nd * nc);
    for (int d = 0; d < w->day_dim; d++)
        memcpy(&bigger[(size_t)d * nc], &w->cells[(size_t)d * w->cat_dim],
               (size_t)w->cat_dim * sizeof *bigger);
    cs_free(w->cells);
    w->cells = bigger;
    w->day_dim = nd;
    w->cat_dim = nc;
}

/* One accepted row into its group. */
static inline void add_to_group(worker *w, int day, int cat, int64_t usd)
{
    if (day >= w->day_dim || cat >= w->cat_dim) {
        if (!w->overflow) cells_make_room(w, day, cat);
        if (day >= w->day_dim || cat >= w->cat_dim) {   /* it did not fit */
            c2_groups_add(w->overflow, w->days.text[day], w->cat_text[cat], w->cat_len[cat], usd);
            return;
        }
    }
    cell *c = &w->cells[(size_t)day * w->cat_dim + cat];
    c->count++;
    c->sum += usd;
    if (usd < c->min) c->min = usd;
    if (usd > c->max) c->max = usd;
}

/* ======================================================================
 * The row rules, with the lookups cached
 * ====================================================================== */

#define SPELLING_SEED 0x243F6A8885A308D3ull
#define CATEGORY_SEED 0x13198A2E03707344ull

static void ensure_scratch(worker *w, size_t bytes)
{
    if (bytes <= w->scratch_cap) return;
    while (w->scratch_cap < bytes) w->scratch_cap *= 2;
    cs_free(w->scratch);
    w->scratch = cs_alloc(w->scratch_cap, "case02 fast: scratch");
}

/* A spelling seen for the first time: normalize it, find or create its
 * category, and remember the spelling. Runs once per distinct spelling. */
static int new_spelling(worker *w, const c2_field *f, uint64_t h)
{
    /* value and normalized value are never longer than the slice */
    ensure_scratch(w, 2 * f->len + 2);
    const char *value = f->ptr;
    size_t value_len = f->len;
    if (f->needs_unescape) {
        value_len = c2_field_copy(f, w->scratch, f->len);
        value = w->scratch;
    }
    char *norm = w->scratch + f->len + 1;
    size_t norm_len = c2_normalize_category(value, value_len, norm, value_len);

    uint64_t nh = hash_bytes(CATEGORY_SEED, norm, norm_len);
    int id = str_find(&w->categories, nh, norm, norm_len, 0);
    if (id < 0) {
        if (w->ncats == w->cat_cap) {
            const char **t = cs_alloc(2 * (size_t)w->cat_cap * sizeof *t, "case02 fast: categories");
            size_t *l = cs_alloc(2 * (size_t)w->cat_cap * sizeof *l, "case02 fast: categories");
            memcpy(t, w->cat_text, (size_t)w->ncats * sizeof *t);
            memcpy(l, w->cat_len, (size_t)w->ncats * sizeof *l);
            cs_free(w->cat_text);
            cs_free(w->cat_len);
            w->cat_text = t;
            w->cat_len = l;
            w->cat_cap *= 2;
        }
        id = w->ncats++;
        w->cat_text[id] = arena_copy(&w->arena, norm, norm_len);
        w->cat_len[id] = norm_len;
        str_add(&w->categories, nh, w->cat_text[id], norm_len, 0, id);
    }
    str_add(&w->spellings, h, arena_copy(&w->arena, f->ptr, f->len), f->len, f->needs_unescape, id);
    return id;
}

/* The category id of a raw value, by the general table: one hash and one
 * probe for a spelling seen before (the bytes as they are in the file,
 * escapes and all: no copy, no normalizing). */
static int spelling_id(worker *w, const c2_field *f)
{
    uint64_t h = hash_bytes(SPELLING_SEED ^ (uint64_t)f->needs_unescape, f->ptr, f->len);
    int id = str_find(&w->spellings, h, f->ptr, f->len, f->needs_unescape);
    return id >= 0 ? id : new_spelling(w, f, h);
}

/* The category id of a raw value: values of at most 16 bytes (nearly all)
 * by the short table, when the 16 bytes it loads are inside the file; the
 * others by the general table. A value that holds escapes ('""') means
 * other bytes than it shows, so the flag is part of its key, beside the
 * length (bit 31: lengths here are at most 16). */
static inline int category_id(worker *w, const c2_field *f, const char *end)
{
#if C2_SWAR
    if (f->len <= 16 && end - f->ptr >= 16) {
        uint64_t key[2];
        c2_key16(f->ptr, f->len, key);
        size_t key_len = f->len | (size_t)f->needs_unescape << 31;
        size_t h = short_hash(key, key_len);
        int id = short_find(&w->short_spellings, h, key, key_len);
        if (id < 0) {
            id = spelling_id(w, f);
            short_add(&w->short_spellings, h, key, key_len, id);
        }
        return id;
    }
#else
    (void)end;
#endif
    return spelling_id(w, f);
}

/* "THH:MM:SSZ" at s[10..19] (the rule of c2_parse_timestamp): the eight
 * bytes of the clock checked as one word (swar.h), with no branch. */
static inline int time_of_day(const char *s, int *hour)
{
#if C2_SWAR
    return (s[10] == 'T') & (s[19] == 'Z') & c2_swar_clock(s + 11, hour);
#else
    char day[10];
    return c2_parse_timestamp(s, 20, day, hour);   /* the date was checked already: same answer */
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

/* The currency codes of c2_rates, each packed into one integer (three
 * bytes), in a small hash table: one multiplication, one load, one
 * comparison per row, however many codes there are. (c2_find_currency's
 * switch compiles to a chain of branches, and which currency comes next is
 * random: they are mispredicted often.) Same answer as c2_find_currency. */
#define CODE_SLOTS 32                   /* a power of two, at least twice C2_NRATES */
#define NO_CODE 0xFFFFFFFFu             /* an empty slot: pack3 never gives it */

typedef struct {
    uint32_t code[CODE_SLOTS];
    int index[CODE_SLOTS];              /* into c2_rates */
} currency_table;

static inline uint32_t pack3(const char *s)
{
    return (uint32_t)(unsigned char)s[0] | (uint32_t)(unsigned char)s[1] << 8 |
           (uint32_t)(unsigned char)s[2] << 16;
}

/* The top 5 bits of the product: they depend on every bit of the code. */
static inline unsigned code_slot(uint32_t code) { return (code * 0x9E3779B1u) >> 27; }

static void currency_table_init(currency_table *t)
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

static inline int currency_index(const currency_table *t, const char *s, size_t len)
{
    if (len != 3) return -1;
    uint32_t code = pack3(s);
    for (unsigned i = code_slot(code);; i = (i + 1) % CODE_SLOTS) {
        if (t->code[i] == code) return t->index[i];
        if (t->code[i] == NO_CODE) return -1;
    }
}

/* The four fields the rules read. */
enum { W_TIMESTAMP, W_CATEGORY, W_AMOUNT, W_CURRENCY, NWANT };

/* What every thread needs to know about the job, worked out once. */
typedef struct {
    signed char want_of[C2_MAX_FIELDS];  /* field index -> W_..., or -1 */
    int field_of[NWANT];                 /* W_... -> field index */
    int header_fields;
    currency_table currencies;
} plan;

typedef struct {
    c2_field want[NWANT];      /* sliced exactly as c2_scan_record slices them */
    int nfields;
    int unterminated;
} row_view;

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
static void take_row(worker *w, const row_view *r, const plan *pl, const char *end)
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
        const char *currency = short_value(&r->want[W_CURRENCY], currency_buf, sizeof currency_buf,
                                           &currency_len);
        int day, hour, cur = -1;
        int64_t cents;
        if (!ts || !timestamp(w, ts, ts_len, &day, &hour)) {
            reason = C2_BAD_TIMESTAMP;
        } else if (!amount ||
                   !amount_cents(amount, amount_len, amount == amount_buf ? amount_buf + sizeof amount_buf : end,
                                 &cents)) {
            reason = C2_BAD_AMOUNT;
        } else if (!currency || (cur = currency_index(&pl->currencies, currency, currency_len)) < 0) {
            reason = C2_UNKNOWN_CURRENCY;
        } else {
            int cat = category_id(w, &r->want[W_CATEGORY], end);
            w->accepted++;
            w->hours[hour]++;
            add_to_group(w, day, cat, c2_to_usd_cents(cents, c2_rates[cur].rate_ppm));
            return;
        }
    }
    w->rejected[reason]++;
}

/* ======================================================================
 * The record scanner
 *
 * The rules of c2_scan_record (csv_scan.c) exactly, written for this job:
 * inlined into the loop, only the four fields the rules read are stored
 * (the others are only counted), and the separators and quotes are found
 * eight bytes at a time in a register ("Finding bytes") instead of by a
 * memchr call per field: most fields are shorter than the call's overhead.
 * ====================================================================== */

static inline void set_field(c2_field *f, const char *ptr, size_t len, int quoted, int unescape)
{
    f->ptr = ptr;
    f->len = len;
    f->quoted = quoted;
    f->needs_unescape = unescape;
}

/* ======================================================================
 * A whole row at once
 *
 * Most rows are shorter than 64 bytes. For those, one look at 64 bytes
 * finds every field: SIMD compares (AVX2: two 32-byte registers; SSE2,
 * which every x86-64 has: four 16-byte ones) turn the bytes into bit masks
 * (bit i set where byte i is ',' or LF or '"'), the quotes tell which of
 * those bits are data (prefix_xor), and the fields are then the gaps
 * between the remaining bits: a count of trailing zeros per field instead
 * of a search loop per field, and no unpredictable branch per 8 bytes. A
 * row that is longer, whose quotes play an unusual part, or that lies in
 * the last 64 bytes of the file takes the general scanner below: same
 * answers, found more slowly. Other processors take the general scanner
 * always.
 * ====================================================================== */
#if defined(__AVX2__)
#define ROW_MASKS 1
static inline uint64_t eq_mask64(__m256i lo, __m256i hi, char c)
{
    const __m256i cc = _mm256_set1_epi8(c);
    uint32_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, cc));
    uint32_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, cc));
    return (uint64_t)a | (uint64_t)b << 32;
}
/* Bit i of *sep: byte p[i] is ',' or LF; of *nl: LF; of *quote: '"'. */
static inline void row_masks(const char *p, uint64_t *sep, uint64_t *nl, uint64_t *quote)
{
    __m256i lo = _mm256_loadu_si256((const __m256i *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(p + 32));
    *nl = eq_mask64(lo, hi, '\n');
    *sep = eq_mask64(lo, hi, ',') | *nl;
    *quote = eq_mask64(lo, hi, '"');
}
#elif defined(__SSE2__)
#define ROW_MASKS 1
static inline uint64_t eq_mask64(const __m128i v[4], char c)
{
    const __m128i cc = _mm_set1_epi8(c);
    uint64_t m = 0;
    for (int k = 0; k < 4; k++)
        m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v[k], cc)) << (16 * k);
    return m;
}
static inline void row_masks(const char *p, uint64_t *sep, uint64_t *nl, uint64_t *quote)
{
    __m128i v[4];
    for (int k = 0; k < 4; k++) v[k] = _mm_loadu_si128((const __m128i *)(p + 16 * k));
    *nl = eq_mask64(v, '\n');
    *sep = eq_mask64(v, ',') | *nl;
    *quote = eq_mask64(v, '"');
}
#else
#define ROW_MASKS 0
#endif

#if ROW_MASKS
/* Bit i of the result: the number of set bits of x at positions 0..i is
 * odd. Applied to the quote bits, that is "byte i is inside quotes" (the
 * opening quote counts as inside, the closing one as outside; a doubled
 * quote '""' leaves and re-enters, so escapes need no special case). One
 * carry-less multiplication by all ones where the processor has it
 * (PCLMULQDQ), else six shifts and exclusive ors, which double the span
 * each time: 1, 2, 4, ... 32 bits. */
static inline uint64_t prefix_xor(uint64_t x)
{
#if defined(__PCLMUL__)
    __m128i product = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xFF), 0);
    return (uint64_t)_mm_cvtsi128_si64(product);
#else
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
#endif
}

/* The row at p (not blank, end - p >= 64) when it ends within 64 bytes:
 * fills r like scan_row and returns the position after it; NULL when it
 * does not (nothing is written then).
 *
 * Quotes: ',' and LF inside quotes are data, so they are removed from the
 * masks with prefix_xor. That reading is the scanner's only when every
 * quote plays its usual part, which is checked with the masks too: each
 * opening quote starts a field (else it is an ordinary byte, as in ab"c),
 * and each closing quote is followed by a separator or by the second
 * quote of a '""' (else text follows it, as in "ab"c). A row that breaks
 * either rule goes to the general scanner, which knows those cases. */
static inline const char *scan_short_row(const char *p, const plan *pl, row_view *r)
{
    uint64_t sep, nl, quote;
    row_masks(p, &sep, &nl, &quote);
    uint64_t inside = prefix_xor(quote);
    uint64_t row_end = nl & ~inside;                   /* LFs that end a record */
    if (!row_end) return NULL;                         /* longer than 64 bytes */
    int k = __builtin_ctzll(row_end);                  /* the LF that ends this row */
    uint64_t in_row = (2ull << k) - 1;                 /* bits 0..k (k = 63: all) */
    sep &= ~inside & in_row;                           /* the separators of this row */
    quote &= in_row;
    if (quote) {
        uint64_t opening = quote & inside, closing = quote & ~inside;
        uint64_t escaped = opening & (closing << 1);   /* the second quote of '""' */
        uint64_t field_starts = (sep << 1) | 1;
        if ((opening & ~escaped & ~field_starts) | (closing & ~((sep | escaped) >> 1)))
            return NULL;                               /* a quote of another kind */
    }
    int nf = __builtin_popcountll(sep);                /* one separator ends each field */
    r->unterminated = 0;
    r->nfields = nf;
    if (nf != pl->header_fields) return p + k + 1;     /* rejected on its count: fields unread */

    /* The separators' positions, in order (bound[i + 1] ends field i, and
     * bound[0] = -1 sits before the first): then each wanted field is two
     * array reads away, however many fields come before it. */
    int bound[65];
    int n = 0;
    bound[0] = -1;
    for (uint64_t s = sep; s; s &= s - 1) bound[++n] = __builtin_ctzll(s);
    for (int want = 0; want < NWANT; want++) {
        int i = pl->field_of[want];
        int at = bound[i] + 1, b = bound[i + 1];       /* the field is bytes [at, b) */
        int text_end = b;
        if (b == k && b > at && p[b - 1] == '\r') text_end--;   /* CR before LF */
        if (!quote) {                                  /* most rows: the bytes as they are */
            set_field(&r->want[want], p + at, (size_t)(text_end - at), 0, 0);
            continue;
        }
        /* quoted: its text lies between the quotes, and holds '""' when
         * the field has more than its two quotes. Arithmetic, not a
         * branch: whether a value is quoted changes from row to row. */
        int quoted = (int)(quote >> at) & 1;
        uint64_t field_quotes = quote & ((1ull << b) - 1) & ~((1ull << at) - 1);
        set_field(&r->want[want], p + at + quoted, (size_t)(text_end - at - 2 * quoted), quoted,
                  __builtin_popcountll(field_quotes) > 2);
    }
    return p + k + 1;
}
#endif

/* Scans the record at p (p < end). Returns the position after it; *blank
 * tells an empty line (skipped, not a row). A field ends at the first ','
 * or LF after it (after its closing quote, if quoted); a LF ends the
 * record, and a CR right before that LF is not data. */
static inline const char *scan_row(const char *p, const char *end, const plan *pl,
                                   row_view *r, int *blank)
{
    if (*p == '\n' || (*p == '\r' && end - p >= 2 && p[1] == '\n')) {
        *blank = 1;
        return p + (*p == '\n' ? 1 : 2);
    }
    *blank = 0;
#if ROW_MASKS
    if (end - p >= 64) {
        const char *next = scan_short_row(p, pl, r);
        if (next) return next;
    }
#endif
    r->unterminated = 0;
    int nf = 0;
    for (;;) {
        int slot = nf < C2_MAX_FIELDS ? pl->want_of[nf] : -1;
        const char *stop;                       /* the ',' or LF ending this field, or end */
        const char *text_begin = p;             /* where trailing CR would be looked for */
        const char *close = NULL;               /* a quoted field's closing quote */
        int doubled = 0;
        if (p < end && *p == '"') {
            /* quoted: up to the next '"' that is not doubled, LFs included */
            const char *q = p + 1;
            for (;;) {
                const char *quote = find_quote(q, end);
                if (!quote) break;
                if (quote + 1 < end && quote[1] == '"') {
                    doubled = 1;
                    q = quote + 2;
                    continue;
                }
                close = quote;
                break;
            }
            if (!close) {                       /* unterminated: the rest is this field */
                if (slot >= 0) set_field(&r->want[slot], p + 1, (size_t)(end - p - 1), 1, doubled);
                r->nfields = nf < INT_MAX ? nf + 1 : nf;
                r->unterminated = 1;
                return end;
            }
            text_begin = close + 1;             /* text after the closing quote is kept */
        }
        stop = find_separator(text_begin, end);
        int record_ends = stop == end || *stop == '\n';
        const char *text_end = stop;            /* a CR right before the LF is not data */
        if (record_ends && stop < end && stop > text_begin && stop[-1] == '\r') text_end--;
        if (slot >= 0) {
            if (!close) set_field(&r->want[slot], p, (size_t)(text_end - p), 0, 0);
            else if (text_end > text_begin)     /* trailing text: resolved by c2_field_copy */
                set_field(&r->want[slot], p + 1, (size_t)(text_end - p - 1), 1, 1);
            else set_field(&r->want[slot], p + 1, (size_t)(close - p - 1), 1, doubled);
        }
        if (nf < INT_MAX) nf++;
        if (!record_ends) {
            p = stop + 1;
            continue;
        }
        r->nfields = nf;
        return stop < end ? stop + 1 : end;
    }
}

/* The records that start in [start, limit) (they may end past limit).
 * Returns where the scan ended: the start of the first record at or after
 * limit. */
static size_t scan_chunk(worker *w, const char *buf, size_t start, size_t limit, size_t end,
                         const plan *pl)
{
    const char *p = buf + start, *lim = buf + limit, *e = buf + end;
    row_view r;
    int blank;
    while (p < lim) {
        const char *next = scan_row(p, e, pl, &r, &blank);
        if (!blank) take_row(w, &r, pl, e);
        p = next;
    }
    return (size_t)(p - buf);
}

/* ======================================================================
 * The merge
 * ====================================================================== */

static void worker_to_result(worker *w, c2_result *out)
{
    c2_result part;
    c2_result_init(&part);
    part.rows = w->rows;
    part.accepted = w->accepted;
    memcpy(part.rejected, w->rejected, sizeof part.rejected);
    memcpy(part.hours, w->hours, sizeof part.hours);
    int ndays = w->days.n < w->day_dim ? w->days.n : w->day_dim;
    int ncats = w->ncats < w->cat_dim ? w->ncats : w->cat_dim;
    for (int d = 0; d < ndays; d++)
        for (int c = 0; c < ncats; c++) {
            const cell *x = &w->cells[(size_t)d * w->cat_dim + c];
            if (x->count == 0) continue;
            c2_group *g = c2_result_add_group(&part, w->days.text[d], w->cat_text[c], w->cat_len[c]);
            g->count = x->count;
            g->sum_cents = x->sum;
            g->min_cents = x->min;
            g->max_cents = x->max;
        }
    c2_result_merge(out, &part);   /* same keys from another thread are folded */
    c2_result_free(&part);
    if (w->overflow) c2_groups_to_result(w->overflow, out);
}

/* ======================================================================
 * The run
 * ====================================================================== */

int c2_run_fast(const c2_job *job, c2_result *out)
{
    cs_prof_begin("map");
    input in;
    int rc = open_input(job->path, &in);
    cs_prof_end();
    if (rc) return rc;

    int nthreads = job->threads;
#ifdef _OPENMP
    if (nthreads <= 0) nthreads = omp_get_max_threads();
#endif
    if (nthreads <= 0) nthreads = 1;
    if (nthreads > MAX_THREADS) nthreads = MAX_THREADS;

    /* What every thread needs: where each field of a record goes (the
     * header's indexes are < C2_MAX_FIELDS), and the currency codes. */
    plan pl;
    memset(pl.want_of, -1, sizeof pl.want_of);
    static const int column_of[NWANT] = {
        [W_TIMESTAMP] = C2_COL_TIMESTAMP, [W_CATEGORY] = C2_COL_CATEGORY,
        [W_AMOUNT] = C2_COL_AMOUNT, [W_CURRENCY] = C2_COL_CURRENCY,
    };
    for (int want = 0; want < NWANT; want++) {
        pl.field_of[want] = job->header.index[column_of[want]];
        pl.want_of[pl.field_of[want]] = (signed char)want;
    }
    pl.header_fields = job->header.nfields;
    currency_table_init(&pl.currencies);

    /* The chunks, cut at equal byte offsets: several per thread, handed out
     * as the threads become free (schedule(dynamic)), so that a thread
     * slowed down (by another program on its core, or by a chunk that is
     * harder to parse) is helped by the others instead of holding them up. */
    const char *buf = in.data;
    size_t end = in.size;
    size_t begin = job->header.data_offset < end ? job->header.data_offset : end;
    int nchunks = nthreads * CHUNKS_PER_THREAD;
    size_t *cut = cs_alloc((size_t)(nchunks + 1) * sizeof *cut, "case02 fast: chunks");
    size_t *start = cs_alloc((size_t)nchunks * sizeof *start, "case02 fast: chunks");
    size_t *stop = cs_alloc((size_t)nchunks * sizeof *stop, "case02 fast: chunks");
    size_t span = end - begin;
    for (int c = 0; c <= nchunks; c++)
        cut[c] = begin + span / nchunks * c + (span % nchunks) * c / nchunks;

    /* Where each chunk's records start (each cut on its own, in parallel). */
    cs_prof_begin("find chunk starts");
    #pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int c = 0; c < nchunks; c++) {
        if (c == 0 || cut[c] <= begin) start[c] = begin;
        else start[c] = first_record_start(buf, cut[c], end, state_at_cut(buf, begin, cut[c]));
    }
    cs_prof_end();

    /* The work (parallel): each thread parses the records that start in the
     * chunks it is given, into its own worker (made on its first chunk). */
    cs_prof_begin("parse+aggregate");
    worker *workers[MAX_THREADS] = {NULL};
    #pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1)
    for (int c = 0; c < nchunks; c++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        if (!workers[t]) workers[t] = worker_new();
        stop[c] = scan_chunk(workers[t], buf, start[c], cut[c + 1], end, &pl);
    }
    cs_prof_end();

    /* Each chunk must end where the next one starts; this cannot fail, and
     * is checked because a silently wrong answer is worse than a loud one. */
    for (int c = 0; c + 1 < nchunks && rc == 0; c++)
        if (stop[c] != start[c + 1]) {
            cs_error("%s: internal error: chunk %d ended at byte %zu, chunk %d started at %zu",
                     job->path, c, stop[c], c + 1, start[c + 1]);
            rc = 3;
        }
    cs_free(cut);
    cs_free(start);
    cs_free(stop);

    cs_prof_begin("merge");
    for (int t = 0; t < nthreads; t++) {
        if (rc == 0 && workers[t]) worker_to_result(workers[t], out);
        worker_free(workers[t]);
    }
    cs_prof_end();
    close_input(&in);
    return rc;
}
