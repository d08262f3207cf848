/*
 * check_hardening_numerics.c: numerical safety end to end (issue 7,
 * item 5), through models built with seqc and their binaries' commands.
 *
 *  - softmax and the cross-entropies with logits of +-1e4: Dense with huge
 *    weights -> softmax (or linear, sigmoid) -> categorical / sparse /
 *    binary cross-entropy; `grad` must give a finite loss and finite
 *    gradients, `predict` finite probabilities that sum to 1. On the
 *    from_logits path the loss and gradient are exact.
 *  - gradient explosion in a SimpleRNN(relu) over T = 1000 steps: without
 *    clipping the run stops with the NaN/Inf message, and the file holds the
 *    last good epoch (it loads, predicts finite values); with clipnorm in the
 *    .seq optimizer the same run stays finite.
 */
#include <math.h>

#include "hardening_util.h"
#include "seqrt.h"

enum { LIMIT = 120 };

static void setup(void) { hd_setup(); }

/* Weights for `dense.kernel` [4, C] and `dense.bias` [C] (no checksum:
 * loaded unchecked, like converted Keras weights). */
static const char *dense_weights(const char *name, const float *k, int C)
{
    char json[512];
    int kb = 4 * C * 4;
    snprintf(json, sizeof json,
             "{\"dense.kernel\":{\"dtype\":\"F32\",\"shape\":[4,%d],\"data_offsets\":[0,%d]},"
             "\"dense.bias\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%d,%d]}}",
             C, kb, C, kb, kb + 4 * C);
    float data[4 * 8 + 8] = {0};
    memcpy(data, k, (size_t)kb);
    return hd_st(name, json, data, (size_t)(kb + 4 * C));
}

static seqrt_st_file grads_of(const char *bin, const char *w, const char *x, const char *y)
{
    const char *g = hd_path("g.safetensors");
    char *argv[] = {(char *)bin, "grad", "--weights", (char *)w, "--x", (char *)x, "--y", (char *)y,
                    "--out", (char *)g, NULL};
    RunResult r = hd_run_limited(argv, LIMIT, 0);
    ck_assert_msg(r.exited && r.status == 0, "%s grad: %s", bin, r.err);
    fe_free(&r);
    seqrt_st_file f;
    seqrt_error err;
    ck_assert_msg(seqrt_st_load(&f, g, &err) == 0, "%s", err.msg);
    for (int i = 0; i < f.n; i++)
        for (int64_t k = 0; k < f.entries[i].count; k++)
            ck_assert_msg(isfinite(f.entries[i].data[k]), "%s: %s[%lld] = %g", bin, f.entries[i].name,
                          (long long)k, (double)f.entries[i].data[k]);
    return f;
}

static void predict_finite(const char *bin, const char *w, const char *x, int rows_sum_to_one)
{
    const char *out = hd_path("pred.npy");
    char *argv[] = {(char *)bin, "predict", "--weights", (char *)w, "--x", (char *)x, "--out",
                    (char *)out, NULL};
    RunResult r = hd_run_limited(argv, LIMIT, 0);
    ck_assert_msg(r.exited && r.status == 0, "%s predict: %s", bin, r.err);
    fe_free(&r);
    seqrt_array a;
    seqrt_error err;
    ck_assert_msg(seqrt_npy_read(&a, out, 0, &err) == 0, "%s", err.msg);
    const seqrt_real *p = a.data;
    int64_t C = a.shape[a.ndim - 1];
    for (int64_t i = 0; i < a.count; i++) ck_assert_msg(isfinite(p[i]), "prediction %lld: %g", (long long)i, (double)p[i]);
    if (rows_sum_to_one)
        for (int64_t i = 0; i < a.count / C; i++) {
            double s = 0;
            for (int64_t k = 0; k < C; k++) s += p[i * C + k];
            ck_assert_double_eq_tol(s, 1.0, 1e-5);
        }
    seqrt_array_free(&a);
}

#define MODEL(name, act, loss, target)                                       \
    "model " name "\ninput x : [4]\ntarget y : " target "\n"                 \
    "p = Dense(5, activation=" act ")(x)\n"                                  \
    "train {\n    loss = " loss "\n    optimizer = adam\n}\n"

