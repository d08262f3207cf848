/*
 * parse_ctx.h: what the lexer and the parser share for one file: where the
 * diagnostics go, the arena the AST lives in, and the lexer's small state.
 */
#ifndef SEQ_PARSE_CTX_H
#define SEQ_PARSE_CTX_H

#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"

typedef struct ParseCtx {
    Diag *diag;
    Arena *arena;
    AstNode *head, *tail;    /* statements, in order */
    uint32_t offset;         /* byte offset of the next token */
    uint32_t comment_start;  /* where an open block comment began */
    int nesting;             /* open ( and [: newlines inside are blanks */
    int at_line_start;       /* suppresses empty statements */
    /* Where the innermost open ( and [ are, for "to match this '('" notes
     * (deeper levels than this are counted by nesting only). */
    uint32_t open_at[64];
    /* Where the train block's '{' is, while it is open (0: none). */
    uint32_t brace_at;
    int in_brace;
    int unclosed_noted;      /* a syntax error already pointed at the open bracket */
} ParseCtx;

#endif
