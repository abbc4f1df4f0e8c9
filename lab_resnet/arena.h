/* One tracked arena for the lab's memory: every buffer the training holds
 * (activations, weights, gradients, optimizer state, scratch) is taken from
 * it under a category, so the run can report each category's bytes exactly
 * (current and peak), on the host or on the device.
 *
 * Part 4 of the lab (memory: activation checkpointing, smaller dtypes)
 * changes what is allocated; this bookkeeping stays. */
#ifndef RN_ARENA_H
#define RN_ARENA_H

#include <stddef.h>

typedef enum {
    RN_ACTIVATIONS = 0, /* layer outputs kept for the backward pass, and their gradients */
    RN_WEIGHTS,         /* parameters and batch-norm running statistics */
    RN_GRADIENTS,       /* parameter gradients */
    RN_OPTIMIZER,       /* Adam's m and v */
    RN_WORKSPACE,       /* im2col buffers, cuDNN workspace, batch staging */
    RN_NCATEGORIES
} rn_category;

typedef struct rn_arena rn_arena;

/* on_device: buffers come from cs_gpu_malloc (device memory), else from
 * cs_alloc (host, 64-byte aligned). */
rn_arena *rn_arena_create(int on_device);
/* Frees every buffer the arena handed out, then the arena. */
void rn_arena_destroy(rn_arena *a);

/* A zero-filled buffer of nfloats floats (exit 3 with a message when out
 * of memory). `what` names it in that message. */
float *rn_arena_floats(rn_arena *a, rn_category cat, size_t nfloats, const char *what);
/* The same for other element types (int32 indices, bytes). */
void *rn_arena_bytes_alloc(rn_arena *a, rn_category cat, size_t bytes, const char *what);
/* Gives one buffer back before the arena ends (optional). */
void rn_arena_release(rn_arena *a, void *p);

int rn_arena_on_device(const rn_arena *a);
size_t rn_arena_current(const rn_arena *a, rn_category cat);
size_t rn_arena_peak(const rn_arena *a, rn_category cat);
size_t rn_arena_total(const rn_arena *a);      /* held now, all categories */
size_t rn_arena_total_peak(const rn_arena *a); /* peak of the sum over categories */
const char *rn_category_name(rn_category cat); /* "activations", "weights", ... */

/* The peaks now, and put back later: for work that is not the training's
 * (the gradient check lays the activations out in fp32 for a while under
 * --precision fp16/bf16), so the reported peaks stay the training's. */
typedef struct {
    size_t peak[RN_NCATEGORIES], total_peak;
} rn_arena_peaks;
void rn_arena_peaks_get(const rn_arena *a, rn_arena_peaks *p);
void rn_arena_peaks_set(rn_arena *a, const rn_arena_peaks *p);
/* The peaks start again from what is held now (one configuration's peak
 * after another's, on the same model). */
void rn_arena_peaks_reset(rn_arena *a);

#endif
