/* check-step (see check_step.h). */
#include "check_step.h"
#include "cs_console.h"
#include "grad_scaler.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cifar.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "transforms.h"

double rn_proj_weight(size_t i)
{
    uint32_t u = (uint32_t)((uint64_t)(i + 1) * 2654435761u); /* mod 2^32 */
    return (double)u / 4294967296.0 - 0.5;
}

/* The tensors written in full: fc's weight, and the one-dimensional ones
 * (fc's bias, every batch norm's weight and bias). */
static int written_in_full(const rn_model *m, const rn_param *p)
{
    return p == m->fc_weight || p->ndims == 1;
}

/* The gradient rows of every trainable tensor. */
static void write_gradients(FILE *f, const rn_model *m)
{
    float *g = cs_alloc(rn_model_largest_count(m) * sizeof(float), "check-step gradient");
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        if (!p->trainable) continue;
        m->be->to_host(g, p->grad, p->count * sizeof(float));
        double norm = 0, proj = 0;
        for (size_t j = 0; j < p->count; j++) {
            norm += (double)g[j] * g[j];
            proj += (double)g[j] * rn_proj_weight(j);
        }
        fprintf(f, "grad_norm,%s,%.9g\n", p->name, sqrt(norm));
        fprintf(f, "grad_proj,%s,%.9g\n", p->name, proj);
        if (written_in_full(m, p))
            for (size_t j = 0; j < p->count; j++) fprintf(f, "grad,%s[%zu],%.9g\n", p->name, j, g[j]);
    }
    cs_free(g);
}

/* The step's K micro-batches of `batch` images (K = accum; 1: one batch):
 * each forward in training mode, its loss gradient divided by K, the
 * gradients added (backend.h's grad_accumulate); the loss is the mean of
 * theirs and the logits are every image's. fp16: scaler.scale(loss).backward()
 * then scaler.unscale_(): the gradients written are the unscaled ones. A
 * first step often overflows fp16 at the initial scale; the GradScaler then
 * halves the scale and a later step goes through: here the same step is
 * tried again at half the scale until no gradient overflows (the weights
 * are untouched: no step is taken), and the scale used is printed. */
static double run_micro_batches(rn_model *m, const float *images, const int32_t *labels, int batch, int accum,
                                float *logits)
{
    const rn_backend *be = m->be;
    const size_t per = 3 * RN_CIFAR_SIDE * RN_CIFAR_SIDE, nlogits = (size_t)batch * RN_CLASSES;
    rn_grad_scaler scaler;
    rn_scaler_init(&scaler);
    double loss_sum = 0;
    for (int tries = 0;; tries++) {
        loss_sum = 0;
        for (int j = 0; j < accum; j++) {
            rn_model_set_batch(m, images + (size_t)j * batch * per, labels + (size_t)j * batch);
            rn_model_forward(m, 1);
            rn_model_loss(m);
            if (accum > 1) rn_model_scale_loss_grad(m, 1.0f / (float)accum);
            if (m->precision == RN_FP16) rn_amp_scale_loss(m, &scaler);
            rn_model_backward_adding(m, j > 0);
            float loss;
            int correct;
            rn_model_read_metrics(m, &loss, &correct);
            loss_sum += loss;
            be->to_host(logits + (size_t)j * nlogits, m->logits, nlogits * sizeof(float));
        }
        if (m->precision != RN_FP16 || !rn_amp_unscale(m, &scaler)) break;
        if (tries == 40) {
            cs_warn("check-step: gradients overflow fp16 at every scale down to %g (inf or NaN in the CSV)",
                    (double)scaler.scale);
            break;
        }
        rn_scaler_update(&scaler, 1);
    }
    if (m->precision == RN_FP16) cs_say("check-step: fp16 loss scale %g\n", (double)scaler.scale);
    return loss_sum / accum;
}

/* The step; the CSV through a temporary name. */
static int step_and_write(rn_model *m, const float *images, const int32_t *labels, int batch, int accum,
                          const char *out_csv)
{
    const int images_in_all = batch * accum;
    float *logits = cs_alloc((size_t)images_in_all * RN_CLASSES * sizeof(float), "check-step logits");
    double loss = run_micro_batches(m, images, labels, batch, accum, logits);
    cs_outfile o;
    int rc = cs_outfile_open(&o, out_csv) != 0 ? 3 : 0;
    if (rc == 0) {
        fprintf(o.f, "kind,name,value\n");
        fprintf(o.f, "loss,,%.9g\n", loss);
        for (int i = 0; i < images_in_all; i++)
            for (int k = 0; k < RN_CLASSES; k++)
                fprintf(o.f, "logit,%d:%d,%.9g\n", i, k, logits[(size_t)i * RN_CLASSES + k]);
        write_gradients(o.f, m);
        rc = cs_outfile_commit(&o) != 0 ? 3 : 0;
    }
    cs_free(logits);
    return rc;
}

int rn_check_step(rn_model *m, const char *data_dir, int batch, int accum, const char *out_csv)
{
    const int records = batch * accum;
    char path[CS_PATH_MAX];
    cs_path_join(path, sizeof path, data_dir, "data_batch_1.bin");
    rn_cifar d;
    memset(&d, 0, sizeof d);
    int rc = rn_cifar_read_first(&d, path, records); /* refuses a file of fewer records, naming it */
    if (rc) return rc;
    size_t per = 3 * RN_CIFAR_SIDE * RN_CIFAR_SIDE;
    float *images = cs_alloc((size_t)records * per * sizeof(float), "check-step images");
    int32_t *labels = cs_alloc((size_t)records * sizeof(int32_t), "check-step labels");
    for (int i = 0; i < records; i++) {
        rn_transform_plain(d.pixels + (size_t)i * RN_CIFAR_PIXELS, RN_CIFAR_SIDE, RN_CIFAR_SIDE,
                           images + (size_t)i * per);
        labels[i] = d.labels[i];
    }
    rc = step_and_write(m, images, labels, batch, accum, out_csv);
    cs_free(images);
    cs_free(labels);
    rn_cifar_free(&d);
    return rc;
}
