/*
 * rnn.c: the shape rule SimpleRNN, LSTM and GRU share (KERAS-SEMANTICS 2).
 * Input [T, D]. Output [T, u] with return_sequences, else [u]; with
 * return_state, then one [u] per state (LSTM: h, c; others: h).
 */
#include <string.h>

#include "lower.h"
#include "ops.h"
#include "util.h"
#include "rnn.h"

bool op_rnn_infer(InferCtx *c, int gates, int n_states, const char *const *state_names)
{
    if (!op_need_rank(c, 0, 2, "a sequence [time, features]"))
        return false;
    long long u = op_int(c, "units");
    if (u <= 0)
        return op_error(c, "%s needs units > 0, got %lld", c->layer->op->name, u);
    double dr = op_float(c, "dropout"), rdr = op_float(c, "recurrent_dropout");
    if (dr < 0 || dr >= 1 || rdr < 0 || rdr >= 1)
        return op_error(c, "dropout rates must be in [0, 1)");
    const Shape *x = c->in[0];
    if (x->d[1].sym)
        return op_error_input(c, 0, "the feature axis of a recurrent layer's input must be fixed");
    long long D = x->d[1].n;
    if (!strcmp(op_str(c, "activation"), "softmax"))
        return op_error(c, "a recurrent layer's activation cannot be softmax");
    if (op_attr_index(c->layer->op, "recurrent_activation") >= 0 &&
        !strcmp(op_str(c, "recurrent_activation"), "softmax"))
        return op_error(c, "a recurrent layer's recurrent_activation cannot be softmax");

    if (c->layer->built) {
        long long D0 = c->layer->params[0].shape[0];
        if (D0 != D)
            return op_error_input(c, 0, "layer '%s' was built for %lld input features, "
                                  "but this call gives it %lld", c->layer->name, D0, D);
    }
    for (int k = 0; k < c->n_state; k++) {
        const Shape *s = c->state[k];
        if (s->rank != 1 || s->d[0].sym || s->d[0].n != u) {
            char sb[96], ob[160];
            diag_error(c->diag, c->node->span,
                       "initial state '%s' of %s(%lld) must have shape (None, %lld), but it is %s",
                       state_names[k], c->layer->op->name, u, u, shape_str(s, sb, sizeof sb));
            diag_note(c->diag, c->node->state[k]->span, "that state is the %s",
                      tensor_origin(c->node->state[k], ob, sizeof ob));
            return false;
        }
    }
    if (c->n_state != 0 && c->n_state != n_states)
        return op_error(c, "%s takes %d initial state%s (%s%s%s), but %d %s given",
                        c->layer->op->name, n_states, n_states == 1 ? "" : "s",
                        state_names[0], n_states > 1 ? ", " : "",
                        n_states > 1 ? state_names[1] : "", c->n_state,
                        c->n_state == 1 ? "was" : "were");

    long long kshape[2] = {D, gates * u}, rshape[2] = {u, gates * u};
    op_param(c, "kernel", 2, kshape, op_init(c, "kernel_initializer"));
    op_param(c, "recurrent_kernel", 2, rshape, op_init(c, "recurrent_initializer"));

    Shape seq = {.rank = 2, .d = {x->d[0], dim_fixed(u)}};
    Shape vec = {.rank = 1, .d = {dim_fixed(u)}};
    c->out[0] = op_bool(c, "return_sequences") ? seq : vec;
    c->n_out = 1;
    if (op_bool(c, "return_state"))
        for (int k = 0; k < n_states; k++)
            c->out[c->n_out++] = vec;
    return true;
}

MaskRule op_rnn_mask_rule(const IrLayer *l, int out)
{
    bool seq = l->attrs[op_attr_index(l->op, "return_sequences")].i;
    return out == 0 && seq ? MASK_PROPAGATE : MASK_CONSUME;
}

/* TensorFlow.js runs a stateful layer only with a fixed batch size in the
 * model, and carries its state across predict calls; exported as a plain
 * layer, each predict starts from zero states, as seqc's predict and
 * generate do after reset_states, so the outputs of one call are equal. */
const char *op_rnn_keras_value(const IrLayer *l, int k, Arena *a)
{
    (void)a;
    return !strcmp(l->op->attrs[k].name, "stateful") ? "false" : NULL;
}

