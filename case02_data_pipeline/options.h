/* case02's command line: the common options (cs_cli.h) and the case's own,
 * which say where the input comes from and the shape of a generated one. */
#ifndef C2_OPTIONS_H
#define C2_OPTIONS_H

#include "cs_cli.h"
#include "pipeline.h"

#define C2_PROG "case02_data_pipeline"

typedef struct {
    const char *input;
    long long rows;
    int rows_set;
    long long generate; /* --generate N: write a file and stop */
    const char *out_csv;
    c2_gen_options gen;
} c2_args;

/* Parses the command line into a and opt, the defaults filled in. Returns 0
 * to go on, -1 when --help or --version was printed (exit 0), or 2 after a
 * one-line message (bad usage, or --device gpu: this case has no GPU rung). */
int c2_parse_options(int argc, char **argv, c2_args *a, cs_options *opt);

/* --generate N --out-csv FILE: writes the file and stops. Returns the exit
 * code. */
int c2_generate_only(c2_args *a, const cs_options *opt);

#endif
