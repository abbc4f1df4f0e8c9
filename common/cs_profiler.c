/* The phase profiler. Three things happen for every region:
 *
 *   1. its time is added to a per-name total (the phase table);
 *   2. it is kept as one event (start, duration, lane, depth) for the trace
 *      file that Perfetto and chrome://tracing open;
 *   3. in GPU builds it is also an NVTX range, so Nsight Systems shows the
 *      same names over its CUDA rows.
 *
 * Everything is static state in this file: the profiler is used from the
 * main thread only (see the header), so no locks are needed. A phase table
 * holds a few dozen names, so a linear search is both the simplest and the
 * fastest lookup; the pointer comparison catches the usual case (the same
 * string literal every time) before strcmp is needed. */
#include "cs_profiler.h"

#include <stdlib.h>
#include <string.h>

#include "cs_clock.h"
#include "cs_console.h"
#include "cs_outfile.h"
#include "cs_json.h"

#ifdef CS_HAVE_CUDA
#include <nvtx3/nvToolsExt.h> /* header-only NVTX v3, from the CUDA toolkit */
#endif

#define CS_PROF_MAX_LANES 64

/* One completed region, for the trace file. */
typedef struct {
    const char *name;
    int lane;     /* index into lanes[] */
    int depth;    /* nesting depth when it began */
    double start; /* cs_now() at begin */
    double dur;   /* seconds */
} prof_event;

/* One open region on the nesting stack. */
typedef struct {
    const char *name;
    int entry; /* its index in entries[], -1 when the table is full */
    double start;
} prof_frame;

static int enabled = 1;

static cs_prof_entry entries[CS_PROF_MAX_NAMES];
static int parent_of[CS_PROF_MAX_NAMES]; /* entry index of the enclosing phase, -1 at top level */
static int n_entries;

static prof_frame stack[CS_PROF_MAX_DEPTH];
static int depth;          /* frames on the stack */
static int overflow_depth; /* begins past CS_PROF_MAX_DEPTH, not timed */

static prof_event *events; /* grown on demand up to CS_PROF_MAX_EVENTS */
static long n_events, events_cap, n_dropped, n_thinned;
static long entry_events[CS_PROF_MAX_NAMES]; /* events kept per table entry since the reset */

static const char *lanes[CS_PROF_MAX_LANES] = {"main"};
static int n_lanes = 1;
static int current_lane;

/* Each kind of misuse is reported once, not once per call. */
static int warned_unmatched, warned_depth, warned_names, warned_lanes;

/* The index of name's table entry, created (at the given depth, under the
 * given parent entry) if new; -1 when the table is full (warned once: the
 * phase is then missing from the table but the trace still has it). A
 * parent is always created before its children (at its begin), so a
 * parent's index is smaller than its children's: the tree has no cycles. */
static int entry_for(const char *name, int at_depth, int parent)
{
    for (int i = 0; i < n_entries; i++)
        if (entries[i].name == name) return i;
    for (int i = 0; i < n_entries; i++)
        if (strcmp(entries[i].name, name) == 0) return i;
    if (n_entries == CS_PROF_MAX_NAMES) {
        if (!warned_names++)
            cs_warn("profiler: more than %d phase names; \"%s\" and later new names are not tabled", CS_PROF_MAX_NAMES,
                    name);
        return -1;
    }
    int i = n_entries++;
    entries[i] = (cs_prof_entry){name, at_depth, 0, 0.0};
    parent_of[i] = parent;
    return i;
}

/* The entry of the innermost open region, -1 when none is open. */
static int open_entry(void)
{
    return depth > 0 ? stack[depth - 1].entry : -1;
}

/* Keeps one event for the trace, or counts it as dropped. The array grows
 * by doubling, so a short run does not pay for the full cap. */
static void record_event(const char *name, int at_depth, double start, double dur)
{
    if (n_events == events_cap) {
        long want = events_cap ? events_cap * 2 : 4096;
        if (want > CS_PROF_MAX_EVENTS) want = CS_PROF_MAX_EVENTS;
        prof_event *grown = want > events_cap ? realloc(events, (size_t)want * sizeof *grown) : NULL;
        if (!grown) { /* at the cap, or out of memory */
            n_dropped++;
            return;
        }
        events = grown;
        events_cap = want;
    }
    events[n_events++] = (prof_event){name, current_lane, at_depth, start, dur};
}

void cs_prof_reset(void)
{
    n_entries = 0;
    memset(entry_events, 0, sizeof entry_events);
    /* Regions still open keep their place in the (new) table. */
    for (int k = 0; k < depth; k++) stack[k].entry = entry_for(stack[k].name, k, k > 0 ? stack[k - 1].entry : -1);
}

/* Switch it between regions, not inside one: an end skipped while off
 * would leave its begin open. */
void cs_prof_enable(int on)
{
    enabled = on != 0;
}
int cs_prof_enabled(void)
{
    return enabled;
}

