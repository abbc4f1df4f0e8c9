/* The input of case02: a CSV of card transactions as real exports look,
 * seeded and deterministic. The same seed gives the same bytes on every
 * machine (cs_rng is integer-only), and the options (CRLF, BOM, final
 * newline) change only the framing, never a random draw: the same seed with
 * and without --crlf holds the same rows, so every variant must report the
 * same groups for both.
 *
 * What makes it realistic (and the slow rung slow): categories in several
 * spellings that normalize to one ("Groceries", "GROCERIES", " groceries"),
 * fields quoted when they need it and sometimes when they do not, a comma
 * and doubled quotes inside some categories, a rare embedded newline, amounts
 * with 0, 1 or 2 decimals, and a share of malformed rows of each kind the
 * rules reject. The last row of a file of 100 rows or more is a quote that is
 * never closed, with no newline after it: the hardest case, kept last so it
 * swallows nothing else.
 *
 * Speed: one million rows (about 60 MB) in well under a second. Rows are
 * formatted by hand (no snprintf) into a large buffer that goes to the file
 * with one fwrite per megabyte. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "cs_outfile.h"
#include "cs_rng.h"

/* ---- what the rows are made of ------------------------------------------- */

/* The categories before spelling: one has a comma (must be quoted), one has
 * quotes (quoted, with each '"' doubled). */
static const char *const base_categories[] = {
    "Groceries", "Electronics", "Restaurants", "Travel", "Fuel", "Pharmacy",
    "Clothing", "Home, Garden", "Books", "Entertainment", "Utilities", "Kids \"Toys\"",
};
#define NBASE ((int)(sizeof base_categories / sizeof base_categories[0]))

/* Spellings of a category: all normalize (trim, lower-case) to the same name. */
enum { SPELL_ORIGINAL, SPELL_UPPER, SPELL_LOWER, SPELL_LEADING_SPACE,
       SPELL_TRAILING_SPACE, NSPELL };

/* Rare: a quoted category with a newline inside (one in GIFT_CARD_ONE_IN). */
#define GIFT_CARD_ONE_IN 2000
static const char gift_cards[] = "\"Gift\nCards\"";

static const char *const countries[] = {
    "US", "GB", "DE", "FR", "JP", "CA", "AU", "CN", "IN", "BR", "MX", "SE", "CH", "ES", "IT",
};
#define NCOUNTRIES ((uint32_t)(sizeof countries / sizeof countries[0]))

/* The wrong values of each malformed kind (each rejected by exactly the
 * rule its kind names; see pipeline.h). */
static const char *const bad_amounts[] = {"12.3.4", "abc", "1e5", " 12"};
static const char *const bad_timestamps[] = {"2026-02-30T10:00:00Z", "2026-03-05 10:00:00",
                                             "yesterday"};
static const char *const bad_currencies[] = {"XXX", "usd"};
#define COUNT(a) ((uint32_t)(sizeof a / sizeof a[0]))

enum { ROW_OK, ROW_MISSING_FIELD, ROW_EXTRA_FIELD, ROW_BAD_TIMESTAMP, ROW_BAD_AMOUNT,
       ROW_UNKNOWN_CURRENCY };
#define NMALFORMED_KINDS 5

#define MARCH_2026_DAYS 30   /* the days drawn: March 1st to 30th */
#define USERS 100000

/* ---- the output buffer ------------------------------------------------------ */

#define OUT_BUF_BYTES (1u << 20)
#define ROW_MAX_BYTES 512    /* far more than the longest row written */

typedef struct {
    cs_outfile file;
    char *buf;
    size_t used;
} writer;

static void flush_buffer(writer *w)
{
    /* A short write sets the stream's error flag: cs_outfile_commit checks it. */
    if (w->used > 0) fwrite(w->buf, 1, w->used, w->file.f);
    w->used = 0;
}

/* Room for one more row: every row is formatted straight into the buffer. */
static char *row_space(writer *w)
{
    if (OUT_BUF_BYTES - w->used < ROW_MAX_BYTES) flush_buffer(w);
    return w->buf + w->used;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* Decimal digits of v, no padding. */
static char *put_u64(char *p, uint64_t v)
{
    char digits[20];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v > 0);
    while (n > 0) *p++ = digits[--n];
    return p;
}

