/* The training loop fed by Part 2's workers trains exactly as with loading
 * in the training thread: per-step losses identical, over two epochs of a
 * set whose last batch is short, for several worker counts and prefetch
 * factors, with the copy made at once and with the asynchronous input's
 * order of calls (input_copy / acquire / release / copied, one batch ahead,
 * as the GPU runs it for pin_memory; synchronous memcpy on the CPU). Also:
 * a model snapshot put back gives the first epoch's losses again, and a
 * short batch trains on its own count of images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_test.h"
#include "loader.h"
#include "model.h"
#include "train.h"
#include "workers.h"

#define IMAGES 44 /* batches of 8: five full, the sixth of 4 */
#define BATCH  8
#define EPOCHS 2

/* Both epochs' per-step losses, from the snapshot's weights. */
static void train_two_epochs(rn_model *m, const rn_snapshot *snap, rn_loader *ld, rn_workers *w, int async, float *loss,
                             int *steps, int *images)
{
    rn_snapshot_restore(m, snap);
    *steps = 0;
    *images = 0;
    for (int e = 0; e < EPOCHS; e++) {
        rn_train_opts o = {.batches = ld->batches, .workers = w, .async_copy = async};
        rn_train_result r;
        CHECK(rn_train_epoch(m, ld, e, &o, &r) == 0);
        memcpy(loss + *steps, r.loss, sizeof(float) * (size_t)r.steps);
        *steps += r.steps;
        *images += r.images;
        rn_train_result_free(&r);
    }
}

int main(void)
{
    const rn_backend *be = rn_cpu_backend();
    rn_model m;
    rn_model_init(&m, be, 5);
    rn_model_prepare(&m, BATCH, 32);
    m.lr = 1e-3f;
    rn_cifar d;
    CHECK(rn_cifar_generate(&d, IMAGES, 8) == 0);
    rn_loader ld;
    CHECK(rn_loader_init(&ld, &d, BATCH, 32, 1, 21) == 0);
    CHECK(ld.batches == 6 && rn_loader_count(&ld, 5) == 4);
    rn_snapshot snap;
    CHECK(rn_snapshot_take(&m, &snap) == 0);

    float ref[64], again[64], got[64];
    int ref_steps, ref_images, steps, images;
    train_two_epochs(&m, &snap, &ld, NULL, 0, ref, &ref_steps, &ref_images);
    CHECK(ref_steps == 12 && ref_images == 2 * IMAGES); /* the short batch kept, every image seen */
    for (int i = 0; i < ref_steps; i++) CHECK(isfinite(ref[i]));
    train_two_epochs(&m, &snap, &ld, NULL, 0, again, &steps, &images);
    CHECK(memcmp(ref, again, sizeof(float) * (size_t)ref_steps) == 0); /* the snapshot puts it all back */

    /* Workers, prefetch: one slot only (the tightest ring), two, many. */
    const int workers[][2] = {{1, 1}, {2, 2}, {8, 2}};
    int same = 1, configs = 0;
    for (size_t k = 0; k < sizeof workers / sizeof workers[0]; k++)
        for (int async = 0; async <= 1; async++) {
            int persistent = async; /* both kinds, without doubling the runs */
            {
                rn_workers *w = rn_workers_create(&ld, be, workers[k][0], workers[k][1], persistent, 0);
                train_two_epochs(&m, &snap, &ld, w, async, got, &steps, &images);
                int ok = steps == ref_steps && images == ref_images &&
                         memcmp(ref, got, sizeof(float) * (size_t)ref_steps) == 0;
                if (!ok)
                    fprintf(stderr, "workers %d, prefetch %d, async %d, persistent %d: losses differ\n", workers[k][0],
                            workers[k][1], async, persistent);
                same &= ok;
                configs++;
                rn_workers_destroy(w);
            }
        }
    CHECK(same);
    printf("training fed by workers (%d configurations, copies at once and one batch ahead): "
           "the same %d losses as loading in the training thread\n",
           configs, ref_steps);

    rn_snapshot_free(&snap);
    rn_loader_free(&ld);
    rn_cifar_free(&d);
    rn_model_free(&m);
    return cs_test_done();
}
