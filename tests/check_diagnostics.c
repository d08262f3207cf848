/*
 * check_diagnostics.c: the diagnostics corpora (QBE-style). Every
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
 *
 * tests/warnings/NAME.seq is a model that compiles with warnings, in the
 * same form ("# expect: 5:12: warning: ... [-Wloss-activation]"): `seqc
 * check` must exit 0 with those lines; with -Werror it must exit 1, its
 * first line the first expectation as an error ("error: ...
 * [-Werror=loss-activation]"); with -w it must exit 0 and print nothing.
 */
#include <dirent.h>
#include <stdbool.h>

#include "frontend_util.h"
#include "ops.h"

enum { MIN_CORPUS = 45, MIN_WARNINGS = 8, MAX_FILES = 1024, MAX_EXPECT = 64 };

#define SEQ_WARNINGS_DIR SEQ_INVALID_DIR "/../warnings"

typedef struct {
    char *files[MAX_FILES];
    int n;
} Corpus;

static Corpus invalid, warnings, examples;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .seq files of dir (and, with depth > 0, of its subdirectories). */
static void scan_corpus(Corpus *c, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && c->n < MAX_FILES) {
        size_t n = strlen(e->d_name), len = strlen(dir) + n + 2;
        char *path = malloc(len);
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (n > 4 && !strcmp(e->d_name + n - 4, ".seq")) {
            c->files[c->n++] = path;
            continue;
        }
        if (depth > 0 && e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            scan_corpus(c, path, depth - 1);
        free(path);
    }
    closedir(d);
    qsort(c->files, (size_t)c->n, sizeof c->files[0], cmp_str);
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

/* Does stderr hold every expectation, in order, the first one first? */
static bool match_expects(const char *path, const char *err, char **exp, int n_exp, char *why,
                          size_t why_len)
{
    const char *line = err;
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
            return false;
        }
        first = false;
        line = nl ? nl + 1 : line + ll;
    }
    if (k < n_exp) {
        snprintf(why, why_len, "%s: missing (in order) '# expect: %s'; stderr:\n%s", path,
                 exp[k], err);
        return false;
    }
    return true;
}

static RunResult run_check(const char *flag, const char *path)
{
    char *argv[] = {(char *)SEQC_PATH, "check", (char *)(flag ? flag : path),
                    (char *)(flag ? path : NULL), NULL};
    return fe_run(argv, 30);
}

/* "5:12: warning: X [-Wname]" as -Werror prints it: "5:12: error: X [-Werror=name]". */
static void as_error(const char *exp, char *out, size_t len)
{
    const char *w = strstr(exp, "warning: "), *f = strstr(exp, "[-W");
    if (!w || !f || f < w) {
        snprintf(out, len, "%s", exp);
        return;
    }
    snprintf(out, len, "%.*serror: %.*s[-Werror=%s", (int)(w - exp), exp,
             (int)(f - w - strlen("warning: ")), w + strlen("warning: "), f + 3);
}

/* The warnings corpus's three runs: plain, -Werror, -w. */
static bool check_warnings(const char *path, char **exp, int n_exp, char *why, size_t why_len)
{
    if (!strstr(exp[0], "warning: ")) {
        snprintf(why, why_len, "%s: the first expectation is not a warning", path);
        return false;
    }
    RunResult r = run_check(NULL, path);
    bool ok = r.exited && r.status == 0;
    if (!ok)
        snprintf(why, why_len, "%s: exit status %d, expected 0; stderr:\n%s", path, r.status, r.err);
    ok = ok && match_expects(path, r.err, exp, n_exp, why, why_len);
    fe_free(&r);
    if (!ok)
        return false;
    char first[2048];
    char *err_exp[1] = {first};
    as_error(exp[0], first, sizeof first);
    r = run_check("-Werror", path);
    ok = r.exited && r.status == 1;
    if (!ok)
        snprintf(why, why_len, "%s: -Werror: exit status %d, expected 1", path, r.status);
    ok = ok && match_expects(path, r.err, err_exp, 1, why, why_len);
    fe_free(&r);
    if (!ok)
        return false;
    r = run_check("-w", path);
    ok = r.exited && r.status == 0 && r.err_len == 0;
    if (!ok)
        snprintf(why, why_len, "%s: -w: exit status %d, stderr:\n%s", path, r.status, r.err);
    fe_free(&r);
    return ok;
}

