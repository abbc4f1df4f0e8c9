/* What machine produced these figures. A timing without its machine is not
 * a result: the same code is 3x faster on another CPU, 10x with a GPU, and
 * the BLAS line says which library (and which of its kernels) ran. */
#include "cs_sysinfo.h"

#include "cs_blas_info.h"
#include "cs_gemm.h"
#include "cs_blas_threads.h"
#include "cs_gpu.h"
#include "cs_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef CS_BUILD_FLAGS
#define CS_BUILD_FLAGS "" /* set by CMake; empty when compiled by hand */
#endif

/* Value of the first /proc/cpuinfo line whose key is `key` ("model name"),
 * without surrounding spaces; 0 if absent. */
static int cpuinfo_field(const char *key, char *out, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[512];
    int found = 0;
    size_t klen = strlen(key);
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0) continue;
        const char *p = line + klen;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != ':') continue; /* "model" must not match "model name" */
        p++;
        while (*p == ' ' || *p == '\t') p++;
        snprintf(out, len, "%s", p);
        out[strcspn(out, "\n")] = '\0';
        found = 1;
    }
    fclose(f);
    return found;
}

/* "OpenBLAS 0.3.21 (core Zen, pthreads, 2 threads: the suite's OpenMP
 * pool, one call per thread)" from the BLAS probe, plus a warning when the
 * loader brought another threading layer than the one CMake linked. */
static void describe_blas(char *out, size_t len)
{
    cs_blas_info b;
    cs_blas_info_get(&b);
    cs_gemm_cpu_check_env(); /* a bad CS_CPU_GEMM stops any case before its work */
    if (!b.linked) {
        snprintf(out, len, "none (built without OpenBLAS)");
    } else if (b.is_openblas) {
        /* the config string starts "OpenBLAS 0.3.21 DYNAMIC_ARCH ...": keep
         * the first two words */
        char version[32] = "", threads[128];
        sscanf(b.config, "OpenBLAS %31s", version);
        cs_blas_threads_describe(threads, sizeof threads);
        cs_blas_layer built = cs_blas_layer_configured(), runs = cs_blas_layer_runtime();
        if (built != CS_BLAS_LAYER_NONE && built != runs)
            snprintf(out, len,
                     "OpenBLAS %s (core %s, %s; built against its %s build, "
                     "the loader brought %.200s)",
                     version, b.core, threads, cs_blas_layer_name(built), cs_blas_library_path());
        else
            snprintf(out, len, "OpenBLAS %s (core %s, %s)", version, b.core, threads);
        /* OpenBLAS 0.3.21 takes some CPUs it does not know for old ones
         * (an AVX-512 Xeon for Prescott, SSE3): every fp32 GEMM then runs
         * at a fraction of the CPU's rate, which any comparison against
         * it must say. */
        const size_t used = strlen(out);
        if (b.mismatch && b.suggested_core[0])
            snprintf(out + used, len - used, "; its %s kernels on a CPU with %s: OPENBLAS_CORETYPE=%s would match it",
                     b.core_isa, b.cpu_isa, b.suggested_core);
        /* Which fp32 GEMM the case then uses, where it is not simply OpenBLAS
         * (measured, or CS_CPU_GEMM), when the case made the choice. */
        const cs_gemm_cpu_pick *pick = cs_gemm_cpu_pick_made();
        const size_t at = strlen(out);
        if (pick && (pick->measured || pick->forced)) snprintf(out + at, len - at, "; fp32 GEMMs: %s", pick->why);
    } else {
        snprintf(out, len, "CBLAS (%.140s)", b.config[0] ? b.config : "not OpenBLAS");
    }
}

