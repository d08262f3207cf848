/* ops.c: the table of layer kinds and the helpers their shape rules share. */
#include "ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "seqrt_checked.h"
#include "util.h"

extern const OpInfo op_dense, op_activation, op_simple_rnn, op_lstm, op_gru, op_embedding,
    op_conv1d, op_attention_layer, op_attention, op_additive_attention, op_dropout,
    op_bidirectional, op_time_distributed, op_concatenate, op_add, op_flatten, op_last_step,
    op_masking, op_repeat_vector;

/* One row per layer kind; keep sorted by name for the "known layers" list. */
static const OpInfo *const op_table[] = {
    &op_activation, &op_add,        &op_additive_attention, &op_attention,
    &op_attention_layer, &op_bidirectional, &op_concatenate, &op_conv1d,
    &op_dense,      &op_dropout,    &op_embedding,  &op_flatten,
    &op_gru,        &op_lstm,       &op_last_step,  &op_masking,
    &op_repeat_vector, &op_simple_rnn, &op_time_distributed,
};

const char *const op_activation_choices[] = {
    "linear", "relu", "tanh", "sigmoid", "hard_sigmoid", "softmax", NULL,
};

const char *const op_initializer_choices[] = {
    "glorot_uniform", "orthogonal", "zeros", "ones", "uniform", NULL,
};

const OpInfo *op_find(const char *name)
{
    for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
        if (strcmp(op_table[i]->name, name) == 0)
            return op_table[i];
    return NULL;
}

const OpInfo *const *op_all(int *n)
{
    *n = (int)(sizeof op_table / sizeof op_table[0]);
    return op_table;
}

int op_attr_index(const OpInfo *op, const char *name)
{
    for (int i = 0; i < op->n_attrs; i++)
        if (strcmp(op->attrs[i].name, name) == 0)
            return i;
    return -1;
}

const AttrVal *op_attr(const InferCtx *c, const char *name)
{
    int i = op_attr_index(c->layer->op, name);
    if (i < 0)
        seq_die("op %s has no attribute %s", c->layer->op->name, name);
    return &c->layer->attrs[i];
}

long long op_int(const InferCtx *c, const char *name) { return op_attr(c, name)->i; }
double op_float(const InferCtx *c, const char *name) { return op_attr(c, name)->f; }
bool op_bool(const InferCtx *c, const char *name) { return op_attr(c, name)->i != 0; }
const char *op_str(const InferCtx *c, const char *name) { return op_attr(c, name)->s; }

InitKind op_init(const InferCtx *c, const char *attr)
{
    const char *s = op_str(c, attr);
    static const struct { const char *name; InitKind kind; } map[] = {
        {"glorot_uniform", INIT_GLOROT_UNIFORM}, {"orthogonal", INIT_ORTHOGONAL},
        {"zeros", INIT_ZEROS}, {"ones", INIT_ONES}, {"uniform", INIT_UNIFORM},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, s) == 0)
            return map[i].kind;
    seq_die("unknown initializer %s", s);
}

void op_param(InferCtx *c, const char *name, int ndim, const long long *shape, InitKind init)
{
    IrLayer *l = c->layer;
    if (l->built)
        return; /* shapes of a shared layer's later calls are checked by the rule */
    if (l->n_params == IR_MAX_PARAMS)
        seq_die("too many parameters in one layer");
    IrParam *p = &l->params[l->n_params++];
    p->name = arena_printf(c->arena, "%s.%s%s", l->name, c->prefix ? c->prefix : "", name);
    p->ndim = ndim;
    /* Counts from a .seq file are untrusted: LSTM(2000000000)'s recurrent
     * kernel has 1.6e19 elements. Refused (size 0 keeps the rest defined). */
    int64_t size = 1, rf = 1, fan, total;
    bool wraps = false;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        wraps |= seqrt_mul_i64(size, shape[i], &size);
        wraps |= i < ndim - 2 && seqrt_mul_i64(rf, shape[i], &rf);
    }
    wraps |= ndim >= 2 && (seqrt_mul_i64(shape[ndim - 2], rf, &fan) ||
                           seqrt_mul_i64(shape[ndim - 1], rf, &fan));
    wraps |= seqrt_add_i64(l->n_weights, size, &total);
    if (wraps) {
        diag_error(c->diag, c->node->span, "layer '%s' (%s): parameter '%s' has more elements than a "
                   "64-bit count holds", l->name, l->op->name, name);
        size = 0, ndim = p->ndim = 0;
    }
    p->size = size;
    p->init = init;
    /* Keras's compute_fans: [a, b] -> (a, b); conv [K, Cin, F] -> (K*Cin, K*F). */
    if (ndim == 0) {
        p->fan_in = p->fan_out = 1;
    } else if (ndim == 1) {
        p->fan_in = p->fan_out = shape[0];
    } else {
        long long receptive = 1;
        for (int i = 0; i < ndim - 2; i++)
            receptive *= shape[i];
        p->fan_in = shape[ndim - 2] * receptive;
        p->fan_out = shape[ndim - 1] * receptive;
    }
    l->n_weights += p->size;
}

