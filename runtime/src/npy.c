/*
 * npy.c: NumPy .npy arrays in and out: training data and predictions.
 * Reads format 1.0/2.0/3.0, little-endian, C order, numeric dtypes, and
 * converts to seqrt_real or int32. Every malformed file is an error that
 * names the path and the reason; sizes the header claims are checked
 * against the file's size before anything is allocated.
 *
 *   file   -> "\x93NUMPY" major minor hlen(u16 LE for 1.x, u32 LE after)
 *             header(hlen bytes: a Python dict literal) data
 *   header -> "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "seqrt_checked.h"

#define MAX_HEADER (1u << 20)

typedef struct {
    char kind;              /* 'f', 'i', 'u', 'b' */
    int size;               /* bytes per element */
    int fortran;
    int ndim;
    int64_t shape[SEQRT_NPY_MAX_DIMS];
    int have_descr, have_order, have_shape;
} Header;

typedef struct {
    const char *s;
    size_t pos, len;
    const char *path;
    seqrt_error *err;
} Lex;

static void ws(Lex *x)
{
    while (x->pos < x->len && (x->s[x->pos] == ' ' || x->s[x->pos] == '\t' ||
                               x->s[x->pos] == '\n' || x->s[x->pos] == '\r'))
        x->pos++;
}

static int eat(Lex *x, char c)
{
    ws(x);
    if (x->pos < x->len && x->s[x->pos] == c) { x->pos++; return 1; }
    return 0;
}

static int bad(Lex *x, const char *why)
{
    return seqrt_errorf(x->err, SEQRT_EFORMAT, "%s: unparsable .npy header: %s at byte %zu",
                        x->path, why, x->pos);
}

/* string -> '\'' chars '\'' | '"' chars '"'  (no escapes in numpy's keys,
 * no control bytes: a NUL would end the C string early, so '<f4\0junk'
 * would read as '<f4') */
static int lex_string(Lex *x, char *out, size_t cap)
{
    ws(x);
    if (x->pos >= x->len || (x->s[x->pos] != '\'' && x->s[x->pos] != '"'))
        return bad(x, "expected a string");
    char q = x->s[x->pos++];
    size_t n = 0;
    while (x->pos < x->len && x->s[x->pos] != q) {
        if (x->s[x->pos] == '\\') return bad(x, "escape in string");
        if ((unsigned char)x->s[x->pos] < 0x20) return bad(x, "control byte in string");
        if (n + 1 >= cap) return bad(x, "string too long");
        out[n++] = x->s[x->pos++];
    }
    if (x->pos >= x->len) return bad(x, "unterminated string");
    x->pos++;
    out[n] = '\0';
    return SEQRT_OK;
}

static int parse_descr(Lex *x, Header *h)
{
    char d[16];
    ws(x);
    if (x->pos < x->len && x->s[x->pos] == '[')
        return seqrt_errorf(x->err, SEQRT_EUNSUPPORTED, "%s: structured dtypes are not supported",
                            x->path);
    int rc = lex_string(x, d, sizeof d);
    if (rc) return rc;
    char order = d[0], kind = d[1];
    char *end;
    long size = strtol(d + 2, &end, 10);
    int known = (order == '<' || order == '>' || order == '|' || order == '=') && *end == '\0' &&
                ((kind == 'f' && (size == 4 || size == 8)) ||
                 ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
                 (kind == 'b' && size == 1));
    if (!known)
        return seqrt_errorf(x->err, SEQRT_EUNSUPPORTED,
                            "%s: unsupported dtype '%s' (want float32/64 or an integer type)",
                            x->path, d);
    if (order == '>' && size > 1)
        return seqrt_errorf(x->err, SEQRT_EUNSUPPORTED, "%s: big-endian dtype '%s' is not supported",
                            x->path, d);
    h->kind = kind;
    h->size = (int)size;
    h->have_descr = 1;
    return SEQRT_OK;
}

static int parse_order(Lex *x, Header *h)
{
    ws(x);
    if (x->len - x->pos >= 5 && memcmp(x->s + x->pos, "False", 5) == 0) x->pos += 5;
    else if (x->len - x->pos >= 4 && memcmp(x->s + x->pos, "True", 4) == 0) {
        x->pos += 4;
        h->fortran = 1;
    } else return bad(x, "fortran_order must be True or False");
    h->have_order = 1;
    return SEQRT_OK;
}

/* shape -> '(' [ int { ',' int } [ ',' ] ] ')' */
static int parse_shape(Lex *x, Header *h)
{
    if (!eat(x, '(')) return bad(x, "expected '(' for shape");
    h->ndim = 0;
    while (!eat(x, ')')) {
        ws(x);
        int64_t v = 0;
        size_t start = x->pos;
        while (x->pos < x->len && x->s[x->pos] >= '0' && x->s[x->pos] <= '9') {
            int digit = x->s[x->pos++] - '0';
            if (seqrt_mul_i64(v, 10, &v) || seqrt_add_i64(v, digit, &v))
                return seqrt_errorf(x->err, SEQRT_ERANGE, "%s: shape dimension overflows int64", x->path);
        }
        if (x->pos == start) return bad(x, "expected a non-negative integer in shape");
        if (h->ndim == SEQRT_NPY_MAX_DIMS)
            return seqrt_errorf(x->err, SEQRT_EUNSUPPORTED, "%s: more than %d dimensions",
                                x->path, SEQRT_NPY_MAX_DIMS);
        h->shape[h->ndim++] = v;
        if (eat(x, ')')) break;
        if (!eat(x, ',')) return bad(x, "expected ',' or ')' in shape");
    }
    h->have_shape = 1;
    return SEQRT_OK;
}

