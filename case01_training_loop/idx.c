/* Reading and writing IDX files (idx.h).
 *
 * One parser for plain and gzipped files: the whole file (decompressed when
 * it ends in .gz) is read into memory first, then the header is checked
 * against the bytes actually there. So memory is bounded by the real size
 * of the data, never by what a damaged header claims, and a plain file and
 * its .gz give the same answer and the same messages.
 *
 * Every way a file can be wrong gets its own message, because the usual
 * mistakes are the user's, not the file's: the images and labels swapped, a
 * download cut short, a gzipped file renamed without .gz, the test set given
 * for the training set. */
#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef CS_HAVE_ZLIB
#include <zlib.h>
#endif

#include "cs_console.h"
#include "cs_files.h"
#include "cs_outfile.h"

/* No IDX file this case can train on is larger; the cap turns /dev/zero or
 * a decompression bomb into an error instead of an exhausted machine. */
#define MAX_FILE_BYTES ((size_t)16 << 30)

int c1_idx_have_zlib(void)
{
#ifdef CS_HAVE_ZLIB
    return 1;
#else
    return 0;
#endif
}

/* ---- the whole file in memory -------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t len; /* bytes read */
    size_t cap; /* bytes allocated */
} file_bytes;

/* Sets the buffer's size to cap bytes (keeping what it holds). Returns 0,
 * or 3 when out of memory (message printed). */
