/* Unit tests of lab_resnet/transforms.c and loader.c: RandomResizedCrop's
 * parameters (deterministic per sample, inside the image, within the scale
 * and ratio bounds, the fallback for a far-from-square image), the bilinear
 * resize (constant stays constant, identity crop, flip, a linear ramp
 * against the align_corners = false formula worked out by hand), the
 * normalisation, and the loader's order and batches. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "cs_console.h"
#include "cs_test.h"
#include "loader.h"
#include "transforms.h"

#define SEED  4242ull
#define PLANE (RN_CIFAR_SIDE * RN_CIFAR_SIDE)

typedef struct {
    int top, left, ch, cw, flip;
} params;

static params get(uint64_t seed, int epoch, int index, int h, int w)
{
    params p;
    rn_augment_params(seed, epoch, index, h, w, &p.top, &p.left, &p.ch, &p.cw, &p.flip);
    return p;
}

static int same_params(params a, params b)
{
    return a.top == b.top && a.left == b.left && a.ch == b.ch && a.cw == b.cw && a.flip == b.flip;
}

/* The first index (of seed SEED, epoch 0, a 32 x 32 image) whose draws
 * satisfy want(); -1 if none in the first 400000. Lets the test reach a
 * given crop through the public calls. */
static int find_index(int (*want)(params))
{
    for (int i = 0; i < 400000; i++)
        if (want(get(SEED, 0, i, 32, 32))) return i;
    return -1;
}

static float norm(float byte_value, int c)
{
    return (byte_value / 255.0f - rn_imagenet_mean[c]) / rn_imagenet_std[c];
}

/* ---- the crop's parameters ------------------------------------------------ */

static void test_params_deterministic(void)
{
    int same = 1, differ_index = 0, differ_epoch = 0, differ_seed = 0;
    for (int i = 0; i < 200; i++) {
        params a = get(SEED, 3, i, 32, 32);
        same &= same_params(a, get(SEED, 3, i, 32, 32));
        differ_index += !same_params(a, get(SEED, 3, i + 1, 32, 32));
        differ_epoch += !same_params(a, get(SEED, 4, i, 32, 32));
        differ_seed += !same_params(a, get(SEED + 1, 3, i, 32, 32));
    }
    CHECK(same);
    /* Two independent crops of a 32 x 32 image coincide well under 5% of
     * the time. */
    CHECK(differ_index >= 190);
    CHECK(differ_epoch >= 190);
    CHECK(differ_seed >= 190);
}

/* Every crop inside the image; a regular try's area within [0.08, 1] of
 * the image and its ratio within [3/4, 4/3] (up to the rounding of each
 * side to whole pixels), else the fallback's centre crop. */
static void check_bounds(int h, int w, params fallback, int *fallbacks, int *flips)
{
    int inside = 1, bounded = 1;
    *fallbacks = *flips = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        params p = get(SEED, i % 7, i, h, w);
        inside &= p.top >= 0 && p.left >= 0 && p.ch >= 1 && p.cw >= 1 && p.top + p.ch <= h && p.left + p.cw <= w;
        *flips += p.flip;
        if (same_params((params){fallback.top, fallback.left, fallback.ch, fallback.cw, p.flip}, p)) {
            (*fallbacks)++;
            continue;
        }
        double area = (double)h * w;
        bounded &= (p.cw + 0.5) * (p.ch + 0.5) >= 0.08 * area && (p.cw - 0.5) * (p.ch - 0.5) <= area;
        bounded &= (p.cw + 0.5) / (p.ch - 0.5) >= 3.0 / 4.0 && (p.cw - 0.5) / (p.ch + 0.5) <= 4.0 / 3.0;
    }
    CHECK(inside);
    CHECK(bounded);
    CHECK(*flips > n * 45 / 100 && *flips < n * 55 / 100);
}

