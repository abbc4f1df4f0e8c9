/* A fuzz target for lab_resnet's CIFAR-10 reader (cifar.c): arbitrary bytes
 * are written to a file and read as a CIFAR-10 batch, whole
 * (rn_cifar_read_file, appended to a set that already holds one record) and
 * in part (rn_cifar_read_first, the count from the first byte).
 *
 * What must hold: the file is taken exactly when its size is a non-zero
 * whole number of 3073-byte records and every label is below 10, else the
 * answer is 2; a taken file's labels and pixels are its bytes, in order,
 * after the records already held; a refused file leaves the set as it was.
 *
 * Built as tests/fuzz.cmake says: lab_resnet.fuzz_cifar_corpus replays the
 * seeds with any compiler, lab_resnet.fuzz_cifar_short explores under
 * libFuzzer with clang. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cifar.h"
#include "cs_fuzz_replay.h"

#define REQUIRE(cond) CS_FUZZ_REQUIRE(cond)

static char dir[] = "/tmp/fuzz_cifar.XXXXXX";
static char path[sizeof dir + 16];

static void clean_up(void)
{
    unlink(path);
    rmdir(dir);
}

/* The record every set starts with: label 3, pixels 0, 1, 2, ... */
static uint8_t first_record[RN_CIFAR_RECORD];

static void start_set(rn_cifar *d)
{
    memset(d, 0, sizeof *d);
    REQUIRE(rn_cifar_generate(d, 1, 9) == 0);
    d->labels[0] = first_record[0];
    memcpy(d->pixels, first_record + 1, RN_CIFAR_PIXELS);
}

static void check_set(const rn_cifar *d, const uint8_t *data, size_t records)
{
    REQUIRE(d->n == 1 + (int)records);
    REQUIRE(d->labels[0] == first_record[0]);
    REQUIRE(memcmp(d->pixels, first_record + 1, RN_CIFAR_PIXELS) == 0);
    for (size_t r = 0; r < records; r++) {
        const uint8_t *rec = data + r * RN_CIFAR_RECORD;
        REQUIRE(d->labels[1 + r] == rec[0]);
        REQUIRE(memcmp(d->pixels + (1 + r) * RN_CIFAR_PIXELS, rec + 1, RN_CIFAR_PIXELS) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0') {
        REQUIRE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/batch.bin", dir);
        first_record[0] = 3;
        for (int i = 1; i < RN_CIFAR_RECORD; i++) first_record[i] = (uint8_t)i;
        atexit(clean_up);
    }
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(size == 0 || fwrite(data, 1, size, f) == size);
    REQUIRE(fclose(f) == 0);

    /* The rules, from the file's bytes. */
    size_t records = size / RN_CIFAR_RECORD;
    size_t first_bad = records; /* the first record whose label is not a class */
    for (size_t r = 0; r < records && first_bad == records; r++)
        if (data[r * RN_CIFAR_RECORD] >= RN_CIFAR_CLASSES) first_bad = r;
    int whole = size > 0 && size % RN_CIFAR_RECORD == 0;

    rn_cifar d;
    start_set(&d);
    int rc = rn_cifar_read_file(&d, path);
    REQUIRE(rc == 0 || rc == 2);
    REQUIRE((rc == 0) == (whole && first_bad == records));
    cs_fuzz_accepted = rc == 0;
    if (rc == 0)
        check_set(&d, data, records);
    else
        REQUIRE(d.n == 1); /* a refused file adds nothing */
    rn_cifar_free(&d);

    /* The first `count` records only: the labels of those must be classes. */
    int count = size > 0 ? 1 + data[0] % 4 : 1;
    start_set(&d);
    rc = rn_cifar_read_first(&d, path, count);
    REQUIRE(rc == 0 || rc == 2);
    REQUIRE((rc == 0) == (whole && records >= (size_t)count && first_bad >= (size_t)count));
    if (rc == 0)
        check_set(&d, data, (size_t)count);
    else
        REQUIRE(d.n == 1);
    rn_cifar_free(&d);
    return 0;
}

#ifdef RN_FUZZ_STANDALONE
int main(int argc, char **argv)
{
    return cs_fuzz_replay(argc, argv, "fuzz_cifar", "all invariants held");
}
#endif
