/*
 * LSTM (KERAS-SEMANTICS 2.2): gates [i, f, c, o] fused in one kernel
 * [D, 4u], recurrent_kernel [u, 4u], one bias [4u] (unit_forget_bias puts
 * 1 on the f block). Params 4u(D + u + 1). States: [h, c], h first.
 */

#include <string.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"
#include "rnn.h"

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

/* Checkpointed BPTT (seqc --bptt-checkpoint): z and c hold one segment of
 * S steps; cc keeps c at every segment start and at the end. h stays whole,
 * so a segment's gates are recomputed in the backward pass by two GEMMs
 * over its S*B rows, and only c runs step by step again. */
static void shape(LowerOp *o, RnnShape *r)
{
    op_rnn_shape(o, 4, r);
    r->seg = o->bptt_segment;
}

/* Keras's default activations without a mask or recurrent dropout run as
 * whole sequences through the fused steps (seqrt_lstm_forward/backward,
 * runtime/src/rnn_step.c: the recurrent product in register tiles with the
 * gate math, on the thread team); anything else steps through seqrt_gemm
 * and the gate loop below. Measured on a 2-core AMD EPYC (W3, bench/RESULTS.md,
 * interleaved runs on a loaded machine): as fast or slightly faster at one
 * thread (CPU time 2.7% less, median), 21% less wall time at two. */
enum { LSTM_EMIT_FUSED = 1 };

static bool fused(const RnnShape *r)
{
    return LSTM_EMIT_FUSED && !strcmp(r->rec, "sigmoid") && !strcmp(r->act, "tanh") && !r->masked &&
           r->rd <= 0;
}

static void plan(LowerOp *o)
{
    RnnShape r;
    shape(o, &r);
    op_rnn_plan(o, &r);
    if (r.seg) {
        const char *S = op_rnn_segment(o, &r);
        lower_scratch(o, "c", "(%s + 1) * B * %lld", S, r.U);
        lower_scratch(o, "cc", "((T + %s - 1) / %s + 1) * B * %lld", S, S, r.U);
    } else {
        lower_scratch(o, "c", "(T + 1) * B * %lld", r.U);
    }
    lower_scratch(o, "dc", "B * %lld", r.U);
    if (fused(&r)) /* tanh(c_t), which the fused backward reads instead of computing it again */
        lower_scratch(o, "tc", "%s * B * %lld", r.seg ? op_rnn_segment(o, &r) : "T", r.U);
    if (r.stateful)
        lower_state(o, "carry_c", "B * %lld", r.U);
}

/* The elementwise half of step t: activate the gates in zt (kept there for
 * backward), c_t = f c_{t-1} + i g from cp into ct, and h_t into ht when
 * write_h (the recomputation in the backward pass has h already; there,
 * for the fused backward, tanh(c_t) into tt instead). */
static void emit_gates(LowerOp *o, const RnnShape *r, bool write_h)
{
    Printer *p = o->p;
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 4 * UNITS;");
    emit_line(p, "const seqrt_real ig = %s;", lower_act_expr(o, r->rec, arena_printf(o->a,
            "g[j]")));
    emit_line(p, "const seqrt_real fg = %s;", lower_act_expr(o, r->rec, arena_printf(o->a,
            "g[UNITS + j]")));
    emit_line(p, "const seqrt_real cg = %s;", lower_act_expr(o, r->act, arena_printf(o->a,
            "g[2 * UNITS + j]")));
    emit_line(p, "const seqrt_real og = %s;", lower_act_expr(o, r->rec, arena_printf(o->a,
            "g[3 * UNITS + j]")));
    emit_line(p, "const seqrt_real cn = fg * cp[b * UNITS + j] + ig * cg;");
    if (r->masked) {
        emit_line(p, "const int valid = %s; /* a padded step keeps h and c */", r->mt);
        emit_line(p, "ct[b * UNITS + j] = valid ? cn : cp[b * UNITS + j];");
        if (write_h)
            emit_line(p, "ht[b * UNITS + j] = valid ? og * %s : hp[b * UNITS + j];",
                      lower_act_expr(o, r->act, "cn"));
    } else {
        emit_line(p, "ct[b * UNITS + j] = cn;");
        if (write_h)
            emit_line(p, "ht[b * UNITS + j] = og * %s;", lower_act_expr(o, r->act, "cn"));
        else if (fused(r))
            emit_line(p, "tt[b * UNITS + j] = %s;", lower_act_expr(o, r->act, "cn"));
    }
    emit_line(p,
            "g[j] = ig; g[UNITS + j] = fg; g[2 * UNITS + j] = cg; g[3 * UNITS + j] = og; /* for "
            "backward */");
    emit_close(p, NULL);
    emit_close(p, NULL);
}

