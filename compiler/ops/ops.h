/*
 * ops.h: the one place a layer kind lives. Each ops/<kind>.c fills one
 * OpInfo (its attribute schema with Keras defaults, how many tensors it
 * takes and gives, and its shape-and-parameter rule) and one row in the
 * table in ops.c registers it. Nothing else in the compiler names a layer.
 */
#ifndef SEQ_OPS_H
#define SEQ_OPS_H

#include <stdbool.h>

#include "arena.h"
#include "diag.h"
#include "ir.h"

typedef struct {
    const char *name;
    AttrType type;
    bool required;
    long long i;                    /* default for INT/BOOL/INTS */
    double f;                       /* default for FLOAT */
    const char *s;                  /* default for STR (NULL: none) */
    const char *const *choices;     /* allowed STR values, NULL-terminated */
} AttrSpec;

/* What a shape rule sees for one call and what it must fill in. */
typedef struct InferCtx {
    Diag *diag;
    Arena *arena;
    IrLayer *layer;
    IrNode *node;
    const Shape *in[IR_MAX_IO];     /* shapes of node->in */
    int n_in;
    const Shape *state[IR_MAX_IO];  /* shapes of initial_state */
    int n_state;
    Shape out[IR_MAX_IO];
    int n_out;
    bool out_softmax;               /* the first output is a softmax */
    bool out_sigmoid;
    const char *prefix;             /* param name prefix, "" or "bidirectional.forward_" */
} InferCtx;

struct LowerOp;
struct InferOp;

/* What a layer does with padding masks ([B, T]: 1 valid, 0 padded), after
 * Keras's compute_mask. A rule is about one output; the others carry no
 * mask unless the op's mask_rule says so. */
typedef enum {
    MASK_UNSET,      /* not declared: the op-table test fails on it */
    MASK_PROPAGATE,  /* the output keeps input 0's mask (Dense, an RNN's sequence) */
    MASK_COMBINE,    /* the AND of the inputs' masks, an unmasked input counting
                        as all valid (Add; Concatenate, along time: joined) */
    MASK_CREATE,     /* the layer computes a new mask (Embedding mask_zero, Masking) */
    MASK_CONSUME,    /* the layer reads input masks; the output carries none
                        (an RNN's last state, the weights of attention) */
    MASK_DROP        /* the layer ignores masks; OpInfo.mask_note says why */
} MaskRule;

/* How expand.c rewrites a wrapper layer into plain layer calls before
 * planning (the wrapped layer is attribute 0). */
typedef enum {
    OP_WRAP_NONE,
    OP_WRAP_BOTH_DIRECTIONS, /* a forward and a go_backwards copy, merged by attribute 1 */
    OP_WRAP_EACH_STEP        /* the wrapped layer, which must be row_wise, on every step */
} OpWrap;

typedef struct Expand Expand; /* expand.h */

