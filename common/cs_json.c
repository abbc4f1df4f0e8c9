/* A streaming JSON writer. The only state it needs is, per nesting level,
 * how many items were written (to know whether a comma comes first) and
 * whether a key was just written (then the value follows ": " directly).
 *
 * Pretty mode puts each item on its own line, indented by 2 spaces per level:
 *   {
 *     "case": "case03",
 *     "times": [
 *       0.25
 *     ]
 *   }
 * Compact mode writes the same with no whitespace at all. */
#include "cs_json.h"

#include <inttypes.h>
#include <math.h>

/* Index into count[] for the current depth. Nesting deeper than the array
 * still writes valid JSON text, but commas at those depths share a slot. */
static int slot(const cs_json *j)
{
    return j->depth < CS_JSON_MAX_DEPTH ? j->depth : CS_JSON_MAX_DEPTH - 1;
}

static void newline_indent(cs_json *j, int depth)
{
    fputc('\n', j->f);
    for (int i = 0; i < depth; i++) fputs("  ", j->f);
}

/* Everything that comes before an item (a value or a key): the comma and
 * the line break, unless the item is the value of a key just written. */
static void before_item(cs_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    int s = slot(j);
    if (j->depth == 0) {
        /* Several top-level values: no commas, one per line (JSON Lines).
         * In pretty mode the previous value already ended its line. */
        if (j->count[s] > 0 && !j->pretty) fputc('\n', j->f);
    } else {
        if (j->count[s] > 0) fputc(',', j->f);
        if (j->pretty) newline_indent(j, j->depth);
    }
    j->count[s]++;
}

void cs_json_init(cs_json *j, FILE *f, int pretty)
{
    j->f = f;
    j->depth = 0;
    for (int i = 0; i < CS_JSON_MAX_DEPTH; i++) j->count[i] = 0;
    j->after_key = 0;
    j->pretty = pretty != 0;
}

static void begin(cs_json *j, char open)
{
    before_item(j);
    fputc(open, j->f);
    j->depth++;
    j->count[slot(j)] = 0;
}

static void end(cs_json *j, char close)
{
    int had_items = j->count[slot(j)] > 0;
    if (j->depth > 0) j->depth--;
    if (j->pretty && had_items) newline_indent(j, j->depth); /* "{}" stays on one line */
    fputc(close, j->f);
    if (j->pretty && j->depth == 0) fputc('\n', j->f); /* a text file ends with a newline */
}

void cs_json_begin_object(cs_json *j)
{
    begin(j, '{');
}
void cs_json_end_object(cs_json *j)
{
    end(j, '}');
}
void cs_json_begin_array(cs_json *j)
{
    begin(j, '[');
}
void cs_json_end_array(cs_json *j)
{
    end(j, ']');
}

void cs_json_key(cs_json *j, const char *key)
{
    before_item(j);
    cs_json_write_escaped(j->f, key ? key : "");
    fputs(j->pretty ? ": " : ":", j->f);
    j->after_key = 1;
}

void cs_json_string(cs_json *j, const char *s)
{
    before_item(j);
    cs_json_write_escaped(j->f, s);
}

void cs_json_number(cs_json *j, double v)
{
    before_item(j);
    /* %.9g keeps every digit a float has and more than timings need;
     * JSON has no NaN or Infinity, so they become null. */
    if (isfinite(v))
        fprintf(j->f, "%.9g", v);
    else
        fputs("null", j->f);
}

void cs_json_int(cs_json *j, int64_t v)
{
    before_item(j);
    fprintf(j->f, "%" PRId64, v);
}

void cs_json_bool(cs_json *j, int v)
{
    before_item(j);
    fputs(v ? "true" : "false", j->f);
}

void cs_json_null(cs_json *j)
{
    before_item(j);
    fputs("null", j->f);
}

void cs_json_kv_string(cs_json *j, const char *key, const char *s)
{
    cs_json_key(j, key);
    cs_json_string(j, s);
}
void cs_json_kv_number(cs_json *j, const char *key, double v)
{
    cs_json_key(j, key);
    cs_json_number(j, v);
}
void cs_json_kv_int(cs_json *j, const char *key, int64_t v)
{
    cs_json_key(j, key);
    cs_json_int(j, v);
}
void cs_json_kv_bool(cs_json *j, const char *key, int v)
{
    cs_json_key(j, key);
    cs_json_bool(j, v);
}

void cs_json_write_escaped(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            /* Other control characters must be escaped; bytes >= 0x80 are
             * UTF-8 sequences and pass through unchanged. */
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}
