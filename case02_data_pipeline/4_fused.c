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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "aggregate.h"
#include "cs_profiler.h"
#include "cached_transform.h"
#include "block_reader.h"
#include "pipeline.h"

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY C2_OUT_OF_MEMORY
/* transform_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: blocks -> records -> field views ------------------------------------ */

/* block_reader.c: c2_block_read, c2_block_next_record. */

/* ---- transform: check and convert one row (cached_transform.c) ------------------------ */

/* ---- load: the groups in a hash table (aggregate.c) ---------------------------------- */

/* ---- the passes ---------------------------------------------------------------------- */

/* The one pass: block after block, each whole record is checked, converted
 * and added to its group right away. Counts the rows, the rejections, the
 * accepted rows and their hours. Returns 0 or 3. */
static int one_pass(const c2_job *job, FILE *in, c2_result *out, c2_groups *groups)
{
    int rc = 0;
    c2_block_reader reader = {in, NULL, 0, 0, 0, 0};
    row_buffers buffers;
    c2_row_buffers_init(&buffers);
    c2_record rec;
    while (rc == 0 && !(reader.eof && reader.pos >= reader.end)) {
        if ((rc = c2_block_read(&reader, job->path)) != 0) break;

        cs_prof_begin("parse+aggregate");
        while (rc == 0 && c2_block_next_record(&reader, &rec)) {
            out->rows++;
            c2_clean_row row;
            int verdict = rec.unterminated ? C2_UNTERMINATED_QUOTE : c2_transform_row(job, &rec, &buffers, &row);
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
    int rc = c2_open_input(job, &in);
    if (rc) return rc;
    c2_groups *groups = c2_groups_new();
    rc = one_pass(job, in, out, groups);
    fclose(in);
    if (rc == 0) c2_groups_to_result(groups, out);
    c2_groups_free(groups);
    return rc;
}
