/* Memory figures. Two views, because they answer different questions:
 *  - the resident set (what the OS gave the process, including the C
 *    library, OpenMP's stacks, the CUDA runtime...), from the kernel;
 *  - the tracked bytes: exactly what this case asked for through cs_alloc,
 *    so a variant that holds an extra copy of the data shows it.
 *
 * Each tracked block has a 64-byte header in front of it that remembers the
 * size, so cs_free can subtract it:
 *
 *   | header (64 B: size) | the caller's bytes ... |
 *   ^ from posix_memalign  ^ returned, still 64-byte aligned
 */
#include "cs_memory.h"

#include "cs_console.h"
#include "cs_fault.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CS_ALIGN 64 /* one cache line; also the widest SIMD load (AVX-512) */

/* The header occupies a whole alignment unit so the block after it keeps
 * the 64-byte alignment. */
typedef union {
    size_t bytes;
    unsigned char pad[CS_ALIGN];
} block_header;

/* Atomic because OpenMP threads may allocate (e.g. per-thread scratch). */
static atomic_size_t tracked_live;
static atomic_size_t tracked_peak;

size_t cs_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

/* Linux keeps the high-water mark of the resident set as VmHWM in
 * /proc/self/status; writing "5" to /proc/self/clear_refs resets it to the
 * current size, so a peak can be measured for one stretch of a run. */
int cs_peak_rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f == NULL) return -1;
    int ok = fputs("5", f) >= 0;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

size_t cs_peak_rss_since_reset(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return cs_peak_rss_bytes();
    char line[256];
    unsigned long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lu kB", &kib) == 1) break;
    fclose(f);
    return kib ? (size_t)kib * 1024 : cs_peak_rss_bytes();
}

size_t cs_current_rss_bytes(void)
{
    /* statm: size resident shared text lib data dt, all in pages. */
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return 0;
    unsigned long size_pages = 0, resident_pages = 0;
    int got = fscanf(f, "%lu %lu", &size_pages, &resident_pages);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (got != 2 || page <= 0) return 0;
    return (size_t)resident_pages * (size_t)page;
}

/* Raises the peak to `live` if it is higher. A compare-and-swap loop: another
 * thread may raise the peak between our load and our store. */
static void raise_peak(size_t live)
{
    size_t peak = atomic_load(&tracked_peak);
    while (live > peak && !atomic_compare_exchange_weak(&tracked_peak, &peak, live)) {
        /* peak now holds the other thread's value; try again */
    }
}

static _Noreturn void out_of_memory(size_t bytes, const char *what)
{
    fprintf(stderr, "%s: out of memory: asked for %zu bytes for %s\n", cs_prog(), bytes, what ? what : "(unnamed)");
    exit(3);
}

/* The tests' fault (CS_FAULT_INJECT=host_oom): every block of 1 MiB or
 * more fails as if memory had run out, to show the path every case takes
 * then (one line, exit code 3, no output half written). Looked up once. */
static int oom_injected(size_t bytes)
{
    static int injected = -1;
    if (injected < 0) injected = cs_fault_injected("host_oom");
    return injected && bytes >= ((size_t)1 << 20);
}

void *cs_alloc(size_t bytes, const char *what)
{
    if (bytes > SIZE_MAX - sizeof(block_header) || oom_injected(bytes)) out_of_memory(bytes, what);
    void *base = NULL;
    if (posix_memalign(&base, CS_ALIGN, sizeof(block_header) + bytes) != 0) out_of_memory(bytes, what);
    block_header *h = base;
    h->bytes = bytes;
    size_t live = atomic_fetch_add(&tracked_live, bytes) + bytes;
    raise_peak(live);
    return h + 1;
}

void *cs_calloc(size_t bytes, const char *what)
{
    void *p = cs_alloc(bytes, what);
    memset(p, 0, bytes);
    return p;
}

void cs_free(void *p)
{
    if (p == NULL) return;
    block_header *h = (block_header *)p - 1;
    atomic_fetch_sub(&tracked_live, h->bytes);
    free(h);
}

size_t cs_tracked_bytes(void)
{
    return atomic_load(&tracked_live);
}
size_t cs_tracked_peak(void)
{
    return atomic_load(&tracked_peak);
}
void cs_tracked_reset_peak(void)
{
    atomic_store(&tracked_peak, atomic_load(&tracked_live));
}

char *cs_format_bytes(double bytes, char *buf, size_t len)
{
    /* Binary units (KiB = 1024 B), as the OS and allocators count. */
    static const char *const units[] = {"KiB", "MiB", "GiB"};
    if (buf == NULL || len == 0) return buf;
    if (!(bytes >= 1024.0 || bytes <= -1024.0)) { /* also catches NaN */
        snprintf(buf, len, "%.0f B", bytes);
        return buf;
    }
    double v = bytes / 1024.0;
    int u = 0;
    /* 1023.95 and up would print as "1024.0": move to the next unit instead. */
    while (u < 2 && fabs(v) >= 1023.95) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}