void cs_prof_lane(const char *lane)
{
    if (!lane) lane = "main";
    for (int i = 0; i < n_lanes; i++)
        if (lanes[i] == lane || strcmp(lanes[i], lane) == 0) {
            current_lane = i;
            return;
        }
    if (n_lanes == CS_PROF_MAX_LANES) {
        if (!warned_lanes++)
            cs_warn("profiler: more than %d lanes; \"%s\" shares the last one", CS_PROF_MAX_LANES, lane);
        current_lane = n_lanes - 1;
        return;
    }
    lanes[n_lanes] = lane;
    current_lane = n_lanes++;
}

void cs_prof_begin(const char *name)
{
    if (!enabled) return;
#ifdef CS_HAVE_CUDA
    nvtxRangePushA(name);
#endif
    if (depth == CS_PROF_MAX_DEPTH) {
        /* Too deep to time: count it so that its end is matched, not timed. */
        if (!warned_depth++)
            cs_warn("profiler: regions nested deeper than %d are not timed (\"%s\")", CS_PROF_MAX_DEPTH, name);
        overflow_depth++;
        return;
    }
    /* The entry is made at begin, so it knows its parent (the region open
     * now) and parents come before their children in the table. */
    stack[depth].name = name;
    stack[depth].entry = entry_for(name, depth, open_entry());
    /* Read the clock last, so the bookkeeping above is not inside the region. */
    stack[depth].start = cs_now();
    depth++;
}

void cs_prof_end(void)
{
    if (!enabled) return;
    double now = cs_now(); /* first, so the bookkeeping below is not counted */
    if (overflow_depth > 0) {
        overflow_depth--;
#ifdef CS_HAVE_CUDA
        nvtxRangePop();
#endif
        return;
    }
    if (depth == 0) {
        if (!warned_unmatched++) cs_warn("profiler: cs_prof_end() without a matching cs_prof_begin() (ignored)");
        return;
    }
#ifdef CS_HAVE_CUDA
    nvtxRangePop();
#endif
    depth--;
    const prof_frame *fr = &stack[depth];
    double dur = now - fr->start;
    if (fr->entry >= 0) {
        entries[fr->entry].calls++;
        entries[fr->entry].total_s += dur;
        if (entry_events[fr->entry]++ >= CS_PROF_EVENTS_PER_PHASE) {
            n_thinned++;
            return;
        }
    }
    record_event(fr->name, depth, fr->start, dur);
}

void cs_prof_add(const char *name, double seconds)
{
    if (!enabled) return;
    /* Time measured elsewhere belongs under the region open now, if any. */
    int e = entry_for(name, depth, open_entry());
    if (e >= 0) {
        entries[e].calls++;
        entries[e].total_s += seconds;
    }
}

int cs_prof_entries(cs_prof_entry *out, int max)
{
    /* Largest total first. An insertion sort is stable, so equal totals
     * keep the order in which the names were first seen (deterministic
     * output), and it is plenty fast for CS_PROF_MAX_NAMES entries. */
    cs_prof_entry sorted[CS_PROF_MAX_NAMES];
    int n = n_entries;
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && sorted[j - 1].total_s < entries[i].total_s) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = entries[i];
    }
    if (max < 0) max = 0;
    int count = n < max ? n : max;
    if (out && count > 0) memcpy(out, sorted, (size_t)count * sizeof *out);
    return count;
}

double cs_prof_total(const char *name)
{
    for (int i = 0; i < n_entries; i++)
        if (entries[i].name == name || strcmp(entries[i].name, name) == 0) return entries[i].total_s;
    return 0.0;
}

/* Calls per run: a whole number when the calls divide evenly ("3"),
 * else one decimal ("0.2" for a setup phase run once over five runs). */
static void format_calls(char *buf, size_t len, long calls, int runs)
{
    if (calls % runs == 0)
        snprintf(buf, len, "%ld", calls / runs);
    else
        snprintf(buf, len, "%.1f", (double)calls / runs);
}

/* Appends to order[] the entries under parent, largest total first, each
 * followed by its own children: the table reads as a tree, so an indented
 * phase always sits under the phase that contains it. Returns the count. */
static int tree_order(int parent, int *order, int count)
{
    int placed[CS_PROF_MAX_NAMES] = {0};
    for (;;) {
        int best = -1;
        for (int i = 0; i < n_entries; i++)
            if (parent_of[i] == parent && !placed[i] && (best < 0 || entries[i].total_s > entries[best].total_s))
                best = i;
        if (best < 0) return count;
        placed[best] = 1;
        order[count++] = best;
        count = tree_order(best, order, count);
    }
}

