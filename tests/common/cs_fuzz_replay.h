/* The plain main of a fuzz target (tests/fuzz.cmake): built without
 * libFuzzer, a target runs each file named on its command line through
 * LLVMFuzzerTestOneInput once, so its seed corpus is a regression test with
 * any compiler. The target defines its own main as
 *     int main(int argc, char **argv) { return cs_fuzz_replay(argc, argv, "fuzz_x", "all held"); }
 * A broken invariant aborts inside the target; here a file that cannot be
 * read is exit code 2 (3 when memory runs out), and no file at all is 2. */
#ifndef CS_FUZZ_REPLAY_H
#define CS_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A target's invariant: when it does not hold, one line naming it, then
 * abort (libFuzzer keeps the input as a crash). */
#define CS_FUZZ_REQUIRE(cond)                                                            \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static inline int cs_fuzz_replay(int argc, char **argv, const char *name, const char *verdict)
{
    int ran = 0;
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (f == NULL) {
            fprintf(stderr, "%s: cannot open %s\n", name, argv[a]);
            return 2;
        }
        unsigned char *data = NULL;
        size_t len = 0, cap = 0, n;
        unsigned char chunk[4096];
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (len + n > cap) {
                cap = (len + n) * 2;
                unsigned char *grown = realloc(data, cap);
                if (grown == NULL) {
                    free(data);
                    fclose(f);
                    return 3;
                }
                data = grown;
            }
            memcpy(data + len, chunk, n);
            len += n;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        ran++;
    }
    printf("%s: %d inputs, %s\n", name, ran, verdict);
    return ran > 0 ? 0 : 2;
}

#endif
