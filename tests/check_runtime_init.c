/*
 * check_runtime_init.c: Keras initialisers over a parameter table
 * (runtime/src/init.c): glorot bounds and moments, orthogonal = Keras's
 * signed QR (orthonormal rows or columns, R with a positive diagonal),
 * unit_forget_bias, determinism and per-parameter streams.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "seqrt_train.h"

static seqrt_param P(const char *name, int64_t r, int64_t c, seqrt_init_kind k)
{
    seqrt_param p = {name, c ? 2 : 1, {r, c}, 0, (size_t)(c ? r * c : r), k, r, c ? c : r};
    return p;
}

/* A model descriptor with only the table filled; offsets laid out in order. */
static seqrt_model model_of(seqrt_param *ps, int n)
{
    seqrt_model m;
    memset(&m, 0, sizeof m);
    size_t off = 0;
    for (int i = 0; i < n; i++) { ps[i].offset = off; off += ps[i].size; }
    m.name = "t";
    m.n_params = n;
    m.params = ps;
    m.param_count = off;
    return m;
}

START_TEST(glorot_bounds_and_moments)
{
    seqrt_param ps[] = {P("d.kernel", 64, 128, SEQRT_INIT_GLOROT_UNIFORM)};
    seqrt_model m = model_of(ps, 1);
    seqrt_real *w = malloc(m.param_count * sizeof *w);
    ck_assert_int_eq(seqrt_init_params(&m, w, 1, NULL), SEQRT_OK);
    double L = sqrt(6.0 / (64 + 128)), s = 0, s2 = 0, n = (double)m.param_count;
    for (size_t i = 0; i < m.param_count; i++) {
        ck_assert(fabs(w[i]) <= L);
        s += w[i];
        s2 += (double)w[i] * w[i];
    }
    ck_assert_double_eq_tol(s / n, 0, 0.01);
    ck_assert_double_eq_tol(s2 / n, L * L / 3, 0.05 * L * L / 3);
    free(w);
}
END_TEST

/* max |op(W) op(W)^T - I| where the Gram is over the shorter side. */
static double ortho_err(const seqrt_real *w, int64_t r, int64_t c)
{
    int64_t k = r < c ? r : c;
    double worst = 0;
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) {
            double s = 0;
            if (r < c) for (int64_t j = 0; j < c; j++) s += (double)w[a * c + j] * w[b * c + j];
            else for (int64_t i = 0; i < r; i++) s += (double)w[i * c + a] * w[i * c + b];
            worst = fmax(worst, fabs(s - (a == b)));
        }
    return worst;
}

START_TEST(orthogonal_is_orthonormal)
{
    int64_t shapes[][2] = {{8, 32}, {32, 8}, {16, 16}, {1, 5}, {5, 1}, {64, 256}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        int64_t r = shapes[t][0], c = shapes[t][1];
        seqrt_param ps[] = {P("rnn.recurrent_kernel", r, c, SEQRT_INIT_ORTHOGONAL)};
        seqrt_model m = model_of(ps, 1);
        seqrt_real *w = malloc(m.param_count * sizeof *w);
        ck_assert_int_eq(seqrt_init_params(&m, w, 3, NULL), SEQRT_OK);
        double e = ortho_err(w, r, c);
        ck_assert_msg(e < 1e-5, "%lldx%lld: |QQ^T - I| = %g", (long long)r, (long long)c, e);
        free(w);
    }
}
END_TEST

START_TEST(orthogonal_3d_uses_prod_of_leading_dims)
{
    seqrt_param p = {"conv.kernel", 3, {3, 4, 5}, 0, 60, SEQRT_INIT_ORTHOGONAL, 12, 15};
    seqrt_model m = model_of(&p, 1);
    seqrt_real w[60];
    ck_assert_int_eq(seqrt_init_params(&m, w, 3, NULL), SEQRT_OK);
    ck_assert(ortho_err(w, 12, 5) < 1e-5);   /* 12 x 5: columns orthonormal */
}
END_TEST

/* Keras multiplies Q by sign(diag R): Q^T A must be upper triangular with a
 * positive diagonal, A being the normal matrix drawn from the same stream. */
START_TEST(orthogonal_sign_convention)
{
    enum { r = 6, c = 4 };
    seqrt_real w[r * c];
    seqrt_rng rng;
    seqrt_rng_seed_stream(&rng, 11, 0);
    ck_assert_int_eq(seqrt_init_orthogonal(w, r, c, &rng), SEQRT_OK);
    double a[r * c];
    seqrt_rng_seed_stream(&rng, 11, 0);
    for (int i = 0; i < r * c; i++) a[i] = seqrt_rng_normal(&rng);
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (int k = 0; k < r; k++) s += (double)w[k * c + i] * a[k * c + j];
            if (i > j) ck_assert_double_eq_tol(s, 0, 1e-5);
            if (i == j) ck_assert(s > 0);
        }
}
END_TEST

