/*
 * checkpoint.c: a model's weights file, a safetensors file (safetensors.c)
 * that the trainer writes after every epoch and predict reads back.
 *
 *   tensors   <param name> for every parameter, in table order, then with
 *             optimizer state "optimizer.<slot>.<param name>" per slot
 *   metadata  model, format = "seqc-1", dtype, epoch, checksum =
 *             "fnv1a64:<hex>" of the data section, and with optimizer state
 *             optimizer = <kind>, optimizer.iterations = <n>
 *
 * The checksum covers the bytes after the header exactly as written, so a
 * flipped bit anywhere in the tensors is caught even where the value would
 * still look plausible. Files without a checksum (weights converted from
 * Keras or PyTorch) load unchecked; files with one must match.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "internal.h"

#define FORMAT "seqc-1"
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

/* The hash of reals as the writer lays them out: little-endian. */
static uint64_t fnv1a_reals(uint64_t h, const seqrt_real *x, size_t n)
{
    unsigned char b[8];
    for (size_t i = 0; i < n; i++) {
        if (sizeof(seqrt_real) == 4) {
            uint32_t w;
            memcpy(&w, &x[i], 4);
            seqrt_put_le32(b, w);
        } else {
            uint64_t w;
            memcpy(&w, &x[i], 8);
            seqrt_put_le64(b, w);
        }
        h = fnv1a(h, b, sizeof(seqrt_real));
    }
    return h;
}

/* The hash of a file's data section: everything after 8 + header bytes. */
static int file_data_hash(const char *path, uint64_t *out, seqrt_error *err)
{
    FILE *f = seqrt_fopen_read(path);
    if (!f) return seqrt_errorf(err, SEQRT_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char buf[1 << 15];
    int rc = SEQRT_OK;
    if (fread(buf, 1, 8, f) != 8 || fseeko(f, (off_t)(8 + seqrt_le64(buf)), SEEK_SET) != 0)
        rc = seqrt_errorf(err, SEQRT_EIO, "%s: cannot read the data section", path);
    uint64_t h = FNV_OFFSET;
    size_t n;
    while (!rc && (n = fread(buf, 1, sizeof buf, f)) > 0) h = fnv1a(h, buf, n);
    if (!rc && ferror(f)) rc = seqrt_errorf(err, SEQRT_EIO, "%s: read failed", path);
    fclose(f);
    *out = h;
    return rc;
}

static const char *optim_kind_name(seqrt_optim_kind k)
{
    switch (k) {
    case SEQRT_OPT_SGD: return "sgd";
    case SEQRT_OPT_ADAM: return "adam";
    case SEQRT_OPT_ADAMW: return "adamw";
    case SEQRT_OPT_RMSPROP: return "rmsprop";
    case SEQRT_OPT_ADAGRAD: return "adagrad";
    }
    return "unknown";
}

/* "optimizer.<slot>.<param>" into a fresh string. */
static char *slot_name(const char *slot, const char *param)
{
    size_t n = strlen("optimizer..") + strlen(slot) + strlen(param) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "optimizer.%s.%s", slot, param);
    return s;
}

int seqrt_checkpoint_save(const char *path, const seqrt_model *m, const seqrt_real *params,
                          const seqrt_optim *opt, int64_t epoch, seqrt_error *err)
{
    return seqrt_checkpoint_save_extra(path, m, params, opt, epoch, NULL, err);
}

int seqrt_checkpoint_save_extra(const char *path, const seqrt_model *m, const seqrt_real *params,
                                const seqrt_optim *opt, int64_t epoch,
                                const seqrt_checkpoint_extra *extra, seqrt_error *err)
{
    static const seqrt_checkpoint_extra none = {0, NULL, 0, NULL};
    if (!extra) extra = &none;
    int slots = opt ? opt->n_slots : 0, np = m->n_params * (1 + slots), rc = SEQRT_OK;
    int n = np + extra->n_tensors, n_meta = (opt ? 7 : 5) + extra->n_meta;
    seqrt_st_tensor *t = calloc((size_t)n + 1, sizeof *t);
    char **names = calloc((size_t)n + 1, sizeof *names);
    const char **meta = calloc(2 * (size_t)n_meta + 1, sizeof *meta);
    if (!t || !names || !meta) rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    uint64_t h = FNV_OFFSET;
    for (int i = 0; !rc && i < np; i++) {
        const seqrt_param *p = &m->params[i % m->n_params];
        int s = i / m->n_params;   /* 0: the weights, then slot s - 1 */
        const seqrt_real *base = s ? opt->slots[s - 1] : params;
        if (s && !(names[i] = slot_name(opt->slot_names[s - 1], p->name)))
            rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
        t[i] = (seqrt_st_tensor){s ? names[i] : p->name, base + p->offset, p->ndim, p->shape};
        h = fnv1a_reals(h, base + p->offset, p->size);
    }
    for (int i = 0; !rc && i < extra->n_tensors; i++) {
        const seqrt_st_tensor *x = &extra->tensors[i];
        size_t count = 1;
        for (int k = 0; k < x->ndim; k++) count *= (size_t)x->shape[k];
        t[np + i] = *x;
        h = fnv1a_reals(h, x->data, count);
    }
    char ep[32], it[32], sum[40];
    snprintf(ep, sizeof ep, "%lld", (long long)epoch);
    snprintf(it, sizeof it, "%lld", (long long)(opt ? opt->iterations : 0));
    snprintf(sum, sizeof sum, "fnv1a64:%016" PRIx64, h);
    const char *base_meta[] = {"model", m->name ? m->name : "", "format", FORMAT, "dtype",
                               SEQRT_REAL_NAME, "epoch", ep, "checksum", sum,
                               "optimizer", opt ? optim_kind_name(opt->spec.kind) : "",
                               "optimizer.iterations", it};
    int nb = opt ? 7 : 5;
    for (int i = 0; meta && i < 2 * nb; i++) meta[i] = base_meta[i];
    for (int i = 0; meta && i < 2 * extra->n_meta; i++) meta[2 * nb + i] = extra->meta[i];
    if (!rc) rc = seqrt_st_save(path, t, n, meta, n_meta, err);
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
    free(meta);
    free(t);
    return rc;
}

