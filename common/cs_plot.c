/* Charts as gnuplot scripts. Each chart is two small text files a student
 * can read and edit: NAME.dat (the numbers) and NAME.gp (how to draw them),
 * run from the output folder with `gnuplot NAME.gp`. Rendering the PNG is a
 * convenience on top: when gnuplot is missing, the run still succeeds and
 * says how to render later.
 *
 * Quoting, because two different languages are written here:
 *  - in NAME.gp, text goes in single quotes, where gnuplot takes every
 *    character literally except '' (a doubled quote is one quote);
 *  - in NAME.dat, labels go in double quotes so spaces work. gnuplot's data
 *    reader has no escape for a double quote inside such a string, so a "
 *    in a label is written as ' (and tabs/newlines as spaces).
 * Missing values (NaN, or a value a log axis cannot show) are written as
 * "?", which the scripts declare with `set datafile missing "?"`. */
#include "cs_plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cs_console.h"
#include "cs_outfile.h"

static int render_on = 1;

void cs_plot_set_render(int on)
{
    render_on = on != 0;
}

/* ---- writing the two files ---------------------------------------------- */

/* 'text' for a gnuplot script: single quotes, an embedded ' doubled. */
static void gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s == '\n' || *s == '\t' ? ' ' : *s, f);
    }
    fputc('\'', f);
}

/* "label" for a data file: " becomes ' (see the top of the file). */
static void dat_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        char c = *s;
        if (c == '"')
            c = '\'';
        else if (c == '\n' || c == '\t' || c == '\r')
            c = ' ';
        fputc(c, f);
    }
    fputc('"', f);
}

/* A number, or "?" when it cannot be drawn (NaN, Inf, or <= 0 on a log axis). */
static void dat_value(FILE *f, double v, int log_axis)
{
    if (!isfinite(v) || (log_axis && v <= 0))
        fputs("?", f);
    else
        fprintf(f, "%.9g", v);
}

/* The lines every script starts with. cs_png lets the renderer send the
 * picture to a temporary name; run by hand, the script writes NAME.png. */
static void gp_header_sized(FILE *f, const char *name, int width, int height)
{
    fprintf(f, "# %s.gp: run from this folder with `gnuplot %s.gp` (writes %s.png)\n", name, name, name);
    fprintf(f, "set terminal pngcairo size %d,%d noenhanced font \"sans,11\"\n", width, height);
    fprintf(f, "if (!exists(\"cs_png\")) cs_png = ");
    char png[CS_PATH_MAX];
    snprintf(png, sizeof png, "%s.png", name);
    gp_quote(f, png);
    fprintf(f, "\nset output cs_png\n");
    fprintf(f, "set datafile missing \"?\"\n");
}

static void gp_header(FILE *f, const char *name, const char *title)
{
    gp_header_sized(f, name, 1000, 600);
    fprintf(f, "set title ");
    gp_quote(f, title ? title : name);
    fputc('\n', f);
}

static void gp_label(FILE *f, const char *axis, const char *text)
{
    if (!text || !*text) return;
    fprintf(f, "set %slabel ", axis);
    gp_quote(f, text);
    fputc('\n', f);
}

/* The data file's name as a quoted gnuplot string. */
static void gp_datafile(FILE *f, const char *name)
{
    char dat[CS_PATH_MAX];
    snprintf(dat, sizeof dat, "%s.dat", name);
    gp_quote(f, dat);
}

/* Opens dir/name.EXT for an atomic write. */
static int open_chart_file(cs_outfile *o, const char *dir, const char *name, const char *ext)
{
    char file[CS_PATH_MAX], path[CS_PATH_MAX];
    snprintf(file, sizeof file, "%s.%s", name, ext);
    cs_path_join(path, sizeof path, dir, file);
    return cs_outfile_open(o, path);
}

/* Whole-number x (steps, threads, workers): whole-number ticks, at most
 * about ten. */
static void gp_whole_xtics(FILE *f, const double *x, int npoints, int logx)
{
    int whole = npoints > 0 && !logx;
    double xmin = 0, xmax = 0;
    for (int p = 0; p < npoints; p++) {
        whole &= x[p] == floor(x[p]);
        if (p == 0 || x[p] < xmin) xmin = x[p];
        if (p == 0 || x[p] > xmax) xmax = x[p];
    }
    if (whole) {
        int step = (int)ceil((xmax - xmin) / 10.0);
        fprintf(f, "set xtics %d\nset format x '%%.0f'\n", step > 0 ? step : 1);
    }
}

