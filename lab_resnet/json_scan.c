/* The JSON cursor of json_scan.h. Two rules keep it safe on hostile input
 * (it is fuzzed: tests/lab_resnet/fuzz_st.c):
 *  - every read checks pos < len first: the text needs no terminating NUL,
 *    and nothing past len is ever touched;
 *  - nesting is a counter with a fixed limit, not recursion, so a header of
 *    a million '[' fails with a message instead of overflowing the stack. */
#include "json_scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Keeps the first error only: later ones are consequences of it. */
static int fail_at(rn_json *j, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(rn_json *j, size_t pos, const char *fmt, ...)
{
    if (j->failed) return -1;
    j->failed = 1;
    j->error_offset = j->base + pos;
    char message[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    snprintf(j->error, sizeof j->error, "%s at byte %zu", message, j->error_offset);
    return -1;
}

/* A byte as it can be shown on one line: 'x', or 0xNN when not printable. */
static const char *show_byte(unsigned char c, char *buf, size_t cap)
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "0x%02X", c);
    return buf;
}

static void skip_ws(rn_json *j)
{
    while (j->pos < j->len) {
        char c = j->text[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        j->pos++;
    }
}

void rn_json_init(rn_json *j, const char *text, size_t len, size_t base, int max_depth)
{
    memset(j, 0, sizeof *j);
    j->text = text;
    j->len = text != NULL ? len : 0;
    j->base = base;
    if (max_depth < 1) max_depth = 1;
    if (max_depth > RN_JSON_MAX_DEPTH) max_depth = RN_JSON_MAX_DEPTH;
    j->max_depth = max_depth;
}

rn_json_kind rn_json_peek(rn_json *j)
{
    if (j->failed) return RN_JSON_INVALID;
    skip_ws(j);
    if (j->pos >= j->len) {
        fail_at(j, j->pos, "unexpected end of JSON (a value was expected)");
        return RN_JSON_INVALID;
    }
    unsigned char c = (unsigned char)j->text[j->pos];
    if (c == '{') return RN_JSON_OBJECT;
    if (c == '[') return RN_JSON_ARRAY;
    if (c == '"') return RN_JSON_STRING;
    if (c == '-' || (c >= '0' && c <= '9')) return RN_JSON_INT;
    if (c == 't' || c == 'f' || c == 'n') return RN_JSON_LITERAL;
    char shown[8];
    fail_at(j, j->pos, "unexpected %s where a value was expected", show_byte(c, shown, sizeof shown));
    return RN_JSON_INVALID;
}

static int enter(rn_json *j, rn_json_kind kind)
{
    rn_json_kind k = rn_json_peek(j);
    if (k == RN_JSON_INVALID) return -1;
    if (k != kind) return fail_at(j, j->pos, "expected %s", kind == RN_JSON_OBJECT ? "an object" : "an array");
    if (j->depth >= j->max_depth) return fail_at(j, j->pos, "nesting deeper than %d levels", j->max_depth);
    j->in_object[j->depth] = kind == RN_JSON_OBJECT;
    j->has_items[j->depth] = 0;
    j->depth++;
    j->pos++;
    return 0;
}

int rn_json_enter_object(rn_json *j)
{
    return enter(j, RN_JSON_OBJECT);
}
int rn_json_enter_array(rn_json *j)
{
    return enter(j, RN_JSON_ARRAY);
}

/* The shared part of next_member and next_element: returns 0 at the closing
 * bracket (consumed), 1 when an item follows (the ',' before it consumed),
 * -1 on error. */
static int next_item(rn_json *j, int object)
{
    if (j->failed) return -1;
    if (j->depth == 0 || j->in_object[j->depth - 1] != object)
        return fail_at(j, j->pos, "not inside %s", object ? "an object" : "an array");
    char close = object ? '}' : ']';
    skip_ws(j);
    if (j->pos >= j->len)
        return fail_at(j, j->pos, "unexpected end of JSON inside %s (missing '%c')", object ? "an object" : "an array",
                       close);
    char c = j->text[j->pos];
    int level = j->depth - 1;
    /* A close right after a ',' is caught below: the item it promised is missing. */
    if (c == close) {
        j->pos++;
        j->depth--;
        return 0;
    }
    if (j->has_items[level]) {
        char shown[8];
        if (c != ',')
            return fail_at(j, j->pos, "expected ',' or '%c', found %s", close,
                           show_byte((unsigned char)c, shown, sizeof shown));
        j->pos++;
        skip_ws(j);
        if (j->pos < j->len && j->text[j->pos] == close) return fail_at(j, j->pos, "trailing ',' before '%c'", close);
    }
    j->has_items[level] = 1;
    return 1;
}

int rn_json_next_element(rn_json *j)
{
    return next_item(j, 0);
}

int rn_json_next_member(rn_json *j, char *key, size_t cap, size_t *key_len)
{
    int r = next_item(j, 1);
    if (r != 1) return r;
    if (j->pos >= j->len || j->text[j->pos] != '"') return fail_at(j, j->pos, "expected a member name (a string)");
    if (rn_json_read_string(j, key, cap, key_len) != 0) return -1;
    skip_ws(j);
    if (j->pos >= j->len || j->text[j->pos] != ':') return fail_at(j, j->pos, "expected ':' after a member name");
    j->pos++;
    return 1;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c == 0xE0) {
        len = 3;
        lo = 0xA0;
    } else if (c == 0xED) {
        len = 3;
        hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF)
        len = 3;
    else if (c == 0xF0) {
        len = 4;
        lo = 0x90;
    } else if (c == 0xF4) {
        len = 4;
        hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3)
        len = 4;
    else
        return 0;
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

/* Four hex digits at text[pos..], or -1. */
static long hex4(const rn_json *j, size_t pos)
{
    if (pos > j->len || j->len - pos < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = j->text[pos + (size_t)i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Appends one decoded byte; counts it even when buf is full. */
static void emit(char *buf, size_t cap, size_t *out, unsigned char b)
{
    if (*out + 1 < cap) buf[*out] = (char)b;
    (*out)++;
}

static void emit_code_point(char *buf, size_t cap, size_t *out, unsigned long cp)
{
    if (cp < 0x80) {
        emit(buf, cap, out, (unsigned char)cp);
    } else if (cp < 0x800) {
        emit(buf, cap, out, (unsigned char)(0xC0 | (cp >> 6)));
        emit(buf, cap, out, (unsigned char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        emit(buf, cap, out, (unsigned char)(0xE0 | (cp >> 12)));
        emit(buf, cap, out, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        emit(buf, cap, out, (unsigned char)(0x80 | (cp & 0x3F)));
    } else {
        emit(buf, cap, out, (unsigned char)(0xF0 | (cp >> 18)));
        emit(buf, cap, out, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
        emit(buf, cap, out, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        emit(buf, cap, out, (unsigned char)(0x80 | (cp & 0x3F)));
    }
}

/* The escape after a backslash at text[pos] (pos is the byte after '\').
 * Returns the position after it, or 0 on error (the message set). */
static size_t decode_escape(rn_json *j, size_t pos, char *buf, size_t cap, size_t *out)
{
    char shown[8];
    if (pos >= j->len) {
        fail_at(j, pos, "unterminated string (ends inside an escape)");
        return 0;
    }
    char e = j->text[pos];
    switch (e) {
    case '"':
    case '\\':
    case '/': emit(buf, cap, out, (unsigned char)e); return pos + 1;
    case 'b': emit(buf, cap, out, '\b'); return pos + 1;
    case 'f': emit(buf, cap, out, '\f'); return pos + 1;
    case 'n': emit(buf, cap, out, '\n'); return pos + 1;
    case 'r': emit(buf, cap, out, '\r'); return pos + 1;
    case 't': emit(buf, cap, out, '\t'); return pos + 1;
    case 'u': break;
    default:
        fail_at(j, pos - 1, "bad escape '\\' followed by %s in a string",
                show_byte((unsigned char)e, shown, sizeof shown));
        return 0;
    }
    long cp = hex4(j, pos + 1);
    if (cp < 0) {
        fail_at(j, pos - 1, "bad \\u escape (four hex digits expected)");
        return 0;
    }
    size_t next = pos + 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail_at(j, pos - 1, "lone low surrogate \\u%04lX", cp);
        return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        /* UTF-16's way past U+FFFF: a high surrogate must pair with a low one. */
        long low = -1;
        if (next + 1 < j->len && j->text[next] == '\\' && j->text[next + 1] == 'u') low = hex4(j, next + 2);
        if (low < 0xDC00 || low > 0xDFFF) {
            fail_at(j, pos - 1, "high surrogate \\u%04lX without a low surrogate after it", cp);
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        next += 6;
    }
    emit_code_point(buf, cap, out, (unsigned long)cp);
    return next;
}

int rn_json_read_string(rn_json *j, char *buf, size_t cap, size_t *len)
{
    if (buf == NULL) cap = 0;
    if (cap > 0) buf[0] = '\0';
    if (len != NULL) *len = 0;
    rn_json_kind k = rn_json_peek(j);
    if (k == RN_JSON_INVALID) return -1;
    if (k != RN_JSON_STRING) return fail_at(j, j->pos, "expected a string");
    size_t start = j->pos;
    size_t pos = j->pos + 1;
    size_t out = 0;
    const unsigned char *t = (const unsigned char *)j->text;
    for (;;) {
        if (pos >= j->len) return fail_at(j, start, "unterminated string");
        unsigned char c = t[pos];
        if (c == '"') {
            pos++;
            break;
        }
        if (c < 0x20) return fail_at(j, pos, "control character 0x%02X inside a string (escape it)", c);
        if (c == '\\') {
            pos = decode_escape(j, pos + 1, buf, cap, &out);
            if (pos == 0) return -1;
        } else if (c < 0x80) {
            emit(buf, cap, &out, c);
            pos++;
        } else {
            size_t n = utf8_sequence(t + pos, j->len - pos);
            if (n == 0) return fail_at(j, pos, "invalid UTF-8 inside a string");
            for (size_t i = 0; i < n; i++) emit(buf, cap, &out, t[pos + i]);
            pos += n;
        }
    }
    if (cap > 0) buf[out < cap ? out : cap - 1] = '\0';
    if (len != NULL) *len = out;
    j->pos = pos;
    return 0;
}

int rn_json_read_int(rn_json *j, int64_t *value)
{
    if (value != NULL) *value = 0;
    rn_json_kind k = rn_json_peek(j);
    if (k == RN_JSON_INVALID) return -1;
    if (k != RN_JSON_INT) return fail_at(j, j->pos, "expected an integer");
    size_t start = j->pos, pos = j->pos;
    int negative = j->text[pos] == '-';
    if (negative) pos++;
    if (pos >= j->len || j->text[pos] < '0' || j->text[pos] > '9')
        return fail_at(j, start, "expected a digit after '-'");
    if (j->text[pos] == '0' && pos + 1 < j->len && j->text[pos + 1] >= '0' && j->text[pos + 1] <= '9')
        return fail_at(j, start, "a number with a leading zero");
    /* The magnitude in uint64: INT64_MIN's magnitude does not fit int64. */
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    while (pos < j->len && j->text[pos] >= '0' && j->text[pos] <= '9') {
        unsigned d = (unsigned)(j->text[pos] - '0');
        if (mag > (limit - d) / 10) return fail_at(j, start, "integer out of the int64 range");
        mag = mag * 10 + d;
        pos++;
    }
    if (pos < j->len && (j->text[pos] == '.' || j->text[pos] == 'e' || j->text[pos] == 'E'))
        return fail_at(j, start, "a number with a fraction or exponent (only integers are accepted)");
    j->pos = pos;
    if (value != NULL) {
        if (negative)
            *value = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        else
            *value = (int64_t)mag;
    }
    return 0;
}

static int skip_literal(rn_json *j)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t n = strlen(words[w]);
        if (j->len - j->pos >= n && memcmp(j->text + j->pos, words[w], n) == 0) {
            j->pos += n;
            return 0;
        }
    }
    return fail_at(j, j->pos, "unknown literal (true, false or null expected)");
}

int rn_json_skip_value(rn_json *j)
{
    int start = j->depth;
    for (;;) {
        /* One value: a scalar is consumed, a container entered. */
        switch (rn_json_peek(j)) {
        case RN_JSON_OBJECT:
            if (rn_json_enter_object(j) != 0) return -1;
            break;
        case RN_JSON_ARRAY:
            if (rn_json_enter_array(j) != 0) return -1;
            break;
        case RN_JSON_STRING:
            if (rn_json_read_string(j, NULL, 0, NULL) != 0) return -1;
            break;
        case RN_JSON_INT:
            if (rn_json_read_int(j, NULL) != 0) return -1;
            break;
        case RN_JSON_LITERAL:
            if (skip_literal(j) != 0) return -1;
            break;
        default: return -1;
        }
        /* Then close containers until one has another item, or we are back. */
        for (;;) {
            if (j->depth == start) return 0;
            int r = j->in_object[j->depth - 1] ? rn_json_next_member(j, NULL, 0, NULL) : rn_json_next_element(j);
            if (r < 0) return -1;
            if (r == 1) break;
        }
    }
}

int rn_json_finish(rn_json *j)
{
    if (j->failed) return -1;
    if (j->depth != 0) return fail_at(j, j->pos, "the JSON value is not closed");
    skip_ws(j);
    if (j->pos < j->len) return fail_at(j, j->pos, "unexpected data after the JSON value");
    return 0;
}

int rn_json_fail(rn_json *j, const char *message)
{
    skip_ws(j);
    return fail_at(j, j->pos, "%s", message);
}

size_t rn_json_offset(rn_json *j)
{
    if (!j->failed) skip_ws(j);
    return j->base + j->pos;
}

const char *rn_json_error(const rn_json *j)
{
    return j->failed ? j->error : "";
}
