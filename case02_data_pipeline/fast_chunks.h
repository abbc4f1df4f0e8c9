/* fast: where a chunk's records start. The file is cut at arbitrary bytes,
 * and a chunk's first record is the first one that starts at or after its
 * cut; a quoted field may hold a newline, so that is not always the byte
 * after the first LF. fast_chunks.c explains how each thread finds it from
 * the bytes just before its cut. */
#ifndef C2_FAST_CHUNKS_H
#define C2_FAST_CHUNKS_H

#include <stddef.h>

#include "fast_input.h"
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

/* ---- a file cut for the threads (parallel and fast) ---- */

#define CHUNKS_PER_THREAD 8 /* so a thread slowed down is helped by the others */

/* The file mapped, and cut into CHUNKS_PER_THREAD chunks per thread, which
 * the threads take as they become free. Chunk c holds the records that
 * start in [start[c], start[c + 1]). */
typedef struct {
    input in;     /* the whole file */
    int nthreads; /* --threads, else OpenMP's choice; at most the caller's max */
    int nchunks;
    size_t *cut;   /* nchunks + 1 equal byte offsets of the data: cut[0] is
                        where the data starts, cut[nchunks] the file's end */
    size_t *start; /* nchunks + 1: the first record start at or after each
                        cut (worked out from the bytes before it, in
                        parallel); start[nchunks] = the file's end */
} c2_cut_file;

/* Maps the job's file (phase "map") and cuts it (phase "find chunk
 * starts"). Returns 0, or an exit code after a one-line message (then
 * nothing is left to close). */
int c2_cut_file_open(const c2_job *job, int max_threads, c2_cut_file *f);
void c2_cut_file_close(c2_cut_file *f);

#endif
