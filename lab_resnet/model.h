/* ResNet-18 as torchvision defines it, with a 10-class head, written once
 * over the layer operations of backend.h (so it trains on the CPU or the
 * GPU), its parameters named as torchvision names them (so weights load from
 * and save to torchvision's safetensors exports), Adam as the lab uses it.
 *
 *   conv1 7x7/2 (no bias) - bn1 - relu - maxpool 3x3/2 pad 1
 *   layer1: 2 BasicBlocks, 64 channels          (stride 1)
 *   layer2: 2 BasicBlocks, 128 channels         (first block stride 2, 1x1/2 conv + bn shortcut)
 *   layer3: 2 BasicBlocks, 256 channels         (likewise)
 *   layer4: 2 BasicBlocks, 512 channels         (likewise)
 *   adaptive average pool to 1x1 - fc 512 -> 10
 * BasicBlock: conv3x3(stride) - bn - relu - conv3x3 - bn, plus the shortcut
 * (identity, or downsample.0 conv1x1(stride) + downsample.1 bn), then relu. */
#ifndef LR_MODEL_H
#define LR_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "backend.h"
#include "safetensors.h"

#define LR_CLASSES 10
#define LR_MAX_PARAMS 128
#define LR_NBLOCKS 8

/* One named tensor of the model: a trainable parameter (with its gradient
 * and Adam's m and v) or a buffer (batch norm's running statistics). */
typedef struct {
    char name[64];          /* torchvision's name, e.g. "layer2.0.downsample.1.running_var" */
    int ndims;
    int64_t shape[4];
    size_t count;
    float *data;            /* backend memory */
    float *grad, *m, *v;    /* NULL for buffers */
    int trainable;
} lr_param;

typedef struct {
    lr_conv_shape s;
    lr_param *weight;
    char fwd[80], bwd[80];  /* profiler region names: "fwd conv layer1.0.conv1" */
} lr_conv_layer;

typedef struct {
    int c;
    lr_param *weight, *bias, *running_mean, *running_var;
    int64_t num_batches_tracked;
    float *save_mean, *save_invstd;   /* from the last training forward */
    char fwd[80], bwd[80];
} lr_bn_layer;

typedef struct {
    int cin, cout, stride, has_downsample;
    lr_conv_layer conv1, conv2, ds_conv;
    lr_bn_layer bn1, bn2, ds_bn;
    char relu_fwd[80], relu_bwd[80], add_fwd[80], add_bwd[80];
    /* Activations of the prepared batch shape (backend memory). */
    int h_in, w_in, h_out, w_out;
    float *in;              /* the block's input (the previous output) */
    float *c1, *a1;         /* conv1 output; relu(bn1(c1)) */
    float *c2, *b2;         /* conv2 output; bn2(c2) */
    float *ds_c, *ds_b;     /* shortcut conv output and its bn (downsample only) */
    float *out;             /* relu(b2 + shortcut) */
} lr_block;

typedef struct {
    const lr_backend *be;
    lr_arena *arena;
    lr_param params[LR_MAX_PARAMS];
    int nparams;
    lr_conv_layer conv1;
    lr_bn_layer bn1;
    lr_block blocks[LR_NBLOCKS];
    lr_param *fc_weight, *fc_bias;
    /* Adam (the lab's settings by default). */
    float lr, beta1, beta2, eps;
    int adam_t;             /* steps taken */
    float bn_momentum, bn_eps;
    /* The prepared batch shape and its buffers (backend memory). */
    int batch, img;
    float *x;               /* batch x 3 x img x img, the normalised images */
    int32_t *labels;
    float *stem_c, *stem_a; /* conv1 output; relu(bn1(.)) */
    int stem_h, stem_w, pool_h, pool_w;
    float *pool;            /* maxpool output = layer1's input */
    int32_t *pool_argmax;
    float *gap;             /* batch x 512 */
    float *logits, *dlogits;
    float *loss;            /* one float: the batch loss (backend memory) */
    int32_t *correct;       /* one int: correct predictions of the batch */
    float *grad[5];         /* scratch gradients, each the largest activation */
    float *work;            /* convolution scratch */
    size_t work_floats;
    char region_names[16][64];
} lr_model;

/* Builds the model on backend `be`, parameters initialised as torchvision
 * does, from the seed: convolutions Kaiming-normal (fan_out, ReLU gain),
 * batch norm weight 1 and bias 0 (running mean 0, var 1), fc as nn.Linear
 * (uniform +-1/sqrt(512)). Adam: lr 1e-4, betas 0.9/0.999, eps 1e-8. */
void lr_model_init(lr_model *m, const lr_backend *be, uint64_t seed);
/* Allocates the activation buffers for batches of `batch` images of
 * img x img (the arena's activation and workspace categories). */
void lr_model_prepare(lr_model *m, int batch, int img);
void lr_model_free(lr_model *m);

/* One training step on the batch already in m->x / m->labels: forward in
 * training mode, loss, backward, then Adam when `update` is set. The loss
 * and correct count stay in backend memory until lr_model_read_metrics. */
void lr_model_forward(lr_model *m, int train);
void lr_model_loss(lr_model *m);
void lr_model_backward(lr_model *m);
void lr_model_adam_step(lr_model *m);
/* Reads the last batch's loss and correct count (a sync on the GPU). */
void lr_model_read_metrics(const lr_model *m, float *loss, int *correct);

/* Copies host images (batch x 3 x img x img floats) and labels into the
 * model's input buffers. A label outside [0, LR_CLASSES) is a one-line
 * error and exit code 2. */
void lr_model_set_batch(lr_model *m, const float *images, const int32_t *labels);

/* Weights from a safetensors file with torchvision's names (F32; the I64
 * num_batches_tracked buffers are read when present). A head for another
 * number of classes (fc.weight [K, 512] and fc.bias [K], as ImageNet's
 * 1000) is re-initialised from `seed`, with a note on stdout; any other
 * tensor missing, not F32 or of another shape than the model's (fc.bias
 * [2, 5] too) is an error naming the tensor, its shape and the one
 * expected. Every tensor is checked before any is copied: on an error the
 * model is as it was. Returns 0, or 2 with one line (3: out of memory). */
int lr_model_load(lr_model *m, const char *path, uint64_t seed);
/* The same from a file already read (lr_st_open, lr_st_parse). */
int lr_model_load_file(lr_model *m, const lr_st_file *f, uint64_t seed);
/* All parameters, running statistics and num_batches_tracked. Returns 0 or 3. */
int lr_model_save(const lr_model *m, const char *path);

/* The parameter called name, or NULL. */
lr_param *lr_model_param(lr_model *m, const char *name);
/* Trainable parameter count (11,181,642 for ResNet-18 with 10 classes). */
size_t lr_model_trainable_count(const lr_model *m);

#endif
