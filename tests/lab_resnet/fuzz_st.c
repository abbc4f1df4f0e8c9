/* A fuzz target for lab_resnet's safetensors reader (and the JSON cursor
 * under it): arbitrary bytes are parsed as a file; when the parse succeeds,
 * everything later code relies on is checked on every tensor. A broken
 * invariant aborts (libFuzzer reports it with the input that caused it);
 * AddressSanitizer catches any read outside the file's bytes, and
 * UndefinedBehaviorSanitizer any overflow in the size arithmetic.
 *
 * Two ways to build it:
 *   clang -fsanitize=fuzzer,address,undefined: libFuzzer's own main explores
 *     inputs (tests/lab_resnet/fuzz.cmake: the test lab_resnet.fuzz_st_short);
 *   any compiler with -DLR_FUZZ_STANDALONE: a main that runs each file given
 *     on the command line once (the seed corpus as a regression test). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "cs_fuzz_replay.h"

#define REQUIRE(cond) CS_FUZZ_REQUIRE(cond)

/* Bytes per element as the reader must have used them. */
static size_t dtype_size(const char *text)
{
    static const struct {
        const char *text;
        size_t size;
    } sizes[] = {
        {"F32", 4}, {"I64", 8}, {"F16", 2}, {"BF16", 2}, {"F64", 8},  {"I32", 4},     {"I16", 2},     {"I8", 1},
        {"U8", 1},  {"U16", 2}, {"U32", 4}, {"U64", 8},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (strcmp(sizes[i].text, text) == 0) return sizes[i].size;
    return 0;
}

static void check_tensor(const rn_st_file *f, int index)
{
    const rn_st_tensor *t = &f->tensors[index];
    size_t data_size = f->size - f->data_start;
    /* The name: terminated, not the metadata's, found again by lookup. */
    REQUIRE(memchr(t->name, '\0', sizeof t->name) != NULL);
    REQUIRE(strcmp(t->name, "__metadata__") != 0);
    REQUIRE(rn_st_find(f, t->name) == t); /* names are unique */
    /* The range lies inside the data section. */
    REQUIRE(t->begin <= t->end && t->end <= data_size);
    /* The shape: bounded, non-negative, and exactly the range's bytes. */
    REQUIRE(t->ndims >= 0 && t->ndims <= RN_ST_MAX_DIMS);
    size_t width = dtype_size(t->dtype_text);
    REQUIRE(width > 0);
    REQUIRE(t->dtype == (strcmp(t->dtype_text, "F32") == 0   ? RN_ST_F32
                         : strcmp(t->dtype_text, "I64") == 0 ? RN_ST_I64
                                                             : RN_ST_OTHER));
    size_t count = 1;
    for (int d = 0; d < t->ndims; d++) {
        REQUIRE(t->shape[d] >= 0);
        count *= (size_t)t->shape[d]; /* may wrap: only compared when no dim is 0 */
    }
    int has_zero = 0;
    for (int d = 0; d < t->ndims; d++) has_zero |= t->shape[d] == 0;
    if (has_zero)
        REQUIRE(t->begin == t->end);
    else
        REQUIRE(count <= data_size && count * width == t->end - t->begin);

    /* An F32 tensor copies out with its own shape, bit for bit. */
    if (t->dtype == RN_ST_F32) {
        size_t n = (t->end - t->begin) / 4;
        float *dst = malloc(n ? n * sizeof(float) : 1);
        if (dst == NULL) return;
        REQUIRE(rn_st_get_f32(f, t->name, t->ndims, t->shape, dst) == 0);
        const unsigned char one[4] = {1, 0, 0, 0};
        uint32_t probe;
        memcpy(&probe, one, 4);
        if (probe == 1) REQUIRE(n == 0 || memcmp(dst, f->bytes + f->data_start + t->begin, n * 4) == 0);
        free(dst);
        /* One dimension more is a shape mismatch, never a copy. */
        if (t->ndims < RN_ST_MAX_DIMS) {
            int64_t longer[RN_ST_MAX_DIMS];
            for (int d = 0; d < t->ndims; d++) longer[d] = t->shape[d];
            longer[t->ndims] = 1;
            REQUIRE(rn_st_get_f32(f, t->name, t->ndims + 1, longer, NULL) == 2);
        }
    } else {
        float dummy;
        REQUIRE(rn_st_get_f32(f, t->name, t->ndims, t->shape, &dummy) == 2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rn_st_file f;
    int rc = rn_st_parse(&f, "fuzz input", data, size);
    REQUIRE(rc == 0 || rc == 2 || rc == 3);
    cs_fuzz_accepted = rc == 0;
    if (rc != 0) {
        /* A failed parse leaves nothing behind. */
        REQUIRE(f.bytes == NULL && f.tensors == NULL && f.ntensors == 0);
        rn_st_close(&f);
        return 0;
    }
    REQUIRE(f.size == size && memcmp(f.bytes, data, size) == 0);
    REQUIRE(f.data_start >= 8 + 2 && f.data_start <= size); /* the smallest header is {} */
    REQUIRE(f.ntensors >= 0 && (f.ntensors == 0 || f.tensors != NULL));
    for (int i = 0; i < f.ntensors; i++) check_tensor(&f, i);
    /* No two non-empty ranges share a byte (quadratic, but inputs are small). */
    if (f.ntensors <= 512)
        for (int i = 0; i < f.ntensors; i++)
            for (int k = i + 1; k < f.ntensors; k++) {
                const rn_st_tensor *a = &f.tensors[i], *b = &f.tensors[k];
                if (a->begin == a->end || b->begin == b->end) continue;
                REQUIRE(a->end <= b->begin || b->end <= a->begin);
            }
    REQUIRE(rn_st_find(&f, "__metadata__") == NULL);
    rn_st_close(&f);
    REQUIRE(f.bytes == NULL && f.tensors == NULL);
    return 0;
}

#ifdef RN_FUZZ_STANDALONE
int main(int argc, char **argv)
{
    return cs_fuzz_replay(argc, argv, "fuzz_st", "all invariants held");
}
#endif
