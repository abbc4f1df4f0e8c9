/* The phase profiler: per-name totals of nested regions, the sorted table,
 * and the Chrome Trace Event file (valid JSON even for awkward names). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_test.h"
#include "json_validate.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "cs_profiler.h"

/* Spins until `seconds` have passed on the profiler's own clock, so a region
 * is known to last at least that long. */
static void busy_wait(double seconds)
{
    double t0 = cs_now();
    while (cs_now() - t0 < seconds) {}
}

static const cs_prof_entry *find(const cs_prof_entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0) return &e[i];
    return NULL;
}

static void test_validator_itself(void)
{
    /* The validator must reject what is not JSON, or the trace checks below
     * would prove nothing. */
    CHECK(json_valid("{\"a\":[1,-2.5e3,true,false,null,\"x\\\"y\\u00e9\"]}", NULL, NULL));
    CHECK(!json_valid("{\"a\":[1,2,]}", NULL, NULL));
    CHECK(!json_valid("{\"a\":NaN}", NULL, NULL));
    CHECK(!json_valid("{\"a\":\"bad \\q escape\"}", NULL, NULL));
    CHECK(!json_valid("{\"a\":1} x", NULL, NULL));
    CHECK(!json_valid("[01]", NULL, NULL));
}

static void test_nested_totals(void)
{
    cs_prof_reset();
    cs_prof_lane("variant_a");
    for (int run = 0; run < 3; run++) {
        cs_prof_begin("outer");
        busy_wait(0.001);
        cs_prof_begin("inner");
        busy_wait(0.002);
        cs_prof_end();
        cs_prof_end();
    }
    cs_prof_begin("setup");
    cs_prof_end();
    cs_prof_add("device_kernel", 0.5); /* measured elsewhere: no trace event */

    cs_prof_entry e[CS_PROF_MAX_NAMES];
    int n = cs_prof_entries(e, CS_PROF_MAX_NAMES);
    CHECK(n == 4);
    const cs_prof_entry *outer = find(e, n, "outer"), *inner = find(e, n, "inner");
    CHECK(outer && inner);
    if (!outer || !inner) return;
    CHECK(outer->calls == 3);
    CHECK(inner->calls == 3);
    CHECK(outer->depth == 0);
    CHECK(inner->depth == 1);
    CHECK(outer->total_s >= inner->total_s);
    CHECK(inner->total_s >= 3 * 0.002);
    CHECK(outer->total_s >= 3 * 0.003);
    CHECK_NEAR(cs_prof_total("device_kernel"), 0.5, 1e-12);
    CHECK(cs_prof_total("never_seen") == 0.0);

    /* Sorted by total, largest first: the added 0.5 s comes first. */
    CHECK(strcmp(e[0].name, "device_kernel") == 0);
    for (int i = 1; i < n; i++) CHECK(e[i - 1].total_s >= e[i].total_s);
    CHECK(strcmp(e[n - 1].name, "setup") == 0);

    /* A smaller max copies only the largest entries. */
    cs_prof_entry two[2];
    CHECK(cs_prof_entries(two, 2) == 2);
    CHECK(strcmp(two[0].name, "device_kernel") == 0);

    /* A name in another buffer is the same phase (strcmp, not only the
     * pointer). */
    char copy[16];
    strcpy(copy, "inner");
    CHECK_NEAR(cs_prof_total(copy), inner->total_s, 1e-15);

    /* An unmatched end is ignored (a warning, no change). */
    double before = cs_prof_total("outer");
    cs_prof_end();
    CHECK(cs_prof_total("outer") == before);

    /* Switched off, regions cost nothing and record nothing. */
    CHECK(cs_prof_enabled());
    cs_prof_enable(0);
    CHECK(!cs_prof_enabled());
    cs_prof_begin("while_off");
    cs_prof_end();
    cs_prof_enable(1);
    CHECK(cs_prof_total("while_off") == 0.0);
}

static void test_table(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (!f) return;
    cs_prof_print_table(f, 3, 0.2);
    fclose(f);
    CHECK(strstr(text, "phase") != NULL);
    CHECK(strstr(text, "\n  outer") != NULL);
    CHECK(strstr(text, "\n    inner") != NULL); /* indented one level */
    /* A tree: inner comes right under outer, although device_kernel and
     * setup sort between them by total. */
    const char *outer = strstr(text, "\n  outer");
    const char *next = outer ? strchr(outer + 1, '\n') : NULL;
    CHECK(next && strncmp(next, "\n    inner ", 11) == 0);
    const char *kernel = strstr(text, "\n  device_kernel");
    CHECK(kernel && outer && kernel < outer); /* top level: largest first */
    CHECK(strstr(text, "% of wall") != NULL);
    CHECK(strstr(text, "nested phases are") != NULL);
    /* device_kernel: 0.5 s over 3 runs = 0.167 s of 0.2 s = 83.3%, 17 '#'. */
    CHECK(strstr(text, "83.3%  #################\n") != NULL);
    /* setup ran once over 3 runs: 0.3 calls per run. */
    const char *setup = strstr(text, "\n  setup");
    CHECK(setup != NULL);
    if (setup) {
        const char *eol = strchr(setup + 1, '\n');
        const char *calls = strstr(setup, " 0.3 ");
        CHECK(calls != NULL && eol != NULL && calls < eol);
    }
    free(text);
}