/* dict -> '{' [ key ':' value { ',' key ':' value } [ ',' ] ] '}' */
static int parse_header(Header *h, const char *text, size_t len, const char *path, seqrt_error *err)
{
    Lex x = {text, 0, len, path, err};
    memset(h, 0, sizeof *h);
    if (!eat(&x, '{')) return bad(&x, "expected '{'");
    while (!eat(&x, '}')) {
        char key[32];
        int rc = lex_string(&x, key, sizeof key);
        if (rc) return rc;
        if (!eat(&x, ':')) return bad(&x, "expected ':'");
        if (strcmp(key, "descr") == 0 && !h->have_descr) rc = parse_descr(&x, h);
        else if (strcmp(key, "fortran_order") == 0 && !h->have_order) rc = parse_order(&x, h);
        else if (strcmp(key, "shape") == 0 && !h->have_shape) rc = parse_shape(&x, h);
        else return bad(&x, "unexpected or repeated key");
        if (rc) return rc;
        if (eat(&x, '}')) break;
        if (!eat(&x, ',')) return bad(&x, "expected ',' or '}'");
    }
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return bad(&x, "missing one of 'descr', 'fortran_order', 'shape'");
    if (h->fortran)
        return seqrt_errorf(err, SEQRT_EUNSUPPORTED, "%s: fortran_order arrays are not supported "
                            "(save with np.ascontiguousarray)", path);
    return SEQRT_OK;
}

/* One element as double and (when integral) int64. */
static void decode(const Header *h, const unsigned char *b, double *d, int64_t *i, int *is_int)
{
    *is_int = h->kind != 'f';
    uint64_t u = h->size == 1 ? b[0] : h->size == 2 ? seqrt_le16(b)
               : h->size == 4 ? seqrt_le32(b) : seqrt_le64(b);
    if (h->kind == 'f') {
        if (h->size == 4) { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); *d = f; }
        else memcpy(d, &u, 8);
        return;
    }
    if (h->kind == 'i') {   /* sign-extend */
        int shift = 64 - 8 * h->size;
        *i = (int64_t)(u << shift) >> shift;
        *d = (double)*i;
    } else if (h->kind == 'b') {
        *i = u != 0;
        *d = (double)*i;
    } else {
        *i = u > INT64_MAX ? INT64_MAX : (int64_t)u;   /* clamped: still out of int32 range */
        *d = (double)u;
    }
}

static int convert(seqrt_array *a, const Header *h, const unsigned char *b, int64_t first,
                   int64_t n, const char *path, seqrt_error *err)
{
    for (int64_t k = 0; k < n; k++, b += h->size) {
        double d;
        int64_t i = 0;
        int is_int;
        decode(h, b, &d, &i, &is_int);
        if (!a->is_int) {
            ((seqrt_real *)a->data)[first + k] = (seqrt_real)d;
            continue;
        }
        if (!is_int) {
            if (!(d >= INT32_MIN && d <= INT32_MAX) || d != floor(d))
                return seqrt_errorf(err, SEQRT_ERANGE, "%s: element %lld (%g) is not an int32 value",
                                    path, (long long)(first + k), d);
            i = (int64_t)d;
        }
        if (i < INT32_MIN || i > INT32_MAX)
            return seqrt_errorf(err, SEQRT_ERANGE, "%s: element %lld (%lld) is outside the int32 range",
                                path, (long long)(first + k), (long long)i);
        ((int32_t *)a->data)[first + k] = (int32_t)i;
    }
    return SEQRT_OK;
}

