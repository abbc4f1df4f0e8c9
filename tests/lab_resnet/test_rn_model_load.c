/* lab_resnet's weight loader (rn_model_load): which files it takes, which it
 * refuses, and that a refused file changes nothing.
 *  - the model's own tensors load back exactly (num_batches_tracked too);
 *  - another classifier head (fc.weight [1000, 512], fc.bias [1000], as an
 *    ImageNet export has) is re-initialised, with a note, and the rest loads;
 *  - any other shape is an error naming the tensor, its shape and the one
 *    expected: fc.bias [2, 5] (which once loaded nothing and exited 0),
 *    fc.weight [1000, 512] with fc.bias [10], conv1.weight one dimension
 *    short; a missing tensor, an I64 weight, an F32 num_batches_tracked;
 *    each leaves the model exactly as it was;
 *  - the file as an input: a FIFO is refused at once, never waited on.
 *
 *   test_rn_model_load                 the tests
 *   test_rn_model_load --bad-head PATH writes a file whose fc.bias is [2, 5]
 *                                      (for the command-line test) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_test.h"
#include "cs_test_stderr.h"
#include "model.h"
#include "safetensors.h"

/* What to write instead of the model's own tensor `name`. */
typedef struct {
    const char *name; /* the tensor to change */
    int drop;         /* leave it out */
    int ndims;        /* else: this shape (ndims < 0: keep the model's) */
    int64_t shape[4];
    int as_i64; /* an I64 tensor of the model's shape (scalar only) */
} change;

/* The model's tensors, with up to two changes, written to path. The values
 * written are p->data (host memory: the CPU backend). */
static int write_with(const rn_model *m, const char *path, const change *c, int nchanges, int nbt_as_f32)
{
    rn_st_writer *w = rn_st_writer_new();
    size_t biggest = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].count > biggest) biggest = m->params[i].count;
    float *fill = calloc(biggest * 2 + 8192, sizeof(float)); /* room for grown shapes */
    for (int i = 0; i < m->nparams; i++) {
        const rn_param *p = &m->params[i];
        const change *ch = NULL;
        for (int k = 0; k < nchanges; k++)
            if (strcmp(c[k].name, p->name) == 0) ch = &c[k];
        if (ch && ch->drop) continue;
        if (ch && ch->ndims >= 0) {
            size_t count = 1;
            for (int d = 0; d < ch->ndims; d++) count *= (size_t)ch->shape[d];
            memcpy(fill, p->data, (count < p->count ? count : p->count) * sizeof(float));
            rn_st_writer_add(w, p->name, ch->ndims, ch->shape, fill);
        } else {
            rn_st_writer_add(w, p->name, p->ndims, p->shape, p->data);
        }
        if (!p->trainable && strstr(p->name, "running_var")) {
            char nbt[96];
            snprintf(nbt, sizeof nbt, "%.*s.num_batches_tracked", (int)(strlen(p->name) - strlen(".running_var")),
                     p->name);
            if (nbt_as_f32) {
                float one = 1;
                rn_st_writer_add(w, nbt, 0, NULL, &one);
            } else {
                rn_st_writer_add_i64_scalar(w, nbt, 12345);
            }
        }
    }
    int rc = rn_st_writer_save(w, path);
    rn_st_writer_free(w);
    free(fill);
    return rc;
}

/* A fingerprint of every parameter's values. */
static uint64_t fingerprint(const rn_model *m)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < m->nparams; i++) {
        const unsigned char *b = (const unsigned char *)m->params[i].data;
        for (size_t k = 0; k < m->params[i].count * sizeof(float); k++) h = (h ^ b[k]) * 1099511628211ull;
    }
    return h;
}

static char dir[] = "/tmp/test_rn_model_load.XXXXXX";

