/* case02's generator (generate.c): deterministic bytes from a seed, a file
 * the scanner reads record by record, the malformed share and kinds asked
 * for, the unterminated last row, and the framing options (CRLF, BOM, final
 * newline) changing only the framing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_test.h"
#include "pipeline.h"

static char tmp_dir[] = "/tmp/test_c2_generate.XXXXXX";

typedef struct {
    char *data;
    size_t len;
} blob;

static blob read_all(const char *path)
{
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (f == NULL) return b;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc((size_t)n + 1);
    if (b.data != NULL) b.len = fread(b.data, 1, (size_t)n, f);
    fclose(f);
    return b;
}

/* Generates into tmp_dir/name and reads the bytes back. */
static blob generate(const char *name, int64_t rows, uint64_t seed, double malformed, int crlf, int bom,
                     int final_newline)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    c2_gen_options o = {
        .rows = rows, .seed = seed, .malformed = malformed, .crlf = crlf, .bom = bom, .final_newline = final_newline};
    blob b = {NULL, 0};
    if (c2_generate(path, &o) != 0) return b;
    b = read_all(path);
    remove(path);
    return b;
}

static int same(blob a, blob b)
{
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

/* ---- a reader of the rows, by pipeline.h's rules --------------------------- */

#define NKINDS   (C2_NREASONS + 1) /* the reasons, then "accepted" */
#define ACCEPTED C2_NREASONS

typedef struct {
    int64_t rows, blank;
    int64_t kinds[NKINDS];
    int header_ok;
    int ids_in_order;      /* txn_id 1, 2, 3, ... */
    int last_unterminated; /* the last record, and only it */
    int64_t usd_rows;      /* accepted rows in USD */
    int64_t gift_cards;    /* accepted rows of "gift\ncards" */
    int categories_known;  /* every accepted category is a known name */
    int amounts_in_range;  /* 1 to 99999 cents */
    int days_in_march;     /* 2026-03-01 to 2026-03-30 */
} census;

static const char *const known_categories[] = {
    "groceries",    "electronics", "restaurants",   "travel",    "fuel",          "pharmacy",    "clothing",
    "home, garden", "books",       "entertainment", "utilities", "kids \"toys\"", "gift\ncards",
};

static int field_value(const c2_record *rec, int i, char *out, size_t cap, size_t *len)
{
    *len = c2_field_copy(&rec->fields[i], out, cap);
    return *len < cap;
}

/* The first reason of pipeline.h that applies, or ACCEPTED. */
static int classify(const c2_record *rec, int nheader, census *c)
{
    if (rec->unterminated) return C2_UNTERMINATED_QUOTE;
    if (rec->nfields < nheader) return C2_MISSING_FIELD;
    if (rec->nfields > nheader) return C2_EXTRA_FIELD;
    char v[128], day[10];
    size_t n;
    int hour;
    int64_t cents;
    if (!field_value(rec, C2_COL_TIMESTAMP, v, sizeof v, &n) || !c2_parse_timestamp(v, n, day, &hour))
        return C2_BAD_TIMESTAMP;
    if (!field_value(rec, C2_COL_AMOUNT, v, sizeof v, &n) || !c2_parse_amount(v, n, &cents)) return C2_BAD_AMOUNT;
    if (cents < 1 || cents > 99999) c->amounts_in_range = 0;
    if (memcmp(day, "2026-03-", 8) != 0 || memcmp(day + 8, "01", 2) < 0 || memcmp(day + 8, "30", 2) > 0)
        c->days_in_march = 0;
    if (!field_value(rec, C2_COL_CURRENCY, v, sizeof v, &n)) return C2_UNKNOWN_CURRENCY;
    int cur = c2_find_currency(v, n);
    if (cur < 0) return C2_UNKNOWN_CURRENCY;
    if (cur == 0) c->usd_rows++;

    char cat[128];
    field_value(rec, C2_COL_CATEGORY, v, sizeof v, &n);
    size_t cn = c2_normalize_category(v, n, cat, sizeof cat);
    int known = 0;
    for (size_t k = 0; k < sizeof known_categories / sizeof known_categories[0]; k++)
        if (cn == strlen(known_categories[k]) && memcmp(cat, known_categories[k], cn) == 0) known = 1;
    if (!known) {
        fprintf(stderr, "  unknown category \"%.*s\"\n", (int)cn, cat);
        c->categories_known = 0;
    }
    if (cn == 10 && memcmp(cat, "gift\ncards", 10) == 0) c->gift_cards++;
    return ACCEPTED;
}

static census count_rows(blob b)
{
    census c;
    memset(&c, 0, sizeof c);
    c.ids_in_order = c.categories_known = c.amounts_in_range = c.days_in_march = 1;
    size_t pos = 0;
    if (b.len >= 3 && memcmp(b.data, "\xEF\xBB\xBF", 3) == 0) pos = 3;

    c2_record rec;
    pos = c2_scan_record(b.data, pos, b.len, &rec);
    c.header_ok = rec.nfields == C2_NCOLS && !rec.unterminated;
    for (int i = 0; i < C2_NCOLS && c.header_ok; i++) {
        const c2_field *f = &rec.fields[i];
        c.header_ok = f->len == strlen(c2_column_names[i]) && memcmp(f->ptr, c2_column_names[i], f->len) == 0;
    }

    int unterminated_seen = 0;
    c.last_unterminated = 1;
    while (pos < b.len) {
        size_t next = c2_scan_record(b.data, pos, b.len, &rec);
        if (next <= pos) {
            c.last_unterminated = 0;
            break;
        } /* cannot happen */
        pos = next;
        if (rec.blank) {
            c.blank++;
            continue;
        }
        if (unterminated_seen) c.last_unterminated = 0; /* something after it */
        c.rows++;
        char id[32];
        size_t n = c2_field_copy(&rec.fields[0], id, sizeof id - 1);
        id[n < sizeof id - 1 ? n : sizeof id - 1] = '\0';
        if (strtoll(id, NULL, 10) != c.rows) c.ids_in_order = 0;
        int kind = classify(&rec, C2_NCOLS, &c);
        c.kinds[kind]++;
        if (rec.unterminated) unterminated_seen = 1;
    }
    if (!unterminated_seen) c.last_unterminated = 0;
    return c;
}

/* ---- the tests -------------------------------------------------------------- */

static void test_deterministic(void)
{
    blob a = generate("a.csv", 5000, 42, 0.005, 0, 0, 1);
    blob b = generate("b.csv", 5000, 42, 0.005, 0, 0, 1);
    blob c = generate("c.csv", 5000, 43, 0.005, 0, 0, 1);
    CHECK(a.data != NULL && b.data != NULL && c.data != NULL);
    CHECK(a.len > 5000 * 40); /* rows of about 60 bytes */
    CHECK(same(a, b));
    CHECK(!same(a, c));
    free(a.data);
    free(b.data);
    free(c.data);
}

static void test_rows_and_malformed(void)
{
    /* 5 % malformed, so that every kind shows up in 5000 rows. */
    blob b = generate("m.csv", 5000, 7, 0.05, 0, 0, 1);
    CHECK(b.data != NULL);
    census c = count_rows(b);
    CHECK(c.header_ok);
    CHECK(c.rows == 5000);
    CHECK(c.blank == 0);
    CHECK(c.ids_in_order);
    CHECK(c.last_unterminated);
    CHECK(c.kinds[C2_UNTERMINATED_QUOTE] == 1);
    /* The unterminated row is the last thing in the file: no newline. */
    CHECK(b.len > 0 && b.data[b.len - 1] != '\n');
    const char *last_lf = memrchr(b.data, '\n', b.len);
    CHECK(last_lf != NULL && memchr(last_lf + 1, '"', (size_t)(b.data + b.len - last_lf - 1)) != NULL);

    int64_t malformed = 0;
    for (int k = C2_MISSING_FIELD; k < C2_NREASONS; k++) {
        malformed += c.kinds[k];
        if (c.kinds[k] == 0) fprintf(stderr, "  no row rejected as %s\n", c2_reason_names[k]);
        CHECK(c.kinds[k] > 0);
    }
    /* Expected 250 of 4999 (binomial, sd about 15): a wide margin. */
    printf("malformed rows: %lld of %lld (asked 5 %%)\n", (long long)malformed, (long long)c.rows);
    CHECK(malformed >= 180 && malformed <= 320);
    CHECK(c.kinds[ACCEPTED] == c.rows - 1 - malformed);
    CHECK(c.categories_known);
    CHECK(c.amounts_in_range);
    CHECK(c.days_in_march);
    /* USD is 40 % of the currencies. */
    double usd = (double)c.usd_rows / (double)c.kinds[ACCEPTED];
    CHECK(usd > 0.35 && usd < 0.45);
    free(b.data);

    /* No malformed rows asked: only the unterminated last row is rejected. */
    b = generate("clean.csv", 3000, 9, 0.0, 0, 0, 1);
    c = count_rows(b);
    CHECK(c.rows == 3000);
    CHECK(c.kinds[ACCEPTED] == 2999);
    CHECK(c.kinds[C2_UNTERMINATED_QUOTE] == 1);
    free(b.data);

    /* The default share, 0.5 %, over more rows; and the rare embedded
     * newline (one category in 2000) shows up. */
    b = generate("default.csv", 40000, 11, 0.005, 0, 0, 1);
    c = count_rows(b);
    CHECK(c.rows == 40000);
    malformed = c.rows - 1 - c.kinds[ACCEPTED];
    printf("malformed rows: %lld of %lld (asked 0.5 %%); %lld gift cards\n", (long long)malformed, (long long)c.rows,
           (long long)c.gift_cards);
    CHECK(malformed >= 140 && malformed <= 260);    /* expected 200, sd 14 */
    CHECK(c.gift_cards >= 5 && c.gift_cards <= 40); /* expected 20 */
    CHECK(c.categories_known);
    free(b.data);
}

/* Replaces every "\r\n" by "\n" in place. */
static void crlf_to_lf(blob *b)
{
    size_t w = 0;
    for (size_t r = 0; r < b->len; r++) {
        if (b->data[r] == '\r' && r + 1 < b->len && b->data[r + 1] == '\n') continue;
        b->data[w++] = b->data[r];
    }
    b->len = w;
}

static void test_options(void)
{
    blob plain = generate("p.csv", 2000, 5, 0.01, 0, 0, 1);
    CHECK(plain.data != NULL && memchr(plain.data, '\r', plain.len) == NULL);

    /* CRLF: the same rows, only the line ends differ. */
    blob crlf = generate("crlf.csv", 2000, 5, 0.01, 1, 0, 1);
    CHECK(crlf.data != NULL && crlf.len > plain.len);
    const char *crlf_header = "txn_id,timestamp,user_id,category,amount,currency,country\r\n";
    CHECK(memcmp(crlf.data, crlf_header, strlen(crlf_header)) == 0);
    census c = count_rows(crlf);
    CHECK(c.header_ok && c.rows == 2000 && c.last_unterminated);
    crlf_to_lf(&crlf);
    CHECK(same(crlf, plain));

    /* BOM: three bytes in front, nothing else changed. */
    blob bom = generate("bom.csv", 2000, 5, 0.01, 0, 1, 1);
    CHECK(bom.len == plain.len + 3);
    CHECK(memcmp(bom.data, "\xEF\xBB\xBF", 3) == 0);
    CHECK(memcmp(bom.data + 3, plain.data, plain.len) == 0);
    c = count_rows(bom);
    CHECK(c.header_ok && c.rows == 2000);

    /* A 2000-row file ends in the unterminated row, newline or not. */
    blob no_nl = generate("nonl.csv", 2000, 5, 0.01, 0, 0, 0);
    CHECK(same(no_nl, plain));

    /* Below 100 rows there is no unterminated row: the final newline shows. */
    blob small_nl = generate("s1.csv", 50, 5, 0.0, 0, 0, 1);
    blob small_no = generate("s0.csv", 50, 5, 0.0, 0, 0, 0);
    blob small_crlf = generate("s2.csv", 50, 5, 0.0, 1, 0, 1);
    CHECK(small_nl.len > 0 && small_nl.data[small_nl.len - 1] == '\n');
    CHECK(small_no.len == small_nl.len - 1 && memcmp(small_no.data, small_nl.data, small_no.len) == 0);
    CHECK(small_crlf.len > 2 && memcmp(small_crlf.data + small_crlf.len - 2, "\r\n", 2) == 0);
    c = count_rows(small_no);
    CHECK(c.rows == 50 && c.kinds[ACCEPTED] == 50 && c.kinds[C2_UNTERMINATED_QUOTE] == 0);

    /* No rows: the header alone. */
    blob empty = generate("e.csv", 0, 5, 0.0, 0, 0, 1);
    const char *header = "txn_id,timestamp,user_id,category,amount,currency,country\n";
    CHECK(empty.len == strlen(header) && memcmp(empty.data, header, empty.len) == 0);

    free(plain.data);
    free(crlf.data);
    free(bom.data);
    free(no_nl.data);
    free(small_nl.data);
    free(small_no.data);
    free(small_crlf.data);
    free(empty.data);
}

/* ---- the shape of the data: categories, spellings, days, Zipf ------------- */

/* Distinct strings, by linear search (a few thousand at most here). */
typedef struct {
    char (*text)[64];
    size_t *len, n, cap;
    int64_t *count;
} strset;

static size_t strset_add(strset *s, const char *v, size_t len)
{
    if (len > 63) len = 63;
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->text[i], v, len) == 0) {
            s->count[i]++;
            return i;
        }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->text = realloc(s->text, s->cap * sizeof *s->text);
        s->len = realloc(s->len, s->cap * sizeof *s->len);
        s->count = realloc(s->count, s->cap * sizeof *s->count);
    }
    memcpy(s->text[s->n], v, len);
    s->len[s->n] = len;
    s->count[s->n] = 1;
    return s->n++;
}

