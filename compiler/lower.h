/*
 * lower.h: IR -> C. Writes NAME.h, NAME.c (forward, backward, parameter
 * table, buffer plan, the seqrt_model descriptor) and NAME_main.c.
 *
 * Each layer becomes one static forward and one static backward function,
 * shared by the layers whose functions come out the same (lower_emit); the
 * op's emitters (ops/<kind>.c) write their bodies through a LowerOp,
 * in terms of fixed argument names:
 *   x0, x1, ...   inputs           d_x0, ...  their gradients (may be NULL)
 *   s0, s1, ...   initial states   d_s0, ...  their gradients (may be NULL)
 *   y0, y1, ...   outputs          d_y0, ...  their gradients (may be
 *                                  overwritten: each is read by this layer only)
 *   kernel, bias, ...  parameters  d_kernel, ...  their gradients (+=)
 *   scratch buffers by the names the op declared in its plan hook
 *   B (batch) and, when input 0 is a sequence, T (its length); T1 for a
 *   second sequence input
 *   training (forward only): 0 for inference, else this step's random key
 *   stream: a number unique to each call of a layer, for its random draws
 * lower.c passes only the arguments a body mentions, so nothing is unused.
 */
#ifndef SEQ_LOWER_H
#define SEQ_LOWER_H

#include <stdbool.h>

#include "arena.h"
#include "emit.h"
#include "ir.h"

typedef struct {
    const char *name;   /* "states" */
    const char *size;   /* C expression in B and T: "(T + 1) * B * 8" */
    bool persistent;    /* carried across batches (stateful RNNs); zeroed
                           only by the model's reset_states */
} LowerScratch;

typedef struct LowerOp {
    Printer *p;
    Arena *a;
    const IrLayer *layer;
    const IrNode *node;           /* the layer's first call: shapes */
    bool need_dx[IR_MAX_IO];      /* some call needs d_x<k> */
    bool need_ds[IR_MAX_IO];
    LowerScratch scratch[16];
    int n_scratch;
    long long bptt_segment;       /* BPTT memory policy (LowerOptions) */
    struct {
        const char *name;
        long long value;
    } dims[8];                    /* lower_dim(): this function's named sizes */
    int n_dims;
} LowerOp;

/* Forward/backward hook: name a size of the layer ("UNITS" = 8) for the
 * body to write instead of the number. The function opens with
 * `enum { UNITS = 8, ... };` listing the names its body mentions. Returns
 * `name`. */
const char *lower_dim(LowerOp *o, const char *name, long long value);

/* Plan hook: declare a scratch buffer of `size` reals (an expression). */
void lower_scratch(LowerOp *o, const char *name, const char *size_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A buffer that keeps its contents from one batch to the next. */
void lower_state(LowerOp *o, const char *name, const char *size_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A fixed axis length; dies if the axis is dynamic (ops call it for
 * feature axes, which the shape rules guarantee are fixed). */
long long lower_fixed(Dim d);
/* Emit `y[i] = act(y[i])` over n rows of `width` (softmax: per row). */
void lower_activation_forward(LowerOp *o, const char *act, const char *y, const char *rows,
                              long long width);
/* Emit `dz[i] = dy[i] * act'(.)` from the output y, in place on dy. */
void lower_activation_backward(LowerOp *o, const char *act, const char *dy, const char *y,
                               const char *rows, long long width);
/* Input 0 has a time axis ([T, F], or int tokens [T]): T is passed. */
bool lower_has_time(const IrNode *n);
/* "B * T" when input 0 is a sequence, else "B": the rows of a row-wise op. */
const char *lower_rows(LowerOp *o);
/* The C expression for act(z), and for act'(.) given the output a. */
const char *lower_act_expr(LowerOp *o, const char *act, const char *z);
const char *lower_dact_expr(LowerOp *o, const char *act, const char *a);

/* Does `body` use identifier `id` (outside comments)? */
bool lower_mentions(const char *body, const char *id);
/* `s` with every character that cannot be in a C name made '_'. */
char *lower_c_ident(Arena *a, const char *s);

typedef struct {
    const char *out_dir;          /* where NAME.h, NAME.c, NAME_main.c go */
    const char *source_label;     /* the .seq path as given, for comments */
    const char *src;              /* its text, to quote each layer's line */
    size_t src_len;
    bool line_directives;
    /* BPTT memory policy of recurrent layers (not GRU(reset_after=false)):
     * 0 keeps every step's gates (and LSTM cell state) for the backward
     * pass; K > 0 keeps K steps of them (LSTM: the cell state every K steps)
     * and recomputes each K-step segment inside the backward pass; -1 is
     * K = ceil(sqrt(T)), chosen at run time. */
    long long bptt_segment;
    Diag *diag;                   /* where errors go; NULL: stderr, quoting src */
} LowerOptions;

/* Returns false (after printing to stderr) if a layer has no code
 * generator yet or a file cannot be written. */
bool lower_model(const IrGraph *g, Arena *a, const LowerOptions *opt);

struct Plan;
/* The emit stage alone: write the three files of a plan (plan.h). */
bool lower_emit(const struct Plan *P, Arena *a, const LowerOptions *opt);

#endif
