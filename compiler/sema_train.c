/*
 * sema_train.c: the train block (losses and their targets, optimizer,
 * metrics, batch size and epochs; Keras's defaults and argument names) and
 * the decode block (which input greedy decoding feeds, from which output).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sema_internal.h"
#include "ops.h"

/* ---- the train block --------------------------------------------------- */

static const struct { const char *name; LossKind kind; } loss_names[] = {
    {"mse", LOSS_MSE},
    {"mean_squared_error", LOSS_MSE},
    {"mae", LOSS_MAE},
    {"mean_absolute_error", LOSS_MAE},
    {"categorical_crossentropy", LOSS_CATEGORICAL_CROSSENTROPY},
    {"sparse_categorical_crossentropy", LOSS_SPARSE_CATEGORICAL_CROSSENTROPY},
    {"binary_crossentropy", LOSS_BINARY_CROSSENTROPY},
};

static bool num_arg(Sema *S, AstNode *v, const char *what, double *out)
{
    if (v->kind == AST_INT)
        *out = (double)v->ival;
    else if (v->kind == AST_FLOAT)
        *out = v->fval;
    else {
        diag_error(S->d, v->span, "'%s' must be a number, not %s", what, seq_sema_expr_kind_word(v));
        return false;
    }
    return true;
}

static bool bool_arg(Sema *S, AstNode *v, const char *what, bool *out)
{
    if (v->kind != AST_BOOL) {
        diag_error(S->d, v->span, "'%s' must be true or false, not %s", what, seq_sema_expr_kind_word(v));
        return false;
    }
    *out = v->ival != 0;
    return true;
}

static void unknown_key(Sema *S, Span at, const char *key, const char *what,
                        const char *const *names, int n)
{
    diag_error(S->d, at, "%s has no '%s'", what, key);
    seq_sema_suggest_key(S, at, key, "it takes:", names, n);
}

/* The index of s among names[n], or -1. */
static int index_of(const char *s, const char *const *names, int n, bool nocase)
{
    for (int k = 0; k < n; k++)
        if (!(nocase ? strcasecmp(names[k], s) : strcmp(names[k], s)))
            return k;
    return -1;
}

/* The index of s among names[n]; else "unknown WHAT" with the closest name
 * or the list of them, and -1. */
static int find_name(Sema *S, Span at, const char *s, const char *what, const char *intro,
                     const char *const *names, int n, bool nocase)
{
    int k = index_of(s, names, n, nocase);
    if (k >= 0)
        return k;
    diag_error(S->d, at, "unknown %s '%s'", what, s);
    const char *best = seq_closest(s, names, n);
    if (best)
        diag_note(S->d, at, "did you mean '%s'?", best);
    else
        seq_sema_list_known(S, intro, names, n);
    return -1;
}

/* Does the prediction fit the target for this loss? Both shapes and where
 * each came from are named when not. */
static bool check_loss_shapes(Sema *S, const IrLoss *L, const char *fn)
{
    const Shape *p = &L->pred->shape, *y = &L->target->shape;
    char ps[96], ys[96], po[160], yo[160];
    bool ok;
    const char *why = "";
    if (p->is_int) {
        diag_error(S->d, L->span, "%s needs a float prediction, but '%s' holds integers", fn,
                   L->pred->name ? L->pred->name : "it");
        return false;
    }
    if (L->kind == LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
        /* labels [..., ] int against probabilities [..., C] */
        ok = y->is_int && y->rank == p->rank - 1;
        for (int i = 0; ok && i < y->rank; i++)
            ok = dim_eq(p->d[i], y->d[i]);
        if (!ok && y->is_int && y->rank == p->rank && !y->d[y->rank - 1].sym &&
            y->d[y->rank - 1].n == 1) {
            ok = true;
            for (int i = 0; ok && i < y->rank - 1; i++)
                ok = dim_eq(p->d[i], y->d[i]);
        }
        if (!y->is_int)
            why = " (sparse labels are integers: declare the target as int[...])";
    } else {
        ok = !y->is_int && shape_eq(p, y);
        if (y->is_int)
            why = " (integer labels need sparse_categorical_crossentropy)";
    }
    if (ok)
        return true;
    diag_error(S->d, L->span, "%s compares '%s' %s with '%s' %s, which do not fit%s", fn,
               L->pred->name ? L->pred->name : "the prediction", shape_str(p, ps, sizeof ps),
               L->target->name, shape_str(y, ys, sizeof ys), why);
    diag_note(S->d, L->pred->span, "the prediction is the %s",
              tensor_origin(L->pred, po, sizeof po));
    diag_note(S->d, L->target->span, "the target is declared here as %s",
              tensor_origin(L->target, yo, sizeof yo));
    return false;
}

