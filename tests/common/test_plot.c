/* Charts: the .gp and .dat files of each chart type (contents, quoting,
 * missing values), the PATH search for gnuplot, and rendering when gnuplot
 * is installed (a real PNG; a broken script gives -1 and leaves nothing). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_test.h"
#include "json_validate.h" /* read_whole_file */
#include "cs_console.h"
#include "cs_plot.h"

static char tmp[] = "/tmp/cs_test_plot_XXXXXX";

static char *read_chart(const char *name, const char *ext)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s", tmp, name, ext);
    return read_whole_file(path);
}

static int exists(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return access(path, F_OK) == 0;
}

static void remove_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    unlink(path);
}

/* Lines every script must have. */
static void check_common_script(const char *gp, const char *name)
{
    char line[256];
    CHECK(strstr(gp, "set terminal pngcairo size 1000,600 noenhanced font \"sans,11\"\n") != NULL);
    snprintf(line, sizeof line, "if (!exists(\"cs_png\")) cs_png = '%s.png'\n", name);
    CHECK(strstr(gp, line) != NULL);
    CHECK(strstr(gp, "set output cs_png\n") != NULL);
    CHECK(strstr(gp, "set datafile missing \"?\"\n") != NULL);
    snprintf(line, sizeof line, "plot '%s.dat' using ", name);
    CHECK(strstr(gp, line) != NULL);
}

static void test_bars(void)
{
    const char *labels[] = {"cpu_naive", "say \"hi\"", "it's"};
    const double values[] = {1.0, NAN, 350.0};
    const char *notes[] = {"1.0x", NULL, "350x"};
    CHECK(cs_plot_bars(tmp, "bars", "Time's up", "seconds", 1, labels, values, notes, 3) == 0);
    char *dat = read_chart("bars", "dat"), *gp = read_chart("bars", "gp");
    CHECK(dat && gp);
    if (dat && gp) {
        CHECK(strstr(dat, "\n\"cpu_naive\" 1 \"1.0x\"\n") != NULL);
        /* gnuplot data files have no escape for ": it becomes '. */
        CHECK(strstr(dat, "\n\"say 'hi'\" ? \"\"\n") != NULL);
        CHECK(strstr(dat, "\n\"it's\" 350 \"350x\"\n") != NULL);
        check_common_script(gp, "bars");
        CHECK(strstr(gp, "set title 'Time''s up'\n") != NULL);
        CHECK(strstr(gp, "set ylabel 'seconds'\n") != NULL);
        CHECK(strstr(gp, "set logscale y\n") != NULL);
        /* The axis fits the data: a third below the smallest, three times the tallest. */
        CHECK(strstr(gp, "set yrange [0.333333:1050]\n") != NULL);
        CHECK(strstr(gp, "set style fill solid 0.8 border -1\n") != NULL);
        CHECK(strstr(gp, "with boxes") != NULL);
        CHECK(strstr(gp, "using 0:2:3 with labels offset 0,1") != NULL);
    }
    free(dat);
    free(gp);

    /* Within a factor of 30 a log axis is dropped, and its label says so. */
    const double close[] = {1.0, 2.0, 3.0};
    CHECK(cs_plot_bars(tmp, "bars_close", "t", "rate (log scale)", 1, labels, close, NULL, 3) == 0);
    gp = read_chart("bars_close", "gp");
    CHECK(gp && !strstr(gp, "logscale") && strstr(gp, "set ylabel 'rate'\n") && strstr(gp, "set yrange [0:3.45]\n"));
    free(gp);

    /* Linear scale and no annotations: no log, no labels plot. */
    CHECK(cs_plot_bars(tmp, "bars_lin", "t", "y", 0, labels, values, NULL, 3) == 0);
    gp = read_chart("bars_lin", "gp");
    CHECK(gp && !strstr(gp, "logscale") && !strstr(gp, "with labels"));
    free(gp);
}

/* Whole-number x on a linear axis (steps, threads): whole-number ticks. */
static void test_lines_whole_ticks(void)
{
    const char *series[] = {"rate"};
    const double x[] = {1, 2}, y[] = {3.0, 5.0};
    CHECK(cs_plot_lines(tmp, "whole", "t", "threads", "r", 0, 0, series, 1, x, y, 2, NULL) == 0);
    char *gp = read_chart("whole", "gp");
    CHECK(gp && strstr(gp, "set xtics 1\nset format x '%.0f'\n"));
    free(gp);
    const double xf[] = {0.5, 2.0};
    CHECK(cs_plot_lines(tmp, "frac", "t", "x", "r", 0, 0, series, 1, xf, y, 2, NULL) == 0);
    gp = read_chart("frac", "gp");
    CHECK(gp && !strstr(gp, "set xtics"));
    free(gp);
}

