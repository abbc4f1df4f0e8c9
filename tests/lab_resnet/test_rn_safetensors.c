/* lab_resnet's safetensors reader and writer, and the JSON cursor under it:
 *  - json_scan: values, escapes, int64 limits, nesting limit, offsets;
 *  - a round trip through a file: F32 tensors bit-exact (NaN, -0, denormals
 *    included), an I64 scalar like num_batches_tracked, shapes, order;
 *  - rn_st_get_f32's three outcomes: missing (1, silent), wrong shape (2),
 *    not F32 (2);
 *  - broken files built in memory: each must return 2 with exactly one line
 *    on stderr that names the file and the problem. */
#include "cs_test.h"
#include "cs_test_stderr.h"
#include "json_scan.h"
#include "safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exactly one line: one '\n', at the end. */
static int one_line(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl != NULL && nl[1] == '\0';
}

/* ---- json_scan ------------------------------------------------------------------- */

static void test_json_values(void)
{
    const char *text = " {\"a\": [1, -2, 9223372036854775807, -9223372036854775808, 0],"
                       " \"b\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\t\","
                       " \"c\": {\"d\": [true, false, null, {}, [[]]]}, \"\\u0041\": \"\"} ";
    rn_json j;
    rn_json_init(&j, text, strlen(text), 0, 8);
    CHECK(rn_json_peek(&j) == RN_JSON_OBJECT);
    CHECK(rn_json_enter_object(&j) == 0);
    char key[32], s[32];
    size_t len;
    CHECK(rn_json_next_member(&j, key, sizeof key, &len) == 1 && strcmp(key, "a") == 0 && len == 1);
    CHECK(rn_json_enter_array(&j) == 0);
    int64_t want[] = {1, -2, INT64_MAX, INT64_MIN, 0}, v;
    for (int i = 0; i < 5; i++) {
        CHECK(rn_json_next_element(&j) == 1);
        CHECK(rn_json_read_int(&j, &v) == 0 && v == want[i]);
    }
    CHECK(rn_json_next_element(&j) == 0);
    CHECK(rn_json_next_member(&j, key, sizeof key, &len) == 1 && strcmp(key, "b") == 0);
    CHECK(rn_json_read_string(&j, s, sizeof s, &len) == 0);
    const char *decoded = "x\xc3\xa9\xf0\x9f\x98\x80\n\"\\/\t";
    CHECK(len == strlen(decoded) && strcmp(s, decoded) == 0);
    CHECK(rn_json_next_member(&j, key, sizeof key, &len) == 1 && strcmp(key, "c") == 0);
    CHECK(rn_json_skip_value(&j) == 0);
    CHECK(rn_json_next_member(&j, key, sizeof key, &len) == 1 && strcmp(key, "A") == 0);
    CHECK(rn_json_read_string(&j, s, sizeof s, &len) == 0 && len == 0 && s[0] == '\0');
    CHECK(rn_json_next_member(&j, key, sizeof key, &len) == 0);
    CHECK(rn_json_finish(&j) == 0);
    CHECK(strcmp(rn_json_error(&j), "") == 0);

    /* A cut string still reports its full length. */
    rn_json_init(&j, "\"abcdef\"", 8, 0, 8);
    CHECK(rn_json_read_string(&j, s, 4, &len) == 0 && len == 6 && strcmp(s, "abc") == 0);
}

/* One JSON text whose first integer (or string, or skip) must fail with a
 * message containing `expect`. */
static void json_bad(const char *text, int max_depth, const char *expect)
{
    rn_json j;
    rn_json_init(&j, text, strlen(text), 0, max_depth);
    int rc = rn_json_skip_value(&j);
    if (rc == 0) rc = rn_json_finish(&j);
    CHECK(rc == -1);
    CHECK(strstr(rn_json_error(&j), expect) != NULL);
    CHECK(strstr(rn_json_error(&j), "at byte ") != NULL);
    if (rc != -1 || strstr(rn_json_error(&j), expect) == NULL)
        fprintf(stderr, "  json '%s': got '%s', expected '%s'\n", text, rn_json_error(&j), expect);
    /* Sticky: nothing reads on after an error. */
    CHECK(rn_json_peek(&j) == RN_JSON_INVALID);
}

