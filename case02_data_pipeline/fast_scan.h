/* fast: the record scanner, written for this job. It slices a row's four
 * wanted fields by the rules of c2_scan_record (csv_scan.c), from SIMD bit
 * masks when the row ends within 64 bytes. All inline: it runs over every
 * byte of the file, inside the row loop (7_fast.c, scan_chunk), so it has no
 * .c of its own but the plan it follows (fast_scan.c). */
#ifndef C2_FAST_SCAN_H
#define C2_FAST_SCAN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

/* The row masks' path: the widest this build targets (AVX2, else SSE2, which
 * every x86-64 has, else none), or one forced by -DC2_SCAN_SSE2 or
 * -DC2_SCAN_SCALAR: the tests build both on every x86 build
 * (tests/case02/CMakeLists.txt), so the paths this machine does not take are
 * tested too. The forced SSE2 path also takes prefix_xor's shifts. */
#if defined(C2_SCAN_SCALAR)
#define C2_ROW_PATH 0
#elif defined(__AVX2__) && !defined(C2_SCAN_SSE2)
#define C2_ROW_PATH 2
#elif defined(__SSE2__)
#define C2_ROW_PATH 1
#else
#define C2_ROW_PATH 0
#endif

#include "fast_tables.h"
#include "pipeline.h"
#include "swar.h"

/* The four fields the rules read. */
enum { W_TIMESTAMP, W_CATEGORY, W_AMOUNT, W_CURRENCY, NWANT };

/* What every thread needs to know about the job, worked out once. */
typedef struct {
    signed char want_of[C2_MAX_FIELDS]; /* field index -> W_..., or -1 */
    int field_of[NWANT];                /* W_... -> field index */
    int header_fields;
    currency_table currencies;
} plan;

typedef struct {
    c2_field want[NWANT]; /* sliced exactly as c2_scan_record slices them */
    int nfields;
    int unterminated;
} row_view;

/* The plan of a job with this header: where each field of a record goes
 * (the header's indexes are < C2_MAX_FIELDS), and the currency codes. */
void plan_init(plan *pl, const c2_header *header);

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
#if C2_ROW_PATH == 2
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
#elif C2_ROW_PATH == 1
#define ROW_MASKS 1
static inline uint64_t eq_mask64(const __m128i v[4], char c)
{
    const __m128i cc = _mm_set1_epi8(c);
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v[k], cc)) << (16 * k);
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
#if defined(__PCLMUL__) && C2_ROW_PATH == 2
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
    uint64_t row_end = nl & ~inside;   /* LFs that end a record */
    if (!row_end) return NULL;         /* longer than 64 bytes */
    int k = __builtin_ctzll(row_end);  /* the LF that ends this row */
    uint64_t in_row = (2ull << k) - 1; /* bits 0..k (k = 63: all) */
    sep &= ~inside & in_row;           /* the separators of this row */
    quote &= in_row;
    if (quote) {
        uint64_t opening = quote & inside, closing = quote & ~inside;
        uint64_t escaped = opening & (closing << 1); /* the second quote of '""' */
        uint64_t field_starts = (sep << 1) | 1;
        if ((opening & ~escaped & ~field_starts) | (closing & ~((sep | escaped) >> 1)))
            return NULL; /* a quote of another kind */
    }
    int nf = __builtin_popcountll(sep); /* one separator ends each field */
    r->unterminated = 0;
    r->nfields = nf;
    if (nf != pl->header_fields) return p + k + 1; /* rejected on its count: fields unread */

    /* The separators' positions, in order (bound[i + 1] ends field i, and
     * bound[0] = -1 sits before the first): then each wanted field is two
     * array reads away, however many fields come before it. */
    int bound[65];
    int n = 0;
    bound[0] = -1;
    for (uint64_t s = sep; s; s &= s - 1) bound[++n] = __builtin_ctzll(s);
    for (int want = 0; want < NWANT; want++) {
        int i = pl->field_of[want];
        int at = bound[i] + 1, b = bound[i + 1]; /* the field is bytes [at, b) */
        int text_end = b;
        if (b == k && b > at && p[b - 1] == '\r') text_end--; /* CR before LF */
        if (!quote) {                                         /* most rows: the bytes as they are */
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
static inline const char *scan_row(const char *p, const char *end, const plan *pl, row_view *r, int *blank)
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
        const char *stop;           /* the ',' or LF ending this field, or end */
        const char *text_begin = p; /* where trailing CR would be looked for */
        const char *close = NULL;   /* a quoted field's closing quote */
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
            if (!close) { /* unterminated: the rest is this field */
                if (slot >= 0) set_field(&r->want[slot], p + 1, (size_t)(end - p - 1), 1, doubled);
                r->nfields = nf < INT_MAX ? nf + 1 : nf;
                r->unterminated = 1;
                return end;
            }
            text_begin = close + 1; /* text after the closing quote is kept */
        }
        stop = find_separator(text_begin, end);
        int record_ends = stop == end || *stop == '\n';
        const char *text_end = stop; /* a CR right before the LF is not data */
        if (record_ends && stop < end && stop > text_begin && stop[-1] == '\r') text_end--;
        if (slot >= 0) {
            if (!close)
                set_field(&r->want[slot], p, (size_t)(text_end - p), 0, 0);
            else if (text_end > text_begin) /* trailing text: resolved by c2_field_copy */
                set_field(&r->want[slot], p + 1, (size_t)(text_end - p - 1), 1, 1);
            else
                set_field(&r->want[slot], p + 1, (size_t)(close - p - 1), 1, doubled);
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

#endif
