/* case03's charts (gnuplot scripts + data, PNG when gnuplot is there). */
#ifndef C3_CHARTS_H
#define C3_CHARTS_H

#include "cs_report.h"
#include "investigate.h"
#include "ladder.h"

/* Median time per variant (log scale) with the speedup over the baseline. */
void c3_chart_variants(const char *dir, const cs_report *r);
/* The size sweep, log-log, with the crossover marked. */
void c3_chart_size_sweep(const char *dir, const c3_size_sweep *s);
/* The bandwidth sweep: GB/s against copy size. */
void c3_chart_bandwidth(const char *dir, const c3_bandwidth_sweep *b);
/* Stacked phase bars (ms per run) for the runs given (slow vs fast). */
void c3_chart_phases(const char *dir, const c3_run *const *runs, int nruns);

#endif
