/* case01's command line (cli.h). Every value is range-checked here, before
 * any allocation; a bad one is one line naming the option, exit code 2. */
#include "cli.h"

#include <string.h>

#include "cs_console.h"
#include "ladder.h"

/* The ladder's table for its names and devices only: this file links
 * without the rungs (tests/case01/fuzz_cli.c). */
#define C1_FN(fn) NULL
#include "ladder_table.h"

const char *c1_variant_names[C1_NVARIANTS];
const char *c1_variant_devices[C1_NVARIANTS];

#define PROG "case01_training_loop"

enum {
    OPT_DATA,
    OPT_SAMPLES,
    OPT_HIDDEN1,
    OPT_HIDDEN2,
    OPT_BATCH,
    OPT_LR,
    OPT_STEPS,
    OPT_SLOW_STEPS,
    OPT_GPU_STEPS,
    OPT_GPU_BUDGET,
    OPT_NO_EPOCH
};

static const cs_case_option case_options[] = {
    [OPT_DATA] = {"data", "DIR", "MNIST IDX files: DIR/train-images-idx3-ubyte and train-labels-idx1-ubyte (or .gz)"},
    [OPT_SAMPLES] = {"samples", "N",
                     "size of the generated data set without --data (1..1000000; default 60000, quick 4096)"},
    [OPT_HIDDEN1] = {"hidden1", "N", "first hidden layer width (1..16384; default 1024, quick 256)"},
    [OPT_HIDDEN2] = {"hidden2", "N", "second hidden layer width (1..16384; default 1024, quick 256)"},
    [OPT_BATCH] = {"batch", "N", "samples per SGD step (1..65536; default 256, quick 128)"},
    [OPT_LR] = {"lr", "X", "SGD learning rate (0 < X <= 10; default 0.05)"},
    [OPT_STEPS] = {"steps", "N", "steps per timed run of the fast variants (1..100000; default 20, quick 8)"},
    [OPT_SLOW_STEPS] = {"slow-steps", "N",
                        "steps per timed run of the slow variants and of the check (1..1000; default 2)"},
    [OPT_GPU_STEPS] = {"gpu-steps", "N",
                       "steps per timed run of gpu_resident, gpu_async and gpu_fast (1..100000; default: one epoch)"},
    [OPT_GPU_BUDGET] =
        {"gpu-data-budget", "MB",
         "device memory gpu_async and gpu_fast may give the data set; above it, batches stream (0 = no limit)"},
    [OPT_NO_EPOCH] = {"no-epoch", NULL, "skip the one full training epoch of step 5 (tests use this)"},
};

static int on_option(int index, const char *arg, void *p)
{
    c1_args *a = p;
    long v;
    double d;
    switch (index) {
    case OPT_DATA:
        if (arg[0] == '\0') {
            cs_error("--data: empty directory name");
            return 2;
        }
        a->data_dir = arg;
        break;
    case OPT_SAMPLES:
        if (cs_parse_long("--samples", arg, 1, 1000000, &v)) return 2;
        a->samples = (int)v, a->samples_set = 1;
        break;
    case OPT_HIDDEN1:
        if (cs_parse_long("--hidden1", arg, 1, C1_MAX_LAYER, &v)) return 2;
        a->cfg.h1 = (int)v, a->h1_set = 1;
        break;
    case OPT_HIDDEN2:
        if (cs_parse_long("--hidden2", arg, 1, C1_MAX_LAYER, &v)) return 2;
        a->cfg.h2 = (int)v, a->h2_set = 1;
        break;
    case OPT_BATCH:
        if (cs_parse_long("--batch", arg, 1, 65536, &v)) return 2;
        a->cfg.batch = (int)v, a->batch_set = 1;
        break;
    case OPT_LR:
        if (cs_parse_double("--lr", arg, 0.0, 10.0, &d)) return 2;
        if (!(d > 0.0)) {
            cs_error("--lr %s: the learning rate must be greater than 0", arg);
            return 2;
        }
        a->cfg.lr = (float)d;
        break;
    case OPT_STEPS:
        if (cs_parse_long("--steps", arg, 1, 100000, &v)) return 2;
        a->cfg.steps = (int)v, a->steps_set = 1;
        break;
    case OPT_SLOW_STEPS:
        if (cs_parse_long("--slow-steps", arg, 1, 1000, &v)) return 2;
        a->cfg.slow_steps = (int)v, a->slow_steps_set = 1;
        break;
    case OPT_GPU_STEPS:
        if (cs_parse_long("--gpu-steps", arg, 1, 100000, &v)) return 2;
        a->cfg.gpu_steps = (int)v;
        break;
    case OPT_GPU_BUDGET:
        if (cs_parse_long("--gpu-data-budget", arg, 0, 1L << 30, &v)) return 2;
        a->cfg.gpu_data_budget = (size_t)v << 20;
        break;
    case OPT_NO_EPOCH: a->no_epoch = 1; break;
    }
    return 0;
}

void c1_args_defaults(c1_args *a)
{
    memset(a, 0, sizeof *a);
    a->cfg = (c1_config){.h1 = 1024,
                         .h2 = 1024,
                         .out = C1_CLASSES,
                         .batch = 256,
                         .lr = 0.05f,
                         .steps = 20,
                         .slow_steps = 2,
                         .check_steps = C1_CHECK_STEPS};
    a->samples = 60000;
}

cs_cli_spec c1_cli_spec(c1_args *a)
{
    CS_LADDER_NAMES(ladder, C1_NVARIANTS, c1_variant_names, c1_variant_devices);
    return (cs_cli_spec){
        .prog = PROG,
        .summary = "My training loop takes hours instead of minutes: copies, per-sample work and syncs",
        .options = case_options,
        .n_options = sizeof case_options / sizeof case_options[0],
        .handler = on_option,
        .ctx = a,
        .variant_names = c1_variant_names,
        .n_variants = C1_NVARIANTS,
        .variant_devices = c1_variant_devices,
    };
}

void c1_args_apply_quick(c1_args *a)
{
    if (!a->h1_set) a->cfg.h1 = 256;
    if (!a->h2_set) a->cfg.h2 = 256;
    if (!a->batch_set) a->cfg.batch = 128;
    if (!a->steps_set) a->cfg.steps = 8;
    if (!a->samples_set) a->samples = 4096;
}

void c1_run_settings(const cs_options *opt, cs_run_opts *fast, cs_run_opts *slow)
{
    /* The check run before the timed runs already warms every variant up
     * (same code, same buffers), so one more untimed run is the default only
     * for the fast variants; the slow ones would spend seconds on it. */
    fast->warmup = opt->warmup >= 0 ? opt->warmup : 1;
    fast->repeats = opt->repeat > 0 ? opt->repeat : (opt->quick ? 3 : 5);
    fast->budget_s = opt->quick ? 1.5 : 8.0;
    *slow = *fast;
    if (opt->warmup < 0) slow->warmup = 0;
}