/* Check one corpus file; on failure, why (for the test message). */
static bool check_file(const char *path, bool warn, char *why, size_t why_len)
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
    if (warn) {
        ok = check_warnings(path, exp, n_exp, why, why_len);
        free(src);
        return ok;
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
    ok = match_expects(path, r.err, exp, n_exp, why, why_len);
done:
    fe_free(&r);
    free(src);
    return ok;
}

START_TEST(test_corpus_file)
{
    char why[8192];
    ck_assert_msg(check_file(invalid.files[_i], false, why, sizeof why), "%s", why);
}
END_TEST

START_TEST(test_warnings_file)
{
    char why[8192];
    ck_assert_msg(check_file(warnings.files[_i], true, why, sizeof why), "%s", why);
}
END_TEST

START_TEST(test_corpus_size)
{
    ck_assert_msg(invalid.n >= MIN_CORPUS, "only %d files in %s (at least %d wanted)", invalid.n,
                  SEQ_INVALID_DIR, MIN_CORPUS);
    ck_assert_msg(warnings.n >= MIN_WARNINGS, "only %d files in %s (at least %d wanted)",
                  warnings.n, SEQ_WARNINGS_DIR, MIN_WARNINGS);
}
END_TEST

/* The examples are what users copy: no warning in any of them. */
START_TEST(test_examples_clean)
{
    ck_assert_int_gt(examples.n, 0);
    RunResult r = run_check(NULL, examples.files[_i]);
    ck_assert_msg(r.exited && r.status == 0 && r.err_len == 0, "%s: status %d, stderr:\n%s",
                  examples.files[_i], r.status, r.err);
    fe_free(&r);
}
END_TEST

/* -Werror and -w hold for every command, not only check. */
START_TEST(test_warning_flags_every_command)
{
    const char src[] = "input x : [T, 4]\ninput extra : [T, 1]\ntarget y : [T, 2]\n"
                       "p = Dense(2)(x)\ntrain {\n    loss = mse(p, y)\n}\n";
    char path[4096], dir[4200];
    snprintf(path, sizeof path, "%s", fe_write_tmp("flags.seq", src, sizeof src - 1));
    snprintf(dir, sizeof dir, "%s.out", path);
    char *summary_werror[] = {SEQC_PATH, "summary", "-Werror", path, NULL};
    RunResult r = fe_run(summary_werror, 30);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(r.out_len == 0, "a table after an error:\n%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.err, "error: no loss or output depends on input 'extra'"));
    fe_free(&r);
    char *summary[] = {SEQC_PATH, "summary", path, NULL};
    r = fe_run(summary, 30);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Total params"));
    ck_assert_ptr_nonnull(strstr(r.err, "[-Wunused-input]"));
    fe_free(&r);
    char *emit_werror[] = {SEQC_PATH, "emit", "-Werror", path, "-o", dir, NULL};
    r = fe_run(emit_werror, 30);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "[-Werror=unused-input]"));
    fe_free(&r);
    struct stat st;
    ck_assert_msg(stat(dir, &st) != 0, "emit -Werror wrote %s", dir);
    char *build_werror[] = {SEQC_PATH, "build", path, "-o", dir, "-Werror", NULL};
    r = fe_run(build_werror, 30);
    ck_assert_int_eq(r.status, 1);
    fe_free(&r);
    ck_assert_msg(stat(dir, &st) != 0, "build -Werror wrote %s", dir);
    char *emit_quiet[] = {SEQC_PATH, "-w", "emit", path, "-o", dir, NULL};
    r = fe_run(emit_quiet, 30);
    ck_assert_msg(r.status == 0 && r.err_len == 0, "emit -w: status %d, stderr:\n%s", r.status,
                  r.err);
    fe_free(&r);
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    unlink(path);
}
END_TEST

/* seqc summary says which hard_sigmoid it means, and only when it is used. */
START_TEST(test_summary_hard_sigmoid_note)
{
    const char with[] = "input x : [T, 4]\ntarget y : [2]\n"
                        "p = x -> GRU(3, recurrent_activation=hard_sigmoid) -> Dense(2)\n"
                        "train {\n    loss = mse(p, y)\n}\n";
    const char without[] = "input x : [T, 4]\ntarget y : [2]\n"
                           "p = x -> GRU(3) -> Dense(2, activation=sigmoid)\n"
                           "train {\n    loss = mse(p, y)\n}\n";
    const char *p = fe_write_tmp("hard.seq", with, sizeof with - 1);
    RunResult r = fe_seqc("summary", p, 30);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "\nNote: hard_sigmoid is tf.keras 2's, clip(0.2 * x + 0.5, 0, 1); "
                                "Keras 3's is clip(x / 6 + 0.5, 0, 1)\n"), "%s", r.out);
    fe_free(&r);
    unlink(p);
    p = fe_write_tmp("soft.seq", without, sizeof without - 1);
    r = fe_seqc("summary", p, 30);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_null(strstr(r.out, "Note:"));
    fe_free(&r);
    unlink(p);
}
END_TEST

