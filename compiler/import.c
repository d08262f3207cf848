/*
 * import.c: `seqc import` (import.h). Reads the model (JSON or .h5), has
 * import_keras.c write the .seq, checks it with the front end (driver.h),
 * then takes each parameter of the checked model from the weight source by
 * Keras's rules and saves them under the checkpoint's names:
 *   TensorFlow.js   weightsManifest: "<layer>/<...>" in get_weights() order
 *   tf.keras 2 .h5  <layer>/weight_names, in the same order
 *   Keras 3 .h5     layers/<class>_k/<attribute path>/vars/<i>
 * The layouts are Keras's ([in, out] kernels, gates i f c o and z r h),
 * which are the checkpoint's, so every array is copied unchanged.
 */
#include "import.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "import_hdf5.h"
#include "import_keras.h"
#include "ops.h"

enum { MSG = 600 };

typedef struct {
    char *layer;       /* the part of the name before the first '/' */
    int ndim;
    int64_t shape[4];
    size_t count;
    float *data;       /* into the shard buffer */
    bool taken;
} TfjsWeight;

typedef struct {
    const char *path;
    SeqH5 *h5;
    bool h5_keras3;
    TfjsWeight *tw;
    int n_tw;
    unsigned char *shards;
} Source;

/* "reason at byte N" as "line:col: reason". */
static void json_error(const char *path, const char *text, size_t len, const char *why)
{
    const char *at = strstr(why, " at byte ");
    size_t off = at ? strtoull(at + 9, NULL, 10) : 0;
    int line = 1, col = 1;
    for (size_t i = 0; at && i < off && i < len; i++) {
        if (text[i] == '\n') line++, col = 1;
        else col++;
    }
    if (at) fprintf(stderr, "%s:%d:%d: error: malformed JSON: %.*s\n", path, line, col, (int)(at - why), why);
    else fprintf(stderr, "%s: error: malformed JSON: %s\n", path, why);
}

static char *dir_join(const char *base_file, const char *rel)
{
    const char *slash = strrchr(base_file, '/');
    size_t d = slash ? (size_t)(slash - base_file + 1) : 0;
    char *p = malloc(d + strlen(rel) + 1);
    if (p) {
        memcpy(p, base_file, d);
        strcpy(p + d, rel);
    }
    return p;
}

