/*
 * check_runtime_loss.c: Keras losses (runtime/src/loss.c), built against
 * seqrt_f64. Each loss: a hand-computed value, then its gradient against
 * central finite differences (relative error < 1e-6). Also the softmax /
 * sigmoid identity of the from_softmax path, masks, weights, and
 * stability for logits of +-1e4.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_util.h"
#include "seqrt_kernel.h"
#include "seqrt_train.h"

#ifndef SEQRT_DOUBLE
#error "check_runtime_loss must link seqrt_f64"
#endif

static seqrt_loss_spec spec(seqrt_loss_kind kind, int from_logits, int from_softmax)
{
    seqrt_loss_spec s = {0, 0, kind, from_logits, from_softmax, 1.0, 0.0};
    return s;
}

static double loss_only(const seqrt_loss_spec *s, const double *p, const void *y,
                        const uint8_t *mask, int64_t n, int64_t C)
{
    return seqrt_loss(NULL, s, p, y, mask, n, C);
}

/* Largest relative error between seqrt_loss's gradient and central
 * differences of its value (times the weight). */
static double fd_max_rel_err(const seqrt_loss_spec *s, const double *p0, const void *y,
                             const uint8_t *mask, int64_t n, int64_t C)
{
    int64_t N = n * C;
    double *p = malloc((size_t)N * sizeof *p), *d = calloc((size_t)N, sizeof *d);
    for (int64_t i = 0; i < N; i++) p[i] = p0[i];
    seqrt_loss(d, s, p, y, mask, n, C);
    double worst = 0;
    for (int64_t i = 0; i < N; i++) {
        double h = 1e-6 * fmax(1, fabs(p0[i]));
        p[i] = p0[i] + h;
        double up = loss_only(s, p, y, mask, n, C);
        p[i] = p0[i] - h;
        double dn = loss_only(s, p, y, mask, n, C);
        p[i] = p0[i];
        double num = s->weight * (up - dn) / (2 * h);
        double e = fabs(num - d[i]) / fmax(fmax(fabs(num), fabs(d[i])), 1e-4);
        if (e > worst) worst = e;
    }
    free(p);
    free(d);
    return worst;
}

/* Random row-stochastic probabilities away from the clip edges. */
static void probs(double *p, int64_t n, int64_t C, unsigned seed)
{
    seqrt_rng r;
    seqrt_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t k = 0; k < C; k++) s += p[i * C + k] = 0.1 + seqrt_rng_double(&r);
        for (int64_t k = 0; k < C; k++) p[i * C + k] /= s;
    }
}

static void one_hot(double *y, const int32_t *labels, int64_t n, int64_t C)
{
    for (int64_t i = 0; i < n * C; i++) y[i] = 0;
    for (int64_t i = 0; i < n; i++) y[i * C + labels[i]] = 1;
}

/* ---- Core: values by hand ---- */

START_TEST(mse_value_and_grad)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_MSE, 0, 0);
    double p[] = {1, 2}, y[] = {0, 0}, d[2] = {0, 0};
    ck_assert_double_eq_tol(seqrt_loss(d, &s, p, y, NULL, 1, 2), 2.5, 1e-15);
    ck_assert_double_eq_tol(d[0], 1.0, 1e-15);   /* 2(p-y)/(N*C) */
    ck_assert_double_eq_tol(d[1], 2.0, 1e-15);
}
END_TEST

START_TEST(mae_value_and_sign0)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_MAE, 0, 0);
    double p[] = {1, -2, 0.5}, y[] = {0, 0, 0.5}, d[3] = {0};
    ck_assert_double_eq_tol(seqrt_loss(d, &s, p, y, NULL, 1, 3), 1.0, 1e-15);
    ck_assert_double_eq_tol(d[0], 1.0 / 3, 1e-15);
    ck_assert_double_eq_tol(d[1], -1.0 / 3, 1e-15);
    ck_assert_double_eq(d[2], 0.0);   /* sign(0) = 0 */
}
END_TEST

START_TEST(cce_prob_renormalises)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 0);
    double p[] = {0.4, 0.6, 1.0}, y[] = {0, 1, 0};   /* sums to 2: q = 0.2, 0.3, 0.5 */
    ck_assert_double_eq_tol(loss_only(&s, p, y, NULL, 1, 3), -log(0.3), 1e-12);
}
END_TEST

