/* The BLAS probe: core-name table, mismatch logic, and what the explanation
 * tells a user (no assumption about this machine's CPU or BLAS). */
#include "cs_test.h"

#include "cs_blas_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_core_table(void)
{
    const char *isa = NULL;
    CHECK(cs_blas_core_rank("Prescott", &isa) == 0);
    CHECK(isa && strcmp(isa, "SSE3") == 0);
    CHECK(cs_blas_core_rank("Core2", NULL) == 0);
    CHECK(cs_blas_core_rank("Nehalem", NULL) == 0);
    CHECK(cs_blas_core_rank("Barcelona", NULL) == 0);
    CHECK(cs_blas_core_rank("Katmai", NULL) == 0);
    CHECK(cs_blas_core_rank("Generic", NULL) == 0);
    CHECK(cs_blas_core_rank("Sandybridge", &isa) == 1);
    CHECK(isa && strcmp(isa, "AVX") == 0);
    CHECK(cs_blas_core_rank("Bulldozer", NULL) == 1);
    CHECK(cs_blas_core_rank("Excavator", NULL) == 1);
    CHECK(cs_blas_core_rank("Haswell", &isa) == 2);
    CHECK(isa && strcmp(isa, "AVX2") == 0);
    CHECK(cs_blas_core_rank("Zen", NULL) == 2);
    CHECK(cs_blas_core_rank("ZEN", NULL) == 2); /* single-target builds */
    CHECK(cs_blas_core_rank("haswell", NULL) == 2);
    CHECK(cs_blas_core_rank("SkylakeX", &isa) == 3);
    CHECK(isa && strcmp(isa, "AVX-512") == 0);
    CHECK(cs_blas_core_rank("Cooperlake", NULL) == 3);
    CHECK(cs_blas_core_rank("SapphireRapids", NULL) == 3);
    CHECK(cs_blas_core_rank("NEOVERSEN1", &isa) == -1); /* not an x86 core */
    CHECK(isa && strcmp(isa, "?") == 0);
    CHECK(cs_blas_core_rank("", NULL) == -1);
    CHECK(cs_blas_core_rank(NULL, NULL) == -1);
    CHECK(cs_blas_core_rank("Zen2", NULL) == -1); /* whole names only */
}

static void test_cpu_isa(void)
{
    int rank = 99;
    const char *w = cs_cpu_isa_word(&rank);
    CHECK(w != NULL && w[0] != '\0');
    CHECK(rank >= -1 && rank <= 3);
    /* the word and the rank agree on the x86 scale */
    if (rank == 3) CHECK(strcmp(w, "AVX-512") == 0);
    if (rank == 2) CHECK(strcmp(w, "AVX2") == 0);
    if (rank == 1) CHECK(strcmp(w, "AVX") == 0);
    if (rank == 0) CHECK(strncmp(w, "SSE", 3) == 0);
    CHECK(cs_cpu_isa_word(NULL) == w); /* rank pointer is optional */
}

/* What this build and machine report: consistent, whatever they are. */
static void test_probe(void)
{
    cs_blas_info b;
    cs_blas_info_get(&b);
    CHECK(b.mismatch == (b.core_rank >= 0 && b.cpu_rank >= 0 && b.core_rank < b.cpu_rank));
    if (!b.linked) {
        CHECK(!b.is_openblas);
        CHECK(b.core_rank == -1 && !b.mismatch);
    }
    if (b.is_openblas) {
        CHECK(strncmp(b.config, "OpenBLAS", 8) == 0);
        CHECK(b.core[0] != '\0');
        CHECK(b.threads >= 1);
        CHECK(b.core_rank == cs_blas_core_rank(b.core, NULL));
    }
    const char *env = getenv("OPENBLAS_CORETYPE");
    CHECK(strcmp(b.env_coretype, env ? env : "") == 0);
    int rank;
    CHECK(strcmp(b.cpu_isa, cs_cpu_isa_word(&rank)) == 0 && rank == b.cpu_rank);
    if (b.cpu_rank >= 1) CHECK(b.suggested_core[0] != '\0');
    if (b.cpu_rank >= 1) CHECK(cs_blas_core_rank(b.suggested_core, NULL) == b.cpu_rank);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cs_blas_info_explain(f, &b, 0.0, 0.0);
    fclose(f);
    CHECK(len > 0);
    printf("%s", text);
    free(text);
}

/* A hand-built OpenBLAS that runs SSE kernels on an AVX2 CPU. */
static cs_blas_info simulated(const char *core, const char *core_isa, int core_rank, const char *env)
{
    cs_blas_info b;
    memset(&b, 0, sizeof b);
    b.linked = 1;
    b.is_openblas = 1;
    snprintf(b.config, sizeof b.config, "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY %s", core);
    snprintf(b.core, sizeof b.core, "%s", core);
    snprintf(b.core_isa, sizeof b.core_isa, "%s", core_isa);
    snprintf(b.cpu_isa, sizeof b.cpu_isa, "AVX2");
    b.core_rank = core_rank;
    b.cpu_rank = 2;
    b.mismatch = core_rank >= 0 && core_rank < b.cpu_rank;
    snprintf(b.suggested_core, sizeof b.suggested_core, "Zen");
    snprintf(b.env_coretype, sizeof b.env_coretype, "%s", env);
    b.threads = 2;
    return b;
}

