/*
 * Dense (KERAS-SEMANTICS 1): y = act(x W + b) on the last axis, so on a
 * sequence [T, F] it is TimeDistributed(Dense). kernel [F, u]
 * glorot_uniform, bias [u] zeros. Params F*u + u.
 */
#include <string.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"

static const AttrSpec attrs[] = {
    {"units", ATTR_INT, true, 0, 0, NULL, NULL},
    {"activation", ATTR_STR, false, 0, 0, "linear", op_activation_choices},
    {"use_bias", ATTR_BOOL, false, 1, 0, NULL, NULL},
    {"kernel_initializer", ATTR_STR, false, 0, 0, "glorot_uniform", op_initializer_choices},
    {"bias_initializer", ATTR_STR, false, 0, 0, "zeros", op_initializer_choices},
};

static bool infer(InferCtx *c)
{
    const Shape *x = c->in[0];
    long long u = op_int(c, "units");
    if (u <= 0)
        return op_error(c, "Dense needs units > 0, got %lld", u);
    Dim last = x->d[x->rank - 1];
    if (last.sym)
        return op_error_input(c, 0, "Dense needs a fixed last axis, but it is dynamic");
    if (c->layer->built && c->layer->params[0].shape[0] != last.n)
        return op_error_input(c, 0, "layer '%s' was built for %lld input features, but this "
                              "call gives it %lld", c->layer->name,
                              c->layer->params[0].shape[0], last.n);
    long long k[2] = {last.n, u}, b[1] = {u};
    op_param(c, "kernel", 2, k, op_init(c, "kernel_initializer"));
    if (op_bool(c, "use_bias"))
        op_param(c, "bias", 1, b, op_init(c, "bias_initializer"));
    c->out[0] = *x;
    c->out[0].d[x->rank - 1] = dim_fixed(u);
    c->n_out = 1;
    c->out_softmax = strcmp(op_str(c, "activation"), "softmax") == 0;
    c->out_sigmoid = strcmp(op_str(c, "activation"), "sigmoid") == 0;
    return true;
}

/* y = act(x W + b) over all rows (every step of every sample) at once. */
static void forward(LowerOp *o)
{
    Printer *p = o->p;
    const IrNode *n = o->node;
    long long F = lower_fixed(n->in[0]->shape.d[n->in[0]->shape.rank - 1]);
    long long U = o->layer->params[0].shape[1];
    lower_dim(o, "FEATURES", F);
    lower_dim(o, "UNITS", U);
    const char *N = lower_rows(o);
    bool bias = o->layer->n_params > 1;
    emit_line(p, "const int64_t N = %s; /* rows */", N);
    if (bias) {
        emit_open(p, "for (int64_t n = 0; n < N; n++)");
        emit_line(p, "memcpy(y0 + n * UNITS, bias, sizeof(seqrt_real) * UNITS);");
        emit_close(p, NULL);
    }
    emit_comment(p, "y[N, UNITS] %s= x[N, FEATURES] kernel[FEATURES, UNITS]", bias ? "+" : "");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)N, UNITS, FEATURES, 1, x0, FEATURES, kernel, UNITS, %d, y0, "
            "UNITS);", bias ? 1 : 0);
    lower_activation_forward(o, o->layer->attrs[1].s, "y0", "N", U);
}

/* dz = dy act'(.); dkernel += x^T dz; dbias += sum_rows dz; dx += dz kernel^T. */
static void backward(LowerOp *o)
{
    Printer *p = o->p;
    const IrNode *n = o->node;
    long long F = lower_fixed(n->in[0]->shape.d[n->in[0]->shape.rank - 1]);
    long long U = o->layer->params[0].shape[1];
    lower_dim(o, "FEATURES", F);
    lower_dim(o, "UNITS", U);
    emit_line(p, "const int64_t N = %s; /* rows */", lower_rows(o));
    lower_activation_backward(o, o->layer->attrs[1].s, "d_y0", "y0", "N", U);
    emit_line(p,
            "seqrt_gemm(1, 0, FEATURES, UNITS, (int)N, 1, x0, FEATURES, d_y0, UNITS, 1, d_kernel, "
            "UNITS);");
    if (o->layer->n_params > 1) {
        emit_line(p, "seqrt_add_rows(N, UNITS, d_y0, d_bias);");
    }
    if (o->need_dx[0]) {
        emit_open(p, "if (d_x0)");
        emit_line(p,
                "seqrt_gemm(0, 1, (int)N, FEATURES, UNITS, 1, d_y0, UNITS, kernel, UNITS, 1, d_x0, "
                "FEATURES);");
        emit_close(p, NULL);
    }
}

/* One step: y = act(x W + b). */
static void step(InferOp *o)
{
    const IrNode *n = o->node;
    long long F = lower_fixed(n->in[0]->shape.d[n->in[0]->shape.rank - 1]);
    long long U = o->layer->params[0].shape[1];
    if (o->layer->n_params > 1)
        emit_line(o->p, "memcpy(y0, bias, sizeof(float) * %lld);", U);
    infer_matvec(o, "y0", "x0", "kernel", F, U, U, o->layer->n_params > 1);
    infer_activation(o, o->layer->attrs[1].s, "y0", U);
}

const OpInfo op_dense = {
    .name = "Dense", .keras_name = "dense",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .row_wise = true, .infer = infer,
    .forward = forward, .backward = backward,
    .step = step,
    .mask = MASK_PROPAGATE,
};
