/*
 * parse.h: text -> AST. Wraps the Flex scanner and the Bison parser
 * (grammar/seq.l, grammar/seq.y) behind one call.
 */
#ifndef SEQ_PARSE_H
#define SEQ_PARSE_H

#include "arena.h"
#include "ast.h"
#include "diag.h"

/* Returns the statements in source order (NULL for an empty file); syntax
 * errors go to `d`. */
AstNode *parse_source(Arena *a, Diag *d);

#endif
