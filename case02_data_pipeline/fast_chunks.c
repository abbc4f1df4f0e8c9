/* fast: where the chunks start (fast_chunks.h). */
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cs_memory.h"
#include "cs_profiler.h"
#include "fast_chunks.h"

/* ======================================================================
 * Where the chunks start
 *
 * A chunk's nominal start (the cut) is an arbitrary byte; its records start
 * at the first record boundary at or after it. A boundary is the byte after
 * a LF that is not inside a quoted field, so we must know whether the cut
 * falls inside quotes. The classic answer is quote parity: an odd number of
 * '"' before the cut means "inside" ('""' counts twice, so escaped quotes do
 * not upset it), counted per chunk in parallel and summed as a prefix.
 *
 * Two things improve on it here:
 *
 * 1. Parity is fooled by a case pipeline.h allows: a '"' inside an unquoted
 *    field (ab"c) or after a closing quote ("ab"c"d) is an ordinary byte,
 *    yet it flips the parity, and every chunk after it would start at the
 *    wrong place. So we carry the scanner's own state instead of one bit:
 *      FIELD     at the start of a field: a '"' opens a quoted field
 *      UNQUOTED  in an unquoted field or after a closing quote: '"' is data
 *      QUOTED    inside a quoted field: ',' and LF are data
 *      QUOTE     inside a quoted field, right after a '"': a second '"'
 *                makes it an escaped quote, anything else closed the field
 *    Between two quotes only ',' and LF matter, and only the last byte of
 *    the run decides the state (',' or LF: FIELD; anything else: UNQUOTED;
 *    inside QUOTED nothing changes). So a stretch of the file can be run
 *    from quote to quote with memchr, for all four starting states at once:
 *    that gives its "transfer", the state at its end for each state at its
 *    start.
 *
 * 2. Counting over the whole file before parsing reads every byte twice.
 *    But the state at a cut rarely depends on much of what comes before
 *    it: after a few quotes and separators, all four starting states end
 *    up in the same state (run  x,"ab",y  from each of the four: all end in
 *    UNQUOTED, inside the field y). So each thread looks back from its cut
 *    over a window, and doubles it until the four agree: that is then the
 *    state at the cut, whatever came before, exactly. Here that takes a
 *    few hundred bytes. In a file without quotes they never agree ("inside
 *    a quote" would stay inside), and the window grows back to the start of
 *    the data, whose state is known: one memchr over the chunks before,
 *    which is what the parity count would have read anyway.
 * ====================================================================== */

/* The state after a '"' read in each state. */
static const unsigned char after_quote[NSTATES] = {
    [ST_FIELD] = ST_QUOTED,      /* opens a quoted field */
    [ST_UNQUOTED] = ST_UNQUOTED, /* an ordinary byte */
    [ST_QUOTED] = ST_QUOTE,      /* closes, unless the next byte is '"' too */
    [ST_QUOTE] = ST_QUOTED,      /* '""': an escaped quote, still inside */
};

/* The state after a non-empty run of bytes without '"' that ends with `last`,
 * from a state outside quotes (FIELD, UNQUOTED or QUOTE). */
static inline unsigned char after_run(char last)
{
    return last == ',' || last == '\n' ? ST_FIELD : ST_UNQUOTED;
}

/* The transfer of bytes [a, b): out[s] = the state after them when the
 * state before them is s. */
static void transfer(const char *buf, size_t a, size_t b, unsigned char out[NSTATES])
{
    unsigned char s[NSTATES] = {ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE};
    size_t pos = a;
    while (pos < b) {
        const char *q = memchr(buf + pos, '"', b - pos);
        size_t qpos = q ? (size_t)(q - buf) : b;
        if (qpos > pos) {
            unsigned char run = after_run(buf[qpos - 1]);
            for (int k = 0; k < NSTATES; k++)
                if (s[k] != ST_QUOTED) s[k] = run;
        }
        if (!q) break;
        for (int k = 0; k < NSTATES; k++) s[k] = after_quote[s[k]];
        pos = qpos + 1;
    }
    memcpy(out, s, NSTATES);
}

#define FIRST_WINDOW 4096 /* bytes looked at before a cut, at first */

