/* fast: the plan the record scanner and the row rules follow (fast_scan.h).
 * The scanner itself is all in fast_scan.h: it is inlined into the row loop. */
#include <string.h>

#include "fast_scan.h"

void plan_init(plan *pl, const c2_header *header)
{
    memset(pl->want_of, -1, sizeof pl->want_of);
    static const int column_of[NWANT] = {
        [W_TIMESTAMP] = C2_COL_TIMESTAMP,
        [W_CATEGORY] = C2_COL_CATEGORY,
        [W_AMOUNT] = C2_COL_AMOUNT,
        [W_CURRENCY] = C2_COL_CURRENCY,
    };
    for (int want = 0; want < NWANT; want++) {
        pl->field_of[want] = header->index[column_of[want]];
        pl->want_of[pl->field_of[want]] = (signed char)want;
    }
    pl->header_fields = header->nfields;
    currency_table_init(&pl->currencies);
}
