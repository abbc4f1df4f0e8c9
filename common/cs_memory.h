/* Memory figures: the process's peak resident set, and the bytes of the
 * allocations a case makes through cs_alloc() (tracked exactly, with a peak).
 * Allocations are 64-byte aligned (a cache line; also enough for any SIMD). */
#ifndef CS_MEMORY_H
#define CS_MEMORY_H

#include <stddef.h>

/* Peak resident set size of this process so far, bytes (getrusage). */
size_t cs_peak_rss_bytes(void);

/* Resets the peak resident set to the current size (Linux clear_refs);
 * returns 0, or -1 where that is not possible (the peak then covers the whole
 * run so far). */
int cs_peak_rss_reset(void);
/* Peak resident set since the last cs_peak_rss_reset (VmHWM), bytes.
 * Pages of a mapped file count once they are touched. */
size_t cs_peak_rss_since_reset(void);

/* Current resident set size, bytes (/proc/self/statm; 0 if unknown). */
size_t cs_current_rss_bytes(void);

/* Tracked allocation, 64-byte aligned. On failure prints
 * "out of memory: asked for N bytes for WHAT" and exits with code 3. */
void *cs_alloc(size_t bytes, const char *what);
/* Same, zero-filled. */
void *cs_calloc(size_t bytes, const char *what);
/* Frees a cs_alloc'd block (NULL is fine). */
void cs_free(void *p);

size_t cs_tracked_bytes(void);    /* live tracked bytes now */
size_t cs_tracked_peak(void);     /* highest live tracked bytes since the last reset */
void cs_tracked_reset_peak(void); /* peak := live bytes now */

/* Formats bytes as "123.4 MiB" into buf; returns buf. */
char *cs_format_bytes(double bytes, char *buf, size_t len);

#endif
