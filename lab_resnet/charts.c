/* The lab's charts (see charts.h). */
#include "charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_plot.h"

void rn_chart_baseline(const char *dir, const rn_train_result *r, int on_gpu)
{
    /* The mean timed batch by phase: the parts add up to the mean batch,
     * which a median split would not. */
    const char *labels[RN_NPHASES];
    double ms[RN_NPHASES], total = rn_phase_total(r);
    char notes[RN_NPHASES][32];
    const char *annotations[RN_NPHASES];
    for (int p = 0; p < RN_NPHASES; p++) {
        labels[p] = rn_phase_name((rn_phase)p);
        ms[p] = 1e3 * r->phase_mean_s[p];
        snprintf(notes[p], sizeof notes[p], "%.1f%%", total > 0 ? 100.0 * r->phase_mean_s[p] / total : 0.0);
        annotations[p] = notes[p];
    }
    char title[160];
    snprintf(title, sizeof title, "baseline: where a batch's time goes (mean of the timed batches%s)",
             on_gpu ? "; forward, backward, optimizer: device time" : "");
    cs_plot_bars(dir, "baseline_step_breakdown", title, "ms per batch", 0, labels, ms, annotations, RN_NPHASES);
    cs_plot_render(dir, "baseline_step_breakdown");

    if (r->steps < 1) return;
    double *x = cs_alloc((size_t)r->steps * sizeof(double), "chart x");
    double *y = cs_alloc((size_t)r->steps * sizeof(double), "chart y");
    for (int b = 0; b < r->steps; b++) {
        x[b] = b + 1;
        y[b] = 1e3 * r->step_s[b];
    }
    const char *series[] = {"batch time, loading included"};
    cs_plot_lines(dir, "baseline_batch_times", "baseline: the time of every batch of the epoch", "batch", "ms", 0, 0,
                  series, 1, x, y, r->steps, "set yrange [0:*]\n"); /* from zero: no exaggerated swings */
    cs_plot_render(dir, "baseline_batch_times");
    cs_free(x);
    cs_free(y);
}

void rn_chart_profile(const char *dir, const rn_profile_answers *a, int on_gpu)
{
    if (a->ntypes < 1) return;
    const char *labels[RN_PROFILE_TOP], *annotations[RN_PROFILE_TOP];
    double ms[RN_PROFILE_TOP];
    char notes[RN_PROFILE_TOP][32];
    double step = a->steps ? a->wall_s / a->steps : 0;
    for (int i = 0; i < a->ntypes; i++) {
        labels[i] = a->top_types[i];
        ms[i] = 1e3 * a->top_types_s[i];
        snprintf(notes[i], sizeof notes[i], "%.1f%%", step > 0 ? 100.0 * a->top_types_s[i] / step : 0.0);
        annotations[i] = notes[i];
    }
    char title[160];
    snprintf(title, sizeof title, "profile: the operation types by time per step (top %d; %s; %% of a step)", a->ntypes,
             on_gpu ? "device time" : "host clock");
    cs_plot_bars(dir, "profile_top_operations", title, "ms per step", 0, labels, ms, annotations, a->ntypes);
    cs_plot_render(dir, "profile_top_operations");
}

