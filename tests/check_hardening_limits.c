/*
 * check_hardening_limits.c: sizes past what the generated code and the
 * runtime can take end in clear errors (docs/limits.md):
 *  - `seqc build` refuses a model whose widths do not fit the int sizes the
 *    BLAS calls take (Flatten of [65536, 65536]; Concatenate of two
 *    [2000000000]), instead of wrapping them silently in the emitted C;
 *    LSTM(600000000), whose 4u gates pass 2^31, has more than 2^60
 *    parameters and is refused for that first;
 *  - a model that builds but whose parameters do not fit in memory
 *    (Dense(100000) on [100000]: 10^10 parameters) stops with
 *    "out of memory for N parameters" before training.
 */
#include "hardening_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define HD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HD_ASAN 1
#endif
#endif
#ifndef HD_ASAN
#define HD_ASAN 0
#endif

static void setup(void) { hd_setup(); }

#define MODEL(name, in, body) \
    "model " name "\ninput x : " in "\ntarget y : [1]\np = x -> " body " -> Dense(1)\n" \
    "train {\n    loss = mse(p, y)\n    optimizer = adam\n}\n"

static void build_rejects_with(const char *name, const char *src, const char *why, const char *what)
{
    char seq[64];
    snprintf(seq, sizeof seq, "%s.seq", name);
    char path[1200];
    snprintf(path, sizeof path, "%s", hd_write(seq, src, strlen(src)));
    char *argv[] = {(char *)SEQC_PATH, "build", path, "-o", (char *)hd_path(name), NULL};
    RunResult r = hd_run_limited(argv, 120, 0);
    ck_assert_msg(r.exited && r.status == 1, "%s: status %d, signal %d: %s", name, r.status, r.signal, r.err);
    ck_assert_msg(strstr(r.err, why), "%s: stderr lacks '%s': %s", name, why, r.err);
    ck_assert_msg(strstr(r.err, what), "%s: stderr lacks '%s': %s", name, what, r.err);
    fe_free(&r);
}

static void build_rejects(const char *name, const char *src, const char *why)
{
    build_rejects_with(name, src, why, "larger than 2147483647");
}

START_TEST(int_sizes_refused_at_build)
{
    build_rejects("flat", MODEL("flat", "[65536, 65536]", "Flatten()"), "layer 'flatten'");
    /* 4u gates past 2^31 means 4u^2 > 2^60 parameters: refused for that first. */
    build_rejects_with("gates", MODEL("gates", "[T, 1]", "LSTM(600000000)"), "layer 'lstm'",
                       "parameters pass 2^60");
    build_rejects("concat", "model concat\ninput a : [2000000000]\ninput b : [2000000000]\n"
                  "target y : [1]\np = Concatenate()(a, b) -> Dense(1)\n"
                  "train {\n    loss = mse(p, y)\n    optimizer = adam\n}\n", "layer 'concatenate'");
}
END_TEST

START_TEST(parameters_beyond_memory)
{
    const char *bin = hd_build("huge", "model huge\ninput x : [100000]\ntarget y : [1]\n"
                                       "p = Dense(100000)(x) -> Dense(1)\n"
                                       "train {\n    loss = mse(p, y)\n    optimizer = adam\n}\n");
    static float x[100000];
    char xp[1200], yp[1200];
    snprintf(xp, sizeof xp, "%s", hd_npy("x.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 100000), }",
                                         x, sizeof x));
    snprintf(yp, sizeof yp, "%s", hd_npy("y.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", x, 4));
    char *argv[] = {(char *)bin, "train", "--x", xp, "--y", yp, "--epochs", "1", "--quiet", NULL};
    /* 4 GB of address space: the 40 GB of weights cannot be had (nor, in an
     * ASan build, do we limit: malloc fails or ASan reports allocation-size-too-big) */
    if (HD_ASAN) return;
    RunResult r = hd_run_limited(argv, 60, UINT64_C(4) << 30);
    ck_assert_msg(r.exited && r.status == 1, "status %d signal %d: %s", r.status, r.signal, r.err);
    ck_assert_msg(strstr(r.err, "out of memory for 10000200001 parameters"), "%s", r.err);
    fe_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hardening_limits");
    TCase *tc = test_tcase("limits");
    tcase_add_unchecked_fixture(tc, setup, hd_teardown);
    tcase_add_test(tc, int_sizes_refused_at_build);
    tcase_add_test(tc, parameters_beyond_memory);
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