static void test_params_bounds(void)
{
    int fallbacks, flips;
    /* Square: the fallback is the whole image. */
    check_bounds(32, 32, (params){0, 0, 32, 32, 0}, &fallbacks, &flips);
    check_bounds(24, 40, (params){0, 7, 24, 31, 0}, &fallbacks, &flips);

    /* Statistics against torchvision 0.14's get_params (100000 draws each,
     * measured once; their standard errors are about 0.02 pixels): mean
     * side 21.67 x 21.67 on 32 x 32, mean area fraction 0.490. */
    double sum_ch = 0, sum_cw = 0, sum_area = 0;
    const int n = 50000;
    for (int i = 0; i < n; i++) {
        params p = get(SEED, 0, i, 32, 32);
        sum_ch += p.ch;
        sum_cw += p.cw;
        sum_area += p.ch * p.cw / 1024.0;
    }
    CHECK_NEAR(sum_ch / n, 21.67, 0.15);
    CHECK_NEAR(sum_cw / n, 21.67, 0.15);
    CHECK_NEAR(sum_area / n, 0.490, 0.01);

    /* A tall, thin image (32 x 2): ten tries rarely fit, and the fallback
     * keeps the width and takes the height at ratio 3/4: ch = round(2 / 0.75)
     * = round(2.67) = 3, top = (32 - 3) / 2 = 14. torchvision falls back on
     * 81% of draws. */
    check_bounds(32, 2, (params){14, 0, 3, 2, 0}, &fallbacks, &flips);
    CHECK(fallbacks > 0);
    CHECK_NEAR(fallbacks / 20000.0, 0.81, 0.02);
    /* The wide one: ch = 2, cw = round(2 * 4/3) = 3, left = (32 - 3) / 2 = 14. */
    check_bounds(2, 32, (params){0, 14, 2, 3, 0}, &fallbacks, &flips);
    CHECK_NEAR(fallbacks / 20000.0, 0.81, 0.02);
}

/* ---- the image transforms --------------------------------------------------- */

static void test_normalisation(void)
{
    CHECK(rn_imagenet_mean[0] == 0.485f && rn_imagenet_mean[1] == 0.456f && rn_imagenet_mean[2] == 0.406f);
    CHECK(rn_imagenet_std[0] == 0.229f && rn_imagenet_std[1] == 0.224f && rn_imagenet_std[2] == 0.225f);
    uint8_t img[3 * PLANE];
    for (int k = 0; k < 3 * PLANE; k++) img[k] = (uint8_t)(k * 31);
    img[0] = 0;
    img[PLANE] = 255;
    img[2 * PLANE] = 128;
    static float out[3 * PLANE];
    rn_transform_plain(img, 32, 32, out);
    CHECK_NEAR(out[0], -0.485 / 0.229, 1e-5);            /* black, red channel */
    CHECK_NEAR(out[PLANE], (1.0 - 0.456) / 0.224, 1e-5); /* white, green */
    CHECK_NEAR(out[2 * PLANE], (128.0 / 255.0 - 0.406) / 0.225, 1e-5);
    int all = 1;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < PLANE; k++) all &= fabsf(out[c * PLANE + k] - norm((float)img[c * PLANE + k], c)) < 1e-6f;
    CHECK(all);
}

static void test_constant_image(void)
{
    uint8_t img[3 * PLANE];
    const uint8_t level[3] = {17, 140, 251};
    for (int c = 0; c < 3; c++) memset(img + c * PLANE, level[c], PLANE);
    const int sizes[] = {1, 5, 32, 48, 224};
    float *out = malloc(sizeof(float) * 3 * 224 * 224);
    int constant = 1;
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < 20; i++) {
            int size = sizes[s];
            rn_transform_train(img, 32, 32, SEED, 1, i, size, out);
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < size * size; k++)
                    constant &= fabsf(out[c * size * size + k] - norm(level[c], c)) < 1e-5f;
        }
    CHECK(constant);
    free(out);
}

