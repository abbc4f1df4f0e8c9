/* ResNet-18 and ResNet-50 over the backend's layer operations (see model.h). */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "cs_fault.h"
#include "cs_memory.h"
#include "cs_rng.h"
#include "safetensors.h"

/* ---- parameters ------------------------------------------------------------ */

static rn_param *add_param(rn_model *m, const char *name, int ndims, const int64_t *shape, int trainable)
{
    if (m->nparams == RN_MAX_PARAMS) {
        fprintf(stderr, "lab_resnet: more than %d parameter tensors\n", RN_MAX_PARAMS);
        exit(3);
    }
    rn_param *p = &m->params[m->nparams++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndims = ndims;
    p->count = 1;
    for (int i = 0; i < ndims; i++) {
        p->shape[i] = shape[i];
        p->count *= (size_t)shape[i];
    }
    p->trainable = trainable;
    p->data = rn_arena_floats(m->arena, RN_WEIGHTS, p->count, name);
    if (trainable) {
        p->grad = rn_arena_floats(m->arena, RN_GRADIENTS, p->count, name);
        p->m = rn_arena_floats(m->arena, RN_OPTIMIZER, p->count, name);
        p->v = rn_arena_floats(m->arena, RN_OPTIMIZER, p->count, name);
    }
    return p;
}

/* Fills a parameter from host values. */
static void upload(const rn_model *m, rn_param *p, const float *host)
{
    m->be->to_backend(p->data, host, p->count * sizeof(float));
}

static void make_conv(rn_model *m, rn_conv_layer *c, const char *name, int cin, int cout, int k, int stride, int pad)
{
    c->s = (rn_conv_shape){cin, cout, k, stride, pad};
    char n[64];
    snprintf(n, sizeof n, "%s.weight", name);
    int64_t shape[4] = {cout, cin, k, k};
    c->weight = add_param(m, n, 4, shape, 1);
    snprintf(c->fwd, sizeof c->fwd, "fwd conv %s", name);
    snprintf(c->bwd, sizeof c->bwd, "bwd conv %s", name);
}

static void make_bn(rn_model *m, rn_bn_layer *b, const char *name, int c)
{
    b->c = c;
    char n[64];
    int64_t shape[1] = {c};
    snprintf(n, sizeof n, "%s.weight", name);
    b->weight = add_param(m, n, 1, shape, 1);
    snprintf(n, sizeof n, "%s.bias", name);
    b->bias = add_param(m, n, 1, shape, 1);
    snprintf(n, sizeof n, "%s.running_mean", name);
    b->running_mean = add_param(m, n, 1, shape, 0);
    snprintf(n, sizeof n, "%s.running_var", name);
    b->running_var = add_param(m, n, 1, shape, 0);
    b->num_batches_tracked = 0;
    b->save_mean = rn_arena_floats(m->arena, RN_ACTIVATIONS, (size_t)c, "bn saved mean");
    b->save_invstd = rn_arena_floats(m->arena, RN_ACTIVATIONS, (size_t)c, "bn saved 1/std");
    snprintf(b->fwd, sizeof b->fwd, "fwd bn %s", name);
    snprintf(b->bwd, sizeof b->bwd, "bwd bn %s", name);
    snprintf(b->fused_fwd, sizeof b->fused_fwd, "fwd bn+relu %s", name);
    snprintf(b->fused_bwd, sizeof b->fused_bwd, "bwd relu+bn %s", name);
}

/* torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu"):
 * std = sqrt(2 / (cout * k * k)). */
static void init_conv(const rn_model *m, rn_conv_layer *c, uint64_t key, float *tmp)
{
    double std = sqrt(2.0 / ((double)c->s.cout * c->s.k * c->s.k));
    /* Counter-based deviates, on all cores: 11 million of them took 0.46 s
     * on one. */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < c->weight->count; i++) tmp[i] = (float)(std * cs_rng_normal_at(key, i));
    upload(m, c->weight, tmp);
}

/* Batch norm: weight 1, bias 0, running mean 0, running var 1. */
static void init_bn(const rn_model *m, rn_bn_layer *b, float *tmp)
{
    for (int i = 0; i < b->c; i++) tmp[i] = 1.0f;
    upload(m, b->weight, tmp);
    upload(m, b->running_var, tmp);
    for (int i = 0; i < b->c; i++) tmp[i] = 0.0f;
    upload(m, b->bias, tmp);
    upload(m, b->running_mean, tmp);
    b->num_batches_tracked = 0;
}

/* nn.Linear's default: weight and bias uniform in +-1/sqrt(fan_in). */
static void init_fc(const rn_model *m, uint64_t seed, float *tmp)
{
    cs_rng rng;
    cs_rng_seed(&rng, seed, 2);
    float bound = 1.0f / sqrtf((float)m->fc_weight->shape[1]);
    for (size_t i = 0; i < m->fc_weight->count; i++) tmp[i] = cs_rng_uniform(&rng, -bound, bound);
    upload(m, m->fc_weight, tmp);
    for (size_t i = 0; i < m->fc_bias->count; i++) tmp[i] = cs_rng_uniform(&rng, -bound, bound);
    upload(m, m->fc_bias, tmp);
}

const char *rn_arch_name(rn_arch a)
{
    return a == RN_RESNET50 ? "resnet50" : "resnet18";
}

const char *rn_arch_title(rn_arch a)
{
    return a == RN_RESNET50 ? "ResNet-50" : "ResNet-18";
}

int rn_arch_parse(const char *s, rn_arch *a)
{
    if (strcmp(s, "resnet18") == 0)
        *a = RN_RESNET18;
    else if (strcmp(s, "resnet50") == 0)
        *a = RN_RESNET50;
    else
        return -1;
    return 0;
}

/* One block's layers, named "layer<l>.<j>.conv1" and so on. */
static void make_block(rn_model *m, rn_block *b, int layer, int j)
{
    char name[64];
#define NAME(part) (snprintf(name, sizeof name, "layer%d.%d.%s", layer + 1, j, part), name)
    if (b->bottleneck) {
        make_conv(m, &b->conv1, NAME("conv1"), b->cin, b->width, 1, 1, 0);
        make_bn(m, &b->bn1, NAME("bn1"), b->width);
        make_conv(m, &b->conv2, NAME("conv2"), b->width, b->width, 3, b->stride, 1);
        make_bn(m, &b->bn2, NAME("bn2"), b->width);
        make_conv(m, &b->conv3, NAME("conv3"), b->width, b->cout, 1, 1, 0);
        make_bn(m, &b->bn3, NAME("bn3"), b->cout);
    } else {
        make_conv(m, &b->conv1, NAME("conv1"), b->cin, b->cout, 3, b->stride, 1);
        make_bn(m, &b->bn1, NAME("bn1"), b->cout);
        make_conv(m, &b->conv2, NAME("conv2"), b->cout, b->cout, 3, 1, 1);
        make_bn(m, &b->bn2, NAME("bn2"), b->cout);
    }
    if (b->has_downsample) {
        make_conv(m, &b->ds_conv, NAME("downsample.0"), b->cin, b->cout, 1, b->stride, 0);
        make_bn(m, &b->ds_bn, NAME("downsample.1"), b->cout);
    }
#undef NAME
    /* Part 5 fuses the last batch norm with the add and the ReLU after it. */
    rn_bn_layer *last = b->bottleneck ? &b->bn3 : &b->bn2;
    snprintf(last->fused_fwd, sizeof last->fused_fwd, "fwd bn+add+relu layer%d.%d", layer + 1, j);
    snprintf(last->fused_bwd, sizeof last->fused_bwd, "bwd relu+bn layer%d.%d.%s", layer + 1, j,
             b->bottleneck ? "bn3" : "bn2");
    snprintf(b->relu_fwd, sizeof b->relu_fwd, "fwd relu layer%d.%d", layer + 1, j);
    snprintf(b->relu_bwd, sizeof b->relu_bwd, "bwd relu layer%d.%d", layer + 1, j);
    snprintf(b->add_fwd, sizeof b->add_fwd, "fwd add layer%d.%d", layer + 1, j);
    snprintf(b->add_bwd, sizeof b->add_bwd, "bwd add layer%d.%d", layer + 1, j);
}

/* The stem and the four layers, their parameters in torchvision's
 * state_dict order. */
static void make_layers(rn_model *m)
{
    static const int widths[4] = {64, 128, 256, 512};
    static const int blocks18[4] = {2, 2, 2, 2}, blocks50[4] = {3, 4, 6, 3};
    const int bottleneck = m->arch == RN_RESNET50;
    const int *per_layer = bottleneck ? blocks50 : blocks18;
    make_conv(m, &m->conv1, "conv1", 3, 64, 7, 2, 3);
    make_bn(m, &m->bn1, "bn1", 64);
    int cin = 64, i = 0;
    for (int layer = 0; layer < 4; layer++) {
        m->layer_first[layer] = i;
        for (int j = 0; j < per_layer[layer]; j++, i++) {
            rn_block *b = &m->blocks[i];
            b->bottleneck = bottleneck;
            b->width = widths[layer];
            b->cin = cin;
            b->cout = bottleneck ? 4 * widths[layer] : widths[layer];
            b->stride = (layer > 0 && j == 0) ? 2 : 1;
            b->has_downsample = b->stride != 1 || b->cin != b->cout;
            make_block(m, b, layer, j);
            cin = b->cout;
        }
    }
    m->nblocks = i;
    m->layer_first[4] = i;
    m->features = cin;
}

int rn_model_bn_layers(rn_model *m, rn_bn_layer **list)
{
    int n = 0;
    list[n++] = &m->bn1;
    for (int i = 0; i < m->nblocks; i++) {
        rn_block *b = &m->blocks[i];
        list[n++] = &b->bn1;
        list[n++] = &b->bn2;
        if (b->bottleneck) list[n++] = &b->bn3;
        if (b->has_downsample) list[n++] = &b->ds_bn;
    }
    return n;
}

void rn_model_init(rn_model *m, const rn_backend *be, uint64_t seed)
{
    rn_model_init_arch(m, be, seed, RN_RESNET18);
}

