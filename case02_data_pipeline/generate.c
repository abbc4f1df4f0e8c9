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
 * How many groups: by default 12 categories over 30 days (about 360 groups).
 * A pipeline tuned to that would be tuned to its own test file, so the
 * shape can change: --categories N (the 12 names, then made-up merchant
 * categories such as "Coffee Outlet"), --spellings K (how many of the five
 * spellings each category gets), --days D (from 2026-03-01 on), and --zipf S
 * (category frequencies proportional to 1/rank^S, as merchant categories are
 * in real card data: a few very common, a long tail of rare ones; 0 is
 * uniform). 1,000 categories over 90 days with S = 1 give about 90,000
 * (day, category) groups. With the defaults the draws, and so the bytes, are
 * those of the 12-category generator.
 *
 * Speed: one million rows (about 60 MB) in well under a second. Rows are
 * formatted by hand (no snprintf) into a large buffer that goes to the file
 * with one fwrite per megabyte. */
#include "pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cs_console.h"
#include "cs_outfile.h"
#include "cs_rng.h"

/* ---- what the rows are made of ------------------------------------------- */

/* The categories before spelling: one has a comma (must be quoted), one has
 * quotes (quoted, with each '"' doubled). */
static const char *const base_categories[] = {
    "Groceries", "Electronics",  "Restaurants", "Travel",        "Fuel",      "Pharmacy",
    "Clothing",  "Home, Garden", "Books",       "Entertainment", "Utilities", "Kids \"Toys\"",
};
#define NBASE ((int)(sizeof base_categories / sizeof base_categories[0]))

/* Spellings of a category: all normalize (trim, lower-case) to the same name. */
enum { SPELL_ORIGINAL, SPELL_UPPER, SPELL_LOWER, SPELL_LEADING_SPACE, SPELL_TRAILING_SPACE, NSPELL };

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
static const char *const bad_timestamps[] = {"2026-02-30T10:00:00Z", "2026-03-05 10:00:00", "yesterday"};
static const char *const bad_currencies[] = {"XXX", "usd"};
#define COUNT(a) ((uint32_t)(sizeof a / sizeof a[0]))

enum { ROW_OK, ROW_MISSING_FIELD, ROW_EXTRA_FIELD, ROW_BAD_TIMESTAMP, ROW_BAD_AMOUNT, ROW_UNKNOWN_CURRENCY };
#define NMALFORMED_KINDS 5

#define USERS 100000

/* ---- the output buffer ------------------------------------------------------ */

#define OUT_BUF_BYTES (1u << 20)
#define ROW_MAX_BYTES 512 /* far more than the longest row written */

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
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0) *p++ = digits[--n];
    return p;
}

