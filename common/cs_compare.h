/* Array comparison for correctness checks: the result of a variant against
 * a reference on the same input. A NaN or Inf in the result always fails. */
#ifndef CS_COMPARE_H
#define CS_COMPARE_H

#include <stddef.h>

/* REF: the row is the reference the others are compared with (its own
 * check is elsewhere, against something independent of it). */
typedef enum { CS_CHECK_SKIP = 0, CS_CHECK_PASS, CS_CHECK_FAIL, CS_CHECK_REF } cs_check_status;

/* A verdict with an error to show: PASS or FAIL (not SKIP, not REF). */
static inline int cs_check_judged(cs_check_status s)
{
    return s == CS_CHECK_PASS || s == CS_CHECK_FAIL;
}

typedef struct {
    cs_check_status status;
    size_t n;         /* elements compared */
    double max_abs;   /* max |got - ref| */
    double rel_l2;    /* ||got - ref||_2 / ||ref||_2 (or ||got - ref|| when ||ref|| == 0) */
    size_t nonfinite; /* NaN/Inf elements in got */
    double tol;       /* tolerance on rel_l2 that decided status */
} cs_check;

/* float32 result against a float64 reference. */
cs_check cs_compare_f32_f64(const float *got, const double *ref, size_t n, double rel_l2_tol);
/* float32 result against a float32 reference. */
cs_check cs_compare_f32(const float *got, const float *ref, size_t n, double rel_l2_tol);

/* Combines two checks of parts of one output: the worse error wins, counts
 * add, and the status is FAIL if either failed (SKIP only if both skipped). */
cs_check cs_check_merge(cs_check a, cs_check b);

/* A check that did not run. */
cs_check cs_check_skipped(void);

/* "PASS", "FAIL" or "SKIP". */
const char *cs_check_word(cs_check_status s);

#endif