/* Attributes no other model sets, each with a value that shows in the C. */
static const char attrs_model[] =
    "model attrs\ninput x : [4, 3]\ninput t : int[4]\ntarget y : [4, 2]\n"
    "e = Embedding(5, 3, embeddings_initializer=ones, input_length=4)(t)\n"
    "m = Masking(mask_value=2.5)(x)\n"
    "h = LSTM(4, return_sequences=true, unroll=true, kernel_initializer=ones, recurrent_initializer=zeros, "
    "bias_initializer=ones)(m)\n"
    "c = Conv1D(2, 1, data_format=channels_last, groups=1, kernel_initializer=zeros, bias_initializer=ones)(Concatenate()([h, e]))\n"
    "p = Dense(2, kernel_initializer=orthogonal, bias_initializer=uniform)(c)\n"
    "train {\n    loss = mse(p, y)\n}\n";

/* Attribute values that code generation lacks, and what emit says. */
static const char *const unsupported_cases[][2] = {
    {"Attention(score_mode=concat)", "with score_mode=\"concat\" is not available yet"},
    {"Attention(dropout=0.1)", "with dropout on attention weights is not available yet"},
};

/* Is `attr=` set in text (not as the tail of a longer name)? */
static bool sets_attr(const char *text, const char *attr)
{
    size_t n = strlen(attr);
    for (const char *p = strstr(text, attr); p; p = strstr(p + 1, attr)) {
        bool start = p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z'));
        const char *q = p + n;
        while (*q == ' ')
            q++;
        if (start && *q == '=')
            return true;
    }
    return false;
}

/* Every attribute of every layer is set by some model the tests compile
 * (examples, tests/models, tests/infer, or attrs_model above): an attribute
 * cannot be added without a model that uses it. */
START_TEST(test_every_attribute_used)
{
    Corpus models = {0};
    scan_corpus(&models, SEQ_EXAMPLES_DIR, 1);
    scan_corpus(&models, SEQ_EXAMPLES_DIR "/../tests/models", 0);
    scan_corpus(&models, SEQ_EXAMPLES_DIR "/../tests/infer", 0);
    size_t cap = sizeof attrs_model, len = 0;
    char *all = malloc(cap);
    memcpy(all, attrs_model, sizeof attrs_model);
    len = sizeof attrs_model - 1;
    for (int i = 0; i < models.n; i++) {
        size_t n;
        char *src = fe_read_file(models.files[i], &n);
        if (src) {
            all = realloc(all, len + n + 2);
            memcpy(all + len, src, n);
            len += n;
            all[len++] = '\n';
            all[len] = '\0';
            free(src);
        }
        free(models.files[i]);
    }
    for (size_t i = 0; i < sizeof unsupported_cases / sizeof unsupported_cases[0]; i++) {
        size_t n = strlen(unsupported_cases[i][0]);
        all = realloc(all, len + n + 2);
        memcpy(all + len, unsupported_cases[i][0], n);
        len += n;
        all[len++] = '\n';
        all[len] = '\0';
    }
    ck_assert_int_gt(models.n, 10);
    int n_ops;
    const OpInfo *const *ops = op_all(&n_ops);
    for (int i = 0; i < n_ops; i++)
        for (int k = 0; k < ops[i]->n_attrs; k++) {
            const char *a = ops[i]->attrs[k].name;
            if (ops[i]->attrs[k].required || !strcmp(a, "layer") || !strcmp(a, "activation"))
                continue; /* given by position in most models */
            ck_assert_msg(sets_attr(all, a), "%s's '%s' is set by no model the tests compile",
                          ops[i]->name, a);
        }
    free(all);
}
END_TEST

/* A layer --bptt-checkpoint cannot cover is a note at its line and
 * column, and the build goes on. */
