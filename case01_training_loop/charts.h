/* case01's charts (gnuplot scripts + data, PNG when gnuplot is there). */
#ifndef C1_CHARTS_H
#define C1_CHARTS_H

#include "cs_report.h"
#include "ladder.h"

/* Samples/s per variant (log scale) with the speedup over cpu_slow. */
void c1_chart_ladder(const char *dir, const cs_report *r);
/* Stacked phase bars, ms per training step, one bar per variant run: one
 * chart for the CPU variants (phases_cpu), one for the GPU ones (phases_gpu). */
void c1_chart_phases(const char *dir, const c1_run *runs, int nruns);
/* The check runs' loss per step, every variant on one chart: the curves
 * coincide when the variants train the same model. */
void c1_chart_loss_curves(const char *dir, const c1_run *runs, int nruns, int steps);
/* One real epoch: batch loss and batch accuracy per step. */
void c1_chart_epoch(const char *dir, const char *variant, const float *loss, const int32_t *correct, int batch,
                    int steps);

#endif
