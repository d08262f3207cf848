/*
 * ir.h: the model as a graph. Tensors have symbolic shapes (the batch axis
 * is implicit; a time axis is a number or a name, dynamic at run time).
 * Layers own attributes and parameters; a node is one call of a layer, so a
 * layer used twice (shared weights) has two nodes. `nodes` is in
 * topological order: every node comes after the producers of its inputs.
 */
#ifndef SEQ_IR_H
#define SEQ_IR_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"

/* One axis: a fixed length n (sym == NULL), or a function of a named
 * dynamic length: sym + n (valid convolutions shorten it: "T-1"), or with
 * strides (div > 1) (sym + add) / div + n, rounded down: "(T-3)/2+1".
 * div 0 or 1 means no division, and then add is 0. */
typedef struct {
    const char *sym;
    long long n;
    long long div, add;
} Dim;

enum { SHAPE_MAX_RANK = 3 };

typedef struct {
    int rank;                 /* axes after the batch axis */
    Dim d[SHAPE_MAX_RANK];
    bool is_int;              /* token ids / sparse labels */
} Shape;

typedef struct IrNode IrNode;
typedef struct IrLayer IrLayer;
struct OpInfo;

typedef enum { TENSOR_VALUE, TENSOR_INPUT, TENSOR_TARGET } TensorRole;

typedef struct IrTensor {
    int id;
    const char *name;         /* the user's variable name, or NULL */
    Shape shape;
    TensorRole role;
    Span span;                /* where it is defined (for notes) */
    IrNode *producer;         /* NULL for inputs and targets */
    int producer_out;         /* which output of the producer */
    int n_uses;
    bool from_softmax;        /* produced by a softmax activation */
    bool from_sigmoid;
    bool masked;              /* carries a padding mask (mask_zero / Masking) */
    struct IrTensor *mask;    /* the tensor whose producer computed that mask
                                 (itself for Embedding/Masking outputs) */
} IrTensor;

typedef enum {
    ATTR_INT,
    ATTR_FLOAT,   /* an integer literal is accepted too */
    ATTR_BOOL,
    ATTR_STR,     /* one of AttrSpec.choices; a bare name or a string */
    ATTR_LAYER,   /* a layer built inline: Bidirectional(LSTM(32)) */
    ATTR_INTS     /* an integer or a list of integers */
} AttrType;

typedef struct {
    AttrType type;
    bool given;               /* written by the user (else the default) */
    long long i;
    double f;
    const char *s;
    IrLayer *layer;
    long long ints[4];
    int n_ints;
    Span span;
} AttrVal;

/* Initialisers as the runtime knows them (seqrt_init_kind). */
typedef enum {
    INIT_ZEROS,
    INIT_ONES,
    INIT_GLOROT_UNIFORM,
    INIT_ORTHOGONAL,
    INIT_UNIFORM,
    INIT_UNIT_FORGET_BIAS
} InitKind;

typedef struct {
    const char *name;         /* "lstm.kernel" */
    int ndim;
    long long shape[4];
    long long size;
    InitKind init;
    long long fan_in, fan_out;
} IrParam;

enum { IR_MAX_PARAMS = 16, IR_MAX_IO = 8 };

struct IrLayer {
    int id;                   /* index in IrGraph.layers */
    const struct OpInfo *op;
    const char *name;         /* Keras-style: "lstm", "lstm_1", or name="..." */
    Span span;                /* where it is built */
    AttrVal *attrs;           /* indexed like op->attrs */
    IrParam params[IR_MAX_PARAMS];
    int n_params;
    bool built;               /* params fixed by the first call */
    IrLayer *inner;           /* the wrapped layer (Bidirectional, TimeDistributed) */
    IrLayer *owner;           /* the wrapper, for an inner layer */
    bool zero_output_for_mask;/* masked steps output 0 (inside Bidirectional) */
    int n_calls;
    long long n_weights;      /* sum of param sizes */
};

struct IrNode {
    int id;
    IrLayer *layer;
    Span span;                /* the call in the source */
    int line;                 /* its line, for comments in the emitted C */
    IrTensor *in[IR_MAX_IO];
    int n_in;
    IrTensor *state[IR_MAX_IO]; /* initial_state=[...] */
    int n_state;
    IrTensor *out[IR_MAX_IO];
    int n_out;
};

typedef enum {
    LOSS_MSE,
    LOSS_MAE,
    LOSS_CATEGORICAL_CROSSENTROPY,
    LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
    LOSS_BINARY_CROSSENTROPY
} LossKind;

typedef struct {
    LossKind kind;
    IrTensor *pred, *target;
    double weight, label_smoothing;
    bool from_logits;
    Span span;
} IrLoss;

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAMW, OPT_RMSPROP, OPT_ADAGRAD } OptKind;

typedef struct {
    OptKind kind;
    double learning_rate, beta_1, beta_2, epsilon, momentum, rho, weight_decay;
    double initial_accumulator_value;
    bool nesterov, amsgrad, centered;
    double clipnorm, clipvalue, global_clipnorm;
} IrOptim;

enum {
    METRIC_ACCURACY = 1 << 0,
    METRIC_CATEGORICAL_ACCURACY = 1 << 1,
    METRIC_SPARSE_CATEGORICAL_ACCURACY = 1 << 2,
    METRIC_BINARY_ACCURACY = 1 << 3,
    METRIC_MAE = 1 << 4,
    METRIC_MSE = 1 << 5
};

typedef struct {
    bool present;
    IrLoss *losses;
    int n_losses;
    IrOptim optim;
    long long batch_size, epochs;
    double validation_split;
    unsigned metrics;
    Span span;
} IrTrain;

/* decode { ... }: greedy decoding feeds the prediction's argmax back into
 * the decoder input, starting from the token `start`. */
typedef struct {
    bool present;
    IrTensor *input, *output, *attention;
    long long start;
    Span span;
} IrDecode;

typedef struct {
    const char *name;
    const char *path;
    IrTensor **tensors;
    int n_tensors;
    IrLayer **layers;         /* in construction order (= Keras's naming order) */
    int n_layers;
    IrNode **nodes;           /* topological order */
    int n_nodes;
    IrTensor **inputs, **targets, **outputs;
    int n_inputs, n_targets, n_outputs;
    const char **dims;        /* named dynamic axes, in order of first use */
    int n_dims;
    IrTrain train;
    IrDecode decode;
} IrGraph;

bool dim_eq(Dim a, Dim b);
bool shape_eq(const Shape *a, const Shape *b);
/* "(None, T, 32)", Keras's notation with named axes kept; into buf. */
const char *shape_str(const Shape *s, char *buf, size_t len);
const char *dim_str(Dim d, char *buf, size_t len);
Dim dim_fixed(long long n);
/* The length floor((d + pre) / s) + post, of a fixed or a named d: what a
 * strided layer gives (valid: pre = -span - 1, post = 1; same: s - 1, 0). */
Dim dim_strided(Dim d, long long pre, long long s, long long post);
long long ir_param_count(const IrGraph *g);
/* Every parameter count and the model's total (in float64 bytes) fit a
 * 64-bit size; else an error at the layer where the total overflows. */
bool ir_check_sizes(const IrGraph *g, Diag *d);
/* Where a tensor came from, for notes: "output of 'lstm' (LSTM)". */
const char *tensor_origin(const IrTensor *t, char *buf, size_t len);

#endif
