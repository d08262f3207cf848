/*
 * Concatenate(axis=-1) and Add(): merge two or more tensors. Add needs equal
 * shapes; Concatenate needs equal shapes except on its axis. Masks combine
 * as in Keras's _Merge and Concatenate compute_mask: the output's mask is
 * the AND of the inputs' masks (an unmasked input counts as all valid).
 */
#include <stdio.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"

static const AttrSpec concat_attrs[] = {
    {"axis", ATTR_INT, false, -1, 0, NULL, NULL},
};

static bool infer_concat(InferCtx *c)
{
    const Shape *a = c->in[0];
    long long axis = op_int(c, "axis");
    /* Keras counts the batch axis: axis 1 is the first axis after it. */
    int ax = axis < 0 ? a->rank + (int)axis : (int)axis - 1;
    if (ax < 0 || ax >= a->rank)
        return op_error(c, "Concatenate axis=%lld is out of range for inputs of rank %d",
                        axis, a->rank + 1);
    Shape out = *a;
    for (int k = 1; k < c->n_in; k++) {
        const Shape *b = c->in[k];
        bool ok = b->rank == a->rank;
        for (int i = 0; ok && i < a->rank; i++)
            ok = i == ax || dim_eq(a->d[i], b->d[i]);
        if (!ok) {
            char sa[96], sb[96];
            op_error_input(c, k, "Concatenate needs shapes that match except on axis %lld, "
                           "but got %s and %s", axis, shape_str(a, sa, sizeof sa),
                           shape_str(b, sb, sizeof sb));
            return false;
        }
        if (out.d[ax].sym || b->d[ax].sym)
            return op_error_input(c, k, "Concatenate cannot join along a dynamic axis");
        out.d[ax].n += b->d[ax].n;
    }
    c->out[0] = out;
    c->n_out = 1;
    return true;
}

static bool infer_add(InferCtx *c)
{
    for (int k = 1; k < c->n_in; k++)
        if (!shape_eq(c->in[0], c->in[k])) {
            char sa[96], sb[96];
            return op_error_input(c, k, "Add needs equal shapes, but got %s and %s",
                                  shape_str(c->in[0], sa, sizeof sa),
                                  shape_str(c->in[k], sb, sizeof sb));
        }
    c->out[0] = *c->in[0];
    c->n_out = 1;
    return true;
}

/* ---- code generation ---------------------------------------------------- */

/* Concatenation as rows: each input is [outer, inner_k] (outer = the axes
 * before the joined one, with the batch), the output [outer, sum inner_k]. */
static int concat_axis(const LowerOp *o)
{
    const Shape *a = &o->node->in[0]->shape;
    long long axis = o->layer->attrs[0].i;
    return axis < 0 ? a->rank + (int)axis : (int)axis - 1;
}

static long long inner_size(const Shape *s, int ax)
{
    long long n = 1;
    for (int i = ax; i < s->rank; i++)
        n *= lower_fixed(s->d[i]);
    return n;
}

static void concat_code(LowerOp *o, bool backward)
{
    Printer *p = o->p;
    const IrNode *n = o->node;
    int ax = concat_axis(o);
    const char *outer = ax == 1 && lower_has_time(n) ? "B * T" : "B";
    long long total = inner_size(&n->out[0]->shape, ax), at = 0;
    emit_open(p, "for (int64_t r = 0; r < %s; r++)", outer);
    for (int k = 0; k < n->n_in; k++) {
        long long w = inner_size(&n->in[k]->shape, ax);
        if (!backward)
            emit_line(p, "memcpy(y0 + r * %lld + %lld, x%d + r * %lld, sizeof(seqrt_real) * %lld);",
                      total, at, k, w, w);
        else if (o->need_dx[k])
            emit_line(p, "if (d_x%d) for (int64_t i = 0; i < %lld; i++) d_x%d[r * %lld + i] += d_y0[r * %lld + %lld + i];",
                      k, w, k, w, total, at);
        at += w;
    }
    emit_close(p, NULL);
}

/* A new mask of the output (op_set_masks: the inputs have two different
 * ones, or they are joined along time) is the AND of the inputs' masks,
 * an unmasked input counting as all valid; along time the masks are
 * joined like the values. Masks hold 0 or 1, so AND is a product. */
