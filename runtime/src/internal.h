/*
 * internal.h: what libseqrt's modules share and never install: error
 * formatting, little-endian byte access, the atomic file writer, the small
 * JSON reader used by the safetensors loader, and the modules' calls that
 * only the library itself makes (a dataset's batches, data-parallel sums,
 * --blas-info). Includes every public runtime header.
 */
#ifndef SEQRT_INTERNAL_H
#define SEQRT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "closest.h"
#include "seqrt_kernel.h"
#include "seqrt_train.h"

#if defined(__GNUC__)
#define SEQRT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SEQRT_PRINTF(a, b)
#endif

/* Fill err (may be NULL) and return code; lets callers write
 * `return seqrt_errorf(err, SEQRT_EFORMAT, "%s: ...", path);`. */
int seqrt_errorf(seqrt_error *err, int code, const char *fmt, ...) SEQRT_PRINTF(3, 4);

/* ---- little-endian loads and stores (host-order independent) ---- */
static inline uint16_t seqrt_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t seqrt_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t seqrt_le64(const unsigned char *p)
{
    return (uint64_t)seqrt_le32(p) | (uint64_t)seqrt_le32(p + 4) << 32;
}
static inline void seqrt_put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void seqrt_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- FNV-1a 64: the checksums of checkpoints and of resumed runs' data ---- */
#define SEQRT_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
static inline uint64_t seqrt_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* ---- fileio.c: whole-file reads and atomic writes ---- */

/* Size in bytes of an open file (seekable regular file), or -1. */
int64_t seqrt_file_size(FILE *f);

/* fopen(path, "rb") that never blocks: a FIFO with no writer (or any
 * special file) opens at once and then fails seqrt_file_size, where plain
 * fopen would wait forever. NULL with errno set on failure. */
FILE *seqrt_fopen_read(const char *path);
int seqrt_read_whole(const char *path, char **buf, size_t *len, seqrt_error *err);
int seqrt_read_header(FILE *f, const char *path, uint64_t n, char **text, seqrt_error *err);

/* init.c: one parameter into dst[0..p->size), drawing from stream
 * (seed, index). */
int seqrt_init_param(seqrt_real *dst, const seqrt_param *p, uint64_t seed,
                     uint64_t index, seqrt_error *err);

/* ---- data.c: a dataset's axis lengths and batches ---- */

/* The model's check_dims on axis lengths dims (an error naming the layer
 * when a sequence is too short for it); SEQRT_OK without the hook. */
int seqrt_check_dims(const seqrt_model *m, const int64_t *dims, seqrt_error *err);
/* Copy samples idx[0..n) into contiguous batch buffers, one per array
 * (ybuf may be NULL). */
void seqrt_dataset_gather(const seqrt_dataset *d, const int64_t *idx, int64_t n,
                          void *const *xbuf, void *const *ybuf);
/* Elements per sample of io with the dataset's axis lengths; -1 if an
 * axis it needs is unset. */
int64_t seqrt_io_row(const seqrt_io *io, const int64_t *dims);
/* The length of io's axis k (after the batch axis) with those axis
 * lengths, a valid convolution's shortening included; -1 when unset. */
int64_t seqrt_io_dim(const seqrt_io *io, int k, const int64_t *dims);
/* "[N, T-1, 3]": io's shape as a file must have it, axes by name. */
void seqrt_io_shape_str(char *buf, size_t cap, const seqrt_model *m, const seqrt_io *io);

/* ---- dist.c: data-parallel training (MPI in the seqrt_mpi library, one
 * process elsewhere). Sums are in place across all ranks. ---- */
int seqrt_dist_init(int *argc, char ***argv);
void seqrt_dist_finalize(void);
int seqrt_dist_rank(void);
int seqrt_dist_size(void);
void seqrt_dist_sum(double *v, int n);
void seqrt_dist_sum_real(seqrt_real *v, size_t n);
int seqrt_dist_same(uint64_t v);        /* 1 when every rank passed the same v */
int seqrt_dist_any(int flag);           /* the largest flag of all ranks */

