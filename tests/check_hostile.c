/*
 * check_hostile.c: seqc against input no model would contain, and against
 * size. Each case runs the real binary with a time limit and must end with
 * exit status 1 (a bad model) or 2 (I/O), a message on stderr, and never a
 * signal or a hang. The large inputs are generated here at run time.
 * Limits also checks that 10,000 layers go through `seqc check`.
 */
#include <stdbool.h>

#include "frontend_util.h"

enum { TIME_LIMIT = 60 };

/* Run `seqc check path` and hold it to the hostile-input contract. */
static RunResult expect_rejected(const char *path, int want_status)
{
    RunResult r = fe_seqc("check", path, TIME_LIMIT);
    ck_assert_msg(r.signal != SIGALRM, "%s: seqc did not finish in %d s (times CK_TIMEOUT_MULTIPLIER)",
                  path, TIME_LIMIT);
    ck_assert_msg(r.exited, "%s: seqc was killed by signal %d", path, r.signal);
    ck_assert_msg(r.status == want_status, "%s: exit status %d, expected %d; stderr: %.2000s",
                  path, r.status, want_status, r.err);
    ck_assert_msg(r.err_len > 0, "%s: no message on stderr", path);
    ck_assert_msg(!strstr(r.err, "internal error"), "%s: %s", path, r.err);
    return r;
}

static void reject_buffer(const char *name, const char *data, size_t len, const char *want)
{
    const char *p = fe_write_tmp(name, data, len);
    RunResult r = expect_rejected(p, 1);
    if (want)
        ck_assert_msg(strstr(r.err, want), "%s: stderr lacks '%s': %.2000s", name, want, r.err);
    fe_free(&r);
    unlink(p);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *mid,
                    const char *unit2, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), ml = strlen(mid), u2 = strlen(unit2),
           tl = strlen(tail);
    *len = hl + n * ul + ml + n * u2 + tl;
    char *s = malloc(*len + 1), *p = s;
    ck_assert_ptr_nonnull(s);
    memcpy(p, head, hl), p += hl;
    for (size_t i = 0; i < n; i++)
        memcpy(p, unit, ul), p += ul;
    memcpy(p, mid, ml), p += ml;
    for (size_t i = 0; i < n; i++)
        memcpy(p, unit2, u2), p += u2;
    memcpy(p, tail, tl), p += tl;
    *p = '\0';
    return s;
}

/* ---- Core: empty and comment-only files ---------------------------------- */

START_TEST(test_empty_file)
{
    reject_buffer("empty.seq", "", 0, "the model has no outputs");
}
END_TEST

START_TEST(test_only_comments)
{
    const char src[] = "# a comment\n\n/* a block\n   comment */\n   # indented\n";
    reject_buffer("comments.seq", src, sizeof src - 1, "the model has no inputs");
}
END_TEST

/* ---- Hostile: bytes, numbers, names -------------------------------------- */

START_TEST(test_binary_garbage)
{
    enum { N = 256 * 64 };
    char *buf = malloc(N);
    for (int i = 0; i < N; i++)
        buf[i] = (char)(i % 256);
    reject_buffer("garbage.seq", buf, N, "error:");
    free(buf);
}
END_TEST

START_TEST(test_nul_in_statement)
{
    const char src[] = "input x : [T, 4]\ntarget y : [T, 2]\nh = Dense(2)(\0x)\n"
                       "train {\n    loss = mse(h, y)\n}\n";
    reject_buffer("nul.seq", src, sizeof src - 1, "3:14: error: stray byte '\\x00'");
}
END_TEST

START_TEST(test_nested_parens)
{
    size_t len;
    char *src = repeat("input x : [T, 4]\nh = ", "(", 200000, "x", ")", "\n", &len);
    reject_buffer("parens.seq", src, len, "nesting is too deep");
    free(src);
}
END_TEST

START_TEST(test_nested_brackets)
{
    size_t len;
    char *src = repeat("input x : [T, 4]\nh = Add()(", "[", 200000, "x", "]", ")\n", &len);
    reject_buffer("brackets.seq", src, len, "nesting is too deep");
    free(src);
}
END_TEST