static void test_json_errors(void)
{
    json_bad("9223372036854775808", 8, "int64");
    json_bad("-9223372036854775809", 8, "int64");
    json_bad("[1.5]", 8, "fraction");
    json_bad("1e3", 8, "exponent");
    json_bad("01", 8, "leading zero");
    json_bad("-", 8, "digit");
    json_bad("[[[[]]]]", 3, "nesting deeper than 3");
    json_bad("{\"a\":1,}", 8, "trailing ','");
    json_bad("[1,]", 8, "trailing ','");
    json_bad("[1 2]", 8, "expected ','");
    json_bad("{\"a\" 1}", 8, "expected ':'");
    json_bad("{1:2}", 8, "member name");
    json_bad("{\"a\":1", 8, "missing '}'");
    json_bad("\"abc", 8, "unterminated string");
    json_bad("\"a\\qb\"", 8, "bad escape");
    json_bad("\"\\u12G4\"", 8, "four hex digits");
    json_bad("\"\\ud800\"", 8, "surrogate");
    json_bad("\"\\udc00\"", 8, "surrogate");
    json_bad("\"a\tb\"", 8, "control character");
    json_bad("\"\xc3\x28\"", 8, "UTF-8");
    json_bad("\"\xed\xa0\x80\"", 8, "UTF-8"); /* an encoded surrogate */
    json_bad("tru", 8, "literal");
    json_bad("{} x", 8, "after the JSON value");
    json_bad("", 8, "end of JSON");
    json_bad("@", 8, "unexpected '@'");

    /* Offsets: base is added, so a message points into the whole file. */
    rn_json j;
    rn_json_init(&j, "{\"a\" 1}", 7, 8, 8);
    CHECK(rn_json_enter_object(&j) == 0);
    CHECK(rn_json_next_member(&j, NULL, 0, NULL) == -1);
    CHECK(strstr(rn_json_error(&j), "at byte 13") != NULL);

    /* Deep nesting within the limit is skipped without recursion. */
    char deep[2 * RN_JSON_MAX_DEPTH + 1];
    for (int i = 0; i < RN_JSON_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[2 * RN_JSON_MAX_DEPTH - 1 - i] = ']';
    }
    deep[2 * RN_JSON_MAX_DEPTH] = '\0';
    rn_json_init(&j, deep, strlen(deep), 0, RN_JSON_MAX_DEPTH);
    CHECK(rn_json_skip_value(&j) == 0 && rn_json_finish(&j) == 0);
    rn_json_init(&j, deep, strlen(deep), 0, RN_JSON_MAX_DEPTH - 1);
    CHECK(rn_json_skip_value(&j) == -1);
}

/* ---- files in memory ----------------------------------------------------------------- */

