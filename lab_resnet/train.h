/* The lab's training loop (Part 1: the baseline, loading in the training
 * thread) and its evaluation. */
#ifndef RN_TRAIN_H
#define RN_TRAIN_H

#include "cifar.h"
#include "loader.h"
#include "model.h"

typedef struct {
    int batches;   /* batches to train (the epoch, or --batches) */
    int warmup;    /* first batches not counted in the throughput */
    int log_every; /* print every N batches (0: never) */
} rn_train_opts;

typedef struct {
    int steps;
    double wall_s;  /* the whole epoch, warm-up included */
    double timed_s; /* the batches after the warm-up */
    int timed_images;
    double images_per_s; /* timed_images / timed_s */
    double step_median_s, step_min_s, step_max_s;
    /* Each batch split in three, medians over the timed batches: loading it
     * (read, augment, normalise, in this thread), copying it to the device
     * (from pageable memory), and training on it (forward, loss, backward,
     * Adam, loss.item()). The last is what a framework's step-only benchmark
     * on tensors already on the device measures. */
    double load_median_s, copy_median_s, train_median_s;
    double first_loss, last_loss; /* mean of the first and of the last 10% of steps */
    double train_accuracy;        /* running accuracy over the epoch */
    float *loss;                  /* per step (host) */
    int32_t *correct;             /* per step (host) */
} rn_train_result;

/* One epoch (or o->batches batches) of training, as the lab's baseline:
 * each batch loaded in this thread, copied to the device, forward, loss,
 * backward, Adam, then loss.item() (a sync). Returns 0, or 1 when the loss
 * is not finite (training diverged: one line printed, the epoch stops
 * there). Either way *r holds the batches that ran (r->steps) with their
 * loss and correct counts and the figures over them; free it with
 * rn_train_result_free. */
int rn_train_epoch(rn_model *m, rn_loader *ld, int epoch, const rn_train_opts *o, rn_train_result *r);
void rn_train_result_free(rn_train_result *r);

/* Accuracy in evaluation mode (running statistics) over up to max_batches
 * batches of `data` (0: all), no augmentation: each whole image resized to
 * img x img (the model's prepared size) and normalised. NaN, not a
 * plausible 0, when img is not the prepared size or the batch is larger
 * than the data. */
double rn_evaluate(rn_model *m, const rn_cifar *data, int img, int max_batches);

#endif