/* The scanner's state right before byte `cut` (begin < cut: begin is the
 * data start, where the state is FIELD). */
int state_at_cut(const char *buf, size_t begin, size_t cut)
{
    /* at_cut[s]: the state at the cut when the state at `from` is s */
    unsigned char at_cut[NSTATES] = {ST_FIELD, ST_UNQUOTED, ST_QUOTED, ST_QUOTE};
    size_t from = cut, window = FIRST_WINDOW;
    for (;;) {
        size_t lo = from - begin > window ? from - window : begin;
        unsigned char t[NSTATES];
        transfer(buf, lo, from, t); /* the state at `from`, by the state at lo */
        for (int s = 0; s < NSTATES; s++) t[s] = at_cut[t[s]];
        memcpy(at_cut, t, NSTATES); /* now by the state at lo */
        from = lo;
        if (from == begin) return at_cut[ST_FIELD];
        if (at_cut[0] == at_cut[1] && at_cut[0] == at_cut[2] && at_cut[0] == at_cut[3])
            return at_cut[0]; /* the same, whatever came before */
        window *= 2;
    }
}

/* The first record start at or after x, given the state before byte x
 * (x > the data start). */
size_t first_record_start(const char *buf, size_t x, size_t end, int state)
{
    if (x >= end) return end;
    if (state == ST_FIELD && buf[x - 1] == '\n') return x; /* the cut is a boundary */
    while (x < end) {
        if (state == ST_QUOTED) { /* only a '"' can get us out */
            const char *q = memchr(buf + x, '"', end - x);
            if (!q) return end; /* unterminated: the rest is one record */
            state = ST_QUOTE;
            x = (size_t)(q - buf) + 1;
            continue;
        }
        const char *lf = memchr(buf + x, '\n', end - x);
        size_t limit = lf ? (size_t)(lf - buf) : end;
        const char *q = memchr(buf + x, '"', limit - x);
        if (!q) return lf ? limit + 1 : end; /* a LF outside quotes: a boundary */
        size_t qpos = (size_t)(q - buf);
        if (qpos > x) state = after_run(buf[qpos - 1]);
        state = after_quote[state];
        x = qpos + 1;
    }
    return end;
}

/* ======================================================================
 * Cutting the file for the threads
 * ====================================================================== */

/* The threads a rung uses: --threads, else OpenMP's choice; 1 to max. */
static int thread_count(const c2_job *job, int max)
{
    int n = job->threads;
#ifdef _OPENMP
    if (n <= 0) n = omp_get_max_threads();
#endif
    if (n <= 0) n = 1;
    return n > max ? max : n;
}

int c2_cut_file_open(const c2_job *job, int max_threads, c2_cut_file *f)
{
    cs_prof_begin("map");
    int rc = open_input(job->path, &f->in);
    cs_prof_end();
    if (rc) return rc;

    const char *buf = f->in.data;
    size_t end = f->in.size;
    size_t begin = job->header.data_offset < end ? job->header.data_offset : end;
    int nthreads = f->nthreads = thread_count(job, max_threads);
    int nchunks = f->nchunks = nthreads * CHUNKS_PER_THREAD;
    size_t *cut = f->cut = cs_alloc((size_t)(nchunks + 1) * sizeof *cut, "case02: chunks");
    size_t *start = f->start = cs_alloc((size_t)(nchunks + 1) * sizeof *start, "case02: chunks");
    size_t span = end - begin;
    for (int c = 0; c <= nchunks; c++) cut[c] = begin + span / nchunks * c + (span % nchunks) * c / nchunks;

    /* Where each chunk's records start (each cut on its own, in parallel). */
    cs_prof_begin("find chunk starts");
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int c = 0; c < nchunks; c++) {
        if (c == 0 || cut[c] <= begin)
            start[c] = begin;
        else
            start[c] = first_record_start(buf, cut[c], end, state_at_cut(buf, begin, cut[c]));
    }
    start[nchunks] = end;
    cs_prof_end();
    return 0;
}

void c2_cut_file_close(c2_cut_file *f)
{
    cs_free(f->cut);
    cs_free(f->start);
    close_input(&f->in);
}
