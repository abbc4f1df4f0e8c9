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
 *  3. each thread has its own dictionaries, groups and counters, so the
 *     threads never share a cache line while they work; the partial results
 *     are merged once at the end, in steps in proportion to the groups;
 *  4. the record scanner is written for this job: it slices only the four
 *     fields the rules read, and the row rules run right after it (no
 *     intermediate batch arrays: every value is still in a register or in L1
 *     when it is used);
 *  5. the groups are a dense table while they are few, a hash table when
 *     they are many, and then the table lookups of many rows overlap
 *     (prefetched a few rows ahead) instead of each row waiting for main
 *     memory in turn.
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

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "pipeline.h"
#include "swar.h"

#define READ_BLOCK (16u << 20)         /* bytes per read() when mmap is not possible */
#define MAX_THREADS 256
#define CHUNKS_PER_THREAD 8            /* so a thread slowed down is helped by the others */
#define ARENA_BLOCK (64 * 1024)         /* bytes per block of dictionary keys */

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

/* A table whose free slots are all zero bytes. calloc maps a large block
 * as fresh pages from the kernel, which are zero already: nothing is
 * written until a slot is used, and a table of 10 MB costs no pass over it
 * (cs_calloc clears what it allocates). A large one is also backed by
 * 2 MiB pages where the kernel allows (madvise): the processor then finds
 * its addresses with one translation entry per 2 MiB instead of per 4 KiB.
 * Freed with free(). */
static void *zeroed_table(size_t bytes, const char *what)
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

/* Spellings of at most 24 bytes: the key is its three words (swar.h,
 * c2_key24) and its length, stored in the slot itself (32 bytes: two
 * slots per cache line). Hashing is three multiplications and comparing is
 * four integer comparisons, the same steps for every length: no loop whose
 * trip count changes from row to row (the general table's hash and
 * comparison loop over the bytes, the processor mispredicts where those
 * loops end, and its key bytes are one more memory access away). At most
 * half full: the first slot looked at is usually the one, and the table
 * stays as small as that allows (with 100,000 spellings it no longer fits
 * in the cache, see "An accepted row's way to its group"). */
#define SHORT_KEY 24

typedef struct {
    uint64_t key[3];
    uint32_t len;
    int id1;                   /* the id plus one; 0: a free slot (zeroed_table) */
} short_slot;

typedef struct {
    short_slot *slots;
    size_t nslots, n;
} short_table;

static void short_table_init(short_table *t, size_t nslots)
{
    t->nslots = nslots;
    t->n = 0;
    t->slots = zeroed_table(nslots * sizeof *t->slots, "case02 fast: spellings");
}

static inline size_t short_hash(const uint64_t key[3], size_t len)
{
    uint64_t h = (key[0] ^ len) * 0x9E3779B97F4A7C15ull + key[1] * 0xC2B2AE3D27D4EB4Full +
                 key[2] * 0x165667B19E3779F9ull;
    return (size_t)(h ^ (h >> 29) ^ (h >> 41));
}

static inline int short_find(const short_table *t, size_t h, const uint64_t key[3], size_t len)
{
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const short_slot *e = &t->slots[i];
        if (e->id1 == 0) return -1;
        if (e->key[0] == key[0] && e->key[1] == key[1] && e->key[2] == key[2] && e->len == len)
            return e->id1 - 1;
    }
}