static bool vreport(InferCtx *c, int k, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    diag_error(c->diag, c->node->span, "%s", msg);
    if (k >= 0 && k < c->n_in) {
        const IrTensor *t = c->node->in[k];
        char sb[96], ob[160];
        diag_note(c->diag, t->span, "%s has shape %s here (%s)",
                  t->name ? t->name : "the input", shape_str(&t->shape, sb, sizeof sb),
                  tensor_origin(t, ob, sizeof ob));
    }
    return false;
}

bool op_error_input(InferCtx *c, int k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, k, fmt, ap);
    va_end(ap);
    return false;
}

bool op_error(InferCtx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, -1, fmt, ap);
    va_end(ap);
    return false;
}

bool op_need_rank(InferCtx *c, int k, int rank, const char *what)
{
    const Shape *s = c->in[k];
    if (s->rank == rank)
        return true;
    char sb[96];
    return op_error_input(c, k, "%s expects %s, but got %s", c->layer->op->name, what,
                          shape_str(s, sb, sizeof sb));
}

/* ---- padding masks -------------------------------------------------------- */

MaskRule op_mask_rule(const IrLayer *l, int out)
{
    if (l->op->mask_rule)
        return l->op->mask_rule(l, out);
    return out == 0 ? l->op->mask : MASK_CONSUME;
}

const char *op_mask_rule_name(MaskRule r)
{
    static const char *const names[] = {"unset", "propagate", "combine", "create", "consume",
                                        "drop"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unset";
}

/* Keras's _Merge.compute_mask: the AND of the masks the inputs have. One
 * distinct mask is passed on as it is; two or more, or masks joined along
 * the time axis (Concatenate(axis=1)), make a new one that the call
 * computes. */
static IrTensor *combined_mask(const IrNode *n, IrTensor *out)
{
    IrTensor *m = NULL;
    bool joined = !dim_eq(out->shape.d[0], n->in[0]->shape.d[0]);
    for (int k = 0; k < n->n_in; k++) {
        IrTensor *mk = n->in[k]->mask;
        if (!mk || mk == m)
            continue;
        if (m)
            return out;
        m = mk;
    }
    return m && joined ? out : m;
}

void op_set_masks(IrNode *node)
{
    for (int k = 0; k < node->n_out; k++) {
        IrTensor *t = node->out[k], *m = NULL;
        switch (op_mask_rule(node->layer, k)) {
        case MASK_PROPAGATE: m = node->n_in ? node->in[0]->mask : NULL; break;
        case MASK_COMBINE: m = combined_mask(node, t); break;
        case MASK_CREATE: m = t; break;
        case MASK_CONSUME:
        case MASK_DROP: break;
        case MASK_UNSET: seq_die("op %s declares no mask rule", node->layer->op->name);
        }
        /* A mask is [B, T] over the tensor's first axis. */
        if (m && (t->shape.rank < 1 || !dim_eq(t->shape.d[0], m->shape.d[0])))
            seq_die("op %s: output %d has no time axis matching its mask", node->layer->op->name, k);
        t->mask = m;
        t->masked = m != NULL;
    }
}
