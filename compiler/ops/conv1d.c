/*
 * Conv1D (KERAS-SEMANTICS 4), channels_last, a cross-correlation:
 * y[b,t,f] = bias[f] + sum_k sum_c xp[b, t*s + k*d, c] W[k, c, f].
 * kernel [K, Cin, F] glorot_uniform (fans K*Cin, K*F), bias [F].
 * Lengths: valid floor((L - d(K-1) - 1)/s) + 1; causal (left pad d(K-1))
 * and same give ceil(L/s).
 */
#include <string.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"

static const char *const paddings[] = {"valid", "same", "causal", NULL};
static const char *const formats[] = {"channels_last", NULL};

static const AttrSpec attrs[] = {
    {"filters", ATTR_INT, true, 0, 0, NULL, NULL},
    {"kernel_size", ATTR_INTS, true, 0, 0, NULL, NULL},
    {"strides", ATTR_INTS, false, 1, 0, NULL, NULL},
    {"padding", ATTR_STR, false, 0, 0, "valid", paddings},
    {"data_format", ATTR_STR, false, 0, 0, "channels_last", formats},
    {"dilation_rate", ATTR_INTS, false, 1, 0, NULL, NULL},
    {"groups", ATTR_INT, false, 1, 0, NULL, NULL},
    {"activation", ATTR_STR, false, 0, 0, "linear", op_activation_choices},
    {"use_bias", ATTR_BOOL, false, 1, 0, NULL, NULL},
    {"kernel_initializer", ATTR_STR, false, 0, 0, "glorot_uniform", op_initializer_choices},
    {"bias_initializer", ATTR_STR, false, 0, 0, "zeros", op_initializer_choices},
};

static Dim out_len(Dim L, long long K, long long s, long long d, const char *pad)
{
    long long span = d * (K - 1);
    bool valid = strcmp(pad, "valid") == 0;
    if (!L.sym) {
        long long n = valid ? (L.n - span - 1) / s + 1 : (L.n + s - 1) / s;
        if (valid && L.n - span - 1 < 0)
            n = 0;
        return dim_fixed(n);
    }
    return valid ? dim_strided(L, -span - 1, s, 1) : dim_strided(L, s - 1, s, 0);
}

static bool infer(InferCtx *c)
{
    if (!op_need_rank(c, 0, 2, "a sequence [time, channels]"))
        return false;
    const Shape *x = c->in[0];
    long long F = op_int(c, "filters");
    const AttrVal *ks = op_attr(c, "kernel_size"), *st = op_attr(c, "strides"),
                  *dl = op_attr(c, "dilation_rate");
    if (ks->n_ints != 1 || st->n_ints != 1 || dl->n_ints != 1)
        return op_error(c, "Conv1D takes one kernel_size, stride and dilation_rate");
    long long K = ks->ints[0], s = st->ints[0], d = dl->ints[0];
    if (F <= 0 || K <= 0 || s <= 0 || d <= 0)
        return op_error(c, "Conv1D needs filters, kernel_size, strides and dilation_rate > 0");
    if (s > 1 && d > 1)
        return op_error(c,
                        "Conv1D cannot combine strides > 1 with dilation_rate > 1 (as in Keras)");
    if (op_int(c, "groups") != 1)
        return op_error(c, "Conv1D supports groups=1 only");
    if (x->d[1].sym)
        return op_error_input(c, 0, "Conv1D needs a fixed channel axis");
    long long C = x->d[1].n;
    if (c->layer->built && c->layer->params[0].shape[1] != C)
        return op_error_input(c, 0, "layer '%s' was built for %lld channels, but this call "
                              "gives it %lld", c->layer->name, c->layer->params[0].shape[1], C);
    const char *pad = op_str(c, "padding");
    Dim L = out_len(x->d[0], K, s, d, pad);
    if (!L.sym && L.n <= 0) {
        char db[64];
        return op_error_input(c, 0, "the input is too short for Conv1D(kernel_size=%lld, "
                              "dilation_rate=%lld, padding=\"valid\"): length %s, needs at "
                              "least %lld", K, d, dim_str(x->d[0], db, sizeof db), d * (K - 1) + 1);
    }
    long long k[3] = {K, C, F}, b[1] = {F};
    op_param(c, "kernel", 3, k, op_init(c, "kernel_initializer"));
    if (op_bool(c, "use_bias"))
        op_param(c, "bias", 1, b, op_init(c, "bias_initializer"));
    c->out[0] = (Shape){.rank = 2, .d = {L, dim_fixed(F)}};
    c->n_out = 1;
    c->out_softmax = strcmp(op_str(c, "activation"), "softmax") == 0;
    c->out_sigmoid = strcmp(op_str(c, "activation"), "sigmoid") == 0;
    return true;
}