static void test_trace(const char *dir)
{
    /* A second lane and a name that needs escaping in JSON. */
    cs_prof_lane("variant \"b\"");
    cs_prof_begin("weird \"name\" \\ here");
    cs_prof_end();
    cs_prof_lane("variant_a"); /* an existing lane is reused */

    char path[512];
    snprintf(path, sizeof path, "%s/trace.json", dir);
    CHECK(cs_prof_write_trace(path) == 0);
    char *text = read_whole_file(path);
    CHECK(text != NULL);
    if (!text) return;
    const char *why = NULL;
    long at = 0;
    int ok = json_valid(text, &why, &at);
    CHECK(ok);
    if (!ok) fprintf(stderr, "trace.json: %s at offset %ld\n", why, at);
    CHECK(strstr(text, "\"traceEvents\"") != NULL);
    CHECK(strstr(text, "\"outer\"") != NULL);
    CHECK(strstr(text, "\"inner\"") != NULL);
    CHECK(strstr(text, "\"weird \\\"name\\\" \\\\ here\"") != NULL);
    CHECK(strstr(text, "\"process_name\"") != NULL);
    CHECK(strstr(text, "\"thread_name\",\"args\":{\"name\":\"variant_a\"}") != NULL);
    CHECK(strstr(text, "{\"name\":\"variant \\\"b\\\"\"}") != NULL);
    /* Regions only: cs_prof_add leaves no event, and the table reset does
     * not clear the trace (outer was recorded before test_table). */
    CHECK(strstr(text, "device_kernel") == NULL);
    CHECK(strstr(text, "\"ph\":\"X\"") != NULL);

    /* Count complete events: 3 outer + 3 inner + setup + weird. */
    int complete = 0;
    for (const char *p = text; (p = strstr(p, "\"ph\":\"X\"")) != NULL; p++) complete++;
    CHECK(complete == 8);

    /* The inner regions lasted at least 2 ms = 2000 us each. */
    const char *p = strstr(text, "\"name\":\"inner\"");
    double ts = -1, dur = -1;
    if (p) sscanf(p, "\"name\":\"inner\",\"ts\":%lf,\"dur\":%lf", &ts, &dur);
    CHECK(ts >= 0);
    CHECK(dur >= 2000.0);
    /* The earliest event starts at 0. */
    CHECK(strstr(text, "\"ts\":0.000,") != NULL);
    free(text);
    unlink(path);

    CHECK(cs_prof_dropped() == 0);

    /* Reset clears the totals only. */
    cs_prof_reset();
    CHECK(cs_prof_total("outer") == 0.0);
    cs_prof_entry left[CS_PROF_MAX_NAMES];
    CHECK(cs_prof_entries(left, CS_PROF_MAX_NAMES) == 0);

    /* A phase keeps CS_PROF_EVENTS_PER_PHASE events in the trace; the rest
     * are counted as thinned, and all of them in the table. */
    for (long i = 0; i < CS_PROF_EVENTS_PER_PHASE + 5; i++) {
        cs_prof_begin("per row");
        cs_prof_end();
    }
    CHECK(cs_prof_thinned() == 5);
    cs_prof_entry rows[4];
    CHECK(cs_prof_entries(rows, 4) == 1 && rows[0].calls == CS_PROF_EVENTS_PER_PHASE + 5);

    /* Past the cap, events are counted as dropped, and the trace stays
     * valid. 8 + CS_PROF_EVENTS_PER_PHASE events exist already; the cap's
     * worth more, over enough names that none is thinned, drops that many. */
    static char names[CS_PROF_MAX_EVENTS / CS_PROF_EVENTS_PER_PHASE][16];
    int nnames = CS_PROF_MAX_EVENTS / CS_PROF_EVENTS_PER_PHASE;
    for (int k = 0; k < nnames; k++) {
        snprintf(names[k], sizeof names[k], "bulk %d", k);
        cs_prof_reset(); /* as a case does between its variants */
        for (long i = 0; i < CS_PROF_EVENTS_PER_PHASE; i++) {
            cs_prof_begin(names[k]);
            cs_prof_end();
        }
    }
    CHECK(cs_prof_dropped() == 8 + CS_PROF_EVENTS_PER_PHASE);
    CHECK(cs_prof_thinned() == 5);
    snprintf(path, sizeof path, "%s/trace_full.json", dir);
    CHECK(cs_prof_write_trace(path) == 0);
    text = read_whole_file(path);
    CHECK(text != NULL);
    if (text) {
        CHECK(json_valid(text, NULL, NULL));
        char want[96];
        snprintf(want, sizeof want, "\"dropped_events\":%d,\"thinned_events\":5,", 8 + CS_PROF_EVENTS_PER_PHASE);
        CHECK(strstr(text, want) != NULL);
        free(text);
    }
    unlink(path);

    /* A trace into a folder that does not exist fails with -1. */
    snprintf(path, sizeof path, "%s/no/such/dir/trace.json", dir);
    CHECK(cs_prof_write_trace(path) == -1);
}

int main(void)
{
    cs_console_init("test_profiler_trace", 0);
    char dir[] = "/tmp/cs_test_prof_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_validator_itself();
    test_nested_totals();
    test_table();
    test_trace(dir);
    rmdir(dir);
    return cs_test_done();
}
