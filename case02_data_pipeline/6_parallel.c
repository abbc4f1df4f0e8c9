/* parallel: columnar with one change: every core. columnar parsed the file
 * on one thread, block after block. Here:
 *  1. the file is mapped (mmap, fast_input.c) instead of read into blocks:
 *     every thread can reach any byte of it, with no copy;
 *  2. it is cut into chunks of equal size, several per thread, and each
 *     chunk starts at a true record boundary: a quoted field may hold a
 *     newline, so the first LF after a cut is not always one. Each thread
 *     works out the scanner's state at its cut from the bytes just before
 *     it (fast_chunks.c, "Where the chunks start"; c2_cut_file_open does
 *     1 and 2, for fast too);
 *  3. each thread runs columnar's own batches (5_columnar.c, columnar.h)
 *     over the records of its chunks, into its own dictionaries, dense
 *     table and counters, so the threads never share a cache line while
 *     they work;
 *  4. the threads' partial results are merged at the end (c2_result_merge:
 *     the same (day, category) from several threads folded into one).
 * Nothing else changes: the record scanner, the rules and the tables are
 * columnar's. What it teaches: a pass over independent records scales with
 * the cores once each thread has its own state and its own piece of the
 * file; the only hard part is where a piece starts. The next rung (fast)
 * keeps this shape and rewrites what each thread does per row.
 *
 * The phase profiler belongs to the main thread, so the work inside the
 * threads is one phase, "parse+transform+aggregate". */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "block_reader.h"
#include "columnar.h"
#include "fast_chunks.h"
#include "pipeline.h"

#define MAX_PARALLEL_THREADS 256

/* One thread's share: columnar's state and the counters of its rows. */
typedef struct {
    c2_columnar *state; /* NULL until the thread's first chunk */
    c2_result part;
    int failed; /* out of memory */
} share;

/* The records that start in [from, to) of the mapped file, through
 * columnar's batches: a block reader over that stretch of memory, at its
 * end of file (the stretch ends at a record boundary). */
static void run_chunk(share *s, const c2_job *job, const char *buf, size_t from, size_t to)
{
    if (s->failed) return;
    if (!s->state && !(s->state = c2_columnar_new())) {
        cs_error("out of memory");
        s->failed = 1;
        return;
    }
    c2_block_reader reader = {.buf = (char *)buf, .pos = from, .end = to, .eof = 1};
    if (c2_columnar_records(s->state, job, &reader, &s->part, 0) != 0) s->failed = 1;
}

int c2_run_parallel(const c2_job *job, c2_result *out)
{
    c2_cut_file f;
    int rc = c2_cut_file_open(job, MAX_PARALLEL_THREADS, &f);
    if (rc) return rc;
    share *shares = cs_calloc((size_t)f.nthreads * sizeof *shares, "case02 parallel: threads");
    for (int t = 0; t < f.nthreads; t++) c2_result_init(&shares[t].part);

    /* Chunk c holds the records that start in [start[c], start[c + 1]).
     * The chunks are handed out as the threads become free. */
    cs_prof_begin("parse+transform+aggregate");
#pragma omp parallel for num_threads(f.nthreads) schedule(dynamic, 1)
    for (int c = 0; c < f.nchunks; c++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        run_chunk(&shares[t], job, f.in.data, f.start[c], f.start[c + 1]);
    }
    cs_prof_end();

    cs_prof_begin("merge");
    for (int t = 0; t < f.nthreads; t++) {
        share *s = &shares[t];
        if (s->failed) rc = 3;
        if (rc == 0 && s->state) {
            c2_columnar_finish(s->state, &s->part);
            c2_result_merge(out, &s->part);
        }
        c2_columnar_free(s->state);
        c2_result_free(&s->part);
    }
    cs_prof_end();
    cs_free(shares);
    c2_cut_file_close(&f);
    return rc;
}
