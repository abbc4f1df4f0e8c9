/* columnar's pass, in pieces that another rung can run on each thread
 * (6_parallel.c): a state (dictionaries, dense table, one batch of
 * columns), the batches over the whole records of a buffer, and the groups
 * at the end. */
#ifndef C2_COLUMNAR_H
#define C2_COLUMNAR_H

#include "block_reader.h"
#include "pipeline.h"

typedef struct c2_columnar c2_columnar;

/* A new state, or NULL when out of memory. */
c2_columnar *c2_columnar_new(void);
void c2_columnar_free(c2_columnar *st);

/* Every whole record of the reader's buffer, a batch at a time: parsed
 * into columns, transformed, aggregated into the state's table; the row
 * counters go to out. profile: name the phases "parse", "transform",
 * "aggregate" (the profiler is the main thread's only: a thread of a
 * parallel region passes 0). Returns 0, or 3 after "out of memory". */
int c2_columnar_records(c2_columnar *st, const c2_job *job, c2_block_reader *reader, c2_result *out, int profile);

/* The state's groups, added into out. */
void c2_columnar_finish(const c2_columnar *st, c2_result *out);

#endif
