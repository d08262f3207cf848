/*
 * check_runtime_blas_setup.c: runtime/src/blas_setup.c, the OpenBLAS kernel
 * fix (re-exec with OPENBLAS_CORETYPE) and the thread policy, through
 * seqrt_main's --blas-info.
 *
 * The test binary doubles as a model's training program: run as
 * `check_runtime_blas_setup cli ARGS...` it calls seqrt_main(&tiny, argc,
 * argv) with its own argv, exactly as a generated *_main.c does, so the
 * re-exec path is the real one. The tests run it with a controlled
 * environment through popen and read what --blas-info prints.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"
#include "seqrt_train.h"

static const seqrt_model tiny = {.name = "tiny", .param_count = 10};

static char self[4096];

/* Run `env ENV self cli ARGS 2>&1`; returns the output (static) and the exit status. */
static const char *run_cli(const char *env, const char *args, int *status)
{
    static char out[16384];
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "env -u OPENBLAS_CORETYPE -u SEQRT_BLAS_REEXEC -u OPENBLAS_NUM_THREADS "
             "-u GOTO_NUM_THREADS -u OMP_NUM_THREADS %s '%s' cli %s 2>&1",
             env, self, args);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "popen %s", cmd);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* The core name on the "core in use:" line, or "" */
static const char *core_line(const char *out)
{
    static char name[64];
    name[0] = '\0';
    const char *at = strstr(out, "core in use:");
    if (at) sscanf(at + strlen("core in use:"), " %63s", name);
    return name;
}

START_TEST(core_rank_table)
{
    ck_assert_int_eq(seqrt_blas_core_rank("SkylakeX"), 3);
    ck_assert_int_eq(seqrt_blas_core_rank("cooperlake"), 3);
    ck_assert_int_eq(seqrt_blas_core_rank("Haswell"), 2);
    ck_assert_int_eq(seqrt_blas_core_rank("Zen"), 2);
    ck_assert_int_eq(seqrt_blas_core_rank("Prescott"), 0);
    ck_assert_int_eq(seqrt_blas_core_rank("Sandybridge"), 0);
    ck_assert_int_eq(seqrt_blas_core_rank(NULL), 0);
}
END_TEST

/* --blas-info names the core, the config, the threads and the real type. */
START_TEST(blas_info_names_core)
{
    int st;
    const char *out = run_cli("", "--blas-info", &st);
    ck_assert_msg(st == 0, "status %d:\n%s", st, out);
    ck_assert_msg(strstr(out, "OpenBLAS config: OpenBLAS") != NULL, "%s", out);
    ck_assert_msg(core_line(out)[0] != '\0', "no core name:\n%s", out);
    ck_assert_msg(strstr(out, "threads:") && strstr(out, "seqrt_real:      " SEQRT_REAL_NAME),
                  "%s", out);
    ck_assert_msg(strstr(out, "CPU features:") != NULL, "%s", out);
}
END_TEST

/* With OPENBLAS_CORETYPE unset, the program ends up on the strongest core
 * the CPU runs. On a machine where OpenBLAS picks a weaker one by itself
 * (this one: Prescott on a family 6 model 207 Xeon), that is the re-exec. */
START_TEST(reexec_gives_stronger_core)
{
    const char *want = seqrt_blas_wanted_core();
    int st;
    /* what OpenBLAS picks by itself: the marker stops the re-exec */
    char native[64];
    const char *out = run_cli("SEQRT_BLAS_REEXEC=1", "--blas-info", &st);
    ck_assert_int_eq(st, 0);
    snprintf(native, sizeof native, "%s", core_line(out));
    out = run_cli("", "--blas-info", &st);
    ck_assert_int_eq(st, 0);
    const char *used = core_line(out);
    if (!want) return; /* no AVX2: nothing to fix on this CPU */
    ck_assert_msg(seqrt_blas_core_rank(used) >= seqrt_blas_core_rank(want),
                  "OpenBLAS core '%s' is weaker than '%s':\n%s", used, want, out);
    if (seqrt_blas_core_rank(native) < seqrt_blas_core_rank(want)) {
        ck_assert_str_eq(used, want);
        ck_assert_msg(strstr(out, "re-executed the program with OPENBLAS_CORETYPE=") != NULL,
                      "%s", out);
        ck_assert_msg(strstr(out, "warning") == NULL, "%s", out);
    }
}
END_TEST

/* A core the user chose is kept, even a weak one. */
START_TEST(explicit_coretype_kept)
{
    int st;
    const char *out = run_cli("OPENBLAS_CORETYPE=Prescott", "--blas-info", &st);
    ck_assert_int_eq(st, 0);
    ck_assert_str_eq(core_line(out), "Prescott");
    ck_assert_msg(strstr(out, "from the environment") != NULL, "%s", out);
    if (seqrt_blas_wanted_core())
        ck_assert_msg(strstr(out, "NOT in use") != NULL, "%s", out);
}
END_TEST

START_TEST(threads_policy)
{
    int st;
    const char *out = run_cli("", "--blas-info", &st); /* 10 parameters: one thread */
    ck_assert_msg(strstr(out, "threads:         1 (auto") != NULL, "%s", out);
    out = run_cli("", "--threads 2 --blas-info", &st);
    ck_assert_msg(st == 0 && strstr(out, "threads:         2 (--threads)") != NULL, "%s", out);
    out = run_cli("", "--blas-info --threads=3", &st);
    ck_assert_msg(st == 0 && strstr(out, "threads:         3 (--threads)") != NULL, "%s", out);
    out = run_cli("OPENBLAS_NUM_THREADS=2", "--blas-info", &st);
    ck_assert_msg(st == 0 && strstr(out, "threads:         2 (environment)") != NULL, "%s", out);
    out = run_cli("", "--threads zero --blas-info", &st);
    ck_assert_msg(st == 2 && strstr(out, "--threads") != NULL, "status %d: %s", st, out);
    out = run_cli("", "--blas-info --threads", &st);
    ck_assert_int_eq(st, 2);
}
END_TEST

/* In-process with an argv that is not the process's: no re-exec (we are
 * still here), --threads removed from argv. */
START_TEST(in_process_strips_threads)
{
    char a0[] = "prog", a1[] = "--threads", a2[] = "1", a3[] = "summary";
    char *argv[] = {a0, a1, a2, a3, NULL};
    int argc = seqrt_blas_setup(&tiny, 4, argv);
    ck_assert_int_eq(argc, 2);
    ck_assert_str_eq(argv[1], "summary");
    ck_assert_ptr_null(argv[2]);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("runtime_blas_setup");
    TCase *c = test_tcase("Core");
    tcase_add_test(c, core_rank_table);
    tcase_add_test(c, blas_info_names_core);
    tcase_add_test(c, reexec_gives_stronger_core);
    tcase_add_test(c, explicit_coretype_kept);
    tcase_add_test(c, threads_policy);
    tcase_add_test(c, in_process_strips_threads);
    suite_add_tcase(s, c);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "cli") == 0) return seqrt_main(&tiny, argc, argv);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return EXIT_FAILURE;
    self[n] = '\0';
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