static char *put_2digits(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* ---- the categories and their spellings, made once ---------------------- */

/* Categories past the twelve: "<first> <second>", then "<first> <second> N"
 * once the pairs run out. Every name is distinct after normalizing (no two
 * words differ only in case), some are longer than 16 bytes, and a few need
 * quotes (a comma, a '"'). */
static const char *const first_words[] = {
    "Auto",    "Pet",      "Coffee",    "Shoe",    "Toy",   "Wine",     "Garden", "Music",  "Sports", "Office",
    "Beauty",  "Hardware", "Furniture", "Jewelry", "Bike",  "Camera",   "Craft",  "Flower", "Gift",   "Health",
    "Kitchen", "Outdoor",  "Party",     "Phone",   "Print", "Software", "Tea",    "Video",  "Bakery", "Optical",
};
static const char *const second_words[] = {
    "Shop",      "Store",  "Outlet",      "Market",     "Supplies",  "Services", "Rental",   "Repair",  "Club",
    "Center",    "Depot",  "Gallery",     "Studio",     "Warehouse", "Boutique", "Emporium", "Express", "Online",
    "Wholesale", "& More", "Bar, Lounge", "\"Deluxe\"", "Corner",    "Works",    "Point",
};
#define NFIRST         ((int)(sizeof first_words / sizeof first_words[0]))
#define NSECOND        ((int)(sizeof second_words / sizeof second_words[0]))
#define NAME_MAX_BYTES 48 /* the longest name made, with a margin */

/* The name of category k (0-based) into out. */
static void category_name(int k, char out[NAME_MAX_BYTES])
{
    if (k < NBASE) {
        snprintf(out, NAME_MAX_BYTES, "%s", base_categories[k]);
        return;
    }
    int j = k - NBASE, pairs = NFIRST * NSECOND;
    const char *a = first_words[j % NFIRST], *b = second_words[j / NFIRST % NSECOND];
    if (j < pairs)
        snprintf(out, NAME_MAX_BYTES, "%s %s", a, b);
    else
        snprintf(out, NAME_MAX_BYTES, "%s %s %d", a, b, j / pairs + 1);
}

/* Every (category, spelling, quoted-or-not) as the bytes that go in the
 * file, all in one block of text: spelling i of category c quoted q is
 * text[at[((c * NSPELL) + i) * 2 + q] ...], len[...] bytes. */
typedef struct {
    char *text;
    uint32_t *at;
    uint8_t *len;
} spelling_table;

static int needs_quotes(const char *s)
{
    return strpbrk(s, ",\"\r\n") != NULL;
}

/* Writes the spelling at p; returns its length. */
static size_t make_spelling(char *p, const char *base, int spell, int force_quotes)
{
    char word[NAME_MAX_BYTES + 2];
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

    char *start = p;
    if (force_quotes || needs_quotes(word)) {
        *p++ = '"';
        for (size_t i = 0; i < n; i++) {
            if (word[i] == '"') *p++ = '"'; /* RFC 4180: '"' doubled inside quotes */
            *p++ = word[i];
        }
        *p++ = '"';
    } else {
        memcpy(p, word, n);
        p += n;
    }
    return (size_t)(p - start);
}

/* The spellings of ncat categories; 0, or -1 when out of memory. */
static int make_spellings(spelling_table *t, int ncat)
{
    size_t n = (size_t)ncat * NSPELL * 2;
    size_t most = 2 * (NAME_MAX_BYTES + 2) + 2; /* every '"' doubled, and the quotes */
    t->text = malloc(n * most);
    t->at = malloc(n * sizeof *t->at);
    t->len = malloc(n * sizeof *t->len);
    if (!t->text || !t->at || !t->len) return -1;
    size_t used = 0, i = 0;
    for (int c = 0; c < ncat; c++) {
        char name[NAME_MAX_BYTES];
        category_name(c, name);
        for (int s = 0; s < NSPELL; s++)
            for (int q = 0; q < 2; q++, i++) {
                t->at[i] = (uint32_t)used;
                t->len[i] = (uint8_t)make_spelling(t->text + used, name, s, q);
                used += t->len[i];
            }
    }
    return 0;
}

static void free_spellings(spelling_table *t)
{
    free(t->text);
    free(t->at);
    free(t->len);
}

/* ---- which category: uniform, or Zipf ------------------------------------------
 * Zipf: category k (0-based) is drawn with probability proportional to
 * 1/(k+1)^s. The cumulative shares are turned into 32-bit thresholds once;
 * a draw is then one 32-bit random number and a binary search. (The
 * weights come from pow(), which glibc rounds correctly, so the thresholds,
 * and the file, are the same on every machine with it.) */
typedef struct {
    int n;
    uint64_t *below; /* below[k]: draws u < below[k] pick a category <= k */
} zipf_table;

static int make_zipf(zipf_table *z, int n, double s)
{
    z->n = n;
    z->below = malloc((size_t)n * sizeof *z->below);
    if (!z->below) return -1;
    double total = 0;
    for (int k = 0; k < n; k++) total += pow(k + 1.0, -s);
    double sum = 0;
    for (int k = 0; k < n; k++) {
        sum += pow(k + 1.0, -s);
        double share = sum / total;
        z->below[k] = k == n - 1 ? (1ull << 32) : (uint64_t)(share * 4294967296.0);
    }
    return 0;
}

static uint32_t draw_zipf(const zipf_table *z, cs_rng *rng)
{
    uint64_t u = cs_rng_u32(rng);
    int lo = 0, hi = z->n - 1; /* the first k with u < below[k] */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (u < z->below[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return (uint32_t)lo;
}

/* ---- the days ------------------------------------------------------------------
 * Day d (0-based) is 2026-03-01 plus d days, by the proleptic Gregorian
 * calendar (days_to_date: Howard Hinnant's civil_from_days). */
static void days_to_date(int64_t z, char out[10])
{
    z += 719468; /* days since 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097; /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    char text[32];
    snprintf(text, sizeof text, "%04d-%02d-%02d", (int)year, (int)month, (int)day);
    memcpy(out, text, 10);
}
#define MARCH_1_2026 20513 /* days from 1970-01-01 */

/* ---- one row ------------------------------------------------------------------- */

/* What the rows are drawn from, made once from the options. */
typedef struct {
    int ncat, nspell, ndays;
    spelling_table spellings;
    zipf_table zipf;  /* n = 0: uniform */
    char (*date)[10]; /* "YYYY-MM-DD" of each day */
} row_source;

/* Draws and formats data row `id` at p; returns the end. Every random draw
 * happens here, in a fixed order that does not depend on the framing
 * options. */
static char *put_row(char *p, cs_rng *rng, const row_source *src, int64_t id, double malformed)
{
    int kind = ROW_OK;
    if (malformed > 0 && cs_rng_double(rng) < malformed)
        kind = ROW_MISSING_FIELD + (int)cs_rng_below(rng, NMALFORMED_KINDS);

    /* txn_id */
    p = put_u64(p, (uint64_t)id);
    *p++ = ',';

    /* timestamp: any second of the days (by default March 1st to 30th, 2026) */
    uint32_t second = cs_rng_below(rng, (uint32_t)src->ndays * 86400u);
    if (kind == ROW_BAD_TIMESTAMP) {
        p = put_str(p, bad_timestamps[cs_rng_below(rng, COUNT(bad_timestamps))]);
    } else {
        memcpy(p, src->date[second / 86400], 10);
        p += 10;
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

    /* category: a spelling of a category, quoted one time in ten when it
     * does not need it; rarely the one with a newline inside */
    if (cs_rng_below(rng, GIFT_CARD_ONE_IN) == 0) {
        p = put_str(p, gift_cards);
    } else {
        uint32_t cat = src->zipf.n ? draw_zipf(&src->zipf, rng) : cs_rng_below(rng, (uint32_t)src->ncat);
        uint32_t spell = cs_rng_below(rng, (uint32_t)src->nspell);
        uint32_t quoted = cs_rng_below(rng, 10) == 0;
        size_t i = ((size_t)cat * NSPELL + spell) * 2 + quoted;
        memcpy(p, src->spellings.text + src->spellings.at[i], src->spellings.len[i]);
        p += src->spellings.len[i];
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
    int currency = draw < 400 ? 0 : draw < 600 ? 1 : draw < 700 ? 2 : 3 + (int)((draw - 700) * (C2_NRATES - 3) / 300);
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

void c2_gen_shape(const c2_gen_options *o, int *categories, int *spellings, int *days)
{
    *categories = o->categories > 0 ? o->categories : NBASE;
    *spellings = o->spellings > 0 ? o->spellings : NSPELL;
    *days = o->days > 0 ? o->days : C2_GEN_DAYS;
}

/* The tables the rows are drawn from. Returns 0, or 3 (out of memory). */
static int make_source(row_source *src, const c2_gen_options *o)
{
    memset(src, 0, sizeof *src);
    c2_gen_shape(o, &src->ncat, &src->nspell, &src->ndays);
    src->date = malloc((size_t)src->ndays * sizeof *src->date);
    if (!src->date || make_spellings(&src->spellings, src->ncat) != 0 ||
        (o->zipf > 0 && make_zipf(&src->zipf, src->ncat, o->zipf) != 0)) {
        cs_error("generate: out of memory (the tables of %d categories and %d days)", src->ncat, src->ndays);
        return 3;
    }
    for (int d = 0; d < src->ndays; d++) days_to_date(MARCH_1_2026 + d, src->date[d]);
    return 0;
}

static void free_source(row_source *src)
{
    free_spellings(&src->spellings);
    free(src->zipf.below);
    free(src->date);
}

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
    if (o->categories < 0 || o->categories > C2_GEN_MAX_CATEGORIES || o->spellings < 0 || o->spellings > NSPELL ||
        o->days < 0 || o->days > C2_GEN_MAX_DAYS || !(o->zipf >= 0.0 && o->zipf <= C2_GEN_MAX_ZIPF)) {
        cs_error("generate: categories 1..%d, spellings 1..%d, days 1..%d, zipf 0..%g "
                 "(got %d, %d, %d, %g)",
                 C2_GEN_MAX_CATEGORIES, NSPELL, C2_GEN_MAX_DAYS, C2_GEN_MAX_ZIPF, o->categories, o->spellings, o->days,
                 o->zipf);
        return 2;
    }

    writer w;
    w.used = 0;
    w.buf = malloc(OUT_BUF_BYTES);
    if (w.buf == NULL) {
        cs_error("generate: out of memory (%u bytes for the output buffer)", OUT_BUF_BYTES);
        return 3;
    }
    row_source src;
    if (make_source(&src, o) != 0) {
        free_source(&src);
        free(w.buf);
        return 3;
    }
    if (cs_outfile_open(&w.file, path) != 0) { /* it printed the reason */
        free_source(&src);
        free(w.buf);
        return 2;
    }
    /* An interrupted run (SIGINT, SIGTERM) removes the half-written file. */
    char tmp_name[CS_PATH_MAX];
    snprintf(tmp_name, sizeof tmp_name, "%s", w.file.tmp);
    c2_cleanup_add(tmp_name);

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
            p = put_row(p, &rng, &src, id, o->malformed);
            if (!last || o->final_newline) p = put_str(p, newline);
        }
        w.used = (size_t)(p - w.buf);
    }
    flush_buffer(&w);
    free(w.buf);
    free_source(&src);
    int rc = cs_outfile_commit(&w.file) == 0 ? 0 : 3; /* a full disk shows here: exit 3 */
    c2_cleanup_forget(tmp_name);                      /* renamed into place, or removed */
    return rc;
}
