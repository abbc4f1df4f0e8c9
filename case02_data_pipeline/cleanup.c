/* Removing the temporary files of an interrupted run (cleanup.h).
 *
 * A signal handler may only call async-signal-safe functions (unlink,
 * signal and raise are; malloc and stdio are not), and it can interrupt the
 * main program anywhere, even halfway through registering a path. So the
 * paths live in a fixed array, each with a flag set only after its path is
 * fully written (and cleared before the path is reused): the handler reads
 * only slots whose flag is set. */
#include "cleanup.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cs_outfile.h"

static char paths[C2_CLEANUP_MAX][CS_PATH_MAX];
static volatile sig_atomic_t in_use[C2_CLEANUP_MAX];

static void on_signal(int sig)
{
    for (int i = 0; i < C2_CLEANUP_MAX; i++)
        if (in_use[i]) unlink(paths[i]);
    /* Die of the same signal: restore its default action and send it again.
     * It is blocked while this handler runs, and is delivered (and ends the
     * process) as soon as the handler returns. */
    signal(sig, SIG_DFL);
    raise(sig);
}

void c2_cleanup_on_signals(void)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(signals[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t k = 0; k < sizeof signals / sizeof signals[0]; k++)
            sigaddset(&sa.sa_mask, signals[k]); /* one handler at a time */
        sigaction(signals[i], &sa, NULL);
    }
}

void c2_cleanup_add(const char *path)
{
    for (int i = 0; i < C2_CLEANUP_MAX; i++) {
        if (in_use[i]) continue;
        if (snprintf(paths[i], sizeof paths[i], "%s", path) >= (int)sizeof paths[i]) return;
        atomic_signal_fence(memory_order_seq_cst); /* the path is written before ... */
        in_use[i] = 1;                             /* ... the flag: never half a path */
        return;
    }
}

void c2_cleanup_forget(const char *path)
{
    for (int i = 0; i < C2_CLEANUP_MAX; i++)
        if (in_use[i] && strcmp(paths[i], path) == 0) {
            in_use[i] = 0;
            return;
        }
}

void c2_cleanup_remove(const char *path)
{
    c2_cleanup_forget(path);
    remove(path);
}
