/*
 * check_hardening_values.c: every number from a file is untrusted (issue
 * 16). Well-formed files whose *values* lie: checkpoint metadata out of
 * range or edited behind the checksum, weights of another model, CSV
 * values that overflow the statistics or are hexadecimal, headers that
 * would drive the terminal, a million metadata keys; and the NaN-safe
 * exponential. Each case must end with a clear refusal (exit status 1, the
 * file and key named), never a signal, a hang or a wrong answer.
 */
#include <math.h>

#include "check_util.h"
#include "hardening_util.h"
#include "seqrt_kernel.h"
#include "seqrt_train.h"

enum { LIMIT = 120 };

static const char *goodbye, *forecaster, *seq2seq;   /* seq2seq: another model */
static char xpath[1200], ypath[1200], wpath[1200], ckpath[1200];

#define DICT(descr, shape) "{'descr': '" descr "', 'fortran_order': False, 'shape': " shape ", }"

static const char *FORECAST_SEQ =
    "model fc\n"
    "input  x : [T, 1]\n"
    "target y : [1]\n"
    "y_hat = x -> SimpleRNN(3) -> Dense(1)\n"
    "train {\n"
    "    loss = mse(y_hat, y)\n"
    "    optimizer = adam(learning_rate=0.01)\n"
    "    batch_size = 4\n"
    "    epochs = 1\n"
    "}\n";

static RunResult run(char **argv)
{
    return hd_run_limited(argv, LIMIT, 0);
}

static void expect_ok(RunResult *r, const char *what)
{
    ck_assert_msg(r->exited && r->status == 0, "%s failed (signal %d, status %d): %.2000s", what,
                  r->signal, r->status, r->err);
}

static void setup(void)
{
    hd_setup();
    size_t len;
    char *src = fe_read_file(SEQ_SOURCE_DIR "/examples/goodbye.seq", &len);
    ck_assert_ptr_nonnull(src);
    goodbye = hd_build("goodbye", src);
    free(src);
    forecaster = hd_build("fc", FORECAST_SEQ);
    float d[8 * 21];
    for (int i = 0; i < 8 * 21; i++) d[i] = (float)(i % 7 == i / 21 % 7);
    snprintf(xpath, sizeof xpath, "%s", hd_npy("x.npy", DICT("<f4", "(8, 3, 7)"), d, sizeof d));
    snprintf(ypath, sizeof ypath, "%s", hd_npy("y.npy", DICT("<f4", "(8, 3, 7)"), d, sizeof d));
    snprintf(wpath, sizeof wpath, "%s", hd_path("w.safetensors"));
    snprintf(ckpath, sizeof ckpath, "%s", hd_path("c.safetensors"));
    char *argv[] = {(char *)goodbye, "train", "--x", xpath, "--y", ypath, "--epochs", "2",
                    "--batch-size", "4", "--save", wpath, "--checkpoint", ckpath,
                    "--checkpoint-every", "1", "--quiet", NULL};
    RunResult r = run(argv);
    expect_ok(&r, "training goodbye");
    fe_free(&r);
}

/* A copy of `from` with metadata `key` set to `value` (NULL: removed);
 * keep_meta_sum = 0 also drops checksum.meta, as a file written before
 * the metadata had a checksum. */
static const char *edit_meta(const char *from, const char *name, const char *key, const char *value,
                             int keep_meta_sum)
{
    seqrt_st_file f;
    seqrt_error err = {0};
    ck_assert_msg(seqrt_st_load(&f, from, &err) == 0, "%s", err.msg);
    const char **meta = calloc(2 * (size_t)f.n_meta + 4, sizeof *meta);
    int n = 0, found = 0;
    for (int i = 0; i < f.n_meta; i++) {
        const char *k = f.meta[2 * i], *v = f.meta[2 * i + 1];
        if (!keep_meta_sum && strcmp(k, "checksum.meta") == 0) continue;
        if (strcmp(k, key) == 0) {
            found = 1;
            if (!value) continue;
            v = value;
        }
        meta[2 * n] = k;
        meta[2 * n++ + 1] = v;
    }
    if (!found && value) {
        meta[2 * n] = key;
        meta[2 * n++ + 1] = value;
    }
    seqrt_st_tensor *t = calloc((size_t)f.n + 1, sizeof *t);
    for (int i = 0; i < f.n; i++)
        t[i] = (seqrt_st_tensor){f.entries[i].name, f.entries[i].data, f.entries[i].ndim, f.entries[i].shape};
    const char *p = hd_path(name);
    ck_assert_msg(seqrt_st_save(p, t, f.n, meta, n, &err) == 0, "%s", err.msg);
    free(t);
    free(meta);
    seqrt_st_free(&f);
    return p;
}

