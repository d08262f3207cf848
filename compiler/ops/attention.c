/*
 * Attention (Keras's dot-product/Luong attention, KERAS-SEMANTICS 6.2) and
 * AdditiveAttention (6.3). Inputs query [Tq, d], value [Tv, dv] and an
 * optional key [Tv, d] (default: value).
 *   Attention:          scores = scale * Q K^T  (scale only with use_scale)
 *                       concat mode: w * sum_d tanh(scale * (q + k))
 *   AdditiveAttention:  scores[i,j] = sum_d scale_d tanh(q_i,d + k_j,d)
 * weights = softmax over Tv; output = weights V, [Tq, dv]. With
 * return_attention_scores the weights [Tq, Tv] are a second output.
 */
#include <string.h>

#include "lower.h"
#include "ops.h"

static const char *const score_modes[] = {"dot", "concat", NULL};

static const AttrSpec dot_attrs[] = {
    {"use_scale", ATTR_BOOL, false, 0, 0, NULL, NULL},
    {"score_mode", ATTR_STR, false, 0, 0, "dot", score_modes},
    {"dropout", ATTR_FLOAT, false, 0, 0.0, NULL, NULL},
    {"return_attention_scores", ATTR_BOOL, false, 0, 0, NULL, NULL},
    {"use_causal_mask", ATTR_BOOL, false, 0, 0, NULL, NULL},
};

static const AttrSpec additive_attrs[] = {
    {"use_scale", ATTR_BOOL, false, 1, 0, NULL, NULL},
    {"dropout", ATTR_FLOAT, false, 0, 0.0, NULL, NULL},
    {"return_attention_scores", ATTR_BOOL, false, 0, 0, NULL, NULL},
    {"use_causal_mask", ATTR_BOOL, false, 0, 0, NULL, NULL},
};

/* Shapes both kinds share; the caller declares the params. */
static bool infer_common(InferCtx *c)
{
    for (int k = 0; k < c->n_in; k++)
        if (!op_need_rank(c, k, 2, "sequences [time, features]"))
            return false;
    const Shape *q = c->in[0], *v = c->in[1], *key = c->n_in == 3 ? c->in[2] : v;
    if (!dim_eq(q->d[1], key->d[1])) {
        char a[32], b[32];
        return op_error_input(c, 0, "%s needs the query and the key to have the same feature "
                              "size, but they are %s and %s", c->layer->op->name,
                              dim_str(q->d[1], a, sizeof a), dim_str(key->d[1], b, sizeof b));
    }
    if (!dim_eq(v->d[0], key->d[0]))
        return op_error_input(c, 1, "%s needs the value and the key to have the same time axis",
                              c->layer->op->name);
    if (op_float(c, "dropout") < 0 || op_float(c, "dropout") >= 1)
        return op_error(c, "dropout must be in [0, 1)");
    c->out[0] = (Shape){.rank = 2, .d = {q->d[0], v->d[1]}};
    c->n_out = 1;
    if (op_bool(c, "return_attention_scores"))
        c->out[c->n_out++] = (Shape){.rank = 2, .d = {q->d[0], v->d[0]}};
    return true;
}

static bool infer_dot(InferCtx *c)
{
    if (!infer_common(c))
        return false;
    if (op_bool(c, "use_scale"))
        op_param(c, "scale", 0, NULL, INIT_ONES);
    if (strcmp(op_str(c, "score_mode"), "concat") == 0)
        op_param(c, "concat_score_weight", 0, NULL, INIT_ONES);
    return true;
}

static bool infer_additive(InferCtx *c)
{
    if (!infer_common(c))
        return false;
    if (c->in[0]->d[1].sym)
        return op_error_input(c, 0, "AdditiveAttention needs a fixed feature axis");
    if (op_bool(c, "use_scale")) {
        long long d[1] = {c->in[0]->d[1].n};
        op_param(c, "scale", 1, d, INIT_GLOROT_UNIFORM);
    }
    return true;
}

/* ---- code generation ---------------------------------------------------- */

typedef struct {
    long long d, dv;
    bool scale, causal, additive, scores_out;
    const char *k, *dk;      /* the key and its gradient: x2, or the value */
} AttShape;

