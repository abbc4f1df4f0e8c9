/* Clocks: wall time from a monotonic clock, and the process's CPU time.
 * Wall time is what the user waits for; CPU time summed over threads tells
 * whether the cores were busy (CPU time / wall time ~ threads in use). */
#ifndef CS_CLOCK_H
#define CS_CLOCK_H

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC): never jumps. */
double cs_now(void);

/* CPU seconds used by this process, all threads (CLOCK_PROCESS_CPUTIME_ID). */
double cs_cpu_time(void);

#endif
