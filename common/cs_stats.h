/* Summary statistics of repeated timings: median, min, max, mean, spread. */
#ifndef CS_STATS_H
#define CS_STATS_H

typedef struct {
    int n;         /* number of samples */
    double median; /* middle value (mean of the two middle ones for even n) */
    double min, max;
    double mean;
    double stddev; /* sample standard deviation (n-1); 0 when n < 2 */
} cs_stats;

/* Statistics of x[0..n-1]; x is not modified. n == 0 gives all zeros. */
cs_stats cs_stats_of(const double *x, int n);

/* Median of x[0..n-1] (not modified); 0 when n == 0. */
double cs_median(const double *x, int n);

#endif
