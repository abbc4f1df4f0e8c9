/* Hashed aggregation (from the `hashed` rung on): groups keyed by (day,
 * category) in an open-addressing hash table, instead of a list searched
 * from the start for every row. */
#ifndef C2_AGGREGATE_H
#define C2_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"

typedef struct c2_groups c2_groups;

c2_groups *c2_groups_new(void);
void c2_groups_free(c2_groups *g);
/* Adds one accepted row's USD cents to the group (day, category), creating it. */
void c2_groups_add(c2_groups *g, const char day[10], const char *cat, size_t cat_len, int64_t usd_cents);
/* Merges every group into r (c2_result_merge semantics) and empties g. */
void c2_groups_to_result(c2_groups *g, c2_result *r);

#endif
