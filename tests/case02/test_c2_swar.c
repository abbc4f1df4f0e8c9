/* swar.h against the plain rules it replaces (rules.c), exhaustively: every
 * string up to 8 bytes over an alphabet that holds each kind of byte the
 * rules tell apart (digits at both ends of the range, '.', '-', ':', a
 * letter, the bytes right below '0' and right above '9', a byte >= 0x80),
 * with different bytes after the string (they must be ignored). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cs_test.h"
#include "pipeline.h"
#include "swar.h"

/* ---- c2_eight_digits ---------------------------------------------------- */
static void test_eight_digits(void)
{
    const char *cases[] = {"00000000", "00000001", "12345678", "99999999", "10000000", "09876543"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = c2_load64(cases[i]) ^ (C2_ONES * '0');
        uint64_t expected = 0;
        for (int k = 0; k < 8; k++) expected = expected * 10 + (uint64_t)(cases[i][k] - '0');
        CHECK(c2_eight_digits(v) == expected);
    }
}

/* ---- c2_swar_amount ------------------------------------------------------ */
/* (char)0xB0 is '0' with the top bit set: a SWAR test that forgot that bit
 * would take it for a digit. */
static const char amount_alphabet[] = {'0', '1', '9', '.', '-', '/', ':', 'x', (char)0xB0};
#define NA ((int)sizeof amount_alphabet)

static long long amount_checked, amount_mismatches;

/* One string: swar must agree with c2_parse_amount, or decline (-1) only
 * where it says it does (a '-' first, or longer than 8 bytes). Returns 1
 * when they disagree. */
static int amount_one(const char *s, size_t len)
{
    int64_t want = 0, got = 0;
    int want_ok = c2_parse_amount(s, len, &want);
    int got_ok = c2_swar_amount(s, len, &got);
    int declines = len == 0 || len > 8 || s[0] == '-';
    int agree = declines ? got_ok == -1 : got_ok == want_ok && (!want_ok || got == want);
    if (!agree)
        fprintf(stderr, "amount \"%.*s\": c2_parse_amount %d (%lld), c2_swar_amount %d (%lld)\n", (int)len, s, want_ok,
                (long long)want, got_ok, (long long)got);
    return !agree;
}

/* Every string of the alphabet, on all cores (each string is independent). */
static void test_amount_exhaustive(void)
{
    /* bytes after the string: digits (they would change the value if read)
     * and then a '.' (it would make a second point) */
    const char *after[] = {"77777777", "........"};
    for (int a = 0; a < 2; a++) {
        for (size_t len = 0; len <= 8; len++) {
            long long combos = 1, checked = 0, mismatches = 0;
            for (size_t k = 0; k < len; k++) combos *= NA;
#pragma omp parallel for reduction(+ : checked, mismatches) schedule(static)
            for (long long c = 0; c < combos; c++) {
                char buf[32];
                long long x = c;
                for (size_t k = 0; k < len; k++, x /= NA) buf[k] = amount_alphabet[x % NA];
                memcpy(buf + len, after[a], 8);
                mismatches += amount_one(buf, len);
                checked++;
            }
            amount_checked += checked;
            amount_mismatches += mismatches;
        }
    }
    CHECK(amount_mismatches == 0);
    CHECK(amount_checked > 30000000); /* every string was tried */
}

static void test_amount_values(void)
{
    /* worked out by hand */
    const struct {
        const char *s;
        int ok;
        int64_t cents;
    } cases[] = {
        {"0", 1, 0},
        {"5", 1, 500},
        {"12.5", 1, 1250},
        {"12.05", 1, 1205},
        {"99999999", 1, 9999999900LL},
        {"1234567.8", -1, 0}, /* 9 bytes: declined */
        {"123456.78", -1, 0},
        {"12345.67", 1, 1234567},
        {".5", 0, 0},
        {"5.", 0, 0},
        {"1.234", 0, 0},
        {"1..2", 0, 0},
        {"1.2.3", 0, 0},
        {"-5", -1, 0},
        {"1,5", 0, 0},
        {"", -1, 0},
        {"\xb1", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        memset(buf, '7', sizeof buf);
        size_t len = strlen(cases[i].s);
        memcpy(buf, cases[i].s, len);
        int64_t cents = -1;
        int ok = c2_swar_amount(buf, len, &cents);
        CHECK(ok == cases[i].ok);
        if (ok == 1 && cases[i].ok == 1) CHECK(cents == cases[i].cents);
    }
}

/* ---- c2_swar_clock --------------------------------------------------------- */
/* digits on both sides of each range's edge (23/25, 59/60), and the bytes
 * just below '0' and just above '9' */
static const char clock_alphabet[] = {'0', '2', '3', '5', '6', '9', ':', '/', (char)0xBA}; /* 0xBA: ':' | 0x80 */
#define NC ((int)sizeof clock_alphabet)

static void test_clock_exhaustive(void)
{
    long long checked = 0, mismatches = 0, accepted = 0;
    long long combos = 1;
    for (int k = 0; k < 8; k++) combos *= NC;
#pragma omp parallel for reduction(+ : checked, mismatches, accepted) schedule(static)
    for (long long c = 0; c < combos; c++) {
        char ts[] = "2026-03-14T00:00:00Z";
        long long x = c;
        for (int k = 0; k < 8; k++, x /= NC) ts[11 + k] = clock_alphabet[x % NC];
        char day[10];
        int want_hour = -1, got_hour = -1;
        int want = c2_parse_timestamp(ts, 20, day, &want_hour);
        int got = c2_swar_clock(ts + 11, &got_hour);
        checked++;
        accepted += want;
        int differs = want != got || (want && want_hour != got_hour);
        mismatches += differs;
        if (differs)
            fprintf(stderr, "clock \"%.8s\": c2_parse_timestamp %d (hour %d), c2_swar_clock %d (hour %d)\n", ts + 11,
                    want, want_hour, got, got_hour);
    }
    CHECK(mismatches == 0);
    CHECK(checked == combos);
    CHECK(accepted > 0 && accepted < combos); /* both sides of the rule were tried */
}

/* ---- c2_key24 ----------------------------------------------------------------- */
static void test_key24(void)
{
    char a[48], b[48];
    memset(a, 'x', sizeof a);
    memset(b, 'y', sizeof b);
    const char *text = "Home & Garden, Outlet 24"; /* 24 bytes */
    for (size_t len = 0; len <= 24; len++) {
        memcpy(a, text, len);
        memcpy(b, text, len);
        uint64_t ka[3], kb[3];
        c2_key24(a, len, ka);
        c2_key24(b, len, kb);
        CHECK(ka[0] == kb[0] && ka[1] == kb[1] && ka[2] == kb[2]); /* bytes past the key are ignored */
        char back[24] = {0}, want[24] = {0};
        memcpy(back, ka, 24);
        memcpy(want, text, len);
        CHECK(memcmp(back, want, 24) == 0); /* the key's bytes, zeros after */
    }
}

int main(void)
{
    if (!C2_SWAR) {
        printf("big-endian build: swar.h is not used\n");
        return 77;
    }
    test_eight_digits();
    test_amount_values();
    test_amount_exhaustive();
    test_clock_exhaustive();
    test_key24();
    return cs_test_done();
}
