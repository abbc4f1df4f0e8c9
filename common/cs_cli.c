/* The shared command line. getopt_long does the splitting (--opt=value and
 * --opt value, abbreviations, permuted arguments); this file adds the
 * checks and the messages, so every case says the same thing the same way:
 *   case03: --repeat: 0 is out of range (1..1000)
 * followed by exit code 2 (returned to main, never exit() here, so tests can
 * call the parser). */
#include "cs_cli.h"
#include "cs_blas_threads.h"

#include "cs_console.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#include <pthread.h>
#endif

#ifndef CS_VERSION
#define CS_VERSION "0.0.0" /* CMake defines the real one */
#endif

const char *cs_version(void)
{
    return CS_VERSION;
}

/* getopt_long's return values for the common long-only options; a case's
 * own option i returns CASE_OPTION_BASE + i. Both are above any char. */
enum {
    OPT_HELP = 'h',
    OPT_VERSION = 256,
    OPT_QUICK,
    OPT_BRIEF,
    OPT_REPEAT,
    OPT_WARMUP,
    OPT_VARIANT,
    OPT_OUT,
    OPT_SEED,
    OPT_THREADS,
    OPT_DEVICE,
    OPT_NO_PLOT,
    OPT_NO_CEILINGS,
    CASE_OPTION_BASE = 1000
};

/* The common options with their --help lines, in the order --help lists them. */
typedef struct {
    const char *name, *arg, *help;
    int val;
} common_option;

static const common_option common_options[] = {
    {"quick", NULL, "small sizes: finishes in seconds (demos, tests)", OPT_QUICK},
    {"brief", NULL, "print only the final table", OPT_BRIEF},
    {"repeat", "N", "timed runs per variant (1..1000; default: the case's)", OPT_REPEAT},
    {"warmup", "N", "untimed runs before timing (0..100; default: the case's)", OPT_WARMUP},
    {"variant", "A,B", "run only these variants (default: all)", OPT_VARIANT},
    {"out", "DIR", "write results here (default: results/<case>, see print_help)", OPT_OUT},
    {"seed", "N", "random seed for the input data (default: 42)", OPT_SEED},
    {"threads", "N", "OpenMP threads (1..1024; default: OpenMP's choice)", OPT_THREADS},
    {"device", "D", "cpu, gpu or auto (default: auto = gpu variants when a GPU is found)", OPT_DEVICE},
    {"no-plot", NULL, "write chart scripts and data but do not run gnuplot", OPT_NO_PLOT},
    {"no-ceilings", NULL, "do not measure this machine's ceilings (no % of ceiling; for tests)", OPT_NO_CEILINGS},
    {"help", NULL, "print this help and exit", OPT_HELP},
    {"version", NULL, "print the version and exit", OPT_VERSION},
};
#define N_COMMON ((int)(sizeof common_options / sizeof common_options[0]))

/* Where variant `name` runs: "cpu", "gpu", or NULL (either, or the case
 * decides). spec->variant_devices says it; without it, the name's prefix. */
static const char *variant_device(const cs_cli_spec *spec, const char *name, size_t len)
{
    for (int i = 0; spec->variant_devices != NULL && i < spec->n_variants; i++) {
        const char *v = spec->variant_names[i];
        if (strlen(v) == len && strncmp(v, name, len) == 0) return spec->variant_devices[i];
    }
    if (spec->variant_devices != NULL) return NULL;
    if (len >= 3 && strncmp(name, "cpu", 3) == 0) return "cpu";
    if (len >= 3 && strncmp(name, "gpu", 3) == 0) return "gpu";
    return NULL;
}

/* --variant and --device together: a variant the device excludes would be
 * skipped without a word, so it is an error. Returns 0 or 2 (message). */
