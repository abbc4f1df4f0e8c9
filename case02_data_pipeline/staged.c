/* The plumbing the staged rungs share (see staged.h). */
#include "staged.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block_reader.h"
#include "cleanup.h"
#include "cs_console.h"
#include "cs_profiler.h"

/* ---- the intermediate file ---------------------------------------------------------- */

FILE *c2_tmp_create(const c2_job *job, const char *variant, char *path, size_t path_len)
{
    const char *dir = job->tmp_dir ? job->tmp_dir : "/tmp";
    snprintf(path, path_len, "%s/case02_%s_XXXXXX", dir, variant);
    int fd = mkstemp(path);
    if (fd < 0) {
        cs_error("%s: cannot create a temporary file there: %s", dir, strerror(errno));
        return NULL;
    }
    c2_cleanup_add(path); /* removed if the run is interrupted */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        close(fd);
        c2_tmp_remove(path);
    }
    return f;
}

void c2_tmp_remove(const char *path)
{
    c2_cleanup_remove(path);
}

int c2_tmp_write_row(FILE *tmp, const c2_clean_row *row)
{
    fprintf(tmp, "%s %d %" PRId64 " %zu ", row->day, row->hour, row->usd_cents, row->category_len);
    fwrite(row->category, 1, row->category_len, tmp);
    fputc('\n', tmp);
    return ferror(tmp) ? -1 : 0;
}

int c2_extract_to_tmp(const c2_job *job, FILE *in, FILE *tmp, const char *tmp_path, c2_result *out,
                      c2_transform_fn transform, void *buffers)
{
    int rc = 0;
    c2_block_reader reader = {in, NULL, 0, 0, 0, 0};
    c2_record rec;
    while (rc == 0) {
        cs_prof_begin("extract");
        int got = c2_next_record(&reader, &rec);
        cs_prof_end();
        if (got == 0) break;
        if (got != 1) {
            if (got == C2_OUT_OF_MEMORY)
                cs_error("out of memory");
            else
                cs_error("%s: cannot read: %s", job->path, strerror(errno));
            rc = 3;
            break;
        }

        cs_prof_begin("transform");
        out->rows++;
        c2_clean_row row;
        int verdict = rec.unterminated ? C2_UNTERMINATED_QUOTE : transform(job, &rec, buffers, &row);
        if (verdict == C2_NREASONS) {
            if (c2_tmp_write_row(tmp, &row) != 0) {
                cs_error("%s: cannot write: %s", tmp_path, strerror(errno));
                rc = 3;
            }
        } else if (verdict == C2_OUT_OF_MEMORY) {
            cs_error("out of memory");
            rc = 3;
        } else {
            out->rejected[verdict]++;
        }
        cs_prof_end();
    }
    free(reader.buf);
    return rc;
}

/* Reads the next row back, its category into *cat (grown as needed).
 * Returns 1; 0 at the end; C2_READ_ERROR when the file cannot be read or is
 * not what c2_tmp_write_row wrote; C2_OUT_OF_MEMORY. */
static int read_row(FILE *tmp, c2_clean_row *row, char **cat, size_t *cat_cap)
{
    int got = fscanf(tmp, "%10s %d %" SCNd64 " %zu", row->day, &row->hour, &row->usd_cents, &row->category_len);
    if (got == EOF && !ferror(tmp)) return 0;
    if (got != 4 || fgetc(tmp) != ' ' || row->hour < 0 || row->hour > 23) return C2_READ_ERROR;
    if (c2_reserve(cat, cat_cap, row->category_len + 1) != 0) return C2_OUT_OF_MEMORY;
    if (fread(*cat, 1, row->category_len, tmp) != row->category_len || fgetc(tmp) != '\n') return C2_READ_ERROR;
    (*cat)[row->category_len] = '\0';
    row->category = *cat;
    return 1;
}

int c2_tmp_load(const char *tmp_path, c2_result *out, int new_string_per_row, c2_load_row_fn add, void *ctx)
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
        c2_clean_row row;
        cs_prof_begin("load");
        int got = read_row(tmp, &row, &cat, &cat_cap);
        if (got == 1) {
            out->accepted++;
            out->hours[row.hour]++;
            if (add(ctx, &row) != 0) got = C2_OUT_OF_MEMORY;
        }
        if (new_string_per_row) { /* the first version: a new string per row */
            free(cat);
            cat = NULL;
            cat_cap = 0;
        }
        cs_prof_end();
        if (got == 1) continue;
        if (got == C2_OUT_OF_MEMORY) {
            cs_error("out of memory");
            rc = 3;
        } else if (got == C2_READ_ERROR) {
            cs_error("%s: cannot read back the rows written", tmp_path);
            rc = 3;
        }
        break;
    }
    free(cat);
    fclose(tmp);
    return rc;
}

/* ---- the groups of slow and views: a linked list ------------------------------------ */

struct c2_group_node {
    char day[11];
    char *category;
    size_t category_len;
    int64_t count, sum_cents, min_cents, max_cents;
    struct c2_group_node *next;
};

/* Walks the list from its head: string comparisons with every group so far. */
static c2_group_node *find_group(c2_group_node *head, const char *day, const char *cat, size_t len)
{
    for (c2_group_node *g = head; g; g = g->next)
        if (strcmp(g->day, day) == 0 && g->category_len == len && memcmp(g->category, cat, len) == 0) return g;
    return NULL;
}

/* Adds a row to its group, creating the group (at the head of the list). */
int c2_group_list_add(void *head_ptr, const c2_clean_row *row)
{
    c2_group_node **head = head_ptr;
    c2_group_node *g = find_group(*head, row->day, row->category, row->category_len);
    if (!g) {
        g = malloc(sizeof *g);
        char *cat = malloc(row->category_len + 1);
        if (!g || !cat) {
            free(g);
            free(cat);
            return C2_OUT_OF_MEMORY;
        }
        memcpy(cat, row->category, row->category_len + 1);
        memcpy(g->day, row->day, sizeof g->day);
        g->category = cat;
        g->category_len = row->category_len;
        g->count = g->sum_cents = 0;
        g->min_cents = g->max_cents = row->usd_cents;
        g->next = *head;
        *head = g;
    }
    if (row->usd_cents < g->min_cents) g->min_cents = row->usd_cents;
    if (row->usd_cents > g->max_cents) g->max_cents = row->usd_cents;
    g->count++;
    g->sum_cents += row->usd_cents;
    return 0;
}

void c2_group_list_to_result(const c2_group_node *head, c2_result *out)
{
    for (const c2_group_node *n = head; n; n = n->next) {
        c2_group *g = c2_result_add_group(out, n->day, n->category, n->category_len);
        g->count = n->count;
        g->sum_cents = n->sum_cents;
        g->min_cents = n->min_cents;
        g->max_cents = n->max_cents;
    }
}

void c2_group_list_free(c2_group_node *head)
{
    while (head) {
        c2_group_node *next = head->next;
        free(head->category);
        free(head);
        head = next;
    }
}
