/*
 * TEMPLATE.c: the skeleton of a layer kind's file; not built (the glob in
 * compiler/CMakeLists.txt leaves it out). Copy it to ops/<kind>.c, fill in
 * what the layer needs, delete the rest, and add &op_<kind> to op_table in
 * ops.c (sorted by name). Nothing outside compiler/ops/ may name the layer;
 * tests/layer_kinds_in_ops.py checks. docs/internals.md lists the tests a new
 * layer needs.
 *
 * The header comment states the layer's formula, its shape rule, its
 * parameters with their Keras initialisers, and its parameter count:
 *
 * MyLayer (KERAS-SEMANTICS n): y = f(x W) on the last axis. kernel [F, u]
 * glorot_uniform. Params F*u.
 */
#include <string.h>

#include "infer.h"  /* InferOp, for step() */
#include "lower.h"  /* LowerOp, lower_*, emit_* */
#include "ops.h"
/* #include "rnn.h"    a recurrent layer: op_rnn_* and OP_RNN_COMMON_ATTRS */

/* The attributes, in Keras's order (positional arguments bind in it):
 * name, type, required, default (i: INT/BOOL, f: FLOAT, s: STR), choices. */
static const AttrSpec attrs[] = {
    {"units", ATTR_INT, true, 0, 0, NULL, NULL},
    {"activation", ATTR_STR, false, 0, 0, "linear", op_activation_choices},
};

/* Check the inputs (op_need_rank, op_error_input), declare the parameters
 * with op_param (the first call declares, later calls of a shared layer
 * check), set c->out[] and c->n_out. false after a diagnostic. */
static bool infer(InferCtx *c)
{
    if (!op_need_rank(c, 0, 2, "a sequence [time, features]"))
        return false;
    long long u = op_int(c, "units");
    if (u <= 0)
        return op_error(c, "MyLayer needs units > 0, got %lld", u);
    long long k[2] = {c->in[0]->d[1].n, u};
    op_param(c, "kernel", 2, k, op_init(c, "kernel_initializer"));
    c->out[0] = *c->in[0];
    c->out[0].d[1] = dim_fixed(u);
    c->n_out = 1;
    return true;
}

/* Scratch buffers the forward and backward bodies share (lower_scratch). */
static void plan(LowerOp *o)
{
    (void)o;
}

/* The body of the layer's forward function: inputs x0.., outputs y0..,
 * parameters by name (kernel), batch B and time T. Emitter code reads like
 * the C it writes: emit_line, emit_open / emit_close, emit_comment. */
static void forward(LowerOp *o)
{
    emit_comment(o->p, "y = f(x kernel)");
}

/* The backward body: d_y0.. in, d_x0.. and d_<param> accumulated (+=). */
static void backward(LowerOp *o)
{
    emit_comment(o->p, "d_x += d_y kernel^T; d_kernel += x^T d_y");
}

/* Streaming inference: one time step's body (x0, y0 hold one step). */
static void step(InferOp *o)
{
    (void)o;
}

const OpInfo op_my_layer = {
    .name = "MyLayer", .keras_name = "my_layer",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1,       /* tensor arguments; max_in -1: any number */
    .recurrent = false,             /* takes initial_state=, Bidirectional may wrap it */
    .takes_ints = false,            /* accepts token ids */
    .wrap = OP_WRAP_NONE,           /* a wrapper: how expand.c rewrites it */
    .expand = NULL,                 /* a wrapper that rewrites itself (expand.h) */
    .row_wise = false,              /* rows independent: TimeDistributed may wrap it */
    /* Padding masks (MaskRule in ops.h): the rule of output 0; mask_rule
     * when it depends on the options; mask_note why a padded batch may
     * differ from its samples run alone. */
    .mask = MASK_PROPAGATE, .mask_rule = NULL, .mask_note = NULL,
    .infer = infer,
    .plan = plan, .forward = forward, .backward = backward, /* NULL: not compiled yet */
    .min_time = NULL,               /* the fewest time steps, e.g. a convolution's span */
    .unsupported = NULL,            /* an option code generation lacks, or NULL */
    .int_limit = NULL,              /* the bound of an integer input's values (a vocabulary) */
    .bptt_unsupported = NULL,       /* why --bptt-checkpoint keeps every step */
    .step = step,                   /* NULL: needs the whole sequence */
    .step_unsupported = NULL,       /* an option that cannot stream, or NULL */
    .tfjs_unsupported = NULL,       /* why TensorFlow.js cannot run it, or NULL */
    .keras_value = NULL,            /* an attribute Keras's config spells differently */
    .keras_pad_front = NULL,        /* zero steps to put in front of input 0 in Keras's config */
    .step_note = NULL,
    .not_keras = false,             /* Keras has no such layer (seqc import refuses it) */
    .state_names = NULL,            /* a return_state call's states, a letter each ("hc") */
    .extra_output = NULL,           /* a second output's name ("scores") */
    .extra_output_always = false,   /* ... always, not only with return_attention_scores */              /* with no step: why the layer cannot stream */
};
