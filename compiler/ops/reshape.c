/*
 * Axis-moving layers without parameters: Flatten ([T, F] -> [T*F]),
 * LastStep ([T, F] -> [F], the x[:, -1, :] of Keras code) and
 * RepeatVector(n) ([F] -> [n, F], the decoder input of simple seq2seq).
 */
#include "lower.h"
#include "infer.h"
#include "ops.h"

static bool infer_flatten(InferCtx *c)
{
    const Shape *x = c->in[0];
    long long n = 1;
    for (int i = 0; i < x->rank; i++) {
        if (x->d[i].sym)
            return op_error_input(c, 0, "Flatten needs fixed axes, but this input has a "
                                  "dynamic one (use LastStep() or a layer without "
                                  "return_sequences to drop time)");
        n *= x->d[i].n;
    }
    c->out[0] = (Shape){.rank = 1, .d = {dim_fixed(n)}};
    c->n_out = 1;
    return true;
}

static bool infer_last_step(InferCtx *c)
{
    if (!op_need_rank(c, 0, 2, "a sequence [time, features]"))
        return false;
    c->out[0] = (Shape){.rank = 1, .d = {c->in[0]->d[1]}, .is_int = c->in[0]->is_int};
    c->n_out = 1;
    return true;
}

static const AttrSpec repeat_attrs[] = {
    {"n", ATTR_INT, true, 0, 0, NULL, NULL},
};

static bool infer_repeat(InferCtx *c)
{
    if (!op_need_rank(c, 0, 1, "a vector [features]"))
        return false;
    long long n = op_int(c, "n");
    if (n <= 0)
        return op_error(c, "RepeatVector needs n > 0, got %lld", n);
    c->out[0] = (Shape){.rank = 2, .d = {dim_fixed(n), c->in[0]->d[0]}};
    c->n_out = 1;
    return true;
}

/* Flatten keeps the bytes: a copy forward, an add backward. */
static void flatten_forward(LowerOp *o)
{
    const Shape *s = &o->node->out[0]->shape;
    emit_line(o->p, "memcpy(y0, x0, sizeof(seqrt_real) * B * %lld);", lower_fixed(s->d[0]));
}

static void flatten_backward(LowerOp *o)
{
    if (!o->need_dx[0])
        return;
    const Shape *s = &o->node->out[0]->shape;
    emit_open(o->p, "if (d_x0)");
    emit_line(o->p, "for (int64_t i = 0; i < B * %lld; i++) d_x0[i] += d_y0[i];",
              lower_fixed(s->d[0]));
    emit_close(o->p, NULL);
}

/* y[b] = x[b, T - 1] */
static void last_step_forward(LowerOp *o)
{
    long long F = lower_fixed(o->node->in[0]->shape.d[1]);
    lower_dim(o, "FEATURES", F);
    emit_open(o->p, "for (int64_t b = 0; b < B; b++)");
    emit_line(o->p,
            "memcpy(y0 + b * FEATURES, x0 + (b * T + T - 1) * FEATURES, sizeof(seqrt_real) * "
            "FEATURES);");
    emit_close(o->p, NULL);
}

static void last_step_backward(LowerOp *o)
{
    if (!o->need_dx[0])
        return;
    long long F = lower_fixed(o->node->in[0]->shape.d[1]);
    lower_dim(o, "FEATURES", F);
    emit_open(o->p, "if (d_x0)");
    emit_open(o->p, "for (int64_t b = 0; b < B; b++)");
    emit_line(o->p,
            "for (int64_t j = 0; j < FEATURES; j++) d_x0[(b * T + T - 1) * FEATURES + j] += d_y0[b "
            "* FEATURES + j];");
    emit_close(o->p, NULL);
    emit_close(o->p, NULL);
}

/* y[b, k] = x[b] for each of the n steps; backward sums over them. */
static void repeat_forward(LowerOp *o)
{
    long long F = lower_fixed(o->node->in[0]->shape.d[0]);
    lower_dim(o, "FEATURES", F);
    long long n = lower_fixed(o->node->out[0]->shape.d[0]);
    emit_open(o->p, "for (int64_t b = 0; b < B; b++)");
    emit_line(o->p, "for (int64_t k = 0; k < %lld; k++)", n);
    emit_line(o->p,
            "    memcpy(y0 + (b * %lld + k) * FEATURES, x0 + b * FEATURES, sizeof(seqrt_real) * "
            "FEATURES);",
              n);
    emit_close(o->p, NULL);
}

static void repeat_backward(LowerOp *o)
{
    if (!o->need_dx[0])
        return;
    long long F = lower_fixed(o->node->in[0]->shape.d[0]);
    lower_dim(o, "FEATURES", F);
    long long n = lower_fixed(o->node->out[0]->shape.d[0]);
    emit_open(o->p, "if (d_x0)");
    emit_open(o->p, "for (int64_t b = 0; b < B; b++)");
    emit_line(o->p, "for (int64_t k = 0; k < %lld; k++)", n);
    emit_line(o->p,
            "    for (int64_t j = 0; j < FEATURES; j++) d_x0[b * FEATURES + j] += d_y0[(b * %lld + "
            "k) * FEATURES + j];", n);
    emit_close(o->p, NULL);
    emit_close(o->p, NULL);
}

/* Streaming: the current step is the last one so far. */
static void last_step_step(InferOp *o)
{
    long long F = lower_fixed(o->node->in[0]->shape.d[1]);
    emit_line(o->p, "memcpy(y0, x0, sizeof(float) * %lld);", F);
}

const OpInfo op_flatten = {
    .name = "Flatten", .keras_name = "flatten",
    .min_in = 1, .max_in = 1, .infer = infer_flatten,
    .forward = flatten_forward, .backward = flatten_backward,
    .mask = MASK_DROP,
    .mask_note = "needs fixed axes and moves time into the features, so padding changes its "
                 "output; Keras's Flatten drops the mask",
    .step_note = "its output holds every step of the sequence at once",
};

/* Keras code writes x[:, -1] as a Lambda, which TensorFlow.js cannot load,
 * and tfjs-layers has no layer that slices one step. */
static const char *last_step_tfjs_unsupported(const IrLayer *l, const IrNode *n)
{
    (void)l;
    (void)n;
    return "Keras writes it as x[:, -1] (a Lambda), which TensorFlow.js cannot load, and "
           "TensorFlow.js 4.22 has no layer that takes one step of a sequence";
}

const OpInfo op_last_step = {
    .name = "LastStep", .keras_name = "last_step", .not_keras = true,
    .min_in = 1, .max_in = 1, .infer = infer_last_step,
    .forward = last_step_forward, .backward = last_step_backward,
    .step = last_step_step, .tfjs_unsupported = last_step_tfjs_unsupported,
    .mask = MASK_DROP,
    .mask_note = "x[:, -1] reads the last step, padded or not, as Keras code does; after a "
                 "masked recurrent layer with return_sequences that step repeats the last "
                 "valid output",
};

const OpInfo op_repeat_vector = {
    .name = "RepeatVector", .keras_name = "repeat_vector",
    .attrs = repeat_attrs, .n_attrs = 1,
    .min_in = 1, .max_in = 1, .infer = infer_repeat,
    .forward = repeat_forward, .backward = repeat_backward,
    .mask = MASK_DROP,
    .mask_note = "takes a vector, which carries no mask; its sequence carries none",
    .step_note = "it takes one vector for the whole sequence, not a step of one",
};
