/* SWAR ("SIMD within a register"): eight bytes of text loaded as one
 * uint64_t and worked on all at once, with ordinary integer instructions
 * (any 64-bit processor, no instruction set assumed). 7_fast.c uses these
 * for the parts of a row whose length varies from row to row: a byte loop
 * there takes a branch per byte whose outcome the processor cannot guess
 * (how many digits has this amount?), and each wrong guess costs about 15
 * cycles. The functions here do the same work in a fixed number of steps.
 *
 * Byte order: on a little-endian machine (x86-64, most ARM) the first byte
 * in memory is the lowest byte of the word. These functions need that; a
 * big-endian build uses the plain loops instead (C2_SWAR is 0).
 *
 * Every function is tested against the plain version it replaces
 * (tests/case02/test_c2_swar.c), over every string of a small alphabet. */
#ifndef C2_SWAR_H
#define C2_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define C2_SWAR 1
#else
#define C2_SWAR 0
#endif

#define C2_ONES  0x0101010101010101ull
#define C2_HIGHS 0x8080808080808080ull
#define C2_LOWS7 0x7F7F7F7F7F7F7F7Full

static inline uint64_t c2_load64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8); /* one unaligned load: memcpy of a constant size */
    return w;
}

/* The top bit of each byte that is zero in x, exactly (no false hits: the
 * additions never carry out of a byte, since 0x7F + 0x7F < 0x100). */
static inline uint64_t c2_zero_bytes(uint64_t x)
{
    return ~(((x & C2_LOWS7) + C2_LOWS7) | x | C2_LOWS7);
}

/* The top bit of each byte of w equal to c. */
static inline uint64_t c2_bytes_equal(uint64_t w, char c)
{
    return c2_zero_bytes(w ^ (C2_ONES * (unsigned char)c));
}

/* The top bit of each byte of w that is an ASCII digit '0'..'9'. XOR with
 * '0' maps the digits to 0..9, and any other byte either to a value with a
 * high nibble (0xF0 set) or to 10..15 (adding 6 then carries into 0x10). */
static inline uint64_t c2_digit_bytes(uint64_t w)
{
    uint64_t x = w ^ (C2_ONES * '0');
    uint64_t bad = (x & 0xF0F0F0F0F0F0F0F0ull) | (((x & 0x0F0F0F0F0F0F0F0Full) + C2_ONES * 6) & 0x1010101010101010ull);
    return c2_zero_bytes(bad);
}

/* The low n bytes (0 <= n <= 8) of a word all set, the others clear. */
static inline uint64_t c2_low_bytes(size_t n)
{
    return n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
}

/* Eight digits 0..9 in the eight bytes of v, the first (most significant)
 * in the lowest byte, as a number: three multiplications, each combining
 * neighbours (pairs of digits, then of 2-digit numbers, then of 4-digit
 * numbers), instead of eight multiply-adds one after the other. */
static inline uint64_t c2_eight_digits(uint64_t v)
{
    v = (v * (10 * 256 + 1)) >> 8;                                           /* 16-bit lanes: d0*10 + d1 */
    v = ((v & 0x00FF00FF00FF00FFull) * (100 * 65536 + 1)) >> 16;             /* 32-bit lanes: 4 digits */
    return ((v & 0x0000FFFF0000FFFFull) * (10000 * (1ull << 32) + 1)) >> 32; /* all 8 */
}

/* c2_parse_amount for the amounts most files hold: at most 8 bytes, no
 * sign. Returns 1 and the cents, 0 for a bad amount (the same answer as
 * c2_parse_amount), or -1 when the amount is not of that kind (a '-', or
 * longer than 8 bytes): the caller then asks c2_parse_amount. Needs 8
 * readable bytes at s (bytes past len are read and ignored).
 *
 * How: the bytes are classified all at once (digit? '.'?); the amount is
 * valid when every byte is one or the other, with at most one '.', at
 * least one digit before it and one or two after it. The '.' is then cut
 * out (the bytes above it shifted down one place), the digits moved to
 * the top of the word (zeros in front change nothing), and read as one
 * 8-digit number. "12.5" is 125 with one digit after the point: 125 * 10
 * cents. No branch depends on the text. */
