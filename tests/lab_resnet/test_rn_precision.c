/* fp16 and bf16 conversions (precision.h), bit for bit:
 *  - every one of the 65536 halves widened by the array conversion (F16C
 *    where built) equals the scalar reference, and finite ones equal their
 *    exact value computed in double;
 *  - floats narrowed (a stride through all 2^32 bit patterns, every halfway
 *    point between two neighbours, and the edges: the largest half, the
 *    overflow threshold, subnormals, signed zeros, infinities, NaN) by the
 *    array conversion equal the scalar reference, and the result is the
 *    nearest representable value, ties to the even one, checked against
 *    its two neighbours in double. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_test.h"
#include "backend.h"
#include "precision.h"

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A half's exact value, from its fields, in double. */
static double half_value(uint16_t h)
{
    int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    double v = exp ? ldexp(1.0 + mant / 1024.0, exp - 15) : ldexp(mant / 1024.0, -14);
    return h & 0x8000 ? -v : v;
}

typedef uint16_t (*narrow_fn)(float);
typedef float (*widen_fn)(uint16_t);

/* r = narrow(f) is the nearest value to f (ties: even r) among r and its
 * two neighbours of the same sign; f finite and below the overflow point. */
static int is_nearest(float f, uint16_t r, widen_fn widen)
{
    double d = fabs((double)widen(r) - f);
    uint16_t mag = r & 0x7FFF;
    for (int step = -1; step <= 1; step += 2) {
        if ((mag == 0 && step < 0) || ((mag + step) & 0x7FFF) != mag + step) continue;
        uint16_t other = (uint16_t)((r & 0x8000) | (mag + step));
        double v = widen(other);
        if (!isfinite(v)) continue;
        double od = fabs(v - f);
        if (od < d || (od == d && (r & 1))) return 0;
    }
    return 1;
}

static void test_widen_every_half(void)
{
    uint16_t *h = malloc(sizeof(uint16_t) * 65536);
    float *hw = malloc(sizeof(float) * 65536);
    for (int i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    rn_f16_to_f32_n(h, hw, 65536);
    int same = 1, exact = 1;
    for (int i = 0; i < 65536; i++) {
        float ref = rn_f16_to_f32(h[i]);
        same &= bits(ref) == bits(hw[i]);
        if (((h[i] >> 10) & 0x1F) != 0x1F) exact &= (double)ref == half_value(h[i]);
    }
    CHECK(same);
    CHECK(exact);
    /* bf16 widening is a shift: every pattern. */
    float *bw = malloc(sizeof(float) * 65536);
    rn_bf16_to_f32_n(h, bw, 65536);
    int bf_ok = 1;
    for (int i = 0; i < 65536; i++) bf_ok &= bits(bw[i]) == (uint32_t)i << 16;
    CHECK(bf_ok);
    free(h);
    free(hw);
    free(bw);
}

/* The floats the narrowing tests use: a stride through every bit pattern,
 * the halfway points of fp16 and of bf16, and the edges. */
static size_t make_inputs(float *in, size_t cap)
{
    size_t n = 0;
    for (uint64_t u = 0; u < (1ull << 32) && n < cap; u += 4099) in[n++] = from_bits((uint32_t)u);
    for (int h = 0; h < 0x7C00 && n + 2 < cap; h++) { /* between half h and h + 1, both signs */
        float mid = (float)((half_value((uint16_t)h) + half_value((uint16_t)(h + 1))) / 2);
        in[n++] = mid;
        in[n++] = -mid;
    }
    for (uint32_t b = 0; b < 0x7F80 && n + 1 < cap; b += 7) /* between bf16 b and b + 1 */
        in[n++] = from_bits((b << 16) | 0x8000);
    const float edges[] = {0.0f,         -0.0f,         65504.0f,      65519.99f,     65520.0f,
                           -65520.0f,    5.9604645e-8f, 2.9802322e-8f, 4.4703484e-8f, 6.1035156e-5f,
                           6.097555e-5f, FLT_MAX,       -FLT_MAX,      FLT_MIN,       1.0e-45f,
                           INFINITY,     -INFINITY,     1.00390625f,   1.01171875f,   3.3895314e38f};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0] && n < cap; i++) in[n++] = edges[i];
    in[n++] = NAN;
    in[n++] = from_bits(0x7F800001u); /* a signalling NaN */
    in[n++] = from_bits(0xFFC12345u);
    return n;
}

