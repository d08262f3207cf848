/*
 * check_runtime_blas.c: the BLAS wrappers (runtime/src/blas.c) against
 * naive loops for every transpose combination, and the inline activation
 * helpers in seqrt_kernel.h; seqrt's own small-GEMM kernel likewise. Built for both seqrt and seqrt_f64.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "seqrt.h"
#include "seqrt_kernel.h"
#include "seqrt_team.h"

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
                    test_assert_each(fabs(C[i * N + j] - (2 * s + 0.5)) < TOL * 100,
                                     "[%d,%d]: %g, want %g", i, j, (double)C[i * N + j], 2 * s + 0.5);
                }
        }
}
END_TEST

/* seqrt_gemm_small against a double-precision loop: every transpose, sizes
 * around each kernel's block edges (rows 1..9 cover MR 8, 6, 4 and their
 * remainders; columns 1..70 cover whole and partial 2-vector blocks), K
 * across the 256-deep chunking, leading dimensions wider than the matrix,
 * beta 0 over a C full of NaN (C must not be read), alpha and beta != 1. */
static void check_small_ldc(int ta, int tb, int M, int N, int K, seqrt_real alpha, seqrt_real beta,
                            int ldc)
{
    const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1;
    seqrt_real *A = malloc(sizeof *A * (size_t)(ta ? K : M) * lda);
    seqrt_real *B = malloc(sizeof *B * (size_t)(tb ? N : K) * ldb);
    seqrt_real *C = malloc(sizeof *C * (size_t)M * ldc), *C0 = malloc(sizeof *C0 * (size_t)M * ldc);
    ck_assert(A && B && C && C0);
    for (int i = 0; i < (ta ? K : M) * lda; i++) A[i] = (seqrt_real)((i * 37 % 17) - 8) / 8;
    for (int i = 0; i < (tb ? N : K) * ldb; i++) B[i] = (seqrt_real)((i * 53 % 13) - 6) / 6;
    for (int i = 0; i < M * ldc; i++) C0[i] = C[i] = beta == 0 && i % ldc < N ? NAN : (seqrt_real)(i % 7) - 3;
    seqrt_gemm_small(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            if (j >= N) { /* padding untouched */
                test_assert_each(C[i * ldc + j] == C0[i * ldc + j], "padding [%d,%d] written", i, j);
                continue;
            }
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            double want = alpha * s + (beta == 0 ? 0 : beta * (double)C0[i * ldc + j]);
            test_assert_each(fabs(C[i * ldc + j] - want) <= TOL * (1 + fabs(want)) * (K + 1),
                             "ta=%d tb=%d M=%d N=%d K=%d at [%d,%d]: %g, want %g", ta, tb, M, N, K, i, j,
                             (double)C[i * ldc + j], want);
        }
    free(A), free(B), free(C), free(C0);
}

/* Every transpose over rows x cols x depths, alpha and beta varied;
 * ldc_pad < 0: ldc = N (rows of C contiguous), else N + ldc_pad. */
static void check_small_sweep(const int *rows, size_t nr, const int *cols, size_t nc, int ldc_pad)
{
    static const int deps[] = {1, 7, 256, 300};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t m = 0; m < nr; m++)
                for (size_t n = 0; n < nc; n++)
                    for (size_t k = 0; k < sizeof deps / sizeof *deps; k++) {
                        const int v = (int)(m + n + k) % 3;
                        check_small_ldc(ta, tb, rows[m], cols[n], deps[k],
                                        v == 2 ? (seqrt_real)-0.5 : 1,
                                        v == 0 ? 0 : v == 1 ? 1 : (seqrt_real)0.25,
                                        cols[n] + (ldc_pad < 0 ? 0 : ldc_pad));
                    }
}

START_TEST(gemm_small_matches_loops)
{
    static const int rows[] = {1, 3, 5, 6, 7, 8, 9, 32};
    static const int cols[] = {1, 8, 15, 16, 17, 32, 33, 70};
    check_small_sweep(rows, sizeof rows / sizeof *rows, cols, sizeof cols / sizeof *cols, 2);
}
END_TEST