/* ---- code generation: GEMMs per tap (stride 1) or over im2col rows ----- */

typedef struct {
    long long K, C, F, s, d;
    const char *pad;
    const char *act;
} ConvShape;

static void conv_shape(const IrLayer *l, ConvShape *c)
{
    c->K = l->params[0].shape[0];
    c->C = l->params[0].shape[1];
    c->F = l->params[0].shape[2];
    c->s = l->attrs[op_attr_index(l->op, "strides")].ints[0];
    c->d = l->attrs[op_attr_index(l->op, "dilation_rate")].ints[0];
    c->pad = l->attrs[op_attr_index(l->op, "padding")].s;
    c->act = l->attrs[op_attr_index(l->op, "activation")].s;
}

/* The names the emitted bodies use for the convolution's sizes. */
static void conv_dims(LowerOp *o, const ConvShape *c)
{
    lower_dim(o, "KERNEL_SIZE", c->K);
    lower_dim(o, "CHANNELS", c->C);
    lower_dim(o, "FILTERS", c->F);
}

/* Output length and left padding as C expressions in T. */
static const char *conv_lout(LowerOp *o, const ConvShape *c)
{
    if (!strcmp(c->pad, "valid"))
        return arena_printf(o->a, "((T - %lld) / %lld + 1)", c->d * (c->K - 1) + 1, c->s);
    return arena_printf(o->a, "((T + %lld) / %lld)", c->s - 1, c->s);
}

static const char *conv_left(LowerOp *o, const ConvShape *c)
{
    long long span = c->d * (c->K - 1);
    if (!strcmp(c->pad, "causal"))
        return arena_printf(o->a, "%lld", span);
    if (!strcmp(c->pad, "same")) /* TF SAME: the odd element goes on the right */
        return arena_printf(o->a, "(((T + %lld) / %lld - 1) * %lld + %lld - T > 0 ? "
                            "(((T + %lld) / %lld - 1) * %lld + %lld - T) / 2 : 0)",
                            c->s - 1, c->s, c->s, span + 1, c->s - 1, c->s, c->s, span + 1);
    return "0";
}

/*
 * Stride 1 (every causal and dilated convolution): no im2col. Tap k adds
 * x[b, t + sh] W_k to y[b, t] with sh = k*d - left, over the output steps
 * whose source is inside the sequence. seqrt_conv1d_taps does all K taps of
 * a sample's inner steps in one register tile of depth K*Cin (y read and
 * written once), the few edge steps tap by tap; the input gradient is the
 * same call on dy with the taps reversed and transposed. The weight
 * gradient of a shifted tap is one GEMM over all rows too when L == T:
 * the rows whose source lies outside their own sample are zeroed in dy
 * for that product (their values saved in `keep` and put back), so the
 * rows that straddle two samples add exactly nothing.
 */
static bool direct(const ConvShape *c) { return c->s == 1; }

static void plan(LowerOp *o)
{
    ConvShape c;
    conv_shape(o->layer, &c);
    if (direct(&c)) {
        lower_scratch(o, "wt", "%lld", c.K * c.C * c.F);
        lower_scratch(o, "keep", "B * %lld", (c.d * (c.K - 1) + 1) * c.F);
        return;
    }
    lower_scratch(o, "col", "B * %s * %lld", conv_lout(o, &c), c.K * c.C);
}

/* Open the loop over taps and name its step range. */
static void open_taps(LowerOp *o, const ConvShape *c)
{
    Printer *p = o->p;
    emit_open(p, "for (int64_t k = 0; k < KERNEL_SIZE; k++)");
    emit_line(p, "const int64_t sh = k * %lld - left; /* y[t] += x[t + sh] W_k */", c->d);
    emit_line(p, "const int64_t lo = sh < 0 ? -sh : 0, hi = T - sh < L ? T - sh : L;");
    emit_line(p, "if (hi <= lo)");
    emit_line(p, "    continue;");
}

static void forward_direct(LowerOp *o, const ConvShape *c)
{
    Printer *p = o->p;
    bool bias = o->layer->n_params > 1;
    if (bias) {
        emit_open(p, "for (int64_t n = 0; n < B * L; n++)");
        emit_line(p, "memcpy(y0 + n * FILTERS, bias, sizeof(seqrt_real) * FILTERS);");
        emit_close(p, NULL);
    } else {
        emit_line(p, "memset(y0, 0, sizeof(seqrt_real) * B * L * FILTERS);");
    }
    emit_comment(p,
                 "y[b, t] += sum_k x[b, t + k*%lld - left] kernel[k]: all KERNEL_SIZE taps in one "
                 "register tile", c->d);
    emit_line(p,
            "seqrt_conv1d_taps((int)B, (int)T, (int)L, KERNEL_SIZE, %lld, (int)left, CHANNELS, "
            "FILTERS, x0, "
              "kernel, y0);", c->d);
    lower_activation_forward(o, c->act, "y0", "B * L", c->F);
}

