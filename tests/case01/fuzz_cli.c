/* A fuzz target for the command line: the suite's parser (common/cs_cli.c)
 * with case01's options (case01_training_loop/cli.c), every message through
 * cs_console. An input is argv: words separated by NUL bytes, after the
 * program's name.
 *
 * What must hold: the answer is 0 (go on), -1 (--help or --version printed
 * on stdout, nothing on stderr) or 2 (bad usage: exactly one line on stderr,
 * "case01_training_loop: ...", with no control byte, DEL or invalid UTF-8
 * in it, and nothing on stdout); on 0 every value is within its range, the
 * variants are known ones, and none is one that --device excludes.
 *
 * Built as tests/fuzz.cmake says: case01.fuzz_cli_corpus replays the seeds
 * with any compiler, case01.fuzz_cli_short explores under libFuzzer with
 * clang (without OpenMP, so no thread team is started). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cs_console.h"
#include "cs_fuzz_replay.h"
#include "ladder.h"

#define REQUIRE(cond) CS_FUZZ_REQUIRE(cond)

static FILE *saved_stderr;
static FILE *out_file, *err_file;
static char out_text[1 << 16], err_text[1 << 16];
static size_t out_len, err_len;

static size_t slurp(FILE *f, char *buf, size_t cap)
{
    fflush(f);
    long end = ftell(f);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    rewind(f);
    REQUIRE(ftruncate(fileno(f), 0) == 0);
    return end < 0 ? n : (size_t)end;
}

/* Valid UTF-8 without C0 controls, DEL, C1 controls, U+FEFF. */
static int clean_text(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x20 || c == 0x7F) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (len == 0 || i + len > n) return 0;
        unsigned cp = c & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp <= 0x9F || cp == 0xFEFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
        i += len;
    }
    return 1;
}

static int known(const char *name, size_t len)
{
    for (int i = 0; i < C1_NVARIANTS; i++)
        if (strlen(c1_variant_names[i]) == len && strncmp(c1_variant_names[i], name, len) == 0) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (saved_stderr == NULL) {
        saved_stderr = fdopen(dup(2), "w");
        out_file = tmpfile();
        err_file = tmpfile();
        if (saved_stderr == NULL || out_file == NULL || err_file == NULL) abort();
        setvbuf(saved_stderr, NULL, _IONBF, 0);
    }
    /* argv: the program, then the input's NUL-separated words (at most 64). */
    char *copy = malloc(size + 1);
    REQUIRE(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[66];
    int argc = 0;
    argv[argc++] = "case01_training_loop";
    for (size_t i = 0; i < size && argc < 65;) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;

    c1_args a;
    c1_args_defaults(&a);
    cs_cli_spec spec = c1_cli_spec(&a);
    cs_options o;
    fflush(stdout);
    fflush(stderr);
    int keep_out = dup(1), keep_err = dup(2);
    dup2(fileno(out_file), 1);
    dup2(fileno(err_file), 2);
    int rc = cs_cli_parse(argc, argv, &spec, &o);
    fflush(stdout);
    fflush(stderr);
    dup2(keep_out, 1);
    dup2(keep_err, 2);
    close(keep_out);
    close(keep_err);
    out_len = slurp(out_file, out_text, sizeof out_text);
    err_len = slurp(err_file, err_text, sizeof err_text);

    REQUIRE(rc == 0 || rc == -1 || rc == 2);
    if (rc == 2) {
        static const char prefix[] = "case01_training_loop: ";
        REQUIRE(out_len == 0);
        REQUIRE(err_len < sizeof err_text && err_len > sizeof prefix);
        REQUIRE(strncmp(err_text, prefix, sizeof prefix - 1) == 0);
        REQUIRE(err_text[err_len - 1] == '\n');
        REQUIRE(clean_text((const unsigned char *)err_text, err_len - 1)); /* one line, shown as is */
    } else if (rc == -1) {
        REQUIRE(err_len == 0 && out_len > 0);
    } else {
        REQUIRE(err_len == 0 && out_len == 0);
        REQUIRE(o.repeat == -1 || (o.repeat >= 1 && o.repeat <= 1000));
        REQUIRE(o.warmup == -1 || (o.warmup >= 0 && o.warmup <= 100));
        REQUIRE(o.threads >= 0 && o.threads <= 1024);
        REQUIRE(strcmp(o.device, "cpu") == 0 || strcmp(o.device, "gpu") == 0 || strcmp(o.device, "auto") == 0);
        REQUIRE(o.out_dir[0] != '\0' && strlen(o.out_dir) < sizeof o.out_dir - 64);
        if (o.variants[0] != '\0') {
            for (const char *p = o.variants;;) {
                size_t len = strcspn(p, ",");
                REQUIRE(len > 0 && known(p, len));
                if (strcmp(o.device, "auto") != 0) REQUIRE(strncmp(p, o.device, 3) == 0);
                if (p[len] == '\0') break;
                p += len + 1;
            }
        }
        const c1_config *c = &a.cfg;
        REQUIRE(c->h1 >= 1 && c->h1 <= C1_MAX_LAYER && c->h2 >= 1 && c->h2 <= C1_MAX_LAYER);
        REQUIRE(c->batch >= 1 && c->batch <= 65536);
        REQUIRE(c->lr > 0 && c->lr <= 10);
        REQUIRE(c->steps >= 1 && c->steps <= 100000 && c->slow_steps >= 1 && c->slow_steps <= 1000);
        REQUIRE(c->gpu_steps >= 0 && c->gpu_steps <= 100000);
        REQUIRE(a.samples >= 1 && a.samples <= 1000000);
        REQUIRE(a.data_dir == NULL || a.data_dir[0] != '\0');
    }
    free(copy);
    return 0;
}

#ifdef C1_FUZZ_STANDALONE
int main(int argc, char **argv)
{
    return cs_fuzz_replay(argc, argv, "fuzz_cli", "all invariants held");
}
#endif
