/*
 * check_runtime_metrics.c: running Keras metrics (runtime/src/metrics.c):
 * the three accuracy flavours, how plain "accuracy" resolves, masks, and
 * position-weighted means across batches.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_util.h"
#include "seqrt_train.h"

START_TEST(resolve_accuracy)
{
    ck_assert_uint_eq(seqrt_metric_resolve(SEQRT_METRIC_ACCURACY, 0, 1), SEQRT_METRIC_BINARY_ACCURACY);
    ck_assert_uint_eq(seqrt_metric_resolve(SEQRT_METRIC_ACCURACY, 1, 5),
                      SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY);
    ck_assert_uint_eq(seqrt_metric_resolve(SEQRT_METRIC_ACCURACY, 0, 5),
                      SEQRT_METRIC_CATEGORICAL_ACCURACY);
    ck_assert_uint_eq(seqrt_metric_resolve(SEQRT_METRIC_MAE, 0, 5), SEQRT_METRIC_MAE);
    ck_assert_str_eq(seqrt_metric_name(SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY),
                     "sparse_categorical_accuracy");
}
END_TEST

START_TEST(categorical_and_sparse)
{
    seqrt_real p[] = {0.1f, 0.7f, 0.2f, 0.5f, 0.4f, 0.1f, 0.3f, 0.3f, 0.4f};
    seqrt_real y[] = {0, 1, 0, 0, 1, 0, 0, 0, 1};
    int32_t lab[] = {1, 1, 2};
    seqrt_metric m;
    seqrt_metric_reset(&m, SEQRT_METRIC_CATEGORICAL_ACCURACY);
    seqrt_metric_update(&m, p, y, NULL, 3, 3);
    ck_assert_double_eq_tol(seqrt_metric_result(&m), 2.0 / 3, 1e-12);
    seqrt_metric_reset(&m, SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY);
    seqrt_metric_update(&m, p, lab, NULL, 3, 3);
    ck_assert_double_eq_tol(seqrt_metric_result(&m), 2.0 / 3, 1e-12);
    uint8_t mask[] = {1, 0, 1};
    seqrt_metric_reset(&m, SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY);
    seqrt_metric_update(&m, p, lab, mask, 3, 3);
    ck_assert_double_eq_tol(seqrt_metric_result(&m), 1.0, 1e-12);
}
END_TEST

START_TEST(binary_threshold_and_running_mean)
{
    seqrt_real p[] = {0.6f, 0.5f, 0.2f, 0.9f};   /* 0.5 is not > 0.5 -> 0 */
    seqrt_real y[] = {1, 1, 0, 0};
    seqrt_metric m;
    seqrt_metric_reset(&m, SEQRT_METRIC_BINARY_ACCURACY);
    seqrt_metric_update(&m, p, y, NULL, 2, 2);   /* rows: (1+0)/2, (1+0)/2 */
    ck_assert_double_eq_tol(seqrt_metric_result(&m), 0.5, 1e-12);
    seqrt_real p2[] = {1, 1}, y2[] = {1, 1};
    seqrt_metric_update(&m, p2, y2, NULL, 1, 2);   /* three positions: (0.5+0.5+1)/3 */
    ck_assert_double_eq_tol(seqrt_metric_result(&m), 2.0 / 3, 1e-12);
}
END_TEST

START_TEST(mae_mse)
{
    seqrt_real p[] = {1, 2, 3, 4}, y[] = {0, 0, 3, 2};
    seqrt_metric m;
    seqrt_metric_reset(&m, SEQRT_METRIC_MAE);
    seqrt_metric_update(&m, p, y, NULL, 2, 2);
    ck_assert_double_eq_tol(seqrt_metric_result(&m), (1.5 + 1) / 2, 1e-12);
    seqrt_metric_reset(&m, SEQRT_METRIC_MSE);
    seqrt_metric_update(&m, p, y, NULL, 2, 2);
    ck_assert_double_eq_tol(seqrt_metric_result(&m), (2.5 + 2) / 2, 1e-12);
}
END_TEST

START_TEST(empty_and_unresolved)
{
    seqrt_metric m;
    seqrt_metric_reset(&m, SEQRT_METRIC_MSE);
    ck_assert_double_eq(seqrt_metric_result(&m), 0);
    seqrt_real p[] = {1}, y[] = {1};
    seqrt_metric_reset(&m, SEQRT_METRIC_ACCURACY);   /* must be resolved first */
    seqrt_metric_update(&m, p, y, NULL, 1, 1);
    ck_assert(isnan(seqrt_metric_result(&m)));
}
END_TEST

static Suite *make_metrics_suite(void)
{
    Suite *s = suite_create("runtime_metrics");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, resolve_accuracy);
    tcase_add_test(core, categorical_and_sparse);
    tcase_add_test(core, binary_threshold_and_running_mean);
    tcase_add_test(core, mae_mse);
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, empty_and_unresolved);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