/* The nk = lo + (L - hi) rows of each sample outside [lo, hi): saved in
 * keep and zeroed (save), or put back (!save). */
static void emit_boundary_rows(LowerOp *o, bool save)
{
    Printer *p = o->p;
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t i = 0; i < nk; i++)");
    emit_line(p, "seqrt_real *row = d_y0 + (b * L + (i < lo ? i : hi + i - lo)) * FILTERS;");
    if (save) {
        emit_line(p, "memcpy(keep + (b * nk + i) * FILTERS, row, sizeof(seqrt_real) * FILTERS);");
        emit_line(p, "memset(row, 0, sizeof(seqrt_real) * FILTERS);");
    } else {
        emit_line(p, "memcpy(row, keep + (b * nk + i) * FILTERS, sizeof(seqrt_real) * FILTERS);");
    }
    emit_close(p, NULL);
    emit_close(p, NULL);
}

static void backward_direct(LowerOp *o, const ConvShape *c)
{
    Printer *p = o->p;
    long long F = c->F, C = c->C;
    emit_comment(p, "d_kernel[k] += x[t + sh]^T dy[t] over the valid steps of every sample");
    open_taps(o, c);
    emit_line(p, "seqrt_real *dw = d_kernel + k * %lld;", C * F);
    emit_open(p, "if (L == T && B > 1)");
    emit_comment(p, "one GEMM over rows lo .. (B-1)*L + hi; the rows outside [lo, hi) of");
    emit_comment(p, "each sample are zeroed for it (saved in keep, put back after)");
    emit_line(p, "const int64_t nk = lo + (L - hi); /* rows per sample outside [lo, hi) */");
    emit_boundary_rows(o, true);
    emit_line(p,
            "seqrt_gemm(1, 0, CHANNELS, FILTERS, (int)((B - 1) * L + hi - lo), 1, x0 + (lo + sh) * "
            "CHANNELS, CHANNELS,");
    emit_line(p, "           d_y0 + lo * FILTERS, FILTERS, 1, dw, FILTERS);");
    emit_boundary_rows(o, false);
    emit_close(p, NULL);
    emit_open(p, "else");
    emit_line(p, "for (int64_t b = 0; b < B; b++)");
    emit_line(p,
            "    seqrt_gemm(1, 0, CHANNELS, FILTERS, (int)(hi - lo), 1, x0 + (b * T + lo + sh) * "
            "CHANNELS, CHANNELS,");
    emit_line(p, "               d_y0 + (b * L + lo) * FILTERS, FILTERS, 1, dw, FILTERS);");
    emit_close(p, NULL);
    emit_close(p, NULL);
    if (o->layer->n_params > 1) {
        emit_line(p, "seqrt_add_rows(B * L, FILTERS, d_y0, d_bias);");
    }
    if (!o->need_dx[0])
        return;
    emit_open(p, "if (d_x0)");
    emit_comment(p, "dx[b, s] += sum_k dy[b, s - (k*%lld - left)] kernel[k]^T: the forward "
                 "product with wt[K-1-k] = kernel[k]^T [FILTERS, CHANNELS]", c->d);
    emit_line(p, "for (int64_t k = 0; k < KERNEL_SIZE; k++)");
    emit_line(p, "    for (int64_t i = 0; i < CHANNELS; i++)");
    emit_line(p,
            "        for (int64_t f = 0; f < FILTERS; f++) wt[((%lld - k) * FILTERS + f) * "
            "CHANNELS + i] = kernel[(k * CHANNELS + i) * FILTERS + f];", c->K - 1);
    emit_line(p,
            "seqrt_conv1d_taps((int)B, (int)L, (int)T, KERNEL_SIZE, %lld, (int)(%lld - left), "
            "FILTERS, CHANNELS, "
              "d_y0, wt, d_x0);", c->d, c->d * (c->K - 1));
    emit_close(p, NULL);
}

