/*
 * Layers that wrap another layer (KERAS-SEMANTICS 5):
 *   Bidirectional(rnn, merge_mode="concat"): a forward copy and a backward
 *     copy (go_backwards, outputs flipped back to input order), merged by
 *     concat / sum / mul / ave, or "none" for both outputs. With return_state
 *     the states follow: forward's, then backward's. Params: twice the rnn's,
 *     named <wrapper>.forward_<rnn>.* and <wrapper>.backward_<rnn>.*.
 *   TimeDistributed(layer): the layer applied to every step of [T, ...].
 *     Params: the layer's, named <wrapper>.<layer>.*.
 */
#include <string.h>

#include "expand.h"
#include "infer.h"
#include "ops.h"
#include "seqrt_checked.h"
#include "util.h"

static const char *const merge_modes[] = {"concat", "sum", "mul", "ave", "none", NULL};

static const AttrSpec bidi_attrs[] = {
    {"layer", ATTR_LAYER, true, 0, 0, NULL, NULL},
    {"merge_mode", ATTR_STR, false, 0, 0, "concat", merge_modes},
};

static const AttrSpec td_attrs[] = {
    {"layer", ATTR_LAYER, true, 0, 0, NULL, NULL},
};

/* Give the wrapper a renamed copy of the inner layer's params. */
static void adopt_params(InferCtx *c, IrLayer *inner, const char *stem)
{
    IrLayer *w = c->layer;
    size_t skip = strlen(inner->name) + 1; /* "lstm." */
    for (int i = 0; i < inner->n_params; i++) {
        if (w->n_params == IR_MAX_PARAMS)
            seq_die("too many parameters in one layer");
        IrParam p = inner->params[i];
        p.name = arena_printf(c->arena, "%s.%s.%s", w->name, stem, p.name + skip);
        w->params[w->n_params++] = p;
        int64_t n;   /* two copies of a huge layer may not fit */
        if (seqrt_add_i64(w->n_weights, p.size, &n))
            diag_error(c->diag, c->node->span,
                       "layer '%s' (%s): more parameters than a 64-bit count holds",
                       w->name, w->op->name);
        w->n_weights = n;
    }
}

/* Run the inner layer's rule on `in` with the wrapper's call as context. */
static bool infer_inner(InferCtx *c, IrLayer *inner, const Shape *in, int n_state, InferCtx *s)
{
    *s = *c;
    s->layer = inner;
    s->in[0] = in;
    s->n_in = 1;
    s->n_state = n_state;
    s->n_out = 0;
    if (!inner->op->infer(s))
        return false;
    inner->built = true;
    return true;
}

static bool infer_bidi(InferCtx *c)
{
    IrLayer *inner = op_attr(c, "layer")->layer;
    if (!inner->op->recurrent)
        return op_error(c, "Bidirectional wraps a recurrent layer (SimpleRNN, LSTM or GRU), "
                        "not %s", inner->op->name);
    if (c->n_state % 2)
        return op_error(c, "Bidirectional splits initial_state in halves (forward, backward), "
                        "but got %d states", c->n_state);
    InferCtx s;
    if (!infer_inner(c, inner, c->in[0], c->n_state / 2, &s))
        return false;
    for (int k = 0; k < c->n_state / 2; k++)
        if (!shape_eq(c->state[k], c->state[k + c->n_state / 2]))
            return op_error(c,
                            "Bidirectional's forward and backward initial states differ in shape");
    if (!c->layer->built) {
        adopt_params(c, inner, arena_printf(c->arena, "forward_%s", inner->name));
        adopt_params(c, inner, arena_printf(c->arena, "backward_%s", inner->name));
    }
    const char *mode = op_str(c, "merge_mode");
    Shape out = s.out[0];
    c->n_out = 0;
    if (strcmp(mode, "none") == 0) {
        c->out[c->n_out++] = out;
        c->out[c->n_out++] = out;
    } else {
        if (strcmp(mode, "concat") == 0)
            out.d[out.rank - 1].n *= 2;
        c->out[c->n_out++] = out;
    }
    for (int dir = 0; dir < 2; dir++)
        for (int k = 1; k < s.n_out; k++)
            c->out[c->n_out++] = s.out[k];
    return true;
}

