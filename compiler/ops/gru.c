/*
 * GRU (KERAS-SEMANTICS 2.3): blocks [z, r, h] in kernel [D, 3u] and
 * recurrent_kernel [u, 3u]. reset_after=true (the Keras 2.x/3 default):
 * bias [2, 3u] (input row, recurrent row), params 3u(D + u + 2);
 * reset_after=false: bias [3u], params 3u(D + u + 1). States: [h].
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
    {"reset_after", ATTR_BOOL, false, 1, 0, NULL, NULL},
};

static bool infer(InferCtx *c)
{
    static const char *const states[] = {"h"};
    if (!op_rnn_infer(c, 3, 1, states))
        return false;
    if (op_bool(c, "use_bias")) {
        long long u3 = 3 * op_int(c, "units");
        if (op_bool(c, "reset_after")) {
            long long b[2] = {2, u3};
            op_param(c, "bias", 2, b, op_init(c, "bias_initializer"));
        } else {
            long long b[1] = {u3};
            op_param(c, "bias", 1, b, op_init(c, "bias_initializer"));
        }
    }
    return true;
}

static bool reset_after(const LowerOp *o)
{
    return o->layer->attrs[op_attr_index(o->layer->op, "reset_after")].i != 0;
}

/* Checkpointed BPTT (seqc --bptt-checkpoint), reset_after=true: z and hh
 * hold one segment of S steps. h is kept whole, so a segment's gates are
 * recomputed without a sequential pass: its input projection, and
 * hh = h_{t-1} recurrent_kernel + b_h for all its steps in one GEMM.
 * reset_after=false keeps every step (plan.c prints a note). */
static const char *bptt_unsupported(const IrLayer *l)
{
    return l->attrs[op_attr_index(l->op, "reset_after")].i ? NULL : "GRU(reset_after=false)";
}

static void shape(LowerOp *o, RnnShape *r)
{
    op_rnn_shape(o, 3, r);
    r->seg = reset_after(o) ? o->bptt_segment : 0;
}

/* reset_after with Keras's default activations, without a mask or
 * recurrent dropout, runs as whole sequences through the fused steps
 * (seqrt_gru_forward/backward, runtime/src/rnn_step.c), as the LSTM does;
 * anything else steps through seqrt_gemm and the gate loops below. Masked
 * layers keep the per-step code. Measured on W6 (bench/RESULTS.md). */
enum { GRU_EMIT_FUSED = 1 };

static bool fused(const LowerOp *o, const RnnShape *r)
{
    return GRU_EMIT_FUSED && reset_after(o) && !strcmp(r->rec, "sigmoid") && !strcmp(r->act, "tanh") &&
           !r->masked && r->rd <= 0;
}

/* reset_after=false under the same conditions: seqrt_gru_before_forward/
 * backward, two products a step (U_zr, then U_n on s = r h). */
static bool fused_before(const LowerOp *o, const RnnShape *r)
{
    return !reset_after(o) && !strcmp(r->rec, "sigmoid") && !strcmp(r->act, "tanh") &&
           !r->masked && r->rd <= 0;
}

static void plan(LowerOp *o)
{
    RnnShape r;
    shape(o, &r);
    op_rnn_plan(o, &r);
    if (reset_after(o)) {
        if (r.seg)
            lower_scratch(o, "hh", "%s * B * %lld", op_rnn_segment(o, &r), 3 * r.U);
        else
            lower_scratch(o, "hh", "T * B * %lld", 3 * r.U);
    } else {
        lower_scratch(o, "s", "T * B * %lld", r.U);
        if (!fused_before(o, &r)) {
            lower_scratch(o, "hzr", "B * %lld", 2 * r.U);
            lower_scratch(o, "hn", "B * %lld", r.U);
        }
    }
}

/* The elementwise half of a reset_after step: the gates from zt (input
 * part) and hht (recurrent part), kept in zt for backward; h_t into ht
 * when write_h (the recomputation has h already). */