static RunResult resume(const char *ck)
{
    char *argv[] = {(char *)goodbye, "train", "--x", xpath, "--y", ypath, "--resume", (char *)ck,
                    "--quiet", NULL};
    return run(argv);
}

/* Finding 1: train.step=-1000 behind the checksum is refused as edited. */
START_TEST(edited_step_is_refused_by_the_checksum)
{
    RunResult r = resume(edit_meta(ckpath, "e1.safetensors", "train.step", "-1000", 1));
    hd_expect_error(&r, "e1.safetensors", "metadata checksum mismatch");
    fe_free(&r);
}
END_TEST

/* Findings 1, 2 and 4: without a metadata checksum (an older file), every
 * counter is range-checked: no segfault, no endless loop, no wrap. */
START_TEST(metadata_values_are_range_checked)
{
    static const struct { const char *key, *value, *why; } cases[] = {
        {"train.step", "-1000", "'train.step'"},
        {"train.step", "9223372036854775807", "'train.step'"},
        {"train.epoch", "9223372036854775807", "'train.epoch'"},
        {"epoch", "-3", "'epoch'"},
        {"epoch", "9223372036854775807", "'epoch'"},
        {"train.epochs_total", "-1", "'train.epochs_total'"},
        {"train.epochs_total", "9223372036854775807", "'train.epochs_total'"},
        {"train.validation_samples", "-5", "'train.validation_samples'"},
        {"train.validation_samples", "1000", "validation samples"},
        {"train.lr0", "-0.5", "train.lr0"},
        {"train.lr0", "nan", "train.lr0"},
        {"train.lr0", "0x10", "hexadecimal"},
        {"train.batch_size", "0", "'train.batch_size'"},
        {"train.plateau", "inf 1e300 0.001", "train.plateau"},
        {"train.early_stopping", "1 -4 0", "train.early_stopping"},
        {"optimizer.iterations", "9223372036854775807", "'optimizer.iterations'"},
        {"train.shuffle", "2", "'train.shuffle'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[64];
        snprintf(name, sizeof name, "m%zu.safetensors", i);
        RunResult r = resume(edit_meta(ckpath, name, cases[i].key, cases[i].value, 0));
        ck_assert_msg(r.exited, "%s=%s: killed by signal %d", cases[i].key, cases[i].value, r.signal);
        hd_expect_error(&r, name, cases[i].why);
        fe_free(&r);
    }
}
END_TEST

/* Finding 4: a weights file of another model is refused by its structure
 * (seq2seq's weights into goodbye); --load-partial takes what matches. */
START_TEST(weights_of_another_model_are_refused)
{
    /* goodbye's inputs and targets, other layers. */
    seq2seq = hd_build("other", "model other\ninput x : [3, 7]\ntarget y : [3, 7]\n"
                                "h = GRU(5, return_sequences=true)(x)\n"
                                "p = Dense(7, activation=softmax)(h)\n"
                                "train {\n loss = categorical_crossentropy(p, y)\n"
                                " optimizer = adam(learning_rate=0.001)\n}\n");
    /* A file that says it was written for other parameters. */
    const char *other = edit_meta(wpath, "other.safetensors", "model.structure",
                                  "fnv1a64:0123456789abcdef", 1);
    char *argv[] = {(char *)goodbye, "train", "--x", xpath, "--y", ypath, "--load", (char *)other,
                    "--epochs", "1", "--quiet", NULL};
    RunResult r = run(argv);
    hd_expect_error(&r, "other.safetensors", "metadata checksum mismatch");
    fe_free(&r);
    other = edit_meta(wpath, "other2.safetensors", "model.structure", "fnv1a64:0123456789abcdef", 0);
    argv[7] = (char *)other;
    r = run(argv);
    hd_expect_error(&r, "other2.safetensors", "--load-partial");
    fe_free(&r);
    argv[6] = "--load-partial";
    r = run(argv);
    expect_ok(&r, "--load-partial");
    fe_free(&r);
    /* A resumable checkpoint of goodbye given to another model. */
    char *argv2[] = {(char *)seq2seq, "train", "--x", xpath, "--y", ypath, "--resume", ckpath,
                     "--quiet", NULL};
    r = run(argv2);
    hd_expect_error(&r, "c.safetensors", "model");
    ck_assert_msg(!strstr(r.err, "leaves -"), "misleading split message: %s", r.err);
    fe_free(&r);
}
END_TEST

/* Finding 4: a series model's weights with data.window 2.5, horizon 1e19,
 * std 0 or inf: refused with the key named. */
START_TEST(series_metadata_is_checked)
{
    char csv[4096];
    size_t n = (size_t)snprintf(csv, sizeof csv, "t,v\n");
    for (int i = 0; i < 60; i++) n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%g\n", i, sin(i * 0.3));
    const char *cp = hd_write("s.csv", csv, n), *w = hd_path("fc.safetensors");
    char *argv[] = {(char *)forecaster, "train", "--csv", (char *)cp, "--column", "v", "--window", "5",
                    "--epochs", "1", "--save", (char *)w, "--quiet", NULL};
    RunResult r = run(argv);
    expect_ok(&r, "training the forecaster");
    fe_free(&r);
    static const struct { const char *key, *value, *why; } cases[] = {
        {"data.window", "2.5", "data.window"},
        {"data.horizon", "1e19", "data.horizon"},
        {"data.std", "0", "data.std"},
        {"data.std", "inf", "data.std"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[64];
        snprintf(name, sizeof name, "s%zu.safetensors", i);
        const char *bad = edit_meta(w, name, cases[i].key, cases[i].value, 0);
        char *fa[] = {(char *)forecaster, "forecast", "--weights", (char *)bad, "--csv", (char *)cp,
                      "--column", "v", "--steps", "3", NULL};
        r = run(fa);
        hd_expect_error(&r, name, cases[i].why);
        fe_free(&r);
    }
}
END_TEST

/* Finding 4: values near 1e308 overflow the standard deviation: refused
 * with the column named, not trained to NaN; 0x1A is not 26. */
START_TEST(csv_values_that_cannot_be_scaled)
{
    char csv[4096];
    size_t n = (size_t)snprintf(csv, sizeof csv, "v\n");
    for (int i = 0; i < 40; i++) n += (size_t)snprintf(csv + n, sizeof csv - n, "%s\n", i % 2 ? "1.5e308" : "-1.6e308");
    const char *cp = hd_write("big.csv", csv, n);
    char *argv[] = {(char *)forecaster, "train", "--csv", (char *)cp, "--column", "v", "--window", "5",
                    "--epochs", "1", "--quiet", NULL};
    RunResult r = run(argv);
    hd_expect_error(&r, "big.csv", "column 'v'");
    ck_assert_msg(strstr(r.err, "not finite"), "%s", r.err);
    fe_free(&r);

    double *v = NULL;
    int64_t count = 0;
    seqrt_error err = {0};
    const char *hex = hd_write("hex.csv", "v\n1\n0x1A\n", 10);
    ck_assert_int_ne(seqrt_csv_column(hex, "v", &v, &count, &err), 0);
    ck_assert_msg(strstr(err.msg, "hex.csv:3"), "%s", err.msg);
    free(v);
}
END_TEST

/* Finding 5: file content in messages is escaped and short. */
START_TEST(csv_messages_quote_escaped_content)
{
    double *v = NULL;
    int64_t count = 0;
    seqrt_error err = {0};
    const char esc[] = "a\x1b[2J\x1b]0;owned\x07,b\n1,2\n";
    const char *p = hd_write("esc.csv", esc, sizeof esc - 1);
    ck_assert_int_ne(seqrt_csv_column(p, "zz", &v, &count, &err), 0);
    ck_assert_msg(!strchr(err.msg, '\x1b') && !strchr(err.msg, '\x07'), "raw escape in: %s", err.msg);
    ck_assert_msg(strstr(err.msg, "\\x1b"), "%s", err.msg);

    const char bad[] = "v\n\x1b[31mred\x1b[0m\n";
    p = hd_write("esc2.csv", bad, sizeof bad - 1);
    ck_assert_int_ne(seqrt_csv_column(p, "v", &v, &count, &err), 0);
    ck_assert_msg(!strchr(err.msg, '\x1b'), "raw escape in: %s", err.msg);

    char cr[4000];
    size_t n = (size_t)snprintf(cr, sizeof cr, "v");
    for (int i = 0; i < 30; i++) n += (size_t)snprintf(cr + n, sizeof cr - n, "\r%d", i);
    p = hd_write("cr.csv", cr, n);
    ck_assert_int_ne(seqrt_csv_column(p, "v", &v, &count, &err), 0);
    ck_assert_msg(!strchr(err.msg, '\r') && !strchr(err.msg, '\n'), "multi-line message: %s", err.msg);
    ck_assert_msg(strstr(err.msg, "CR alone"), "%s", err.msg);

    char wide[8000];
    n = 0;
    for (int i = 0; i < 200; i++) n += (size_t)snprintf(wide + n, sizeof wide - n, "%scolumn%d", i ? "," : "", i);
    n += (size_t)snprintf(wide + n, sizeof wide - n, "\n");
    p = hd_write("wide.csv", wide, n);
    ck_assert_int_ne(seqrt_csv_column(p, "v", &v, &count, &err), 0);
    ck_assert_msg(strlen(err.msg) < 200 + strlen(p), "long message: %s", err.msg);
}
END_TEST

/* Finding 2: a million __metadata__ keys: parsed in n log n (the
 * quadratic check took minutes), the duplicate still found. */
START_TEST(million_metadata_keys)
{
    enum { N = 1000000 };
    size_t cap = (size_t)N * 24 + 64, n = 0;
    char *json = malloc(cap);
    n += (size_t)snprintf(json + n, cap - n, "{\"__metadata__\":{");
    for (int i = 0; i < N; i++) n += (size_t)snprintf(json + n, cap - n, "\"k%d\":\"\",", i);
    n += (size_t)snprintf(json + n, cap - n, "\"k%d\":\"\"}}", N / 2);
    const char *p = hd_st("keys.safetensors", json, NULL, 0);
    free(json);
    seqrt_st_file f;
    seqrt_error err = {0};
    ck_assert_int_ne(seqrt_st_load(&f, p, &err), 0);
    ck_assert_msg(strstr(err.msg, "duplicate __metadata__ key 'k500000'"), "%s", err.msg);
}
END_TEST

/* Finding 1: random data (gradcheck without files) sized from counts that
 * overflow int64 or size_t is refused, not allocated short and written. */
START_TEST(random_data_sizes_are_checked)
{
    static const char *const dim_names[] = {"T"};
    static const seqrt_io x[] = {{"x", 0, 2, {-1, 4}, {0, -1}, 0, {0}, {0}, {0}}};
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.name = "sizes";
    m.n_dims = 1;
    m.dim_names = dim_names;
    m.n_inputs = 1;
    m.inputs = x;
    static const int64_t bad[][2] = {{INT64_C(4611686018427387904), 1}, {2, INT64_C(1) << 62},
                                     {INT64_C(1) << 40, INT64_C(1) << 40}, {-1, 5}, {4, -3}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        seqrt_dataset d;
        seqrt_error err = {0};
        int rc = seqrt_dataset_random(&d, &m, bad[i][0], bad[i][1], 0, 1, &err);
        ck_assert_msg(rc == SEQRT_ERANGE || rc == SEQRT_ENOMEM, "n %lld, T %lld: rc %d",
                      (long long)bad[i][0], (long long)bad[i][1], rc);
        if (rc == SEQRT_ERANGE) ck_assert_msg(strstr(err.msg, "too large"), "%s", err.msg);
    }
    seqrt_dataset d;
    seqrt_error err = {0};
    ck_assert_int_eq(seqrt_dataset_random(&d, &m, 3, 5, 0, 1, &err), 0);
    ck_assert_int_eq(d.x[0].count, 3 * 5 * 4);
    seqrt_dataset_free(&d);
}
END_TEST

/* Finding 3: seqrt_expf is defined for NaN and +-Inf (no shift of a
 * negative value under UBSan, no finite answer for +Inf). */
START_TEST(expf_of_nan_and_inf)
{
#ifndef SEQRT_DOUBLE
    volatile float nan_ = NAN, inf = INFINITY;
    ck_assert(isnan(seqrt_expf(nan_)));
    ck_assert(isinf(seqrt_expf(inf)) && seqrt_expf(inf) > 0);
    ck_assert(seqrt_expf(-inf) == 0.0f);
    ck_assert(isnan(seqrt_sigmoid(nan_)));
    ck_assert(seqrt_sigmoid(inf) == 1.0f && seqrt_sigmoid(-inf) == 0.0f);
    ck_assert(fabsf(seqrt_expf(1.0f) - 2.7182817f) < 1e-6f);
#endif
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hardening_values");
    TCase *unit = test_tcase("unit");
    tcase_add_unchecked_fixture(unit, hd_setup, hd_teardown);
    tcase_add_test(unit, expf_of_nan_and_inf);
    tcase_add_test(unit, csv_messages_quote_escaped_content);
    tcase_add_test(unit, million_metadata_keys);
    tcase_add_test(unit, random_data_sizes_are_checked);
    suite_add_tcase(s, unit);
    TCase *tc = test_tcase("files");
    tcase_add_unchecked_fixture(tc, setup, hd_teardown);
    tcase_add_test(tc, edited_step_is_refused_by_the_checksum);
    tcase_add_test(tc, metadata_values_are_range_checked);
    tcase_add_test(tc, weights_of_another_model_are_refused);
    tcase_add_test(tc, series_metadata_is_checked);
    tcase_add_test(tc, csv_values_that_cannot_be_scaled);
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
