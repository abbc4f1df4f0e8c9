/* ResNet-18 and ResNet-50 as torchvision defines them, with a 10-class
 * head, written once over the layer operations of backend.h (so they train
 * on the CPU or the GPU), their parameters named as torchvision names them
 * (so weights load from and save to torchvision's safetensors exports),
 * Adam as the lab uses it.
 *
 *   conv1 7x7/2 (no bias) - bn1 - relu - maxpool 3x3/2 pad 1
 *   layer1..layer4: ResNet-18 2, 2, 2, 2 BasicBlocks of 64, 128, 256, 512
 *                   channels; ResNet-50 3, 4, 6, 3 Bottlenecks of width 64,
 *                   128, 256, 512 and 4 times that out (the first block of
 *                   layer2-4 has stride 2)
 *   adaptive average pool to 1x1 - fc 512 (ResNet-50: 2048) -> 10
 * BasicBlock: conv3x3(stride) - bn - relu - conv3x3 - bn, plus the shortcut
 * (identity, or downsample.0 conv1x1(stride) + downsample.1 bn), then relu.
 * Bottleneck (torchvision's, stride on the 3x3): conv1x1 - bn - relu -
 * conv3x3(stride) - bn - relu - conv1x1 - bn, plus the shortcut, then relu. */
#ifndef RN_MODEL_H
#define RN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "backend.h"
#include "precision.h"
#include "safetensors.h"

#define RN_CLASSES    10
#define RN_MAX_PARAMS 320 /* ResNet-50: 267 tensors */
#define RN_MAX_BLOCKS 16  /* ResNet-50: 3 + 4 + 6 + 3 */
#define RN_MAX_BN     (1 + 4 * RN_MAX_BLOCKS)

/* The architecture (--arch). */
typedef enum { RN_RESNET18, RN_RESNET50 } rn_arch;
const char *rn_arch_name(rn_arch a);  /* "resnet18", "resnet50" */
const char *rn_arch_title(rn_arch a); /* "ResNet-18", "ResNet-50" */
/* Returns 0, or -1 for a name that is neither. */
int rn_arch_parse(const char *s, rn_arch *a);

/* The profiler regions of the model's steps that are not a layer's own (a
 * convolution, batch norm or block carries its region names in its struct):
 * region_names[RN_REGION_FORWARD] is "forward", and so on (model.c's table
 * of names, in this order). */
typedef enum {
    RN_REGION_DATA_LOADING,   /* "data loading" */
    RN_REGION_COPY_H2D,       /* "copy H2D" */
    RN_REGION_FORWARD,        /* "forward" */
    RN_REGION_BACKWARD,       /* "backward" */
    RN_REGION_OPTIMIZER,      /* "optimizer step" */
    RN_REGION_LOSS,           /* "loss" */
    RN_REGION_FWD_MAXPOOL,    /* "fwd maxpool" */
    RN_REGION_BWD_MAXPOOL,    /* "bwd maxpool" */
    RN_REGION_FWD_RELU_STEM,  /* "fwd relu stem": the ReLU after conv1 and bn1 */
    RN_REGION_BWD_RELU_STEM,  /* "bwd relu stem" */
    RN_REGION_FWD_AVGPOOL,    /* "fwd avgpool" */
    RN_REGION_BWD_AVGPOOL,    /* "bwd avgpool" */
    RN_REGION_FWD_FC,         /* "fwd fc": the 512 (2048) -> 10 head */
    RN_REGION_BWD_FC,         /* "bwd fc" */
    RN_REGION_FWD_BWD_LOSS,   /* "fwd+bwd loss" */
    RN_REGION_ADAM,           /* "adam" */
    RN_REGION_STORAGE,        /* "16-bit storage": saved activations packed and unpacked (Part 3) */
    RN_REGION_RECOMPUTE,      /* "checkpoint recompute": a segment's forward again in the backward (Part 4) */
    RN_REGION_FWD_STEM_FUSED, /* "fwd bn+relu+maxpool stem" (Part 5) */
    RN_REGION_BWD_STEM_FUSED, /* "bwd relu+maxpool stem" (Part 5) */
    RN_NREGIONS
} rn_region;