/* Smallest and largest positive finite values (for a log axis's range);
 * returns 0 when there is none. */
static int positive_range(const double *v, int n, double *lo, double *hi)
{
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i]) || v[i] <= 0) continue;
        if (!found || v[i] < *lo) *lo = v[i];
        if (!found || v[i] > *hi) *hi = v[i];
        found = 1;
    }
    return found;
}

int cs_plot_bars(const char *dir, const char *name, const char *title, const char *ylabel, int logy,
                 const char *const *labels, const double *values, const char *const *annotations, int n)
{
    return cs_plot_bars_ref(dir, name, title, ylabel, logy, labels, values, annotations, n, NAN, NULL);
}

int cs_plot_bars_ref(const char *dir, const char *name, const char *title, const char *ylabel, int logy,
                     const char *const *labels, const double *values, const char *const *annotations, int n, double ref,
                     const char *ref_label)
{
    /* Within a factor of 30 a log axis has one labelled tick or two: the
     * bars read better on a linear one (and the label then says so). */
    double lo = 1, hi = 1;
    int have = positive_range(values, n, &lo, &hi);
    if (isfinite(ref) && ref > 0) { /* the reference line stays inside the axis */
        if (!have || ref < lo) lo = ref;
        if (!have || ref > hi) hi = ref;
        have = 1;
    }
    char linear_label[256];
    if (logy && have && hi < 30 * lo) {
        logy = 0;
        const char *tag = ylabel ? strstr(ylabel, " (log scale)") : NULL;
        if (tag) {
            snprintf(linear_label, sizeof linear_label, "%.*s%s", (int)(tag - ylabel), ylabel, tag + 12);
            ylabel = linear_label;
        }
    }
    cs_outfile dat, gp;
    if (open_chart_file(&dat, dir, name, "dat") != 0) return -1;
    fprintf(dat.f, "# %s.dat: label, value%s\n", name, annotations ? ", annotation" : "");
    for (int i = 0; i < n; i++) {
        dat_quote(dat.f, labels[i]);
        fputc(' ', dat.f);
        dat_value(dat.f, values[i], logy);
        if (annotations) {
            fputc(' ', dat.f);
            dat_quote(dat.f, annotations[i] ? annotations[i] : "");
        }
        fputc('\n', dat.f);
    }
    if (cs_outfile_commit(&dat) != 0) return -1;

    if (open_chart_file(&gp, dir, name, "gp") != 0) return -1;
    FILE *f = gp.f;
    gp_header(f, name, title);
    gp_label(f, "y", ylabel);
    fprintf(f, "set grid ytics\n");
    fprintf(f, "set key off\n");
    fprintf(f, "set style fill solid 0.8 border -1\n");
    fprintf(f, "set boxwidth 0.6\n");
    fprintf(f, "set xrange [-0.5:%d.5]\n", n > 0 ? n - 1 : 0);
    if (n > 8) fprintf(f, "set xtics rotate by -30\n"); /* many labels: slant them */
    /* The axis fits the data: gnuplot's autoscale rounds a log axis out to
     * the next powers of ten (1e+06 above bars near 1e+04). Below the
     * smallest bar, so it stays visible; above the tallest, room for its
     * annotation. */
    if (logy) {
        fprintf(f, "set logscale y\n");
        if (have) fprintf(f, "set yrange [%.6g:%.6g]\n", lo / 3, hi * 3);
    } else {
        fprintf(f, have ? "set yrange [0:%.6g]\n" : "set yrange [0:*]\n", hi * 1.15);
    }
    if (isfinite(ref)) { /* e.g. the baseline's 1.0x under speedup bars */
        fprintf(f, "set arrow from graph 0, first %.9g to graph 1, first %.9g nohead dt 2 lw 2 lc rgb \"#cc3311\"\n",
                ref, ref);
        if (ref_label) {
            fprintf(f, "set label ");
            gp_quote(f, ref_label);
            fprintf(f, " at graph 0.01, first %.9g offset 0,0.8 tc rgb \"#cc3311\"\n", ref);
        }
    }
    fprintf(f, "plot ");
    gp_datafile(f, name);
    fprintf(f, " using 0:2:xtic(1) with boxes lc rgb \"#4477aa\" notitle");
    if (annotations) fprintf(f, ", \\\n     '' using 0:2:3 with labels offset 0,1 notitle");
    fputc('\n', f);
    return cs_outfile_commit(&gp);
}

