/* case01's charts. Each function lays out its data and hands it to common/'s
 * chart writer, which writes NAME.gp + NAME.dat and renders NAME.png. */
#include "charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_memory.h"
#include "cs_plot.h"

/* The phases of variants.h, in the order they happen in a step. */
static const char *const phase_names[] = {"alloc", "data", "forward", "backward", "update", "sync/logging"};
#define NPHASES ((int)(sizeof phase_names / sizeof phase_names[0]))

void c1_chart_ladder(const char *dir, const cs_report *r)
{
    cs_report_chart(r, dir, "ladder", "case01: training samples/s by variant (speedup over the baseline)",
                    "samples/s (log scale)", 1);
}

/* One stacked chart per device: a CPU step and a GPU step differ by two
 * orders of magnitude, so on one scale the GPU bars would not show. */
void c1_chart_phases(const char *dir, const c1_run *runs, int nruns)
{
    static const char *const devices[2] = {"cpu", "gpu"};
    for (int d = 0; d < 2; d++) {
        const char *groups[C1_NVARIANTS];
        double v[C1_NVARIANTS * NPHASES];
        int ng = 0;
        for (int i = 0; i < nruns && ng < C1_NVARIANTS; i++) {
            if (!runs[i].base.ran || strcmp(runs[i].base.device, devices[d]) != 0) continue;
            groups[ng] = runs[i].base.name;
            for (int p = 0; p < NPHASES; p++) /* ms per step */
                v[ng * NPHASES + p] = cs_rung_phase_seconds(&runs[i].base, phase_names[p]) * 1e3 / runs[i].steps;
            ng++;
        }
        if (ng == 0) continue;
        char name[32], title[128];
        snprintf(name, sizeof name, "phases_%s", devices[d]);
        snprintf(title, sizeof title, "case01: where a training step's time goes on the %s", d == 0 ? "CPU" : "GPU");
        cs_plot_stacked(dir, name, title, "ms per step", groups, ng, phase_names, NPHASES, v);
        cs_plot_render(dir, name);
    }
}

void c1_chart_loss_curves(const char *dir, const c1_run *runs, int nruns, int steps)
{
    if (nruns == 0 || steps <= 0) return;
    const char *series[C1_NVARIANTS];
    int ns = 0;
    for (int i = 0; i < nruns && ns < C1_NVARIANTS; i++)
        if (runs[i].check_out.loss) series[ns++] = runs[i].base.name;
    if (ns == 0) return;
    double *x = cs_alloc((size_t)steps * sizeof(double), "loss chart x");
    double *y = cs_alloc((size_t)ns * steps * sizeof(double), "loss chart y");
    for (int s = 0; s < steps; s++) x[s] = s + 1;
    int k = 0;
    for (int i = 0; i < nruns && k < ns; i++) {
        if (!runs[i].check_out.loss) continue;
        for (int s = 0; s < steps; s++) y[(size_t)k * steps + s] = runs[i].check_out.loss[s];
        k++;
    }
    cs_plot_lines(dir, "loss_curves", "case01: loss per step, every variant (the curves coincide)", "step",
                  "batch loss", 0, 0, series, ns, x, y, steps, NULL);
    cs_plot_render(dir, "loss_curves");
    cs_free(x);
    cs_free(y);
}

void c1_chart_epoch(const char *dir, const char *variant, const float *loss, const int32_t *correct, int batch,
                    int steps)
{
    if (steps <= 0) return;
    char loss_name[64], acc_name[64], title[160];
    snprintf(loss_name, sizeof loss_name, "batch loss (%s)", variant);
    snprintf(acc_name, sizeof acc_name, "batch accuracy (%s)", variant);
    const char *series[2] = {loss_name, acc_name};
    double *x = cs_alloc((size_t)steps * sizeof(double), "epoch chart x");
    double *y = cs_alloc((size_t)2 * steps * sizeof(double), "epoch chart y");
    for (int s = 0; s < steps; s++) {
        x[s] = s + 1;
        y[s] = loss[s];
        y[(size_t)steps + s] = (double)correct[s] / batch;
    }
    snprintf(title, sizeof title, "case01: one epoch of training with %s", variant);
    cs_plot_lines(dir, "epoch", title, "step", "loss / accuracy", 0, 0, series, 2, x, y, steps, NULL);
    cs_plot_render(dir, "epoch");
    cs_free(x);
    cs_free(y);
}