static bool infer_td(InferCtx *c)
{
    IrLayer *inner = op_attr(c, "layer")->layer;
    const Shape *x = c->in[0];
    if (x->rank < 2)
        return op_error_input(c, 0, "TimeDistributed needs a sequence [time, ...]");
    Shape step = {.rank = x->rank - 1, .is_int = x->is_int};
    for (int i = 1; i < x->rank; i++)
        step.d[i - 1] = x->d[i];
    InferCtx s;
    if (!infer_inner(c, inner, &step, 0, &s))
        return false;
    if (s.n_out != 1 || s.out[0].rank + 1 > SHAPE_MAX_RANK)
        return op_error(c, "TimeDistributed needs a layer with one output of rank 1 or 2");
    if (!c->layer->built)
        adopt_params(c, inner, inner->name);
    Shape out = {.rank = s.out[0].rank + 1, .d = {x->d[0]}};
    for (int i = 0; i < s.out[0].rank; i++)
        out.d[i + 1] = s.out[0].d[i];
    c->out[0] = out;
    c->n_out = 1;
    c->out_softmax = s.out_softmax;
    c->out_sigmoid = s.out_sigmoid;
    return true;
}

/* Keras's Bidirectional.compute_mask: with return_sequences the sequence
 * output keeps the mask, both sequences with merge_mode=None; the last
 * outputs and the states carry none. */
static MaskRule bidi_mask_rule(const IrLayer *l, int out)
{
    const IrLayer *inner = l->attrs[0].layer;
    bool seq = inner->attrs[op_attr_index(inner->op, "return_sequences")].i;
    int n_seq = strcmp(l->attrs[1].s, "none") ? 1 : 2;
    return out < n_seq && seq ? MASK_PROPAGATE : MASK_CONSUME;
}

/* At masked steps Keras's Bidirectional writes zeros into its sequences;
 * tfjs-layers 4.22's repeats the forward direction's last valid output and
 * gives the backward direction's zero state (tests/tfjs/cases.js,
 * deviation 2). */
static const char *bidi_tfjs_unsupported(const IrLayer *l, const IrNode *n)
{
    const IrLayer *rnn = l->attrs[0].layer;
    if (n->in[0]->mask && rnn->attrs[op_attr_index(rnn->op, "return_sequences")].i)
        return "a masked input with return_sequences=true: at padded steps TensorFlow.js 4.22's "
               "Bidirectional outputs the last valid step, where Keras outputs zeros";
    return NULL;
}

/* Keras writes merge_mode "none" (both outputs) as null. */
static const char *bidi_keras_value(const IrLayer *l, int k, Arena *a)
{
    (void)a;
    return !strcmp(l->op->attrs[k].name, "merge_mode") && !strcmp(l->attrs[k].s, "none") ? "null" : NULL;
}

extern const OpInfo op_reverse_time, op_merge_pair, op_concatenate;

/* An internal layer of the expansion: attribute 0 is the merge mode
 * (Concatenate: its axis, -1). */
static IrLayer *internal(Expand *E, const OpInfo *op, const char *name, const char *mode)
{
    AttrVal a = {.type = op == &op_concatenate ? ATTR_INT : ATTR_STR, .i = -1, .s = mode};
    return expand_internal_layer(E, op, name, a);
}

static void set_attr_bool(IrLayer *l, const char *name, bool v)
{
    int i = op_attr_index(l->op, name);
    if (i >= 0)
        l->attrs[i].i = v;
}

