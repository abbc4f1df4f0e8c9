/* A fuzz target for case01's IDX reader (idx.c), plain and gzipped: the
 * first byte of an input chooses how the rest is read.
 *   0, 1: written as is and read as an image file (0) or a label file (1);
 *   2, 3: the same, named .gz: arbitrary bytes through zlib;
 *   4, 5: gzipped here first, then read both plain and as .gz: the two
 *         readings must give the same answer and, when taken, the same data
 *         (idx.c promises one parser for both).
 * What must hold for every reading: the answer is 0 or 2 (3 only for memory);
 * a taken file's sizes are within the limits of idx.h, and its data is the
 * bytes after the header, exactly as many as the header promises.
 *
 * idx.c is compiled into this file (with CS_HAVE_ZLIB where the build has
 * zlib: fuzz_idx_config.h, written by CMake), since tests/fuzz.cmake passes
 * no defines. Built as tests/fuzz.cmake says: case01.fuzz_idx_corpus
 * replays the seeds with any compiler, case01.fuzz_idx_short explores under
 * libFuzzer with clang. */
#include "fuzz_idx_config.h"
#if C1_FUZZ_HAVE_ZLIB
#define CS_HAVE_ZLIB 1
#endif
#include "idx.c"

#include "cs_fuzz_replay.h"

#define REQUIRE(cond) CS_FUZZ_REQUIRE(cond)

static char dir[] = "/tmp/fuzz_idx.XXXXXX";
static char plain_path[sizeof dir + 16], gz_path[sizeof dir + 16];

static void clean_up(void)
{
    unlink(plain_path);
    unlink(gz_path);
    rmdir(dir);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(size == 0 || fwrite(data, 1, size, f) == size);
    REQUIRE(fclose(f) == 0);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct {
    int rc, n, rows, cols;
    uint8_t *bytes;
    size_t len;
} reading;

/* Reads path as images or labels and checks what every reading must hold;
 * `plain` is the file's content when known (NULL for a .gz of fuzz bytes). */
static reading read_one(const char *path, int labels, const uint8_t *plain, size_t plain_len)
{
    reading r = {0};
    if (labels) {
        r.rc = c1_idx_read_labels(path, &r.n, &r.bytes);
        r.rows = r.cols = 1;
    } else {
        r.rc = c1_idx_read_images(path, &r.n, &r.rows, &r.cols, &r.bytes);
    }
    REQUIRE(r.rc == 0 || r.rc == 2 || r.rc == 3);
    if (r.rc != 0) {
        REQUIRE(r.bytes == NULL);
        return r;
    }
    REQUIRE(r.bytes != NULL);
    REQUIRE(r.n >= 1 && r.n <= C1_IDX_MAX_IMAGES);
    REQUIRE(r.rows >= 1 && r.rows <= C1_IDX_MAX_SIDE && r.cols >= 1 && r.cols <= C1_IDX_MAX_SIDE);
    r.len = (size_t)r.n * (size_t)r.rows * (size_t)r.cols;
    volatile uint8_t sum = 0; /* every byte readable (AddressSanitizer) */
    for (size_t i = 0; i < r.len; i++) sum ^= r.bytes[i];
    (void)sum;
    if (plain != NULL) {
        size_t header = labels ? 8 : 16;
        REQUIRE(plain_len == header + r.len);
        REQUIRE(be32(plain) == (labels ? C1_IDX_MAGIC_LABELS : C1_IDX_MAGIC_IMAGES));
        REQUIRE(be32(plain + 4) == (uint32_t)r.n);
        if (!labels) REQUIRE(be32(plain + 8) == (uint32_t)r.rows && be32(plain + 12) == (uint32_t)r.cols);
        REQUIRE(memcmp(r.bytes, plain + header, r.len) == 0);
    }
    return r;
}

#if C1_FUZZ_HAVE_ZLIB
/* data gzipped into a malloc'd buffer. */
static uint8_t *gzip(const uint8_t *data, size_t size, size_t *out_len)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    REQUIRE(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&s, (uLong)size) + 64;
    uint8_t *out = malloc(cap);
    REQUIRE(out != NULL);
    s.next_in = (Bytef *)data;
    s.avail_in = (uInt)size;
    s.next_out = out;
    s.avail_out = (uInt)cap;
    REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
    *out_len = cap - s.avail_out;
    deflateEnd(&s);
    return out;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (plain_path[0] == '\0') {
        REQUIRE(mkdtemp(dir) != NULL);
        snprintf(plain_path, sizeof plain_path, "%s/file", dir);
        snprintf(gz_path, sizeof gz_path, "%s/file.gz", dir);
        atexit(clean_up);
    }
    if (size == 0) return 0;
    int mode = data[0] % 6, labels = mode % 2;
    data++, size--;
    if (mode < 2) {
        write_file(plain_path, data, size);
        reading r = read_one(plain_path, labels, data, size);
        free(r.bytes);
    } else if (mode < 4) {
        write_file(gz_path, data, size);
        reading r = read_one(gz_path, labels, NULL, 0);
        REQUIRE(c1_idx_have_zlib() || r.rc == 2);
        free(r.bytes);
    } else {
#if C1_FUZZ_HAVE_ZLIB
        size_t gz_len;
        uint8_t *gz = gzip(data, size, &gz_len);
        write_file(plain_path, data, size);
        write_file(gz_path, gz, gz_len);
        free(gz);
        reading a = read_one(plain_path, labels, data, size);
        reading b = read_one(gz_path, labels, data, size);
        REQUIRE(a.rc == b.rc);
        if (a.rc == 0) REQUIRE(a.n == b.n && a.rows == b.rows && a.cols == b.cols);
        free(a.bytes);
        free(b.bytes);
#endif
    }
    return 0;
}

#ifdef C1_FUZZ_STANDALONE
int main(int argc, char **argv)
{
    return cs_fuzz_replay(argc, argv, "fuzz_idx", "all invariants held");
}
#endif
