/*
 * data.c: the arrays a training binary reads, checked against the model's
 * descriptor before any of them reaches forward: rank, fixed axis sizes,
 * the lengths of named time axes (every array sharing a name must agree),
 * sample counts and integer ranges. Also random data in the declared shapes
 * (gradcheck without files) and the gather of shuffled rows into contiguous
 * batch buffers, the one data operation inside a training step.
 */
#include <stdlib.h>

#include "internal.h"
#include "seqrt_checked.h"

enum { MAX_LABELS = 16 };

/* What every check needs to word its message. */
typedef struct {
    seqrt_dataset *d;
    const char *const *xlabels, *const *ylabels;   /* file names */
    int *dim_from;       /* [n_dims]: array that set the length, or -1 */
    seqrt_error *err;
} Check;

int64_t seqrt_io_dim(const seqrt_io *io, int k, const int64_t *dims)
{
    if (io->shape[k] >= 0) return io->shape[k];
    int64_t n = dims[io->dim_index[k]];
    if (n < 0) return -1;
    if (io->dim_div[k] > 1) {
        if (n + io->dim_add[k] < 0) return -1; /* too short: check_dims says so */
        n = (n + io->dim_add[k]) / io->dim_div[k];
    }
    return n + io->dim_offset[k];
}

/* -1 also when the product overflows int64: no array can have that row. */
int64_t seqrt_io_row(const seqrt_io *io, const int64_t *dims)
{
    int64_t n = 1;
    for (int k = 0; k < io->ndim; k++) {
        int64_t v = seqrt_io_dim(io, k, dims);
        if (v < 0 || seqrt_mul_i64(n, v, &n)) return -1;
    }
    return n;
}

/* One axis as a .seq file writes it: 7, T, T-1, (T-3)/2+1. */
static void axis_str(char *buf, size_t cap, const seqrt_model *m, const seqrt_io *io, int k)
{
    if (io->shape[k] >= 0) {
        snprintf(buf, cap, "%lld", (long long)io->shape[k]);
        return;
    }
    const char *d = m->dim_names[io->dim_index[k]];
    long long add = io->dim_add[k], div = io->dim_div[k], off = io->dim_offset[k];
    char base[96];
    if (div > 1 && add) snprintf(base, sizeof base, "(%s%+lld)/%lld", d, add, div);
    else if (div > 1) snprintf(base, sizeof base, "%s/%lld", d, div);
    else snprintf(base, sizeof base, "%s", d);
    if (off) snprintf(buf, cap, "%s%+lld", base, off);
    else snprintf(buf, cap, "%s", base);
}

void seqrt_io_shape_str(char *buf, size_t cap, const seqrt_model *m, const seqrt_io *io)
{
    size_t n = (size_t)snprintf(buf, cap, "[N");
    for (int k = 0; k < io->ndim && n < cap; k++) {
        char a[128];
        axis_str(a, sizeof a, m, io, k);
        n += (size_t)snprintf(buf + n, cap - n, ", %s", a);
    }
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < ndim && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, k ? ", %lld" : "%lld", (long long)shape[k]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* Array index a: inputs 0..n_x-1, then targets. */
static const seqrt_io *io_at(const Check *c, int a)
{
    const seqrt_model *m = c->d->m;
    return a < c->d->n_x ? &m->inputs[a] : &m->targets[a - c->d->n_x];
}
static seqrt_array *array_at(const Check *c, int a)
{
    return a < c->d->n_x ? &c->d->x[a] : &c->d->y[a - c->d->n_x];
}
static const char *label_at(const Check *c, int a)
{
    return a < c->d->n_x ? c->xlabels[a] : c->ylabels[a - c->d->n_x];
}
static const char *kind_at(const Check *c, int a) { return a < c->d->n_x ? "input" : "target"; }

/* Bring the array to rank io->ndim + 1 where Keras would: sparse labels
 * [N, T, 1] for [N, T], and [N] for a declared [1]. Else a rank error. */
static int fix_rank(const Check *c, int a)
{
    const seqrt_io *io = io_at(c, a);
    seqrt_array *arr = array_at(c, a);
    int want = io->ndim + 1;
    if (arr->ndim == want + 1 && arr->shape[want] == 1 && io->is_int) arr->ndim = want;
    if (arr->ndim == want - 1 && want >= 2 && io->shape[io->ndim - 1] == 1) {
        arr->shape[want - 1] = 1;
        arr->ndim = want;
    }
    if (arr->ndim == want) return SEQRT_OK;
    char e[128], g[128];
    seqrt_io_shape_str(e, sizeof e, c->d->m, io);
    shape_str(g, sizeof g, arr->ndim, arr->shape);
    return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: %s '%s': expected shape %s (rank %d), got %s "
                        "(rank %d)", label_at(c, a), kind_at(c, a), io->name, e, want, g, arr->ndim);
}