/* A^T B's last 1-4 columns (a weight gradient's: Dense(65)'s 65th) take
 * the column path, in blocks of 64 rows: rows around the blocks, 1 to 4
 * columns past a whole panel in every kernel set (NR 8, 16 and 32). */
START_TEST(gemm_small_ta_last_columns)
{
    static const int rows[] = {3, 64, 70};
    static const int cols[] = {33, 36, 65};
    static const int deps[] = {1, 300};
    for (size_t m = 0; m < sizeof rows / sizeof *rows; m++)
        for (size_t n = 0; n < sizeof cols / sizeof *cols; n++)
            for (size_t k = 0; k < sizeof deps / sizeof *deps; k++)
                check_small_ldc(1, 0, rows[m], cols[n], deps[k], (seqrt_real)-0.5,
                                (m + n + k) % 2 ? 0 : (seqrt_real)0.25, cols[n] + 1);
}
END_TEST

/* The narrow tiles (gemm_narrow.h), any ldc: with AVX-512, width 20 takes
 * the packed 4-column tails for blocks of 16 and 4 rows and the 8x32 kernel
 * for the last 1-3 rows; with AVX2, widths 12 and 20 take the paired
 * 4-column tails for blocks of 4 and 2 rows and the 6x16 kernel for an odd
 * last row. The other widths never do. Rows around the groups and blocks. */
START_TEST(gemm_small_narrow_rows)
{
    static const int rows[] = {1, 2, 3, 4, 7, 8, 11, 12, 13, 16, 17, 40};
    static const int cols[] = {10, 12, 19, 20, 21, 24};
    check_small_sweep(rows, sizeof rows / sizeof *rows, cols, sizeof cols / sizeof *cols, -1);
    /* the tails with rows of C apart: around their blocks */
    static const int prows[] = {1, 2, 3, 5, 6, 13, 16, 21};
    static const int pcols[] = {12, 20};
    check_small_sweep(prows, sizeof prows / sizeof *prows, pcols, sizeof pcols / sizeof *pcols, 3);
}
END_TEST

/* A^T B with a long K (a weight gradient) is shared out on the thread team
 * by 32-column blocks: correct for teams of 2 and 3 (column counts that
 * leave partial blocks and partial panels), and bit for bit the result of
 * a team of 1. */
START_TEST(gemm_small_ta_on_team)
{
    static const int cols[] = {33, 70, 100};
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
        const int M = 13, N = cols[c], K = 2500, /* M N K >= 2^20: on the team */ lda = M + 1, ldb = N + 3, ldc = N;
        seqrt_real *A = malloc(sizeof *A * (size_t)K * lda), *B = malloc(sizeof *B * (size_t)K * ldb);
        seqrt_real *C1 = malloc(sizeof *C1 * (size_t)M * ldc), *Cn = malloc(sizeof *Cn * (size_t)M * ldc);
        ck_assert(A && B && C1 && Cn);
        for (int i = 0; i < K * lda; i++) A[i] = (seqrt_real)((i * 37 % 17) - 8) / 8;
        for (int i = 0; i < K * ldb; i++) B[i] = (seqrt_real)((i * 53 % 13) - 6) / 6;
        for (int n = 1; n <= 3; n++) {
            seqrt_team_set_threads(n);
            seqrt_real *C = n == 1 ? C1 : Cn;
            for (int i = 0; i < M * ldc; i++) C[i] = (seqrt_real)(i % 5);
            seqrt_gemm_small(1, 0, M, N, K, (seqrt_real)0.5, A, lda, B, ldb, 1, C, ldc);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) s += (double)A[k * lda + i] * B[k * ldb + j];
                    const double want = 0.5 * s + (i * ldc + j) % 5;
                    test_assert_each(fabs(C[i * ldc + j] - want) <= TOL * (1 + fabs(want)) * (K + 1),
                                     "team %d N=%d [%d,%d]: %g, want %g", n, N, i, j, (double)C[i * ldc + j], want);
                }
            if (n > 1)
                ck_assert_msg(memcmp(C1, Cn, sizeof *C1 * (size_t)M * ldc) == 0,
                              "N=%d: a team of %d differs from a team of 1", N, n);
        }
        seqrt_team_set_threads(0);
        free(A), free(B), free(C1), free(Cn);
    }
}
END_TEST

