/* fast: the merge of the threads' results (fast_merge.h). */
#include <stdlib.h>
#include <string.h>

#include "cs_memory.h"
#include "cs_profiler.h"
#include "fast_merge.h"

/* ======================================================================
 * The merge
 *
 * Each thread numbered its days and categories in the order it met them,
 * so the same category has different ids in different threads. The merge
 * takes a number of steps in proportion to the groups (times the threads),
 * never more:
 *  1. every distinct day and category of all threads gets its rank in the
 *     output's order: the days and the categories are sorted (a few hundred
 *     or thousand names; the groups are not sorted by comparing);
 *  2. each thread, in parallel, lists its own groups keyed by those ranks
 *     and sorts them by (day rank, category rank) with two counting passes
 *     (a radix sort: by category, then, keeping that order, by day);
 *  3. the threads' sorted lists are merged into the result, in order, the
 *     same group from several threads folded into one.
 * The result comes out in the output's order, so the final sort of the
 * groups (c2_result_sort) finds nothing to do.
 * ====================================================================== */

/* A name of the merged dictionaries: its text and its global id. */
typedef struct {
    const char *text;
    size_t len;
    int id;
} name_ref;

static int by_text(const void *pa, const void *pb)
{
    const name_ref *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len); /* a prefix first, as c2_result_sort */
}

/* The distinct names of all threads (days: 10 bytes), each with its rank:
 * rank_of[t][local id] for thread t. Returns the names in rank order. */
static name_ref *rank_names(worker **workers, int nthreads, int days, int **rank_of, int *nnames)
{
    str_table seen; /* text -> global id */
    str_table_init(&seen);
    int n = 0, cap = 64;
    name_ref *names = cs_alloc((size_t)cap * sizeof *names, "case02 fast: merge");
    for (int t = 0; t < nthreads; t++) {
        const worker *w = workers[t];
        int local = days ? w->days.n : w->ncats;
        rank_of[t] = cs_alloc((size_t)(local > 0 ? local : 1) * sizeof **rank_of, "case02 fast: merge");
        for (int i = 0; i < local; i++) {
            const char *text = days ? w->days.text[i] : w->cat_text[i];
            size_t len = days ? 10 : w->cat_len[i];
            uint64_t h = hash_bytes(CATEGORY_SEED, text, len);
            int id = str_find(&seen, h, text, len, 0);
            if (id < 0) {
                if (n == cap) {
                    name_ref *bigger = cs_alloc(2 * (size_t)cap * sizeof *bigger, "case02 fast: merge");
                    memcpy(bigger, names, (size_t)n * sizeof *names);
                    cs_free(names);
                    names = bigger;
                    cap *= 2;
                }
                id = n;
                names[n++] = (name_ref){text, len, id};
                str_add(&seen, h, text, len, 0, id);
            }
            rank_of[t][i] = id; /* the global id, for now */
        }
    }
    cs_free(seen.slots);
    qsort(names, (size_t)n, sizeof *names, by_text);
    int *rank = cs_alloc((size_t)(n > 0 ? n : 1) * sizeof *rank, "case02 fast: merge");
    for (int r = 0; r < n; r++) rank[names[r].id] = r;
    for (int t = 0; t < nthreads; t++) {
        int local = days ? workers[t]->days.n : workers[t]->ncats;
        for (int i = 0; i < local; i++) rank_of[t][i] = rank[rank_of[t][i]];
    }
    cs_free(rank);
    *nnames = n;
    return names;
}

/* A group keyed by the ranks of its day and category. */
typedef struct {
    uint32_t day, cat;
    cell c;
} ranked_group;

/* Stable counting sort of g[0..n) into out, by day (by_day) or category
 * rank, whose values are below nkeys. */
static void counting_sort(const ranked_group *g, size_t n, int by_day, size_t nkeys, ranked_group *out)
{
    size_t *start = cs_calloc((nkeys + 1) * sizeof *start, "case02 fast: merge");
    for (size_t i = 0; i < n; i++) start[(by_day ? g[i].day : g[i].cat) + 1]++;
    for (size_t k = 0; k < nkeys; k++) start[k + 1] += start[k]; /* where each key's run starts */
    for (size_t i = 0; i < n; i++) out[start[by_day ? g[i].day : g[i].cat]++] = g[i];
    cs_free(start);
}