/* Fixed axes must match; a named axis takes its length from the first
 * array that has it, and every later one must agree. */
static int check_axes(const Check *c, int a)
{
    const seqrt_model *m = c->d->m;
    const seqrt_io *io = io_at(c, a);
    const seqrt_array *arr = array_at(c, a);
    for (int k = 0; k < io->ndim; k++) {
        int64_t got = arr->shape[k + 1];
        if (io->shape[k] >= 0) {
            if (got == io->shape[k]) continue;
            char e[128], g[128];
            seqrt_io_shape_str(e, sizeof e, m, io);
            shape_str(g, sizeof g, arr->ndim, arr->shape);
            return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: %s '%s': expected shape %s, got %s "
                                "(axis %d is %lld, not %lld)", label_at(c, a), kind_at(c, a),
                                io->name, e, g, k + 1, (long long)got, (long long)io->shape[k]);
        }
        int j = io->dim_index[k];
        if (j < 0 || j >= m->n_dims)
            return seqrt_errorf(c->err, SEQRT_EINVAL, "model %s: %s '%s': axis %d is dynamic but "
                                "names no dim (descriptor bug)", m->name, kind_at(c, a), io->name, k + 1);
        if (got < 1)
            return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: %s '%s': axis %d (%s) has length 0",
                                label_at(c, a), kind_at(c, a), io->name, k + 1, m->dim_names[j]);
        /* A target after valid convolutions is shorter than the input
         * that sets its axis: T-5 long, and then T is got + 5. */
        int64_t off = io->dim_offset[k];
        int shortened = off || io->dim_div[k] > 1;
        if (c->d->dims[j] < 0) {
            if (io->dim_div[k] > 1 || got - off < 1)
                return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: %s '%s': axis %d has length %lld, "
                                    "which gives no length of %s: give it through an input",
                                    label_at(c, a), kind_at(c, a), io->name, k + 1, (long long)got,
                                    m->dim_names[j]);
            c->d->dims[j] = got - off;
            c->dim_from[j] = a;
        } else if (shortened && seqrt_io_dim(io, k, c->d->dims) != got) {
            int f = c->dim_from[j];
            char e[128], want[128], g[128];
            int64_t ws[SEQRT_NPY_MAX_DIMS];
            memcpy(ws, arr->shape, sizeof ws);
            ws[k + 1] = seqrt_io_dim(io, k, c->d->dims);
            seqrt_io_shape_str(e, sizeof e, m, io);
            shape_str(want, sizeof want, arr->ndim, ws);
            shape_str(g, sizeof g, arr->ndim, arr->shape);
            return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: %s '%s': expected shape %s = %s (%s = "
                                "%lld from %s, %s '%s'), got %s", label_at(c, a), kind_at(c, a),
                                io->name, e, want, m->dim_names[j], (long long)c->d->dims[j],
                                label_at(c, f), kind_at(c, f), io_at(c, f)->name, g);
        } else if (!shortened && c->d->dims[j] != got) {
            int f = c->dim_from[j];
            return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: %s '%s': axis %d (%s) has length %lld, but "
                                "%s (%s '%s') has %s = %lld", label_at(c, a), kind_at(c, a),
                                io->name, k + 1, m->dim_names[j], (long long)got, label_at(c, f),
                                kind_at(c, f), io_at(c, f)->name, m->dim_names[j],
                                (long long)c->d->dims[j]);
        }
    }
    return SEQRT_OK;
}