static char *explain(const cs_blas_info *b, double measured, double peak)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cs_blas_info_explain(f, b, measured, peak);
    fclose(f);
    return text;
}

static void test_explain(void)
{
    /* mismatch, nothing set in the environment: how to change it */
    cs_blas_info b = simulated("Prescott", "SSE3", 0, "");
    char *t = explain(&b, 40.0, 160.0);
    CHECK(strstr(t, "OpenBLAS is running its Prescott kernels (SSE3) on a CPU that offers AVX2") != NULL);
    CHECK(strstr(t, "SGEMM measured 40.0 GFLOP/s") != NULL);
    CHECK(strstr(t, "25%") != NULL);
    CHECK(strstr(t, "160.0 GFLOP/s") != NULL);
    CHECK(strstr(t, "OPENBLAS_CORETYPE=Zen") != NULL);
    CHECK(strstr(t, "already set") == NULL);
    free(t);

    /* mismatch forced by the environment: say so, and why it may be on purpose */
    b = simulated("Prescott", "SSE3", 0, "Prescott");
    t = explain(&b, 40.0, 160.0);
    CHECK(strstr(t, "OPENBLAS_CORETYPE=Prescott is already set") != NULL);
    CHECK(strstr(t, "wrong results or crashes") != NULL);
    CHECK(strstr(t, "float64 reference") != NULL);
    free(t);

    /* matching core: no advice to change anything */
    b = simulated("Zen", "AVX2", 2, "");
    t = explain(&b, 150.0, 160.0);
    CHECK(strstr(t, "matches") != NULL);
    CHECK(strstr(t, "94%") != NULL);
    CHECK(strstr(t, "OPENBLAS_CORETYPE") == NULL);
    free(t);

    /* a core not in the table: no mismatch claimed */
    b = simulated("ARMV8", "?", -1, "");
    t = explain(&b, 10.0, 0.0);
    CHECK(strstr(t, "no SIMD comparison") != NULL);
    CHECK(strstr(t, "OPENBLAS_CORETYPE") == NULL);
    free(t);

    /* no BLAS at all */
    cs_blas_info none;
    memset(&none, 0, sizeof none);
    none.core_rank = -1;
    t = explain(&none, 0.0, 0.0);
    CHECK(strstr(t, "none") != NULL);
    free(t);
}

/* The 16-bit arithmetic found: the words for each combination, and, where
 * Linux lists the CPU's flags, the same answer as /proc/cpuinfo (the kernel
 * reads CPUID too, and hides what it does not enable). A BLAS that was not
 * linked offers no bf16 GEMM. */
static int cpuinfo_flag(const char *flag, int *known)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    *known = 0;
    if (f == NULL) return 0;
    char line[8192];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0) {
            *known = 1;
            for (char *t = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n"); t;
                 t = strtok(NULL, " \t\n"))
                found |= strcmp(t, flag) == 0;
            break;
        }
    fclose(f);
    return found;
}

static void test_16bit(void)
{
    cs_blas_info b;
    char buf[96];
    memset(&b, 0, sizeof b);
    CHECK(strcmp(cs_cpu_16bit_words(&b, buf, sizeof buf), "") == 0);
    b.cpu_avx512_bf16 = 1;
    CHECK(strcmp(cs_cpu_16bit_words(&b, buf, sizeof buf), "AVX-512 BF16") == 0);
    b.cpu_amx_bf16 = 1;
    CHECK(strcmp(cs_cpu_16bit_words(&b, buf, sizeof buf), "AVX-512 BF16, AMX-BF16") == 0);
    b.cpu_avx512_fp16 = 1;
    CHECK(strcmp(cs_cpu_16bit_words(&b, buf, sizeof buf), "AVX-512 BF16, AVX-512 FP16, AMX-BF16") == 0);
    b.cpu_avx512_bf16 = 0;
    CHECK(strcmp(cs_cpu_16bit_words(&b, buf, sizeof buf), "AVX-512 FP16, AMX-BF16") == 0);

    cs_blas_info_get(&b);
    if (!b.linked) CHECK(!b.blas_bf16_gemm);
    int known;
    const int bf16 = cpuinfo_flag("avx512_bf16", &known);
    if (known) {
        CHECK(b.cpu_avx512_bf16 == bf16);
        if (!b.cpu_avx512_bf16) CHECK(strstr(cs_cpu_16bit_words(&b, buf, sizeof buf), "AVX-512 BF16") == NULL);
    }
    printf("  16-bit arithmetic here: %s; bf16 GEMM in the BLAS: %s\n",
           cs_cpu_16bit_words(&b, buf, sizeof buf)[0] ? buf : "none", b.blas_bf16_gemm ? "yes" : "no");
}

int main(void)
{
    test_core_table();
    test_cpu_isa();
    test_probe();
    test_explain();
    test_16bit();
    return cs_test_done();
}
