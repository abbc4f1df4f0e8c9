/* Step 4 of case02, second half: how the cost of a row grows with the
 * number of (day, category) groups, in slow's group store (a list searched
 * from its head) and in hashed's (a hash table). */
#ifndef C2_GROUP_GROWTH_H
#define C2_GROUP_GROWTH_H

#define C2_GROWTH_POINTS 4

typedef struct {
    int groups[C2_GROWTH_POINTS];
    double list_ns[C2_GROWTH_POINTS];  /* slow: ns per row */
    double table_ns[C2_GROWTH_POINTS]; /* hashed: ns per row */
} c2_group_growth;

/* Measures both stores at 10, 100, 1,000 and 10,000 groups. Returns 0, or 3
 * (out of memory, one line printed). */
int c2_measure_group_growth(c2_group_growth *g);

#endif