void rn_model_init_arch(rn_model *m, const rn_backend *be, uint64_t seed, rn_arch arch)
{
    memset(m, 0, sizeof *m);
    m->be = be;
    m->arena = rn_arena_create(be->on_device);
    m->lr = 1e-4f;
    m->beta1 = 0.9f;
    m->beta2 = 0.999f;
    m->eps = 1e-8f;
    m->bn_momentum = 0.1f;
    m->bn_eps = 1e-5f;
    m->fault = cs_fault_injected("rn_backward_stops_at_fc")                    ? RN_FAULT_STOPS_AT_FC
               : cs_fault_injected("rn_grad_one_channel")                      ? RN_FAULT_ONE_CHANNEL
               : cs_fault_injected("rn_gpu_grad_one_channel") && be->on_device ? RN_FAULT_ONE_CHANNEL
               : cs_fault_injected("rn_adam_ascends")                          ? RN_FAULT_ADAM_ASCENDS
               : cs_fault_injected("rn_accum_overwrites")                      ? RN_FAULT_ACCUM_OVERWRITES
               : cs_fault_injected("rn_fused_drops_residual")                  ? RN_FAULT_FUSED_NO_RESIDUAL
                                                                               : RN_FAULT_NONE;

    m->arch = arch;
    make_layers(m);
    int64_t fcw[2] = {RN_CLASSES, m->features}, fcb[1] = {RN_CLASSES};
    m->fc_weight = add_param(m, "fc.weight", 2, fcw, 1);
    m->fc_bias = add_param(m, "fc.bias", 1, fcb, 1);

    /* Values, from the seed. */
    float *tmp = cs_alloc(rn_model_largest_count(m) * sizeof(float), "initial weights");
    /* Each convolution's deviates: a sequence of its own, keyed by the seed
     * and the convolution's place in the network. */
    uint64_t key = cs_rng_mix(seed ^ 0xC0117ull);
    int k = 0;
    init_conv(m, &m->conv1, key + ((uint64_t)k++ << 40), tmp);
    for (int i = 0; i < m->nblocks; i++) {
        rn_block *b = &m->blocks[i];
        init_conv(m, &b->conv1, key + ((uint64_t)k++ << 40), tmp);
        init_conv(m, &b->conv2, key + ((uint64_t)k++ << 40), tmp);
        if (b->bottleneck) init_conv(m, &b->conv3, key + ((uint64_t)k++ << 40), tmp);
        if (b->has_downsample) init_conv(m, &b->ds_conv, key + ((uint64_t)k++ << 40), tmp);
    }
    rn_bn_layer *bns[RN_MAX_BN];
    int nbn = rn_model_bn_layers(m, bns);
    for (int i = 0; i < nbn; i++) init_bn(m, bns[i], tmp);
    init_fc(m, seed, tmp);
    cs_free(tmp);
    static const char *const names[RN_NREGIONS] = {
        [RN_REGION_DATA_LOADING] = "data loading",
        [RN_REGION_COPY_H2D] = "copy H2D",
        [RN_REGION_FORWARD] = "forward",
        [RN_REGION_BACKWARD] = "backward",
        [RN_REGION_OPTIMIZER] = "optimizer step",
        [RN_REGION_LOSS] = "loss",
        [RN_REGION_FWD_MAXPOOL] = "fwd maxpool",
        [RN_REGION_BWD_MAXPOOL] = "bwd maxpool",
        [RN_REGION_FWD_RELU_STEM] = "fwd relu stem",
        [RN_REGION_BWD_RELU_STEM] = "bwd relu stem",
        [RN_REGION_FWD_AVGPOOL] = "fwd avgpool",
        [RN_REGION_BWD_AVGPOOL] = "bwd avgpool",
        [RN_REGION_FWD_FC] = "fwd fc",
        [RN_REGION_BWD_FC] = "bwd fc",
        [RN_REGION_FWD_BWD_LOSS] = "fwd+bwd loss",
        [RN_REGION_ADAM] = "adam",
        [RN_REGION_STORAGE] = "16-bit storage",
        [RN_REGION_RECOMPUTE] = "checkpoint recompute",
        [RN_REGION_FWD_STEM_FUSED] = "fwd bn+relu+maxpool stem",
        [RN_REGION_BWD_STEM_FUSED] = "bwd relu+maxpool stem",
    };
    for (int i = 0; i < RN_NREGIONS; i++) snprintf(m->region_names[i], sizeof m->region_names[i], "%s", names[i]);
}

/* ---- activations ------------------------------------------------------------ */

static float *act(rn_model *m, size_t count, const char *what)
{
    return rn_arena_floats(m->arena, RN_ACTIVATIONS, count, what);
}

static void saved_init(rn_saved *s, size_t count, const char *what)
{
    s->f = NULL;
    s->bits = NULL;
    s->count = count;
    s->what = what;
    s->shared = 0;
}

/* Block b's activations the backward reads again but its output, in the
 * order of the forward. */
static int block_saved(rn_block *b, rn_saved **list)
{
    int k = 0;
    list[k++] = &b->c1;
    list[k++] = &b->a1;
    list[k++] = &b->c2;
    if (b->bottleneck) {
        list[k++] = &b->a2;
        list[k++] = &b->c3;
    }
    if (b->has_downsample) list[k++] = &b->ds_c;
    return k;
}

#define RN_MAX_SAVED (3 + 7 * RN_MAX_BLOCKS)

/* Every activation the backward reads again, in the order of the forward. */
static int saved_list(rn_model *m, rn_saved **list)
{
    int k = 0;
    list[k++] = &m->stem_c;
    list[k++] = &m->stem_a;
    list[k++] = &m->pool;
    for (int i = 0; i < m->nblocks; i++) {
        k += block_saved(&m->blocks[i], list + k);
        list[k++] = &m->blocks[i].out;
    }
    return k;
}

size_t rn_model_saved_count(const rn_model *m)
{
    rn_saved *list[RN_MAX_SAVED];
    int k = saved_list((rn_model *)m, list);
    size_t n = 0;
    for (int i = 0; i < k; i++) n += list[i]->count;
    return n;
}

/* Checkpointing's segments: 0 is the stem (its output the max pool's),
 * 1 to 4 are layer1 to layer4 (their output the last block's). The
 * activations inside segment `seg`, in list (returns how many). */
static int segment_inner(rn_model *m, int seg, rn_saved **list)
{
    int k = 0;
    if (seg == 0) {
        list[k++] = &m->stem_c;
        list[k++] = &m->stem_a;
        return k;
    }
    int first = m->layer_first[seg - 1], end = m->layer_first[seg];
    for (int i = first; i < end; i++) {
        k += block_saved(&m->blocks[i], list + k);
        if (i + 1 < end) list[k++] = &m->blocks[i].out; /* all outputs but the segment's are inside */
    }
    return k;
}

#define RN_SEGMENTS 5

/* A tensor's bytes in the shared region, rounded up to 64. */
static size_t region_bytes(const rn_saved *s, size_t esz)
{
    return (s->count * esz + 63) / 64 * 64;
}

/* Checkpointing: each segment's inner activations at offsets from the start
 * of one region (64-byte aligned each), the region as large as the largest
 * segment's need; esz bytes per value. */
static void lay_out_segments(rn_model *m, size_t esz)
{
    size_t region = 0;
    for (int seg = 0; seg < RN_SEGMENTS; seg++) {
        rn_saved *list[RN_MAX_SAVED];
        int k = segment_inner(m, seg, list);
        size_t at = 0;
        for (int i = 0; i < k; i++) at += region_bytes(list[i], esz);
        if (at > region) region = at;
    }
    m->ckpt_region = rn_arena_bytes_alloc(m->arena, RN_ACTIVATIONS, region, "checkpointed segments' activations");
    for (int seg = 0; seg < RN_SEGMENTS; seg++) {
        rn_saved *list[RN_MAX_SAVED];
        int k = segment_inner(m, seg, list);
        size_t at = 0;
        for (int i = 0; i < k; i++) {
            void *p = (char *)m->ckpt_region + at;
            list[i]->shared = 1;
            if (esz == sizeof(float))
                list[i]->f = p;
            else
                list[i]->bits = p;
            at += region_bytes(list[i], esz);
        }
    }
}

/* Gives back the saved activations' storage (their own buffers and the
 * checkpoint region; under 16-bit storage `f` is a working buffer, not
 * theirs). */
static void release_saved(rn_model *m)
{
    rn_saved *list[RN_MAX_SAVED];
    int k = saved_list(m, list);
    if (m->ckpt_region) rn_arena_release(m->arena, m->ckpt_region);
    m->ckpt_region = NULL;
    if (m->x16) rn_arena_release(m->arena, m->x16);
    m->x16 = NULL;
    for (int i = 0; i < k; i++) {
        rn_saved *s = list[i];
        if (!s->shared && s->bits)
            rn_arena_release(m->arena, s->bits);
        else if (!s->shared && s->f)
            rn_arena_release(m->arena, s->f);
        s->f = NULL;
        s->bits = NULL;
        s->shared = 0;
    }
}

/* The saved activations' storage for the model's precision: a float buffer
 * each in fp32; 16 bits each under fp16/bf16 (their float values then live
 * in the working buffers); under checkpointing the segments' inner ones in
 * the shared region. Whatever they had before is given back. */
static void lay_out_saved(rn_model *m)
{
    rn_saved *list[RN_MAX_SAVED];
    int k = saved_list(m, list);
    release_saved(m);
    const size_t esz = m->precision == RN_FP32 ? sizeof(float) : sizeof(uint16_t);
    if (m->checkpoint) lay_out_segments(m, esz);
    for (int i = 0; i < k; i++) {
        rn_saved *s = list[i];
        if (s->shared) continue;
        if (m->precision == RN_FP32)
            s->f = act(m, s->count, s->what);
        else
            s->bits = rn_arena_bytes_alloc(m->arena, RN_ACTIVATIONS, s->count * sizeof(uint16_t), s->what);
        if (m->act16) s->f = (float *)s->bits; /* the layers write and read it in its 16 bits */
    }
    if (m->act16) {
        size_t image = (size_t)m->capacity * 3 * m->img * m->img;
        m->x16 = rn_arena_bytes_alloc(m->arena, RN_ACTIVATIONS, image * sizeof(uint16_t), "input images (16-bit)");
    }
}

/* The five working buffers (see model.h). The stem needs one stem-sized
 * buffer: its backward, the max pool's gradient, which bn1's backward
 * overwrites with its own in place; under 16-bit storage its forward too
 * (conv1's output, then bn1 and the ReLU over it in place: both are kept
 * in 16 bits, and the backward reads them there: stem_backward). The
 * blocks need no more than their largest activation (a quarter of the
 * stem's at 224). */