static int check_variant_devices(const cs_cli_spec *spec, const cs_options *o)
{
    if (o->variants[0] == '\0' || strcmp(o->device, "auto") == 0) return 0;
    for (const char *p = o->variants;;) {
        size_t len = strcspn(p, ",");
        const char *dev = variant_device(spec, p, len);
        if (dev != NULL && strcmp(dev, o->device) != 0) {
            cs_error("--variant %.*s runs on the %s, and --device %s runs only %s variants "
                     "(use --device %s or auto)",
                     (int)len, p, strcmp(dev, "gpu") == 0 ? "GPU" : "CPU", o->device,
                     strcmp(o->device, "gpu") == 0 ? "GPU" : "CPU", dev);
            return 2;
        }
        if (p[len] == '\0') return 0;
        p += len + 1;
    }
}

#ifdef _OPENMP
/* libgomp answers a thread it cannot create with exit(1), the code of a
 * failed correctness check, from inside the first parallel region, after
 * work began. So the team is started here, once: first the same number of
 * plain threads, alive together (RLIMIT_NPROC, ulimit -u, counts live
 * threads), which fail politely; then one empty parallel region, which
 * makes libgomp create its pool now. libgomp keeps that pool for every
 * later region of this size or smaller, so no region needs a new thread.
 * (A limit that shrinks between the two steps, another process taking the
 * last threads, can still reach libgomp's exit(1).) */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int go;
} probe_gate;

static void *probe_wait(void *arg)
{
    probe_gate *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->go) pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* Returns 0, or 3 after one line naming the team size and the reason. */
static int start_thread_team(const cs_options *o)
{
    int want = omp_get_max_threads();
    if (want <= 1) return 0;
    pthread_t *ids = malloc((size_t)(want - 1) * sizeof *ids);
    if (ids == NULL) {
        cs_error("out of memory starting %d threads", want);
        return 3;
    }
    probe_gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    int started = 0, err = 0;
    while (started < want - 1 && (err = pthread_create(&ids[started], NULL, probe_wait, &g)) == 0) started++;
    pthread_mutex_lock(&g.lock);
    g.go = 1;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    for (int i = 0; i < started; i++) pthread_join(ids[i], NULL);
    free(ids);
    if (err != 0) {
        char why[64];
        if (o->threads > 0)
            snprintf(why, sizeof why, "--threads %d", o->threads);
        else
            snprintf(why, sizeof why, "OpenMP's default");
        cs_error("cannot start %d threads (%s): thread %d of them failed: %s "
                 "(a process limit, ulimit -u? try fewer --threads)",
                 want, why, started + 2, strerror(err));
        return 3;
    }
#pragma omp parallel
    {
        (void)0; /* nothing: libgomp creates its pool here */
    }
    return 0;
}
#endif

/* "--name" for messages, whether the caller wrote "n" or "--n". */
static const char *dashed(const char *opt, char *buf, size_t len)
{
    if (opt == NULL) return "--?";
    if (opt[0] == '-') return opt;
    snprintf(buf, len, "--%s", opt);
    return buf;
}

int cs_parse_long(const char *opt, const char *arg, long min, long max, long *out)
{
    char name[128];
    opt = dashed(opt, name, sizeof name);
    if (arg == NULL || arg[0] == '\0') {
        cs_error("%s: missing value", opt);
        return 2;
    }
    /* strtol alone would accept " 12", "12abc" (stopping at 'a') and wrap
     * silently on overflow: check the start, the end and errno. */
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (isspace((unsigned char)arg[0]) || end == arg || *end != '\0') {
        cs_error("%s: '%s' is not an integer", opt, arg);
        return 2;
    }
    if (errno == ERANGE || v < min || v > max) {
        cs_error("%s: %s is out of range (%ld..%ld)", opt, arg, min, max);
        return 2;
    }
    *out = v;
    return 0;
}

