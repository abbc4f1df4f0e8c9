/* The phase profiler: named, nestable regions timed on the host clock.
 *
 *   cs_prof_begin("transfer"); ... cs_prof_end();
 *
 * Each name accumulates calls and total seconds; cs_prof_print_table()
 * shows them sorted by total with the share of a given wall time. Every
 * region is also kept as an event (up to a cap) for a Chrome Trace Event
 * JSON file, which opens in Perfetto (ui.perfetto.dev) or chrome://tracing.
 * In GPU builds each region is also an NVTX range, so Nsight Systems shows
 * the same names on its timeline.
 *
 * Time measured elsewhere (CUDA events on a stream) is added with
 * cs_prof_add(), so a GPU variant's device-side phases sit in the same table.
 *
 * Names must outlive the profiler (string literals). Single-threaded: call it
 * from the main thread only, around OpenMP regions rather than inside them. */
#ifndef CS_PROFILER_H
#define CS_PROFILER_H

#include <stdio.h>

#define CS_PROF_MAX_NAMES  512
#define CS_PROF_MAX_DEPTH  16
#define CS_PROF_MAX_EVENTS 200000
/* Events kept per phase name between two cs_prof_reset (each rung's runs):
 * a phase timed once per row would otherwise fill the trace with one
 * rung's rows and leave the later rungs out. The table counts them all. */
#define CS_PROF_EVENTS_PER_PHASE 2000

typedef struct {
    const char *name;
    int depth; /* nesting depth where first seen (0 = top level) */
    long calls;
    double total_s;
} cs_prof_entry;

/* Clears the per-name totals (the trace events are kept: one trace holds the
 * whole run). Call before each variant's runs. */
void cs_prof_reset(void);

/* 0 turns the profiler off (begin/end cost one branch); on by default. */
void cs_prof_enable(int on);
int cs_prof_enabled(void);

/* Sets the lane of subsequent trace events (shown as a thread named
 * `lane`, e.g. the variant's name). */
void cs_prof_lane(const char *lane);

void cs_prof_begin(const char *name);
void cs_prof_end(void);

/* Adds seconds measured elsewhere under name (one call). */
void cs_prof_add(const char *name, double seconds);

/* Copies the entries sorted by total, largest first; returns their count. */
int cs_prof_entries(cs_prof_entry *out, int max);

/* Total seconds recorded under name (0 if never seen). */
double cs_prof_total(const char *name);

/* Prints the table: name (indented by depth), calls, total per run (ms),
 * share of wall_per_run. Totals are divided by runs (the number of timed
 * runs the totals cover). */
void cs_prof_print_table(FILE *f, int runs, double wall_per_run);

/* Writes the Chrome Trace Event JSON file atomically. Returns 0 or -1
 * (message printed). */
int cs_prof_write_trace(const char *path);

/* Number of events dropped because the cap was reached. */
long cs_prof_dropped(void);

/* Events left out of the trace because their phase already had
 * CS_PROF_EVENTS_PER_PHASE (they are in the table's totals). */
long cs_prof_thinned(void);

/* Says on stdout what the trace left out (nothing when it left nothing
 * out), so that a trace shorter than the run is not a surprise. */
void cs_prof_say_left_out(void);

#endif
