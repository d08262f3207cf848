/*
 * import_hdf5.h: Keras weights from HDF5 files, for `seqc import`. Two
 * layouts, as Keras's saving code writes them:
 *   tf.keras 2 (save_weights to .h5, or model.save to .h5): the root (or
 *     its group model_weights) has attribute layer_names; each layer's group
 *     has attribute weight_names, the datasets in get_weights() order, each
 *     stored at <layer>/<weight name>; model.save adds attribute
 *     model_config (the model's JSON).
 *   Keras 3 (.weights.h5): layers/<snake_case class>[_k]/.../vars/<i>, the
 *     path following the layer's attributes (cell, forward_layer, ...).
 * Without libhdf5 at build time every call refuses, saying so.
 */
#ifndef SEQ_IMPORT_HDF5_H
#define SEQ_IMPORT_HDF5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SeqH5 SeqH5;

/* One array read from a file, converted to float. */
typedef struct {
    int ndim;
    int64_t shape[4];
    size_t count;
    float *data;
} SeqH5Array;

/* Open `path`; NULL with a one-line reason in msg. */
SeqH5 *seq_h5_open(const char *path, char *msg, size_t msglen);
void seq_h5_close(SeqH5 *h);
/* Keras 3 layout (a top-level group "layers") rather than tf.keras 2's. */
bool seq_h5_is_keras3(const SeqH5 *h);
/* The model_config attribute of a whole-model .h5 (malloc'd JSON text),
 * or NULL when the file holds weights only. */
char *seq_h5_model_config(SeqH5 *h);
/* tf.keras 2: the number of weights of layer `layer` (-1: no such group). */
int seq_h5_layer_count(SeqH5 *h, const char *layer);
/* tf.keras 2: weight `i` of layer `layer`, in weight_names order. */
bool seq_h5_layer_weight(SeqH5 *h, const char *layer, int i, SeqH5Array *out, char *msg,
                         size_t msglen);
/* Keras 3: the number of datasets in group `path`/vars (-1: none). */
int seq_h5_vars_count(SeqH5 *h, const char *path);
/* Keras 3: `path`/vars/<i>. */
bool seq_h5_var(SeqH5 *h, const char *path, int i, SeqH5Array *out, char *msg, size_t msglen);
void seq_h5_array_free(SeqH5Array *a);

#endif