static void att_shape(const LowerOp *o, bool additive, AttShape *a)
{
    const IrNode *n = o->node;
    const IrLayer *l = o->layer;
    a->d = lower_fixed(n->in[0]->shape.d[1]);
    a->dv = lower_fixed(n->in[1]->shape.d[1]);
    a->scale = l->attrs[op_attr_index(l->op, "use_scale")].i;
    a->causal = l->attrs[op_attr_index(l->op, "use_causal_mask")].i;
    a->scores_out = l->attrs[op_attr_index(l->op, "return_attention_scores")].i;
    a->additive = additive;
    a->k = n->n_in == 3 ? "x2" : "x1";
    a->dk = n->n_in == 3 ? "d_x2" : "d_x1";
}

static void plan_common(LowerOp *o, bool additive)
{
    AttShape a;
    att_shape(o, additive, &a);
    lower_scratch(o, "w", "B * T * T1");      /* attention weights */
    lower_scratch(o, "raw", "B * T * T1");    /* scores before scale and softmax */
    lower_scratch(o, "dw", "T1");
    if (additive)
        lower_scratch(o, "th", "B * T * T1 * %lld", a.d); /* tanh(q + k) */
}

static void plan_dot(LowerOp *o) { plan_common(o, false); }
static void plan_additive(LowerOp *o) { plan_common(o, true); }

static void forward_common(LowerOp *o, bool additive)
{
    Printer *p = o->p;
    AttShape a;
    att_shape(o, additive, &a);
    lower_dim(o, "FEATURES", a.d);
    lower_dim(o, "VALUE_FEATURES", a.dv);
    const char *scale = a.scale && !additive ? "scale[0]" : "1";
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_line(p, "const seqrt_real *q = x0 + b * T * FEATURES, *k = %s + b * T1 * FEATURES;", a.k);
    emit_line(p, "seqrt_real *raw_b = raw + b * T * T1, *w_b = w + b * T * T1;");
    if (!additive) {
        emit_comment(p, "raw = q k^T [T, T1]");
        emit_line(p,
                "seqrt_gemm(0, 1, (int)T, (int)T1, FEATURES, 1, q, FEATURES, k, FEATURES, 0, "
                "raw_b, (int)T1);");
    } else {
        emit_comment(p, "raw[i, j] = sum_d scale_d tanh(q_i,d + k_j,d)");
        emit_open(p, "for (int64_t i = 0; i < T; i++)");
        emit_open(p, "for (int64_t j = 0; j < T1; j++)");
        emit_line(p, "seqrt_real *t = th + ((b * T + i) * T1 + j) * FEATURES, s = 0;");
        emit_open(p, "for (int64_t c = 0; c < FEATURES; c++)");
        emit_line(p, "t[c] = SEQRT_TANH(q[i * FEATURES + c] + k[j * FEATURES + c]);");
        emit_line(p, "s += %s * t[c];", a.scale ? "scale[c]" : "1");
        emit_close(p, NULL);
        emit_line(p, "raw_b[i * T1 + j] = s;");
        emit_close(p, NULL);
        emit_close(p, NULL);
    }
    emit_comment(p, "weights = softmax over the values' steps%s",
                 a.causal ? " (future steps masked)" : "");
    emit_open(p, "for (int64_t i = 0; i < T; i++)");
    emit_open(p, "for (int64_t j = 0; j < T1; j++)");
    /* Keras: masked keys (padding, or the future with a causal mask) score -1e9. */
    char cond[128] = "";
    if (a.causal)
        snprintf(cond, sizeof cond, "j > i");
    if (o->node->in[1]->mask)
        snprintf(cond + strlen(cond), sizeof cond - strlen(cond), "%smask1[b * T1 + j] == 0",
                 a.causal ? " || " : "");
    if (cond[0])
        emit_line(p, "w_b[i * T1 + j] = %s ? (seqrt_real)-1e9 : %s * raw_b[i * T1 + j];", cond,
                  scale);
    else
        emit_line(p, "w_b[i * T1 + j] = %s * raw_b[i * T1 + j];", scale);
    emit_close(p, NULL);
    emit_line(p, "seqrt_softmax(w_b + i * T1, w_b + i * T1, T1);");
    emit_close(p, NULL);
    emit_comment(p, "out = weights v");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)T, VALUE_FEATURES, (int)T1, 1, w_b, (int)T1, x1 + b * T1 * "
            "VALUE_FEATURES, VALUE_FEATURES, 0, y0 + b * T * VALUE_FEATURES, VALUE_FEATURES);");
    if (a.scores_out)
        emit_line(p, "memcpy(y1 + b * T * T1, w_b, sizeof(seqrt_real) * T * T1);");
    if (o->node->in[0]->mask) { /* Keras: a padded query step outputs zeros */
        emit_line(p, "for (int64_t i = 0; i < T; i++)");
        emit_line(p,
                "    if (mask0[b * T + i] == 0) memset(y0 + (b * T + i) * VALUE_FEATURES, 0, "
                "sizeof(seqrt_real) * VALUE_FEATURES);");
    }
    emit_close(p, NULL);
}