void cs_sysinfo_get(cs_sysinfo *s)
{
    memset(s, 0, sizeof *s);

    if (!cpuinfo_field("model name", s->cpu_model, sizeof s->cpu_model) &&
        !cpuinfo_field("Hardware", s->cpu_model, sizeof s->cpu_model))
        s->cpu_model[0] = '\0';
    char mhz[32];
    if (cpuinfo_field("cpu MHz", mhz, sizeof mhz)) s->cpu_mhz = atof(mhz);

    long online = sysconf(_SC_NPROCESSORS_ONLN);
    s->cores = online > 0 ? (int)online : 1;
    s->threads = 1;
#ifdef _OPENMP
    s->threads = omp_get_max_threads();
#endif

    int rank;
    const char *isa = cs_cpu_isa_word(&rank);
    /* rank 2 means AVX2 together with FMA: say both */
    snprintf(s->isa, sizeof s->isa, "%s%s", isa, rank == 2 ? "+FMA" : "");

    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    s->mem_total = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;

    struct utsname u;
    if (uname(&u) == 0) {
        /* precisions keep the three parts within the field (128 bytes) */
        snprintf(s->os, sizeof s->os, "%.30s %.64s %.30s", u.sysname, u.release, u.machine);
        if (!s->cpu_model[0]) /* e.g. an Arm kernel with no model name */
            snprintf(s->cpu_model, sizeof s->cpu_model, "unknown %s CPU", u.machine);
    } else {
        snprintf(s->os, sizeof s->os, "unknown");
    }
    if (!s->cpu_model[0]) snprintf(s->cpu_model, sizeof s->cpu_model, "unknown CPU");

#if defined(__clang__)
    snprintf(s->compiler, sizeof s->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(s->compiler, sizeof s->compiler, "gcc %s", __VERSION__);
#elif defined(__VERSION__)
    snprintf(s->compiler, sizeof s->compiler, "%s", __VERSION__);
#else
    snprintf(s->compiler, sizeof s->compiler, "unknown C compiler");
#endif
    /* CMake's flags string may start with a space */
    const char *flags = CS_BUILD_FLAGS;
    while (*flags == ' ') flags++;
    snprintf(s->build_flags, sizeof s->build_flags, "%s", flags);

    describe_blas(s->blas, sizeof s->blas);

    cs_gpu_describe(s); /* GPU fields, or the reason in gpu_name */
}

void cs_sysinfo_print(FILE *f, const cs_sysinfo *s)
{
    char mem[32];
    cs_format_bytes((double)s->mem_total, mem, sizeof mem);

    fprintf(f, "  CPU:      %s, %d core%s (%d thread%s used)", s->cpu_model, s->cores, s->cores == 1 ? "" : "s",
            s->threads, s->threads == 1 ? "" : "s");
    if (s->cpu_mhz > 0) fprintf(f, ", %.0f MHz", s->cpu_mhz);
    fprintf(f, ", %s; %s RAM; %s\n", s->isa, mem, s->os);
    fprintf(f, "  Compiler: %s, flags %s\n", s->compiler, s->build_flags[0] ? s->build_flags : "(unknown)");
    fprintf(f, "  BLAS:     %s\n", s->blas);
    if (s->gpu_present) {
        char gmem[32];
        cs_format_bytes((double)s->gpu_mem, gmem, sizeof gmem);
        fprintf(f,
                "  GPU:      %s, %s, compute capability %d.%d, %d SMs, driver CUDA %s, "
                "runtime %s\n",
                s->gpu_name, gmem, s->gpu_cc / 10, s->gpu_cc % 10, s->gpu_sms, s->gpu_driver, s->cuda_runtime);
    } else {
        fprintf(f, "  GPU:      none: %s\n", s->gpu_name);
    }
}

void cs_sysinfo_json(cs_json *j, const cs_sysinfo *s)
{
    cs_json_begin_object(j);
    cs_json_kv_string(j, "cpu_model", s->cpu_model);
    cs_json_kv_int(j, "cores", s->cores);
    cs_json_kv_int(j, "threads", s->threads);
    cs_json_kv_number(j, "cpu_mhz", s->cpu_mhz);
    cs_json_kv_string(j, "isa", s->isa);
    cs_json_kv_int(j, "mem_total", (int64_t)s->mem_total);
    cs_json_kv_string(j, "os", s->os);
    cs_json_kv_string(j, "compiler", s->compiler);
    cs_json_kv_string(j, "build_flags", s->build_flags);
    cs_json_kv_string(j, "blas", s->blas);
    cs_json_kv_string(j, "blas_layer", cs_blas_layer_name(cs_blas_layer_runtime()));
    cs_json_kv_string(j, "blas_pool", cs_blas_pool_name(cs_blas_pool_get()));
    cs_json_kv_int(j, "blas_threads", cs_blas_threads_used());
    cs_json_kv_bool(j, "gpu_present", s->gpu_present);
    cs_json_kv_string(j, "gpu_name", s->gpu_name); /* or why there is none */
    cs_json_kv_int(j, "gpu_mem", (int64_t)s->gpu_mem);
    cs_json_kv_int(j, "gpu_cc", s->gpu_cc);
    cs_json_kv_int(j, "gpu_sms", s->gpu_sms);
    cs_json_kv_string(j, "gpu_driver", s->gpu_driver);
    cs_json_kv_string(j, "cuda_runtime", s->cuda_runtime);
    cs_json_end_object(j);
}

char *cs_sysinfo_oneline(const cs_sysinfo *s, char *buf, size_t len)
{
    if (s->gpu_present)
        snprintf(buf, len, "%s, %d cores, %s; GPU %s", s->cpu_model, s->cores, s->isa, s->gpu_name);
    else
        snprintf(buf, len, "%s, %d cores, %s; no GPU (%s)", s->cpu_model, s->cores, s->isa, s->gpu_name);
    return buf;
}
