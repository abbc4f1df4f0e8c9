/* fast: where a chunk's records start. The file is cut at arbitrary bytes,
 * and a chunk's first record is the first one that starts at or after its
 * cut; a quoted field may hold a newline, so that is not always the byte
 * after the first LF. fast_chunks.c explains how each thread finds it from
 * the bytes just before its cut. */
#ifndef C2_FAST_CHUNKS_H
#define C2_FAST_CHUNKS_H

#include <stddef.h>

#include "pipeline.h"

/* The scanner's state before a byte (fast_chunks.c: "Where the chunks
 * start"). */
enum { ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE, NSTATES };

/* The scanner's state right before byte `cut` (begin < cut: begin is the
 * data start, where the state is FIELD). */
int state_at_cut(const char *buf, size_t begin, size_t cut);

/* The first record start at or after x, given the state before byte x
 * (x > the data start). */
size_t first_record_start(const char *buf, size_t x, size_t end, int state);

/* ---- cutting a file for the threads (parallel and fast) ---- */

#define CHUNKS_PER_THREAD 8 /* so a thread slowed down is helped by the others */

/* The threads a rung uses: --threads, else OpenMP's choice; 1 to max. */
int c2_chunk_threads(const c2_job *job, int max);

/* The data bytes [begin, end) cut at equal offsets into nchunks pieces:
 * cut[0] = begin, ..., cut[nchunks] = end (nchunks + 1 entries). */
void c2_chunk_cuts(size_t begin, size_t end, int nchunks, size_t *cut);

/* Where each chunk's records start: start[c] is the first record start at
 * or after cut[c] (start[0] = begin), each cut worked out on its own, on
 * nthreads threads (nchunks entries). */
void c2_chunk_starts(const char *buf, size_t begin, size_t end, const size_t *cut, int nchunks, int nthreads,
                     size_t *start);

#endif
