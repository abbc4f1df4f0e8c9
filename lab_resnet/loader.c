/* The data loader (loader.h): PyTorch's DataLoader(shuffle=True,
 * drop_last=False, num_workers=0) in C. Each epoch's order is a Fisher-Yates
 * shuffle from (seed, epoch); batch b is positions [b * batch, (b+1) * batch)
 * of that order; each image is transformed as it is asked for.
 *
 * rn_loader_get only reads the loader and the data set and writes the
 * caller's buffers, and each image's augmentation has its own generator
 * (transforms.c): several threads may fetch different batches, or parts of
 * one, at once. It starts no threads itself: in Part 1 the training thread
 * waits for every batch, which is the cost the profile shows. */
#include "loader.h"

#include <string.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_rng.h"
#include "transforms.h"

/* Tag for the shuffle's streams (transforms.c has its own). */
#define TAG_SHUFFLE 0x53485546464C45ull /* "SHUFFLE" */

int rn_loader_init(rn_loader *l, const rn_cifar *data, int batch, int img_size, int augment, uint64_t seed)
{
    memset(l, 0, sizeof *l);
    if (batch < 1) {
        cs_error("batch size %d: must be at least 1", batch);
        return 2;
    }
    if (batch > data->n) {
        cs_error("batch size %d: larger than the data set (%d images, %s)", batch, data->n, data->source);
        return 2;
    }
    if (img_size < 1) {
        cs_error("image size %d: must be at least 1", img_size);
        return 2;
    }
    l->data = data;
    l->batch = batch;
    l->img_size = img_size;
    l->augment = augment != 0;
    l->seed = seed;
    l->batches = (data->n + batch - 1) / batch; /* the last one may be short, as the lab's loader keeps it */
    l->order = cs_alloc((size_t)data->n * sizeof *l->order, "loader order");
    rn_loader_start_epoch(l, 0);
    return 0;
}

void rn_loader_start_epoch(rn_loader *l, int epoch)
{
    int n = l->data->n;
    l->epoch = epoch;
    for (int i = 0; i < n; i++) l->order[i] = i;
    if (!l->augment) return; /* evaluation: the file's order */
    cs_rng key, r;
    cs_rng_seed(&key, (uint64_t)(uint32_t)epoch, TAG_SHUFFLE);
    cs_rng_seed(&r, l->seed, cs_rng_u64(&key));
    /* Fisher-Yates: position i takes a uniform pick of the n - i not yet
     * placed, so every order is equally likely. */
    for (int i = n - 1; i > 0; i--) {
        int j = (int)cs_rng_below(&r, (uint32_t)i + 1);
        int32_t tmp = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = tmp;
    }
}

int rn_loader_count(const rn_loader *l, int b)
{
    int left = l->data->n - b * l->batch;
    return left < l->batch ? left : l->batch;
}

int rn_loader_get(const rn_loader *l, int b, float *images, int32_t *labels)
{
    return rn_loader_get_part(l, b, 0, rn_loader_count(l, b), images, labels);
}

int rn_loader_get_part(const rn_loader *l, int b, int first, int count, float *images, int32_t *labels)
{
    const rn_cifar *d = l->data;
    size_t out_floats = (size_t)3 * (size_t)l->img_size * (size_t)l->img_size;
    for (int k = 0; k < count; k++) {
        int32_t index = l->order[(size_t)b * (size_t)l->batch + (size_t)(first + k)];
        const uint8_t *image = d->pixels + (size_t)index * RN_CIFAR_PIXELS;
        float *out = images + (size_t)k * out_floats;
        labels[k] = d->labels[index];
        /* Keyed by the sample's index in the set, not its place in the
         * batch: the same image gets the same crop whoever loads it. */
        if (l->augment)
            rn_transform_train(image, RN_CIFAR_SIDE, RN_CIFAR_SIDE, l->seed, l->epoch, index, l->img_size, out);
        else if (l->img_size == RN_CIFAR_SIDE)
            rn_transform_plain(image, RN_CIFAR_SIDE, RN_CIFAR_SIDE, out);
        else /* evaluation at another size: the whole image, resized */
            rn_transform_resize(image, RN_CIFAR_SIDE, RN_CIFAR_SIDE, l->img_size, out);
    }
    return count;
}

void rn_loader_free(rn_loader *l)
{
    cs_free(l->order);
    memset(l, 0, sizeof *l);
}