static int whole_unflipped(params p)
{
    return p.top == 0 && p.left == 0 && p.ch == 32 && p.cw == 32 && !p.flip;
}
static int whole_flipped(params p)
{
    return p.top == 0 && p.left == 0 && p.ch == 32 && p.cw == 32 && p.flip;
}
static int half_width_unflipped(params p)
{
    return p.cw == 16 && p.ch == 20 && !p.flip;
}
static int half_width_flipped(params p)
{
    return p.cw == 16 && p.ch == 20 && p.flip;
}

static void test_identity_and_flip(void)
{
    uint8_t img[3 * PLANE];
    for (int k = 0; k < 3 * PLANE; k++) img[k] = (uint8_t)((k * 2654435761u) >> 24);
    static float plain[3 * PLANE], out[3 * PLANE];
    rn_transform_plain(img, 32, 32, plain);

    /* The whole image at its own size, not flipped: source pixel = output
     * pixel, weights 1 and 0, so exactly the plain transform. */
    int i = find_index(whole_unflipped);
    CHECK(i >= 0);
    if (i >= 0) {
        rn_transform_train(img, 32, 32, SEED, 0, i, 32, out);
        CHECK(memcmp(out, plain, sizeof out) == 0);
    }
    /* Flipped: each row mirrored. */
    i = find_index(whole_flipped);
    CHECK(i >= 0);
    if (i >= 0) {
        rn_transform_train(img, 32, 32, SEED, 0, i, 32, out);
        int mirrored = 1;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    mirrored &= out[c * PLANE + y * 32 + x] == plain[c * PLANE + y * 32 + 31 - x];
        CHECK(mirrored);
    }
}

/* A linear ramp, 8 levels per column in red and 8 per row in green: the
 * resized crop must match align_corners = false, worked out by hand. */
static void test_ramp(void)
{
    uint8_t img[3 * PLANE];
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            img[y * 32 + x] = (uint8_t)(8 * x);
            img[PLANE + y * 32 + x] = (uint8_t)(8 * y);
            img[2 * PLANE + y * 32 + x] = 100;
        }
    static float out[3 * PLANE];

    /* A crop 16 wide and 20 high, to 32 x 32. Columns: scale 16/32 = 0.5,
     * source x = (j + 0.5) * 0.5 - 0.5:
     *   j = 0:  -0.25, clamped to 0     -> red 8 * left
     *   j = 1:   0.25                   -> 8 * left + 2
     *   j = 10:  4.75                   -> 8 * left + 38
     *   j = 31: 15.25, column 15 is the crop's last: both neighbours are
     *           column 15               -> 8 * left + 120
     * Rows: scale 20/32 = 0.625, source y = (i + 0.5) * 0.625 - 0.5:
     *   i = 0:  -0.1875, clamped to 0   -> green 8 * top
     *   i = 1:   0.4375                 -> 8 * top + 3.5
     *   i = 16: 9.8125                  -> 8 * top + 78.5
     *   i = 30: 18.5625                 -> 8 * top + 148.5
     *   i = 31: 19.1875, row 19 is the crop's last -> 8 * top + 152 */
    int idx = find_index(half_width_unflipped);
    CHECK(idx >= 0);
    if (idx < 0) return;
    params p = get(SEED, 0, idx, 32, 32);
    rn_transform_train(img, 32, 32, SEED, 0, idx, 32, out);
    const float *red = out, *green = out + PLANE, *blue = out + 2 * PLANE;
    float left8 = 8.0f * p.left, top8 = 8.0f * p.top;
    CHECK_NEAR(red[5 * 32 + 0], norm(left8, 0), 1e-5);
    CHECK_NEAR(red[5 * 32 + 1], norm(left8 + 2.0f, 0), 1e-5);
    CHECK_NEAR(red[5 * 32 + 10], norm(left8 + 38.0f, 0), 1e-5);
    CHECK_NEAR(red[5 * 32 + 31], norm(left8 + 120.0f, 0), 1e-5);
    CHECK_NEAR(green[0 * 32 + 7], norm(top8, 1), 1e-5);
    CHECK_NEAR(green[1 * 32 + 7], norm(top8 + 3.5f, 1), 1e-5);
    CHECK_NEAR(green[16 * 32 + 7], norm(top8 + 78.5f, 1), 1e-5);
    CHECK_NEAR(green[30 * 32 + 7], norm(top8 + 148.5f, 1), 1e-5);
    CHECK_NEAR(green[31 * 32 + 7], norm(top8 + 152.0f, 1), 1e-5);
    CHECK_NEAR(blue[123], norm(100.0f, 2), 1e-5);

    /* The same crop flipped: column j shows what column 31 - j showed. */
    idx = find_index(half_width_flipped);
    CHECK(idx >= 0);
    if (idx < 0) return;
    p = get(SEED, 0, idx, 32, 32);
    rn_transform_train(img, 32, 32, SEED, 0, idx, 32, out);
    left8 = 8.0f * p.left;
    CHECK_NEAR(red[5 * 32 + 31], norm(left8, 0), 1e-5);
    CHECK_NEAR(red[5 * 32 + 30], norm(left8 + 2.0f, 0), 1e-5);
    CHECK_NEAR(red[5 * 32 + 0], norm(left8 + 120.0f, 0), 1e-5);

    /* Down to 7 x 7: scale 16/7, source x = (j + 0.5) * 16/7 - 0.5;
     * j = 3: 7.5 -> 8 * left + 60. */
    idx = find_index(half_width_unflipped);
    p = get(SEED, 0, idx, 32, 32);
    static float small[3 * 7 * 7];
    rn_transform_train(img, 32, 32, SEED, 0, idx, 7, small);
    CHECK_NEAR(small[2 * 7 + 3], norm(8.0f * p.left + 60.0f, 0), 1e-4);
}