/* NAME.dat of a line chart: x, then one column per series (y row-major
 * [series][point]). */
static int write_lines_dat(const char *dir, const char *name, const char *const *series, int nseries, const double *x,
                           const double *y, int npoints, int logx, int logy)
{
    cs_outfile dat;
    if (open_chart_file(&dat, dir, name, "dat") != 0) return -1;
    fprintf(dat.f, "# %s.dat: x", name);
    for (int s = 0; s < nseries; s++) {
        fputc(' ', dat.f);
        dat_quote(dat.f, series[s]);
    }
    fputc('\n', dat.f);
    for (int p = 0; p < npoints; p++) {
        dat_value(dat.f, x[p], logx);
        for (int s = 0; s < nseries; s++) {
            fputc(' ', dat.f);
            dat_value(dat.f, y[(size_t)s * npoints + p], logy);
        }
        fputc('\n', dat.f);
    }
    return cs_outfile_commit(&dat);
}

int cs_plot_lines(const char *dir, const char *name, const char *title, const char *xlabel, const char *ylabel,
                  int logx, int logy, const char *const *series, int nseries, const double *x, const double *y,
                  int npoints, const char *extra_gp)
{
    cs_outfile gp;
    if (write_lines_dat(dir, name, series, nseries, x, y, npoints, logx, logy) != 0) return -1;
    if (open_chart_file(&gp, dir, name, "gp") != 0) return -1;
    FILE *f = gp.f;
    gp_header(f, name, title);
    gp_label(f, "x", xlabel);
    gp_label(f, "y", ylabel);
    fprintf(f, "set grid\n");
    fprintf(f, "set key top left\n");
    if (logx) fprintf(f, "set logscale x\n");
    if (logy) fprintf(f, "set logscale y\n");
    gp_whole_xtics(f, x, npoints, logx);
    if (extra_gp && *extra_gp) {
        fputs(extra_gp, f);
        if (extra_gp[strlen(extra_gp) - 1] != '\n') fputc('\n', f);
    }
    fprintf(f, "plot ");
    for (int s = 0; s < nseries; s++) {
        if (s == 0)
            gp_datafile(f, name);
        else
            fprintf(f, ", \\\n     ''");
        fprintf(f, " using 1:%d with linespoints lw 2 pt 7 title ", s + 2);
        gp_quote(f, series[s]);
    }
    if (nseries == 0) fprintf(f, "NaN notitle"); /* a valid, empty plot */
    fputc('\n', f);
    return cs_outfile_commit(&gp);
}

int cs_plot_lines2(const char *dir, const char *name, const char *title, const char *xlabel, const char *y1label,
                   const char *y2label, const double *x, const double *y1, const double *y2, int npoints)
{
    const char *series[2] = {y1label, y2label};
    double *y = malloc(2 * (size_t)(npoints > 0 ? npoints : 1) * sizeof *y);
    if (y == NULL) return -1;
    for (int p = 0; p < npoints; p++) {
        y[p] = y1[p];
        y[npoints + p] = y2[p];
    }
    int rc = write_lines_dat(dir, name, series, 2, x, y, npoints, 0, 0);
    free(y);
    cs_outfile gp;
    if (rc != 0 || open_chart_file(&gp, dir, name, "gp") != 0) return -1;
    FILE *f = gp.f;
    gp_header(f, name, title);
    gp_label(f, "x", xlabel);
    gp_label(f, "y", y1label);
    gp_label(f, "y2", y2label);
    /* Two quantities in two units: each on its own axis, from zero, so
     * neither line's slope is exaggerated. */
    fprintf(f, "set grid\nset key bottom center\nset ytics nomirror\nset y2tics\n");
    fprintf(f, "set yrange [0:*]\nset y2range [0:*]\n");
    gp_whole_xtics(f, x, npoints, 0);
    fprintf(f, "plot ");
    gp_datafile(f, name);
    fprintf(f, " using 1:2 axes x1y1 with linespoints lw 2 pt 7 title ");
    gp_quote(f, y1label);
    fprintf(f, ", \\\n     '' using 1:3 axes x1y2 with linespoints lw 2 pt 5 dt 2 title ");
    gp_quote(f, y2label);
    fputc('\n', f);
    return cs_outfile_commit(&gp);
}

