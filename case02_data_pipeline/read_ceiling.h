/* Step 4 of case02: how fast can this machine merely read the file? The
 * file is read from the page cache in large blocks and its newlines are
 * counted (memchr), on one thread and on all of them. If the pipeline runs
 * far below this rate, it is limited by its own per-record work, not by the
 * disk or memory. */
#ifndef C2_READ_CEILING_H
#define C2_READ_CEILING_H

typedef struct {
    double one_thread_gbs;  /* GB/s, 1 thread */
    double all_threads_gbs; /* GB/s, all OpenMP threads (pread of chunks) */
    int threads;
    long long newlines; /* counted, so the reads cannot be skipped */
} c2_read_rate;

/* Best of `repeats` passes over the file. Returns 0, or 2 after a message. */
int c2_measure_read_rate(const char *path, int repeats, c2_read_rate *r);

#endif