void rn_chart_dataloader(const char *dir, const rn_dl_row *rows, const int *ran, const char *const *names,
                         int baseline_row, int on_gpu)
{
    double x[RN_DATALOADER_ROWS], ips[RN_DATALOADER_ROWS], epoch[RN_DATALOADER_ROWS];
    int n = 0;
    for (int i = 0; i < baseline_row; i++) { /* the sweep's rows come first */
        if (!ran[i]) continue;
        x[n] = rows[i].workers;
        ips[n] = rows[i].images_per_s;
        epoch[n] = rows[i].rung.timing.time.median;
        n++;
    }
    char title[160];
    if (n > 0) {
        snprintf(title, sizeof title, "dataloader: throughput and epoch time against worker threads (%s)",
                 on_gpu ? "GPU" : "CPU");
        cs_plot_lines2(dir, "num_workers_comparison", title, "num_workers", "images/s (loading included)",
                       "epoch time (s)", x, ips, epoch, n);
        cs_plot_render(dir, "num_workers_comparison");
    }
    if (!ran[baseline_row]) return;
    const char *labels[RN_DATALOADER_ROWS], *notes_p[RN_DATALOADER_ROWS];
    double speedup[RN_DATALOADER_ROWS];
    char notes[RN_DATALOADER_ROWS][32];
    int m = 0;
    double base = rows[baseline_row].rung.timing.time.median;
    for (int i = baseline_row; i < RN_DATALOADER_ROWS; i++) {
        if (!ran[i]) continue;
        labels[m] = names[i];
        speedup[m] = base / rows[i].rung.timing.time.median;
        snprintf(notes[m], sizeof notes[m], "%.2fx", speedup[m]);
        notes_p[m] = notes[m];
        m++;
    }
    snprintf(title, sizeof title, "dataloader: the lab's configurations, epoch speedup over the baseline (%s)",
             on_gpu ? "GPU" : "CPU");
    cs_plot_bars_ref(dir, "dataloader_optimization", title, "speedup (baseline epoch / epoch)", 0, labels, speedup,
                     notes_p, m, 1.0, "baseline");
    cs_plot_render(dir, "dataloader_optimization");
}

/* The rows that ran, in order: their indexes into rows. */

/* A bar's throughput label: whole images per second from 100 up (%.3g
 * would print 2565 as 2.56e+03), three digits below. */
static void throughput_note(char *note, size_t size, double images_per_s)
{
    snprintf(note, size, images_per_s >= 100.0 ? "%.0f" : "%.3g", images_per_s);
}

static int rows_that_ran(const int *ran, int nrows, int *idx)
{
    int n = 0;
    for (int i = 0; i < nrows; i++)
        if (ran[i]) idx[n++] = i;
    return n;
}

static void chart_amp_panels(const char *dir, const rn_amp_row *rows, const int *idx, int n, const char *const *names,
                             int on_gpu)
{
    const char *labels[RN_AMP_ROWS], *notes_p[3][RN_AMP_ROWS];
    double ips[RN_AMP_ROWS], mib[RN_AMP_ROWS], speedup[RN_AMP_ROWS];
    char notes[3][RN_AMP_ROWS][40];
    double base = rows[idx[0]].rung.timing.time.median; /* fp32 when it ran: the first row */
    for (int k = 0; k < n; k++) {
        const rn_amp_row *r = &rows[idx[k]];
        labels[k] = names[idx[k]];
        ips[k] = r->images_per_s;
        mib[k] = (double)r->peak_total / (1024.0 * 1024.0);
        speedup[k] = base / r->rung.timing.time.median;
        throughput_note(notes[0][k], sizeof notes[0][k], ips[k]);
        snprintf(notes[1][k], sizeof notes[1][k], "%.1f", (double)r->peak[RN_ACTIVATIONS] / 1048576.0);
        snprintf(notes[2][k], sizeof notes[2][k], "%.2fx", speedup[k]);
        for (int p = 0; p < 3; p++) notes_p[p][k] = notes[p][k];
    }
    char speed_title[64];
    snprintf(speed_title, sizeof speed_title, "speedup over %s", labels[0]);
    const cs_plot_panel panels[3] = {
        {"throughput", "images/s", ips, notes_p[0], NAN, NULL, 0},
        {"the model's peak memory (above: its activations)", "MiB", mib, notes_p[1], NAN, NULL, 0},
        {speed_title, "x (median run)", speedup, notes_p[2], 1.0, labels[0], 0},
    };
    char title[160];
    snprintf(title, sizeof title, "amp: fp32 against mixed precision (%s)", on_gpu ? "GPU" : "CPU");
    cs_plot_panels(dir, "amp_comparison", title, labels, n, panels, 3);
    cs_plot_render(dir, "amp_comparison");
}

