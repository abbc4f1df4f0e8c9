/* case02's row rules (rules.c): timestamps, amounts, currencies, the USD
 * conversion and category normalization, each rule of pipeline.h tried on
 * both sides of its edge. Expected values are worked out by hand. */
#include <stdint.h>
#include <string.h>

#include "cs_test.h"
#include "pipeline.h"

/* ---- helpers: the parsers take (pointer, length), tests use C strings ---- */

static int ts_ok(const char *s)
{
    char day[10];
    int hour = -1;
    return c2_parse_timestamp(s, strlen(s), day, &hour);
}

static int amount_is(const char *s, int64_t expected)
{
    int64_t cents = 0x5eed;
    return c2_parse_amount(s, strlen(s), &cents) == 1 && cents == expected;
}

static int amount_bad(const char *s)
{
    int64_t cents = 0x5eed;
    /* Rejected, and the output left alone. */
    return c2_parse_amount(s, strlen(s), &cents) == 0 && cents == 0x5eed;
}

static int normalizes_to(const char *s, const char *expected)
{
    char out[64];
    size_t n = c2_normalize_category(s, strlen(s), out, sizeof out);
    return n == strlen(expected) && memcmp(out, expected, n) == 0;
}

static void test_names(void)
{
    CHECK(strcmp(c2_reason_names[C2_UNTERMINATED_QUOTE], "unterminated_quote") == 0);
    CHECK(strcmp(c2_reason_names[C2_MISSING_FIELD], "missing_field") == 0);
    CHECK(strcmp(c2_reason_names[C2_EXTRA_FIELD], "extra_field") == 0);
    CHECK(strcmp(c2_reason_names[C2_BAD_TIMESTAMP], "bad_timestamp") == 0);
    CHECK(strcmp(c2_reason_names[C2_BAD_AMOUNT], "bad_amount") == 0);
    CHECK(strcmp(c2_reason_names[C2_UNKNOWN_CURRENCY], "unknown_currency") == 0);
    const char *cols[C2_NCOLS] = {"txn_id", "timestamp", "user_id", "category", "amount", "currency", "country"};
    for (int c = 0; c < C2_NCOLS; c++) CHECK(strcmp(c2_column_names[c], cols[c]) == 0);
}

static void test_timestamps(void)
{
    char day[10];
    int hour = -1;
    const char *ok = "2026-03-15T13:45:59Z";
    CHECK(c2_parse_timestamp(ok, 20, day, &hour) == 1);
    CHECK(memcmp(day, "2026-03-15", 10) == 0);
    CHECK(hour == 13);

    /* Edges of every range. */
    CHECK(ts_ok("1970-01-01T00:00:00Z"));
    CHECK(ts_ok("9999-12-31T23:59:59Z"));
    CHECK(!ts_ok("1969-12-31T23:59:59Z"));
    CHECK(!ts_ok("0000-01-01T00:00:00Z"));
    CHECK(!ts_ok("2026-00-10T00:00:00Z"));
    CHECK(!ts_ok("2026-13-10T00:00:00Z"));
    CHECK(!ts_ok("2026-03-00T00:00:00Z"));
    CHECK(ts_ok("2026-03-31T00:00:00Z"));
    CHECK(!ts_ok("2026-03-32T00:00:00Z"));
    CHECK(!ts_ok("2026-04-31T00:00:00Z")); /* April has 30 days */
    CHECK(ts_ok("2026-04-30T00:00:00Z"));
    CHECK(!ts_ok("2026-11-31T00:00:00Z"));
    CHECK(ts_ok("2026-12-31T00:00:00Z"));
    CHECK(!ts_ok("2026-03-10T24:00:00Z")); /* hour 24 */
    CHECK(ts_ok("2026-03-10T23:00:00Z"));
    CHECK(!ts_ok("2026-03-10T10:60:00Z")); /* minute 60 */
    CHECK(!ts_ok("2026-03-10T10:00:60Z")); /* no leap seconds */

    /* Leap years, Gregorian: every 4th, not every 100th, but every 400th. */
    CHECK(ts_ok("2024-02-29T12:00:00Z"));
    CHECK(!ts_ok("2026-02-29T12:00:00Z"));
    CHECK(!ts_ok("2100-02-29T12:00:00Z"));
    CHECK(ts_ok("2000-02-29T12:00:00Z"));
    CHECK(ts_ok("2026-02-28T12:00:00Z"));
    CHECK(!ts_ok("2024-02-30T12:00:00Z"));

    /* Each position holding a wrong byte: a letter where a digit belongs, a
     * digit where a separator belongs. */
    for (int i = 0; i < 20; i++) {
        char s[21];
        memcpy(s, ok, 21);
        int is_digit_position = s[i] >= '0' && s[i] <= '9';
        s[i] = is_digit_position ? 'x' : '0';
        if (ts_ok(s)) fprintf(stderr, "position %d: \"%s\" accepted\n", i, s);
        CHECK(!ts_ok(s));
        s[i] = is_digit_position ? ' ' : '/';
        CHECK(!ts_ok(s));
    }

    /* Lengths and shapes. */
    CHECK(!ts_ok(""));
    CHECK(!ts_ok("2026-03-15T13:45:59"));   /* 19: no Z */
    CHECK(!ts_ok("2026-03-15T13:45:59Z ")); /* 21 */
    CHECK(!ts_ok(" 2026-03-15T13:45:59Z"));
    CHECK(!ts_ok("2026-03-15 13:45:59Z"));
    CHECK(!ts_ok("2026-03-15t13:45:59z"));
    CHECK(!ts_ok("2026-3-15T13:45:59Z"));
    CHECK(!ts_ok("yesterday"));
    /* The length is what counts, not a NUL: 20 bytes of a longer string. */
    hour = -1;
    CHECK(c2_parse_timestamp("2026-03-15T07:45:59Zjunk", 20, day, &hour) == 1 && hour == 7);
}

