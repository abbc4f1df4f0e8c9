/* Files that must not outlive an interrupted run: the generated input, the
 * intermediate file of the staged rungs, an output still under its
 * temporary name. Ctrl-C (SIGINT), a kill (SIGTERM) or a closed terminal
 * (SIGHUP) would otherwise leave them in $TMPDIR. On those signals the
 * registered files are removed, then the process dies of the same signal,
 * so its parent sees the usual status (130 for SIGINT in a shell). */
#ifndef C2_CLEANUP_H
#define C2_CLEANUP_H

/* Installs the handlers (once, from main). A signal that was ignored when
 * the program started (nohup, a background job of a shell without job
 * control) stays ignored. */
void c2_cleanup_on_signals(void);

/* Registers path to be removed if a signal arrives. From the main thread
 * only. Up to C2_CLEANUP_MAX paths at once; past that the path is not
 * registered (the run works as before, only without this safety net). */
#define C2_CLEANUP_MAX 16
void c2_cleanup_add(const char *path);

/* The file is no longer ours to remove (it was removed, or renamed into
 * place as a finished output). */
void c2_cleanup_forget(const char *path);

/* c2_cleanup_forget, then removes the file. */
void c2_cleanup_remove(const char *path);

#endif
