/* A seeded random number generator that gives the same stream on every
 * platform and compiler: splitmix64 (integer arithmetic only), with floats
 * made from the top 24 (float) or 53 (double) bits, so uniform values are
 * bit-identical everywhere. Normal deviates use Box-Muller and so depend on
 * the C library's log/sqrt/cos, which are correctly rounded in practice but
 * not guaranteed: seeded data in this suite uses uniform values. */
#ifndef CS_RNG_H
#define CS_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
} cs_rng;

/* Seeds the generator; `stream` selects an independent sequence for the
 * same seed (e.g. 0 for weights, 1 for data). */
void cs_rng_seed(cs_rng *r, uint64_t seed, uint64_t stream);

uint64_t cs_rng_u64(cs_rng *r);
uint32_t cs_rng_u32(cs_rng *r);
/* Uniform integer in [0, n), unbiased (n > 0). */
uint32_t cs_rng_below(cs_rng *r, uint32_t n);
/* Uniform in [0, 1). */
float cs_rng_float(cs_rng *r);
double cs_rng_double(cs_rng *r);
/* Uniform in [lo, hi). */
float cs_rng_uniform(cs_rng *r, float lo, float hi);
/* Standard normal (Box-Muller; see the note above). */
double cs_rng_normal(cs_rng *r);

/* Counter-based: 64 random-looking bits from x alone (splitmix64's mixing
 * of x), so element i of a long sequence is the same on any thread count. */
uint64_t cs_rng_mix(uint64_t x);

/* Standard normal number i of the sequence `key` names (Box-Muller over
 * cs_rng_mix(key + 2i) and cs_rng_mix(key + 2i + 1)): counter-based, so a
 * long sequence is filled on all cores with the same values. */
double cs_rng_normal_at(uint64_t key, uint64_t i);

/* Fills x[0..n-1] with uniform values in [lo, hi). */
void cs_rng_fill_uniform(cs_rng *r, float *x, size_t n, float lo, float hi);

#endif
