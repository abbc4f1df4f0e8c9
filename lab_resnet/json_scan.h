/* A small, strict JSON reader for file headers (safetensors): a cursor that
 * walks the text once, in order, without building a tree. The caller says
 * what it expects next ("an object", "the next member", "a string") and the
 * cursor checks the grammar as it goes: commas, colons, nesting, escapes.
 *
 * What it accepts: objects, arrays, strings (all escapes, \uXXXX with
 * surrogate pairs, decoded to UTF-8; raw bytes must be valid UTF-8),
 * integers that fit int64, true, false, null. Fractions and exponents are
 * refused (a header has no use for them), as is nesting deeper than the
 * limit given at init. Nothing recurses: skipping a nested value is a loop.
 *
 * Errors are sticky: the first one is kept, with the byte offset where it
 * was found, and every later call fails at once. Each call that can fail
 * returns -1 then; rn_json_error() gives the message. */
#ifndef RN_JSON_SCAN_H
#define RN_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define RN_JSON_MAX_DEPTH 64 /* hard cap on the limit passed to init */

typedef enum {
    RN_JSON_OBJECT = 0,
    RN_JSON_ARRAY,
    RN_JSON_STRING,
    RN_JSON_INT,
    RN_JSON_LITERAL, /* true, false or null */
    RN_JSON_INVALID  /* end of text or a byte no value starts with (error set) */
} rn_json_kind;

typedef struct {
    const char *text;
    size_t len;
    size_t pos;  /* next byte to read */
    size_t base; /* added to offsets in messages */
    int max_depth;
    int depth;                                  /* containers entered and not closed */
    unsigned char in_object[RN_JSON_MAX_DEPTH]; /* per level: object or array */
    unsigned char has_items[RN_JSON_MAX_DEPTH]; /* per level: an item was read */
    int failed;
    size_t error_offset; /* base + position of the error */
    char error[160];     /* "MESSAGE at byte N" */
} rn_json;

/* Starts reading text[0 .. len). `base` is the offset of text inside its
 * file, so messages give file offsets; max_depth limits nesting (clamped to
 * 1 .. RN_JSON_MAX_DEPTH). */
void rn_json_init(rn_json *j, const char *text, size_t len, size_t base, int max_depth);

/* The kind of the next value, without consuming it (skips whitespace). */
rn_json_kind rn_json_peek(rn_json *j);

/* Consumes '{' (or '['): the next calls read its members (elements). */
int rn_json_enter_object(rn_json *j);
int rn_json_enter_array(rn_json *j);

/* Inside an object: 1 when a member follows (its key decoded into key as
 * rn_json_read_string does, the ':' consumed, the value is next); 0 when
 * the object ended ('}' consumed, back to the enclosing level); -1 on error.
 * key may be NULL (the key is checked and dropped). */
int rn_json_next_member(rn_json *j, char *key, size_t cap, size_t *key_len);
/* Inside an array: 1 when an element follows, 0 at ']' (consumed), -1. */
int rn_json_next_element(rn_json *j);

/* Reads a string value. Up to cap - 1 decoded bytes and a NUL go to buf
 * (buf may be NULL when cap is 0); *len (when not NULL) gets the full
 * decoded length, so len >= cap tells the caller it was cut. A decoded
 * string can hold NUL bytes (\u0000): compare len with strlen to refuse. */
int rn_json_read_string(rn_json *j, char *buf, size_t cap, size_t *len);
/* Reads an integer: -?(0|[1-9][0-9]*) within int64. */
int rn_json_read_int(rn_json *j, int64_t *value);
/* Consumes the next value whatever it is, nested ones included. */
int rn_json_skip_value(rn_json *j);

/* After the top-level value: only whitespace may remain. */
int rn_json_finish(rn_json *j);

/* Records a caller's own error (a wrong kind of value, a missing field) at
 * the current position, so it reads like the reader's own; returns -1. */
int rn_json_fail(rn_json *j, const char *message);

/* Offset (base included) of the next non-whitespace byte. */
size_t rn_json_offset(rn_json *j);
/* The first error, "MESSAGE at byte N", or "" when none. */
const char *rn_json_error(const rn_json *j);

#endif
