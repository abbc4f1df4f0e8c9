/* case03's command line (options.h). */
#include "options.h"

#include "cs_case.h"
#include "ladder.h"

enum { OPT_N, OPT_ITERS, OPT_BATCH, OPT_SMALL, OPT_SWEEP_MAX, OPT_NAIVE_GEMM_N, OPT_NO_INVESTIGATE, OPT_CROSSOVER };

static const cs_case_option case_options[] = {
    [OPT_N] = {"n", "N", "chain matrix size n x n (16..16384; default 512, quick 256)"},
    [OPT_ITERS] = {"iters", "N", "chain iterations (1..1000; default 8, quick 4)"},
    [OPT_BATCH] = {"batch", "N", "number of small products (1..1000000; default 512, quick 128)"},
    [OPT_SMALL] = {"small", "N", "small matrix size (2..1024; default 64)"},
    [OPT_SWEEP_MAX] = {"sweep-max", "N", "largest n of the size sweep (16..16384; default 4096, quick 512)"},
    [OPT_NAIVE_GEMM_N] = {"naive-gemm-n", "N",
                          "size at which the naive GEMM is timed in step 4 (16..4096; default 512, quick 256)"},
    [OPT_NO_INVESTIGATE] = {"no-investigate", NULL, "skip the sweeps of step 4 (tests use this)"},
    [OPT_CROSSOVER] = {"crossover", "N",
                       "hybrid sends products of n >= N to the GPU, whatever step 4 measures (1..16384)"},
};

static int on_option(int index, const char *arg, void *p)
{
    c3_args *a = p;
    long v;
    switch (index) {
    case OPT_N:
        if (cs_parse_long("--n", arg, C3_N_MIN, C3_N_MAX, &v)) return 2;
        a->cfg.n = (int)v, a->n_set = 1;
        break;
    case OPT_ITERS:
        if (cs_parse_long("--iters", arg, 1, C3_ITERS_MAX, &v)) return 2;
        a->cfg.iters = (int)v, a->iters_set = 1;
        break;
    case OPT_BATCH:
        if (cs_parse_long("--batch", arg, 1, C3_BATCH_MAX, &v)) return 2;
        a->cfg.batch = (int)v, a->batch_set = 1;
        break;
    case OPT_SMALL:
        if (cs_parse_long("--small", arg, 2, C3_SMALL_MAX, &v)) return 2;
        a->cfg.small = (int)v, a->small_set = 1;
        break;
    case OPT_SWEEP_MAX:
        if (cs_parse_long("--sweep-max", arg, 16, C3_N_MAX, &v)) return 2;
        a->sweep_max = (int)v, a->sweep_set = 1;
        break;
    case OPT_NAIVE_GEMM_N:
        if (cs_parse_long("--naive-gemm-n", arg, 16, 4096, &v)) return 2;
        a->naive_gemm_n = (int)v, a->naive_gemm_set = 1;
        break;
    case OPT_NO_INVESTIGATE: a->no_investigate = 1; break;
    case OPT_CROSSOVER:
        if (cs_parse_long("--crossover", arg, 1, C3_N_MAX, &v)) return 2;
        a->crossover = (int)v;
        break;
    }
    return 0;
}

int c3_parse_options(int argc, char **argv, c3_args *a, cs_options *opt)
{
    *a = (c3_args){.cfg = {.n = 512, .iters = 8, .batch = 512, .small = 64}};
    a->sweep_max = 4096;
    a->naive_gemm_n = 512;
    /* --variant's names and devices come from the ladder table. */
    const char *names[C3_NVARIANTS], *devices[C3_NVARIANTS];
    CS_LADDER_NAMES(c3_ladder, C3_NVARIANTS, names, devices);
    cs_cli_spec spec = {
        .prog = C3_PROG,
        .summary = "I have a GPU but my code is still slow: transfers and wrong-shaped work on the GPU",
        .options = case_options,
        .n_options = sizeof case_options / sizeof case_options[0],
        .handler = on_option,
        .ctx = a,
        .variant_names = names,
        .variant_devices = devices,
        .n_variants = C3_NVARIANTS,
    };
    int rc = cs_case_begin(argc, argv, &spec, opt);
    if (rc) return rc;
    if (a->crossover) c3_force_crossover(a->crossover);

    if (opt->quick) {
        if (!a->n_set) a->cfg.n = 256;
        if (!a->iters_set) a->cfg.iters = 4;
        if (!a->batch_set) a->cfg.batch = 128;
        if (!a->sweep_set) a->sweep_max = 512;
        if (!a->naive_gemm_set) a->naive_gemm_n = 256;
    }
    a->cfg.seed = opt->seed;
    a->run = cs_run_defaults();
    a->run.warmup = opt->warmup >= 0 ? opt->warmup : 1;
    a->run.repeats = opt->repeat > 0 ? opt->repeat : (opt->quick ? 3 : 5);
    /* No variant may hold a demo up for long: the runner lowers the repeat
     * count of a slow one (never below 3, or fewer when fewer were asked). */
    a->run.budget_s = opt->quick ? 2.0 : 8.0;
    return 0;
}
