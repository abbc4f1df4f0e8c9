/* The IDX file format of MNIST (and Fashion-MNIST): a 4-byte big-endian
 * magic number, big-endian 32-bit dimensions, then the raw bytes.
 *     images: 0x00000803, n, rows, cols, then n * rows * cols pixel bytes
 *     labels: 0x00000801, n, then n label bytes
 * A path ending in ".gz" is read through zlib (when the suite was built with
 * it), so the files can stay as they are downloaded. */
#ifndef C1_IDX_H
#define C1_IDX_H

#include <stdint.h>

#define C1_IDX_MAGIC_IMAGES 0x00000803u /* unsigned bytes, 3 dimensions */
#define C1_IDX_MAGIC_LABELS 0x00000801u /* unsigned bytes, 1 dimension */
#define C1_IDX_MAX_IMAGES   10000000    /* above this a count is not believable */
#define C1_IDX_MAX_SIDE     4096        /* nor an image side above this */

/* Reads an image file. On success returns 0 and sets *n, *rows, *cols and
 * *bytes (n * rows * cols bytes, malloc'd: the caller free()s it). Returns 2
 * with one line on stderr naming the file and the problem (cannot open,
 * shorter than its header, wrong magic number, absurd dimensions, truncated,
 * bytes after the data, a corrupt .gz), or 3 when out of memory. */
int c1_idx_read_images(const char *path, int *n, int *rows, int *cols, uint8_t **bytes);

/* The same for a label file: *labels holds n bytes (malloc'd). The values
 * are not checked here (the data set knows how many classes it has). */
int c1_idx_read_labels(const char *path, int *n, uint8_t **labels);

/* Writers (for tests and tools), uncompressed, atomic (a temporary file
 * renamed into place). Return 0, or 2 on a bad size, 3 when writing fails
 * (message printed). */
int c1_idx_write_images(const char *path, int n, int rows, int cols, const uint8_t *bytes);
int c1_idx_write_labels(const char *path, int n, const uint8_t *labels);

/* 1 when this build reads .gz files (compiled with zlib), else 0. */
int c1_idx_have_zlib(void);

#endif
