/* The opening every case's main shares: the command line, the console and
 * charts set up from it, and which devices the run uses. */
#ifndef CS_CASE_H
#define CS_CASE_H

#include "cs_cli.h"
#include "cs_report.h"
#include "cs_sysinfo.h"

/* Parses the command line (cs_cli_parse), then sets up the console
 * (program name, --brief) and chart rendering (--no-plot). Returns 0 to go
 * on, -1 when --help or --version was printed (exit 0), or 2 on bad usage
 * (one line printed). */
int cs_case_begin(int argc, char **argv, const cs_cli_spec *spec, cs_options *opt);

typedef struct {
    int want_cpu, want_gpu; /* --device allows CPU / GPU variants */
    int run_gpu;            /* GPU variants wanted and a usable GPU found */
    char why[256];          /* why GPU variants do not run ("--device cpu", or the probe's reason) */
} cs_devices;

/* Reads --device and probes the GPU (cs_gpu_probe). Returns 0, or 3 after
 * one line "--device gpu: <reason>" when a GPU was demanded and none is
 * usable. */
int cs_case_devices(const cs_options *opt, cs_devices *d);

/* Why the GPU variants did not run, for a line after the Scenario: `said`
 * (a pointer back, e.g. "no GPU (above)") when the reason is the probe's,
 * which the Scenario's GPU line gives already; else the reason itself
 * ("--device cpu"). */
const char *cs_devices_why_not(const cs_devices *d, const cs_sysinfo *s, const char *said);

/* Writes DIR/results.csv, results.json (cs_report_write) and trace.json
 * (the profiler's), then, unless --brief, the line naming them. Returns 0,
 * or 3 when a file could not be written (one line printed). */
int cs_case_write_results(const cs_report *r, const cs_sysinfo *s, const char *dir);

#endif