static void emit_gates_after(LowerOp *o, const RnnShape *r, bool write_h)
{
    Printer *p = o->p;
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 3 * UNITS;");
    emit_line(p, "const seqrt_real *q = hht + b * 3 * UNITS;");
    emit_line(p, "const seqrt_real zg = %s;", lower_act_expr(o, r->rec, "g[j] + q[j]"));
    emit_line(p, "const seqrt_real rg = %s;",
              lower_act_expr(o, r->rec, arena_printf(o->a, "g[UNITS + j] + q[UNITS + j]")));
    emit_line(p, "const seqrt_real ng = %s;",
              lower_act_expr(o, r->act, arena_printf(o->a,
                                                     "g[2 * UNITS + j] + rg * q[2 * UNITS + j]")));
    if (write_h) {
        if (r->masked) /* a padded step keeps the state */
            emit_line(p,
                    "ht[b * UNITS + j] = %s ? zg * hp[b * UNITS + j] + (1 - zg) * ng : hp[b * "
                    "UNITS + j];", r->mt);
        else
            emit_line(p, "ht[b * UNITS + j] = zg * hp[b * UNITS + j] + (1 - zg) * ng;");
    }
    emit_line(p, "g[j] = zg; g[UNITS + j] = rg; g[2 * UNITS + j] = ng; /* for backward */");
    emit_close(p, NULL);
    emit_close(p, NULL);
}

/* reset_after=true: [hz hr hn] = h_{t-1} U + b_h; z = rec(xz + hz),
 * r = rec(xr + hr), n = act(xn + r hn); h_t = z h_{t-1} + (1 - z) n. */
static void forward_after(LowerOp *o, const RnnShape *r)
{
    Printer *p = o->p;
    const char *zi = r->seg ? "(t - t0)" : "t";
    emit_comment(p, "[hz hr hn] = h_{t-1} recurrent_kernel + b_h; z, r = %s; n = %s(xn + r hn);",
                 r->rec, r->act);
    emit_comment(p, "h_t = z h_{t-1} + (1 - z) n");
    if (fused(o, r)) {
        const char *bh = r->bias ? "bias + 3 * UNITS" : "NULL";
        emit_comment(p, "every step, fused: the recurrent product tile by tile with the gates");
        if (r->seg) {
            op_rnn_open_segments(o, r, false);
            op_rnn_emit_projection(o, r->bias ? "bias" : NULL, "t0", "len");
            emit_line(p,
                    "seqrt_gru_forward((int)len, (int)B, UNITS, recurrent_kernel, %s, rt, z, hh, "
                    "h + t0 * B * UNITS);", bh);
            emit_close(p, NULL);
        } else {
            emit_line(p,
                    "seqrt_gru_forward((int)T, (int)B, UNITS, recurrent_kernel, %s, rt, z, hh, h);",
                    bh);
        }
        return;
    }
    if (r->seg) {
        op_rnn_open_segments(o, r, false);
        op_rnn_emit_projection(o, r->bias ? "bias" : NULL, "t0", "len");
        emit_open(p, "for (int64_t t = t0; t < t0 + len; t++)");
    } else {
        emit_open(p, "for (int64_t t = 0; t < T; t++)");
    }
    emit_line(p, "seqrt_real *zt = z + %s * B * 3 * UNITS, *hht = hh + %s * B * 3 * UNITS;", zi,
              zi);
    emit_line(p, "const seqrt_real *hp = h + t * B * UNITS;");
    emit_line(p, "seqrt_real *ht = h + (t + 1) * B * UNITS;");
    if (r->bias) {
        emit_line(p, "for (int64_t b = 0; b < B; b++)");
        emit_line(p,
                "    memcpy(hht + b * 3 * UNITS, bias + 3 * UNITS, sizeof(seqrt_real) * 3 * "
                "UNITS);");
    }
    emit_line(p,
            "seqrt_gemm(0, 0, (int)B, 3 * UNITS, UNITS, 1, %s, UNITS, recurrent_kernel, 3 * UNITS, "
            "%d, hht, 3 * UNITS);", op_rnn_recurrent_in(o, r, false), r->bias ? 1 : 0);
    emit_gates_after(o, r, true);
    emit_close(p, NULL);
    if (r->seg)
        emit_close(p, NULL);
}