static void strset_free(strset *s)
{
    free(s->text);
    free(s->len);
    free(s->count);
}

typedef struct {
    strset names, spellings, days; /* normalized categories, raw values, "YYYY-MM-DD" */
    int64_t rows, accepted;
    char first_day[11], last_day[11];
} shape;

/* Every row of a file with no malformed rows: all must be accepted (but the
 * unterminated last one); the categories, spellings and days they hold. */
static shape shape_of(blob b)
{
    shape sh;
    memset(&sh, 0, sizeof sh);
    memcpy(sh.first_day, "9999-99-99", 11);
    memcpy(sh.last_day, "0000-00-00", 11);
    c2_record rec;
    size_t pos = c2_scan_record(b.data, 0, b.len, &rec); /* the header */
    while (pos < b.len) {
        pos = c2_scan_record(b.data, pos, b.len, &rec);
        if (rec.blank) continue;
        sh.rows++;
        if (rec.unterminated || rec.nfields != C2_NCOLS) continue;
        char v[128], day[10], cat[128];
        size_t n;
        int hour;
        int64_t cents;
        if (!field_value(&rec, C2_COL_TIMESTAMP, v, sizeof v, &n) || !c2_parse_timestamp(v, n, day, &hour)) continue;
        if (!field_value(&rec, C2_COL_AMOUNT, v, sizeof v, &n) || !c2_parse_amount(v, n, &cents)) continue;
        if (!field_value(&rec, C2_COL_CURRENCY, v, sizeof v, &n) || c2_find_currency(v, n) < 0) continue;
        sh.accepted++;
        strset_add(&sh.days, day, 10);
        if (memcmp(day, sh.first_day, 10) < 0) memcpy(sh.first_day, day, 10);
        if (memcmp(day, sh.last_day, 10) > 0) memcpy(sh.last_day, day, 10);
        field_value(&rec, C2_COL_CATEGORY, v, sizeof v, &n);
        if (n == 10 && memcmp(v, "Gift\nCards", 10) == 0) continue; /* the rare one, apart */
        strset_add(&sh.spellings, v, n);
        strset_add(&sh.names, cat, c2_normalize_category(v, n, cat, sizeof cat));
    }
    return sh;
}