START_TEST(cce_logits_value)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 1, 0);
    double z[] = {1, 2, 3}, y[] = {0, 0, 1};
    double want = log(exp(1) + exp(2) + exp(3)) - 3;
    ck_assert_double_eq_tol(loss_only(&s, z, y, NULL, 1, 3), want, 1e-12);
}
END_TEST

START_TEST(cce_label_smoothing_value)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 0);
    s.label_smoothing = 0.1;
    double p[] = {0.2, 0.3, 0.5}, y[] = {0, 1, 0};
    double lo = 0.1 / 3, hi = 0.9 + 0.1 / 3;
    double want = -(lo * log(0.2) + hi * log(0.3) + lo * log(0.5));
    ck_assert_double_eq_tol(loss_only(&s, p, y, NULL, 1, 3), want, 1e-12);
}
END_TEST

START_TEST(sparse_values)
{
    double p[] = {0.2, 0.3, 0.5, 0.6, 0.3, 0.1};
    int32_t lab[] = {2, 1};
    seqrt_loss_spec s = spec(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, 0);
    ck_assert_double_eq_tol(loss_only(&s, p, lab, NULL, 2, 3), -(log(0.5) + log(0.3)) / 2, 1e-12);
    s.from_softmax = 1;
    ck_assert_double_eq_tol(loss_only(&s, p, lab, NULL, 2, 3), -(log(0.5) + log(0.3)) / 2, 1e-12);
    s = spec(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1, 0);
    double z[] = {1, 2, 3};
    int32_t l0[] = {0};
    ck_assert_double_eq_tol(loss_only(&s, z, l0, NULL, 1, 3), log(exp(1) + exp(2) + exp(3)) - 1, 1e-12);
}
END_TEST

START_TEST(bce_values)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_BINARY_CROSSENTROPY, 0, 0);
    double p[] = {0.8, 0.3}, y[] = {1, 0};
    double want = -(log(0.8) + log(0.7)) / 2;
    ck_assert_double_eq_tol(loss_only(&s, p, y, NULL, 1, 2), want, 1e-12);
    s.label_smoothing = 0.2;   /* y -> 0.9, 0.1 */
    want = -(0.9 * log(0.8) + 0.1 * log(0.2) + 0.1 * log(0.3) + 0.9 * log(0.7)) / 2;
    ck_assert_double_eq_tol(loss_only(&s, p, y, NULL, 1, 2), want, 1e-12);
    s = spec(SEQRT_LOSS_BINARY_CROSSENTROPY, 1, 0);
    double z[] = {0.5}, y1[] = {1};
    ck_assert_double_eq_tol(loss_only(&s, z, y1, NULL, 1, 1), log1p(exp(-0.5)), 1e-12);
}
END_TEST

/* ---- Core: gradients against finite differences ---- */

START_TEST(fd_every_loss)
{
    enum { n = 4, C = 5 };
    double p[n * C], z[n * C], y[n * C], yb[n * C];
    int32_t lab[n] = {0, 3, 4, 2};
    probs(p, n, C, 7);
    one_hot(y, lab, n, C);
    seqrt_rng r;
    seqrt_rng_seed(&r, 9);
    for (int i = 0; i < n * C; i++) {
        z[i] = 4 * seqrt_rng_double(&r) - 2;
        yb[i] = seqrt_rng_double(&r) < 0.5 ? 0 : 1;
    }
    struct { seqrt_loss_kind k; int logits, softmax; double ls, w; const double *x; const void *t; } cases[] = {
        {SEQRT_LOSS_MSE, 0, 0, 0, 1, z, y},
        {SEQRT_LOSS_MAE, 0, 0, 0, 1, z, p},
        {SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 0, 0, 1, p, y},
        {SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 0, 0.1, 2.5, p, y},
        {SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 1, 0, 1, p, y},
        {SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 1, 0, 0, 1, z, y},
        {SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 1, 0, 0.2, 0.5, z, y},
        {SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, 0, 0, 1, p, lab},
        {SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, 1, 0, 1, p, lab},
        {SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1, 0, 0, 3, z, lab},
        {SEQRT_LOSS_BINARY_CROSSENTROPY, 0, 0, 0, 1, p, yb},
        {SEQRT_LOSS_BINARY_CROSSENTROPY, 0, 0, 0.1, 1, p, yb},
        {SEQRT_LOSS_BINARY_CROSSENTROPY, 0, 1, 0, 1, p, yb},
        {SEQRT_LOSS_BINARY_CROSSENTROPY, 1, 0, 0, 1, z, yb},
    };
    uint8_t mask[n] = {1, 0, 1, 1};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        seqrt_loss_spec s = spec(cases[c].k, cases[c].logits, cases[c].softmax);
        s.label_smoothing = cases[c].ls;
        s.weight = cases[c].w;
        double e = fd_max_rel_err(&s, cases[c].x, cases[c].t, NULL, n, C);
        double em = fd_max_rel_err(&s, cases[c].x, cases[c].t, mask, n, C);
        ck_assert_msg(e < 1e-6 && em < 1e-6, "case %zu: rel err %g (masked %g)", c, e, em);
    }
}
END_TEST