/* Bidirectional(rnn): out = merge(fwd(x), reverse(bwd(x))), states after. */
static void expand_bidi(Expand *E, const IrNode *n)
{
    const IrLayer *w = n->layer, *inner = w->attrs[0].layer;
    const char *mode = w->attrs[1].s;
    int half = w->n_params / 2, hs = n->n_state / 2;
    bool seq = inner->attrs[op_attr_index(inner->op, "return_sequences")].i;
    bool backwards = inner->attrs[op_attr_index(inner->op, "go_backwards")].i;
    IrLayer *dir[2];
    IrNode *run[2];
    Arena *a = expand_arena(E);
    dir[0] = expand_copy_layer(E, inner, w, arena_printf(a, "%s.forward_%s", w->name, inner->name),
                               0, half);
    dir[1] = expand_copy_layer(E, inner, w, arena_printf(a, "%s.backward_%s", w->name, inner->name),
                               half, half);
    set_attr_bool(dir[1], "go_backwards", !backwards);
    /* Keras: inside Bidirectional, padded steps of a sequence output are 0. */
    dir[0]->zero_output_for_mask = dir[1]->zero_output_for_mask = seq;
    int n_states = (n->n_out - (strcmp(mode, "none") ? 1 : 2)) / 2;
    for (int d = 0; d < 2; d++) {
        run[d] = expand_node(E, n, dir[d]);
        run[d]->in[run[d]->n_in++] = n->in[0];
        for (int k = 0; k < hs; k++)
            run[d]->state[run[d]->n_state++] = n->state[d * hs + k];
        Shape out = n->out[0]->shape;
        if (!strcmp(mode, "concat"))
            out.d[out.rank - 1].n /= 2;
        run[d]->out[run[d]->n_out++] = expand_tensor(E, out, n->span);
        for (int k = 0; k < n_states; k++) /* the states are the wrapper's outputs */
            run[d]->out[run[d]->n_out++] =
                n->out[n->n_out - 2 * n_states + d * n_states + k];
    }
    /* Keras flips the backward sequence back into input order. */
    IrTensor *bwd_out = run[1]->out[0];
    if (seq) {
        IrNode *r = expand_node(E, n, internal(E, &op_reverse_time,
                                               arena_printf(a, "%s.reverse", w->name), NULL));
        r->in[r->n_in++] = bwd_out;
        bwd_out = expand_tensor(E, bwd_out->shape, n->span);
        r->out[r->n_out++] = bwd_out;
    }
    if (!strcmp(mode, "none")) {
        /* The two sequences are the wrapper's first two outputs: copy into them. */
        for (int d = 0; d < 2; d++) {
            IrNode *m = expand_node(E, n, internal(E, &op_merge_pair,
                                                   arena_printf(a, "%s.out%d", w->name, d),
                                                   "first"));
            m->in[m->n_in++] = d == 0 ? run[0]->out[0] : bwd_out;
            m->in[m->n_in++] = d == 0 ? run[0]->out[0] : bwd_out;
            m->out[m->n_out++] = n->out[d];
        }
        return;
    }
    const OpInfo *op = !strcmp(mode, "concat") ? &op_concatenate : &op_merge_pair;
    IrNode *m = expand_node(E, n, internal(E, op, arena_printf(a, "%s.merge", w->name), mode));
    m->in[m->n_in++] = run[0]->out[0];
    m->in[m->n_in++] = bwd_out;
    m->out[m->n_out++] = n->out[0];
}

const OpInfo op_bidirectional = {
    .name = "Bidirectional", .keras_name = "bidirectional",
    .attrs = bidi_attrs, .n_attrs = sizeof bidi_attrs / sizeof bidi_attrs[0],
    .min_in = 1, .max_in = 1, .recurrent = true, .wrap = OP_WRAP_BOTH_DIRECTIONS,
    .infer = infer_bidi, .expand = expand_bidi,
    .keras_value = bidi_keras_value, .tfjs_unsupported = bidi_tfjs_unsupported,
    .step_note = "its backward direction starts from the last step",
    .mask = MASK_PROPAGATE, .mask_rule = bidi_mask_rule,
};

/* Streaming: one step of TimeDistributed(layer) is the layer's own step on
 * that step's row, with the wrapper's weights: the step says "kernel", the
 * node's weight is time_distributed.dense.kernel (dense_kernel here). */
static void step_td(InferOp *o)
{
    const IrLayer *w = o->layer, *in = w->attrs[0].layer;
    IrLayer inner = *in;
    inner.n_params = w->n_params;
    memcpy(inner.params, w->params, sizeof inner.params);
    Printer body;
    emit_init(&body);
    body.indent = o->p->indent;
    InferOp step = *o;
    step.layer = &inner;
    step.p = &body;
    in->op->step(&step);
    size_t skip = strlen(w->name) + 1; /* "time_distributed." */
    for (int k = 0; k < w->n_params; k++) {
        const char *name = w->params[k].name + skip; /* "dense.kernel" */
        if (strncmp(name, in->name, strlen(in->name)) || name[strlen(in->name)] != '.')
            seq_die("weight %s is not named after its layer", w->params[k].name);
        const char *its = lower_c_ident(o->a, name + strlen(in->name) + 1);
        if (lower_mentions(body.buf, its))
            emit_line(o->p, "const float *%s = %s;", its, lower_c_ident(o->a, name));
    }
    emit_raw(o->p, body.buf ? body.buf : "");
    emit_free(&body);
}