static void shape_free(shape *sh)
{
    strset_free(&sh->names);
    strset_free(&sh->spellings);
    strset_free(&sh->days);
}

static blob generate_shape(const char *name, int64_t rows, int categories, int spellings, int days, double zipf)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    c2_gen_options o = {.rows = rows,
                        .seed = 3,
                        .malformed = 0.0,
                        .final_newline = 1,
                        .categories = categories,
                        .spellings = spellings,
                        .days = days,
                        .zipf = zipf};
    blob b = {NULL, 0};
    if (c2_generate(path, &o) != 0) return b;
    b = read_all(path);
    remove(path);
    return b;
}

static void test_shape(void)
{
    /* The defaults, asked for by name, are the defaults: the same bytes. */
    blob by_default = generate_shape("d0.csv", 3000, 0, 0, 0, 0.0);
    blob by_name = generate_shape("d1.csv", 3000, 12, 5, 30, 0.0);
    CHECK(by_default.data != NULL && same(by_default, by_name));
    shape sh = shape_of(by_default);
    CHECK(sh.accepted == sh.rows - 1);
    CHECK(sh.names.n == 12 && sh.spellings.n == 12 * 5 && sh.days.n == 30);
    CHECK(memcmp(sh.first_day, "2026-03-01", 10) == 0 && memcmp(sh.last_day, "2026-03-30", 10) == 0);
    shape_free(&sh);

    /* 40 categories in five spellings each, over 90 days: every one shows
     * up in 20,000 uniform rows, and the days run on into May. */
    blob b = generate_shape("c40.csv", 20000, 40, 5, 90, 0.0);
    sh = shape_of(b);
    printf("40 categories: %zu names, %zu spellings, %zu days (%.10s to %.10s)\n", sh.names.n, sh.spellings.n,
           sh.days.n, sh.first_day, sh.last_day);
    CHECK(sh.accepted == sh.rows - 1);
    CHECK(sh.names.n == 40 && sh.spellings.n == 200 && sh.days.n == 90);
    CHECK(memcmp(sh.last_day, "2026-05-29", 10) == 0); /* March 1st + 89 days */
    shape_free(&sh);
    free(b.data);

    /* One spelling: each category written one way only. */
    b = generate_shape("s1.csv", 5000, 40, 1, 30, 0.0);
    sh = shape_of(b);
    CHECK(sh.names.n == 40 && sh.spellings.n == 40);
    shape_free(&sh);
    free(b.data);

    /* Days across two leap days and years: every date the generator
     * writes is a real one (rejected as bad_timestamp otherwise). */
    b = generate_shape("leap.csv", 20000, 12, 5, 2200, 0.0);
    sh = shape_of(b);
    printf("2200 days: %zu seen, %.10s to %.10s\n", sh.days.n, sh.first_day, sh.last_day);
    CHECK(sh.accepted == sh.rows - 1);
    CHECK(memcmp(sh.last_day, "2032-03-", 8) == 0 || memcmp(sh.last_day, "2032-02-", 8) == 0);
    int leap_days = 0;
    for (size_t i = 0; i < sh.days.n; i++) leap_days += memcmp(sh.days.text[i] + 4, "-02-29", 6) == 0;
    CHECK(leap_days >= 1); /* 2028-02-29 (and perhaps 2032-02-29) */
    shape_free(&sh);
    free(b.data);

    /* Zipf with exponent 1 over 1,000 categories: the first takes 1/H(1000)
     * = 13.4% of the rows, the second half as many; a long tail. */
    b = generate_shape("z.csv", 20000, 1000, 5, 30, 1.0);
    sh = shape_of(b);
    int64_t first = 0, second = 0;
    for (size_t i = 0; i < sh.names.n; i++) {
        if (sh.names.len[i] == 9 && memcmp(sh.names.text[i], "groceries", 9) == 0) first = sh.names.count[i];
        if (sh.names.len[i] == 11 && memcmp(sh.names.text[i], "electronics", 11) == 0) second = sh.names.count[i];
    }
    double share = (double)first / (double)sh.accepted;
    printf("zipf 1 over 1000 categories: %zu seen; the first %.1f%% of the rows, the second %.1f%%\n", sh.names.n,
           100 * share, 100.0 * (double)second / (double)sh.accepted);
    CHECK(share > 0.12 && share < 0.15);
    CHECK(second > first / 2 - first / 8 && second < first / 2 + first / 8);
    CHECK(sh.names.n > 500 && sh.names.n <= 1000);
    shape_free(&sh);
    free(b.data);
    free(by_default.data);
    free(by_name.data);
}

