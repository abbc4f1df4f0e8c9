/* The shared command line: defaults, good arguments, every bad case returns
 * 2 with its one-line message, --help/--version return -1, case options
 * reach the handler, and the number parsers. stderr is captured to check
 * the exact messages. */
#include "cs_cli.h"
#include "cs_console.h"
#include "cs_test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cs_case_option case_opts[] = {
    {"n", "N", "problem size"},
    {"fast-path", NULL, "a flag of the case"},
};
static const char *const variants[] = {"slow", "fast", "gpu"};

typedef struct {
    int n_calls;
    long n;
    int flag;
} handler_ctx;

static int handler(int index, const char *arg, void *ctx)
{
    handler_ctx *h = ctx;
    h->n_calls++;
    if (index == 0) return cs_parse_long("--n", arg, 16, 16384, &h->n);
    h->flag = arg == NULL; /* a flag gets no argument */
    return 0;
}

static handler_ctx hctx;
static const cs_cli_spec spec = {
    .prog = "caseX",
    .summary = "A test case.",
    .usage_notes = "Notes go here.",
    .options = case_opts,
    .n_options = 2,
    .handler = handler,
    .ctx = &hctx,
    .variant_names = variants,
    .n_variants = 3,
};

static char err_text[4096]; /* what the last parse printed on stderr */
static char out_text[8192]; /* ... and on stdout */

