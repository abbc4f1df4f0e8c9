/* fp16 and bf16 storage conversions (see precision.h). */
#include "precision.h"

#include <string.h>

#include "cs_bf16.h"

#ifdef __F16C__
#include <immintrin.h>
#endif

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Keeps the bits above `shift` of m, rounded to nearest, ties to the even
 * result (the bits below decide: more than half rounds up, exactly half
 * rounds to make the kept value even). */
static uint32_t round_shift(uint32_t m, int shift)
{
    uint32_t kept = m >> shift, rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    return kept + (rest > half || (rest == half && (kept & 1)));
}

uint16_t rn_f32_to_f16(float f)
{
    uint32_t x = bits_of(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    int exp = (int)((x >> 23) & 0xFF);
    uint32_t mant = x & 0x7FFFFF;
    if (exp == 0xFF) /* infinity, or NaN made quiet with its payload's top bits */
        return (uint16_t)(sign | 0x7C00 | (mant ? 0x200 | (mant >> 13) : 0));
    int e = exp - 127 + 15;                        /* the half's biased exponent */
    if (e >= 31) return (uint16_t)(sign | 0x7C00); /* past the largest half: infinity */
    if (e <= 0) {
        /* A half subnormal, m x 2^-24: the float's significand (implicit
         * bit included) shifted right by 14 - e. Below 2^-25, zero. */
        if (e < -10) return sign;
        return (uint16_t)(sign | round_shift(mant | 0x800000, 14 - e));
    }
    /* Normal: 10 fraction bits kept, rounded; a carry out of the fraction
     * moves into the exponent, up to infinity, as it should. */
    return (uint16_t)(sign | (((uint32_t)e << 10) + round_shift(mant, 13)));
}

float rn_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0x1F) /* infinity; NaN quiet, as F16C makes it */
        return float_of(sign | 0x7F800000 | (mant ? 0x400000 | (mant << 13) : 0));
    if (exp != 0) return float_of(sign | ((exp + 112) << 23) | (mant << 13));
    if (mant == 0) return float_of(sign);
    /* Subnormal, mant x 2^-24: normalised around its highest set bit p. */
    int p = 9;
    while (!(mant & (1u << p))) p--;
    return float_of(sign | ((uint32_t)(p + 103) << 23) | ((mant << (23 - p)) & 0x7FFFFF));
}

uint16_t rn_f32_to_bf16(float f)
{
    return cs_f32_to_bf16(f); /* common/cs_bf16.h: shared with the bf16 GEMM's packers */
}

float rn_bf16_to_f32(uint16_t h)
{
    return float_of((uint32_t)h << 16);
}

int rn_f16_hardware(void)
{
#ifdef __F16C__
    return 1;
#else
    return 0;
#endif
}

void rn_f32_to_f16_n(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
#ifdef __F16C__
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < n; i++) dst[i] = rn_f32_to_f16(src[i]);
}

void rn_f16_to_f32_n(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
#ifdef __F16C__
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
#endif
    for (; i < n; i++) dst[i] = rn_f16_to_f32(src[i]);
}

void rn_f32_to_bf16_n(const float *src, uint16_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = rn_f32_to_bf16(src[i]);
}

void rn_bf16_to_f32_n(const uint16_t *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = rn_bf16_to_f32(src[i]);
}

const char *rn_precision_name(rn_precision p)
{
    return p == RN_FP16 ? "fp16" : p == RN_BF16 ? "bf16" : p == RN_TF32 ? "tf32" : "fp32";
}

int rn_precision_parse(const char *name, rn_precision *p)
{
    static const char *const names[] = {"fp32", "fp16", "bf16", "tf32"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *p = (rn_precision)i;
            return 0;
        }
    return -1;
}

void rn_round_to(size_t n, const float *src, float *dst, rn_precision p)
{
    if (p == RN_FP32 || p == RN_TF32) { /* tf32 stores fp32 */
        if (dst != src) memmove(dst, src, n * sizeof(float));
        return;
    }
    size_t i = 0;
#ifdef __F16C__
    if (p == RN_FP16)
        for (; i + 8 <= n; i += 8) {
            __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
            _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
        }
#endif
    if (p == RN_FP16)
        for (; i < n; i++) dst[i] = rn_f16_to_f32(rn_f32_to_f16(src[i]));
    else
        for (; i < n; i++) dst[i] = rn_bf16_to_f32(rn_f32_to_bf16(src[i]));
}

void rn_pack(size_t n, const float *src, uint16_t *dst, rn_precision p)
{
    if (p == RN_FP16)
        rn_f32_to_f16_n(src, dst, n);
    else
        rn_f32_to_bf16_n(src, dst, n);
}

void rn_unpack(size_t n, const uint16_t *src, float *dst, rn_precision p)
{
    if (p == RN_FP16)
        rn_f16_to_f32_n(src, dst, n);
    else
        rn_bf16_to_f32_n(src, dst, n);
}
