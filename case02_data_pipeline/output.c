/* The job's header check, its result (groups and counts), and its output
 * files: shared by every variant, so they can only differ in how fast they
 * compute the same result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cs_console.h"
#include "cs_outfile.h"
#include "pipeline.h"

#define C2_HEADER_MAX (64 * 1024) /* a header longer than this is not our CSV */

/* ---- the header ------------------------------------------------------------ */

int c2_read_header(const char *path, c2_header *h)
{
    memset(h, 0, sizeof *h);
    size_t file_size;
    if (cs_input_file_size(path, &file_size) != 0) return 2;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        return 2;
    }
    char *buf = malloc(C2_HEADER_MAX);
    if (!buf) {
        fclose(f);
        cs_error("out of memory reading the header of %s", path);
        return 3;
    }
    size_t n = fread(buf, 1, C2_HEADER_MAX, f);
    int read_error = ferror(f);
    fclose(f);
    int rc = 0;
    if (read_error) {
        cs_error("%s: cannot read: %s", path, strerror(errno));
        rc = 2;
        goto out;
    }
    if (n == 0) {
        cs_error("%s: empty file (expected a CSV header: %s, ...)", path, c2_column_names[0]);
        rc = 2;
        goto out;
    }
    /* Text never holds a NUL byte; a binary file almost always does early. */
    const char *nul = memchr(buf, '\0', n);
    if (nul) {
        cs_error("%s: binary file (NUL byte at offset %td), not a CSV", path, nul - buf);
        rc = 2;
        goto out;
    }
    size_t pos = 0;
    if (n >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
        pos = 3; /* UTF-8 byte order mark */
    c2_record rec;
    size_t next = c2_scan_record(buf, pos, n, &rec);
    if (next == n && n == C2_HEADER_MAX && buf[n - 1] != '\n') {
        cs_error("%s: line 1: no end of the header in the first %d KiB: not a CSV", path, C2_HEADER_MAX / 1024);
        rc = 2;
        goto out;
    }
    if (rec.unterminated) {
        cs_error("%s: line 1: unterminated quote in the header", path);
        rc = 2;
        goto out;
    }
    h->nfields = rec.nfields;
    h->data_offset = next;
    for (int c = 0; c < C2_NCOLS; c++) h->index[c] = -1;
    int stored = rec.nfields < C2_MAX_FIELDS ? rec.nfields : C2_MAX_FIELDS;
    char name[256];
    for (int i = 0; i < stored; i++) {
        size_t len = c2_field_copy(&rec.fields[i], name, sizeof name - 1);
        name[len < sizeof name - 1 ? len : sizeof name - 1] = '\0';
        for (int c = 0; c < C2_NCOLS; c++)
            if (h->index[c] < 0 && strcmp(name, c2_column_names[c]) == 0) h->index[c] = i;
    }
    for (int c = 0; c < C2_NCOLS; c++) {
        if (h->index[c] >= 0) continue;
        /* Name what was found, so a wrong delimiter or file is obvious. */
        char found[160] = "";
        size_t used = 0;
        for (int i = 0; i < stored && used + 4 < sizeof found; i++) {
            size_t len = c2_field_copy(&rec.fields[i], name, 40);
            if (len > 40) len = 40;
            name[len] = '\0';
            used += snprintf(found + used, sizeof found - used, "%s%s", i ? ", " : "", name);
        }
        cs_error("%s: line 1: missing column '%s' (found: %s)", path, c2_column_names[c], found[0] ? found : "nothing");
        rc = 2;
        goto out;
    }
out:
    free(buf);
    return rc;
}

/* ---- the result -------------------------------------------------------------- */

static void *xrealloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes);
    if (!q) cs_die(3, "out of memory: asked for %zu bytes for the groups", bytes);
    return q;
}

/* Category bytes of a result: 256 KiB blocks (text_arena.h). */
#define TEXT_BLOCK (256 * 1024)

void c2_result_init(c2_result *r)
{
    memset(r, 0, sizeof *r);
    c2_text_arena_init(&r->text, TEXT_BLOCK);
}

void c2_result_free(c2_result *r)
{
    c2_text_arena_free(&r->text);
    free(r->groups);
    c2_result_init(r);
}

