/* ONNX export (see onnx_export.h). The graph is built as protobuf-c
 * messages (onnx.pb-c.h, generated from third_party/onnx/onnx.proto at
 * build time), every allocation recorded in one list and freed after the
 * file is written. */
#include "onnx_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "cs_fault.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "loader.h"

int rn_onnx_reference(rn_model *m, const rn_cifar *data, int img, const char *path)
{
    rn_loader ld;
    if (rn_loader_init(&ld, data, m->capacity, img, 0, 0) != 0) return 3;
    rn_loader_start_epoch(&ld, 0);
    size_t per_image = (size_t)3 * img * img;
    float *images = cs_alloc((size_t)m->capacity * per_image * sizeof(float), "reference images");
    int32_t *labels = cs_alloc((size_t)m->capacity * sizeof(int32_t), "reference labels");
    int n = rn_loader_get(&ld, 0, images, labels);
    rn_model_set_batch_n(m, images, labels, n);
    rn_model_forward(m, 0);
    float *logits = cs_alloc((size_t)n * RN_CLASSES * sizeof(float), "reference logits");
    m->be->to_host(logits, m->logits, (size_t)n * RN_CLASSES * sizeof(float));
    int rc = 3;
    cs_outfile o;
    if (cs_outfile_open(&o, path) == 0) {
        int32_t head[5] = {n, 3, img, img, RN_CLASSES};
        fwrite(head, sizeof head, 1, o.f);
        fwrite(images, sizeof(float), (size_t)n * per_image, o.f);
        fwrite(logits, sizeof(float), (size_t)n * RN_CLASSES, o.f);
        rc = cs_outfile_commit(&o) == 0 ? 0 : 3;
    }
    cs_free(logits);
    cs_free(images);
    cs_free(labels);
    rn_loader_free(&ld);
    return rc;
}

#ifndef RN_HAVE_ONNX

int rn_onnx_available(void)
{
    return 0;
}

int rn_onnx_export(const rn_model *m, int img, const char *path)
{
    (void)m, (void)img;
    cs_error("--onnx %s: this build has no protobuf-c (apt-get install libprotobuf-c-dev protobuf-c-compiler, "
             "then rebuild)",
             path);
    return 2;
}

#else

#include "onnx.pb-c.h"

int rn_onnx_available(void)
{
    return 1;
}

/* Every allocation of one export, freed together. */
typedef struct {
    void **p;
    size_t n, cap;
} pool;

static void *take(pool *pl, size_t bytes)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? 2 * pl->cap : 256;
        void **p = cs_alloc(cap * sizeof *p, "ONNX export's allocations");
        if (pl->n) memcpy(p, pl->p, pl->n * sizeof *p);
        cs_free(pl->p);
        pl->p = p;
        pl->cap = cap;
    }
    void *q = cs_alloc(bytes ? bytes : 1, "ONNX export");
    memset(q, 0, bytes ? bytes : 1);
    pl->p[pl->n++] = q;
    return q;
}

static char *str(pool *pl, const char *s)
{
    char *d = take(pl, strlen(s) + 1);
    memcpy(d, s, strlen(s) + 1);
    return d;
}

static void pool_free(pool *pl)
{
    for (size_t i = 0; i < pl->n; i++) cs_free(pl->p[i]);
    cs_free(pl->p);
}

/* The graph under construction: its nodes, initializers, and a counter
 * for fresh value names. */
typedef struct {
    void **item;
    size_t n, cap;
} list;

typedef struct {
    pool *pl;
    const rn_model *m;
    list nodes, inits; /* Onnx__NodeProto *, Onnx__TensorProto * */
    int fresh;
} graph;

static void push(pool *pl, list *l, void *item)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? 2 * l->cap : 64;
        void **a = take(pl, c * sizeof *a);
        if (l->n) memcpy(a, l->item, l->n * sizeof *a);
        l->item = a;
        l->cap = c;
    }
    l->item[l->n++] = item;
}

static const char *value_name(graph *g, const char *what)
{
    char b[96];
    snprintf(b, sizeof b, "%s_%d", what, g->fresh++);
    return str(g->pl, b);
}

/* A parameter as an initializer: its shape, and its float32 values as
 * raw_data (little-endian, as ONNX stores them and this machine holds them). */