static void test_lines(void)
{
    const char *series[] = {"cpu", "gpu \"x\""};
    const double x[] = {1, 2, 4};
    const double y[] = {1.0, 2.0, 4.0,  /* cpu */
                        NAN, 0.5, 0.0}; /* gpu: missing, then a 0 a log axis cannot show */
    const char *extra = "set arrow from 2, graph 0 to 2, graph 1 nohead";
    CHECK(cs_plot_lines(tmp, "lines", "scaling", "n", "time (s)", 1, 1, series, 2, x, y, 3, extra) == 0);
    char *dat = read_chart("lines", "dat"), *gp = read_chart("lines", "gp");
    CHECK(dat && gp);
    if (dat && gp) {
        CHECK(strstr(dat, "# lines.dat: x \"cpu\" \"gpu 'x'\"\n") != NULL);
        CHECK(strstr(dat, "\n1 1 ?\n2 2 0.5\n4 4 ?\n") != NULL);
        check_common_script(gp, "lines");
        CHECK(strstr(gp, "set key top left\n") != NULL);
        CHECK(strstr(gp, "set logscale x\n") != NULL);
        CHECK(strstr(gp, "set logscale y\n") != NULL);
        CHECK(strstr(gp, "set xlabel 'n'\n") != NULL);
        CHECK(strstr(gp, "using 1:2 with linespoints") != NULL);
        CHECK(strstr(gp, "using 1:3 with linespoints") != NULL);
        CHECK(strstr(gp, "title 'gpu \"x\"'") != NULL);
        /* The extra commands come before the plot command. */
        const char *arrow = strstr(gp, extra), *plot = strstr(gp, "\nplot ");
        CHECK(arrow && plot && arrow < plot);
    }
    free(dat);
    free(gp);
}

static void test_stacked(void)
{
    const char *groups[] = {"slow", "fast one"};
    const char *parts[] = {"h2d", "kernel", "d2h"};
    const double v[] = {1.0, 2.0, 0.5, 0.1, NAN, 0.05}; /* a part a group does not have: 0 */
    CHECK(cs_plot_stacked(tmp, "stack", "where the time went", "ms", groups, 2, parts, 3, v) == 0);
    char *dat = read_chart("stack", "dat"), *gp = read_chart("stack", "gp");
    CHECK(dat && gp);
    if (dat && gp) {
        /* Each group's total, then its parts as shares of it. */
        CHECK(strstr(dat, "\n\"slow\" 3.5 28.5714286 57.1428571 14.2857143\n") != NULL);
        CHECK(strstr(dat, "\n\"fast one\" 0.15 66.6666667 0 33.3333333\n") != NULL);
        check_common_script(gp, "stack");
        CHECK(strstr(gp, "set style data histograms\n") != NULL);
        CHECK(strstr(gp, "set style histogram rowstacked\n") != NULL);
        CHECK(strstr(gp, "set boxwidth 0.6\n") != NULL);
        CHECK(strstr(gp, "set key below horizontal\n") != NULL);
        CHECK(strstr(gp, "using 3:xtic(1) title 'h2d'") != NULL);
        CHECK(strstr(gp, "using 5 title 'd2h'") != NULL);
        CHECK(strstr(gp, "with labels notitle") != NULL); /* the totals above the bars */
    }
    free(dat);
    free(gp);

    /* A folder that does not exist: -1, nothing written. */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such", tmp);
    CHECK(cs_plot_stacked(bad, "stack", "t", "ms", groups, 2, parts, 3, v) == -1);
}

static void test_panels(void)
{
    const char *labels[] = {"fp32", "tf32", "fp16"};
    const double ips[] = {400.0, NAN, 600.0}, mib[] = {200.0, NAN, 150.0}, x[] = {1.0, NAN, 1.5};
    const char *notes[] = {"1.00x", NULL, "1.50x"};
    const cs_plot_panel panels[] = {
        {"throughput", "images/s", ips, NULL, NAN, NULL, 0},
        {"peak memory", "MiB", mib, NULL, NAN, NULL, 0},
        {"speedup", "x over fp32", x, notes, 1.0, "fp32", 0},
    };
    CHECK(cs_plot_panels(tmp, "panels", "amp", labels, 3, panels, 3) == 0);
    char *dat = read_chart("panels", "dat"), *gp = read_chart("panels", "gp");
    CHECK(dat && gp);
    if (dat && gp) {
        CHECK(strstr(dat, "\n\"fp32\" 400 \"\" 200 \"\" 1 \"1.00x\"\n") != NULL);
        CHECK(strstr(dat, "\n\"tf32\" ? \"\" ? \"\" ? \"\"\n") != NULL); /* a skipped row: no bars */
        CHECK(strstr(gp, "set terminal pngcairo size 1540,560 noenhanced") != NULL);
        CHECK(strstr(gp, "set multiplot layout 1,3 title 'amp'\n") != NULL);
        CHECK(strstr(gp, "set title 'peak memory'\n") != NULL);
        CHECK(strstr(gp, "using 0:4:xtic(1) with boxes") != NULL); /* the second panel's column */
        CHECK(strstr(gp, "using 0:6:7 with labels") != NULL);      /* the third's annotations */
        CHECK(strstr(gp, "set label 'fp32' at graph 0.01, first 1 ") != NULL);
        CHECK(strstr(gp, "unset multiplot\n") != NULL);
    }
    free(dat);
    free(gp);
}

