/*
 * keras.h: the model as Keras's functional model config (the JSON that
 * tf.keras's model.to_json() writes and TensorFlow.js's tf.loadLayersModel
 * reads), embedded in the generated descriptor for the training program's
 * `export --tfjs`. Built from the checked graph before wrappers are
 * expanded, so Bidirectional and TimeDistributed stay Keras layers.
 */
#ifndef SEQ_KERAS_H
#define SEQ_KERAS_H

#include "arena.h"
#include "ir.h"

typedef struct {
    const char *topology;   /* {"class_name": "Model", "config": ...}; NULL when refused */
    const char *refusal;    /* why TensorFlow.js 4.22 cannot run the model, or NULL */
} KerasExport;

KerasExport keras_export(const IrGraph *g, Arena *a);

#endif
