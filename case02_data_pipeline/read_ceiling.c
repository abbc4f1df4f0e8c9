/* The read ceiling of step 4 (see read_ceiling.h). */
#include "read_ceiling.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_clock.h"
#include "cs_console.h"

#define BLOCK (4u << 20)

static long long count_newlines(const char *p, size_t n)
{
    long long c = 0;
    const char *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

/* Reads [off, off+len) of fd in blocks; returns the newlines, or -1. */
static long long read_range(int fd, off_t off, off_t len, char *buf)
{
    long long lines = 0;
    while (len > 0) {
        size_t want = len < (off_t)BLOCK ? (size_t)len : BLOCK;
        ssize_t got = pread(fd, buf, want, off);
        if (got <= 0) return got == 0 ? lines : -1;
        lines += count_newlines(buf, (size_t)got);
        off += got;
        len -= got;
    }
    return lines;
}

int c2_measure_read_rate(const char *path, int repeats, c2_read_rate *r)
{
    memset(r, 0, sizeof *r);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return 2;
    }
    off_t size = st.st_size;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    r->threads = threads;
    double best1 = 0, bestn = 0;
    int failed = 0;
    for (int rep = 0; rep < repeats; rep++) {
        char *buf = malloc(BLOCK);
        if (!buf) {
            failed = 1;
            break;
        }
        double t0 = cs_now();
        long long lines = read_range(fd, 0, size, buf);
        double t1 = cs_now() - t0;
        free(buf);
        if (lines < 0) {
            failed = 1;
            break;
        }
        r->newlines = lines;
        if (t1 > 0 && (best1 == 0 || t1 < best1)) best1 = t1;

        long long total = 0;
        t0 = cs_now();
#pragma omp parallel reduction(+ : total) reduction(| : failed)
        {
            int nt = 1, id = 0;
#ifdef _OPENMP
            nt = omp_get_num_threads();
            id = omp_get_thread_num();
#endif
            off_t chunk = (size + nt - 1) / nt;
            off_t start = (off_t)id * chunk, len = start < size ? (size - start < chunk ? size - start : chunk) : 0;
            char *b = malloc(BLOCK);
            long long l = b ? read_range(fd, start, len, b) : -1;
            free(b);
            if (l < 0)
                failed |= 1;
            else
                total += l;
        }
        double tn = cs_now() - t0;
        if (failed) break;
        if (tn > 0 && (bestn == 0 || tn < bestn)) bestn = tn;
    }
    close(fd);
    if (failed) {
        cs_error("%s: cannot read: %s", path, strerror(errno ? errno : EIO));
        return 2;
    }
    r->one_thread_gbs = best1 > 0 ? size / best1 / 1e9 : 0;
    r->all_threads_gbs = bestn > 0 ? size / bestn / 1e9 : 0;
    return 0;
}