/* blas_setup.c, for --blas-info: OpenBLAS config, core in use, CPU
 * features, threads, seqrt_real. */
void seqrt_blas_info(FILE *out, const seqrt_model *m);

/* cli.c: the command line parsed and its numbers range-checked, nothing
 * run: 0, or the usage exit status (message on stderr). */
int seqrt_cli_parse(const seqrt_model *m, int argc, char **argv);

/* checkpoint.c: a whole number from a file's metadata (decimal, no
 * spaces, no exponent) in [lo, hi], or an error naming the key. */
int seqrt_meta_count(const char *v, const char *path, const char *key, int64_t lo, int64_t hi,
                     int64_t *out, seqrt_error *err);

/* File content for a message: at most `max` bytes of src[0..n), control
 * characters escaped (\r, \t, \x1b, ...), "..." when cut;
 * NUL-terminated in dst[cap]. Never lets a file drive the terminal. */
const char *seqrt_quote(char *dst, size_t cap, const char *src, size_t n, size_t max);

/* An atomic save: write into `path.tmp.XXXXXX` in the target's directory,
 * then commit = fflush, fsync, rename over path, fsync the directory.
 * Any failure before commit leaves the old file untouched. */
typedef struct {
    FILE *f;
    char *path;
    char *tmp;
    int failed;      /* a write failed; commit will refuse */
} seqrt_atomic;

int seqrt_atomic_open(seqrt_atomic *a, const char *path, seqrt_error *err);
void seqrt_atomic_write(seqrt_atomic *a, const void *buf, size_t n);
int seqrt_atomic_commit(seqrt_atomic *a, seqrt_error *err);
void seqrt_atomic_abort(seqrt_atomic *a);
/* buf[0..n) as the whole new contents of path, written atomically. */
int seqrt_atomic_save(const char *path, const void *buf, size_t n, seqrt_error *err);

/* ---- json.c: a strict reader for small headers (safetensors) ---- */
typedef enum {
    SEQRT_JSON_NULL, SEQRT_JSON_FALSE, SEQRT_JSON_TRUE, SEQRT_JSON_NUMBER,
    SEQRT_JSON_STRING, SEQRT_JSON_ARRAY, SEQRT_JSON_OBJECT
} seqrt_json_type;

typedef struct seqrt_json seqrt_json;
struct seqrt_json {
    seqrt_json_type type;
    char *str;             /* STRING: decoded UTF-8, NUL-terminated */
    size_t len;            /* STRING: bytes (may hold an escaped NUL) */
    double num;            /* NUMBER */
    int is_int;            /* NUMBER written as an integer that fits int64 */
    int64_t inum;
    int n;                 /* ARRAY/OBJECT: number of items */
    seqrt_json **items;    /* ARRAY/OBJECT: values */
    char **keys;           /* OBJECT: keys, parallel to items */
    size_t *key_lens;
};

#define SEQRT_JSON_MAX_DEPTH 32
/* Values (nodes) in one document: ~100 bytes each, so at most ~100 MB. A
 * safetensors header needs about 10 per tensor. */
#define SEQRT_JSON_MAX_NODES (1 << 20)

/* Parse text[0..len) as one JSON value (surrounding whitespace allowed).
 * On error returns NULL and writes "reason at byte N" to msg. */
seqrt_json *seqrt_json_parse(const char *text, size_t len, char *msg, size_t msglen);
void seqrt_json_free(seqrt_json *j);

/* A growable string for building JSON; `failed` latches out-of-memory. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} seqrt_strbuf;

void seqrt_strbuf_add(seqrt_strbuf *b, const char *s, size_t n);
void seqrt_strbuf_printf(seqrt_strbuf *b, const char *fmt, ...) SEQRT_PRINTF(2, 3);
/* Append s as a JSON string literal, quotes and escapes included. */
void seqrt_json_write_string(seqrt_strbuf *b, const char *s);

#endif /* SEQRT_INTERNAL_H */
