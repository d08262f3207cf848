/*
 * Embedding (KERAS-SEMANTICS 3): out[b, t, :] = E[id[b, t], :].
 * embeddings [V, Dout], initialised U(-0.05, 0.05). Params V*Dout. With
 * mask_zero, id 0 is padding (still looked up, so V counts it).
 */
#include <string.h>

#include "lower.h"
#include "infer.h"
#include "ops.h"

static const AttrSpec attrs[] = {
    {"input_dim", ATTR_INT, true, 0, 0, NULL, NULL},
    {"output_dim", ATTR_INT, true, 0, 0, NULL, NULL},
    {"embeddings_initializer", ATTR_STR, false, 0, 0, "uniform", op_initializer_choices},
    {"mask_zero", ATTR_BOOL, false, 0, 0, NULL, NULL},
    {"input_length", ATTR_INT, false, 0, 0, NULL, NULL},
};

static bool infer(InferCtx *c)
{
    const Shape *x = c->in[0];
    if (!x->is_int)
        return op_error_input(c, 0, "Embedding takes integer token ids (declare the input "
                              "as int[...]), but this input holds floats");
    if (!op_need_rank(c, 0, 1, "token ids [time]"))
        return false;
    long long V = op_int(c, "input_dim"), D = op_int(c, "output_dim");
    if (V <= 0 || D <= 0)
        return op_error(c, "Embedding needs input_dim > 0 and output_dim > 0");
    long long len = op_int(c, "input_length");
    if (op_attr(c, "input_length")->given && (x->d[0].sym || x->d[0].n != len))
        return op_error_input(c, 0, "input_length=%lld does not match the input's time axis", len);
    long long e[2] = {V, D};
    op_param(c, "embeddings", 2, e, op_init(c, "embeddings_initializer"));
    c->out[0] = (Shape){.rank = 2, .d = {x->d[0], dim_fixed(D)}};
    c->n_out = 1;
    return true;
}

/* y[n] = embeddings[x[n]] for every token n of every sample. */
static void forward(LowerOp *o)
{
    long long D = o->layer->params[0].shape[1];
    lower_dim(o, "OUTPUT_DIM", D);
    bool mask = o->node->out[0]->mask == o->node->out[0];
    emit_open(o->p, "for (int64_t n = 0; n < B * T; n++)");
    emit_line(o->p,
            "memcpy(y0 + n * OUTPUT_DIM, embeddings + (int64_t)x0[n] * OUTPUT_DIM, "
            "sizeof(seqrt_real) * OUTPUT_DIM);");
    if (mask)
        emit_line(o->p, "m0[n] = x0[n] != 0; /* mask_zero: id 0 is padding */");
    emit_close(o->p, NULL);
}

/* A scatter-add: repeated ids accumulate. */
static void backward(LowerOp *o)
{
    long long D = o->layer->params[0].shape[1];
    lower_dim(o, "OUTPUT_DIM", D);
    emit_open(o->p, "for (int64_t n = 0; n < B * T; n++)");
    emit_line(o->p, "seqrt_real *row = d_embeddings + (int64_t)x0[n] * OUTPUT_DIM;");
    emit_line(o->p, "for (int64_t j = 0; j < OUTPUT_DIM; j++) row[j] += d_y0[n * OUTPUT_DIM + j];");
    emit_close(o->p, NULL);
}

static const char *step_unsupported(const IrLayer *l)
{
    return l->attrs[op_attr_index(l->op,
                                  "mask_zero")].i ? "mask_zero (padding) is not streamed" : NULL;
}

static void step(InferOp *o)
{
    long long D = o->layer->params[0].shape[1];
    emit_line(o->p, "memcpy(y0, embeddings + (int64_t)x0[0] * %lld, sizeof(float) * %lld);", D, D);
}

/* Token ids index the embeddings' rows. */
static long long int_limit(const IrLayer *l, int k)
{
    (void)k;
    return l->params[0].shape[0];
}

/* mask_zero makes the mask (id != 0); without it there is none to pass on:
 * token ids carry no mask. */
static MaskRule mask_rule(const IrLayer *l, int out)
{
    return out == 0 && l->attrs[op_attr_index(l->op, "mask_zero")].i ? MASK_CREATE : MASK_DROP;
}

/* Keras writes no input_length as null. */
static const char *keras_value(const IrLayer *l, int k, Arena *a)
{
    (void)a;
    return !strcmp(l->op->attrs[k].name, "input_length") && !l->attrs[k].given ? "null" : NULL;
}

const OpInfo op_embedding = {
    .name = "Embedding", .keras_name = "embedding",
    .attrs = attrs, .n_attrs = sizeof attrs / sizeof attrs[0],
    .min_in = 1, .max_in = 1, .takes_ints = true, .infer = infer,
    .forward = forward, .backward = backward, .int_limit = int_limit,
    .step = step, .step_unsupported = step_unsupported, .keras_value = keras_value,
    .mask = MASK_CREATE, .mask_rule = mask_rule,
    .mask_note = "without mask_zero=true no mask is made: a padded batch's loss counts the padding",
};