static void lay_out_working(rn_model *m)
{
    for (int i = 0; i < 5; i++)
        if (m->grad[i]) rn_arena_release(m->arena, m->grad[i]);
    size_t block = m->block_floats, stem = m->stem_floats > block ? m->stem_floats : block;
    for (int i = 0; i < 5; i++) {
        m->grad_floats[i] = i == 0 ? stem : block;
        size_t floats = m->act16 ? (m->grad_floats[i] + 1) / 2 : m->grad_floats[i]; /* act16: 2 bytes a value */
        size_t features = (size_t)m->capacity * m->features; /* grad[1] holds fc's float input gradient too */
        if (floats < features) floats = features;
        m->grad[i] = act(m, floats, "activation gradients and working buffers");
    }
}

/* Block b's convolutions in the order its forward runs them, and the side
 * of the input each reads (the block's sides set); returns how many. The
 * shortcut and conv1 read the block's input, as does a bottleneck's conv2
 * (the stride is on its 3x3); the others read the block's output side. */
static int block_convs(rn_block *b, rn_conv_layer *convs[4], int h[4], int w[4])
{
    rn_conv_layer *all[4] = {b->has_downsample ? &b->ds_conv : NULL, &b->conv1, &b->conv2,
                             b->bottleneck ? &b->conv3 : NULL};
    const int reads_input[4] = {1, 1, b->bottleneck, 0};
    int n = 0;
    for (int k = 0; k < 4; k++) {
        if (!all[k]) continue;
        convs[n] = all[k];
        h[n] = reads_input[k] ? b->h_in : b->h_out;
        w[n] = reads_input[k] ? b->w_in : b->w_out;
        n++;
    }
    return n;
}

/* Every convolution in the order the forward runs them, with the side of
 * the input each reads (the model prepared); returns how many. */
static int model_convs(rn_model *m, rn_conv_layer **convs, int *h, int *w)
{
    int n = 0;
    convs[n] = &m->conv1;
    h[n] = w[n] = m->img;
    n++;
    for (int i = 0; i < m->nblocks; i++) n += block_convs(&m->blocks[i], convs + n, h + n, w + n);
    return n;
}

/* Leaving the fused step: a live conv's moments back onto the dense ones'
 * computed taps (the others are zero and stayed so), its last gradient
 * expanded into the parameter's (zeros on the other taps, as eager writes
 * them). */
static void release_live(rn_model *m, rn_conv_layer *c)
{
    const rn_backend *be = m->be;
    rn_param *p = c->weight;
    be->conv_live_copy(&c->s, c->h_in, c->w_in, c->m_live, p->m, RN_LIVE_SCATTER);
    be->conv_live_copy(&c->s, c->h_in, c->w_in, c->v_live, p->v, RN_LIVE_SCATTER);
    be->conv_live_copy(&c->s, c->h_in, c->w_in, c->g_live, p->grad, RN_LIVE_EXPAND);
    rn_arena_release(m->arena, c->g_live);
    rn_arena_release(m->arena, c->m_live);
    rn_arena_release(m->arena, c->v_live);
    c->g_live = c->m_live = c->v_live = NULL;
}

static void release_kept(rn_model *m)
{
    rn_conv_layer *convs[1 + 4 * RN_MAX_BLOCKS];
    int h[1 + 4 * RN_MAX_BLOCKS], w[1 + 4 * RN_MAX_BLOCKS];
    for (int i = 0; i < model_convs(m, convs, h, w); i++) {
        if (convs[i]->m_live) release_live(m, convs[i]);
        if (convs[i]->kept) rn_arena_release(m->arena, convs[i]->kept);
        convs[i]->kept = NULL;
        convs[i]->kept_valid = 0;
    }
}

/* Entering the fused step in fp32 on a shape that leaves taps out: the
 * computed taps' moments and gradient gathered compact, when the others
 * are zero (they are, unless they came from another image size: then this
 * conv stays dense). From then on the compact ones are the conv's. */
static void lay_out_live(rn_model *m, rn_conv_layer *c, int h, int w)
{
    const rn_backend *be = m->be;
    rn_param *p = c->weight;
    if (!be->conv_live_floats || m->precision != RN_FP32 || m->on_grad) return;
    size_t f = be->conv_live_floats(&c->s, h, w);
    if (f == 0 || !be->conv_live_dead_zero(&c->s, h, w, p->m) || !be->conv_live_dead_zero(&c->s, h, w, p->v) ||
        !be->conv_live_dead_zero(&c->s, h, w, p->grad))
        return;
    c->h_in = h;
    c->w_in = w;
    c->g_live = rn_arena_floats(m->arena, RN_GRADIENTS, f, "computed taps' gradient (Part 5)");
    c->m_live = rn_arena_floats(m->arena, RN_OPTIMIZER, f, "computed taps' Adam moments (Part 5)");
    c->v_live = rn_arena_floats(m->arena, RN_OPTIMIZER, f, "computed taps' Adam moments (Part 5)");
    be->conv_live_copy(&c->s, h, w, p->m, c->m_live, RN_LIVE_GATHER);
    be->conv_live_copy(&c->s, h, w, p->v, c->v_live, RN_LIVE_GATHER);
    /* The gradient too: the next Adam may come before the next backward. */
    be->conv_live_copy(&c->s, h, w, p->grad, c->g_live, RN_LIVE_GATHER);
}

void rn_model_zero_live_moments(rn_model *m)
{
    rn_conv_layer *convs[1 + 4 * RN_MAX_BLOCKS];
    int h[1 + 4 * RN_MAX_BLOCKS], w[1 + 4 * RN_MAX_BLOCKS];
    for (int i = 0; i < model_convs(m, convs, h, w); i++) {
        rn_conv_layer *c = convs[i];
        if (!c->m_live) continue;
        size_t f = m->be->conv_live_floats(&c->s, c->h_in, c->w_in);
        memset(c->m_live, 0, f * sizeof(float));
        memset(c->v_live, 0, f * sizeof(float));
    }
}

/* Part 5's kept patch matrices, one region per convolution that builds
 * one, in the forward's order until RN_KEEP_BUDGET would be passed (at the
 * CPU's 32 x 32 and batch 32 all of them, about 36 MB; at 224 the first
 * few); the rest build theirs again in the backward, as eager does. */
#define RN_KEEP_BUDGET ((size_t)256 << 20)
static void lay_out_kept(rn_model *m)
{
    release_kept(m);
    if (!m->be->conv_keep_floats || m->capacity == 0 || m->checkpoint) return;
    rn_conv_layer *convs[1 + 4 * RN_MAX_BLOCKS];
    int h[1 + 4 * RN_MAX_BLOCKS], w[1 + 4 * RN_MAX_BLOCKS];
    size_t bytes = 0;
    for (int i = 0; i < model_convs(m, convs, h, w); i++) {
        size_t f = m->be->conv_keep_floats(&convs[i]->s, m->capacity, h[i], w[i]);
        if (f == 0 || bytes + f * sizeof(float) > RN_KEEP_BUDGET) continue;
        convs[i]->kept = rn_arena_floats(m->arena, RN_ACTIVATIONS, f, "patch matrices kept for the backward");
        bytes += f * sizeof(float);
        lay_out_live(m, convs[i], h[i], w[i]);
    }
}

static void size_conv_work(rn_model *m);

/* Whether the activations go between layers in 16 bits (backend.h's
 * act16): a 16-bit precision on a backend that can, in a step neither
 * fused (Part 5's kernels read float) nor checkpointed (Part 4's region
 * and recompute use float working buffers). Returns whether that changed;
 * the caller lays the buffers out again. */
static int choose_act16(rn_model *m)
{
    const int want =
        m->precision != RN_FP32 && !m->fused && !m->checkpoint && m->be->act16_ok && m->be->act16_ok((int)m->precision);
    if (want == m->act16) return 0;
    m->act16 = want;
    return 1;
}

/* The activation buffers again if act16 changed; returns whether they
 * were laid out. */
static int relay_act16(rn_model *m)
{
    if (!choose_act16(m) || m->capacity == 0) return 0;
    lay_out_saved(m);
    lay_out_working(m);
    size_conv_work(m);
    return 1;
}

void rn_model_set_fused(rn_model *m, int on)
{
    if (m->fused == (on != 0)) return;
    m->fused = on != 0;
    relay_act16(m);
    if (m->fused)
        lay_out_kept(m);
    else
        release_kept(m);
}

void rn_model_set_checkpoint(rn_model *m, int on)
{
    if (m->checkpoint == (on != 0)) return; /* the layout is already this one */
    m->checkpoint = on != 0;
    if (!relay_act16(m) && m->capacity > 0) lay_out_saved(m);
    if (m->fused) lay_out_kept(m); /* none while checkpointing: fusion is off then */
}

/* Block b's saved activations sized for `batch` (its input's side set);
 * returns its largest activation. */
static size_t prepare_block(rn_block *b, int batch)
{
    size_t n = (size_t)batch, o = n * b->cout * b->h_out * b->w_out;
    size_t most = o;
    if (b->bottleneck) {
        size_t mid_in = n * b->width * b->h_in * b->w_in, mid_out = n * b->width * b->h_out * b->w_out;
        saved_init(&b->c1, mid_in, "block conv1 output");
        saved_init(&b->a1, mid_in, "block bn1 + relu output");
        saved_init(&b->c2, mid_out, "block conv2 output");
        saved_init(&b->a2, mid_out, "block bn2 + relu output");
        saved_init(&b->c3, o, "block conv3 output");
        if (mid_in > most) most = mid_in;
    } else {
        saved_init(&b->c1, o, "block conv1 output");
        saved_init(&b->a1, o, "block bn1 + relu output");
        saved_init(&b->c2, o, "block conv2 output");
    }
    saved_init(&b->out, o, "block output");
    if (b->has_downsample) saved_init(&b->ds_c, o, "shortcut conv output");
    return most;
}