static char *put_2digits(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* ---- the category spellings, made once ---------------------------------- */

/* Every (category, spelling, quoted-or-not) as the bytes that go in the file. */
typedef struct {
    char text[2 * 32];       /* doubled quotes at most double the length */
    size_t len;
} spelled;

static spelled spellings[NBASE][NSPELL][2];

static int needs_quotes(const char *s) { return strpbrk(s, ",\"\r\n") != NULL; }

static void make_spelling(spelled *out, const char *base, int spell, int force_quotes)
{
    char word[32];
    size_t n = 0;
    if (spell == SPELL_LEADING_SPACE) word[n++] = ' ';
    for (const char *c = base; *c; c++) {
        char ch = *c;
        if (spell == SPELL_UPPER && ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
        if (spell == SPELL_LOWER && ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        word[n++] = ch;
    }
    if (spell == SPELL_TRAILING_SPACE) word[n++] = ' ';
    word[n] = '\0';

    char *p = out->text;
    if (force_quotes || needs_quotes(word)) {
        *p++ = '"';
        for (size_t i = 0; i < n; i++) {
            if (word[i] == '"') *p++ = '"';    /* RFC 4180: '"' doubled inside quotes */
            *p++ = word[i];
        }
        *p++ = '"';
    } else {
        memcpy(p, word, n);
        p += n;
    }
    out->len = (size_t)(p - out->text);
}

static void make_spellings(void)
{
    for (int b = 0; b < NBASE; b++)
        for (int s = 0; s < NSPELL; s++)
            for (int q = 0; q < 2; q++) make_spelling(&spellings[b][s][q], base_categories[b], s, q);
}

/* ---- one row ------------------------------------------------------------------- */

/* Draws and formats data row `id` at p; returns the end. Every random draw
 * happens here, in a fixed order that does not depend on the options. */
static char *put_row(char *p, cs_rng *rng, int64_t id, double malformed)
{
    int kind = ROW_OK;
    if (malformed > 0 && cs_rng_double(rng) < malformed)
        kind = ROW_MISSING_FIELD + (int)cs_rng_below(rng, NMALFORMED_KINDS);

    /* txn_id */
    p = put_u64(p, (uint64_t)id);
    *p++ = ',';

    /* timestamp: any second of March 1st to 30th, 2026 */
    uint32_t second = cs_rng_below(rng, MARCH_2026_DAYS * 86400u);
    if (kind == ROW_BAD_TIMESTAMP) {
        p = put_str(p, bad_timestamps[cs_rng_below(rng, COUNT(bad_timestamps))]);
    } else {
        p = put_str(p, "2026-03-");
        p = put_2digits(p, 1 + second / 86400);
        *p++ = 'T';
        p = put_2digits(p, second % 86400 / 3600);
        *p++ = ':';
        p = put_2digits(p, second % 3600 / 60);
        *p++ = ':';
        p = put_2digits(p, second % 60);
        *p++ = 'Z';
    }
    *p++ = ',';

    /* user_id */
    p = put_u64(p, 1 + cs_rng_below(rng, USERS));
    *p++ = ',';

    /* category: a spelling of a base name, quoted one time in ten when it
     * does not need it; rarely the one with a newline inside */
    if (cs_rng_below(rng, GIFT_CARD_ONE_IN) == 0) {
        p = put_str(p, gift_cards);
    } else {
        uint32_t base = cs_rng_below(rng, NBASE);
        uint32_t spell = cs_rng_below(rng, NSPELL);
        uint32_t quoted = cs_rng_below(rng, 10) == 0;
        const spelled *s = &spellings[base][spell][quoted];
        memcpy(p, s->text, s->len);
        p += s->len;
    }
    *p++ = ',';

    /* amount: 0.01 to 999.99, written with 0, 1 or 2 decimals ("12",
     * "12.5", "12.50"); the value is drawn at the precision written */
    uint32_t decimals = cs_rng_below(rng, 3);
    if (kind == ROW_BAD_AMOUNT) {
        p = put_str(p, bad_amounts[cs_rng_below(rng, COUNT(bad_amounts))]);
    } else if (decimals == 0) {
        p = put_u64(p, 1 + cs_rng_below(rng, 999));
    } else if (decimals == 1) {
        uint32_t tenths = 1 + cs_rng_below(rng, 9999);
        p = put_u64(p, tenths / 10);
        *p++ = '.';
        *p++ = (char)('0' + tenths % 10);
    } else {
        uint32_t cents = 1 + cs_rng_below(rng, 99999);
        p = put_u64(p, cents / 100);
        *p++ = '.';
        p = put_2digits(p, cents % 100);
    }
    *p++ = ',';

    /* currency: USD 40 %, EUR 20 %, GBP 10 %, the other nine share 30 % */
    uint32_t draw = cs_rng_below(rng, 1000);
    int currency = draw < 400 ? 0 : draw < 600 ? 1 : draw < 700 ? 2
                 : 3 + (int)((draw - 700) * (C2_NRATES - 3) / 300);
    if (kind == ROW_UNKNOWN_CURRENCY)
        p = put_str(p, bad_currencies[cs_rng_below(rng, COUNT(bad_currencies))]);
    else
        p = put_str(p, c2_rates[currency].code);

    /* country: the last field, dropped by a missing_field row */
    const char *country = countries[cs_rng_below(rng, NCOUNTRIES)];
    if (kind != ROW_MISSING_FIELD) {
        *p++ = ',';
        p = put_str(p, country);
    }
    if (kind == ROW_EXTRA_FIELD) p = put_str(p, ",x");
    return p;
}

/* The last row of a large file: the category opens a quote that is never
 * closed, so the rest of the file (only this row) is one unterminated record. */
static char *put_unterminated_row(char *p, int64_t id)
{
    p = put_u64(p, (uint64_t)id);
    return put_str(p, ",2026-03-30T23:59:59Z,1,\"Groceries,12.50,USD,US");
}

/* ---- the file ------------------------------------------------------------------ */

int c2_generate(const char *path, const c2_gen_options *o)
{
    if (o->rows < 0) {
        cs_error("generate: rows must be >= 0 (got %lld)", (long long)o->rows);
        return 2;
    }
    if (!(o->malformed >= 0.0 && o->malformed <= 1.0)) {
        cs_error("generate: the malformed share must be in [0, 1] (got %g)", o->malformed);
        return 2;
    }

    writer w;
    w.used = 0;
    w.buf = malloc(OUT_BUF_BYTES);
    if (w.buf == NULL) {
        cs_error("generate: out of memory (%u bytes for the output buffer)", OUT_BUF_BYTES);
        return 3;
    }
    if (cs_outfile_open(&w.file, path) != 0) {   /* it printed the reason */
        free(w.buf);
        return 2;
    }
    make_spellings();

    cs_rng rng;
    cs_rng_seed(&rng, o->seed, 0);
    const char *newline = o->crlf ? "\r\n" : "\n";
    int unterminated_last = o->rows >= 100;

    char *p = row_space(&w);
    if (o->bom) p = put_str(p, "\xEF\xBB\xBF");
    for (int c = 0; c < C2_NCOLS; c++) {
        if (c > 0) *p++ = ',';
        p = put_str(p, c2_column_names[c]);
    }
    /* Every record but the last ends with a newline; the last one only when
     * asked, and never the unterminated row. */
    if (o->rows > 0 || o->final_newline) p = put_str(p, newline);
    w.used = (size_t)(p - w.buf);

    for (int64_t id = 1; id <= o->rows; id++) {
        int last = id == o->rows;
        p = row_space(&w);
        if (last && unterminated_last) {
            p = put_unterminated_row(p, id);
        } else {
            p = put_row(p, &rng, id, o->malformed);
            if (!last || o->final_newline) p = put_str(p, newline);
        }
        w.used = (size_t)(p - w.buf);
    }
    flush_buffer(&w);
    free(w.buf);
    return cs_outfile_commit(&w.file) == 0 ? 0 : 3;
}
