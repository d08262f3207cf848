/*
 * sema.h: AST -> IR, with every name resolved, every attribute checked
 * against its op's schema (Keras defaults filled in) and every shape
 * inferred (each op's rule runs as its node is made).
 */
#ifndef SEQ_SEMA_H
#define SEQ_SEMA_H

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "ir.h"

/* Always returns a graph; it is usable only when d->errors == 0. */
IrGraph *sema_build(AstNode *stmts, Arena *a, Diag *d);

#endif