void rn_model_prepare(rn_model *m, int batch, int img)
{
    m->capacity = batch;
    m->batch = batch;
    m->img = img;
    size_t n = (size_t)batch;
    m->x = rn_arena_floats(m->arena, RN_WORKSPACE, n * 3 * img * img, "input images");
    m->labels = rn_arena_bytes_alloc(m->arena, RN_WORKSPACE, n * sizeof(int32_t), "labels");
    m->x_slot[0] = m->x;
    m->labels_slot[0] = m->labels;

    size_t max_act = 0; /* the largest activation after the stem */
#define TRACK(count)                              \
    do {                                          \
        if ((count) > max_act) max_act = (count); \
    } while (0)
    m->stem_h = rn_out_size(img, 7, 2, 3);
    m->stem_w = m->stem_h;
    size_t stem = n * 64 * m->stem_h * m->stem_w;
    saved_init(&m->stem_c, stem, "conv1 output");
    saved_init(&m->stem_a, stem, "bn1 + relu output");
    m->pool_h = rn_out_size(m->stem_h, 3, 2, 1);
    m->pool_w = m->pool_h;
    size_t pool = n * 64 * m->pool_h * m->pool_w;
    saved_init(&m->pool, pool, "maxpool output");
    m->pool_argmax = rn_arena_bytes_alloc(m->arena, RN_ACTIVATIONS, pool * sizeof(int32_t), "maxpool argmax");
    TRACK(pool);

    rn_saved *in = &m->pool;
    int h = m->pool_h, w = m->pool_w;
    for (int i = 0; i < m->nblocks; i++) {
        rn_block *b = &m->blocks[i];
        b->in = in;
        b->h_in = h;
        b->w_in = w;
        b->h_out = rn_out_size(h, 3, b->stride, 1);
        b->w_out = rn_out_size(w, 3, b->stride, 1);
        TRACK(prepare_block(b, batch));
        TRACK(n * b->cin * h * w);
        in = &b->out;
        h = b->h_out;
        w = b->w_out;
    }
    choose_act16(m);
    lay_out_saved(m);
    m->gap = act(m, n * m->features, "average pool output");
    m->logits = act(m, n * RN_CLASSES, "logits");
    m->dlogits = act(m, n * RN_CLASSES, "logit gradients");
    m->loss = rn_arena_floats(m->arena, RN_WORKSPACE, 1, "loss");
    m->correct = rn_arena_bytes_alloc(m->arena, RN_WORKSPACE, sizeof(int32_t), "correct count");
    m->stem_floats = stem;
    m->block_floats = max_act;
    lay_out_working(m);
    size_conv_work(m); /* asked in the mode the passes run in: once, at its size */
    if (m->fused) lay_out_kept(m);
#undef TRACK
}

void rn_model_unprepare(rn_model *m)
{
    if (m->capacity == 0) return;
    rn_arena *a = m->arena;
    release_kept(m);
    release_saved(m);
    void *owned[] = {m->x_slot[0], m->labels_slot[0], m->x_slot[1], m->labels_slot[1], m->pool_argmax,
                     m->gap,       m->logits,         m->dlogits,   m->loss,           m->correct,
                     m->grad[0],   m->grad[1],        m->grad[2],   m->grad[3],        m->grad[4],
                     m->work};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (owned[i]) rn_arena_release(a, owned[i]);
    m->x = m->x_slot[0] = m->x_slot[1] = NULL;
    m->labels = m->labels_slot[0] = m->labels_slot[1] = NULL;
    m->pool_argmax = NULL;
    m->gap = m->logits = m->dlogits = m->loss = NULL;
    m->correct = NULL;
    for (int i = 0; i < 5; i++) m->grad[i] = NULL;
    m->work = NULL;
    m->work_floats = 0;
    m->capacity = m->batch = 0;
}

void rn_model_free(rn_model *m)
{
    if (m->arena) rn_arena_destroy(m->arena);
    memset(m, 0, sizeof *m);
}

/* Labels are checked on the host, for every backend: a GPU kernel given a
 * label out of range could only give a NaN loss, not say why. (The CIFAR
 * reader checks them too; this guards every other caller.) */
void rn_model_check_labels(const int32_t *labels, int n)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= RN_CLASSES) {
            cs_error("label %d of sample %d of the batch is not in [0, %d)", (int)labels[i], i, RN_CLASSES);
            exit(2);
        }
}

void rn_model_set_batch(rn_model *m, const float *images, const int32_t *labels)
{
    rn_model_set_batch_n(m, images, labels, m->capacity);
}

void rn_model_set_batch_n(rn_model *m, const float *images, const int32_t *labels, int n)
{
    if (n < 1 || n > m->capacity) {
        cs_error("a batch of %d images for a model prepared for %d", n, m->capacity);
        exit(3);
    }
    rn_model_check_labels(labels, n);
    rn_model_use_input_slot(m, 0, n);
    m->be->to_backend(m->x, images, (size_t)n * 3 * m->img * m->img * sizeof(float));
    m->be->to_backend(m->labels, labels, (size_t)n * sizeof(int32_t));
}

void rn_model_add_input_slot(rn_model *m)
{
    if (m->x_slot[1]) return;
    size_t n = (size_t)m->capacity;
    m->x_slot[1] = rn_arena_floats(m->arena, RN_WORKSPACE, n * 3 * m->img * m->img, "input images (second slot)");
    m->labels_slot[1] = rn_arena_bytes_alloc(m->arena, RN_WORKSPACE, n * sizeof(int32_t), "labels (second slot)");
}

void rn_model_use_input_slot(rn_model *m, int slot, int n)
{
    slot = slot && m->x_slot[1] ? 1 : 0;
    m->x = m->x_slot[slot];
    m->labels = m->labels_slot[slot];
    m->batch = n;
}

/* ---- autocast's numerics (Part 3) --------------------------------------------- */

/* The convolutions' scratch for the math now set: a backend's need can
 * change with it (the GPU's cuDNN on 16-bit tensors keeps their copies in
 * the scratch), so it is asked again and the buffer made that size. */
static void size_conv_work(rn_model *m)
{
    rn_conv_layer *convs[1 + 4 * RN_MAX_BLOCKS];
    int h[1 + 4 * RN_MAX_BLOCKS], w[1 + 4 * RN_MAX_BLOCKS];
    size_t need = 0;
    /* Asked in the mode the passes will run in (act16: no activation copies). */
    if (m->be->act16) m->be->act16(m->act16 ? (int)m->precision : (int)RN_FP32);
    for (int i = 0; i < model_convs(m, convs, h, w); i++) {
        size_t f = m->be->conv_work_floats(&convs[i]->s, m->capacity, h[i], w[i]);
        if (f > need) need = f;
    }
    if (m->be->act16) m->be->act16(RN_FP32);
    if (need == m->work_floats) return;
    if (m->work) rn_arena_release(m->arena, m->work);
    m->work_floats = need;
    m->work = need ? rn_arena_floats(m->arena, RN_WORKSPACE, need, "convolution scratch") : NULL;
}

void rn_model_set_precision(rn_model *m, rn_precision p)
{
    rn_precision was = m->precision;
    m->math = p;
    if (p == RN_TF32) p = RN_FP32; /* fp32 tensors; the backend's convolutions on TF32 tensor cores */
    if (m->be->conv_math) m->be->conv_math((int)m->math);
    m->precision = p;
    const int act16_changed = choose_act16(m);
    if (m->capacity > 0 && ((was == RN_FP32) != (p == RN_FP32) || act16_changed)) {
        lay_out_saved(m);
        lay_out_working(m);
    }
    if (m->capacity > 0) size_conv_work(m);
    if (m->fused) lay_out_kept(m); /* the live taps are fp32's alone */
    if (p == RN_FP32 && m->lp_weight) {
        rn_arena_release(m->arena, m->lp_weight);
        rn_arena_release(m->arena, m->lp_bias);
        m->lp_weight = m->lp_bias = NULL;
    }
    if (p != RN_FP32 && m->lp_weight == NULL) {
        size_t most = 0;
        for (int i = 0; i < m->nparams; i++)
            if (m->params[i].ndims == 4 && m->params[i].count > most) most = m->params[i].count;
        if (m->fc_weight->count > most) most = m->fc_weight->count;
        m->lp_weight = rn_arena_floats(m->arena, RN_WORKSPACE, most, "low-precision weight copy");
        m->lp_bias = rn_arena_floats(m->arena, RN_WORKSPACE, m->fc_bias->count, "low-precision bias copy");
    }
}

/* A tensor an fp16/bf16 operation wrote holds values of that precision
 * (in place). Nothing in fp32. */
static void lp_round(const rn_model *m, float *x, size_t count)
{
    if (m->precision != RN_FP32) m->be->round_to(count, x, x, (int)m->precision);
}

/* An operation's output under fp16/bf16, one backend.h lists under
 * round_outputs: the backend rounded it as it wrote it (the GPU's kernels
 * in their store: no pass of its own); a backend without the entry leaves
 * it to this pass. */
static void layer_round(const rn_model *m, float *x, size_t count)
{
    if (!m->be->round_outputs) lp_round(m, x, count);
}

/* The backend rounds those outputs to the model's precision during the
 * model's passes, and only then: another model, or a test, may share the
 * backend between them. */
static void rounding(const rn_model *m, int on)
{
    if (m->be->round_outputs) m->be->round_outputs(on ? (int)m->precision : (int)RN_FP32);
    if (m->be->act16) m->be->act16(on && m->act16 ? (int)m->precision : (int)RN_FP32);
}

/* The image conv1 reads: the float one, or under act16 its 16-bit NHWC
 * cast (rn_model_forward makes it). */
static const float *image_in(const rn_model *m)
{
    return m->act16 ? m->x16 : m->x;
}

/* The weights a convolution or fc reads: in fp32 the master weights; under
 * fp16/bf16 autocast's low-precision copy of them, made where it is used
 * (forward and backward) into one scratch buffer rather than kept per
 * layer: the same values for a fraction of the memory. `into` is
 * m->lp_weight, or m->lp_bias for fc's bias (read beside its weight). */
static const float *weights_of(const rn_model *m, const rn_param *p, float *into)
{
    if (m->precision == RN_FP32) return p->data;
    m->be->round_to(p->count, p->data, into, (int)m->precision);
    return into;
}

/* ---- 16-bit storage of the saved activations (Part 3) -------------------------- */

/* One of the five working buffers with room for `count` floats that none
 * of the given ones is (a NULL never matches), free at that point of the
 * pass. */