static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < ndim && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, k ? ", %lld" : "%lld", (long long)shape[k]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* Find `name` with p's shape and copy it to dst. */
static int take_tensor(seqrt_real *dst, const seqrt_st_file *f, const char *name,
                       const seqrt_param *p, const char *path, seqrt_error *err)
{
    const seqrt_st_entry *e = seqrt_st_find(f, name);
    char want[96], got[96];
    shape_text(want, sizeof want, p->ndim, p->shape);
    if (!e)
        return seqrt_errorf(err, SEQRT_ENOTFOUND, "%s: missing tensor '%s' (expected shape %s)",
                            path, name, want);
    int same = e->ndim == p->ndim;
    for (int k = 0; same && k < p->ndim; k++) same = e->shape[k] == p->shape[k];
    if (!same) {
        shape_text(got, sizeof got, e->ndim, e->shape);
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: tensor '%s': expected shape %s, got %s", path,
                            name, want, got);
    }
    memcpy(dst, e->data, p->size * sizeof *dst);
    return SEQRT_OK;
}

static int verify_checksum(const seqrt_st_file *f, const char *path, seqrt_error *err)
{
    const char *want = seqrt_st_meta(f, "checksum");
    if (!want) return SEQRT_OK;   /* converted weights: nothing to verify */
    uint64_t h;
    int rc = file_data_hash(path, &h, err);
    if (rc) return rc;
    char got[40];
    snprintf(got, sizeof got, "fnv1a64:%016" PRIx64, h);
    if (strcmp(want, got) != 0)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: checksum mismatch: the file says %s, its data "
                            "hashes to %s (corrupt or edited)", path, want, got);
    return SEQRT_OK;
}

/* Optimizer state, if the file holds state for opt's kind. */
static int take_optimizer(seqrt_optim *opt, const seqrt_model *m, const seqrt_st_file *f,
                          const char *path, int *found, seqrt_error *err)
{
    const char *kind = seqrt_st_meta(f, "optimizer"), *iters = seqrt_st_meta(f, "optimizer.iterations");
    *found = 0;
    if (!kind || strcmp(kind, optim_kind_name(opt->spec.kind)) != 0 || !iters) return SEQRT_OK;
    char *end;
    errno = 0;
    long long v = strtoll(iters, &end, 10);
    if (errno || *end || end == iters || v < 0)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: bad optimizer.iterations '%s'", path, iters);
    for (int s = 0; s < opt->n_slots; s++)
        for (int i = 0; i < m->n_params; i++) {
            char *name = slot_name(opt->slot_names[s], m->params[i].name);
            if (!name) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
            int rc = take_tensor(opt->slots[s] + m->params[i].offset, f, name, &m->params[i], path, err);
            free(name);
            if (rc) return rc;
        }
    opt->iterations = v;
    *found = 1;
    return SEQRT_OK;
}

static int read_epoch(const seqrt_st_file *f, const char *path, int64_t *epoch, seqrt_error *err)
{
    const char *s = seqrt_st_meta(f, "epoch");
    *epoch = 0;
    if (!s) return SEQRT_OK;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 0)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: bad epoch '%s' in the metadata", path, s);
    *epoch = v;
    return SEQRT_OK;
}

int seqrt_checkpoint_load(const char *path, const seqrt_model *m, seqrt_real *params,
                          seqrt_optim *opt, seqrt_checkpoint_info *info, seqrt_error *err)
{
    seqrt_checkpoint_info dummy;
    if (!info) info = &dummy;
    memset(info, 0, sizeof *info);
    seqrt_st_file f;
    int rc = seqrt_st_load(&f, path, err);
    if (rc) return rc;
    const char *format = seqrt_st_meta(&f, "format"), *model = seqrt_st_meta(&f, "model");
    if (format && strcmp(format, FORMAT) != 0)
        rc = seqrt_errorf(err, SEQRT_EUNSUPPORTED, "%s: format '%s' (this program reads '%s')", path,
                          format, FORMAT);
    if (!rc) rc = verify_checksum(&f, path, err);
    for (int i = 0; !rc && i < m->n_params; i++)
        rc = take_tensor(params + m->params[i].offset, &f, m->params[i].name, &m->params[i], path, err);
    if (!rc) rc = read_epoch(&f, path, &info->epoch, err);
    if (!rc && opt) rc = take_optimizer(opt, m, &f, path, &info->has_optimizer, err);
    if (!rc && model) snprintf(info->model, sizeof info->model, "%s", model);
    seqrt_st_free(&f);
    return rc;
}
