/* Part 2's data loading workers: PyTorch's DataLoader(num_workers=N,
 * prefetch_factor=P, persistent_workers=...) with threads instead of
 * processes.
 *
 * N threads load batches ahead of the training step into a ring of P x N
 * staging slots: batch b always goes to slot b mod (P x N), and a worker
 * may start it only once the step has released batch b - P x N, so at most
 * P x N batches are loaded ahead, and the step gets them in order whatever
 * order the workers finish in. Each batch is rn_loader_get(b) of the
 * epoch (loader.h): its contents depend on (seed, epoch, b) alone, so the
 * batches are the same, byte for byte, for any N and P (the "worker" tests
 * prove it).
 *
 * Without persistent workers the threads are started at every epoch's
 * start and joined at its end (PyTorch starts worker processes per epoch);
 * with them they wait between epochs. Either way the threads run the
 * transforms alone: each sets OpenMP to one thread for itself (as PyTorch
 * sets torch.set_num_threads(1) in every worker) and makes no BLAS call, so
 * the N workers and the step's own threads are all the threads there are. */
#ifndef RN_WORKERS_H
#define RN_WORKERS_H

#include <stdint.h>

#include "backend.h"
#include "loader.h"

typedef struct rn_workers rn_workers;

/* One loaded batch, as the step sees it: count images and labels in host
 * memory (pinned on the GPU when the workers were made with pinned). */
typedef struct {
    float *images;
    int32_t *labels;
    int count;
} rn_batch_view;

/* N >= 1 workers for loader ld (which must outlive them), prefetch >= 1
 * batches each, staging from be->host_alloc (page-locked when pinned).
 * Starts no thread yet. */
rn_workers *rn_workers_create(rn_loader *ld, const rn_backend *be, int num_workers, int prefetch, int persistent,
                              int pinned);
/* Starts epoch `epoch` (the loader's shuffle for it, made while no worker
 * reads the order), the workers loading its batches 0 .. batches - 1. The
 * threads are started here unless persistent ones are already running.
 * Returns 0, or 3 with one line when a thread cannot be started. */
int rn_workers_start_epoch(rn_workers *w, int epoch, int batches);
/* Waits for batch b of the epoch (each b once, in order) and returns it; it
 * stays valid until rn_workers_release(b). */
const rn_batch_view *rn_workers_get(rn_workers *w, int b);
/* The step is done with batch b: its slot may take batch b + P x N. */
void rn_workers_release(rn_workers *w, int b);
/* Ends the epoch, early or not: the workers stop taking batches, those in
 * flight are finished and dropped; non-persistent threads are joined. */
void rn_workers_end_epoch(rn_workers *w);
/* Seconds the last rn_workers_start_epoch spent starting threads (0 when
 * persistent ones were already running). */
double rn_workers_start_s(const rn_workers *w);
int rn_workers_count(const rn_workers *w);
/* Joins the threads and frees the staging. NULL is allowed. */
void rn_workers_destroy(rn_workers *w);

#endif