int cs_plot_stacked(const char *dir, const char *name, const char *title, const char *ylabel, const char *const *groups,
                    int ngroups, const char *const *parts, int nparts, const double *v)
{
    /* Each bar is its group's time split into shares (100% tall), its total
     * written above it: with raw heights, a rung 100x faster than the first
     * would be a sliver whose split nobody could read. */
    cs_outfile dat, gp;
    if (open_chart_file(&dat, dir, name, "dat") != 0) return -1;
    fprintf(dat.f, "# %s.dat: group, total (%s)", name, ylabel ? ylabel : "");
    for (int p = 0; p < nparts; p++) {
        fputs(", % ", dat.f);
        dat_quote(dat.f, parts[p]);
    }
    fputc('\n', dat.f);
    for (int g = 0; g < ngroups; g++) {
        double total = 0;
        for (int p = 0; p < nparts; p++) {
            double val = v[(size_t)g * nparts + p];
            if (isfinite(val)) total += val;
        }
        dat_quote(dat.f, groups[g]);
        fprintf(dat.f, " %.9g", total);
        for (int p = 0; p < nparts; p++) {
            double val = v[(size_t)g * nparts + p];
            /* A part a group does not have adds nothing to its bar: 0, not
             * "?" (a missing cell would leave a hole in the stack). */
            fprintf(dat.f, " %.9g", isfinite(val) && total > 0 ? 100.0 * val / total : 0.0);
        }
        fputc('\n', dat.f);
    }
    if (cs_outfile_commit(&dat) != 0) return -1;

    if (open_chart_file(&gp, dir, name, "gp") != 0) return -1;
    FILE *f = gp.f;
    gp_header(f, name, title);
    char label[256];
    snprintf(label, sizeof label, "%% of the bar's total (the total above it, in %s)", ylabel ? ylabel : "");
    gp_label(f, "y", label);
    fprintf(f, "set grid ytics\n");
    fprintf(f, "set style data histograms\n");
    fprintf(f, "set style histogram rowstacked\n");
    fprintf(f, "set style fill solid 0.8 border -1\n");
    fprintf(f, "set boxwidth 0.6\n");
    fprintf(f, "set key below horizontal\n");
    fprintf(f, "set yrange [0:112]\n");
    fprintf(f, "set ytics 0, 20, 100\n");
    if (ngroups > 8) fprintf(f, "set xtics rotate by -30\n");
    fprintf(f, "plot ");
    for (int p = 0; p < nparts; p++) {
        if (p == 0)
            gp_datafile(f, name);
        else
            fprintf(f, ", \\\n     ''");
        if (p == 0)
            fprintf(f, " using 3:xtic(1) title ");
        else
            fprintf(f, " using %d title ", p + 3);
        gp_quote(f, parts[p]);
    }
    if (nparts == 0) {
        fprintf(f, "NaN notitle");
    } else {
        fprintf(f, ", \\\n     '' using 0:(104):(sprintf(\"%%.4g\", $2)) with labels notitle");
    }
    fputc('\n', f);
    return cs_outfile_commit(&gp);
}

/* ---- rendering ------------------------------------------------------------ */

int cs_have_gnuplot(void)
{
    /* The PATH search execvp would do, done here without running anything. */
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char file[CS_PATH_MAX];
        if (len == 0)
            snprintf(file, sizeof file, "gnuplot"); /* empty entry: current folder */
        else
            snprintf(file, sizeof file, "%.*s/gnuplot", (int)len, p);
        struct stat st;
        if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0) return 1;
        if (!colon) return 0;
        p = colon + 1;
    }
}