/* The range integer data must lie in: the descriptor's, or for a sparse
 * target without one, the class count of the output it is scored against. */
static int64_t int_limit(const seqrt_model *m, int a, int n_x)
{
    if (a < n_x) return m->inputs[a].int_limit;
    int t = a - n_x;
    if (m->targets[t].int_limit > 0) return m->targets[t].int_limit;
    for (int i = 0; i < m->n_losses; i++) {
        const seqrt_loss_spec *s = &m->losses[i];
        if (s->target == t && s->kind == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
            const seqrt_io *o = &m->outputs[s->output];
            return o->shape[o->ndim - 1] > 0 ? o->shape[o->ndim - 1] : 0;
        }
    }
    return 0;
}

static int check_ints(const Check *c, int a)
{
    const seqrt_array *arr = array_at(c, a);
    int64_t limit = int_limit(c->d->m, a, c->d->n_x);
    if (!arr->is_int || limit <= 0) return SEQRT_OK;
    const int32_t *v = arr->data;
    int64_t bad = seqrt_labels_check(v, arr->count, limit);
    if (bad < 0) return SEQRT_OK;
    return seqrt_errorf(c->err, SEQRT_ERANGE, "%s: %s '%s': value %d at element %lld is outside "
                        "[0, %lld)", label_at(c, a), kind_at(c, a), io_at(c, a)->name, (int)v[bad],
                        (long long)bad, (long long)limit);
}

/* Every array against the descriptor, then rows and sample counts. */
static int check_all(const Check *c)
{
    seqrt_dataset *d = c->d;
    int n = d->n_x + d->n_y, rc, first = -1;
    for (int a = 0; a < n; a++) {
        const seqrt_array *arr = array_at(c, a);
        if (!arr->data) continue; /* an input the caller fills (decode) */
        if ((rc = fix_rank(c, a)) || (rc = check_axes(c, a)) || (rc = check_ints(c, a))) return rc;
        if (first < 0) {
            first = a;
            d->n_samples = arr->shape[0];
        } else if (arr->shape[0] != d->n_samples)
            return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: %s '%s' has %lld samples, but %s (%s "
                                "'%s') has %lld", label_at(c, a), kind_at(c, a), io_at(c, a)->name,
                                (long long)arr->shape[0], label_at(c, first), kind_at(c, first),
                                io_at(c, first)->name, (long long)d->n_samples);
    }
    if (first >= 0 && d->n_samples < 1)
        return seqrt_errorf(c->err, SEQRT_EINVAL, "%s: no samples (axis 0 has length 0)", label_at(c, first));
    for (int a = 0; a < n; a++) {
        if (!array_at(c, a)->data) continue;
        int64_t row = seqrt_io_row(io_at(c, a), d->dims);
        (a < d->n_x ? d->x_row : d->y_row)[a < d->n_x ? a : a - d->n_x] = row;
    }
    return SEQRT_OK;
}

/* Allocate the tables for m's inputs and (optionally) targets. */
static int dataset_alloc(seqrt_dataset *d, const seqrt_model *m, int with_targets, seqrt_error *err)
{
    memset(d, 0, sizeof *d);
    d->m = m;
    d->n_x = m->n_inputs;
    d->n_y = with_targets ? m->n_targets : 0;
    d->x = calloc((size_t)d->n_x + 1, sizeof *d->x);
    d->y = calloc((size_t)d->n_y + 1, sizeof *d->y);
    d->x_row = calloc((size_t)d->n_x + 1, sizeof *d->x_row);
    d->y_row = calloc((size_t)d->n_y + 1, sizeof *d->y_row);
    d->dims = malloc(((size_t)m->n_dims + 1) * sizeof *d->dims);
    if (!d->x || !d->y || !d->x_row || !d->y_row || !d->dims) {
        seqrt_dataset_free(d);
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for the data tables");
    }
    for (int j = 0; j < m->n_dims; j++) d->dims[j] = -1;
    return SEQRT_OK;
}

