/* The row rules of pipeline.h as small, allocation-free parsers, shared by
 * every variant so that all of them accept and reject exactly the same rows.
 *
 * Why hand-written and not strptime/strtod/strtoll: those accept more than
 * the rules allow (leading spaces, '+', exponents, locale-dependent forms),
 * they need a NUL-terminated copy of the field, and the calendar functions
 * (mktime, timegm) consult the time zone. Here every check is a comparison of
 * one byte at a known position, which is both stricter and much faster. */
#include "pipeline.h"

#include <string.h>

const char *const c2_reason_names[C2_NREASONS] = {
    "unterminated_quote", "missing_field", "extra_field", "bad_timestamp", "bad_amount", "unknown_currency",
};

const char *const c2_column_names[C2_NCOLS] = {
    "txn_id", "timestamp", "user_id", "category", "amount", "currency", "country",
};

/* US dollars per unit of each currency, in millionths (fixed rates: the
 * point is the arithmetic, not the market). Integers, so the conversion is
 * exact and every variant agrees to the cent. */
const c2_rate c2_rates[C2_NRATES] = {
    {"USD", 1000000}, {"EUR", 1080000}, {"GBP", 1270000}, {"JPY", 6700},   {"CHF", 1130000}, {"CAD", 740000},
    {"AUD", 660000},  {"CNY", 138000},  {"INR", 12000},   {"BRL", 200000}, {"MXN", 58000},   {"SEK", 95000},
};

/* ---- timestamps ------------------------------------------------------------ */

/* 1 if c is '0'..'9'. The unsigned subtraction folds both range checks into
 * one comparison: bytes below '0' wrap around to large values. */
static inline int is_digit(char c)
{
    return (unsigned char)(c - '0') <= 9;
}

static inline int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static int is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

int c2_parse_timestamp(const char *s, size_t len, char day[10], int *hour)
{
    /* YYYY-MM-DDTHH:MM:SSZ: the shape first (every byte at its position is a
     * digit or the one separator allowed there), then the ranges. */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ"; /* d: a digit */
    if (len != sizeof shape - 1) return 0;
    for (size_t i = 0; i < len; i++) {
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i]) return 0;
    }
    int year = two_digits(s) * 100 + two_digits(s + 2);
    int month = two_digits(s + 5), mday = two_digits(s + 8);
    int hh = two_digits(s + 11), mm = two_digits(s + 14), ss = two_digits(s + 17);
    if (year < 1970 || month < 1 || month > 12) return 0;
    if (mday < 1 || mday > days_in_month(year, month)) return 0;
    if (hh > 23 || mm > 59 || ss > 59) return 0;
    memcpy(day, s, 10);
    *hour = hh;
    return 1;
}

/* ---- amounts --------------------------------------------------------------- */

int c2_parse_amount(const char *s, size_t len, int64_t *cents)
{
    /* optional '-', 1 to 10 digits, optionally '.' and 1 or 2 digits.
     * At most 10 integer digits keep |cents| below 1e12, so the later
     * multiplication by a rate (below 2e6) cannot overflow int64. */
    size_t i = 0;
    int negative = 0;
    if (i < len && s[i] == '-') {
        negative = 1;
        i++;
    }

    size_t int_start = i;
    int64_t units = 0;
    while (i < len && is_digit(s[i])) {
        /* Reject an 11th digit before it is added: a long run of digits
         * would otherwise overflow units first (found by fuzz_scan). */
        if (i - int_start == 10) return 0;
        units = units * 10 + (s[i++] - '0');
    }
    if (i == int_start) return 0; /* no digit */

    int64_t fraction = 0; /* in cents */
    if (i < len) {
        if (s[i] != '.') return 0;
        i++;
        size_t frac_digits = len - i;
        if (frac_digits < 1 || frac_digits > 2) return 0; /* "12." and "1.234" */
        if (!is_digit(s[i])) return 0;
        fraction = (s[i] - '0') * 10; /* "12.5" is 50 cents */
        if (frac_digits == 2) {
            if (!is_digit(s[i + 1])) return 0;
            fraction += s[i + 1] - '0';
        }
    }
    int64_t value = units * 100 + fraction;
    *cents = negative ? -value : value;
    return 1;
}

/* ---- currencies ------------------------------------------------------------ */

/* Three bytes packed into one integer, so a code is found with one switch on
 * an int instead of up to twelve memcmp calls. The case labels are constants
 * the compiler turns into a binary search or a jump table. */
#define PACK3(a, b, c) \
    ((uint32_t)(unsigned char)(a) | (uint32_t)(unsigned char)(b) << 8 | (uint32_t)(unsigned char)(c) << 16)

int c2_find_currency(const char *s, size_t len)
{
    if (len != 3) return -1;
    /* Indexes into c2_rates, in its order (test_c2_parsers checks that every
     * entry of the table is found at its own index). */
    switch (PACK3(s[0], s[1], s[2])) {
    case PACK3('U', 'S', 'D'): return 0;
    case PACK3('E', 'U', 'R'): return 1;
    case PACK3('G', 'B', 'P'): return 2;
    case PACK3('J', 'P', 'Y'): return 3;
    case PACK3('C', 'H', 'F'): return 4;
    case PACK3('C', 'A', 'D'): return 5;
    case PACK3('A', 'U', 'D'): return 6;
    case PACK3('C', 'N', 'Y'): return 7;
    case PACK3('I', 'N', 'R'): return 8;
    case PACK3('B', 'R', 'L'): return 9;
    case PACK3('M', 'X', 'N'): return 10;
    case PACK3('S', 'E', 'K'): return 11;
    default: return -1;
    }
}

/* ---- categories ------------------------------------------------------------ */

size_t c2_normalize_category(const char *s, size_t len, char *out, size_t cap)
{
    size_t begin = 0, end = len;
    while (begin < end && (s[begin] == ' ' || s[begin] == '\t')) begin++;
    while (end > begin && (s[end - 1] == ' ' || s[end - 1] == '\t')) end--;
    size_t n = end - begin;
    size_t copy = n < cap ? n : cap;
    for (size_t i = 0; i < copy; i++) {
        char c = s[begin + i];
        /* ASCII A-Z only: bytes of UTF-8 sequences (>= 0x80) pass unchanged,
         * and so does everything else; no locale is consulted (tolower would). */
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
    }
    return n;
}