/* Bugs a test injects (CS_FAULT_INJECT=name, read by rn_model_init), each
 * one a check must catch:
 *   rn_backward_stops_at_fc  the backward stops after fc: every gradient
 *                            below it is zero (the loss still falls, as fc
 *                            alone learns): the run's gradient check;
 *   rn_grad_one_channel      output channel 0 of the last block's conv2
 *                            weight gradient (layer4.1.conv2 in ResNet-18)
 *                            is zero (1 of its 512): check-step
 *                            against PyTorch (rn_gpu_grad_one_channel: on
 *                            the GPU only, for the GPU's step against the CPU's);
 *   rn_adam_ascends          Adam climbs the gradient: the loss rises;
 *   rn_accum_overwrites      gradient accumulation's later batches overwrite
 *                            the gradients instead of adding to them (a
 *                            zero_grad() in the wrong place): the memory
 *                            run's accumulation check;
 *   rn_fused_drops_residual  Part 5's fused batch norm + add + ReLU at a
 *                            block's end leaves the residual out:
 *                            compile's gradient check. */
typedef enum {
    RN_FAULT_NONE,
    RN_FAULT_STOPS_AT_FC,
    RN_FAULT_ONE_CHANNEL,
    RN_FAULT_ADAM_ASCENDS,
    RN_FAULT_ACCUM_OVERWRITES,
    RN_FAULT_FUSED_NO_RESIDUAL
} rn_fault;

/* One named tensor of the model: a trainable parameter (with its gradient
 * and Adam's m and v) or a buffer (batch norm's running statistics). */
typedef struct {
    char name[64]; /* torchvision's name, e.g. "layer2.0.downsample.1.running_var" */
    int ndims;
    int64_t shape[4];
    size_t count;
    float *data;         /* backend memory */
    float *grad, *m, *v; /* NULL for buffers */
    int trainable;
} rn_param;

/* An activation the backward pass reads again. In fp32 `f` is its own
 * buffer. Under fp16 and bf16 (Part 3) it is kept in 16 bits between the
 * passes (`bits`: half the bytes, the memory autocast saves), and `f`
 * points to whichever working buffer holds it in float while a layer
 * reads it: written by the forward, unpacked again by the backward. With
 * the GPU's 16-bit activations (rn_model's act16) `f` is `bits`: the layers
 * write and read it there, as backend.h's act16 says. */
typedef struct {
    float *f;
    uint16_t *bits;
    size_t count; /* elements for the prepared batch */
    const char *what;
    int shared; /* its storage is in the checkpoint region (Part 4), not its own */
} rn_saved;

typedef struct {
    rn_conv_shape s;
    rn_param *weight;
    char fwd[80], bwd[80]; /* profiler region names: "fwd conv layer1.0.conv1" */
    /* Part 5: what the fused step's forward keeps for the backward
     * (backend.h's conv_forward_keep), NULL where nothing is kept; valid
     * while the last forward kept it. */
    float *kept;
    int kept_valid;
    /* Part 5 on a shape that leaves taps out: the computed taps' gradient
     * (the last backward's) and Adam's moments, compact, while the fused
     * step runs (NULL otherwise; backend.h's conv_live_*), and the input
     * side they were laid out for. */
    float *g_live, *m_live, *v_live;
    int h_in, w_in;
} rn_conv_layer;

typedef struct {
    int c;
    rn_param *weight, *bias, *running_mean, *running_var;
    int64_t num_batches_tracked;
    float *save_mean, *save_invstd; /* from the last training forward */
    char fwd[80], bwd[80];
    char fused_fwd[80], fused_bwd[80]; /* Part 5: "fwd bn+relu layer1.0.bn1", "fwd bn+add+relu layer1.0" */
} rn_bn_layer;

