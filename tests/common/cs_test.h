/* A minimal test harness: CHECK counts failures and prints where they are;
 * cs_test_done() prints "N passed, N failed" and returns the exit code. */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int cs_test_passed, cs_test_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond)                                                                    \
            cs_test_passed++;                                                        \
        else {                                                                       \
            cs_test_failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                    \
    do {                                                                                                         \
        double cs_a_ = (a), cs_b_ = (b);                                                                         \
        if (fabs(cs_a_ - cs_b_) <= (tol))                                                                        \
            cs_test_passed++;                                                                                    \
        else {                                                                                                   \
            cs_test_failed++;                                                                                    \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g (tol %g)\n", __FILE__, __LINE__, #a, \
                    cs_a_, #b, cs_b_, (double)(tol));                                                            \
        }                                                                                                        \
    } while (0)

/* A GPU test's skip: exit code 77 (CTest's skipped), printing why. Where
 * CS_REQUIRE_GPU=1 (tools/gpu_verify.sh sets it on a machine that has a
 * GPU), a skip is a failure: exit code 1, so an error in the probe on a GPU
 * machine cannot pass as "no device". */
static inline int cs_test_skip_gpu(const char *why)
{
    const char *require = getenv("CS_REQUIRE_GPU");
    if (require && require[0] == '1') {
        printf("FAILED: CS_REQUIRE_GPU=1 and the GPU test would be skipped: %s\n", why);
        return 1;
    }
    printf("skipped: %s\n", why);
    return 77;
}

/* n floats from malloc (at least one), or exit 3 with a line. */
static inline float *cs_test_floats(size_t n)
{
    float *p = (float *)malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(3);
    }
    return p;
}

static inline int cs_test_done(void)
{
    printf("%d passed, %d failed\n", cs_test_passed, cs_test_failed);
    return cs_test_failed ? 1 : 0;
}

#endif
