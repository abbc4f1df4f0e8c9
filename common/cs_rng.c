/* splitmix64 (Steele, Lea and Flood, 2014; constants from Vigna's public
 * domain version): a 64-bit counter advanced by the golden-ratio constant,
 * and a mixing function that turns each counter value into 64 random-looking
 * bits. Integer arithmetic only, so the sequence is the same everywhere. */
#include "cs_rng.h"

#include <math.h>

#define GOLDEN_GAMMA 0x9E3779B97F4A7C15ull /* 2^64 / golden ratio, odd */

static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += GOLDEN_GAMMA);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void cs_rng_seed(cs_rng *r, uint64_t seed, uint64_t stream)
{
    /* Without the mixing step, stream 1's start (seed ^ GAMMA) is often
     * seed + GAMMA, which is stream 0's next counter: the two streams would
     * be the same sequence shifted by one. Mixing scatters the starts. */
    uint64_t start = seed ^ (stream * GOLDEN_GAMMA);
    r->state = splitmix64_next(&start);
}

uint64_t cs_rng_mix(uint64_t x)
{
    return splitmix64_next(&x);
}

uint64_t cs_rng_u64(cs_rng *r)
{
    return splitmix64_next(&r->state);
}

/* The high bits: in any generator they are at least as good as the low ones. */
uint32_t cs_rng_u32(cs_rng *r)
{
    return (uint32_t)(cs_rng_u64(r) >> 32);
}

uint32_t cs_rng_below(cs_rng *r, uint32_t n)
{
    /* Lemire's method (2019): the high 32 bits of x * n are uniform in
     * [0, n) except for a few x, recognised by the low 32 bits being below
     * 2^32 mod n; those are drawn again. x % n would favour small values. */
    if (n == 0) return 0;
    uint64_t m = (uint64_t)cs_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n; /* 2^32 mod n */
        while (low < threshold) {
            m = (uint64_t)cs_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* As many random bits as the mantissa holds, times 2^-bits: every value is a
 * multiple of 2^-24 (2^-53), exactly representable, and never 1.0. */
float cs_rng_float(cs_rng *r)
{
    return (float)(cs_rng_u64(r) >> 40) * 0x1.0p-24f;
}
double cs_rng_double(cs_rng *r)
{
    return (double)(cs_rng_u64(r) >> 11) * 0x1.0p-53;
}

float cs_rng_uniform(cs_rng *r, float lo, float hi)
{
    float x = lo + (hi - lo) * cs_rng_float(r);
    /* Rounding can land exactly on hi: step back to the float just below. */
    return x < hi ? x : nextafterf(hi, lo);
}

double cs_rng_normal(cs_rng *r)
{
    /* Box-Muller: u1 in (0, 1] so log(u1) is finite. The second deviate
     * (with sin) is dropped to keep the generator's state one integer. */
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - cs_rng_double(r);
    double u2 = cs_rng_double(r);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

double cs_rng_normal_at(uint64_t key, uint64_t i)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - (double)(cs_rng_mix(key + 2 * i) >> 11) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(cs_rng_mix(key + 2 * i + 1) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

void cs_rng_fill_uniform(cs_rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) x[i] = cs_rng_uniform(r, lo, hi);
}
