/* fast: the whole job in one pass over a memory-mapped file, on every core.
 *
 * What changed from columnar:
 *  1. no read() copies: the file is mapped (mmap) and parsed where the page
 *     cache holds it; read in large blocks only if mapping fails;
 *  2. the file is cut into chunks (several per thread) and the chunks are
 *     parsed in parallel (OpenMP). The hard part is where a chunk starts: a quoted
 *     field may hold a newline, so "the first LF after the cut" is not always
 *     a record boundary. Each thread works out the scanner's state at its
 *     cut from the quotes just before it (fast_chunks.c,
 *     "Where the chunks start");
 *  3. each thread has its own dictionaries, groups and counters, so the
 *     threads never share a cache line while they work; the partial results
 *     are merged once at the end, in steps in proportion to the groups;
 *  4. the record scanner is written for this job: it slices only the four
 *     fields the rules read, and the row rules run right after it (no
 *     intermediate batch arrays: every value is still in a register or in L1
 *     when it is used);
 *  5. the groups are a dense table while they are few, a hash table when
 *     they are many, and then the table lookups of many rows overlap
 *     (prefetched a few rows ahead) instead of each row waiting for main
 *     memory in turn.
 * No allocation per row: every table grows by doubling, and scratch space
 * for the rare quoted value with escapes is reused.
 *
 * This file is the rung's story: map the file, cut it into chunks at true
 * record boundaries, let each thread scan its chunks with the row rules,
 * merge the threads' results. Each mechanism has a file of its own:
 *   fast_input.c   the file mapped, or read whole (1)
 *   fast_chunks.c  where a chunk's records start: the scanner's state at a cut (2)
 *   fast_worker.c  a thread's state, and its groups, dense or hashed (3, 5)
 *   fast_tables.c  its dictionaries: spellings, categories, days, currencies to ids
 *   fast_scan.h    the record scanner: a row's fields from 64-byte SIMD bit masks (4)
 *   fast_rules.h   the row rules, and an accepted row's way to its group (4, 5)
 *   fast_merge.c   the threads' results merged (3)
 * The scanner and the rules are inline in their headers: they run for every
 * row, and compiled into the loop of scan_chunk below they cost no call. */
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_console.h"
#include "cs_memory.h"
#include "cs_profiler.h"
#include "fast_chunks.h"
#include "fast_input.h"
#include "fast_merge.h"
#include "fast_rules.h"
#include "fast_scan.h"
#include "fast_worker.h"
#include "pipeline.h"

/* The records that start in [start, limit) (they may end past limit).
 * Returns where the scan ended: the start of the first record at or after
 * limit. */
static size_t scan_chunk(worker *w, const char *buf, size_t start, size_t limit, size_t end, const plan *pl)
{
    const char *p = buf + start, *lim = buf + limit, *e = buf + end;
    row_view r;
    int blank;
    while (p < lim) {
        const char *next = scan_row(p, e, pl, &r, &blank);
        if (!blank) take_row(w, &r, pl, e);
        p = next;
    }
    drain_rows(w);
    return (size_t)(p - buf);
}

/* ======================================================================
 * The run
 * ====================================================================== */

int c2_run_fast(const c2_job *job, c2_result *out)
{
    /* The file mapped and cut into chunks at equal byte offsets, several per
     * thread, handed out as the threads become free (schedule(dynamic)), so
     * that a thread slowed down (by another program on its core, or by a
     * chunk that is harder to parse) is helped by the others instead of
     * holding them up; each chunk's first record found (fast_chunks.c). */
    c2_cut_file f;
    int rc = c2_cut_file_open(job, MAX_THREADS, &f);
    if (rc) return rc;
    const char *buf = f.in.data;

    /* What every thread needs: where each field of a record goes, and the
     * currency codes (fast_scan.c). */
    plan pl;
    plan_init(&pl, &job->header);

    /* The work (parallel): each thread parses the records that start in the
     * chunks it is given (before the next cut), into its own worker (made on
     * its first chunk). */
    cs_prof_begin("parse+aggregate");
    size_t *stop = cs_alloc((size_t)f.nchunks * sizeof *stop, "case02 fast: chunks");
    worker *workers[MAX_THREADS] = {NULL};
#pragma omp parallel for num_threads(f.nthreads) schedule(dynamic, 1)
    for (int c = 0; c < f.nchunks; c++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        if (!workers[t]) workers[t] = worker_new();
        stop[c] = scan_chunk(workers[t], buf, f.start[c], f.cut[c + 1], f.in.size, &pl);
    }
    cs_prof_end();

    /* Each chunk must end where the next one starts; this cannot fail, and
     * is checked because a silently wrong answer is worse than a loud one. */
    for (int c = 0; c + 1 < f.nchunks && rc == 0; c++)
        if (stop[c] != f.start[c + 1]) {
            cs_error("%s: internal error: chunk %d ended at byte %zu, chunk %d started at %zu", job->path, c, stop[c],
                     c + 1, f.start[c + 1]);
            rc = 3;
        }
    cs_free(stop);

    cs_prof_begin("merge");
    worker *ran[MAX_THREADS]; /* the threads that got a chunk */
    int nran = 0;
    for (int t = 0; t < f.nthreads; t++)
        if (workers[t]) ran[nran++] = workers[t];
    if (rc == 0) merge_workers(ran, nran, out);
    cs_prof_begin("merge: free");
    for (int t = 0; t < nran; t++) worker_free(ran[t]);
    cs_prof_end();
    cs_prof_end();
    c2_cut_file_close(&f);
    return rc;
}