/* Back through steps t0 + len - 1 .. t0 of a reset_after GRU, step by
 * step through seqrt_gemm and the gate loop. */
static void emit_backward_after_loop(LowerOp *o, const RnnShape *r, const char *t0,
                                     const char *len)
{
    Printer *p = o->p;
    long long U = r->U;
    const char *zi = r->seg ? "(t - t0)" : "t";
    if (r->seg)
        emit_open(p, "for (int64_t t = %s + %s - 1; t >= %s; t--)", t0, len, t0);
    else
        emit_open(p, "for (int64_t t = T - 1; t >= 0; t--)");
    op_rnn_emit_grad_step(o, r);
    emit_line(p, "seqrt_real *zt = z + %s * B * 3 * UNITS, *hht = hh + %s * B * 3 * UNITS;", zi,
              zi);
    emit_line(p, "const seqrt_real *hp = h + t * B * UNITS;");
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 3 * UNITS, *q = hht + b * 3 * UNITS;");
    if (r->masked)
        emit_line(p,
                "if (%s) { g[j] = g[UNITS + j] = g[2 * UNITS + j] = q[j] = q[UNITS + j] = q[2 * "
                "UNITS + j] = 0; continue; }",
                  r->mf);
    emit_line(p,
            "const seqrt_real zg = g[j], rg = g[UNITS + j], ng = g[2 * UNITS + j], hn = q[2 * "
            "UNITS + j];");
    emit_line(p, "const seqrt_real dhv = dh[b * UNITS + j];");
    emit_line(p, "const seqrt_real az = dhv * (hp[b * UNITS + j] - ng) * %s;", lower_dact_expr(o,
            r->rec, "zg"));
    emit_line(p, "const seqrt_real an = dhv * (1 - zg) * %s;", lower_dact_expr(o, r->act, "ng"));
    emit_line(p, "const seqrt_real ar = an * hn * %s;", lower_dact_expr(o, r->rec, "rg"));
    emit_line(p, "g[j] = az; g[UNITS + j] = ar; g[2 * UNITS + j] = an;");
    emit_line(p, "q[j] = az; q[UNITS + j] = ar; q[2 * UNITS + j] = an * rg;");
    emit_line(p, "dh[b * UNITS + j] = dhv * zg;");
    emit_close(p, NULL);
    emit_close(p, NULL);
    op_rnn_dh_gemm(o, r, "hht", 3 * U, "recurrent_kernel", 3 * U, 3 * U);
    emit_close(p, NULL);
}

/* Back through steps t0 + len - 1 .. t0 of a reset_after GRU (fused, or
 * the loop above), then its recurrent weight gradients over those steps'
 * rows. */
static void emit_backward_after_steps(LowerOp *o, const RnnShape *r, const char *t0,
                                      const char *len)
{
    Printer *p = o->p;
    const char *rows = r->seg ? arena_printf(o->a, "%s * B", len) : "T * B";
    const char *seen = r->seg ? arena_printf(o->a, "%s + %s * B * UNITS", op_rnn_seen_states(r), t0)
                              : op_rnn_seen_states(r);
    if (fused(o, r)) {
        const char *dy = !r->seq ? "NULL" : !r->seg ? "d_y0"
                                                  : arena_printf(o->a, "d_y0 + %s * UNITS", t0);
        emit_comment(p, "every step, fused: dh_{t-1} = dh z + dzh_t recurrent_kernel^T tile by tile");
        emit_comment(p, "with step t-1's gates");
        emit_line(p,
                "seqrt_gru_backward((int)(%s), (int)B, UNITS, recurrent_kernel, rt, z, hh, %s, %s, "
                "T * UNITS, dh);", r->seg ? len : "T", seen, dy);
    } else {
        emit_backward_after_loop(o, r, t0, len);
    }
    emit_comment(p, "d_recurrent_kernel += h[0..T-1]^T dzh; the recurrent bias row gets sum dzh");
    emit_line(p,
            "seqrt_gemm(1, 0, UNITS, 3 * UNITS, (int)(%s), 1, %s, UNITS, hh, 3 * UNITS, 1, "
            "d_recurrent_kernel, 3 * UNITS);", rows, seen);
    if (r->bias) {
        emit_line(p, "seqrt_add_rows(%s, 3 * UNITS, hh, d_bias + 3 * UNITS);", rows);
    }
}

