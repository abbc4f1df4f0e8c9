/* case02's record scanner (csv_scan.c): every rule of pipeline.h's input
 * format, with the expected fields of each record written out by hand. */
#include <stdint.h>
#include <string.h>

#include "cs_test.h"
#include "pipeline.h"

/* What one record should be. */
typedef struct {
    int blank, unterminated;
    int nfields;
    const char *fields[8]; /* values after c2_field_copy */
    size_t lens[8];        /* 0: strlen(fields[i]) (set only for values with NUL) */
} expected;

/* Scans the record at *pos of buf[0..len) and compares it with e; advances
 * *pos. Returns 1 if it matches, else prints what differs and returns 0. */
static int scan_matches(const char *buf, size_t len, size_t *pos, const expected *e)
{
    c2_record rec;
    size_t start = *pos;
    size_t next = c2_scan_record(buf, *pos, len, &rec);
    *pos = next;
    int ok = 1;
    if (next <= start || next > len) {
        fprintf(stderr, "  record at %zu: next position %zu out of order\n", start, next);
        ok = 0;
    }
    if (rec.blank != e->blank || rec.unterminated != e->unterminated || rec.nfields != e->nfields) {
        fprintf(stderr, "  record at %zu: blank %d unterminated %d nfields %d, expected %d %d %d\n", start, rec.blank,
                rec.unterminated, rec.nfields, e->blank, e->unterminated, e->nfields);
        return 0;
    }
    for (int i = 0; i < e->nfields && i < C2_MAX_FIELDS && i < 8; i++) {
        char value[256];
        size_t n = c2_field_copy(&rec.fields[i], value, sizeof value);
        size_t want = e->lens[i] ? e->lens[i] : strlen(e->fields[i]);
        if (n != want || memcmp(value, e->fields[i], n) != 0) {
            fprintf(stderr, "  record at %zu, field %d: got \"%.*s\" (%zu bytes), expected \"%s\"\n", start, i,
                    (int)(n < sizeof value ? n : sizeof value), value, n, e->fields[i]);
            ok = 0;
        }
        /* A slice lies inside the buffer. */
        if (rec.fields[i].ptr < buf || rec.fields[i].ptr + rec.fields[i].len > buf + len) {
            fprintf(stderr, "  record at %zu, field %d: slice outside the buffer\n", start, i);
            ok = 0;
        }
    }
    return ok;
}

/* Scans a whole C string; each expected record in turn, then the end. */
static int scan_all(const char *s, const expected *recs, int nrecs)
{
    size_t len = strlen(s), pos = 0;
    int ok = 1;
    for (int r = 0; r < nrecs; r++) {
        if (pos >= len) {
            fprintf(stderr, "  \"%s\": ended after %d records, expected %d\n", s, r, nrecs);
            return 0;
        }
        if (!scan_matches(s, len, &pos, &recs[r])) ok = 0;
    }
    if (pos != len) {
        fprintf(stderr, "  \"%s\": %zu bytes left after %d records\n", s, len - pos, nrecs);
        ok = 0;
    }
    return ok;
}

#define REC(n, ...)             \
    {                           \
        0, 0, n, {__VA_ARGS__}, \
        {                       \
            0                   \
        }                       \
    }
#define BLANK         \
    {                 \
        1, 0, 0, {0}, \
        {             \
            0         \
        }             \
    }

static void test_simple(void)
{
    expected a[] = {REC(3, "a", "b", "c")};
    CHECK(scan_all("a,b,c\n", a, 1));
    expected two[] = {REC(2, "txn", "x"), REC(2, "1", "2")};
    CHECK(scan_all("txn,x\n1,2\n", two, 2));
    /* Starting in the middle of a buffer (after a header). */
    const char *s = "h1,h2\nv1,v2\n";
    size_t pos = 6;
    expected v = REC(2, "v1", "v2");
    CHECK(scan_matches(s, strlen(s), &pos, &v) && pos == strlen(s));
}

