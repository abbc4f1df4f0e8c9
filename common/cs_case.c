/* The opening every case's main shares (see cs_case.h). */
#include "cs_case.h"

#include <stdio.h>
#include <string.h>

#include "cs_console.h"
#include "cs_gpu.h"
#include "cs_outfile.h"
#include "cs_plot.h"
#include "cs_profiler.h"

int cs_case_begin(int argc, char **argv, const cs_cli_spec *spec, cs_options *opt)
{
    int rc = cs_cli_parse(argc, argv, spec, opt);
    if (rc) return rc;
    cs_console_init(spec->prog, opt->brief);
    cs_plot_set_render(!opt->no_plot);
    return 0;
}

int cs_case_devices(const cs_options *opt, cs_devices *d)
{
    memset(d, 0, sizeof *d);
    int gpu = cs_gpu_probe(d->why, sizeof d->why);
    d->want_cpu = strcmp(opt->device, "gpu") != 0;
    d->want_gpu = strcmp(opt->device, "cpu") != 0;
    if (strcmp(opt->device, "gpu") == 0 && !gpu) {
        cs_error("--device gpu: %s", d->why);
        return 3;
    }
    d->run_gpu = d->want_gpu && gpu;
    if (!d->want_gpu) snprintf(d->why, sizeof d->why, "--device cpu");
    return 0;
}

const char *cs_devices_why_not(const cs_devices *d, const cs_sysinfo *s, const char *said)
{
    return strcmp(d->why, s->gpu_name) == 0 ? said : d->why;
}

int cs_case_write_results(const cs_report *r, const cs_sysinfo *s, const char *dir)
{
    char path[CS_PATH_MAX];
    if (cs_report_write(r, s, dir) != 0) return 3;
    if (cs_prof_write_trace(cs_path_join(path, sizeof path, dir, "trace.json")) != 0) return 3;
    if (!cs_brief()) {
        cs_say("\n  Results: %s/results.csv, results.json, trace.json (open in ui.perfetto.dev)\n", dir);
        cs_prof_say_left_out();
    }
    return 0;
}
