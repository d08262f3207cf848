/*
 * import_hdf5.c: Keras's HDF5 weight files through libhdf5 (import_hdf5.h
 * gives the two layouts). Only reads: attributes that are string lists
 * (fixed or variable length, as h5py writes them) and float datasets of
 * rank 0 to 4, converted to float by the library.
 */
#include "import_hdf5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SEQC_HAVE_HDF5
#include <hdf5.h>

struct SeqH5 {
    hid_t file;
    hid_t weights;   /* model_weights, or the root */
    bool keras3;
};

static bool has_attr(hid_t obj, const char *name)
{
    return H5Aexists(obj, name) > 0;
}

static bool has_link(hid_t loc, const char *path)
{
    /* H5Lexists checks one level at a time: walk the path. */
    char buf[1024];
    if (strlen(path) >= sizeof buf) return false;
    strcpy(buf, path);
    for (char *p = buf;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return false;
            if (!c) return true;
            *p = c;
        }
    }
}

SeqH5 *seq_h5_open(const char *path, char *msg, size_t msglen)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* our messages, not libhdf5's stack */
    if (H5Fis_hdf5(path) <= 0) {
        snprintf(msg, msglen, "not an HDF5 file (or unreadable)");
        return NULL;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(msg, msglen, "libhdf5 cannot open it");
        return NULL;
    }
    SeqH5 *h = calloc(1, sizeof *h);
    if (!h) {
        H5Fclose(f);
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    h->file = f;
    h->weights = -1;
    if (H5Lexists(f, "model_weights", H5P_DEFAULT) > 0) h->weights = H5Gopen2(f, "model_weights", H5P_DEFAULT);
    else if (has_attr(f, "layer_names")) h->weights = H5Gopen2(f, "/", H5P_DEFAULT);
    else if (H5Lexists(f, "layers", H5P_DEFAULT) > 0) h->keras3 = true;
    else {
        seq_h5_close(h);
        snprintf(msg, msglen, "no Keras weights in it (neither layer_names nor model_weights of "
                              "tf.keras, nor layers/ of Keras 3)");
        return NULL;
    }
    return h;
}

void seq_h5_close(SeqH5 *h)
{
    if (!h) return;
    if (h->weights >= 0) H5Gclose(h->weights);
    H5Fclose(h->file);
    free(h);
}

bool seq_h5_is_keras3(const SeqH5 *h)
{
    return h->keras3;
}

/* A string attribute (variable or fixed length, one value), malloc'd. */
static char *read_string_attr(hid_t obj, const char *name)
{
    if (!has_attr(obj, name)) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5Aget_type(a), s = H5Aget_space(a);
    char *out = NULL;
    if (H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(s) == 1) {
        if (H5Tis_variable_str(t) > 0) {
            char *v = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));   /* h5py writes UTF-8; no conversion */
            if (H5Aread(a, mt, &v) >= 0 && v) out = strdup(v);
            if (v) H5free_memory(v);
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(t);
            out = calloc(n + 1, 1);
            if (out && H5Aread(a, t, out) < 0) {
                free(out);
                out = NULL;
            }
        }
    }
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
    return out;
}

/* A list-of-strings attribute: item k (malloc'd), or the count with k < 0. */
static int string_list_attr(hid_t obj, const char *name, int k, char **item)
{
    if (item) *item = NULL;
    if (!has_attr(obj, name)) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5Aget_type(a), s = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    int result = -1;
    if (H5Tget_class(t) == H5T_STRING && n >= 0 && n < 100000) {
        result = (int)n;
        if (k >= 0 && k < n) {
            if (H5Tis_variable_str(t) > 0) {
                char **v = calloc((size_t)n, sizeof *v);
                hid_t mt = H5Tcopy(H5T_C_S1);
                H5Tset_size(mt, H5T_VARIABLE);
                H5Tset_cset(mt, H5Tget_cset(t));
                if (v && H5Aread(a, mt, v) >= 0) {
                    *item = v[k] ? strdup(v[k]) : NULL;
                    H5Dvlen_reclaim(mt, s, H5P_DEFAULT, v);
                }
                free(v);
                H5Tclose(mt);
            } else {
                size_t w = H5Tget_size(t);
                char *all = calloc((size_t)n, w);
                if (all && H5Aread(a, t, all) >= 0 && (*item = calloc(w + 1, 1)))
                    memcpy(*item, all + (size_t)k * w, w);
                free(all);
            }
            if (!*item) result = -1;
        }
    }
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
    return result;
}

char *seq_h5_model_config(SeqH5 *h)
{
    return read_string_attr(h->file, "model_config");
}

