/* case02's command line (options.h). */
#include "options.h"

#include <string.h>

#include "cs_case.h"
#include "cs_console.h"
#include "cs_files.h"
#include "runner.h"

enum {
    OPT_INPUT,
    OPT_ROWS,
    OPT_GENERATE,
    OPT_OUT_CSV,
    OPT_MALFORMED,
    OPT_CRLF,
    OPT_BOM,
    OPT_NO_FINAL_NEWLINE,
    OPT_CATEGORIES,
    OPT_SPELLINGS,
    OPT_DAYS,
    OPT_ZIPF
};

static const cs_case_option case_options[] = {
    [OPT_INPUT] = {"input", "FILE",
                   "run on this CSV (columns txn_id,timestamp,user_id,category,amount,currency,country)"},
    [OPT_ROWS] = {"rows", "N",
                  "rows of the generated input when there is no --input (1..200000000; default 1000000, quick 100000)"},
    [OPT_GENERATE] = {"generate", "N", "write a generated CSV of N rows to --out-csv and stop"},
    [OPT_OUT_CSV] = {"out-csv", "FILE", "where --generate writes"},
    [OPT_MALFORMED] = {"malformed", "F", "share of malformed generated rows (0..0.5; default 0.005)"},
    [OPT_CRLF] = {"crlf", NULL, "generated file with CRLF line endings"},
    [OPT_BOM] = {"bom", NULL, "generated file starting with a UTF-8 byte order mark"},
    [OPT_NO_FINAL_NEWLINE] = {"no-final-newline", NULL, "generated file without a newline after the last row"},
    [OPT_CATEGORIES] = {"categories", "N", "distinct categories of the generated file (1..100000; default 12)"},
    [OPT_SPELLINGS] = {"spellings", "K", "spellings per category, of five (1..5; default 5)"},
    [OPT_DAYS] = {"days", "D", "days of the generated file, from 2026-03-01 (1..10000; default 30)"},
    [OPT_ZIPF] = {"zipf", "S", "category k drawn in proportion to 1/k^S (0..4; default 0: uniform)"},
};

static int on_option(int index, const char *arg, void *p)
{
    c2_args *a = p;
    long v;
    double d;
    switch (index) {
    case OPT_INPUT: a->input = arg; break;
    case OPT_ROWS:
        if (cs_parse_long("--rows", arg, 1, 200000000, &v)) return 2;
        a->rows = v, a->rows_set = 1;
        break;
    case OPT_GENERATE:
        if (cs_parse_long("--generate", arg, 0, 200000000, &v)) return 2;
        a->generate = v;
        break;
    case OPT_OUT_CSV: a->out_csv = arg; break;
    case OPT_MALFORMED:
        if (cs_parse_double("--malformed", arg, 0.0, 0.5, &d)) return 2;
        a->gen.malformed = d;
        break;
    case OPT_CRLF: a->gen.crlf = 1; break;
    case OPT_BOM: a->gen.bom = 1; break;
    case OPT_NO_FINAL_NEWLINE: a->gen.final_newline = 0; break;
    case OPT_CATEGORIES:
        if (cs_parse_long("--categories", arg, 1, C2_GEN_MAX_CATEGORIES, &v)) return 2;
        a->gen.categories = (int)v;
        break;
    case OPT_SPELLINGS:
        if (cs_parse_long("--spellings", arg, 1, 5, &v)) return 2;
        a->gen.spellings = (int)v;
        break;
    case OPT_DAYS:
        if (cs_parse_long("--days", arg, 1, C2_GEN_MAX_DAYS, &v)) return 2;
        a->gen.days = (int)v;
        break;
    case OPT_ZIPF:
        if (cs_parse_double("--zipf", arg, 0.0, C2_GEN_MAX_ZIPF, &d)) return 2;
        a->gen.zipf = d;
        break;
    }
    return 0;
}

int c2_parse_options(int argc, char **argv, c2_args *a, cs_options *opt)
{
    /* The names --variant accepts: the ladder's own (runner.c). The
     * devices are not given to the parser: every rung runs on the CPU, and
     * --device gpu is refused below with this case's own reason. */
    static const char *rung_names[C2_NRUNGS], *rung_devices[C2_NRUNGS];
    CS_LADDER_NAMES(c2_ladder, C2_NRUNGS, rung_names, rung_devices);
    (void)rung_devices;
    *a = (c2_args){.rows = 1000000, .gen = {.malformed = 0.005, .final_newline = 1}};
    cs_cli_spec spec = {
        .prog = C2_PROG,
        .summary = "My data pipeline can't keep up: an ETL job made fast by vectorization, fusion and caching",
        .usage_notes = "Without --input a CSV of --rows rows is generated (and removed at the end), by default\n"
                       "12 categories over 30 days; --categories, --spellings, --days and --zipf change that.\n"
                       "Exit codes: 0 ok, 1 a variant's output differed, 2 bad usage or input, 3 runtime failure.",
        .options = case_options,
        .n_options = sizeof case_options / sizeof case_options[0],
        .handler = on_option,
        .ctx = a,
        .variant_names = rung_names,
        .n_variants = C2_NRUNGS,
    };
    int rc = cs_case_begin(argc, argv, &spec, opt);
    if (rc) return rc;
    if (strcmp(opt->device, "gpu") == 0) {
        cs_error("--device gpu: this case has no GPU variant (it is CPU work: parsing and hashing)");
        return 2;
    }
    if (opt->quick && !a->rows_set) a->rows = 100000;
    return 0;
}

int c2_generate_only(c2_args *a, const cs_options *opt)
{
    if (!a->out_csv || a->generate <= 0) {
        cs_error("--generate N and --out-csv FILE go together");
        return 2;
    }
    /* written under a temporary name, then renamed over the path: a
     * device, a FIFO or a link there would be replaced, so they are
     * refused before any work */
    int rc = cs_check_output_file("--out-csv", a->out_csv);
    if (rc) return rc;
    a->gen.rows = a->generate;
    a->gen.seed = opt->seed;
    return c2_generate(a->out_csv, &a->gen);
}
