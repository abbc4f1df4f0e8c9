/* A learnable stand-in for MNIST (c1_dataset_generate in workload.h), for
 * machines without the real files: 28 x 28 bytes, ten classes, each class a
 * digit-like glyph made of line and arc strokes. Every image draws its glyph
 * anew: the whole glyph shifted by up to +-2 pixels, slightly rotated,
 * sheared and scaled, each stroke nudged on its own, a random stroke width
 * and ink intensity, now and then a stray stroke, and pixel noise. Glyphs
 * that share strokes (4 and 9, 3 and 8, 5 and 6, 1 and 7) then overlap a
 * little, as handwriting does: a linear model gets most but not all of
 * them, and the MLP's accuracy climbs visibly within a few hundred steps.
 *
 * Deterministic: every random draw comes from cs_rng (integer arithmetic)
 * and the geometry is plain float arithmetic in a fixed order (ISO C mode:
 * no fused multiply-adds), so the same seed gives the same bytes (cosf and
 * sinf come from the C library: glibc's give the same results everywhere). Fast (60000 images in a fraction of a second): each
 * stroke segment visits only the pixels of its bounding box, and a pixel's
 * coverage needs a square root only when it is near the stroke. */
#include "workload.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "cs_rng.h"

#define SIDE   28
#define PIXELS (SIDE * SIDE)

/* cs_rng streams (workload.c uses others). */
#define STREAM_LABELS 2
#define STREAM_IMAGES 3

/* ---- the glyphs ---------------------------------------------------------- */

/* A stroke: a line from (a, b) to (c, d), or an elliptic arc around (a, b)
 * with radii (c, d) from angle t0 to t1 (degrees; y points down, so 90 is
 * the bottom and 270 the top). Coordinates in pixels, the glyph centred on
 * (14, 14) in a box of about 12 x 18, as MNIST's digits are. */
typedef enum { END, LINE, ARC } stroke_kind;
typedef struct {
    stroke_kind kind;
    float a, b, c, d, t0, t1;
} stroke;

#define MAX_STROKES 4
static const stroke glyphs[C1_CLASSES][MAX_STROKES] = {
    /* 0 */ {{ARC, 14, 14, 5.5f, 8, 0, 360}, {END, 0, 0, 0, 0, 0, 0}},
    /* 1 */ {{LINE, 14, 5.5f, 14, 22.5f, 0, 0}, {LINE, 11, 9, 14, 5.5f, 0, 0}, {END, 0, 0, 0, 0, 0, 0}},
    /* 2 */
    {{ARC, 14, 10, 5, 4.5f, 190, 380},
     {LINE, 18.7f, 11.5f, 8.5f, 22, 0, 0},
     {LINE, 8.5f, 22, 20, 22, 0, 0},
     {END, 0, 0, 0, 0, 0, 0}},
    /* 3 */ {{ARC, 13.5f, 9.5f, 4.5f, 4, 200, 450}, {ARC, 13.5f, 18, 5, 4.5f, 270, 520}, {END, 0, 0, 0, 0, 0, 0}},
    /* 4 */
    {{LINE, 16, 5, 16, 23, 0, 0}, {LINE, 16, 5, 8, 17, 0, 0}, {LINE, 8, 17, 20.5f, 17, 0, 0}, {END, 0, 0, 0, 0, 0, 0}},
    /* 5 */
    {{LINE, 19, 5.5f, 10, 5.5f, 0, 0},
     {LINE, 10, 5.5f, 9.5f, 12.5f, 0, 0},
     {ARC, 13.5f, 17.5f, 5, 5, 240, 500},
     {END, 0, 0, 0, 0, 0, 0}},
    /* 6 */
    {{ARC, 14, 17.5f, 5, 5, 0, 360},
     {LINE, 17, 5.5f, 10.5f, 13, 0, 0},
     {LINE, 10.5f, 13, 9, 17.5f, 0, 0},
     {END, 0, 0, 0, 0, 0, 0}},
    /* 7 */ {{LINE, 8, 6, 20, 6, 0, 0}, {LINE, 20, 6, 12.5f, 23, 0, 0}, {END, 0, 0, 0, 0, 0, 0}},
    /* 8 */ {{ARC, 14, 9.5f, 4, 4, 0, 360}, {ARC, 14, 18.5f, 5, 4.5f, 0, 360}, {END, 0, 0, 0, 0, 0, 0}},
    /* 9 */ {{ARC, 14, 10, 4.5f, 4.5f, 0, 360}, {LINE, 18.5f, 10, 16.5f, 23, 0, 0}, {END, 0, 0, 0, 0, 0, 0}},
};

/* Arcs are drawn as chords of at most this many degrees: at these radii the
 * chord is within a tenth of a pixel of the arc. */
