/* case03's charts. Each function lays out its data and hands it to common/'s
 * chart writer, which writes NAME.gp + NAME.dat and renders NAME.png. */
#include "charts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cs_plot.h"

void c3_chart_variants(const char *dir, const cs_report *r)
{
    cs_report_chart(r, dir, "variants", "case03: median time per run by variant (speedup over the baseline)",
                    "ms per run (log scale)", 0);
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
    /* The title promises GPU lines only where they are drawn. */
    cs_plot_lines(dir, "size_sweep",
                  s->gpu ? "One n x n SGEMM: CPU against GPU, with and without transfers"
                         : "One n x n SGEMM on the CPU (no GPU in this run)",
                  "n", "ms (log scale)", 1, 1, series, nseries, x, y, s->npoints, extra[0] ? extra : NULL);
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
    cs_plot_lines(dir, "bandwidth",
                  b->gpu ? "Copy bandwidth by size: pageable against pinned host memory"
                         : "Host memcpy bandwidth by size (no GPU in this run)",
                  "copy size (KiB, log scale)", "GB/s", 1, 0, series, nseries, x, y, b->npoints, NULL);
    cs_plot_render(dir, "bandwidth");
}

/* Phase names of the variants, grouped into the parts of the stacked bar. */
enum { PART_TRANSFER, PART_GPU_KERNELS, PART_CPU_PRODUCTS, PART_CPU_ELEMENTWISE, PART_ALLOCATION, PART_SYNC, NPARTS };
static const char *const part_names[NPARTS] = {
    "transfer", "GPU kernels", "CPU matrix products", "CPU elementwise + reduction", "allocation", "sync wait",
};
static const struct {
    const char *phase;
    int part;
} phase_parts[] = {
    {"copy H2D", PART_TRANSFER},
    {"copy D2H", PART_TRANSFER},
    {"kernel+sync", PART_GPU_KERNELS},
    {"kernel", PART_GPU_KERNELS},
    {"matmul", PART_CPU_PRODUCTS},
    {"small matmuls", PART_CPU_PRODUCTS},
    {"elementwise", PART_CPU_ELEMENTWISE},
    {"reduction", PART_CPU_ELEMENTWISE},
    {"bias+relu+scale+rowsum (fused)", PART_CPU_ELEMENTWISE},
    {"alloc/free", PART_ALLOCATION},
    {"sync wait", PART_SYNC},
};

void c3_chart_phases(const char *dir, const c3_run *const *runs, int nruns)
{
    double all[8][NPARTS] = {{0}};
    const char *groups[8];
    if (nruns > 8) nruns = 8;
    for (int g = 0; g < nruns; g++) {
        groups[g] = runs[g]->name;
        for (size_t k = 0; k < sizeof phase_parts / sizeof phase_parts[0]; k++)
            all[g][phase_parts[k].part] += cs_rung_phase_seconds(runs[g], phase_parts[k].phase) * 1e3;
    }
    /* Only the parts some variant has, so the key lists what is on the chart. */
    const char *parts[NPARTS];
    double v[8 * NPARTS];
    int np = 0;
    for (int p = 0; p < NPARTS; p++) {
        int used = 0;
        for (int g = 0; g < nruns; g++) used |= all[g][p] > 0;
        if (!used) continue;
        for (int g = 0; g < nruns; g++) v[g * NPARTS + np] = all[g][p];
        parts[np++] = part_names[p];
    }
    if (np == 0) return;
    /* pack [group][part] rows densely for np parts */
    double packed[8 * NPARTS];
    for (int g = 0; g < nruns; g++)
        for (int p = 0; p < np; p++) packed[g * np + p] = v[g * NPARTS + p];
    /* The GPU's note only where a GPU rung is drawn. */
    int any_gpu = 0;
    for (int g = 0; g < nruns; g++) any_gpu |= strcmp(runs[g]->device, "gpu") == 0;
    cs_plot_stacked(dir, "phases",
                    any_gpu ? "Where the time goes, by phase (GPU phases: device time)"
                            : "Where the time goes, by phase",
                    "ms per run", groups, nruns, parts, np, packed);
    cs_plot_render(dir, "phases");
}
