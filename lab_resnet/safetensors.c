/* safetensors files (see safetensors.h): the reader checks everything a
 * hostile or truncated file could get wrong before any tensor is used, so
 * that later code can trust every offset; the writer produces files that
 * torch's `safetensors` package and this reader both accept.
 *
 * The reader is fuzzed (tests/lab_resnet/fuzz_st.c): every check below
 * compares against sizes known from the file itself, never against what
 * the header claims. */
#include "safetensors.h"

#include "cs_console.h"
#include "cs_outfile.h"
#include "cs_files.h"
#include "json_scan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reference implementation's limit: a larger "header length" means the
 * file is not a safetensors file at all, and we would not want to read it. */
#define ST_HEADER_MAX 100000000ull
/* Top object, tensor entry, shape array: 3 levels; the rest is headroom for
 * unknown fields, which are skipped. */
#define ST_JSON_DEPTH 16

/* ---- dtypes --------------------------------------------------------------- */

static const struct {
    const char *text;
    size_t size; /* bytes per element */
    rn_st_dtype dtype;
} st_dtypes[] = {
    {"F32", 4, RN_ST_F32},    {"I64", 8, RN_ST_I64},       {"F16", 2, RN_ST_OTHER},     {"BF16", 2, RN_ST_OTHER},
    {"F64", 8, RN_ST_OTHER},  {"I32", 4, RN_ST_OTHER},     {"I16", 2, RN_ST_OTHER},     {"I8", 1, RN_ST_OTHER},
    {"U8", 1, RN_ST_OTHER},   {"U16", 2, RN_ST_OTHER},     {"U32", 4, RN_ST_OTHER},     {"U64", 8, RN_ST_OTHER},
    {"BOOL", 1, RN_ST_OTHER}, {"F8_E4M3", 1, RN_ST_OTHER}, {"F8_E5M2", 1, RN_ST_OTHER},
};

/* Index into st_dtypes, or -1. */
static int find_dtype(const char *text)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(st_dtypes[i].text, text) == 0) return (int)i;
    return -1;
}

/* ---- small helpers ---------------------------------------------------------- */

/* Text from the file as it can be shown on one line: control bytes become
 * '?' (a name holding "\n" must not split the one-line error), long text
 * is cut with "...". */
static const char *shown(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s), i;
    for (i = 0; i < n && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[i] = '\0';
    if (i < n && cap >= 4) memcpy(buf + cap - 4, "...", 4);
    return buf;
}

