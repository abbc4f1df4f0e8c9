/* case03's command line: the common options (common/cs_cli.h), the job's
 * sizes, and the run settings derived from them (--quick's sizes, the
 * repeat counts). */
#ifndef C3_OPTIONS_H
#define C3_OPTIONS_H

#include "cs_cli.h"
#include "cs_runner.h"
#include "workload.h"

#define C3_PROG "case03_gpu_migration"

typedef struct {
    c3_config cfg; /* the job: sizes and seed */
    int n_set, iters_set, batch_set, small_set;
    int sweep_max, sweep_set;         /* largest n of step 4's size sweep */
    int naive_gemm_n, naive_gemm_set; /* size at which step 4 times the naive GEMM */
    int no_investigate;               /* --no-investigate: skip step 4's sweeps */
    int crossover;                    /* --crossover N, 0 when not given */
    cs_run_opts run;                  /* warm-ups, repeats, time budget per rung */
} c3_args;

/* Parses the command line into opt and a, with the defaults (smaller under
 * --quick) filled in, and applies --crossover. Returns 0 to go on, -1 when
 * --help or --version was printed (exit 0), or 2 on bad usage (one line
 * printed). */
int c3_parse_options(int argc, char **argv, c3_args *a, cs_options *opt);

#endif
