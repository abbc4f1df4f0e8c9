/* Output files that are never half-written: write to "PATH.tmp.PID", then
 * rename over PATH on commit. A failed run leaves no file behind. */
#ifndef CS_OUTFILE_H
#define CS_OUTFILE_H

#include <stdio.h>

#define CS_PATH_MAX 4096

typedef struct {
    FILE *f;                /* write here */
    char path[CS_PATH_MAX]; /* final name */
    char tmp[CS_PATH_MAX];  /* temporary name */
} cs_outfile;

/* Opens the temporary file. Returns 0, or -1 with a one-line message on
 * stderr naming the path and the reason. */
int cs_outfile_open(cs_outfile *o, const char *path);

/* Flushes, checks for write errors, closes and renames. Returns 0, or -1
 * (message printed, temporary removed). */
int cs_outfile_commit(cs_outfile *o);

/* Closes and removes the temporary file (on an error path). */
void cs_outfile_abort(cs_outfile *o);

/* Writes a whole file atomically from a string. Returns 0 or -1. */
int cs_write_file_atomic(const char *path, const char *text);

/* Creates dir and its parents (like mkdir -p). Returns 0, or -1 with a
 * one-line message naming the directory. */
int cs_mkdir_p(const char *dir);

/* Checks that dir can be created/written, without leaving anything if it
 * did not exist before (used to fail fast on a bad --out before the run).
 * Returns 0, or -1 with a one-line message. */
int cs_check_writable_dir(const char *dir);

/* Whether a new file can be made in the existing folder dir: a probe file
 * is created and removed (permission bits do not tell: root passes them,
 * read-only mounts refuse anyway). Returns 0, or -1 with errno set. */
int cs_probe_dir_writable(const char *dir);

/* Joins dir and name into buf ("dir/name"); returns buf. */
char *cs_path_join(char *buf, size_t len, const char *dir, const char *name);

/* An input file's size, checked: it exists and is a regular file (not a
 * folder, a device or a pipe). Returns 0, or 2 after one line on stderr:
 * "PATH: cannot open: <reason>" or "PATH: not a regular file". */
int cs_input_file_size(const char *path, size_t *size);

#endif
