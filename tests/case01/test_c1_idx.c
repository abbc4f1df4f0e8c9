/* case01's IDX reader and data-set loader (idx.c, workload.c): a valid pair
 * read back byte for byte, and each way a file can be wrong (truncated,
 * wrong magic number, images and labels swapped, header only, trailing
 * bytes, absurd dimensions, counts that differ, a label >= 10, a missing
 * directory or file) gives exit code 2 and one line on stderr naming the
 * file. With zlib: a .gz pair, and truncated or corrupt .gz files. With the
 * real Fashion-MNIST files installed: their shape. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_test.h"
#include "cs_test_stderr.h"
#include "idx.h"
#include "workload.h"

/* zlib's header, when installed, to write .gz files; whether the library
 * can read them is asked at run time (c1_idx_have_zlib): CS_HAVE_ZLIB is
 * private to case01_lib. */
#if defined(__has_include)
#if __has_include(<zlib.h>)
#include <zlib.h>
#define TEST_HAVE_ZLIB_H 1
#endif
#endif

static char tmp_dir[] = "/tmp/test_c1_idx.XXXXXX";

/* ---- files --------------------------------------------------------------- */

static const char *path_in(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", tmp_dir, name);
    return p;
}

static void make_dir(const char *name)
{
    mkdir(path_in(name), 0700);
}

static void write_raw(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    if (len > 0) fwrite(bytes, 1, len, f);
    fclose(f);
}