/* The unblocked Householder QR in double the runtime used before LAPACK,
 * kept as the reference: same normal matrix (n x k, drawn row by row), Q
 * times sign(diag R), transposed when r < c. a, v: n * k; q: n * k. */
static void reference_orthogonal(double *out, int64_t r, int64_t c, seqrt_rng *rng)
{
    int64_t n = r > c ? r : c, k = r > c ? c : r;
    double *a = malloc((size_t)(n * k) * sizeof *a), *q = malloc((size_t)(n * k) * sizeof *q);
    double *v = malloc((size_t)(n * k) * sizeof *v), *beta = malloc((size_t)k * sizeof *beta);
    double *diag = malloc((size_t)k * sizeof *diag);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++) a[j * n + i] = seqrt_rng_normal(rng);
    for (int64_t j = 0; j < k; j++) {
        double norm = 0, vv = 0;
        for (int64_t i = j; i < n; i++) norm += a[j * n + i] * a[j * n + i];
        norm = sqrt(norm);
        double alpha = a[j * n + j] >= 0 ? -norm : norm;
        for (int64_t i = 0; i < n; i++) {
            v[j * n + i] = i < j ? 0 : a[j * n + i] - (i == j ? alpha : 0);
            vv += v[j * n + i] * v[j * n + i];
        }
        beta[j] = vv > 0 ? 2 / vv : 0;
        diag[j] = alpha;
        for (int64_t col = j; col < k; col++) {
            double s = 0;
            for (int64_t i = j; i < n; i++) s += v[j * n + i] * a[col * n + i];
            for (int64_t i = j; i < n; i++) a[col * n + i] -= s * beta[j] * v[j * n + i];
        }
    }
    for (int64_t i = 0; i < n * k; i++) q[i] = 0;
    for (int64_t i = 0; i < k; i++) q[i * n + i] = 1;
    for (int64_t j = k - 1; j >= 0; j--)
        for (int64_t col = 0; col < k; col++) {
            double s = 0;
            for (int64_t i = j; i < n; i++) s += v[j * n + i] * q[col * n + i];
            for (int64_t i = j; i < n; i++) q[col * n + i] -= s * beta[j] * v[j * n + i];
        }
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++) {
            int64_t row = r >= c ? i : j, col = r >= c ? j : i;
            out[i * c + j] = (diag[col] < 0 ? -1 : 1) * q[col * n + row];
        }
    free(a); free(q); free(v); free(beta); free(diag);
}

/* LAPACK's Q (blocked, in seqrt_real) is the same matrix as the reference's
 * for the same seed: Q is unique once sign(diag R) is fixed, so they differ
 * by rounding only: measured up to 1.3e-7 in float (a QR in float32 against
 * one in double, entries ~0.05) and below 1e-12 in double. */
START_TEST(orthogonal_matches_reference_qr)
{
    int64_t shapes[][2] = {{8, 32}, {32, 8}, {16, 16}, {1, 5}, {5, 1}, {64, 256}, {300, 70}};
    const double tol = sizeof(seqrt_real) == 4 ? 1e-6 : 1e-12;
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        int64_t r = shapes[t][0], c = shapes[t][1];
        seqrt_real *w = malloc((size_t)(r * c) * sizeof *w);
        double *ref = malloc((size_t)(r * c) * sizeof *ref), worst = 0;
        seqrt_rng rng;
        seqrt_rng_seed_stream(&rng, 21, (uint64_t)t);
        ck_assert_int_eq(seqrt_init_orthogonal(w, r, c, &rng), SEQRT_OK);
        seqrt_rng_seed_stream(&rng, 21, (uint64_t)t);
        reference_orthogonal(ref, r, c, &rng);
        for (int64_t i = 0; i < r * c; i++) worst = fmax(worst, fabs((double)w[i] - ref[i]));
        ck_assert_msg(worst < tol, "%lldx%lld: max |LAPACK - reference| = %g", (long long)r,
                      (long long)c, worst);
        free(w);
        free(ref);
    }
}
END_TEST

