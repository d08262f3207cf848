/* Activation(act): elementwise, or softmax over the last axis. No params. */
#include <string.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"

static const AttrSpec attrs[] = {
    {"activation", ATTR_STR, true, 0, 0, NULL, op_activation_choices},
};

static bool infer(InferCtx *c)
{
    c->out[0] = *c->in[0];
    c->n_out = 1;
    c->out_softmax = strcmp(op_str(c, "activation"), "softmax") == 0;
    c->out_sigmoid = strcmp(op_str(c, "activation"), "sigmoid") == 0;
    return true;
}

static long long width(const LowerOp *o)
{
    const Shape *s = &o->node->in[0]->shape;
    return lower_fixed(s->d[s->rank - 1]);
}

static void forward(LowerOp *o)
{
    long long W = width(o);
    lower_dim(o, "FEATURES", W);
    emit_line(o->p, "const int64_t N = %s; /* rows */", lower_rows(o));
    emit_line(o->p, "memcpy(y0, x0, sizeof(seqrt_real) * N * FEATURES);");
    lower_activation_forward(o, o->layer->attrs[0].s, "y0", "N", W);
}

static void backward(LowerOp *o)
{
    long long W = width(o);
    lower_dim(o, "FEATURES", W);
    emit_line(o->p, "const int64_t N = %s; /* rows */", lower_rows(o));
    lower_activation_backward(o, o->layer->attrs[0].s, "d_y0", "y0", "N", W);
    if (o->need_dx[0]) {
        emit_open(o->p, "if (d_x0)");
        emit_line(o->p, "for (int64_t i = 0; i < N * FEATURES; i++) d_x0[i] += d_y0[i];");
        emit_close(o->p, NULL);
    }
}

static void step(InferOp *o)
{
    const Shape *s = &o->node->in[0]->shape;
    long long W = lower_fixed(s->d[s->rank - 1]);
    emit_line(o->p, "memcpy(y0, x0, sizeof(float) * %lld);", W);
    infer_activation(o, o->layer->attrs[0].s, "y0", W);
}

const OpInfo op_activation = {
    .name = "Activation", .keras_name = "activation",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .row_wise = true, .infer = infer,
    .forward = forward, .backward = backward,
    .step = step,
    .mask = MASK_PROPAGATE,
};