/* The declaration of the target a loss would compare `pred` with. */
static void target_hint(Sema *S, LossKind kind, const IrTensor *pred, const char *name)
{
    Shape y = pred->shape;
    y.is_int = kind == LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    if (y.is_int && --y.rank == 0)
        y = (Shape){.rank = 1, .is_int = true, .d = {dim_fixed(1)}};
    char b[160];
    diag_note(S->d, SPAN_NONE, "a loss compares a prediction with a target; declare one, like "
              "'target %s : %s'", name, seq_sema_decl_shape(&y, b, sizeof b));
}

/* A loss lacks its target: name one the model has, or say how to declare one. */
static void target_note(Sema *S, const char *fn, LossKind kind, const IrTensor *pred)
{
    if (S->targets.n)
        diag_note(S->d, SPAN_NONE, "a loss compares a prediction with a target, like %s(%s, %s)",
                  fn, pred->name ? pred->name : "p", ((IrTensor *)S->targets.items[0])->name);
    else
        target_hint(S, kind, pred, "y");
}

/* A loss's second argument names nothing (and no name is close): the
 * target is missing. true after saying so. */
static bool undeclared_target(Sema *S, AstNode *e, LossKind kind, const IrTensor *pred)
{
    if (e->kind != AST_NAME || seq_sym_find(&S->syms, e->str))
        return false;
    int n;
    const char **names = seq_sym_names(S, &S->syms, &n);
    if (seq_closest(e->str, names, n))
        return false; /* a typo: seq_sema_resolve() says "did you mean" */
    diag_error(S->d, e->span, "'%s' is not defined", e->str);
    target_hint(S, kind, pred, e->str);
    return true;
}

static void read_loss(Sema *S, AstNode *v, PtrVec *losses)
{
    if (v->kind != AST_CALL || v->b->kind != AST_NAME) {
        diag_error(S->d, v->span, "a loss is written fn(prediction, target), like "
                   "mse(p, y)");
        return;
    }
    const char *fn = v->b->str;
    IrLoss *L = ARENA_NEW(S->a, IrLoss);
    L->span = v->span;
    L->weight = 1.0;
    const char *names[ARRAY_LEN(loss_names)];
    for (int i = 0; i < ARRAY_LEN(loss_names); i++)
        names[i] = loss_names[i].name;
    int k = find_name(S, v->b->span, fn, "loss", "known losses:", names, ARRAY_LEN(names), false);
    if (k < 0)
        return;
    L->kind = loss_names[k].kind;
    /* Keras's arguments for each loss (weight is loss_weights, per loss):
     * mse and mae take no other; label_smoothing is not sparse CE's. */
    static const char *const keys[] = {"weight", "from_logits", "label_smoothing"};
    int n_keys = L->kind == LOSS_MSE || L->kind == LOSS_MAE ? 1
                 : L->kind == LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 2 : 3;
    IrTensor *pos[2];
    int n_pos = 0;
    bool ok = true;
    for (AstNode *arg = v->a; arg; arg = arg->next) {
        if (!arg->str) {
            IrTensor *t[IR_MAX_IO];
            if (n_pos == 2) {
                diag_error(S->d, arg->span, "a loss takes two tensors: prediction, target");
                return;
            }
            if (n_pos == 1 && undeclared_target(S, arg->b, L->kind, pos[0]))
                return;
            int n = seq_sema_eval_expr(S, arg->b, t, IR_MAX_IO);
            if (n < 0)
                return;
            if (n != 1) {
                diag_error(S->d, arg->span, "this gives %d tensors where one is expected", n);
                return;
            }
            pos[n_pos++] = t[0];
            continue;
        }
        int j = index_of(arg->str, keys, n_keys, false);
        if (j < 0) {
            Span key = {arg->span.start, arg->span.start + (uint32_t)strlen(arg->str)};
            unknown_key(S, key, arg->str, fn, keys, n_keys);
            if (!strcmp(arg->str, "label_smoothing"))
                diag_note(S->d, SPAN_NONE, "Keras smooths one-hot targets only: use "
                          "categorical_crossentropy with a one-hot target to smooth labels");
            ok = false;
        } else if (j == 0) {
            ok &= num_arg(S, arg->b, "weight", &L->weight);
        } else if (j == 1) {
            ok &= bool_arg(S, arg->b, "from_logits", &L->from_logits);
        } else if (num_arg(S, arg->b, "label_smoothing", &L->label_smoothing)) {
            if (L->label_smoothing < 0 || L->label_smoothing > 1) {
                diag_error(S->d, arg->b->span, "label_smoothing must be in [0, 1]");
                ok = false;
            }
        } else {
            ok = false;
        }
    }
    if (!ok)
        return;
    if (n_pos != 2) {
        diag_error(S->d, v->span, "%s takes two tensors: prediction, target", fn);
        if (n_pos == 1)
            target_note(S, fn, L->kind, pos[0]);
        return;
    }
    L->pred = pos[0];
    L->target = pos[1];
    if (L->target->role != TENSOR_TARGET) {
        char ob[160];
        diag_error(S->d, v->a->next->span, "the second argument of %s must be a target, "
                   "but '%s' is the %s", fn, L->target->name ? L->target->name : "it",
                   tensor_origin(L->target, ob, sizeof ob));
        target_note(S, fn, L->kind, L->pred);
        return;
    }
    if (L->pred->role == TENSOR_TARGET) {
        diag_error(S->d, v->a->span, "the first argument of %s must be a prediction, not the "
                   "target '%s'", fn, L->pred->name);
        return;
    }
    if (L->from_logits && (L->pred->from_softmax || L->pred->from_sigmoid))
        diag_error(S->d, v->span, "from_logits=true, but '%s' is already a probability "
                   "(it comes from a softmax or sigmoid activation)", L->pred->name);
    else if (check_loss_shapes(S, L, fn))
        ptrvec_push(losses, L);
}