static void short_add(short_table *t, size_t h, const uint64_t key[3], size_t len, int id)
{
    if ((t->n + 1) * 2 > t->nslots) {   /* at most half full */
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
 * Per-thread state and the groups
 *
 * A group is a (day id, category id) pair: both ids are small integers
 * from the thread's dictionaries above. While there are few of them the
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

#define EMPTY_CELL ((cell){0, 0, INT64_MAX, INT64_MIN})
#define DENSE_MAX_CELLS (1u << 14)       /* 512 KiB of cells: a core's L2 cache here */

/* A slot of the hash table of groups. */
typedef struct {
    uint64_t key;          /* group_key(day id, category id); NO_GROUP: a free slot */
    cell c;
} group_slot;

/* The pair of ids as one integer, plus one, so that a free slot is all
 * zero bytes (see zeroed_table): no day id reaches 2^32 - 1. */
#define NO_GROUP 0
static inline uint64_t group_key(int day, int cat) { return ((uint64_t)(uint32_t)day << 32 | (uint32_t)cat) + 1; }
static inline int key_day(uint64_t key) { return (int)((key - 1) >> 32); }
static inline int key_cat(uint64_t key) { return (int)(uint32_t)(key - 1); }

/* An accepted row between the stages of its way to its group (see "An
 * accepted row's way to its group"). */
typedef struct {
    c2_field category;     /* the raw value, in the file */
    uint64_t key[3];       /* a short value's key (short_table) */
    size_t key_len;        /* its length and escape flag, or LONG_KEY */
    uint64_t hash;         /* of the key, for the table it goes to */
    int day, cat;
    int64_t usd;
} pending_row;

#define LONG_KEY SIZE_MAX  /* key_len of a value the short table does not take */
#define AHEAD 8            /* rows between two stages */
#define PIPE 32            /* pending rows kept (a power of two, more than 2 * AHEAD + 1) */

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
    c2_text_arena arena;       /* bytes that outlive a row: dictionary keys */

    /* the groups: dense while cells != NULL, else hashed */
    cell *cells;               /* cells[day * cat_dim + category] */
    int day_dim, cat_dim;
    group_slot *slots;         /* the hash table: nslots, a power of two */
    size_t nslots, ngroups;
    int slot_shift;            /* 64 - log2(nslots): the hash's top bits pick the slot */

    /* accepted rows on their way to their group ("An accepted row's way
     * to its group"): pending[n % PIPE] for n in [added, pushed) */
    pending_row pending[PIPE];
    unsigned pushed, resolved, added;

    /* scratch for a value with escapes and for normalizing */
    char *scratch;
    size_t scratch_cap;
} worker;

static void cells_empty(cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++) c[i] = EMPTY_CELL;
}

static worker *worker_new(void)
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

static void worker_free(worker *w)
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

/* Fibonacci hashing: the key times 2^64 / golden ratio; the top bits of the
 * product depend on every bit of both ids. */
static inline size_t slot_of(uint64_t key, int shift)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> shift);
}

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
static cell *new_hashed_group(worker *w, uint64_t key)
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
    while (nslots < 2 * groups) nslots *= 2;     /* at most half full, as always */
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
        memcpy(&bigger[(size_t)d * nc], &w->cells[(size_t)d * w->cat_dim],
               (size_t)w->cat_dim * sizeof *bigger);
    cs_free(w->cells);
    w->cells = bigger;
    w->day_dim = nd;
    w->cat_dim = nc;
}

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
 * grows, or gives way to the hash table. Out of line: it runs a few times
 * per run, and the row loop stays short without it. */
static __attribute__((noinline)) cell *cell_beyond_dense(worker *w, int day, int cat)
{
    if (w->cells) dense_make_room(w, day, cat);
    if (w->cells) return &w->cells[(size_t)day * w->cat_dim + cat];
    return hashed_cell(w, group_key(day, cat));
}

/* One accepted row into its group's cell. */
static inline void add_to_cell(cell *c, int64_t usd)
{
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
        w->cat_text[id] = c2_text_arena_copy(&w->arena, norm, norm_len);
        w->cat_len[id] = norm_len;
        str_add(&w->categories, nh, w->cat_text[id], norm_len, 0, id);
    }
    str_add(&w->spellings, h, c2_text_arena_copy(&w->arena, f->ptr, f->len), f->len, f->needs_unescape, id);
    return id;
}