/* The from_softmax path: softmax backward of dp must be (p - y)/N exactly. */
START_TEST(softmax_backward_of_dp_is_p_minus_y)
{
    enum { n = 3, C = 4 };
    double z[n * C], p[n * C], y[n * C], dp[n * C] = {0}, dz[n * C] = {0};
    int32_t lab[n] = {1, 0, 3};
    seqrt_rng r;
    seqrt_rng_seed(&r, 3);
    for (int i = 0; i < n * C; i++) z[i] = 6 * seqrt_rng_double(&r) - 3;
    for (int i = 0; i < n; i++) seqrt_softmax(p + i * C, z + i * C, C);
    one_hot(y, lab, n, C);
    seqrt_loss_spec s = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 1);
    double L = seqrt_loss(dp, &s, p, y, NULL, n, C);
    seqrt_loss_spec sl = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 1, 0);
    ck_assert_double_eq_tol(L, loss_only(&sl, z, y, NULL, n, C), 1e-12);   /* = logits path */
    for (int i = 0; i < n; i++) seqrt_softmax_backward(dz + i * C, p + i * C, dp + i * C, C);
    for (int i = 0; i < n * C; i++) ck_assert_double_eq_tol(dz[i], (p[i] - y[i]) / n, 1e-14);

    /* sparse labels, same identity */
    double dps[n * C] = {0}, dzs[n * C] = {0};
    seqrt_loss_spec ss = spec(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, 1);
    seqrt_loss(dps, &ss, p, lab, NULL, n, C);
    for (int i = 0; i < n; i++) seqrt_softmax_backward(dzs + i * C, p + i * C, dps + i * C, C);
    for (int i = 0; i < n * C; i++) ck_assert_double_eq_tol(dzs[i], (p[i] - y[i]) / n, 1e-14);
}
END_TEST

START_TEST(sigmoid_backward_of_dp_is_p_minus_y)
{
    double z[] = {-3, -0.5, 0.2, 4}, p[4], y[] = {1, 0, 1, 0}, dp[4] = {0};
    for (int i = 0; i < 4; i++) p[i] = seqrt_sigmoid(z[i]);
    seqrt_loss_spec s = spec(SEQRT_LOSS_BINARY_CROSSENTROPY, 0, 1);
    seqrt_loss(dp, &s, p, y, NULL, 2, 2);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(dp[i] * p[i] * (1 - p[i]), (p[i] - y[i]) / 4, 1e-14);
}
END_TEST

START_TEST(mask_divides_by_valid)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_MSE, 0, 0);
    double p[] = {1, 3, 5}, y[] = {0, 0, 0}, d[3] = {0};
    uint8_t m[] = {1, 0, 1};
    ck_assert_double_eq_tol(seqrt_loss(d, &s, p, y, m, 3, 1), (1.0 + 25) / 2, 1e-12);
    ck_assert_double_eq(d[1], 0);
    ck_assert_double_eq_tol(d[0], 1.0, 1e-15);
    uint8_t none[] = {0, 0, 0};
    ck_assert_double_eq(seqrt_loss(d, &s, p, y, none, 3, 1), 0);
}
END_TEST