const char *op_rnn_step_unsupported(const IrLayer *l)
{
    return l->attrs[op_attr_index(l->op, "go_backwards")].i
               ? "go_backwards reads the sequence from its end" : NULL;
}

/* ---- code generation ---------------------------------------------------- */

void op_rnn_shape(LowerOp *o, int gates, RnnShape *r)
{
    const IrLayer *l = o->layer;
    const OpInfo *op = l->op;
    r->D = l->params[0].shape[0];
    r->U = l->params[1].shape[0];
    r->G = gates;
    /* the names the emitted bodies use for these sizes */
    lower_dim(o, "FEATURES", r->D);
    lower_dim(o, "UNITS", r->U);
    lower_dim(o, "GATES", r->G);
    r->seq = l->attrs[op_attr_index(op, "return_sequences")].i;
    r->state = l->attrs[op_attr_index(op, "return_state")].i;
    r->backwards = l->attrs[op_attr_index(op, "go_backwards")].i;
    r->bias = l->n_params > 2;
    r->stateful = l->attrs[op_attr_index(op, "stateful")].i;
    r->masked = o->node->in[0]->mask != NULL;
    r->zero_masked = r->masked && l->zero_output_for_mask;
    r->mt = r->backwards ? "mask0[b * T + T - 1 - t] != 0" : "mask0[b * T + t] != 0";
    r->mf = r->backwards ? "mask0[b * T + T - 1 - t] == 0" : "mask0[b * T + t] == 0";
    r->xd = l->attrs[op_attr_index(op, "dropout")].f;
    r->rd = l->attrs[op_attr_index(op, "recurrent_dropout")].f;
    r->act = l->attrs[op_attr_index(op, "activation")].s;
    int ra = op_attr_index(op, "recurrent_activation");
    r->rec = ra >= 0 ? l->attrs[ra].s : NULL;
    r->seg = 0;
}

const char *op_rnn_segment(LowerOp *o, const RnnShape *r)
{
    return arena_printf(o->a, "seqrt_bptt_segment(T, %lld)", r->seg);
}

void op_rnn_open_segments(LowerOp *o, const RnnShape *r, bool backward)
{
    emit_line(o->p, "const int64_t S = %s; /* steps per checkpointed segment */", op_rnn_segment(o,
            r));
    if (backward)
        emit_open(o->p, "for (int64_t t0 = (T - 1) / S * S; t0 >= 0; t0 -= S)");
    else
        emit_open(o->p, "for (int64_t t0 = 0; t0 < T; t0 += S)");
    emit_line(o->p, "const int64_t len = T - t0 < S ? T - t0 : S; /* steps in this segment */");
}

void op_rnn_plan(LowerOp *o, const RnnShape *r)
{
    lower_scratch(o, "xt", "T * B * %lld", r->D);
    if (r->seg)
        lower_scratch(o, "z", "%s * B * %lld", op_rnn_segment(o, r), r->G * r->U);
    else
        lower_scratch(o, "z", "T * B * %lld", r->G * r->U);
    lower_scratch(o, "h", "(T + 1) * B * %lld", r->U);
    lower_scratch(o, "dh", "B * %lld", r->U);
    /* the transposed recurrent kernel, or the fused steps' packed one (seqrt_rnn.h) */
    lower_scratch(o, "rt", "SEQRT_RNN_PACK_SIZE(%lld, %d)", r->U, (int)r->G);
    if (r->stateful)
        lower_state(o, "carry_h", "B * %lld", r->U);
    if (r->xd > 0)
        lower_scratch(o, "mx", "B * %lld", r->D);
    if (r->rd > 0) {
        lower_scratch(o, "mh", "B * %lld", r->U);
        lower_scratch(o, "hd", "T * B * %lld", r->U);
        lower_scratch(o, "dhr", "B * %lld", r->U);
    }
}

const char *op_rnn_unsupported(const IrLayer *l)
{
    (void)l;
    return NULL;
}

/* One dropout mask per sequence (Keras reuses it at every step): 1/(1-rate)
 * or 0 while training, 1 otherwise. */
static void emit_dropout_mask(LowerOp *o, const char *mask, long long n, double rate, int salt)
{
    emit_open(o->p, "for (int64_t i = 0; i < B * %lld; i++)", n);
    emit_line(o->p,
              "%s[i] = !training ? 1 : seqrt_hash_uniform((uint64_t)training, stream * 4 + %d, "
              "(uint64_t)i) >= %s ? (seqrt_real)%s : 0;", mask, salt, SEQ_NUM(rate),
              SEQ_NUM(1.0 / (1.0 - rate)));
    emit_close(o->p, NULL);
}