/* ======================================================================
 * An accepted row's way to its group
 *
 * Two lookups remain per accepted row once it is parsed: its spelling's
 * category id, then its (day, category) group. While the groups fit in the
 * dense table, every table is small enough for the cache, and a row does
 * both at once (category_id, then the dense cell).
 *
 * With 100,000 groups the tables take megabytes, and a row of a rare
 * category finds its entries in main memory: about 200 ns each on the
 * machine of docs/case02_data_pipeline.md, twice the time it takes to parse
 * the whole row. The processor would wait for each in turn, since the
 * row's next step needs the answer. So, once the groups are hashed, the
 * lookups run as a pipeline of three stages, each AHEAD rows (about a
 * microsecond of parsing) behind the one before:
 *   1. the row is parsed; its spelling's hash is computed and the slot it
 *      will read is requested (a prefetch: the load starts, nothing waits);
 *   2. AHEAD rows later that slot is in the cache: the category id is read,
 *      and the group's slot is requested in the same way;
 *   3. AHEAD rows later again, the row is added to its group.
 * The waits of many rows now overlap. Rows reach their groups a few rows
 * late, which changes nothing (sums, counts, minimums and maximums do not
 * depend on the order); every pending row is finished at the end of each
 * chunk.
 * ====================================================================== */

/* The general table's hash of a raw value (escapes and all). */
static inline uint64_t spelling_hash(const c2_field *f)
{
    return hash_bytes(SPELLING_SEED ^ (uint64_t)f->needs_unescape, f->ptr, f->len);
}

/* The category id of a raw value by the general table: one probe for a
 * spelling seen before (the bytes as they are in the file: no copy, no
 * normalizing). h: spelling_hash(f). */
static int spelling_id(worker *w, const c2_field *f, uint64_t h)
{
    int id = str_find(&w->spellings, h, f->ptr, f->len, f->needs_unescape);
    return id >= 0 ? id : new_spelling(w, f, h);
}

/* A value of at most 24 bytes (nearly all) goes by the short table, when
 * the 24 bytes it loads are inside the file: 1 and its key. A value that
 * holds escapes ('""') means other bytes than it shows, so the flag is part
 * of its key, beside the length (bit 31: lengths here are at most 24). */
static inline int short_key(const c2_field *f, const char *end, uint64_t key[3], size_t *key_len)
{
#if C2_SWAR
    if (f->len <= SHORT_KEY && end - f->ptr >= SHORT_KEY) {
        c2_key24(f->ptr, f->len, key);
        *key_len = f->len | (size_t)f->needs_unescape << 31;
        return 1;
    }
#else
    (void)f, (void)end, (void)key, (void)key_len;
#endif
    return 0;
}

/* The category id of a short value, by the short table (filled from the
 * general one the first time). */
static inline int short_id(worker *w, const c2_field *f, size_t h, const uint64_t key[3], size_t key_len)
{
    int id = short_find(&w->short_spellings, h, key, key_len);
    if (id < 0) {
        id = spelling_id(w, f, spelling_hash(f));
        short_add(&w->short_spellings, h, key, key_len, id);
    }
    return id;
}

/* The category id of a raw value, at once. */
static inline int category_id(worker *w, const c2_field *f, const char *end)
{
    uint64_t key[3];
    size_t key_len;
    if (short_key(f, end, key, &key_len)) return short_id(w, f, short_hash(key, key_len), key, key_len);
    return spelling_id(w, f, spelling_hash(f));
}

/* Stage 1: the row's spelling: its key and hash, its slot requested. */
static inline void stage1_spelling(worker *w, pending_row *p, const char *end)
{
    if (short_key(&p->category, end, p->key, &p->key_len)) {
        p->hash = short_hash(p->key, p->key_len);
        __builtin_prefetch(&w->short_spellings.slots[p->hash & (w->short_spellings.nslots - 1)]);
    } else {
        p->key_len = LONG_KEY;
        p->hash = spelling_hash(&p->category);
        __builtin_prefetch(&w->spellings.slots[p->hash & (w->spellings.nslots - 1)]);
    }
}

/* Stage 2: the category id, then the group's slot requested (40 bytes,
 * which may straddle two cache lines: both are asked for). */
