/* GradScaler's update, PyTorch's _amp_update_scale_ kernel line for line,
 * written once for the three places that run it: the host-read scaler
 * (grad_scaler.c), and the device-side skip's CPU operation (cpu_layers.c)
 * and CUDA kernel (gpu_layers.cu), the last two through
 * rn_scale_update_state.
 *
 * A step that found inf or NaN halves the scale (backoff) and resets the
 * count of clean steps; otherwise the count grows, and reaching `interval`
 * multiplies the scale by `growth` when that stays finite and resets the
 * count either way. Returns 1 when the step was taken (nothing found). */
#ifndef RN_SCALE_UPDATE_H
#define RN_SCALE_UPDATE_H

#include <math.h>
#include <stdint.h>

#include "backend.h" /* RN_SCALER_* */

#ifdef __CUDACC__
#define RN_HOST_DEVICE __host__ __device__
#else
#define RN_HOST_DEVICE
#endif

static inline RN_HOST_DEVICE int rn_scale_update(float *scale, int32_t *growth_tracker, int found_inf, double growth,
                                                 double backoff, int interval)
{
    if (found_inf) {
        *scale = (float)(*scale * backoff);
        *growth_tracker = 0;
        return 0;
    }
    int32_t successful = *growth_tracker + 1;
    if (successful == interval) {
        float grown = (float)(*scale * growth);
        if (isfinite(grown)) *scale = grown;
        *growth_tracker = 0;
    } else {
        *growth_tracker = successful;
    }
    return 1;
}

/* The device-side skip's form: the state in one int32 array (backend.h's
 * RN_SCALER_*); the step count advances when the step was taken, the
 * skipped count when not, and the found-inf flag is cleared for the next
 * step, so nothing on the host ever touches it. */
static inline RN_HOST_DEVICE void rn_scale_update_state(float *scale, int32_t *state, double growth, double backoff,
                                                        int interval)
{
    if (rn_scale_update(scale, &state[RN_SCALER_GROWTH_TRACKER], state[RN_SCALER_FOUND_INF], growth, backoff, interval))
        state[RN_SCALER_STEP]++;
    else
        state[RN_SCALER_SKIPPED]++;
    state[RN_SCALER_FOUND_INF] = 0;
}

#endif