/* The weightsManifest of a TensorFlow.js model.json, shards read. */
static int load_tfjs(Source *s, const seqrt_json *manifest, const char *path)
{
    if (manifest->type != SEQRT_JSON_ARRAY) {
        fprintf(stderr, "%s: error: weightsManifest is not a list\n", path);
        return 1;
    }
    size_t total = 0, n = 0;
    for (int g = 0; g < manifest->n; g++) {
        const seqrt_json *ws = seq_json_get(manifest->items[g], "weights");
        if (ws && ws->type == SEQRT_JSON_ARRAY) n += (size_t)ws->n;
    }
    s->tw = calloc(n + 1, sizeof *s->tw);
    if (!s->tw) return fprintf(stderr, "seqc: out of memory\n"), 2;
    /* Read every group's shards, one after the other. */
    size_t cap = 0;
    size_t *group_start = calloc((size_t)manifest->n + 1, sizeof *group_start);
    if (!group_start) return fprintf(stderr, "seqc: out of memory\n"), 2;
    for (int g = 0; g < manifest->n; g++) {
        group_start[g] = total;
        const seqrt_json *paths = seq_json_get(manifest->items[g], "paths");
        if (!paths || paths->type != SEQRT_JSON_ARRAY) {
            fprintf(stderr, "%s: error: weightsManifest[%d] has no paths\n", path, g);
            free(group_start);
            return 1;
        }
        for (int k = 0; k < paths->n; k++) {
            if (paths->items[k]->type != SEQRT_JSON_STRING || strstr(paths->items[k]->str, "..") ||
                paths->items[k]->str[0] == '/') {
                fprintf(stderr, "%s: error: weightsManifest[%d].paths[%d] is not a file beside model.json\n", path, g, k);
                free(group_start);
                return 1;
            }
            char *file = dir_join(path, paths->items[k]->str);
            char *buf = NULL;
            size_t len = 0;
            seqrt_error err;
            if (!file || seqrt_read_whole(file, &buf, &len, &err)) {
                fprintf(stderr, "seqc: cannot read weight shard '%s' named by %s\n", file ? file : "?", path);
                free(file);
                free(group_start);
                return 2;
            }
            free(file);
            if (total + len > cap) {
                size_t nc = (total + len) * 2;
                unsigned char *p = realloc(s->shards, nc);
                if (!p) {
                    free(buf);
                    free(group_start);
                    return fprintf(stderr, "seqc: out of memory\n"), 2;
                }
                s->shards = p;
                cap = nc;
            }
            memcpy(s->shards + total, buf, len);
            total += len;
            free(buf);
        }
    }
    for (int g = 0; g < manifest->n; g++) {
        size_t off = group_start[g];
        size_t end = g + 1 < manifest->n ? group_start[g + 1] : total;
        const seqrt_json *ws = seq_json_get(manifest->items[g], "weights");
        for (int k = 0; ws && k < ws->n; k++) {
            const seqrt_json *w = ws->items[k];
            const seqrt_json *name = seq_json_get(w, "name"), *shape = seq_json_get(w, "shape");
            const seqrt_json *dtype = seq_json_get(w, "dtype");
            if (!name || name->type != SEQRT_JSON_STRING || !shape || shape->type != SEQRT_JSON_ARRAY ||
                shape->n > 4) {
                fprintf(stderr, "%s: error: weightsManifest[%d].weights[%d] needs a name and a shape (rank <= 4)\n", path, g, k);
                free(group_start);
                return 1;
            }
            if (seq_json_get(w, "quantization")) {
                fprintf(stderr, "%s: error: weight '%s' is quantized; seqc imports float32 weights\n", path, name->str);
                free(group_start);
                return 1;
            }
            if (dtype && (dtype->type != SEQRT_JSON_STRING || strcmp(dtype->str, "float32"))) {
                fprintf(stderr, "%s: error: weight '%s' has dtype %s; seqc imports float32 weights\n", path,
                        name->str, dtype->type == SEQRT_JSON_STRING ? dtype->str : "?");
                free(group_start);
                return 1;
            }
            TfjsWeight *t = &s->tw[s->n_tw++];
            size_t count = 1;
            t->ndim = shape->n;
            for (int d = 0; d < shape->n; d++) {
                if (!shape->items[d]->is_int || shape->items[d]->inum < 0 || shape->items[d]->inum > (1 << 30)) {
                    fprintf(stderr, "%s: error: weight '%s' has a bad shape\n", path, name->str);
                    free(group_start);
                    return 1;
                }
                t->shape[d] = shape->items[d]->inum;
                count *= (size_t)t->shape[d];
                if (count > ((size_t)1 << 31)) {
                    fprintf(stderr, "%s: error: weight '%s' is too large\n", path, name->str);
                    free(group_start);
                    return 1;
                }
            }
            t->count = count;
            if (off + count * 4 > end) {
                fprintf(stderr, "%s: error: the weight shards end before weight '%s' (%zu bytes short)\n", path,
                        name->str, off + count * 4 - end);
                free(group_start);
                return 1;
            }
            t->data = malloc((count ? count : 1) * sizeof(float));
            if (!t->data) {
                free(group_start);
                return fprintf(stderr, "seqc: out of memory\n"), 2;
            }
            for (size_t e = 0; e < count; e++) {   /* little-endian float32 */
                const unsigned char *p = s->shards + off + 4 * e;
                uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
                memcpy(&t->data[e], &u, 4);
            }
            off += count * 4;
            const char *sl = strchr(name->str, '/');
            t->layer = strndup(name->str, sl ? (size_t)(sl - name->str) : strlen(name->str));
        }
        if (off != end) {
            fprintf(stderr, "%s: error: weightsManifest[%d]: the shards hold %zu bytes more than its weights\n", path, g, end - off);
            free(group_start);
            return 1;
        }
    }
    free(group_start);
    return 0;
}

