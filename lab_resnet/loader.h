/* The data loader: batches of transformed images and their labels, in an
 * order shuffled per epoch from the seed. Part 1 (the lab's baseline,
 * num_workers = 0) loads each batch in the training thread, when it is
 * asked for; Part 2's workers (workers.h) call the same rn_loader_get from
 * their threads: the contents of batch b of epoch e are defined by
 * (seed, e, b) alone. */
#ifndef RN_LOADER_H
#define RN_LOADER_H

#include <stdint.h>

#include "cifar.h"

typedef struct {
    const rn_cifar *data;
    int batch;    /* images per batch */
    int img_size; /* output side (32 native, 224 the lab's) */
    int augment;  /* 1: RandomResizedCrop + flip; 0: the whole image, resized to img_size */
    uint64_t seed;
    int epoch;      /* the current epoch (set by rn_loader_start_epoch) */
    int32_t *order; /* data->n sample indices, this epoch's order */
    int batches;    /* batches per epoch, the last one short when batch does not divide data->n */
} rn_loader;

/* Returns 0, or 2 with one line when the batch is larger than the data set. */
int rn_loader_init(rn_loader *l, const rn_cifar *data, int batch, int img_size, int augment, uint64_t seed);
/* Shuffles for epoch e (Fisher-Yates from (seed, e)); without augment the
 * order is the file order. */
void rn_loader_start_epoch(rn_loader *l, int epoch);
/* Images in batch b: `batch`, or fewer for the epoch's last batch (the
 * lab's DataLoader keeps it: drop_last=False). */
int rn_loader_count(const rn_loader *l, int b);
/* Fills images (count x 3 x img_size x img_size floats, host) and labels
 * (count int32) with batch b of the current epoch (0 <= b < batches);
 * returns count (rn_loader_count). */
int rn_loader_get(const rn_loader *l, int b, float *images, int32_t *labels);
/* Images first .. first + count - 1 of batch b only (0 <= first, first +
 * count <= rn_loader_count): a data-parallel rank's shard of a global
 * batch, the same images and crops as in the whole batch. Returns count. */
int rn_loader_get_part(const rn_loader *l, int b, int first, int count, float *images, int32_t *labels);
void rn_loader_free(rn_loader *l);

#endif
