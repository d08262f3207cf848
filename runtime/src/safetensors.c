/*
 * safetensors.c: checkpoints. Tensors keep their Keras names and layouts
 * ("lstm_1.kernel" [in, 4u]) so PyTorch and Keras users can load them.
 *
 *   file   -> N (u64 LE) header(N bytes of JSON, space padded) data
 *   header -> { "__metadata__": {str: str, ...},
 *               name: {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ... }
 *
 * Offsets are relative to the data section. Loading trusts nothing: the
 * header length, every offset and size, dtype and name is checked before
 * any tensor is allocated. Saving is atomic (fileio.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "seqrt_checked.h"

#define MAX_HEADER (100u * 1024 * 1024)

#ifdef SEQRT_DOUBLE
#define OUR_DTYPE "F64"
#else
#define OUR_DTYPE "F32"
#endif

static int valid_name(const char *name)
{
    return name && *name && strcmp(name, "__metadata__") != 0;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that occurs twice among names[0..n), or NULL: sorted, so
 * a million keys take a second, not minutes. names is reordered. */
static const char *first_duplicate(const char **names, size_t n)
{
    qsort(names, n, sizeof *names, by_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) return names[i];
    return NULL;
}

int seqrt_st_save(const char *path, const seqrt_st_tensor *t, int n, const char *const *meta,
                  int n_meta, seqrt_error *err)
{
    seqrt_strbuf h = {0};
    uint64_t offset = 0;
    const char **names = malloc(((size_t)(n > 0 ? n : 0) + 1) * sizeof *names);
    if (!names) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory building the header", path);
    size_t n_valid = 0;
    for (int i = 0; i < n; i++)
        if (valid_name(t[i].name)) names[n_valid++] = t[i].name;   /* the rest: refused below */
    const char *dup = first_duplicate(names, n_valid);
    free(names);
    if (dup)
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: tensor name '%s' given twice", path, dup);
    seqrt_strbuf_add(&h, "{", 1);
    if (n_meta > 0) {
        seqrt_strbuf_add(&h, "\"__metadata__\":{", 16);
        for (int i = 0; i < n_meta; i++) {
            if (i) seqrt_strbuf_add(&h, ",", 1);
            seqrt_json_write_string(&h, meta[2 * i] ? meta[2 * i] : "");
            seqrt_strbuf_add(&h, ":", 1);
            seqrt_json_write_string(&h, meta[2 * i + 1] ? meta[2 * i + 1] : "");
        }
        seqrt_strbuf_add(&h, "}", 1);
    }
    for (int i = 0; i < n; i++) {
        int bad = !valid_name(t[i].name) || t[i].ndim < 0 || t[i].ndim > SEQRT_NPY_MAX_DIMS;
        int64_t count = 0;
        bad = bad || seqrt_prod_i64(t[i].shape, t[i].ndim, &count) ||
              seqrt_mul_i64(count, (int64_t)sizeof(seqrt_real), &count) ||
              seqrt_add_i64((int64_t)offset, count, &count);
        if (bad) {
            free(h.s);
            return seqrt_errorf(err, SEQRT_EINVAL, "%s: tensor %d (%s): empty, reserved or duplicate "
                                "name, or bad shape", path, i, t[i].name ? t[i].name : "(null)");
        }
        if (n_meta > 0 || i) seqrt_strbuf_add(&h, ",", 1);
        seqrt_json_write_string(&h, t[i].name);
        static const char open_entry[] = ":{\"dtype\":\"" OUR_DTYPE "\",\"shape\":[";
        seqrt_strbuf_add(&h, open_entry, sizeof open_entry - 1);
        for (int d = 0; d < t[i].ndim; d++)
            seqrt_strbuf_printf(&h, d ? ",%lld" : "%lld", (long long)t[i].shape[d]);
        uint64_t end = (uint64_t)count;
        seqrt_strbuf_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                            (unsigned long long)end);
        offset = end;
    }
    seqrt_strbuf_add(&h, "}", 1);
    while (!h.failed && h.len % 8) seqrt_strbuf_add(&h, " ", 1);   /* align the data */
    if (h.failed) {
        free(h.s);
        return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory building the header", path);
    }

    seqrt_atomic a;
    int rc = seqrt_atomic_open(&a, path, err);
    if (rc) {
        free(h.s);
        return rc;
    }
    unsigned char len8[8];
    seqrt_put_le64(len8, h.len);
    seqrt_atomic_write(&a, len8, 8);
    seqrt_atomic_write(&a, h.s, h.len);
    free(h.s);
    unsigned char buf[4096];
    for (int i = 0; i < n; i++) {
        size_t count = 1, used = 0;
        for (int d = 0; d < t[i].ndim; d++) count *= (size_t)t[i].shape[d];
        for (size_t k = 0; k < count; k++) {
            if (sizeof(seqrt_real) == 4) {
                uint32_t w;
                memcpy(&w, &t[i].data[k], 4);
                seqrt_put_le32(buf + used, w);
            } else {
                uint64_t w;
                memcpy(&w, &t[i].data[k], 8);
                seqrt_put_le64(buf + used, w);
            }
            used += sizeof(seqrt_real);
            if (used == sizeof buf) { seqrt_atomic_write(&a, buf, used); used = 0; }
        }
        seqrt_atomic_write(&a, buf, used);
    }
    return seqrt_atomic_commit(&a, err);
}