static void forward(LowerOp *o)
{
    Printer *p = o->p;
    ConvShape c;
    conv_shape(o->layer, &c);
    conv_dims(o, &c);
    emit_line(p, "const int64_t L = %s; /* output steps */", conv_lout(o, &c));
    emit_line(p, "const int64_t left = %s; /* zeros padded before step 0 */", conv_left(o, &c));
    if (direct(&c)) {
        forward_direct(o, &c);
        return;
    }
    emit_comment(p, "col[b, t, k, c] = x[b, t*%lld + k*%lld - left, c] (0 in the padding)", c.s,
                 c.d);
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t t = 0; t < L; t++)");
    emit_open(p, "for (int64_t k = 0; k < KERNEL_SIZE; k++)");
    emit_line(p, "const int64_t src = t * %lld + k * %lld - left;", c.s, c.d);
    emit_line(p, "seqrt_real *dst = col + ((b * L + t) * KERNEL_SIZE + k) * CHANNELS;");
    emit_line(p, "if (src >= 0 && src < T)");
    emit_line(p, "    memcpy(dst, x0 + (b * T + src) * CHANNELS, sizeof(seqrt_real) * CHANNELS);");
    emit_line(p, "else");
    emit_line(p, "    memset(dst, 0, sizeof(seqrt_real) * CHANNELS);");
    emit_close(p, NULL);
    emit_close(p, NULL);
    emit_close(p, NULL);
    bool bias = o->layer->n_params > 1;
    if (bias) {
        emit_open(p, "for (int64_t n = 0; n < B * L; n++)");
        emit_line(p, "memcpy(y0 + n * FILTERS, bias, sizeof(seqrt_real) * FILTERS);");
        emit_close(p, NULL);
    }
    emit_comment(p,
            "y[B*L, FILTERS] %s= col[B*L, KERNEL_SIZE * CHANNELS] kernel[KERNEL_SIZE * CHANNELS, "
            "FILTERS]", bias ? "+" : "");
    emit_line(p,
            "seqrt_gemm(0, 0, (int)(B * L), FILTERS, KERNEL_SIZE * CHANNELS, 1, col, KERNEL_SIZE * "
            "CHANNELS, kernel, FILTERS, %d, y0, FILTERS);", bias ? 1 : 0);
    lower_activation_forward(o, c.act, "y0", "B * L", c.F);
}

static void backward(LowerOp *o)
{
    Printer *p = o->p;
    ConvShape c;
    conv_shape(o->layer, &c);
    conv_dims(o, &c);
    emit_line(p, "const int64_t L = %s; /* output steps */", conv_lout(o, &c));
    lower_activation_backward(o, c.act, "d_y0", "y0", "B * L", c.F);
    if (direct(&c)) {
        emit_line(p, "const int64_t left = %s;", conv_left(o, &c));
        backward_direct(o, &c);
        return;
    }
    emit_comment(p, "d_kernel += col^T dy; d_bias += sum dy");
    emit_line(p,
            "seqrt_gemm(1, 0, KERNEL_SIZE * CHANNELS, FILTERS, (int)(B * L), 1, col, KERNEL_SIZE * "
            "CHANNELS, d_y0, FILTERS, 1, d_kernel, FILTERS);");
    if (o->layer->n_params > 1) {
        emit_line(p, "seqrt_add_rows(B * L, FILTERS, d_y0, d_bias);");
    }
    if (!o->need_dx[0])
        return;
    emit_open(p, "if (d_x0)");
    emit_line(p, "const int64_t left = %s;", conv_left(o, &c));
    emit_comment(p, "dcol = dy kernel^T (into col, no longer needed), then scatter-add into dx");
    emit_line(p,
            "seqrt_gemm(0, 1, (int)(B * L), KERNEL_SIZE * CHANNELS, FILTERS, 1, d_y0, FILTERS, "
            "kernel, FILTERS, 0, col, KERNEL_SIZE * CHANNELS);");
    emit_open(p, "for (int64_t b = 0; b < B; b++)");
    emit_open(p, "for (int64_t t = 0; t < L; t++)");
    emit_open(p, "for (int64_t k = 0; k < KERNEL_SIZE; k++)");
    emit_line(p, "const int64_t src = t * %lld + k * %lld - left;", c.s, c.d);
    emit_line(p, "if (src < 0 || src >= T)");
    emit_line(p, "    continue;");
    emit_line(p, "const seqrt_real *g = col + ((b * L + t) * KERNEL_SIZE + k) * CHANNELS;");
    emit_line(p,
              "for (int64_t i = 0; i < CHANNELS; i++) d_x0[(b * T + src) * CHANNELS + i] += g[i];");
    emit_close(p, NULL);
    emit_close(p, NULL);
    emit_close(p, NULL);
    emit_close(p, NULL);
}

