/* case01's workload (workload.h): loading MNIST's IDX files, the parameter
 * layout, the initial weights, the sample order, and the output buffers.
 * Everything random here comes from cs_rng on its own stream, so every
 * variant, on every machine, starts from the same weights and visits the
 * samples in the same order: their loss curves must then agree. */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_console.h"
#include "cs_files.h"
#include "cs_memory.h"
#include "cs_outfile.h"
#include "cs_rng.h"
#include "idx.h"

/* cs_rng streams of the workload (generate.c uses its own). The epochs'
 * streams start far above the others so that no epoch count reaches them. */
#define STREAM_WEIGHTS 1
#define STREAM_EPOCH0  ((uint64_t)1 << 32)

#define IMAGES_NAME "train-images-idx3-ubyte"
#define LABELS_NAME "train-labels-idx1-ubyte"

/* ---- loading the data set ------------------------------------------------ */

/* Whether path exists (following a symbolic link); 2 after one line naming
 * --data when it does but is no regular file (a FIFO would be waited on, a
 * device read forever), else 1 or 0. */
static int exists(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    if (!S_ISREG(st.st_mode)) {
        cs_error("--data: %s is %s, not a regular file", path, cs_file_kind(st.st_mode));
        return 2;
    }
    return 1;
}

/* DIR/NAME if it exists, else DIR/NAME.gz if that does, into path. Returns
 * 0, or 2 when neither is there or it is not a regular file (message
 * printed). */
static int find_idx_file(const char *dir, const char *name, char *path, size_t len)
{
    char gz_name[64];
    snprintf(gz_name, sizeof gz_name, "%s.gz", name);
    cs_path_join(path, len, dir, name);
    int e = exists(path);
    if (e) return e == 1 ? 0 : 2;
    cs_path_join(path, len, dir, gz_name);
    e = exists(path);
    if (e) return e == 1 ? 0 : 2;
    cs_error("%s: no %s[.gz] (expected MNIST's IDX files: " IMAGES_NAME " and " LABELS_NAME ")", dir, name);
    return 2;
}

int c1_dataset_load_dir(c1_dataset *d, const char *dir)
{
    memset(d, 0, sizeof *d);
    struct stat st;
    if (dir == NULL || dir[0] == '\0') {
        cs_error("empty data directory name");
        return 2;
    }
    if (stat(dir, &st) != 0) {
        cs_error("%s: cannot open the data directory: %s", dir, strerror(errno));
        return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
        cs_error("%s: not a directory (expected the folder holding " IMAGES_NAME " and " LABELS_NAME ")", dir);
        return 2;
    }
    if (strlen(dir) + 32 >= CS_PATH_MAX) {
        cs_error("%s: path too long", dir);
        return 2;
    }
    char images_path[CS_PATH_MAX], labels_path[CS_PATH_MAX];
    if (find_idx_file(dir, IMAGES_NAME, images_path, sizeof images_path) != 0) return 2;
    if (find_idx_file(dir, LABELS_NAME, labels_path, sizeof labels_path) != 0) return 2;

    int n_images = 0, n_labels = 0, rows = 0, cols = 0;
    uint8_t *images = NULL, *labels = NULL;
    int rc = c1_idx_read_images(images_path, &n_images, &rows, &cols, &images);
    if (rc != 0) return rc;
    rc = c1_idx_read_labels(labels_path, &n_labels, &labels);
    if (rc != 0) {
        free(images);
        return rc;
    }
    if (n_images != n_labels) {
        cs_error("%s has %d images but %s has %d labels: the files do not belong together", images_path, n_images,
                 labels_path, n_labels);
        free(images);
        free(labels);
        return 2;
    }
    for (int i = 0; i < n_labels; i++) {
        if (labels[i] >= C1_CLASSES) {
            cs_error("%s: label %d at index %d is not a class (expected 0 to %d)", labels_path, labels[i], i,
                     C1_CLASSES - 1);
            free(images);
            free(labels);
            return 2;
        }
    }
    d->n = n_images;
    d->rows = rows;
    d->cols = cols;
    d->images = images;
    d->labels = labels;
    /* A path too long for source keeps its end, where the file name is. */
    const char *shown = images_path;
    size_t len = strlen(images_path), room = sizeof d->source - 1;
    if (len > room) {
        shown = images_path + (len - room) + 3;
        memcpy(d->source, "...", 3);
    }
    memcpy(d->source + (shown == images_path ? 0 : 3), shown, strlen(shown) + 1);
    return 0;
}