typedef struct {
    int cin, cout, stride, has_downsample;
    int bottleneck; /* ResNet-50's block; else the BasicBlock */
    int width;      /* the bottleneck's inner channels (cout / 4) */
    rn_conv_layer conv1, conv2, conv3, ds_conv;
    rn_bn_layer bn1, bn2, bn3, ds_bn;
    char relu_fwd[80], relu_bwd[80], add_fwd[80], add_bwd[80];
    /* The activations the backward pass reads again, for the prepared batch
     * shape. The last bn's and the shortcut bn's outputs are not among
     * them: they live in working buffers only until the add. */
    int h_in, w_in, h_out, w_out;
    rn_saved *in;    /* the block's input (the previous block's out, or the maxpool's) */
    rn_saved c1, a1; /* conv1 output; relu(bn1(c1)) */
    rn_saved c2;     /* conv2 output */
    rn_saved a2, c3; /* bottleneck: relu(bn2(c2)); conv3 output */
    rn_saved ds_c;   /* shortcut conv output (downsample only) */
    rn_saved out;    /* relu(last bn + shortcut) */
} rn_block;

typedef struct {
    const rn_backend *be;
    rn_arena *arena;
    rn_param params[RN_MAX_PARAMS];
    int nparams;
    rn_arch arch;
    rn_conv_layer conv1;
    rn_bn_layer bn1;
    rn_block blocks[RN_MAX_BLOCKS];
    int nblocks;
    int layer_first[5]; /* layer l's blocks are layer_first[l] .. layer_first[l + 1] - 1 */
    int features;       /* fc's inputs: the last block's channels */
    rn_param *fc_weight, *fc_bias;
    /* Adam (the lab's settings by default). */
    float lr, beta1, beta2, eps;
    int adam_t; /* steps taken */
    rn_fault fault;
    rn_precision precision; /* the tensors': fp32, or autocast's fp16/bf16 (precision.h) */
    rn_precision math;      /* what was asked: the same, or tf32 (fp32 tensors, TF32 convolutions) */
    /* Gradient checkpointing (Part 4, rn_model_set_checkpoint): the
     * segments' inner activations share one region, and the backward runs
     * each segment's forward again before its backward; `protect` is the
     * working buffer that holds the gradient meanwhile, `recomputing` keeps
     * batch norm's running statistics from a second update. */
    int checkpoint;
    /* Part 5's fusions (rn_model_set_fused); `keeping`: this training
     * forward keeps the convolutions' patch matrices for the backward. */
    int fused, keeping;
    /* Part 3 on the GPU (backend.h's act16): the activations between layers
     * in 16 bits, channels last, wherever the backend can and the step is
     * neither fused nor checkpointed (those keep float working buffers);
     * then every activation pointer below holds 16-bit NHWC values, and
     * x16 is the image cast so for conv1 (its backward reads it too). */
    int act16;
    float *x16;
    /* A data-parallel run's listener (ddp_sync.h): told, in the backward
     * pass, as each trainable tensor's gradient is complete, so that its
     * reduction can start while the backward goes on (NULL: none). */
    void (*on_grad)(void *ctx, rn_param *p);
    void *on_grad_ctx;
    void *ckpt_region;
    const float *protect;
    int recomputing;
    float bn_momentum, bn_eps;
    /* The prepared batch shape and its buffers (backend memory): room for
     * `capacity` images; `batch` is the current batch's count (smaller for
     * an epoch's last, short batch). */
    int capacity, batch, img;
    float *x; /* batch x 3 x img x img, the normalised images */
    int32_t *labels;
    /* Input slots (Part 2's asynchronous copies): slot 0 is x/labels as
     * prepared, slot 1 is made by rn_model_add_input_slot. */
    float *x_slot[2];
    int32_t *labels_slot[2];
    rn_saved stem_c, stem_a; /* conv1 output; relu(bn1(.)) */
    int stem_h, stem_w, pool_h, pool_w;
    rn_saved pool; /* maxpool output = layer1's input */
    int32_t *pool_argmax;
    float *gap; /* batch x features */
    float *logits, *dlogits;
    float *loss;      /* one float: the batch loss (backend memory) */
    int32_t *correct; /* one int: correct predictions of the batch */
    /* Five buffers: the activation gradients in the backward pass, and in
     * the forward the working buffers (bn2's output, 16-bit activations in
     * float). grad[0] is the stem's size (the stem needs one at a time, in
     * 16-bit storage too: its activations are read in their 16 bits); the
     * others hold the largest activation after the stem. grad_floats: the
     * values each holds (in 16 bits under act16: half the bytes). */
    float *grad[5];
    size_t grad_floats[5];
    size_t stem_floats, block_floats; /* those two sizes, for the prepared batch */
    float *work;                      /* convolution scratch */
    /* Under fp16/bf16: the low-precision copy of the weights a convolution
     * or fc is reading (the largest layer's size), and of fc's bias. */
    float *lp_weight, *lp_bias;
    size_t work_floats;
    char region_names[RN_NREGIONS][64]; /* indexed by rn_region */
} rn_model;

