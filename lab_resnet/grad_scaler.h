/* Part 3's dynamic loss scaling: PyTorch's GradScaler
 * (torch/amp/grad_scaler.py, and the update kernel _amp_update_scale_),
 * state for state.
 *
 *   scaler.scale(loss).backward()  the loss gradient multiplied by the scale
 *   scaler.step(optimizer)         gradients unscaled by 1/scale (computed in
 *                                  double, used in float), checked for inf or
 *                                  NaN; a step with any is skipped
 *   scaler.update()                a skipped step halves the scale and resets
 *                                  the count of clean steps; growth_interval
 *                                  clean steps in a row double it, unless the
 *                                  doubled scale would not be finite (then
 *                                  only the count resets)
 *
 * Defaults as PyTorch's: init_scale 2^16, growth_factor 2, backoff_factor
 * 0.5, growth_interval 2000. The scale is a float32, as PyTorch's tensor. */
#ifndef RN_GRAD_SCALER_H
#define RN_GRAD_SCALER_H

#include <stdint.h>

#include "model.h"

typedef struct rn_grad_scaler_s {
    float scale;
    int32_t growth_tracker; /* clean steps since the last change */
    double growth_factor, backoff_factor;
    int growth_interval;
    long steps, skipped; /* updates seen, and steps skipped */
    int32_t *found_inf;  /* one int32 in the model's arena (rn_amp_step): the scaler
                          * must not outlive the model it stepped */
    /* The device-side skip's state, in the model's arena (rn_scaler_to_device). */
    float *dev_scale;
    int32_t *dev_state; /* RN_SCALER_STATE int32 (backend.h) */
} rn_grad_scaler;

/* PyTorch's defaults; found_inf is made on the model's backend by the first
 * rn_amp_step (or left NULL for rn_scaler_update alone). */
void rn_scaler_init(rn_grad_scaler *s);
/* Back to PyTorch's initial state (a new GradScaler), keeping the buffers
 * it already holds in the model's arena (the flag, the device-side state):
 * for runs of the same steps one after another. */
void rn_scaler_reset(rn_grad_scaler *s);
/* float(1 / double(scale)), as GradScaler.unscale_ computes it. */
float rn_scaler_inv_scale(const rn_grad_scaler *s);
/* _amp_update_scale_: the state after a step that found inf/NaN or not. */
void rn_scaler_update(rn_grad_scaler *s, int found_inf);

/* After rn_model_loss: the loss gradient scaled (scaler.scale(loss)). */
void rn_amp_scale_loss(rn_model *m, const rn_grad_scaler *s);
/* After rn_model_backward: every gradient unscaled and checked; Adam runs
 * only when all are finite (a skipped step leaves parameters, Adam's
 * moments and its step count untouched); then the update. The host reads
 * the found-inf flag, as PyTorch's scaler.step does. Returns 1 when the
 * step was skipped. */
int rn_amp_step(rn_model *m, rn_grad_scaler *s);
/* scaler.unscale_(optimizer) alone: every gradient unscaled and checked;
 * returns 1 when one held inf or NaN. */
int rn_amp_unscale(rn_model *m, rn_grad_scaler *s);

/* The device-side skip (the GPU's second rung; Part 5's CUDA graph needs
 * it): the scaler's state and Adam's step count move into the backend's
 * memory, and the step reads none of it on the host: the flag, the skip,
 * the update and the step count all happen on the device. The same
 * results as rn_amp_step, bit for bit (test_rn_scaler). */
void rn_scaler_to_device(rn_model *m, rn_grad_scaler *s);
void rn_amp_scale_loss_device(rn_model *m, const rn_grad_scaler *s);
void rn_amp_step_device(rn_model *m, rn_grad_scaler *s);
/* The state back on the host, and m->adam_t (after the run: a wait). */
void rn_scaler_from_device(rn_model *m, rn_grad_scaler *s);

#endif