/* ---- loading ---- */

typedef struct {
    int64_t begin, end;
    int dsize;
} Span;

static const char *const other_dtypes[] = {
    "F16", "BF16", "F8_E4M3", "F8_E5M2", "I8", "I16", "I32", "I64",
    "U8", "U16", "U32", "U64", "BOOL", NULL
};

/* {"dtype": .., "shape": [..], "data_offsets": [b, e]} -> entry + span. */
static int parse_tensor(seqrt_st_entry *e, Span *sp, const seqrt_json *j, const char *path,
                        seqrt_error *err)
{
    const char *name = e->name;
    const seqrt_json *dtype = NULL, *shape = NULL, *offs = NULL;
    if (j->type != SEQRT_JSON_OBJECT)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': entry is not an object", path, name);
    for (int i = 0; i < j->n; i++) {
        const seqrt_json **slot = strcmp(j->keys[i], "dtype") == 0 ? &dtype
                                : strcmp(j->keys[i], "shape") == 0 ? &shape
                                : strcmp(j->keys[i], "data_offsets") == 0 ? &offs : NULL;
        if (!slot || *slot)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': unexpected or repeated key '%s'",
                                path, name, j->keys[i]);
        *slot = j->items[i];
    }
    if (!dtype || !shape || !offs)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': needs dtype, shape and data_offsets",
                            path, name);
    if (dtype->type != SEQRT_JSON_STRING)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': dtype is not a string", path, name);
    if (strcmp(dtype->str, "F32") == 0) sp->dsize = 4;
    else if (strcmp(dtype->str, "F64") == 0) sp->dsize = 8;
    else {
        int known = 0;
        for (int i = 0; other_dtypes[i]; i++) known |= strcmp(dtype->str, other_dtypes[i]) == 0;
        return seqrt_errorf(err, known ? SEQRT_EUNSUPPORTED : SEQRT_EFORMAT,
                            "%s: tensor '%s': %s dtype '%s' (want F32 or F64)", path, name,
                            known ? "unsupported" : "unknown", dtype->str);
    }
    if (shape->type != SEQRT_JSON_ARRAY || shape->n > SEQRT_NPY_MAX_DIMS)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': shape must be an array of at most %d "
                            "integers", path, name, SEQRT_NPY_MAX_DIMS);
    e->ndim = shape->n;
    e->count = 1;
    for (int d = 0; d < shape->n; d++) {
        const seqrt_json *v = shape->items[d];
        if (v->type != SEQRT_JSON_NUMBER || !v->is_int || v->inum < 0)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': bad shape dimension %d",
                                path, name, d);
        if (v->inum && e->count > INT64_MAX / 8 / v->inum)
            return seqrt_errorf(err, SEQRT_ERANGE, "%s: tensor '%s': shape product overflows", path, name);
        e->shape[d] = v->inum;
        e->count *= v->inum;
    }
    if (offs->type != SEQRT_JSON_ARRAY || offs->n != 2)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': data_offsets must be [begin, end]",
                            path, name);
    for (int k = 0; k < 2; k++) {
        const seqrt_json *v = offs->items[k];
        if (v->type != SEQRT_JSON_NUMBER || !v->is_int || v->inum < 0)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': bad data offset", path, name);
    }
    sp->begin = offs->items[0]->inum;
    sp->end = offs->items[1]->inum;
    if (sp->end < sp->begin || sp->end - sp->begin != e->count * sp->dsize)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] hold %lld "
                            "bytes, but shape and dtype need %lld", path, name, (long long)sp->begin,
                            (long long)sp->end, (long long)(sp->end - sp->begin),
                            (long long)(e->count * sp->dsize));
    return SEQRT_OK;
}