/* optimizer = adam | adam(learning_rate=0.01, ...): Keras defaults first. */
static void read_optimizer(Sema *S, AstNode *v, IrOptim *o)
{
    AstNode *name = v->kind == AST_CALL ? v->b : v;
    if (name->kind != AST_NAME && name->kind != AST_STRING) {
        diag_error(S->d, v->span, "an optimizer is written like adam or "
                   "adam(learning_rate=0.001)");
        return;
    }
    static const char *const names[] = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
    static const OptKind kinds[] = {OPT_SGD, OPT_ADAM, OPT_ADAMW, OPT_RMSPROP, OPT_ADAGRAD};
    _Static_assert(ARRAY_LEN(names) == ARRAY_LEN(kinds), "an OptKind for each optimizer name");
    int k = find_name(S, name->span, name->str, "optimizer", "known optimizers:", names,
                      ARRAY_LEN(names), true);
    if (k < 0)
        return;
    *o = (IrOptim){.kind = kinds[k], .learning_rate = 0.001, .beta_1 = 0.9, .beta_2 = 0.999,
                   .epsilon = 1e-7, .rho = 0.9, .initial_accumulator_value = 0.1};
    if (o->kind == OPT_SGD)
        o->learning_rate = 0.01;
    if (o->kind == OPT_ADAMW)
        o->weight_decay = 0.004;
    if (v->kind != AST_CALL)
        return;
    static const char *const keys[] = {
        "learning_rate", "beta_1", "beta_2", "epsilon", "momentum", "rho", "weight_decay",
        "initial_accumulator_value", "nesterov", "amsgrad", "centered", "clipnorm",
        "clipvalue", "global_clipnorm",
    };
    double *nums[] = {&o->learning_rate, &o->beta_1, &o->beta_2, &o->epsilon, &o->momentum,
                      &o->rho, &o->weight_decay, &o->initial_accumulator_value};
    bool *bools[] = {&o->nesterov, &o->amsgrad, &o->centered};
    /* Which keys each optimizer takes (Keras's signatures), by bit of keys[]. */
    enum { COMMON = 1u << 0 | 1u << 6 | 1u << 11 | 1u << 12 | 1u << 13 };
    static const unsigned allowed[] = {
        COMMON | 1u << 4 | 1u << 8,                     /* sgd */
        COMMON | 1u << 1 | 1u << 2 | 1u << 3 | 1u << 9, /* adam */
        COMMON | 1u << 1 | 1u << 2 | 1u << 3 | 1u << 9, /* adamw */
        COMMON | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 10, /* rmsprop */
        COMMON | 1u << 3 | 1u << 7,                     /* adagrad */
    };
    double *clips[] = {&o->clipnorm, &o->clipvalue, &o->global_clipnorm};
    _Static_assert(ARRAY_LEN(allowed) == ARRAY_LEN(names), "a key mask for each optimizer");
    _Static_assert(ARRAY_LEN(nums) + ARRAY_LEN(bools) + ARRAY_LEN(clips) == ARRAY_LEN(keys),
                   "keys[] is the numbers, then the flags, then the clips");
    int n_clips = 0;
    for (AstNode *arg = v->a; arg; arg = arg->next) {
        if (!arg->str) {
            if (arg != v->a) {
                diag_error(S->d, arg->span, "only the learning rate may be given by position");
                continue;
            }
            num_arg(S, arg->b, "learning_rate", &o->learning_rate);
            continue;
        }
        const int n_nums = ARRAY_LEN(nums), n_flags = n_nums + ARRAY_LEN(bools);
        int j = index_of(arg->str, keys, ARRAY_LEN(keys), false);
        if (j < 0 || !(allowed[k] & (1u << j))) {
            const char *mine[ARRAY_LEN(keys)];
            int n = 0;
            for (int q = 0; q < ARRAY_LEN(keys); q++)
                if (allowed[k] & (1u << q))
                    mine[n++] = keys[q];
            Span key = {arg->span.start, arg->span.start + (uint32_t)strlen(arg->str)};
            unknown_key(S, key, arg->str, names[k], mine, n);
        } else if (j < n_nums)
            num_arg(S, arg->b, keys[j], nums[j]);
        else if (j < n_flags)
            bool_arg(S, arg->b, keys[j], bools[j - n_nums]);
        else {
            num_arg(S, arg->b, keys[j], clips[j - n_flags]);
            if (++n_clips > 1)
                diag_error(S->d, arg->span, "set at most one of clipnorm, clipvalue and "
                           "global_clipnorm (as in Keras)");
        }
    }
    if (o->learning_rate <= 0)
        diag_error(S->d, v->span, "the learning rate must be > 0");
}