void c2_result_reserve(c2_result *r, size_t groups)
{
    if (groups <= r->cap) return;
    r->groups = xrealloc(r->groups, groups * sizeof *r->groups);
    r->cap = groups;
}

c2_group *c2_result_add_group(c2_result *r, const char day[10], const char *cat, size_t cat_len)
{
    if (r->ngroups == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->groups = xrealloc(r->groups, r->cap * sizeof *r->groups);
    }
    c2_group *g = &r->groups[r->ngroups++];
    memset(g, 0, sizeof *g);
    memcpy(g->day, day, 10);
    g->day[10] = '\0';
    g->category = c2_text_arena_copy(&r->text, cat, cat_len);
    g->category_len = cat_len;
    return g;
}

static int group_order(const void *pa, const void *pb)
{
    const c2_group *a = pa, *b = pb;
    int c = memcmp(a->day, b->day, 10);
    if (c) return c;
    size_t n = a->category_len < b->category_len ? a->category_len : b->category_len;
    c = memcmp(a->category, b->category, n);
    if (c) return c;
    return (a->category_len > b->category_len) - (a->category_len < b->category_len);
}

void c2_result_sort(c2_result *r)
{
    /* A rung that produced its groups in order (fast) costs one look at
     * each neighbour pair here, not a sort. */
    size_t i = 1;
    while (i < r->ngroups && group_order(&r->groups[i - 1], &r->groups[i]) < 0) i++;
    if (i < r->ngroups) qsort(r->groups, r->ngroups, sizeof *r->groups, group_order);
}

/* Folds g's figures into into (same key). */
static void fold(c2_group *into, const c2_group *g)
{
    if (into->count == 0 || g->min_cents < into->min_cents) into->min_cents = g->min_cents;
    if (into->count == 0 || g->max_cents > into->max_cents) into->max_cents = g->max_cents;
    into->count += g->count;
    into->sum_cents += g->sum_cents;
}

void c2_result_merge(c2_result *dst, const c2_result *src)
{
    dst->rows += src->rows;
    dst->accepted += src->accepted;
    for (int i = 0; i < C2_NREASONS; i++) dst->rejected[i] += src->rejected[i];
    for (int i = 0; i < 24; i++) dst->hours[i] += src->hours[i];
    if (src->ngroups == 0) return;
    /* Append copies, sort, then fold equal neighbours: O(G log G) however
     * many groups there are. */
    for (size_t i = 0; i < src->ngroups; i++) {
        const c2_group *s = &src->groups[i];
        c2_group *g = c2_result_add_group(dst, s->day, s->category, s->category_len);
        fold(g, s);
    }
    c2_result_sort(dst);
    size_t out = 0;
    for (size_t i = 0; i < dst->ngroups; i++) {
        if (out > 0 && group_order(&dst->groups[out - 1], &dst->groups[i]) == 0) {
            fold(&dst->groups[out - 1], &dst->groups[i]); /* its bytes stay in a block until the free */
        } else {
            dst->groups[out++] = dst->groups[i];
        }
    }
    dst->ngroups = out;
}

int64_t c2_group_mean(const c2_group *g)
{
    if (g->count == 0) return 0;
    int64_t q = g->sum_cents / g->count, r = g->sum_cents % g->count;
    /* round half away from zero: compare twice the remainder with the count */
    int64_t twice = r < 0 ? -2 * r : 2 * r;
    if (twice >= g->count) q += g->sum_cents < 0 ? -1 : 1;
    return q;
}