void rn_chart_amp(const char *dir, const rn_amp_row *rows, const int *ran, const char *const *names, int nrows,
                  int on_gpu)
{
    int idx[RN_AMP_ROWS];
    int n = rows_that_ran(ran, nrows, idx);
    if (n == 0) return;
    chart_amp_panels(dir, rows, idx, n, names, on_gpu);

    const char *groups[RN_AMP_ROWS], *parts[RN_NCATEGORIES];
    double v[RN_AMP_ROWS * RN_NCATEGORIES];
    for (int c = 0; c < RN_NCATEGORIES; c++) parts[c] = rn_category_name((rn_category)c);
    for (int k = 0; k < n; k++) {
        groups[k] = names[idx[k]];
        for (int c = 0; c < RN_NCATEGORIES; c++) v[k * RN_NCATEGORIES + c] = rows[idx[k]].peak[c] / 1048576.0;
    }
    char title[160];
    snprintf(title, sizeof title, "amp: the model's peak memory by category (%s)", on_gpu ? "device" : "host");
    cs_plot_stacked(dir, "amp_memory", title, "MiB", groups, n, parts, RN_NCATEGORIES, v);
    cs_plot_render(dir, "amp_memory");

    int steps = rows[idx[0]].steps;
    double *x = cs_alloc((size_t)steps * sizeof(double), "chart steps");
    double *y = cs_alloc((size_t)(n * steps) * sizeof(double), "chart losses");
    for (int p = 0; p < steps; p++) x[p] = p + 1;
    for (int k = 0; k < n; k++)
        for (int p = 0; p < steps; p++) y[k * steps + p] = p < rows[idx[k]].steps ? rows[idx[k]].loss[p] : NAN;
    snprintf(title, sizeof title, "amp: training loss per step, same batches and initial weights (%s)",
             on_gpu ? "GPU" : "CPU");
    /* The curves fall from the top left: the key goes where they are not. */
    cs_plot_lines(dir, "amp_loss_curves", title, "step", "training loss", 0, 0, groups, n, x, y, steps,
                  "set key bottom left");
    cs_plot_render(dir, "amp_loss_curves");
    cs_free(x);
    cs_free(y);
}

/* Two panels over rows first..last that ran: the activations' peak
 * (annotated with the model's whole peak: weights, gradients and Adam's
 * state do not change with these techniques, and would hide what does)
 * and the throughput; with `effective`, each label carries the images per
 * optimizer step. */
static void chart_memory_pair(const char *dir, const char *name, const char *title, const rn_memory_row *rows,
                              const int *ran, const char *const *names, int first, int last, int effective)
{
    const char *labels[RN_MEMORY_ROWS], *notes_p[2][RN_MEMORY_ROWS];
    double act[RN_MEMORY_ROWS], ips[RN_MEMORY_ROWS];
    char notes[2][RN_MEMORY_ROWS][40], label[RN_MEMORY_ROWS][48];
    int n = 0;
    for (int i = first; i <= last; i++) {
        if (!ran[i]) continue;
        const rn_memory_row *r = &rows[i];
        if (effective)
            snprintf(label[n], sizeof label[n], "%s (%d)", names[i], r->effective_batch);
        else
            snprintf(label[n], sizeof label[n], "%s", names[i]);
        labels[n] = label[n];
        act[n] = (double)r->peak[RN_ACTIVATIONS] / 1048576.0;
        ips[n] = r->images_per_s;
        snprintf(notes[0][n], sizeof notes[0][n], "%.1f (of %.0f)", act[n], (double)r->peak_total / 1048576.0);
        throughput_note(notes[1][n], sizeof notes[1][n], ips[n]);
        notes_p[0][n] = notes[0][n];
        notes_p[1][n] = notes[1][n];
        n++;
    }
    if (n == 0) return;
    const cs_plot_panel panels[2] = {
        {"peak activations (in brackets: the model's whole peak)", "MiB", act, notes_p[0], NAN, NULL, 0},
        {effective ? "throughput (labels: images per optimizer step)" : "throughput", "images/s", ips, notes_p[1], NAN,
         NULL, 0},
    };
    cs_plot_panels(dir, name, title, labels, n, panels, 2);
    cs_plot_render(dir, name);
}