#define ARC_STEP_DEG 30.0f
#define MAX_SEGMENTS 40

typedef struct {
    float x0, y0, x1, y1;
} segment;

/* How much each image varies (the spread of its random draws). */
#define MAX_SHIFT    2.0f  /* pixels, each axis */
#define MAX_ROTATE   0.20f /* radians */
#define MAX_SHEAR    0.25f
#define MIN_SCALE    0.85f
#define MAX_SCALE    1.10f
#define MAX_NUDGE    0.8f /* pixels, each stroke on its own */
#define MIN_RADIUS   0.8f /* half the stroke width, pixels */
#define MAX_RADIUS   1.6f
#define MIN_INK      150.0f /* the stroke's brightest value */
#define MAX_INK      255.0f
#define STRAY_ONE_IN 5  /* images with a stray stroke */
#define NOISE        40 /* pixel noise, +-NOISE, then clipped to 0..255 */

/* The affine map of one image: p' = centre + M (p - glyph centre) + shift. */
typedef struct {
    float m00, m01, m10, m11, tx, ty;
} affine;

static affine random_affine(cs_rng *r)
{
    float angle = cs_rng_uniform(r, -MAX_ROTATE, MAX_ROTATE);
    float shear = cs_rng_uniform(r, -MAX_SHEAR, MAX_SHEAR);
    float sx = cs_rng_uniform(r, MIN_SCALE, MAX_SCALE);
    float sy = cs_rng_uniform(r, MIN_SCALE, MAX_SCALE);
    float c = cosf(angle), s = sinf(angle);
    affine t;
    /* rotation * shear * scale */
    t.m00 = c * sx;
    t.m01 = (c * shear - s) * sy;
    t.m10 = s * sx;
    t.m11 = (s * shear + c) * sy;
    t.tx = (SIDE - 1) * 0.5f + cs_rng_uniform(r, -MAX_SHIFT, MAX_SHIFT);
    t.ty = (SIDE - 1) * 0.5f + cs_rng_uniform(r, -MAX_SHIFT, MAX_SHIFT);
    return t;
}

/* Glyph point (x, y), nudged by (nx, ny), through the image's map. */
static void place(const affine *t, float x, float y, float nx, float ny, float *ox, float *oy)
{
    x = x - 14.0f + nx;
    y = y - 14.0f + ny;
    *ox = t->tx + t->m00 * x + t->m01 * y;
    *oy = t->ty + t->m10 * x + t->m11 * y;
}

/* The segments of one image's glyph. Returns their count. */
static int glyph_segments(cs_rng *r, int label, const affine *t, segment *seg)
{
    int count = 0;
    for (int k = 0; k < MAX_STROKES && glyphs[label][k].kind != END; k++) {
        const stroke *st = &glyphs[label][k];
        float nx = cs_rng_uniform(r, -MAX_NUDGE, MAX_NUDGE);
        float ny = cs_rng_uniform(r, -MAX_NUDGE, MAX_NUDGE);
        if (st->kind == LINE) {
            segment *s = &seg[count++];
            place(t, st->a, st->b, nx, ny, &s->x0, &s->y0);
            place(t, st->c, st->d, nx, ny, &s->x1, &s->y1);
            continue;
        }
        int pieces = (int)ceilf(fabsf(st->t1 - st->t0) / ARC_STEP_DEG);
        float px = 0, py = 0;
        for (int i = 0; i <= pieces && count < MAX_SEGMENTS; i++) {
            float deg = st->t0 + (st->t1 - st->t0) * (float)i / (float)pieces;
            float rad = deg * (3.14159265358979f / 180.0f);
            float x, y;
            place(t, st->a + st->c * cosf(rad), st->b + st->d * sinf(rad), nx, ny, &x, &y);
            if (i > 0) seg[count++] = (segment){px, py, x, y};
            px = x;
            py = y;
        }
    }
    return count;
}

/* A short stroke anywhere: clutter that belongs to no class. */
static void stray_segment(cs_rng *r, segment *s)
{
    float cx = cs_rng_uniform(r, 4, SIDE - 4), cy = cs_rng_uniform(r, 4, SIDE - 4);
    float angle = cs_rng_uniform(r, 0, 3.14159265f);
    float half = cs_rng_uniform(r, 1.5f, 4.5f);
    float dx = half * cosf(angle), dy = half * sinf(angle);
    *s = (segment){cx - dx, cy - dy, cx + dx, cy + dy};
}

/* Not fminf/fmaxf: in ISO C mode those are library calls. */
static float min2(float a, float b)
{
    return a < b ? a : b;
}
static float max2(float a, float b)
{
    return a > b ? a : b;
}

