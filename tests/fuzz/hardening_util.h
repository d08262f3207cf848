/*
 * hardening_util.h: what the check_hardening_* suites share: a scratch
 * directory, file writers, `seqc build` of a model at test time, and running
 * a training binary with a time limit and (optionally) an address-space
 * limit, capturing its output (frontend_util.h's RunResult).
 */
#ifndef SEQ_HARDENING_UTIL_H
#define SEQ_HARDENING_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/resource.h>

#include "frontend_util.h"

static char hd_dir[1024];

/* A fresh scratch directory (under TMPDIR) for this process. */
static inline void hd_setup(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(hd_dir, sizeof hd_dir, "%s/seq-hard-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(hd_dir));
}

static inline void hd_teardown(void)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", hd_dir);
    if (system(cmd) != 0) { /* best effort */ }
}

/* hd_path("x.npy") -> "<scratch>/x.npy"; 64 rotating buffers. */
static inline const char *hd_path(const char *name)
{
    static char buf[64][1200];
    static int k;
    char *p = buf[k++ & 63];
    snprintf(p, sizeof buf[0], "%s/%s", hd_dir, name);
    return p;
}

static inline const char *hd_write(const char *name, const void *data, size_t len)
{
    const char *p = hd_path(name);
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", p);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

/* A .npy v1.0 file: header dict as given, then len data bytes. */
static inline const char *hd_npy(const char *name, const char *dict, const void *data, size_t len)
{
    char hdr[512];
    size_t n = strlen(dict), total = 10 + n + 1, pad = (64 - total % 64) % 64;
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    size_t hlen = n + pad + 1;
    hdr[8] = (char)(hlen & 0xff);
    hdr[9] = (char)(hlen >> 8);
    memcpy(hdr + 10, dict, n);
    memset(hdr + 10 + n, ' ', pad);
    hdr[10 + n + pad] = '\n';
    const char *p = hd_path(name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(hdr, 1, 10 + hlen, f);
    if (len) fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

/* A safetensors file: 8-byte length, the JSON header padded to 8, data. */
static inline const char *hd_st(const char *name, const char *json, const void *data, size_t len)
{
    size_t n = strlen(json), padded = (n + 7) / 8 * 8;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    const char *p = hd_path(name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(len8, 1, 8, f);
    fwrite(json, 1, n, f);
    for (size_t i = n; i < padded; i++) fputc(' ', f);
    if (len) fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

/* Run argv with a time limit and, if as_bytes > 0, RLIMIT_AS. */
static inline RunResult hd_run_limited(char *const argv[], unsigned seconds, uint64_t as_bytes)
{
    return fe_run_limited(argv, seconds, as_bytes);
}

/* Build the model `src` (a .seq text) with seqc into the scratch dir. */
static inline const char *hd_build(const char *name, const char *src)
{
    char seq[64];
    snprintf(seq, sizeof seq, "%s.seq", name);
    const char *sp = hd_write(seq, src, strlen(src));
    static char bin[8][1200];
    static int k;
    char *b = bin[k++ & 7];
    char seqpath[1200];
    snprintf(seqpath, sizeof seqpath, "%s", sp);
    snprintf(b, sizeof bin[0], "%s/%s", hd_dir, name);
    char *argv[] = {(char *)SEQC_PATH, "build", seqpath, "-o", b, NULL};
    RunResult r = hd_run_limited(argv, 120, 0);
    ck_assert_msg(r.exited && r.status == 0, "seqc build %s failed: %s", name, r.err);
    fe_free(&r);
    return b;
}

/* The run must end with exit status 1 (never a signal or a hang), and its
 * message must name `file` and contain `why`. */
static inline void hd_expect_error(RunResult *r, const char *file, const char *why)
{
    ck_assert_msg(r->signal != SIGALRM, "hung (killed by the time limit); stderr: %s", r->err);
    ck_assert_msg(r->exited, "killed by signal %d; stderr: %.2000s", r->signal, r->err);
    ck_assert_msg(r->status == 1, "exit status %d, want 1; stderr: %.2000s", r->status, r->err);
    ck_assert_msg(strstr(r->err, file), "stderr does not name %s: %.2000s", file, r->err);
    ck_assert_msg(strstr(r->err, why), "stderr lacks '%s': %.2000s", why, r->err);
}

#endif
