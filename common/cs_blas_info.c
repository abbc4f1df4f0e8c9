/* Which BLAS runs, and does its kernel family use this CPU's widest SIMD?
 *
 * OpenBLAS ships one set of hand-written kernels per CPU family ("core":
 * Prescott, Haswell, Zen, SkylakeX, ...). A DYNAMIC_ARCH build picks one at
 * load time from CPUID, unless the OPENBLAS_CORETYPE environment variable
 * names one. If it picks an old core (an unrecognised CPU, a hypervisor that
 * hides CPUID bits, or an OPENBLAS_CORETYPE set for another machine), SGEMM
 * silently runs with 128-bit SSE instead of 256-bit AVX2 FMAs: several
 * times slower, and no error anywhere. This module finds that out and says
 * so; it never changes the environment or OpenBLAS's settings. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif
#include "cs_blas_info.h"
#include "cs_blas_threads.h"

#include <dlfcn.h>
#include <stdio.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef CS_HAVE_CBLAS
/* Exported by OpenBLAS (and declared in its cblas.h, which other CBLAS
 * implementations' headers are not): declared here so this file does not
 * depend on which cblas.h was found. CMake links OpenBLAS itself. */
char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);
#endif

/* Copies src into a buffer of size n, always terminated. */
static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* ---- OpenBLAS core names and their widest SIMD ------------------------
 * The names openblas_get_corename() returns in DYNAMIC_ARCH builds
 * (OpenBLAS 0.3.21, driver/others/dynamic.c); builds for one target return
 * the same names in capitals ("HASWELL"), hence the case-insensitive match. */
static const struct {
    const char *core;
    int rank; /* 0 SSE, 1 AVX, 2 AVX2, 3 AVX-512 */
    const char *isa;
} core_table[] = {
    {"Generic", 0, "SSE2"}, /* plain C kernels */
    {"Katmai", 0, "SSE"},         {"Coppermine", 0, "SSE"},
    {"Northwood", 0, "SSE2"},     {"Banias", 0, "SSE2"},
    {"Athlon", 0, "SSE2"},        {"Opteron", 0, "SSE2"},
    {"Prescott", 0, "SSE3"},      {"Core2", 0, "SSE3"},
    {"Penryn", 0, "SSE3"},        {"Dunnington", 0, "SSE3"},
    {"Nehalem", 0, "SSE3"},       {"Atom", 0, "SSE3"},
    {"Opteron(SSE3)", 0, "SSE3"}, {"Barcelona", 0, "SSE3"},
    {"Nano", 0, "SSE3"},          {"Bobcat", 0, "SSE3"},
    {"Sandybridge", 1, "AVX"},    {"Bulldozer", 1, "AVX"},
    {"Piledriver", 1, "AVX"},     {"Steamroller", 1, "AVX"},
    {"Excavator", 1, "AVX"},      {"Haswell", 2, "AVX2"},
    {"Zen", 2, "AVX2"},           {"SkylakeX", 3, "AVX-512"},
    {"Cooperlake", 3, "AVX-512"}, {"SapphireRapids", 3, "AVX-512"},
};

int cs_blas_core_rank(const char *core, const char **isa)
{
    if (core)
        for (size_t i = 0; i < sizeof core_table / sizeof core_table[0]; i++)
            if (strcasecmp(core, core_table[i].core) == 0) {
                if (isa) *isa = core_table[i].isa;
                return core_table[i].rank;
            }
    if (isa) *isa = "?";
    return -1; /* not in the table (e.g. an Arm core): no comparison made */
}

/* ---- This CPU's widest SIMD ---------------------------------------------
 * Asked of the CPU at run time (CPUID, through GCC's __builtin_cpu_supports),
 * not of the compiler flags: it is what OpenBLAS could use here. */
const char *cs_cpu_isa_word(int *rank)
{
    int r;
    const char *w;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        r = 3;
        w = "AVX-512";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        r = 2;
        w = "AVX2";
    } else if (__builtin_cpu_supports("avx")) {
        r = 1;
        w = "AVX";
    } else if (__builtin_cpu_supports("sse3")) {
        r = 0;
        w = "SSE3";
    } else {
        r = 0;
        w = "SSE2";
    }
#elif defined(__aarch64__)
    r = -1;
    w = "NEON"; /* not on the x86 scale: never a mismatch */
#else
    r = -1;
    w = "unknown";
#endif
    if (rank) *rank = r;
    return w;
}

/* The 16-bit multiplies this CPU has: AVX-512 BF16 (vdpbf16ps: pairs of
 * bf16 products summed into fp32 lanes; asked through GCC, which also
 * checks the OS saves the AVX-512 state), AVX-512 FP16 and AMX-BF16 (CPUID
 * leaf 7 EDX bits 23 and 22). */
static void cpu_16bit(cs_blas_info *b)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    b->cpu_avx512_bf16 = __builtin_cpu_supports("avx512bf16") != 0;
    unsigned a = 0, bx = 0, c = 0, d = 0;
    if (__get_cpuid_count(7, 0, &a, &bx, &c, &d)) {
        b->cpu_avx512_fp16 = b->cpu_rank == 3 && (d >> 23 & 1u);
        b->cpu_amx_bf16 = (d >> 22 & 1u) != 0;
    }
#else
    (void)b;
#endif
}

/* The OPENBLAS_CORETYPE value whose kernels use this CPU's widest SIMD. */
static const char *suggest_core(int cpu_rank)
{
#if defined(__x86_64__) || defined(__i386__)
    switch (cpu_rank) {
    case 3: return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
    case 2: return __builtin_cpu_is("amd") ? "Zen" : "Haswell";
    case 1: return "Sandybridge";
    case 0: return __builtin_cpu_supports("sse3") ? "Prescott" : "";
    default: return "";
    }
#else
    (void)cpu_rank;
    return "";
#endif
}