static float *working(const rn_model *m, size_t count, const float *busy1, const float *busy2, const float *busy3)
{
    for (int i = 0; i < 5; i++) {
        const float *g = m->grad[i];
        if (m->grad_floats[i] >= count && g != busy1 && g != busy2 && g != busy3 && g != m->protect) return m->grad[i];
    }
    /* Not reached: at most four are busy (a checkpoint's recompute protects
     * one, never the stem-sized grad[0]: see stem_backward). */
    cs_error("internal: no free working buffer of %zu floats", count);
    exit(3);
}

/* Where a layer writes a saved activation: its own buffer in fp32, else
 * the working buffer given. */
static float *hold(const rn_model *m, rn_saved *s, float *work)
{
    if (m->precision != RN_FP32 && !m->act16) s->f = work; /* act16: its own 16 bits */
    return s->f;
}

/* After the layer wrote it (rounded): its 16-bit copy, which the backward
 * reads. Nothing in fp32. */
static void keep(const rn_model *m, const rn_saved *s, size_t count)
{
    if (!s->bits || m->act16) return; /* act16: the layer wrote its 16 bits */
    int r = m->be->region_begin(m->region_names[RN_REGION_STORAGE]);
    m->be->pack(count, s->f, s->bits, (int)m->precision);
    m->be->region_end(r);
}

/* In the backward: the activation in float, from its 16 bits into `work`
 * (in fp32: its own buffer, as the forward left it). */
static const float *restore(const rn_model *m, rn_saved *s, size_t count, float *work)
{
    if (!s->bits || m->act16) return s->f; /* act16: read in its 16 bits */
    int r = m->be->region_begin(m->region_names[RN_REGION_STORAGE]);
    m->be->unpack(count, s->bits, work, (int)m->precision);
    m->be->region_end(r);
    s->f = work;
    return work;
}

/* ---- forward ------------------------------------------------------------------ */

/* A convolution whose output is saved for the backward (every one is). */
static void conv_fwd(rn_model *m, rn_conv_layer *c, int h, int w, const float *x, rn_saved *y)
{
    int r = m->be->region_begin(c->fwd);
    const float *weight = weights_of(m, c->weight, m->lp_weight);
    c->kept_valid = m->keeping && c->kept;
    if (c->kept_valid)
        m->be->conv_forward_keep(&c->s, m->batch, h, w, x, weight, y->f, m->work, c->kept);
    else
        m->be->conv_forward(&c->s, m->batch, h, w, x, weight, y->f, m->work);
    int oh = rn_out_size(h, c->s.k, c->s.stride, c->s.pad), ow = rn_out_size(w, c->s.k, c->s.stride, c->s.pad);
    size_t count = (size_t)m->batch * c->s.cout * oh * ow;
    layer_round(m, y->f, count);
    keep(m, y, count);
    m->be->region_end(r);
}

static void bn_fwd(rn_model *m, rn_bn_layer *b, int hw, const float *x, float *y, int train)
{
    int r = m->be->region_begin(b->fwd);
    if (train) {
        /* A checkpoint's recompute: the same batch statistics again, the
         * running ones left as they are (momentum 0 keeps them exactly). */
        float momentum = m->recomputing ? 0.0f : m->bn_momentum;
        m->be->bn_forward_train(m->batch, b->c, hw, x, b->weight->data, b->bias->data, y, b->save_mean, b->save_invstd,
                                b->running_mean->data, b->running_var->data, momentum, m->bn_eps);
        if (!m->recomputing) b->num_batches_tracked++;
    } else {
        m->be->bn_forward_eval(m->batch, b->c, hw, x, b->weight->data, b->bias->data, b->running_mean->data,
                               b->running_var->data, m->bn_eps, y);
    }
    layer_round(m, y, (size_t)m->batch * b->c * hw);
    m->be->region_end(r);
}

/* Part 5's fusions run in a training pass without checkpointing, where the
 * backend has them. batch norm + ReLU, its backward and Adam give the
 * separate operations' bits in any precision (rounding to fp16 or bf16
 * keeps the sign, so it commutes with the ReLU); the block's end and the
 * stem only in fp32 (autocast rounds batch norm's output before the add,
 * and a max of rounded values can pick another winner among ties). */
static int fusing(const rn_model *m, int train)
{
    return m->fused && train && !m->checkpoint;
}

static int fusing_fp32(const rn_model *m, int train)
{
    return fusing(m, train) && m->precision == RN_FP32;
}

/* Batch norm's training forward with the ReLU after it, and the residual
 * add before that when `residual` is set, in one pass (backend.h's
 * bn_add_relu_forward_train). */
static void bn_fused_fwd(rn_model *m, rn_bn_layer *b, int hw, const float *x, const float *residual, float *y)
{
    int r = m->be->region_begin(b->fused_fwd);
    m->be->bn_add_relu_forward_train(m->batch, b->c, hw, x, b->weight->data, b->bias->data, residual, y, b->save_mean,
                                     b->save_invstd, b->running_mean->data, b->running_var->data, m->bn_momentum,
                                     m->bn_eps);
    b->num_batches_tracked++;
    m->be->region_end(r);
}

/* ReLU in place on a saved activation, then its 16-bit copy. */
static void relu_keep(rn_model *m, const char *region, rn_saved *y, size_t count)
{
    int r = m->be->region_begin(region);
    m->be->relu_forward(count, y->f, y->f);
    keep(m, y, count);
    m->be->region_end(r);
}

/* bn - relu on a saved activation `a` (the fused pass, or the two). */
static void bn_relu_fwd(rn_model *m, rn_bn_layer *bn, int hw, const float *x, rn_saved *a, const char *relu_region,
                        int train)
{
    if (fusing(m, train) && m->be->bn_add_relu_forward_train) {
        size_t count = (size_t)m->batch * bn->c * hw;
        bn_fused_fwd(m, bn, hw, x, NULL, a->f);
        layer_round(m, a->f, count); /* = the ReLU of the rounded output */
        keep(m, a, count);
        return;
    }
    bn_fwd(m, bn, hw, x, a->f, train);
    relu_keep(m, relu_region, a, (size_t)m->batch * bn->c * hw);
}

/* The block's end: its last bn, on `last_c` (its conv's output), plus the
 * shortcut (the input, or the downsample's conv and bn), then ReLU, into
 * the block's output. Fused, the last bn's output never exists: the add and
 * the ReLU happen in its normalising pass. */
static void block_tail(rn_model *m, rn_block *b, const float *in, rn_bn_layer *last_bn, const float *last_c, int train)
{
    const rn_backend *be = m->be;
    int hw = b->h_out * b->w_out;
    size_t o = (size_t)m->batch * b->cout * hw;
    const int fused = fusing_fp32(m, train) && be->bn_add_relu_forward_train;
    float *last = NULL; /* the last bn's output, a working buffer (not fused) */
    if (!fused) {
        last = working(m, o, in, last_c, NULL);
        bn_fwd(m, last_bn, hw, last_c, last, train);
    }
    const float *shortcut = in;
    if (b->has_downsample) {
        hold(m, &b->ds_c, working(m, o, in, last, NULL));
        conv_fwd(m, &b->ds_conv, b->h_in, b->w_in, in, &b->ds_c);
        float *ds_b = working(m, o, in, last, b->ds_c.f);
        bn_fwd(m, &b->ds_bn, hw, b->ds_c.f, ds_b, train);
        shortcut = ds_b;
    }
    if (fused) { /* fp32: the block's output has its own buffer */
        /* The tests' fault: the fused epilogue forgets the residual. */
        bn_fused_fwd(m, last_bn, hw, last_c, m->fault == RN_FAULT_FUSED_NO_RESIDUAL ? NULL : shortcut, b->out.f);
        return;
    }
    float *out = hold(m, &b->out, last); /* under 16-bit storage: in place of the last bn's output */
    int r = be->region_begin(b->add_fwd);
    be->add(o, last, shortcut, out);
    layer_round(m, out, o);
    be->region_end(r);
    relu_keep(m, b->relu_fwd, &b->out, o);
}

/* BasicBlock: conv3x3 - bn - relu - conv3x3 - bn. */
static void basic_forward(rn_model *m, rn_block *b, int train)
{
    int hw = b->h_out * b->w_out;
    size_t o = (size_t)m->batch * b->cout * hw;
    const float *in = b->in->f; /* under 16-bit storage: still in the working buffer it was written to */
    hold(m, &b->c1, working(m, o, in, NULL, NULL));
    conv_fwd(m, &b->conv1, b->h_in, b->w_in, in, &b->c1);
    hold(m, &b->a1, working(m, o, in, b->c1.f, NULL));
    bn_relu_fwd(m, &b->bn1, hw, b->c1.f, &b->a1, b->relu_fwd, train);
    hold(m, &b->c2, working(m, o, in, b->a1.f, NULL));
    conv_fwd(m, &b->conv2, b->h_out, b->w_out, b->a1.f, &b->c2);
    block_tail(m, b, in, &b->bn2, b->c2.f, train);
}

/* Bottleneck: conv1x1 - bn - relu - conv3x3(stride) - bn - relu - conv1x1 - bn. */
static void bottleneck_forward(rn_model *m, rn_block *b, int train)
{
    int hw_in = b->h_in * b->w_in, hw = b->h_out * b->w_out;
    size_t mid_in = (size_t)m->batch * b->width * hw_in, mid_out = (size_t)m->batch * b->width * hw;
    size_t o = (size_t)m->batch * b->cout * hw;
    const float *in = b->in->f;
    hold(m, &b->c1, working(m, mid_in, in, NULL, NULL));
    conv_fwd(m, &b->conv1, b->h_in, b->w_in, in, &b->c1);
    hold(m, &b->a1, working(m, mid_in, in, b->c1.f, NULL));
    bn_relu_fwd(m, &b->bn1, hw_in, b->c1.f, &b->a1, b->relu_fwd, train);
    hold(m, &b->c2, working(m, mid_out, in, b->a1.f, NULL));
    conv_fwd(m, &b->conv2, b->h_in, b->w_in, b->a1.f, &b->c2);
    hold(m, &b->a2, working(m, mid_out, in, b->c2.f, NULL));
    bn_relu_fwd(m, &b->bn2, hw, b->c2.f, &b->a2, b->relu_fwd, train);
    hold(m, &b->c3, working(m, o, in, b->a2.f, NULL));
    conv_fwd(m, &b->conv3, b->h_out, b->w_out, b->a2.f, &b->c3);
    block_tail(m, b, in, &b->bn3, b->c3.f, train);
}

