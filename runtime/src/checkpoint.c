/*
 * checkpoint.c: a model's weights file, a safetensors file (safetensors.c)
 * that the trainer writes after every epoch and predict reads back.
 *
 *   tensors   <param name> for every parameter, in table order, then with
 *             optimizer state "optimizer.<slot>.<param name>" per slot
 *   metadata  model, format = "seqc-1", dtype, epoch, checksum =
 *             "fnv1a64:<hex>" of the data section, model.structure =
 *             "fnv1a64:<hex>" of the parameters' names and shapes, with
 *             optimizer state optimizer = <kind>, optimizer.iterations = <n>,
 *             then the caller's pairs, and last checksum.meta =
 *             "fnv1a64:<hex>" of every pair before it (key NUL value NUL).
 *
 * The checksum covers the bytes after the header exactly as written, so a
 * flipped bit anywhere in the tensors is caught even where the value would
 * still look plausible; checksum.meta covers the metadata the same way, so
 * an edited epoch or train.step is refused as corrupt. Files without them
 * (weights converted from Keras or PyTorch, files of earlier versions) load
 * with their tensors checked by name and shape, and every number in their
 * metadata range-checked. A file whose model.structure differs from the
 * model's is refused: it was written for another model (a partial load by
 * name takes what matches).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "internal.h"
#include "seqrt_checked.h"

#define FORMAT "seqc-1"

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
        h = seqrt_fnv1a(h, b, sizeof(seqrt_real));
    }
    return h;
}

/* The model's parameter table: every name and shape, in table order. */
static uint64_t structure_hash(const seqrt_model *m)
{
    uint64_t h = SEQRT_FNV_OFFSET;
    for (int i = 0; i < m->n_params; i++) {
        const seqrt_param *p = &m->params[i];
        h = seqrt_fnv1a(h, (const unsigned char *)p->name, strlen(p->name) + 1);
        for (int k = 0; k < p->ndim; k++) {
            unsigned char b[8];
            seqrt_put_le64(b, (uint64_t)p->shape[k]);
            h = seqrt_fnv1a(h, b, 8);
        }
        h = seqrt_fnv1a(h, (const unsigned char *)"", 1);
    }
    return h;
}

/* Metadata pairs (k0, v0, k1, v1, ...) as "key NUL value NUL", skipping
 * checksum.meta itself. */
static uint64_t meta_hash(const char *const *meta, int n)
{
    uint64_t h = SEQRT_FNV_OFFSET;
    for (int i = 0; i < n; i++) {
        const char *k = meta[2 * i] ? meta[2 * i] : "", *v = meta[2 * i + 1] ? meta[2 * i + 1] : "";
        if (strcmp(k, "checksum.meta") == 0) continue;
        h = seqrt_fnv1a(h, (const unsigned char *)k, strlen(k) + 1);
        h = seqrt_fnv1a(h, (const unsigned char *)v, strlen(v) + 1);
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
    uint64_t h = SEQRT_FNV_OFFSET;
    size_t n;
    while (!rc && (n = fread(buf, 1, sizeof buf, f)) > 0) h = seqrt_fnv1a(h, buf, n);
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
    int n = np + extra->n_tensors, n_meta = (opt ? 8 : 6) + extra->n_meta + 1;
    seqrt_st_tensor *t = calloc((size_t)n + 1, sizeof *t);
    char **names = calloc((size_t)n + 1, sizeof *names);
    const char **meta = calloc(2 * (size_t)n_meta + 1, sizeof *meta);
    if (!t || !names || !meta) rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    uint64_t h = SEQRT_FNV_OFFSET;
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
        int64_t count = 0;
        if (seqrt_prod_i64(x->shape, x->ndim, &count))
            rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: tensor '%s': bad shape", path, x->name);
        t[np + i] = *x;
        if (!rc) h = fnv1a_reals(h, x->data, (size_t)count);
    }
    char ep[32], it[32], sum[40], shape[40], msum[40];
    snprintf(ep, sizeof ep, "%lld", (long long)epoch);
    snprintf(it, sizeof it, "%lld", (long long)(opt ? opt->iterations : 0));
    snprintf(sum, sizeof sum, "fnv1a64:%016" PRIx64, h);
    snprintf(shape, sizeof shape, "fnv1a64:%016" PRIx64, structure_hash(m));
    const char *base_meta[] = {"model", m->name ? m->name : "", "format", FORMAT, "dtype",
                               SEQRT_REAL_NAME, "epoch", ep, "checksum", sum,
                               "model.structure", shape,
                               "optimizer", opt ? optim_kind_name(opt->spec.kind) : "",
                               "optimizer.iterations", it};
    int nb = opt ? 8 : 6;
    for (int i = 0; meta && i < 2 * nb; i++) meta[i] = base_meta[i];
    for (int i = 0; meta && i < 2 * extra->n_meta; i++) meta[2 * nb + i] = extra->meta[i];
    if (meta) {
        snprintf(msum, sizeof msum, "fnv1a64:%016" PRIx64, meta_hash(meta, n_meta - 1));
        meta[2 * (n_meta - 1)] = "checksum.meta";
        meta[2 * (n_meta - 1) + 1] = msum;
    }
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
    const char *mwant = seqrt_st_meta(f, "checksum.meta");
    if (!mwant) return SEQRT_OK;   /* written before the metadata had a checksum */
    snprintf(got, sizeof got, "fnv1a64:%016" PRIx64, meta_hash((const char *const *)f->meta, f->n_meta));
    if (strcmp(mwant, got) != 0)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: metadata checksum mismatch: the file says %.40s, "
                            "its metadata hashes to %s (corrupt or edited)", path, mwant, got);
    return SEQRT_OK;
}