static inline void stage2_category(worker *w, pending_row *p)
{
    p->cat = p->key_len != LONG_KEY ? short_id(w, &p->category, p->hash, p->key, p->key_len)
                                    : spelling_id(w, &p->category, p->hash);
    const group_slot *g = &w->slots[slot_of(group_key(p->day, p->cat), w->slot_shift)];
    __builtin_prefetch(g);
    __builtin_prefetch((const char *)(g + 1) - 1);
}

/* Stage 3: into the group. */
static inline void stage3_group(worker *w, const pending_row *p)
{
    add_to_cell(hashed_cell(w, group_key(p->day, p->cat)), p->usd);
}

/* An accepted row to its group: at once while the groups are dense, else
 * into the pipeline (the rows AHEAD and 2 * AHEAD before it move on). */
static inline void to_group(worker *w, const c2_field *category, int day, int64_t usd, const char *end)
{
    if (w->cells) {
        int cat = category_id(w, category, end);
        cell *c = day < w->day_dim && cat < w->cat_dim ? &w->cells[(size_t)day * w->cat_dim + cat]
                                                      : cell_beyond_dense(w, day, cat);
        add_to_cell(c, usd);
        return;
    }
    pending_row *p = &w->pending[w->pushed % PIPE];
    p->category = *category;
    p->day = day;
    p->usd = usd;
    stage1_spelling(w, p, end);
    w->pushed++;
    if (w->pushed - w->resolved > AHEAD) stage2_category(w, &w->pending[w->resolved++ % PIPE]);
    if (w->resolved - w->added > AHEAD) stage3_group(w, &w->pending[w->added++ % PIPE]);
}

/* Every pending row to its group (at the end of a chunk). */
static void drain_rows(worker *w)
{
    while (w->resolved < w->pushed) stage2_category(w, &w->pending[w->resolved++ % PIPE]);
    while (w->added < w->resolved) stage3_group(w, &w->pending[w->added++ % PIPE]);
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
            w->accepted++;
            w->hours[hour]++;
            to_group(w, &r->want[W_CATEGORY], day, c2_to_usd_cents(cents, c2_rates[cur].rate_ppm), end);
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
    drain_rows(w);
    return (size_t)(p - buf);
}

/* ======================================================================
 * The merge
 *
 * Each thread numbered its days and categories in the order it met them,
 * so the same category has different ids in different threads. The merge
 * takes a number of steps in proportion to the groups (times the threads),
 * never more:
 *  1. every distinct day and category of all threads gets its rank in the
 *     output's order: the days and the categories are sorted (a few hundred
 *     or thousand names; the groups are not sorted by comparing);
 *  2. each thread, in parallel, lists its own groups keyed by those ranks
 *     and sorts them by (day rank, category rank) with two counting passes
 *     (a radix sort: by category, then, keeping that order, by day);
 *  3. the threads' sorted lists are merged into the result, in order, the
 *     same group from several threads folded into one.
 * The result comes out in the output's order, so the final sort of the
 * groups (c2_result_sort) finds nothing to do.
 * ====================================================================== */

/* A name of the merged dictionaries: its text and its global id. */
typedef struct {
    const char *text;
    size_t len;
    int id;
} name_ref;

static int by_text(const void *pa, const void *pb)
{
    const name_ref *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);   /* a prefix first, as c2_result_sort */
}

/* The distinct names of all threads (days: 10 bytes), each with its rank:
 * rank_of[t][local id] for thread t. Returns the names in rank order. */
