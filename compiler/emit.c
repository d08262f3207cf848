/* emit.c: an indenting printer into memory, written out atomically. */
#include "emit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "wrap.h"

void emit_init(Printer *p) { memset(p, 0, sizeof *p); }

void emit_free(Printer *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

static void append(Printer *p, const char *s, size_t n)
{
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + n + 1)
            cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b)
            seq_die("out of memory");
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

/* Append text; each line it completes is folded to the width. */
static void put(Printer *p, const char *s, size_t n)
{
    while (n) {
        const char *nl = memchr(s, '\n', n);
        size_t k = nl ? (size_t)(nl - s) + 1 : n;
        append(p, s, k);
        s += k;
        n -= k;
        if (!nl)
            break;
        char *folded = seq_wrap_c_line(p->buf + p->line_start, p->len - 1 - p->line_start);
        if (folded) {
            p->len = p->line_start;
            append(p, folded, strlen(folded));
            append(p, "\n", 1);
            free(folded);
        }
        p->line_start = p->len;
    }
}

static void vline(Printer *p, const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
    char small[1024];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    for (int i = 0; i < p->indent; i++)
        put(p, "    ", 4);
    put(p, prefix, strlen(prefix));
    if (n < (int)sizeof small) {
        put(p, small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (!big)
            seq_die("out of memory");
        vsnprintf(big, (size_t)n + 1, fmt, ap2);
        put(p, big, (size_t)n);
        free(big);
    }
    va_end(ap2);
    put(p, suffix, strlen(suffix));
}

void emit_line(Printer *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(p, "", fmt, ap, "\n");
    va_end(ap);
}

void emit_open(Printer *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(p, "", fmt, ap, " {\n");
    va_end(ap);
    p->indent++;
}

void emit_fn_open(Printer *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(p, "", fmt, ap, "\n");
    va_end(ap);
    emit_line(p, "{");
    p->indent++;
}

void emit_close(Printer *p, const char *suffix)
{
    if (p->indent > 0)
        p->indent--;
    for (int i = 0; i < p->indent; i++)
        put(p, "    ", 4);
    put(p, "}", 1);
    if (suffix)
        put(p, suffix, strlen(suffix));
    put(p, "\n", 1);
}

void emit_blank(Printer *p) { put(p, "\n", 1); }

void emit_comment(Printer *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(p, "/* ", fmt, ap, " */\n");
    va_end(ap);
}

void emit_raw(Printer *p, const char *s) { put(p, s, strlen(s)); }

bool emit_write_file(const Printer *p, const char *path)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return false;
    snprintf(tmp, n + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return false;
    }
    fchmod(fd, 0644); /* mkstemp makes 0600; generated sources are ordinary files */
    FILE *f = fdopen(fd, "w");
    bool ok = f && fwrite(p->buf ? p->buf : "", 1, p->len, f) == p->len;
    ok = f && fflush(f) == 0 && ok;
    ok = ok && fsync(fd) == 0;
    if (f)
        fclose(f);
    else
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok;
}

bool emit_write_out(const Printer *p, const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *path = malloc(n);
    if (!path)
        seq_die("out of memory");
    snprintf(path, n, "%s/%s", dir, file);
    bool ok = emit_write_file(p, path);
    if (!ok)
        fprintf(stderr, "seqc: cannot write '%s': %s\n", path, strerror(errno));
    free(path);
    return ok;
}