static void backward_common(LowerOp *o, bool additive)
{
    Printer *p = o->p;
    AttShape a;
    att_shape(o, additive, &a);
    lower_dim(o, "FEATURES", a.d);
    lower_dim(o, "VALUE_FEATURES", a.dv);
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    if (!additive)
        emit_line(p, "const seqrt_real *q = x0 + b * T * FEATURES, *k = %s + b * T1 * FEATURES;",
                  a.k);
    emit_line(p, "const seqrt_real *w_b = w + b * T * T1;");
    emit_line(p, "seqrt_real *ds = raw + b * T * T1; /* raw scores are no longer needed... */");
    if (a.scale && !additive) {
        emit_comment(p, "...but the scale's gradient needs them: fold it in as we go");
    }
    emit_line(p, "%sseqrt_real *dout = d_y0 + b * T * VALUE_FEATURES;",
              o->node->in[0]->mask ? "" : "const ");
    emit_line(p, "const seqrt_real *v = x1 + b * T1 * VALUE_FEATURES;");
    if (o->node->in[0]->mask) /* the output of a padded query step was zeroed */
        emit_line(p,
                "for (int64_t i = 0; i < T; i++) if (mask0[b * T + i] == 0) memset(dout + i * "
                "VALUE_FEATURES, 0, sizeof(seqrt_real) * VALUE_FEATURES);");
    if (o->need_dx[1]) {
        emit_comment(p, "dv += weights^T dout");
        emit_line(p,
                "if (d_x1) seqrt_gemm(1, 0, (int)T1, VALUE_FEATURES, (int)T, 1, w_b, (int)T1, "
                "dout, VALUE_FEATURES, 1, d_x1 + b * T1 * VALUE_FEATURES, VALUE_FEATURES);");
    }
    emit_comment(p, "dw = dout v^T (+ d_scores); ds = w (dw - sum_j w dw)");
    emit_open(p, "for (int64_t i = 0; i < T; i++)");
    emit_line(p, "seqrt_real s = 0;");
    emit_open(p, "for (int64_t j = 0; j < T1; j++)");
    emit_line(p, "seqrt_real g = %s;", a.scores_out ? "d_y1[(b * T + i) * T1 + j]" : "0");
    emit_line(p,
            "for (int64_t c = 0; c < VALUE_FEATURES; c++) g += dout[i * VALUE_FEATURES + c] * v[j "
            "* VALUE_FEATURES + c];");
    emit_line(p, "dw[j] = g;");
    emit_line(p, "s += w_b[i * T1 + j] * g;");
    emit_close(p, NULL);
    emit_open(p, "for (int64_t j = 0; j < T1; j++)");
    emit_line(p, "const seqrt_real g = w_b[i * T1 + j] * (dw[j] - s);");
    if (a.scale && !additive) {
        emit_line(p, "d_scale[0] += g * ds[i * T1 + j];");
        emit_line(p, "ds[i * T1 + j] = g * scale[0];");
    } else {
        emit_line(p, "ds[i * T1 + j] = g;");
    }
    emit_close(p, NULL);
    emit_close(p, NULL);
    if (!additive) {
        emit_comment(p, "dq += ds k; dk += ds^T q");
        if (o->need_dx[0])
            emit_line(p,
                    "if (d_x0) seqrt_gemm(0, 0, (int)T, FEATURES, (int)T1, 1, ds, (int)T1, k, "
                    "FEATURES, 1, d_x0 + b * T * FEATURES, FEATURES);");
        emit_line(p,
                "if (%s) seqrt_gemm(1, 0, (int)T1, FEATURES, (int)T, 1, ds, (int)T1, q, FEATURES, "
                "1, %s + b * T1 * FEATURES, FEATURES);",
                  a.dk, a.dk);
    } else {
        emit_comment(p,
                "through tanh: dpre = ds scale (1 - th^2), summed into dq over j and dk over i");
        emit_open(p, "for (int64_t i = 0; i < T; i++)");
        emit_open(p, "for (int64_t j = 0; j < T1; j++)");
        emit_line(p,
                "const seqrt_real *t = th + ((b * T + i) * T1 + j) * FEATURES, g = ds[i * T1 + "
                "j];");
        emit_open(p, "for (int64_t c = 0; c < FEATURES; c++)");
        if (a.scale)
            emit_line(p, "d_scale[c] += g * t[c];");
        emit_line(p, "const seqrt_real dp = g * %s * (1 - t[c] * t[c]);",
                  a.scale ? "scale[c]" : "1");
        if (o->need_dx[0])
            emit_line(p, "if (d_x0) d_x0[(b * T + i) * FEATURES + c] += dp;");
        emit_line(p, "if (%s) %s[(b * T1 + j) * FEATURES + c] += dp;", a.dk, a.dk);
        emit_close(p, NULL);
        emit_close(p, NULL);
        emit_close(p, NULL);
    }
    emit_close(p, NULL);
}

