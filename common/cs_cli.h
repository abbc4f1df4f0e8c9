/* The command line every case shares (getopt_long), plus the case's own
 * options. Common options:
 *   --help --version --quick --brief --repeat N --warmup N --variant a,b
 *   --out DIR --seed N --threads N --device cpu|gpu|auto --no-plot --no-ceilings
 * Bad values give one line on stderr naming the option and exit code 2. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdint.h>
#include "cs_outfile.h"

typedef struct {
    int quick;                 /* --quick: finish in seconds */
    int brief;                 /* --brief: only the final table */
    int no_plot;               /* --no-plot: write .gp/.dat but do not call gnuplot */
    int no_ceilings;           /* --no-ceilings: skip the ceilings (about 1 s, 512 MB): tests */
    int repeat;                /* --repeat N (1..1000); -1 = case default */
    int warmup;                /* --warmup N (0..100); -1 = case default */
    int threads;               /* --threads N (1..1024); 0 = OpenMP's default */
    uint64_t seed;             /* --seed N; default 42 */
    char device[8];            /* "cpu", "gpu" or "auto" (default) */
    char out_dir[CS_PATH_MAX]; /* --out DIR; default "results/<case>" */
    char variants[1024];       /* --variant a,b,...; "" = all */
} cs_options;

typedef struct {
    const char *name; /* long option without the dashes, e.g. "n" */
    const char *arg;  /* argument name for --help ("N"), NULL for a flag */
    const char *help; /* one line */
} cs_case_option;

/* Called for each case option seen: index into spec->options, its argument
 * (NULL for a flag). Returns 0, or 2 after printing a one-line error (use
 * cs_parse_long and friends, which print it). */
typedef int (*cs_option_handler)(int index, const char *arg, void *ctx);

typedef struct {
    const char *prog;              /* executable name, e.g. "case03_gpu_migration" */
    const char *summary;           /* one line for --help */
    const char *usage_notes;       /* extra --help paragraph (may be NULL) */
    const cs_case_option *options; /* the case's own options */
    int n_options;
    cs_option_handler handler;
    void *ctx;
    const char *const *variant_names; /* valid --variant values */
    int n_variants;
    /* Where each variant runs, parallel to variant_names: "cpu", "gpu" or
     * NULL (either). Without the array a name starting with "cpu" or "gpu"
     * says it. --variant X with a --device that excludes X is bad usage. */
    const char *const *variant_devices;
    /* What exit code 1 means in --help's exit codes (default: "a
     * correctness check failed"). Notes holding their own "Exit codes"
     * paragraph replace the common one. */
    const char *exit_1;
} cs_cli_spec;

/* Parses argv. Returns 0 to go on, -1 when --help or --version was printed
 * (exit 0), or 2 on bad usage (one line printed). Fills o with defaults
 * first; out_dir defaults to "results/<prog>". Applies --threads to OpenMP
 * and starts the OpenMP team once, so that threads which cannot be created
 * are exit code 3 with one line now, not libgomp's exit(1) in mid-run. */
int cs_cli_parse(int argc, char **argv, const cs_cli_spec *spec, cs_options *o);

/* 1 if variant `name` was asked for (or --variant was not given). */
int cs_variant_selected(const cs_options *o, const char *name);

/* Number parsing with messages: "prog: --n: 'abc' is not an integer",
 * "prog: --n: 0 is out of range (16..16384)". Return 0 or 2. */
int cs_parse_long(const char *opt, const char *arg, long min, long max, long *out);
int cs_parse_double(const char *opt, const char *arg, double min, double max, double *out);
int cs_parse_u64(const char *opt, const char *arg, uint64_t *out);

/* The suite's version string. */
const char *cs_version(void);

#endif
