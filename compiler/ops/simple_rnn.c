/*
 * SimpleRNN (KERAS-SEMANTICS 2.1): h_t = act(x_t W + h_{t-1} U + b).
 * kernel [D, u] glorot_uniform, recurrent_kernel [u, u] orthogonal,
 * bias [u] zeros. Params u(D + u + 1). States: [h].
 */
#include <string.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"
#include "rnn.h"

static const AttrSpec attrs[] = {
    {"units", ATTR_INT, true, 0, 0, NULL, NULL},
    {"activation", ATTR_STR, false, 0, 0, "tanh", op_activation_choices},
    OP_RNN_COMMON_ATTRS,
};

static bool infer(InferCtx *c)
{
    static const char *const states[] = {"h"};
    if (!op_rnn_infer(c, 1, 1, states))
        return false;
    if (op_bool(c, "use_bias")) {
        long long b[1] = {op_int(c, "units")};
        op_param(c, "bias", 1, b, op_init(c, "bias_initializer"));
    }
    return true;
}

/* Checkpointed BPTT (seqc --bptt-checkpoint): z holds one segment of S
 * steps. Nothing is recomputed: the backward pass needs only h (kept) for
 * tanh', so the forward fills z a segment at a time and the backward forms
 * each segment's dz in it, then that segment's weight gradients. */
static void shape(LowerOp *o, RnnShape *r)
{
    op_rnn_shape(o, 1, r);
    r->seg = o->bptt_segment;
}

/* tanh without a mask or recurrent dropout runs as whole sequences
 * through the fused steps (seqrt_rnn_forward/backward, runtime/src/
 * rnn_step.c), as the LSTM and GRU do: the recurrent product tile by tile
 * with the tanh; anything else steps through seqrt_gemm and the loops
 * below. Measured on W2 (bench/RESULTS.md). */
static bool fused(const RnnShape *r)
{
    return !strcmp(r->act, "tanh") && !r->masked && r->rd <= 0;
}

static void plan(LowerOp *o)
{
    RnnShape r;
    shape(o, &r);
    op_rnn_plan(o, &r);
}

static void forward(LowerOp *o)
{
    Printer *p = o->p;
    RnnShape r;
    shape(o, &r);
    long long U = r.U;
    static const char *const states[] = {"h"};
    const char *bias = r.bias ? "bias" : NULL, *zi = r.seg ? "(t - t0)" : "t";
    if (r.seg)
        op_rnn_emit_xt(o, &r);
    else
        op_rnn_emit_inputs(o, &r, bias);
    op_rnn_emit_initial(o, "h", 0);
    emit_comment(p, "h_t = %s(x_t kernel + bias + h_{t-1} recurrent_kernel)", r.act);
    if (fused(&r)) {
        emit_comment(p, "every step, fused: the recurrent product tile by tile with the tanh");
        if (r.seg) {
            op_rnn_open_segments(o, &r, false);
            op_rnn_emit_projection(o, bias, "t0", "len");
            emit_line(p,
                    "seqrt_rnn_forward((int)len, (int)B, UNITS, recurrent_kernel, rt, z, h + t0 * "
                    "B * UNITS);");
            emit_close(p, NULL);
        } else {
            emit_line(p, "seqrt_rnn_forward((int)T, (int)B, UNITS, recurrent_kernel, rt, z, h);");
        }
        op_rnn_emit_outputs(o, &r, states, 1);
        return;
    }
    if (r.seg) {
        op_rnn_open_segments(o, &r, false);
        op_rnn_emit_projection(o, bias, "t0", "len");
        emit_open(p, "for (int64_t t = t0; t < t0 + len; t++)");
    } else {
        emit_open(p, "for (int64_t t = 0; t < T; t++)");
    }
    emit_line(p, "seqrt_real *zt = z + %s * B * UNITS;", zi);
    emit_line(p, "const seqrt_real *hp = h + t * B * UNITS;");
    emit_line(p, "seqrt_real *ht = h + (t + 1) * B * UNITS;");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)B, UNITS, UNITS, 1, %s, UNITS, recurrent_kernel, UNITS, 1, zt, "
            "UNITS);", op_rnn_recurrent_in(o, &r, false));
    if (r.masked) {
        emit_comment(p, "a padded step keeps the previous state");
        emit_line(p, "for (int64_t b = 0; b < B; b++)");
        emit_line(p, "    for (int64_t j = 0; j < UNITS; j++)");
        emit_line(p, "        ht[b * UNITS + j] = %s ? %s : hp[b * UNITS + j];", r.mt,
                  lower_act_expr(o, r.act, arena_printf(o->a, "zt[b * %lld + j]", U)));
    } else {
        emit_line(p, "for (int64_t i = 0; i < B * UNITS; i++) ht[i] = %s;",
                  lower_act_expr(o, r.act, "zt[i]"));
    }
    emit_close(p, NULL);
    if (r.seg)
        emit_close(p, NULL);
    op_rnn_emit_outputs(o, &r, states, 1);
}

static void backward_steps(LowerOp *o, const RnnShape *rp);