static void test_quoted(void)
{
    /* A quoted comma is data. */
    expected comma[] = {REC(2, "Home, Garden", "12")};
    CHECK(scan_all("\"Home, Garden\",12\n", comma, 1));
    /* '""' inside quotes is one '"'. */
    expected dq[] = {REC(2, "Kids \"Toys\"", "x")};
    CHECK(scan_all("\"Kids \"\"Toys\"\"\",x\n", dq, 1));
    expected only_dq[] = {REC(1, "\"")};
    CHECK(scan_all("\"\"\"\"\n", only_dq, 1));
    /* An empty quoted field. */
    expected empty_q[] = {REC(2, "", "a")};
    CHECK(scan_all("\"\",a\n", empty_q, 1));
    /* An embedded LF: the record runs on to the next line. */
    expected lf[] = {REC(2, "Gift\nCards", "z"), REC(1, "next")};
    CHECK(scan_all("\"Gift\nCards\",z\nnext\n", lf, 2));
    /* An embedded CRLF stays data (CRs are dropped only at record ends). */
    expected crlf_in[] = {REC(2, "a\r\nb", "c"), REC(1, "d")};
    CHECK(scan_all("\"a\r\nb\",c\r\nd\r\n", crlf_in, 2));
    /* A CR just before the closing quote is data too. */
    expected cr_q[] = {REC(1, "a\r")};
    CHECK(scan_all("\"a\r\"\n", cr_q, 1));
    /* Several quoted fields, one with a LF, on one record. */
    expected multi[] = {REC(3, "x\ny", "p,q", "r")};
    CHECK(scan_all("\"x\ny\",\"p,q\",r\n", multi, 1));

    /* The flags: a plain quoted field is a slice; one with '""' needs copying. */
    c2_record rec;
    const char *s = "\"a,b\",\"c\"\"d\",e\n";
    c2_scan_record(s, 0, strlen(s), &rec);
    CHECK(rec.nfields == 3);
    CHECK(rec.fields[0].quoted == 1 && rec.fields[0].needs_unescape == 0);
    CHECK(rec.fields[0].len == 3 && memcmp(rec.fields[0].ptr, "a,b", 3) == 0);
    CHECK(rec.fields[1].quoted == 1 && rec.fields[1].needs_unescape == 1);
    CHECK(rec.fields[2].quoted == 0 && rec.fields[2].needs_unescape == 0);
}

static void test_line_ends(void)
{
    /* CRLF line ends: the CR is not part of the last field. */
    expected crlf[] = {REC(2, "a", "b"), REC(2, "c", "d")};
    CHECK(scan_all("a,b\r\nc,d\r\n", crlf, 2));
    /* A quoted last field followed by CRLF: no trailing text. */
    expected q_crlf[] = {REC(1, "x")};
    CHECK(scan_all("\"x\"\r\n", q_crlf, 1));
    c2_record rec;
    c2_scan_record("\"x\"\r\n", 0, 5, &rec);
    CHECK(rec.fields[0].needs_unescape == 0);
    /* A lone CR inside a field is data. */
    expected lone[] = {REC(2, "a\rb", "c")};
    CHECK(scan_all("a\rb,c\n", lone, 1));
    /* Only the CR right before the LF is dropped. */
    expected two_cr[] = {REC(2, "a", "b\r")};
    CHECK(scan_all("a,b\r\r\n", two_cr, 1));
    /* The last record without a newline. */
    expected last[] = {REC(2, "a", "b"), REC(2, "c", "d")};
    CHECK(scan_all("a,b\nc,d", last, 2));
    /* ... and a final CR without a LF is data (not a line end). */
    expected last_cr[] = {REC(1, "a"), REC(1, "b\r")};
    CHECK(scan_all("a\nb\r", last_cr, 2));
}

static void test_blank_lines(void)
{
    /* Empty lines, LF or CRLF, are flagged blank and skipped over. */
    expected recs[] = {REC(1, "a"), BLANK, REC(1, "b"), BLANK, BLANK, REC(1, "c")};
    CHECK(scan_all("a\n\nb\n\r\n\nc", recs, 6));
    /* A blank line first. */
    expected first[] = {BLANK, REC(2, "x", "y")};
    CHECK(scan_all("\nx,y\n", first, 2));
    /* A line of spaces is not blank: one field of spaces. */
    expected spaces[] = {REC(1, "  ")};
    CHECK(scan_all("  \n", spaces, 1));
    /* A lone CR at the end of the buffer (no LF after it) is a record. */
    expected cr_end[] = {REC(1, "a"), REC(1, "\r")};
    CHECK(scan_all("a\n\r", cr_end, 2));
    /* Nothing left to scan: blank, and the position stays at the end. */
    c2_record rec;
    CHECK(c2_scan_record("abc", 3, 3, &rec) == 3 && rec.blank == 1 && rec.nfields == 0);
}

static void test_bom_is_data(void)
{
    /* Skipping the BOM is c2_read_header's job: to the scanner it is bytes. */
    expected bom[] = {REC(2, "\xEF\xBB\xBFtxn_id", "x")};
    CHECK(scan_all("\xEF\xBB\xBFtxn_id,x\n", bom, 1));
}

static void test_after_quote(void)
{
    /* Text after the closing quote is appended as it is. */
    expected tail[] = {REC(2, "abcd", "e")};
    CHECK(scan_all("\"ab\"cd,e\n", tail, 1));
    /* ... including quotes, which are ordinary bytes there. */
    expected tail_q[] = {REC(2, "a\"bc\"\"d", "e")};
    CHECK(scan_all("\"a\"\"b\"c\"\"d,e\n", tail_q, 1));
    /* ... up to the end of the record, CR of a CRLF excluded. */
    expected tail_end[] = {REC(2, "1", "x y")};
    CHECK(scan_all("1,\"x\" y\r\n", tail_end, 1));
    c2_record rec;
    const char *s = "\"ab\"cd,e\n";
    c2_scan_record(s, 0, strlen(s), &rec);
    CHECK(rec.fields[0].quoted == 1 && rec.fields[0].needs_unescape == 1);
}

