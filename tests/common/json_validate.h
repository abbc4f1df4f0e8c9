/* A small recursive-descent JSON validator for the tests: says whether a
 * text is exactly one well-formed JSON value (RFC 8259: objects, arrays,
 * strings with escapes, numbers, true/false/null), surrounded only by
 * whitespace. It checks the grammar, not the meaning. */
#ifndef JSON_VALIDATE_H
#define JSON_VALIDATE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;     /* next character */
    const char *error; /* first problem found, or NULL */
    int depth;
} jv_state;

static inline int jv_value(jv_state *s);

static inline int jv_fail(jv_state *s, const char *why)
{
    if (!s->error) s->error = why;
    return 0;
}

static inline void jv_ws(jv_state *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r') s->p++;
}

static inline int jv_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int jv_string(jv_state *s)
{
    if (*s->p != '"') return jv_fail(s, "expected a string");
    s->p++;
    for (;;) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '\0') return jv_fail(s, "unterminated string");
        if (c < 0x20) return jv_fail(s, "control character in a string");
        s->p++;
        if (c == '"') return 1;
        if (c != '\\') continue;
        char e = *s->p++;
        if (e == 'u') {
            for (int i = 0; i < 4; i++)
                if (!jv_hex(*s->p++)) return jv_fail(s, "bad \\u escape");
        } else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
            return jv_fail(s, "bad escape in a string");
        }
    }
}

static inline int jv_digits(jv_state *s)
{
    if (*s->p < '0' || *s->p > '9') return 0;
    while (*s->p >= '0' && *s->p <= '9') s->p++;
    return 1;
}

static inline int jv_number(jv_state *s)
{
    if (*s->p == '-') s->p++;
    if (*s->p == '0')
        s->p++; /* no leading zeros */
    else if (!jv_digits(s))
        return jv_fail(s, "bad number");
    if (*s->p == '.') {
        s->p++;
        if (!jv_digits(s)) return jv_fail(s, "bad fraction");
    }
    if (*s->p == 'e' || *s->p == 'E') {
        s->p++;
        if (*s->p == '+' || *s->p == '-') s->p++;
        if (!jv_digits(s)) return jv_fail(s, "bad exponent");
    }
    return 1;
}

static inline int jv_literal(jv_state *s, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(s->p, word, n) != 0) return jv_fail(s, "unexpected word");
    s->p += n;
    return 1;
}

static inline int jv_object(jv_state *s)
{
    s->p++; /* '{' */
    jv_ws(s);
    if (*s->p == '}') {
        s->p++;
        return 1;
    }
    for (;;) {
        jv_ws(s);
        if (!jv_string(s)) return 0;
        jv_ws(s);
        if (*s->p != ':') return jv_fail(s, "expected ':' after a key");
        s->p++;
        if (!jv_value(s)) return 0;
        jv_ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return 1;
        }
        return jv_fail(s, "expected ',' or '}' in an object");
    }
}

static inline int jv_array(jv_state *s)
{
    s->p++; /* '[' */
    jv_ws(s);
    if (*s->p == ']') {
        s->p++;
        return 1;
    }
    for (;;) {
        if (!jv_value(s)) return 0;
        jv_ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            return 1;
        }
        return jv_fail(s, "expected ',' or ']' in an array");
    }
}

static inline int jv_value(jv_state *s)
{
    jv_ws(s);
    if (++s->depth > 256) return jv_fail(s, "nested too deeply");
    int ok;
    switch (*s->p) {
    case '{': ok = jv_object(s); break;
    case '[': ok = jv_array(s); break;
    case '"': ok = jv_string(s); break;
    case 't': ok = jv_literal(s, "true"); break;
    case 'f': ok = jv_literal(s, "false"); break;
    case 'n': ok = jv_literal(s, "null"); break;
    default: ok = (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) ? jv_number(s) : jv_fail(s, "expected a value");
    }
    s->depth--;
    return ok;
}

/* 1 when text is one valid JSON value; else 0 and *why (if given) says
 * what was wrong, *offset where. */
static inline int json_valid(const char *text, const char **why, long *offset)
{
    jv_state s = {text, NULL, 0};
    int ok = jv_value(&s);
    if (ok) {
        jv_ws(&s);
        if (*s.p != '\0') ok = jv_fail(&s, "text after the value");
    }
    if (why) *why = s.error;
    if (offset) *offset = (long)(s.p - text);
    return ok;
}

/* The whole file as a NUL-terminated string (free it), or NULL. */
static inline char *read_whole_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

#endif
