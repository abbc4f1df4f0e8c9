/* check-step: one training step on fixed data, written as CSV so that any
 * tool (docs/compare_with_pytorch.py, a golden file, the GPU against the
 * CPU) can check the whole step.
 *
 * The step: the first `batch` records of DIR/data_batch_1.bin (no
 * augmentation, 32x32, Normalize only), forward in training mode, loss,
 * backward; no optimizer step. With gradient accumulation (--accum-steps
 * K), K micro-batches of `batch` from the first K x batch records, each
 * loss gradient divided by K and the gradients added. The CSV's rows are
 * "kind,name,value":
 *
 *   loss,,L                 the batch's mean cross-entropy (with K: the
 *                           mean of the micro-batches')
 *   logit,i:k,v             the logits, image i (of all K x batch), class k
 *   grad_norm,T,v           the L2 norm of tensor T's gradient (every
 *                           trainable tensor, torchvision's names)
 *   grad_proj,T,v           sum_i g_i * r_i over T's gradient in PyTorch's
 *                           row-major order, r_i = u_i - 0.5 and
 *                           u_i = ((i + 1) * 2654435761 mod 2^32) / 2^32:
 *                           a sign flip, a permutation or one wrong channel
 *                           changes it where the norm may not
 *   grad,T[i],v             every element of the gradients of fc.weight,
 *                           fc.bias and every batch norm's weight and bias
 */
#ifndef RN_CHECK_STEP_H
#define RN_CHECK_STEP_H

#include <stddef.h>

#include "model.h"

/* r_i of the projection above (i from 0). */
double rn_proj_weight(size_t i);

/* Runs the step on `m` and writes the CSV (through a temporary file).
 * Returns 0 or an exit code (2: the data; 3: the CSV could not be written). */
int rn_check_step(rn_model *m, const char *data_dir, int batch, int accum, const char *out_csv);

#endif