static void backward_after(LowerOp *o, const RnnShape *r)
{
    Printer *p = o->p;
    long long U = r->U;
    if (!fused(o, r))
        op_rnn_emit_rt(o, "recurrent_kernel", 3 * U, 3 * U);
    emit_comment(p,
                 "back through time: az = dh (h_{t-1} - n) z', an = dh (1 - z) n', ar = an hn r';");
    emit_comment(p,
            "input part [az ar an], recurrent part [az ar an r]; dh_{t-1} = dh z + rec part U^T");
    if (!r->seg) {
        emit_backward_after_steps(o, r, "0", "T");
        return;
    }
    op_rnn_open_segments(o, r, true);
    emit_comment(p,
            "recompute the segment's gates: its input projection, and h_{t-1} recurrent_kernel");
    emit_comment(p, "+ b_h for all its steps at once (h is kept)");
    op_rnn_emit_projection(o, r->bias ? "bias" : NULL, "t0", "len");
    if (r->bias) {
        emit_line(p, "for (int64_t n = 0; n < len * B; n++)");
        emit_line(p,
                "    memcpy(hh + n * 3 * UNITS, bias + 3 * UNITS, sizeof(seqrt_real) * 3 * "
                "UNITS);");
    }
    emit_line(p,
            "seqrt_gemm(0, 0, (int)(len * B), 3 * UNITS, UNITS, 1, %s + t0 * B * UNITS, UNITS, "
            "recurrent_kernel, 3 * UNITS, %d, hh, 3 * UNITS);", op_rnn_seen_states(r),
            r->bias ? 1 : 0);
    emit_open(p, "for (int64_t t = t0; t < t0 + len; t++)");
    emit_line(p, "seqrt_real *zt = z + (t - t0) * B * 3 * UNITS;");
    emit_line(p, "const seqrt_real *hht = hh + (t - t0) * B * 3 * UNITS;");
    emit_gates_after(o, r, false);
    emit_close(p, NULL);
    emit_backward_after_steps(o, r, "t0", "len");
    emit_comment(p, "the segment's input gradients");
    op_rnn_emit_range_grads(o, r, "z", r->bias ? "d_bias" : NULL, "t0", "len");
    emit_close(p, NULL);
}

/* reset_after=false (Keras <= 2.3): z, r = rec(x W + h U_zr + b);
 * s = r h_{t-1}; n = act(xn + s U_h); h_t = z h_{t-1} + (1 - z) n. */