int seq_h5_layer_count(SeqH5 *h, const char *layer)
{
    if (h->keras3 || !has_link(h->weights, layer)) return -1;
    hid_t g = H5Gopen2(h->weights, layer, H5P_DEFAULT);
    if (g < 0) return -1;
    int n = string_list_attr(g, "weight_names", -1, NULL);
    H5Gclose(g);
    return n < 0 ? 0 : n;
}

static bool read_dataset(hid_t loc, const char *path, SeqH5Array *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    if (!has_link(loc, path)) return snprintf(msg, msglen, "no dataset '%s'", path), false;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) return snprintf(msg, msglen, "'%s' is not a dataset", path), false;
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    bool ok = false;
    int nd = H5Sget_simple_extent_ndims(s);
    hsize_t dims[8];
    if (H5Tget_class(t) != H5T_FLOAT && H5Tget_class(t) != H5T_INTEGER) {
        snprintf(msg, msglen, "dataset '%s' is not numbers", path);
    } else if (nd < 0 || nd > 4) {
        snprintf(msg, msglen, "dataset '%s' has rank %d (at most 4)", path, nd);
    } else {
        H5Sget_simple_extent_dims(s, dims, NULL);
        size_t count = 1;
        out->ndim = nd;
        for (int k = 0; k < nd; k++) {
            out->shape[k] = (int64_t)dims[k];
            if (dims[k] > ((size_t)1 << 31) || (count *= dims[k]) > ((size_t)1 << 31)) {
                snprintf(msg, msglen, "dataset '%s' is too large", path);
                goto done;
            }
        }
        out->count = count;
        out->data = malloc((count ? count : 1) * sizeof(float));
        if (!out->data) snprintf(msg, msglen, "out of memory");
        else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->data) < 0)
            snprintf(msg, msglen, "cannot read dataset '%s'", path);
        else ok = true;
    }
done:
    H5Sclose(s);
    H5Tclose(t);
    H5Dclose(d);
    if (!ok) seq_h5_array_free(out);
    return ok;
}

bool seq_h5_layer_weight(SeqH5 *h, const char *layer, int i, SeqH5Array *out, char *msg,
                         size_t msglen)
{
    hid_t g = H5Gopen2(h->weights, layer, H5P_DEFAULT);
    if (g < 0) return snprintf(msg, msglen, "no group '%s'", layer), false;
    char *wname = NULL;
    string_list_attr(g, "weight_names", i, &wname);
    bool ok = false;
    if (!wname) snprintf(msg, msglen, "layer '%s': no weight_names[%d]", layer, i);
    else ok = read_dataset(g, wname, out, msg, msglen);
    free(wname);
    H5Gclose(g);
    return ok;
}

int seq_h5_vars_count(SeqH5 *h, const char *path)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/vars", path);
    if (!has_link(h->file, p)) return -1;
    hid_t g = H5Gopen2(h->file, p, H5P_DEFAULT);
    if (g < 0) return -1;
    H5G_info_t info;
    int n = H5Gget_info(g, &info) < 0 ? -1 : (int)info.nlinks;
    H5Gclose(g);
    return n;
}

bool seq_h5_var(SeqH5 *h, const char *path, int i, SeqH5Array *out, char *msg, size_t msglen)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/vars/%d", path, i);
    return read_dataset(h->file, p, out, msg, msglen);
}

#else /* !SEQC_HAVE_HDF5 */

struct SeqH5 {
    int unused;
};

SeqH5 *seq_h5_open(const char *path, char *msg, size_t msglen)
{
    (void)path;
    snprintf(msg, msglen, "this seqc was built without libhdf5 (Debian: apt-get install "
                          "libhdf5-dev, then rebuild)");
    return NULL;
}
void seq_h5_close(SeqH5 *h) { (void)h; }
bool seq_h5_is_keras3(const SeqH5 *h) { (void)h; return false; }
char *seq_h5_model_config(SeqH5 *h) { (void)h; return NULL; }
int seq_h5_layer_count(SeqH5 *h, const char *layer) { (void)h, (void)layer; return -1; }
bool seq_h5_layer_weight(SeqH5 *h, const char *layer, int i, SeqH5Array *out, char *msg,
                         size_t msglen)
{
    (void)h, (void)layer, (void)i, (void)out, (void)msg, (void)msglen;
    return false;
}
int seq_h5_vars_count(SeqH5 *h, const char *path) { (void)h, (void)path; return -1; }
bool seq_h5_var(SeqH5 *h, const char *path, int i, SeqH5Array *out, char *msg, size_t msglen)
{
    (void)h, (void)path, (void)i, (void)out, (void)msg, (void)msglen;
    return false;
}

#endif

void seq_h5_array_free(SeqH5Array *a)
{
    free(a->data);
    a->data = NULL;
    a->count = 0;
}