void cs_prof_print_table(FILE *f, int runs, double wall_per_run)
{
    if (runs < 1) runs = 1;
    int order[CS_PROF_MAX_NAMES];
    int n = tree_order(-1, order, 0);
    cs_prof_entry rows[CS_PROF_MAX_NAMES];
    for (int i = 0; i < n; i++) rows[i] = entries[order[i]];
    if (n == 0) {
        fprintf(f, "  (no phases recorded)\n");
        return;
    }

    /* The phase column is as wide as its longest indented name. */
    int width = (int)strlen("phase");
    for (int i = 0; i < n; i++) {
        int w = 2 * rows[i].depth + (int)strlen(rows[i].name);
        if (w > width) width = w;
    }

    enum { BAR_FULL = 20 }; /* '#' characters for 100% */
    fprintf(f, "  %-*s  %9s  %10s  %9s\n", width, "phase", "calls/run", "time/run", "% of wall");
    for (int i = 0; i < n; i++) {
        const cs_prof_entry *e = &rows[i];
        double per_run = e->total_s / runs;
        char calls[32], tbuf[32];
        format_calls(calls, sizeof calls, e->calls, runs);
        cs_format_time(per_run, tbuf, sizeof tbuf);

        int indent = 2 * e->depth;
        fprintf(f, "  %*s%-*s  %9s  %10s", indent, "", width - indent, e->name, calls, tbuf);
        if (wall_per_run > 0) {
            double share = 100.0 * per_run / wall_per_run;
            int bar = (int)(share / 100.0 * BAR_FULL + 0.5);
            if (bar < 0) bar = 0;
            if (bar > BAR_FULL) bar = BAR_FULL; /* a share over 100% is a misuse; keep the bar sane */
            char bars[BAR_FULL + 1];
            memset(bars, '#', (size_t)bar);
            bars[bar] = '\0';
            fprintf(f, "  %8.1f%%  %s\n", share, bars);
        } else {
            fprintf(f, "  %9s\n", "-");
        }
    }
    /* Say how the shares add up: more than 100% only where phases nest. */
    int nested = 0;
    for (int i = 0; i < n; i++) nested |= rows[i].depth > 0;
    if (wall_per_run > 0) {
        char wbuf[32];
        cs_format_time(wall_per_run, wbuf, sizeof wbuf);
        if (nested)
            fprintf(f,
                    "  (%% of wall: share of the %s wall time per run; nested phases are\n"
                    "   included in their parents, so the shares add up to more than 100%%)\n",
                    wbuf);
        else
            fprintf(f, "  (%% of wall: share of the %s wall time per run; the rest is outside any phase)\n", wbuf);
    } else if (nested) {
        fprintf(f, "  (nested phases are included in their parents)\n");
    }
}

/* One metadata event ("ph":"M") naming a process or a thread. */
static void write_meta(FILE *f, const char *what, int tid, const char *value)
{
    fprintf(f, "{\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"name\":\"%s\",\"args\":{\"name\":", tid, what);
    cs_json_write_escaped(f, value);
    fprintf(f, "}},\n");
}

int cs_prof_write_trace(const char *path)
{
    cs_outfile o;
    if (cs_outfile_open(&o, path) != 0) return -1;
    FILE *f = o.f;

    /* Timestamps start at the earliest region, so the trace opens at 0.
     * Events are stored in end order, so the earliest start is searched. */
    double t0 = 0.0;
    for (long i = 0; i < n_events; i++)
        if (i == 0 || events[i].start < t0) t0 = events[i].start;

    /* Which lanes have events: only those get a row in the viewer. */
    int used[CS_PROF_MAX_LANES] = {0};
    for (long i = 0; i < n_events; i++) used[events[i].lane] = 1;

    /* One event per line: the file stays readable in a text editor. */
    fprintf(f, "{\"displayTimeUnit\":\"ms\",\n\"traceEvents\":[\n");
    const char *prog = cs_prog();
    write_meta(f, "process_name", 0, prog && *prog ? prog : "case study");
    for (int l = 0; l < n_lanes; l++) {
        if (!used[l]) continue;
        write_meta(f, "thread_name", l + 1, lanes[l]);
        /* Keep the lanes in the order they were introduced. */
        fprintf(f,
                "{\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"name\":\"thread_sort_index\","
                "\"args\":{\"sort_index\":%d}},\n",
                l + 1, l);
    }
    for (long i = 0; i < n_events; i++) {
        const prof_event *e = &events[i];
        fprintf(f, "{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"cat\":\"phase\",\"name\":", e->lane + 1);
        cs_json_write_escaped(f, e->name);
        fprintf(f, ",\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"depth\":%d}},\n", (e->start - t0) * 1e6, e->dur * 1e6,
                e->depth);
    }
    /* A last metadata event closes the list, so every event above can end
     * with a comma (JSON allows no trailing comma). */
    fprintf(f, "{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_sort_index\",\"args\":{\"sort_index\":0}}\n");
    fprintf(f, "],\n\"otherData\":{\"dropped_events\":%ld,\"thinned_events\":%ld,\"events_per_phase\":%d}}\n",
            n_dropped, n_thinned, CS_PROF_EVENTS_PER_PHASE);

    return cs_outfile_commit(&o);
}

long cs_prof_thinned(void)
{
    return n_thinned;
}

void cs_prof_say_left_out(void)
{
    if (n_thinned > 0)
        cs_say("  (the trace keeps the first %d events of each phase of each variant: %ld more are\n"
               "   counted in the phase tables only)\n",
               CS_PROF_EVENTS_PER_PHASE, n_thinned);
    if (n_dropped > 0)
        cs_say("  (the trace reached its cap of %d events: %ld later ones are not in it)\n", CS_PROF_MAX_EVENTS,
               n_dropped);
}

long cs_prof_dropped(void)
{
    return n_dropped;
}
