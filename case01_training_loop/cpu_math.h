/* The small pieces of arithmetic that every CPU rung shares, written once so
 * that `diff 1_cpu_slow.c 2_cpu_batched.c` and `diff 2_cpu_batched.c 3_cpu_fast.c`
 * show only what each rung changes: views of the flat parameter array, the
 * byte -> float conversion of a batch, the softmax cross-entropy of one row,
 * the three GEMM shapes of a dense layer, and the SGD step. */
#ifndef C1_CPU_MATH_H
#define C1_CPU_MATH_H

#include <stddef.h>
#include <stdint.h>

#include "workload.h"

/* The six tensors inside one flat array (layout of workload.h): read-only
 * for the weights a pass reads, writable for the gradients it forms. */
typedef struct {
    const float *w1, *b1, *w2, *b2, *w3, *b3;
} c1_weights;
typedef struct {
    float *w1, *b1, *w2, *b2, *w3, *b3;
} c1_grads;

c1_weights c1_weights_of(const c1_layout *l, const float *flat);
c1_grads c1_grads_of(const c1_layout *l, float *flat);

/* x[i * in + k] = c1_pixel(image idx[i], pixel k) for i < count: the batch's
 * rows in the order given. */
void c1_convert_rows(const c1_workload *w, const int32_t *idx, int count, float *x);

/* One row of logits z[0..n-1] against the true class `label`:
 * returns logsumexp(z) - z[label], computed with the maximum subtracted so
 * exp never overflows; *hit = 1 when the first arg-max is the label.
 * When dz is not NULL it also writes dz = (softmax(z) - onehot(label)) * scale,
 * the gradient of scale * loss (scale = 1 / batch for a batch mean); dz may
 * be z itself (z is read completely before dz is written). */
float c1_xent_row(const float *z, int n, int label, int *hit, float *dz, float scale);

/* The metrics of a batch from its logits z (rows x out, samples idx):
 * *loss = mean of c1_xent_row over the rows (summed in double), *correct =
 * rows whose arg-max is the label. */
void c1_batch_metrics(const c1_workload *w, const int32_t *idx, const float *z, int rows, float *loss,
                      int32_t *correct);

/* The three products of a dense layer y = x W^T over a batch of `rows`
 * (W is out x in, PyTorch's layout), through the CPU's GEMM (cs_gemm_best_cpu:
 * OpenBLAS, or the blocked GEMM where it measured faster or no BLAS was built in):
 *   forward      y  = x W^T      x: rows x in,  y: rows x out
 *   weight grad  gw = dy^T x     dy: rows x out, gw: out x in
 *   input grad   dx = dy W       dx: rows x in
 * Each overwrites its result (beta = 0). */
void c1_gemm_forward(const float *x, int rows, int in, const float *w, int out, float *y);
void c1_gemm_weight_grad(const float *dy, int rows, int out, const float *x, int in, float *gw);
void c1_gemm_input_grad(const float *dy, int rows, int out, const float *w, int in, float *dx);

/* The SGD step p -= lr * g over n floats; parallel = 1 splits it over the
 * OpenMP threads. */
void c1_sgd_update(float *p, const float *g, size_t n, float lr, int parallel);

/* For the gradient check (tests/case01/test_c1_gradcheck.c), defined in
 * 3_cpu_fast.c and running exactly cpu_fast's forward and backward: the
 * batch-mean loss over the samples idx[0..count-1] of w->data with the
 * weights `params` (w->layout.count floats), and its full gradient written
 * to grad (w->layout.count floats, same layout). Buffers are allocated and
 * freed inside. */
double c1_cpu_loss_and_grad(const c1_workload *w, const float *params, const int32_t *idx, int count, float *grad);

#endif