/* Reads a whole temporary file back, then closes it. */
static void slurp(FILE *f, char *buf, size_t len)
{
    rewind(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Parses the NULL-terminated words after argv[0], capturing stdout/stderr. */
static int parse(cs_options *o, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "caseX";
    va_list ap;
    va_start(ap, o);
    for (char *w; (w = va_arg(ap, char *)) != NULL;) argv[argc++] = w;
    va_end(ap);
    argv[argc] = NULL;

    FILE *err = tmpfile(), *out = tmpfile();
    fflush(stdout);
    fflush(stderr);
    int saved_err = dup(2), saved_out = dup(1);
    dup2(fileno(err), 2);
    dup2(fileno(out), 1);
    memset(&hctx, 0, sizeof hctx);
    int rc = cs_cli_parse(argc, argv, &spec, o);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_err, 2);
    dup2(saved_out, 1);
    close(saved_err);
    close(saved_out);
    slurp(err, err_text, sizeof err_text);
    slurp(out, out_text, sizeof out_text);
    return rc;
}

int main(void)
{
    cs_options o;

    /* defaults */
    CHECK(parse(&o, NULL) == 0);
    CHECK(o.quick == 0 && o.brief == 0 && o.no_plot == 0);
    CHECK(o.repeat == -1 && o.warmup == -1 && o.threads == 0 && o.seed == 42);
    CHECK(strcmp(o.device, "auto") == 0);
    CHECK(strcmp(o.out_dir, "results/caseX") == 0);
    CHECK(o.variants[0] == '\0');
    CHECK(cs_variant_selected(&o, "slow") && cs_variant_selected(&o, "anything"));
    CHECK(err_text[0] == '\0' && out_text[0] == '\0');

    /* every common option, both spellings of a value, and the case's own */
    CHECK(parse(&o, "--quick", "--brief", "--no-plot", "--repeat", "7", "--warmup=0", "--variant", "slow,gpu", "--out",
                "/tmp/x", "--seed", "18446744073709551615", "--threads", "2", "--device", "auto", "--n", "1024",
                "--fast-path", NULL) == 0);
    CHECK(o.quick == 1 && o.brief == 1 && o.no_plot == 1);
    CHECK(o.repeat == 7 && o.warmup == 0 && o.threads == 2);
    CHECK(o.seed == UINT64_MAX);
    CHECK(strcmp(o.device, "auto") == 0 && strcmp(o.out_dir, "/tmp/x") == 0);
    CHECK(cs_variant_selected(&o, "slow") && cs_variant_selected(&o, "gpu"));
    CHECK(!cs_variant_selected(&o, "fast") && !cs_variant_selected(&o, "slo"));
    CHECK(hctx.n_calls == 2 && hctx.n == 1024 && hctx.flag == 1);
    CHECK(parse(&o, "--device", "cpu", "--variant", "slow,fast", NULL) == 0);
    CHECK(strcmp(o.device, "cpu") == 0);

    /* bad usage: 2 and exactly one line naming the problem */
    CHECK(parse(&o, "--foo", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: unknown option '--foo' (see --help)\n") == 0);
    CHECK(parse(&o, "--foo=3", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: unknown option '--foo' (see --help)\n") == 0);
    CHECK(parse(&o, "-x", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: unknown option '-x' (see --help)\n") == 0);
    CHECK(parse(&o, "--repeat", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: option '--repeat' needs a value (see --help)\n") == 0);
    CHECK(parse(&o, "--quick=1", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: option '--quick' takes no value (see --help)\n") == 0);
    CHECK(parse(&o, "--repeat", "abc", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: --repeat: 'abc' is not an integer\n") == 0);
    CHECK(parse(&o, "--repeat", "0", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: --repeat: 0 is out of range (1..1000)\n") == 0);
    CHECK(parse(&o, "--repeat", "1001", NULL) == 2);
    CHECK(parse(&o, "--warmup", "-1", NULL) == 2);
    CHECK(parse(&o, "--threads", "0", NULL) == 2);
    CHECK(parse(&o, "--threads", "1025", NULL) == 2);
    CHECK(parse(&o, "--seed", "-1", NULL) == 2);
    CHECK(parse(&o, "--seed", "18446744073709551616", NULL) == 2);
    CHECK(parse(&o, "--variant", "slow,turbo", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: --variant: unknown variant 'turbo' (choose from slow, fast, gpu)\n") == 0);
    CHECK(parse(&o, "--variant", "slow,", NULL) == 2);
    CHECK(parse(&o, "--device", "tpu", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: --device: 'tpu' is not one of cpu, gpu, auto\n") == 0);
    CHECK(parse(&o, "--out", "", NULL) == 2);
    CHECK(parse(&o, "extra", NULL) == 2);
    CHECK(strncmp(err_text, "caseX: unexpected argument 'extra'", 34) == 0);
    CHECK(strchr(err_text, '\n') == err_text + strlen(err_text) - 1); /* one line */
    /* the case handler's own error comes back as 2 */
    CHECK(parse(&o, "--n", "8", NULL) == 2);
    CHECK(hctx.n_calls == 1);
    CHECK(strcmp(err_text, "caseX: --n: 8 is out of range (16..16384)\n") == 0);

    /* a variant --device excludes would run nothing and say nothing: 2 */
    CHECK(parse(&o, "--variant", "slow,gpu", "--device", "cpu", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: --variant gpu runs on the GPU, and --device cpu runs only CPU "
                           "variants (use --device gpu or auto)\n") == 0);
    CHECK(parse(&o, "--device", "cpu", "--variant", "gpu", NULL) == 2);      /* either order */
    CHECK(parse(&o, "--variant", "slow,gpu", "--device", "gpu", NULL) == 0); /* "slow": either */
    CHECK(parse(&o, "--variant", "gpu", "--device", "auto", NULL) == 0);

    /* control bytes and invalid UTF-8 in a value are escaped: still one line */
    CHECK(parse(&o, "--repeat", "1\r\n2", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: --repeat: '1\\x0D\\x0A2' is not an integer\n") == 0);
    CHECK(parse(&o, "--variant", "\xEF\xBB\xBFslow", NULL) == 2); /* a byte order mark */
    CHECK(strcmp(err_text, "caseX: --variant: unknown variant '\\xEF\\xBB\\xBFslow' "
                           "(choose from slow, fast, gpu)\n") == 0);
    CHECK(parse(&o, "--out=r\xE9s\x1b[2J\x7f\xff", "x", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: unexpected argument 'x' (options start with --; see --help)\n") == 0);
    CHECK(parse(&o, "--bogus\tname", NULL) == 2);
    CHECK(strcmp(err_text, "caseX: unknown option '--bogus\\x09name' (see --help)\n") == 0);
    {
        /* the escaper itself: valid UTF-8 kept, the rest as \xNN */
        char buf[128];
        const char in[] = "caf\xC3\xA9 \x1b[1m \xC0\xAF \xED\xA0\x80 \xE2\x80\xAE \xC2\x85 \xF0\x9F\x98\x80 \xE2\x82";
        size_t n = cs_escape_bytes(buf, sizeof buf, in, sizeof in - 1);
        const char want[] = "caf\xC3\xA9 \\x1B[1m \\xC0\\xAF \\xED\\xA0\\x80 \\xE2\\x80\\xAE \\xC2\\x85 "
                            "\xF0\x9F\x98\x80 \\xE2\\x82";
        if (strcmp(buf, want) != 0) fprintf(stderr, "escaped: '%s'\n", buf);
        CHECK(strcmp(buf, want) == 0 && n == strlen(want));
        CHECK(cs_escape_bytes(NULL, 0, "\n", 1) == 4);
        char tiny[4];
        CHECK(cs_escape_bytes(tiny, sizeof tiny, "\nab", 3) == 6 && strcmp(tiny, "\\x0") == 0);
    }

    /* --help: -1, usage on stdout with every option, help line and variant */
    CHECK(parse(&o, "--help", NULL) == -1);
    CHECK(err_text[0] == '\0');
    CHECK(strstr(out_text, "Usage: caseX") != NULL);
    CHECK(strstr(out_text, "A test case.") != NULL && strstr(out_text, "Notes go here.") != NULL);
    const char *must[] = {"--n N",     "problem size",   "--fast-path", "a flag of the case", "--quick",
                          "--brief",   "--repeat N",     "--warmup N",  "--variant",          "--out DIR",
                          "--seed N",  "--threads N",    "--device",    "--no-plot",          "--help",
                          "--version", "slow, fast, gpu"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        int found = strstr(out_text, must[i]) != NULL;
        if (!found) fprintf(stderr, "--help lacks '%s'\n", must[i]);
        CHECK(found);
    }
    /* one paragraph of exit codes, with what code 1 means (the default here) */
    {
        const char *first = strstr(out_text, "Exit codes");
        CHECK(first != NULL && strstr(first + 1, "Exit codes") == NULL);
        CHECK(strstr(out_text, "1 a correctness check failed") != NULL);
    }
    CHECK(parse(&o, "-h", NULL) == -1);
    CHECK(parse(&o, "--version", NULL) == -1);
    char expect[128];
    snprintf(expect, sizeof expect, "caseX (perf case studies) %s\n", cs_version());
    CHECK(strcmp(out_text, expect) == 0);
    CHECK(strlen(cs_version()) > 0);

    /* parsing twice in one process starts over */
    CHECK(parse(&o, "--repeat", "3", NULL) == 0 && o.repeat == 3);
    CHECK(parse(&o, "--repeat", "4", NULL) == 0 && o.repeat == 4);

    /* the number parsers on their own (messages go to the real stderr) */
    long l = 0;
    double d = 0;
    uint64_t u = 0;
    CHECK(cs_parse_long("--k", "-5", -10, 10, &l) == 0 && l == -5);
    CHECK(cs_parse_long("--k", "", 0, 10, &l) == 2);
    CHECK(cs_parse_long("--k", "5x", 0, 10, &l) == 2);
    CHECK(cs_parse_long("--k", " 5", 0, 10, &l) == 2);
    CHECK(cs_parse_long("--k", "0x10", 0, 100, &l) == 2);
    CHECK(cs_parse_long("--k", "99999999999999999999999", 0, 10, &l) == 2);
    CHECK(l == -5); /* untouched on error */
    CHECK(cs_parse_double("--x", "2.5e-3", 0, 1, &d) == 0 && d == 2.5e-3);
    CHECK(cs_parse_double("--x", "nan", 0, 1, &d) == 2);
    CHECK(cs_parse_double("--x", "inf", 0, INFINITY, &d) == 2);
    CHECK(cs_parse_double("--x", "1e999", 0, INFINITY, &d) == 2);
    CHECK(cs_parse_double("--x", "1.5", 0, 1, &d) == 2);
    CHECK(cs_parse_double("--x", "1.5.", 0, 10, &d) == 2);
    CHECK(cs_parse_u64("--s", "123", &u) == 0 && u == 123);
    CHECK(cs_parse_u64("--s", "+1", &u) == 2);
    CHECK(cs_parse_u64("--s", "", &u) == 2);

    return cs_test_done();
}
