/*
 * rnn.h: what SimpleRNN, LSTM and GRU share (rnn.c): their attributes,
 * shape rule, mask rule and the pieces of their generated code. Only the
 * recurrent layers' own files include it.
 */
#ifndef SEQ_OPS_RNN_H
#define SEQ_OPS_RNN_H

#include "ops.h"

/* The rule SimpleRNN, LSTM and GRU share: input [T, D]; output [T, u] or
 * [u]; n_states states of [u]; kernel [D, gates*u], recurrent_kernel
 * [u, gates*u] and the bias the caller declares. */
bool op_rnn_infer(InferCtx *c, int gates, int n_states, const char *const *state_names);
/* What recurrent layers cannot compile to C yet (dropout), or NULL. */
const char *op_rnn_unsupported(const IrLayer *l);
/* What recurrent layers cannot stream (go_backwards), or NULL. */
const char *op_rnn_step_unsupported(const IrLayer *l);
/* Keras's RNN.compute_mask: the sequence output keeps the mask; the last
 * output and the states carry none. */
MaskRule op_rnn_mask_rule(const IrLayer *l, int out);
/* Keras config (keras.h): a stateful layer is exported as a plain one. */
const char *op_rnn_keras_value(const IrLayer *l, int k, Arena *a);
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
void op_rnn_emit_projection(struct LowerOp *o, const char *bias_expr,
                            const char *t0, const char *n);
/* Checkpointed BPTT's segment length, a C expression in T. */
const char *op_rnn_segment(struct LowerOp *o, const RnnShape *r);
/* Open the loop over segments (S, t0, len), first to last or, in the
 * backward pass, last to first; the caller closes it. */
void op_rnn_open_segments(struct LowerOp *o, const RnnShape *r, bool backward);
/* buf[0] = initial state s<k> if given, else the carried state of a
 * stateful layer (carry_<buf>), else zeros. */
void op_rnn_emit_initial(struct LowerOp *o, const char *buf, int k);
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
void op_rnn_emit_rt(struct LowerOp *o, const char *b, long long K, long long ldb);
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
void op_rnn_emit_state_grads(struct LowerOp *o, const char *const *dbufs,
                             int n_states);
void op_rnn_emit_range_grads(struct LowerOp *o, const RnnShape *r, const char *dz,
                             const char *dbias_expr, const char *t0, const char *n);
void op_rnn_emit_input_grads(struct LowerOp *o, const RnnShape *r, const char *dz,
                             const char *dbias_expr, const char *const *dbufs, int n_states);

#endif