static long long min_time(const IrLayer *l)
{
    if (strcmp(l->attrs[op_attr_index(l->op, "padding")].s, "valid"))
        return 1;
    return (l->attrs[op_attr_index(l->op, "kernel_size")].ints[0] - 1) *
           l->attrs[op_attr_index(l->op, "dilation_rate")].ints[0] + 1;
}

static const char *step_unsupported(const IrLayer *l)
{
    long long span = (l->attrs[op_attr_index(l->op, "kernel_size")].ints[0] - 1) *
                     l->attrs[op_attr_index(l->op, "dilation_rate")].ints[0];
    if (span > 0 && strcmp(l->attrs[op_attr_index(l->op, "padding")].s, "causal"))
        return "only padding=\"causal\" convolutions stream (the others look ahead)";
    if (l->attrs[op_attr_index(l->op, "strides")].ints[0] != 1)
        return "strided convolutions do not stream";
    return NULL;
}

/* One step of a causal dilated convolution: a ring buffer holds the last
 * d(K-1) + 1 inputs, so y_t = b + sum_k W[k] x_{t - (K-1-k) d} costs K terms. */
static void step(InferOp *o)
{
    ConvShape c;
    conv_shape(o->layer, &c);
    long long R = c.d * (c.K - 1) + 1;
    const char *ring = infer_state(o, "ring", R * c.C, "the last inputs, a ring");
    const char *pos = infer_state(o, "pos", 1, "steps seen (mod the ring)");
    emit_line(o->p, "const int t = (int)%s[0];", pos);
    emit_line(o->p, "memcpy(%s + t * %lld, x0, sizeof(float) * %lld);", ring, c.C, c.C);
    if (o->layer->n_params > 1)
        emit_line(o->p, "memcpy(y0, bias, sizeof(float) * %lld);", c.F);
    else
        emit_line(o->p, "memset(y0, 0, sizeof(float) * %lld);", c.F);
    emit_open(o->p, "for (int k = 0; k < %lld; k++)", c.K);
    emit_line(o->p, "const int at = ((t - (%lld - k) * %lld) %% %lld + %lld) %% %lld;", c.K - 1,
              c.d, R, R, R);
    emit_line(o->p, "const float *x = %s + at * %lld, *w = kernel + k * %lld;", ring, c.C,
              c.C * c.F);
    emit_line(o->p, "for (int i = 0; i < %lld; i++)", c.C);
    emit_line(o->p, "    for (int f = 0; f < %lld; f++) y0[f] += x[i] * w[i * %lld + f];", c.F,
              c.F);
    emit_close(o->p, NULL);
    emit_line(o->p, "%s[0] = (float)((t + 1) %% %lld);", pos, R);
    infer_activation(o, c.act, "y0", c.F);
}

static const char *tfjs_unsupported(const IrLayer *l, const IrNode *n)
{
    (void)n;
    if (l->attrs[op_attr_index(l->op, "groups")].i != 1)
        return "groups > 1: TensorFlow.js 4.22's Conv1D has no grouped convolution";
    return NULL;
}

static bool causal(const IrLayer *l)
{
    return !strcmp(l->attrs[op_attr_index(l->op, "padding")].s, "causal");
}

/* tfjs-layers 4.22's Conv1D throws NotImplementedError on causal padding:
 * exported as a valid convolution of the input with (K - 1) * dilation
 * zero steps in front, which is what causal padding computes. */
static long long keras_pad_front(const IrLayer *l)
{
    return causal(l) ? (l->attrs[op_attr_index(l->op, "kernel_size")].ints[0] - 1) *
                           l->attrs[op_attr_index(l->op, "dilation_rate")].ints[0]
                     : 0;
}

/* TensorFlow.js's Conv1D has no groups option (only 1 is exported); a
 * causal convolution is exported as a valid one (keras_pad_front). */
static const char *keras_value(const IrLayer *l, int k, Arena *a)
{
    (void)a;
    if (!strcmp(l->op->attrs[k].name, "groups"))
        return "";
    return !strcmp(l->op->attrs[k].name, "padding") && causal(l) ? "\"valid\"" : NULL;
}

const OpInfo op_conv1d = {
    .name = "Conv1D", .keras_name = "conv1d",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .infer = infer,
    .plan = plan, .forward = forward, .backward = backward, .min_time = min_time,
    .step = step, .step_unsupported = step_unsupported,
    .tfjs_unsupported = tfjs_unsupported, .keras_value = keras_value,
    .keras_pad_front = keras_pad_front,
    .mask = MASK_DROP,
    .mask_note = "Keras's Conv1D does not support masking and drops the mask: a kernel wider "
                 "than one step mixes padding into valid steps",
};