START_TEST(test_bptt_note_has_position)
{
    static const char model[] = "model g\ninput x : [T, 3]\ntarget y : [2]\n"
                                "y_hat = x -> GRU(4, reset_after=false) -> Dense(2)\n"
                                "train { loss = mse(y_hat, y) }\n";
    char path[4096], dir[4200], cmd[8600];
    snprintf(path, sizeof path, "%s", fe_write_tmp("bptt_note.seq", model, sizeof model - 1));
    snprintf(dir, sizeof dir, "%s.out", path);
    char *emit[] = {SEQC_PATH, "emit", "--bptt-checkpoint=2", path, "-o", dir, NULL};
    RunResult r = fe_run(emit, 30);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_msg(strstr(r.err, "bptt_note.seq:4:9: note: --bptt-checkpoint does not cover "
                                "GRU(reset_after=false); 'gru' keeps every step"), "%s", r.err);
    fe_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A layer that cannot stream is refused by --inference with its position
 * and the reason its op gives (OpInfo.step_note). */
START_TEST(test_inference_says_why_not)
{
    static const char model[] = "model b\ninput x : [T, 3]\ntarget y : [2]\n"
                                "y_hat = x -> Bidirectional(LSTM(4)) -> Dense(2)\n"
                                "train { loss = mse(y_hat, y) }\n";
    char path[4096], dir[4200], cmd[8600];
    snprintf(path, sizeof path, "%s", fe_write_tmp("no_stream.seq", model, sizeof model - 1));
    snprintf(dir, sizeof dir, "%s.out", path);
    char *emit[] = {SEQC_PATH, "emit", "--inference", path, "-o", dir, NULL};
    RunResult r = fe_run(emit, 30);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "no_stream.seq:4:9: error: Bidirectional 'bidirectional' cannot "
                                "run step by step for --inference: its backward direction starts "
                                "from the last step"), "%s", r.err);
    fe_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Those attributes reach the generated code. */