const char *op_rnn_recurrent_in(LowerOp *o, const RnnShape *r, bool backward)
{
    if (r->rd <= 0)
        return "hp";
    if (backward) {
        emit_line(o->p,
                  "const seqrt_real *hq = hd + t * B * UNITS; /* h_{t-1}, recurrent dropout */");
        return "hq";
    }
    emit_line(o->p, "seqrt_real *hq = hd + t * B * UNITS; /* h_{t-1} with recurrent dropout */");
    emit_line(o->p, "for (int64_t i = 0; i < B * UNITS; i++) hq[i] = hp[i] * mh[i];");
    return "hq";
}

void op_rnn_emit_rt(LowerOp *o, const char *b, long long K, long long ldb)
{
    emit_comment(o->p,
                 "rt = the recurrent kernel's [UNITS, %lld] block, transposed, when the per-step",
                 K);
    emit_comment(o->p,
            "product is small enough for seqrt's own kernel (faster without a transposed operand)");
    emit_line(o->p, "const int use_rt = seqrt_gemm_is_small(0, 0, (int)B, UNITS, %lld);", K);
    emit_open(o->p, "if (use_rt)");
    emit_line(o->p, "for (int64_t i = 0; i < UNITS; i++)");
    emit_line(o->p, "    for (int64_t k = 0; k < %lld; k++) rt[k * UNITS + i] = %s[i * %lld + k];",
              K, b, ldb);
    emit_close(o->p, NULL);
}

void op_rnn_dh_gemm(LowerOp *o, const RnnShape *r, const char *a, long long lda, const char *b,
                    long long K, long long ldb)
{
    const char *dst = r->rd > 0 ? "dhr" : "dh";
    const int beta = r->rd > 0 ? 0 : 1;
    emit_line(o->p, "if (use_rt)");
    emit_line(o->p,
              "    seqrt_gemm(0, 0, (int)B, UNITS, %lld, 1, %s, %lld, rt, UNITS, %d, %s, UNITS);",
              K, a, lda, beta, dst);
    emit_line(o->p, "else");
    emit_line(o->p,
              "    seqrt_gemm(0, 1, (int)B, UNITS, %lld, 1, %s, %lld, %s, %lld, %d, %s, UNITS);", K,
              a, lda, b, ldb, beta, dst);
    if (r->rd > 0)
        emit_line(o->p, "for (int64_t i = 0; i < B * UNITS; i++) dh[i] += dhr[i] * mh[i];");
}

const char *op_rnn_seen_states(const RnnShape *r) { return r->rd > 0 ? "hd" : "h"; }

void op_rnn_emit_xt(LowerOp *o, const RnnShape *r)
{
    Printer *p = o->p;
    emit_comment(p, "xt[t, b] = x[b, %s]: time-major, one [B, FEATURES] block per step",
                 r->backwards ? "T - 1 - t" : "t");
    if (r->rd > 0)
        emit_dropout_mask(o, "mh", r->U, r->rd, 1);
    if (r->xd > 0) {
        emit_dropout_mask(o, "mx", r->D, r->xd, 0);
        emit_comment(p, "input dropout: one mask per sequence, the same at every step");
        emit_open(p, "for (int64_t b = 0; b < B; b++)");
        emit_line(p, "for (int64_t t = 0; t < T; t++)");
        emit_line(p, "    for (int64_t i = 0; i < FEATURES; i++)");
        emit_line(p,
                "        xt[(t * B + b) * FEATURES + i] = x0[(b * T + %s) * FEATURES + i] * mx[b * "
                "FEATURES + i];", r->backwards ? "T - 1 - t" : "t");
        emit_close(p, NULL);
    } else {
        emit_open(p, "for (int64_t b = 0; b < B; b++)");
        emit_line(p, "for (int64_t t = 0; t < T; t++)");
        emit_line(p,
                "    memcpy(xt + (t * B + b) * FEATURES, x0 + (b * T + %s) * FEATURES, "
                "sizeof(seqrt_real) * FEATURES);", r->backwards ? "T - 1 - t" : "t");
        emit_close(p, NULL);
    }
}