static void forward(LowerOp *o)
{
    Printer *p = o->p;
    RnnShape r;
    shape(o, &r);
    static const char *const states[] = {"h", "c"};
    const char *bias = r.bias ? "bias" : NULL;
    if (r.seg)
        op_rnn_emit_xt(o, &r);
    else
        op_rnn_emit_inputs(o, &r, bias);
    op_rnn_emit_initial(o, "h", 0);
    op_rnn_emit_initial(o, "c", 1);
    emit_comment(p, "z = x_t kernel + bias + h_{t-1} recurrent_kernel = [i f c o]; i, f, o = %s,",
                 r.rec);
    emit_comment(p, "g = %s(z_c); c_t = f c_{t-1} + i g; h_t = o %s(c_t)", r.act, r.act);
    if (r.seg) {
        emit_line(p, "memcpy(cc, c, sizeof(seqrt_real) * B * UNITS); /* checkpoint 0 */");
        op_rnn_open_segments(o, &r, false);
        op_rnn_emit_projection(o, bias, "t0", "len");
    }
    if (fused(&r)) {
        emit_comment(p, "every step, fused: the recurrent product tile by tile with the gates");
        if (r.seg)
            emit_line(p,
                    "seqrt_lstm_forward((int)len, (int)B, UNITS, recurrent_kernel, rt, z, h + t0 * "
                    "B * UNITS, c, tc);");
        else
            emit_line(p,
                      "seqrt_lstm_forward((int)T, (int)B, UNITS, recurrent_kernel, rt, z, h, c, tc);");
    } else if (r.seg) {
        emit_open(p, "for (int64_t t = t0; t < t0 + len; t++)");
        emit_line(p, "seqrt_real *zt = z + (t - t0) * B * 4 * UNITS;");
        emit_line(p, "const seqrt_real *hp = h + t * B * UNITS, *cp = c + (t - t0) * B * UNITS;");
        emit_line(p,
                  "seqrt_real *ht = h + (t + 1) * B * UNITS, *ct = c + (t - t0 + 1) * B * UNITS;");
    } else {
        emit_open(p, "for (int64_t t = 0; t < T; t++)");
        emit_line(p, "seqrt_real *zt = z + t * B * 4 * UNITS;");
        emit_line(p, "const seqrt_real *hp = h + t * B * UNITS, *cp = c + t * B * UNITS;");
        emit_line(p, "seqrt_real *ht = h + (t + 1) * B * UNITS, *ct = c + (t + 1) * B * UNITS;");
    }
    if (!fused(&r)) {
        emit_line(p,
                "seqrt_gemm(0, 0, (int)B, 4 * UNITS, UNITS, 1, %s, UNITS, recurrent_kernel, 4 * "
                "UNITS, 1, zt, 4 * UNITS);", op_rnn_recurrent_in(o, &r, false));
        emit_gates(o, &r, true);
        emit_close(p, NULL);
    }
    if (r.seg) {
        emit_comment(p, "the segment's last c: the next checkpoint, and the next segment's start");
        emit_line(p,
                "memcpy(cc + (t0 / S + 1) * B * UNITS, c + len * B * UNITS, sizeof(seqrt_real) * B "
                "* UNITS);");
        emit_line(p, "memcpy(c, c + len * B * UNITS, sizeof(seqrt_real) * B * UNITS);");
        emit_close(p, NULL);
        static const char *const finals[] = {NULL, "c"};
        op_rnn_emit_outputs_final(o, &r, states, finals, 2);
    } else {
        op_rnn_emit_outputs(o, &r, states, 2);
    }
}