START_TEST(test_attributes_reach_code)
{
    char path[4096], dir[4200], file[4300];
    snprintf(path, sizeof path, "%s", fe_write_tmp("attrs.seq", attrs_model, sizeof attrs_model - 1));
    snprintf(dir, sizeof dir, "%s.out", path);
    char *emit[] = {SEQC_PATH, "emit", path, "-o", dir, NULL};
    RunResult r = fe_run(emit, 30);
    ck_assert_msg(r.status == 0, "%s", r.err);
    fe_free(&r);
    snprintf(file, sizeof file, "%s/attrs.c", dir);
    size_t n;
    char *c = fe_read_file(file, &n);
    ck_assert_ptr_nonnull(c);
    static const char *const want[][2] = {
        {"\"embedding.embeddings\"", "SEQRT_INIT_ONES"},
        {"\"lstm.kernel\"", "SEQRT_INIT_ONES"},
        {"\"lstm.recurrent_kernel\"", "SEQRT_INIT_ZEROS"},
        {"\"lstm.bias\"", "SEQRT_INIT_ONES"},
        {"\"conv1d.kernel\"", "SEQRT_INIT_ZEROS"},
        {"\"conv1d.bias\"", "SEQRT_INIT_ONES"},
        {"\"dense.kernel\"", "SEQRT_INIT_ORTHOGONAL"},
        {"\"dense.bias\"", "SEQRT_INIT_UNIFORM"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *row = strstr(c, want[i][0]);
        ck_assert_msg(row, "no parameter %s in %s", want[i][0], file);
        const char *end = strstr(row, ".fan_out"); /* the row's last field, after .init */
        const char *init = strstr(row, want[i][1]);
        ck_assert_msg(init && end && init < end, "%s is not %s", want[i][0], want[i][1]);
    }
    ck_assert_msg(strstr(c, "(seqrt_real)2.5"), "mask_value 2.5 is not in the code");
    free(c);
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    unlink(path);
}
END_TEST

/* What code generation lacks is refused, not dropped. */
START_TEST(test_unsupported_values_refused)
{
    const char *const (*cases)[2] = unsupported_cases;
    for (size_t i = 0; i < sizeof unsupported_cases / sizeof unsupported_cases[0]; i++) {
        char src[512], path[4096], dir[4200];
        int n = snprintf(src, sizeof src, "input q : [T, 4]\ninput v : [S, 4]\ntarget y : [T, 4]\n"
                         "a = %s([q, v])\ntrain {\n    loss = mse(a, y)\n}\n", cases[i][0]);
        snprintf(path, sizeof path, "%s", fe_write_tmp("unsup.seq", src, (size_t)n));
        snprintf(dir, sizeof dir, "%s.out", path);
        char *emit[] = {SEQC_PATH, "emit", path, "-o", dir, NULL};
        RunResult r = fe_run(emit, 30);
        ck_assert_msg(r.status == 1 && strstr(r.err, cases[i][1]), "%s: status %d, stderr:\n%s",
                      cases[i][0], r.status, r.err);
        fe_free(&r);
        char cmd[8600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
        unlink(path);
    }
}
END_TEST

/* The warnings harness must be able to fail too. */
START_TEST(test_harness_rejects_wrong_warning)
{
    const char src[] = "input x : [T, 4]\ninput extra : [T, 1]\ntarget y : [T, 2]\n"
                       "p = Dense(2)(x)\ntrain {\n    loss = mse(p, y)\n}\n"
                       "# expect: 2:1: warning: something else [-Wunused-input]\n";
    const char *p = fe_write_tmp("wrongwarn.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, true, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "first diagnostic"));
    unlink(p);
}
END_TEST

START_TEST(test_harness_rejects_no_warning)
{
    const char src[] = "input x : [T, 4]\ntarget y : [T, 2]\np = Dense(2)(x)\n"
                       "train {\n    loss = mse(p, y)\n}\n"
                       "# expect: 1:1: warning: nothing [-Wunused-input]\n";
    const char *p = fe_write_tmp("nowarn.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, true, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "missing (in order)"));
    unlink(p);
}
END_TEST

START_TEST(test_harness_accepts_warning)
{
    const char src[] = "input x : [T, 4]\ninput extra : [T, 1]\ntarget y : [T, 2]\n"
                       "p = Dense(2)(x)\ntrain {\n    loss = mse(p, y)\n}\n"
                       "# expect: 2:1: warning: no loss or output depends on input 'extra', yet "
                       "training will ask for its data [-Wunused-input]\n";
    const char *p = fe_write_tmp("goodwarn.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert_msg(check_file(p, true, why, sizeof why), "%s", why);
    unlink(p);
}
END_TEST

/* The harness itself must be able to fail. */
START_TEST(test_harness_rejects_no_expect)
{
    const char src[] = "input x : [T, 4]\nh = LSTN(8)(x)\n";
    const char *p = fe_write_tmp("noexpect.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, false, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "no '# expect:' line"));
    unlink(p);
}
END_TEST

START_TEST(test_harness_rejects_wrong_expect)
{
    const char src[] = "input x : [T, 4]\nh = LSTN(8)(x)\n# expect: 2:5: error: unknown layer 'LSTX'\n";
    const char *p = fe_write_tmp("wrong.seq", src, sizeof src - 1);
    char why[8192];
    ck_assert(!check_file(p, false, why, sizeof why));
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
    ck_assert(!check_file(p, false, why, sizeof why));
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
    ck_assert(!check_file(p, false, why, sizeof why));
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
    ck_assert_msg(check_file(p, false, why, sizeof why), "%s", why);
    unlink(p);
}
END_TEST

static Suite *make_diagnostics_suite(void)
{
    Suite *s = suite_create("diagnostics");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, test_corpus_size);
    tcase_add_loop_test(core, test_corpus_file, 0, invalid.n);
    tcase_add_loop_test(core, test_warnings_file, 0, warnings.n);
    tcase_add_loop_test(core, test_examples_clean, 0, examples.n);
    tcase_add_test(core, test_warning_flags_every_command);
    tcase_add_test(core, test_summary_hard_sigmoid_note);
    tcase_add_test(core, test_every_attribute_used);
    tcase_add_test(core, test_attributes_reach_code);
    tcase_add_test(core, test_bptt_note_has_position);
    tcase_add_test(core, test_inference_says_why_not);
    tcase_add_test(core, test_unsupported_values_refused);
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, test_harness_rejects_no_expect);
    tcase_add_test(limits, test_harness_rejects_wrong_expect);
    tcase_add_test(limits, test_harness_rejects_order);
    tcase_add_test(limits, test_harness_rejects_valid_model);
    tcase_add_test(limits, test_harness_accepts_good);
    tcase_add_test(limits, test_harness_rejects_wrong_warning);
    tcase_add_test(limits, test_harness_rejects_no_warning);
    tcase_add_test(limits, test_harness_accepts_warning);
    suite_add_tcase(s, limits);
    return s;
}

int main(int argc, char **argv)
{
    scan_corpus(&invalid, argc > 1 ? argv[1] : SEQ_INVALID_DIR, 0);
    scan_corpus(&warnings, argc > 2 ? argv[2] : SEQ_WARNINGS_DIR, 0);
    scan_corpus(&examples, SEQ_EXAMPLES_DIR, 1);
    SRunner *sr = srunner_create(make_diagnostics_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    Corpus *all[] = {&invalid, &warnings, &examples};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < all[k]->n; i++)
            free(all[k]->files[i]);
    return failed ? 1 : 0;
}