int c2_result_compare(const c2_result *a, const c2_result *b, char *msg, size_t len)
{
#define DIFF(what, x, y)                                                                       \
    do {                                                                                       \
        if ((x) != (y)) {                                                                      \
            snprintf(msg, len, "%s: %lld against %lld", what, (long long)(x), (long long)(y)); \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)
    DIFF("rows", a->rows, b->rows);
    DIFF("accepted rows", a->accepted, b->accepted);
    for (int i = 0; i < C2_NREASONS; i++) DIFF(c2_reason_names[i], a->rejected[i], b->rejected[i]);
    for (int i = 0; i < 24; i++) DIFF("an hour of the histogram", a->hours[i], b->hours[i]);
    DIFF("groups", (long long)a->ngroups, (long long)b->ngroups);
    for (size_t i = 0; i < a->ngroups; i++) {
        const c2_group *x = &a->groups[i], *y = &b->groups[i];
        if (group_order(x, y) != 0) {
            snprintf(msg, len, "group %zu: (%s, %.40s) against (%s, %.40s)", i, x->day, x->category, y->day,
                     y->category);
            return 1;
        }
        char what[128];
        snprintf(what, sizeof what, "group (%s, %.40s) count", x->day, x->category);
        DIFF(what, x->count, y->count);
        snprintf(what, sizeof what, "group (%s, %.40s) sum", x->day, x->category);
        DIFF(what, x->sum_cents, y->sum_cents);
        snprintf(what, sizeof what, "group (%s, %.40s) min", x->day, x->category);
        DIFF(what, x->min_cents, y->min_cents);
        snprintf(what, sizeof what, "group (%s, %.40s) max", x->day, x->category);
        DIFF(what, x->max_cents, y->max_cents);
    }
#undef DIFF
    snprintf(msg, len, "identical");
    return 0;
}

static double abs_diff(int64_t x, int64_t y)
{
    return x > y ? (double)x - (double)y : (double)y - (double)x;
}

double c2_result_max_error(const c2_result *a, const c2_result *b)
{
    if (a->ngroups != b->ngroups) return -1;
    double worst = 0;
    for (size_t i = 0; i < a->ngroups; i++) {
        const c2_group *x = &a->groups[i], *y = &b->groups[i];
        if (group_order(x, y) != 0 || x->count != y->count) return -1;
        double e[4] = {abs_diff(x->sum_cents, y->sum_cents), abs_diff(x->min_cents, y->min_cents),
                       abs_diff(x->max_cents, y->max_cents), abs_diff(c2_group_mean(x), c2_group_mean(y))};
        for (int k = 0; k < 4; k++)
            if (e[k] > worst) worst = e[k];
    }
    return worst;
}

/* ---- output files --------------------------------------------------------------- */

/* The groups CSV is formatted by hand into a buffer that goes to the file
 * in large pieces. fprintf parses its format for every call, and at
 * 100,000 groups writing them that way took longer than fast's whole pass
 * over the file. */
typedef struct {
    FILE *f;
    size_t used;
    char buf[1 << 16];
} line_buffer;

static void flush_lines(line_buffer *b)
{
    if (b->used > 0) fwrite(b->buf, 1, b->used, b->f); /* errors: caught by the commit */
    b->used = 0;
}

/* Room for n bytes at the end of the buffer (written out first if it is
 * too full); NULL when n is more than the whole buffer. */
static char *room(line_buffer *b, size_t n)
{
    if (sizeof b->buf - b->used < n) flush_lines(b);
    return n <= sizeof b->buf ? b->buf + b->used : NULL;
}

/* "00" "01" ... "99": numbers are written two digits at a time. */
static const char two_digits[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

/* The decimal digits of v at p; returns the end (at most 20 bytes). */
static char *put_number(char *p, uint64_t v)
{
    char digits[20], *end = digits + sizeof digits, *q = end;
    for (; v >= 100; v /= 100) memcpy(q -= 2, two_digits + 2 * (v % 100), 2);
    if (v >= 10)
        memcpy(q -= 2, two_digits + 2 * v, 2);
    else
        *--q = (char)('0' + v);
    memcpy(p, q, (size_t)(end - q));
    return p + (end - q);
}

/* Cents as dollars: -1234 -> "-12.34" (at most 23 bytes). */
static char *put_usd(char *p, int64_t cents)
{
    uint64_t mag = cents < 0 ? 0 - (uint64_t)cents : (uint64_t)cents;
    if (cents < 0) *p++ = '-';
    p = put_number(p, mag / 100);
    *p++ = '.';
    memcpy(p, two_digits + 2 * (mag % 100), 2);
    return p + 2;
}

/* A CSV field from bytes, quoted when it needs it (RFC 4180): at most
 * 2 * len + 2 bytes. */
static char *put_field(char *p, const char *s, size_t len)
{
    int quote = 0;
    for (size_t i = 0; i < len && !quote; i++) quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        memcpy(p, s, len);
        return p + len;
    }
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') *p++ = '"';
        *p++ = s[i];
    }
    *p++ = '"';
    return p;
}

