/* A directional gradient check of the whole model: how far the backward's
 * gradient g predicts the loss to move along a direction d, against how
 * far it moves,
 *
 *     g . (w+ - w-)    against    L(w+) - L(w-),    w+- = w0 +- h d,
 *
 * on the batch already in the model, w+- rounded to float as the model
 * holds them (the prediction uses the rounded weights, so the rounding of
 * a small step is not an error). d is the sign of g per element (a random
 * sign where g is 0), each tensor scaled by the rms of its weights: see
 * direction_signs in gradcheck.c for why that direction, and what a wrong
 * gradient does along it. It is taken twice: over every trainable
 * parameter, then over every one but fc's, the one a broken backward below
 * the head fails (fc alone can still make the loss fall).
 *
 * It costs one training step without Adam and four forward passes. The
 * weights, the running statistics and num_batches_tracked are as they were
 * afterwards; the gradients hold the batch's. */
#ifndef RN_GRADCHECK_H
#define RN_GRADCHECK_H

#include <stdint.h>

#include "model.h"

#define RN_GRADCHECK_DIRS 2

/* How far the gradient predicts the loss to move each way: 3e-3 of a loss
 * near 2.3. Measured on the CPU at batch 4, 8 and 16 (32 and 64 pixels),
 * the relative difference was 1e-3 at 3e-3; at 1e-2 the curvature gave
 * 1.2e-2, at 3e-4 the float32 loss's rounding gave up to 6.6e-3. */
#define RN_GRADCHECK_MOVE 3e-3

/* The tolerance on the relative difference: ten times the 1e-3 measured
 * (above). What it must catch gives 1 (a gradient zeroed below fc, or of
 * the wrong sign) or 0.1 (a whole gradient 10% off). */
#define RN_GRADCHECK_TOL 1e-2

typedef struct {
    const char *over;   /* "every parameter", "every parameter below fc" */
    double backward;    /* g . (w+ - w-): the move the gradient predicts */
    double finite_diff; /* L(w+) - L(w-): the move measured */
    double rel;         /* |backward - finite_diff| / max(|backward|, |finite_diff|); NaN stays NaN */
} rn_dir_check;

/* Fills out[0..RN_GRADCHECK_DIRS-1]. */
void rn_gradcheck(rn_model *m, uint64_t seed, rn_dir_check out[RN_GRADCHECK_DIRS]);

/* The worst rel of the directions (NaN when any is NaN). */
double rn_gradcheck_worst(const rn_dir_check *c);

#endif
