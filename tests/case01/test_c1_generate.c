/* case01's generated data set (generate.c) and workload (workload.c):
 * the data is deterministic, balanced, looks like MNIST (dark background,
 * bright strokes) and is learnable but not trivially so; the initial
 * weights follow PyTorch's Linear init; the sample order visits every
 * image once per epoch; outputs are poisoned with NaN. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_test.h"
#include "workload.h"

#define PIX 784

static void test_determinism(void)
{
    c1_dataset a, b, c;
    CHECK(c1_dataset_generate(&a, 2000, 7) == 0);
    CHECK(c1_dataset_generate(&b, 2000, 7) == 0);
    CHECK(c1_dataset_generate(&c, 2000, 8) == 0);
    CHECK(a.n == 2000 && a.rows == 28 && a.cols == 28);
    CHECK(strcmp(a.source, "generated from seed 7") == 0);
    CHECK(memcmp(a.images, b.images, (size_t)2000 * PIX) == 0);
    CHECK(memcmp(a.labels, b.labels, 2000) == 0);

    /* Another seed: other labels, other pixels (most bytes of a stroke
     * image differ when the strokes move; the noise alone changes most). */
    size_t differ = 0;
    for (size_t i = 0; i < (size_t)2000 * PIX; i++) differ += a.images[i] != c.images[i];
    CHECK(differ > (size_t)2000 * PIX / 4);
    CHECK(memcmp(a.labels, c.labels, 2000) != 0);

    /* A prefix of a larger set is not required, but the same n and seed is. */
    c1_dataset_free(&a);
    c1_dataset_free(&b);
    c1_dataset_free(&c);
    CHECK(a.images == NULL && a.n == 0);

    c1_dataset bad;
    CHECK(c1_dataset_generate(&bad, 0, 7) == 2);
}

static void test_statistics(void)
{
    enum { n = 6000 };
    c1_dataset d;
    CHECK(c1_dataset_generate(&d, n, 42) == 0);

    /* Balanced labels (within 20% of n/10), and shuffled: not 0,1,2,...,9,0,... */
    int count[256] = {0}, in_sequence = 0;
    for (int i = 0; i < n; i++) {
        count[d.labels[i]]++;
        in_sequence += d.labels[i] == i % 10;
    }
    for (int k = 0; k < C1_CLASSES; k++) CHECK(abs(count[k] - n / 10) <= n / 50);
    for (int k = C1_CLASSES; k < 256; k++) CHECK(count[k] == 0);
    CHECK(in_sequence < n / 5);

    /* Pixels: MNIST's mean is 33; a dark background (many zeros), bright
     * strokes (255 reached), and no blank image. */
    double sum = 0;
    size_t zeros = 0, saturated = 0;
    int blank = 0;
    for (int i = 0; i < n; i++) {
        int bright = 0;
        for (int p = 0; p < PIX; p++) {
            uint8_t v = d.images[(size_t)i * PIX + p];
            sum += v;
            zeros += v == 0;
            saturated += v == 255;
            bright += v > 128;
        }
        blank += bright < 10;
    }
    double mean = sum / ((double)n * PIX);
    CHECK(mean > 15 && mean < 80);
    CHECK(zeros > (size_t)n * PIX / 4 && zeros < (size_t)n * PIX * 9 / 10);
    CHECK(saturated > 0);
    CHECK(blank == 0);
    printf("generated: mean pixel %.1f, %.0f%% zeros\n", mean, 100.0 * zeros / ((double)n * PIX));

    /* Learnable, not trivial: a nearest-class-mean classifier, its means
     * from the first 5000 images, classifies the last 1000 far above chance
     * (10%) but not all of them (the classes overlap). */
    static double centroid[C1_CLASSES][PIX];
    int members[C1_CLASSES] = {0};
    for (int i = 0; i < 5000; i++) {
        members[d.labels[i]]++;
        for (int p = 0; p < PIX; p++) centroid[d.labels[i]][p] += d.images[(size_t)i * PIX + p];
    }
    for (int k = 0; k < C1_CLASSES; k++)
        for (int p = 0; p < PIX; p++) centroid[k][p] /= members[k];
    int right = 0;
    for (int i = 5000; i < n; i++) {
        int best = 0;
        double best_d = INFINITY;
        for (int k = 0; k < C1_CLASSES; k++) {
            double dist = 0;
            for (int p = 0; p < PIX; p++) {
                double e = d.images[(size_t)i * PIX + p] - centroid[k][p];
                dist += e * e;
            }
            if (dist < best_d) {
                best_d = dist;
                best = k;
            }
        }
        right += best == d.labels[i];
    }
    double accuracy = right / 1000.0;
    printf("nearest class mean: %.1f%% of 1000 held-out images\n", 100 * accuracy);
    CHECK(accuracy > 0.5);
    CHECK(accuracy < 0.99);
    c1_dataset_free(&d);
}