void c1_dataset_free(c1_dataset *d)
{
    if (d == NULL) return;
    free(d->images); /* malloc'd by idx.c or generate.c */
    free(d->labels);
    memset(d, 0, sizeof *d);
}

/* ---- the parameters ------------------------------------------------------ */

c1_layout c1_layout_of(const c1_config *cfg)
{
    c1_layout l;
    size_t in = (size_t)cfg->in, h1 = (size_t)cfg->h1, h2 = (size_t)cfg->h2;
    size_t out = (size_t)cfg->out;
    l.w1 = 0;
    l.b1 = l.w1 + h1 * in;
    l.w2 = l.b1 + h1;
    l.b2 = l.w2 + h2 * h1;
    l.w3 = l.b2 + h2;
    l.b3 = l.w3 + out * h2;
    l.count = l.b3 + out;
    return l;
}

/* PyTorch's nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) for the
 * weight, which works out to U(-1/sqrt(fan_in), +1/sqrt(fan_in)), and the
 * same bound for the bias. */
static void init_linear(cs_rng *r, float *weight, float *bias, int fan_out, int fan_in)
{
    float bound = (float)(1.0 / sqrt((double)fan_in));
    cs_rng_fill_uniform(r, weight, (size_t)fan_out * fan_in, -bound, bound);
    cs_rng_fill_uniform(r, bias, (size_t)fan_out, -bound, bound);
}

/* ---- the sample order ---------------------------------------------------- */

/* Fills w->order: epoch after epoch, a Fisher-Yates shuffle of 0..n-1 from
 * the epoch's own stream, cut into batches; the samples of the last
 * partial batch wait for the next epoch's shuffle (as PyTorch's DataLoader
 * with shuffle=True, drop_last=True). */
static void fill_order(c1_workload *w, int32_t *perm)
{
    int n = w->data->n, batch = w->cfg.batch;
    int per_epoch = n / batch;
    size_t filled = 0, total = (size_t)w->order_steps * batch;
    for (uint64_t epoch = 0; filled < total; epoch++) {
        cs_rng r;
        cs_rng_seed(&r, w->cfg.seed, STREAM_EPOCH0 + epoch);
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)cs_rng_below(&r, (uint32_t)i + 1);
            int32_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        size_t take = (size_t)per_epoch * batch;
        if (take > total - filled) take = total - filled;
        memcpy(w->order + filled, perm, take * sizeof *perm);
        filled += take;
    }
}

/* ---- the workload -------------------------------------------------------- */

static int check_config(const c1_config *cfg, const c1_dataset *data)
{
    long long pixels = (long long)data->rows * data->cols;
    if (data->n < 1 || data->images == NULL || data->labels == NULL || pixels < 1) {
        cs_error("the data set is empty");
        return 2;
    }
    if (cfg->in != 0 && cfg->in != pixels) {
        cs_error("the network takes %d inputs, but the images of the data set (%s) have %d x %d = %lld pixels", cfg->in,
                 data->source, data->rows, data->cols, pixels);
        return 2;
    }
    if (cfg->out != 0 && cfg->out != C1_CLASSES) {
        cs_error("the network has %d outputs, but the data set has %d classes", cfg->out, C1_CLASSES);
        return 2;
    }
    if (cfg->h1 < 1 || cfg->h1 > C1_MAX_LAYER || cfg->h2 < 1 || cfg->h2 > C1_MAX_LAYER) {
        cs_error("hidden layers of %d and %d units: each must be 1 to %d", cfg->h1, cfg->h2, C1_MAX_LAYER);
        return 2;
    }
    if (cfg->batch < 1) {
        cs_error("--batch %d: must be at least 1", cfg->batch);
        return 2;
    }
    if (cfg->batch > data->n) {
        cs_error("--batch %d is larger than the data set (%d images)", cfg->batch, data->n);
        return 2;
    }
    if (cfg->steps < 0 || cfg->slow_steps < 0 || cfg->gpu_steps < 0 || cfg->check_steps < 0) {
        cs_error("steps %d and slow steps %d: must not be negative", cfg->steps, cfg->slow_steps);
        return 2;
    }
    return 0;
}