static int run_checks(seqrt_dataset *d, const char *const *xl, const char *const *yl,
                      seqrt_error *err)
{
    int *from = malloc(((size_t)d->m->n_dims + 1) * sizeof *from);
    if (!from) return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    for (int j = 0; j < d->m->n_dims; j++) from[j] = -1;
    Check c = {d, xl, yl, from, err};
    int rc = check_all(&c);
    free(from);
    return rc ? rc : seqrt_check_dims(d->m, d->dims, err);
}

int seqrt_check_dims(const seqrt_model *m, const int64_t *dims, seqrt_error *err)
{
    char msg[400];
    if (m->check_dims && m->check_dims(msg, sizeof msg, dims))
        return seqrt_errorf(err, SEQRT_EINVAL, "the data is too short for the model: %s", msg);
    return SEQRT_OK;
}

/* The reader's message, plus which tensor the file was for. */
static int read_one(seqrt_array *a, const char *path, const seqrt_io *io, const char *kind,
                    seqrt_error *err)
{
    int rc = seqrt_npy_read(a, path, io->is_int, err);
    if (rc && err) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (%s '%s'%s)", kind, io->name,
                 io->is_int && rc == SEQRT_ERANGE ? " holds int32 values" : "");
    }
    return rc;
}

int seqrt_dataset_load(seqrt_dataset *d, const seqrt_model *m, const char *const *xpaths,
                       const char *const *ypaths, seqrt_error *err)
{
    int rc = dataset_alloc(d, m, ypaths != NULL, err);
    for (int i = 0; !rc && i < d->n_x; i++)
        if (xpaths[i]) rc = read_one(&d->x[i], xpaths[i], &m->inputs[i], "input", err);
    for (int i = 0; !rc && i < d->n_y; i++) rc = read_one(&d->y[i], ypaths[i], &m->targets[i], "target", err);
    if (!rc) rc = run_checks(d, xpaths, ypaths, err);
    if (rc && d->m) seqrt_dataset_free(d);
    return rc;
}

int seqrt_dataset_from_arrays(seqrt_dataset *d, const seqrt_model *m, seqrt_array *x, seqrt_array *y,
                              const char *label, seqrt_error *err)
{
    int rc = dataset_alloc(d, m, y != NULL, err);
    if (rc) {
        for (int i = 0; i < m->n_inputs; i++) seqrt_array_free(&x[i]);
        for (int i = 0; y && i < m->n_targets; i++) seqrt_array_free(&y[i]);
        return rc;
    }
    const char *labels[2 * MAX_LABELS];
    for (int i = 0; i < 2 * MAX_LABELS; i++) labels[i] = label;
    for (int i = 0; i < d->n_x; i++) {
        d->x[i] = x[i];
        memset(&x[i], 0, sizeof x[i]);
    }
    for (int i = 0; i < d->n_y; i++) {
        d->y[i] = y[i];
        memset(&y[i], 0, sizeof y[i]);
    }
    if (d->n_x > MAX_LABELS || d->n_y > MAX_LABELS)
        rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: too many inputs or targets", label);
    if (!rc) rc = run_checks(d, labels, labels, err);
    if (rc) seqrt_dataset_free(d);
    return rc;
}

void seqrt_dataset_free(seqrt_dataset *d)
{
    for (int i = 0; d->x && i < d->n_x; i++) seqrt_array_free(&d->x[i]);
    for (int i = 0; d->y && i < d->n_y; i++) seqrt_array_free(&d->y[i]);
    free(d->x);
    free(d->y);
    free(d->x_row);
    free(d->y_row);
    free(d->dims);
    memset(d, 0, sizeof *d);
}

/* ---- random data (gradcheck without files) ---- */

/* The loss a target is scored by, or -1. */
static int loss_of_target(const seqrt_model *m, int t)
{
    for (int i = 0; i < m->n_losses; i++)
        if (m->losses[i].target == t) return i;
    return -1;
}