static void block_forward(rn_model *m, rn_block *b, int train)
{
    if (b->bottleneck)
        bottleneck_forward(m, b, train);
    else
        basic_forward(m, b, train);
}

/* conv1, bn1, relu, max pool. Under 16-bit storage the stem's two
 * activations share the one stem-sized working buffer (grad[0]): conv1's
 * output is kept in 16 bits before bn1 normalises it in place, and the
 * max pool's output takes any other buffer. */
static void stem_forward(rn_model *m, int train)
{
    const rn_backend *be = m->be;
    size_t n = (size_t)m->batch;
    int stem_hw = m->stem_h * m->stem_w;
    size_t stem = n * 64 * stem_hw, pool = n * 64 * m->pool_h * m->pool_w;
    hold(m, &m->stem_c, working(m, stem, NULL, NULL, NULL));
    conv_fwd(m, &m->conv1, m->img, m->img, image_in(m), &m->stem_c);
    if (fusing_fp32(m, train) && be->bn_relu_maxpool_forward_train) {
        /* Fused: the ReLU's output is never written (stem_a stays unused);
         * the backward finds its mask in the pooled values. */
        rn_bn_layer *b = &m->bn1;
        int r = be->region_begin(m->region_names[RN_REGION_FWD_STEM_FUSED]);
        be->bn_relu_maxpool_forward_train(m->batch, 64, m->stem_h, m->stem_w, 3, 2, 1, m->stem_c.f, b->weight->data,
                                          b->bias->data, m->pool.f, m->pool_argmax, b->save_mean, b->save_invstd,
                                          b->running_mean->data, b->running_var->data, m->bn_momentum, m->bn_eps);
        b->num_batches_tracked++;
        be->region_end(r);
        return;
    }
    hold(m, &m->stem_a, m->stem_c.f); /* in fp32 stem_a has its own buffer */
    bn_fwd(m, &m->bn1, stem_hw, m->stem_c.f, m->stem_a.f, train);
    relu_keep(m, m->region_names[RN_REGION_FWD_RELU_STEM], &m->stem_a, stem);
    int r = be->region_begin(m->region_names[RN_REGION_FWD_MAXPOOL]);
    hold(m, &m->pool, working(m, pool, m->stem_c.f, m->stem_a.f, NULL));
    be->maxpool_forward(m->batch, 64, m->stem_h, m->stem_w, 3, 2, 1, m->stem_a.f, m->pool.f, m->pool_argmax);
    keep(m, &m->pool, pool);
    be->region_end(r);
}

void rn_model_forward(rn_model *m, int train)
{
    const rn_backend *be = m->be;
    size_t n = (size_t)m->batch;
    int top = be->region_begin(m->region_names[RN_REGION_FORWARD]);
    m->keeping = fusing(m, train);
    rounding(m, 1);
    if (m->act16) /* the image, cast for conv1 */
        be->act16_pack(m->batch, 3, m->img * m->img, m->x, m->x16);
    else
        lp_round(m, m->x, n * 3 * m->img * m->img);
    stem_forward(m, train);
    for (int i = 0; i < m->nblocks; i++) block_forward(m, &m->blocks[i], train);
    const rn_block *last = &m->blocks[m->nblocks - 1];
    int r = be->region_begin(m->region_names[RN_REGION_FWD_AVGPOOL]);
    be->avgpool_forward(m->batch, m->features, last->h_out * last->w_out, last->out.f, m->gap);
    lp_round(m, m->gap, n * m->features);
    be->region_end(r);
    r = be->region_begin(m->region_names[RN_REGION_FWD_FC]);
    be->linear_forward(m->batch, m->features, RN_CLASSES, m->gap, weights_of(m, m->fc_weight, m->lp_weight),
                       weights_of(m, m->fc_bias, m->lp_bias), m->logits);
    lp_round(m, m->logits, n * RN_CLASSES); /* fc's output; the loss widens it to fp32 */
    be->region_end(r);
    rounding(m, 0);
    be->region_end(top);
}

void rn_model_loss(rn_model *m)
{
    int r = m->be->region_begin(m->region_names[RN_REGION_LOSS]);
    m->be->xent(m->batch, RN_CLASSES, m->logits, m->labels, m->dlogits, m->loss, m->correct);
    m->be->region_end(r);
}

void rn_model_scale_loss_grad(rn_model *m, float factor)
{
    m->be->scale((size_t)m->batch * RN_CLASSES, m->dlogits, factor);
}

void rn_model_read_metrics(const rn_model *m, float *loss, int *correct)
{
    int32_t c = 0;
    m->be->to_host(loss, m->loss, sizeof(float));
    m->be->to_host(&c, m->correct, sizeof c);
    *correct = c;
}

/* ---- backward ------------------------------------------------------------------ */

/* p's gradient is complete: the listener (a data-parallel run's) hears it. */
static void grad_done(rn_model *m, rn_param *p)
{
    if (m->on_grad) m->on_grad(m->on_grad_ctx, p);
}

static void conv_bwd(rn_model *m, rn_conv_layer *c, int h, int w, const float *x, const float *dy, float *dx)
{
    int r = m->be->region_begin(c->bwd);
    const float *weight = weights_of(m, c->weight, m->lp_weight);
    if (c->kept_valid && c->m_live) { /* Part 5: the kept step, the gradient on the computed taps alone */
        m->be->conv_backward_kept_live(&c->s, m->batch, h, w, x, weight, dy, dx, c->g_live, m->work, c->kept);
    } else if (c->kept_valid) { /* Part 5: what this batch's forward kept */
        m->be->conv_backward_kept(&c->s, m->batch, h, w, x, weight, dy, dx, c->weight->grad, m->work, c->kept);
    } else {
        m->be->conv_backward(&c->s, m->batch, h, w, x, weight, dy, dx, c->weight->grad, m->work);
        if (c->m_live) /* a forward that kept nothing: the dense gradient, gathered */
            m->be->conv_live_copy(&c->s, h, w, c->weight->grad, c->g_live, RN_LIVE_GATHER);
    }
    if (dx) layer_round(m, dx, (size_t)m->batch * c->s.cin * h * w);
    layer_round(m, c->weight->grad, c->weight->count); /* the copy's gradient, then widened */
    m->be->region_end(r);
    grad_done(m, c->weight);
}

/* Batch norm's backward on its input x, a saved activation: under 16-bit
 * storage read in its 16 bits (bn_backward_bits widens as it reads: the
 * same arithmetic on the same values, with no float copy of x and no
 * unpacking pass), else from its float buffer. */
static void bn_bwd(rn_model *m, rn_bn_layer *b, int hw, const rn_saved *x, const float *dy, float *dx)
{
    const rn_backend *be = m->be;
    int r = be->region_begin(b->bwd);
    if (x->bits && !m->act16) /* act16: bn_backward reads the 16 bits itself */
        be->bn_backward_bits(m->batch, b->c, hw, x->bits, (int)m->precision, b->weight->data, b->save_mean,
                             b->save_invstd, dy, dx, b->weight->grad, b->bias->grad);
    else
        be->bn_backward(m->batch, b->c, hw, x->f, b->weight->data, b->save_mean, b->save_invstd, dy, dx,
                        b->weight->grad, b->bias->grad);
    layer_round(m, dx, (size_t)m->batch * b->c * hw);
    m->be->region_end(r);
    grad_done(m, b->weight);
    grad_done(m, b->bias);
}

/* g = g where the ReLU's output y > 0, else 0 (in place), in the block's
 * ReLU region. */
static void relu_bwd(rn_model *m, const rn_block *b, size_t count, const float *y, float *g)
{
    int r = m->be->region_begin(b->relu_bwd);
    m->be->relu_backward(count, y, g, g);
    m->be->region_end(r);
}

/* The gradient dy of a ReLU's output y back through the ReLU and the batch
 * norm b before it (x: b's input, a saved activation), into dx: Part 5's
 * fused pass (x unpacked into `work` under 16-bit storage), or the two.
 * Either way dy is left holding the ReLU's input gradient (dy where y > 0),
 * which a block's shortcut reads after; dx may be dy. */
static void relu_bn_bwd(rn_model *m, const rn_block *blk, rn_bn_layer *b, int hw, const float *y, rn_saved *xs,
                        float *work, float *dy, float *dx)
{
    const size_t count = (size_t)m->batch * b->c * hw;
    if (fusing(m, 1) && m->be->relu_bn_backward) {
        const float *x = restore(m, xs, count, work);
        int r = m->be->region_begin(b->fused_bwd);
        m->be->relu_bn_backward(m->batch, b->c, hw, y, x, b->weight->data, b->save_mean, b->save_invstd, dy, dx,
                                b->weight->grad, b->bias->grad);
        layer_round(m, dx, count);
        m->be->region_end(r);
        grad_done(m, b->weight);
        grad_done(m, b->bias);
        return;
    }
    relu_bwd(m, blk, count, y, dy);
    bn_bwd(m, b, hw, xs, dy, dx);
}

/* The four working buffers other than dy, the one the block's input
 * gradient goes to first: grad[4] or grad[3] (so the gradient reaching the
 * stem is never in the stem-sized grad[0]: see stem_backward). */
static void scratch_of(const rn_model *m, const float *dy, float **s)
{
    int k = 0;
    for (int i = 4; i >= 0 && k < 4; i--)
        if (m->grad[i] != dy) s[k++] = m->grad[i];
}

/* The block's end backward: the shortcut's gradient added to the main
 * path's (dx_main, the block's input gradient); dy is the gradient of the
 * add (after the ReLU's backward), q and dx_short free buffers, `in` the
 * block's input. */
static void block_tail_backward(rn_model *m, rn_block *b, const float *in, const float *dy, float *dx_main, float *q,
                                float *dx_short)
{
    const rn_backend *be = m->be;
    int hw = b->h_out * b->w_out;
    size_t in_count = (size_t)m->batch * b->cin * b->h_in * b->w_in;
    int r;
    if (b->has_downsample) {
        bn_bwd(m, &b->ds_bn, hw, &b->ds_c, dy, q);
        conv_bwd(m, &b->ds_conv, b->h_in, b->w_in, in, q, dx_short);
        r = be->region_begin(b->add_bwd);
        be->add(in_count, dx_main, dx_short, dx_main);
    } else {
        r = be->region_begin(b->add_bwd);
        be->add(in_count, dx_main, dy, dx_main); /* identity shortcut */
    }
    layer_round(m, dx_main, in_count);
    be->region_end(r);
}

