/* Part 1's operations table and the four answers (see profile.h). */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "cs_console.h"
#include "cs_profiler.h"

typedef struct {
    char name[96];
    long calls;
    double total_s;
} op_row;

static int by_total_desc(const void *x, const void *y)
{
    const op_row *a = x, *b = y;
    return a->total_s < b->total_s ? 1 : a->total_s > b->total_s ? -1 : strcmp(a->name, b->name);
}

/* Layer regions are named "fwd conv layer1.0.conv1": direction, type, layer. */
static int is_layer_region(const char *name)
{
    return strncmp(name, "fwd ", 4) == 0 || strncmp(name, "bwd ", 4) == 0;
}

static double total_of(const cs_prof_entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0) return e[i].total_s;
    return 0.0;
}

static void print_rows(FILE *f, const char *title, op_row *rows, int n, int top, double step_s, int steps)
{
    qsort(rows, (size_t)n, sizeof *rows, by_total_desc);
    fprintf(f, "  %s (top %d of %d, sorted by time):\n", title, n < top ? n : top, n);
    fprintf(f, "    %-36s %8s %12s %12s %9s\n", "operation", "calls", "total", "average", "% of step");
    for (int i = 0; i < n && i < top; i++) {
        char t[32], av[32];
        cs_format_time(rows[i].total_s / steps, t, sizeof t);
        cs_format_time(rows[i].calls ? rows[i].total_s / rows[i].calls : 0, av, sizeof av);
        fprintf(f, "    %-36s %8ld %12s %12s %8.1f%%\n", rows[i].name, rows[i].calls / steps, t, av,
                step_s > 0 ? 100.0 * rows[i].total_s / steps / step_s : 0.0);
    }
}

void rn_profile_report(FILE *f, int steps, double wall_s, int on_gpu, int top, rn_profile_answers *a)
{
    memset(a, 0, sizeof *a);
    cs_prof_entry e[CS_PROF_MAX_NAMES];
    int n = cs_prof_entries(e, CS_PROF_MAX_NAMES);
    if (steps < 1) steps = 1;
    double step_s = wall_s / steps;

    /* Per layer: each layer region; per type: summed by "fwd conv", ... */
    op_row *layers = calloc((size_t)n + 1, sizeof *layers);
    op_row *types = calloc((size_t)n + 1, sizeof *types);
    int nl = 0, nt = 0;
    for (int i = 0; i < n; i++) {
        if (!is_layer_region(e[i].name)) continue;
        snprintf(layers[nl].name, sizeof layers[nl].name, "%s", e[i].name);
        layers[nl].calls = e[i].calls;
        layers[nl].total_s = e[i].total_s;
        nl++;
        char type[96];
        const char *sp = strchr(e[i].name + 4, ' ');
        int len = sp ? (int)(sp - e[i].name) : (int)strlen(e[i].name);
        snprintf(type, sizeof type, "%.*s", len, e[i].name);
        int k = 0;
        while (k < nt && strcmp(types[k].name, type) != 0) k++;
        if (k == nt) {
            snprintf(types[nt].name, sizeof types[nt].name, "%s", type);
            nt++;
        }
        types[k].calls += e[i].calls;
        types[k].total_s += e[i].total_s;
    }
    fprintf(f, "  %d profiled steps, %s per step (wall clock)%s\n", steps, cs_format_time(step_s, (char[32]){0}, 32),
            on_gpu ? "; operation times are device time from CUDA events" : "");
    print_rows(f, "By layer type", types, nt, top, step_s, steps);
    print_rows(f, "By layer", layers, nl, top, step_s, steps);
    for (int i = 0; i < RN_PROFILE_TOP && i < nt; i++) { /* print_rows sorted them */
        snprintf(a->top_types[i], sizeof a->top_types[i], "%s", types[i].name);
        a->top_types_s[i] = types[i].total_s / steps;
        a->ntypes = i + 1;
    }
    for (int i = 0; i < 3 && i < nl; i++) {
        snprintf(a->slowest[i], sizeof a->slowest[i], "%s", layers[i].name);
        a->slowest_s[i] = layers[i].total_s / steps;
    }
    free(layers);
    free(types);

    a->steps = steps;
    a->wall_s = wall_s;
    a->data_s = total_of(e, n, "data loading");
    a->h2d_s = total_of(e, n, "copy H2D");
    a->forward_s = total_of(e, n, "forward");
    a->backward_s = total_of(e, n, "backward");
    a->optimizer_s = total_of(e, n, "optimizer step");
    a->loss_s = total_of(e, n, "loss");
    a->sync_s = total_of(e, n, "sync/loss.item()");
    a->compute_s = a->forward_s + a->backward_s + a->optimizer_s + a->loss_s;
    a->device_busy_share = on_gpu && wall_s > 0 ? (a->compute_s + a->h2d_s) / wall_s : -1.0;
}