static name_ref *rank_names(worker **workers, int nthreads, int days, int **rank_of, int *nnames)
{
    str_table seen;                               /* text -> global id */
    str_table_init(&seen);
    int n = 0, cap = 64;
    name_ref *names = cs_alloc((size_t)cap * sizeof *names, "case02 fast: merge");
    for (int t = 0; t < nthreads; t++) {
        const worker *w = workers[t];
        int local = days ? w->days.n : w->ncats;
        rank_of[t] = cs_alloc((size_t)(local > 0 ? local : 1) * sizeof **rank_of, "case02 fast: merge");
        for (int i = 0; i < local; i++) {
            const char *text = days ? w->days.text[i] : w->cat_text[i];
            size_t len = days ? 10 : w->cat_len[i];
            uint64_t h = hash_bytes(CATEGORY_SEED, text, len);
            int id = str_find(&seen, h, text, len, 0);
            if (id < 0) {
                if (n == cap) {
                    name_ref *bigger = cs_alloc(2 * (size_t)cap * sizeof *bigger, "case02 fast: merge");
                    memcpy(bigger, names, (size_t)n * sizeof *names);
                    cs_free(names);
                    names = bigger;
                    cap *= 2;
                }
                id = n;
                names[n++] = (name_ref){text, len, id};
                str_add(&seen, h, text, len, 0, id);
            }
            rank_of[t][i] = id;                   /* the global id, for now */
        }
    }
    cs_free(seen.slots);
    qsort(names, (size_t)n, sizeof *names, by_text);
    int *rank = cs_alloc((size_t)(n > 0 ? n : 1) * sizeof *rank, "case02 fast: merge");
    for (int r = 0; r < n; r++) rank[names[r].id] = r;
    for (int t = 0; t < nthreads; t++) {
        int local = days ? workers[t]->days.n : workers[t]->ncats;
        for (int i = 0; i < local; i++) rank_of[t][i] = rank[rank_of[t][i]];
    }
    cs_free(rank);
    *nnames = n;
    return names;
}

/* A group keyed by the ranks of its day and category. */
typedef struct {
    uint32_t day, cat;
    cell c;
} ranked_group;

/* Stable counting sort of g[0..n) into out, by day (by_day) or category
 * rank, whose values are below nkeys. */
static void counting_sort(const ranked_group *g, size_t n, int by_day, size_t nkeys, ranked_group *out)
{
    size_t *start = cs_calloc((nkeys + 1) * sizeof *start, "case02 fast: merge");
    for (size_t i = 0; i < n; i++) start[(by_day ? g[i].day : g[i].cat) + 1]++;
    for (size_t k = 0; k < nkeys; k++) start[k + 1] += start[k];   /* where each key's run starts */
    for (size_t i = 0; i < n; i++) out[start[by_day ? g[i].day : g[i].cat]++] = g[i];
    cs_free(start);
}

/* Step 2 for thread w: its groups keyed by ranks, sorted; *n of them. */
static ranked_group *sorted_groups(const worker *w, const int *day_rank, const int *cat_rank, int ndays,
                                   int ncats, size_t *n)
{
    size_t count = 0;
    if (w->cells) {
        for (size_t i = 0, cells = (size_t)w->day_dim * w->cat_dim; i < cells; i++) count += w->cells[i].count > 0;
    } else {
        count = w->ngroups;
    }
    ranked_group *list = cs_alloc((count > 0 ? count : 1) * sizeof *list, "case02 fast: merge");
    ranked_group *sorted = cs_alloc((count > 0 ? count : 1) * sizeof *sorted, "case02 fast: merge");
    size_t k = 0;
    if (w->cells) {
        for (int d = 0; d < w->day_dim; d++)
            for (int c = 0; c < w->cat_dim; c++) {
                const cell *x = &w->cells[(size_t)d * w->cat_dim + c];
                if (x->count > 0) list[k++] = (ranked_group){(uint32_t)day_rank[d], (uint32_t)cat_rank[c], *x};
            }
    } else {
        for (size_t i = 0; i < w->nslots; i++) {
            const group_slot *s = &w->slots[i];
            if (s->key == NO_GROUP) continue;
            int d = key_day(s->key), c = key_cat(s->key);
            list[k++] = (ranked_group){(uint32_t)day_rank[d], (uint32_t)cat_rank[c], s->c};
        }
    }
    counting_sort(list, k, 0, (size_t)ncats, sorted);   /* by category ... */
    counting_sort(sorted, k, 1, (size_t)ndays, list);   /* ... then by day, keeping that order */
    cs_free(sorted);
    *n = k;
    return list;
}