START_TEST(test_huge_identifier)
{
    size_t len;
    char *src = repeat("input ", "a", 1 << 20, "", "", " : [T, 4]\n", &len);
    reject_buffer("ident.seq", src, len, "1:7: error: name is too long (1048576 characters");
    free(src);
}
END_TEST

START_TEST(test_huge_integer)
{
    const char src[] = "input x : [T, 4]\nh = Dense(99999999999999999999)(x)\n";
    reject_buffer("int.seq", src, sizeof src - 1, "2:11: error: integer is too large");
}
END_TEST

START_TEST(test_huge_float)
{
    const char src[] = "input x : [T, 4]\nh = Dropout(1e999)(x)\n";
    reject_buffer("float.seq", src, sizeof src - 1, "2:13: error: number is too large");
}
END_TEST

START_TEST(test_unterminated_comment)
{
    const char src[] = "input x : [T, 4]\n/* never closed\nh = Dense(2)(x)\n";
    reject_buffer("comment.seq", src, sizeof src - 1, "2:1: error: unterminated comment");
}
END_TEST

START_TEST(test_long_line_of_garbage)
{
    /* A 1 MB line: the quoted source line is cut to a window round the caret. */
    size_t len;
    char *src = repeat("input x : [T, 4] ", "@", 1 << 20, "", "", "\n", &len);
    const char *p = fe_write_tmp("longline.seq", src, len);
    RunResult r = expect_rejected(p, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "too many errors"));
    ck_assert_uint_lt(r.err_len, 64 * 1024);
    fe_free(&r);
    unlink(p);
    free(src);
}
END_TEST

/* ---- Hostile: paths ------------------------------------------------------- */

START_TEST(test_directory_path)
{
    RunResult r = expect_rejected(SEQ_INVALID_DIR, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "directory"));
    fe_free(&r);
}
END_TEST

START_TEST(test_missing_path)
{
    RunResult r = expect_rejected("/nonexistent/seqc/model.seq", 2);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot read"));
    fe_free(&r);
}
END_TEST

START_TEST(test_dev_null)
{
    RunResult r = fe_seqc("check", "/dev/null", TIME_LIMIT);
    ck_assert_msg(r.exited && r.status == 2, "status %d signal %d", r.status, r.signal);
    ck_assert_uint_gt(r.err_len, 0);
    fe_free(&r);
}
END_TEST

START_TEST(test_fifo)
{
    /* Nobody writes to the FIFO: a plain open() would wait for a writer
     * forever (it did once); seqc must refuse it at once. */
    char path[256];
    snprintf(path, sizeof path, "/tmp/seqc-fe-%ld.fifo", (long)getpid());
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    RunResult r = fe_seqc("check", path, 20);
    unlink(path);
    ck_assert_msg(r.signal != SIGALRM, "seqc hung on a FIFO");
    ck_assert_msg(r.exited && r.status == 2, "status %d signal %d", r.status, r.signal);
    ck_assert_ptr_nonnull(strstr(r.err, "not a regular file"));
    fe_free(&r);
}
END_TEST

START_TEST(test_no_file_argument)
{
    char *argv[] = {(char *)SEQC_PATH, (char *)"check", NULL};
    RunResult r = fe_run(argv, TIME_LIMIT);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 2);
    ck_assert_uint_gt(r.err_len, 0);
    fe_free(&r);
}
END_TEST

/* ---- Limits: size --------------------------------------------------------- */

/* A chain of n Dense(4) layers on [T, 4], with a loss on the last. */
static char *dense_chain(int n, size_t *len)
{
    size_t cap = (size_t)n * 48 + 256, k = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    k += (size_t)snprintf(s + k, cap - k, "model big\ninput x : [T, 4]\ntarget y : [T, 4]\n"
                                          "h0 = Dense(4)(x)\n");
    for (int i = 1; i < n; i++)
        k += (size_t)snprintf(s + k, cap - k, "h%d = Dense(4)(h%d)\n", i, i - 1);
    k += (size_t)snprintf(s + k, cap - k, "train {\n    loss = mse(h%d, y)\n    optimizer = "
                                          "adam\n}\n", n - 1);
    *len = k;
    return s;
}

