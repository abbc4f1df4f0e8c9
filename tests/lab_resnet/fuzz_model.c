/* A fuzz target for lab_resnet's weight loader (rn_model_load_file, the
 * part of rn_model_load after the file is read): which tensors it takes,
 * which it refuses, and that a refused file changes nothing in the model.
 *
 * The first byte of an input chooses how the rest is used:
 *  - even: the rest is a safetensors file, parsed (rn_st_parse) and loaded;
 *  - odd: the model's own tensors, in a valid file built in memory, changed
 *    by the rest, three bytes per change (tensor, what, value): dropped,
 *    renamed, made I64 or F16, a dimension resized, removed or added, the
 *    head made a K-class head. Random bytes seldom make a file that even
 *    names conv1.weight; this way every check of the loader is reached.
 * An oracle written here from the rules of model.h decides what the loader
 * must answer (0 or 2); then, on 0, every parameter holds the file's values
 * (or, for another head, fresh ones), and on 2 the model is unchanged.
 *
 * The model lives on a host "backend" defined here (alloc, copy), so the
 * target needs none of the layer code. Built as tests/fuzz.cmake says:
 * lab_resnet.fuzz_model_corpus replays the seeds with any compiler,
 * lab_resnet.fuzz_model_short explores under libFuzzer with clang. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"
#include "cs_fuzz_replay.h"

#define REQUIRE(cond) CS_FUZZ_REQUIRE(cond)

/* ---- a host backend: the model's buffers are plain memory ----------------- */

static void copy(void *dst, const void *src, size_t bytes)
{
    memcpy(dst, src, bytes);
}
static void nothing(void) {}
static const rn_backend host = {.name = "host", .on_device = 0, .to_backend = copy, .to_host = copy, .sync = nothing};

static rn_model model;
static int ready;

/* ---- the model's own file, built once ------------------------------------- */

#define MAX_TENSORS (RN_MAX_PARAMS * 2 + 16)
#define SLACK_BYTES ((size_t)4 << 20) /* room for tensors grown by a change */

static unsigned char *pristine; /* the data of every tensor, then the slack */
static size_t pristine_size, slack_at;
static rn_st_tensor pristine_tensors[MAX_TENSORS];
static int pristine_n;