static void test_quote_in_unquoted(void)
{
    /* A '"' that does not start a field is an ordinary byte. */
    expected q[] = {REC(3, "ab\"c", "d\"", "5\" screen")};
    CHECK(scan_all("ab\"c,d\",5\" screen\n", q, 1));
    /* Leading space, then a quote: unquoted (the quote is not first). */
    expected sp[] = {REC(2, " \"a", "b\"")};
    CHECK(scan_all(" \"a,b\"\n", sp, 1));
}

static void test_unterminated(void)
{
    /* An open quote swallows the rest of the buffer, newlines included. */
    expected open[] = {REC(1, "ok"), {0, 1, 2, {"a", "bc,d\nxyz"}, {0}}};
    CHECK(scan_all("ok\na,\"bc,d\nxyz", open, 2));
    /* A doubled quote at the very end is still data: the field stays open. */
    expected dq_end[] = {{0, 1, 1, {"a\""}, {0}}};
    CHECK(scan_all("\"a\"\"", dq_end, 1));
    /* Just an opening quote. */
    expected just[] = {{0, 1, 1, {""}, {0}}};
    CHECK(scan_all("\"", just, 1));
    /* A closing quote as the very last byte closes it. */
    expected closed[] = {REC(1, "abc")};
    CHECK(scan_all("\"abc\"", closed, 1));
    /* An unterminated field after a quoted field with a LF. */
    expected later[] = {{0, 1, 3, {"x\ny", "z", "open\n"}, {0}}};
    CHECK(scan_all("\"x\ny\",z,\"open\n", later, 1));
}

static void test_many_fields(void)
{
    /* 70 fields: all counted (so the row is rejected), C2_MAX_FIELDS stored. */
    char line[512];
    size_t n = 0;
    for (int i = 0; i < 70; i++) n += (size_t)snprintf(line + n, sizeof line - n, "%s%d", i ? "," : "", i);
    line[n++] = '\n';
    c2_record rec;
    CHECK(c2_scan_record(line, 0, n, &rec) == n);
    CHECK(rec.nfields == 70);
    CHECK(rec.fields[0].len == 1 && rec.fields[0].ptr[0] == '0');
    CHECK(rec.fields[C2_MAX_FIELDS - 1].len == 2 && memcmp(rec.fields[C2_MAX_FIELDS - 1].ptr, "63", 2) == 0);
    /* Exactly C2_MAX_FIELDS (all stored) and one more. */
    n = 0;
    for (int i = 0; i < C2_MAX_FIELDS; i++) line[n++] = ','; /* 65 empty fields */
    CHECK(c2_scan_record(line, 0, n, &rec) == n && rec.nfields == C2_MAX_FIELDS + 1);
    CHECK(c2_scan_record(line, 1, n, &rec) == n && rec.nfields == C2_MAX_FIELDS);
}

static void test_empty_fields(void)
{
    expected mid[] = {REC(3, "a", "", "b")};
    CHECK(scan_all("a,,b\n", mid, 1));
    expected all[] = {REC(3, "", "", "")};
    CHECK(scan_all(",,\n", all, 1));
    /* A record that is only ",": two empty fields. */
    expected comma[] = {REC(2, "", "")};
    CHECK(scan_all(",\n", comma, 1));
    CHECK(scan_all(",", comma, 1));
    CHECK(scan_all(",\r\n", comma, 1));
    /* A trailing comma makes an empty last field. */
    expected trail[] = {REC(2, "a", "")};
    CHECK(scan_all("a,\n", trail, 1));
}

static void test_field_copy_cap(void)
{
    /* The full length is returned; only cap bytes are written. */
    const char *s = "\"ab\"\"cd\"ef,plainfield\n";
    c2_record rec;
    c2_scan_record(s, 0, strlen(s), &rec);
    char out[16];
    memset(out, '#', sizeof out);
    CHECK(c2_field_copy(&rec.fields[0], out, 3) == 7); /* ab"cdef */
    CHECK(memcmp(out, "ab\"", 3) == 0 && out[3] == '#');
    memset(out, '#', sizeof out);
    CHECK(c2_field_copy(&rec.fields[1], out, 5) == 10);
    CHECK(memcmp(out, "plain", 5) == 0 && out[5] == '#');
    CHECK(c2_field_copy(&rec.fields[1], NULL, 0) == 10);
    CHECK(c2_field_copy(&rec.fields[0], NULL, 0) == 7);
}

static void test_nul_bytes(void)
{
    /* A NUL is an ordinary byte to the scanner (the length decides). */
    const char s[] = "a\0b,c\n";
    size_t pos = 0;
    expected e = {0, 0, 2, {"a\0b", "c"}, {3, 1}};
    CHECK(scan_matches(s, sizeof s - 1, &pos, &e) && pos == sizeof s - 1);
}

int main(void)
{
    test_simple();
    test_quoted();
    test_line_ends();
    test_blank_lines();
    test_bom_is_data();
    test_after_quote();
    test_quote_in_unquoted();
    test_unterminated();
    test_many_fields();
    test_empty_fields();
    test_field_copy_cap();
    test_nul_bytes();
    return cs_test_done();
}
