/* Masking(mask_value): marks steps whose features all equal mask_value as
 * padding; recurrent layers downstream carry their state across them. */
#include "lower.h"
#include "ops.h"
#include "util.h"

static const AttrSpec attrs[] = {
    {"mask_value", ATTR_FLOAT, false, 0, 0.0, NULL, NULL},
};

static bool infer(InferCtx *c)
{
    if (!op_need_rank(c, 0, 2, "a sequence [time, features]"))
        return false;
    c->out[0] = *c->in[0];
    c->n_out = 1;
    return true;
}

/* A step is padding when every feature equals mask_value; its features
 * become 0 (Keras multiplies by the mask). */
static void forward(LowerOp *o)
{
    long long F = lower_fixed(o->node->in[0]->shape.d[1]);
    lower_dim(o, "FEATURES", F);
    double v = o->layer->attrs[0].f;
    emit_open(o->p, "for (int64_t n = 0; n < B * T; n++)");
    emit_line(o->p, "const seqrt_real *x = x0 + n * FEATURES;");
    emit_line(o->p, "int valid = 0;");
    emit_line(o->p, "for (int64_t i = 0; i < FEATURES; i++) valid |= x[i] != (seqrt_real)%s;",
              SEQ_NUM(v));
    emit_line(o->p, "m0[n] = (seqrt_real)valid;");
    emit_line(o->p,
              "for (int64_t i = 0; i < FEATURES; i++) y0[n * FEATURES + i] = valid ? x[i] : 0;");
    emit_close(o->p, NULL);
}

static void backward(LowerOp *o)
{
    if (!o->need_dx[0])
        return;
    long long F = lower_fixed(o->node->in[0]->shape.d[1]);
    lower_dim(o, "FEATURES", F);
    emit_open(o->p, "if (d_x0)");
    emit_line(o->p, "for (int64_t n = 0; n < B * T; n++)");
    emit_line(o->p,
            "    for (int64_t i = 0; i < FEATURES; i++) d_x0[n * FEATURES + i] += m0[n] * d_y0[n * "
            "FEATURES + i];");
    emit_close(o->p, NULL);
}

const OpInfo op_masking = {
    .name = "Masking", .keras_name = "masking",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .infer = infer,
    .forward = forward, .backward = backward,
    .mask = MASK_CREATE,
    .step_note = "a masked step must leave the recurrent states after it unchanged, and the "
                 "streaming steps carry no mask",
};