static void source_free(Source *s)
{
    for (int i = 0; i < s->n_tw; i++) {
        free(s->tw[i].layer);
        free(s->tw[i].data);
    }
    free(s->tw);
    free(s->shards);
    seq_h5_close(s->h5);
}

/* Keras 3's attribute path of a parameter under its layer's group. */
static void k3_subpath(const IrLayer *l, const char *pname, char *buf, size_t cap)
{
    const char *rest = pname + strlen(l->name) + 1;
    buf[0] = '\0';
    if (l->op->wrap == OP_WRAP_BOTH_DIRECTIONS)
        snprintf(buf, cap, "%s/cell", !strncmp(rest, "forward_", 8) ? "forward_layer" : "backward_layer");
    else if (l->op->wrap == OP_WRAP_EACH_STEP)
        snprintf(buf, cap, "layer");
    else if (l->op->recurrent)
        snprintf(buf, cap, "cell");
    else if (strchr(rest, '.'))
        snprintf(buf, cap, "%.*s", (int)(strchr(rest, '.') - rest), rest);
}

static bool same_shape(const IrParam *p, int ndim, const int64_t *shape)
{
    if (p->ndim != ndim) return false;
    for (int k = 0; k < ndim; k++)
        if (p->shape[k] != shape[k]) return false;
    return true;
}

static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (int k = 0; k < ndim && n < cap; k++) n += (size_t)snprintf(buf + n, cap - n, k ? ", %lld" : "%lld", (long long)shape[k]);
    if (n < cap) snprintf(buf + n, cap - n, ")");
}

