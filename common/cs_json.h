/* A small streaming JSON writer: it places commas and escapes strings, so
 * callers only say what comes next. Non-finite numbers are written as null
 * (JSON has no NaN or Infinity). */
#ifndef CS_JSON_H
#define CS_JSON_H

#include <stdio.h>
#include <stdint.h>

#define CS_JSON_MAX_DEPTH 32

typedef struct {
    FILE *f;
    int depth;
    int count[CS_JSON_MAX_DEPTH]; /* items written at each depth */
    int after_key;                /* a key was just written */
    int pretty;                   /* newlines and indentation */
} cs_json;

void cs_json_init(cs_json *j, FILE *f, int pretty);
void cs_json_begin_object(cs_json *j);
void cs_json_end_object(cs_json *j);
void cs_json_begin_array(cs_json *j);
void cs_json_end_array(cs_json *j);
void cs_json_key(cs_json *j, const char *key);
void cs_json_string(cs_json *j, const char *s); /* NULL writes null */
void cs_json_number(cs_json *j, double v);      /* %.9g; NaN/Inf -> null */
void cs_json_int(cs_json *j, int64_t v);
void cs_json_bool(cs_json *j, int v);
void cs_json_null(cs_json *j);

/* key + value shorthands */
void cs_json_kv_string(cs_json *j, const char *key, const char *s);
void cs_json_kv_number(cs_json *j, const char *key, double v);
void cs_json_kv_int(cs_json *j, const char *key, int64_t v);
void cs_json_kv_bool(cs_json *j, const char *key, int v);

/* Writes s as a JSON string literal with quotes and escapes (", \, control
 * characters as \n \t \uXXXX); bytes >= 0x80 pass through (UTF-8). */
void cs_json_write_escaped(FILE *f, const char *s);

#endif
