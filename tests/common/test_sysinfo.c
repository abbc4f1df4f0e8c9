/* System info: the fields are filled, the JSON object is well formed, the
 * printed lines and the one-liner carry the key facts. */
#include "cs_test.h"

#include "cs_blas_info.h"
#include "cs_gemm.h"
#include "cs_json.h"
#include "cs_sysinfo.h"

#include <stdlib.h>
#include <string.h>

/* 1 when braces and brackets balance outside string literals, the text is
 * one value (nothing after the closing brace) and strings are closed. */
static int json_balanced(const char *s)
{
    int depth = 0, in_string = 0, closed = 0;
    for (const char *p = s; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1])
                p++; /* skip the escaped char */
            else if (*p == '"')
                in_string = 0;
            continue;
        }
        if (closed && *p != '\n' && *p != ' ') return 0;
        if (*p == '"')
            in_string = 1;
        else if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']') {
            if (--depth < 0) return 0;
            if (depth == 0) closed = 1;
        }
    }
    return depth == 0 && !in_string && closed;
}

static void test_json_checker(void)
{
    CHECK(json_balanced("{\"a\": \"}\"}"));
    CHECK(!json_balanced("{\"a\": 1"));
    CHECK(!json_balanced("{\"a\": \"x}"));
    CHECK(!json_balanced("{} {}"));
}

int main(void)
{
    test_json_checker();

    cs_sysinfo s;
    cs_sysinfo_get(&s);
    CHECK(s.cores >= 1);
    CHECK(s.threads >= 1);
    CHECK(s.cpu_model[0] != '\0');
    CHECK(s.isa[0] != '\0');
    CHECK(s.os[0] != '\0');
    CHECK(s.compiler[0] != '\0');
    CHECK(s.blas[0] != '\0');
    CHECK(s.mem_total > (size_t)16 << 20);
    CHECK(s.cpu_mhz >= 0.0);
    if (!s.gpu_present)
        CHECK(s.gpu_name[0] != '\0'); /* the reason there is none */
    else
        CHECK(s.gpu_mem > 0 && s.gpu_sms > 0);
#ifdef CS_HAVE_CBLAS
    CHECK(strstr(s.blas, "none") == NULL);
    /* A core below the CPU is named with the one that matches (OpenBLAS
     * 0.3.21 takes some AVX-512 Xeons for Prescott), and only then. */
    cs_blas_info b;
    cs_blas_info_get(&b);
    char hint[160];
    snprintf(hint, sizeof hint, "OPENBLAS_CORETYPE=%s would match it", b.suggested_core);
    CHECK((strstr(s.blas, hint) != NULL) == (b.mismatch && b.suggested_core[0]));
    /* The fp32 GEMM the cases use is named only once a case has chosen it
     * (reading the system makes no probe), and then where it was measured
     * or set (CS_CPU_GEMM), with the rates it was chosen by. */
    CHECK(cs_gemm_cpu_pick_made() == NULL);
    CHECK(strstr(s.blas, "; fp32 GEMMs: ") == NULL);
    const cs_gemm_cpu_pick *pick = cs_gemm_cpu_pick_get();
    CHECK(cs_gemm_cpu_pick_made() == pick);
    cs_sysinfo chosen;
    cs_sysinfo_get(&chosen);
    if (b.is_openblas) CHECK((strstr(chosen.blas, "; fp32 GEMMs: ") != NULL) == (pick->measured || pick->forced));
    if (pick->measured) CHECK(strstr(chosen.blas, "GFLOP/s)") != NULL);
#else
    CHECK(strcmp(s.blas, "none (built without OpenBLAS)") == 0);
#endif

    /* JSON: one object with every field */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cs_json j;
    cs_json_init(&j, f, 1);
    cs_sysinfo_json(&j, &s);
    fclose(f);
    CHECK(len > 0 && text[0] == '{');
    CHECK(json_balanced(text));
    const char *keys[] = {"\"cpu_model\"",   "\"cores\"",       "\"threads\"",  "\"cpu_mhz\"",     "\"isa\"",
                          "\"mem_total\"",   "\"os\"",          "\"compiler\"", "\"build_flags\"", "\"blas\"",
                          "\"gpu_present\"", "\"gpu_name\"",    "\"gpu_mem\"",  "\"gpu_cc\"",      "\"gpu_sms\"",
                          "\"gpu_driver\"",  "\"cuda_runtime\""};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        if (!strstr(text, keys[k])) fprintf(stderr, "JSON lacks %s\n", keys[k]);
        CHECK(strstr(text, keys[k]) != NULL);
    }
    free(text);

    /* printed lines */
    f = open_memstream(&text, &len);
    cs_sysinfo_print(f, &s);
    fclose(f);
    CHECK(strstr(text, s.cpu_model) != NULL);
    CHECK(strstr(text, "BLAS") != NULL);
    CHECK(strstr(text, "GPU") != NULL);
    CHECK(strstr(text, s.compiler) != NULL);
    printf("%s", text);
    free(text);

    /* one line, also when the buffer is short */
    char line[256];
    CHECK(cs_sysinfo_oneline(&s, line, sizeof line) == line);
    CHECK(strstr(line, s.cpu_model) != NULL);
    CHECK(strstr(line, "cores") != NULL);
    CHECK(strchr(line, '\n') == NULL);
    printf("%s\n", line);
    char small[8];
    cs_sysinfo_oneline(&s, small, sizeof small);
    CHECK(strlen(small) == 7);

    return cs_test_done();
}
