/* cs_stats: median (odd and even n), min, max, mean, sample stddev, n == 0,
 * and that the input is not reordered. */
#include "cs_stats.h"
#include "cs_test.h"

int main(void)
{
    double odd[] = {5.0, 1.0, 4.0, 2.0, 3.0};
    cs_stats s = cs_stats_of(odd, 5);
    CHECK(s.n == 5);
    CHECK_NEAR(s.median, 3.0, 0);
    CHECK_NEAR(s.min, 1.0, 0);
    CHECK_NEAR(s.max, 5.0, 0);
    CHECK_NEAR(s.mean, 3.0, 1e-15);
    CHECK_NEAR(s.stddev, sqrt(2.5), 1e-12); /* sum of squares 10, n - 1 = 4 */
    /* the caller's order is kept (the median sorts a copy) */
    CHECK(odd[0] == 5.0 && odd[1] == 1.0 && odd[4] == 3.0);

    double even[] = {4.0, 1.0, 3.0, 10.0};
    CHECK_NEAR(cs_median(even, 4), 3.5, 0); /* mean of 3 and 4 */
    s = cs_stats_of(even, 4);
    CHECK_NEAR(s.mean, 4.5, 1e-15);
    CHECK_NEAR(s.median, 3.5, 0);
    CHECK(even[0] == 4.0 && even[3] == 10.0);

    double one[] = {7.25};
    s = cs_stats_of(one, 1);
    CHECK(s.n == 1);
    CHECK_NEAR(s.median, 7.25, 0);
    CHECK_NEAR(s.stddev, 0.0, 0); /* no spread with one sample */

    s = cs_stats_of(NULL, 0);
    CHECK(s.n == 0 && s.median == 0 && s.min == 0 && s.max == 0 && s.mean == 0 && s.stddev == 0);
    CHECK(cs_median(one, 0) == 0.0);

    /* tiny spread around a large mean: a one-pass formula would lose it */
    double close[] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
    s = cs_stats_of(close, 3);
    CHECK_NEAR(s.stddev, 1.0, 1e-6);

    return cs_test_done();
}
