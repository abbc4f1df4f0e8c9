/* Reading a CSV in blocks, record by record (see block_reader.h). */
#include "block_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "cs_profiler.h"

#define BLOCK_BYTES (1u << 20) /* read this much at a time */

int c2_block_refill(c2_block_reader *r)
{
    size_t left = r->end - r->pos;
    if (r->pos > 0) memmove(r->buf, r->buf + r->pos, left);
    r->pos = 0;
    r->end = left;
    if (r->cap == 0 || left > r->cap / 2) {
        /* The first block, or a record longer than half the buffer: double
         * it, so every read still brings at least half a buffer, and a long
         * record is scanned again only a few times. */
        size_t bigger = r->cap == 0 ? BLOCK_BYTES : 2 * r->cap;
        char *p = realloc(r->buf, bigger);
        if (!p) return C2_OUT_OF_MEMORY;
        r->buf = p;
        r->cap = bigger;
    }
    size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->in);
    r->end += got;
    if (got == 0) {
        if (ferror(r->in)) return C2_READ_ERROR;
        r->eof = 1;
    }
    return 0;
}

int c2_block_read(c2_block_reader *r, const char *path)
{
    cs_prof_begin("read");
    int got = c2_block_refill(r);
    cs_prof_end();
    if (got == 0) return 0;
    if (got == C2_OUT_OF_MEMORY)
        cs_error("out of memory");
    else
        cs_error("%s: cannot read: %s", path, strerror(errno));
    return 3;
}

int c2_block_next_record(c2_block_reader *r, c2_record *rec)
{
    while (r->pos < r->end) {
        size_t next = c2_scan_record(r->buf, r->pos, r->end, rec);
        /* The record is whole if it ended before the end of the data, or
         * with its LF right at the end, or the file has no more. */
        int whole = next < r->end || r->eof || (!rec->unterminated && r->buf[r->end - 1] == '\n');
        if (!whole) return 0;
        r->pos = next;
        if (rec->blank) continue;
        return 1;
    }
    return 0;
}

int c2_next_record(c2_block_reader *r, c2_record *rec)
{
    for (;;) {
        if (c2_block_next_record(r, rec)) return 1;
        if (r->eof && r->pos >= r->end) return 0;
        int rc = c2_block_refill(r);
        if (rc != 0) return rc;
    }
}

int c2_reserve(char **buf, size_t *cap, size_t n)
{
    if (n <= *cap) return 0;
    size_t bigger = n > 2 * *cap ? n : 2 * *cap;
    char *p = realloc(*buf, bigger);
    if (!p) return C2_OUT_OF_MEMORY;
    *buf = p;
    *cap = bigger;
    return 0;
}

const char *c2_field_value(const c2_field *f, char **scratch, size_t *scratch_cap, size_t *len)
{
    if (!f->needs_unescape) {
        *len = f->len;
        return f->ptr;
    }
    if (c2_reserve(scratch, scratch_cap, f->len + 1) != 0) return NULL;
    *len = c2_field_copy(f, *scratch, *scratch_cap);
    return *scratch;
}