static void test_amounts(void)
{
    CHECK(amount_is("12", 1200));
    CHECK(amount_is("12.5", 1250));
    CHECK(amount_is("12.50", 1250));
    CHECK(amount_is("12.05", 1205));
    CHECK(amount_is("0.01", 1));
    CHECK(amount_is("0", 0));
    CHECK(amount_is("-0", 0));
    CHECK(amount_is("007", 700)); /* leading zeros are digits */
    CHECK(amount_is("-0.5", -50));
    CHECK(amount_is("-12.34", -1234));
    CHECK(amount_is("999.99", 99999));
    CHECK(amount_is("9999999999", 999999999900LL)); /* 10 digits */
    CHECK(amount_is("-9999999999.99", -999999999999LL));
    CHECK(amount_bad("99999999999")); /* 11 digits */
    CHECK(amount_bad("10000000000.5"));
    CHECK(amount_bad("77777777777777777777777")); /* would overflow int64 */
    CHECK(amount_bad("-99999999999999999999999.99"));

    CHECK(amount_bad(""));
    CHECK(amount_bad("-"));
    CHECK(amount_bad("12.")); /* '.' needs 1 or 2 digits after it */
    CHECK(amount_bad(".5"));  /* and at least one before it */
    CHECK(amount_bad("-.5"));
    CHECK(amount_bad("1.234"));
    CHECK(amount_bad("12.3.4"));
    CHECK(amount_bad("1.-5"));
    CHECK(amount_bad("1.5x"));
    CHECK(amount_bad("abc"));
    CHECK(amount_bad("1e5"));
    CHECK(amount_bad("+12"));
    CHECK(amount_bad(" 12"));
    CHECK(amount_bad("12 "));
    CHECK(amount_bad("--12"));
    CHECK(amount_bad("1,5"));
    CHECK(amount_bad("12.5 "));
}

static void test_currencies(void)
{
    /* Every entry of the table is found at its own index. */
    for (int i = 0; i < C2_NRATES; i++) {
        CHECK(strlen(c2_rates[i].code) == 3);
        CHECK(c2_find_currency(c2_rates[i].code, 3) == i);
    }
    CHECK(c2_rates[c2_find_currency("USD", 3)].rate_ppm == 1000000);
    CHECK(c2_rates[c2_find_currency("EUR", 3)].rate_ppm == 1080000);
    CHECK(c2_rates[c2_find_currency("GBP", 3)].rate_ppm == 1270000);
    CHECK(c2_rates[c2_find_currency("JPY", 3)].rate_ppm == 6700);
    CHECK(c2_rates[c2_find_currency("CHF", 3)].rate_ppm == 1130000);
    CHECK(c2_rates[c2_find_currency("CAD", 3)].rate_ppm == 740000);
    CHECK(c2_rates[c2_find_currency("AUD", 3)].rate_ppm == 660000);
    CHECK(c2_rates[c2_find_currency("CNY", 3)].rate_ppm == 138000);
    CHECK(c2_rates[c2_find_currency("INR", 3)].rate_ppm == 12000);
    CHECK(c2_rates[c2_find_currency("BRL", 3)].rate_ppm == 200000);
    CHECK(c2_rates[c2_find_currency("MXN", 3)].rate_ppm == 58000);
    CHECK(c2_rates[c2_find_currency("SEK", 3)].rate_ppm == 95000);

    CHECK(c2_find_currency("usd", 3) == -1); /* case-sensitive */
    CHECK(c2_find_currency("Usd", 3) == -1);
    CHECK(c2_find_currency("XXX", 3) == -1);
    CHECK(c2_find_currency("US", 2) == -1);
    CHECK(c2_find_currency("USDX", 4) == -1);
    CHECK(c2_find_currency("USD ", 4) == -1);
    CHECK(c2_find_currency(" USD", 4) == -1);
    CHECK(c2_find_currency("", 0) == -1);
    CHECK(c2_find_currency("USD", 2) == -1); /* the length decides, not the bytes */
    CHECK(c2_find_currency("SD\0", 3) == -1);
    CHECK(c2_find_currency("EURO", 3) == 1); /* the first 3 bytes of a longer buffer */
}

