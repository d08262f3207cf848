/*
 * frontend_util.h: what the front-end Check suites share: run the seqc
 * binary on a file (exit status, signal, stdout and stderr captured, with a
 * time limit), read a whole file, and write a scratch file. Header-only, so
 * each check_*.c stays one translation unit.
 */
#ifndef SEQ_FRONTEND_UTIL_H
#define SEQ_FRONTEND_UTIL_H

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

typedef struct {
    int exited;      /* 1 if the process exited normally */
    int status;      /* its exit status */
    int signal;      /* the signal that ended it, or 0 (SIGALRM: the time limit) */
    char *out, *err; /* captured stdout and stderr, NUL-terminated (malloc) */
    size_t out_len, err_len;
} RunResult;

static inline char *fe_read_fd(FILE *f, size_t *len)
{
    fflush(f);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)(n > 0 ? n : 0) + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got = n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* Run argv with a time limit of `seconds` times CK_TIMEOUT_MULTIPLIER (an
 * alarm survives exec, so a hang ends as SIGALRM) and, if as_bytes > 0, that much address space
 * (RLIMIT_AS: an allocation without limit fails instead of swapping). */
static inline RunResult fe_run_limited(char *const argv[], unsigned seconds, uint64_t as_bytes)
{
    FILE *out = tmpfile(), *err = tmpfile();
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        if (as_bytes) {
            struct rlimit rl = {as_bytes, as_bytes};
            setrlimit(RLIMIT_AS, &rl);
        }
        alarm((unsigned)(seconds * test_time_scale() + 0.5));
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    RunResult r = {0};
    r.exited = WIFEXITED(st);
    r.status = r.exited ? WEXITSTATUS(st) : -1;
    r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    r.out = fe_read_fd(out, &r.out_len);
    r.err = fe_read_fd(err, &r.err_len);
    fclose(out);
    fclose(err);
    /* Under SEQ_SANITIZE a leak report exits 1, like a bad model: look. */
    ck_assert_msg(!strstr(r.err, "Sanitizer") && !strstr(r.err, "runtime error:"),
                  "%s %s: sanitizer report:\n%.4000s", argv[0], argv[1] ? argv[1] : "", r.err);
    return r;
}

static inline RunResult fe_run(char *const argv[], unsigned seconds)
{
    return fe_run_limited(argv, seconds, 0);
}

static inline RunResult fe_seqc(const char *cmd, const char *path, unsigned seconds)
{
    char *argv[] = {(char *)SEQC_PATH, (char *)cmd, (char *)path, NULL};
    return fe_run(argv, seconds);
}

static inline void fe_free(RunResult *r)
{
    free(r->out);
    free(r->err);
}

static inline char *fe_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    char *buf = fe_read_fd(f, len);
    fclose(f);
    return buf;
}

/* A scratch file under the build tree's temp dir; returns its path. */
static inline const char *fe_write_tmp(const char *name, const void *data, size_t len)
{
    static char path[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/seqc-fe-%ld-%s", dir && *dir ? dir : "/tmp", (long)getpid(),
             name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

#endif
