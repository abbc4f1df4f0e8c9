/* What the staged rungs (slow, views, hashed) share unchanged: the
 * intermediate file between transform and
 * load (write, read back), the load loop that reads it back, and the linked
 * list of groups of slow and views. One copy here, so `diff 1_slow.c 2_views.c`
 * and `diff 2_views.c 3_hashed.c` show only what each rung changes.
 *
 * The intermediate file holds one line of text per clean row:
 *     "day hour usd_cents category_len category"
 * The category goes last, as raw bytes after its length: it may hold any
 * byte (a quoted field can carry commas, quotes, even newlines), so no
 * separator could end it. */
#ifndef C2_STAGED_H
#define C2_STAGED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline.h"

/* Creates the intermediate file in job->tmp_dir (or /tmp), named after the
 * rung; its name goes to path. NULL after one line on stderr. */
FILE *c2_tmp_create(const c2_job *job, const char *variant, char *path, size_t path_len);
/* Removes it (and its registration for an interrupted run, cleanup.h). */
void c2_tmp_remove(const char *path);
/* Appends one row. Returns 0, or -1 on a write error (errno set). */
int c2_tmp_write_row(FILE *tmp, const c2_clean_row *row);

/* A rung's transform: checks and converts one record. Returns C2_NREASONS
 * (accepted: row filled), the c2_reason it is rejected for, or
 * C2_OUT_OF_MEMORY. `buffers` is the rung's own reused state. */
typedef int (*c2_transform_fn)(const c2_job *job, const c2_record *rec, void *buffers, c2_clean_row *row);

/* Extract and transform of the rungs that read in blocks (views, hashed):
 * each record (profiler phase "extract", block_reader.c) through the rung's
 * transform (phase "transform"), each clean row to tmp; counts the rows and
 * the rejections. Returns 0 or 3 (one line on stderr). */
int c2_extract_to_tmp(const c2_job *job, FILE *in, FILE *tmp, const char *tmp_path, c2_result *out,
                      c2_transform_fn transform, void *buffers);

/* Called by c2_tmp_load for each row read back; returns 0, or
 * C2_OUT_OF_MEMORY to stop. */
typedef int (*c2_load_row_fn)(void *ctx, const c2_clean_row *row);

/* Load: reads every row of the file back (profiler phase "load"), counts it
 * as accepted with its hour, and hands it to add. With new_string_per_row,
 * each row's category is read into a string of its own and freed after
 * (slow, as first written); otherwise into one reused buffer. Returns 0 or 3
 * (one line on stderr: the file unreadable, not what was written, or out of
 * memory). */
int c2_tmp_load(const char *tmp_path, c2_result *out, int new_string_per_row, c2_load_row_fn add, void *ctx);

/* The groups of slow and views: a linked list searched from its head by
 * comparing strings (hashed replaces it with aggregate.c's hash table). */
typedef struct c2_group_node c2_group_node;
/* c2_load_row_fn for the list: ctx is a c2_group_node ** (the head). */
int c2_group_list_add(void *head, const c2_clean_row *row);
void c2_group_list_to_result(const c2_group_node *head, c2_result *out);
void c2_group_list_free(c2_group_node *head);

#endif