int cs_parse_double(const char *opt, const char *arg, double min, double max, double *out)
{
    char name[128];
    opt = dashed(opt, name, sizeof name);
    if (arg == NULL || arg[0] == '\0') {
        cs_error("%s: missing value", opt);
        return 2;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    if (isspace((unsigned char)arg[0]) || end == arg || *end != '\0' || !isfinite(v)) {
        cs_error("%s: '%s' is not a finite number", opt, arg);
        return 2;
    }
    /* ERANGE also flags underflow (1e-400 -> 0), which the range check
     * below handles; only overflow (HUGE_VAL, caught above) is an error. */
    if (v < min || v > max) {
        cs_error("%s: %s is out of range (%g..%g)", opt, arg, min, max);
        return 2;
    }
    *out = v;
    return 0;
}

int cs_parse_u64(const char *opt, const char *arg, uint64_t *out)
{
    char name[128];
    opt = dashed(opt, name, sizeof name);
    if (arg == NULL || arg[0] == '\0') {
        cs_error("%s: missing value", opt);
        return 2;
    }
    /* Digits only: strtoull would accept "-1" and return 2^64 - 1. */
    for (const char *p = arg; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            cs_error("%s: '%s' is not a non-negative integer", opt, arg);
            return 2;
        }
    }
    errno = 0;
    unsigned long long v = strtoull(arg, NULL, 10);
    if (errno == ERANGE) { /* unsigned long long is 64 bits on every target here */
        cs_error("%s: %s is out of range (0..%" PRIu64 ")", opt, arg, UINT64_MAX);
        return 2;
    }
    *out = (uint64_t)v;
    return 0;
}

/* Is name one of the case's variants? With no list given, anything goes. */
static int known_variant(const cs_cli_spec *spec, const char *name, size_t len)
{
    if (spec->variant_names == NULL || spec->n_variants <= 0) return 1;
    for (int i = 0; i < spec->n_variants; i++) {
        const char *v = spec->variant_names[i];
        if (strlen(v) == len && strncmp(v, name, len) == 0) return 1;
    }
    return 0;
}

static int parse_variants(const cs_cli_spec *spec, const char *arg, cs_options *o)
{
    if (arg[0] == '\0') {
        cs_error("--variant: empty list");
        return 2;
    }
    if (strlen(arg) >= sizeof o->variants) {
        cs_error("--variant: list too long");
        return 2;
    }
    /* Check every comma-separated name. */
    for (const char *p = arg;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || !known_variant(spec, p, len)) {
            char choices[1024] = "";
            size_t used = 0;
            for (int i = 0; i < spec->n_variants && used < sizeof choices; i++) {
                int w = snprintf(choices + used, sizeof choices - used, "%s%s", i ? ", " : "", spec->variant_names[i]);
                if (w > 0) used += (size_t)w;
            }
            cs_error("--variant: unknown variant '%.*s' (choose from %s)", (int)len, p, choices);
            return 2;
        }
        if (p[len] == '\0') break;
        p += len + 1;
    }
    snprintf(o->variants, sizeof o->variants, "%s", arg);
    return 0;
}

int cs_variant_selected(const cs_options *o, const char *name)
{
    if (o->variants[0] == '\0') return 1; /* --variant not given: all */
    size_t nlen = strlen(name);
    for (const char *p = o->variants;;) {
        size_t len = strcspn(p, ",");
        if (len == nlen && strncmp(p, name, len) == 0) return 1;
        if (p[len] == '\0') return 0;
        p += len + 1;
    }
}

/* One --help line: "  --name ARG    help", the help column aligned. */
static void print_option(const char *name, const char *arg, const char *help, int width)
{
    char left[128];
    snprintf(left, sizeof left, "--%s%s%s", name, arg ? " " : "", arg ? arg : "");
    printf("  %-*s  %s\n", width, left, help ? help : "");
}