static const char *at(const char *name)
{
    static char path[2][512];
    static int next;
    char *p = path[next++ % 2];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

/* Loading `name` must fail with 2, one line holding both pieces, and leave
 * the model as it was. */
static void expect_refused(rn_model *m, const char *name, const char *piece1, const char *piece2)
{
    uint64_t before = fingerprint(m);
    cs_capture_begin();
    int rc = rn_model_load(m, at(name), 99);
    const char *err = cs_capture_end();
    int ok = rc == 2 && strchr(err, '\n') == err + strlen(err) - 1 && strstr(err, piece1) &&
             (piece2 == NULL || strstr(err, piece2));
    if (!ok) fprintf(stderr, "%s: rc %d, stderr '%s' (want '%s', '%s')\n", name, rc, err, piece1, piece2 ? piece2 : "");
    CHECK(ok);
    CHECK(fingerprint(m) == before);
}

int main(int argc, char **argv)
{
    const rn_backend *be = rn_cpu_backend();
    rn_model src;
    rn_model_init(&src, be, 7);
    if (argc == 3 && strcmp(argv[1], "--bad-head") == 0) {
        change c = {"fc.bias", 0, 2, {2, 5}, 0};
        int rc = write_with(&src, argv[2], &c, 1, 0);
        rn_model_free(&src);
        return rc == 0 ? 0 : 1;
    }
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    rn_model m;
    rn_model_init(&m, be, 8); /* other values than src's */

    /* The model's own tensors: loaded exactly. */
    CHECK(write_with(&src, at("good.safetensors"), NULL, 0, 0) == 0);
    CHECK(fingerprint(&m) != fingerprint(&src));
    CHECK(rn_model_load(&m, at("good.safetensors"), 99) == 0);
    CHECK(fingerprint(&m) == fingerprint(&src));
    CHECK(m.bn1.num_batches_tracked == 12345 && m.blocks[7].bn2.num_batches_tracked == 12345);

    /* Another head: re-initialised (not the file's, not the old values). */
    rn_model_free(&m);
    rn_model_init(&m, be, 8);
    change imagenet[2] = {{"fc.weight", 0, 2, {1000, 512}, 0}, {"fc.bias", 0, 1, {1000}, 0}};
    CHECK(write_with(&src, at("imagenet.safetensors"), imagenet, 2, 0) == 0);
    float fc_before = m.fc_bias->data[0];
    CHECK(rn_model_load(&m, at("imagenet.safetensors"), 99) == 0);
    CHECK(memcmp(m.conv1.weight->data, src.conv1.weight->data, m.conv1.weight->count * sizeof(float)) == 0);
    CHECK(m.fc_bias->data[0] != fc_before && m.fc_bias->data[0] != src.fc_bias->data[0]);
    CHECK(fabsf(m.fc_bias->data[0]) <= 1.0f / sqrtf(512.0f));

    /* Wrong shapes and the rest: refused, the model untouched. */
    rn_model_free(&m);
    rn_model_init(&m, be, 8);
    change bias25 = {"fc.bias", 0, 2, {2, 5}, 0};
    CHECK(write_with(&src, at("bias25.safetensors"), &bias25, 1, 0) == 0);
    expect_refused(&m, "bias25.safetensors", "tensor 'fc.bias' has shape [2, 5], expected [10]", NULL);
    change half_head = {"fc.weight", 0, 2, {1000, 512}, 0};
    CHECK(write_with(&src, at("half_head.safetensors"), &half_head, 1, 0) == 0);
    expect_refused(&m, "half_head.safetensors", "tensor 'fc.weight' has shape [1000, 512], expected [10, 512]", NULL);
    change head_cols[2] = {{"fc.weight", 0, 2, {1000, 256}, 0}, {"fc.bias", 0, 1, {1000}, 0}};
    CHECK(write_with(&src, at("head_cols.safetensors"), head_cols, 2, 0) == 0);
    expect_refused(&m, "head_cols.safetensors", "'fc.weight' has shape [1000, 256], expected [10, 512]", NULL);
    change conv_3d = {"conv1.weight", 0, 3, {64, 3, 49}, 0};
    CHECK(write_with(&src, at("conv3d.safetensors"), &conv_3d, 1, 0) == 0);
    expect_refused(&m, "conv3d.safetensors", "'conv1.weight' has shape [64, 3, 49], expected [64, 3, 7, 7]", NULL);
    change late = {"layer4.1.bn2.running_var", 0, 1, {511}, 0}; /* the last checked: nothing copied before */
    CHECK(write_with(&src, at("late.safetensors"), &late, 1, 0) == 0);
    expect_refused(&m, "late.safetensors", "'layer4.1.bn2.running_var' has shape [511], expected [512]", NULL);
    change missing = {"layer3.0.downsample.1.weight", 1, -1, {0}, 0};
    CHECK(write_with(&src, at("missing.safetensors"), &missing, 1, 0) == 0);
    expect_refused(&m, "missing.safetensors", "no tensor 'layer3.0.downsample.1.weight'", NULL);
    CHECK(write_with(&src, at("nbt_f32.safetensors"), NULL, 0, 1) == 0);
    expect_refused(&m, "nbt_f32.safetensors", "tensor 'bn1.num_batches_tracked' is F32, expected I64", NULL);

    /* The file as an input: a FIFO, a folder, nothing there. */
    CHECK(mkfifo(at("fifo.safetensors"), 0600) == 0);
    expect_refused(&m, "fifo.safetensors", "fifo.safetensors: cannot read: a FIFO (named pipe), not a regular file",
                   NULL);
    CHECK(mkdir(at("folder.safetensors"), 0700) == 0);
    expect_refused(&m, "folder.safetensors", "cannot read: a directory", NULL);
    expect_refused(&m, "none.safetensors", "none.safetensors: cannot open: No such file", NULL);

    const char *names[] = {"good",   "imagenet", "bias25",  "half_head", "head_cols",
                           "conv3d", "late",     "missing", "nbt_f32",   "fifo"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.safetensors", names[i]);
        unlink(at(name));
    }
    rmdir(at("folder.safetensors"));
    rmdir(dir);
    rn_model_free(&m);
    rn_model_free(&src);
    return cs_test_done();
}
