/* Who runs the BLAS calls: the policy of cs_blas_threads.h, and how the
 * threading layer of the loaded OpenBLAS is found out. */
#include "cs_blas_threads.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef CS_HAVE_CBLAS
/* Exported by OpenBLAS (declared here so this file does not depend on which
 * cblas.h was found). openblas_get_parallel() says how the library was
 * built: 0 serial, 1 pthreads, 2 OpenMP. */
int openblas_get_parallel(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);
char *openblas_get_config(void);
#endif

#ifndef CS_BLAS_LAYER_CONFIGURED
#define CS_BLAS_LAYER_CONFIGURED -1
#endif

static int omp_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

#ifdef CS_HAVE_CBLAS
static int is_openblas(void)
{
    const char *c = openblas_get_config();
    return c && strncmp(c, "OpenBLAS", 8) == 0;
}
#endif

cs_blas_layer cs_blas_layer_runtime(void)
{
    /* Asked once: the loaded library cannot change, and every large GEMM
     * asks (cs_gemm_cblas). */
    static int layer = -2;
    if (layer == -2) {
        int p = -1;
#ifdef CS_HAVE_CBLAS
        if (is_openblas()) p = openblas_get_parallel();
#endif
        layer = p >= 0 && p <= 2 ? p : CS_BLAS_LAYER_NONE;
    }
    return (cs_blas_layer)layer;
}

cs_blas_layer cs_blas_layer_configured(void)
{
    return (cs_blas_layer)CS_BLAS_LAYER_CONFIGURED;
}

const char *cs_blas_layer_name(cs_blas_layer l)
{
    switch (l) {
    case CS_BLAS_LAYER_SERIAL: return "serial";
    case CS_BLAS_LAYER_PTHREADS: return "pthreads";
    case CS_BLAS_LAYER_OPENMP: return "OpenMP";
    default: return "none";
    }
}

const char *cs_blas_library_path(void)
{
#ifdef CS_HAVE_CBLAS
    static char path[512];
    Dl_info info;
    if (!path[0] && dladdr((void *)openblas_get_config, &info) && info.dli_fname)
        snprintf(path, sizeof path, "%s", info.dli_fname);
    return path;
#else
    return "";
#endif
}

/* ---- The policy ---------------------------------------------------------- */
static cs_blas_pool pool = CS_BLAS_POOL_SUITE;
static int pool_applied; /* 0 until the first set: OpenBLAS still as loaded */

void cs_blas_pool_set(cs_blas_pool p)
{
    pool = p;
    pool_applied = 1;
#ifdef CS_HAVE_CBLAS
    /* Only the pthreads layer has a pool of its own to size. (With the
     * OpenMP layer openblas_set_num_threads calls omp_set_num_threads,
     * which would change the suite's own team: never call it there.) */
    if (cs_blas_layer_runtime() == CS_BLAS_LAYER_PTHREADS)
        openblas_set_num_threads(p == CS_BLAS_POOL_SUITE ? 1 : omp_threads());
#endif
}

/* CS_BLAS_POOL's policy: unset, empty or "suite" gives suite, "own" own.
 * Returns 0, or -1 for any other value (*p left as it was). */
static int pool_of_env(cs_blas_pool *p)
{
    const char *e = getenv("CS_BLAS_POOL");
    if (!e || !e[0] || strcmp(e, "suite") == 0)
        *p = CS_BLAS_POOL_SUITE;
    else if (strcmp(e, "own") == 0)
        *p = CS_BLAS_POOL_OWN;
    else
        return -1;
    return 0;
}

cs_blas_pool cs_blas_pool_get(void)
{
    if (!pool_applied) {
        /* Not set by a command line (a unit test, a tool): the environment's
         * choice, or the default when it is bad (a command line reports a
         * bad value: cs_blas_pool_from_env). */
        cs_blas_pool p = CS_BLAS_POOL_SUITE;
        pool_of_env(&p);
        cs_blas_pool_set(p);
    }
    return pool;
}

const char *cs_blas_pool_name(cs_blas_pool p)
{
    return p == CS_BLAS_POOL_OWN ? "own" : "suite";
}

int cs_blas_pool_from_env(const char *prog)
{
    cs_blas_pool p;
    if (pool_of_env(&p) == 0) {
        cs_blas_pool_set(p);
        return 0;
    }
    fprintf(stderr,
            "%s: environment variable CS_BLAS_POOL must be 'suite' or 'own' "
            "(got a value of %zu bytes that is neither)\n",
            prog ? prog : "cs", strlen(getenv("CS_BLAS_POOL")));
    return -1;
}

int cs_blas_threads_used(void)
{
    cs_blas_layer l = cs_blas_layer_runtime();
    if (l == CS_BLAS_LAYER_NONE) return 1;
    if (l == CS_BLAS_LAYER_OPENMP) return omp_threads();
    if (cs_blas_pool_get() == CS_BLAS_POOL_SUITE) return omp_threads();
#ifdef CS_HAVE_CBLAS
    return openblas_get_num_threads();
#else
    return 1;
#endif
}

void cs_blas_threads_describe(char *out, unsigned long len)
{
    cs_blas_layer l = cs_blas_layer_runtime();
    int t = cs_blas_threads_used();
    const char *s = t == 1 ? "" : "s";
    if (l == CS_BLAS_LAYER_NONE)
        snprintf(out, len, "%d thread%s", t, s);
    else if (l == CS_BLAS_LAYER_OPENMP)
        snprintf(out, len, "OpenMP, %d thread%s: the suite's OpenMP pool", t, s);
    else if (cs_blas_pool_get() == CS_BLAS_POOL_SUITE)
        snprintf(out, len, "%s, %d thread%s: the suite's OpenMP pool, one call per thread", cs_blas_layer_name(l), t,
                 s);
    else
        snprintf(out, len, "%s, %d thread%s of its own (CS_BLAS_POOL=own)", cs_blas_layer_name(l), t, s);
}