START_TEST(weight_scales_gradient_not_value)
{
    seqrt_loss_spec s = spec(SEQRT_LOSS_MSE, 0, 0);
    s.weight = 3;
    double p[] = {1}, y[] = {0}, d[1] = {0};
    ck_assert_double_eq_tol(seqrt_loss(d, &s, p, y, NULL, 1, 1), 1.0, 1e-15);
    ck_assert_double_eq_tol(d[0], 6.0, 1e-15);
    seqrt_loss(d, &s, p, y, NULL, 1, 1);   /* accumulates */
    ck_assert_double_eq_tol(d[0], 12.0, 1e-15);
}
END_TEST

/* ---- Limits ---- */

START_TEST(logits_pm_1e4_are_finite)
{
    double z[] = {1e4, -1e4, 0, -1e4, 1e4, 1e4}, y[] = {0, 1, 0, 1, 0, 0}, d[6] = {0};
    int32_t lab[] = {1, 0};
    seqrt_loss_spec s = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 1, 0);
    double L = seqrt_loss(d, &s, z, y, NULL, 2, 3);
    ck_assert(isfinite(L));
    ck_assert_double_eq_tol(L, (2e4 + 2e4 + log(2)) / 2, 1e-9);
    for (int i = 0; i < 6; i++) ck_assert(isfinite(d[i]));
    s = spec(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1, 0);
    ck_assert(isfinite(seqrt_loss(d, &s, z, lab, NULL, 2, 3)));
    s = spec(SEQRT_LOSS_BINARY_CROSSENTROPY, 1, 0);
    L = seqrt_loss(d, &s, z, y, NULL, 2, 3);
    ck_assert(isfinite(L));
    for (int i = 0; i < 6; i++) ck_assert(isfinite(d[i]));
}
END_TEST

START_TEST(zero_probability_is_finite)
{
    double p[] = {0, 1, 0}, y[] = {1, 0, 0}, d[3] = {0};
    seqrt_loss_spec s = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 1);
    double L = seqrt_loss(d, &s, p, y, NULL, 1, 3);
    ck_assert(isfinite(L) && L > 0);
    for (int i = 0; i < 3; i++) ck_assert(isfinite(d[i]));
    /* probability path: clipped to 1e-7, gradient zero outside the range */
    seqrt_loss_spec sp = spec(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 0, 0);
    double d2[3] = {0};
    ck_assert_double_eq_tol(seqrt_loss(d2, &sp, p, y, NULL, 1, 3), -log(1e-7), 1e-9);
    ck_assert_double_eq(d2[0], 0);
    seqrt_loss_spec sb = spec(SEQRT_LOSS_BINARY_CROSSENTROPY, 0, 1);
    double pb[] = {0, 1}, yb[] = {1, 0}, db[2] = {0};
    ck_assert(isfinite(seqrt_loss(db, &sb, pb, yb, NULL, 1, 2)));
    ck_assert(isfinite(db[0]) && isfinite(db[1]));
}
END_TEST

/* ---- Hostile ---- */

START_TEST(bad_sparse_label_is_nan)
{
    double p[] = {0.5, 0.5};
    int32_t lab[] = {2};
    seqrt_loss_spec s = spec(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, 0);
    ck_assert(isnan(loss_only(&s, p, lab, NULL, 1, 2)));
    int32_t labs[] = {0, 1, -1, 5};
    ck_assert_int_eq(seqrt_labels_check(labs, 4, 2), 2);
    ck_assert_int_eq(seqrt_labels_check(labs, 2, 2), -1);
}
END_TEST

static Suite *make_loss_suite(void)
{
    Suite *s = suite_create("runtime_loss");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, mse_value_and_grad);
    tcase_add_test(core, mae_value_and_sign0);
    tcase_add_test(core, cce_prob_renormalises);
    tcase_add_test(core, cce_logits_value);
    tcase_add_test(core, cce_label_smoothing_value);
    tcase_add_test(core, sparse_values);
    tcase_add_test(core, bce_values);
    tcase_add_test(core, fd_every_loss);
    tcase_add_test(core, softmax_backward_of_dp_is_p_minus_y);
    tcase_add_test(core, sigmoid_backward_of_dp_is_p_minus_y);
    tcase_add_test(core, mask_divides_by_valid);
    tcase_add_test(core, weight_scales_gradient_not_value);
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, logits_pm_1e4_are_finite);
    tcase_add_test(limits, zero_probability_is_finite);
    suite_add_tcase(s, limits);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, bad_sparse_label_is_nan);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_loss_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
