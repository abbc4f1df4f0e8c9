/* The distributed-profiling lab, `mpirun -np N lab_resnet ddp`: data-
 * parallel training over MPI's ranks (a process started without mpirun is
 * the one-rank case). Each rank loads its shard of every global batch
 * (--batch images: the same samples in the same order whatever N), computes
 * its gradients with the loss scaled by its share of the batch, and the
 * ranks sum them: the global batch's mean gradient; batch norm's statistics
 * are each rank's own, as DDP's by default, and rank 0's running statistics
 * are broadcast before every step (DDP's broadcast_buffers). The rows:
 *   single      one rank with the whole machine, the global batch;
 *   per_tensor  N ranks, one blocking all-reduce per tensor after backward;
 *   bucketed    N ranks, buckets of --bucket-mb (25) after backward;
 *   bucket_view the same, the gradients living in the buckets (no copies:
 *               DDP's gradient_as_bucket_view);
 *   overlapped  bucket_view, each bucket started as the backward completes it;
 *   no_sync_4   overlapped, communicating every 4 micro-batches (DDP's
 *               no_sync() on the first 3: their gradients accumulate);
 * then the overlapped step on 1, 2, 4, ..., N ranks with the same threads
 * per rank (the scaling), and the all-reduce's time against its size (its
 * latency and bandwidth: the alpha-beta model's prediction for 8 and 64
 * ranks). Rank 0 prints the run and writes the results. With NCCL built
 * and a GPU for each rank, the ranks train on their GPUs and all-reduce
 * with NCCL (comm_nccl.h); otherwise on the CPU over MPI. */
#ifndef RN_DDP_H
#define RN_DDP_H

#include "cs_ladder.h"
#include "lab.h"

#define RN_DDP_ROWS       6
#define RN_DDP_MAX_POINTS 24 /* scaling points: 1, 2, 4, ... and N */
#define RN_DDP_SIZES      12 /* all-reduce sizes measured */
extern const char *const rn_ddp_rows[RN_DDP_ROWS];

/* What one row (or one scaling point) measured, on rank 0's clock. */
typedef struct {
    cs_rung rung; /* whole runs of the batches */
    int ranks, threads;
    double images_per_s;
    /* Per global batch (no_sync_4's step takes 4), over the timed runs:
     * the step's time, its time in the engine's calls (the all-reduces,
     * their waits, the buffers' broadcast), in the bucket copies, and the
     * rest (compute: loading, forward, backward, Adam); the engine's calls
     * per optimizer step. */
    double step_s, comm_s, copy_s, compute_s;
    int reductions, steps;
    cs_check agree; /* every rank's weights the same after every step */
    cs_check grads; /* the first step's summed gradients against one process's */
    cs_check weights;
} rn_ddp_row;

/* The all-reduce on all N ranks against its size, and the line through
 * it: t = latency + bytes / bandwidth. */
typedef struct {
    int n;
    double bytes[RN_DDP_SIZES], median_s[RN_DDP_SIZES], min_s[RN_DDP_SIZES], max_s[RN_DDP_SIZES];
    double intercept_s, slope_s_per_byte; /* the least-squares line */
    double alpha_s, beta_s_per_byte;      /* ring all-reduce's: t = 2(p-1) alpha + 2(p-1)/p bytes beta */
} rn_ddp_fit;

/* Before the options: starts the engine when argv[1] is "ddp" (and sends
 * the stdout of ranks other than 0 to /dev/null). Returns 0 or 3. */
int rn_ddp_start(int *argc, char ***argv);
/* After the run: the ranks' largest exit code, the engine stopped. */
int rn_ddp_end(int rc);

/* Before the lab opens: the device. NCCL between GPUs, one rank per GPU,
 * when built with NCCL and this machine has a GPU for each of its ranks
 * (and more than one rank, or --device gpu); else the CPU over MPI, saying
 * why. --device gpu that cannot be is exit code 2 with one line. */
int rn_ddp_choose_device(rn_args *a);

/* The run: steps 2 to 7 after step1_scenario. Returns 0, 1 when a check
 * failed, or another exit code. */
int rn_ddp(rn_lab *lab);

#endif