static void test_narrow(const char *what, narrow_fn narrow, widen_fn widen,
                        void (*narrow_n)(const float *, uint16_t *, size_t), double overflow)
{
    size_t cap = 1100000 + 70000 + 4700 + 64;
    float *in = malloc(sizeof(float) * cap);
    uint16_t *out = malloc(sizeof(uint16_t) * cap);
    size_t n = make_inputs(in, cap);
    narrow_n(in, out, n);
    size_t same = 0, nearest = 0, finite = 0, special_ok = 0, special = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t ref = narrow(in[i]);
        same += ref == out[i];
        float f = in[i];
        if (isnan(f)) {
            special++;
            special_ok += isnan(widen(ref)) && ((ref & 0x8000) != 0) == (signbit(f) != 0);
        } else if (fabs((double)f) >= overflow) {
            special++;
            special_ok += isinf(widen(ref)) && ((ref & 0x8000) != 0) == (signbit(f) != 0);
        } else {
            finite++;
            nearest += is_nearest(f, ref, widen);
        }
    }
    printf("%s: %zu floats narrowed, array = scalar for %zu; nearest-even for %zu of %zu finite; "
           "%zu of %zu NaN/overflow cases right\n",
           what, n, same, nearest, finite, special_ok, special);
    CHECK(same == n);
    CHECK(nearest == finite);
    CHECK(special_ok == special);
    free(in);
    free(out);
}

static void test_edges(void)
{
    CHECK(rn_f32_to_f16(65504.0f) == 0x7BFF);      /* the largest half */
    CHECK(rn_f32_to_f16(65519.99f) == 0x7BFF);     /* below the halfway point to 2^16 */
    CHECK(rn_f32_to_f16(65520.0f) == 0x7C00);      /* at it: infinity (ties to even) */
    CHECK(rn_f32_to_f16(5.9604645e-8f) == 0x0001); /* 2^-24, the smallest subnormal */
    CHECK(rn_f32_to_f16(2.9802322e-8f) == 0x0000); /* 2^-25, halfway to it: the even zero */
    CHECK(rn_f32_to_f16(4.4703484e-8f) == 0x0001); /* 1.5 x 2^-25 */
    CHECK(rn_f32_to_f16(6.1035156e-5f) == 0x0400); /* 2^-14, the smallest normal */
    CHECK(rn_f32_to_f16(-0.0f) == 0x8000);
    CHECK(rn_f32_to_f16(-INFINITY) == 0xFC00);
    CHECK((rn_f32_to_f16(NAN) & 0x7E00) == 0x7E00); /* quiet NaN */
    CHECK(rn_f32_to_bf16(1.00390625f) == 0x3F80);   /* 1 + 2^-8, a tie: to the even 1.0 */
    CHECK(rn_f32_to_bf16(1.01171875f) == 0x3F82);   /* 1 + 3 x 2^-8, a tie: up to the even one */
    CHECK(rn_f32_to_bf16(FLT_MAX) == 0x7F80);       /* rounds past the largest bf16: infinity */
    CHECK(rn_f32_to_bf16(-0.0f) == 0x8000);
    CHECK((rn_f32_to_bf16(from_bits(0x7F800001u)) & 0x7FC0) == 0x7FC0); /* a signalling NaN made quiet */
    CHECK(rn_f16_to_f32(0x0001) == 5.9604645e-8f);
    CHECK(rn_f16_to_f32(0x7BFF) == 65504.0f);
}

/* The backend's 16-bit storage (pack, unpack: many threads, chunks): pack
 * gives the scalar conversion's bits, and pack then unpack gives what
 * round_to gives, bit for bit, NaNs included. */
static void test_backend_storage(rn_precision p, narrow_fn narrow)
{
    const rn_backend *be = rn_cpu_backend();
    size_t cap = 1100000 + 70000 + 4700 + 64;
    float *in = malloc(sizeof(float) * cap), *back = malloc(sizeof(float) * cap),
          *rounded = malloc(sizeof(float) * cap);
    uint16_t *bits16 = malloc(sizeof(uint16_t) * cap);
    size_t n = make_inputs(in, cap);
    be->pack(n, in, bits16, (int)p);
    be->unpack(n, bits16, back, (int)p);
    be->round_to(n, in, rounded, (int)p);
    size_t same_bits = 0;
    for (size_t i = 0; i < n; i++) same_bits += bits16[i] == narrow(in[i]);
    int same_values = memcmp(back, rounded, n * sizeof(float)) == 0;
    printf("%s storage: %zu values packed, %zu as the scalar conversion; unpacked = round_to: %d\n",
           rn_precision_name(p), n, same_bits, same_values);
    CHECK(same_bits == n && same_values);
    free(in);
    free(back);
    free(rounded);
    free(bits16);
}

int main(void)
{
    printf("fp16 array conversions: %s\n", rn_f16_hardware() ? "F16C instructions" : "the scalar code (no F16C)");
    test_edges();
    test_widen_every_half();
    /* fp16 overflows from 65520 (halfway past 65504); bf16 from float32's
     * own limit rounded: 2^128 x (1 - 2^-9). */
    test_narrow("fp16", rn_f32_to_f16, rn_f16_to_f32, rn_f32_to_f16_n, 65520.0);
    test_narrow("bf16", rn_f32_to_bf16, rn_bf16_to_f32, rn_f32_to_bf16_n, ldexp(1.0 - ldexp(1.0, -9), 128));
    test_backend_storage(RN_FP16, rn_f32_to_f16);
    test_backend_storage(RN_BF16, rn_f32_to_bf16);
    return cs_test_done();
}