/* cs_outfile_open, with the temporary file registered for removal should
 * the run be interrupted (cleanup.h). */
static int open_output(cs_outfile *o, const char *path)
{
    if (cs_outfile_open(o, path) != 0) return -1;
    c2_cleanup_add(o->tmp);
    return 0;
}

/* cs_outfile_commit, and the temporary name forgotten (renamed or removed). */
static int commit_output(cs_outfile *o)
{
    char tmp[CS_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", o->tmp);
    int rc = cs_outfile_commit(o);
    c2_cleanup_forget(tmp);
    return rc;
}

int c2_write_groups_csv(const c2_result *r, const char *path)
{
    cs_outfile o;
    if (open_output(&o, path) != 0) return -1;
    line_buffer *b = malloc(sizeof *b);
    if (!b) {
        cs_outfile_abort(&o);
        cs_error("out of memory writing %s", path);
        return -1;
    }
    b->f = o.f;
    b->used = 0;
    static const char header[] = "day,category,count,sum_usd,min_usd,max_usd,mean_usd\n";
    memcpy(room(b, sizeof header), header, sizeof header - 1);
    b->used += sizeof header - 1;
    int rc = 0;
    for (size_t i = 0; i < r->ngroups && rc == 0; i++) {
        const c2_group *g = &r->groups[i];
        /* the longest this line can be: the day, the category with every
         * byte doubled and its quotes, the count and four amounts, the
         * separators */
        size_t most = 10 + (2 * g->category_len + 2) + 20 + 4 * 23 + 6;
        char *line = room(b, most), *own = NULL;
        if (!line && !(line = own = malloc(most))) { /* a category longer than the buffer */
            cs_error("out of memory writing %s", path);
            rc = -1;
            break;
        }
        char *p = line;
        memcpy(p, g->day, 10);
        p += 10;
        *p++ = ',';
        p = put_field(p, g->category, g->category_len);
        *p++ = ',';
        p = put_number(p, (uint64_t)g->count);
        *p++ = ',';
        p = put_usd(p, g->sum_cents);
        *p++ = ',';
        p = put_usd(p, g->min_cents);
        *p++ = ',';
        p = put_usd(p, g->max_cents);
        *p++ = ',';
        p = put_usd(p, c2_group_mean(g));
        *p++ = '\n';
        if (own) {
            flush_lines(b);
            fwrite(own, 1, (size_t)(p - own), b->f);
            free(own);
        } else {
            b->used += (size_t)(p - line);
        }
    }
    flush_lines(b);
    free(b);
    if (rc != 0) {
        cs_outfile_abort(&o);
        return rc;
    }
    return commit_output(&o);
}

int c2_write_summary(const c2_result *r, const char *path)
{
    cs_outfile o;
    if (open_output(&o, path) != 0) return -1;
    int64_t rejected = 0;
    for (int i = 0; i < C2_NREASONS; i++) rejected += r->rejected[i];
    fprintf(o.f, "item,value\nrows,%lld\naccepted,%lld\nrejected,%lld\n", (long long)r->rows, (long long)r->accepted,
            (long long)rejected);
    for (int i = 0; i < C2_NREASONS; i++)
        fprintf(o.f, "rejected_%s,%lld\n", c2_reason_names[i], (long long)r->rejected[i]);
    for (int h = 0; h < 24; h++) fprintf(o.f, "hour_%02d,%lld\n", h, (long long)r->hours[h]);
    return commit_output(&o);
}

int c2_open_input(const c2_job *job, FILE **in)
{
    *in = fopen(job->path, "rb");
    if (!*in) {
        cs_error("%s: cannot open: %s", job->path, strerror(errno));
        return 2;
    }
    if (fseek(*in, (long)job->header.data_offset, SEEK_SET) != 0) {
        cs_error("%s: cannot read: %s", job->path, strerror(errno));
        fclose(*in);
        return 3;
    }
    return 0;
}
