/* Who runs the BLAS calls: one thread pool at a time.
 *
 * OpenBLAS comes in three threading layers, and Debian installs the one a
 * user gets by default (libopenblas-dev) as pthreads:
 *   serial    no threads of its own: one call, one core;
 *   pthreads  its own pool of worker threads, which keep spinning for about
 *             0.1 s after every call, waiting for the next one;
 *   OpenMP    it runs on the same OpenMP pool as the suite's own code.
 * The suite's elementwise stages are OpenMP parallel regions, whose idle
 * threads also spin for a while between regions. With the pthreads layer
 * the two pools' spinners take the cores from each other's working threads:
 * measured on 2 Zen 3 cores, case01's fast step went from 23 ms to 68 ms.
 *
 * The suite's default policy, CS_BLAS_POOL_SUITE ("suite"): the suite's
 * OpenMP team runs every large GEMM. With the pthreads or serial layer,
 * OpenBLAS is told to use one thread and cs_gemm_cblas splits C into one
 * panel per OpenMP thread, each computed by its own single-threaded call;
 * with the OpenMP layer OpenBLAS already threads on the suite's pool and is
 * called as it is. Either way only one pool exists, and `--threads N` sets
 * the BLAS threads too.
 * CS_BLAS_POOL_OWN ("own"): OpenBLAS runs its own threads, as a program that
 * never thought about it gets (its thread count follows --threads); kept so
 * that the fight can be measured (case03's investigation), and selectable
 * with the environment variable CS_BLAS_POOL=own|suite. */
#ifndef CS_BLAS_THREADS_H
#define CS_BLAS_THREADS_H

typedef enum {
    CS_BLAS_LAYER_NONE = -1,  /* no CBLAS built in, or not OpenBLAS */
    CS_BLAS_LAYER_SERIAL = 0, /* the values of openblas_get_parallel() */
    CS_BLAS_LAYER_PTHREADS = 1,
    CS_BLAS_LAYER_OPENMP = 2
} cs_blas_layer;

typedef enum { CS_BLAS_POOL_SUITE = 0, CS_BLAS_POOL_OWN = 1 } cs_blas_pool;

/* The threading layer of the OpenBLAS loaded at run time. */
cs_blas_layer cs_blas_layer_runtime(void);

/* The layer CMake found in the library it linked (CS_BLAS_LAYER_NONE when it
 * could not tell). The loader may bring another one at run time: Debian's
 * alternatives pick libopenblas.so.0 unless the binary's RUNPATH names one. */
cs_blas_layer cs_blas_layer_configured(void);

/* "serial", "pthreads", "OpenMP", "none". */
const char *cs_blas_layer_name(cs_blas_layer l);

/* The path of the loaded OpenBLAS shared object ("" when unknown). */
const char *cs_blas_library_path(void);

/* Sets the policy (it also sets OpenBLAS's own thread count to match). */
void cs_blas_pool_set(cs_blas_pool p);
cs_blas_pool cs_blas_pool_get(void);
const char *cs_blas_pool_name(cs_blas_pool p); /* "suite", "own" */

/* Reads CS_BLAS_POOL from the environment (unset or empty: "suite") and
 * applies it. Returns 0, or -1 after one line on stderr naming the bad
 * value (the caller exits with 2). */
int cs_blas_pool_from_env(const char *prog);

/* Threads a large BLAS call uses under the current policy: the OpenMP
 * team's size for "suite" (and for "own" with the OpenMP layer), OpenBLAS's
 * own count otherwise; 1 without a BLAS. */
int cs_blas_threads_used(void);

/* "pthreads, 2 threads from the suite's OpenMP pool" and the like: the
 * words of the Scenario's BLAS line after the core. */
void cs_blas_threads_describe(char *out, unsigned long len);

#endif
