/*
 * driver.h: the pipeline, one call per stage, as main.c and the tests run
 * it:
 *   load -> parse (parse.c) -> sema (sema.c: names, attributes, shapes)
 *        -> expand (expand.c: wrappers into plain nodes)
 *        -> plan (plan.c: names, parameter layout, functions, buffers)
 *        -> emit (lower.c: training code; infer.c: --inference)
 */
#ifndef SEQ_DRIVER_H
#define SEQ_DRIVER_H

#include <stdio.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "ir.h"
#include "lower.h"
#include "plan.h"

typedef struct {
    Arena arena;
    Diag diag;
    char *src;         /* the file, NUL-terminated (it may hold NULs itself) */
    size_t len;
    AstNode *ast;
    IrGraph *ir;
    const IrGraph *expanded;     /* after driver_plan */
    const Plan *plan;
} Compilation;

enum { SEQ_MAX_SOURCE = 64 << 20 }; /* byte offsets are 32-bit; be generous below */

/* Read `path`. On failure prints "seqc: cannot read ..." to err and returns
 * false (an I/O error: exit 2). */
bool driver_load(Compilation *c, const char *path, FILE *err);
/* Load from memory (tests, fuzzing). */
void driver_load_buffer(Compilation *c, const char *name, const char *buf, size_t len, FILE *err);
/* Parse and check. true when the model has no errors. */
bool driver_front(Compilation *c);
/* Expand and plan the checked model for training code. true when the
 * plan is made (c->plan); errors go to c->diag. */
bool driver_plan(Compilation *c, const LowerOptions *lo);
/* Write the code: the training files from c->plan (driver_plan first), or
 * with `inference` the streaming library from the checked model. */
bool driver_emit(Compilation *c, const LowerOptions *lo, bool inference);
void driver_free(Compilation *c);

#endif
