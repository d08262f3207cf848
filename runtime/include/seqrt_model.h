/*
 * seqrt_model.h: the one contract between the C that seqc emits and libseqrt.
 *
 * A generated model fills one `seqrt_model` descriptor: its parameter table
 * (Keras names, shapes, offsets into one flat buffer, initialisers), its
 * inputs, targets and outputs, its losses and optimizer from the `train`
 * block, and three functions: workspace size, forward, backward. The trainer,
 * the checkpoints and the command line in libseqrt see nothing else, so they
 * are written once for every model.
 *
 * Calling convention (llm.c's): outputs first, then inputs, then sizes.
 * All tensors are row-major with the batch axis first: [B, T, F] or [B, F].
 */
#ifndef SEQRT_MODEL_H
#define SEQRT_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* The scalar type. Build with -DSEQRT_DOUBLE (generated code and the
 * seqrt_f64 library alike) for float64 gradient checks. */
#ifdef SEQRT_DOUBLE
typedef double seqrt_real;
#define SEQRT_REAL_NAME "float64"
#else
typedef float seqrt_real;
#define SEQRT_REAL_NAME "float32"
#endif

#define SEQRT_MAX_DIMS 4

typedef enum {
    SEQRT_INIT_ZEROS,
    SEQRT_INIT_ONES,
    SEQRT_INIT_GLOROT_UNIFORM,  /* U(-L, L), L = sqrt(6 / (fan_in + fan_out)) */
    SEQRT_INIT_ORTHOGONAL,      /* one [prod(shape[:-1]), shape[-1]] matrix */
    SEQRT_INIT_UNIFORM,         /* U(-0.05, 0.05): Keras's "uniform", Embedding */
    SEQRT_INIT_UNIT_FORGET_BIAS /* LSTM bias [4u]: 1 on [u, 2u), 0 elsewhere */
} seqrt_init_kind;

/* One trainable tensor, a slice of the flat parameter buffer. */
typedef struct {
    const char *name;              /* "lstm.kernel", Keras layer + weight name */
    int ndim;
    int64_t shape[SEQRT_MAX_DIMS];
    size_t offset;                 /* in elements, into the flat buffer */
    size_t size;                   /* elements */
    seqrt_init_kind init;
    int64_t fan_in, fan_out;       /* for glorot_uniform (conv: K*Cin, K*F) */
} seqrt_param;

/* A named input, target or output. The batch axis is implicit. */
typedef struct {
    const char *name;
    int is_int;                    /* int32 token ids or sparse labels */
    int ndim;                      /* axes after the batch axis: 1 or 2 */
    int64_t shape[3];              /* -1 where an axis is dynamic */
    int dim_index[3];              /* for a dynamic axis: index into the
                                      model's named dims; -1 otherwise */
    int64_t int_limit;             /* integer data must lie in [0, int_limit)
                                      (vocabulary or class count); 0: unchecked */
    int64_t dim_offset[3];         /* a dynamic axis is dims[dim_index] +
                                      dim_offset long: valid convolutions
                                      shorten it (T-1 after kernel_size 2) */
    int64_t dim_div[3], dim_add[3];/* after strided ones (dim_div > 1) it is
                                      (dims[dim_index] + dim_add) / dim_div
                                      + dim_offset, rounded down: (T-3)/2+1 */
} seqrt_io;

typedef enum {
    SEQRT_LOSS_MSE,
    SEQRT_LOSS_MAE,
    SEQRT_LOSS_CATEGORICAL_CROSSENTROPY,
    SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
    SEQRT_LOSS_BINARY_CROSSENTROPY
} seqrt_loss_kind;

/* prediction = outputs[output], compared with targets[target]. When the
 * output came straight from a softmax (or sigmoid) activation, `from_softmax`
 * is set and the loss takes Keras's TF logits path (see KERAS-SEMANTICS 7). */
typedef struct {
    int output, target;
    seqrt_loss_kind kind;
    int from_logits;
    int from_softmax;
    double weight;
    double label_smoothing;
} seqrt_loss_spec;

typedef enum {
    SEQRT_OPT_SGD,
    SEQRT_OPT_ADAM,
    SEQRT_OPT_ADAMW,
    SEQRT_OPT_RMSPROP,
    SEQRT_OPT_ADAGRAD
} seqrt_optim_kind;

/* Keras hyperparameters; the compiler writes Keras defaults where the .seq
 * file is silent. A clip value of 0 means "not set". */
typedef struct {
    seqrt_optim_kind kind;
    double learning_rate;
    double beta_1, beta_2, epsilon;
    double momentum, rho;
    double weight_decay;
    double initial_accumulator_value;
    int nesterov, amsgrad, centered;
    double clipnorm, clipvalue, global_clipnorm;
} seqrt_optim_spec;

