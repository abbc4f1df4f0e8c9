/* Reading a CSV in large blocks into one reused buffer, record by record,
 * with the fields as views of the buffer (c2_scan_record). Shared by every
 * rung from `views` to `columnar` (record by record, or block by block): the
 * lesson of `views` is that records need no copies, and the rungs after it
 * change other things. */
#ifndef C2_BLOCK_READER_H
#define C2_BLOCK_READER_H

#include <stdio.h>

#include "pipeline.h"

#define C2_OUT_OF_MEMORY (-1)
#define C2_READ_ERROR    (-2)

/* The input, read in blocks into one buffer that is reused: records are
 * scanned in place, and only the unfinished record at the end of a block is
 * moved to the front before the next block is read behind it. Start with
 * all fields zero except `in`; free buf at the end. */
typedef struct {
    FILE *in;
    char *buf;
    size_t cap;      /* doubles only for a record over half of it */
    size_t pos, end; /* the bytes not yet scanned: buf[pos, end) */
    int eof;         /* the whole file is in buf[0, end) */
} c2_block_reader;

/* Scans the next record into rec (its fields are views of the buffer, valid
 * until the next call). Blank lines are skipped. Returns 1 (rec->unterminated
 * set when the file ended inside a quoted field); 0 at the end of the file;
 * C2_OUT_OF_MEMORY or C2_READ_ERROR. */
int c2_next_record(c2_block_reader *r, c2_record *rec);

/* The same a block at a time, for the rungs that work per block (fused,
 * columnar): c2_block_refill moves the unscanned bytes to the front and
 * reads the next block behind them (returns 0, C2_OUT_OF_MEMORY or
 * C2_READ_ERROR); c2_block_next_record scans the next whole record of the
 * buffer into rec (returns 1), or returns 0 when the buffer holds no whole
 * record any more: refill, unless the file has ended (eof and pos == end). */
int c2_block_refill(c2_block_reader *r);
int c2_block_next_record(c2_block_reader *r, c2_record *rec);
/* c2_block_refill as the block rungs call it: timed as the phase "read",
 * and an error said in one line naming path. Returns 0, or 3. */
int c2_block_read(c2_block_reader *r, const char *path);

/* Makes *buf hold at least n bytes (growing *cap by doubling). Returns 0,
 * or C2_OUT_OF_MEMORY (the old buffer is kept). */
int c2_reserve(char **buf, size_t *cap, size_t n);

/* A field's value: the view itself, or, when its quotes need resolving, its
 * copy in *scratch (grown as needed; never longer than the view). NULL when
 * out of memory. */
const char *c2_field_value(const c2_field *f, char **scratch, size_t *scratch_cap, size_t *len);

#endif