/* Builds ResNet-18 on backend `be`, parameters initialised as torchvision
 * does, from the seed: convolutions Kaiming-normal (fan_out, ReLU gain),
 * batch norm weight 1 and bias 0 (running mean 0, var 1), fc as nn.Linear
 * (uniform +-1/sqrt(features)). Adam: lr 1e-4, betas 0.9/0.999, eps 1e-8. */
void rn_model_init(rn_model *m, const rn_backend *be, uint64_t seed);
/* The same for either architecture. */
void rn_model_init_arch(rn_model *m, const rn_backend *be, uint64_t seed, rn_arch arch);
/* Every batch norm layer, in the parameters' order; returns how many
 * (at most RN_MAX_BN). */
int rn_model_bn_layers(rn_model *m, rn_bn_layer **list);
/* Allocates the activation buffers for batches of `batch` images of
 * img x img (the arena's activation and workspace categories). */
void rn_model_prepare(rn_model *m, int batch, int img);
/* Gives back everything rn_model_prepare laid out (the activations, the
 * input, the scratch), so that the model can be prepared again for another
 * batch (Part 4's largest batch that fits). Weights, gradients and Adam's
 * state stay. */
void rn_model_unprepare(rn_model *m);
void rn_model_free(rn_model *m);

/* One training step on the batch already in m->x / m->labels: forward in
 * training mode, loss, backward, then Adam when `update` is set. The loss
 * and correct count stay in backend memory until rn_model_read_metrics. */
void rn_model_forward(rn_model *m, int train);
void rn_model_loss(rn_model *m);
void rn_model_backward(rn_model *m);
void rn_model_adam_step(rn_model *m);
/* Adam with its step count in backend memory (state[RN_SCALER_STEP] of an
 * RN_SCALER_STATE int32 array, its found-inf flag 0; scale: one float the
 * update keeps at its value): read and advanced on the device, nothing on
 * the host, as a CUDA graph's step needs (graph_step.h). The same results
 * as rn_model_adam_step, bit for bit. */
void rn_model_adam_step_device(rn_model *m, float *scale, int32_t *state);
/* After rn_model_loss: the loss gradient times `factor` (GradScaler's
 * scale, or 1/K for gradient accumulation over K batches). */
void rn_model_scale_loss_grad(rn_model *m, float factor);
/* rn_model_backward, with `add` adding the parameter gradients to those
 * already held (gradient accumulation's later batches: backend.h's
 * grad_accumulate) instead of overwriting them. */
void rn_model_backward_adding(rn_model *m, int add);
/* Reads the last batch's loss and correct count (a sync on the GPU). */
void rn_model_read_metrics(const rn_model *m, float *loss, int *correct);

/* Autocast's numerics from here on (Part 3): convolutions and fc read
 * low-precision copies of the fp32 weights, made at each use; every
 * activation between layers and every gradient flowing back holds fp16 or
 * bf16 values; weight gradients are rounded too before they reach the fp32
 * parameters, as the cast's backward gives them; batch norm's parameters,
 * the loss and Adam stay fp32. The activations kept for the backward pass
 * are stored in 16 bits (rn_saved): autocast's memory as well as its
 * numerics. Set it before rn_model_prepare for the arena's peak to show
 * only the new layout (after it, the activations are laid out again). */
void rn_model_set_precision(rn_model *m, rn_precision p);
/* Gradient checkpointing (Part 4, the lab's --checkpoint stages): five
 * segments, the stem (to the max pool) and layer1 to layer4. Only each
 * segment's output keeps its own storage; the activations inside a segment
 * share one region, the size of the largest segment's, which the next
 * segment's forward overwrites. The backward runs each segment's forward
 * again from its input, then its backward. The recomputed batch norms use
 * the same batch statistics and do not update the running statistics or
 * num_batches_tracked a second time (PyTorch's checkpoint does update them
 * twice): the gradients and the statistics equal the plain run's, bit for
 * bit on the CPU. Set it before rn_model_prepare (after it, the
 * activations are laid out again; setting what is set already changes
 * nothing). */