static int parse_metadata(seqrt_st_file *f, const seqrt_json *j, const char *path, seqrt_error *err)
{
    if (j->type == SEQRT_JSON_NULL) return SEQRT_OK;
    if (j->type != SEQRT_JSON_OBJECT)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: __metadata__ is not an object", path);
    f->meta = calloc((size_t)j->n * 2 + 1, sizeof *f->meta);
    if (!f->meta) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    char q[128];
    for (int i = 0; i < j->n; i++) {
        const seqrt_json *v = j->items[i];
        const char *key = seqrt_quote(q, sizeof q, j->keys[i], j->key_lens[i], 60);
        if (v->type != SEQRT_JSON_STRING)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: __metadata__ value for '%s' is not a string",
                                path, key);
        if (strlen(j->keys[i]) != j->key_lens[i] || strlen(v->str) != v->len)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: __metadata__ '%s': NUL character in the key "
                                "or value", path, key);
        size_t kl = strlen(j->keys[i]) + 1, vl = strlen(v->str) + 1;
        f->meta[2 * i] = malloc(kl);
        f->meta[2 * i + 1] = malloc(vl);
        f->n_meta = i + 1;
        if (!f->meta[2 * i] || !f->meta[2 * i + 1])
            return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
        memcpy(f->meta[2 * i], j->keys[i], kl);
        memcpy(f->meta[2 * i + 1], v->str, vl);
    }
    const char **keys = malloc(((size_t)j->n + 1) * sizeof *keys);
    if (!keys) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    for (int i = 0; i < j->n; i++) keys[i] = f->meta[2 * i];
    const char *dup = first_duplicate(keys, (size_t)j->n);
    int rc = dup ? seqrt_errorf(err, SEQRT_EFORMAT, "%s: duplicate __metadata__ key '%s'", path,
                                seqrt_quote(q, sizeof q, dup, strlen(dup), 60))
                 : SEQRT_OK;
    free(keys);
    return rc;
}

typedef struct {
    seqrt_st_entry e;
    Span sp;
} Item;

static int by_begin(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    return x->sp.begin < y->sp.begin ? -1 : x->sp.begin > y->sp.begin ? 1
         : x->sp.end < y->sp.end ? -1 : x->sp.end > y->sp.end;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const Item *const *)a)->e.name, (*(const Item *const *)b)->e.name);
}

/* Names unique, spans inside the data section and disjoint. */
static int check_items(Item *it, int n, int64_t data_size, const char *path, seqrt_error *err)
{
    Item **order = malloc(((size_t)n + 1) * sizeof *order);
    if (!order) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++) order[i] = &it[i];
    qsort(order, (size_t)n, sizeof *order, by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(order[i - 1]->e.name, order[i]->e.name) == 0) {
            int rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: duplicate tensor name '%s'", path,
                                  order[i]->e.name);
            free(order);
            return rc;
        }
    free(order);
    qsort(it, (size_t)n, sizeof *it, by_begin);
    int64_t prev_end = 0;
    const char *prev = NULL;
    for (int i = 0; i < n; i++) {
        if (it[i].sp.end > data_size)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor '%s': data_offsets end %lld is past the "
                                "data section (%lld bytes)", path, it[i].e.name,
                                (long long)it[i].sp.end, (long long)data_size);
        if (it[i].sp.begin == it[i].sp.end) continue;   /* empty tensors occupy nothing */
        if (prev && it[i].sp.begin < prev_end)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensors '%s' and '%s' overlap", path, prev,
                                it[i].e.name);
        prev_end = it[i].sp.end;
        prev = it[i].e.name;
    }
    return SEQRT_OK;
}

static int read_tensor(seqrt_st_entry *e, const Span *sp, FILE *f, int64_t data_at, const char *path,
                       seqrt_error *err)
{
    e->data = malloc((size_t)e->count * sizeof(seqrt_real) + 1);
    if (!e->data) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory for '%s'", path, e->name);
    if (fseeko(f, (off_t)(data_at + sp->begin), SEEK_SET) != 0)
        return seqrt_errorf(err, SEQRT_EIO, "%s: seek failed: %s", path, strerror(errno));
    unsigned char buf[1 << 15];
    for (int64_t done = 0; done < e->count;) {
        int64_t n = e->count - done, room = (int64_t)sizeof buf / sp->dsize;
        if (n > room) n = room;
        if (fread(buf, (size_t)sp->dsize, (size_t)n, f) != (size_t)n)
            return seqrt_errorf(err, SEQRT_EIO, "%s: read failed in '%s'", path, e->name);
        for (int64_t k = 0; k < n; k++) {
            double v;
            if (sp->dsize == 4) {
                uint32_t w = seqrt_le32(buf + 4 * k);
                float x;
                memcpy(&x, &w, 4);
                v = x;
            } else {
                uint64_t w = seqrt_le64(buf + 8 * k);
                memcpy(&v, &w, 8);
            }
            e->data[done + k] = (seqrt_real)v;
        }
        done += n;
    }
    return SEQRT_OK;
}

