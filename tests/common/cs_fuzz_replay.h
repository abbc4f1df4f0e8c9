/* The plain main of a fuzz target (tests/fuzz.cmake): built without
 * libFuzzer, a target runs each file named on its command line through
 * LLVMFuzzerTestOneInput once, so its seed corpus is a regression test with
 * any compiler. The target defines its own main as
 *     int main(int argc, char **argv) { return cs_fuzz_replay(argc, argv, "fuzz_x", "all held"); }
 * A broken invariant aborts inside the target; here a file that cannot be
 * read is exit code 2 (3 when memory runs out), and no file at all is 2.
 *
 * A target that accepts or refuses its input says which in
 * cs_fuzz_accepted (1 or 0); the replay then holds the seed corpus to its
 * names: a file called valid_* must be accepted and bad_* refused (exit
 * code 1 otherwise), so a parser that refuses everything cannot pass. */
#ifndef CS_FUZZ_REPLAY_H
#define CS_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The last input's verdict, set by the target: 1 accepted, 0 refused, -1 unsaid. */
static int cs_fuzz_accepted = -1;

/* 0 when the verdict agrees with the file's name (or either says nothing). */
static inline int cs_fuzz_check_name(const char *name, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int want = strncmp(base, "valid_", 6) == 0 ? 1 : strncmp(base, "bad_", 4) == 0 ? 0 : -1;
    if (want < 0 || cs_fuzz_accepted < 0 || want == cs_fuzz_accepted) return 0;
    fprintf(stderr, "%s: %s was %s, its name says it must be %s\n", name, path,
            cs_fuzz_accepted ? "accepted" : "refused", want ? "accepted" : "refused");
    return 1;
}

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
        cs_fuzz_accepted = -1;
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        if (cs_fuzz_check_name(name, argv[a]) != 0) return 1;
        ran++;
    }
    printf("%s: %d inputs, %s\n", name, ran, verdict);
    return ran > 0 ? 0 : 2;
}

#endif