static int random_array(seqrt_array *a, const seqrt_io *io, int64_t n, const int64_t *dims,
                        int64_t limit, int loss_kind, seqrt_rng *r)
{
    int64_t row = seqrt_io_row(io, dims);
    size_t bytes;
    a->ndim = io->ndim + 1;
    a->shape[0] = n;
    for (int k = 0; k < io->ndim; k++) a->shape[k + 1] = seqrt_io_dim(io, k, dims);
    if (row < 0 || seqrt_mul_i64(n, row, &a->count) ||
        seqrt_bytes_of(a->count, io->is_int ? sizeof(int32_t) : sizeof(seqrt_real), &bytes) ||
        seqrt_add_size(bytes, 1, &bytes))
        return SEQRT_ERANGE;
    a->is_int = io->is_int;
    a->data = malloc(bytes);
    if (!a->data) return SEQRT_ENOMEM;
    if (io->is_int) {
        int32_t *v = a->data;
        for (int64_t i = 0; i < a->count; i++)
            v[i] = (int32_t)seqrt_rng_below(r, (uint64_t)(limit > 0 ? limit : 2));
        return SEQRT_OK;
    }
    seqrt_real *v = a->data;
    int64_t C = io->ndim ? seqrt_io_dim(io, io->ndim - 1, dims) : 1;
    for (int64_t i = 0; i < a->count; i++) {
        if (loss_kind == SEQRT_LOSS_BINARY_CROSSENTROPY) v[i] = (seqrt_real)seqrt_rng_double(r);
        else if (loss_kind == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY) v[i] = 0;
        else v[i] = (seqrt_real)seqrt_rng_normal(r);
    }
    if (loss_kind == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY)   /* one-hot rows */
        for (int64_t p = 0; p < a->count / C; p++) v[p * C + (int64_t)seqrt_rng_below(r, (uint64_t)C)] = 1;
    return SEQRT_OK;
}

int seqrt_dataset_random(seqrt_dataset *d, const seqrt_model *m, int64_t n, int64_t time_len,
                         int with_targets, uint64_t seed, seqrt_error *err)
{
    int rc = dataset_alloc(d, m, with_targets, err);
    if (rc) return rc;
    for (int j = 0; j < m->n_dims; j++) d->dims[j] = time_len;
    if ((rc = seqrt_check_dims(m, d->dims, err))) {
        seqrt_dataset_free(d);
        return rc;
    }
    d->n_samples = n;
    seqrt_rng r;
    seqrt_rng_seed_stream(&r, seed, UINT64_C(0x6461746100000000));   /* "data" */
    for (int i = 0; !rc && i < d->n_x; i++) {
        rc = random_array(&d->x[i], &m->inputs[i], n, d->dims, int_limit(m, i, d->n_x), -1, &r);
        d->x_row[i] = seqrt_io_row(&m->inputs[i], d->dims);
    }
    for (int t = 0; !rc && t < d->n_y; t++) {
        int l = loss_of_target(m, t);
        rc = random_array(&d->y[t], &m->targets[t], n, d->dims, int_limit(m, d->n_x + t, d->n_x),
                          l >= 0 ? (int)m->losses[l].kind : -1, &r);
        d->y_row[t] = seqrt_io_row(&m->targets[t], d->dims);
    }
    if (rc) {
        seqrt_dataset_free(d);
        if (rc == SEQRT_ERANGE)
            return seqrt_errorf(err, rc, "random data of %lld samples with time axes of %lld: too large "
                                "to address", (long long)n, (long long)time_len);
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for random data");
    }
    return SEQRT_OK;
}

/* ---- batches ---- */

/* row * element size and idx[s] * that fit: the array of n_samples rows exists. */
static void gather_one(void *dst, const seqrt_array *a, int64_t row, const int64_t *idx, int64_t n)
{
    size_t bytes = (size_t)row * (a->is_int ? sizeof(int32_t) : sizeof(seqrt_real));
    const char *src = a->data;
    for (int64_t s = 0; s < n; s++) memcpy((char *)dst + (size_t)s * bytes, src + (size_t)idx[s] * bytes, bytes);
}

void seqrt_dataset_gather(const seqrt_dataset *d, const int64_t *idx, int64_t n,
                          void *const *xbuf, void *const *ybuf)
{
    for (int i = 0; i < d->n_x; i++)
        if (d->x[i].data) gather_one(xbuf[i], &d->x[i], d->x_row[i], idx, n);
    for (int i = 0; ybuf && i < d->n_y; i++) gather_one(ybuf[i], &d->y[i], d->y_row[i], idx, n);
}
