/* Unit tests of lab_resnet/cifar.c: the CIFAR-10 binary reader (valid
 * files, each way a file can be damaged, a missing batch, the first N
 * records), the writer (a round trip) and the generated set (same seed same
 * bytes, classes balanced, learnable from its colours and shapes). Files
 * live in a temporary folder that is removed at the end. */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cifar.h"
#include "cs_console.h"
#include "cs_outfile.h"
#include "cs_test.h"
#include "cs_test_stderr.h"

#define SEED 20240613ull

static char tmp_dir[] = "/tmp/test_rn_cifar.XXXXXX";

static const char *path_in(const char *name)
{
    static char buf[CS_PATH_MAX];
    return cs_path_join(buf, sizeof buf, tmp_dir, name);
}

/* Writes bytes to tmp_dir/name (a file made by hand, damaged on purpose). */
static void write_raw(const char *name, const uint8_t *bytes, size_t len)
{
    FILE *f = fopen(path_in(name), "wb");
    if (f == NULL) {
        perror(name);
        exit(1);
    }
    if (len > 0 && fwrite(bytes, 1, len, f) != len) {
        perror(name);
        exit(1);
    }
    fclose(f);
}

/* n records of a valid file: labels i % 10, pixels a pattern. */
static uint8_t *make_records(int n)
{
    uint8_t *b = malloc((size_t)n * RN_CIFAR_RECORD + 16);
    for (int i = 0; i < n; i++) {
        uint8_t *r = b + (size_t)i * RN_CIFAR_RECORD;
        r[0] = (uint8_t)(i % 10);
        for (int k = 0; k < RN_CIFAR_PIXELS; k++) r[1 + k] = (uint8_t)(k * 7 + i * 13);
    }
    return b;
}

/* Reading tmp_dir/name must fail with rc 2, a one-line message naming the
 * file and the problem, and leave the set empty. */
static void expect_bad_file(const char *name, const char *problem, const char *detail)
{
    rn_cifar d;
    memset(&d, 0, sizeof d);
    cs_capture_begin();
    int rc = rn_cifar_read_file(&d, path_in(name));
    const char *msg = cs_capture_end();
    CHECK(rc == 2);
    CHECK(d.n == 0);
    cs_check_one_line(msg, name, problem);
    if (detail) cs_check_one_line(msg, detail, NULL);
    rn_cifar_free(&d);
}

/* ---- the tests ------------------------------------------------------------ */

static int same_set(const rn_cifar *a, const rn_cifar *b, int n)
{
    return a->n >= n && b->n >= n && memcmp(a->labels, b->labels, (size_t)n) == 0 &&
           memcmp(a->pixels, b->pixels, (size_t)n * RN_CIFAR_PIXELS) == 0;
}

static void test_round_trip(void)
{
    const int train_n = 53, test_n = 17; /* 53 = 11 + 11 + 11 + 10 + 10 */
    char dir[CS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path_in("gen/sub")); /* created with its parent */
    CHECK(rn_cifar_write_dir(dir, train_n, test_n, SEED) == 0);

    rn_cifar gen, train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    CHECK(rn_cifar_generate(&gen, train_n, SEED) == 0);
    CHECK(rn_cifar_load_train(&train, dir) == 0);
    CHECK(train.n == train_n);
    CHECK(same_set(&train, &gen, train_n));
    CHECK(strcmp(train.source, dir) == 0);

    /* The split: the first train_n % 5 files hold one more. */
    int expect[5] = {11, 11, 11, 10, 10};
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "gen/sub/data_batch_%d.bin", i + 1);
        rn_cifar one;
        memset(&one, 0, sizeof one);
        CHECK(rn_cifar_read_file(&one, path_in(name)) == 0);
        CHECK(one.n == expect[i]);
        rn_cifar_free(&one);
    }
    /* No temporary left beside the files. */
    int entries = 0;
    DIR *listing = opendir(dir);
    CHECK(listing != NULL);
    for (struct dirent *e; listing && (e = readdir(listing)) != NULL;) entries += e->d_name[0] != '.';
    if (listing) closedir(listing);
    CHECK(entries == 6);

    CHECK(rn_cifar_load_test(&test, dir) == 0);
    CHECK(test.n == test_n);
    int labels_ok = 1;
    for (int i = 0; i < test.n; i++) labels_ok &= test.labels[i] < 10;
    CHECK(labels_ok);
    /* The test images are not the training images. */
    CHECK(memcmp(test.pixels, gen.pixels, (size_t)test_n * RN_CIFAR_PIXELS) != 0);

    /* read_file appends: batch 1 then batch 2 are the first 22 images. */
    rn_cifar two;
    memset(&two, 0, sizeof two);
    CHECK(rn_cifar_read_file(&two, path_in("gen/sub/data_batch_1.bin")) == 0);
    CHECK(rn_cifar_read_file(&two, path_in("gen/sub/data_batch_2.bin")) == 0);
    CHECK(two.n == 22);
    CHECK(same_set(&two, &gen, 22));

    /* The first N records of a file. */
    rn_cifar first;
    memset(&first, 0, sizeof first);
    CHECK(rn_cifar_read_first(&first, path_in("gen/sub/data_batch_1.bin"), 5) == 0);
    CHECK(first.n == 5);
    CHECK(same_set(&first, &gen, 5));
    rn_cifar_free(&first);
    cs_capture_begin();
    int rc = rn_cifar_read_first(&first, path_in("gen/sub/data_batch_1.bin"), 12);
    const char *msg = cs_capture_end();
    CHECK(rc == 2);
    CHECK(first.n == 0);
    cs_check_one_line(msg, "data_batch_1.bin", "fewer than the 12");
    cs_capture_begin();
    rc = rn_cifar_read_first(&first, path_in("gen/sub/data_batch_1.bin"), 0);
    msg = cs_capture_end();
    CHECK(rc == 2);
    cs_check_one_line(msg, "data_batch_1.bin", "at least 1");
    rn_cifar_free(&first);

    /* A training set with data_batch_3.bin missing: rc 2, the file named,
     * the reason given, nothing loaded. */
    char missing[CS_PATH_MAX];
    snprintf(missing, sizeof missing, "%s", path_in("gen/sub/data_batch_3.bin"));
    CHECK(unlink(missing) == 0);
    rn_cifar partial;
    memset(&partial, 0, sizeof partial);
    cs_capture_begin();
    rc = rn_cifar_load_train(&partial, dir);
    msg = cs_capture_end();
    CHECK(rc == 2);
    CHECK(partial.n == 0);
    cs_check_one_line(msg, "data_batch_3.bin", "No such file");
    rn_cifar_free(&partial);

    /* A bad size argument for the writer. */
    cs_capture_begin();
    rc = rn_cifar_write_dir(path_in("gen/none"), 4, 1, SEED);
    msg = cs_capture_end();
    CHECK(rc == 2);
    cs_check_one_line(msg, "gen/none", "at least 5");

    rn_cifar_free(&gen);
    rn_cifar_free(&train);
    rn_cifar_free(&test);
    rn_cifar_free(&two);
}

