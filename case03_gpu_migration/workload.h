/* case03's workload, defined once: every variant computes exactly this.
 *
 * The chain (a recurrent layer, as in an RNN or a deep MLP sharing weights):
 *   X_0 = x0 (n x n)
 *   for k = 1..iters:
 *       Z   = X_{k-1} * W                         large matrix product
 *       X_k = scale * relu(Z + bias[col])         elementwise stage
 *       rowsum[k-1][i] = sum_j X_k[i][j]          reduction
 * outputs: X_iters and rowsum (iters x n).
 *
 * The batch: `batch` independent small products C_p = A_p * B_p of size
 * small x small, where launch and transfer overheads dominate on a GPU.
 *
 * The reference is the same computation in float64 on the same float32
 * inputs, computed once. */
#ifndef C3_WORKLOAD_H
#define C3_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "cs_compare.h"

typedef struct {
    int n;     /* chain matrix size */
    int iters; /* chain iterations */
    int batch; /* number of small products */
    int small; /* small matrix size */
    uint64_t seed;
} c3_config;

typedef struct {
    c3_config cfg;
    /* inputs, float32, host memory */
    float *x0;      /* n*n */
    float *w;       /* n*n */
    float *bias;    /* n */
    float scale;    /* sqrt(6/n): keeps the activations' magnitude steady */
    float *small_a; /* batch*small*small */
    float *small_b; /* batch*small*small */
    /* float64 reference outputs (NULL until c3_compute_reference) */
    double *ref_x;      /* n*n */
    double *ref_rowsum; /* iters*n */
    double *ref_small;  /* batch*small*small */
} c3_workload;

typedef struct {
    float *x;      /* n*n: X_iters */
    float *rowsum; /* iters*n */
    float *small;  /* batch*small*small: the C_p */
} c3_output;

/* Tolerance on the relative L2 error against the float64 reference: float32
 * arithmetic, any summation order. */
#define C3_TOL_FP32 2e-5

/* Limits checked before any allocation. */
#define C3_N_MIN     16
#define C3_N_MAX     16384
#define C3_ITERS_MAX 1000
#define C3_BATCH_MAX 1000000
#define C3_SMALL_MAX 1024

/* Bytes the workload and one output set need on the host (inputs,
 * reference, two output sets). */
double c3_host_bytes(const c3_config *c);

/* FLOPs of one run: 2n^3 per product, 4n^2 per elementwise+reduction
 * (add, max, multiply; add), 2 small^3 per small product. */
double c3_flops(const c3_config *c);

/* Allocates and fills the inputs from the seed (tracked memory). */
void c3_workload_init(c3_workload *w, const c3_config *c);
/* Computes the float64 reference (OpenMP; cheap next to the naive variant). */
void c3_compute_reference(c3_workload *w);
void c3_workload_free(c3_workload *w);

void c3_output_alloc(c3_output *o, const c3_config *c);
void c3_output_free(c3_output *o);
/* Fills the output with NaN, so a variant that skips a part fails. */
void c3_output_poison(c3_output *o, const c3_config *c);

/* Compares an output with the reference: the chain outputs (X and rowsum)
 * and the small products each by relative L2, merged (the worse wins). */
cs_check c3_check(const c3_workload *w, const c3_output *o, double tol);

/* The elementwise stage and reduction for one chain row block, shared by the
 * CPU variants that fuse them: for rows [r0, r1): x = scale*relu(z + bias),
 * rowsum[i] = sum of the row. */
void c3_bias_relu_scale_rowsum(const float *z, const float *bias, float scale, int n, int r0, int r1, float *x,
                               float *rowsum);

#endif
