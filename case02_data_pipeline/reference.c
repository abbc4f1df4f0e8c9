/* The reference: the job of pipeline.h written as plainly as it can be.
 *
 * Step 6 checks every rung against it, slow included. It is written for
 * clarity, not speed, and shares no code with the rungs it checks: its own
 * reader (one byte at a time), its own record splitter (the state machine
 * the rules describe, byte by byte), its own row rules and its own table of
 * groups. What it shares is what defines the job rather than computes it:
 * the column names, the currency table and the result type.
 *
 * Its cost grows with the input and nothing else: every byte is looked at
 * once, and a group is found in a hash table (chained, doubled whenever it
 * holds as many groups as it has buckets) in a few steps however many
 * groups there are. slow, the teaching baseline, searches a list of every
 * group for every row; a check against it would cost rows x groups (step 4
 * measures that). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "pipeline.h"

/* ---- reading one byte at a time -------------------------------------------- */

typedef struct {
    FILE *f;
    unsigned char buf[1 << 16];
    size_t pos, len;
    int error; /* a read failed (not the end of the file) */
} reader;

/* The next byte, or EOF at the end of the file (or after a read error). */
static int next_byte(reader *r)
{
    if (r->pos == r->len) {
        r->len = fread(r->buf, 1, sizeof r->buf, r->f);
        r->pos = 0;
        if (r->len == 0) {
            if (ferror(r->f)) r->error = 1;
            return EOF;
        }
    }
    return r->buf[r->pos++];
}

/* ---- a growing string -------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    int out_of_memory;
} text;

static void add_byte(text *t, char c)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->out_of_memory = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    t->s[t->len++] = c;
}

static int equals(const text *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

/* ---- splitting records ---------------------------------------------------------- */

enum {
    FIELD_ENDS_AT_COMMA,
    FIELD_ENDS_AT_NEWLINE,
    FIELD_ENDS_AT_END_OF_FILE,
    FIELD_UNTERMINATED,
    NOTHING_LEFT /* the file ended where the field would start */
};

/* Reads one field into value (NULL: read and forget it) and says how it
 * ended. *quoted: it started with a quote; *blank: it was nothing, or only
 * a CR, before a LF (a blank line, when it is a record's first field). */
static int read_field(reader *r, text *value, int *quoted, int *blank)
{
    if (value) value->len = 0;
    *quoted = 0;
    *blank = 0;
    int c = next_byte(r);
    if (c == EOF) return NOTHING_LEFT;
    if (c == '"') {
        /* A quoted field: up to the next quote that is not doubled. Commas,
         * CRs and LFs in here are data, and "" stands for one quote. */
        *quoted = 1;
        for (;;) {
            c = next_byte(r);
            if (c == EOF) return FIELD_UNTERMINATED;
            if (c == '"') {
                c = next_byte(r);
                if (c != '"') break; /* the closing quote; c is the byte after it */
            }
            if (value) add_byte(value, (char)c);
        }
    }
    /* Unquoted bytes (the whole field, or what follows the closing quote),
     * up to a comma, a LF or the end of the file. A CR right before the LF
     * belongs to the line ending, not to the field. */
    size_t unquoted_bytes = 0;
    int last_was_cr = 0;
    for (;; c = next_byte(r)) {
        if (c == ',' || c == '\n' || c == EOF) break;
        if (value) add_byte(value, (char)c);
        unquoted_bytes++;
        last_was_cr = c == '\r';
    }
    if (c == ',') return FIELD_ENDS_AT_COMMA;
    if (c == EOF) return FIELD_ENDS_AT_END_OF_FILE;
    if (last_was_cr && value) value->len--;
    *blank = !*quoted && (unquoted_bytes == 0 || (unquoted_bytes == 1 && last_was_cr));
    return FIELD_ENDS_AT_NEWLINE;
}

enum { RECORD, BLANK_LINE, UNTERMINATED_RECORD, NO_MORE_RECORDS };

/* Reads one record: the field whose index is want[k] goes to values[k]
 * (nwant of them), the others are read and forgotten; *nfields counts
 * them all. */
static int read_record(reader *r, const long *want, text *values, int nwant, long *nfields)
{
    *nfields = 0;
    for (long i = 0;; i++) {
        text *value = NULL;
        for (int k = 0; k < nwant; k++)
            if (want[k] == i) value = &values[k];
        int quoted, blank;
        int end = read_field(r, value, &quoted, &blank);
        if (end == FIELD_UNTERMINATED) return UNTERMINATED_RECORD;
        if (end == NOTHING_LEFT) {
            if (i == 0) return NO_MORE_RECORDS;
            end = FIELD_ENDS_AT_END_OF_FILE; /* "a,b," at the very end: an empty last field */
        }
        if (i == 0 && blank) return BLANK_LINE;
        (*nfields)++;
        if (end != FIELD_ENDS_AT_COMMA) return RECORD;
    }
}

/* ---- the row rules ----------------------------------------------------------------- */

