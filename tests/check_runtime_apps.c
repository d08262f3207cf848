/*
 * check_runtime_apps.c: the pieces behind the training UX and the data
 * front-ends (runtime/src/schedule.c, history.c, plot.c, csv.c): Keras's
 * schedule formulas, the plateau rule, the history table and its CSV text,
 * the SVG, and the CSV reader with its errors. The end-to-end behaviour
 * (resume, SIGINT, forecasting, text) is in tests/e2e/apps_*.py.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "seqrt_train.h"

static char dir[] = "/tmp/seqrt_apps_XXXXXX";

static const char *tmp(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static const char *write_file(const char *name, const char *text)
{
    const char *p = tmp(name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

/* ---- schedules ---- */

START_TEST(test_schedule_formulas)
{
    seqrt_lr_schedule s;
    seqrt_error err;
    ck_assert_int_eq(seqrt_lr_parse(&s, "step:2:0.5", &err), 0);
    ck_assert_double_eq_tol(seqrt_lr_at(&s, 0.1, 1, 0, 10, 100), 0.1, 1e-15);
    ck_assert_double_eq_tol(seqrt_lr_at(&s, 0.1, 3, 0, 10, 100), 0.05, 1e-15);
    ck_assert_double_eq_tol(seqrt_lr_at(&s, 0.1, 5, 0, 10, 100), 0.025, 1e-15);
    /* ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9) at step 15. */
    ck_assert_int_eq(seqrt_lr_parse(&s, "exp:0.9", &err), 0);
    ck_assert_double_eq_tol(seqrt_lr_at(&s, 0.1, 2, 15, 10, 100), 0.1 * pow(0.9, 1.5), 1e-15);
    /* CosineDecay(0.1, decay_steps=100, alpha=0.01/0.1). */
    ck_assert_int_eq(seqrt_lr_parse(&s, "cosine:0.01", &err), 0);
    double a = 0.1, t = 30.0 / 100;
    ck_assert_double_eq_tol(seqrt_lr_at(&s, 0.1, 4, 30, 10, 100),
                            0.1 * ((1 - a) * 0.5 * (1 + cos(3.14159265358979323846 * t)) + a), 1e-15);
    ck_assert_double_eq_tol(seqrt_lr_at(&s, 0.1, 11, 150, 10, 100), 0.01, 1e-15);
    ck_assert_int_eq(seqrt_lr_parse(&s, "cosine", &err), 0);
    ck_assert_double_eq_tol(seqrt_lr_at(&s, 0.1, 11, 100, 10, 100), 0, 1e-15);
    char buf[96];
    seqrt_lr_parse(&s, "plateau:3:0.25", &err);
    seqrt_lr_format(&s, buf, sizeof buf);
    seqrt_lr_schedule back;
    ck_assert_int_eq(seqrt_lr_parse(&back, buf, &err), 0);
    ck_assert(back.kind == SEQRT_LR_PLATEAU && back.every == 3 && back.factor == 0.25);
}
END_TEST

static const char *const bad_specs[] = {"step", "step:0:0.5", "step:2", "step:2:0.5:1", "exp:", "exp:-1",
                                        "cosine:x", "plateau:2:1.5", "plateau:1.5:0.5", "linear:1", "step:2:nan"};

START_TEST(test_schedule_bad_specs)
{
    seqrt_lr_schedule s;
    seqrt_error err = {0};
    ck_assert_int_eq(seqrt_lr_parse(&s, bad_specs[_i], &err), SEQRT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, bad_specs[_i]));
}
END_TEST

/* Keras's ReduceLROnPlateau(factor=0.5, patience=2, min_delta=1e-4). */
START_TEST(test_plateau_rule)
{
    seqrt_lr_schedule s;
    seqrt_plateau p;
    seqrt_lr_parse(&s, "plateau:2:0.5", NULL);
    seqrt_plateau_init(&p, 0.1);
    const double v[] = {1.0, 0.9, 0.89995, 0.9, 0.8, 0.85, 0.85};
    const int drop[] = {0, 0, 0, 1, 0, 0, 1};
    for (int i = 0; i < 7; i++) ck_assert_int_eq(seqrt_plateau_update(&p, &s, v[i]), drop[i]);
    ck_assert_double_eq_tol(p.lr, 0.025, 1e-15);
}
END_TEST

/* ---- history and plot ---- */

static void fill_history(seqrt_history *h, int n)
{
    seqrt_history_init(h);
    for (int e = 1; e <= n; e++) {
        seqrt_epoch_log log;
        memset(&log, 0, sizeof log);
        log.epoch = e;
        log.n = 3;
        strcpy(log.names[0], "loss");
        strcpy(log.names[1], "mae");
        strcpy(log.names[2], "val_loss");
        log.values[0] = 1.0 / e;
        log.values[1] = 0.5 / e;
        log.values[2] = 1.5 / e;
        log.lr = 0.001;
        log.seconds = 0.25;
        ck_assert_int_eq(seqrt_history_add(h, &log, NULL), 0);
    }
}

