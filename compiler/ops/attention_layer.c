/*
 * AttentionLayer(units): the seeds' additive (Bahdanau) attention,
 * KERAS-SEMANTICS 6.1. Inputs query [1, Hq] (or [Hq], expanded as the
 * tutorial does) and values [Tv, Hv]:
 *   e = V(tanh(W1(q) + W2(values)))   [Tv, 1]
 *   a = softmax(e, axis=time)         [Tv, 1]
 *   context = sum_t a_t values_t      [Hv]
 * Outputs (context, weights). Params (Hq*U + U) + (Hv*U + U) + (U + 1).
 */
#include "lower.h"
#include "ops.h"

static const AttrSpec attrs[] = {
    {"units", ATTR_INT, true, 0, 0, NULL, NULL},
};

static bool infer(InferCtx *c)
{
    const Shape *q = c->in[0], *v = c->in[1];
    long long U = op_int(c, "units");
    if (U <= 0)
        return op_error(c, "AttentionLayer needs units > 0, got %lld", U);
    if (q->rank == 2 && (q->d[0].sym || q->d[0].n != 1))
        return op_error_input(c, 0, "the query of AttentionLayer must be one step, [1, features] "
                              "or [features]; a longer query would broadcast against the values");
    if (!op_need_rank(c, 1, 2, "values [time, features]"))
        return false;
    Dim hq = q->d[q->rank - 1], hv = v->d[1];
    if (hq.sym || hv.sym)
        return op_error(c, "AttentionLayer needs fixed feature axes");
    long long w1[2] = {hq.n, U}, w2[2] = {hv.n, U}, vk[2] = {U, 1}, bu[1] = {U}, b1[1] = {1};
    op_param(c, "W1.kernel", 2, w1, INIT_GLOROT_UNIFORM);
    op_param(c, "W1.bias", 1, bu, INIT_ZEROS);
    op_param(c, "W2.kernel", 2, w2, INIT_GLOROT_UNIFORM);
    op_param(c, "W2.bias", 1, bu, INIT_ZEROS);
    op_param(c, "V.kernel", 2, vk, INIT_GLOROT_UNIFORM);
    op_param(c, "V.bias", 1, b1, INIT_ZEROS);
    c->out[0] = (Shape){.rank = 1, .d = {hv}};
    c->out[1] = (Shape){.rank = 2, .d = {v->d[0], dim_fixed(1)}};
    c->n_out = 2;
    return true;
}

/* ---- code generation ---------------------------------------------------- */

typedef struct {
    long long Hq, Hv, U;
} AttnShape;

static void attn_shape(const LowerOp *o, AttnShape *a)
{
    a->Hq = o->layer->params[0].shape[0];
    a->U = o->layer->params[0].shape[1];
    a->Hv = o->layer->params[2].shape[0];
}

static void plan(LowerOp *o)
{
    AttnShape a;
    attn_shape(o, &a);
    lower_scratch(o, "qw", "B * %lld", a.U);
    lower_scratch(o, "act", "B * T1 * %lld", a.U);
    lower_scratch(o, "e", "B * T1");
}

static void forward(LowerOp *o)
{
    Printer *p = o->p;
    AttnShape a;
    attn_shape(o, &a);
    long long U = a.U, Hq = a.Hq, Hv = a.Hv;
    lower_dim(o, "UNITS", U);
    lower_dim(o, "QUERY_FEATURES", Hq);
    lower_dim(o, "VALUE_FEATURES", Hv);
    emit_comment(p, "qw = q W1 + b1 [B, UNITS]; act = values W2 + b2 [B, Tv, UNITS]");
    emit_line(p,
            "for (int64_t b = 0; b < B; b++) memcpy(qw + b * UNITS, W1_bias, sizeof(seqrt_real) * "
            "UNITS);");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)B, UNITS, QUERY_FEATURES, 1, x0, QUERY_FEATURES, W1_kernel, "
            "UNITS, 1, qw, UNITS);");
    emit_line(p,
            "for (int64_t n = 0; n < B * T1; n++) memcpy(act + n * UNITS, W2_bias, "
            "sizeof(seqrt_real) * UNITS);");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)(B * T1), UNITS, VALUE_FEATURES, 1, x1, VALUE_FEATURES, "
            "W2_kernel, UNITS, 1, act, UNITS);");
    emit_comment(p, "act = tanh(values W2 + q W1), the query broadcast over time; e = act V + bV");
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t t = 0; t < T1; t++)");
    emit_line(p, "seqrt_real *r = act + (b * T1 + t) * UNITS;");
    emit_line(p, "seqrt_real s = V_bias[0];");
    emit_open(p, "for (int64_t u = 0; u < UNITS; u++)");
    emit_line(p, "r[u] = SEQRT_TANH(r[u] + qw[b * UNITS + u]);");
    emit_line(p, "s += r[u] * V_kernel[u];");
    emit_close(p, NULL);
    emit_line(p, "e[b * T1 + t] = s;");
    emit_close(p, NULL);
    emit_comment(p, "weights = softmax over time; context = sum_t weights_t values_t");
    emit_line(p, "seqrt_softmax(y1 + b * T1, e + b * T1, T1);");
    emit_line(p,
            "seqrt_gemv(1, (int)T1, VALUE_FEATURES, 1, x1 + b * T1 * VALUE_FEATURES, "
            "VALUE_FEATURES, y1 + b * T1, 0, y0 + b * VALUE_FEATURES);");
    emit_close(p, NULL);
}