static void test_errors(void)
{
    /* Bad options and an unwritable path: exit codes, and no file left. */
    c2_gen_options o = {.rows = -1, .seed = 1, .malformed = 0.005, .final_newline = 1};
    char path[256];
    snprintf(path, sizeof path, "%s/bad.csv", tmp_dir);
    fprintf(stderr, "(six error messages expected below)\n");
    CHECK(c2_generate(path, &o) == 2);
    CHECK(access(path, F_OK) != 0);
    o.rows = 10;
    o.malformed = 1.5;
    CHECK(c2_generate(path, &o) == 2);
    o.malformed = 0.005;
    CHECK(c2_generate("/proc/c2_no_such_dir/x.csv", &o) == 2);
    /* The shape out of range. */
    o.categories = C2_GEN_MAX_CATEGORIES + 1;
    CHECK(c2_generate(path, &o) == 2);
    o.categories = 0;
    o.spellings = 6;
    CHECK(c2_generate(path, &o) == 2);
    o.spellings = 0;
    o.zipf = -1;
    CHECK(c2_generate(path, &o) == 2);
    CHECK(access(path, F_OK) != 0);
}

int main(void)
{
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_deterministic();
    test_rows_and_malformed();
    test_options();
    test_shape();
    test_errors();
    rmdir(tmp_dir);
    return cs_test_done();
}