void rn_chart_memory(const char *dir, const rn_memory_row *rows, const int *ran, const char *const *names, int nrows,
                     int on_gpu)
{
    (void)nrows;
    char title[160];
    snprintf(title, sizeof title, "memory: gradient checkpointing, peak memory and throughput (%s)",
             on_gpu ? "GPU" : "CPU");
    /* The rows' order is memory.c's: accum_1..accum_8, then the two checkpoint rows. */
    chart_memory_pair(dir, "checkpointing_comparison", title, rows, ran, names, 4, 5, 0);
    snprintf(title, sizeof title, "memory: gradient accumulation, peak memory and throughput (%s)",
             on_gpu ? "GPU" : "CPU");
    chart_memory_pair(dir, "accumulation_comparison", title, rows, ran, names, 0, 3, 1);
}

void rn_chart_max_batch(const char *dir, const rn_budget_row *rows, const char *const *names, int n, size_t budget,
                        int on_gpu)
{
    double v[RN_BUDGET_CONFIGS];
    char notes[RN_BUDGET_CONFIGS][32];
    const char *notes_p[RN_BUDGET_CONFIGS];
    for (int c = 0; c < n && c < RN_BUDGET_CONFIGS; c++) {
        v[c] = rows[c].max_batch;
        snprintf(notes[c], sizeof notes[c], "%d%s", rows[c].max_batch, rows[c].capped ? "+" : "");
        notes_p[c] = notes[c];
    }
    char title[160];
    snprintf(title, sizeof title, "memory: the largest batch whose training fits in %.0f MiB (%s)",
             (double)budget / 1048576.0, on_gpu ? "device memory" : "host memory");
    cs_plot_bars(dir, "max_batch", title, "images per batch", 0, names, v, notes_p, n);
    cs_plot_render(dir, "max_batch");
}

void rn_chart_compile(const char *dir, const rn_compile_row *rows, const int *ran, const char *const *names, int nrows,
                      int on_gpu)
{
    int idx[RN_COMPILE_ROWS];
    int n = rows_that_ran(ran, nrows, idx);
    if (n == 0) return;
    const char *labels[RN_COMPILE_ROWS], *notes_p[3][RN_COMPILE_ROWS];
    double ips[RN_COMPILE_ROWS], between[RN_COMPILE_ROWS], speedup[RN_COMPILE_ROWS];
    char notes[3][RN_COMPILE_ROWS][40];
    double base = rows[idx[0]].rung.timing.time.median; /* eager when it ran: the first row */
    for (int k = 0; k < n; k++) {
        const rn_compile_row *r = &rows[idx[k]];
        labels[k] = names[idx[k]];
        ips[k] = r->images_per_s;
        between[k] = 1e3 * r->between_s;
        speedup[k] = base / r->rung.timing.time.median;
        throughput_note(notes[0][k], sizeof notes[0][k], ips[k]);
        snprintf(notes[1][k], sizeof notes[1][k], "%.2f", between[k]);
        snprintf(notes[2][k], sizeof notes[2][k], "%.3fx", speedup[k]);
        for (int p = 0; p < 3; p++) notes_p[p][k] = notes[p][k];
    }
    char speed_title[64];
    snprintf(speed_title, sizeof speed_title, "speedup over %s", labels[0]);
    const cs_plot_panel panels[3] = {
        {"throughput", "images/s", ips, notes_p[0], NAN, NULL, 0},
        {"batch norm, ReLU, adds, pooling per step", "ms", between, notes_p[1], NAN, NULL, 0},
        {speed_title, "x (median run)", speedup, notes_p[2], 1.0, labels[0], 0},
    };
    char title[160];
    snprintf(title, sizeof title, "compile: eager against fused operations (%s)", on_gpu ? "GPU" : "CPU");
    cs_plot_panels(dir, "compile_comparison", title, labels, n, panels, 3);
    cs_plot_render(dir, "compile_comparison");
}