static int digit(char c)
{
    return c >= '0' && c <= '9';
}
static int number(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DDTHH:MM:SSZ", a real date from 1970 on: 1 and the hour, or 0. */
static int valid_timestamp(const text *t, int *hour)
{
    const char *pattern = "dddd-dd-ddTdd:dd:ddZ";
    if (t->len != strlen(pattern)) return 0;
    for (size_t i = 0; i < t->len; i++)
        if (pattern[i] == 'd' ? !digit(t->s[i]) : t->s[i] != pattern[i]) return 0;
    int year = number(t->s, 4), month = number(t->s + 5, 2), day = number(t->s + 8, 2);
    int hh = number(t->s + 11, 2), mm = number(t->s + 14, 2), ss = number(t->s + 17, 2);
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int days_in[13] = {0, 31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in[month]) return 0;
    if (hh > 23 || mm > 59 || ss > 59) return 0;
    *hour = hh;
    return 1;
}

/* Optional '-', 1 to 10 digits, optionally '.' and 1 or 2 digits: 1 and the
 * amount in cents, or 0. */
static int valid_amount(const text *t, int64_t *cents)
{
    size_t i = 0, n = t->len;
    int negative = n > 0 && t->s[0] == '-';
    if (negative) i++;
    size_t digits = 0;
    int64_t whole = 0;
    while (i < n && digit(t->s[i])) {
        whole = whole * 10 + (t->s[i] - '0');
        i++;
        if (++digits > 10) return 0;
    }
    if (digits == 0) return 0;
    int64_t fraction = 0;
    if (i < n) {
        if (t->s[i] != '.') return 0;
        i++;
        size_t decimals = n - i;
        if (decimals != 1 && decimals != 2) return 0;
        for (size_t k = 0; k < decimals; k++)
            if (!digit(t->s[i + k])) return 0;
        fraction = (t->s[i] - '0') * 10 + (decimals == 2 ? t->s[i + 1] - '0' : 0);
    }
    *cents = (negative ? -1 : 1) * (whole * 100 + fraction);
    return 1;
}

/* The currency's rate, or 0 when the code is not in the table. */
static int64_t rate_of(const text *t)
{
    for (int k = 0; k < C2_NRATES; k++)
        if (equals(t, c2_rates[k].code)) return c2_rates[k].rate_ppm;
    return 0;
}

/* round(cents * rate / 1e6), halves away from zero. */
static int64_t usd_cents(int64_t cents, int64_t rate_ppm)
{
    int64_t product = cents * rate_ppm; /* |product| < 2e18: no overflow */
    int64_t whole = product / 1000000, rest = product % 1000000;
    if (rest >= 500000) whole++;
    if (rest <= -500000) whole--;
    return whole;
}

/* Spaces and tabs trimmed at both ends, A-Z lower-cased, in place. */
static void normalize(text *t)
{
    size_t begin = 0, end = t->len;
    while (begin < end && (t->s[begin] == ' ' || t->s[begin] == '\t')) begin++;
    while (end > begin && (t->s[end - 1] == ' ' || t->s[end - 1] == '\t')) end--;
    for (size_t i = begin; i < end; i++) {
        char c = t->s[i];
        t->s[i - begin] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    t->len = end - begin;
}

/* ---- the groups: a chained hash table --------------------------------------------- */

typedef struct node {
    struct node *next;
    char day[10];
    char *category;
    size_t category_len;
    int64_t count, sum, min, max;
} node;

typedef struct {
    node **bucket;
    size_t nbuckets, ngroups;
} group_table;

static size_t hash_key(const char *day, const char *cat, size_t len, size_t nbuckets)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the day, then the category */
    for (int i = 0; i < 10; i++) h = (h ^ (unsigned char)day[i]) * 1099511628211ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)cat[i]) * 1099511628211ull;
    return (size_t)(h % nbuckets);
}

/* The group of (day, category), made if new; NULL when out of memory. */
static node *group_of(group_table *t, const char *day, const text *cat)
{
    size_t b = hash_key(day, cat->s, cat->len, t->nbuckets);
    for (node *n = t->bucket[b]; n; n = n->next)
        /* an empty category may have no bytes at all (s NULL): memcmp
         * must not be given it, even for 0 bytes (found by fuzz_fast) */
        if (memcmp(n->day, day, 10) == 0 && n->category_len == cat->len &&
            (cat->len == 0 || memcmp(n->category, cat->s, cat->len) == 0))
            return n;
    if (t->ngroups == t->nbuckets) { /* full: twice the buckets */
        size_t nb = 2 * t->nbuckets;
        node **bigger = calloc(nb, sizeof *bigger);
        if (!bigger) return NULL;
        for (size_t i = 0; i < t->nbuckets; i++)
            while (t->bucket[i]) {
                node *n = t->bucket[i];
                t->bucket[i] = n->next;
                size_t to = hash_key(n->day, n->category, n->category_len, nb);
                n->next = bigger[to];
                bigger[to] = n;
            }
        free(t->bucket);
        t->bucket = bigger;
        t->nbuckets = nb;
        b = hash_key(day, cat->s, cat->len, nb);
    }
    node *n = calloc(1, sizeof *n);
    char *copy = malloc(cat->len + 1);
    if (!n || !copy) {
        free(n);
        free(copy);
        return NULL;
    }
    memcpy(n->day, day, 10);
    if (cat->len) memcpy(copy, cat->s, cat->len);
    n->category = copy;
    n->category_len = cat->len;
    n->next = t->bucket[b];
    t->bucket[b] = n;
    t->ngroups++;
    return n;
}