void cs_blas_info_get(cs_blas_info *b)
{
    memset(b, 0, sizeof *b);
    const char *isa = "?";

#ifdef CS_HAVE_CBLAS
    b->linked = 1;
    copy_str(b->config, sizeof b->config, openblas_get_config());
    b->is_openblas = strncmp(b->config, "OpenBLAS", 8) == 0;
    if (b->is_openblas) {
        copy_str(b->core, sizeof b->core, openblas_get_corename());
        b->threads = openblas_get_num_threads();
    }
#endif
    b->core_rank = b->is_openblas ? cs_blas_core_rank(b->core, &isa) : -1;
    copy_str(b->core_isa, sizeof b->core_isa, isa);

    copy_str(b->cpu_isa, sizeof b->cpu_isa, cs_cpu_isa_word(&b->cpu_rank));
    copy_str(b->suggested_core, sizeof b->suggested_core, suggest_core(b->cpu_rank));
    /* An unknown core or CPU (rank -1) never counts as a mismatch. */
    b->mismatch = b->core_rank >= 0 && b->cpu_rank >= 0 && b->core_rank < b->cpu_rank;

    copy_str(b->env_coretype, sizeof b->env_coretype, getenv("OPENBLAS_CORETYPE"));
    cpu_16bit(b);
    /* Looked up, not linked: the same binary reports whichever BLAS build
     * the loader found (Debian's alternatives switch it under us). */
    b->blas_bf16_gemm = b->linked && dlsym(RTLD_DEFAULT, "cblas_sbgemm") != NULL;
}

const char *cs_cpu_16bit_words(const cs_blas_info *b, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s%s", b->cpu_avx512_bf16 ? "AVX-512 BF16" : "",
             b->cpu_avx512_bf16 && (b->cpu_avx512_fp16 || b->cpu_amx_bf16) ? ", " : "",
             b->cpu_avx512_fp16 ? "AVX-512 FP16" : "", b->cpu_avx512_fp16 && b->cpu_amx_bf16 ? ", " : "",
             b->cpu_amx_bf16 ? "AMX-BF16" : "");
    return buf;
}

/* "SGEMM measured X GFLOP/s, Y% of this machine's estimated peak Z GFLOP/s"
 * (only the parts that are known). */
static void print_rate(FILE *f, double measured, double peak)
{
    if (measured <= 0) {
        fprintf(f, "SGEMM rate not measured");
        return;
    }
    fprintf(f, "SGEMM measured %.1f GFLOP/s", measured);
    if (peak > 0) {
        fprintf(f, ", %.0f%% of this machine's estimated peak %.1f GFLOP/s", 100.0 * measured / peak, peak);
        if (measured > peak)
            fprintf(f, " (above 100%%: the cores run faster than the clock "
                       "/proc/cpuinfo reports, e.g. boost)");
    }
}

void cs_blas_info_explain(FILE *f, const cs_blas_info *b, double measured_gflops, double peak_gflops_est)
{
    if (!b->linked) {
        fprintf(f, "  BLAS: none (built without OpenBLAS): the vendor-BLAS rung is skipped.\n");
        return;
    }
    if (!b->is_openblas) {
        fprintf(f,
                "  BLAS: a CBLAS that is not OpenBLAS (%s); its kernel choice is not "
                "inspected.\n",
                b->config[0] ? b->config : "no config string");
        return;
    }

    char threads[128];
    cs_blas_threads_describe(threads, sizeof threads);
    fprintf(f, "  BLAS: %s; %s\n", b->config, threads);

    if (b->mismatch) {
        fprintf(f, "  OpenBLAS is running its %s kernels (%s) on a CPU that offers %s: ", b->core, b->core_isa,
                b->cpu_isa);
        print_rate(f, measured_gflops, peak_gflops_est);
        fprintf(f, ".\n");
        fprintf(f,
                "  To change it: set OPENBLAS_CORETYPE=%s in the environment before "
                "starting the program (OpenBLAS reads it at load time).\n",
                b->suggested_core);
    } else if (b->core_rank < 0 || b->cpu_rank < 0) {
        fprintf(f,
                "  OpenBLAS runs its %s kernels; this CPU offers %s. That core is not "
                "in this suite's table of x86 cores: no SIMD comparison made. ",
                b->core, b->cpu_isa);
        print_rate(f, measured_gflops, peak_gflops_est);
        fprintf(f, ".\n");
    } else if (b->core_rank > b->cpu_rank) {
        fprintf(f,
                "  The %s core uses %s, which this CPU lacks: its kernels stop with "
                "an illegal instruction.",
                b->core, b->core_isa);
        if (b->suggested_core[0]) fprintf(f, " OPENBLAS_CORETYPE=%s would match this CPU.", b->suggested_core);
        fprintf(f, "\n");
    } else {
        fprintf(f,
                "  OpenBLAS runs its %s kernels (%s): the core matches this CPU's widest "
                "SIMD (%s). ",
                b->core, b->core_isa, b->cpu_isa);
        print_rate(f, measured_gflops, peak_gflops_est);
        fprintf(f, ".\n");
    }

    if (b->env_coretype[0])
        fprintf(f,
                "  Note: OPENBLAS_CORETYPE=%s is already set in this environment: it "
                "forces that core. Environments set it on purpose on CPUs where "
                "OpenBLAS 0.3.21's own choice gives wrong results or crashes, so check "
                "results (this suite's cpu_blas rung is checked against a float64 "
                "reference) before changing it.\n",
                b->env_coretype);
}