/* "[64, 3, 7, 7]"; "[]" for a scalar. */
static const char *format_shape(char *buf, size_t cap, int ndims, const int64_t *shape)
{
    size_t used = 0;
    int n = snprintf(buf, cap, "[");
    used = n > 0 ? (size_t)n : 0;
    for (int d = 0; d < ndims && d < RN_ST_MAX_DIMS && used < cap; d++) {
        n = snprintf(buf + used, cap - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
        if (n > 0) used += (size_t)n;
    }
    if (used < cap) snprintf(buf + used, cap - used, "]");
    return buf;
}

/* Element count of a shape, or -1 when it overflows 64 bits. A zero
 * dimension makes the count 0 whatever the others are. */
static int element_count(int ndims, const int64_t *shape, uint64_t *count)
{
    uint64_t c = 1;
    for (int d = 0; d < ndims; d++)
        if (shape[d] == 0) {
            *count = 0;
            return 0;
        }
    for (int d = 0; d < ndims; d++) {
        uint64_t dim = (uint64_t)shape[d];
        if (c > UINT64_MAX / dim) return -1;
        c *= dim;
    }
    *count = c;
    return 0;
}

/* The file stores little-endian bytes; a big-endian host swaps each element.
 * (The test compiles to a constant; on x86 and ARM this is a memcpy.) */
static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static void copy_little_endian(void *dst, const void *src, size_t count, size_t width)
{
    if (count == 0) return;
    if (host_is_little_endian() || width == 1) {
        memcpy(dst, src, count * width);
        return;
    }
    const unsigned char *s = src;
    unsigned char *d = dst;
    for (size_t i = 0; i < count; i++)
        for (size_t b = 0; b < width; b++) d[i * width + b] = s[i * width + width - 1 - b];
}

static uint64_t read_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void write_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- reading: the header ------------------------------------------------------ */

typedef struct {
    rn_st_file *f;
    rn_json j;
    size_t data_size; /* bytes after the header */
    size_t *entry_at; /* per tensor: file offset of its entry (for messages) */
    int cap;
    char context[RN_ST_NAME_MAX + 32]; /* "tensor 'x'" being read, for messages */
} st_reader;

/* A problem found after reading a value: reported at its first byte. */
static int fail_value(st_reader *r, size_t text_pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_value(st_reader *r, size_t text_pos, const char *fmt, ...)
{
    char message[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (!r->j.failed) r->j.pos = text_pos; /* the error is sticky: nothing reads on */
    return rn_json_fail(&r->j, message);
}

/* The position of the next value (after whitespace), in the JSON text. */
static size_t value_pos(st_reader *r)
{
    return rn_json_offset(&r->j) - r->j.base;
}

static int read_shape(st_reader *r, rn_st_tensor *t)
{
    if (rn_json_enter_array(&r->j) != 0) return -1;
    int rc;
    while ((rc = rn_json_next_element(&r->j)) == 1) {
        size_t at = value_pos(r);
        int64_t dim;
        if (rn_json_read_int(&r->j, &dim) != 0) return -1;
        if (dim < 0) return fail_value(r, at, "negative dimension %lld in shape", (long long)dim);
        if (t->ndims >= RN_ST_MAX_DIMS) return fail_value(r, at, "shape has more than %d dimensions", RN_ST_MAX_DIMS);
        t->shape[t->ndims++] = dim;
    }
    return rc;
}

static int read_offsets(st_reader *r, rn_st_tensor *t)
{
    size_t at = value_pos(r);
    if (rn_json_enter_array(&r->j) != 0) return -1;
    int64_t v[2];
    int n = 0, rc;
    while ((rc = rn_json_next_element(&r->j)) == 1) {
        size_t vat = value_pos(r);
        int64_t x;
        if (rn_json_read_int(&r->j, &x) != 0) return -1;
        if (n == 2) return fail_value(r, vat, "data_offsets has more than two numbers");
        if (x < 0) return fail_value(r, vat, "negative data offset %lld", (long long)x);
        v[n++] = x;
    }
    if (rc < 0) return -1;
    if (n != 2) return fail_value(r, at, "data_offsets must be [begin, end]");
    if (v[0] > v[1])
        return fail_value(r, at, "data_offsets [%lld, %lld]: begin is after end", (long long)v[0], (long long)v[1]);
    if ((uint64_t)v[1] > r->data_size)
        return fail_value(r, at, "data_offsets [%lld, %lld] run past the data section (%zu bytes)", (long long)v[0],
                          (long long)v[1], r->data_size);
    t->begin = (size_t)v[0];
    t->end = (size_t)v[1];
    return 0;
}

/* One tensor entry: {"dtype": .., "shape": [..], "data_offsets": [b, e]},
 * other fields skipped. */
static int read_entry(st_reader *r, rn_st_tensor *t)
{
    size_t entry_at = value_pos(r);
    if (rn_json_peek(&r->j) != RN_JSON_OBJECT) return fail_value(r, entry_at, "the entry is not an object");
    if (rn_json_enter_object(&r->j) != 0) return -1;
    int have_dtype = 0, have_shape = 0, have_offsets = 0, rc;
    size_t dtype_size = 0, dtype_at = 0;
    char key[16];
    size_t key_len;
    while ((rc = rn_json_next_member(&r->j, key, sizeof key, &key_len)) == 1) {
        size_t at = value_pos(r);
        int *seen = NULL;
        if (key_len == strlen(key) && strcmp(key, "dtype") == 0)
            seen = &have_dtype;
        else if (key_len == strlen(key) && strcmp(key, "shape") == 0)
            seen = &have_shape;
        else if (key_len == strlen(key) && strcmp(key, "data_offsets") == 0)
            seen = &have_offsets;
        if (seen == NULL) {
            if (rn_json_skip_value(&r->j) != 0) return -1; /* a field we do not use */
            continue;
        }
        if (*seen) return fail_value(r, at, "field \"%s\" given twice", key);
        *seen = 1;
        if (seen == &have_dtype) {
            size_t len;
            if (rn_json_read_string(&r->j, t->dtype_text, sizeof t->dtype_text, &len) != 0) return -1;
            int d = len < sizeof t->dtype_text && len == strlen(t->dtype_text) ? find_dtype(t->dtype_text) : -1;
            char buf[24];
            if (d < 0) return fail_value(r, at, "unknown dtype '%s'", shown(t->dtype_text, buf, sizeof buf));
            t->dtype = st_dtypes[d].dtype;
            dtype_size = st_dtypes[d].size;
            dtype_at = at;
        } else if (seen == &have_shape) {
            if (read_shape(r, t) != 0) return -1;
        } else {
            if (read_offsets(r, t) != 0) return -1;
        }
    }
    if (rc < 0) return -1;
    const char *missing = !have_dtype ? "dtype" : !have_shape ? "shape" : !have_offsets ? "data_offsets" : NULL;
    if (missing != NULL) return fail_value(r, entry_at, "the entry has no \"%s\"", missing);

    /* The bytes the shape needs must be exactly the bytes the offsets give. */
    uint64_t count;
    char sbuf[160];
    format_shape(sbuf, sizeof sbuf, t->ndims, t->shape);
    if (element_count(t->ndims, t->shape, &count) != 0 || count > UINT64_MAX / dtype_size)
        return fail_value(r, dtype_at, "shape %s is too large", sbuf);
    uint64_t span = (uint64_t)(t->end - t->begin);
    if (count * dtype_size != span)
        return fail_value(r, entry_at, "shape %s of %s needs %llu bytes but data_offsets [%zu, %zu] hold %llu", sbuf,
                          t->dtype_text, (unsigned long long)(count * dtype_size), t->begin, t->end,
                          (unsigned long long)span);
    return 0;
}

/* "__metadata__": an object whose values are strings. */
static int read_metadata(st_reader *r)
{
    if (rn_json_peek(&r->j) != RN_JSON_OBJECT) return fail_value(r, value_pos(r), "__metadata__ is not an object");
    if (rn_json_enter_object(&r->j) != 0) return -1;
    int rc;
    while ((rc = rn_json_next_member(&r->j, NULL, 0, NULL)) == 1) {
        if (rn_json_peek(&r->j) != RN_JSON_STRING)
            return fail_value(r, value_pos(r), "__metadata__ values must be strings");
        if (rn_json_read_string(&r->j, NULL, 0, NULL) != 0) return -1;
    }
    return rc;
}

static int add_tensor(st_reader *r, rn_st_tensor **out)
{
    rn_st_file *f = r->f;
    if (f->ntensors == r->cap) {
        int cap = r->cap ? r->cap * 2 : 64;
        rn_st_tensor *t = realloc(f->tensors, (size_t)cap * sizeof *t);
        if (t == NULL) return -1;
        f->tensors = t;
        size_t *at = realloc(r->entry_at, (size_t)cap * sizeof *at);
        if (at == NULL) return -1;
        r->entry_at = at;
        r->cap = cap;
    }
    *out = &f->tensors[f->ntensors];
    memset(*out, 0, sizeof **out);
    r->entry_at[f->ntensors] = rn_json_offset(&r->j);
    f->ntensors++;
    return 0;
}

/* The whole header. Returns 0, -1 with the JSON error set (r->context says
 * which tensor), or -2 when out of memory. */
static int read_header(st_reader *r)
{
    rn_json *j = &r->j;
    if (rn_json_peek(j) != RN_JSON_OBJECT) {
        if (!j->failed) fail_value(r, value_pos(r), "the header is not a JSON object");
        return -1;
    }
    if (rn_json_enter_object(j) != 0) return -1;
    int have_metadata = 0, rc;
    char name[RN_ST_NAME_MAX];
    size_t name_len;
    for (;;) {
        r->context[0] = '\0'; /* errors between entries belong to no tensor */
        size_t name_at = value_pos(r);
        rc = rn_json_next_member(j, name, sizeof name, &name_len);
        if (rc <= 0) break;
        char buf[RN_ST_NAME_MAX];
        snprintf(r->context, sizeof r->context, "tensor '%s'", shown(name, buf, sizeof buf));
        if (name_len >= sizeof name)
            return fail_value(r, name_at, "the name is %zu bytes long (the limit is %d)", name_len, RN_ST_NAME_MAX - 1);
        if (name_len != strlen(name)) return fail_value(r, name_at, "the name holds a NUL byte");
        if (strcmp(name, "__metadata__") == 0) {
            snprintf(r->context, sizeof r->context, "__metadata__");
            if (have_metadata) return fail_value(r, name_at, "__metadata__ given twice");
            have_metadata = 1;
            if (read_metadata(r) != 0) return -1;
            continue;
        }
        rn_st_tensor *t;
        if (add_tensor(r, &t) != 0) return -2;
        memcpy(t->name, name, name_len + 1);
        if (read_entry(r, t) != 0) return -1;
    }
    if (rc < 0) return -1;
    return rn_json_finish(j);
}

/* ---- reading: checks across tensors --------------------------------------------- */

static const rn_st_tensor *sort_base; /* qsort has no context argument */

static int by_name(const void *a, const void *b)
{
    return strcmp(sort_base[*(const int *)a].name, sort_base[*(const int *)b].name);
}

static int by_begin(const void *a, const void *b)
{
    const rn_st_tensor *x = &sort_base[*(const int *)a], *y = &sort_base[*(const int *)b];
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

/* Unique names, and no two tensors sharing a byte. Sorting keeps this
 * O(n log n): a header may list hundreds of thousands of tensors. */
static int check_tensors(st_reader *r)
{
    rn_st_file *f = r->f;
    int n = f->ntensors;
    if (n < 2) return 0;
    int *order = malloc((size_t)n * sizeof *order);
    if (order == NULL) return 3;
    for (int i = 0; i < n; i++) order[i] = i;
    sort_base = f->tensors;
    qsort(order, (size_t)n, sizeof *order, by_name);
    char b1[RN_ST_NAME_MAX], b2[RN_ST_NAME_MAX];
    for (int i = 1; i < n; i++) {
        const rn_st_tensor *a = &f->tensors[order[i - 1]], *b = &f->tensors[order[i]];
        if (strcmp(a->name, b->name) == 0) {
            int later = order[i] > order[i - 1] ? order[i] : order[i - 1];
            cs_error("%s: tensor '%s' appears twice in the header (again at byte %zu)", f->path,
                     shown(a->name, b1, sizeof b1), r->entry_at[later]);
            free(order);
            return 2;
        }
    }
    qsort(order, (size_t)n, sizeof *order, by_begin);
    int reach = -1; /* the non-empty tensor ending furthest so far */
    for (int i = 0; i < n; i++) {
        const rn_st_tensor *t = &f->tensors[order[i]];
        if (t->begin == t->end) continue; /* an empty tensor holds no byte */
        if (reach >= 0 && t->begin < f->tensors[reach].end) {
            const rn_st_tensor *u = &f->tensors[reach];
            cs_error("%s: tensors '%s' [%zu, %zu) and '%s' [%zu, %zu) overlap in the data section", f->path,
                     shown(u->name, b1, sizeof b1), u->begin, u->end, shown(t->name, b2, sizeof b2), t->begin, t->end);
            free(order);
            return 2;
        }
        if (reach < 0 || t->end > f->tensors[reach].end) reach = order[i];
    }
    free(order);
    return 0;
}

/* Parses a buffer the file now owns (freed by rn_st_close, also on error). */
static int parse_owned(rn_st_file *f, const char *path, unsigned char *bytes, size_t size)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path != NULL ? path : "(memory)");
    f->bytes = bytes;
    f->size = size;
    if (size < 8) {
        cs_error("%s: %zu bytes is too short for a safetensors file (it starts with an 8-byte header length)", f->path,
                 size);
        rn_st_close(f);
        return 2;
    }
    uint64_t header_len = read_le64(bytes);
    if (header_len == 0 || header_len > ST_HEADER_MAX || header_len > size - 8) {
        if (header_len == 0)
            cs_error("%s: the header length is 0 (a safetensors header is a JSON object)", f->path);
        else if (header_len > ST_HEADER_MAX)
            cs_error("%s: the header length %llu is over the 100 MB limit (not a safetensors file?)", f->path,
                     (unsigned long long)header_len);
        else
            cs_error("%s: the header length %llu runs past the end of the file (%zu bytes)", f->path,
                     (unsigned long long)header_len, size);
        rn_st_close(f);
        return 2;
    }
    f->data_start = 8 + (size_t)header_len;

    st_reader r;
    memset(&r, 0, sizeof r);
    r.f = f;
    r.data_size = size - f->data_start;
    rn_json_init(&r.j, (const char *)bytes + 8, (size_t)header_len, 8, ST_JSON_DEPTH);
    int rc = read_header(&r);
    if (rc == -2) {
        cs_error("%s: out of memory reading the header", f->path);
        rc = 3;
    } else if (rc != 0) {
        if (r.context[0] != '\0')
            cs_error("%s: %s: %s", f->path, r.context, rn_json_error(&r.j));
        else
            cs_error("%s: bad header: %s", f->path, rn_json_error(&r.j));
        rc = 2;
    } else {
        rc = check_tensors(&r);
        if (rc == 3) cs_error("%s: out of memory checking the header", f->path);
    }
    free(r.entry_at);
    if (rc != 0) rn_st_close(f);
    return rc;
}

int rn_st_parse(rn_st_file *f, const char *path, const unsigned char *bytes, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        memset(f, 0, sizeof *f);
        cs_error("%s: out of memory (%zu bytes)", path != NULL ? path : "(memory)", size);
        return 3;
    }
    if (size) memcpy(copy, bytes, size);
    return parse_owned(f, path, copy, size);
}

int rn_st_open(rn_st_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    /* A regular file only, checked before anything is read: a FIFO with no
     * writer would be waited on forever, a device read forever. */
    size_t size;
    int fd = cs_open_regular(path, &size);
    if (fd < 0) return 2;
    FILE *fp = fdopen(fd, "rb");
    if (fp == NULL) {
        cs_error("cannot read %s: %s", path, strerror(errno));
        close(fd);
        return 3;
    }
    unsigned char *bytes = malloc(size ? size : 1);
    if (bytes == NULL) {
        cs_error("%s: out of memory (%zu bytes)", path, size);
        fclose(fp);
        return 3;
    }
    size_t got = fread(bytes, 1, size, fp);
    int read_error = ferror(fp);
    fclose(fp);
    if (got != size || read_error) {
        cs_error("cannot read %s: %s", path, read_error ? strerror(errno) : "the file shrank while reading");
        free(bytes);
        return 2;
    }
    return parse_owned(f, path, bytes, size);
}

void rn_st_close(rn_st_file *f)
{
    if (f == NULL) return;
    free(f->bytes);
    free(f->tensors);
    f->bytes = NULL;
    f->tensors = NULL;
    f->size = f->data_start = 0;
    f->ntensors = 0;
}

const rn_st_tensor *rn_st_find(const rn_st_file *f, const char *name)
{
    if (f == NULL || name == NULL) return NULL;
    for (int i = 0; i < f->ntensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

int rn_st_check(const rn_st_file *f, const char *name, rn_st_dtype dtype, int ndims, const int64_t *shape)
{
    const rn_st_tensor *t = rn_st_find(f, name);
    if (t == NULL) return 1;
    char b1[RN_ST_NAME_MAX];
    if (t->dtype != dtype || dtype == RN_ST_OTHER) {
        cs_error("%s: tensor '%s' is %s, expected %s", f->path, shown(name, b1, sizeof b1), t->dtype_text,
                 dtype == RN_ST_I64 ? "I64" : "F32");
        return 2;
    }
    int same = ndims == t->ndims;
    for (int d = 0; same && d < ndims; d++) same = shape[d] == t->shape[d];
    if (!same) {
        char have[160], want[160];
        cs_error("%s: tensor '%s' has shape %s, expected %s", f->path, shown(name, b1, sizeof b1),
                 format_shape(have, sizeof have, t->ndims, t->shape), format_shape(want, sizeof want, ndims, shape));
        return 2;
    }
    return 0;
}

int rn_st_get_f32(const rn_st_file *f, const char *name, int ndims, const int64_t *shape, float *dst)
{
    int rc = rn_st_check(f, name, RN_ST_F32, ndims, shape);
    if (rc != 0) return rc;
    const rn_st_tensor *t = rn_st_find(f, name);
    /* end - begin = count * 4 was checked when the file was read. */
    copy_little_endian(dst, f->bytes + f->data_start + t->begin, (t->end - t->begin) / 4, 4);
    return 0;
}

/* ---- writing ---------------------------------------------------------------------- */

typedef struct {
    char name[RN_ST_NAME_MAX];
    const char *dtype; /* "F32" or "I64" */
    int ndims;
    int64_t shape[RN_ST_MAX_DIMS];
    size_t nbytes;
    unsigned char *data; /* little-endian copy, owned */
} st_entry;

struct rn_st_writer {
    st_entry *entries;
    int n, cap;
    char error[256]; /* the first bad add, reported by save */
};

rn_st_writer *rn_st_writer_new(void)
{
    return calloc(1, sizeof(rn_st_writer));
}

void rn_st_writer_free(rn_st_writer *w)
{
    if (w == NULL) return;
    for (int i = 0; i < w->n; i++) free(w->entries[i].data);
    free(w->entries);
    free(w);
}

static void writer_fail(rn_st_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void writer_fail(rn_st_writer *w, const char *fmt, ...)
{
    if (w->error[0] != '\0') return; /* the first problem is the one to fix */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
}

/* Copies the data now, so the caller may reuse its buffer before saving. */
static void writer_add(rn_st_writer *w, const char *name, const char *dtype, size_t width, int ndims,
                       const int64_t *shape, const void *data)
{
    if (w == NULL) return;
    char b[RN_ST_NAME_MAX];
    if (name == NULL || strlen(name) >= RN_ST_NAME_MAX || strcmp(name, "__metadata__") == 0) {
        writer_fail(w, "bad tensor name '%s'", name ? shown(name, b, sizeof b) : "(null)");
        return;
    }
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->entries[i].name, name) == 0) {
            writer_fail(w, "tensor '%s' added twice", shown(name, b, sizeof b));
            return;
        }
    uint64_t count = 0;
    int shape_ok = ndims >= 0 && ndims <= RN_ST_MAX_DIMS && (ndims == 0 || shape != NULL);
    for (int d = 0; shape_ok && d < ndims; d++) shape_ok = shape[d] >= 0;
    if (!shape_ok || element_count(ndims, shape, &count) != 0 || count > SIZE_MAX / width ||
        (count > 0 && data == NULL)) {
        writer_fail(w, "tensor '%s': bad shape or no data", shown(name, b, sizeof b));
        return;
    }
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 64;
        st_entry *e = realloc(w->entries, (size_t)cap * sizeof *e);
        if (e == NULL) {
            writer_fail(w, "out of memory");
            return;
        }
        w->entries = e;
        w->cap = cap;
    }
    st_entry *e = &w->entries[w->n];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->dtype = dtype;
    e->ndims = ndims;
    for (int d = 0; d < ndims; d++) e->shape[d] = shape[d];
    e->nbytes = (size_t)count * width;
    e->data = malloc(e->nbytes ? e->nbytes : 1);
    if (e->data == NULL) {
        writer_fail(w, "out of memory (%zu bytes for tensor '%s')", e->nbytes, shown(name, b, sizeof b));
        return;
    }
    copy_little_endian(e->data, data, (size_t)count, width);
    w->n++;
}

void rn_st_writer_add(rn_st_writer *w, const char *name, int ndims, const int64_t *shape, const float *data)
{
    writer_add(w, name, "F32", sizeof(float), ndims, shape, data);
}

void rn_st_writer_add_i64_scalar(rn_st_writer *w, const char *name, int64_t value)
{
    writer_add(w, name, "I64", sizeof(int64_t), 0, NULL, &value);
}

/* A growing string for the header JSON. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} st_text;

static void text_add(st_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(st_text *t, const char *fmt, ...)
{
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->s != NULL && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap : 4096);
        while (cap <= t->len + (size_t)n) cap *= 2;
        char *s = realloc(t->s, cap);
        if (s == NULL) {
            t->oom = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void text_add_string(st_text *t, const char *s)
{
    text_add(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            text_add(t, "\\%c", *p);
        else if (*p < 0x20)
            text_add(t, "\\u%04x", *p);
        else
            text_add(t, "%c", *p);
    }
    text_add(t, "\"");
}

int rn_st_writer_save(rn_st_writer *w, const char *path)
{
    if (w == NULL) {
        cs_error("cannot write %s: out of memory", path);
        return 3;
    }
    if (w->error[0] != '\0') {
        cs_error("cannot write %s: %s", path, w->error);
        return 3;
    }
    /* The header, tensors in the order they were added, data back to back
     * (the reference reader wants no gaps). */
    st_text h = {0};
    text_add(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t offset = 0;
    for (int i = 0; i < w->n; i++) {
        const st_entry *e = &w->entries[i];
        text_add(&h, ",");
        text_add_string(&h, e->name);
        text_add(&h, ":{\"dtype\":\"%s\",\"shape\":[", e->dtype);
        for (int d = 0; d < e->ndims; d++) text_add(&h, "%s%lld", d ? "," : "", (long long)e->shape[d]);
        text_add(&h, "],\"data_offsets\":[%zu,%zu]}", offset, offset + e->nbytes);
        offset += e->nbytes;
    }
    text_add(&h, "}");
    /* Spaces up to a multiple of 8, so the data section (and every F32 or
     * I64 tensor that starts at a multiple of its size) is aligned when the
     * file is mapped into memory. JSON allows trailing whitespace. */
    while (!h.oom && (8 + h.len) % 8 != 0) text_add(&h, " ");
    if (h.oom) {
        free(h.s);
        cs_error("cannot write %s: out of memory building the header", path);
        return 3;
    }
    cs_outfile o;
    if (cs_outfile_open(&o, path) != 0) {
        free(h.s);
        return 3;
    }
    unsigned char len_bytes[8];
    write_le64(len_bytes, (uint64_t)h.len);
    /* Short writes show up as ferror at commit, which then fails. */
    fwrite(len_bytes, 1, sizeof len_bytes, o.f);
    fwrite(h.s, 1, h.len, o.f);
    for (int i = 0; i < w->n; i++)
        if (w->entries[i].nbytes) fwrite(w->entries[i].data, 1, w->entries[i].nbytes, o.f);
    free(h.s);
    return cs_outfile_commit(&o) == 0 ? 0 : 3;
}