static const char *step_unsupported_td(const IrLayer *l)
{
    const IrLayer *inner = l->attrs[0].layer;
    if (!inner->op->step)
        return inner->op->step_note ? inner->op->step_note : "the wrapped layer cannot stream";
    return inner->op->step_unsupported ? inner->op->step_unsupported(inner) : NULL;
}

const OpInfo op_time_distributed = {
    .name = "TimeDistributed", .keras_name = "time_distributed",
    .attrs = td_attrs, .n_attrs = sizeof td_attrs / sizeof td_attrs[0],
    .min_in = 1, .max_in = 1, .takes_ints = true, .wrap = OP_WRAP_EACH_STEP, .infer = infer_td,
    .step = step_td, .step_unsupported = step_unsupported_td,
    .mask = MASK_PROPAGATE,
};

/* ---- internal ops that expand.c builds Bidirectional from --------------- */

#include "lower.h"

static long long width_of(const LowerOp *o)
{
    const Shape *s = &o->node->out[0]->shape;
    return lower_fixed(s->d[s->rank - 1]);
}

/* y[b, t] = x[b, T - 1 - t]: the backward direction's sequence in input order. */
static void reverse_forward(LowerOp *o)
{
    long long F = width_of(o);
    lower_dim(o, "FEATURES", F);
    emit_open(o->p, "for (int64_t b = 0; b < B; b++)");
    emit_line(o->p, "for (int64_t t = 0; t < T; t++)");
    emit_line(o->p,
            "    memcpy(y0 + (b * T + t) * FEATURES, x0 + (b * T + T - 1 - t) * FEATURES, "
            "sizeof(seqrt_real) * FEATURES);");
    emit_close(o->p, NULL);
}

static void reverse_backward(LowerOp *o)
{
    long long F = width_of(o);
    lower_dim(o, "FEATURES", F);
    emit_open(o->p, "for (int64_t b = 0; b < B; b++)");
    emit_line(o->p, "for (int64_t t = 0; t < T; t++)");
    emit_line(o->p,
            "    for (int64_t i = 0; i < FEATURES; i++) d_x0[(b * T + T - 1 - t) * FEATURES + i] "
            "+= d_y0[(b * T + t) * FEATURES + i];");
    emit_close(o->p, NULL);
}

/* Bidirectional's merge modes: sum, mul, ave; "first" copies input 0. */
static void merge_forward(LowerOp *o)
{
    const char *mode = o->layer->attrs[0].s;
    const char *e = !strcmp(mode, "sum") ? "x0[i] + x1[i]"
                  : !strcmp(mode, "mul") ? "x0[i] * x1[i]"
                  : !strcmp(mode, "ave") ? "(x0[i] + x1[i]) / 2" : "x0[i]";
    emit_line(o->p, "for (int64_t i = 0; i < %s * %lld; i++) y0[i] = %s;", lower_rows(o),
              width_of(o), e);
}

static void merge_backward(LowerOp *o)
{
    const char *mode = o->layer->attrs[0].s;
    const char *n = arena_printf(o->a, "%s * %lld", lower_rows(o), width_of(o));
    if (!strcmp(mode, "first")) {
        emit_line(o->p, "for (int64_t i = 0; i < %s; i++) d_x0[i] += d_y0[i];", n);
        return;
    }
    const char *g0 = !strcmp(mode, "mul") ? "d_y0[i] * x1[i]" : !strcmp(mode,
            "ave") ? "d_y0[i] / 2" : "d_y0[i]";
    const char *g1 = !strcmp(mode, "mul") ? "d_y0[i] * x0[i]" : g0;
    emit_open(o->p, "for (int64_t i = 0; i < %s; i++)", n);
    emit_line(o->p, "d_x0[i] += %s;", g0);
    emit_line(o->p, "d_x1[i] += %s;", g1);
    emit_close(o->p, NULL);
}

const OpInfo op_reverse_time = {
    .name = "ReverseTime", .keras_name = "reverse_time", .min_in = 1, .max_in = 1, .not_keras = true,
    .forward = reverse_forward, .backward = reverse_backward,
};

const OpInfo op_merge_pair = {
    .name = "Merge", .keras_name = "merge", .min_in = 2, .max_in = 2, .not_keras = true,
    .forward = merge_forward, .backward = merge_backward,
};