static void emit_combined_mask(LowerOp *o, bool joined)
{
    const IrNode *n = o->node;
    if (n->out[0]->mask != n->out[0])
        return;
    if (!joined) {
        char prod[512];
        size_t k = 0;
        for (int j = 0; j < n->n_in && k < sizeof prod; j++)
            if (n->in[j]->mask)
                k += (size_t)snprintf(prod + k, sizeof prod - k, "%smask%d[i]", k ? " * " : "", j);
        emit_line(o->p, "for (int64_t i = 0; i < B * T; i++) m0[i] = %s; /* the AND of the inputs' masks */",
                  prod);
        return;
    }
    long long total = lower_fixed(n->out[0]->shape.d[0]), at = 0;
    emit_comment(o->p, "the inputs' masks joined along time; an unmasked input is all valid");
    emit_open(o->p, "for (int64_t b = 0; b < B; b++)");
    for (int j = 0; j < n->n_in; j++) {
        long long t = lower_fixed(n->in[j]->shape.d[0]);
        if (n->in[j]->mask)
            emit_line(o->p, "memcpy(m0 + b * %lld + %lld, mask%d + b * %lld, sizeof(seqrt_real) * %lld);",
                      total, at, j, t, t);
        else
            emit_line(o->p, "for (int64_t t = 0; t < %lld; t++) m0[b * %lld + %lld + t] = 1;", t, total, at);
        at += t;
    }
    emit_close(o->p, NULL);
}

static void concat_forward(LowerOp *o)
{
    concat_code(o, false);
    emit_combined_mask(o, concat_axis(o) == 0);
}

static void concat_backward(LowerOp *o) { concat_code(o, true); }

static const char *elements(LowerOp *o)
{
    const Shape *s = &o->node->out[0]->shape;
    long long w = inner_size(s, lower_has_time(o->node) ? 1 : 0);
    return arena_printf(o->a, "%s * %lld", lower_rows(o), w);
}

static void add_forward(LowerOp *o)
{
    const char *n = elements(o);
    emit_open(o->p, "for (int64_t i = 0; i < %s; i++)", n);
    char sum[512];
    size_t k = (size_t)snprintf(sum, sizeof sum, "x0[i]");
    for (int j = 1; j < o->node->n_in && k < sizeof sum; j++)
        k += (size_t)snprintf(sum + k, sizeof sum - k, " + x%d[i]", j);
    emit_line(o->p, "y0[i] = %s;", sum);
    emit_close(o->p, NULL);
    emit_combined_mask(o, false);
}

static void add_backward(LowerOp *o)
{
    const char *n = elements(o);
    for (int j = 0; j < o->node->n_in; j++)
        if (o->need_dx[j])
            emit_line(o->p, "if (d_x%d) for (int64_t i = 0; i < %s; i++) d_x%d[i] += d_y0[i];", j, n, j);
}

static const char *concat_step_unsupported(const IrLayer *l)
{
    return l->attrs[0].i == -1 ? NULL : "only the last axis can be joined step by step";
}

static void concat_step(InferOp *o)
{
    long long at = 0;
    for (int k = 0; k < o->node->n_in; k++) {
        long long w = lower_fixed(o->node->in[k]->shape.d[o->node->in[k]->shape.rank - 1]);
        emit_line(o->p, "memcpy(y0 + %lld, x%d, sizeof(float) * %lld);", at, k, w);
        at += w;
    }
}

static void add_step(InferOp *o)
{
    const Shape *s = &o->node->out[0]->shape;
    char sum[512];
    size_t k = (size_t)snprintf(sum, sizeof sum, "x0[i]");
    for (int j = 1; j < o->node->n_in && k < sizeof sum; j++)
        k += (size_t)snprintf(sum + k, sizeof sum - k, " + x%d[i]", j);
    emit_line(o->p, "for (int i = 0; i < %lld; i++) y0[i] = %s;", lower_fixed(s->d[s->rank - 1]), sum);
}

const OpInfo op_concatenate = {
    .name = "Concatenate", .keras_name = "concatenate",
    .attrs = concat_attrs, .n_attrs = 1,
    .min_in = 2, .max_in = IR_MAX_IO, .infer = infer_concat,
    .forward = concat_forward, .backward = concat_backward,
    .step = concat_step, .step_unsupported = concat_step_unsupported,
    .mask = MASK_COMBINE,
};

/* tfjs-layers 4.22's Merge.computeMask (all but Concatenate) gives the
 * first mask with an extra leading axis and leaves the last input's out,
 * which breaks the next masked layer (tests/tfjs/cases.js, deviation 6). */
static const char *add_tfjs_unsupported(const IrLayer *l, const IrNode *n)
{
    (void)l;
    for (int k = 0; k < n->n_in; k++)
        if (n->in[k]->mask)
            return "a masked input: TensorFlow.js 4.22's Add computes its output mask with the "
                   "wrong shape (Keras: the AND of the inputs' masks)";
    return NULL;
}

const OpInfo op_add = {
    .name = "Add", .keras_name = "add",
    .attrs = NULL, .n_attrs = 0,
    .min_in = 2, .max_in = IR_MAX_IO, .infer = infer_add,
    .forward = add_forward, .backward = add_backward,
    .step = add_step, .tfjs_unsupported = add_tfjs_unsupported,
    .mask = MASK_COMBINE,
};