static int read_body(seqrt_array *out, FILE *f, const char *path, int as_int, seqrt_error *err)
{
    int64_t fsize = seqrt_file_size(f);
    if (fsize < 0) return seqrt_errorf(err, SEQRT_EIO, "%s: not a regular file", path);
    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: truncated: too short for a .npy header", path);
    if (memcmp(pre, "\x93NUMPY", 6) != 0)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: not a .npy file (bad magic)", path);
    int major = pre[6];
    if (major < 1 || major > 3)
        return seqrt_errorf(err, SEQRT_EUNSUPPORTED, "%s: unsupported .npy format version %d.%d",
                            path, major, pre[7]);
    size_t lenbytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, lenbytes, f) != lenbytes)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: truncated header length", path);
    uint64_t hlen = major == 1 ? seqrt_le16(pre + 8) : seqrt_le32(pre + 8);
    int64_t data_at = (int64_t)(8 + lenbytes + hlen);   /* hlen < 2^32: no overflow */
    if (hlen > MAX_HEADER || data_at > fsize)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: truncated header (claims %llu bytes, file has %lld)",
                            path, (unsigned long long)hlen, (long long)fsize);
    char *text;
    int hrc = seqrt_read_header(f, path, hlen, &text, err);
    if (hrc) return hrc;
    Header h;
    int rc = parse_header(&h, text, hlen, path, err);
    free(text);
    if (rc) return rc;

    int64_t count, claimed;
    if (seqrt_prod_i64(h.shape, h.ndim, &count) || seqrt_mul_i64(count, h.size, &claimed))
        return seqrt_errorf(err, SEQRT_ERANGE, "%s: shape product overflows", path);
    if (claimed > fsize - data_at)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: truncated data: header claims %lld bytes, file holds %lld",
                            path, (long long)claimed, (long long)(fsize - data_at));
    size_t elem = as_int ? sizeof(int32_t) : sizeof(seqrt_real), bytes;
    if (seqrt_bytes_of(count, elem, &bytes) || seqrt_add_size(bytes, 1, &bytes))
        return seqrt_errorf(err, SEQRT_ERANGE, "%s: array too large for memory", path);
    out->ndim = h.ndim;
    memcpy(out->shape, h.shape, sizeof h.shape);
    out->count = count;
    out->is_int = as_int != 0;
    out->data = malloc(bytes);
    if (!out->data) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory for %lld elements",
                                        path, (long long)count);
    unsigned char buf[1 << 15];   /* a multiple of every element size */
    for (int64_t done = 0; done < count;) {
        int64_t n = count - done < (int64_t)sizeof buf / h.size ? count - done : (int64_t)sizeof buf / h.size;
        if (fread(buf, (size_t)h.size, (size_t)n, f) != (size_t)n)
            return seqrt_errorf(err, SEQRT_EIO, "%s: read failed in data", path);
        if ((rc = convert(out, &h, buf, done, n, path, err))) return rc;
        done += n;
    }
    return SEQRT_OK;
}

int seqrt_npy_read(seqrt_array *out, const char *path, int as_int, seqrt_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = seqrt_fopen_read(path);
    if (!f) return seqrt_errorf(err, SEQRT_EIO, "%s: cannot open: %s", path, strerror(errno));
    int rc = read_body(out, f, path, as_int, err);
    fclose(f);
    if (rc) seqrt_array_free(out);
    return rc;
}

void seqrt_array_free(seqrt_array *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Header padded with spaces so the data starts on a 64-byte boundary. */
static int write_npy(const char *path, const void *data, const char *descr, int size, int ndim,
                     const int64_t *shape, seqrt_error *err)
{
    if (ndim < 0 || ndim > SEQRT_NPY_MAX_DIMS)
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: cannot write %d dimensions", path, ndim);
    char dict[400];
    int64_t count = 1;
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || seqrt_mul_i64(count, shape[i], &count))
            return seqrt_errorf(err, SEQRT_EINVAL, "%s: negative or overflowing dimension", path);
        n += snprintf(dict + n, sizeof dict - (size_t)n, ndim == 1 ? "%lld," : i ? ", %lld" : "%lld",
                      (long long)shape[i]);
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    size_t hlen = (size_t)n + pad + 1;
    pre[8] = (unsigned char)(hlen & 0xFF);
    pre[9] = (unsigned char)(hlen >> 8);

    seqrt_atomic a;
    int rc = seqrt_atomic_open(&a, path, err);
    if (rc) return rc;
    seqrt_atomic_write(&a, pre, sizeof pre);
    seqrt_atomic_write(&a, dict, (size_t)n);
    for (size_t i = 0; i < pad; i++) seqrt_atomic_write(&a, " ", 1);
    seqrt_atomic_write(&a, "\n", 1);
    unsigned char buf[4096];
    size_t used = 0;
    for (int64_t i = 0; i < count; i++) {
        const unsigned char *src = (const unsigned char *)data + (size_t)i * (size_t)size;
        if (size == 4) { uint32_t w; memcpy(&w, src, 4); seqrt_put_le32(buf + used, w); }
        else { uint64_t w; memcpy(&w, src, 8); seqrt_put_le64(buf + used, w); }
        used += (size_t)size;
        if (used == sizeof buf) { seqrt_atomic_write(&a, buf, used); used = 0; }
    }
    seqrt_atomic_write(&a, buf, used);
    return seqrt_atomic_commit(&a, err);
}

int seqrt_npy_write(const char *path, const seqrt_real *data, int ndim, const int64_t *shape,
                    seqrt_error *err)
{
    return write_npy(path, data, sizeof(seqrt_real) == 4 ? "<f4" : "<f8", (int)sizeof(seqrt_real),
                     ndim, shape, err);
}

int seqrt_npy_write_i32(const char *path, const int32_t *data, int ndim, const int64_t *shape,
                        seqrt_error *err)
{
    return write_npy(path, data, "<i4", 4, ndim, shape, err);
}