/* The file was written for this model: same parameter names and shapes
 * (model.structure), else every parameter present with its shape. */
static int check_structure(const seqrt_st_file *f, const seqrt_model *m, const char *path,
                           seqrt_error *err)
{
    const char *want = seqrt_st_meta(f, "model.structure"), *model = seqrt_st_meta(f, "model");
    char got[40], q[128];
    snprintf(got, sizeof got, "fnv1a64:%016" PRIx64, structure_hash(m));
    if (want && strcmp(want, got) != 0)
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: written for model '%s', whose parameters differ from "
                            "model %s's (names or shapes): not loaded (--load-partial takes the "
                            "tensors whose names and shapes match)", path,
                            model ? seqrt_quote(q, sizeof q, model, strlen(model), 60) : "?", m->name);
    return SEQRT_OK;
}

/* Optimizer state, if the file holds state for opt's kind. */
static int take_optimizer(seqrt_optim *opt, const seqrt_model *m, const seqrt_st_file *f,
                          const char *path, int *found, seqrt_error *err)
{
    const char *kind = seqrt_st_meta(f, "optimizer"), *iters = seqrt_st_meta(f, "optimizer.iterations");
    *found = 0;
    if (!kind || strcmp(kind, optim_kind_name(opt->spec.kind)) != 0 || !iters) return SEQRT_OK;
    int64_t v;
    int rc0 = seqrt_meta_count(iters, path, "optimizer.iterations", 0, SEQRT_MAX_COUNT, &v, err);
    if (rc0) return rc0;
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
    return seqrt_meta_count(s, path, "epoch", 0, SEQRT_MAX_COUNT, epoch, err);
}

int seqrt_meta_count(const char *v, const char *path, const char *key, int64_t lo, int64_t hi,
                     int64_t *out, seqrt_error *err)
{
    char q[128];
    if (!v) return seqrt_errorf(err, SEQRT_EFORMAT, "%s: no '%s' in the metadata", path, key);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v || (*v != '-' && (*v < '0' || *v > '9')) || x < lo || x > hi)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: metadata '%s' is '%s', not a whole number from "
                            "%lld to %lld", path, key, seqrt_quote(q, sizeof q, v, strlen(v), 60),
                            (long long)lo, (long long)hi);
    *out = x;
    return SEQRT_OK;
}

/* Format, checksums and (unless partial) structure of an open file. */
static int check_file(const seqrt_st_file *f, const seqrt_model *m, int partial, const char *path,
                      seqrt_error *err)
{
    const char *format = seqrt_st_meta(f, "format");
    char q[128];
    if (format && strcmp(format, FORMAT) != 0)
        return seqrt_errorf(err, SEQRT_EUNSUPPORTED, "%s: format '%s' (this program reads '%s')", path,
                            seqrt_quote(q, sizeof q, format, strlen(format), 60), FORMAT);
    int rc = verify_checksum(f, path, err);
    return rc || partial ? rc : check_structure(f, m, path, err);
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
    const char *model = seqrt_st_meta(&f, "model");
    rc = check_file(&f, m, 0, path, err);
    for (int i = 0; !rc && i < m->n_params; i++)
        rc = take_tensor(params + m->params[i].offset, &f, m->params[i].name, &m->params[i], path, err);
    if (!rc) rc = read_epoch(&f, path, &info->epoch, err);
    if (!rc && opt) rc = take_optimizer(opt, m, &f, path, &info->has_optimizer, err);
    if (!rc && model) snprintf(info->model, sizeof info->model, "%s", model);
    seqrt_st_free(&f);
    return rc;
}

int seqrt_checkpoint_check(const char *path, const seqrt_model *m, seqrt_error *err)
{
    seqrt_st_file f;
    int rc = seqrt_st_load(&f, path, err);
    if (rc) return rc;
    rc = check_file(&f, m, 0, path, err);
    for (int i = 0; !rc && i < m->n_params; i++) {
        const seqrt_param *p = &m->params[i];
        const seqrt_st_entry *e = seqrt_st_find(&f, p->name);
        int same = e && e->ndim == p->ndim;
        for (int k = 0; same && k < p->ndim; k++) same = e->shape[k] == p->shape[k];
        if (!same)
            rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: not a checkpoint of model %s: tensor '%s' is %s",
                              path, m->name, p->name, e ? "of another shape" : "missing");
    }
    seqrt_st_free(&f);
    return rc;
}

int seqrt_checkpoint_load_partial(const char *path, const seqrt_model *m, seqrt_real *params,
                                  int *n_loaded, seqrt_error *err)
{
    seqrt_st_file f;
    *n_loaded = 0;
    int rc = seqrt_st_load(&f, path, err);
    if (rc) return rc;
    rc = check_file(&f, m, 1, path, err);
    for (int i = 0; !rc && i < m->n_params; i++) {
        const seqrt_param *p = &m->params[i];
        const seqrt_st_entry *e = seqrt_st_find(&f, p->name);
        int same = e && e->ndim == p->ndim;
        for (int k = 0; same && k < p->ndim; k++) same = e->shape[k] == p->shape[k];
        if (!same) continue;   /* keeps its initial value */
        memcpy(params + p->offset, e->data, p->size * sizeof *params);
        ++*n_loaded;
    }
    if (!rc && *n_loaded == 0)
        rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: no tensor matches a parameter of model %s by name and "
                          "shape", path, m->name);
    seqrt_st_free(&f);
    return rc;
}