/* Steps t1 - 1 down to t0 of the backward pass, z and c indexed from t0. */
static void emit_backward_steps(LowerOp *o, const RnnShape *r, const char *t0, const char *t1)
{
    Printer *p = o->p;
    long long U = r->U;
    if (fused(r)) {
        const bool all = !strcmp(t0, "0");
        const char *dy = !r->seq ? "NULL" : all ? "d_y0" : arena_printf(o->a, "d_y0 + %s * UNITS",
                t0);
        emit_comment(p,
                "every step, fused: dh_{t-1} = dz_t recurrent_kernel^T tile by tile with step "
                "t-1's gates");
        const char *steps = all ? t1 : arena_printf(o->a, "%s - %s", t1, t0);
        emit_line(p,
                "seqrt_lstm_backward((int)(%s), (int)B, UNITS, recurrent_kernel, rt, z, c, tc, %s, "
                "T * UNITS, dh, dc);",
                  steps, dy);
        return;
    }
    emit_open(p, "for (int64_t t = %s - 1; t >= %s; t--)", t1, t0);
    op_rnn_emit_grad_step(o, r);
    if (r->seg) {
        emit_line(p, "seqrt_real *zt = z + (t - t0) * B * 4 * UNITS; /* gates in, dz out */");
        emit_line(p,
                "const seqrt_real *cp = c + (t - t0) * B * UNITS, *ct = c + (t - t0 + 1) * B * "
                "UNITS;");
    } else {
        emit_line(p, "seqrt_real *zt = z + t * B * 4 * UNITS; /* gates in, dz out */");
        emit_line(p, "const seqrt_real *cp = c + t * B * UNITS, *ct = c + (t + 1) * B * UNITS;");
    }
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 4 * UNITS;");
    if (r->masked)
        emit_line(p,
                "if (%s) { g[j] = g[UNITS + j] = g[2 * UNITS + j] = g[3 * UNITS + j] = 0; "
                "continue; }",
                  r->mf);
    emit_line(p,
            "const seqrt_real ig = g[j], fg = g[UNITS + j], cg = g[2 * UNITS + j], og = g[3 * "
            "UNITS + j];");
    emit_line(p, "const seqrt_real a = %s;", lower_act_expr(o, r->act, arena_printf(o->a,
            "ct[b * UNITS + j]")));
    emit_line(p, "const seqrt_real dhv = dh[b * UNITS + j];");
    emit_line(p, "const seqrt_real dcv = dc[b * UNITS + j] + dhv * og * %s;", lower_dact_expr(o,
            r->act, "a"));
    emit_line(p, "g[j] = dcv * cg * %s;", lower_dact_expr(o, r->rec, "ig"));
    emit_line(p, "g[UNITS + j] = dcv * cp[b * UNITS + j] * %s;", lower_dact_expr(o, r->rec, "fg"));
    emit_line(p, "g[2 * UNITS + j] = dcv * ig * %s;", lower_dact_expr(o, r->act, "cg"));
    emit_line(p, "g[3 * UNITS + j] = dhv * a * %s;", lower_dact_expr(o, r->rec, "og"));
    emit_line(p, "dc[b * UNITS + j] = dcv * fg;");
    emit_line(p, "dh[b * UNITS + j] = 0;");
    emit_close(p, NULL);
    emit_close(p, NULL);
    op_rnn_dh_gemm(o, r, "zt", 4 * U, "recurrent_kernel", 4 * U, 4 * U);
    emit_close(p, NULL);
}

