/*
 * LSTM (KERAS-SEMANTICS 2.2): gates [i, f, c, o] fused in one kernel
 * [D, 4u], recurrent_kernel [u, 4u], one bias [4u] (unit_forget_bias puts
 * 1 on the f block). Params 4u(D + u + 1). States: [h, c], h first.
 */
#include "lower.h"
#include "infer.h"
#include "ops.h"

static const AttrSpec attrs[] = {
    {"units", ATTR_INT, true, 0, 0, NULL, NULL},
    {"activation", ATTR_STR, false, 0, 0, "tanh", op_activation_choices},
    {"recurrent_activation", ATTR_STR, false, 0, 0, "sigmoid", op_activation_choices},
    OP_RNN_COMMON_ATTRS,
    {"unit_forget_bias", ATTR_BOOL, false, 1, 0, NULL, NULL},
};

static bool infer(InferCtx *c)
{
    static const char *const states[] = {"h", "c"};
    if (!op_rnn_infer(c, 4, 2, states))
        return false;
    if (op_bool(c, "use_bias")) {
        long long b[1] = {4 * op_int(c, "units")};
        InitKind init = op_init(c, "bias_initializer");
        if (op_bool(c, "unit_forget_bias") && init == INIT_ZEROS)
            init = INIT_UNIT_FORGET_BIAS;
        op_param(c, "bias", 1, b, init);
    }
    return true;
}

static void plan(LowerOp *o)
{
    RnnShape r;
    op_rnn_shape(o, 4, &r);
    op_rnn_plan(o, &r);
    lower_scratch(o, "c", "(T + 1) * B * %lld", r.U);
    lower_scratch(o, "dc", "B * %lld", r.U);
    if (r.stateful)
        lower_state(o, "carry_c", "B * %lld", r.U);
}

static void forward(LowerOp *o)
{
    Printer *p = o->p;
    RnnShape r;
    op_rnn_shape(o, 4, &r);
    long long U = r.U;
    static const char *const states[] = {"h", "c"};
    op_rnn_emit_inputs(o, &r, r.bias ? "bias" : NULL);
    op_rnn_emit_initial(o, "h", 0, U);
    op_rnn_emit_initial(o, "c", 1, U);
    emit_comment(p, "z = x_t kernel + bias + h_{t-1} recurrent_kernel = [i f c o]; i, f, o = %s,",
                 r.rec);
    emit_comment(p, "g = %s(z_c); c_t = f c_{t-1} + i g; h_t = o %s(c_t)", r.act, r.act);
    emit_open(p, "for (int64_t t = 0; t < T; t++)");
    emit_line(p, "seqrt_real *zt = z + t * B * %lld;", 4 * U);
    emit_line(p, "const seqrt_real *hp = h + t * B * %lld, *cp = c + t * B * %lld;", U, U);
    emit_line(p, "seqrt_real *ht = h + (t + 1) * B * %lld, *ct = c + (t + 1) * B * %lld;", U, U);
    emit_line(p, "seqrt_gemm(0, 0, (int)B, %lld, %lld, 1, %s, %lld, recurrent_kernel, %lld, 1, zt, %lld);",
              4 * U, U, op_rnn_recurrent_in(o, &r, false), U, 4 * U, 4 * U);
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < %lld; j++)", U);
    emit_line(p, "seqrt_real *g = zt + b * %lld;", 4 * U);
    emit_line(p, "const seqrt_real ig = %s;", lower_act_expr(o, r.rec, arena_printf(o->a, "g[j]")));
    emit_line(p, "const seqrt_real fg = %s;", lower_act_expr(o, r.rec, arena_printf(o->a, "g[%lld + j]", U)));
    emit_line(p, "const seqrt_real cg = %s;", lower_act_expr(o, r.act, arena_printf(o->a, "g[%lld + j]", 2 * U)));
    emit_line(p, "const seqrt_real og = %s;", lower_act_expr(o, r.rec, arena_printf(o->a, "g[%lld + j]", 3 * U)));
    emit_line(p, "const seqrt_real cn = fg * cp[b * %lld + j] + ig * cg;", U);
    if (r.masked) {
        emit_line(p, "const int valid = %s != 0; /* a padded step keeps h and c */", r.mt);
        emit_line(p, "ct[b * %lld + j] = valid ? cn : cp[b * %lld + j];", U, U);
        emit_line(p, "ht[b * %lld + j] = valid ? og * %s : hp[b * %lld + j];", U,
                  lower_act_expr(o, r.act, "cn"), U);
    } else {
        emit_line(p, "ct[b * %lld + j] = cn;", U);
        emit_line(p, "ht[b * %lld + j] = og * %s;", U, lower_act_expr(o, r.act, "cn"));
    }
    emit_line(p, "g[j] = ig; g[%lld + j] = fg; g[%lld + j] = cg; g[%lld + j] = og; /* for backward */",
              U, 2 * U, 3 * U);
    emit_close(p, NULL);
    emit_close(p, NULL);
    emit_close(p, NULL);
    op_rnn_emit_outputs(o, &r, states, 2);
}