static inline int c2_swar_amount(const char *s, size_t len, int64_t *cents)
{
    if (len - 1 >= 8 || s[0] == '-') return -1; /* len 0 wraps around: -1 too */
    uint64_t w = c2_load64(s);
    uint64_t in = c2_low_bytes(len), in_tops = in & C2_HIGHS;
    uint64_t digits = c2_digit_bytes(w) & in_tops;
    uint64_t dots = c2_bytes_equal(w, '.') & in_tops;
    /* the position of the '.', or len when there is none */
    size_t dot = dots ? (size_t)__builtin_ctzll(dots) >> 3 : len;
    size_t after = len - dot - (dots != 0); /* digits after the '.' */
    int ok = ((digits | dots) == in_tops) & ((dots & (dots - 1)) == 0) & (dot >= 1) & (!dots | (after - 1 < 2));
    uint64_t d = (w ^ (C2_ONES * '0')) & in & ~((dots >> 7) * 0xFF); /* digit values, '.' zeroed */
    uint64_t below = (dots >> 7) - 1;                                /* bytes under the '.' (all with no '.') */
    uint64_t packed = (d & below) | ((d >> 8) & ~below);             /* the '.' cut out */
    size_t ndigits = len - (dots != 0);                              /* 1..8 when ok */
    uint64_t v = c2_eight_digits(ok ? packed << (8 * (8 - ndigits)) : 0);
    static const int64_t scale[3] = {100, 10, 1}; /* cents per unit of the last digit */
    *cents = (int64_t)v * scale[after < 3 ? after : 2];
    return ok;
}

/* "HH:MM:SS" at s (8 bytes) checked and its hour: 1 when every digit is
 * a digit, both separators are ':', and hour <= 23, minute and second <= 59
 * (the rule of c2_parse_timestamp). Two comparisons of the whole word
 * classify all eight bytes; the ranges are then three small comparisons. */
static inline int c2_swar_clock(const char *s, int *hour)
{
    uint64_t w = c2_load64(s);
    const uint64_t digit_at = 0x8080008080008080ull;                       /* bytes 0,1,3,4,6,7 */
    const uint64_t colon_at = 0x0000800000800000ull;                       /* bytes 2,5 */
    uint64_t misplaced = ((c2_digit_bytes(w) & digit_at) ^ digit_at) |     /* a digit missing */
                         ((c2_bytes_equal(w, ':') & colon_at) ^ colon_at); /* a ':' missing */
    int shape = misplaced == 0;
    uint64_t d = w ^ (C2_ONES * '0');
    unsigned hh = (unsigned)(d & 15) * 10 + (unsigned)(d >> 8 & 15);
    unsigned mm = (unsigned)(d >> 24 & 15) * 10 + (unsigned)(d >> 32 & 15);
    unsigned ss = (unsigned)(d >> 48 & 15) * 10 + (unsigned)(d >> 56 & 15);
    *hour = (int)hh;
    return shape & (hh <= 23) & (mm <= 59) & (ss <= 59);
}

/* A key of at most 24 bytes as three words, the bytes past its length
 * cleared: then two keys are equal exactly when their lengths and their
 * three words are, and the hash is three multiplications, whatever the
 * length. Needs 24 readable bytes at s. */
static inline void c2_key24(const char *s, size_t len, uint64_t key[3])
{
    key[0] = c2_load64(s) & c2_low_bytes(len);
    key[1] = c2_load64(s + 8) & c2_low_bytes(len > 8 ? len - 8 : 0);
    key[2] = c2_load64(s + 16) & c2_low_bytes(len > 16 ? len - 16 : 0);
}

#endif
