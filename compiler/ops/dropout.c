/* Dropout(rate): inverted dropout while training, identity otherwise. */
#include <string.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"
#include "util.h"

static const AttrSpec attrs[] = {
    {"rate", ATTR_FLOAT, true, 0, 0, NULL, NULL},
    {"seed", ATTR_INT, false, 0, 0, NULL, NULL},
};

static bool infer(InferCtx *c)
{
    double r = op_float(c, "rate");
    if (r < 0 || r >= 1)
        return op_error(c, "Dropout rate must be in [0, 1), got %s", SEQ_NUM(r));
    c->out[0] = *c->in[0];
    c->n_out = 1;
    return true;
}

static const char *elements(LowerOp *o)
{
    const Shape *s = &o->node->out[0]->shape;
    return arena_printf(o->a, "%s * %lld", lower_rows(o), lower_fixed(s->d[s->rank - 1]));
}

static void plan(LowerOp *o) { lower_scratch(o, "mask", "%s", elements(o)); }

/* Inverted dropout: keep with probability 1 - rate and scale by 1 / (1 - rate),
 * so inference is the identity. The mask is a hash of (step key, call, index). */
static void forward(LowerOp *o)
{
    Printer *p = o->p;
    double rate = o->layer->attrs[0].f;
    long long seed = o->layer->attrs[1].i;
    const char *n = elements(o);
    emit_open(p, "if (!training)");
    emit_line(p, "memcpy(y0, x0, sizeof(seqrt_real) * %s);", n);
    emit_line(p, "return;");
    emit_close(p, NULL);
    emit_open(p, "for (int64_t i = 0; i < %s; i++)", n);
    emit_line(p, "mask[i] = seqrt_hash_uniform((uint64_t)training, stream + %lldu, (uint64_t)i) >= %s "
              "? (seqrt_real)%s : 0;", seed * 1000003LL, SEQ_NUM(rate), SEQ_NUM(1.0 / (1.0 - rate)));
    emit_line(p, "y0[i] = x0[i] * mask[i];");
    emit_close(p, NULL);
}

static void backward(LowerOp *o)
{
    if (!o->need_dx[0])
        return;
    emit_line(o->p, "if (d_x0) for (int64_t i = 0; i < %s; i++) d_x0[i] += d_y0[i] * mask[i];", elements(o));
}

/* Inference: the identity. */
static void step(InferOp *o)
{
    const Shape *s = &o->node->in[0]->shape;
    emit_line(o->p, "memcpy(y0, x0, sizeof(float) * %lld);", lower_fixed(s->d[s->rank - 1]));
}

/* Keras writes no seed as null. */
static const char *keras_value(const IrLayer *l, int k, Arena *a)
{
    (void)a;
    return !strcmp(l->op->attrs[k].name, "seed") && !l->attrs[k].given ? "null" : NULL;
}

const OpInfo op_dropout = {
    .name = "Dropout", .keras_name = "dropout",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .infer = infer,
    .plan = plan, .forward = forward, .backward = backward,
    .step = step, .keras_value = keras_value,
    .mask = MASK_PROPAGATE,
};
