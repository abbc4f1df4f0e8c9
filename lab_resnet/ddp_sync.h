/* How a data-parallel step turns each rank's gradients into their sum over
 * the ranks (the loss is scaled so that the sum is the global batch's mean
 * gradient): the `ddp` ladder's lessons, three ways to call the same
 * all-reduce.
 *   per_tensor  after the backward, one blocking all-reduce per tensor
 *               (62 for ResNet-18): each pays the engine's latency;
 *   bucketed    after the backward, the gradients copied into buckets of
 *               about 25 MB (PyTorch DDP's bucket_cap_mb; its first bucket
 *               is 1 MB), one all-reduce per bucket, copied back;
 *   overlapped  the same buckets, each started (MPI_Iallreduce) as soon as
 *               the backward has completed its last gradient, while the
 *               backward goes on; waited for after it.
 * With `views` (DDP's gradient_as_bucket_view=True) each tensor's gradient
 * lives inside its bucket for the sync's lifetime: the backward writes it
 * there, and the copies in and out are gone.
 * On the GPU the same three run on NCCL (one rank per GPU), the
 * overlapped reductions on a side stream.
 * Buckets hold the tensors in the reverse of the model's order, about the
 * order the backward completes them, and start in bucket order on every
 * rank (collectives must be called in the same order everywhere). */
#ifndef RN_DDP_SYNC_H
#define RN_DDP_SYNC_H

#include "comm.h"
#include "model.h"

typedef enum { RN_SYNC_NONE, RN_SYNC_PER_TENSOR, RN_SYNC_BUCKETED, RN_SYNC_OVERLAPPED } rn_sync_kind;

#define RN_MAX_BUCKETS        64
#define RN_FIRST_BUCKET_BYTES ((size_t)1 << 20) /* DDP's first bucket: 1 MiB */

typedef struct {
    int first, count; /* its tensors: order[first .. first + count - 1] */
    size_t floats;
    float *flat;
    int waiting; /* tensors whose gradient the backward has not completed yet */
    int request; /* the started reduction (overlapped), -1: none */
} rn_bucket;

typedef struct {
    rn_model *m;
    const rn_group *g;
    rn_sync_kind kind;
    rn_param *order[RN_MAX_PARAMS]; /* the trainable tensors, last first */
    int ntensors;
    int bucket_of[RN_MAX_PARAMS]; /* indexed by the tensor's place in m->params */
    rn_bucket buckets[RN_MAX_BUCKETS];
    int nbuckets, next_start;
    /* Since rn_sync_begin: seconds in the engine's calls (starting,
     * testing, waiting for, or doing a reduction) and in the bucket copies;
     * the reductions called. */
    double comm_s, copy_s;
    int reductions;
    int drop_last_bucket;           /* the tests' fault rn_ddp_drops_last_bucket */
    int device;                     /* the GPU backend: NCCL on device memory (comm_nccl.h) */
    int views;                      /* the gradients are views of the buckets (no copies) */
    float *own_grad[RN_MAX_PARAMS]; /* with views: each tensor's own gradient, put back by rn_sync_free */
} rn_grad_sync;

/* The trainable tensors last first and their buckets (bucket_bytes: their
 * cap; the first is at most RN_FIRST_BUCKET_BYTES), without their memory:
 * a plan to read (how many buckets, their sizes), nothing to free. Returns
 * 0, or 2 with one line when there would be more than RN_MAX_BUCKETS. */
int rn_sync_plan(rn_grad_sync *s, rn_model *m, size_t bucket_bytes);
/* The plan, and the buckets' memory for sync `kind` over group g (none
 * but for bucketed and overlapped); with `views` the
 * model's gradients move into them (their values are not carried over:
 * the next backward writes them). Returns 0 or 2. */
int rn_sync_init(rn_grad_sync *s, rn_model *m, const rn_group *g, rn_sync_kind kind, size_t bucket_bytes, int views);
void rn_sync_free(rn_grad_sync *s);
/* Before a backward whose gradients are to be reduced: the counters reset
 * and, when overlapped, the model's listener set. */
void rn_sync_begin(rn_grad_sync *s);
/* After it: the reductions not done yet, then the waits; every member's
 * gradients are then the members' sum. The listener is taken off. */
void rn_sync_finish(rn_grad_sync *s);
/* After the device has finished the step (the backend's sync): on the GPU,
 * the events' times added to comm_s and copy_s. Nothing on the CPU. */
void rn_sync_collect(rn_grad_sync *s);
/* "per_tensor", ... */
const char *rn_sync_name(rn_sync_kind k);

#endif