static void backward(LowerOp *o)
{
    Printer *p = o->p;
    RnnShape r;
    shape(o, &r);
    long long U = r.U;
    static const char *const dstates[] = {"dh"};
    op_rnn_emit_grad_init(o, &r, dstates, 1);
    if (fused(&r)) {
        emit_comment(p, "back through time: dz_t = dh_t tanh'(.), dh_{t-1} = dz_t "
                        "recurrent_kernel^T,");
        emit_comment(p, "every step fused: the product tile by tile with the next step's dz");
        if (r.seg) {
            op_rnn_open_segments(o, &r, true);
            emit_line(p,
                    "seqrt_rnn_backward((int)len, (int)B, UNITS, recurrent_kernel, rt, z, h + t0 "
                    "* B * UNITS, %s, T * UNITS, dh);", r.seq ? "d_y0 + t0 * UNITS" : "NULL");
        } else {
            emit_line(p,
                    "seqrt_rnn_backward((int)T, (int)B, UNITS, recurrent_kernel, rt, z, h, %s, T "
                    "* UNITS, dh);", r.seq ? "d_y0" : "NULL");
        }
    } else {
        op_rnn_emit_rt(o, "recurrent_kernel", U, U);
        backward_steps(o, &r);
    }
    if (r.seg) {
        emit_comment(p, "the segment's weight and input gradients");
        emit_line(p,
                "seqrt_gemm(1, 0, UNITS, UNITS, (int)(len * B), 1, %s + t0 * B * UNITS, UNITS, z, "
                "UNITS, 1, d_recurrent_kernel, UNITS);", op_rnn_seen_states(&r));
        op_rnn_emit_range_grads(o, &r, "z", r.bias ? "d_bias" : NULL, "t0", "len");
        emit_close(p, NULL);
        op_rnn_emit_state_grads(o, dstates, 1);
        return;
    }
    emit_comment(p, "d_recurrent_kernel += h[0..T-1]^T dz");
    emit_line(p,
            "seqrt_gemm(1, 0, UNITS, UNITS, (int)(T * B), 1, %s, UNITS, z, UNITS, 1, "
            "d_recurrent_kernel, UNITS);", op_rnn_seen_states(&r));
    op_rnn_emit_input_grads(o, &r, "z", r.bias ? "d_bias" : NULL, dstates, 1);
}

/* Back through time step by step (seqrt_gemm and a loop); with segments,
 * opens the segment loop the caller closes. */
static void backward_steps(LowerOp *o, const RnnShape *rp)
{
    Printer *p = o->p;
    const RnnShape r = *rp;
    long long U = r.U;
    const char *zi = r.seg ? "(t - t0)" : "t";
    emit_comment(p, "back through time: dz_t = dh_t %s'(.), dh_{t-1} = dz_t recurrent_kernel^T",
                 r.act);
    if (r.seg) {
        op_rnn_open_segments(o, &r, true);
        emit_open(p, "for (int64_t t = t0 + len - 1; t >= t0; t--)");
    } else {
        emit_open(p, "for (int64_t t = T - 1; t >= 0; t--)");
    }
    op_rnn_emit_grad_step(o, &r);
    emit_line(p, "seqrt_real *dz = z + %s * B * UNITS; /* z now holds dz */", zi);
    emit_line(p, "const seqrt_real *ht = h + (t + 1) * B * UNITS;");
    if (r.masked) {
        emit_comment(p, "a padded step passes dh through untouched and gets no gradient itself");
        emit_open(p, "for (int64_t b = 0; b < B; b++)");
        emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
        emit_line(p, "const int64_t i = b * UNITS + j;");
        emit_line(p, "if (%s) { dz[i] = 0; continue; }", r.mf);
        emit_line(p, "dz[i] = dh[i] * %s;", lower_dact_expr(o, r.act, "ht[i]"));
        emit_line(p, "dh[i] = 0;");
        emit_close(p, NULL);
        emit_close(p, NULL);
    } else {
        emit_open(p, "for (int64_t i = 0; i < B * UNITS; i++)");
        emit_line(p, "dz[i] = dh[i] * %s;", lower_dact_expr(o, r.act, "ht[i]"));
        emit_line(p, "dh[i] = 0;");
        emit_close(p, NULL);
    }
    op_rnn_dh_gemm(o, &r, "dz", U, "recurrent_kernel", U, U);
    emit_close(p, NULL);
}

/* One step: h = act(x W + b + h U); every output is h. */
static void step(InferOp *o)
{
    const IrLayer *l = o->layer;
    long long D = l->params[0].shape[0], U = l->params[1].shape[0];
    const char *h = infer_state(o, "h", U, "hidden state");
    const char *z = infer_state(o, "z", U, "scratch");
    if (l->n_params > 2)
        emit_line(o->p, "memcpy(%s, bias, sizeof(float) * %lld);", z, U);
    infer_matvec(o, z, "x0", "kernel", D, U, U, l->n_params > 2);
    infer_matvec(o, z, h, "recurrent_kernel", U, U, U, true);
    emit_line(o->p, "for (int j = 0; j < %lld; j++) %s[j] = %s(%s[j]);", U, h,
              infer_act_fn(l->attrs[op_attr_index(l->op, "activation")].s), z);
    for (int k = 0; k < o->node->n_out; k++)
        emit_line(o->p, "memcpy(y%d, %s, sizeof(float) * %lld);", k, h, U);
}

const OpInfo op_simple_rnn = {
    .name = "SimpleRNN", .keras_name = "simple_rnn", .state_names = "h",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .recurrent = true, .infer = infer,
    .plan = plan, .forward = forward, .backward = backward,
    .unsupported = op_rnn_unsupported,
    .step = step, .step_unsupported = op_rnn_step_unsupported,
    .keras_value = op_rnn_keras_value,
    .mask = MASK_PROPAGATE, .mask_rule = op_rnn_mask_rule,
};
