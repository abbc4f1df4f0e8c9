/* Array comparison: exact PASS, small error PASS, larger error FAIL, NaN or
 * Inf in the result FAIL, NaN in the reference FAIL, zero reference, n == 0,
 * and how two checks merge. */
#include "cs_compare.h"
#include "cs_test.h"

#include <string.h>

int main(void)
{
    float got[4] = {1.0f, -2.0f, 3.0f, 4.0f};
    double ref[4] = {1.0, -2.0, 3.0, 4.0};
    float reff[4] = {1.0f, -2.0f, 3.0f, 4.0f};

    cs_check c = cs_compare_f32_f64(got, ref, 4, 1e-6);
    CHECK(c.status == CS_CHECK_PASS);
    CHECK(c.n == 4 && c.max_abs == 0.0 && c.rel_l2 == 0.0 && c.nonfinite == 0);
    CHECK(c.tol == 1e-6);
    c = cs_compare_f32(got, reff, 4, 1e-6);
    CHECK(c.status == CS_CHECK_PASS && c.rel_l2 == 0.0);

    /* one element off by 0.001: ||d|| = 1e-3, ||ref|| = sqrt(30) */
    got[3] = 4.001f;
    double diff = (double)4.001f - 4.0;
    c = cs_compare_f32_f64(got, ref, 4, 1e-3);
    CHECK(c.status == CS_CHECK_PASS);
    CHECK_NEAR(c.max_abs, diff, 1e-12);
    CHECK_NEAR(c.rel_l2, diff / sqrt(30.0), 1e-12);
    c = cs_compare_f32_f64(got, ref, 4, 1e-5); /* same error, tighter tolerance */
    CHECK(c.status == CS_CHECK_FAIL);
    CHECK(c.tol == 1e-5);

    /* a larger error fails */
    got[3] = 5.0f;
    c = cs_compare_f32(got, reff, 4, 1e-3);
    CHECK(c.status == CS_CHECK_FAIL);
    CHECK_NEAR(c.max_abs, 1.0, 0);
    got[3] = 4.0f;

    /* NaN or Inf in the result fails whatever the tolerance */
    got[1] = NAN;
    c = cs_compare_f32_f64(got, ref, 4, 1e9);
    CHECK(c.status == CS_CHECK_FAIL && c.nonfinite == 1);
    got[1] = INFINITY;
    c = cs_compare_f32(got, reff, 4, 1e9);
    CHECK(c.status == CS_CHECK_FAIL && c.nonfinite == 1);
    got[1] = -2.0f;

    /* NaN in the reference fails too */
    ref[2] = NAN;
    c = cs_compare_f32_f64(got, ref, 4, 1e9);
    CHECK(c.status == CS_CHECK_FAIL && c.nonfinite == 0);
    ref[2] = 3.0;

    /* zero reference: the absolute norm is used */
    float z_got[2] = {0.0f, 0.5f};
    double z_ref[2] = {0.0, 0.0};
    c = cs_compare_f32_f64(z_got, z_ref, 2, 1.0);
    CHECK(c.status == CS_CHECK_PASS && c.rel_l2 == 0.5);

    /* n == 0: PASS with zeros, tolerance kept */
    c = cs_compare_f32(NULL, NULL, 0, 1e-4);
    CHECK(c.status == CS_CHECK_PASS && c.n == 0 && c.max_abs == 0 && c.rel_l2 == 0 && c.tol == 1e-4);

    /* merge: counts add, worse error wins with its tolerance, FAIL wins,
     * SKIP only when both skipped */
    cs_check pass1 = cs_compare_f32_f64(got, ref, 4, 1e-6);
    got[0] = 1.01f;
    cs_check pass2 = cs_compare_f32_f64(got, ref, 4, 1e-2);
    got[0] = 2.0f;
    cs_check fail = cs_compare_f32_f64(got, ref, 4, 1e-3);
    cs_check skip = cs_check_skipped();
    CHECK(skip.status == CS_CHECK_SKIP && skip.n == 0);

    cs_check m = cs_check_merge(pass1, pass2);
    CHECK(m.status == CS_CHECK_PASS && m.n == 8);
    CHECK(m.rel_l2 == pass2.rel_l2 && m.tol == 1e-2 && m.max_abs == pass2.max_abs);
    m = cs_check_merge(pass2, fail);
    CHECK(m.status == CS_CHECK_FAIL && m.max_abs == fail.max_abs && m.tol == 1e-3);
    m = cs_check_merge(fail, pass1);
    CHECK(m.status == CS_CHECK_FAIL);
    m = cs_check_merge(skip, pass1);
    CHECK(m.status == CS_CHECK_PASS && m.n == 4);
    m = cs_check_merge(fail, skip);
    CHECK(m.status == CS_CHECK_FAIL);
    m = cs_check_merge(skip, skip);
    CHECK(m.status == CS_CHECK_SKIP);

    CHECK(strcmp(cs_check_word(CS_CHECK_PASS), "PASS") == 0);
    CHECK(strcmp(cs_check_word(CS_CHECK_FAIL), "FAIL") == 0);
    CHECK(strcmp(cs_check_word(CS_CHECK_SKIP), "SKIP") == 0);

    return cs_test_done();
}