static void print_help(const char *prog, const cs_cli_spec *spec)
{
    int width = 0;
    for (int i = 0; i < N_COMMON; i++) {
        const common_option *c = &common_options[i];
        int w = 2 + (int)strlen(c->name) + (c->arg ? 1 + (int)strlen(c->arg) : 0);
        if (w > width) width = w;
    }
    for (int i = 0; i < spec->n_options; i++) {
        const cs_case_option *c = &spec->options[i];
        int w = 2 + (int)strlen(c->name) + (c->arg ? 1 + (int)strlen(c->arg) : 0);
        if (w > width) width = w;
    }

    printf("Usage: %s [options]\n", prog);
    if (spec->summary) printf("%s\n", spec->summary);
    if (spec->n_options > 0) {
        printf("\nOptions of this case:\n");
        for (int i = 0; i < spec->n_options; i++)
            print_option(spec->options[i].name, spec->options[i].arg, spec->options[i].help, width);
    }
    printf("\nCommon options:\n");
    for (int i = 0; i < N_COMMON; i++) {
        const common_option *c = &common_options[i];
        char out_help[256];
        if (c->val == OPT_OUT) { /* show this case's real default folder */
            snprintf(out_help, sizeof out_help, "write results here (default: results/%s)", prog);
            print_option(c->name, c->arg, out_help, width);
        } else {
            print_option(c->name, c->arg, c->help, width);
        }
    }
    if (spec->n_variants > 0 && spec->variant_names != NULL) {
        printf("\nVariants (for --variant):");
        for (int i = 0; i < spec->n_variants; i++) printf("%s %s", i ? "," : "", spec->variant_names[i]);
        printf("\n");
    }
    if (spec->usage_notes) printf("\n%s\n", spec->usage_notes);
    /* One paragraph of exit codes: a case that still writes its own in its
     * notes keeps it, and this one is left out. */
    if (spec->usage_notes == NULL || strstr(spec->usage_notes, "Exit codes") == NULL)
        printf("\nExit codes: 0 success, 1 %s, 2 bad usage or input,\n"
               "3 runtime failure (GPU error, out of memory, --device gpu without a usable GPU,\n"
               "threads that cannot be started).\n",
               spec->exit_1 ? spec->exit_1 : "a correctness check failed");
}

static void set_defaults(const char *prog, cs_options *o)
{
    memset(o, 0, sizeof *o);
    o->repeat = -1;
    o->warmup = -1;
    o->threads = 0;
    o->seed = 42;
    snprintf(o->device, sizeof o->device, "auto");
    snprintf(o->out_dir, sizeof o->out_dir, "results/%s", prog);
    o->variants[0] = '\0';
}

/* Handles one common option. Returns 0, -1 (help/version printed) or 2. */
static int apply_common(int val, const char *arg, const char *prog, const cs_cli_spec *spec, cs_options *o)
{
    long v;
    switch (val) {
    case OPT_HELP: print_help(prog, spec); return -1;
    case OPT_VERSION: printf("%s (perf case studies) %s\n", prog, cs_version()); return -1;
    case OPT_QUICK: o->quick = 1; return 0;
    case OPT_BRIEF: o->brief = 1; return 0;
    case OPT_NO_PLOT: o->no_plot = 1; return 0;
    case OPT_NO_CEILINGS: o->no_ceilings = 1; return 0;
    case OPT_REPEAT:
        if (cs_parse_long("--repeat", arg, 1, 1000, &v)) return 2;
        o->repeat = (int)v;
        return 0;
    case OPT_WARMUP:
        if (cs_parse_long("--warmup", arg, 0, 100, &v)) return 2;
        o->warmup = (int)v;
        return 0;
    case OPT_THREADS:
        if (cs_parse_long("--threads", arg, 1, 1024, &v)) return 2;
        o->threads = (int)v;
        return 0;
    case OPT_SEED: return cs_parse_u64("--seed", arg, &o->seed) ? 2 : 0;
    case OPT_VARIANT: return parse_variants(spec, arg, o);
    case OPT_DEVICE:
        if (strcmp(arg, "cpu") != 0 && strcmp(arg, "gpu") != 0 && strcmp(arg, "auto") != 0) {
            cs_error("--device: '%s' is not one of cpu, gpu, auto", arg);
            return 2;
        }
        snprintf(o->device, sizeof o->device, "%s", arg);
        return 0;
    case OPT_OUT:
        if (arg[0] == '\0') {
            cs_error("--out: empty directory name");
            return 2;
        }
        if (strlen(arg) >= sizeof o->out_dir - 64) { /* room left for "/results.json" etc. */
            cs_error("--out: path too long");
            return 2;
        }
        snprintf(o->out_dir, sizeof o->out_dir, "%s", arg);
        return 0;
    }
    return 0;
}

