/*
 * check_runtime_blas.c: the BLAS wrappers (runtime/src/blas.c) against
 * naive loops for every transpose combination, and the inline activation
 * helpers in seqrt.h. Built for both seqrt and seqrt_f64.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "seqrt.h"

#ifdef SEQRT_DOUBLE
#define TOL 1e-12
#else
#define TOL 1e-4
#endif

START_TEST(gemm_all_transposes)
{
    enum { M = 3, N = 4, K = 5 };
    seqrt_real A[M * K], B[K * N], At[K * M], Bt[N * K];
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) At[k * M + i] = A[i * K + k] = (seqrt_real)(i - 2 * k + 0.5);
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) Bt[j * K + k] = B[k * N + j] = (seqrt_real)(0.25 * k * j - 1);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            seqrt_real C[M * N];
            for (int i = 0; i < M * N; i++) C[i] = 1;
            seqrt_gemm(ta, tb, M, N, K, 2, ta ? At : A, ta ? M : K, tb ? Bt : B, tb ? K : N, 0.5, C, N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) s += (double)A[i * K + k] * B[k * N + j];
                    ck_assert_double_eq_tol(C[i * N + j], 2 * s + 0.5, TOL * 100);
                }
        }
}
END_TEST

START_TEST(gemv_axpy)
{
    seqrt_real A[] = {1, 2, 3, 4, 5, 6}, x[] = {1, 1, 1}, y[] = {0, 0}, xt[] = {1, 2}, yt[3] = {0};
    seqrt_gemv(0, 2, 3, 1, A, 3, x, 0, y);
    ck_assert_double_eq_tol(y[0], 6, TOL);
    ck_assert_double_eq_tol(y[1], 15, TOL);
    seqrt_gemv(1, 2, 3, 1, A, 3, xt, 0, yt);
    ck_assert_double_eq_tol(yt[2], 15, TOL);
    seqrt_axpy(2, 2, y, xt);
    ck_assert_double_eq_tol(xt[1], 32, TOL);
}
END_TEST

START_TEST(activations)
{
    ck_assert_double_eq_tol(seqrt_sigmoid(0), 0.5, TOL);
    ck_assert_double_eq_tol(seqrt_sigmoid(2), 1 / (1 + exp(-2.0)), TOL);
    ck_assert_double_eq_tol(seqrt_sigmoid(-2), 1 / (1 + exp(2.0)), TOL);
    ck_assert(seqrt_sigmoid(-1000) >= 0 && seqrt_sigmoid(1000) == 1);
    ck_assert_double_eq(seqrt_hard_sigmoid(-3), 0);
    ck_assert_double_eq(seqrt_hard_sigmoid(3), 1);
    ck_assert_double_eq_tol(seqrt_hard_sigmoid(1), 0.7, TOL);
    seqrt_real z[] = {1000, 1001, 999}, p[3];
    seqrt_softmax(p, z, 3);
    double e = exp(1.0), s = 1 + e + 1 / e;
    ck_assert_double_eq_tol(p[1], e / s, TOL);
    ck_assert_double_eq_tol(p[0] + p[1] + p[2], 1, TOL);
    /* backward vs the explicit Jacobian diag(p) - p p^T */
    seqrt_real dp[] = {0.3f, -1, 2}, dz[3] = {0};
    seqrt_softmax_backward(dz, p, dp, 3);
    for (int i = 0; i < 3; i++) {
        double want = 0;
        for (int j = 0; j < 3; j++) want += ((i == j) * p[i] - (double)p[i] * p[j]) * dp[j];
        ck_assert_double_eq_tol(dz[i], want, TOL);
    }
}
END_TEST

static Suite *make_blas_suite(void)
{
    Suite *s = suite_create("runtime_blas");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, gemm_all_transposes);
    tcase_add_test(core, gemv_axpy);
    tcase_add_test(core, activations);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_blas_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
