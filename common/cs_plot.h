/* Charts: each is a gnuplot script NAME.gp plus its data NAME.dat, written
 * to an output folder; the script runs from that folder (`gnuplot NAME.gp`)
 * and writes NAME.png. When gnuplot is installed the renderer runs it; when
 * not, one line says how to render the chart later. */
#ifndef CS_PLOT_H
#define CS_PLOT_H

/* Bar chart: one bar per label, value on the y axis, an annotation above
 * each bar (e.g. "12.3x"; NULL for none). logy: log scale. */
int cs_plot_bars(const char *dir, const char *name, const char *title, const char *ylabel, int logy,
                 const char *const *labels, const double *values, const char *const *annotations, int n);

/* The same with a dashed horizontal reference line at y = ref, labelled
 * ref_label (e.g. the baseline's 1.0x under speedup bars); ref NaN: none. */
int cs_plot_bars_ref(const char *dir, const char *name, const char *title, const char *ylabel, int logy,
                     const char *const *labels, const double *values, const char *const *annotations, int n, double ref,
                     const char *ref_label);

/* Line chart: nseries series over the same x values; y is row-major
 * [series][point]; NaN marks a missing point. extra_gp: additional gnuplot
 * commands placed before the plot command (e.g. a labelled arrow marking a
 * crossover), or NULL. */
int cs_plot_lines(const char *dir, const char *name, const char *title, const char *xlabel, const char *ylabel,
                  int logx, int logy, const char *const *series, int nseries, const double *x, const double *y,
                  int npoints, const char *extra_gp);

/* Two quantities in different units over the same x (e.g. throughput and
 * epoch time against workers): y1 on the left axis, y2 on the right, both
 * from zero; the labels name the series. */
int cs_plot_lines2(const char *dir, const char *name, const char *title, const char *xlabel, const char *y1label,
                   const char *y2label, const double *x, const double *y1, const double *y2, int npoints);

/* Stacked bars: one bar per group, stacked parts; v is row-major
 * [group][part]. */
int cs_plot_stacked(const char *dir, const char *name, const char *title, const char *ylabel, const char *const *groups,
                    int ngroups, const char *const *parts, int nparts, const double *v);

/* One panel of cs_plot_panels: a bar over each of the chart's labels. */
typedef struct {
    const char *title, *ylabel;
    const double *values;           /* one per label; NaN: no bar (e.g. a skipped row) */
    const char *const *annotations; /* text above each bar, or NULL */
    double ref;                     /* a dashed horizontal line at y = ref (NaN: none) */
    const char *ref_label;
    int line; /* 1: a line through points (e.g. a cumulative speedup) instead of bars */
} cs_plot_panel;

/* Panels of bars side by side in one picture (gnuplot's multiplot), the
 * same labels under each: e.g. a ladder's throughput, peak memory and
 * speedup. Linear axes from zero. */
int cs_plot_panels(const char *dir, const char *name, const char *title, const char *const *labels, int n,
                   const cs_plot_panel *panels, int npanels);
/* The same on a grid of rows x cols panels (a dashboard), filled row by row. */
int cs_plot_panels_grid(const char *dir, const char *name, const char *title, const char *const *labels, int n,
                        const cs_plot_panel *panels, int npanels, int rows, int cols);

/* 1 when gnuplot is on PATH. */
int cs_have_gnuplot(void);

/* Renders dir/name.gp to dir/name.png when gnuplot is present and rendering
 * is enabled (cs_plot_set_render). Prints one line either way in non-brief
 * mode. Returns 0 on success or when skipped, -1 when gnuplot failed. */
int cs_plot_render(const char *dir, const char *name);

/* 0 disables rendering (--no-plot): scripts and data are still written. */
void cs_plot_set_render(int on);

#endif