/* Is val the getopt value of one of our options taking no argument? */
static const char *flag_name(int val, const cs_cli_spec *spec)
{
    for (int i = 0; i < N_COMMON; i++)
        if (common_options[i].val == val && common_options[i].arg == NULL) return common_options[i].name;
    int k = val - CASE_OPTION_BASE;
    if (k >= 0 && k < spec->n_options && spec->options[k].arg == NULL) return spec->options[k].name;
    return NULL;
}

int cs_cli_parse(int argc, char **argv, const cs_cli_spec *spec, cs_options *o)
{
    const char *prog = spec->prog ? spec->prog : cs_prog();
    /* Name the program for messages printed by cs_parse_long & co (also
     * from the case's handler) before the case calls cs_console_init. */
    if (spec->prog) cs_console_init(spec->prog, cs_brief());
    set_defaults(prog, o);

    /* The table getopt_long wants: the common options, the case's own, and
     * an all-zero end marker. */
    int n_long = N_COMMON + (spec->n_options > 0 ? spec->n_options : 0);
    struct option *longopts = calloc((size_t)n_long + 1, sizeof *longopts);
    if (longopts == NULL) {
        cs_error("out of memory parsing the command line");
        return 3;
    }
    for (int i = 0; i < N_COMMON; i++) {
        longopts[i].name = common_options[i].name;
        longopts[i].has_arg = common_options[i].arg ? required_argument : no_argument;
        longopts[i].val = common_options[i].val;
    }
    for (int i = 0; i < spec->n_options; i++) {
        struct option *lo = &longopts[N_COMMON + i];
        lo->name = spec->options[i].name;
        lo->has_arg = spec->options[i].arg ? required_argument : no_argument;
        lo->val = CASE_OPTION_BASE + i;
    }

    /* getopt keeps its position in globals: optind = 0 makes glibc start
     * over (so this can run twice in one process), opterr = 0 silences its
     * own messages in favour of ours. The leading ':' in the short-option
     * string makes a missing argument return ':' rather than '?'. */
    optind = 0;
    opterr = 0;
    int rc = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":h", longopts, NULL);
        if (c == -1) break;
        const char *seen = argv[optind - 1]; /* the word getopt just consumed */
        if (c == '?') {
            const char *flag = flag_name(optopt, spec);
            if (flag != NULL)
                cs_error("option '--%s' takes no value (see --help)", flag);
            else if (optopt > 0 && optopt < 256)
                cs_error("unknown option '-%c' (see --help)", optopt);
            else
                cs_error("unknown option '%.*s' (see --help)", (int)strcspn(seen, "="),
                         seen); /* "--foo=1": name only */
            rc = 2;
            break;
        }
        if (c == ':') {
            cs_error("option '%.*s' needs a value (see --help)", (int)strcspn(seen, "="), seen);
            rc = 2;
            break;
        }
        if (c >= CASE_OPTION_BASE) {
            int index = c - CASE_OPTION_BASE;
            rc = spec->handler ? spec->handler(index, optarg, spec->ctx) : 0;
        } else {
            rc = apply_common(c, optarg, prog, spec, o);
        }
        if (rc != 0) break;
    }
    if (rc == 0 && optind < argc) {
        cs_error("unexpected argument '%s' (options start with --; see --help)", argv[optind]);
        rc = 2;
    }
    free(longopts);
    if (rc == 0) rc = check_variant_devices(spec, o);
    if (rc != 0) return rc;

#ifdef _OPENMP
    if (o->threads > 0) omp_set_num_threads(o->threads);
#endif
    /* after --threads: the BLAS's thread count follows the team's */
    if (cs_blas_pool_from_env(prog) != 0) return 2;
#ifdef _OPENMP
    if (start_thread_team(o) != 0) return 3;
#endif
    return 0;
}