/* cs_have_gnuplot searches PATH itself: a fake gnuplot proves it. */
static void test_path_search(void)
{
    const char *saved = getenv("PATH");
    char *old_path = saved ? strdup(saved) : NULL;
    char fake_dir[600], fake[700];
    snprintf(fake_dir, sizeof fake_dir, "%s/fakebin", tmp);
    mkdir(fake_dir, 0755);
    snprintf(fake, sizeof fake, "%s/gnuplot", fake_dir);
    FILE *f = fopen(fake, "w");
    CHECK(f != NULL);
    if (f) fclose(f);

    setenv("PATH", fake_dir, 1);
    chmod(fake, 0644);
    CHECK(cs_have_gnuplot() == 0); /* there, but not executable */
    chmod(fake, 0755);
    CHECK(cs_have_gnuplot() == 1);
    unlink(fake);
    CHECK(cs_have_gnuplot() == 0);

    /* No gnuplot: render says how to do it later and succeeds. */
    CHECK(cs_plot_render(tmp, "bars") == 0);
    CHECK(!exists("bars.png"));

    rmdir(fake_dir);
    if (old_path)
        setenv("PATH", old_path, 1);
    else
        unsetenv("PATH");
    free(old_path);
}

static int is_png(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char sig[8] = {0};
    size_t got = fread(sig, 1, sizeof sig, f);
    fclose(f);
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return got == 8 && memcmp(sig, png_sig, 8) == 0;
}

static void test_render(void)
{
    /* Rendering off (--no-plot): nothing happens, whatever is installed. */
    cs_plot_set_render(0);
    CHECK(cs_plot_render(tmp, "bars") == 0);
    CHECK(!exists("bars.png"));
    cs_plot_set_render(1);

    if (!cs_have_gnuplot()) {
        printf("gnuplot not installed: rendering checks skipped\n");
        return;
    }
    const char *charts[] = {"bars", "bars_lin", "lines", "stack", "panels"};
    for (int i = 0; i < 5; i++) {
        char png[64], tmp_png[64];
        snprintf(png, sizeof png, "%s.png", charts[i]);
        snprintf(tmp_png, sizeof tmp_png, "%s.png.tmp", charts[i]);
        CHECK(cs_plot_render(tmp, charts[i]) == 0);
        CHECK(is_png(png));
        CHECK(!exists(tmp_png));
    }

    /* A broken script: -1, and neither the picture nor its temporary. */
    char path[600];
    snprintf(path, sizeof path, "%s/broken.gp", tmp);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "set terminal pngcairo\n"
               "if (!exists(\"cs_png\")) cs_png = 'broken.png'\n"
               "set output cs_png\n"
               "plot 'no_such_file.dat' using 1:2 with lines\n");
    fclose(f);
    CHECK(cs_plot_render(tmp, "broken") == -1);
    CHECK(!exists("broken.png"));
    CHECK(!exists("broken.png.tmp"));

    /* A script that is not gnuplot at all. */
    f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "this is not a gnuplot command\n");
    fclose(f);
    CHECK(cs_plot_render(tmp, "broken") == -1);
    CHECK(!exists("broken.png"));
    CHECK(!exists("broken.png.tmp"));
    remove_file("broken.gp");

    /* A chart whose script is missing. */
    CHECK(cs_plot_render(tmp, "no_such_chart") == -1);
}

int main(void)
{
    cs_console_init("test_plot", 0);
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_bars();
    test_lines();
    test_stacked();
    test_panels();
    test_lines_whole_ticks();
    test_path_search();
    test_render();

    const char *names[] = {"bars", "bars_lin", "lines", "stack", "panels"};
    const char *exts[] = {"dat", "gp", "png"};
    for (int i = 0; i < 5; i++)
        for (int e = 0; e < 3; e++) {
            char file[64];
            snprintf(file, sizeof file, "%s.%s", names[i], exts[e]);
            remove_file(file);
        }
    rmdir(tmp);
    return cs_test_done();
}