/* ---- the job -------------------------------------------------------------------------- */

enum { TIMESTAMP, CATEGORY, AMOUNT, CURRENCY, NWANT };

int c2_reference(const c2_job *job, c2_result *out)
{
    reader *r = calloc(1, sizeof *r);
    if (!r) {
        cs_error("out of memory");
        return 3;
    }
    r->f = fopen(job->path, "rb");
    if (!r->f) {
        cs_error("%s: cannot open: %s", job->path, strerror(errno));
        free(r);
        return 2;
    }
    /* A UTF-8 byte order mark at the very start is not part of the header. */
    next_byte(r); /* fills the buffer */
    r->pos = 0;
    if (r->len >= 3 && r->buf[0] == 0xEF && r->buf[1] == 0xBB && r->buf[2] == 0xBF) r->pos = 3;

    /* The header: the columns by name (the first of a name counts). */
    static const char *const names[NWANT] = {"timestamp", "category", "amount", "currency"};
    long want[NWANT] = {-1, -1, -1, -1};
    text name = {0};
    long header_fields = 0;
    for (int end = FIELD_ENDS_AT_COMMA; end == FIELD_ENDS_AT_COMMA; header_fields++) {
        int quoted, blank;
        end = read_field(r, &name, &quoted, &blank);
        for (int k = 0; k < NWANT; k++)
            if (want[k] < 0 && equals(&name, names[k])) want[k] = header_fields;
    }
    free(name.s);
    int rc = 0;
    for (int k = 0; k < NWANT; k++)
        if (want[k] < 0) {
            cs_error("%s: line 1: missing column '%s'", job->path, names[k]);
            rc = 2;
        }

    /* The rows. */
    group_table groups = {calloc(64, sizeof(node *)), 64, 0};
    text values[NWANT] = {{0}};
    if (!groups.bucket) rc = 3;
    while (rc == 0) {
        long nfields;
        int kind = read_record(r, want, values, NWANT, &nfields);
        if (kind == NO_MORE_RECORDS) break;
        if (kind == BLANK_LINE) continue;
        out->rows++;
        int hour;
        int64_t cents, rate;
        c2_reason reason;
        if (kind == UNTERMINATED_RECORD)
            reason = C2_UNTERMINATED_QUOTE;
        else if (nfields < header_fields)
            reason = C2_MISSING_FIELD;
        else if (nfields > header_fields)
            reason = C2_EXTRA_FIELD;
        else if (!valid_timestamp(&values[TIMESTAMP], &hour))
            reason = C2_BAD_TIMESTAMP;
        else if (!valid_amount(&values[AMOUNT], &cents))
            reason = C2_BAD_AMOUNT;
        else if ((rate = rate_of(&values[CURRENCY])) == 0)
            reason = C2_UNKNOWN_CURRENCY;
        else {
            /* accepted */
            int64_t usd = usd_cents(cents, rate);
            normalize(&values[CATEGORY]);
            node *g = group_of(&groups, values[TIMESTAMP].s, &values[CATEGORY]);
            if (!g) {
                rc = 3;
                break;
            }
            if (g->count == 0 || usd < g->min) g->min = usd;
            if (g->count == 0 || usd > g->max) g->max = usd;
            g->count++;
            g->sum += usd;
            out->accepted++;
            out->hours[hour]++;
            continue;
        }
        out->rejected[reason]++;
    }
    for (int k = 0; k < NWANT; k++)
        if (values[k].out_of_memory) rc = 3;
    if (rc == 3) cs_error("out of memory");
    if (rc == 0 && r->error) {
        cs_error("%s: cannot read: %s", job->path, strerror(errno));
        rc = 3;
    }

    /* The groups into the result (any order: the caller sorts). */
    for (size_t i = 0; i < groups.nbuckets && groups.bucket; i++)
        for (node *n = groups.bucket[i], *next; n; n = next) {
            next = n->next;
            if (rc == 0) {
                c2_group *g = c2_result_add_group(out, n->day, n->category, n->category_len);
                g->count = n->count;
                g->sum_cents = n->sum;
                g->min_cents = n->min;
                g->max_cents = n->max;
            }
            free(n->category);
            free(n);
        }
    free(groups.bucket);
    for (int k = 0; k < NWANT; k++) free(values[k].s);
    fclose(r->f);
    free(r);
    return rc;
}