/* Every parameter of the checked model from the source, saved. */
static int import_weights(const IrGraph *g, const SeqKerasModel *km, Source *s, const char *out)
{
    int n_params = 0;
    for (int i = 0; i < g->n_layers; i++)
        if (!g->layers[i]->owner) n_params += g->layers[i]->n_params;
    seqrt_st_tensor *t = calloc((size_t)n_params + 1, sizeof *t);
    float **data = calloc((size_t)n_params + 1, sizeof *data);
    int64_t (*shapes)[4] = calloc((size_t)n_params + 1, sizeof *shapes);
    int n = 0, rc = 0;
    char msg[MSG];
    if (!t || !data || !shapes) {
        fprintf(stderr, "seqc: out of memory\n");
        rc = 2;
        goto done;
    }
    for (int i = 0; i < g->n_layers && !rc; i++) {
        const IrLayer *l = g->layers[i];
        if (l->owner || !l->n_params) continue;
        const SeqKerasLayer *kl = NULL;
        for (int k = 0; k < km->n_layers; k++)
            if (!strcmp(km->layers[k].name, l->name)) kl = &km->layers[k];
        if (!kl) seq_die("imported layer '%s' lost its Keras name", l->name);
        int have = -1;
        if (s->tw) {
            have = 0;
            for (int k = 0; k < s->n_tw; k++) have += !strcmp(s->tw[k].layer, l->name);
        } else if (!s->h5_keras3) {
            have = seq_h5_layer_count(s->h5, l->name);
        }
        if (have >= 0 && have != l->n_params) {
            fprintf(stderr, "%s: error: layer '%s' (%s) has %d weight%s there, the model needs %d\n", s->path,
                    l->name, l->op->name, have, have == 1 ? "" : "s", l->n_params);
            rc = 1;
            break;
        }
        int tfjs_next = 0;
        for (int p = 0; p < l->n_params && !rc; p++) {
            const IrParam *ip = &l->params[p];
            int ndim = 0;
            int64_t shape[4];
            const float *src = NULL;
            SeqH5Array a = {0};
            if (s->tw) {
                while (tfjs_next < s->n_tw && strcmp(s->tw[tfjs_next].layer, l->name)) tfjs_next++;
                TfjsWeight *w = &s->tw[tfjs_next++];
                w->taken = true;
                ndim = w->ndim;
                memcpy(shape, w->shape, sizeof shape);
                src = w->data;
            } else {
                bool ok;
                char where[1100];
                if (s->h5_keras3) {
                    char sub[300], path[700];
                    k3_subpath(l, ip->name, sub, sizeof sub);
                    snprintf(path, sizeof path, "%s%s%s", kl->k3_path, sub[0] ? "/" : "", sub);
                    int idx = 0;
                    for (int q = 0; q < p; q++) {
                        char sq[300];
                        k3_subpath(l, l->params[q].name, sq, sizeof sq);
                        idx += !strcmp(sq, sub);
                    }
                    int nv = seq_h5_vars_count(s->h5, path), want = 0;
                    for (int q = 0; q < l->n_params; q++) {
                        char sq[300];
                        k3_subpath(l, l->params[q].name, sq, sizeof sq);
                        want += !strcmp(sq, sub);
                    }
                    if (nv != want) {
                        fprintf(stderr, "%s: error: layer '%s' (%s): %s/vars holds %d weight%s, the model needs %d\n",
                                s->path, l->name, l->op->name, path, nv < 0 ? 0 : nv, nv == 1 ? "" : "s", want);
                        rc = 1;
                        break;
                    }
                    snprintf(where, sizeof where, "%s/vars/%d", path, idx);
                    ok = seq_h5_var(s->h5, path, idx, &a, msg, sizeof msg);
                } else {
                    snprintf(where, sizeof where, "%s weight %d", l->name, p);
                    ok = seq_h5_layer_weight(s->h5, l->name, p, &a, msg, sizeof msg);
                }
                if (!ok) {
                    fprintf(stderr, "%s: error: %s: %s\n", s->path, where, msg);
                    rc = 1;
                    break;
                }
                ndim = a.ndim;
                memcpy(shape, a.shape, sizeof shape);
                src = a.data;
            }
            if (!same_shape(ip, ndim, shape)) {
                char want[100], got[100];
                int64_t ws[4];
                for (int k = 0; k < ip->ndim; k++) ws[k] = ip->shape[k];
                shape_text(want, sizeof want, ip->ndim, ws);
                shape_text(got, sizeof got, ndim, shape);
                fprintf(stderr, "%s: error: weight %d of layer '%s' (%s) has shape %s; '%s' needs %s\n", s->path,
                        p, l->name, l->op->name, got, ip->name, want);
                seq_h5_array_free(&a);
                rc = 1;
                break;
            }
            data[n] = malloc((size_t)(ip->size ? ip->size : 1) * sizeof(float));
            if (!data[n]) {
                seq_h5_array_free(&a);
                rc = 2;
                break;
            }
            memcpy(data[n], src, (size_t)ip->size * sizeof(float));
            seq_h5_array_free(&a);
            memcpy(shapes[n], shape, sizeof shape);
            t[n] = (seqrt_st_tensor){ip->name, data[n], ndim, shapes[n]};
            n++;
        }
    }
    for (int k = 0; !rc && s->tw && k < s->n_tw; k++)
        if (!s->tw[k].taken) {
            fprintf(stderr, "%s: error: weights of layer '%s' that the model has no place for\n", s->path, s->tw[k].layer);
            rc = 1;
        }
    if (!rc) {
        const char *slash = strrchr(s->path, '/');
        const char *meta[] = {"format", "seqc-1", "model", g->name ? g->name : "", "source", slash ? slash + 1 : s->path};
        seqrt_error err;
        if (seqrt_st_save(out, t, n, meta, 3, &err)) {
            fprintf(stderr, "seqc: %s\n", err.msg);
            rc = 2;
        }
    }
done:
    for (int i = 0; i < n; i++) free(data[i]);
    free(data);
    free(t);
    free(shapes);
    return rc;
}