static void backward(LowerOp *o)
{
    Printer *p = o->p;
    AttnShape a;
    attn_shape(o, &a);
    long long U = a.U, Hq = a.Hq, Hv = a.Hv;
    lower_dim(o, "UNITS", U);
    lower_dim(o, "QUERY_FEATURES", Hq);
    lower_dim(o, "VALUE_FEATURES", Hv);
    emit_comment(p,
                 "da = d_weights + values dctx; dvalues += weights dctx; de = w (da - sum w da)");
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_line(p, "seqrt_real *de = e + b * T1;");
    emit_line(p, "const seqrt_real *w = y1 + b * T1;");
    emit_line(p,
            "seqrt_gemv(0, (int)T1, VALUE_FEATURES, 1, x1 + b * T1 * VALUE_FEATURES, "
            "VALUE_FEATURES, d_y0 + b * VALUE_FEATURES, 0, de);");
    emit_line(p, "seqrt_real s = 0;");
    emit_open(p, "for (int64_t t = 0; t < T1; t++)");
    emit_line(p, "de[t] += d_y1[b * T1 + t];");
    emit_line(p, "s += w[t] * de[t];");
    emit_close(p, NULL);
    emit_line(p, "for (int64_t t = 0; t < T1; t++) de[t] = w[t] * (de[t] - s);");
    if (o->need_dx[1]) {
        emit_open(p, "if (d_x1)");
        emit_line(p, "for (int64_t t = 0; t < T1; t++)");
        emit_line(p,
                "    for (int64_t h = 0; h < VALUE_FEATURES; h++) d_x1[(b * T1 + t) * "
                "VALUE_FEATURES + h] += w[t] * d_y0[b * VALUE_FEATURES + h];");
        emit_close(p, NULL);
    }
    emit_close(p, NULL);
    emit_comment(p,
                 "V: d_V_kernel += act^T de, d_V_bias += sum de; then dz = de V^T tanh' (into "
                 "act)");
    emit_line(p, "seqrt_gemv(1, (int)(B * T1), UNITS, 1, act, UNITS, e, 1, d_V_kernel);");
    emit_open(p, "for (int64_t n = 0; n < B * T1; n++)");
    emit_line(p, "d_V_bias[0] += e[n];");
    emit_line(p, "seqrt_real *r = act + n * UNITS;");
    emit_line(p,
              "for (int64_t u = 0; u < UNITS; u++) r[u] = e[n] * V_kernel[u] * (1 - r[u] * r[u]);");
    emit_close(p, NULL);
    emit_comment(p, "W2 over every step; W1 gets dz summed over time (the query was broadcast)");
    emit_line(p,
            "seqrt_gemm(1, 0, VALUE_FEATURES, UNITS, (int)(B * T1), 1, x1, VALUE_FEATURES, act, "
            "UNITS, 1, d_W2_kernel, UNITS);");
    emit_line(p, "memset(qw, 0, sizeof(seqrt_real) * B * UNITS);");
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t t = 0; t < T1; t++)");
    emit_line(p, "const seqrt_real *r = act + (b * T1 + t) * UNITS;");
    emit_line(p,
            "for (int64_t u = 0; u < UNITS; u++) { qw[b * UNITS + u] += r[u]; d_W2_bias[u] += "
            "r[u]; }");
    emit_close(p, NULL);
    emit_line(p, "for (int64_t u = 0; u < UNITS; u++) d_W1_bias[u] += qw[b * UNITS + u];");
    emit_close(p, NULL);
    emit_line(p,
            "seqrt_gemm(1, 0, QUERY_FEATURES, UNITS, (int)B, 1, x0, QUERY_FEATURES, qw, UNITS, 1, "
            "d_W1_kernel, UNITS);");
    if (o->need_dx[1]) {
        emit_open(p, "if (d_x1)");
        emit_line(p,
                "seqrt_gemm(0, 1, (int)(B * T1), VALUE_FEATURES, UNITS, 1, act, UNITS, W2_kernel, "
                "UNITS, 1, d_x1, VALUE_FEATURES);");
        emit_close(p, NULL);
    }
    if (o->need_dx[0]) {
        emit_open(p, "if (d_x0)");
        emit_line(p,
                "seqrt_gemm(0, 1, (int)B, QUERY_FEATURES, UNITS, 1, qw, UNITS, W1_kernel, UNITS, "
                "1, d_x0, QUERY_FEATURES);");
        emit_close(p, NULL);
    }
}

static const char *tfjs_unsupported(const IrLayer *l, const IrNode *n)
{
    (void)l;
    (void)n;
    return "the Keras tutorial's custom layer, which TensorFlow.js has no class for";
}

const OpInfo op_attention_layer = {
    .name = "AttentionLayer", .keras_name = "attention_layer",
    .extra_output = "weights", .extra_output_always = true,
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 2, .max_in = 2, .infer = infer,
    .plan = plan, .forward = forward, .backward = backward,
    .tfjs_unsupported = tfjs_unsupported,
    .mask = MASK_DROP,
    .mask_note = "the tutorial's custom Keras layer does not support masking: padded steps of "
                 "the values take part in the softmax (Attention and AdditiveAttention mask them)",
    .step_note = "each query step attends over every value step, later ones included",
};