typedef struct OpInfo {
    const char *name;               /* as the user writes it: "LSTM" */
    const char *keras_name;         /* auto-name stem: "lstm" */
    const AttrSpec *attrs;
    int n_attrs;
    int min_in, max_in;             /* tensor arguments; max -1: any number */
    bool recurrent;                 /* takes initial_state=, wraps in Bidirectional */
    bool takes_ints;                /* accepts integer (token) inputs */
    OpWrap wrap;                    /* a wrapper: how expand.c lowers it */
    /* A wrapper that rewrites itself: replace node n by plain nodes through
     * expand.h (Bidirectional: two directions, a time reversal, a merge). */
    void (*expand)(Expand *E, const IrNode *n);
    bool row_wise;                  /* each row of the input alone: OP_WRAP_EACH_STEP may wrap it */
    /* Padding masks: the rule of output 0, and the rule of output `out` of
     * one layer when it depends on the layer's options (NULL: `mask` for
     * output 0, none for the others). mask_note: why a padded batch can
     * differ from its samples run one by one (MASK_DROP, and any op the
     * padding test cannot cover), or NULL. */
    MaskRule mask;
    MaskRule (*mask_rule)(const IrLayer *l, int out);
    const char *mask_note;
    /* Check the inputs, set outputs (n_out and shapes) and, on the first
     * call, declare parameters with op_param(). false after a diagnostic. */
    bool (*infer)(InferCtx *c);
    /* Code generation (lower.h): declare scratch buffers, then write the
     * bodies of the layer's forward and backward functions. NULL: this
     * layer kind cannot be compiled to C yet. */
    void (*plan)(struct LowerOp *o);
    void (*forward)(struct LowerOp *o);
    void (*backward)(struct LowerOp *o);
    /* The fewest time steps input 0 may have (a valid convolution: its
     * span), or NULL for any; checked at run time for named axes. */
    long long (*min_time)(const IrLayer *l);
    /* An option of this layer that code generation lacks, or NULL. */
    const char *(*unsupported)(const IrLayer *l);
    /* The values integer input k must stay below (a vocabulary), written to
     * the generated io table so the runtime checks token ids; NULL or 0: no
     * bound from this layer. */
    long long (*int_limit)(const IrLayer *l, int k);
    /* Why checkpointed BPTT (--bptt-checkpoint) keeps every step of this
     * layer, as the layer and option ("LSTM(x=y)"), or NULL. */
    const char *(*bptt_unsupported)(const IrLayer *l);
    /* Streaming inference (infer.h): one time step's body; NULL when the
     * layer needs the whole sequence. step_unsupported says why an option
     * of the layer cannot stream, or NULL. */
    void (*step)(struct InferOp *o);
    const char *(*step_unsupported)(const IrLayer *l);
    /* TensorFlow.js export (keras.h): why tfjs-layers 4.22 cannot run this
     * layer as configured or called ("reset_after=true: ...", a masked
     * input it mishandles, or that Keras has no such layer), or NULL. n is
     * the call (the wrapper's, for a wrapped layer). */
    const char *(*tfjs_unsupported)(const IrLayer *l, const IrNode *n);
    /* Keras's config value of attribute k as JSON text where the generic
     * spelling (keras.c: the value as written, initializers as Keras's
     * objects) is not Keras's, or NULL for the generic one; "" leaves the
     * key out. */
    const char *(*keras_value)(const IrLayer *l, int k, Arena *a);
    /* Zero steps Keras's config must put in front of input 0 (a causal
     * convolution exported as a valid one), or NULL / 0: keras.c writes
     * them as Reshape, ZeroPadding2D, Reshape, which TensorFlow.js has. */
    long long (*keras_pad_front)(const IrLayer *l);
    /* Why a layer with no step hook cannot stream ("its backward direction
     * starts from the last step"): seqc says it, and the op-table test
     * (tests/op_table_coverage.py) requires it. */
    const char *step_note;
    /* For seqc import (import_keras.c): Keras has no layer of this name
     * (the language's own, or internal to expand); the states a
     * return_state call returns, one letter each ("hc": the outputs
     * NAME_h, NAME_c); a second output's name ("scores") and whether it is
     * always there rather than asked for with return_attention_scores. */
    bool not_keras;
    const char *state_names;
    const char *extra_output;
    bool extra_output_always;
} OpInfo;

const OpInfo *op_find(const char *name);
/* All op names, for "known layers are: ..." */
const OpInfo *const *op_all(int *n);
int op_attr_index(const OpInfo *op, const char *name);
/* The mask rule of output `out` of layer l. */
MaskRule op_mask_rule(const IrLayer *l, int out);
const char *op_mask_rule_name(MaskRule r);
/* Set the masks of a call's outputs from its inputs' by the op's rule:
 * a tensor's mask is the tensor whose buffer holds it (itself when the
 * call computes a new one). */
void op_set_masks(IrNode *node);

/* Helpers for shape rules. */
const AttrVal *op_attr(const InferCtx *c, const char *name);
long long op_int(const InferCtx *c, const char *name);
double op_float(const InferCtx *c, const char *name);
bool op_bool(const InferCtx *c, const char *name);
const char *op_str(const InferCtx *c, const char *name);
/* Declare a parameter of the layer (first call only; later calls check). */
void op_param(InferCtx *c, const char *name, int ndim, const long long *shape, InitKind init);
/* An initializer attribute ("kernel_initializer") as an InitKind. */
InitKind op_init(const InferCtx *c, const char *attr);
/* Report a shape problem at the call, with a note on where input k came from. */
bool op_error_input(InferCtx *c, int k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool op_error(InferCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The input must have this rank; says so otherwise. */
bool op_need_rank(InferCtx *c, int k, int rank, const char *what);

extern const char *const op_activation_choices[];
extern const char *const op_initializer_choices[];

#endif
