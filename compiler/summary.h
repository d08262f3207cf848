/*
 * summary.h: the model as Keras's model.summary() prints it: layer name and
 * type, output shape, parameter count, then "Total params: N". Chains use
 * the Sequential layout; other graphs add input rows and "Connected to".
 */
#ifndef SEQ_SUMMARY_H
#define SEQ_SUMMARY_H

#include <stdio.h>

#include "ir.h"

void summary_print(const IrGraph *g, FILE *out);
/* Dump the IR (tensors, nodes, params) for --dump=ir. */
void summary_dump_ir(const IrGraph *g, FILE *out);

#endif
