/* fast: where a chunk's records start. The file is cut at arbitrary bytes,
 * and a chunk's first record is the first one that starts at or after its
 * cut; a quoted field may hold a newline, so that is not always the byte
 * after the first LF. fast_chunks.c explains how each thread finds it from
 * the bytes just before its cut. */
#ifndef C2_FAST_CHUNKS_H
#define C2_FAST_CHUNKS_H

#include <stddef.h>

/* The scanner's state before a byte (fast_chunks.c: "Where the chunks
 * start"). */
enum { ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE, NSTATES };

/* The scanner's state right before byte `cut` (begin < cut: begin is the
 * data start, where the state is FIELD). */
int state_at_cut(const char *buf, size_t begin, size_t cut);

/* The first record start at or after x, given the state before byte x
 * (x > the data start). */
size_t first_record_start(const char *buf, size_t x, size_t end, int state);

#endif