/* Coverage of a thick segment (radius rad) in coverage[], keeping the
 * largest value per pixel (where strokes cross, the ink does not add up).
 * Anti-aliased: a pixel whose centre lies d from the segment's axis is
 * covered by rad + 0.5 - d, clipped to 0..1 (a one-pixel ramp at the edge). */
static void draw_segment(const segment *s, float rad, float *coverage)
{
    float reach = rad + 0.5f;
    int xa = (int)floorf(min2(s->x0, s->x1) - reach), xb = (int)ceilf(max2(s->x0, s->x1) + reach);
    int ya = (int)floorf(min2(s->y0, s->y1) - reach), yb = (int)ceilf(max2(s->y0, s->y1) + reach);
    if (xa < 0) xa = 0;
    if (ya < 0) ya = 0;
    if (xb > SIDE - 1) xb = SIDE - 1;
    if (yb > SIDE - 1) yb = SIDE - 1;
    float dx = s->x1 - s->x0, dy = s->y1 - s->y0;
    float len2 = dx * dx + dy * dy;
    float inv = len2 > 1e-12f ? 1.0f / len2 : 0.0f;
    /* Branch-free (the ternaries become min/max instructions): a pixel out
     * of reach gets a negative coverage, which the max ignores. An `if` that
     * skipped those pixels would be mispredicted half the time, and cost
     * more than the square root it saves. */
    for (int y = ya; y <= yb; y++) {
        float py = (float)y - s->y0;
        float *row = coverage + y * SIDE;
        for (int x = xa; x <= xb; x++) {
            /* The nearest point of the segment: the projection, clamped. */
            float px = (float)x - s->x0;
            float t = (px * dx + py * dy) * inv;
            t = t < 0.0f ? 0.0f : t;
            t = t > 1.0f ? 1.0f : t;
            float ex = px - t * dx, ey = py - t * dy;
            float cover = reach - sqrtf(ex * ex + ey * ey);
            cover = cover > 1.0f ? 1.0f : cover;
            row[x] = cover > row[x] ? cover : row[x];
        }
    }
}

static void draw_image(cs_rng *r, int label, uint8_t *out)
{
    float coverage[PIXELS];
    memset(coverage, 0, sizeof coverage);
    segment seg[MAX_SEGMENTS + 1];
    affine t = random_affine(r);
    int count = glyph_segments(r, label, &t, seg);
    if (cs_rng_below(r, STRAY_ONE_IN) == 0) stray_segment(r, &seg[count++]);
    float rad = cs_rng_uniform(r, MIN_RADIUS, MAX_RADIUS);
    float ink = cs_rng_uniform(r, MIN_INK, MAX_INK);
    for (int i = 0; i < count; i++) draw_segment(&seg[i], rad, coverage);

    /* Noise: one 64-bit draw gives four pixels 16 random bits each, mapped
     * to an integer in -NOISE..NOISE (multiply-shift, no division). */
    uint64_t bits = 0;
    for (int i = 0; i < PIXELS; i++) {
        if ((i & 3) == 0) bits = cs_rng_u64(r);
        int noise = (int)(((bits & 0xFFFF) * (2 * NOISE + 1)) >> 16) - NOISE;
        bits >>= 16;
        int v = (int)(coverage[i] * ink + 0.5f) + noise; /* coverage >= 0: rounds */
        v = v < 0 ? 0 : v;
        v = v > 255 ? 255 : v;
        out[i] = (uint8_t)v;
    }
}

int c1_dataset_generate(c1_dataset *d, int n, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (n < 1) {
        cs_error("cannot generate %d images (at least 1)", n);
        return 2;
    }
    d->images = malloc((size_t)n * PIXELS);
    d->labels = malloc((size_t)n);
    if (d->images == NULL || d->labels == NULL) {
        cs_error("out of memory generating %d images of %d x %d (%zu bytes)", n, SIDE, SIDE, (size_t)n * (PIXELS + 1));
        c1_dataset_free(d);
        return 3;
    }
    d->n = n;
    d->rows = d->cols = SIDE;
    snprintf(d->source, sizeof d->source, "generated from seed %" PRIu64, seed);

    /* Balanced labels: each class n/10 times (the first n % 10 once more),
     * in an order shuffled from the seed. */
    cs_rng r;
    cs_rng_seed(&r, seed, STREAM_LABELS);
    for (int i = 0; i < n; i++) d->labels[i] = (uint8_t)(i % C1_CLASSES);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)cs_rng_below(&r, (uint32_t)i + 1);
        uint8_t t = d->labels[i];
        d->labels[i] = d->labels[j];
        d->labels[j] = t;
    }

    cs_rng_seed(&r, seed, STREAM_IMAGES);
    for (int i = 0; i < n; i++) draw_image(&r, d->labels[i], d->images + (size_t)i * PIXELS);
    return 0;
}
