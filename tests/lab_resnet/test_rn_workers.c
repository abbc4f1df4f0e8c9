/* Part 2's data loading workers (workers.h) hand over exactly the batches
 * the training thread would have loaded itself: byte for byte, images and
 * labels, the short last batch included, for 1, 2, 3 and 8 workers, a
 * prefetch factor of 1 and 2, persistent workers and workers started per
 * epoch, over two epochs, and again after an epoch stopped in the middle.
 * The reference is the loader called in this thread (num_workers = 0). */
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_test.h"
#include "loader.h"
#include "workers.h"

#define SEED   17
#define BATCH  8
#define IMG    24
#define IMAGES 101 /* 13 batches, the last of 5 */
#define EPOCHS 3

typedef struct {
    float *images; /* every batch of the epoch, one after the other */
    int32_t *labels;
    int counts[64];
} epoch_batches;

static size_t floats_per_image(void)
{
    return (size_t)3 * IMG * IMG;
}

/* The epoch as this thread loads it, with no worker. */
static void load_reference(rn_loader *ld, int epoch, epoch_batches *e)
{
    e->images = malloc(sizeof(float) * IMAGES * floats_per_image());
    e->labels = malloc(sizeof(int32_t) * IMAGES);
    rn_loader_start_epoch(ld, epoch);
    int at = 0;
    for (int b = 0; b < ld->batches; b++) {
        e->counts[b] = rn_loader_get(ld, b, e->images + (size_t)at * floats_per_image(), e->labels + at);
        at += e->counts[b];
    }
}

/* Batches 0 .. upto-1 of the epoch from the workers, each compared with the
 * reference; returns how many matched. */
static int compare_epoch(rn_workers *w, const rn_loader *ld, int epoch, int upto, const epoch_batches *ref)
{
    int matched = 0, at = 0;
    CHECK(rn_workers_start_epoch(w, epoch, ld->batches) == 0);
    for (int b = 0; b < upto; b++) {
        const rn_batch_view *v = rn_workers_get(w, b);
        int same = v->count == ref->counts[b] &&
                   memcmp(v->images, ref->images + (size_t)at * floats_per_image(),
                          sizeof(float) * (size_t)v->count * floats_per_image()) == 0 &&
                   memcmp(v->labels, ref->labels + at, sizeof(int32_t) * (size_t)v->count) == 0;
        matched += same;
        at += ref->counts[b];
        rn_workers_release(w, b);
    }
    rn_workers_end_epoch(w); /* early when upto < batches */
    return matched;
}

int main(void)
{
    rn_cifar data;
    CHECK(rn_cifar_generate(&data, IMAGES, 5) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &data, BATCH, IMG, 1, SEED) == 0);
    CHECK(ld.batches == 13 && rn_loader_count(&ld, 12) == 5);
    epoch_batches ref[EPOCHS];
    for (int e = 0; e < EPOCHS; e++) load_reference(&ld, e, &ref[e]);

    const int workers[] = {1, 2, 3, 8};
    int configs = 0, all_same = 1;
    for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++)
        for (int prefetch = 1; prefetch <= 2; prefetch++)
            for (int persistent = 0; persistent <= 1; persistent++) {
                rn_workers *w = rn_workers_create(&ld, rn_cpu_backend(), workers[i], prefetch, persistent, 0);
                int ok = 1;
                /* Two whole epochs, then one stopped after 4 batches (the
                 * workers are mid-epoch, some batches in flight), then a
                 * whole one again: it must start clean. */
                ok &= compare_epoch(w, &ld, 0, ld.batches, &ref[0]) == ld.batches;
                ok &= compare_epoch(w, &ld, 1, ld.batches, &ref[1]) == ld.batches;
                ok &= compare_epoch(w, &ld, 2, 4, &ref[2]) == 4;
                ok &= compare_epoch(w, &ld, 2, ld.batches, &ref[2]) == ld.batches;
                /* Persistent workers are started once; the others every epoch. */
                CHECK(rn_workers_start_epoch(w, 0, ld.batches) == 0);
                double start_s = rn_workers_start_s(w);
                rn_workers_end_epoch(w);
                ok &= persistent ? start_s == 0.0 : start_s > 0.0;
                if (!ok)
                    fprintf(stderr, "workers %d, prefetch %d, persistent %d: batches differ\n", workers[i], prefetch,
                            persistent);
                all_same &= ok;
                configs++;
                rn_workers_destroy(w);
            }
    CHECK(configs == 16);
    CHECK(all_same);
    printf("%d worker configurations: every batch of every epoch identical to the training thread's own\n", configs);

    for (int e = 0; e < EPOCHS; e++) {
        free(ref[e].images);
        free(ref[e].labels);
    }
    rn_loader_free(&ld);
    rn_cifar_free(&data);
    return cs_test_done();
}
