/* Clocks: wall time (monotonic) and process CPU time, as doubles in seconds.
 * A double holds nanoseconds exactly for ~100 days of uptime, which is more
 * than enough resolution for the runs timed here. */
#include "cs_clock.h"

#include <time.h>

static double seconds_of(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0.0; /* cannot fail on Linux for these ids */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cs_now(void)
{
    /* CLOCK_MONOTONIC, not CLOCK_REALTIME: an NTP adjustment or a user
     * changing the date must not turn into a negative or huge timing. */
    return seconds_of(CLOCK_MONOTONIC);
}

double cs_cpu_time(void)
{
    /* Sums every thread of the process, so CPU/wall ~ busy cores. */
    return seconds_of(CLOCK_PROCESS_CPUTIME_ID);
}