static void backward(LowerOp *o)
{
    Printer *p = o->p;
    RnnShape r;
    shape(o, &r);
    long long U = r.U;
    static const char *const dstates[] = {"dh", "dc"};
    op_rnn_emit_grad_init(o, &r, dstates, 2);
    if (!fused(&r))
        op_rnn_emit_rt(o, "recurrent_kernel", 4 * U, 4 * U);
    emit_comment(p,
                 "back through time: dc += dh o %s'(c_t); dz = [dc g i', dc c_{t-1} f', dc i g', "
                 "dh %s(c_t) o']", r.act, r.act);
    if (!r.seg) {
        emit_backward_steps(o, &r, "0", "T");
        emit_comment(p, "d_recurrent_kernel += h[0..T-1]^T dz");
        emit_line(p,
                "seqrt_gemm(1, 0, UNITS, 4 * UNITS, (int)(T * B), 1, %s, UNITS, z, 4 * UNITS, 1, "
                "d_recurrent_kernel, 4 * UNITS);", op_rnn_seen_states(&r));
        op_rnn_emit_input_grads(o, &r, "z", r.bias ? "d_bias" : NULL, dstates, 2);
        return;
    }
    const char *seen = op_rnn_seen_states(&r);
    op_rnn_open_segments(o, &r, true);
    emit_comment(p,
            "recompute the segment's gates: its input projection, plus h_{t-1} recurrent_kernel");
    emit_comment(p, "for all its steps at once (h is kept), then c from the segment's checkpoint");
    op_rnn_emit_projection(o, r.bias ? "bias" : NULL, "t0", "len");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)(len * B), 4 * UNITS, UNITS, 1, %s + t0 * B * UNITS, UNITS, "
            "recurrent_kernel, 4 * UNITS, 1, z, 4 * UNITS);", seen);
    emit_line(p, "memcpy(c, cc + t0 / S * B * UNITS, sizeof(seqrt_real) * B * UNITS);");
    emit_open(p, "for (int64_t t = t0; t < t0 + len; t++)");
    emit_line(p, "seqrt_real *zt = z + (t - t0) * B * 4 * UNITS;");
    emit_line(p, "const seqrt_real *cp = c + (t - t0) * B * UNITS;");
    emit_line(p, "seqrt_real *ct = c + (t - t0 + 1) * B * UNITS;");
    if (fused(&r))
        emit_line(p, "seqrt_real *tt = tc + (t - t0) * B * UNITS;");
    emit_gates(o, &r, false);
    emit_close(p, NULL);
    emit_backward_steps(o, &r, "t0", "t0 + len");
    emit_comment(p, "the segment's weight and input gradients");
    emit_line(p,
            "seqrt_gemm(1, 0, UNITS, 4 * UNITS, (int)(len * B), 1, %s + t0 * B * UNITS, UNITS, z, "
            "4 * UNITS, 1, d_recurrent_kernel, 4 * UNITS);", seen);
    op_rnn_emit_range_grads(o, &r, "z", r.bias ? "d_bias" : NULL, "t0", "len");
    emit_close(p, NULL);
    op_rnn_emit_state_grads(o, dstates, 2);
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
    emit_line(o->p, "const float cg = %s(%s[%lld + j]), og = %s(%s[%lld + j]);", act, z, 2 * U, rec,
              z, 3 * U);
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
    .name = "LSTM", .keras_name = "lstm", .state_names = "hc",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .recurrent = true, .infer = infer,
    .plan = plan, .forward = forward, .backward = backward,
    .unsupported = op_rnn_unsupported,
    .step = step, .step_unsupported = op_rnn_step_unsupported,
    .keras_value = op_rnn_keras_value,
    .mask = MASK_PROPAGATE, .mask_rule = op_rnn_mask_rule,
};