void op_rnn_emit_projection(LowerOp *o, const char *bias_expr, const char *t0,
                            const char *n)
{
    Printer *p = o->p;
    const char *xs = strcmp(t0, "0") ? arena_printf(o->a, "xt + %s * B * FEATURES", t0) : "xt";
    if (bias_expr) {
        emit_open(p, "for (int64_t n = 0; n < %s * B; n++)", n);
        emit_line(p, "memcpy(z + n * GATES * UNITS, %s, sizeof(seqrt_real) * GATES * UNITS);",
                  bias_expr);
        emit_close(p, NULL);
    }
    emit_comment(p,
            "z[%s*B, GATES * UNITS] %s= xt[%s*B, FEATURES] kernel[FEATURES, GATES * UNITS]: %s "
            "input projection", n, bias_expr ? "+" : "", n,
                 strcmp(n, "T") ? "the segment's" : "every step's");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)(%s * B), GATES * UNITS, FEATURES, 1, %s, FEATURES, kernel, "
            "GATES * UNITS, %d, z, GATES * UNITS);",
              n, xs, bias_expr ? 1 : 0);
}

void op_rnn_emit_inputs(LowerOp *o, const RnnShape *r, const char *bias_expr)
{
    op_rnn_emit_xt(o, r);
    op_rnn_emit_projection(o, bias_expr, "0", "T");
}

void op_rnn_emit_initial(LowerOp *o, const char *buf, int k)
{
    const IrLayer *l = o->layer;
    bool stateful = l->attrs[op_attr_index(l->op, "stateful")].i;
    if (o->node->n_state > k)
        emit_line(o->p, "memcpy(%s, s%d, sizeof(seqrt_real) * B * UNITS);", buf, k);
    else if (stateful)
        emit_line(o->p,
                  "memcpy(%s, carry_%s, sizeof(seqrt_real) * B * UNITS); /* from the last batch */",
                  buf, buf);
    else
        emit_line(o->p, "memset(%s, 0, sizeof(seqrt_real) * B * UNITS);", buf);
}

void op_rnn_emit_outputs(LowerOp *o, const RnnShape *r, const char *const *state_bufs, int n_states)
{
    op_rnn_emit_outputs_final(o, r, state_bufs, NULL, n_states);
}

void op_rnn_emit_outputs_final(LowerOp *o, const RnnShape *r, const char *const *state_bufs,
                               const char *const *finals, int n_states)
{
    Printer *p = o->p;
    if (r->seq && r->zero_masked) {
        emit_comment(p, "y0[b, t] = h[t + 1, b], or 0 at a padded step");
        emit_open(p, "for (int64_t b = 0; b < B; b++)");
        emit_open(p, "for (int64_t t = 0; t < T; t++)");
        emit_line(p,
                "if (%s) memcpy(y0 + (b * T + t) * UNITS, h + ((t + 1) * B + b) * UNITS, "
                "sizeof(seqrt_real) * UNITS);",
                  r->mt);
        emit_line(p, "else memset(y0 + (b * T + t) * UNITS, 0, sizeof(seqrt_real) * UNITS);");
        emit_close(p, NULL);
        emit_close(p, NULL);
    } else if (r->seq) {
        emit_comment(p, "y0[b, t] = h[t + 1, b]: every step, in processing order");
        emit_open(p, "for (int64_t b = 0; b < B; b++)");
        emit_line(p, "for (int64_t t = 0; t < T; t++)");
        emit_line(p,
                "    memcpy(y0 + (b * T + t) * UNITS, h + ((t + 1) * B + b) * UNITS, "
                "sizeof(seqrt_real) * UNITS);");
        emit_close(p, NULL);
    } else {
        emit_line(p,
                "memcpy(y0, h + T * B * UNITS, sizeof(seqrt_real) * B * UNITS); /* the last step "
                "*/");
    }
    const char *fin[4];
    for (int k = 0; k < n_states && k < 4; k++)
        fin[k] = finals && finals[k] ? finals[k]
                                     : arena_printf(o->a, "%s + T * B * UNITS", state_bufs[k]);
    if (r->state)
        for (int k = 0; k < n_states; k++)
            emit_line(p, "memcpy(y%d, %s, sizeof(seqrt_real) * B * UNITS); /* final state */",
                      k + 1, fin[k]);
    if (r->stateful)
        for (int k = 0; k < n_states; k++)
            emit_line(p,
                    "memcpy(carry_%s, %s, sizeof(seqrt_real) * B * UNITS); /* for the next batch "
                    "*/",
                      state_bufs[k], fin[k]);
}