/* ---- the loader ----------------------------------------------------------------- */

static int is_permutation(const int32_t *order, int n)
{
    char *seen = calloc((size_t)n, 1);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        if (order[i] < 0 || order[i] >= n || seen[order[i]])
            ok = 0;
        else
            seen[order[i]] = 1;
    }
    free(seen);
    return ok;
}

static void test_loader(void)
{
    rn_cifar data;
    CHECK(rn_cifar_generate(&data, 103, 9) == 0);
    rn_loader a, b;
    CHECK(rn_loader_init(&a, &data, 10, 24, 1, SEED) == 0);
    CHECK(rn_loader_init(&b, &data, 10, 24, 1, SEED) == 0);
    CHECK(a.batches == 11); /* 103 / 10: the last 3 kept, as the lab's loader does */
    CHECK(rn_loader_count(&a, 9) == 10 && rn_loader_count(&a, 10) == 3);

    int32_t *epoch0 = malloc(sizeof(int32_t) * 103);
    rn_loader_start_epoch(&a, 0);
    memcpy(epoch0, a.order, sizeof(int32_t) * 103);
    CHECK(is_permutation(a.order, 103));
    int identity = 1;
    for (int i = 0; i < 103; i++) identity &= a.order[i] == i;
    CHECK(!identity);
    rn_loader_start_epoch(&a, 1);
    CHECK(is_permutation(a.order, 103));
    CHECK(memcmp(a.order, epoch0, sizeof(int32_t) * 103) != 0); /* each epoch its own order */
    rn_loader_start_epoch(&a, 0);
    CHECK(memcmp(a.order, epoch0, sizeof(int32_t) * 103) == 0); /* and the same again */

    /* Same seed, same batches; each batch is its images transformed. */
    size_t per = 3 * 24 * 24;
    float *img_a = malloc(sizeof(float) * 10 * per), *img_b = malloc(sizeof(float) * 10 * per);
    float *one = malloc(sizeof(float) * per);
    int32_t lab_a[10], lab_b[10];
    rn_loader_start_epoch(&a, 2);
    rn_loader_start_epoch(&b, 2);
    int same = 1, labels_ok = 1, images_ok = 1;
    for (int bt = 0; bt < a.batches; bt++) {
        int count = rn_loader_get(&a, bt, img_a, lab_a);
        same &= rn_loader_get(&b, bt, img_b, lab_b) == count;
        same &= memcmp(img_a, img_b, sizeof(float) * count * per) == 0 &&
                memcmp(lab_a, lab_b, sizeof(int32_t) * count) == 0;
        for (int k = 0; k < count; k++) {
            int32_t idx = a.order[bt * 10 + k];
            labels_ok &= lab_a[k] == data.labels[idx];
            rn_transform_train(data.pixels + (size_t)idx * RN_CIFAR_PIXELS, 32, 32, SEED, 2, idx, 24, one);
            images_ok &= memcmp(one, img_a + k * per, sizeof(float) * per) == 0;
        }
    }
    CHECK(same);
    CHECK(labels_ok);
    CHECK(images_ok);

    /* Batches fetched from several threads at once, in any order, are the
     * same as fetched one by one (Part 2's workers rely on it). */
    float *all_serial = malloc(sizeof(float) * 100 * per), *all_threads = malloc(sizeof(float) * 100 * per);
    int32_t lab_serial[100], lab_threads[100];
    for (int bt = 0; bt < 10; bt++) rn_loader_get(&a, bt, all_serial + bt * 10 * per, lab_serial + bt * 10);
#pragma omp parallel for schedule(dynamic, 1) num_threads(4)
    for (int bt = 9; bt >= 0; bt--) rn_loader_get(&a, bt, all_threads + bt * 10 * per, lab_threads + bt * 10);
    CHECK(memcmp(all_serial, all_threads, sizeof(float) * 100 * per) == 0);
    CHECK(memcmp(lab_serial, lab_threads, sizeof lab_serial) == 0);

    /* Without augmentation: the file's order, the plain transform. */
    rn_loader plain;
    CHECK(rn_loader_init(&plain, &data, 4, 32, 0, SEED) == 0);
    rn_loader_start_epoch(&plain, 5);
    identity = 1;
    for (int i = 0; i < 103; i++) identity &= plain.order[i] == i;
    CHECK(identity);
    float *pb = malloc(sizeof(float) * 4 * 3 * PLANE);
    float *pp = malloc(sizeof(float) * 3 * PLANE);
    int32_t pl[4];
    rn_loader_get(&plain, 2, pb, pl);
    rn_transform_plain(data.pixels + (size_t)9 * RN_CIFAR_PIXELS, 32, 32, pp);
    CHECK(memcmp(pb + 1 * 3 * PLANE, pp, sizeof(float) * 3 * PLANE) == 0); /* batch 2, slot 1 = image 9 */
    CHECK(pl[1] == data.labels[9]);
    rn_loader_free(&plain);

    /* A batch larger than the set, or a bad size: rc 2. */
    rn_loader bad;
    fflush(stderr);
    CHECK(rn_loader_init(&bad, &data, 104, 32, 1, SEED) == 2);
    CHECK(rn_loader_init(&bad, &data, 0, 32, 1, SEED) == 2);
    CHECK(rn_loader_init(&bad, &data, 8, 0, 1, SEED) == 2);
    CHECK(rn_loader_init(&bad, &data, 103, 32, 1, SEED) == 0); /* exactly n: one batch */
    CHECK(bad.batches == 1);
    rn_loader_free(&bad);

    free(epoch0);
    free(img_a);
    free(img_b);
    free(one);
    free(all_serial);
    free(all_threads);
    free(pb);
    free(pp);
    rn_loader_free(&a);
    rn_loader_free(&b);
    rn_cifar_free(&data);
}

int main(void)
{
    cs_console_init("test_rn_transforms", 0);
    test_params_deterministic();
    test_params_bounds();
    test_normalisation();
    test_constant_image();
    test_identity_and_flip();
    test_ramp();
    test_loader();
    return cs_test_done();
}