/* Step 2 for thread w: its groups keyed by ranks, sorted; *n of them. */
static ranked_group *sorted_groups(const worker *w, const int *day_rank, const int *cat_rank, int ndays, int ncats,
                                   size_t *n)
{
    size_t count = 0;
    if (w->cells) {
        for (size_t i = 0, cells = (size_t)w->day_dim * w->cat_dim; i < cells; i++) count += w->cells[i].count > 0;
    } else {
        count = w->ngroups;
    }
    ranked_group *list = cs_alloc((count > 0 ? count : 1) * sizeof *list, "case02 fast: merge");
    ranked_group *sorted = cs_alloc((count > 0 ? count : 1) * sizeof *sorted, "case02 fast: merge");
    size_t k = 0;
    if (w->cells) {
        for (int d = 0; d < w->day_dim; d++)
            for (int c = 0; c < w->cat_dim; c++) {
                const cell *x = &w->cells[(size_t)d * w->cat_dim + c];
                if (x->count > 0) list[k++] = (ranked_group){(uint32_t)day_rank[d], (uint32_t)cat_rank[c], *x};
            }
    } else {
        for (size_t i = 0; i < w->nslots; i++) {
            const group_slot *s = &w->slots[i];
            if (s->key == NO_GROUP) continue;
            int d = key_day(s->key), c = key_cat(s->key);
            list[k++] = (ranked_group){(uint32_t)day_rank[d], (uint32_t)cat_rank[c], s->c};
        }
    }
    counting_sort(list, k, 0, (size_t)ncats, sorted); /* by category ... */
    counting_sort(sorted, k, 1, (size_t)ndays, list); /* ... then by day, keeping that order */
    cs_free(sorted);
    *n = k;
    return list;
}

static int before(const ranked_group *a, const ranked_group *b)
{
    return a->day < b->day || (a->day == b->day && a->cat < b->cat);
}

void merge_workers(worker **workers, int nthreads, c2_result *out)
{
    int *day_rank[MAX_THREADS], *cat_rank[MAX_THREADS];
    int ndays, ncats;
    cs_prof_begin("merge: rank names");
    name_ref *days = rank_names(workers, nthreads, 1, day_rank, &ndays);
    name_ref *cats = rank_names(workers, nthreads, 0, cat_rank, &ncats);
    cs_prof_end();

    cs_prof_begin("merge: sort each thread's groups");
    ranked_group *run[MAX_THREADS];
    size_t len[MAX_THREADS], at[MAX_THREADS], total = 0;
#pragma omp parallel for num_threads(nthreads) schedule(static, 1)
    for (int t = 0; t < nthreads; t++)
        run[t] = sorted_groups(workers[t], day_rank[t], cat_rank[t], ndays, ncats, &len[t]);
    cs_prof_end();

    cs_prof_begin("merge: into the result");
    for (int t = 0; t < nthreads; t++) {
        worker *w = workers[t];
        out->rows += w->rows;
        out->accepted += w->accepted;
        for (int k = 0; k < C2_NREASONS; k++) out->rejected[k] += w->rejected[k];
        for (int h = 0; h < 24; h++) out->hours[h] += w->hours[h];
        at[t] = 0;
        total += len[t];
    }
    /* The smallest head of the sorted lists, as long as one is left; the
     * same group at the head of other lists is folded into it. Into a
     * result that already holds groups (never, from c2_run_fast's callers)
     * they go through c2_result_merge. */
    c2_result part;
    c2_result_init(&part);
    c2_result *into = out->ngroups == 0 ? out : &part;
    c2_result_reserve(into, len[0] > total / (size_t)nthreads ? len[0] : total / (size_t)nthreads);
    for (;;) {
        int first = -1;
        for (int t = 0; t < nthreads; t++)
            if (at[t] < len[t] && (first < 0 || before(&run[t][at[t]], &run[first][at[first]]))) first = t;
        if (first < 0) break;
        ranked_group g = run[first][at[first]++];
        for (int t = first + 1; t < nthreads; t++) {
            const ranked_group *h = &run[t][at[t]];
            if (at[t] < len[t] && h->day == g.day && h->cat == g.cat) {
                g.c.count += h->c.count;
                g.c.sum += h->c.sum;
                if (h->c.min < g.c.min) g.c.min = h->c.min;
                if (h->c.max > g.c.max) g.c.max = h->c.max;
                at[t]++;
            }
        }
        c2_group *r = c2_result_add_group(into, days[g.day].text, cats[g.cat].text, cats[g.cat].len);
        r->count = g.c.count;
        r->sum_cents = g.c.sum;
        r->min_cents = g.c.min;
        r->max_cents = g.c.max;
    }
    if (into == &part) {
        c2_result_merge(out, &part);
        c2_result_free(&part);
    }
    cs_prof_end();
    for (int t = 0; t < nthreads; t++) {
        cs_free(run[t]);
        cs_free(day_rank[t]);
        cs_free(cat_rank[t]);
    }
    cs_free(days);
    cs_free(cats);
}