/* Logits of +-1e4 for x = +-1: columns 2500, -2500, 0, 1250, -1250. */
START_TEST(cross_entropies_with_logits_of_1e4)
{
    const char *sm = hd_build("sm", MODEL("sm", "softmax", "categorical_crossentropy(p, y)", "[5]"));
    const char *lg = hd_build("lg", MODEL("lg", "linear",
                                          "categorical_crossentropy(p, y, from_logits=true)", "[5]"));
    const char *sp = hd_build("sp", MODEL("sp", "softmax", "sparse_categorical_crossentropy(p, y)",
                                          "int[1]"));
    const char *bc = hd_build("bc", MODEL("bc", "sigmoid", "binary_crossentropy(p, y)", "[5]"));
    float k[20];
    const float col[5] = {2500, -2500, 0, 1250, -1250};
    for (int i = 0; i < 4; i++) memcpy(k + 5 * i, col, sizeof col);
    const char *w = dense_weights("huge.safetensors", k, 5);
    /* sample 0: logits +1e4 .. -1e4, the label is the -1e4 class; sample 1
     * the reverse (label = the max); sample 2: all logits 0 */
    const float x[12] = {1, 1, 1, 1, -1, -1, -1, -1, 1, 1, -1, -1};
    const float y[15] = {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    const int32_t ys[3] = {1, 1, 4};
    const char *xp = hd_npy("x.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", x, sizeof x);
    const char *yp = hd_npy("y.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }", y, sizeof y);
    char ysp[1200];
    snprintf(ysp, sizeof ysp, "%s",
             hd_npy("ys.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 1), }", ys, sizeof ys));

    /* from_logits: exact. L = (2e4 + 0 + log 5) / 3, dbias = (p - y) / 3 */
    seqrt_st_file f = grads_of(lg, w, xp, yp);
    ck_assert_double_eq_tol(seqrt_st_find(&f, "loss")->data[0], (2e4 + log(5.0)) / 3, 1e-2);
    const seqrt_real *db = seqrt_st_find(&f, "dense.bias")->data;
    const double want[5] = {(1 + 0.2) / 3, (-1 + 0.2) / 3, 0.2 / 3, 0.2 / 3, (0.2 - 1) / 3};
    for (int c = 0; c < 5; c++) ck_assert_double_eq_tol(db[c], want[c], 1e-6);
    seqrt_st_free(&f);

    /* softmax -> CCE (Keras's from_softmax path) and sparse CCE: finite, and
     * the gradient is the logits path's p - y even where the label's
     * probability underflowed (the softmax floors it at 1e-30; only the loss
     * value is capped there: -log 1e-30 = 69.1, not 2e4). */
    f = grads_of(sm, w, xp, yp);
    ck_assert(seqrt_st_find(&f, "loss")->data[0] > 20);
    db = seqrt_st_find(&f, "dense.bias")->data;
    for (int c = 0; c < 5; c++) ck_assert_double_eq_tol(db[c], want[c], 1e-6);
    seqrt_st_free(&f);
    f = grads_of(sp, w, xp, ysp);
    ck_assert(seqrt_st_find(&f, "loss")->data[0] > 20);
    seqrt_st_free(&f);
    f = grads_of(bc, w, xp, yp);
    seqrt_st_free(&f);

    predict_finite(sm, w, xp, 1);
    predict_finite(lg, w, xp, 0);
    predict_finite(bc, w, xp, 0);
}
END_TEST

#define RNN(name, opt)                                                        \
    "model " name "\ninput x : [1000, 1]\ntarget y : [1]\n"                   \
    "p = x -> SimpleRNN(8, activation=relu) -> Dense(1)\n"                    \
    "train {\n    loss = mse(p, y)\n    optimizer = " opt "\n    batch_size = 4\n}\n"

static RunResult train(const char *bin, const char *x, const char *y, const char *w, const char *lr)
{
    char *argv[] = {(char *)bin, "train", "--x", (char *)x, "--y", (char *)y, "--epochs", "40",
                    "--lr", (char *)lr, "--save", (char *)w, "--quiet", NULL};
    return hd_run_limited(argv, LIMIT, 0);
}

START_TEST(rnn_gradient_explosion_t1000)
{
    const char *ex = hd_build("ex", RNN("ex", "sgd(learning_rate=0.01)"));
    const char *exc = hd_build("exc", RNN("exc", "sgd(learning_rate=0.01, clipnorm=1.0)"));
    /* 8 sequences of 1000 steps in [0, 1), targets ~100: SGD pushes the
     * recurrent weights up until relu's h_t grows like r^t and overflows. */
    static float x[8 * 1000];
    float y[8];
    uint32_t s = 12345;
    for (int i = 0; i < 8000; i++) { s = s * 1664525u + 1013904223u; x[i] = (float)(s >> 8) / 16777216.0f; }
    for (int i = 0; i < 8; i++) y[i] = 100.0f + (float)i / 8;
    const char *xp = hd_npy("rx.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1000, 1), }",
                            x, sizeof x);
    char yp[1200];
    snprintf(yp, sizeof yp, "%s",
             hd_npy("ry.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1), }", y, sizeof y));

    /* No clipping: a clear stop, the last good epoch kept and usable. */
    char w[1200];
    snprintf(w, sizeof w, "%s", hd_path("ex.safetensors"));
    RunResult r = train(ex, xp, yp, w, "0.0001");
    ck_assert_msg(r.exited && r.status == 1, "unclipped run: status %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "is inf") || strstr(r.err, "is nan"), "%s", r.err);
    const char *kept = strstr(r.err, "weights of the last good epoch kept in");
    ck_assert_msg(kept, "no good epoch before the explosion: %s", r.err);
    long long epoch = -1;
    const char *e = strstr(kept, "(epoch ");
    ck_assert_ptr_nonnull(e);
    epoch = atoll(e + 7);
    ck_assert_int_ge(epoch, 1);
    fe_free(&r);
    seqrt_st_file f;
    seqrt_error err;
    ck_assert_msg(seqrt_st_load(&f, w, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(atoll(seqrt_st_meta(&f, "epoch")), epoch);
    for (int i = 0; i < f.n; i++)
        for (int64_t k = 0; k < f.entries[i].count; k++) ck_assert(isfinite(f.entries[i].data[k]));
    seqrt_st_free(&f);
    predict_finite(ex, w, xp, 0);

    /* clipnorm: the same run, and ten times the rate, stay finite. */
    const char *rates[] = {"0.0001", "0.001"};
    for (int i = 0; i < 2; i++) {
        snprintf(w, sizeof w, "%s", hd_path("exc.safetensors"));
        r = train(exc, xp, yp, w, rates[i]);
        ck_assert_msg(r.exited && r.status == 0, "clipped run at lr %s: %s", rates[i], r.err);
        fe_free(&r);
        predict_finite(exc, w, xp, 0);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hardening_numerics");
    TCase *tc = test_tcase("numerics");
    tcase_add_unchecked_fixture(tc, setup, hd_teardown);
    tcase_add_test(tc, cross_entropies_with_logits_of_1e4);
    tcase_add_test(tc, rnn_gradient_explosion_t1000);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