static const char *unsupported(const IrLayer *l)
{
    if (l->attrs[op_attr_index(l->op, "dropout")].f > 0)
        return "dropout on attention weights";
    int m = op_attr_index(l->op, "score_mode");
    if (m >= 0 && strcmp(l->attrs[m].s, "dot"))
        return "score_mode=\"concat\"";
    return NULL;
}

static void forward_dot(LowerOp *o) { forward_common(o, false); }
static void backward_dot(LowerOp *o) { backward_common(o, false); }
static void forward_additive(LowerOp *o) { forward_common(o, true); }
static void backward_additive(LowerOp *o) { backward_common(o, true); }

/* Keras's BaseDenseAttention.compute_mask: the output keeps the query's
 * mask; the value's mask hides keys (forward above); the scores carry none. */
static const char *tfjs_unsupported(const IrLayer *l, const IrNode *n)
{
    (void)l;
    (void)n;
    return "TensorFlow.js 4.22 has no Attention or AdditiveAttention layer";
}

const OpInfo op_attention = {
    .name = "Attention", .keras_name = "attention", .extra_output = "scores",
    .attrs = dot_attrs, .n_attrs = sizeof dot_attrs / sizeof dot_attrs[0],
    .min_in = 2, .max_in = 3, .infer = infer_dot,
    .plan = plan_dot, .forward = forward_dot, .backward = backward_dot,
    .unsupported = unsupported, .tfjs_unsupported = tfjs_unsupported,
    .mask = MASK_PROPAGATE,
    .step_note = "each query step attends over every value step, later ones included",
};

const OpInfo op_additive_attention = {
    .name = "AdditiveAttention", .keras_name = "additive_attention", .extra_output = "scores",
    .attrs = additive_attrs, .n_attrs = sizeof additive_attrs / sizeof additive_attrs[0],
    .min_in = 2, .max_in = 3, .infer = infer_additive,
    .plan = plan_additive, .forward = forward_additive, .backward = backward_additive,
    .unsupported = unsupported, .tfjs_unsupported = tfjs_unsupported,
    .mask = MASK_PROPAGATE,
    .step_note = "each query step attends over every value step, later ones included",
};
