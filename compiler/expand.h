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

/* A new graph sharing g's tensors and layers; NULL after an error through
 * d when a wrapper cannot be expanded. */
IrGraph *expand_wrappers(const IrGraph *g, Arena *a, Diag *d);

#endif