void rn_model_set_checkpoint(rn_model *m, int on);

/* Part 5, the lab's torch.compile done by hand: from here on a training
 * step without checkpointing runs the backend's fused operations
 * (backend.h): batch norm with the ReLU after it, with the residual add and
 * the ReLU at a block's end, the stem's batch norm, ReLU and max pool, their
 * backwards, and Adam on every tensor at once. The gradients, statistics
 * and weights are the separate operations' (bit for bit on the CPU).
 * Under fp16 and bf16, batch norm + ReLU, its backward and Adam are fused,
 * the block's end and the stem are not (autocast rounds between their
 * operations). Checkpointing and evaluation run unfused; so does any
 * operation a backend does not have. */
void rn_model_set_fused(rn_model *m, int on);

/* The values the activations saved for the backward pass hold (their
 * bytes: 4 each in fp32, 2 under fp16/bf16), for the prepared batch. */
size_t rn_model_saved_count(const rn_model *m);

/* Copies host images (batch x 3 x img x img floats) and labels into the
 * model's input buffers. A label outside [0, RN_CLASSES) is a one-line
 * error and exit code 2. */
void rn_model_set_batch(rn_model *m, const float *images, const int32_t *labels);
/* The same for a batch of n images, 1 <= n <= m->capacity (an epoch's last
 * batch may be short): m->batch becomes n. */
void rn_model_set_batch_n(rn_model *m, const float *images, const int32_t *labels, int n);
/* Exits with code 2 and one line when a label is outside [0, RN_CLASSES). */
void rn_model_check_labels(const int32_t *labels, int n);
/* A second input slot (backend memory, workspace category), once. */
void rn_model_add_input_slot(rn_model *m);
/* The next batch is n images in input slot `slot` (filled by the caller,
 * e.g. by an asynchronous copy): m->x, m->labels and m->batch follow. */
void rn_model_use_input_slot(rn_model *m, int slot, int n);

/* Weights from a safetensors file with torchvision's names (F32; the I64
 * num_batches_tracked buffers are read when present). A head for another
 * number of classes (fc.weight [K, features] and fc.bias [K], as ImageNet's
 * 1000) is re-initialised from `seed`, with a note on stdout; any other
 * tensor missing, not F32 or of another shape than the model's (fc.bias
 * [2, 5] too) is an error naming the tensor, its shape and the one
 * expected. Every tensor is checked before any is copied: on an error the
 * model is as it was. Returns 0, or 2 with one line (3: out of memory). */
int rn_model_load(rn_model *m, const char *path, uint64_t seed);
/* The same from a file already read (rn_st_open, rn_st_parse). */
int rn_model_load_file(rn_model *m, const rn_st_file *f, uint64_t seed);
/* All parameters, running statistics and num_batches_tracked. Returns 0 or 3. */
int rn_model_save(const rn_model *m, const char *path);

/* A host copy of every tensor's data (weights and running statistics).
 * Restoring it also zeroes Adam's moments and step count and batch norm's
 * batch counts: the model as it was before its first step, when the
 * snapshot was taken then. */
typedef struct {
    float *data;
    size_t floats;
} rn_snapshot;
int rn_snapshot_take(const rn_model *m, rn_snapshot *s);
void rn_snapshot_restore(rn_model *m, const rn_snapshot *s);
/* Adam's moments kept compact by the fused step (rn_conv_layer's m_live,
 * v_live) set to zero, as rn_snapshot_restore sets the others. */
void rn_model_zero_live_moments(rn_model *m);
void rn_snapshot_free(rn_snapshot *s);

/* The parameter called name, or NULL. */
rn_param *rn_model_param(rn_model *m, const char *name);
/* The element count of the model's largest tensor (layer4's 3x3
 * convolutions), for one host buffer that holds any of them. */
size_t rn_model_largest_count(const rn_model *m);

/* Trainable parameter count (11,181,642 for ResNet-18 with 10 classes,
 * 23,528,522 for ResNet-50). */
size_t rn_model_trainable_count(const rn_model *m);

#endif