static int write_text(const char *path, const char *text, size_t len)
{
    seqrt_atomic a;
    seqrt_error err;
    if (seqrt_atomic_open(&a, path, &err)) {
        fprintf(stderr, "seqc: %s\n", err.msg);
        return 2;
    }
    seqrt_atomic_write(&a, text, len);
    if (seqrt_atomic_commit(&a, &err)) {
        fprintf(stderr, "seqc: %s\n", err.msg);
        return 2;
    }
    return 0;
}

static bool is_hdf5(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char sig[8] = {0};
    bool h = f && fread(sig, 1, 8, f) == 8 && !memcmp(sig, "\x89HDF\r\n\x1a\n", 8);
    if (f) fclose(f);
    return h;
}

int seq_import(const SeqImportOptions *o)
{
    char msg[MSG];
    char *text = NULL;
    size_t len = 0;
    seqrt_json *root = NULL;
    Source src = {0};
    SeqKerasModel km = {0};
    int rc = 0;
    seqrt_error err;
    if (is_hdf5(o->model)) {
        src.h5 = seq_h5_open(o->model, msg, sizeof msg);
        if (!src.h5) {
            fprintf(stderr, "%s: error: %s\n", o->model, msg);
            return 1;
        }
        src.path = o->model;
        text = seq_h5_model_config(src.h5);
        if (!text) {
            fprintf(stderr, "%s: error: it holds weights only (no model_config); give the model's JSON "
                            "first: seqc import model.json %s -o ...\n", o->model, o->model);
            rc = 1;
            goto done;
        }
        len = strlen(text);
    } else if (seqrt_read_whole(o->model, &text, &len, &err)) {
        fprintf(stderr, "seqc: %s\n", err.msg);
        return 2;
    }
    root = seqrt_json_parse(text, len, msg, sizeof msg);
    if (!root) {
        json_error(o->model, text, len, msg);
        rc = 1;
        goto done;
    }
    if (!seq_keras_translate(root, o->model, &km, msg, sizeof msg)) {
        fprintf(stderr, "%s: error: %s\n", o->model, msg);
        rc = 1;
        goto done;
    }
    /* The text must be a valid model before anything is written. */
    Compilation c;
    driver_load_buffer(&c, o->seq_out, km.text.s, km.text.len, stderr);
    if (!driver_front(&c)) {
        fprintf(stderr, "%s: error: the model as .seq does not check (above); nothing written\n", o->model);
        driver_free(&c);
        rc = 1;
        goto done;
    }
    if (o->weights_out) {
        const seqrt_json *manifest = seq_json_get(root, "weightsManifest");
        if (o->h5) {
            if (src.h5) {
                fprintf(stderr, "seqc: %s already holds the weights; give no second file\n", o->model);
                rc = 2;
            } else if (!(src.h5 = seq_h5_open(o->h5, msg, sizeof msg))) {
                fprintf(stderr, "%s: error: %s\n", o->h5, msg);
                rc = 1;
            }
            src.path = o->h5;
        } else if (manifest && !src.h5) {
            src.path = o->model;
            rc = load_tfjs(&src, manifest, o->model);
        } else if (!src.h5) {
            fprintf(stderr, "seqc: --weights needs the weights: a .h5 file after %s, or a TensorFlow.js "
                            "model.json with its weightsManifest\n", o->model);
            rc = 2;
        }
        if (!rc) {
            src.h5_keras3 = src.h5 && seq_h5_is_keras3(src.h5);
            rc = import_weights(c.ir, &km, &src, o->weights_out);
        }
    } else if (o->h5) {
        fprintf(stderr, "seqc: %s: weights given but no --weights OUT.safetensors to write them to\n", o->h5);
        rc = 2;
    }
    driver_free(&c);
    if (!rc) rc = write_text(o->seq_out, km.text.s, km.text.len);
done:
    seq_keras_model_free(&km);
    seqrt_json_free(root);
    free(text);
    source_free(&src);
    return rc;
}
