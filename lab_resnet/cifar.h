/* CIFAR-10 in its binary format: each record is 1 label byte (0..9) and
 * 3072 pixel bytes, the red, green and blue 32 x 32 planes row by row.
 * data_batch_1.bin .. data_batch_5.bin hold 10000 records each (training),
 * test_batch.bin 10000 (test). */
#ifndef RN_CIFAR_H
#define RN_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#define RN_CIFAR_SIDE    32
#define RN_CIFAR_PIXELS  (3 * 32 * 32)
#define RN_CIFAR_RECORD  (1 + RN_CIFAR_PIXELS)
#define RN_CIFAR_CLASSES 10

typedef struct {
    int n;
    uint8_t *pixels;   /* n * 3072 bytes, CHW planes per image */
    uint8_t *labels;   /* n */
    char source[1024]; /* the folder or "generated from seed S" */
} rn_cifar;

/* Reads one .bin file, appending its records to d. The file's size must be
 * a whole number of records (else: "FILE: N bytes is not a whole number of
 * 3073-byte records"), every label < 10 (else: "FILE: record R: label L is
 * not 0..9"). Returns 0, or 2 with one line on stderr; 3 when out of memory. */
int rn_cifar_read_file(rn_cifar *d, const char *path);

/* The training set: DIR/data_batch_1.bin .. data_batch_5.bin (all five
 * must exist). Returns 0 or 2/3 as above. */
int rn_cifar_load_train(rn_cifar *d, const char *dir);
/* The test set: DIR/test_batch.bin. */
int rn_cifar_load_test(rn_cifar *d, const char *dir);
/* The first `count` records of one file (check-step uses data_batch_1.bin). */
int rn_cifar_read_first(rn_cifar *d, const char *path, int count);

/* A learnable CIFAR-shaped set from the seed: class-dependent shapes
 * (discs, bars, rings, crosses, ...) in class-dependent colours on noisy
 * backgrounds, positions and sizes jittered. Same seed, same bytes. */
int rn_cifar_generate(rn_cifar *d, int n, uint64_t seed);
/* Writes DIR/data_batch_1..5.bin (train_n records split in five) and
 * DIR/test_batch.bin (test_n records) from the seed, in the format above,
 * all six or none: a failure leaves DIR as it was. Returns 0; 2 with one
 * line when DIR cannot be written or one of the six names is a folder, a
 * FIFO or a device (checked before anything is written); 3 with one line
 * when writing fails. */
int rn_cifar_write_dir(const char *dir, int train_n, int test_n, uint64_t seed);

void rn_cifar_free(rn_cifar *d);

#endif
