/*
 * fileio.c: file helpers for the readers and writers: the size of an open
 * file (readers check claimed sizes against it before allocating) and the
 * atomic save every writer uses (temp file, fsync, rename, fsync the
 * directory), so a crash mid-save never destroys the previous file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int64_t seqrt_file_size(FILE *f)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (int64_t)st.st_size;
}

FILE *seqrt_fopen_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return NULL;
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);   /* reads block as usual */
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int seqrt_atomic_open(seqrt_atomic *a, const char *path, seqrt_error *err)
{
    static const char suffix[] = ".tmp.XXXXXX";
    memset(a, 0, sizeof *a);
    size_t n = strlen(path);
    a->path = dup_str(path);
    a->tmp = malloc(n + sizeof suffix);
    if (!a->path || !a->tmp) {
        /* tmp holds no name yet: free it, never unlink it */
        free(a->tmp);
        a->tmp = NULL;
        seqrt_atomic_abort(a);
        return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    }
    memcpy(a->tmp, path, n);
    memcpy(a->tmp + n, suffix, sizeof suffix);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        free(a->tmp);
        a->tmp = NULL;   /* nothing to unlink */
        seqrt_atomic_abort(a);
        return seqrt_errorf(err, SEQRT_EIO, "%s: cannot create temporary file: %s",
                            path, strerror(e));
    }
    /* mkstemp makes 0600; keep the old file's mode, or the usual 0644. */
    struct stat st;
    fchmod(fd, stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644);
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        seqrt_atomic_abort(a);
        return seqrt_errorf(err, SEQRT_EIO, "%s: %s", path, strerror(e));
    }
    return SEQRT_OK;
}

void seqrt_atomic_write(seqrt_atomic *a, const void *buf, size_t n)
{
    if (!a->failed && n && fwrite(buf, 1, n, a->f) != n) a->failed = errno ? errno : EIO;
}

void seqrt_atomic_abort(seqrt_atomic *a)
{
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    memset(a, 0, sizeof *a);
}

/* fsync the directory holding path, so the rename itself is durable. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? malloc((size_t)(slash - path) + 2) : NULL;
    if (slash && !dir) return -1;
    if (dir) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir ? dir : ".", O_RDONLY);
    free(dir);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Temporary files that a killed save left beside `path` (path.tmp.XXXXXX):
 * once a new version is in place they are garbage, the size of a checkpoint
 * each. */
static void remove_leftovers(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dlen = slash ? (size_t)(slash - path) : 1, blen = strlen(base);
    char dir[4096];
    if (dlen >= sizeof dir) return;
    memcpy(dir, slash ? path : ".", dlen);
    dir[dlen] = '\0';
    if (slash && dlen == 0) strcpy(dir, "/");
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strlen(n) == blen + 11 && !strncmp(n, base, blen) && !strncmp(n + blen, ".tmp.", 5)) {
            char full[8192];
            snprintf(full, sizeof full, "%s/%s", dir, n);
            unlink(full);
        }
    }
    closedir(d);
}

int seqrt_atomic_save(const char *path, const void *buf, size_t n, seqrt_error *err)
{
    seqrt_atomic a;
    int rc = seqrt_atomic_open(&a, path, err);
    if (rc) return rc;
    seqrt_atomic_write(&a, buf, n);
    return seqrt_atomic_commit(&a, err);
}

int seqrt_atomic_commit(seqrt_atomic *a, seqrt_error *err)
{
    int e = a->failed;
    if (!e && fflush(a->f) != 0) e = errno;
    if (!e && fsync(fileno(a->f)) != 0) e = errno;
    if (fclose(a->f) != 0 && !e) e = errno;
    a->f = NULL;
    if (e) {
        int code = seqrt_errorf(err, SEQRT_EIO, "%s: write failed: %s", a->path, strerror(e));
        seqrt_atomic_abort(a);
        return code;
    }
    if (rename(a->tmp, a->path) != 0) {
        e = errno;
        int code = seqrt_errorf(err, SEQRT_EIO, "%s: cannot replace file: %s",
                                a->path, strerror(e));
        seqrt_atomic_abort(a);
        return code;
    }
    free(a->tmp);
    a->tmp = NULL;   /* renamed: nothing left to unlink */
    remove_leftovers(a->path);
    int rc = sync_dir(a->path);
    int code = rc == 0 ? SEQRT_OK
                       : seqrt_errorf(err, SEQRT_EIO, "%s: saved, but syncing its directory failed: %s",
                                      a->path, strerror(errno));
    seqrt_atomic_abort(a);
    return code;
}

/* A whole regular file into a NUL-terminated buffer (CSV and text data);
 * FIFOs and devices are refused, not waited on. */
int seqrt_read_whole(const char *path, char **buf, size_t *len, seqrt_error *err)
{
    *buf = NULL;
    FILE *f = seqrt_fopen_read(path);
    if (!f) return seqrt_errorf(err, SEQRT_EIO, "%s: cannot open: %s", path, strerror(errno));
    int64_t size = seqrt_file_size(f);
    *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    int rc = SEQRT_OK;
    if (size < 0) rc = seqrt_errorf(err, SEQRT_EIO, "%s: not a regular file", path);
    else if (!*buf) rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    else if (fread(*buf, 1, (size_t)size, f) != (size_t)size) rc = seqrt_errorf(err, SEQRT_EIO, "%s: read failed", path);
    fclose(f);
    if (rc) {
        free(*buf);
        *buf = NULL;
        return rc;
    }
    (*buf)[size] = '\0';
    *len = (size_t)size;
    return SEQRT_OK;
}

/* The n-byte header of a .npy or safetensors file, just checked against the
 * file's size, into a buffer the caller frees. */
int seqrt_read_header(FILE *f, const char *path, uint64_t n, char **text, seqrt_error *err)
{
    *text = malloc(n + 1);
    if (!*text) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    if (fread(*text, 1, n, f) != n) {
        free(*text);
        *text = NULL;
        return seqrt_errorf(err, SEQRT_EIO, "%s: read failed in header", path);
    }
    (*text)[n] = '\0';
    return SEQRT_OK;
}

const char *seqrt_quote(char *dst, size_t cap, const char *src, size_t n, size_t max)
{
    size_t o = 0, i = 0;
    if (!cap) return dst;
    for (; i < n && i < max; i++) {
        unsigned char c = (unsigned char)src[i];
        char e[8];
        size_t k;
        if (c == '\n') k = (size_t)snprintf(e, sizeof e, "\\n");
        else if (c == '\r') k = (size_t)snprintf(e, sizeof e, "\\r");
        else if (c == '\t') k = (size_t)snprintf(e, sizeof e, "\\t");
        else if (c < 0x20 || c == 0x7f) k = (size_t)snprintf(e, sizeof e, "\\x%02x", c);
        else e[0] = (char)c, e[1] = '\0', k = 1;
        if (o + k + 4 > cap) break;
        memcpy(dst + o, e, k);
        o += k;
    }
    if (i < n && o + 4 <= cap) memcpy(dst + o, "...", 3), o += 3;
    dst[o] = '\0';
    return dst;
}