static void test_damaged_files(void)
{
    uint8_t *rec = make_records(4);

    /* Valid: read back byte for byte. */
    write_raw("good.bin", rec, 4 * RN_CIFAR_RECORD);
    rn_cifar d;
    memset(&d, 0, sizeof d);
    CHECK(rn_cifar_read_file(&d, path_in("good.bin")) == 0);
    CHECK(d.n == 4);
    int same = 1;
    for (int i = 0; i < 4 && d.n == 4; i++) {
        same &= d.labels[i] == rec[(size_t)i * RN_CIFAR_RECORD];
        same &=
            memcmp(d.pixels + (size_t)i * RN_CIFAR_PIXELS, rec + (size_t)i * RN_CIFAR_RECORD + 1, RN_CIFAR_PIXELS) == 0;
    }
    CHECK(same);
    rn_cifar_free(&d);

    /* Truncated in the middle of record 2 (a download cut short). */
    write_raw("truncated.bin", rec, 2 * RN_CIFAR_RECORD + 100);
    expect_bad_file("truncated.bin", "not a whole number of 3073-byte records", "6246 bytes");
    /* One byte too many. */
    write_raw("extra.bin", rec, 3 * RN_CIFAR_RECORD + 1);
    expect_bad_file("extra.bin", "not a whole number of 3073-byte records", "9220 bytes");
    /* Empty. */
    write_raw("empty.bin", rec, 0);
    expect_bad_file("empty.bin", "empty", NULL);
    /* A label out of range in record 2 (counting from 0). */
    rec[2 * RN_CIFAR_RECORD] = 10;
    write_raw("label.bin", rec, 4 * RN_CIFAR_RECORD);
    expect_bad_file("label.bin", "record 2: label 10 is not 0..9", NULL);
    rec[2 * RN_CIFAR_RECORD] = 255;
    write_raw("label255.bin", rec, 4 * RN_CIFAR_RECORD);
    expect_bad_file("label255.bin", "record 2: label 255", NULL);
    /* Missing. */
    expect_bad_file("no_such.bin", "cannot open", "No such file");
    /* A folder where a file should be. */
    expect_bad_file("gen", "not a regular file", NULL);

    /* A failed read keeps what the set held. */
    memset(&d, 0, sizeof d);
    CHECK(rn_cifar_read_file(&d, path_in("good.bin")) == 0);
    cs_capture_begin();
    int rc = rn_cifar_read_file(&d, path_in("label.bin"));
    cs_capture_end();
    CHECK(rc == 2);
    CHECK(d.n == 4);
    rn_cifar_free(&d);

    /* The first N records of a file whose later records are bad are fine:
     * only what is read is checked (the size still must be whole). */
    memset(&d, 0, sizeof d);
    CHECK(rn_cifar_read_first(&d, path_in("label.bin"), 2) == 0);
    CHECK(d.n == 2);
    rn_cifar_free(&d);
    cs_capture_begin();
    rc = rn_cifar_read_first(&d, path_in("truncated.bin"), 1);
    const char *msg = cs_capture_end();
    CHECK(rc == 2);
    cs_check_one_line(msg, "truncated.bin", "not a whole number");
    rn_cifar_free(&d);
    free(rec);
}

