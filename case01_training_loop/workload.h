/* case01's workload, defined once: the network's shape, the data set, the
 * initial weights and the order in which samples are visited. Every variant
 * reads the same c1_workload, trains from the same initial weights in the
 * same order with the same mini-batch mean gradient, so their loss curves
 * and final weights must agree (verification, step 6).
 *
 * The network (PyTorch's layout, so the comparison script in docs/ builds
 * the same model):
 *     h1 = relu(x W1^T + b1)      W1: h1 x in   (out_features x in_features)
 *     h2 = relu(h1 W2^T + b2)     W2: h2 x h1
 *     z  = h2 W3^T + b3           W3: out x h2
 *     loss = mean over the batch of  -log softmax(z)[label]
 * x is a row of pixels scaled to [0, 1] (byte / 255). SGD: p -= lr * grad,
 * grad of the batch-mean loss. */
#ifndef C1_WORKLOAD_H
#define C1_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define C1_CLASSES   10    /* outputs: ten classes, as MNIST has */
#define C1_MAX_LAYER 16384 /* largest hidden layer accepted */

typedef struct {
    int in;                 /* input features = image rows * cols (784 for MNIST) */
    int h1, h2;             /* hidden layer widths (default 1024 each) */
    int out;                /* C1_CLASSES */
    int batch;              /* samples per step (default 256) */
    float lr;               /* SGD learning rate (default 0.05) */
    int steps;              /* steps per timed run of a fast variant */
    int slow_steps;         /* steps per timed run of a slow variant */
    int check_steps;        /* steps of every variant's check run (0: slow_steps) */
    int gpu_steps;          /* steps per timed run of a fast GPU variant (they are so fast
                        that a run of `steps` would time mostly its start and end) */
    uint64_t seed;          /* initial weights, sample order, generated data */
    size_t gpu_data_budget; /* device bytes gpu_async and gpu_fast may give the
                                data set (0: no limit); above it, batches stream from
                                pinned memory with double-buffered async copies */
} c1_config;

/* Images as the IDX files hold them: n images of rows x cols bytes, row by
 * row, and one label byte (0..9) per image. */
typedef struct {
    int n, rows, cols;
    uint8_t *images;  /* n * rows * cols */
    uint8_t *labels;  /* n */
    char source[512]; /* "generated from seed 42" or the image file's path */
} c1_dataset;

/* Where each parameter tensor starts in the one flat parameter array
 * (W1, b1, W2, b2, W3, b3 back to back, in floats). */
typedef struct {
    size_t w1, b1, w2, b2, w3, b3;
    size_t count; /* total floats */
} c1_layout;

typedef struct {
    c1_config cfg;
    c1_layout layout;
    const c1_dataset *data;
    float *init_params; /* layout.count floats: the initial weights */
    int32_t *order;     /* sample index for each (step, position): order[s * batch + i] */
    int order_steps;    /* steps that order covers (the most of all the step counts) */
} c1_workload;

/* What one training run produces. */
typedef struct {
    float *params;    /* layout.count floats: the weights after the run */
    float *loss;      /* per step: the batch-mean loss of the training forward pass */
    int32_t *correct; /* per step: samples of the batch whose arg-max was the label */
    int steps;        /* steps the arrays hold room for */
    size_t nparams;   /* floats in params (the workload's layout.count) */
} c1_output;

/* The layout of the parameters for a configuration. */
c1_layout c1_layout_of(const c1_config *cfg);

/* A learnable MNIST-shaped data set from the seed: n images of 28 x 28
 * bytes, ten classes, each class a distinct pattern of strokes, shifted and
 * thickened at random with pixel noise, so a linear model alone does not
 * separate them perfectly but an MLP learns them within an epoch. Same seed,
 * same bytes. Returns 0, or 3 when out of memory (message printed). */
int c1_dataset_generate(c1_dataset *d, int n, uint64_t seed);

/* Loads DIR/train-images-idx3-ubyte and DIR/train-labels-idx1-ubyte (each
 * also found as NAME.gz when the suite was built with zlib). Returns 0, or
 * 2 with one line on stderr naming the file and what is wrong (missing,
 * truncated, wrong magic number, counts that differ, labels >= 10). */
int c1_dataset_load_dir(c1_dataset *d, const char *dir);

void c1_dataset_free(c1_dataset *d);

/* Builds w: layout, initial weights from cfg->seed (PyTorch's default
 * Linear init: weights and biases uniform in +-1/sqrt(fan_in)), and the
 * sample order: each epoch a fresh permutation of the data set from the seed
 * (Fisher-Yates), batches taken in that order, the last partial batch of an
 * epoch dropped. Returns 0, or 2 when the batch is larger than the data set
 * (message printed), 3 when out of memory. */
int c1_workload_init(c1_workload *w, const c1_config *cfg, const c1_dataset *data);
void c1_workload_free(c1_workload *w);

/* Steps of the check run: cfg->check_steps, or slow_steps when 0. */
static inline int c1_check_steps(const c1_config *cfg)
{
    return cfg->check_steps > 0 ? cfg->check_steps : cfg->slow_steps;
}

/* Steps in one epoch: data->n / batch. */
int c1_steps_per_epoch(const c1_workload *w);

void c1_output_alloc(c1_output *o, const c1_workload *w, int steps);
void c1_output_free(c1_output *o);
/* Fills the output with NaN so that a variant that skips a part fails. */
void c1_output_poison(c1_output *o);

/* The byte -> float conversion every variant uses: pixel / 255. */
static inline float c1_pixel(uint8_t b)
{
    return (float)b * (1.0f / 255.0f);
}

#endif
