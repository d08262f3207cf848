/*
 * import_keras.h: a Keras model's JSON (model.to_json() of tf.keras 2 or
 * Keras 3, or the modelTopology of a TensorFlow.js model.json) as the .seq
 * text a person would write. Every option the language has is carried;
 * an option it lacks is refused naming the layer, the option and why.
 */
#ifndef SEQ_IMPORT_KERAS_H
#define SEQ_IMPORT_KERAS_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"   /* seqrt_json, seqrt_strbuf (runtime/src) */

/* One top-level Keras layer that holds weights, for matching weight files. */
typedef struct {
    char *name;          /* Keras's layer name (= the .seq layer name) */
    char *cls;           /* class_name */
    char *k3_path;       /* Keras 3 .weights.h5 group: "layers/lstm_1" */
} SeqKerasLayer;

typedef struct {
    seqrt_strbuf text;          /* the .seq file */
    char *model_name;
    bool keras3;                /* written by Keras 3 (its JSON form) */
    SeqKerasLayer *layers;
    int n_layers;
} SeqKerasModel;

/* Translate the topology `root` (a parsed model JSON: {class_name, config}
 * or a TensorFlow.js model.json) read from `source` (named in the .seq's
 * header comment). false with a one-line reason in msg. */
bool seq_keras_translate(const seqrt_json *root, const char *source, SeqKerasModel *m,
                         char *msg, size_t msglen);
void seq_keras_model_free(SeqKerasModel *m);

/* Object member `key`, or NULL (also when o is not an object). */
const seqrt_json *seq_json_get(const seqrt_json *o, const char *key);

#endif
