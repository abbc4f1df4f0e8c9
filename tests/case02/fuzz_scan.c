/* A fuzz target for case02's scanner and row parsers: arbitrary bytes are
 * scanned record by record, and the invariants every variant relies on are
 * checked on each record. A broken invariant aborts (libFuzzer reports it
 * with the input that caused it); AddressSanitizer catches any read or
 * write outside the buffers, UndefinedBehaviorSanitizer any overflow.
 *
 * Two ways to build it:
 *   clang -fsanitize=fuzzer,address,undefined: libFuzzer's own main explores
 *     inputs (tests/case02/CMakeLists.txt: the test case02.fuzz_scan_short);
 *   any compiler with -DC2_FUZZ_STANDALONE: a main that runs each file given
 *     on the command line once (the seed corpus as a regression test). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "cs_fuzz_replay.h"

#define REQUIRE(cond) CS_FUZZ_REQUIRE(cond)

#define SMALL_CAP 8  /* a copy into a buffer smaller than most fields */
#define GUARD     16 /* bytes after each buffer that must stay untouched */

/* Copies the field with a given cap into a buffer followed by guard bytes;
 * checks nothing past cap was written. Returns the field's full length. */
static size_t copy_checked(const c2_field *f, char *buf, size_t cap)
{
    memset(buf + cap, 0xA5, GUARD);
    size_t n = c2_field_copy(f, buf, cap);
    for (size_t i = 0; i < GUARD; i++) REQUIRE((unsigned char)buf[cap + i] == 0xA5);
    return n;
}

/* The parsers of rules.c on one field value: each either rejects it or
 * returns something inside its documented range. */
static void check_parsers(const char *v, size_t n)
{
    char day[10];
    int hour = -1;
    if (c2_parse_timestamp(v, n, day, &hour)) {
        REQUIRE(n == 20);
        REQUIRE(hour >= 0 && hour <= 23);
        REQUIRE(memcmp(day, v, 10) == 0);
    }
    int64_t cents = 0;
    if (c2_parse_amount(v, n, &cents)) {
        REQUIRE(cents > -1000000000000LL && cents < 1000000000000LL);
        /* Every rate: UBSan would flag an overflowing product. */
        for (int r = 0; r < C2_NRATES; r++) {
            int64_t usd = c2_to_usd_cents(cents, c2_rates[r].rate_ppm);
            REQUIRE(cents >= 0 ? usd >= 0 : usd <= 0);
        }
    }
    int cur = c2_find_currency(v, n);
    REQUIRE(cur >= -1 && cur < C2_NRATES);
    if (cur >= 0) REQUIRE(n == 3 && memcmp(v, c2_rates[cur].code, 3) == 0);

    char norm[SMALL_CAP + GUARD];
    memset(norm + SMALL_CAP, 0xA5, GUARD);
    size_t nn = c2_normalize_category(v, n, norm, SMALL_CAP);
    REQUIRE(nn <= n);
    for (size_t i = 0; i < GUARD; i++) REQUIRE((unsigned char)norm[SMALL_CAP + i] == 0xA5);
    size_t shown = nn < SMALL_CAP ? nn : SMALL_CAP;
    for (size_t i = 0; i < shown; i++) REQUIRE(!(norm[i] >= 'A' && norm[i] <= 'Z'));
    if (nn > 0) REQUIRE(norm[0] != ' ' && norm[0] != '\t');
    if (nn > 0 && nn <= SMALL_CAP) REQUIRE(norm[nn - 1] != ' ' && norm[nn - 1] != '\t');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes on the heap, so ASan sees any read past
     * the end (the scanner must never look for a terminating NUL). */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL) return 0;
    if (size) memcpy(buf, data, size);

    size_t value_cap = size + 1;
    char *value = malloc(value_cap + GUARD);
    char small[SMALL_CAP + GUARD];
    if (value == NULL) {
        free(buf);
        return 0;
    }

    size_t pos = 0;
    while (pos < size) {
        c2_record rec;
        size_t next = c2_scan_record(buf, pos, size, &rec);
        REQUIRE(next > pos && next <= size);         /* progress, inside */
        if (rec.unterminated) REQUIRE(next == size); /* it swallows the rest */
        if (rec.blank) {
            REQUIRE(rec.nfields == 0);
            REQUIRE(buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < size && buf[pos + 1] == '\n'));
        } else {
            REQUIRE(rec.nfields >= 1);
        }
        if (next < size) REQUIRE(buf[next - 1] == '\n'); /* only a LF ends a record early */

        int stored = rec.nfields < C2_MAX_FIELDS ? rec.nfields : C2_MAX_FIELDS;
        for (int i = 0; i < stored; i++) {
            const c2_field *f = &rec.fields[i];
            /* The slice lies inside this record's bytes. */
            REQUIRE(f->ptr >= buf + pos && f->len <= (size_t)(buf + next - f->ptr));
            REQUIRE(!f->needs_unescape || f->quoted);
            if (i > 0) REQUIRE(f->ptr > rec.fields[i - 1].ptr); /* in order */

            size_t full = copy_checked(f, value, value_cap);
            REQUIRE(full <= f->len); /* unescaping shrinks */
            if (!f->needs_unescape) REQUIRE(full == f->len && memcmp(value, f->ptr, full) == 0);
            size_t truncated = copy_checked(f, small, SMALL_CAP);
            REQUIRE(truncated == full); /* same length, any cap */
            REQUIRE(memcmp(small, value, full < SMALL_CAP ? full : SMALL_CAP) == 0);

            check_parsers(value, full);
        }
        pos = next;
    }
    free(value);
    free(buf);
    return 0;
}

#ifdef C2_FUZZ_STANDALONE
int main(int argc, char **argv)
{
    return cs_fuzz_replay(argc, argv, "fuzz_scan", "all invariants held");
}
#endif