/* 8-byte length (as given), then `json`, then data_len bytes 0x11. */
static unsigned char *raw_file(uint64_t header_len, const char *json, size_t data_len, size_t *size)
{
    size_t jlen = strlen(json);
    *size = 8 + jlen + data_len;
    unsigned char *b = malloc(*size);
    if (b == NULL) exit(1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(header_len >> (8 * i));
    memcpy(b + 8, json, jlen);
    memset(b + 8 + jlen, 0x11, data_len);
    return b;
}

static unsigned char *make_file(const char *json, size_t data_len, size_t *size)
{
    return raw_file(strlen(json), json, data_len, size);
}

/* Parsing must fail with 2 and one line naming the file and `expect`. */
static void expect_bad_bytes(const char *what, const unsigned char *bytes, size_t size, const char *expect)
{
    rn_st_file f;
    cs_capture_begin();
    int rc = rn_st_parse(&f, "bad.safetensors", bytes, size);
    const char *msg = cs_capture_end();
    int ok = rc == 2 && one_line(msg) && strstr(msg, "bad.safetensors") != NULL && strstr(msg, expect) != NULL &&
             f.tensors == NULL && f.bytes == NULL && f.ntensors == 0;
    CHECK(ok);
    if (!ok) fprintf(stderr, "  %s: rc %d, message '%s' (expected '%s')\n", what, rc, msg, expect);
    rn_st_close(&f); /* harmless after a failed parse */
}

static void expect_bad(const char *what, const char *json, size_t data_len, const char *expect)
{
    size_t size;
    unsigned char *b = make_file(json, data_len, &size);
    expect_bad_bytes(what, b, size, expect);
    free(b);
}

#define T1 "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"

static void test_bad_files(void)
{
    size_t size;
    unsigned char *b;

    expect_bad_bytes("5 bytes", (const unsigned char *)"\x05\0\0\0\0", 5, "too short");
    expect_bad_bytes("empty", (const unsigned char *)"", 0, "too short");
    b = raw_file(0, "", 16, &size);
    expect_bad_bytes("header length 0", b, size, "header length is 0");
    free(b);
    b = raw_file(1000, "{}", 4, &size);
    expect_bad_bytes("header length past the end", b, size, "runs past the end");
    free(b);
    b = raw_file(3, "{}", 0, &size);
    expect_bad_bytes("header length one past the end", b, size, "runs past the end");
    free(b);
    b = raw_file(1ull << 40, "{}", 0, &size);
    expect_bad_bytes("huge header length", b, size, "100 MB");
    free(b);
    b = raw_file(UINT64_MAX, "{}", 0, &size);
    expect_bad_bytes("header length 2^64-1", b, size, "100 MB");
    free(b);
    b = raw_file(2, "{}", 8, &size); /* the length cuts the JSON short */
    b[9] = ' ';
    expect_bad_bytes("JSON cut by the length", b, size, "missing '}'");
    free(b);

    expect_bad("missing brace", "{\"a\":" T1, 4, "missing '}'");
    expect_bad("bad escape", "{\"a\\q\":" T1 "}", 4, "bad escape");
    expect_bad("bad \\u escape", "{\"\\u12G4\":" T1 "}", 4, "four hex digits");
    expect_bad("trailing garbage", "{\"a\":" T1 "} x", 4, "after the JSON value");
    expect_bad("trailing comma", "{\"a\":" T1 ",}", 4, "trailing ','");
    expect_bad("only spaces", "        ", 0, "end of JSON");
    expect_bad("not JSON", "PK\x03\x04", 0, "value was expected");
    expect_bad("fraction", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, "fraction");
    expect_bad("array top level", "[1,2]", 0, "not a JSON object");
    expect_bad("string top level", "\"a\"", 0, "not a JSON object");
    expect_bad("entry not an object", "{\"a\":[1]}", 0, "not an object");
    expect_bad("unknown dtype", "{\"a\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "unknown dtype 'F99'");
    expect_bad("dtype not a string", "{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "expected a string");
    expect_bad("long dtype", "{\"a\":{\"dtype\":\"F32F32F32F32F32F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "unknown dtype");
    expect_bad("shape/size mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8,
               "needs 16 bytes");
    expect_bad("I64 size mismatch", "{\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,4]}}", 8,
               "needs 8 bytes");
    expect_bad("overflowing shape",
               "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "too large");
    expect_bad("offsets out of range", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
               "run past the data section");
    expect_bad("begin > end", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
               "begin is after end");
    expect_bad("three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
               "more than two");
    expect_bad("one offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 8, "[begin, end]");
    expect_bad("negative offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8,
               "negative data offset");
    expect_bad("negative dimension", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
               "negative dimension");
    expect_bad("nine dimensions", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
               "more than 8 dimensions");
    expect_bad("missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "no \"shape\"");
    expect_bad("field twice", "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "given twice");
    expect_bad("overlapping ranges",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, "overlap");
    expect_bad("same range twice",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
               4, "overlap");
    expect_bad("duplicate names",
               "{\"a\":" T1 ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
               12, "'a' appears twice");
    expect_bad("metadata not an object", "{\"__metadata__\":[\"pt\"]}", 0, "not an object");
    expect_bad("metadata value not a string", "{\"__metadata__\":{\"format\":1}}", 0, "must be strings");
    expect_bad("metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "given twice");
    expect_bad("invalid UTF-8 name", "{\"a\xff\":" T1 "}", 4, "UTF-8");
    expect_bad("NUL in a name", "{\"a\\u0000b\":" T1 "}", 4, "NUL byte");
    /* A newline in a name (legal JSON) must not split the message. */
    expect_bad("newline in a name", "{\"a\\nb\":{\"dtype\":\"X\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "tensor 'a?b': unknown dtype 'X'");
    char json[400], name[201];
    memset(name, 'n', 200);
    name[200] = '\0';
    snprintf(json, sizeof json, "{\"%s\":%s}", name, T1);
    expect_bad("long name", json, 4, "the limit is 127");
    /* Nesting past the limit in a skipped field. */
    expect_bad("deep unknown field",
               "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
               "\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
               4, "nesting deeper");
}

/* Files the reader must accept, with their oddities. */
static void test_good_files(void)
{
    rn_st_file f;
    size_t size;
    unsigned char *b = make_file("{}", 0, &size);
    CHECK(rn_st_parse(&f, "empty", b, size) == 0 && f.ntensors == 0 && f.data_start == 10);
    rn_st_close(&f);
    free(b);

    b = make_file(" {\"__metadata__\": {\"format\": \"pt\", \"x\": \"\\u00e9\"},"
                  " \"\\u0041\": {\"data_offsets\": [4, 4], \"dtype\": \"F16\", \"shape\": [0, 7],"
                  "  \"extra\": {\"k\": [1, true, null, \"s\"]}},"
                  " \"b\": {\"dtype\": \"U8\", \"shape\": [2, 2], \"data_offsets\": [0, 4]}} \n  ",
                  6, &size); /* 2 bytes at the end belong to no tensor: allowed */
    int rc = rn_st_parse(&f, "odd", b, size);
    CHECK(rc == 0 && f.ntensors == 2);
    const rn_st_tensor *a = rn_st_find(&f, "A");
    CHECK(a != NULL && a->dtype == RN_ST_OTHER && strcmp(a->dtype_text, "F16") == 0 && a->ndims == 2 &&
          a->shape[1] == 7 && a->begin == 4 && a->end == 4);
    const rn_st_tensor *t = rn_st_find(&f, "b");
    CHECK(t != NULL && t->begin == 0 && t->end == 4 && t->dtype == RN_ST_OTHER);
    CHECK(rn_st_find(&f, "c") == NULL);
    rn_st_close(&f);
    rn_st_close(&f); /* twice is harmless */
    CHECK(f.bytes == NULL && f.tensors == NULL);
    free(b);
}

/* ---- a round trip through a file ---------------------------------------------------------- */

static void test_round_trip(void)
{
    char path[256];
    snprintf(path, sizeof path, "test_rn_safetensors_%ld.safetensors", (long)getpid());

    int64_t conv_shape[] = {4, 3, 3, 3}, bias_shape[] = {4}, fc_shape[] = {10, 4}, empty_shape[] = {0, 5};
    float conv[108], bias[4], fc[40], scalar = 2.5f;
    uint32_t seed = 12345;
    for (int i = 0; i < 108; i++) {
        seed = seed * 1664525u + 1013904223u;
        memcpy(&conv[i], &seed, sizeof seed); /* any bit pattern: NaNs and infinities too */
    }
    for (int i = 0; i < 4; i++) bias[i] = (float)i - 1.5f;
    bias[0] = -0.0f;
    bias[1] = 1e-40f; /* a denormal */
    for (int i = 0; i < 40; i++) fc[i] = (float)i / 7.0f;
    const int64_t batches = 12345678901234LL;

    rn_st_writer *w = rn_st_writer_new();
    CHECK(w != NULL);
    rn_st_writer_add(w, "conv1.weight", 4, conv_shape, conv);
    rn_st_writer_add(w, "bn1.running_mean", 1, bias_shape, bias);
    rn_st_writer_add_i64_scalar(w, "bn1.num_batches_tracked", batches);
    rn_st_writer_add(w, "fc.weight", 2, fc_shape, fc);
    rn_st_writer_add(w, "scalar", 0, NULL, &scalar);
    rn_st_writer_add(w, "empty", 2, empty_shape, NULL);
    memset(fc, 0, sizeof fc); /* the writer copied: reusing the buffer is fine */
    for (int i = 0; i < 40; i++) fc[i] = (float)i / 7.0f;
    cs_capture_begin();
    int rc = rn_st_writer_save(w, path);
    const char *msg = cs_capture_end();
    CHECK(rc == 0 && msg[0] == '\0');
    rn_st_writer_free(w);

    /* The layout: data section aligned to 8, metadata, insertion order. */
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    unsigned char head[4096];
    size_t got = fp ? fread(head, 1, sizeof head, fp) : 0;
    if (fp) fclose(fp);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | head[i];
    CHECK(got > 8 && hlen + 8 <= got && (hlen + 8) % 8 == 0);
    if (got > 8 && hlen + 8 <= got) {
        char header[4096];
        memcpy(header, head + 8, hlen);
        header[hlen] = '\0';
        CHECK(strstr(header, "\"__metadata__\":{\"format\":\"pt\"}") != NULL);
        char *c = strstr(header, "conv1.weight"), *m = strstr(header, "bn1.running_mean"),
             *n = strstr(header, "num_batches_tracked"), *e = strstr(header, "\"empty\"");
        CHECK(c && m && n && e && c < m && m < n && n < e);
        CHECK(strstr(header, "\"bn1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[]") != NULL);
    }

    rn_st_file f;
    CHECK(rn_st_open(&f, path) == 0);
    CHECK(f.ntensors == 6);
    if (f.ntensors == 6) {
        CHECK(strcmp(f.tensors[0].name, "conv1.weight") == 0);
        CHECK(strcmp(f.tensors[5].name, "empty") == 0);
        CHECK(f.tensors[5].end == f.size - f.data_start); /* back to back, no tail */
    }
    float conv2[108], bias2[4], fc2[40], scalar2 = 0;
    CHECK(rn_st_get_f32(&f, "conv1.weight", 4, conv_shape, conv2) == 0);
    CHECK(memcmp(conv, conv2, sizeof conv) == 0);
    CHECK(rn_st_get_f32(&f, "bn1.running_mean", 1, bias_shape, bias2) == 0);
    CHECK(memcmp(bias, bias2, sizeof bias) == 0);
    CHECK(rn_st_get_f32(&f, "fc.weight", 2, fc_shape, fc2) == 0);
    CHECK(memcmp(fc, fc2, sizeof fc) == 0);
    CHECK(rn_st_get_f32(&f, "scalar", 0, NULL, &scalar2) == 0 && scalar2 == 2.5f);
    CHECK(rn_st_get_f32(&f, "empty", 2, empty_shape, NULL) == 0);

    const rn_st_tensor *t = rn_st_find(&f, "bn1.num_batches_tracked");
    CHECK(t != NULL && t->dtype == RN_ST_I64 && strcmp(t->dtype_text, "I64") == 0 && t->ndims == 0 &&
          t->end - t->begin == 8);
    if (t != NULL && t->end - t->begin == 8) {
        const unsigned char *p = f.bytes + f.data_start + t->begin;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
        CHECK((int64_t)v == batches);
    }
    t = rn_st_find(&f, "conv1.weight");
    CHECK(t != NULL && t->ndims == 4 && t->shape[0] == 4 && t->shape[3] == 3 && t->dtype == RN_ST_F32);

    /* Missing: 1 and silent (the caller decides whether that is an error). */
    cs_capture_begin();
    rc = rn_st_get_f32(&f, "layer1.0.conv1.weight", 4, conv_shape, conv2);
    msg = cs_capture_end();
    CHECK(rc == 1 && msg[0] == '\0');
    /* Wrong shape: 2, one line with both shapes. */
    int64_t wrong[] = {4, 3, 3};
    cs_capture_begin();
    rc = rn_st_get_f32(&f, "conv1.weight", 3, wrong, conv2);
    msg = cs_capture_end();
    CHECK(rc == 2 && one_line(msg) && strstr(msg, path) && strstr(msg, "conv1.weight") && strstr(msg, "[4, 3, 3, 3]") &&
          strstr(msg, "[4, 3, 3]"));
    int64_t wrong_dim[] = {4, 3, 3, 4};
    cs_capture_begin();
    rc = rn_st_get_f32(&f, "conv1.weight", 4, wrong_dim, conv2);
    msg = cs_capture_end();
    CHECK(rc == 2 && one_line(msg) && strstr(msg, "[4, 3, 3, 4]"));
    /* Not F32: 2, one line naming the dtype. */
    cs_capture_begin();
    rc = rn_st_get_f32(&f, "bn1.num_batches_tracked", 0, NULL, &scalar2);
    msg = cs_capture_end();
    CHECK(rc == 2 && one_line(msg) && strstr(msg, "bn1.num_batches_tracked") && strstr(msg, "I64"));
    rn_st_close(&f);
    remove(path);
}

static void test_file_errors(void)
{
    rn_st_file f;
    cs_capture_begin();
    int rc = rn_st_open(&f, "no_such_dir/missing.safetensors");
    const char *msg = cs_capture_end();
    CHECK(rc == 2 && one_line(msg) && strstr(msg, "missing.safetensors"));
    cs_capture_begin();
    rc = rn_st_open(&f, ".");
    msg = cs_capture_end();
    CHECK(rc == 2 && one_line(msg));

    /* A write that cannot happen: 3, one line, no file left. */
    int64_t shape[] = {2};
    float data[2] = {1, 2};
    rn_st_writer *w = rn_st_writer_new();
    rn_st_writer_add(w, "a", 1, shape, data);
    cs_capture_begin();
    rc = rn_st_writer_save(w, "no_such_dir/out.safetensors");
    msg = cs_capture_end();
    CHECK(rc == 3 && one_line(msg) && strstr(msg, "no_such_dir/out.safetensors"));
    /* A bad add is reported by save, and nothing is written. */
    rn_st_writer_add(w, "a", 1, shape, data);
    char path[256];
    snprintf(path, sizeof path, "test_rn_safetensors_dup_%ld.safetensors", (long)getpid());
    cs_capture_begin();
    rc = rn_st_writer_save(w, path);
    msg = cs_capture_end();
    CHECK(rc == 3 && one_line(msg) && strstr(msg, "added twice"));
    struct stat st;
    CHECK(stat(path, &st) != 0);
    rn_st_writer_free(w);
    /* A NULL writer (rn_st_writer_new out of memory) is survivable. */
    rn_st_writer_add(NULL, "a", 1, shape, data);
    cs_capture_begin();
    rc = rn_st_writer_save(NULL, path);
    msg = cs_capture_end();
    CHECK(rc == 3 && one_line(msg));
    rn_st_writer_free(NULL);
}

int main(void)
{
    test_json_values();
    test_json_errors();
    test_bad_files();
    test_good_files();
    test_round_trip();
    test_file_errors();
    return cs_test_done();
}
