/*
 * check_diagnostics.c: the diagnostics corpus (QBE-style). Every
 * tests/invalid/NAME.seq ends with the diagnostics it must produce:
 *
 *   # expect: 7:5: error: unknown layer 'LSTN'
 *   # expect: 7:5: note: did you mean 'LSTM'?
 *   # expect: note: known layers: Activation, Add, ...   (no location; a
 *                                                         trailing "..." is a prefix)
 *
 * `seqc check FILE` must exit 1, its first stderr line must be the first
 * expectation, and every expectation must appear as a whole stderr line
 * "FILE:<text>" in order. A file without expectations fails.
 */
#include <dirent.h>
#include <stdbool.h>

#include "frontend_util.h"

enum { MIN_CORPUS = 45, MAX_FILES = 1024, MAX_EXPECT = 64 };

static char *corpus[MAX_FILES];
static int n_corpus;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && n_corpus < MAX_FILES) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".seq")) {
            size_t len = strlen(dir) + n + 2;
            corpus[n_corpus] = malloc(len);
            snprintf(corpus[n_corpus++], len, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    qsort(corpus, (size_t)n_corpus, sizeof corpus[0], cmp_str);
}

/* The "# expect: " lines of a source, in order (pointers into src, which is
 * cut into lines). */
static int parse_expects(char *src, char **exp, int max)
{
    int n = 0;
    for (char *line = strtok(src, "\n"); line; line = strtok(NULL, "\n")) {
        char *p = strstr(line, "# expect: ");
        if (p && n < max)
            exp[n++] = p + strlen("# expect: ");
    }
    return n;
}

/* Does stderr line `line` (without newline) say `exp` about `path`? */
static bool line_matches(const char *line, size_t len, const char *path, const char *exp)
{
    char want[2048];
    bool located = exp[0] >= '0' && exp[0] <= '9';
    snprintf(want, sizeof want, "%s:%s%s", path, located ? "" : " ", exp);
    size_t wl = strlen(want);
    if (wl >= 3 && !strcmp(want + wl - 3, "..."))
        return len >= wl - 3 && !memcmp(line, want, wl - 3);
    return len == wl && !memcmp(line, want, wl);
}

/* Check one corpus file; on failure, why (for the test message). */
static bool check_file(const char *path, char *why, size_t why_len)
{
    size_t len;
    char *src = fe_read_file(path, &len);
    if (!src) {
        snprintf(why, why_len, "%s: cannot read", path);
        return false;
    }
    char *exp[MAX_EXPECT];
    int n_exp = parse_expects(src, exp, MAX_EXPECT);
    bool ok = false;
    if (n_exp == 0) {
        snprintf(why, why_len, "%s: no '# expect:' line", path);
        free(src);
        return false;
    }
    RunResult r = fe_seqc("check", path, 30);
    if (!r.exited) {
        snprintf(why, why_len, "%s: seqc was killed by signal %d", path, r.signal);
        goto done;
    }
    if (r.status != 1) {
        snprintf(why, why_len, "%s: exit status %d, expected 1; stderr:\n%s", path, r.status,
                 r.err);
        goto done;
    }
    const char *line = r.err;
    int k = 0;
    bool first = true;
    while (*line && k < n_exp) {
        const char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (line_matches(line, ll, path, exp[k]))
            k++;
        else if (first) {
            snprintf(why, why_len, "%s: the first diagnostic is\n  %.*s\nnot\n  %s", path,
                     (int)ll, line, exp[0]);
            goto done;
        }
        first = false;
        line = nl ? nl + 1 : line + ll;
    }
    if (k < n_exp) {
        snprintf(why, why_len, "%s: missing (in order) '# expect: %s'; stderr:\n%s", path,
                 exp[k], r.err);
        goto done;
    }
    ok = true;
done:
    fe_free(&r);
    free(src);
    return ok;
}

START_TEST(test_corpus_file)
{
    char why[8192];
    ck_assert_msg(check_file(corpus[_i], why, sizeof why), "%s", why);
}
END_TEST

START_TEST(test_corpus_size)
{
    ck_assert_msg(n_corpus >= MIN_CORPUS, "only %d files in %s (at least %d wanted)", n_corpus,
                  SEQ_INVALID_DIR, MIN_CORPUS);
}
END_TEST

/* The harness itself must be able to fail. */
START_TEST(test_harness_rejects_no_expect)
{
    const char src[] = "input x : [T, 4]\nh = LSTN(8)(x)\n";
    const char *p = fe_write_tmp("noexpect.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "no '# expect:' line"));
    unlink(p);
}
END_TEST

START_TEST(test_harness_rejects_wrong_expect)
{
    const char src[] = "input x : [T, 4]\nh = LSTN(8)(x)\n# expect: 2:5: error: unknown layer 'LSTX'\n";
    const char *p = fe_write_tmp("wrong.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "first diagnostic"));
    unlink(p);
}
END_TEST

START_TEST(test_harness_rejects_order)
{
    const char src[] = "input x : [T, 4]\nh = LSTN(8)(x)\n"
                       "# expect: 2:5: error: unknown layer 'LSTN'\n"
                       "# expect: 2:5: error: unknown layer 'LSTN'\n";
    const char *p = fe_write_tmp("order.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "missing (in order)"));
    unlink(p);
}
END_TEST

START_TEST(test_harness_rejects_valid_model)
{
    const char src[] = "input x : [T, 4]\ntarget y : [T, 2]\nh = Dense(2)(x)\n"
                       "train {\n    loss = mse(h, y)\n}\n# expect: 3:5: error: nothing\n";
    const char *p = fe_write_tmp("valid.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "exit status 0"));
    unlink(p);
}
END_TEST

START_TEST(test_harness_accepts_good)
{
    const char src[] = "input x : [T, 4]\nh = LSTN(8)(x)\n"
                       "# expect: 2:5: error: unknown layer 'LSTN'\n"
                       "# expect: 2:5: note: did you mean 'LSTM'?\n";
    const char *p = fe_write_tmp("good.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert_msg(check_file(p, why, sizeof why), "%s", why);
    unlink(p);
}
END_TEST

static Suite *make_diagnostics_suite(void)
{
    Suite *s = suite_create("diagnostics");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, test_corpus_size);
    tcase_add_loop_test(core, test_corpus_file, 0, n_corpus);
    tcase_set_timeout(core, 60);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, test_harness_rejects_no_expect);
    tcase_add_test(limits, test_harness_rejects_wrong_expect);
    tcase_add_test(limits, test_harness_rejects_order);
    tcase_add_test(limits, test_harness_rejects_valid_model);
    tcase_add_test(limits, test_harness_accepts_good);
    suite_add_tcase(s, limits);
    return s;
}

int main(int argc, char **argv)
{
    scan_corpus(argc > 1 ? argv[1] : SEQ_INVALID_DIR);
    SRunner *sr = srunner_create(make_diagnostics_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (int i = 0; i < n_corpus; i++)
        free(corpus[i]);
    return failed ? 1 : 0;
}
