/* What `lab_resnet ddp` holds between its steps: shared by ddp.c (the
 * runs and their checks) and ddp_report.c (the narration, the files and
 * the charts). Not for other parts of the lab. */
#ifndef RN_DDP_STATE_H
#define RN_DDP_STATE_H

#include "comm.h"
#include "ddp.h"
#include "ddp_sync.h"

enum { DDP_SINGLE, DDP_PER_TENSOR, DDP_BUCKETED, DDP_BUCKET_VIEW, DDP_OVERLAPPED, DDP_NO_SYNC };

typedef struct {
    int all_ranks; /* 0: one rank (single) */
    rn_sync_kind sync;
    int accum; /* micro-batches per optimizer step (communication on the last) */
    int views; /* the gradients live in the buckets */
    const char *lesson;
} rn_ddp_spec;
extern const rn_ddp_spec rn_ddp_specs[RN_DDP_ROWS];

#define RN_DDP_GRAD_TOL   1e-5 /* summed gradients against one process's: float32 additions in another order */
#define RN_DDP_WEIGHT_TOL 1e-5 /* Adam's first step: lr x sign(g), so a g near 0 may move a weight by lr */

typedef struct {
    rn_lab *lab;
    int world, rank, cores;
    rn_snapshot snap;
    /* The scaling points' rank counts (1, 2, 4, ..., world) and their
     * groups; the last is the whole run. */
    int npoints;
    int point_ranks[RN_DDP_MAX_POINTS];
    rn_group groups[RN_DDP_MAX_POINTS];
    size_t bucket_bytes;
    rn_grad_sync plan; /* the tensors and the buckets, without memory (rn_sync_plan) */
    size_t grad_bytes; /* every trainable tensor's gradient */
    rn_ddp_row rows[RN_DDP_ROWS];
    int ran[RN_DDP_ROWS];
    const char *skip[RN_DDP_ROWS];
    rn_ddp_row points[RN_DDP_MAX_POINTS];
    int points_ran;
    rn_ddp_fit fit;
    int have_fit;
    /* Host staging: a shard's images and labels; the running statistics
     * broadcast before each step. */
    float *images;
    int32_t *labels;
    float *buffers;
    size_t nbuffers;
    float *host_tensor; /* room for the largest tensor: the weights' hash reads them through it */
} rn_ddp_state;

/* rn_ddp_choose_device's sentence: where the ranks train and why. */
const char *rn_ddp_device_note(void);
/* The group of all ranks, and of one. */
const rn_group *rn_ddp_all(const rn_ddp_state *s);

/* ddp_report.c: the seven steps' words, the files and the charts (rank 0). */
void rn_ddp_say_setup(const rn_ddp_state *s);
void rn_ddp_say_profile(const rn_ddp_state *s);
void rn_ddp_say_hypothesis(const rn_ddp_state *s);
void rn_ddp_say_investigation(const rn_ddp_state *s);
void rn_ddp_say_rows(const rn_ddp_state *s, int from, int to);
void rn_ddp_say_scaling(const rn_ddp_state *s);
int rn_ddp_say_verification(const rn_ddp_state *s);
int rn_ddp_write_results(rn_ddp_state *s);
void rn_ddp_say_lessons(const rn_ddp_state *s);
/* The ring all-reduce's alpha-beta model: the time for `bytes` on p ranks. */
double rn_ddp_ring_time(const rn_ddp_fit *f, int p, double bytes);

#endif