/* dy: the gradient of the block's output (overwritten); returns the buffer
 * that holds the gradient of its input (one of the scratch buffers, never
 * dy itself). Under 16-bit storage the activations a convolution or a
 * ReLU's mask reads are unpacked into whichever scratch buffer is free at
 * that point; batch norm reads its input in its 16 bits (bn_bwd), or, in
 * Part 5's fused backward, unpacked into the buffer given with it. */
static float *basic_backward(rn_model *m, rn_block *b, float *dy)
{
    int hw = b->h_out * b->w_out;
    size_t o = (size_t)m->batch * b->cout * hw;
    size_t in_count = (size_t)m->batch * b->cin * b->h_in * b->w_in;
    float *s[4];
    scratch_of(m, dy, s);
    float *dx_main = s[0], *q = s[1], *rr = s[2], *dx_short = s[3];

    /* dy: gradient of b2 + shortcut; q: gradient of c2 */
    const float *out = restore(m, &b->out, o, dx_main);
    relu_bn_bwd(m, b, &b->bn2, hw, out, &b->c2, rr, dy, q);
    const float *a1 = restore(m, &b->a1, o, dx_main);
    conv_bwd(m, &b->conv2, b->h_out, b->w_out, a1, q, rr); /* rr: gradient of a1 */
    /* c1, where unpacked, into dx_short (free until the shortcut's turn):
     * dx_main holds a1, which the ReLU's mask reads, under 16-bit storage. */
    relu_bn_bwd(m, b, &b->bn1, hw, a1, &b->c1, dx_short, rr, q); /* q: gradient of c1 */
    const float *in = restore(m, b->in, in_count, rr);
    conv_bwd(m, &b->conv1, b->h_in, b->w_in, in, q, dx_main);
    block_tail_backward(m, b, in, dy, dx_main, q, dx_short);
    return dx_main;
}

/* The bottleneck's backward, as basic_backward's; batch norm's input
 * gradients go over their output's in place. */
static float *bottleneck_backward(rn_model *m, rn_block *b, float *dy)
{
    int hw_in = b->h_in * b->w_in, hw = b->h_out * b->w_out;
    size_t mid_in = (size_t)m->batch * b->width * hw_in, mid_out = (size_t)m->batch * b->width * hw;
    size_t o = (size_t)m->batch * b->cout * hw, in_count = (size_t)m->batch * b->cin * hw_in;
    float *s[4];
    scratch_of(m, dy, s);
    float *dx_main = s[0], *q = s[1], *rr = s[2], *dx_short = s[3];

    /* dy: gradient of b3 + shortcut; q: gradient of c3 */
    const float *out = restore(m, &b->out, o, dx_main);
    relu_bn_bwd(m, b, &b->bn3, hw, out, &b->c3, rr, dy, q);
    const float *a2 = restore(m, &b->a2, mid_out, dx_main);
    conv_bwd(m, &b->conv3, b->h_out, b->w_out, a2, q, rr); /* rr: gradient of a2 */
    /* c2 and c1, where unpacked, into dx_short: dx_main holds a2, then a1
     * (basic_backward). */
    relu_bn_bwd(m, b, &b->bn2, hw, a2, &b->c2, dx_short, rr, rr); /* rr: gradient of c2 */
    const float *a1 = restore(m, &b->a1, mid_in, dx_main);
    conv_bwd(m, &b->conv2, b->h_in, b->w_in, a1, rr, q);           /* q: gradient of a1 */
    relu_bn_bwd(m, b, &b->bn1, hw_in, a1, &b->c1, dx_short, q, q); /* q: gradient of c1 */
    const float *in = restore(m, b->in, in_count, rr);
    conv_bwd(m, &b->conv1, b->h_in, b->w_in, in, q, dx_main);
    block_tail_backward(m, b, in, dy, dx_main, q, dx_short);
    return dx_main;
}

static float *block_backward(rn_model *m, rn_block *b, float *dy)
{
    return b->bottleneck ? bottleneck_backward(m, b, dy) : basic_backward(m, b, dy);
}

/* Checkpointing: segment `seg`'s forward again (the stem, or layer seg's
 * blocks) from its input, while `dy`, the gradient of its output,
 * waits in a working buffer no layer may take. Its inner activations are
 * back in the shared region for its backward. */
static void recompute_segment(rn_model *m, int seg, const float *dy)
{
    const rn_backend *be = m->be;
    int r = be->region_begin(m->region_names[RN_REGION_RECOMPUTE]);
    m->protect = dy;
    m->recomputing = 1;
    if (seg == 0) {
        stem_forward(m, 1);
    } else {
        rn_block *first = &m->blocks[m->layer_first[seg - 1]];
        /* Under 16-bit storage the input is in 16 bits only: widen it. */
        size_t in_count = (size_t)m->batch * first->cin * first->h_in * first->w_in;
        restore(m, first->in, in_count, working(m, in_count, NULL, NULL, NULL));
        for (int i = m->layer_first[seg - 1]; i < m->layer_first[seg]; i++) block_forward(m, &m->blocks[i], 1);
    }
    m->recomputing = 0;
    m->protect = NULL;
    be->region_end(r);
}

/* The injected faults' zeros (see rn_fault): slow, and only then. */
static void zero_on_backend(const rn_model *m, float *p, size_t count)
{
    float *zeros = cs_alloc(count * sizeof(float), "injected fault");
    memset(zeros, 0, count * sizeof(float));
    m->be->to_backend(p, zeros, count * sizeof(float));
    cs_free(zeros);
}

static void inject_stop_at_fc(const rn_model *m)
{
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        if (p->trainable && p != m->fc_weight && p != m->fc_bias) zero_on_backend(m, p->grad, p->count);
    }
}

static void stem_backward(rn_model *m, float *dy);

void rn_model_backward(rn_model *m)
{
    const rn_backend *be = m->be;
    size_t n = (size_t)m->batch;
    int top = be->region_begin(m->region_names[RN_REGION_BACKWARD]);
    rounding(m, 1);
    const rn_block *last = &m->blocks[m->nblocks - 1];
    const int f = m->features;
    int r = be->region_begin(m->region_names[RN_REGION_BWD_FC]);
    lp_round(m, m->dlogits, n * RN_CLASSES); /* the fp32 loss's gradient, cast back to fc's precision */
    be->linear_backward(m->batch, f, RN_CLASSES, m->gap, weights_of(m, m->fc_weight, m->lp_weight), m->dlogits,
                        m->grad[1], m->fc_weight->grad, m->fc_bias->grad);
    lp_round(m, m->grad[1], n * f);
    lp_round(m, m->fc_weight->grad, m->fc_weight->count);
    lp_round(m, m->fc_bias->grad, m->fc_bias->count);
    be->region_end(r);
    grad_done(m, m->fc_weight);
    grad_done(m, m->fc_bias);
    if (m->fault == RN_FAULT_STOPS_AT_FC) {
        inject_stop_at_fc(m);
        rounding(m, 0);
        be->region_end(top);
        return;
    }
    r = be->region_begin(m->region_names[RN_REGION_BWD_AVGPOOL]);
    be->avgpool_backward(m->batch, f, last->h_out * last->w_out, m->grad[1], m->grad[0]);
    if (!m->act16) lp_round(m, m->grad[0], n * f * last->h_out * last->w_out); /* act16: written in 16 bits */
    be->region_end(r);
    float *dy = m->grad[0];
    int layer = 3;
    for (int i = m->nblocks - 1; i >= 0; i--) {
        while (i < m->layer_first[layer]) layer--;
        /* layer4's activations are still in the region from the forward:
         * the segments before it are run again, each before the backward
         * of its last block. */
        if (m->checkpoint && layer < 3 && i == m->layer_first[layer + 1] - 1) recompute_segment(m, layer + 1, dy);
        dy = block_backward(m, &m->blocks[i], dy);
    }
    if (m->checkpoint) recompute_segment(m, 0, dy);
    stem_backward(m, dy);
    if (m->fault == RN_FAULT_ONE_CHANNEL) {
        const rn_conv_layer *c = &m->blocks[m->nblocks - 1].conv2;
        zero_on_backend(m, c->weight->grad, c->weight->count / (size_t)c->s.cout);
    }
    rounding(m, 0);
    be->region_end(top);
}

/* Under 16-bit storage: the stem's ReLU and max pool backward from the
 * pooled values (restored into a block-sized buffer: the ReLU's mask at
 * each window's winner is whether the pooled value is > 0, the only
 * places the max pool's gradient reaches), then bn1's backward reading
 * conv1's output in its 16 bits: no stem-sized float copy of either. */
static void stem_backward_16(rn_model *m, const float *dy, float *d_stem, size_t stem)
{
    const rn_backend *be = m->be;
    size_t pool = (size_t)m->batch * 64 * m->pool_h * m->pool_w;
    int r = be->region_begin(m->region_names[RN_REGION_BWD_MAXPOOL]);
    const float *pooled = restore(m, &m->pool, pool, working(m, pool, dy, d_stem, NULL));
    be->relu_maxpool_backward(m->batch, 64, m->stem_h, m->stem_w, 3, 2, 1, pooled, m->pool_argmax, dy, d_stem);
    layer_round(m, d_stem, stem); /* overlapping windows add; the mask commutes with rounding */
    be->region_end(r);
    bn_bwd(m, &m->bn1, m->stem_h * m->stem_w, &m->stem_c, d_stem, d_stem); /* conv1's output in its 16 bits */
    conv_bwd(m, &m->conv1, m->img, m->img, m->x, d_stem, NULL);            /* the image needs no gradient */
}

/* dy: the gradient of the max pool's output. Block 0's backward returns it
 * in grad[4] or grad[3] (scratch_of), so the stem-sized grad[0] is free
 * here, and for a checkpoint's recompute of the stem, which protects dy. The stem's
 * gradients: the max pool's into grad[0], then the ReLU's and bn1's over
 * it in place, its activations read where the forward left them (fp32) or
 * in their 16 bits (stem_backward_16). */