static const char *initializer(graph *g, const rn_param *p)
{
    Onnx__TensorProto *t = take(g->pl, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = str(g->pl, p->name);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = (size_t)p->ndims;
    t->dims = take(g->pl, (size_t)p->ndims * sizeof *t->dims);
    for (int d = 0; d < p->ndims; d++) t->dims[d] = p->shape[d];
    t->has_raw_data = 1;
    t->raw_data.len = p->count * sizeof(float);
    t->raw_data.data = take(g->pl, t->raw_data.len);
    g->m->be->to_host(t->raw_data.data, p->data, t->raw_data.len);
    push(g->pl, &g->inits, t);
    return t->name;
}

/* A new attribute called name of the given type; the caller sets its value. */
static Onnx__AttributeProto *attr(graph *g, const char *name, Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = take(g->pl, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = str(g->pl, name);
    a->has_type = 1;
    a->type = type;
    return a;
}

static Onnx__AttributeProto *attr_ints(graph *g, const char *name, const int64_t *v, size_t n)
{
    Onnx__AttributeProto *a = attr(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = n;
    a->ints = take(g->pl, n * sizeof *a->ints);
    memcpy(a->ints, v, n * sizeof *v);
    return a;
}

static Onnx__AttributeProto *attr_int(graph *g, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
    return a;
}

static Onnx__AttributeProto *attr_float(graph *g, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
    return a;
}

/* A node op_type(inputs) -> a fresh output (or `out` when given), with
 * its attributes; returns the output's name. */
static const char *node(graph *g, const char *op, const char *const *in, size_t n_in, Onnx__AttributeProto **attrs,
                        size_t n_attrs, const char *out)
{
    Onnx__NodeProto *nd = take(g->pl, sizeof *nd);
    onnx__node_proto__init(nd);
    nd->op_type = str(g->pl, op);
    nd->n_input = n_in;
    nd->input = take(g->pl, n_in * sizeof *nd->input);
    for (size_t i = 0; i < n_in; i++) nd->input[i] = (char *)in[i];
    const char *o = out ? str(g->pl, out) : value_name(g, op);
    nd->n_output = 1;
    nd->output = take(g->pl, sizeof *nd->output);
    nd->output[0] = (char *)o;
    nd->name = str(g->pl, o);
    nd->n_attribute = n_attrs;
    nd->attribute = take(g->pl, (n_attrs ? n_attrs : 1) * sizeof *nd->attribute);
    for (size_t i = 0; i < n_attrs; i++) nd->attribute[i] = attrs[i];
    push(g->pl, &g->nodes, nd);
    return o;
}

static const char *conv(graph *g, const rn_conv_layer *c, const char *x)
{
    const int64_t k[2] = {c->s.k, c->s.k}, st[2] = {c->s.stride, c->s.stride};
    const int64_t pads[4] = {c->s.pad, c->s.pad, c->s.pad, c->s.pad};
    Onnx__AttributeProto *a[3] = {attr_ints(g, "kernel_shape", k, 2), attr_ints(g, "strides", st, 2),
                                  attr_ints(g, "pads", pads, 4)};
    const char *in[2] = {x, initializer(g, c->weight)};
    return node(g, "Conv", in, 2, a, 3, NULL);
}

static const char *bn(graph *g, const rn_bn_layer *b, const char *x)
{
    Onnx__AttributeProto *a[1] = {attr_float(g, "epsilon", g->m->bn_eps)};
    const char *in[5] = {x, initializer(g, b->weight), initializer(g, b->bias), initializer(g, b->running_mean),
                         initializer(g, b->running_var)};
    return node(g, "BatchNormalization", in, 5, a, 1, NULL);
}

static const char *unary(graph *g, const char *op, const char *x)
{
    const char *in[1] = {x};
    return node(g, op, in, 1, NULL, 0, NULL);
}

static const char *block(graph *g, const rn_block *b, const char *x)
{
    const char *y = unary(g, "Relu", bn(g, &b->bn1, conv(g, &b->conv1, x)));
    if (b->bottleneck) {
        y = unary(g, "Relu", bn(g, &b->bn2, conv(g, &b->conv2, y)));
        y = bn(g, &b->bn3, conv(g, &b->conv3, y));
    } else {
        y = bn(g, &b->bn2, conv(g, &b->conv2, y));
    }
    const char *shortcut = b->has_downsample ? bn(g, &b->ds_bn, conv(g, &b->ds_conv, x)) : x;
    /* The tests' fault: the exported blocks lose their shortcut. */
    if (cs_fault_injected("rn_onnx_drops_shortcut")) return unary(g, "Relu", y);
    const char *in[2] = {y, shortcut};
    return unary(g, "Relu", node(g, "Add", in, 2, NULL, 0, NULL));
}

/* The graph's nodes, from `input` to `logits`. */
static void build(graph *g)
{
    const rn_model *m = g->m;
    const char *y = unary(g, "Relu", bn(g, &m->bn1, conv(g, &m->conv1, "input")));
    const int64_t k[2] = {3, 3}, st[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
    Onnx__AttributeProto *pool_attrs[3] = {attr_ints(g, "kernel_shape", k, 2), attr_ints(g, "strides", st, 2),
                                           attr_ints(g, "pads", pads, 4)};
    const char *in[1] = {y};
    y = node(g, "MaxPool", in, 1, pool_attrs, 3, NULL);
    for (int i = 0; i < m->nblocks; i++) y = block(g, &m->blocks[i], y);
    y = unary(g, "GlobalAveragePool", y);
    Onnx__AttributeProto *flat[1] = {attr_int(g, "axis", 1)};
    const char *fin[1] = {y};
    y = node(g, "Flatten", fin, 1, flat, 1, NULL);
    Onnx__AttributeProto *gemm[1] = {attr_int(g, "transB", 1)};
    const char *gin[3] = {y, initializer(g, m->fc_weight), initializer(g, m->fc_bias)};
    node(g, "Gemm", gin, 3, gemm, 1, "logits");
}

/* A float32 tensor value [dims...]; a dim < 0 is the free batch size "N". */
static Onnx__ValueInfoProto *tensor_value(pool *pl, const char *name, const int64_t *dims, size_t n)
{
    Onnx__ValueInfoProto *v = take(pl, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = str(pl, name);
    Onnx__TypeProto *t = take(pl, sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Tensor *tt = take(pl, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    Onnx__TensorShapeProto *shape = take(pl, sizeof *shape);
    onnx__tensor_shape_proto__init(shape);
    shape->n_dim = n;
    shape->dim = take(pl, n * sizeof *shape->dim);
    for (size_t i = 0; i < n; i++) {
        Onnx__TensorShapeProto__Dimension *d = take(pl, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] < 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = str(pl, "N");
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
        shape->dim[i] = d;
    }
    tt->shape = shape;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->type = t;
    return v;
}

static int write_model(const Onnx__ModelProto *model, const char *path)
{
    size_t bytes = onnx__model_proto__get_packed_size(model);
    uint8_t *buf = cs_alloc(bytes ? bytes : 1, "ONNX file");
    onnx__model_proto__pack(model, buf);
    cs_outfile o;
    int rc = 3;
    if (cs_outfile_open(&o, path) == 0) {
        if (fwrite(buf, 1, bytes, o.f) != bytes) cs_error("--onnx %s: write failed", path);
        rc = cs_outfile_commit(&o) == 0 ? 0 : 3;
    }
    cs_free(buf);
    return rc;
}

int rn_onnx_export(const rn_model *m, int img, const char *path)
{
    pool pl = {0};
    graph g = {.pl = &pl, .m = m};
    build(&g);

    Onnx__GraphProto *gp = take(&pl, sizeof *gp);
    onnx__graph_proto__init(gp);
    gp->name = str(&pl, rn_arch_name(m->arch));
    gp->n_node = g.nodes.n;
    gp->node = take(&pl, g.nodes.n * sizeof *gp->node);
    for (size_t i = 0; i < g.nodes.n; i++) gp->node[i] = g.nodes.item[i];
    gp->n_initializer = g.inits.n;
    gp->initializer = take(&pl, g.inits.n * sizeof *gp->initializer);
    for (size_t i = 0; i < g.inits.n; i++) gp->initializer[i] = g.inits.item[i];
    const int64_t in_dims[4] = {-1, 3, img, img}, out_dims[2] = {-1, RN_CLASSES};
    gp->n_input = 1;
    gp->input = take(&pl, sizeof *gp->input);
    gp->input[0] = tensor_value(&pl, "input", in_dims, 4);
    gp->n_output = 1;
    gp->output = take(&pl, sizeof *gp->output);
    gp->output[0] = tensor_value(&pl, "logits", out_dims, 2);

    /* Opset 13: every operator here as torch.onnx exports it at 13. */
    Onnx__OperatorSetIdProto *opset = take(&pl, sizeof *opset);
    onnx__operator_set_id_proto__init(opset);
    opset->domain = str(&pl, "");
    opset->has_version = 1;
    opset->version = 13;
    Onnx__ModelProto model;
    onnx__model_proto__init(&model);
    model.has_ir_version = 1;
    model.ir_version = 7; /* the IR of opset 13 (ONNX 1.8) */
    model.n_opset_import = 1;
    model.opset_import = &opset;
    model.producer_name = str(&pl, "lab_resnet");
    model.producer_version = str(&pl, "1");
    model.graph = gp;
    int rc = write_model(&model, path);
    pool_free(&pl);
    return rc;
}

#endif