/* Runs `gnuplot -e "cs_png='TMP'" NAME.gp` inside dir, without a shell (no
 * quoting problems with odd folder names, nothing for a shell to expand).
 * gnuplot's stderr is read through a pipe so that a failure can be shown
 * in one line; its stdout goes to /dev/null. Returns the exit status, or
 * -1 when it could not be started; err holds the first line gnuplot wrote. */
static int run_gnuplot(const char *dir, const char *script, const char *tmp_png, char *err, size_t errlen)
{
    /* gnuplot -e takes a command: the name in a single-quoted string. */
    char assign[CS_PATH_MAX + 16];
    size_t k = (size_t)snprintf(assign, sizeof assign, "cs_png='");
    for (const char *s = tmp_png; *s && k + 3 < sizeof assign; s++) {
        if (*s == '\'') assign[k++] = '\'';
        assign[k++] = *s;
    }
    assign[k++] = '\'';
    assign[k] = '\0';

    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
        if (chdir(dir) != 0) {
            static const char msg[] = "cannot enter the output folder\n";
            (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
            _exit(127);
        }
        char *argv[] = {"gnuplot", "-e", assign, (char *)script, NULL};
        execvp("gnuplot", argv);
        static const char msg[] = "cannot run gnuplot\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }

    /* Parent: keep the first errlen-1 bytes of stderr, drain the rest so
     * gnuplot never blocks on a full pipe. */
    close(fds[1]);
    size_t got = 0;
    char chunk[512];
    for (;;) {
        ssize_t r = read(fds[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        for (ssize_t i = 0; i < r && got + 1 < errlen; i++) err[got++] = chunk[i];
    }
    close(fds[0]);
    err[got] = '\0';

    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "waitpid: %s", strerror(errno));
            return -1;
        }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    snprintf(err, errlen, "gnuplot killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return -1;
}

/* The most telling line of gnuplot's messages, on one line: the last one
 * that is not blank (gnuplot ends with the error after echoing the
 * command and a caret). */
static const char *last_line(char *text)
{
    char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r')) *--end = '\0';
    char *nl = strrchr(text, '\n');
    const char *line = nl ? nl + 1 : text;
    while (*line == ' ' || *line == '\t') line++;
    return *line ? line : "no message";
}

int cs_plot_render(const char *dir, const char *name)
{
    if (!render_on) return 0;
    if (!cs_have_gnuplot()) {
        if (!cs_brief())
            printf("  chart %s: gnuplot not found; render it with: cd %s && gnuplot %s.gp"
                   "   (apt-get install gnuplot-nox)\n",
                   name, dir, name);
        return 0;
    }

    char script[CS_PATH_MAX], png[CS_PATH_MAX], tmp[CS_PATH_MAX];
    char png_path[CS_PATH_MAX], tmp_path[CS_PATH_MAX];
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(png, sizeof png, "%s.png", name);
    snprintf(tmp, sizeof tmp, "%s.png.tmp", name);
    cs_path_join(png_path, sizeof png_path, dir, png);
    cs_path_join(tmp_path, sizeof tmp_path, dir, tmp);

    /* gnuplot writes its output file while it draws, so it draws to a
     * temporary name that is renamed only when it finished well. */
    char err[1024];
    int rc = run_gnuplot(dir, script, tmp, err, sizeof err);
    struct stat st;
    int tmp_ok = stat(tmp_path, &st) == 0 && st.st_size > 0;
    int rename_errno = 0;
    if (rc == 0 && tmp_ok) {
        if (rename(tmp_path, png_path) == 0) {
            if (!cs_brief()) printf("  chart: %s\n", png_path);
            return 0;
        }
        rename_errno = errno;
    }
    unlink(tmp_path);
    if (rc == 0) {
        if (tmp_ok)
            cs_error("chart %s: cannot rename to %s: %s", name, png_path, strerror(rename_errno));
        else
            cs_error("chart %s: gnuplot wrote no picture (%s)", name, last_line(err));
    } else if (rc > 0) {
        cs_error("chart %s: gnuplot failed (exit %d): %s", name, rc, last_line(err));
    } else {
        cs_error("chart %s: %s", name, last_line(err));
    }
    return -1;
}

/* ---- panels of bars ------------------------------------------------------ */

/* NAME.dat of cs_plot_panels: the label, then each panel's value and
 * annotation. */
static int write_panels_dat(const char *dir, const char *name, const char *const *labels, int n,
                            const cs_plot_panel *panels, int npanels)
{
    cs_outfile dat;
    if (open_chart_file(&dat, dir, name, "dat") != 0) return -1;
    fprintf(dat.f, "# %s.dat: label, then a value and an annotation per panel:", name);
    for (int p = 0; p < npanels; p++) fprintf(dat.f, " %s;", panels[p].title ? panels[p].title : "");
    fputc('\n', dat.f);
    for (int i = 0; i < n; i++) {
        dat_quote(dat.f, labels[i]);
        for (int p = 0; p < npanels; p++) {
            fputc(' ', dat.f);
            dat_value(dat.f, panels[p].values[i], 0);
            fputc(' ', dat.f);
            dat_quote(dat.f, panels[p].annotations && panels[p].annotations[i] ? panels[p].annotations[i] : "");
        }
        fputc('\n', dat.f);
    }
    return cs_outfile_commit(&dat);
}

/* One panel: its title, axis and reference line, then its bars. */
static void gp_panel(FILE *f, const char *name, const cs_plot_panel *panel, int column, int n)
{
    double hi = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(panel->values[i]) && panel->values[i] > hi) hi = panel->values[i];
    if (isfinite(panel->ref) && panel->ref > hi) hi = panel->ref;
    fprintf(f, "unset arrow\nunset label\nset title ");
    gp_quote(f, panel->title ? panel->title : "");
    fputc('\n', f);
    fprintf(f, "set ylabel ");
    gp_quote(f, panel->ylabel ? panel->ylabel : "");
    fprintf(f, hi > 0 ? "\nset yrange [0:%.6g]\n" : "\nset yrange [0:*]\n", hi * 1.18);
    if (isfinite(panel->ref)) {
        fprintf(f, "set arrow from graph 0, first %.9g to graph 1, first %.9g nohead dt 2 lw 2 lc rgb \"#cc3311\"\n",
                panel->ref, panel->ref);
        if (panel->ref_label) {
            fprintf(f, "set label ");
            gp_quote(f, panel->ref_label);
            fprintf(f, " at graph 0.01, first %.9g offset 0,0.8 tc rgb \"#cc3311\"\n", panel->ref);
        }
    }
    fprintf(f, "plot ");
    gp_datafile(f, name);
    if (panel->line)
        fprintf(f, " using 0:%d:xtic(1) with linespoints lw 2 pt 7 ps 1.2 lc rgb \"#4477aa\" notitle, \\\n", column);
    else
        fprintf(f, " using 0:%d:xtic(1) with boxes lc rgb \"#4477aa\" notitle, \\\n", column);
    fprintf(f, "     '' using 0:%d:%d with labels offset 0,1 notitle\n", column, column + 1);
}

int cs_plot_panels(const char *dir, const char *name, const char *title, const char *const *labels, int n,
                   const cs_plot_panel *panels, int npanels)
{
    return cs_plot_panels_grid(dir, name, title, labels, n, panels, npanels, 1, npanels);
}

int cs_plot_panels_grid(const char *dir, const char *name, const char *title, const char *const *labels, int n,
                        const cs_plot_panel *panels, int npanels, int rows, int cols)
{
    if (write_panels_dat(dir, name, labels, n, panels, npanels) != 0) return -1;
    cs_outfile gp;
    if (open_chart_file(&gp, dir, name, "gp") != 0) return -1;
    FILE *f = gp.f;
    gp_header_sized(f, name, 480 * cols + 100, rows == 1 ? 560 : 480 * rows + 80);
    fprintf(f, "set multiplot layout %d,%d title ", rows, cols);
    gp_quote(f, title ? title : name);
    fprintf(f, "\nset grid ytics\nset key off\nset style fill solid 0.8 border -1\nset boxwidth 0.6\n");
    fprintf(f, "set xrange [-0.5:%d.5]\n", n > 0 ? n - 1 : 0);
    if (n > 5 || (n > 3 && cols > 1 && rows > 1)) fprintf(f, "set xtics rotate by -30\n");
    for (int p = 0; p < npanels; p++) gp_panel(f, name, &panels[p], 2 + 2 * p, n);
    fprintf(f, "unset multiplot\n");
    return cs_outfile_commit(&gp);
}