enum {
    SEQRT_METRIC_ACCURACY = 1 << 0, /* Keras picks the flavour from the loss */
    SEQRT_METRIC_CATEGORICAL_ACCURACY = 1 << 1,
    SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY = 1 << 2,
    SEQRT_METRIC_BINARY_ACCURACY = 1 << 3,
    SEQRT_METRIC_MAE = 1 << 4,
    SEQRT_METRIC_MSE = 1 << 5
};

typedef struct seqrt_model {
    const char *name;              /* the `model` name */
    const char *source;            /* the .seq file it was compiled from */
    const char *summary;           /* the table `seqc summary` prints */

    int n_params;
    const seqrt_param *params;
    size_t param_count;            /* total elements in the flat buffer */

    int n_dims;                    /* named dynamic axes ("T", "Te", ...) */
    const char *const *dim_names;

    int n_inputs, n_targets, n_outputs;
    const seqrt_io *inputs, *targets, *outputs;

    int n_losses;
    const seqrt_loss_spec *losses;
    seqrt_optim_spec optim;
    int batch_size, epochs;        /* defaults from the train block */
    unsigned metrics;              /* SEQRT_METRIC_* bits */

    /* Bytes of scratch the forward and backward passes need for a batch of
     * B with the named dims set to dims[]. */
    size_t (*workspace_size)(int64_t B, const int64_t *dims);

    /* outputs[i] gets B * prod(outputs[i].shape) reals. inputs[i] is an
     * int32_t* for integer inputs, a seqrt_real* otherwise. `training` is 0
     * for inference; any other value means training and is the key of this
     * step's dropout masks (the trainer passes a new key each step, derived
     * from its seed, so runs repeat exactly). */
    void (*forward)(seqrt_real *const *outputs, const seqrt_real *params,
                    const void *const *inputs, int64_t B, const int64_t *dims,
                    void *ws, int training);

    /* Adds dLoss/dparam into grads (the caller zeroes it first), given
     * d_outputs[i] = dLoss/d outputs[i], after a forward with training=1 on
     * the same ws, inputs and sizes. */
    void (*backward)(seqrt_real *grads, const seqrt_real *const *d_outputs,
                     const seqrt_real *params, const void *const *inputs,
                     int64_t B, const int64_t *dims, void *ws);

    /* Stateful recurrent layers (stateful=true) carry their final states
     * in ws from one batch to the next (row i continues row i, as Keras
     * does). This zeroes them; call it once a workspace is allocated, and
     * whenever the sequences start over. NULL when no layer is stateful. */
    void (*reset_states)(void *ws, int64_t B, const int64_t *dims);

    /* 1 when the passes on rows [r0, r1) of a batch (a batch of r1 - r0)
     * give exactly those rows of the whole batch's outputs and a share of
     * its parameter gradients: no dropout (its masks are drawn by position
     * in the batch) and no carried states. The trainer then runs slices of
     * a batch on the thread team (train_split.c). */
    int rows_independent;

    /* After a forward pass: when output `output` carries a padding mask
     * (from Embedding(mask_zero=true) or Masking), write 1 for each valid
     * and 0 for each padded position (B * T bytes) and return 1; Keras's
     * losses and metrics then count valid positions only. Returns 0 for an
     * unmasked output. NULL when no output is masked. */
    int (*output_mask)(uint8_t *dst, int output, void *ws, int64_t B, const int64_t *dims);

    /* --check-numerics: after a forward pass (backward = 0) scan every
     * layer's outputs in graph order, after a backward pass (backward = 1)
     * every gradient in reverse order, and describe the first NaN or Inf in
     * msg (layer, tensor, sample, time step); returns 1 if one was found. */
    int (*check_numerics)(char *msg, size_t len, void *ws, int64_t B, const int64_t *dims,
                          int backward);

    /* Named axes too short for a layer (a valid convolution needs its
     * span): describe it in msg and return 1; 0 when every layer can run.
     * NULL when no layer constrains them. The runtime calls it whenever
     * data sets the axes. */
    int (*check_dims)(char *msg, size_t len, const int64_t *dims);

    /* The .seq file's decode block, for the `decode` command: greedy
     * decoding feeds the argmax of outputs[decode_output] at each step back
     * into inputs[decode_input] (one-hot, or token ids), starting from the
     * token decode_start; outputs[decode_attention] (or -1) holds attention
     * weights to write out. decode_input is -1 when there is no block. */
    int decode_input, decode_output, decode_attention;
    int64_t decode_start;

    /* `export --tfjs`: the model as Keras's functional model config (the
     * JSON of model.to_json(), which TensorFlow.js loads), or NULL, and
     * then tfjs_refusal says which layer and option TensorFlow.js 4.22
     * cannot run. */
    const char *keras_topology;
    const char *tfjs_refusal;
} seqrt_model;

#endif /* SEQRT_MODEL_H */
