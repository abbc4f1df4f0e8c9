/* case03's charts. Each function lays out its data and hands it to common/'s
 * chart writer, which writes NAME.gp + NAME.dat and renders NAME.png. */
#include "charts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs_plot.h"

void c3_chart_variants(const char *dir, const cs_report *r)
{
    const char *labels[CS_REPORT_MAX_ROWS];
    const char *annot[CS_REPORT_MAX_ROWS];
    double ms[CS_REPORT_MAX_ROWS];
    char text[CS_REPORT_MAX_ROWS][24];
    int n = 0;
    for (int i = 0; i < r->n; i++) {
        const cs_result *row = &r->rows[i];
        if (!row->ran) continue;
        labels[n] = row->variant;
        ms[n] = row->timing.time.median * 1e3;
        snprintf(text[n], sizeof text[n], "%.1fx", row->speedup);
        annot[n] = text[n];
        n++;
    }
    if (n == 0) return;
    cs_plot_bars(dir, "variants", "case03: median time per run by variant (speedup over the baseline)",
                 "ms per run (log scale)", 1, labels, ms, annot, n);
    cs_plot_render(dir, "variants");
}

void c3_chart_size_sweep(const char *dir, const c3_size_sweep *s)
{
    if (s->npoints == 0) return;
    const char *series[3] = {"CPU blocked", "GPU compute only", "GPU incl. transfers"};
    int nseries = s->gpu ? 3 : 1;
    double x[C3_SWEEP_MAX], y[3 * C3_SWEEP_MAX];
    for (int i = 0; i < s->npoints; i++) {
        x[i] = s->n[i];
        y[i] = s->cpu_s[i] * 1e3;
        y[s->npoints + i] = s->gpu ? s->gpu_compute_s[i] * 1e3 : NAN;
        y[2 * s->npoints + i] = s->gpu ? s->gpu_total_s[i] * 1e3 : NAN;
    }
    char extra[256] = "";
    if (s->crossover > 0)
        snprintf(extra, sizeof extra,
                 "set arrow from %d, graph 0 to %d, graph 1 nohead dashtype 2 lw 2\n"
                 "set label 'crossover n = %d' at %d, graph 0.92 offset 1,0\n",
                 s->crossover, s->crossover, s->crossover, s->crossover);
    cs_plot_lines(dir, "size_sweep", "One n x n SGEMM: CPU against GPU, with and without transfers",
                  "n", "ms (log scale)", 1, 1, series, nseries, x, y, s->npoints,
                  extra[0] ? extra : NULL);
    cs_plot_render(dir, "size_sweep");
}

void c3_chart_bandwidth(const char *dir, const c3_bandwidth_sweep *b)
{
    if (b->npoints == 0) return;
    const char *series[5] = {"host memcpy", "H2D pageable", "H2D pinned", "D2H pageable", "D2H pinned"};
    int nseries = b->gpu ? 5 : 1;
    double x[C3_SWEEP_MAX], y[5 * C3_SWEEP_MAX];
    for (int i = 0; i < b->npoints; i++) {
        int np = b->npoints;
        x[i] = b->bytes[i] / 1024.0;
        y[i] = b->host_memcpy_gbs[i];
        y[np + i] = b->h2d_pageable_gbs[i];
        y[2 * np + i] = b->h2d_pinned_gbs[i];
        y[3 * np + i] = b->d2h_pageable_gbs[i];
        y[4 * np + i] = b->d2h_pinned_gbs[i];
    }
    cs_plot_lines(dir, "bandwidth", "Copy bandwidth by size: pageable against pinned host memory",
                  "copy size (KiB, log scale)", "GB/s", 1, 0, series, nseries, x, y, b->npoints, NULL);
    cs_plot_render(dir, "bandwidth");
}

/* Phase names of the variants, grouped into the parts of the stacked bar. */
static const struct { const char *phase; int part; } phase_parts[] = {
    {"copy H2D", 0}, {"copy D2H", 0},
    {"kernel+sync", 1}, {"kernel", 1}, {"matmul", 1}, {"small matmuls", 1},
    {"elementwise", 1}, {"reduction", 1}, {"bias+relu+scale+rowsum (fused)", 1},
    {"cpu work", 1},
    {"alloc/free", 2},
    {"sync wait", 3},
};

void c3_chart_phases(const char *dir, const c3_run *const *runs, int nruns)
{
    const char *parts[4] = {"transfer", "compute", "allocation", "sync wait"};
    const char *groups[8];
    double v[8 * 4];
    if (nruns > 8) nruns = 8;
    for (int g = 0; g < nruns; g++) {
        groups[g] = runs[g]->name;
        for (int p = 0; p < 4; p++) v[g * 4 + p] = 0;
        for (size_t k = 0; k < sizeof phase_parts / sizeof phase_parts[0]; k++)
            v[g * 4 + phase_parts[k].part] += c3_phase_seconds(runs[g], phase_parts[k].phase) * 1e3;
    }
    cs_plot_stacked(dir, "phases", "Where the time goes: ms per run by phase (GPU phases: device time)",
                    "ms per run", groups, nruns, parts, 4, v);
    cs_plot_render(dir, "phases");
}