static int resize(file_bytes *b, size_t cap, const char *path)
{
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        cs_error("%s: out of memory reading the file (%zu bytes)", path, cap);
        return 3;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

/* The buffer is full and the file goes on: twice the room. Returns 0, 2
 * (over the cap) or 3 (out of memory), message printed. */
static int grow(file_bytes *b, const char *path)
{
    if (b->cap >= MAX_FILE_BYTES) {
        cs_error("%s: larger than %zu GiB: not an IDX file this case can train on", path, MAX_FILE_BYTES >> 30);
        return 2;
    }
    size_t cap = 2 * b->cap; /* doubling: few copies for a large file */
    return resize(b, cap > MAX_FILE_BYTES ? MAX_FILE_BYTES : cap, path);
}

/* A first guess of the size, within the cap. */
static size_t first_size(size_t guess)
{
    if (guess < 4096) return 4096;
    return guess > MAX_FILE_BYTES ? MAX_FILE_BYTES : guess;
}

static int ends_with_gz(const char *path)
{
    size_t len = strlen(path);
    return len >= 3 && strcmp(path + len - 3, ".gz") == 0;
}

static int read_plain(const char *path, file_bytes *b)
{
    size_t size;
    /* Only a regular file is read: a FIFO with no writer would be waited on
     * forever, a device such as /dev/zero read forever (cs_files.h). */
    int fd = cs_open_regular(path, &size);
    if (fd < 0) return 2;
    /* The file's size is known: one allocation, plus one byte so that the
     * read that sees the end needs no second one. */
    size_t guess = size + 1;
    int rc = resize(b, first_size(guess), path);
    while (rc == 0) {
        if (b->len == b->cap && (rc = grow(b, path)) != 0) break;
        ssize_t got = read(fd, b->data + b->len, b->cap - b->len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            cs_error("%s: read error: %s", path, strerror(errno));
            rc = 2;
            break;
        }
        if (got == 0) break;
        b->len += (size_t)got;
    }
    close(fd);
    return rc;
}

#ifdef CS_HAVE_ZLIB
/* zlib's reason for the last error, without the "<fd:3>: " that gzerror
 * puts before it for a stream opened with gzdopen. */
static const char *gz_reason(gzFile gz, int *errnum)
{
    const char *why = gzerror(gz, errnum);
    if (*errnum == Z_ERRNO) return strerror(errno);
    const char *after = strstr(why, ">: ");
    return strncmp(why, "<fd:", 4) == 0 && after != NULL ? after + 3 : why;
}

static int read_gzip(const char *path, file_bytes *b)
{
    size_t size;
    int fd = cs_open_regular(path, &size);
    if (fd < 0) return 2;
    gzFile gz = gzdopen(fd, "rb");
    if (gz == NULL) {
        cs_error("%s: cannot start reading the gzip stream (out of memory?)", path);
        close(fd);
        return 3;
    }
    gzbuffer(gz, 256 * 1024); /* fewer, larger reads than the 8 KiB default */
    /* MNIST's files decompress to about twice their size: start there. */
    size_t guess = 2 * size;
    int rc = resize(b, first_size(guess), path);
    while (rc == 0) {
        if (b->len == b->cap && (rc = grow(b, path)) != 0) break;
        size_t room = b->cap - b->len;
        if (room > (1u << 30)) room = 1u << 30; /* gzread counts in unsigned int */
        int got = gzread(gz, b->data + b->len, (unsigned)room);
        if (got < 0) {
            int errnum = Z_OK;
            cs_error("%s: corrupt gzip data: %s", path, gz_reason(gz, &errnum));
            rc = 2;
            break;
        }
        if (got == 0) break;
        b->len += (size_t)got;
    }
    if (rc == 0) {
        /* gzread does not return -1 when the stream simply stops (a download
         * cut short): it returns what it had, then 0. Only gzerror tells. */
        int errnum = Z_OK;
        const char *why = gz_reason(gz, &errnum);
        if (errnum == Z_BUF_ERROR) {
            cs_error("%s: truncated gzip stream (%s): a download cut short?", path, why);
            rc = 2;
        } else if (errnum != Z_OK) {
            cs_error("%s: corrupt gzip data: %s", path, why);
            rc = 2;
        }
    }
    int closed = gzclose_r(gz); /* also closes fd */
    if (rc == 0 && closed != Z_OK) {
        cs_error("%s: truncated or corrupt gzip stream (zlib error %d at the end)", path, closed);
        rc = 2;
    }
    return rc;
}
#endif

/* Reads the whole file, decompressing a .gz. Returns 0, 2 or 3. */
static int read_whole_file(const char *path, file_bytes *b)
{
    memset(b, 0, sizeof *b);
    if (path == NULL || path[0] == '\0') {
        cs_error("an IDX file with an empty name");
        return 2;
    }
    int rc;
    if (ends_with_gz(path)) {
#ifdef CS_HAVE_ZLIB
        rc = read_gzip(path, b);
#else
        cs_error("%s: gzipped, but this build has no zlib (apt-get install zlib1g-dev and rebuild)", path);
        rc = 2;
#endif
    } else {
        rc = read_plain(path, b);
    }
    if (rc != 0) {
        free(b->data);
        memset(b, 0, sizeof *b);
    }
    return rc;
}

/* ---- the one parser ----------------------------------------------------- */

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* What the kind of file is called in messages, and what it holds. */
typedef struct {
    uint32_t magic;
    int ndims;           /* 3 for images (n, rows, cols), 1 for labels (n) */
    const char *kind;    /* "image" / "label" */
    const char *payload; /* "pixel data" / "labels" */
} idx_kind;

static const idx_kind IMAGES = {C1_IDX_MAGIC_IMAGES, 3, "image", "pixel data"};
static const idx_kind LABELS = {C1_IDX_MAGIC_LABELS, 1, "label", "labels"};

/* A hint for the most common wrong files, or "". */
static const char *magic_hint(const idx_kind *k, uint32_t found, const uint8_t *bytes)
{
    if (k->magic == C1_IDX_MAGIC_IMAGES && found == C1_IDX_MAGIC_LABELS)
        return " (it is a label file: are the image and label files swapped?)";
    if (k->magic == C1_IDX_MAGIC_LABELS && found == C1_IDX_MAGIC_IMAGES)
        return " (it is an image file: are the image and label files swapped?)";
    if (bytes[0] == 0x1f && bytes[1] == 0x8b) return " (it is gzipped: give it a name ending in .gz)";
    return "";
}

/* Checks the header of b against the bytes there; on success moves the data
 * to the start of b->data, shrinks it and sets dims[0..ndims-1]. Returns 0
 * or 2 (message printed). */
static int parse_idx(const char *path, const idx_kind *k, file_bytes *b, uint32_t dims[3])
{
    const size_t header = 4 + 4 * (size_t)k->ndims;
    if (b->len < 4) {
        cs_error("%s: %zu bytes, shorter than the %zu-byte header of an IDX %s file", path, b->len, header, k->kind);
        return 2;
    }
    uint32_t magic = get_be32(b->data);
    if (magic != k->magic) {
        cs_error("%s: magic number 0x%08X, expected 0x%08X: not an IDX %s file%s", path, (unsigned)magic,
                 (unsigned)k->magic, k->kind, magic_hint(k, magic, b->data));
        return 2;
    }
    if (b->len < header) {
        cs_error("%s: %zu bytes, shorter than the %zu-byte header of an IDX %s file", path, b->len, header, k->kind);
        return 2;
    }
    uint64_t promised = 1;
    for (int i = 0; i < k->ndims; i++) {
        dims[i] = get_be32(b->data + 4 + 4 * i);
        promised *= dims[i]; /* at most 1e7 * 4096 * 4096 once checked: fits */
    }

    if (k->ndims == 3) {
        if (dims[0] == 0 || dims[0] > C1_IDX_MAX_IMAGES || dims[1] == 0 || dims[1] > C1_IDX_MAX_SIDE || dims[2] == 0 ||
            dims[2] > C1_IDX_MAX_SIDE) {
            cs_error("%s: absurd dimensions in the header: %u images of %u x %u pixels "
                     "(expected 1 to %d images, sides 1 to %d)",
                     path, (unsigned)dims[0], (unsigned)dims[1], (unsigned)dims[2], C1_IDX_MAX_IMAGES, C1_IDX_MAX_SIDE);
            return 2;
        }
    } else if (dims[0] == 0 || dims[0] > C1_IDX_MAX_IMAGES) {
        cs_error("%s: absurd count in the header: %u labels (expected 1 to %d)", path, (unsigned)dims[0],
                 C1_IDX_MAX_IMAGES);
        return 2;
    }

    size_t have = b->len - header;
    if (have < promised) {
        cs_error("%s: truncated: has %zu bytes of %s, the header promises %llu", path, have, k->payload,
                 (unsigned long long)promised);
        return 2;
    }
    if (have > promised) {
        /* Not harmless: the header and the file disagree, so one of them is
         * wrong, and which images go with which labels is unknown. */
        size_t extra = have - (size_t)promised;
        cs_error("%s: %zu byte%s after the %llu bytes of %s the header promises: "
                 "a wrong or damaged file",
                 path, extra, extra == 1 ? "" : "s", (unsigned long long)promised, k->payload);
        return 2;
    }

    memmove(b->data, b->data + header, (size_t)promised);
    b->len = (size_t)promised;
    uint8_t *shrunk = realloc(b->data, b->len); /* failing to shrink is harmless */
    if (shrunk != NULL) {
        b->data = shrunk;
        b->cap = b->len;
    }
    return 0;
}

static int read_idx(const char *path, const idx_kind *k, uint32_t dims[3], uint8_t **bytes)
{
    *bytes = NULL;
    file_bytes b;
    int rc = read_whole_file(path, &b);
    if (rc != 0) return rc;
    rc = parse_idx(path, k, &b, dims);
    if (rc != 0) {
        free(b.data);
        return rc;
    }
    *bytes = b.data;
    return 0;
}

int c1_idx_read_images(const char *path, int *n, int *rows, int *cols, uint8_t **bytes)
{
    uint32_t dims[3] = {0, 0, 0};
    int rc = read_idx(path, &IMAGES, dims, bytes);
    if (rc != 0) return rc;
    *n = (int)dims[0];
    *rows = (int)dims[1];
    *cols = (int)dims[2];
    return 0;
}

int c1_idx_read_labels(const char *path, int *n, uint8_t **labels)
{
    uint32_t dims[3] = {0, 0, 0};
    int rc = read_idx(path, &LABELS, dims, labels);
    if (rc != 0) return rc;
    *n = (int)dims[0];
    return 0;
}

/* ---- writers ------------------------------------------------------------ */

static int write_idx(const char *path, const uint8_t *header, size_t header_len, const uint8_t *data, size_t len)
{
    cs_outfile o;
    if (cs_outfile_open(&o, path) != 0) return 3;
    fwrite(header, 1, header_len, o.f); /* errors are caught by the commit */
    if (len > 0) fwrite(data, 1, len, o.f);
    return cs_outfile_commit(&o) == 0 ? 0 : 3;
}

int c1_idx_write_images(const char *path, int n, int rows, int cols, const uint8_t *bytes)
{
    if (n < 1 || n > C1_IDX_MAX_IMAGES || rows < 1 || rows > C1_IDX_MAX_SIDE || cols < 1 || cols > C1_IDX_MAX_SIDE) {
        cs_error("%s: cannot write %d images of %d x %d pixels (expected 1 to %d images, "
                 "sides 1 to %d)",
                 path, n, rows, cols, C1_IDX_MAX_IMAGES, C1_IDX_MAX_SIDE);
        return 2;
    }
    uint8_t header[16];
    put_be32(header, C1_IDX_MAGIC_IMAGES);
    put_be32(header + 4, (uint32_t)n);
    put_be32(header + 8, (uint32_t)rows);
    put_be32(header + 12, (uint32_t)cols);
    return write_idx(path, header, sizeof header, bytes, (size_t)n * rows * cols);
}

int c1_idx_write_labels(const char *path, int n, const uint8_t *labels)
{
    if (n < 1 || n > C1_IDX_MAX_IMAGES) {
        cs_error("%s: cannot write %d labels (expected 1 to %d)", path, n, C1_IDX_MAX_IMAGES);
        return 2;
    }
    uint8_t header[8];
    put_be32(header, C1_IDX_MAGIC_LABELS);
    put_be32(header + 4, (uint32_t)n);
    return write_idx(path, header, sizeof header, labels, (size_t)n);
}
