/*
 * import.h: `seqc import`: a Keras or TensorFlow.js model in, the .seq
 * file and its weights (safetensors, the checkpoint names) out.
 *   model   a Keras model JSON (model.to_json(), tf.keras 2 or Keras 3),
 *           a TensorFlow.js model.json (its weightsManifest shards beside
 *           it), or a tf.keras model.save() .h5 (model_config + weights)
 *   h5      Keras weights for a JSON model (save_weights .h5 or Keras 3
 *           .weights.h5), or NULL
 * The .seq is checked by seqc's own front end before anything is written.
 */
#ifndef SEQ_IMPORT_H
#define SEQ_IMPORT_H

typedef struct {
    const char *model;
    const char *h5;
    const char *seq_out;
    const char *weights_out;    /* NULL: the .seq only */
} SeqImportOptions;

/* Exit status: 0 done, 1 the model cannot be expressed (or its weights do
 * not fit it), 2 I/O. Messages go to stderr, one line each. */
int seq_import(const SeqImportOptions *o);

#endif
