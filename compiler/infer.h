/*
 * infer.h: `seqc emit --inference`: a forward-only C library for a trained
 * model, to embed in another program. It needs no BLAS, no libseqrt, no
 * file I/O and allocates nothing: the caller owns one NAME_infer struct
 * (weights pointer, recurrent states, convolution ring buffers) and feeds it
 * one time step at a time (batch 1), or a whole sequence, which is the
 * same steps in a loop. A causal dilated convolution keeps a ring buffer of
 * the inputs it still needs, so each step costs O(layers), not O(receptive
 * field). Layers that need the whole sequence at once (Bidirectional,
 * go_backwards, attention, non-causal convolutions, ...) cannot stream and
 * are refused with a message.
 *
 * Op step emitters (ops/<kind>.c, hook `step`) write the body of
 * `<layer>_step` with vectors x0, x1 ... (inputs at this step; an int input
 * is x0[0]), y0, y1 ... (outputs at this step), the layer's parameters by
 * short name (kernel, bias, ...) and state buffers from infer_state().
 */
#ifndef SEQ_INFER_H
#define SEQ_INFER_H

#include <stdbool.h>

#include "arena.h"
#include "emit.h"
#include "ir.h"
#include "lower.h"

typedef struct InferOp {
    Printer *p;
    Arena *a;
    const IrNode *node;
    const IrLayer *layer;
    const char *stem;            /* this node's name in the struct: "lstm" */
    struct InferState *states;   /* declared so far, across the model */
    int *n_states;
} InferOp;

typedef struct InferState {
    const char *member;          /* "lstm_h" */
    long long size;              /* floats */
    const char *comment;
} InferState;

/* A buffer kept across steps (zeroed by reset); returns its C expression,
 * "s->lstm_h". */
const char *infer_state(InferOp *o, const char *name, long long size, const char *comment);
/* The C function computing an elementwise activation on a float. */
const char *infer_act_fn(const char *act);
/* y[0..n) = act(y[0..n)) in place for one step (softmax over the vector). */
void infer_activation(InferOp *o, const char *act, const char *y, long long n);
/* y[0..U) (+)= x[0..D) W[D, U] at row stride `ldw` (for a slice of a fused
 * matrix, start W at its column). */
void infer_matvec(InferOp *o, const char *y, const char *x, const char *w, long long D,
                  long long U, long long ldw, bool accumulate);

/* Writes DIR/NAME_infer.h and DIR/NAME_infer.c. false after an error. */
bool infer_emit(const IrGraph *g, Arena *a, const LowerOptions *opt);

#endif
