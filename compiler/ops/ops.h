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

typedef struct OpInfo {
    const char *name;               /* as the user writes it: "LSTM" */
    const char *keras_name;         /* auto-name stem: "lstm" */
    const AttrSpec *attrs;
    int n_attrs;
    int min_in, max_in;             /* tensor arguments; max -1: any number */
    bool recurrent;                 /* takes initial_state=, wraps in Bidirectional */
    bool takes_ints;                /* accepts integer (token) inputs */
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
    /* Streaming inference (infer.h): one time step's body; NULL when the
     * layer needs the whole sequence. step_unsupported says why an option
     * of the layer cannot stream, or NULL. */
    void (*step)(struct InferOp *o);
    const char *(*step_unsupported)(const IrLayer *l);
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

/* The rule SimpleRNN, LSTM and GRU share: input [T, D]; output [T, u] or
 * [u]; n_states states of [u]; kernel [D, gates*u], recurrent_kernel
 * [u, gates*u] and the bias the caller declares. */
bool op_rnn_infer(InferCtx *c, int gates, int n_states, const char *const *state_names);
/* What recurrent layers cannot compile to C yet (dropout), or NULL. */
const char *op_rnn_unsupported(const IrLayer *l);
/* Keras's RNN.compute_mask: the sequence output keeps the mask; the last
 * output and the states carry none. */
MaskRule op_rnn_mask_rule(const IrLayer *l, int out);
/* The attributes every recurrent layer has, in Keras's order after units. */
#define OP_RNN_COMMON_ATTRS                                                            \
    {"use_bias", ATTR_BOOL, false, 1, 0, NULL, NULL},                                  \
    {"kernel_initializer", ATTR_STR, false, 0, 0, "glorot_uniform", op_initializer_choices}, \
    {"recurrent_initializer", ATTR_STR, false, 0, 0, "orthogonal", op_initializer_choices},  \
    {"bias_initializer", ATTR_STR, false, 0, 0, "zeros", op_initializer_choices},      \
    {"dropout", ATTR_FLOAT, false, 0, 0.0, NULL, NULL},                                \
    {"recurrent_dropout", ATTR_FLOAT, false, 0, 0.0, NULL, NULL},                      \
    {"return_sequences", ATTR_BOOL, false, 0, 0, NULL, NULL},                          \
    {"return_state", ATTR_BOOL, false, 0, 0, NULL, NULL},                              \
    {"go_backwards", ATTR_BOOL, false, 0, 0, NULL, NULL},                              \
    {"stateful", ATTR_BOOL, false, 0, 0, NULL, NULL},                                  \
    {"unroll", ATTR_BOOL, false, 0, 0, NULL, NULL}

/* Code generation shared by the recurrent layers (rnn.c). Internally they
 * run time-major: xt [T, B, D], gates z [T, B, G*U], states h [T+1, B, U]
 * (h[0] is the initial state), so each step is one contiguous [B, *] block
 * and the weight gradients are one GEMM over all T*B rows. */
typedef struct {
    long long D, U, G;       /* input features, units, gate blocks */
    bool seq, state, backwards, bias, stateful;
    bool masked;             /* input 0 carries a padding mask: mask0[b, t] */
    bool zero_masked;        /* masked steps output 0 (inside Bidirectional) */
    const char *mt, *mf;     /* step t is kept / masked: comparisons, as the
                                mask is seqrt_real (clang -Wfloat-conversion) */
    double xd, rd;           /* dropout on the inputs, on the recurrent state */
    const char *act, *rec;   /* activation, recurrent_activation */
    long long seg;           /* checkpointed BPTT: 0 off, else LowerOp's bptt_segment */
} RnnShape;

void op_rnn_shape(struct LowerOp *o, int gates, RnnShape *r);
void op_rnn_plan(struct LowerOp *o, const RnnShape *r);
/* xt = x0 in time-major order (reversed for go_backwards); z = xt kernel
 * (+ the input bias `bias_expr`, or none when NULL), all steps at once. */
void op_rnn_emit_inputs(struct LowerOp *o, const RnnShape *r, const char *bias_expr);
/* The two halves of op_rnn_emit_inputs: xt (and the dropout masks); then
 * z[0 .. n*B) = projection of steps t0 .. t0+n-1 (C expressions). */
void op_rnn_emit_xt(struct LowerOp *o, const RnnShape *r);
void op_rnn_emit_projection(struct LowerOp *o, const RnnShape *r, const char *bias_expr,
                            const char *t0, const char *n);
/* Checkpointed BPTT's segment length, a C expression in T. */
const char *op_rnn_segment(struct LowerOp *o, const RnnShape *r);
/* Open the loop over segments (S, t0, len), first to last or, in the
 * backward pass, last to first; the caller closes it. */
void op_rnn_open_segments(struct LowerOp *o, const RnnShape *r, bool backward);
/* buf[0] = initial state s<k> if given, else the carried state of a
 * stateful layer (carry_<buf>), else zeros. */
void op_rnn_emit_initial(struct LowerOp *o, const char *buf, int k, long long U);
/* y0 = h[1..T] (batch-major) or h[T]; then each state output = its buf[T]. */
void op_rnn_emit_outputs(struct LowerOp *o, const RnnShape *r, const char *const *state_bufs,
                         int n_states);
/* The same, with each final state at finals[k] (an expression) instead. */
void op_rnn_emit_outputs_final(struct LowerOp *o, const RnnShape *r, const char *const *state_bufs,
                               const char *const *finals, int n_states);
/* Backward prologue: dh = d(final output) + d(state outputs). */
void op_rnn_emit_grad_init(struct LowerOp *o, const RnnShape *r, const char *const *dbufs,
                           int n_states);
/* Forward step t, after `hp` (h_{t-1}) is declared: the state the recurrent
 * matmul reads, "hp", or "hq" = hp times the recurrent dropout mask (kept
 * in hd[t] for backward). In backward, the same name for step t. */
const char *op_rnn_recurrent_in(struct LowerOp *o, const RnnShape *r, bool backward);
/* Backward, before the time loop: rt = b^T when seqrt_gemm_is_small says
 * the per-step product is small (int use_rt), for op_rnn_dh_gemm. */
void op_rnn_emit_rt(struct LowerOp *o, const RnnShape *r, const char *b, long long K, long long ldb);
/* Backward: dh += (a[B, K] b^T) (times the recurrent dropout mask), where
 * b is the [U, K] slice of recurrent_kernel at `b` with row stride ldb
 * (through rt when use_rt). */
void op_rnn_dh_gemm(struct LowerOp *o, const RnnShape *r, const char *a, long long lda,
                    const char *b, long long K, long long ldb);
/* The states the recurrent kernel saw, for its gradient: "h" or "hd". */
const char *op_rnn_seen_states(const RnnShape *r);
/* Inside the step loop: dh += d_y0[:, t] when every step is an output. */
void op_rnn_emit_grad_step(struct LowerOp *o, const RnnShape *r);
/* After the loop: d_s<k> += dbuf for each given initial state; d_kernel
 * += xt^T dz; d_bias(+offset) += sum dz; d_x0 += dz kernel^T. */
/* Its two halves: the initial states' gradients; the input gradients of
 * steps t0 .. t0+n-1, from dz holding those steps' rows. */
void op_rnn_emit_state_grads(struct LowerOp *o, const RnnShape *r, const char *const *dbufs,
                             int n_states);
void op_rnn_emit_range_grads(struct LowerOp *o, const RnnShape *r, const char *dz,
                             const char *dbias_expr, const char *t0, const char *n);
void op_rnn_emit_input_grads(struct LowerOp *o, const RnnShape *r, const char *dz,
                             const char *dbias_expr, const char *const *dbufs, int n_states);

extern const char *const op_activation_choices[];
extern const char *const op_initializer_choices[];

#endif
