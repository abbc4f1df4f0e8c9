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

/* What the helpers return besides their own results. */
#define OUT_OF_MEMORY C2_OUT_OF_MEMORY
#define READ_ERROR C2_READ_ERROR
/* transform_row's verdict for a row that passes every rule (the others are
 * the c2_reason it was rejected for). */
#define ACCEPTED C2_NREASONS

/* ---- extract: blocks -> records -> field views (block_reader.c) ----------------- */

/* ---- transform: check and convert one row (cached_transform.c) ------------------------ */

/* ---- the intermediate file ----------------------------------------------------------
 * One line of text per clean row: "day hour usd_cents category_len category".
 * The category goes last, as raw bytes after its length: it may hold any
 * byte (a quoted field can carry commas, quotes, even newlines), so no
 * separator could end it. */

static FILE *create_tmp(const c2_job *job, const char *variant, char *path, size_t path_len)
{
    const char *dir = job->tmp_dir ? job->tmp_dir : "/tmp";
    snprintf(path, path_len, "%s/case02_%s_XXXXXX", dir, variant);
    int fd = mkstemp(path);
    if (fd < 0) {
        cs_error("%s: cannot create a temporary file there: %s", dir, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        close(fd);
        remove(path);
    }
    return f;
}

static int write_row(FILE *tmp, const clean_row *row)
{
    fprintf(tmp, "%s %d %" PRId64 " %zu ", row->day, row->hour, row->usd_cents,
            row->category_len);
    fwrite(row->category, 1, row->category_len, tmp);
    fputc('\n', tmp);
    return ferror(tmp) ? -1 : 0;
}

/* Reads the next row back (its category into the reused buffer *cat).
 * Returns 1; 0 at the end; READ_ERROR when the file cannot be read or is not
 * what write_row wrote; OUT_OF_MEMORY. */
static int read_row(FILE *tmp, clean_row *row, char **cat, size_t *cat_cap)
{
    int got = fscanf(tmp, "%10s %d %" SCNd64 " %zu", row->day, &row->hour, &row->usd_cents,
                     &row->category_len);
    if (got == EOF && !ferror(tmp)) return 0;
    if (got != 4 || fgetc(tmp) != ' ' || row->hour < 0 || row->hour > 23) return READ_ERROR;
    if (c2_reserve(cat, cat_cap, row->category_len + 1) != 0) return OUT_OF_MEMORY;
    if (fread(*cat, 1, row->category_len, tmp) != row->category_len || fgetc(tmp) != '\n')
        return READ_ERROR;
    (*cat)[row->category_len] = '\0';
    row->category = *cat;
    return 1;
}

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

/* Extract and transform: each record of the input, each clean row to tmp.
 * Counts the rows and the rejections. Returns 0 or 3. */
static int extract_and_transform(const c2_job *job, FILE *in, FILE *tmp, const char *tmp_path,
                                 c2_result *out)
{
    int rc = 0;
    c2_block_reader reader = {in, NULL, 0, 0, 0, 0};
    row_buffers buffers;
    c2_row_buffers_init(&buffers);
    c2_record rec;
    while (rc == 0) {
        cs_prof_begin("extract");
        int got = c2_next_record(&reader, &rec);
        cs_prof_end();
        if (got == 0) break;
        if (got != 1) {
            if (got == OUT_OF_MEMORY) cs_error("out of memory");
            else cs_error("%s: cannot read: %s", job->path, strerror(errno));
            rc = 3;
            break;
        }

        cs_prof_begin("transform");
        out->rows++;
        clean_row row;
        int verdict = rec.unterminated ? C2_UNTERMINATED_QUOTE
                                       : c2_transform_row(job, &rec, &buffers, &row);
        if (verdict == ACCEPTED) {
            if (write_row(tmp, &row) != 0) {
                cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
                rc = 3;
            }
        } else if (verdict == OUT_OF_MEMORY) {
            cs_error("out of memory");
            rc = 3;
        } else {
            out->rejected[verdict]++;
        }
        cs_prof_end();
    }
    free(reader.buf);
    c2_row_buffers_free(&buffers);
    return rc;
}

/* Load: reads the clean rows back and aggregates them; counts the accepted
 * rows and their hours. Returns 0 or 3. */
static int load(const char *tmp_path, c2_result *out, c2_groups *groups)
{
    FILE *tmp = fopen(tmp_path, "rb");
    if (!tmp) {
        cs_error("%s: cannot open: %s", tmp_path, strerror(errno));
        return 3;
    }
    int rc = 0;
    char *cat = NULL;
    size_t cat_cap = 0;
    for (;;) {
        clean_row row;
        cs_prof_begin("load");
        int got = read_row(tmp, &row, &cat, &cat_cap);
        if (got == 1) {
            out->accepted++;
            out->hours[row.hour]++;
            c2_groups_add(groups, row.day, row.category, row.category_len, row.usd_cents);
        }
        cs_prof_end();
        if (got == 1) continue;
        if (got == OUT_OF_MEMORY) {
            cs_error("out of memory");
            rc = 3;
        } else if (got == READ_ERROR) {
            cs_error("%s: cannot read back the rows written", tmp_path);
            rc = 3;
        }
        break;
    }
    free(cat);
    fclose(tmp);
    return rc;
}

int c2_run_hashed(const c2_job *job, c2_result *out)
{
    FILE *in;
    int rc = open_input(job, &in);
    if (rc) return rc;
    char tmp_path[4096];
    FILE *tmp = create_tmp(job, "hashed", tmp_path, sizeof tmp_path);
    if (!tmp) {
        fclose(in);
        return 3;
    }

    rc = extract_and_transform(job, in, tmp, tmp_path, out);
    fclose(in);
    if (fclose(tmp) != 0 && rc == 0) {
        cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
        rc = 3;
    }

    c2_groups *groups = c2_groups_new();
    if (rc == 0) rc = load(tmp_path, out, groups);
    if (rc == 0) c2_groups_to_result(groups, out);
    c2_groups_free(groups);
    remove(tmp_path);
    return rc;
}