/* K = 0: C = beta C, as BLAS does. */
START_TEST(gemm_small_empty_k)
{
    seqrt_real C[4] = {1, 2, 3, 4}, A[1] = {0}, B[1] = {0};
    seqrt_gemm_small(0, 0, 2, 2, 0, 1, A, 1, B, 2, 2, C, 2);
    ck_assert_double_eq(C[3], 8);
    seqrt_gemm_small(0, 0, 2, 2, 0, 1, A, 1, B, 2, 0, C, 2);
    ck_assert_double_eq(C[3], 0);
}
END_TEST

/* seqrt_conv1d_taps against the definition, y += sum_q x[t + q*dil - left] w[q]
 * over the sources inside the sequence: taps fused in one tile (W5's
 * sizes), edges, a sequence shorter than the span, the per-tap fallback
 * (taps * Cin > 256) and Cout below one vector. */
START_TEST(conv1d_taps_matches_loops)
{
    static const int cases[][7] = {/* B, Tin, taps, dil, left, Cin, Cout */
        {3, 40, 2, 4, 4, 20, 20}, {2, 33, 3, 2, 4, 5, 17}, {2, 9, 2, 8, 8, 4, 8},
        {1, 30, 5, 1, 2, 60, 9}, {2, 25, 1, 1, 0, 7, 3}, {2, 20, 3, 3, 0, 6, 10},
        {2, 30, 2, 1, 1, 9, 28}, {2, 19, 3, 2, 4, 11, 14}, {2, 21, 2, 2, 2, 5, 12}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int B = cases[c][0], Tin = cases[c][1], K = cases[c][2], d = cases[c][3];
        const int left = cases[c][4], Ci = cases[c][5], Co = cases[c][6];
        const int Tout = left ? Tin : Tin - d * (K - 1); /* causal, or valid */
        seqrt_real *x = malloc(sizeof *x * (size_t)B * Tin * Ci), *w = malloc(sizeof *w * (size_t)K * Ci * Co);
        seqrt_real *y = malloc(sizeof *y * (size_t)B * Tout * Co);
        ck_assert(x && w && y);
        for (int i = 0; i < B * Tin * Ci; i++) x[i] = (seqrt_real)((i * 37 % 17) - 8) / 8;
        for (int i = 0; i < K * Ci * Co; i++) w[i] = (seqrt_real)((i * 53 % 13) - 6) / 6;
        for (int i = 0; i < B * Tout * Co; i++) y[i] = (seqrt_real)(i % 5);
        seqrt_conv1d_taps(B, Tin, Tout, K, d, left, Ci, Co, x, w, y);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < Tout; t++)
                for (int f = 0; f < Co; f++) {
                    double want = (double)(((b * Tout + t) * Co + f) % 5);
                    for (int q = 0; q < K; q++) {
                        const int src = t + q * d - left;
                        for (int i = 0; src >= 0 && src < Tin && i < Ci; i++)
                            want += (double)x[(b * Tin + src) * Ci + i] * w[(q * Ci + i) * Co + f];
                    }
                    const double got = y[(b * Tout + t) * Co + f];
                    test_assert_each(fabs(got - want) <= TOL * (1 + fabs(want)) * (K * Ci + 1),
                                     "case %zu [%d,%d,%d]: %g, want %g", c, b, t, f, got, want);
                }
        free(x), free(w), free(y);
    }
}
END_TEST

