/* hashed: views with hashed and cached lookups. Every row of views asked
 * the same questions again: which currency is "EUR" (up to twelve string
 * comparisons), what is " Groceries" normalized (a copy and a loop), is
 * 2026-03-14 a valid date, and above all, which group is (2026-03-14,
 * groceries) (a walk along a list of every group seen so far). Here:
 *  - the currency is found with one switch on its three bytes
 *    (c2_find_currency), in constant time;
 *  - each raw spelling of a category is normalized once, and remembered in
 *    a small hash table from its bytes to the normalized name;
 *  - each valid date is remembered (a direct-mapped cache), so a row of a
 *    known day checks only its time of day;
 *  - the groups live in a hash table (aggregate.c): one probe, usually one
 *    key comparison, however many groups there are.
 * Still the intermediate file between transform and load.
 *
 * What it teaches: an answer computed once and looked up after is cheaper
 * than the same answer computed again, and a lookup should cost the same
 * with ten entries as with ten thousand. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_console.h"
#include "aggregate.h"
#include "cs_profiler.h"
#include "block_reader.h"
#include "cached_transform.h"
#include "pipeline.h"
#include "staged.h"

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY C2_OUT_OF_MEMORY
/* transform_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: blocks -> records -> field views (block_reader.c) ----------------- */

/* ---- transform: check and convert one row (cached_transform.c) ------------------------ */

/* ---- the intermediate file (staged.c) ------------------------------------------------ */

/* ---- load: the groups in a hash table (aggregate.c) ---------------------------------- */

/* The load callback: each row read back into the hash table of groups. */
static int add_to_groups(void *groups, const c2_clean_row *row)
{
    c2_groups_add(groups, row->day, row->category, row->category_len, row->usd_cents);
    return 0;
}

/* ---- the passes ---------------------------------------------------------------------- */

/* The transform as c2_extract_to_tmp calls it: with the caches. */
static int transform(const c2_job *job, const c2_record *rec, void *buffers, c2_clean_row *row)
{
    return c2_transform_row(job, rec, buffers, row);
}

int c2_run_hashed(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = c2_open_input(job, &in);
    if (rc) return rc;
    char tmp_path[4096];
    FILE *tmp = c2_tmp_create(job, "hashed", tmp_path, sizeof tmp_path);
    if (!tmp) {
        fclose(in);
        return 3;
    }

    row_buffers buffers;
    c2_row_buffers_init(&buffers);
    rc = c2_extract_to_tmp(job, in, tmp, tmp_path, out, transform, &buffers);
    c2_row_buffers_free(&buffers);
    fclose(in);
    if (fclose(tmp) != 0 && rc == 0) {
        cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
        rc = 3;
    }

    c2_groups *groups = c2_groups_new();
    if (rc == 0) rc = c2_tmp_load(tmp_path, out, 0, add_to_groups, groups);
    if (rc == 0) c2_groups_to_result(groups, out);
    c2_groups_free(groups);
    c2_tmp_remove(tmp_path);
    return rc;
}
