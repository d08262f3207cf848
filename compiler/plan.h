/*
 * plan.h: the stage between expand and emit. It decides everything the
 * generated C needs before a line of it is written: the C names of tensors
 * and parameters, the flat parameter layout, which calls of a layer share
 * one function (grouping), each function's scratch buffers (the ops' plan
 * hooks), and that every size fits the int the BLAS calls take. lower.c
 * prints a Plan and decides nothing; `seqc --dump=plan` shows one.
 *
 *   parse -> sema -> expand -> plan -> emit (lower.c, infer.c)
 */
#ifndef SEQ_PLAN_H
#define SEQ_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "diag.h"
#include "ir.h"
#include "lower.h"
#include "util.h"

typedef struct Plan {
    const IrGraph *g;            /* the expanded graph (expand.h) */
    const IrGraph *src;          /* as checked, for the summary */
    const char *M;               /* model name: prefix of every global symbol */
    const char **tname;          /* per tensor id: member stem */
    /* Parameters, flat in checkpoint order: enum name and offset. */
    const IrParam **params;
    const char **pname;
    long long *poff;
    int n_params;
    long long param_count;
    /* Layer functions: one per layer, or per call signature of a shared
     * layer whose calls differ in more than their time lengths. */
    LowerOp *ops;                /* with the scratch buffers its plan hook declared */
    const char **fn_name;        /* its name stem: "lstm", "shared_1" */
    int n_fns;
    int *fn;                     /* per node id: its function */
    int *call_k;                 /* per node id: 0 for its layer's first call, 1, ... */
    bool any_state;              /* some scratch buffer is carried across batches */
    bool any_mask;               /* some output carries a padding mask */
} Plan;

/* Plan the expanded graph g (src: as checked). NULL after errors through d
 * (a layer with no code generator, a size too large for int). */
Plan *plan_model(const IrGraph *g, const IrGraph *src, Arena *a, const LowerOptions *opt,
                 Diag *d);
/* The plan as text, for --dump=plan. */
void plan_dump(const Plan *P, FILE *out);

/* Has a gradient buffer: a float value computed by a layer. */
bool plan_has_grad(const IrTensor *t);
/* The workspace member of scratch buffer `name` of node n's call. */
const char *plan_scratch_member(const Plan *P, Arena *a, const IrNode *n, const char *name);

#endif
