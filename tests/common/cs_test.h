/* A minimal test harness: CHECK counts failures and prints where they are;
 * cs_test_done() prints "N passed, N failed" and returns the exit code. */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <stdio.h>
#include <math.h>

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

static inline int cs_test_done(void)
{
    printf("%d passed, %d failed\n", cs_test_passed, cs_test_failed);
    return cs_test_failed ? 1 : 0;
}

#endif
