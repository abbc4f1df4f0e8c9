/* A differential fuzz target for case02's fast rung: arbitrary bytes, after
 * the standard header, are run through fused (the plain one-pass rung, whose
 * record scanner fuzz_scan checks), through fast with 1 and with 4 threads,
 * and through the reference (reference.c, which shares no code with the
 * rungs); all four results must be equal. fast reads most rows through
 * 64-byte bit masks, quotes included, cuts the file into chunks whose
 * starts it finds from the quotes before them, and parses amounts, clocks
 * and keys a word at a time: each of those must give exactly the answer of
 * the plain code, on any input. A difference aborts with both results
 * described; AddressSanitizer catches a read past the mapped file.
 *
 * Built like fuzz_scan (tests/fuzz.cmake): with clang and libFuzzer it
 * explores inputs (case02.fuzz_fast_short); with any compiler and
 * -DC2_FUZZ_STANDALONE it replays the seed corpus (case02.fuzz_fast_corpus). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"
#include "cs_fuzz_replay.h"

static const char header[] = "txn_id,timestamp,user_id,category,amount,currency,country\n";

/* One rung on the file; aborts if it fails to run (every input is valid
 * for the rungs: bad rows are counted, never fatal). */
static void run(c2_variant_fn fn, const char *name, const c2_job *job, c2_result *out)
{
    c2_result_init(out);
    int rc = fn(job, out);
    if (rc != 0) {
        fprintf(stderr, "fuzz_fast: %s failed with code %d\n", name, rc);
        abort();
    }
    c2_result_sort(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tmp = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/fuzz_fast_XXXXXX", tmp);
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    /* NUL bytes become 0x01: main refuses a file with a NUL near its start
     * as binary (c2_read_header), so such inputs would test nothing. */
    char *body = malloc(size ? size : 1);
    if (body == NULL) {
        close(fd);
        unlink(path);
        return 0;
    }
    for (size_t i = 0; i < size; i++) body[i] = data[i] ? (char)data[i] : '\x01';
    int ok = write(fd, header, sizeof header - 1) == (ssize_t)(sizeof header - 1) &&
             (size == 0 || write(fd, body, size) == (ssize_t)size);
    free(body);
    close(fd);
    c2_job job = {.path = path, .tmp_dir = tmp, .threads = 1};
    if (!ok || c2_read_header(path, &job.header) != 0) {
        unlink(path);
        return 0;
    }
    job.file_bytes = (int64_t)(sizeof header - 1 + size);

    c2_result reference, one, four, plain;
    run(c2_run_fused, "fused", &job, &reference);
    run(c2_reference, "the reference", &job, &plain);
    run(c2_run_fast, "fast (1 thread)", &job, &one);
    job.threads = 4;
    run(c2_run_fast, "fast (4 threads)", &job, &four);
    unlink(path);

    char why[256];
    if (c2_result_compare(&plain, &reference, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_fast: the reference differs from fused: %s\n", why);
        abort();
    }
    if (c2_result_compare(&one, &reference, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_fast: fast (1 thread) differs from fused: %s\n", why);
        abort();
    }
    if (c2_result_compare(&four, &reference, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_fast: fast (4 threads) differs from fused: %s\n", why);
        abort();
    }
    c2_result_free(&reference);
    c2_result_free(&one);
    c2_result_free(&four);
    c2_result_free(&plain);
    return 0;
}

#ifdef C2_FUZZ_STANDALONE
#include "fast_scan.h" /* C2_ROW_PATH: which row masks this build runs */

int main(int argc, char **argv)
{
    static const char *const paths[] = {"no row masks", "SSE2 row masks", "AVX2 row masks"};
    char verdict[128];
    snprintf(verdict, sizeof verdict, "fast (%s) and the reference agreed with fused on each", paths[C2_ROW_PATH]);
    return cs_fuzz_replay(argc, argv, "fuzz_fast", verdict);
}
#endif
