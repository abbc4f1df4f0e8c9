/* How slow's time grows with the number of groups (step 4).
 *
 * slow adds each clean row to its group by walking a linked list of every
 * group seen so far, comparing strings (staged.c, c2_group_list_add); hashed
 * replaces the list with a hash table (aggregate.c, c2_groups_add). The
 * input decides how many groups there are: 12 categories over 30 days make
 * about 360, a merchant-category export over a quarter tens of thousands.
 * Here each store is filled with G groups, then timed on rows spread evenly
 * over them, with nothing else in the way (no parsing, no file): the time
 * per row of the list grows in proportion to G, the table's stays flat. */
#include "group_growth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "cs_clock.h"
#include "cs_console.h"
#include "staged.h"

#define LIST_ROWS  2000   /* rows timed in the list: enough for a steady figure, few at 10,000 groups */
#define TABLE_ROWS 100000 /* rows timed in the table, whose rows are 1,000x cheaper */
#define STRIDE     7919   /* row i goes to group (i * STRIDE) % G: every group in turn, scattered */

typedef struct {
    char day[11];
    char cat[24];
    size_t cat_len;
} key;

/* ns per row of adding `rows` rows spread over g groups into the list
 * (which = 0) or the table (which = 1), once every group exists; -1 when
 * out of memory. */
static double ns_per_row(int which, int g, int rows)
{
    key *keys = malloc((size_t)g * sizeof *keys);
    if (!keys) return -1;
    for (int k = 0; k < g; k++) { /* a day of March 2026 and a category name */
        snprintf(keys[k].day, sizeof keys[k].day, "2026-03-%02d", 1 + k % 28);
        keys[k].cat_len = (size_t)snprintf(keys[k].cat, sizeof keys[k].cat, "category %d", k / 28);
    }
    c2_group_node *list = NULL;
    c2_groups *table = which ? c2_groups_new() : NULL;
    double elapsed = -1;
    for (int pass = 0; pass < 2; pass++) { /* pass 0 makes the groups, pass 1 is timed */
        int n = pass == 0 ? g : rows;
        double t0 = cs_now();
        for (int i = 0; i < n; i++) {
            const key *k = &keys[pass == 0 ? i : (int)((long long)i * STRIDE % g)];
            c2_clean_row row = {.hour = 0, .category = k->cat, .category_len = k->cat_len, .usd_cents = 100};
            memcpy(row.day, k->day, sizeof row.day);
            if (which)
                c2_groups_add(table, row.day, row.category, row.category_len, row.usd_cents);
            else if (c2_group_list_add(&list, &row) != 0)
                goto out;
        }
        elapsed = cs_now() - t0;
    }
out:
    c2_group_list_free(list);
    c2_groups_free(table);
    free(keys);
    return elapsed < 0 ? -1 : elapsed / rows * 1e9;
}

int c2_measure_group_growth(c2_group_growth *g)
{
    static const int sizes[C2_GROWTH_POINTS] = {10, 100, 1000, 10000};
    for (int i = 0; i < C2_GROWTH_POINTS; i++) {
        g->groups[i] = sizes[i];
        g->list_ns[i] = ns_per_row(0, sizes[i], LIST_ROWS);
        g->table_ns[i] = ns_per_row(1, sizes[i], TABLE_ROWS);
        if (g->list_ns[i] < 0 || g->table_ns[i] < 0) {
            cs_error("out of memory measuring the group stores");
            return 3;
        }
    }
    return 0;
}