static void forward_before(LowerOp *o, const RnnShape *r)
{
    Printer *p = o->p;
    long long U = r->U;
    emit_comment(p, "z, r = %s(x W + h_{t-1} U_zr + b); s = r h_{t-1}; n = %s(xn + s U_h + b_h);",
                 r->rec, r->act);
    emit_comment(p, "h_t = z h_{t-1} + (1 - z) n");
    if (fused_before(o, r)) {
        emit_comment(p, "every step, fused: each product tile by tile with its gates");
        emit_line(p, "seqrt_gru_before_forward((int)T, (int)B, UNITS, recurrent_kernel, rt, z, s, h);");
        return;
    }
    emit_open(p, "for (int64_t t = 0; t < T; t++)");
    emit_line(p, "seqrt_real *zt = z + t * B * 3 * UNITS, *st = s + t * B * UNITS;");
    emit_line(p, "const seqrt_real *hp = h + t * B * UNITS;");
    emit_line(p, "seqrt_real *ht = h + (t + 1) * B * UNITS;");
    const char *hq = op_rnn_recurrent_in(o, r, false);
    emit_line(p,
            "seqrt_gemm(0, 0, (int)B, 2 * UNITS, UNITS, 1, %s, UNITS, recurrent_kernel, 3 * UNITS, "
            "0, hzr, 2 * UNITS);", hq);
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 3 * UNITS;");
    emit_line(p, "g[j] = %s;", lower_act_expr(o, r->rec, arena_printf(o->a,
            "g[j] + hzr[b * 2 * UNITS + j]")));
    emit_line(p, "g[UNITS + j] = %s;",
              lower_act_expr(o, r->rec, arena_printf(o->a, "g[%lld + j] + hzr[b * %lld + %lld + j]",
                                                     U, 2 * U, U)));
    emit_line(p, "st[b * UNITS + j] = g[UNITS + j] * %s[b * UNITS + j];", hq);
    emit_close(p, NULL);
    emit_close(p, NULL);
    emit_line(p,
            "seqrt_gemm(0, 0, (int)B, UNITS, UNITS, 1, st, UNITS, recurrent_kernel + 2 * UNITS, 3 "
            "* UNITS, 0, hn, UNITS);");
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 3 * UNITS;");
    emit_line(p, "const seqrt_real ng = %s;",
              lower_act_expr(o, r->act, arena_printf(o->a,
                                                     "g[2 * UNITS + j] + hn[b * UNITS + j]")));
    if (r->masked)
        emit_line(p,
                "ht[b * UNITS + j] = %s ? g[j] * hp[b * UNITS + j] + (1 - g[j]) * ng : hp[b * "
                "UNITS + j];", r->mt);
    else
        emit_line(p, "ht[b * UNITS + j] = g[j] * hp[b * UNITS + j] + (1 - g[j]) * ng;");
    emit_line(p, "g[2 * UNITS + j] = ng; /* for backward */");
    emit_close(p, NULL);
    emit_close(p, NULL);
    emit_close(p, NULL);
}

static void emit_before_weight_grads(LowerOp *o, const RnnShape *r);

static void backward_before(LowerOp *o, const RnnShape *r)
{
    Printer *p = o->p;
    long long U = r->U;
    emit_comment(p,
                 "back through time: az = dh (h_{t-1} - n) z', an = dh (1 - z) n', ds = an U_h^T,");
    emit_comment(p, "ar = ds h_{t-1} r'; dh_{t-1} = dh z + ds r + [az ar] U_zr^T");
    if (fused_before(o, r)) {
        emit_comment(p, "every step, fused: each product tile by tile with its gates");
        emit_line(p,
                "seqrt_gru_before_backward((int)T, (int)B, UNITS, recurrent_kernel, rt, z, h, %s, "
                "T * UNITS, dh);", r->seq ? "d_y0" : "NULL");
        emit_before_weight_grads(o, r);
        return;
    }
    op_rnn_emit_rt(o, "recurrent_kernel", 2 * U, 3 * U);
    emit_open(p, "for (int64_t t = T - 1; t >= 0; t--)");
    op_rnn_emit_grad_step(o, r);
    emit_line(p, "seqrt_real *zt = z + t * B * 3 * UNITS;");
    emit_line(p, "const seqrt_real *hp = h + t * B * UNITS;");
    const char *hq = op_rnn_recurrent_in(o, r, true);
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 3 * UNITS;");
    if (r->masked)
        emit_line(p, "if (%s) { g[j] = g[2 * UNITS + j] = 0; continue; }", r->mf);
    emit_line(p, "const seqrt_real zg = g[j], ng = g[2 * UNITS + j], dhv = dh[b * UNITS + j];");
    emit_line(p, "g[j] = dhv * (hp[b * UNITS + j] - ng) * %s;", lower_dact_expr(o, r->rec, "zg"));
    emit_line(p, "g[2 * UNITS + j] = dhv * (1 - zg) * %s;", lower_dact_expr(o, r->act, "ng"));
    emit_line(p, "dh[b * UNITS + j] = dhv * zg;");
    emit_close(p, NULL);
    emit_close(p, NULL);
    emit_line(p,
            "seqrt_gemm(0, 1, (int)B, UNITS, UNITS, 1, zt + 2 * UNITS, 3 * UNITS, recurrent_kernel "
            "+ 2 * UNITS, 3 * UNITS, 0, hn, UNITS); /* ds */");
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t j = 0; j < UNITS; j++)");
    emit_line(p, "seqrt_real *g = zt + b * 3 * UNITS;");
    emit_line(p, "const seqrt_real rg = g[UNITS + j], ds = hn[b * UNITS + j];");
    emit_line(p, "dh[b * UNITS + j] += ds * rg%s;", r->rd > 0 ? arena_printf(o->a,
            " * mh[b * %lld + j]", U) : "");
    emit_line(p, "g[UNITS + j] = ds * %s[b * UNITS + j] * %s;", hq, lower_dact_expr(o, r->rec,
            "rg"));
    emit_close(p, NULL);
    emit_close(p, NULL);
    op_rnn_dh_gemm(o, r, "zt", 3 * U, "recurrent_kernel", 2 * U, 3 * U);
    emit_close(p, NULL);
    emit_before_weight_grads(o, r);
}

