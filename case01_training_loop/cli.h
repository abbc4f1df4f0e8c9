/* case01's command line: its own options (sizes, data, steps) on top of the
 * suite's common ones (cs_cli.h). Kept out of main.c so that the parser can
 * be fuzzed on its own (tests/case01/fuzz_cli.c). */
#ifndef C1_CLI_H
#define C1_CLI_H

#include "cs_cli.h"
#include "cs_runner.h"
#include "workload.h"

typedef struct {
    c1_config cfg;
    const char *data_dir;
    int samples;
    int h1_set, h2_set, batch_set, steps_set, slow_steps_set, samples_set;
    int no_epoch;
} c1_args;

/* The defaults (the full-size run; --quick lowers the sizes not given). */
void c1_args_defaults(c1_args *a);

/* The spec cs_case_begin parses with; its handler fills a. */
cs_cli_spec c1_cli_spec(c1_args *a);

/* After parsing: the --quick sizes for what was not given. */
void c1_args_apply_quick(c1_args *a);

/* The runner's settings from the options: fast holds cs_run_defaults() on
 * entry and gets the fast rungs' warm-ups, repeats and time budget; slow
 * the same without the warm-up (unless --warmup says so). */
void c1_run_settings(const cs_options *opt, cs_run_opts *fast, cs_run_opts *slow);

#endif
