/* fast: the input file, mapped into memory (or read whole where mapping
 * fails), so the rung parses the bytes where the page cache holds them. */
#ifndef C2_FAST_INPUT_H
#define C2_FAST_INPUT_H

#include <stddef.h>

typedef struct {
    const char *data; /* the whole file */
    size_t size;
    int mapped; /* 1: munmap at the end */
    char *copy; /* or the copy read into memory (cs_free at the end) */
} input;

/* Maps the file (or reads it whole). 0, or an exit code after an error
 * message: 2 cannot open, 3 cannot read. */
int open_input(const char *path, input *in);
void close_input(input *in);

#endif