/* reset_after=false's recurrent weight gradients, from z ([az ar an]) and
 * s after the steps. */
static void emit_before_weight_grads(LowerOp *o, const RnnShape *r)
{
    Printer *p = o->p;
    emit_comment(p, "d_recurrent_kernel: [:, :2u] += h[0..T-1]^T [az ar]; [:, 2u:] += s^T an");
    emit_line(p,
            "seqrt_gemm(1, 0, UNITS, 2 * UNITS, (int)(T * B), 1, %s, UNITS, z, 3 * UNITS, 1, "
            "d_recurrent_kernel, 3 * UNITS);", op_rnn_seen_states(r));
    emit_line(p,
            "seqrt_gemm(1, 0, UNITS, UNITS, (int)(T * B), 1, s, UNITS, z + 2 * UNITS, 3 * UNITS, "
            "1, d_recurrent_kernel + 2 * UNITS, 3 * UNITS);");
}

static void forward(LowerOp *o)
{
    RnnShape r;
    shape(o, &r);
    static const char *const states[] = {"h"};
    if (r.seg)
        op_rnn_emit_xt(o, &r); /* the projection goes segment by segment */
    else
        op_rnn_emit_inputs(o, &r, r.bias ? "bias" : NULL);
    op_rnn_emit_initial(o, "h", 0);
    if (reset_after(o))
        forward_after(o, &r);
    else
        forward_before(o, &r);
    op_rnn_emit_outputs(o, &r, states, 1);
}

static void backward(LowerOp *o)
{
    RnnShape r;
    shape(o, &r);
    static const char *const dstates[] = {"dh"};
    op_rnn_emit_grad_init(o, &r, dstates, 1);
    if (reset_after(o))
        backward_after(o, &r);
    else
        backward_before(o, &r);
    if (r.seg) /* the input gradients went segment by segment */
        op_rnn_emit_state_grads(o, dstates, 1);
    else
        op_rnn_emit_input_grads(o, &r, "z", r.bias ? "d_bias" : NULL, dstates, 1);
}

