/* What machine produced these figures: CPU, cores, compiler, BLAS, GPU. */
#ifndef CS_SYSINFO_H
#define CS_SYSINFO_H

#include <stdio.h>
#include <stddef.h>
#include "cs_json.h"

typedef struct {
    char cpu_model[128];   /* /proc/cpuinfo "model name" */
    int cores;             /* online logical CPUs */
    int threads;           /* OpenMP threads this run uses */
    double cpu_mhz;        /* /proc/cpuinfo "cpu MHz" (0 if unknown) */
    char isa[64];          /* widest SIMD the CPU offers: "AVX-512", "AVX2+FMA", "AVX", "SSE2" */
    size_t mem_total;      /* bytes of RAM */
    char os[128];          /* uname: sysname release machine */
    char compiler[96];     /* C compiler and version */
    char build_flags[128]; /* e.g. "-O3 -march=native" */
    char blas[512];        /* "OpenBLAS 0.3.21 (core Zen, pthreads, ...)" or "none" */
    int gpu_present;       /* 1 when a CUDA device is usable */
    char gpu_name[256];    /* or the reason it is absent */
    size_t gpu_mem;        /* bytes */
    int gpu_cc;            /* compute capability, e.g. 90 */
    int gpu_sms;           /* multiprocessors */
    char gpu_driver[32];   /* driver's CUDA version, e.g. "13.0" */
    char cuda_runtime[32]; /* runtime version */
} cs_sysinfo;

/* Fills s (GPU fields through cs_gpu_probe/cs_gpu_describe). */
void cs_sysinfo_get(cs_sysinfo *s);
/* A few lines for the Scenario step. */
void cs_sysinfo_print(FILE *f, const cs_sysinfo *s);
/* Writes the fields as one JSON object (the caller has written the key). */
void cs_sysinfo_json(cs_json *j, const cs_sysinfo *s);
/* One line: "AMD EPYC, 2 cores, AVX2+FMA; no GPU (...)". */
char *cs_sysinfo_oneline(const cs_sysinfo *s, char *buf, size_t len);

#endif
