/* The lab's training transforms (transforms.h), written to match
 * torchvision's:
 *   RandomResizedCrop.get_params       -> rn_augment_params
 *   F.resized_crop (bilinear, tensors) -> crop_resize below
 *   RandomHorizontalFlip, ToTensor, Normalize
 *
 * The random draws differ from PyTorch's (its generator is not ours), but
 * the procedure is the same step for step, so the crops follow the same
 * distribution. Each sample's draws come from its own cs_rng stream keyed
 * by (seed, epoch, index): nothing is shared between calls, so any thread
 * may transform any sample, in any order, and get the same floats. */
#include "transforms.h"

#include <math.h>

#include "cs_rng.h"

const float rn_imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
const float rn_imagenet_std[3] = {0.229f, 0.224f, 0.225f};

/* RandomResizedCrop's defaults. */
#define SCALE_MIN 0.08
#define SCALE_MAX 1.0
#define RATIO_MIN (3.0 / 4.0)
#define RATIO_MAX (4.0 / 3.0)
#define TRIES     10
#define FLIP_P    0.5

/* Tag for the augmentation streams, so they never meet the streams the
 * same seed drives elsewhere (weights, shuffling). */
#define TAG_AUGMENT 0x4155474D454E54ull /* "AUGMENT" */

/* The sample's generator: (epoch, index) packed in 64 bits and mixed by
 * splitmix64 (cs_rng_seed's mixing, then one draw) into a stream id, so
 * neighbouring indices and epochs get unrelated streams. */
static void sample_rng(cs_rng *r, uint64_t seed, int epoch, int index)
{
    uint64_t packed = ((uint64_t)(uint32_t)epoch << 32) | (uint32_t)index;
    cs_rng key;
    cs_rng_seed(&key, packed, TAG_AUGMENT);
    cs_rng_seed(r, seed, cs_rng_u64(&key));
}

/* Python's round(): halves go to the even neighbour (round(2.5) == 2),
 * which is rint in the default rounding mode, not C's round(). */
static int py_round(double x)
{
    return (int)rint(x);
}

/* torchvision's RandomResizedCrop.get_params, step for step, then the
 * flip's draw (RandomHorizontalFlip comes next in the pipeline). */
static void crop_params(cs_rng *r, int h, int w, int *top, int *left, int *ch, int *cw)
{
    double area = (double)h * (double)w;
    double log_min = log(RATIO_MIN), log_max = log(RATIO_MAX);
    for (int attempt = 0; attempt < TRIES; attempt++) {
        double target_area = area * (SCALE_MIN + (SCALE_MAX - SCALE_MIN) * cs_rng_double(r));
        double aspect = exp(log_min + (log_max - log_min) * cs_rng_double(r));
        int cw_try = py_round(sqrt(target_area * aspect));
        int ch_try = py_round(sqrt(target_area / aspect));
        if (cw_try > 0 && cw_try <= w && ch_try > 0 && ch_try <= h) {
            /* torch.randint(0, h - ch + 1): both ends of [0, h - ch]. */
            *top = (int)cs_rng_below(r, (uint32_t)(h - ch_try + 1));
            *left = (int)cs_rng_below(r, (uint32_t)(w - cw_try + 1));
            *ch = ch_try;
            *cw = cw_try;
            return;
        }
    }
    /* Ten misses (an image far from square): a centre crop at the nearest
     * allowed ratio. */
    double in_ratio = (double)w / (double)h;
    if (in_ratio < RATIO_MIN) {
        *cw = w;
        *ch = py_round(*cw / RATIO_MIN);
    } else if (in_ratio > RATIO_MAX) {
        *ch = h;
        *cw = py_round(*ch * RATIO_MAX);
    } else {
        *cw = w;
        *ch = h;
    }
    *top = (h - *ch) / 2;
    *left = (w - *cw) / 2;
}

void rn_augment_params(uint64_t seed, int epoch, int index, int h, int w, int *top, int *left, int *ch, int *cw,
                       int *flip)
{
    cs_rng r;
    sample_rng(&r, seed, epoch, index);
    crop_params(&r, h, w, top, left, ch, cw);
    *flip = cs_rng_double(&r) < FLIP_P;
}

/* One output coordinate's two source pixels and the weight of the second,
 * as PyTorch's upsample_bilinear2d with align_corners = false: the centre
 * of output pixel dst maps to (dst + 0.5) * scale - 0.5 in the input
 * (scale = in / out), negative values clamp to 0, and the right (lower)
 * neighbour is the pixel itself at the last column (row). */
static void source_index(int dst, float scale, int in, int *i0, int *i1, float *weight1)
{
    float src = scale * ((float)dst + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int i = (int)src;
    if (i > in - 1) i = in - 1;
    *i0 = i;
    *i1 = i < in - 1 ? i + 1 : i;
    *weight1 = src - (float)i;
}

/* bytes / 255, then (x - mean) / std: ToTensor and Normalize. */
static float normalise(float byte_value, int c)
{
    return (byte_value / 255.0f - rn_imagenet_mean[c]) / rn_imagenet_std[c];
}

/* The crop (top, left, ch x cw) of a CHW byte image resized bilinearly to
 * size x size, mirrored when flip, normalised: the work of both the
 * training transform and the evaluation resize. */
static void resize_region(const uint8_t *chw, int h, int w, int top, int left, int ch, int cw, int flip, int size,
                          float *out)
{
    float scale_y = (float)ch / (float)size, scale_x = (float)cw / (float)size;
    size_t plane_in = (size_t)h * (size_t)w, plane_out = (size_t)size * (size_t)size;
    for (int y = 0; y < size; y++) {
        int y0, y1;
        float wy1;
        source_index(y, scale_y, ch, &y0, &y1, &wy1);
        float wy0 = 1.0f - wy1;
        const uint8_t *row0 = chw + (size_t)(top + y0) * (size_t)w + (size_t)left;
        const uint8_t *row1 = chw + (size_t)(top + y1) * (size_t)w + (size_t)left;
        for (int x = 0; x < size; x++) {
            /* The flip after the resize, as in the pipeline: output column x
             * shows resized column size - 1 - x. */
            int x0, x1;
            float wx1;
            source_index(flip ? size - 1 - x : x, scale_x, cw, &x0, &x1, &wx1);
            float wx0 = 1.0f - wx1;
            for (int c = 0; c < 3; c++) {
                const uint8_t *r0 = row0 + (size_t)c * plane_in;
                const uint8_t *r1 = row1 + (size_t)c * plane_in;
                float v = wy0 * (wx0 * (float)r0[x0] + wx1 * (float)r0[x1]) +
                          wy1 * (wx0 * (float)r1[x0] + wx1 * (float)r1[x1]);
                out[(size_t)c * plane_out + (size_t)y * (size_t)size + (size_t)x] = normalise(v, c);
            }
        }
    }
}

void rn_transform_train(const uint8_t *chw, int h, int w, uint64_t seed, int epoch, int index, int size, float *out)
{
    int top, left, ch, cw, flip;
    rn_augment_params(seed, epoch, index, h, w, &top, &left, &ch, &cw, &flip);
    resize_region(chw, h, w, top, left, ch, cw, flip, size, out);
}

void rn_transform_resize(const uint8_t *chw, int h, int w, int size, float *out)
{
    resize_region(chw, h, w, 0, 0, h, w, 0, size, out);
}

void rn_transform_plain(const uint8_t *chw, int h, int w, float *out)
{
    size_t plane = (size_t)h * (size_t)w;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) out[(size_t)c * plane + i] = normalise((float)chw[(size_t)c * plane + i], c);
}
