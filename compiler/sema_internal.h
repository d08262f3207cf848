/*
 * sema_internal.h: what sema.c (names, layers, expressions) and
 * sema_train.c (the train and decode blocks) share.
 */
#ifndef SEQ_SEMA_INTERNAL_H
#define SEQ_SEMA_INTERNAL_H

#include "sema.h"
#include "util.h"

typedef enum { SYM_PENDING, SYM_TENSOR, SYM_LAYER, SYM_POISON } SymKind;

typedef struct Sym Sym;
struct Sym {
    const char *name;
    SymKind kind;
    Span span;            /* the defining name */
    AstNode *stmt;        /* defining statement (assign or layer) */
    int index;            /* which name of a multi-name assignment */
    IrTensor *tensor;
    IrLayer *layer;
    Sym *next;            /* hash chain */
};

typedef struct {
    Sym **buckets;
    int n_buckets, n;
} SymTab;

typedef struct {
    Diag *d;
    Arena *a;
    IrGraph *g;
    SymTab syms;
    SymTab layer_names;   /* layer names in use (auto or name="...") */
    PtrVec tensors, layers, nodes, inputs, targets, outputs, dims;
    PtrVec eval_stack;    /* definitions being evaluated, for cycle messages */
    struct { const char *stem; int next; } counters[64];
    int n_counters;
} Sema;

/* ---- sema.c ---- */
Sym *seq_sym_find(SymTab *t, const char *name);
/* The known names (for "did you mean"): every symbol of the table. */
const char **seq_sym_names(Sema *S, SymTab *t, int *n);
/* A note listing cands after intro. */
void seq_sema_list_known(Sema *S, const char *intro, const char *const *cands, int n);
/* An unknown attribute or key: "did you mean" when one is close, then the
 * names that do exist. */
void seq_sema_suggest_key(Sema *S, Span at, const char *key, const char *intro,
                          const char *const *names, int n);
/* A shape as a declaration writes it: "[T, 2]", "int[T]". */
const char *seq_sema_decl_shape(const Shape *s, char *buf, size_t len);
const char *seq_sema_expr_kind_word(const AstNode *e);
/* The tensor a name stands for (evaluating its definition when needed). */
IrTensor *seq_sema_resolve(Sema *S, AstNode *e, bool *poisoned);
int seq_sema_eval_expr(Sema *S, AstNode *e, IrTensor **out, int max);

/* ---- sema_train.c ---- */
void seq_sema_read_train(Sema *S, AstNode *st);
void seq_sema_read_decode(Sema *S, AstNode *st);

#endif
