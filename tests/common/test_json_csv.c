/* The JSON and CSV writers, byte for byte: commas, nesting, indentation,
 * escaping of quotes, backslashes, newlines and control characters, NaN as
 * null, RFC 4180 quoting. Output goes to an in-memory stream. */
#include "cs_csv.h"
#include "cs_json.h"
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>

/* Memory stream helpers: open, then close and compare with the expected text. */
static char *mem_buf;
static size_t mem_len;
static FILE *mem_open(void)
{
    return open_memstream(&mem_buf, &mem_len);
}

static int mem_equals(FILE *f, const char *expected)
{
    fclose(f);
    int same = strcmp(mem_buf, expected) == 0;
    if (!same) fprintf(stderr, "got:\n[%s]\nexpected:\n[%s]\n", mem_buf, expected);
    free(mem_buf);
    mem_buf = NULL;
    return same;
}

static void write_sample(cs_json *j)
{
    cs_json_begin_object(j);
    cs_json_kv_string(j, "case", "say \"hi\"\\ok\n\t\x01");
    cs_json_kv_number(j, "median_s", 0.125);
    cs_json_kv_number(j, "bad", NAN);
    cs_json_kv_number(j, "inf", INFINITY);
    cs_json_kv_int(j, "bytes", INT64_C(-9007199254740993));
    cs_json_kv_bool(j, "ok", 1);
    cs_json_key(j, "list");
    cs_json_begin_array(j);
    cs_json_number(j, 1.0 / 3.0);
    cs_json_null(j);
    cs_json_string(j, NULL);
    cs_json_bool(j, 0);
    cs_json_begin_object(j);
    cs_json_end_object(j);
    cs_json_end_array(j);
    cs_json_key(j, "empty");
    cs_json_begin_array(j);
    cs_json_end_array(j);
    cs_json_end_object(j);
}

int main(void)
{
    cs_json j;
    FILE *f = mem_open();
    cs_json_init(&j, f, 0);
    write_sample(&j);
    CHECK(mem_equals(f, "{\"case\":\"say \\\"hi\\\"\\\\ok\\n\\t\\u0001\",\"median_s\":0.125,\"bad\":null,"
                        "\"inf\":null,\"bytes\":-9007199254740993,\"ok\":true,"
                        "\"list\":[0.333333333,null,null,false,{}],\"empty\":[]}"));

    f = mem_open();
    cs_json_init(&j, f, 1);
    write_sample(&j);
    CHECK(mem_equals(f, "{\n"
                        "  \"case\": \"say \\\"hi\\\"\\\\ok\\n\\t\\u0001\",\n"
                        "  \"median_s\": 0.125,\n"
                        "  \"bad\": null,\n"
                        "  \"inf\": null,\n"
                        "  \"bytes\": -9007199254740993,\n"
                        "  \"ok\": true,\n"
                        "  \"list\": [\n"
                        "    0.333333333,\n"
                        "    null,\n"
                        "    null,\n"
                        "    false,\n"
                        "    {}\n"
                        "  ],\n"
                        "  \"empty\": []\n"
                        "}\n"));

    /* escaping on its own: \r \b \f, 0x1f, UTF-8 passes through */
    f = mem_open();
    cs_json_write_escaped(f, "a\rb\bc\fd\x1f"
                             "e\xc3\xa9/");
    CHECK(mem_equals(f, "\"a\\rb\\bc\\fd\\u001fe\xc3\xa9/\""));

    /* CSV: plain, comma, quote, newline, CR, NULL, empty */
    f = mem_open();
    const char *row[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", NULL, ""};
    cs_csv_row(f, row, 7);
    cs_csv_field(f, "x");
    CHECK(mem_equals(f, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",,\nx"));

    char buf[32];
    CHECK(strcmp(cs_fmt_num(buf, sizeof buf, 0.1234567), "0.123457") == 0);
    CHECK(strcmp(cs_fmt_num(buf, sizeof buf, 1234567.0), "1.23457e+06") == 0);
    CHECK(strcmp(cs_fmt_num(buf, sizeof buf, 3.0), "3") == 0);
    CHECK(strcmp(cs_fmt_num(buf, sizeof buf, NAN), "") == 0);

    return cs_test_done();
}
