/*
 * driver.h: the pipeline, one call per stage, as main.c and the tests run
 * it: read the file, parse, build the IR (names, attributes, shapes).
 */
#ifndef SEQ_DRIVER_H
#define SEQ_DRIVER_H

#include <stdio.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "ir.h"

typedef struct {
    Arena arena;
    Diag diag;
    char *src;         /* the file, NUL-terminated (it may hold NULs itself) */
    size_t len;
    AstNode *ast;
    IrGraph *ir;
} Compilation;

enum { SEQ_MAX_SOURCE = 64 << 20 }; /* byte offsets are 32-bit; be generous below */

/* Read `path`. On failure prints "seqc: cannot read ..." to err and returns
 * false (an I/O error: exit 2). */
bool driver_load(Compilation *c, const char *path, FILE *err);
/* Load from memory (tests, fuzzing). */
void driver_load_buffer(Compilation *c, const char *name, const char *buf, size_t len, FILE *err);
/* Parse and check. true when the model has no errors. */
bool driver_front(Compilation *c);
void driver_free(Compilation *c);

#endif
