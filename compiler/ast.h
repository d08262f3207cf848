/*
 * ast.h: the syntax tree the parser builds, exactly as written: no Keras
 * defaults and no shapes (those come in ir/shape). Every node has a Span.
 * Lists are singly linked through `next`, in source order.
 */
#ifndef SEQ_AST_H
#define SEQ_AST_H

#include <stdbool.h>

#include "arena.h"
#include "diag.h"

typedef enum {
    /* statements */
    AST_MODEL,   /* model NAME                       str */
    AST_INPUT,   /* input NAME : [dims] / int[dims]  str, a = dims, is_int */
    AST_TARGET,  /* target NAME : ...                as AST_INPUT */
    AST_OUTPUT,  /* output a, b                      a = names */
    AST_ASSIGN,  /* a, b = expr                      a = names, b = expr */
    AST_LAYER,   /* layer NAME = Call(...)           str, b = expr */
    AST_TRAIN,   /* train { key = expr ... }         a = entries (AST_KEYVAL) */
    AST_KEYVAL,  /* key = expr (train entry)         str, b = expr */
    /* expressions */
    AST_NAME,    /* str */
    AST_INT,     /* ival */
    AST_FLOAT,   /* fval */
    AST_STRING,  /* str */
    AST_BOOL,    /* ival */
    AST_LIST,    /* a = items */
    AST_CALL,    /* b(a...): b = callee, a = args (AST_ARG) */
    AST_ARG,     /* str = keyword or NULL, b = value */
    AST_PIPE,    /* a -> b: b applied to a */
    AST_DIM,     /* one axis of an input shape: ival, or str when named (plus
                    ival, <= 0: a target's T-4) */
    AST_DECODE   /* decode { decoder_input = d  prediction = p  start = 0 }   a = entries */
} AstKind;

typedef struct AstNode AstNode;
struct AstNode {
    AstKind kind;
    Span span;
    const char *str;
    long long ival;
    double fval;
    bool is_int;
    AstNode *a, *b;
    AstNode *next;
    int mark;       /* scratch for passes (sema: evaluation state) */
};

typedef struct {
    AstNode *stmts; /* every statement in source order */
} AstProgram;

AstNode *ast_new(Arena *ar, AstKind kind, Span span);
/* Append `item` to the list whose head is *head (O(n), lists are short; the
 * parser keeps tail pointers where lists can be long). */
AstNode *ast_append(AstNode *head, AstNode *item);
int ast_count(const AstNode *list);
const char *ast_kind_name(AstKind k);
/* Human-readable rendering of an expression, for --dump=ast and messages. */
void ast_dump(const AstNode *n, FILE *out);

#endif
