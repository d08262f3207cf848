/*
 * expand.h: the graph code generation sees. Wrapper layers become plain
 * nodes: Bidirectional(rnn) is a forward copy, a go_backwards copy, a time
 * reversal of the backward copy's sequence and a merge; TimeDistributed of
 * a row-wise layer is that layer applied to the whole sequence. Parameter
 * names stay the wrapper's (bidirectional.forward_lstm.kernel), so the
 * checkpoint and the summary do not change.
 */
#ifndef SEQ_EXPAND_H
#define SEQ_EXPAND_H

#include "arena.h"
#include "ir.h"
#include "ops.h"

/* A new graph sharing g's tensors and layers; NULL after an error through
 * d when a wrapper cannot be expanded. */
IrGraph *expand_wrappers(const IrGraph *g, Arena *a, Diag *d);

/* For a wrapper's OpInfo.expand hook, which replaces its node with plain
 * ones: new tensors and nodes (in call order), a copy of the wrapped layer
 * holding the wrapper's params [from, from + count), and a layer of an
 * internal op (attribute 0 given). Each new node takes like's position. */
Arena *expand_arena(Expand *E);
IrTensor *expand_tensor(Expand *E, Shape s, Span at);
IrNode *expand_node(Expand *E, const IrNode *like, IrLayer *l);
IrLayer *expand_copy_layer(Expand *E, const IrLayer *inner, const IrLayer *w, const char *name,
                           int from, int count);
IrLayer *expand_internal_layer(Expand *E, const OpInfo *op, const char *name, AttrVal attr0);

#endif