START_TEST(fixed_patterns)
{
    seqrt_param ps[] = {
        {"lstm.bias", 1, {20}, 0, 20, SEQRT_INIT_UNIT_FORGET_BIAS, 20, 20},
        {"d.bias", 1, {3}, 0, 3, SEQRT_INIT_ZEROS, 3, 3},
        {"bn.gamma", 1, {3}, 0, 3, SEQRT_INIT_ONES, 3, 3},
        P("emb.embeddings", 30, 8, SEQRT_INIT_UNIFORM),
    };
    seqrt_model m = model_of(ps, 4);
    seqrt_real *w = malloc(m.param_count * sizeof *w);
    for (size_t i = 0; i < m.param_count; i++) w[i] = 7;
    ck_assert_int_eq(seqrt_init_params(&m, w, 9, NULL), SEQRT_OK);
    for (int i = 0; i < 20; i++) ck_assert(w[i] == (i >= 5 && i < 10 ? 1 : 0));
    for (int i = 20; i < 23; i++) ck_assert(w[i] == 0);
    for (int i = 23; i < 26; i++) ck_assert(w[i] == 1);
    for (size_t i = 26; i < m.param_count; i++) ck_assert(fabs(w[i]) <= 0.05 && w[i] != 7);
    free(w);
}
END_TEST

START_TEST(deterministic_and_independent_streams)
{
    seqrt_param a[] = {P("a", 10, 10, SEQRT_INIT_GLOROT_UNIFORM), P("b", 10, 10, SEQRT_INIT_ORTHOGONAL)};
    seqrt_param b[] = {P("a", 10, 10, SEQRT_INIT_GLOROT_UNIFORM), P("b", 10, 10, SEQRT_INIT_ORTHOGONAL),
                       P("c", 4, 4, SEQRT_INIT_GLOROT_UNIFORM)};
    seqrt_model ma = model_of(a, 2), mb = model_of(b, 3);
    seqrt_real w1[200], w2[200], w3[216], w4[200];
    seqrt_init_params(&ma, w1, 5, NULL);
    seqrt_init_params(&ma, w2, 5, NULL);
    seqrt_init_params(&mb, w3, 5, NULL);   /* one more param: the first two unchanged */
    seqrt_init_params(&ma, w4, 6, NULL);
    ck_assert_mem_eq(w1, w2, sizeof w1);
    ck_assert_mem_eq(w1, w3, sizeof w1);
    ck_assert(memcmp(w1, w4, sizeof w1) != 0);
}
END_TEST

START_TEST(fans_default_from_shape)
{
    /* fan_in/fan_out left 0: Keras compute_fans from [3, 4, 5] is 12, 15. */
    seqrt_param p = {"conv.kernel", 3, {3, 4, 5}, 0, 60, SEQRT_INIT_GLOROT_UNIFORM, 0, 0};
    seqrt_model m = model_of(&p, 1);
    seqrt_real w[60];
    ck_assert_int_eq(seqrt_init_params(&m, w, 1, NULL), SEQRT_OK);
    double L = sqrt(6.0 / 27), mx = 0;
    for (int i = 0; i < 60; i++) mx = fmax(mx, fabs(w[i]));
    ck_assert(mx <= L && mx > 0.7 * L);
}
END_TEST

START_TEST(bad_tables_are_errors)
{
    seqrt_param p = P("x", 4, 4, SEQRT_INIT_ZEROS);
    p.size = 15;   /* != prod(shape) */
    seqrt_model m = model_of(&p, 1);
    seqrt_real w[16];
    seqrt_error err;
    ck_assert_int_eq(seqrt_init_params(&m, w, 1, &err), SEQRT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "x"));
    seqrt_param q = {"v", 1, {4}, 0, 4, SEQRT_INIT_ORTHOGONAL, 4, 4};
    m = model_of(&q, 1);
    ck_assert_int_eq(seqrt_init_params(&m, w, 1, &err), SEQRT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "orthogonal"));
    seqrt_param o = P("o", 2, 2, SEQRT_INIT_ZEROS);
    m = model_of(&o, 1);
    m.param_count = 3;   /* slice runs past the buffer */
    ck_assert_int_eq(seqrt_init_params(&m, w, 1, &err), SEQRT_EINVAL);
}
END_TEST

static Suite *make_init_suite(void)
{
    Suite *s = suite_create("runtime_init");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, glorot_bounds_and_moments);
    tcase_add_test(core, orthogonal_is_orthonormal);
    tcase_add_test(core, orthogonal_3d_uses_prod_of_leading_dims);
    tcase_add_test(core, orthogonal_sign_convention);
    tcase_add_test(core, orthogonal_matches_reference_qr);
    tcase_add_test(core, fixed_patterns);
    tcase_add_test(core, deterministic_and_independent_streams);
    tcase_add_test(core, fans_default_from_shape);
    suite_add_tcase(s, core);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, bad_tables_are_errors);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_init_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