/* One step of either GRU form (see forward_after / forward_before). */
static void step(InferOp *o)
{
    const IrLayer *l = o->layer;
    long long D = l->params[0].shape[0], U = l->params[1].shape[0];
    bool bias = l->n_params > 2, after = l->attrs[op_attr_index(l->op, "reset_after")].i;
    const char *act = infer_act_fn(l->attrs[op_attr_index(l->op, "activation")].s);
    const char *rec = infer_act_fn(l->attrs[op_attr_index(l->op, "recurrent_activation")].s);
    const char *h = infer_state(o, "h", U, "hidden state");
    const char *xz = infer_state(o, "xz", 3 * U, "scratch: x W + b_x");
    const char *hz = infer_state(o, "hz", 3 * U, "scratch: h U (+ b_h)");
    if (bias)
        emit_line(o->p, "memcpy(%s, bias, sizeof(float) * %lld);", xz, 3 * U);
    infer_matvec(o, xz, "x0", "kernel", D, 3 * U, 3 * U, bias);
    if (after) {
        if (bias)
            emit_line(o->p, "memcpy(%s, bias + %lld, sizeof(float) * %lld);", hz, 3 * U, 3 * U);
        infer_matvec(o, hz, h, "recurrent_kernel", U, 3 * U, 3 * U, bias);
        emit_open(o->p, "for (int j = 0; j < %lld; j++)", U);
        emit_line(o->p, "const float zg = %s(%s[j] + %s[j]), rg = %s(%s[%lld + j] + %s[%lld + j]);",
                  rec, xz, hz, rec, xz, U, hz, U);
        emit_line(o->p, "const float ng = %s(%s[%lld + j] + rg * %s[%lld + j]);", act, xz, 2 * U,
                  hz, 2 * U);
        emit_line(o->p, "%s[j] = zg * %s[j] + (1 - zg) * ng;", h, h);
        emit_close(o->p, NULL);
    } else {
        infer_matvec(o, hz, h, "recurrent_kernel", U, 2 * U, 3 * U, false);
        emit_comment(o->p, "z, r; then s = r h into hz[2u:]; n = act(xn + s U_h)");
        emit_open(o->p, "for (int j = 0; j < %lld; j++)", U);
        emit_line(o->p, "%s[j] = %s(%s[j] + %s[j]);", xz, rec, xz, hz);
        emit_line(o->p, "%s[%lld + j] = %s(%s[%lld + j] + %s[%lld + j]) * %s[j];", hz, 2 * U, rec,
                  xz, U, hz, U, h);
        emit_close(o->p, NULL);
        infer_matvec(o, arena_printf(o->a, "(%s + %lld)", xz, 2 * U), arena_printf(o->a,
                "(%s + %lld)", hz, 2 * U),
                     arena_printf(o->a, "(recurrent_kernel + %lld)", 2 * U), U, U, 3 * U, true);
        emit_open(o->p, "for (int j = 0; j < %lld; j++)", U);
        emit_line(o->p, "const float ng = %s(%s[%lld + j]);", act, xz, 2 * U);
        emit_line(o->p, "%s[j] = %s[j] * %s[j] + (1 - %s[j]) * ng;", h, xz, h, xz);
        emit_close(o->p, NULL);
    }
    for (int k = 0; k < o->node->n_out; k++)
        emit_line(o->p, "memcpy(y%d, %s, sizeof(float) * %lld);", k, h, U);
}

/* tfjs-layers 4.22's GRUCell throws on resetAfter, and no other layer it
 * has applies the reset gate after the recurrent product with its own bias. */
static const char *tfjs_unsupported(const IrLayer *l, const IrNode *n)
{
    (void)n;
    return l->attrs[op_attr_index(l->op, "reset_after")].i
               ? "reset_after=true (Keras 2's default): TensorFlow.js 4.22's GRU has only "
                 "reset_after=false; write GRU(..., reset_after=false) to export it"
               : NULL;
}

const OpInfo op_gru = {
    .name = "GRU", .keras_name = "gru", .state_names = "h",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .recurrent = true, .infer = infer,
    .plan = plan, .forward = forward, .backward = backward,
    .unsupported = op_rnn_unsupported, .bptt_unsupported = bptt_unsupported,
    .step = step, .step_unsupported = op_rnn_step_unsupported,
    .keras_value = op_rnn_keras_value, .tfjs_unsupported = tfjs_unsupported,
    .mask = MASK_PROPAGATE, .mask_rule = op_rnn_mask_rule,
};