static void backward(LowerOp *o)
{
    Printer *p = o->p;
    RnnShape r;
    op_rnn_shape(o, 4, &r);
    long long U = r.U;
    static const char *const dstates[] = {"dh", "dc"};
    op_rnn_emit_grad_init(o, &r, dstates, 2);
    emit_comment(p, "back through time: dc += dh o %s'(c_t); dz = [dc g i', dc c_{t-1} f', dc i g', "
                 "dh %s(c_t) o']", r.act, r.act);
    emit_open(p, "for (int64_t t = T - 1; t >= 0; t--)");
    op_rnn_emit_grad_step(o, &r);
    emit_line(p, "seqrt_real *zt = z + t * B * %lld; /* gates in, dz out */", 4 * U);
    emit_line(p, "const seqrt_real *cp = c + t * B * %lld, *ct = c + (t + 1) * B * %lld;", U, U);
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < %lld; j++)", U);
    emit_line(p, "seqrt_real *g = zt + b * %lld;", 4 * U);
    if (r.masked)
        emit_line(p, "if (!%s) { g[j] = g[%lld + j] = g[%lld + j] = g[%lld + j] = 0; continue; }",
                  r.mt, U, 2 * U, 3 * U);
    emit_line(p, "const seqrt_real ig = g[j], fg = g[%lld + j], cg = g[%lld + j], og = g[%lld + j];",
              U, 2 * U, 3 * U);
    emit_line(p, "const seqrt_real a = %s;", lower_act_expr(o, r.act, arena_printf(o->a, "ct[b * %lld + j]", U)));
    emit_line(p, "const seqrt_real dhv = dh[b * %lld + j];", U);
    emit_line(p, "const seqrt_real dcv = dc[b * %lld + j] + dhv * og * %s;", U, lower_dact_expr(o, r.act, "a"));
    emit_line(p, "g[j] = dcv * cg * %s;", lower_dact_expr(o, r.rec, "ig"));
    emit_line(p, "g[%lld + j] = dcv * cp[b * %lld + j] * %s;", U, U, lower_dact_expr(o, r.rec, "fg"));
    emit_line(p, "g[%lld + j] = dcv * ig * %s;", 2 * U, lower_dact_expr(o, r.act, "cg"));
    emit_line(p, "g[%lld + j] = dhv * a * %s;", 3 * U, lower_dact_expr(o, r.rec, "og"));
    emit_line(p, "dc[b * %lld + j] = dcv * fg;", U);
    emit_line(p, "dh[b * %lld + j] = 0;", U);
    emit_close(p, NULL);
    emit_close(p, NULL);
    op_rnn_dh_gemm(o, &r, "zt", 4 * U, "recurrent_kernel", 4 * U, 4 * U);
    emit_close(p, NULL);
    emit_comment(p, "d_recurrent_kernel += h[0..T-1]^T dz");
    emit_line(p, "seqrt_gemm(1, 0, %lld, %lld, (int)(T * B), 1, %s, %lld, z, %lld, 1, d_recurrent_kernel, %lld);",
              U, 4 * U, op_rnn_seen_states(&r), U, 4 * U, 4 * U);
    op_rnn_emit_input_grads(o, &r, "z", r.bias ? "d_bias" : NULL, dstates, 2);
}

/* One step: z = x W + h U + b = [i f c o]; c = f c + i g; h = o act(c). */
static void step(InferOp *o)
{
    const IrLayer *l = o->layer;
    long long D = l->params[0].shape[0], U = l->params[1].shape[0];
    const char *act = infer_act_fn(l->attrs[op_attr_index(l->op, "activation")].s);
    const char *rec = infer_act_fn(l->attrs[op_attr_index(l->op, "recurrent_activation")].s);
    const char *h = infer_state(o, "h", U, "hidden state");
    const char *c = infer_state(o, "c", U, "cell state");
    const char *z = infer_state(o, "z", 4 * U, "scratch: gates");
    if (l->n_params > 2)
        emit_line(o->p, "memcpy(%s, bias, sizeof(float) * %lld);", z, 4 * U);
    infer_matvec(o, z, "x0", "kernel", D, 4 * U, 4 * U, l->n_params > 2);
    infer_matvec(o, z, h, "recurrent_kernel", U, 4 * U, 4 * U, true);
    emit_open(o->p, "for (int j = 0; j < %lld; j++)", U);
    emit_line(o->p, "const float ig = %s(%s[j]), fg = %s(%s[%lld + j]);", rec, z, rec, z, U);
    emit_line(o->p, "const float cg = %s(%s[%lld + j]), og = %s(%s[%lld + j]);", act, z, 2 * U, rec, z, 3 * U);
    emit_line(o->p, "%s[j] = fg * %s[j] + ig * cg;", c, c);
    emit_line(o->p, "%s[j] = og * %s(%s[j]);", h, act, c);
    emit_close(o->p, NULL);
    emit_line(o->p, "memcpy(y0, %s, sizeof(float) * %lld);", h, U);
    if (o->node->n_out > 1) {
        emit_line(o->p, "memcpy(y1, %s, sizeof(float) * %lld);", h, U);
        emit_line(o->p, "memcpy(y2, %s, sizeof(float) * %lld);", c, U);
    }
}

const OpInfo op_lstm = {
    .name = "LSTM", .keras_name = "lstm",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .recurrent = true, .infer = infer,
    .plan = plan, .forward = forward, .backward = backward,
    .unsupported = op_rnn_unsupported,
    .step = step,
};
