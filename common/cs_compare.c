/* Correctness checks: the relative L2 error ||got - ref|| / ||ref|| of a
 * whole output, against a tolerance. One relative figure for the whole
 * array is robust where per-element relative errors are not (an element
 * near zero makes its own relative error huge for no real fault); the max
 * absolute error is reported alongside to show the worst element.
 * Sums are in double so the check itself adds no float32 rounding. */
#include "cs_compare.h"

#include <math.h>

cs_check cs_check_skipped(void)
{
    cs_check c = {0};
    c.status = CS_CHECK_SKIP;
    return c;
}

const char *cs_check_word(cs_check_status s)
{
    switch (s) {
    case CS_CHECK_PASS: return "PASS";
    case CS_CHECK_FAIL: return "FAIL";
    case CS_CHECK_REF: return "REF";
    default: return "SKIP";
    }
}

/* Running sums of one comparison. */
typedef struct {
    size_t n, nonfinite, bad_ref;
    double max_abs, diff2, ref2;
} compare_acc;

static void add_pair(compare_acc *a, double got, double ref)
{
    a->n++;
    /* A NaN or Inf in the result always fails; a NaN in the reference
     * means nothing can be checked, which fails too. Such elements are
     * counted, and the error figures describe the remaining ones. */
    if (!isfinite(got)) {
        a->nonfinite++;
        return;
    }
    if (isnan(ref)) {
        a->bad_ref++;
        return;
    }
    double d = fabs(got - ref);
    if (d > a->max_abs) a->max_abs = d;
    a->diff2 += d * d;
    a->ref2 += ref * ref;
}

static cs_check finish(const compare_acc *a, double tol)
{
    cs_check c = {0};
    c.n = a->n;
    c.tol = tol;
    c.nonfinite = a->nonfinite;
    c.max_abs = a->max_abs;
    /* A zero reference has no scale: fall back to the absolute norm. */
    c.rel_l2 = a->ref2 > 0.0 ? sqrt(a->diff2) / sqrt(a->ref2) : sqrt(a->diff2);
    int ok = a->nonfinite == 0 && a->bad_ref == 0 && c.rel_l2 <= tol; /* NaN error fails too */
    c.status = ok ? CS_CHECK_PASS : CS_CHECK_FAIL;
    return c;
}

cs_check cs_compare_f32_f64(const float *got, const double *ref, size_t n, double rel_l2_tol)
{
    compare_acc a = {0};
    for (size_t i = 0; i < n; i++) add_pair(&a, (double)got[i], ref[i]);
    return finish(&a, rel_l2_tol);
}

cs_check cs_compare_f32(const float *got, const float *ref, size_t n, double rel_l2_tol)
{
    compare_acc a = {0};
    for (size_t i = 0; i < n; i++) add_pair(&a, (double)got[i], (double)ref[i]);
    return finish(&a, rel_l2_tol);
}

cs_check cs_check_merge(cs_check a, cs_check b)
{
    if (a.status == CS_CHECK_SKIP) return b; /* a skipped part adds nothing */
    if (b.status == CS_CHECK_SKIP) return a;
    cs_check c = {0};
    c.status = (a.status == CS_CHECK_FAIL || b.status == CS_CHECK_FAIL) ? CS_CHECK_FAIL : CS_CHECK_PASS;
    c.n = a.n + b.n;
    c.nonfinite = a.nonfinite + b.nonfinite;
    c.max_abs = fmax(a.max_abs, b.max_abs);
    /* The worse relative error wins, with the tolerance it was judged by. */
    if (b.rel_l2 > a.rel_l2) {
        c.rel_l2 = b.rel_l2;
        c.tol = b.tol;
    } else {
        c.rel_l2 = a.rel_l2;
        c.tol = a.tol;
    }
    return c;
}