static void add_tensor(const char *name, rn_st_dtype dtype, const char *text, int ndims, const int64_t *shape,
                       size_t *at, size_t width)
{
    rn_st_tensor *t = &pristine_tensors[pristine_n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    snprintf(t->dtype_text, sizeof t->dtype_text, "%s", text);
    t->ndims = ndims;
    size_t count = 1;
    for (int d = 0; d < ndims; d++) {
        t->shape[d] = shape[d];
        count *= (size_t)shape[d];
    }
    t->begin = *at;
    t->end = *at + count * width;
    *at = t->end;
}

static void build_pristine(void)
{
    size_t at = 0;
    for (int i = 0; i < model.nparams; i++) {
        const rn_param *p = &model.params[i];
        add_tensor(p->name, RN_ST_F32, "F32", p->ndims, p->shape, &at, 4);
        if (!p->trainable && strstr(p->name, "running_var")) {
            char nbt[96];
            snprintf(nbt, sizeof nbt, "%.*s.num_batches_tracked", (int)(strlen(p->name) - strlen(".running_var")),
                     p->name);
            add_tensor(nbt, RN_ST_I64, "I64", 0, NULL, &at, 8);
        }
    }
    slack_at = at;
    pristine_size = at + SLACK_BYTES;
    pristine = malloc(pristine_size);
    REQUIRE(pristine != NULL);
    /* Values unlike the model's initial ones: float i * 1e-6 for word i. */
    for (size_t w = 0; w + 4 <= pristine_size; w += 4) {
        float v = (float)(w / 4) * 1e-6f;
        memcpy(pristine + w, &v, 4);
    }
}

static void set_up(void)
{
    rn_model_init(&model, &host, 1);
    build_pristine();
    ready = 1;
}

/* ---- the oracle ---------------------------------------------------------- */

static const rn_st_tensor *find(const rn_st_file *f, const char *name)
{
    for (int i = 0; i < f->ntensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

static int same_shape(const rn_st_tensor *t, const rn_param *p)
{
    if (t->ndims != p->ndims) return 0;
    for (int d = 0; d < p->ndims; d++)
        if (t->shape[d] != p->shape[d]) return 0;
    return 1;
}

/* Another classifier over the same 512 features: replaced, not loaded. */
static int expect_other_head(const rn_st_file *f)
{
    const rn_st_tensor *w = find(f, "fc.weight"), *b = find(f, "fc.bias");
    return w && b && w->dtype == RN_ST_F32 && b->dtype == RN_ST_F32 && w->ndims == 2 && w->shape[1] == 512 &&
           w->shape[0] >= 1 && w->shape[0] != RN_CLASSES && b->ndims == 1 && b->shape[0] == w->shape[0];
}

/* 0 when the file must load, 2 when it must be refused. */
static int expect_rc(const rn_st_file *f)
{
    int head = expect_other_head(f);
    for (int i = 0; i < model.nparams; i++) {
        const rn_param *p = &model.params[i];
        if (head && (p == model.fc_weight || p == model.fc_bias)) continue;
        const rn_st_tensor *t = find(f, p->name);
        if (t == NULL || t->dtype != RN_ST_F32 || !same_shape(t, p)) return 2;
        if (!p->trainable && strstr(p->name, "running_mean")) {
            char nbt[96];
            snprintf(nbt, sizeof nbt, "%.*s.num_batches_tracked", (int)(strlen(p->name) - strlen(".running_mean")),
                     p->name);
            const rn_st_tensor *n = find(f, nbt);
            if (n && (n->dtype != RN_ST_I64 || n->ndims != 0)) return 2;
        }
    }
    return 0;
}

/* A cheap fingerprint of the model: a few values of every parameter. */
static uint64_t fingerprint(void)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < model.nparams; i++) {
        const rn_param *p = &model.params[i];
        for (size_t k = 0; k < p->count; k += 1 + p->count / 64) {
            uint32_t bits;
            memcpy(&bits, &p->data[k], 4);
            h = (h ^ bits) * 1099511628211ull;
        }
        uint32_t last;
        memcpy(&last, &p->data[p->count - 1], 4);
        h = (h ^ last) * 1099511628211ull;
    }
    return h;
}

static void check_load(const rn_st_file *f)
{
    int want = expect_rc(f);
    float head_before = model.fc_bias->data[0];
    uint64_t before = fingerprint();
    int rc = rn_model_load_file(&model, f, 5);
    REQUIRE(rc == want);
    if (rc != 0) {
        REQUIRE(fingerprint() == before); /* a refused file changes nothing */
        return;
    }
    int head = expect_other_head(f);
    for (int i = 0; i < model.nparams; i++) {
        const rn_param *p = &model.params[i];
        if (head && (p == model.fc_weight || p == model.fc_bias)) continue;
        const rn_st_tensor *t = find(f, p->name);
        const unsigned char *src = f->bytes + f->data_start + t->begin;
        REQUIRE(memcmp(p->data, src, 4) == 0);
        REQUIRE(memcmp(&p->data[p->count - 1], src + 4 * (p->count - 1), 4) == 0);
        REQUIRE(memcmp(&p->data[p->count / 2], src + 4 * (p->count / 2), 4) == 0);
    }
    if (head) {
        /* nn.Linear's bounds; a value seen before could be the seed's own. */
        float bound = 1.0f / 22.627417f;
        REQUIRE(model.fc_bias->data[0] >= -bound && model.fc_bias->data[0] <= bound);
        (void)head_before;
    }
}

/* ---- the two modes ---------------------------------------------------------- */

static void raw_file(const uint8_t *data, size_t size)
{
    rn_st_file f;
    int rc = rn_st_parse(&f, "fuzz input", data, size);
    if (rc != 0) return;
    check_load(&f);
    rn_st_close(&f);
}

static void changed_file(const uint8_t *data, size_t size)
{
    rn_st_tensor tensors[MAX_TENSORS];
    int n = pristine_n;
    memcpy(tensors, pristine_tensors, sizeof tensors[0] * (size_t)n);
    size_t slack = slack_at;
    for (size_t i = 0; i + 3 <= size; i += 3) {
        if (n == 0) break;
        rn_st_tensor *t = &tensors[data[i] % n];
        int what = data[i + 1] % 8, value = data[i + 2];
        size_t width = t->dtype == RN_ST_I64 ? 8 : t->dtype == RN_ST_F32 ? 4 : 2;
        rn_st_tensor before = *t;
        switch (what) {
        case 0: /* dropped */ *t = tensors[--n]; continue;
        case 1: /* renamed */ t->name[value % 8] = (char)('a' + value % 26); continue;
        case 2: /* I64 */
            t->dtype = RN_ST_I64;
            snprintf(t->dtype_text, sizeof t->dtype_text, "I64");
            width = 8;
            break;
        case 3: /* F16 */
            t->dtype = RN_ST_OTHER;
            snprintf(t->dtype_text, sizeof t->dtype_text, "F16");
            width = 2;
            break;
        case 4: /* one dimension resized (0 .. 1023) */
            if (t->ndims == 0) continue;
            t->shape[value % t->ndims] = (int64_t)value * 4 + (data[i] & 3);
            break;
        case 5: /* one dimension removed */
            if (t->ndims == 0) continue;
            t->ndims--;
            break;
        case 6: /* one dimension added */
            if (t->ndims >= 4) continue;
            t->shape[t->ndims++] = value % 4 + 1;
            break;
        case 7: { /* a K-class head: fc.weight [K, 512], fc.bias [K] */
            rn_st_tensor *w = NULL, *b = NULL;
            for (int k = 0; k < n; k++) {
                if (strcmp(tensors[k].name, "fc.weight") == 0) w = &tensors[k];
                if (strcmp(tensors[k].name, "fc.bias") == 0) b = &tensors[k];
            }
            if (w == NULL || b == NULL) continue;
            int classes = value + 1; /* 1 .. 256, 10 among them */
            size_t wb = (size_t)classes * 512 * 4, bb = (size_t)classes * 4;
            if (slack + wb + bb > pristine_size) continue;
            w->shape[0] = classes;
            w->begin = slack, w->end = slack + wb, slack += wb;
            b->shape[0] = classes;
            b->begin = slack, b->end = slack + bb, slack += bb;
            continue;
        }
        }
        /* The bytes the new shape needs, as the parser guarantees: in the
         * tensor's own place when they fit, else in the slack. */
        size_t count = 1;
        for (int d = 0; d < t->ndims; d++) count *= (size_t)t->shape[d];
        size_t bytes = count * width;
        if (bytes <= before.end - before.begin) {
            t->end = t->begin + bytes;
        } else if (bytes <= pristine_size - slack) {
            t->begin = slack, t->end = slack + bytes, slack += bytes;
        } else {
            *t = before; /* too large to hold: the change is dropped */
        }
    }
    rn_st_file f;
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "changed model file");
    f.bytes = pristine;
    f.size = pristine_size;
    f.data_start = 0;
    f.tensors = tensors;
    f.ntensors = n;
    check_load(&f); /* the file is not closed: its memory is static */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) set_up();
    if (size == 0) return 0;
    if (data[0] % 2 == 0)
        raw_file(data + 1, size - 1);
    else
        changed_file(data + 1, size - 1);
    return 0;
}

#ifdef RN_FUZZ_STANDALONE
int main(int argc, char **argv)
{
    int rc = cs_fuzz_replay(argc, argv, "fuzz_model", "every load answered as the rules say");
    if (ready) rn_model_free(&model);
    free(pristine);
    return rc;
}
#endif