int c1_workload_init(c1_workload *w, const c1_config *cfg, const c1_dataset *data)
{
    memset(w, 0, sizeof *w);
    int rc = check_config(cfg, data);
    if (rc != 0) return rc;
    w->cfg = *cfg;
    w->cfg.in = data->rows * data->cols; /* "0: from the data" resolved */
    w->cfg.out = C1_CLASSES;
    w->data = data;
    w->layout = c1_layout_of(&w->cfg);
    w->order_steps = cfg->steps > cfg->slow_steps ? cfg->steps : cfg->slow_steps;
    if (cfg->gpu_steps > w->order_steps) w->order_steps = cfg->gpu_steps;
    if (c1_check_steps(cfg) > w->order_steps) w->order_steps = c1_check_steps(cfg);

    size_t order_len = (size_t)w->order_steps * (size_t)w->cfg.batch;
    w->init_params = malloc(w->layout.count * sizeof *w->init_params);
    w->order = malloc((order_len ? order_len : 1) * sizeof *w->order);
    int32_t *perm = malloc((size_t)data->n * sizeof *perm);
    if (w->init_params == NULL || w->order == NULL || perm == NULL) {
        cs_error("out of memory for the workload (%zu parameters, %zu sample indices)", w->layout.count, order_len);
        free(perm);
        c1_workload_free(w);
        return 3;
    }

    /* Layer by layer, each tensor row-major, from one stream: W1 b1 W2 b2 W3 b3. */
    const c1_layout *l = &w->layout;
    float *p = w->init_params;
    cs_rng r;
    cs_rng_seed(&r, cfg->seed, STREAM_WEIGHTS);
    init_linear(&r, p + l->w1, p + l->b1, w->cfg.h1, w->cfg.in);
    init_linear(&r, p + l->w2, p + l->b2, w->cfg.h2, w->cfg.h1);
    init_linear(&r, p + l->w3, p + l->b3, w->cfg.out, w->cfg.h2);

    fill_order(w, perm);
    free(perm);
    return 0;
}

void c1_workload_free(c1_workload *w)
{
    if (w == NULL) return;
    free(w->init_params);
    free(w->order);
    memset(w, 0, sizeof *w);
}

int c1_steps_per_epoch(const c1_workload *w)
{
    return w->data->n / w->cfg.batch;
}

/* ---- outputs ------------------------------------------------------------- */

/* Through cs_alloc: the ladder counts a run's tracked bytes, and the output
 * a variant fills is part of what the run holds. */
void c1_output_alloc(c1_output *o, const c1_workload *w, int steps)
{
    memset(o, 0, sizeof *o);
    size_t nsteps = steps > 0 ? (size_t)steps : 1;
    o->nparams = w->layout.count;
    o->params = cs_alloc(o->nparams * sizeof *o->params, "case01 output weights");
    o->loss = cs_alloc(nsteps * sizeof *o->loss, "case01 output loss per step");
    o->correct = cs_alloc(nsteps * sizeof *o->correct, "case01 output correct per step");
    o->steps = steps > 0 ? steps : 0;
}

void c1_output_free(c1_output *o)
{
    if (o == NULL) return;
    cs_free(o->params);
    cs_free(o->loss);
    cs_free(o->correct);
    memset(o, 0, sizeof *o);
}

void c1_output_poison(c1_output *o)
{
    if (o->params != NULL) {
        for (size_t i = 0; i < o->nparams; i++) o->params[i] = NAN;
    }
    for (int s = 0; s < o->steps; s++) {
        o->loss[s] = NAN;
        o->correct[s] = -1;
    }
}