static int load_body(seqrt_st_file *out, FILE *f, const char *path, seqrt_error *err)
{
    int64_t fsize = seqrt_file_size(f);
    if (fsize < 0) return seqrt_errorf(err, SEQRT_EIO, "%s: not a regular file", path);
    unsigned char len8[8];
    if (fsize < 8 || fread(len8, 1, 8, f) != 8)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: truncated: shorter than the 8-byte header length", path);
    uint64_t hlen = seqrt_le64(len8);
    if (hlen > MAX_HEADER)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: header length %llu exceeds the 100 MB limit",
                            path, (unsigned long long)hlen);
    if (hlen > (uint64_t)(fsize - 8))
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: header length %llu is larger than the file (%lld bytes)",
                            path, (unsigned long long)hlen, (long long)fsize);
    char *text;
    int hrc = seqrt_read_header(f, path, hlen, &text, err);
    if (hrc) return hrc;
    char why[128];
    seqrt_json *root = seqrt_json_parse(text, hlen, why, sizeof why);
    free(text);
    if (!root) return seqrt_errorf(err, SEQRT_EFORMAT, "%s: bad JSON header: %s", path, why);
    int rc = SEQRT_OK;
    Item *it = calloc((size_t)root->n + 1, sizeof *it);
    int n = 0, seen_meta = 0;
    if (root->type != SEQRT_JSON_OBJECT) rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: header is not a JSON object", path);
    else if (!it) rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    for (int i = 0; !rc && i < root->n; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) {
            rc = seen_meta++ ? seqrt_errorf(err, SEQRT_EFORMAT, "%s: duplicate __metadata__", path)
                             : parse_metadata(out, root->items[i], path, err);
            continue;
        }
        if (strlen(root->keys[i]) != root->key_lens[i] || root->key_lens[i] == 0) {
            rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: empty tensor name or NUL in a name", path);
            break;
        }
        it[n].e.name = root->keys[i];   /* borrowed until the entries are built */
        rc = parse_tensor(&it[n].e, &it[n].sp, root->items[i], path, err);
        n++;
    }
    if (!rc) rc = check_items(it, n, fsize - 8 - (int64_t)hlen, path, err);
    if (!rc && !(out->entries = calloc((size_t)n + 1, sizeof *out->entries)))
        rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    for (int i = 0; !rc && i < n; i++) {
        seqrt_st_entry *e = &out->entries[i];
        *e = it[i].e;
        size_t nl = strlen(it[i].e.name) + 1;
        e->name = malloc(nl);
        e->data = NULL;
        out->n = i + 1;
        if (!e->name) rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
        else memcpy(e->name, it[i].e.name, nl);
        if (!rc) rc = read_tensor(e, &it[i].sp, f, 8 + (int64_t)hlen, path, err);
    }
    free(it);
    seqrt_json_free(root);
    return rc;
}

int seqrt_st_load(seqrt_st_file *f, const char *path, seqrt_error *err)
{
    memset(f, 0, sizeof *f);
    FILE *fp = seqrt_fopen_read(path);
    if (!fp) return seqrt_errorf(err, SEQRT_EIO, "%s: cannot open: %s", path, strerror(errno));
    int rc = load_body(f, fp, path, err);
    fclose(fp);
    if (rc) seqrt_st_free(f);
    return rc;
}

const seqrt_st_entry *seqrt_st_find(const seqrt_st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->entries[i].name, name) == 0) return &f->entries[i];
    return NULL;
}

const char *seqrt_st_meta(const seqrt_st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (f->meta[2 * i] && strcmp(f->meta[2 * i], key) == 0) return f->meta[2 * i + 1];
    return NULL;
}

void seqrt_st_free(seqrt_st_file *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->entries[i].name);
        free(f->entries[i].data);
    }
    free(f->entries);
    for (int i = 0; i < 2 * f->n_meta; i++) free(f->meta[i]);
    free(f->meta);
    memset(f, 0, sizeof *f);
}
