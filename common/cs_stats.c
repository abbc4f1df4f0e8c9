/* Summary statistics of repeated timings. The median is the headline figure
 * because it ignores the odd run disturbed by another process; min and max
 * show the spread. */
#include "cs_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y); /* no subtraction: it could overflow or lose the sign */
}

/* Median of an already sorted array. */
static double median_sorted(const double *sorted, int n)
{
    if (n <= 0) return 0.0;
    if (n % 2 == 1) return sorted[n / 2];
    return 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

double cs_median(const double *x, int n)
{
    if (n <= 0 || x == NULL) return 0.0;
    /* Sort a copy: the caller's samples keep their run order. */
    double *copy = malloc((size_t)n * sizeof *copy);
    if (copy == NULL) return 0.0; /* a few KiB at most: cannot happen in practice */
    memcpy(copy, x, (size_t)n * sizeof *copy);
    qsort(copy, (size_t)n, sizeof *copy, compare_doubles);
    double m = median_sorted(copy, n);
    free(copy);
    return m;
}

cs_stats cs_stats_of(const double *x, int n)
{
    cs_stats s = {0};
    if (n <= 0 || x == NULL) return s;
    s.n = n;
    s.min = s.max = x[0];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        if (x[i] < s.min) s.min = x[i];
        if (x[i] > s.max) s.max = x[i];
        sum += x[i];
    }
    s.mean = sum / n;
    if (n >= 2) {
        /* Two passes (mean first, then squared deviations) rather than
         * sum-of-squares minus square-of-sum, which cancels badly when the
         * spread is tiny compared with the mean, as it is for timings. */
        double ss = 0.0;
        for (int i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
        s.stddev = sqrt(ss / (n - 1));
    }
    s.median = cs_median(x, n);
    return s;
}