void op_rnn_emit_grad_init(LowerOp *o, const RnnShape *r, const char *const *dbufs, int n_states)
{
    Printer *p = o->p;
    for (int k = 0; k < n_states; k++)
        emit_line(p, "memset(%s, 0, sizeof(seqrt_real) * B * UNITS);", dbufs[k]);
    if (!r->seq)
        emit_line(p, "for (int64_t i = 0; i < B * UNITS; i++) dh[i] += d_y0[i];");
    if (r->state)
        for (int k = 0; k < n_states; k++)
            emit_line(p, "for (int64_t i = 0; i < B * UNITS; i++) %s[i] += d_y%d[i];", dbufs[k],
                      k + 1);
}

void op_rnn_emit_grad_step(LowerOp *o, const RnnShape *r)
{
    if (!r->seq)
        return;
    emit_line(o->p, "for (int64_t b = 0; b < B; b++)");
    if (r->zero_masked)
        emit_line(o->p, "    if (%s)", r->mt);
    emit_line(o->p,
            "%sfor (int64_t j = 0; j < UNITS; j++) dh[b * UNITS + j] += d_y0[(b * T + t) * UNITS + "
            "j];",
              r->zero_masked ? "        " : "    ");
}

void op_rnn_emit_state_grads(LowerOp *o, const char *const *dbufs, int n_states)
{
    Printer *p = o->p;
    for (int k = 0; k < n_states && k < o->node->n_state; k++) {
        if (!o->need_ds[k])
            continue;
        emit_open(p, "if (d_s%d)", k);
        emit_line(p, "for (int64_t i = 0; i < B * UNITS; i++) d_s%d[i] += %s[i];", k, dbufs[k]);
        emit_close(p, NULL);
    }
}

void op_rnn_emit_range_grads(LowerOp *o, const RnnShape *r, const char *dz, const char *dbias_expr,
                             const char *t0, const char *n)
{
    Printer *p = o->p;
    long long D = r->D;
    const bool all = !strcmp(n, "T");
    const char *xs = strcmp(t0, "0") ? arena_printf(o->a, "xt + %s * B * FEATURES", t0) : "xt";
    emit_comment(p, "d_kernel += xt^T dz over all %s*B rows at once", n);
    emit_line(p,
            "seqrt_gemm(1, 0, FEATURES, GATES * UNITS, (int)(%s * B), 1, %s, FEATURES, %s, GATES * "
            "UNITS, 1, d_kernel, GATES * UNITS);", n, xs, dz);
    if (dbias_expr) {
        emit_line(p, "seqrt_add_rows(%s * B, GATES * UNITS, %s, %s);", n, dz, dbias_expr);
    }
    if (!o->need_dx[0])
        return;
    emit_open(p, "if (d_x0)");
    emit_comment(p, "dxt = dz kernel^T (into xt, no longer needed), then back to batch-major");
    emit_line(p,
            "seqrt_gemm(0, 1, (int)(%s * B), FEATURES, GATES * UNITS, 1, %s, GATES * UNITS, "
            "kernel, GATES * UNITS, 0, %s, FEATURES);",
              n, dz, xs);
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    if (all)
        emit_line(p, "for (int64_t t = 0; t < T; t++)");
    else
        emit_line(p, "for (int64_t t = %s; t < %s + %s; t++)", t0, t0, n);
    emit_line(p,
            "    for (int64_t i = 0; i < FEATURES; i++) d_x0[(b * T + %s) * FEATURES + i] += xt[(t "
            "* B + b) * FEATURES + i]%s;", r->backwards ? "T - 1 - t" : "t",
            r->xd > 0 ? arena_printf(o->a, " * mx[b * %lld + i]", D) : "");
    emit_close(p, NULL);
    emit_close(p, NULL);
}

void op_rnn_emit_input_grads(LowerOp *o, const RnnShape *r, const char *dz, const char *dbias_expr,
                             const char *const *dbufs, int n_states)
{
    op_rnn_emit_state_grads(o, dbufs, n_states);
    op_rnn_emit_range_grads(o, r, dz, dbias_expr, "0", "T");
}