static c1_config small_config(int batch, int steps, int slow_steps, uint64_t seed)
{
    c1_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.in = 0; /* from the data */
    cfg.h1 = 16;
    cfg.h2 = 8;
    cfg.batch = batch;
    cfg.lr = 0.05f;
    cfg.steps = steps;
    cfg.slow_steps = slow_steps;
    cfg.seed = seed;
    return cfg;
}

/* Every index of 0..n-1 at most once in order[from, from + len); returns
 * how many distinct indices were seen, or -1 on a repeat or one out of range. */
static int distinct(const int32_t *order, size_t len, int n)
{
    char *seen = calloc((size_t)n, 1);
    int count = 0;
    for (size_t i = 0; i < len; i++) {
        if (order[i] < 0 || order[i] >= n || seen[order[i]]) {
            count = -1;
            break;
        }
        seen[order[i]] = 1;
        count++;
    }
    free(seen);
    return count;
}

static void check_bound(const float *x, size_t len, double bound)
{
    double worst = 0, sum = 0;
    for (size_t i = 0; i < len; i++) {
        worst = fmax(worst, fabs(x[i]));
        sum += x[i];
    }
    CHECK(worst <= bound);
    CHECK(worst > 0.8 * bound);                             /* spread over the range, not squeezed */
    if (len >= 1000) CHECK(fabs(sum / len) < 0.05 * bound); /* centred */
}

