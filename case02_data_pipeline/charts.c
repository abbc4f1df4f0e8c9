/* case02's charts (steps.h): records/s by rung, fast's thread scaling, and
 * the phases of the staged rungs. */
#include <stdio.h>

#include "cs_plot.h"
#include "steps.h"

/* records/s per rung with each change's gain */
static void chart_ladder(const c2_study *s)
{
    const char *labels[C2_NRUNGS], *annot[C2_NRUNGS];
    double rate[C2_NRUNGS];
    char text[C2_NRUNGS][32];
    for (int i = 0; i < s->nruns; i++) {
        labels[i] = s->runs[i].base.name;
        rate[i] = s->runs[i].result.rows / s->runs[i].base.timing.time.median;
        /* Every label a gain, the first against itself (its rate is on the axis). */
        snprintf(text[i], sizeof text[i], "x%.2f", i == 0 ? 1.0 : rate[i] / rate[i - 1]);
        annot[i] = text[i];
    }
    if (s->nruns == 0) return;
    cs_plot_bars(s->opt->out_dir, "ladder", "Records per second by rung (above each bar: gain over the rung before)",
                 "records/s (log scale)", 1, labels, rate, annot, s->nruns);
    cs_plot_render(s->opt->out_dir, "ladder");
}

/* fast's records/s by thread count, against linear scaling from one thread */
static void chart_threads(const c2_study *s)
{
    int n = s->nscale;
    if (n == 0) return;
    const char *series[2] = {"fast", "linear from 1 thread"};
    double y[2 * C2_MAX_THREAD_POINTS];
    for (int i = 0; i < n; i++) {
        y[i] = s->scale_rate[i];
        y[n + i] = s->scale_rate[0] * s->scale_threads[i];
    }
    cs_plot_lines(s->opt->out_dir, "threads", "fast: records per second by thread count", "threads", "records/s", 0, 0,
                  series, 2, s->scale_threads, y, n, NULL);
    cs_plot_render(s->opt->out_dir, "threads");
}

/* phases of the staged rungs, seconds of the instrumented run */
static void chart_phases(const c2_study *s)
{
    const char *groups[C2_NRUNGS], *parts[3] = {"extract", "transform", "load"};
    double v[C2_NRUNGS * 3];
    int ng = 0;
    for (int i = 0; i < s->nruns; i++) {
        if (!s->runs[i].r->staged) continue;
        groups[ng] = s->runs[i].base.name;
        for (int k = 0; k < 3; k++) v[ng * 3 + k] = c2_phase_of(&s->runs[i], parts[k]);
        ng++;
    }
    if (ng == 0) return;
    cs_plot_stacked(s->opt->out_dir, "phases", "Staged rungs: where the time goes (instrumented run)", "seconds",
                    groups, ng, parts, 3, v);
    cs_plot_render(s->opt->out_dir, "phases");
}

void c2_charts(const c2_study *s)
{
    chart_ladder(s);
    chart_threads(s);
    chart_phases(s);
}
