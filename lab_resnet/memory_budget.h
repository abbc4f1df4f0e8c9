/* Part 4's batch that does not fit (the course's scenario 4): how many
 * bytes the model holds when laid out for n images under each memory
 * configuration (fp32, AMP's 16-bit storage, checkpointing, both), read
 * from the tracked arena (device memory on a GPU) of a probe model of its
 * own, and the largest n within a budget, confirmed by one training step
 * at it. */
#ifndef RN_MEMORY_BUDGET_H
#define RN_MEMORY_BUDGET_H

#include <stddef.h>

#include "model.h"

/* Configurations, in order: fp32, amp, checkpoint, amp+checkpoint (the
 * rows of max_batch.csv). amp is bf16 autocast: fp16 lays out the same
 * bytes, and one step without GradScaler cannot overflow in bf16. */
#define RN_BUDGET_CONFIGS 4
extern const char *const rn_budget_configs[RN_BUDGET_CONFIGS];

/* The search never goes past this batch. */
#define RN_BUDGET_MAX_BATCH 65536

typedef struct {
    rn_model m; /* the probe: the lab's architecture, its own arena */
    int img;
    int open;
} rn_mem_probe;

/* A probe model of architecture `arch` on backend `be` (initialised from
 * `seed`) for images of img x img. */
void rn_probe_open(rn_mem_probe *p, const rn_backend *be, uint64_t seed, rn_arch arch, int img);
void rn_probe_close(rn_mem_probe *p);

/* The arena's bytes, all categories, once the probe is laid out for n
 * images under configuration `config` (nothing trained: what the buffers
 * take). */
size_t rn_probe_layout_bytes(rn_mem_probe *p, int config, int n);
/* bytes(n) = fixed + n * per_image from the layouts of 1 and 2 images:
 * exact while every buffer grows with the batch or not at all, an upper
 * bound once the convolutions' scratch reaches its cap (the CPU's im2col
 * then works in chunks of images). */
void rn_probe_fit(rn_mem_probe *p, int config, double *fixed, double *per_image);

typedef struct {
    int max_batch;           /* 0: not one image fits */
    int capped;              /* stopped at RN_BUDGET_MAX_BATCH */
    double fixed, per_image; /* the fit, bytes */
    size_t laid_out;         /* the layout of max_batch images */
    size_t step_peak;        /* the arena's peak over one training step at max_batch */
    double step_s;           /* that step's time */
} rn_budget_row;

/* For each configuration the largest batch whose layout fits in `budget`
 * bytes (the layout of one more does not), then one training step at it
 * (forward, loss, backward, Adam) whose peak must fit too (else one image
 * less, and again). Progress on stderr. */
void rn_probe_max_batches(rn_mem_probe *p, size_t budget, rn_budget_row *rows);

#endif