void rn_chart_compare(const char *dir, const rn_cmp_run *run)
{
    const char *labels[RN_COMPARE_ROWS], *notes_p[4][RN_COMPARE_ROWS];
    double ips[RN_COMPARE_ROWS], cumulative[RN_COMPARE_ROWS], mib[RN_COMPARE_ROWS], step[RN_COMPARE_ROWS];
    char notes[4][RN_COMPARE_ROWS][40];
    int n = 0;
    double base = NAN, prev = NAN;
    for (int i = 0; i < RN_COMPARE_ROWS; i++) {
        if (!run->ran[i] || !rn_compare_specs[i].label_lab) continue;
        const rn_cmp_row *r = &run->rows[i];
        double t = r->rung.timing.time.median;
        if (n == 0) base = prev = t;
        labels[n] = rn_compare_specs[i].label_lab;
        ips[n] = r->images_per_s;
        cumulative[n] = base / t;
        mib[n] = r->peak_total / 1048576.0;
        step[n] = prev / t;
        prev = t;
        throughput_note(notes[0][n], sizeof notes[0][n], ips[n]);
        snprintf(notes[1][n], sizeof notes[1][n], "%.2fx", cumulative[n]);
        snprintf(notes[2][n], sizeof notes[2][n], "%.1f", mib[n]);
        snprintf(notes[3][n], sizeof notes[3][n], "%.2fx", step[n]);
        for (int p = 0; p < 4; p++) notes_p[p][n] = notes[p][n];
        n++;
    }
    if (n == 0) return;
    const cs_plot_panel panels[4] = {
        {"throughput", "samples/s", ips, notes_p[0], NAN, NULL, 0},
        {"cumulative speedup", "x over the first row", cumulative, notes_p[1], 1.0, labels[0], 1},
        {"peak memory (the model's)", "MiB", mib, notes_p[2], NAN, NULL, 0},
        {"incremental speedup", "x over the row before", step, notes_p[3], 1.0, NULL, 0},
    };
    char title[160];
    snprintf(title, sizeof title,
             "ResNet-18 optimization dashboard: the lab's configurations, each on the one before (%s)",
             run->lab->on_gpu ? "GPU" : "CPU");
    cs_plot_panels_grid(dir, "optimization_dashboard", title, labels, n, panels, 4, 2, 2);
    cs_plot_render(dir, "optimization_dashboard");
}

void rn_chart_ddp(const char *dir, const rn_ddp_row *rows, const int *ran, const char *const *names, int nrows,
                  const rn_ddp_row *points, int npoints)
{
    const char *groups[RN_DDP_ROWS];
    double v[RN_DDP_ROWS * 3];
    int n = 0;
    for (int i = 0; i < nrows && i < RN_DDP_ROWS; i++) {
        if (!ran[i]) continue;
        groups[n] = names[i];
        v[3 * n + 0] = 1e3 * rows[i].compute_s;
        v[3 * n + 1] = 1e3 * rows[i].copy_s;
        v[3 * n + 2] = 1e3 * rows[i].comm_s;
        n++;
    }
    static const char *const parts[3] = {"compute", "bucket copies", "communication (MPI)"};
    if (n > 0) {
        cs_plot_stacked(dir, "comm_overhead", "ddp: where a global batch's time goes (rank 0)", "ms per global batch",
                        groups, n, parts, 3, v);
        cs_plot_render(dir, "comm_overhead");
    }
    if (npoints < 1) return;
    double x[RN_DDP_MAX_POINTS], y[2 * RN_DDP_MAX_POINTS];
    for (int i = 0; i < npoints; i++) {
        x[i] = points[i].ranks;
        y[i] = points[i].images_per_s;
        y[npoints + i] = points[0].images_per_s * points[i].ranks;
    }
    static const char *const series[2] = {"measured (overlapped)", "ideal: ranks x one rank"};
    cs_plot_lines(dir, "ddp_scaling", "ddp: throughput against ranks, threads per rank fixed", "ranks", "images/s", 0,
                  0, series, 2, x, y, npoints, NULL);
    cs_plot_render(dir, "ddp_scaling");
}