static void stem_backward(rn_model *m, float *dy)
{
    const rn_backend *be = m->be;
    size_t n = (size_t)m->batch;
    if (dy == m->grad[0]) {
        cs_error("internal: the stem's backward found its input gradient in the stem-sized buffer");
        exit(3);
    }
    float *d_stem = m->grad[0];
    size_t stem = n * 64 * (size_t)(m->stem_h * m->stem_w);
    if (m->stem_c.bits && !m->act16) { /* act16: the separate kernels on 16-bit data, below */
        stem_backward_16(m, dy, d_stem, stem);
        return;
    }
    if (fusing_fp32(m, 1) && be->relu_maxpool_backward) {
        /* Fused: the ReLU's mask is where the pooled value is > 0. */
        int r = be->region_begin(m->region_names[RN_REGION_BWD_STEM_FUSED]);
        be->relu_maxpool_backward(m->batch, 64, m->stem_h, m->stem_w, 3, 2, 1, m->pool.f, m->pool_argmax, dy, d_stem);
        be->region_end(r);
        bn_bwd(m, &m->bn1, m->stem_h * m->stem_w, &m->stem_c, d_stem, d_stem);
        conv_bwd(m, &m->conv1, m->img, m->img, m->x, d_stem, NULL);
        return;
    }
    int r = be->region_begin(m->region_names[RN_REGION_BWD_MAXPOOL]);
    be->maxpool_backward(m->batch, 64, m->stem_h, m->stem_w, 3, 2, 1, m->pool_argmax, dy, d_stem);
    layer_round(m, d_stem, stem); /* overlapping windows add */
    be->region_end(r);
    r = be->region_begin(m->region_names[RN_REGION_BWD_RELU_STEM]);
    be->relu_backward(stem, m->stem_a.f, d_stem, d_stem);
    be->region_end(r);
    bn_bwd(m, &m->bn1, m->stem_h * m->stem_w, &m->stem_c, d_stem, d_stem); /* over its input's gradient */
    conv_bwd(m, &m->conv1, m->img, m->img, image_in(m), d_stem, NULL);     /* the image needs no gradient */
}

void rn_model_backward_adding(rn_model *m, int add)
{
    if (m->fault == RN_FAULT_ACCUM_OVERWRITES) add = 0;
    m->be->grad_accumulate(add);
    rn_model_backward(m);
    m->be->grad_accumulate(0);
}

void rn_model_adam_step(rn_model *m)
{
    const rn_backend *be = m->be;
    int top = be->region_begin(m->region_names[RN_REGION_OPTIMIZER]);
    m->adam_t++;
    if (m->fused && be->adam_multi) { /* Part 5: every tensor in one call */
        float lr = m->fault == RN_FAULT_ADAM_ASCENDS ? -m->lr : m->lr;
        rn_conv_layer *convs[1 + 4 * RN_MAX_BLOCKS];
        int h[1 + 4 * RN_MAX_BLOCKS], w[1 + 4 * RN_MAX_BLOCKS];
        const rn_param *live[1 + 4 * RN_MAX_BLOCKS];
        int nlive = 0;
        for (int i = 0; i < model_convs(m, convs, h, w); i++) {
            rn_conv_layer *c = convs[i];
            if (!c->m_live) continue;
            /* The computed taps alone: the others' gradient and moments are
             * zero, and Adam would leave those weights exactly as they are. */
            be->conv_adam_live(&c->s, c->h_in, c->w_in, c->weight->data, c->g_live, c->m_live, c->v_live, lr, m->beta1,
                               m->beta2, m->eps, m->adam_t);
            live[nlive++] = c->weight;
        }
        rn_adam_tensor ts[RN_MAX_PARAMS];
        int nt = 0;
        for (int i = 0; i < m->nparams; i++) {
            rn_param *p = &m->params[i];
            int is_live = 0;
            for (int k = 0; k < nlive; k++) is_live |= live[k] == p;
            if (p->trainable && !is_live) ts[nt++] = (rn_adam_tensor){p->data, p->grad, p->m, p->v, p->count};
        }
        be->adam_multi(nt, ts, lr, m->beta1, m->beta2, m->eps, m->adam_t);
        be->region_end(top);
        return;
    }
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        if (!p->trainable) continue;
        float lr = m->fault == RN_FAULT_ADAM_ASCENDS ? -m->lr : m->lr;
        be->adam(p->count, p->data, p->grad, p->m, p->v, lr, m->beta1, m->beta2, m->eps, m->adam_t);
    }
    be->region_end(top);
}

void rn_model_adam_step_device(rn_model *m, float *scale, int32_t *state)
{
    const rn_backend *be = m->be;
    int top = be->region_begin(m->region_names[RN_REGION_OPTIMIZER]);
    float lr = m->fault == RN_FAULT_ADAM_ASCENDS ? -m->lr : m->lr;
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        if (p->trainable) be->adam_skip(p->count, p->data, p->grad, p->m, p->v, lr, m->beta1, m->beta2, m->eps, state);
    }
    /* GradScaler's update with growth and backoff 1 (its scale stays as it
     * is, the flag is never set): the step count advances on the device. */
    be->scaler_update(scale, state, 1.0, 1.0, INT32_MAX);
    be->region_end(top);
}

/* ---- weights in files ---------------------------------------------------------- */

rn_param *rn_model_param(rn_model *m, const char *name)
{
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}

size_t rn_model_largest_count(const rn_model *m)
{
    size_t most = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].count > most) most = m->params[i].count;
    return most;
}

size_t rn_model_trainable_count(const rn_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].trainable) n += m->params[i].count;
    return n;
}

/* The batch norm layer whose running_mean is `p`, for num_batches_tracked. */
static rn_bn_layer *bn_of(rn_model *m, const rn_param *p)
{
    rn_bn_layer *list[RN_MAX_BN];
    int n = rn_model_bn_layers(m, list);
    for (int i = 0; i < n; i++)
        if (list[i]->running_mean == p) return list[i];
    return NULL;
}

static void tracked_name(const rn_param *running_mean, char *out, size_t size)
{
    /* "layer1.0.bn1.running_mean" -> "layer1.0.bn1.num_batches_tracked" */
    snprintf(out, size, "%.*s.num_batches_tracked", (int)(strlen(running_mean->name) - strlen(".running_mean")),
             running_mean->name);
}

/* Whether the file's head is another classifier over the same features
 * (ImageNet's 1000 classes): fc.weight [K, features] and fc.bias [K],
 * F32, K >= 1 and not RN_CLASSES. Only such a head is replaced; any other
 * shape of fc.weight or fc.bias is an error like every other tensor's. */
static int other_head(const rn_model *m, const rn_st_file *f)
{
    const rn_st_tensor *w = rn_st_find(f, m->fc_weight->name), *b = rn_st_find(f, m->fc_bias->name);
    return w && b && w->dtype == RN_ST_F32 && b->dtype == RN_ST_F32 && w->ndims == 2 &&
           w->shape[1] == m->fc_weight->shape[1] && w->shape[0] >= 1 && w->shape[0] != RN_CLASSES && b->ndims == 1 &&
           b->shape[0] == w->shape[0];
}

int rn_model_load_file(rn_model *m, const rn_st_file *f, uint64_t seed)
{
    const int replace_head = other_head(m, f);
    /* First every tensor is checked (there, F32, the model's shape; a
     * num_batches_tracked, when there, an I64 scalar), so that a bad file
     * changes nothing in the model. */
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        if (replace_head && (p == m->fc_weight || p == m->fc_bias)) continue;
        int g = rn_st_check(f, p->name, RN_ST_F32, p->ndims, p->shape);
        if (g == 1) {
            cs_error("%s: no tensor '%s' (a torchvision %s state_dict has it)", f->path, p->name,
                     rn_arch_title(m->arch));
            return 2;
        }
        if (g != 0) return 2;
        if (!p->trainable && strstr(p->name, "running_mean")) {
            char name[96];
            tracked_name(p, name, sizeof name);
            if (rn_st_check(f, name, RN_ST_I64, 0, NULL) == 2) return 2;
        }
    }
    /* Then copied in. */
    float *tmp = cs_alloc(rn_model_largest_count(m) * sizeof(float), "weights being loaded");
    for (int i = 0; i < m->nparams; i++) {
        rn_param *p = &m->params[i];
        if (replace_head && (p == m->fc_weight || p == m->fc_bias)) continue;
        rn_st_get_f32(f, p->name, p->ndims, p->shape, tmp); /* checked above: cannot fail */
        upload(m, p, tmp);
        if (!p->trainable && strstr(p->name, "running_mean")) {
            char name[96];
            tracked_name(p, name, sizeof name);
            const rn_st_tensor *nb = rn_st_find(f, name);
            rn_bn_layer *bn = bn_of(m, p);
            if (nb && bn) {
                int64_t v;
                memcpy(&v, f->bytes + f->data_start + nb->begin, sizeof v); /* little-endian hosts */
                bn->num_batches_tracked = v;
            }
        }
    }
    if (replace_head) {
        cs_say("  note: %s holds a %lld-class head; fc is re-initialised for %d classes "
               "(as the lab does with model.fc)\n",
               f->path, (long long)rn_st_find(f, m->fc_weight->name)->shape[0], RN_CLASSES);
        init_fc(m, seed, tmp);
    }
    cs_free(tmp);
    return 0;
}

int rn_model_load(rn_model *m, const char *path, uint64_t seed)
{
    rn_st_file f;
    int rc = rn_st_open(&f, path);
    if (rc) return rc;
    rc = rn_model_load_file(m, &f, seed);
    rn_st_close(&f);
    return rc;
}

int rn_model_save(const rn_model *m, const char *path)
{
    size_t total = 0;
    for (int i = 0; i < m->nparams; i++) total += m->params[i].count;
    float *all = cs_alloc(total * sizeof(float), "weights being saved");
    rn_st_writer *w = rn_st_writer_new();
    size_t off = 0;
    rn_model *mm = (rn_model *)m; /* bn_of takes a non-const model; nothing is changed */
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        float *host = all + off;
        off += p->count;
        m->be->to_host(host, p->data, p->count * sizeof(float));
        rn_st_writer_add(w, p->name, p->ndims, p->shape, host);
        if (!p->trainable && strstr(p->name, "running_var")) {
            /* torchvision writes num_batches_tracked after running_var */
            char name[96];
            const rn_param *mean = p - 1;
            tracked_name(mean, name, sizeof name);
            rn_bn_layer *bn = bn_of(mm, mean);
            rn_st_writer_add_i64_scalar(w, name, bn ? bn->num_batches_tracked : 0);
        }
    }
    int rc = rn_st_writer_save(w, path);
    rn_st_writer_free(w);
    cs_free(all);
    return rc;
}
