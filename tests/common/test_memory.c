/* Tracked allocations: the live count goes up and down by exactly the bytes
 * asked for, the peak remembers the high point until reset, blocks are
 * 64-byte aligned and cs_calloc zero-fills; RSS figures are plausible;
 * cs_format_bytes picks the unit. */
#include "cs_memory.h"
#include "cs_test.h"

#include <stdint.h>
#include <string.h>

int main(void)
{
    size_t base = cs_tracked_bytes();
    CHECK(base == 0);

    char *a = cs_alloc(1000, "a");
    CHECK(cs_tracked_bytes() == base + 1000);
    double *b = cs_calloc(3 * sizeof(double), "b");
    CHECK(cs_tracked_bytes() == base + 1024);
    CHECK(b[0] == 0.0 && b[1] == 0.0 && b[2] == 0.0);
    CHECK((uintptr_t)a % 64 == 0 && (uintptr_t)b % 64 == 0);
    memset(a, 0x5a, 1000); /* the whole block is usable (ASan checks it) */

    void *odd = cs_alloc(1, "odd");
    CHECK((uintptr_t)odd % 64 == 0);
    CHECK(cs_tracked_bytes() == base + 1025);
    CHECK(cs_tracked_peak() == base + 1025);

    cs_free(a);
    CHECK(cs_tracked_bytes() == base + 25);
    CHECK(cs_tracked_peak() == base + 1025); /* the peak stays */
    cs_tracked_reset_peak();
    CHECK(cs_tracked_peak() == base + 25);
    void *c = cs_alloc(100, "c");
    CHECK(cs_tracked_peak() == base + 125);
    cs_free(c);
    cs_free(b);
    cs_free(odd);
    cs_free(NULL);
    CHECK(cs_tracked_bytes() == base);
    CHECK(cs_tracked_peak() == base + 125);

    /* a zero-byte block is still a distinct, freeable pointer */
    void *z = cs_alloc(0, "zero");
    CHECK(z != NULL && cs_tracked_bytes() == base);
    cs_free(z);

/* allocating from OpenMP threads keeps the count exact */
#pragma omp parallel for
    for (int i = 0; i < 1000; i++) cs_free(cs_alloc((size_t)i + 1, "thread"));
    CHECK(cs_tracked_bytes() == base);

    /* the process's resident set: non-zero, and the peak is at least now */
    size_t rss = cs_current_rss_bytes();
    CHECK(rss > 0);
    CHECK(cs_peak_rss_bytes() >= rss / 2); /* units agree (KiB vs bytes) */
    CHECK(cs_peak_rss_bytes() > 1024 * 1024);

    char buf[32];
    CHECK(strcmp(cs_format_bytes(0, buf, sizeof buf), "0 B") == 0);
    CHECK(strcmp(cs_format_bytes(1023, buf, sizeof buf), "1023 B") == 0);
    CHECK(strcmp(cs_format_bytes(1024, buf, sizeof buf), "1.0 KiB") == 0);
    CHECK(strcmp(cs_format_bytes(1536, buf, sizeof buf), "1.5 KiB") == 0);
    CHECK(strcmp(cs_format_bytes(123.4 * 1024 * 1024, buf, sizeof buf), "123.4 MiB") == 0);
    CHECK(strcmp(cs_format_bytes(1048575, buf, sizeof buf), "1.0 MiB") == 0); /* not "1024.0 KiB" */
    CHECK(strcmp(cs_format_bytes(3.0 * 1024 * 1024 * 1024, buf, sizeof buf), "3.0 GiB") == 0);
    CHECK(strcmp(cs_format_bytes(4096.0 * 1024 * 1024 * 1024, buf, sizeof buf), "4096.0 GiB") == 0);

    return cs_test_done();
}