static uint8_t *read_raw(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An image file's bytes: the header as given, then `data_len` pixel bytes
 * (i * 7 + 3, so every byte is checkable). Returns the total length. */
static size_t image_file(uint8_t *buf, uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols, size_t data_len)
{
    put_be32(buf, magic);
    put_be32(buf + 4, n);
    put_be32(buf + 8, rows);
    put_be32(buf + 12, cols);
    for (size_t i = 0; i < data_len; i++) buf[16 + i] = (uint8_t)(i * 7 + 3);
    return 16 + data_len;
}

static size_t label_file(uint8_t *buf, uint32_t magic, uint32_t n, size_t data_len)
{
    put_be32(buf, magic);
    put_be32(buf + 4, n);
    for (size_t i = 0; i < data_len; i++) buf[8 + i] = (uint8_t)(i % 10);
    return 8 + data_len;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Reads path as an image file expecting failure: rc 2, one line naming the
 * file's base name and `problem`. */
static void expect_bad_images(const char *name, const char *problem)
{
    int n = -1, rows = -1, cols = -1;
    uint8_t *bytes = (uint8_t *)"untouched";
    cs_capture_begin();
    int rc = c1_idx_read_images(path_in(name), &n, &rows, &cols, &bytes);
    const char *msg = cs_capture_end();
    CHECK(rc == 2);
    CHECK(bytes == NULL);
    cs_check_one_line(msg, name, problem);
}

static void expect_bad_labels(const char *name, const char *problem)
{
    int n = -1;
    uint8_t *labels = (uint8_t *)"untouched";
    cs_capture_begin();
    int rc = c1_idx_read_labels(path_in(name), &n, &labels);
    const char *msg = cs_capture_end();
    CHECK(rc == 2);
    CHECK(labels == NULL);
    cs_check_one_line(msg, name, problem);
}

static void expect_bad_dir(const char *dir, const char *piece1, const char *piece2)
{
    c1_dataset d;
    cs_capture_begin();
    int rc = c1_dataset_load_dir(&d, dir);
    const char *msg = cs_capture_end();
    CHECK(rc == 2);
    CHECK(d.images == NULL && d.labels == NULL);
    cs_check_one_line(msg, piece1, piece2);
}

/* ---- the cases ----------------------------------------------------------- */

enum { N = 5, ROWS = 4, COLS = 3, PIX = N * ROWS * COLS };

static uint8_t pixels[PIX], labels[N];

static void test_valid_pair(void)
{
    for (int i = 0; i < PIX; i++) pixels[i] = (uint8_t)(i * 37 + 11);
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)((i * 3) % 10);
    make_dir("valid");
    CHECK(c1_idx_write_images(path_in("valid/train-images-idx3-ubyte"), N, ROWS, COLS, pixels) == 0);
    CHECK(c1_idx_write_labels(path_in("valid/train-labels-idx1-ubyte"), N, labels) == 0);

    /* The writer's bytes: big-endian header, then the data as given. */
    size_t len;
    uint8_t *raw = read_raw(path_in("valid/train-images-idx3-ubyte"), &len);
    const uint8_t header[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, ROWS, 0, 0, 0, COLS};
    CHECK(len == 16 + PIX);
    CHECK(memcmp(raw, header, 16) == 0);
    CHECK(memcmp(raw + 16, pixels, PIX) == 0);
    free(raw);
    raw = read_raw(path_in("valid/train-labels-idx1-ubyte"), &len);
    CHECK(len == 8 + N && raw[3] == 0x01 && raw[7] == N);
    free(raw);

    int n = 0, rows = 0, cols = 0;
    uint8_t *bytes = NULL;
    CHECK(c1_idx_read_images(path_in("valid/train-images-idx3-ubyte"), &n, &rows, &cols, &bytes) == 0);
    CHECK(n == N && rows == ROWS && cols == COLS);
    CHECK(bytes != NULL && memcmp(bytes, pixels, PIX) == 0);
    free(bytes);
    uint8_t *lab = NULL;
    CHECK(c1_idx_read_labels(path_in("valid/train-labels-idx1-ubyte"), &n, &lab) == 0);
    CHECK(n == N && lab != NULL && memcmp(lab, labels, N) == 0);
    free(lab);

    c1_dataset d;
    CHECK(c1_dataset_load_dir(&d, path_in("valid")) == 0);
    CHECK(d.n == N && d.rows == ROWS && d.cols == COLS);
    CHECK(d.images != NULL && memcmp(d.images, pixels, PIX) == 0);
    CHECK(d.labels != NULL && memcmp(d.labels, labels, N) == 0);
    CHECK(strstr(d.source, "valid/train-images-idx3-ubyte") != NULL);
    c1_dataset_free(&d);
    CHECK(d.images == NULL && d.labels == NULL && d.n == 0);

    /* The writers refuse what the reader would refuse. */
    cs_capture_begin();
    int rc1 = c1_idx_write_images(path_in("never-images"), 0, ROWS, COLS, pixels);
    int rc2 = c1_idx_write_labels(path_in("never-labels"), -1, labels);
    int rc3 = c1_idx_write_labels(path_in("no/such/dir/labels"), N, labels);
    cs_capture_end();
    CHECK(rc1 == 2 && rc2 == 2 && rc3 == 3);
    CHECK(access(path_in("never-images"), F_OK) != 0);
}

static void test_bad_files(void)
{
    static uint8_t buf[1024];
    size_t len;

    len = image_file(buf, C1_IDX_MAGIC_IMAGES, N, ROWS, COLS, PIX - 1);
    write_raw(path_in("truncated"), buf, len);
    expect_bad_images("truncated", "has 59 bytes of pixel data, the header promises 60");

    len = image_file(buf, C1_IDX_MAGIC_IMAGES, N, ROWS, COLS, 0);
    write_raw(path_in("header-only"), buf, len);
    expect_bad_images("header-only", "has 0 bytes of pixel data, the header promises 60");

    len = image_file(buf, C1_IDX_MAGIC_IMAGES, N, ROWS, COLS, PIX + 1);
    write_raw(path_in("trailing"), buf, len);
    expect_bad_images("trailing", "1 byte after the 60 bytes");

    len = image_file(buf, 0x00000802, N, ROWS, COLS, PIX);
    write_raw(path_in("magic"), buf, len);
    expect_bad_images("magic", "magic number 0x00000802, expected 0x00000803: not an IDX image file");

    image_file(buf, C1_IDX_MAGIC_IMAGES, N, ROWS, COLS, 0);
    write_raw(path_in("short10"), buf, 10); /* magic right, dimensions cut */
    expect_bad_images("short10", "shorter than the 16-byte header");
    write_raw(path_in("short2"), buf, 2);
    expect_bad_images("short2", "shorter than");
    write_raw(path_in("empty"), buf, 0);
    expect_bad_images("empty", "0 bytes, shorter than");
    expect_bad_labels("empty", "0 bytes, shorter than the 8-byte header");

    /* Absurd dimensions are caught before the size is compared. */
    len = image_file(buf, C1_IDX_MAGIC_IMAGES, 0, ROWS, COLS, 0);
    write_raw(path_in("zero-images"), buf, len);
    expect_bad_images("zero-images", "absurd dimensions");
    len = image_file(buf, C1_IDX_MAGIC_IMAGES, 20000000, 28, 28, 0);
    write_raw(path_in("too-many"), buf, len);
    expect_bad_images("too-many", "20000000 images");
    len = image_file(buf, C1_IDX_MAGIC_IMAGES, N, 0, COLS, 0);
    write_raw(path_in("zero-rows"), buf, len);
    expect_bad_images("zero-rows", "absurd dimensions");
    len = image_file(buf, C1_IDX_MAGIC_IMAGES, 1, 28, 5000, 0);
    write_raw(path_in("wide"), buf, len);
    expect_bad_images("wide", "28 x 5000");
    len = label_file(buf, C1_IDX_MAGIC_LABELS, 0, 0);
    write_raw(path_in("zero-labels"), buf, len);
    expect_bad_labels("zero-labels", "absurd count");

    /* Labels: truncated and trailing. */
    len = label_file(buf, C1_IDX_MAGIC_LABELS, N, N - 2);
    write_raw(path_in("labels-truncated"), buf, len);
    expect_bad_labels("labels-truncated", "has 3 bytes of labels, the header promises 5");
    len = label_file(buf, C1_IDX_MAGIC_LABELS, N, N + 4);
    write_raw(path_in("labels-trailing"), buf, len);
    expect_bad_labels("labels-trailing", "4 bytes after");

    /* The files swapped: each read as the other kind. */
    expect_bad_images("valid/train-labels-idx1-ubyte", "not an IDX image file");
    expect_bad_images("valid/train-labels-idx1-ubyte", "swapped");
    expect_bad_labels("valid/train-images-idx3-ubyte",
                      "magic number 0x00000803, expected 0x00000801: not an IDX label file");

    expect_bad_images("no-such-file", "cannot open: No such file or directory");
    expect_bad_images("valid", "cannot read: a directory, not a regular file");

    /* Not regular files: refused at once, never waited on (a FIFO with no
     * writer) nor read (a device). A symbolic link to a valid file reads. */
    CHECK(mkfifo(path_in("fifo"), 0600) == 0);
    expect_bad_images("fifo", "cannot read: a FIFO (named pipe), not a regular file");
    expect_bad_labels("fifo", "cannot read: a FIFO (named pipe), not a regular file");
    CHECK(symlink("/dev/zero", path_in("zero")) == 0);
    expect_bad_images("zero", "cannot read: a character device, not a regular file");
    CHECK(symlink("valid/train-images-idx3-ubyte", path_in("link-images")) == 0);
    int n = 0, rows = 0, cols = 0;
    uint8_t *bytes = NULL;
    CHECK(c1_idx_read_images(path_in("link-images"), &n, &rows, &cols, &bytes) == 0 && n == N);
    free(bytes);
    CHECK(symlink("no-such-target", path_in("dangling")) == 0);
    expect_bad_images("dangling", "cannot open: No such file or directory");
}

static void test_bad_dirs(void)
{
    static uint8_t buf[1024];
    size_t len;

    /* Counts that differ: both files and both counts named. */
    make_dir("counts");
    CHECK(c1_idx_write_images(path_in("counts/train-images-idx3-ubyte"), N, ROWS, COLS, pixels) == 0);
    CHECK(c1_idx_write_labels(path_in("counts/train-labels-idx1-ubyte"), N - 1, labels) == 0);
    expect_bad_dir(path_in("counts"), "train-images-idx3-ubyte has 5 images", "train-labels-idx1-ubyte has 4 labels");

    /* A label that is no class. */
    make_dir("label10");
    uint8_t bad_labels[N] = {1, 2, 3, 10, 4};
    CHECK(c1_idx_write_images(path_in("label10/train-images-idx3-ubyte"), N, ROWS, COLS, pixels) == 0);
    CHECK(c1_idx_write_labels(path_in("label10/train-labels-idx1-ubyte"), N, bad_labels) == 0);
    expect_bad_dir(path_in("label10"), "train-labels-idx1-ubyte: label 10 at index 3", NULL);

    /* Swapped under the right names: the images file holds labels. */
    make_dir("swapped");
    CHECK(c1_idx_write_labels(path_in("swapped/train-images-idx3-ubyte"), N, labels) == 0);
    CHECK(c1_idx_write_images(path_in("swapped/train-labels-idx1-ubyte"), N, ROWS, COLS, pixels) == 0);
    expect_bad_dir(path_in("swapped"), "swapped/train-images-idx3-ubyte", "not an IDX image file");

    /* A truncated images file through the loader. */
    make_dir("cut");
    len = image_file(buf, C1_IDX_MAGIC_IMAGES, N, ROWS, COLS, PIX / 2);
    write_raw(path_in("cut/train-images-idx3-ubyte"), buf, len);
    CHECK(c1_idx_write_labels(path_in("cut/train-labels-idx1-ubyte"), N, labels) == 0);
    expect_bad_dir(path_in("cut"), "cut/train-images-idx3-ubyte: truncated", NULL);

    /* Missing things. */
    expect_bad_dir(path_in("no-such-dir"), "no-such-dir: cannot open", "No such file or directory");
    expect_bad_dir(path_in("valid/train-images-idx3-ubyte"), "not a directory", NULL);
    make_dir("empty-dir");
    expect_bad_dir(path_in("empty-dir"), "empty-dir: no train-images-idx3-ubyte[.gz]", "expected MNIST's IDX files");
    make_dir("images-only");
    CHECK(c1_idx_write_images(path_in("images-only/train-images-idx3-ubyte"), N, ROWS, COLS, pixels) == 0);
    expect_bad_dir(path_in("images-only"), "no train-labels-idx1-ubyte[.gz]", NULL);

    /* A FIFO or a device in the folder: the option and the file named. */
    make_dir("fifo-dir");
    CHECK(mkfifo(path_in("fifo-dir/train-images-idx3-ubyte"), 0600) == 0);
    CHECK(c1_idx_write_labels(path_in("fifo-dir/train-labels-idx1-ubyte"), N, labels) == 0);
    expect_bad_dir(path_in("fifo-dir"),
                   "--data: ", "fifo-dir/train-images-idx3-ubyte is a FIFO (named pipe), not a regular file");
    make_dir("dev-dir");
    CHECK(c1_idx_write_images(path_in("dev-dir/train-images-idx3-ubyte"), N, ROWS, COLS, pixels) == 0);
    CHECK(symlink("/dev/zero", path_in("dev-dir/train-labels-idx1-ubyte.gz")) == 0);
    expect_bad_dir(path_in("dev-dir"), "train-labels-idx1-ubyte.gz is a character device", NULL);
}

#ifdef TEST_HAVE_ZLIB_H
/* Writes the bytes gzipped with zlib's own writer. */
static void write_gz(const char *path, const uint8_t *bytes, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    if (gz == NULL) {
        perror(path);
        exit(1);
    }
    CHECK(gzwrite(gz, bytes, (unsigned)len) == (int)len);
    CHECK(gzclose(gz) == Z_OK);
}

static void test_gzip(void)
{
    /* Large enough that the compressed stream has a middle to cut. */
    enum { GN = 300, GR = 28, GC = 28 };
    static uint8_t img[16 + GN * GR * GC], lab[8 + GN];
    size_t img_len = image_file(img, C1_IDX_MAGIC_IMAGES, GN, GR, GC, (size_t)GN * GR * GC);
    size_t lab_len = label_file(lab, C1_IDX_MAGIC_LABELS, GN, GN);

    make_dir("gz");
    write_gz(path_in("gz/train-images-idx3-ubyte.gz"), img, img_len);
    write_gz(path_in("gz/train-labels-idx1-ubyte.gz"), lab, lab_len);
    c1_dataset d;
    CHECK(c1_dataset_load_dir(&d, path_in("gz")) == 0);
    CHECK(d.n == GN && d.rows == GR && d.cols == GC);
    CHECK(d.images != NULL && memcmp(d.images, img + 16, (size_t)GN * GR * GC) == 0);
    CHECK(d.labels != NULL && memcmp(d.labels, lab + 8, GN) == 0);
    CHECK(strstr(d.source, "train-images-idx3-ubyte.gz") != NULL);
    c1_dataset_free(&d);

    size_t gz_len;
    uint8_t *gz = read_raw(path_in("gz/train-images-idx3-ubyte.gz"), &gz_len);
    CHECK(gz_len > 100);

    /* Cut in the middle of the compressed data. */
    write_raw(path_in("half.gz"), gz, gz_len / 2);
    expect_bad_images("half.gz", "truncated gzip stream");
    /* Only the trailer (CRC and length) missing: all the data decompresses,
     * yet the stream is incomplete. */
    write_raw(path_in("no-trailer.gz"), gz, gz_len - 8);
    expect_bad_images("no-trailer.gz", "gzip");
    /* A byte of the compressed data changed: the CRC (at least) disagrees. */
    gz[gz_len / 2] ^= 0x55;
    write_raw(path_in("corrupt.gz"), gz, gz_len);
    expect_bad_images("corrupt.gz", "gzip");
    free(gz);

    /* A complete .gz whose content is wrong: the same parser's messages. */
    size_t cut_len = image_file(img, C1_IDX_MAGIC_IMAGES, GN, GR, GC, (size_t)GN * GR * GC - 5);
    write_gz(path_in("short-content.gz"), img, cut_len);
    expect_bad_images("short-content.gz", "truncated: has 235195 bytes of pixel data");

    /* A plain file is preferred over its .gz (here the .gz is broken). */
    make_dir("both");
    CHECK(c1_idx_write_images(path_in("both/train-images-idx3-ubyte"), N, ROWS, COLS, pixels) == 0);
    CHECK(c1_idx_write_labels(path_in("both/train-labels-idx1-ubyte"), N, labels) == 0);
    write_raw(path_in("both/train-images-idx3-ubyte.gz"), "not gzip", 8);
    CHECK(c1_dataset_load_dir(&d, path_in("both")) == 0);
    CHECK(d.n == N);
    c1_dataset_free(&d);
}
#endif

/* The real files, when this machine has them. */
static void test_fashion_mnist(void)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0 || !c1_idx_have_zlib()) {
        printf("skipped: Fashion-MNIST (not installed, or no zlib)\n");
        return;
    }
    c1_dataset d;
    CHECK(c1_dataset_load_dir(&d, dir) == 0);
    CHECK(d.n == 60000 && d.rows == 28 && d.cols == 28);
    int count[256] = {0};
    for (int i = 0; i < d.n; i++) count[d.labels[i]]++;
    for (int c = 0; c < C1_CLASSES; c++) CHECK(count[c] == 6000); /* balanced, as published */
    long long sum = 0;
    for (size_t i = 0; i < (size_t)d.n * 784; i++) sum += d.images[i];
    double mean = (double)sum / ((double)d.n * 784);
    CHECK(mean > 50 && mean < 100); /* 72.9 for the training set */
    c1_dataset_free(&d);
}

int main(void)
{
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_valid_pair();
    test_bad_files();
    test_bad_dirs();
    if (c1_idx_have_zlib()) {
#ifdef TEST_HAVE_ZLIB_H
        test_gzip();
#else
        printf("skipped: .gz cases (no zlib.h to write them)\n");
#endif
    } else {
        /* Without zlib a .gz is refused with a message that says how to fix it. */
        write_raw(path_in("any.gz"), "x", 1);
        expect_bad_images("any.gz", "this build has no zlib");
    }
    test_fashion_mnist();
    nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return cs_test_done();
}
