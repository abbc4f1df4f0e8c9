/* fused: hashed with one change: one pass, no intermediate file. hashed
 * checked and converted every row, wrote the clean rows to a temporary file
 * as text, and read them back to aggregate them: each accepted row was
 * formatted (fprintf), written, read, parsed again (fscanf) and its category
 * copied twice, only to hand the same five values to the next stage. Here
 * each record is parsed, checked, converted and added to its group right
 * away, while its bytes are still in the cache, block after block.
 *
 * The reading is the same: large blocks (fread) into one reused buffer; a
 * record cut by the end of a block is moved to the front and finished by
 * the next block; a record longer than the buffer makes it grow. The caches
 * are the same (currency by c2_find_currency, the normalized category per
 * raw spelling, the valid days). The phases are now per block: "read" (the
 * fread) and "parse+aggregate" (every whole record of the block).
 *
 * What it teaches: every stage boundary that goes through a file (or any
 * buffer of all the rows) costs a write and a read of everything, plus the
 * formatting and parsing in between; fusing the stages removes all of it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "aggregate.h"
#include "cs_profiler.h"
#include "cached_transform.h"
#include "pipeline.h"

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY (-1)
#define READ_ERROR (-2)
/* transform_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: blocks -> records -> field views ------------------------------------ */

#define BLOCK_BYTES (1u << 20)    /* read this much at a time */

/* The input, read in blocks into one buffer that is reused: records are
 * scanned in place, and only the unfinished record at the end of a block is
 * moved to the front before the next block is read behind it. */
typedef struct {
    FILE *in;
    char *buf;
    size_t cap;                   /* doubles only for a record over half of it */
    size_t pos, end;              /* the bytes not yet scanned: buf[pos, end) */
    int eof;                      /* the whole file is in buf[0, end) */
} block_reader;

/* Moves the unscanned bytes to the front and reads the next block behind
 * them. Returns 0, OUT_OF_MEMORY or READ_ERROR. */
static int refill(block_reader *r)
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
        if (!p) return OUT_OF_MEMORY;
        r->buf = p;
        r->cap = bigger;
    }
    size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->in);
    r->end += got;
    if (got == 0) {
        if (ferror(r->in)) return READ_ERROR;
        r->eof = 1;
    }
    return 0;
}

/* Scans the next record of the buffer into rec (c2_scan_record: its fields
 * are views of the buffer, valid until the next refill). Blank lines are
 * skipped. Returns 1 for a whole record (rec->unterminated set when the file
 * ended inside a quoted field); 0 when the buffer holds no whole record any
 * more: the next block must be read, unless the file has ended. */
static int next_record_in_block(block_reader *r, c2_record *rec)
{
    while (r->pos < r->end) {
        size_t next = c2_scan_record(r->buf, r->pos, r->end, rec);
        /* The record is whole if it ended before the end of the data, or
         * with its LF right at the end, or the file has no more. */
        int whole = next < r->end || r->eof ||
                    (!rec->unterminated && r->buf[r->end - 1] == '\n');
        if (!whole) return 0;
        r->pos = next;
        if (rec->blank) continue;
        return 1;
    }
    return 0;
}

/* ---- transform: check and convert one row (cached_transform.c) ------------------------ */

/* ---- load: the groups in a hash table (aggregate.c) ---------------------------------- */

/* ---- the passes ---------------------------------------------------------------------- */

static int open_input(const c2_job *job, FILE **in)
{
    *in = fopen(job->path, "rb");
    if (!*in) {
        cs_error("%s: cannot open: %s", job->path, strerror(errno));
        return 2;
    }
    if (fseek(*in, (long)job->header.data_offset, SEEK_SET) != 0) {
        cs_error("%s: cannot read: %s", job->path, strerror(errno));
        fclose(*in);
        return 3;
    }
    return 0;
}

/* The one pass: block after block, each whole record is checked, converted
 * and added to its group right away. Counts the rows, the rejections, the
 * accepted rows and their hours. Returns 0 or 3. */
static int one_pass(const c2_job *job, FILE *in, c2_result *out, c2_groups *groups)
{
    int rc = 0;
    block_reader reader = {in, NULL, 0, 0, 0, 0};
    row_buffers buffers;
    c2_row_buffers_init(&buffers);
    c2_record rec;
    while (rc == 0 && !(reader.eof && reader.pos >= reader.end)) {
        cs_prof_begin("read");
        int got = refill(&reader);
        cs_prof_end();
        if (got != 0) {
            if (got == OUT_OF_MEMORY) cs_error("out of memory");
            else cs_error("%s: cannot read: %s", job->path, strerror(errno));
            rc = 3;
            break;
        }

        cs_prof_begin("parse+aggregate");
        while (rc == 0 && next_record_in_block(&reader, &rec)) {
            out->rows++;
            c2_clean_row row;
            int verdict = rec.unterminated ? C2_UNTERMINATED_QUOTE
                                           : c2_transform_row(job, &rec, &buffers, &row);
            if (verdict == ACCEPTED) {
                /* no intermediate file: straight into the groups */
                out->accepted++;
                out->hours[row.hour]++;
                c2_groups_add(groups, row.day, row.category, row.category_len, row.usd_cents);
            } else if (verdict == OUT_OF_MEMORY) {
                cs_error("out of memory");
                rc = 3;
            } else {
                out->rejected[verdict]++;
            }
        }
        cs_prof_end();
    }
    free(reader.buf);
    c2_row_buffers_free(&buffers);
    return rc;
}

int c2_run_fused(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = open_input(job, &in);
    if (rc) return rc;
    c2_groups *groups = c2_groups_new();
    rc = one_pass(job, in, out, groups);
    fclose(in);
    if (rc == 0) c2_groups_to_result(groups, out);
    c2_groups_free(groups);
    return rc;
}