static int before(const ranked_group *a, const ranked_group *b)
{
    return a->day < b->day || (a->day == b->day && a->cat < b->cat);
}

static void merge_workers(worker **workers, int nthreads, c2_result *out)
{
    int *day_rank[MAX_THREADS], *cat_rank[MAX_THREADS];
    int ndays, ncats;
    cs_prof_begin("merge: rank names");
    name_ref *days = rank_names(workers, nthreads, 1, day_rank, &ndays);
    name_ref *cats = rank_names(workers, nthreads, 0, cat_rank, &ncats);
    cs_prof_end();

    cs_prof_begin("merge: sort each thread's groups");
    ranked_group *run[MAX_THREADS];
    size_t len[MAX_THREADS], at[MAX_THREADS], total = 0;
    #pragma omp parallel for num_threads(nthreads) schedule(static, 1)
    for (int t = 0; t < nthreads; t++)
        run[t] = sorted_groups(workers[t], day_rank[t], cat_rank[t], ndays, ncats, &len[t]);
    cs_prof_end();

    cs_prof_begin("merge: into the result");
    for (int t = 0; t < nthreads; t++) {
        worker *w = workers[t];
        out->rows += w->rows;
        out->accepted += w->accepted;
        for (int k = 0; k < C2_NREASONS; k++) out->rejected[k] += w->rejected[k];
        for (int h = 0; h < 24; h++) out->hours[h] += w->hours[h];
        at[t] = 0;
        total += len[t];
    }
    /* The smallest head of the sorted lists, as long as one is left; the
     * same group at the head of other lists is folded into it. Into a
     * result that already holds groups (never, from c2_run_fast's callers)
     * they go through c2_result_merge. */
    c2_result part;
    c2_result_init(&part);
    c2_result *into = out->ngroups == 0 ? out : &part;
    c2_result_reserve(into, len[0] > total / (size_t)nthreads ? len[0] : total / (size_t)nthreads);
    for (;;) {
        int first = -1;
        for (int t = 0; t < nthreads; t++)
            if (at[t] < len[t] && (first < 0 || before(&run[t][at[t]], &run[first][at[first]]))) first = t;
        if (first < 0) break;
        ranked_group g = run[first][at[first]++];
        for (int t = first + 1; t < nthreads; t++) {
            const ranked_group *h = &run[t][at[t]];
            if (at[t] < len[t] && h->day == g.day && h->cat == g.cat) {
                g.c.count += h->c.count;
                g.c.sum += h->c.sum;
                if (h->c.min < g.c.min) g.c.min = h->c.min;
                if (h->c.max > g.c.max) g.c.max = h->c.max;
                at[t]++;
            }
        }
        c2_group *r = c2_result_add_group(into, days[g.day].text, cats[g.cat].text, cats[g.cat].len);
        r->count = g.c.count;
        r->sum_cents = g.c.sum;
        r->min_cents = g.c.min;
        r->max_cents = g.c.max;
    }
    if (into == &part) {
        c2_result_merge(out, &part);
        c2_result_free(&part);
    }
    cs_prof_end();
    for (int t = 0; t < nthreads; t++) {
        cs_free(run[t]);
        cs_free(day_rank[t]);
        cs_free(cat_rank[t]);
    }
    cs_free(days);
    cs_free(cats);
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
    worker *ran[MAX_THREADS];          /* the threads that got a chunk */
    int nran = 0;
    for (int t = 0; t < nthreads; t++)
        if (workers[t]) ran[nran++] = workers[t];
    if (rc == 0) merge_workers(ran, nran, out);
    cs_prof_begin("merge: free");
    for (int t = 0; t < nran; t++) worker_free(ran[t]);
    cs_prof_end();
    cs_prof_end();
    close_input(&in);
    return rc;
}