START_TEST(test_history_csv_round_trip)
{
    seqrt_history h, back;
    fill_history(&h, 100);
    char *csv = seqrt_history_csv(&h);
    ck_assert_ptr_nonnull(csv);
    ck_assert(strncmp(csv, "epoch,loss,mae,val_loss,lr,seconds\n1,1,0.5,1.5,0.001,0.25\n", 58) == 0);
    ck_assert_int_eq(seqrt_history_parse(&back, csv, NULL), 0);
    ck_assert_int_eq(back.n_rows, 100);
    ck_assert_int_eq(back.n_cols, 5);
    ck_assert_double_eq_tol(seqrt_history_value(&back, 99, 2), 0.015, 1e-9);
    seqrt_history_free(&back);
    free(csv);
    seqrt_error err = {0};
    ck_assert_int_ne(seqrt_history_parse(&back, "step,loss\n1,2\n", &err), 0);
    ck_assert_int_ne(seqrt_history_parse(&back, "epoch,loss\n1,x\n", &err), 0);
    seqrt_history_free(&h);
}
END_TEST

START_TEST(test_plot_svg)
{
    seqrt_history h;
    fill_history(&h, 7);
    ck_assert_int_eq(seqrt_plot_svg(&h, tmp("p.svg"), "lin <test> & co", NULL), 0);
    FILE *f = fopen(tmp("p.svg"), "rb");
    char buf[40000];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert(strstr(buf, "data-name=\"loss\""));
    ck_assert(strstr(buf, "data-name=\"val_loss\""));
    ck_assert(strstr(buf, "data-name=\"mae\""));
    ck_assert(strstr(buf, "lin &lt;test&gt; &amp; co"));
    ck_assert(strstr(buf, "</svg>\n"));
    seqrt_history empty;
    seqrt_history_init(&empty);
    ck_assert_int_eq(seqrt_plot_svg(&empty, tmp("e.svg"), NULL, NULL), SEQRT_EINVAL);
    seqrt_history_free(&h);
}
END_TEST

/* ---- CSV ---- */

START_TEST(test_csv_quotes_crlf_bom)
{
    const char *p = write_file("q.csv", "\xEF\xBB\xBF\"date\",\"a, b\",value\r\n"
                                        "\"2001\",\"x \"\"y\"\"\", 1.5 \r\n"
                                        "\r\n"
                                        "2002,\"multi\nline\",-2e3\r\n"
                                        "2003,z,\"7\"\r\n");
    double *v;
    int64_t n;
    ck_assert_int_eq(seqrt_csv_column(p, "value", &v, &n, NULL), 0);
    ck_assert_int_eq(n, 3);
    ck_assert(v[0] == 1.5 && v[1] == -2000 && v[2] == 7);
    free(v);
    ck_assert_int_eq(seqrt_csv_column(p, "date", &v, &n, NULL), 0);
    ck_assert(n == 3 && v[2] == 2003);
    free(v);
}
END_TEST

static const struct {
    const char *text, *column, *want;
} bad_csv[] = {
    {"a,b\n1,2\n3,\n", "b", "bad.csv:3: column 'b': missing value"},
    {"a,b\n1,2\n3\n", "b", "bad.csv:3: column 'b': missing value (the row has only 1 fields)"},
    {"a,b\n1,NA\n", "b", "bad.csv:2: column 'b': not a finite number ('NA')"},
    {"a,b\n1,nan\n", "b", "bad.csv:2: column 'b': not a finite number"},
    {"a,b\n1,2\n", "c", "no column 'c' in the header (it has 'a', 'b')"},
    {"a,b\n1,\"2\n", "b", "bad.csv:2: unterminated quoted field"},
    {"a,b\n1,\"2\"x\n", "b", "bad.csv:2: text after a closing quote"},
    {"a,b\n", "b", "column 'b' has no values"},
};

START_TEST(test_csv_errors)
{
    const char *p = write_file("bad.csv", bad_csv[_i].text);
    double *v = NULL;
    int64_t n = 0;
    seqrt_error err = {0};
    ck_assert_int_ne(seqrt_csv_column(p, bad_csv[_i].column, &v, &n, &err), 0);
    ck_assert_ptr_null(v);
    ck_assert_msg(strstr(err.msg, bad_csv[_i].want), "got '%s', want '%s'", err.msg, bad_csv[_i].want);
}
END_TEST

START_TEST(test_csv_missing_file)
{
    double *v;
    int64_t n;
    seqrt_error err = {0};
    ck_assert_int_eq(seqrt_csv_column(tmp("none.csv"), "a", &v, &n, &err), SEQRT_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "none.csv: cannot open"));
}
END_TEST

static Suite *make_apps_suite(void)
{
    Suite *s = suite_create("runtime_apps");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, test_schedule_formulas);
    tcase_add_test(core, test_plateau_rule);
    tcase_add_test(core, test_history_csv_round_trip);
    tcase_add_test(core, test_plot_svg);
    tcase_add_test(core, test_csv_quotes_crlf_bom);
    suite_add_tcase(s, core);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_loop_test(hostile, test_schedule_bad_specs, 0, (int)(sizeof bad_specs / sizeof *bad_specs));
    tcase_add_loop_test(hostile, test_csv_errors, 0, (int)(sizeof bad_csv / sizeof *bad_csv));
    tcase_add_test(hostile, test_csv_missing_file);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    SRunner *r = srunner_create(make_apps_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