static void read_metrics(Sema *S, AstNode *v, unsigned *metrics)
{
    static const char *const names[] = {
        "accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
        "binary_accuracy", "mae", "mse",
    };
    _Static_assert(1u << (ARRAY_LEN(names) - 1) == METRIC_MSE, "names[k] is the metric 1 << k");
    AstNode *items = v->kind == AST_LIST ? v->a : v;
    for (AstNode *it = items; it; it = v->kind == AST_LIST ? it->next : NULL) {
        if (it->kind != AST_NAME && it->kind != AST_STRING) {
            diag_error(S->d, it->span, "metrics are names, like [accuracy]");
            continue;
        }
        int k = find_name(S, it->span, it->str, "metric", "known metrics:", names,
                          ARRAY_LEN(names), false);
        if (k >= 0)
            *metrics |= 1u << k;
    }
}

void seq_sema_read_train(Sema *S, AstNode *st)
{
    IrTrain *t = &S->g->train;
    if (t->present) {
        diag_error(S->d, st->span, "a model has one train block");
        diag_note(S->d, t->span, "the first is here");
        return;
    }
    t->present = true;
    t->span = st->span;
    t->batch_size = 32;
    t->epochs = 1;
    read_optimizer(S, &(AstNode){.kind = AST_NAME, .str = "rmsprop"}, &t->optim);
    PtrVec losses = {0};
    static const char *const keys[] = {
        "loss", "optimizer", "batch_size", "epochs", "metrics", "validation_split",
    };
    bool seen[ARRAY_LEN(keys)] = {false};
    for (AstNode *e = st->a; e; e = e->next) {
        int k = index_of(e->str, keys, ARRAY_LEN(keys), false);
        Span key = {e->span.start, e->span.start + (uint32_t)strlen(e->str)};
        if (k < 0) {
            unknown_key(S, key, e->str, "the train block", keys, ARRAY_LEN(keys));
            continue;
        }
        if (seen[k] && k != 0)
            diag_error(S->d, key, "'%s' is set twice", e->str);
        seen[k] = true;
        AstNode *v = e->b;
        double x;
        switch (k) {
        case 0: read_loss(S, v, &losses); break;
        case 1: read_optimizer(S, v, &t->optim); break;
        case 2:
        case 3:
            if (v->kind != AST_INT || v->ival <= 0)
                diag_error(S->d, v->span, "'%s' must be an integer > 0", e->str);
            else if (k == 2)
                t->batch_size = v->ival;
            else
                t->epochs = v->ival;
            break;
        case 4: read_metrics(S, v, &t->metrics); break;
        case 5:
            if (num_arg(S, v, "validation_split", &x)) {
                if (x < 0 || x >= 1)
                    diag_error(S->d, v->span, "validation_split must be in [0, 1)");
                t->validation_split = x;
            }
            break;
        }
    }
    if (!seen[0])
        diag_error(S->d, st->span, "the train block has no loss; add one, like "
                   "loss = mse(prediction, target)");
    t->n_losses = losses.n;
    t->losses = ARENA_ARRAY(S->a, IrLoss, losses.n + 1);
    for (int i = 0; i < losses.n; i++)
        t->losses[i] = *(IrLoss *)losses.items[i];
    ptrvec_free(&losses);
}