static void test_generator(void)
{
    rn_cifar a, b, c, prefix;
    CHECK(rn_cifar_generate(&a, 1000, SEED) == 0);
    CHECK(rn_cifar_generate(&b, 1000, SEED) == 0);
    CHECK(rn_cifar_generate(&c, 1000, SEED + 1) == 0);
    CHECK(rn_cifar_generate(&prefix, 37, SEED) == 0);
    CHECK(a.n == 1000);
    CHECK(same_set(&a, &b, 1000));                                          /* same seed, same bytes */
    CHECK(memcmp(a.pixels, c.pixels, (size_t)1000 * RN_CIFAR_PIXELS) != 0); /* other seed */
    CHECK(memcmp(a.labels, c.labels, 1000) != 0);
    CHECK(same_set(&prefix, &a, 37)); /* image i is image i */
    CHECK(strstr(a.source, "generated") != NULL);

    /* Balanced: each class 100 times in 1000, and not in a fixed cycle. */
    int count[10] = {0}, cyclic = 1;
    for (int i = 0; i < a.n; i++) {
        count[a.labels[i]]++;
        cyclic &= a.labels[i] == i % 10;
    }
    for (int k = 0; k < 10; k++) CHECK(count[k] == 100);
    CHECK(!cyclic);

    /* Images vary: no two of the first 100 are equal, and they use the
     * byte range (not all dark, not all saturated). */
    int distinct = 1;
    for (int i = 0; i < 100; i++)
        for (int j = 0; j < i; j++)
            distinct &= memcmp(a.pixels + (size_t)i * RN_CIFAR_PIXELS, a.pixels + (size_t)j * RN_CIFAR_PIXELS,
                               RN_CIFAR_PIXELS) != 0;
    CHECK(distinct);
    double mean = 0;
    for (size_t k = 0; k < (size_t)a.n * RN_CIFAR_PIXELS; k++) mean += a.pixels[k];
    mean /= (double)a.n * RN_CIFAR_PIXELS;
    CHECK(mean > 60 && mean < 190);

    rn_cifar_free(&prefix);
    cs_capture_begin();
    int rc = rn_cifar_generate(&prefix, 0, SEED);
    const char *msg = cs_capture_end();
    CHECK(rc == 2);
    cs_check_one_line(msg, "at least 1", NULL);

    rn_cifar_free(&a);
    rn_cifar_free(&b);
    rn_cifar_free(&c);
    rn_cifar_free(&prefix);
}

/* Learnable: the nearest class mean, on 8 x 8 x 3 block averages, is far
 * above chance (10%) on images it did not see. A ResNet has much more to
 * go on (the shapes); this only shows the labels are in the pixels. */
static void test_learnable(void)
{
    enum { TRAIN = 2000, TEST = 1000, BLOCK = 4, CELLS = 8, FEATURES = 3 * CELLS * CELLS };
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, TRAIN + TEST, SEED) == 0);
    static double feat[TRAIN + TEST][FEATURES];
    for (int i = 0; i < d.n; i++) {
        const uint8_t *img = d.pixels + (size_t)i * RN_CIFAR_PIXELS;
        for (int f = 0; f < FEATURES; f++) feat[i][f] = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    feat[i][c * CELLS * CELLS + (y / BLOCK) * CELLS + x / BLOCK] +=
                        img[c * 1024 + y * 32 + x] / (double)(BLOCK * BLOCK);
    }
    static double mean[10][FEATURES];
    int count[10] = {0};
    for (int i = 0; i < TRAIN; i++) {
        count[d.labels[i]]++;
        for (int f = 0; f < FEATURES; f++) mean[d.labels[i]][f] += feat[i][f];
    }
    for (int k = 0; k < 10; k++)
        for (int f = 0; f < FEATURES; f++) mean[k][f] /= count[k] ? count[k] : 1;
    int correct = 0;
    for (int i = TRAIN; i < TRAIN + TEST; i++) {
        int best = 0;
        double best_d = 1e300;
        for (int k = 0; k < 10; k++) {
            double dist = 0;
            for (int f = 0; f < FEATURES; f++) dist += (feat[i][f] - mean[k][f]) * (feat[i][f] - mean[k][f]);
            if (dist < best_d) best_d = dist, best = k;
        }
        correct += best == d.labels[i];
    }
    double acc = (double)correct / TEST;
    printf("nearest class mean on 8x8x3 block averages: %.1f%% (chance 10%%)\n", 100 * acc);
    CHECK(acc > 0.25);
    rn_cifar_free(&d);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    cs_console_init("test_rn_cifar", 0);
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_damaged_files();
    test_generator();
    test_learnable();
    nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return cs_test_done();
}
