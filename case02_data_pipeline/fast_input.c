/* fast: the input file mapped, or read whole (fast_input.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_console.h"
#include "cs_memory.h"
#include "fast_input.h"

#define READ_BLOCK (16u << 20) /* bytes per read() when mmap is not possible */

/* ======================================================================
 * The input: the file mapped, or read whole
 * ====================================================================== */

/* Reads the whole file into memory in large blocks (when mmap fails). */
static int read_whole(const char *path, int fd, size_t size, input *in)
{
    char *buf = cs_alloc(size, "case02 fast: the input file");
    size_t got = 0;
    while (got < size) {
        size_t want = size - got < READ_BLOCK ? size - got : READ_BLOCK;
        ssize_t n = read(fd, buf + got, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            cs_error("%s: cannot read: %s", path, strerror(errno));
            cs_free(buf);
            return 3;
        }
        if (n == 0) break; /* the file shrank since fstat: use what is there */
        got += (size_t)n;
    }
    in->data = in->copy = buf;
    in->size = got;
    return 0;
}

int open_input(const char *path, input *in)
{
    memset(in, 0, sizeof *in);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        return 2;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cs_error("%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return 2;
    }
    size_t size = (size_t)st.st_size;
    int rc = 0;
    if (size == 0) {
        in->data = ""; /* mmap refuses a length of 0 */
    } else {
        /* The file's pages in the page cache become our memory: no copy.
         * PROT_READ and MAP_PRIVATE: nothing we do can reach the file.
         * MADV_SEQUENTIAL asks the kernel to read ahead aggressively (each
         * thread walks its chunk front to back). One caveat of mapping: a
         * file truncated by another process while mapped makes the read of
         * a vanished page fail with SIGBUS, so a job that reads files still
         * being written should read() them instead. */
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            madvise(p, size, MADV_SEQUENTIAL);
            in->data = p;
            in->size = size;
            in->mapped = 1;
        } else {
            rc = read_whole(path, fd, size, in);
        }
    }
    close(fd);
    return rc;
}

void close_input(input *in)
{
    if (in->mapped) munmap((void *)in->data, in->size);
    cs_free(in->copy);
}