static void test_usd_rounding(void)
{
    CHECK(c2_to_usd_cents(12345, 1000000) == 12345);
    CHECK(c2_to_usd_cents(-12345, 1000000) == -12345);
    CHECK(c2_to_usd_cents(0, 1080000) == 0);
    CHECK(c2_to_usd_cents(1, 1080000) == 1);      /* 1.08 */
    CHECK(c2_to_usd_cents(999, 1080000) == 1079); /* 1078.92 */
    CHECK(c2_to_usd_cents(-999, 1080000) == -1079);
    CHECK(c2_to_usd_cents(50, 6700) == 0);       /* 0.335 */
    CHECK(c2_to_usd_cents(100000, 6700) == 670); /* 1000 yen */
    CHECK(c2_to_usd_cents(1050, 95000) == 100);  /* 99.75 */
    CHECK(c2_to_usd_cents(42, 12000) == 1);      /* 0.504 */
    /* Exactly half: away from zero on both sides. */
    CHECK(c2_to_usd_cents(50, 1270000) == 64); /* 63.5 */
    CHECK(c2_to_usd_cents(-50, 1270000) == -64);
    CHECK(c2_to_usd_cents(125, 12000) == 2); /* 1.5 */
    CHECK(c2_to_usd_cents(-125, 12000) == -2);
    CHECK(c2_to_usd_cents(1, 500000) == 1); /* 0.5 */
    CHECK(c2_to_usd_cents(-1, 500000) == -1);
    /* Just below half: toward zero. */
    CHECK(c2_to_usd_cents(1, 499999) == 0);
    CHECK(c2_to_usd_cents(-1, 499999) == 0);
    CHECK(c2_to_usd_cents(1, 1499999) == 1);
    CHECK(c2_to_usd_cents(-1, 1499999) == -1);
    CHECK(c2_to_usd_cents(1, 1500000) == 2);
    CHECK(c2_to_usd_cents(-1, 1500000) == -2);
    /* The largest amount the parser allows times a rate just below 2e6:
     * 999999999999 * 1999999 = 1999998999998000001, fits in int64. */
    CHECK(c2_to_usd_cents(999999999999LL, 1999999) == 1999998999998LL);
    CHECK(c2_to_usd_cents(-999999999999LL, 1999999) == -1999998999998LL);
}

static void test_normalize(void)
{
    CHECK(normalizes_to("Groceries", "groceries"));
    CHECK(normalizes_to("GROCERIES", "groceries"));
    CHECK(normalizes_to("  Groceries\t", "groceries"));
    CHECK(normalizes_to("\t \tFuel", "fuel"));
    CHECK(normalizes_to("Home, Garden", "home, garden"));
    CHECK(normalizes_to("KIDS \"TOYS\"", "kids \"toys\""));
    CHECK(normalizes_to("A  B", "a  b")); /* inner spaces kept */
    CHECK(normalizes_to("", ""));
    CHECK(normalizes_to(" \t ", ""));
    CHECK(normalizes_to("\nX\n", "\nx\n")); /* only spaces and tabs trimmed */
    CHECK(normalizes_to("Gift\nCards", "gift\ncards"));
    CHECK(normalizes_to("Caf\xC3\xA9 \xC3\x80", "caf\xC3\xA9 \xC3\x80")); /* UTF-8 unchanged */
    CHECK(normalizes_to("@[`{", "@[`{"));                                 /* neighbours of A-Z and a-z */
    CHECK(normalizes_to("AZaz09", "azaz09"));

    /* cap: the full length is returned, only cap bytes written. */
    char out[8];
    memset(out, '#', sizeof out);
    size_t n = c2_normalize_category("  ELECTRONICS ", 14, out, 4);
    CHECK(n == 11);
    CHECK(memcmp(out, "elec", 4) == 0);
    CHECK(out[4] == '#');
    CHECK(c2_normalize_category("ABC", 3, NULL, 0) == 3);
}

int main(void)
{
    test_names();
    test_timestamps();
    test_amounts();
    test_currencies();
    test_usd_rounding();
    test_normalize();
    return cs_test_done();
}
