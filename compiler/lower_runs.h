/*
 * lower_runs.h: the model-level code of long chains of identical layers as
 * tables walked by loops. Straight-line code (one call, one buffer
 * placement, one numerics row per layer) is what a reader wants for a
 * small model, but for thousands of layers the compiler's time and memory
 * grow faster than linearly in a function's length; a run of at least
 * SEQ_RUN_MIN consecutive items that differ only in buffers and offsets
 * becomes one static const table (a row per item) and a loop. The order of
 * calls, placements and checks is unchanged, so results are bit-identical.
 */
#ifndef SEQ_LOWER_RUNS_H
#define SEQ_LOWER_RUNS_H

#include <stdbool.h>

#include "arena.h"
#include "emit.h"

enum { SEQ_RUN_MIN = 8 };

/* The macros the tables name a buffer by (its offset in the buffers
 * struct, printf'd with the struct's name) and the loops read it through;
 * emitted once at file scope, before the first use. */
#define SEQ_RUN_AT_MACRO "#define SEQ_AT(member) offsetof(%s_buffers, member)"
#define SEQ_RUN_MEMBER_MACRO \
    "#define SEQ_MEMBER(b, off) (*(seqrt_real **)((char *)(b) + (off)))"

typedef struct {
    Arena *a;
    int serial;          /* numbers the tables within one function */
} SeqRuns;

/* One call in model_forward / model_backward: fn(args...), under comment. */
typedef struct {
    const char *fn, *comment;
    int n_args;
    const char **args; /* "w.NAME", "X + NAME", a literal, or anything the same in a run */
    const char **names; /* the parameters' names: the table's columns */
} SeqCall;

/* One placement group of model_layout: a braced block (when label is set,
 * with its prelude lines) of `b->MEMBER = take(base, &off, SIZE);`. */
typedef struct {
    const char *label, *prelude[4], *note;
    int n_prelude, n;
    const char **members, **sizes;
} SeqTakes;

/* One row of --check-numerics. */
typedef struct {
    int grad;
    const char *member, *steps, *features, *what; /* what: a C string literal */
} SeqNumRow;

void seq_runs_calls(SeqRuns *R, Printer *p, const SeqCall *calls, int n);
void seq_runs_layout(SeqRuns *R, Printer *p, const SeqTakes *items, int n);
/* Rows scanned in order, each segment through numerics_scan(); false (and
 * nothing emitted) when there is no run: the caller keeps its one table. */
bool seq_runs_numerics(SeqRuns *R, Printer *p, const SeqNumRow *rows, int n);

#endif