static void test_workload(void)
{
    c1_dataset d;
    CHECK(c1_dataset_generate(&d, 1000, 5) == 0);

    /* batch 50: 20 steps per epoch, each epoch every image exactly once. */
    c1_config cfg = small_config(50, 30, 55, 11);
    c1_workload w;
    CHECK(c1_workload_init(&w, &cfg, &d) == 0);
    CHECK(w.cfg.in == 784 && w.cfg.out == C1_CLASSES);
    CHECK(w.order_steps == 55);
    CHECK(c1_steps_per_epoch(&w) == 20);
    CHECK(distinct(w.order, 1000, 1000) == 1000);                        /* epoch 0 */
    CHECK(distinct(w.order + 1000, 1000, 1000) == 1000);                 /* epoch 1 */
    CHECK(distinct(w.order + 2000, 750, 1000) == 750);                   /* epoch 2, 15 steps */
    CHECK(memcmp(w.order, w.order + 1000, 1000 * sizeof *w.order) != 0); /* reshuffled */
    int in_place = 0;
    for (int i = 0; i < 1000; i++) in_place += w.order[i] == i;
    CHECK(in_place < 50); /* shuffled, not 0, 1, 2, ... */

    /* Layout: W1 b1 W2 b2 W3 b3 back to back. */
    const c1_layout *l = &w.layout;
    CHECK(l->w1 == 0 && l->b1 == 16 * 784 && l->w2 == l->b1 + 16 && l->b2 == l->w2 + 8 * 16);
    CHECK(l->w3 == l->b2 + 8 && l->b3 == l->w3 + 10 * 8 && l->count == l->b3 + 10);

    /* PyTorch's init: each tensor within +-1/sqrt(fan_in). */
    const float *p = w.init_params;
    check_bound(p + l->w1, 16 * 784, 1 / sqrt(784.0));
    check_bound(p + l->b1, 16, 1 / sqrt(784.0));
    check_bound(p + l->w2, 8 * 16, 1 / sqrt(16.0));
    check_bound(p + l->b2, 8, 1 / sqrt(16.0));
    check_bound(p + l->w3, 10 * 8, 1 / sqrt(8.0));
    check_bound(p + l->b3, 10, 1 / sqrt(8.0));

    /* Deterministic; the order of the first steps does not depend on how
     * many steps are asked for; another seed changes weights and order. */
    c1_workload same, fewer, other;
    c1_config cfg_fewer = small_config(50, 7, 3, 11), cfg_other = small_config(50, 30, 55, 12);
    CHECK(c1_workload_init(&same, &cfg, &d) == 0);
    CHECK(c1_workload_init(&fewer, &cfg_fewer, &d) == 0);
    CHECK(c1_workload_init(&other, &cfg_other, &d) == 0);
    CHECK(memcmp(w.init_params, same.init_params, l->count * sizeof(float)) == 0);
    CHECK(memcmp(w.order, same.order, (size_t)55 * 50 * sizeof *w.order) == 0);
    CHECK(fewer.order_steps == 7);
    CHECK(memcmp(w.order, fewer.order, (size_t)7 * 50 * sizeof *w.order) == 0);
    CHECK(memcmp(w.init_params, fewer.init_params, l->count * sizeof(float)) == 0);
    CHECK(memcmp(w.init_params, other.init_params, l->count * sizeof(float)) != 0);
    CHECK(memcmp(w.order, other.order, (size_t)55 * 50 * sizeof *w.order) != 0);
    c1_workload_free(&same);
    c1_workload_free(&fewer);
    c1_workload_free(&other);

    /* Outputs: poisoned with NaN (weights, loss) and -1 (correct). */
    c1_output o;
    c1_output_alloc(&o, &w, 9);
    CHECK(o.steps == 9);
    c1_output_poison(&o);
    size_t nan_params = 0;
    for (size_t i = 0; i < l->count; i++) nan_params += isnan(o.params[i]) != 0;
    CHECK(nan_params == l->count);
    for (int s = 0; s < 9; s++) CHECK(isnan(o.loss[s]) && o.correct[s] == -1);
    c1_output_free(&o);
    CHECK(o.params == NULL);
    c1_workload_free(&w);
    CHECK(w.init_params == NULL && w.order == NULL);

    /* A batch that does not divide n: the last partial batch is dropped,
     * each epoch's 960 samples distinct. */
    cfg = small_config(64, 40, 0, 3);
    CHECK(c1_workload_init(&w, &cfg, &d) == 0);
    CHECK(c1_steps_per_epoch(&w) == 15);
    CHECK(distinct(w.order, 960, 1000) == 960);
    CHECK(distinct(w.order + 960, 960, 1000) == 960);
    CHECK(distinct(w.order + 1920, 10 * 64, 1000) == 640);
    c1_workload_free(&w);

    /* Bad configurations: exit code 2, nothing allocated. */
    cfg = small_config(1001, 5, 5, 3);
    CHECK(c1_workload_init(&w, &cfg, &d) == 2);
    CHECK(w.init_params == NULL && w.order == NULL);
    cfg = small_config(1000, 5, 5, 3); /* exactly n: allowed, one step per epoch */
    CHECK(c1_workload_init(&w, &cfg, &d) == 0);
    CHECK(c1_steps_per_epoch(&w) == 1 && distinct(w.order, 1000, 1000) == 1000);
    c1_workload_free(&w);
    cfg = small_config(50, 5, 5, 3);
    cfg.in = 100; /* does not match 28 x 28 */
    CHECK(c1_workload_init(&w, &cfg, &d) == 2);
    cfg.in = 784; /* matches */
    CHECK(c1_workload_init(&w, &cfg, &d) == 0);
    c1_workload_free(&w);
    cfg.batch = 0;
    CHECK(c1_workload_init(&w, &cfg, &d) == 2);
    c1_dataset_free(&d);
}

int main(void)
{
    test_determinism();
    test_statistics();
    test_workload();
    return cs_test_done();
}
