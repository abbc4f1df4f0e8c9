/* The RNG: known first values (computed once, independently, with Python
 * integers), so any change to the generator or the seeding is caught; float
 * and double ranges; cs_rng_below stays below n and is roughly uniform;
 * streams and seeds differ; the normal deviates look normal. */
#include "cs_rng.h"
#include "cs_test.h"

#include <stdint.h>

int main(void)
{
    cs_rng r;
    cs_rng_seed(&r, 42, 0);
    CHECK(cs_rng_u64(&r) == UINT64_C(0x57e1faba65107204));
    CHECK(cs_rng_u64(&r) == UINT64_C(0xf4abd143feb24055));
    CHECK(cs_rng_u64(&r) == UINT64_C(0x7c816738c12903b2));
    CHECK(cs_rng_u64(&r) == UINT64_C(0x113e5dec6f8fd8a8));

    /* stream 1 of the same seed starts elsewhere */
    cs_rng_seed(&r, 42, 1);
    CHECK(cs_rng_u64(&r) == UINT64_C(0xfc991bca1a1aa1ae));

    /* the same bits as floats: top 24 / 53 bits scaled, exactly */
    cs_rng_seed(&r, 42, 0);
    CHECK(cs_rng_float(&r) == (float)0x57e1fa * 0x1.0p-24f);
    CHECK(cs_rng_double(&r) == (double)(UINT64_C(0xf4abd143feb24055) >> 11) * 0x1.0p-53);
    CHECK(cs_rng_u32(&r) == 0x7c816738u);

    /* reseeding repeats the sequence */
    cs_rng a, b;
    cs_rng_seed(&a, 7, 3);
    cs_rng_seed(&b, 7, 3);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= cs_rng_u64(&a) == cs_rng_u64(&b);
    CHECK(same);

    /* streams 0 and 1, and seeds 1 and 2, share no early values */
    for (int pair = 0; pair < 2; pair++) {
        if (pair == 0) {
            cs_rng_seed(&a, 42, 0);
            cs_rng_seed(&b, 42, 1);
        } else {
            cs_rng_seed(&a, 1, 0);
            cs_rng_seed(&b, 2, 0);
        }
        uint64_t va[64], vb[64];
        for (int i = 0; i < 64; i++) {
            va[i] = cs_rng_u64(&a);
            vb[i] = cs_rng_u64(&b);
        }
        int shared = 0;
        for (int i = 0; i < 64; i++)
            for (int k = 0; k < 64; k++) shared += va[i] == vb[k];
        CHECK(shared == 0);
    }

    /* floats and doubles in [0, 1), with a mean near 1/2 */
    cs_rng_seed(&r, 123, 0);
    int in_range = 1;
    double sum = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        float f = cs_rng_float(&r);
        double d = cs_rng_double(&r);
        in_range &= f >= 0.0f && f < 1.0f && d >= 0.0 && d < 1.0;
        sum += f;
    }
    CHECK(in_range);
    CHECK_NEAR(sum / n, 0.5, 0.01);

    /* uniform(lo, hi) stays in [lo, hi), even when rounding would hit hi */
    in_range = 1;
    for (int i = 0; i < 10000; i++) {
        float u = cs_rng_uniform(&r, -2.0f, 3.0f);
        float tight = cs_rng_uniform(&r, 1.0f, 1.0000001f);
        in_range &= u >= -2.0f && u < 3.0f && tight >= 1.0f && tight < 1.0000001f;
    }
    CHECK(in_range);
    float buf[1000];
    cs_rng_fill_uniform(&r, buf, 1000, 10.0f, 20.0f);
    in_range = 1;
    for (int i = 0; i < 1000; i++) in_range &= buf[i] >= 10.0f && buf[i] < 20.0f;
    CHECK(in_range);

    /* below(n): never >= n; 7 buckets roughly equal (each 1/7 of 70000) */
    int counts[7] = {0};
    int below_ok = 1;
    for (int i = 0; i < 70000; i++) {
        uint32_t v = cs_rng_below(&r, 7);
        below_ok &= v < 7;
        if (v < 7) counts[v]++;
    }
    CHECK(below_ok);
    for (int k = 0; k < 7; k++) CHECK(counts[k] > 9500 && counts[k] < 10500);
    /* n = 1 always 0; a large n that is not a power of two */
    int edge_ok = 1;
    for (int i = 0; i < 1000; i++) {
        edge_ok &= cs_rng_below(&r, 1) == 0;
        edge_ok &= cs_rng_below(&r, 3000000001u) < 3000000001u;
    }
    CHECK(edge_ok);

    /* normal deviates: mean ~0, variance ~1 */
    double s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double z = cs_rng_normal(&r);
        s1 += z;
        s2 += z * z;
    }
    CHECK_NEAR(s1 / n, 0.0, 0.02);
    CHECK_NEAR(s2 / n, 1.0, 0.03);

    return cs_test_done();
}
