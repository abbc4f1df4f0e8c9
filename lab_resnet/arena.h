/* One tracked arena for the lab's memory: every buffer the training holds
 * (activations, weights, gradients, optimizer state, scratch) is taken from
 * it under a category, so the run can report each category's bytes exactly
 * (current and peak), on the host or on the device.
 *
 * Part 4 of the lab (memory: activation checkpointing, smaller dtypes)
 * changes what is allocated; this bookkeeping stays. */
#ifndef LR_ARENA_H
#define LR_ARENA_H

#include <stddef.h>

typedef enum {
    LR_ACTIVATIONS = 0,   /* layer outputs kept for the backward pass, and their gradients */
    LR_WEIGHTS,           /* parameters and batch-norm running statistics */
    LR_GRADIENTS,         /* parameter gradients */
    LR_OPTIMIZER,         /* Adam's m and v */
    LR_WORKSPACE,         /* im2col buffers, cuDNN workspace, batch staging */
    LR_NCATEGORIES
} lr_category;

typedef struct lr_arena lr_arena;

/* on_device: buffers come from cs_gpu_malloc (device memory), else from
 * cs_alloc (host, 64-byte aligned). */
lr_arena *lr_arena_create(int on_device);
/* Frees every buffer the arena handed out, then the arena. */
void lr_arena_destroy(lr_arena *a);

/* A zero-filled buffer of nfloats floats (exit 3 with a message when out
 * of memory). `what` names it in that message. */
float *lr_arena_floats(lr_arena *a, lr_category cat, size_t nfloats, const char *what);
/* The same for other element types (int32 indices, bytes). */
void *lr_arena_bytes_alloc(lr_arena *a, lr_category cat, size_t bytes, const char *what);
/* Gives one buffer back before the arena ends (optional). */
void lr_arena_release(lr_arena *a, void *p);

int lr_arena_on_device(const lr_arena *a);
size_t lr_arena_current(const lr_arena *a, lr_category cat);
size_t lr_arena_peak(const lr_arena *a, lr_category cat);
size_t lr_arena_total_peak(const lr_arena *a);   /* peak of the sum over categories */
const char *lr_category_name(lr_category cat);   /* "activations", "weights", ... */

#endif
