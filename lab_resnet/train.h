/* The lab's training loop (Part 1: the baseline, loading in the training
 * thread) and its evaluation. */
#ifndef RN_TRAIN_H
#define RN_TRAIN_H

#include "cifar.h"
#include "loader.h"
#include "model.h"
#include "workers.h"

typedef struct {
    int batches;   /* batches to train (the epoch, or --batches) */
    int warmup;    /* first batches not counted in the throughput */
    int log_every; /* print every N batches (0: never) */
    /* Part 2: the batches come from these workers (NULL: loaded in this
     * thread, the lab's num_workers = 0), and with async_copy (GPU, pinned
     * staging) each is copied on a second stream while the batch before it
     * computes. */
    rn_workers *workers;
    int async_copy;
    /* Part 3: fp16's loss scaling (GradScaler); NULL: Adam on every step.
     * device_skip: the found-inf flag, the skip and the update stay on the
     * device (rn_amp_step_device), the host reads none of them per step. */
    struct rn_grad_scaler_s *scaler;
    int device_skip;
    /* Part 4: gradient accumulation over groups of accum_steps batches
     * (0 or 1: none): each batch's loss divided by it, the gradients added,
     * one optimizer (and scaler) step per group; a trailing group shorter
     * than accum_steps takes no step, as the lab's loop does. */
    int accum_steps;
    /* Part 5: each step replayed as a CUDA graph (graph_step.h; the GPU,
     * without accumulation); the scaler's skip then runs on the device. */
    int graph;
} rn_train_opts;

/* Where a step's time goes, as the lab's Part 1 chart splits it. */
typedef enum {
    RN_PHASE_DATA,      /* waiting for the batch: loading it here, or waiting for a worker */
    RN_PHASE_COPY,      /* the host's time copying it to the model's input */
    RN_PHASE_FORWARD,   /* forward and loss */
    RN_PHASE_BACKWARD,  /* backward */
    RN_PHASE_OPTIMIZER, /* Adam */
    RN_PHASE_SYNC,      /* the rest: loss.item()'s wait, the host's own work */
    RN_NPHASES
} rn_phase;
const char *rn_phase_name(rn_phase p);

typedef struct {
    int steps;
    int images;     /* over all steps (the last batch may be short) */
    double wall_s;  /* the whole epoch, warm-up and loading included: the lab's epoch time */
    double timed_s; /* the batches after the warm-up */
    int timed_images;
    double images_per_s; /* timed_images / timed_s: loading included */
    /* The lab's throughput: images over the sum of every batch's time from
     * the moment its data was there (waiting for data excluded). */
    double lab_images_per_s;
    double first_batch_s; /* from the epoch's start to the first batch in hand */
    double step_median_s, step_min_s, step_max_s;
    /* Each batch split in three, medians over the timed batches: loading it
     * (read, augment, normalise, in this thread; with workers, the wait for
     * them), copying it to the device (from pageable memory), and training
     * on it (forward, loss, backward, Adam, loss.item()). The last is what a
     * framework's step-only benchmark on tensors already on the device
     * measures. */
    double load_median_s, copy_median_s, train_median_s;
    /* The mean timed batch by phase (they add up to the mean batch): forward,
     * backward and Adam are device time on a GPU (events, marks). */
    double phase_mean_s[RN_NPHASES];
    double first_loss, last_loss; /* mean of the first and of the last 10% of steps */
    double train_accuracy;        /* running accuracy over the epoch */
    float *loss;                  /* per step (host) */
    int32_t *correct;             /* per step (host) */
    double *step_s;               /* per step: its time, loading included (host) */
} rn_train_result;

/* The mean timed batch (its phases added up), and the share of it spent
 * waiting for data. */
double rn_phase_total(const rn_train_result *r);
double rn_data_share(const rn_train_result *r);

/* One epoch (or o->batches batches) of training, as the lab's baseline:
 * each batch loaded in this thread (or taken from o->workers), copied to
 * the device, forward, loss, backward, Adam, then loss.item() (a sync). Returns 0, or 1 when the loss
 * is not finite (training diverged: one line printed, the epoch stops
 * there). Either way *r holds the batches that ran (r->steps) with their
 * loss and correct counts and the figures over them; free it with
 * rn_train_result_free. */
int rn_train_epoch(rn_model *m, rn_loader *ld, int epoch, const rn_train_opts *o, rn_train_result *r);
void rn_train_result_free(rn_train_result *r);
/* A copy of r's per-step losses (at least one float's room), kept after r
 * is freed: the references and rows the parts check against. */
float *rn_train_losses_copy(const rn_train_result *r, const char *what);

/* Accuracy in evaluation mode (running statistics) over up to max_batches
 * batches of `data` (0: all), no augmentation: each whole image resized to
 * img x img (the model's prepared size) and normalised. NaN, not a
 * plausible 0, when img is not the prepared size or the batch is larger
 * than the data. */
double rn_evaluate(rn_model *m, const rn_cifar *data, int img, int max_batches);

#endif