/* With OpenBLAS on one thread (as the training program runs it), a large
 * product is shared out on the team: by column blocks (NN, TN) or, when C is
 * narrow, by rows (NT); teams of 2 and 3 agree with a team of 1 to rounding.
 * Conv1D's samples on the team are the same bits for any team size. */
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);
START_TEST(gemm_and_conv_on_team)
{
    static const int shapes[][5] = {/* ta, tb, M, N, K: M N K >= 2^18, not small */
        {0, 0, 150, 300, 64}, {1, 0, 250, 200, 40}, {0, 1, 700, 20, 33}};
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        const int ta = shapes[c][0], tb = shapes[c][1], M = shapes[c][2], N = shapes[c][3],
                  K = shapes[c][4];
        const int lda = ta ? M : K, ldb = tb ? K : N;
        ck_assert_msg(!seqrt_gemm_is_small(ta, tb, M, N, K), "shape %zu is not for the team", c);
        seqrt_real *A = malloc(sizeof *A * (size_t)M * K), *B = malloc(sizeof *B * (size_t)K * N);
        seqrt_real *C1 = malloc(sizeof *C1 * (size_t)M * N), *Cn = malloc(sizeof *Cn * (size_t)M * N);
        ck_assert(A && B && C1 && Cn);
        for (int i = 0; i < M * K; i++) A[i] = (seqrt_real)((i * 37 % 17) - 8) / 8;
        for (int i = 0; i < K * N; i++) B[i] = (seqrt_real)((i * 53 % 13) - 6) / 6;
        for (int n = 1; n <= 3; n++) {
            seqrt_team_set_threads(n);
            seqrt_real *C = n == 1 ? C1 : Cn;
            for (int i = 0; i < M * N; i++) C[i] = (seqrt_real)(i % 5);
            seqrt_gemm(ta, tb, M, N, K, (seqrt_real)0.5, A, lda, B, ldb, 1, C, N);
            for (int i = 0; n > 1 && i < M * N; i++)
                test_assert_each(fabs(Cn[i] - C1[i]) <= TOL * (K + 1) * (1 + fabs(C1[i])),
                                 "shape %zu, team %d, element %d: %g, team of 1: %g", c, n, i,
                                 (double)Cn[i], (double)C1[i]);
        }
        for (int i = 0; i < M; i++) /* and the team of 1 is right */
            for (int j = 0; j < N; j++) {
                double want = (i * N + j) % 5;
                for (int k = 0; k < K; k++)
                    want += 0.5 * (double)A[ta ? k * lda + i : i * lda + k] * B[tb ? j * ldb + k : k * ldb + j];
                test_assert_each(fabs(C1[i * N + j] - want) <= TOL * (K + 1) * (1 + fabs(want)),
                                 "shape %zu [%d,%d]: %g, want %g", c, i, j, (double)C1[i * N + j], want);
            }
        free(A), free(B), free(C1), free(Cn);
    }
    enum { CB = 8, CT = 256, CK = 2, CD = 4, CI = 20, CO = 20 }; /* W5's layer: on the team */
    seqrt_real *x = malloc(sizeof *x * CB * CT * CI), *w = malloc(sizeof *w * CK * CI * CO);
    seqrt_real *y1 = calloc((size_t)CB * CT * CO, sizeof *y1), *yn = malloc(sizeof *yn * CB * CT * CO);
    ck_assert(x && w && y1 && yn);
    for (int i = 0; i < CB * CT * CI; i++) x[i] = (seqrt_real)((i * 37 % 17) - 8) / 8;
    for (int i = 0; i < CK * CI * CO; i++) w[i] = (seqrt_real)((i * 53 % 13) - 6) / 6;
    seqrt_team_set_threads(1);
    seqrt_conv1d_taps(CB, CT, CT, CK, CD, CD, CI, CO, x, w, y1);
    for (int n = 2; n <= 3; n++) {
        seqrt_team_set_threads(n);
        memset(yn, 0, sizeof *yn * CB * CT * CO);
        seqrt_conv1d_taps(CB, CT, CT, CK, CD, CD, CI, CO, x, w, yn);
        ck_assert_msg(memcmp(y1, yn, sizeof *yn * CB * CT * CO) == 0,
                      "Conv1D on a team of %d differs from a team of 1", n);
    }
    seqrt_team_set_threads(0);
    openblas_set_num_threads(blas_threads);
    free(x), free(w), free(y1), free(yn);
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
    TCase *core = test_tcase("Core");
    tcase_add_test(core, gemm_all_transposes);
    tcase_add_test(core, gemm_small_matches_loops);
    tcase_add_test(core, gemm_small_empty_k);
    tcase_add_test(core, gemm_small_narrow_rows);
    tcase_add_test(core, gemm_small_ta_last_columns);
    tcase_add_test(core, gemm_small_ta_on_team);
    tcase_add_test(core, conv1d_taps_matches_loops);
    tcase_add_test(core, gemm_and_conv_on_team);
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