START_TEST(test_ten_thousand_layers)
{
    size_t len;
    char *src = dense_chain(10000, &len);
    const char *p = fe_write_tmp("big.seq", src, len);
    RunResult r = fe_seqc("summary", p, TIME_LIMIT);
    ck_assert_msg(r.exited && r.status == 0, "status %d signal %d: %.2000s", r.status, r.signal,
                  r.err);
    /* 10,000 x (4*4 + 4) */
    ck_assert_msg(strstr(r.out, "Total params: 200000\n"), "%.500s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "dense_9999 (Dense)"));
    fe_free(&r);
    unlink(p);
    free(src);
}
END_TEST

START_TEST(test_long_pipeline)
{
    /* x -> Dense(4) -> ... 200,000 times: one expression, evaluated without
     * recursion (this overflowed the C stack once). */
    size_t len;
    char *src = repeat("input x : [T, 4]\ntarget y : [T, 4]\nh = x", " -> Dense(4)", 200000, "",
                       "", "\ntrain {\n    loss = mse(h, y)\n}\n", &len);
    const char *p = fe_write_tmp("pipeline.seq", src, len);
    RunResult r = fe_seqc("check", p, TIME_LIMIT);
    ck_assert_msg(r.exited && r.status == 0, "status %d signal %d: %.2000s", r.status, r.signal,
                  r.err);
    fe_free(&r);
    unlink(p);
    free(src);
}
END_TEST

START_TEST(test_deep_calls)
{
    /* Dense(4)(Dense(4)(...(x))) as deep as the parser allows. */
    size_t len;
    char *src = repeat("input x : [T, 4]\ntarget y : [T, 4]\nh = ", "Dense(4)(", 1500, "x", ")",
                       "\ntrain {\n    loss = mse(h, y)\n}\n", &len);
    const char *p = fe_write_tmp("calls.seq", src, len);
    RunResult r = fe_seqc("check", p, TIME_LIMIT);
    ck_assert_msg(r.exited && r.status == 0, "status %d signal %d: %.2000s", r.status, r.signal,
                  r.err);
    fe_free(&r);
    unlink(p);
    free(src);
}
END_TEST

START_TEST(test_many_errors_stop)
{
    /* 5,000 bad statements: reporting stops after 20 errors. */
    size_t len;
    char *src = repeat("input x : [T, 4]\n", "h = LSTN(8)(x)\n", 5000, "", "", "", &len);
    const char *p = fe_write_tmp("errors.seq", src, len);
    RunResult r = expect_rejected(p, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "fatal error: too many errors (20), stopping"));
    fe_free(&r);
    unlink(p);
    free(src);
}
END_TEST

static Suite *make_hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, test_empty_file);
    tcase_add_test(core, test_only_comments);
    tcase_add_test(core, test_no_file_argument);
    suite_add_tcase(s, core);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, test_binary_garbage);
    tcase_add_test(hostile, test_nul_in_statement);
    tcase_add_test(hostile, test_nested_parens);
    tcase_add_test(hostile, test_nested_brackets);
    tcase_add_test(hostile, test_huge_identifier);
    tcase_add_test(hostile, test_huge_integer);
    tcase_add_test(hostile, test_huge_float);
    tcase_add_test(hostile, test_unterminated_comment);
    tcase_add_test(hostile, test_long_line_of_garbage);
    tcase_add_test(hostile, test_directory_path);
    tcase_add_test(hostile, test_missing_path);
    tcase_add_test(hostile, test_dev_null);
    tcase_add_test(hostile, test_fifo);
    suite_add_tcase(s, hostile);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, test_ten_thousand_layers);
    tcase_add_test(limits, test_long_pipeline);
    tcase_add_test(limits, test_deep_calls);
    tcase_add_test(limits, test_many_errors_stop);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_hostile_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