/* ---- the decode block ---------------------------------------------------- */

static IrTensor *decode_tensor(Sema *S, AstNode *v, const char *key)
{
    IrTensor *t[IR_MAX_IO];
    if (v->kind != AST_NAME) {
        diag_error(S->d, v->span, "decode's '%s' must name a tensor", key);
        return NULL;
    }
    return seq_sema_eval_expr(S, v, t, IR_MAX_IO) == 1 ? t[0] : NULL;
}

/* decode { decoder_input = d  prediction = probs  start = 6  [attention = w] } */
void seq_sema_read_decode(Sema *S, AstNode *st)
{
    IrDecode *dc = &S->g->decode;
    if (dc->present) {
        diag_error(S->d, st->span, "a model has one decode block");
        return;
    }
    dc->present = true;
    dc->span = st->span;
    static const char *const keys[] = {"decoder_input", "prediction", "start", "attention"};
    bool seen[ARRAY_LEN(keys)] = {false};
    for (AstNode *e = st->a; e; e = e->next) {
        int k = index_of(e->str, keys, ARRAY_LEN(keys), false);
        Span key = {e->span.start, e->span.start + (uint32_t)strlen(e->str)};
        if (k < 0) {
            unknown_key(S, key, e->str, "the decode block", keys, ARRAY_LEN(keys));
            continue;
        }
        seen[k] = true;
        if (k == 2) {
            if (e->b->kind != AST_INT || e->b->ival < 0)
                diag_error(S->d, e->b->span, "decode's 'start' must be a token id >= 0");
            else
                dc->start = e->b->ival;
        } else {
            IrTensor *t = decode_tensor(S, e->b, keys[k]);
            if (k == 0)
                dc->input = t;
            else if (k == 1)
                dc->output = t;
            else
                dc->attention = t;
        }
    }
    for (int k = 0; k < 3; k++)
        if (!seen[k]) {
            diag_error(S->d, st->span, "the decode block needs '%s'", keys[k]);
            return;
        }
    IrTensor *in = dc->input, *out = dc->output;
    if (!in || !out)
        return;
    char a[96], b[96];
    const Shape *si = &in->shape, *so = &out->shape;
    if (in->role != TENSOR_INPUT) {
        diag_error(S->d, st->span, "decode's decoder_input '%s' must be a model input", in->name);
        return;
    }
    bool time_ok = si->d[0].sym && so->rank == 2 && dim_eq(si->d[0], so->d[0]);
    bool feat_ok = si->is_int ? si->rank == 1 : si->rank == 2 && dim_eq(si->d[1], so->d[1]);
    if (!time_ok || !feat_ok) {
        diag_error(S->d, st->span, "decode feeds '%s' %s back into '%s' %s: they need the same "
                   "named time axis, and one-hot inputs the same width (or int[T] token ids)",
                   out->name ? out->name : "the output", shape_str(so, a, sizeof a), in->name,
                   shape_str(si, b, sizeof b));
        return;
    }
    if (!so->d[1].sym && dc->start >= so->d[1].n)
        diag_error(S->d, st->span, "decode's start token %lld is not below the %lld classes of '%s'",
                   dc->start, so->d[1].n, out->name ? out->name : "the output");
    if (dc->attention && (dc->attention->shape.rank != 2 ||
                          !dim_eq(dc->attention->shape.d[0], si->d[0])))
        diag_error(S->d, st->span, "decode's attention must be [%s, steps attended], one row per "
                   "decoder step", si->d[0].sym);
}
