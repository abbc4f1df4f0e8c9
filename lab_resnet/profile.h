/* The lab's Part 1 profile: the operations table (per layer type and per
 * layer, sorted by time) and the answers to the lab's four analysis
 * questions, all from the phase profiler's totals over the profiled steps. */
#ifndef RN_PROFILE_H
#define RN_PROFILE_H

#include <stdio.h>

/* Operation types the profile's chart shows. */
#define RN_PROFILE_TOP 10

typedef struct {
    int steps;
    double wall_s;        /* the profiled steps, wall clock */
    double data_s, h2d_s; /* "data loading", "copy H2D" */
    double forward_s, backward_s, optimizer_s, loss_s, sync_s;
    double compute_s;         /* forward + loss + backward + optimizer step */
    double device_busy_share; /* GPU: device time of the compute regions / wall time; CPU: -1 */
    char slowest[3][96];      /* the three slowest operations (per layer) */
    double slowest_s[3];
    /* The operation types by time (fwd conv, bwd bn, ...), per step: the
     * profile's chart. */
    int ntypes;
    char top_types[RN_PROFILE_TOP][48];
    double top_types_s[RN_PROFILE_TOP];
} rn_profile_answers;

/* Prints the tables (top `top` rows of each) from the profiler's current
 * totals, over `steps` steps that took wall_s, and fills the answers.
 * on_gpu: the layer regions are device time (CUDA events). */
void rn_profile_report(FILE *f, int steps, double wall_s, int on_gpu, int top, rn_profile_answers *a);

#endif
