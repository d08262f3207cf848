/*
 * sema.c: AST -> IR. Resolves names, builds layers from their attributes
 * (checked against each op's schema, Keras defaults filled in), applies
 * them to tensors in dependency order, runs each op's shape rule as its node
 * is made, and reads the train block. Statements may come in any order;
 * a definition is evaluated when first needed, so a cycle is caught and
 * named. Errors are reported and evaluation goes on with the next
 * statement; a name whose definition failed is poisoned so it does not
 * cause a second, derived error.
 */
#include "sema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops.h"
#include "sema_internal.h"
#include "util.h"

/* ---- symbols ----------------------------------------------------------- */

/* AstNode.mark of a definition while sema runs. */
enum { EVAL_TODO, EVAL_BUSY, EVAL_DONE, EVAL_FAILED };

/* `_` discards a result, as in Python: out, _, _ = LSTM(...)(x). */
static bool is_discard(const char *name) { return name[0] == '_' && name[1] == '\0'; }


enum { SEMA_MAX_DEPTH = 1000 };

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

Sym *seq_sym_find(SymTab *t, const char *name)
{
    if (!t->n_buckets)
        return NULL;
    for (Sym *s = t->buckets[hash_str(name) & (unsigned)(t->n_buckets - 1)]; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static void sym_insert(SymTab *t, Sym *s)
{
    if (t->n * 2 >= t->n_buckets) {
        int nb = t->n_buckets ? t->n_buckets * 4 : 64;
        Sym **b = calloc((size_t)nb, sizeof *b);
        if (!b)
            seq_die("out of memory");
        for (int i = 0; i < t->n_buckets; i++)
            for (Sym *p = t->buckets[i], *next; p; p = next) {
                next = p->next;
                unsigned h = hash_str(p->name) & (unsigned)(nb - 1);
                p->next = b[h];
                b[h] = p;
            }
        free(t->buckets);
        t->buckets = b;
        t->n_buckets = nb;
    }
    unsigned h = hash_str(s->name) & (unsigned)(t->n_buckets - 1);
    s->next = t->buckets[h];
    t->buckets[h] = s;
    t->n++;
}

/* The known names (for "did you mean"): every symbol of the table. */
const char **seq_sym_names(Sema *S, SymTab *t, int *n)
{
    const char **v = ARENA_ARRAY(S->a, const char *, t->n + 1);
    int k = 0;
    for (int i = 0; i < t->n_buckets; i++)
        for (Sym *s = t->buckets[i]; s; s = s->next)
            v[k++] = s->name;
    *n = k;
    return v;
}

/* ---- small helpers ----------------------------------------------------- */

static IrTensor *new_tensor(Sema *S, const char *name, Shape shape, TensorRole role, Span at)
{
    IrTensor *t = ARENA_NEW(S->a, IrTensor);
    t->id = S->tensors.n;
    t->name = name;
    t->shape = shape;
    t->role = role;
    t->span = at;
    ptrvec_push(&S->tensors, t);
    return t;
}

static bool define(Sema *S, const char *name, Span at, Sym **out)
{
    Sym *old = seq_sym_find(&S->syms, name);
    if (old) {
        diag_error(S->d, at, "'%s' is already defined", name);
        diag_note(S->d, old->span, "'%s' was first defined here", name);
        return false;
    }
    Sym *s = ARENA_NEW(S->a, Sym);
    s->name = name;
    s->span = at;
    sym_insert(&S->syms, s);
    *out = s;
    return true;
}

static void suggest(Sema *S, Span at, const char *what, const char *const *cands, int n)
{
    const char *best = seq_closest(what, cands, n);
    if (best)
        diag_note(S->d, at, "did you mean '%s'?", best);
}

void seq_sema_list_known(Sema *S, const char *intro, const char *const *cands, int n)
{
    char buf[1024];
    size_t k = (size_t)snprintf(buf, sizeof buf, "%s", intro);
    for (int i = 0; i < n && k < sizeof buf; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s", i ? ", " : " ", cands[i]);
    diag_note(S->d, SPAN_NONE, "%s", buf);
}

/* Keras names that edit distance would not find: older Keras spellings and
 * near misses Keras users type. */
static const struct { const char *typed, *meant; } keras_names[] = {
    {"lr", "learning_rate"},
    {"dilation", "dilation_rate"},
    {"dilations", "dilation_rate"},
    {"kernel", "kernel_size"},
    {"stride", "strides"},
    {"num_filters", "filters"},
};

/* An unknown attribute or key: "did you mean" when one is close, then the
 * names that do exist. */
void seq_sema_suggest_key(Sema *S, Span at, const char *key, const char *intro,
                          const char *const *names, int n)
{
    const char *best = NULL;
    for (size_t i = 0; i < sizeof keras_names / sizeof keras_names[0] && !best; i++)
        if (!strcmp(key, keras_names[i].typed))
            for (int k = 0; k < n; k++)
                if (!strcmp(names[k], keras_names[i].meant))
                    best = names[k];
    if (!best)
        best = seq_closest(key, names, n);
    if (best)
        diag_note(S->d, at, "did you mean '%s'?", best);
    seq_sema_list_known(S, intro, names, n);
}

/* A shape as a declaration writes it: "[T, 2]", "int[T]". */
const char *seq_sema_decl_shape(const Shape *s, char *buf, size_t len)
{
    size_t k = (size_t)snprintf(buf, len, "%s[", s->is_int ? "int" : "");
    for (int i = 0; i < s->rank && k < len; i++) {
        char db[64];
        k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", dim_str(s->d[i], db, sizeof db));
    }
    if (k < len)
        snprintf(buf + k, len - k, "]");
    return buf;
}

/* Keras's input_shape=[None, 1] (or input_dim=8) on a layer: here the shape
 * is declared once, on an input. Returns false when `key` is not one. */
static bool input_shape_hint(Sema *S, const OpInfo *op, AstNode *arg)
{
    const char *key = arg->str;
    bool batch = !strcmp(key, "batch_input_shape");
    if (strcmp(key, "input_shape") && strcmp(key, "input_dim") && !batch)
        return false;
    char dims[256] = "T, features";
    AstNode *v = arg->b;
    if (v->kind == AST_INT) {
        snprintf(dims, sizeof dims, "T, %lld", v->ival);
    } else if (v->kind == AST_LIST) {
        size_t k = 0;
        int i = 0;
        bool ok = true;
        for (AstNode *it = v->a; it && ok && k < sizeof dims; it = it->next, i++) {
            if (batch && i == 0)
                continue;
            bool none = it->kind == AST_NAME && !strcmp(it->str, "None");
            ok = none || it->kind == AST_INT;
            if (ok)
                k += none ? (size_t)snprintf(dims + k, sizeof dims - k, "%sT", k ? ", " : "")
                          : (size_t)snprintf(dims + k, sizeof dims - k, "%s%lld", k ? ", " : "",
                                             it->ival);
        }
        if (!ok || k == 0)
            snprintf(dims, sizeof dims, "T, features");
    }
    Span at = {arg->span.start, arg->span.start + (uint32_t)strlen(key)};
    diag_error(S->d, at, "%s has no attribute '%s': shapes are not given to layers", op->name, key);
    diag_note(S->d, SPAN_NONE, "declare an input instead, like 'input x : [%s]', and apply the layer "
              "to it: %s(...)(x)", dims, op->name);
    return true;
}

const char *seq_sema_expr_kind_word(const AstNode *e)
{
    switch (e->kind) {
    case AST_INT: return "an integer";
    case AST_FLOAT: return "a number";
    case AST_STRING: return "a string";
    case AST_BOOL: return "a boolean";
    case AST_LIST: return "a list";
    case AST_NAME: return "a name";
    default: return "an expression";
    }
}

/* ---- layers ------------------------------------------------------------ */

static const char *auto_name(Sema *S, const char *stem)
{
    int k = 0;
    while (k < S->n_counters && strcmp(S->counters[k].stem, stem) != 0)
        k++;
    if (k == S->n_counters) {
        if (k == (int)(sizeof S->counters / sizeof S->counters[0]))
            seq_die("too many layer kinds");
        S->counters[k].stem = stem;
        S->counters[k].next = 0;
        S->n_counters++;
    }
    /* Keras: lstm, lstm_1, lstm_2, ...; skip names the user took. */
    for (;;) {
        int i = S->counters[k].next++;
        const char *name = i == 0 ? stem : arena_printf(S->a, "%s_%d", stem, i);
        if (!seq_sym_find(&S->layer_names, name))
            return name;
    }
}

static void claim_layer_name(Sema *S, const char *name, Span at)
{
    Sym *s = ARENA_NEW(S->a, Sym);
    s->name = name;
    s->span = at;
    sym_insert(&S->layer_names, s);
}

static IrLayer *build_layer(Sema *S, AstNode *call);
static bool eval_stmt(Sema *S, AstNode *stmt);

/* One attribute value, checked against its spec. */
static bool set_attr(Sema *S, const OpInfo *op, const AttrSpec *spec, AttrVal *v, AstNode *e)
{
    v->given = true;
    v->span = e->span;
    switch (spec->type) {
    case ATTR_INT:
        if (e->kind != AST_INT)
            goto type_error;
        v->i = e->ival;
        return true;
    case ATTR_FLOAT:
        if (e->kind == AST_INT)
            v->f = (double)e->ival;
        else if (e->kind == AST_FLOAT)
            v->f = e->fval;
        else
            goto type_error;
        return true;
    case ATTR_BOOL:
        if (e->kind == AST_NAME && (!strcmp(e->str, "True") || !strcmp(e->str, "False"))) {
            diag_error(S->d, e->span, "'%s' is Python; write %s", e->str,
                       e->str[0] == 'T' ? "true" : "false");
            return false;
        }
        if (e->kind != AST_BOOL)
            goto type_error;
        v->i = e->ival;
        return true;
    case ATTR_STR: {
        if (e->kind != AST_STRING && e->kind != AST_NAME)
            goto type_error;
        const char *s = e->str;
        if (!strcmp(s, "None") && spec->choices == op_activation_choices)
            s = "linear";
        if (!strcmp(s, "None") && spec->choices && !strcmp(spec->choices[0], "concat"))
            s = "none";
        int n = 0;
        while (spec->choices[n])
            n++;
        for (int i = 0; i < n; i++)
            if (!strcmp(spec->choices[i], s)) {
                v->s = spec->choices[i];
                return true;
            }
        diag_error(S->d, e->span, "'%s' is not a valid %s for %s", s, spec->name, op->name);
        const char *best = seq_closest(s, spec->choices, n);
        if (best)
            diag_note(S->d, e->span, "did you mean '%s'?", best);
        else
            seq_sema_list_known(S, "it may be one of:", spec->choices, n);
        return false;
    }
    case ATTR_INTS:
        if (e->kind == AST_INT) {
            v->ints[0] = e->ival;
            v->n_ints = 1;
            return true;
        }
        if (e->kind != AST_LIST)
            goto type_error;
        v->n_ints = 0; /* the list replaces the default */
        for (AstNode *it = e->a; it; it = it->next) {
            if (it->kind != AST_INT || v->n_ints == 4)
                goto type_error;
            v->ints[v->n_ints++] = it->ival;
        }
        return true;
    case ATTR_LAYER:
        if (e->kind == AST_NAME) {
            Sym *s = seq_sym_find(&S->syms, e->str);
            if (s && s->kind == SYM_PENDING && s->stmt->kind == AST_LAYER)
                eval_stmt(S, s->stmt); /* `layer` defined further down */
            if (s && s->kind == SYM_LAYER) {
                v->layer = s->layer;
                return true;
            }
        }
        if (e->kind != AST_CALL || e->b->kind != AST_NAME)
            goto type_error;
        v->layer = build_layer(S, e);
        return v->layer != NULL;
    }
type_error:;
    static const char *const words[] = {
        [ATTR_INT] = "an integer", [ATTR_FLOAT] = "a number", [ATTR_BOOL] = "true or false",
        [ATTR_STR] = "a name", [ATTR_LAYER] = "a layer, like LSTM(32)",
        [ATTR_INTS] = "an integer or a list of integers",
    };
    diag_error(S->d, e->span, "%s's '%s' must be %s, not %s", op->name, spec->name,
               words[spec->type], seq_sema_expr_kind_word(e));
    return false;
}

/* Layer(args...): an op name called with hyperparameters. */
static IrLayer *build_layer(Sema *S, AstNode *call)
{
    const char *kind = call->b->str;
    const OpInfo *op = op_find(kind);
    if (!op) {
        int n;
        const OpInfo *const *all = op_all(&n);
        const char *names[64];
        for (int i = 0; i < n; i++)
            names[i] = all[i]->name;
        diag_error(S->d, call->b->span, "unknown layer '%s'", kind);
        const char *best = seq_closest(kind, names, n);
        if (best)
            diag_note(S->d, call->b->span, "did you mean '%s'?", best);
        else
            seq_sema_list_known(S, "known layers:", names, n);
        return NULL;
    }
    IrLayer *l = ARENA_NEW(S->a, IrLayer);
    l->op = op;
    l->span = call->span;
    l->attrs = ARENA_ARRAY(S->a, AttrVal, op->n_attrs + 1);
    for (int i = 0; i < op->n_attrs; i++) {
        const AttrSpec *sp = &op->attrs[i];
        AttrVal *v = &l->attrs[i];
        v->type = sp->type;
        v->i = sp->i;
        v->f = sp->f;
        v->s = sp->s;
        if (sp->type == ATTR_INTS) {
            v->ints[0] = sp->i;
            v->n_ints = 1;
        }
        v->span = call->span;
    }
    const char *user_name = NULL;
    Span name_span = call->span;
    bool ok = true;
    int pos = 0;
    for (AstNode *arg = call->a; arg; arg = arg->next) {
        int idx;
        if (!arg->str) {
            if (pos >= op->n_attrs) {
                diag_error(S->d, arg->span, "%s takes at most %d positional argument%s",
                           op->name, op->n_attrs, op->n_attrs == 1 ? "" : "s");
                ok = false;
                continue;
            }
            idx = pos++;
        } else if (!strcmp(arg->str, "name")) {
            if (arg->b->kind != AST_STRING && arg->b->kind != AST_NAME) {
                diag_error(S->d, arg->b->span, "a layer's name must be a string");
                ok = false;
            } else {
                user_name = arg->b->str;
                name_span = arg->b->span;
            }
            continue;
        } else {
            idx = op_attr_index(op, arg->str);
            if (idx < 0 && input_shape_hint(S, op, arg)) {
                ok = false;
                continue;
            }
            if (idx < 0) {
                Span at = {arg->span.start, arg->span.start + (uint32_t)strlen(arg->str)};
                diag_error(S->d, at, "%s has no attribute '%s'", op->name, arg->str);
                const char *names[64];
                int n = 0;
                for (int i = 0; i < op->n_attrs && n < 63; i++)
                    names[n++] = op->attrs[i].name;
                names[n++] = "name";
                seq_sema_suggest_key(S, at, arg->str, "its attributes are:", names, n);
                ok = false;
                continue;
            }
        }
        if (l->attrs[idx].given) {
            diag_error(S->d, arg->span, "%s's '%s' is given twice", op->name,
                       op->attrs[idx].name);
            ok = false;
            continue;
        }
        ok &= set_attr(S, op, &op->attrs[idx], &l->attrs[idx], arg->b);
    }
    for (int i = 0; i < op->n_attrs && ok; i++)
        if (op->attrs[i].required && !l->attrs[i].given) {
            diag_error(S->d, call->span, "%s needs '%s'", op->name, op->attrs[i].name);
            ok = false;
        }
    if (!ok)
        return NULL;
    if (user_name) {
        if (seq_sym_find(&S->layer_names, user_name)) {
            diag_error(S->d, name_span, "a layer named '%s' already exists", user_name);
            diag_note(S->d, seq_sym_find(&S->layer_names, user_name)->span, "it is defined here");
            return NULL;
        }
        l->name = user_name;
    } else {
        l->name = auto_name(S, op->keras_name);
    }
    claim_layer_name(S, l->name, name_span);
    for (int i = 0; i < op->n_attrs; i++)
        if (l->attrs[i].layer)
            l->attrs[i].layer->owner = l;
    l->id = S->layers.n;
    ptrvec_push(&S->layers, l);
    return l;
}

/* ---- expressions ------------------------------------------------------- */

static bool eval_stmt(Sema *S, AstNode *stmt);

/* A name used as a tensor; evaluates its definition first if needed. */
static const char *stmt_name(const AstNode *st)
{
    if (st->kind == AST_LAYER)
        return st->str;
    for (const AstNode *n = st->a; n; n = n->next)
        if (!is_discard(n->str))
            return n->str;
    return "_";
}

IrTensor *seq_sema_resolve(Sema *S, AstNode *e, bool *poisoned)
{
    Sym *s = seq_sym_find(&S->syms, e->str);
    *poisoned = false;
    if (!s) {
        diag_error(S->d, e->span, "'%s' is not defined", e->str);
        int n;
        const char **names = seq_sym_names(S, &S->syms, &n);
        suggest(S, e->span, e->str, names, n);
        return NULL;
    }
    if (s->kind == SYM_PENDING && s->stmt->mark == EVAL_BUSY) {
        char path[512];
        size_t k = 0;
        int from = 0;
        for (int i = 0; i < S->eval_stack.n; i++)
            if (S->eval_stack.items[i] == s->stmt)
                from = i;
        for (int i = from; i < S->eval_stack.n && k < sizeof path; i++)
            k += (size_t)snprintf(path + k, sizeof path - k, "'%s' -> ",
                                  stmt_name(S->eval_stack.items[i]));
        if (k < sizeof path)
            snprintf(path + k, sizeof path - k, "'%s'", s->name);
        diag_error(S->d, e->span, "'%s' depends on itself: %s", s->name, path);
        diag_note(S->d, s->span, "'%s' is defined here", s->name);
        return NULL;
    }
    if (s->kind == SYM_PENDING) {
        if (S->eval_stack.n >= SEMA_MAX_DEPTH) {
            diag_error(S->d, e->span, "definitions are nested too deep (the limit is %d "
                       "forward references in a row)", SEMA_MAX_DEPTH);
            return NULL;
        }
        eval_stmt(S, s->stmt);
    }
    switch (s->kind) {
    case SYM_TENSOR: return s->tensor;
    case SYM_LAYER:
        diag_error(S->d, e->span, "'%s' is a layer, not a tensor; apply it: %s(x)", s->name,
                   s->name);
        return NULL;
    default: *poisoned = true; return NULL;
    }
}

/* Evaluate positional arguments (a list flattens: Attention()([q, v])). */
static bool eval_inputs(Sema *S, AstNode *e, IrTensor **in, int *n, bool *quiet)
{
    if (e->kind == AST_LIST) {
        for (AstNode *it = e->a; it; it = it->next)
            if (!eval_inputs(S, it, in, n, quiet))
                return false;
        return true;
    }
    if (*n == IR_MAX_IO) {
        diag_error(S->d, e->span, "too many inputs (the limit is %d)", IR_MAX_IO);
        return false;
    }
    IrTensor *t[IR_MAX_IO];
    int k = seq_sema_eval_expr(S, e, t, IR_MAX_IO);
    if (k < 0) {
        *quiet = true;
        return false;
    }
    if (k != 1) {
        diag_error(S->d, e->span, "this gives %d tensors where one is expected", k);
        return false;
    }
    in[(*n)++] = t[0];
    return true;
}

/* Apply a built layer to its tensor arguments: one IR node. */
static int apply_layer(Sema *S, IrLayer *l, AstNode *args, IrTensor *piped, Span at,
                       IrTensor **out, int max)
{
    IrNode *node = ARENA_NEW(S->a, IrNode);
    node->layer = l;
    node->span = at;
    int line, col;
    diag_line_col(S->d, at.start, &line, &col);
    node->line = line;
    bool quiet = false, ok = true;
    if (piped)
        node->in[node->n_in++] = piped;
    for (AstNode *arg = args; arg; arg = arg->next) {
        if (!arg->str) {
            ok &= eval_inputs(S, arg->b, node->in, &node->n_in, &quiet);
        } else if (!strcmp(arg->str, "initial_state")) {
            if (!l->op->recurrent) {
                diag_error(S->d, arg->span, "%s takes no initial_state", l->op->name);
                ok = false;
            } else {
                ok &= eval_inputs(S, arg->b, node->state, &node->n_state, &quiet);
            }
        } else {
            diag_error(S->d, arg->span, "unknown call argument '%s' (a layer call takes "
                       "tensors and, for recurrent layers, initial_state=[...])", arg->str);
            ok = false;
        }
    }
    if (!ok)
        return -1;
    const OpInfo *op = l->op;
    if (node->n_in < op->min_in || (op->max_in >= 0 && node->n_in > op->max_in)) {
        if (op->min_in == op->max_in)
            diag_error(S->d, at, "%s takes %d input%s, but %d %s given", op->name, op->min_in,
                       op->min_in == 1 ? "" : "s", node->n_in, node->n_in == 1 ? "was" : "were");
        else
            diag_error(S->d, at, "%s takes %d to %d inputs, but %d %s given", op->name,
                       op->min_in, op->max_in, node->n_in, node->n_in == 1 ? "was" : "were");
        return -1;
    }
    InferCtx c = {.diag = S->d, .arena = S->a, .layer = l, .node = node,
                  .n_in = node->n_in, .n_state = node->n_state, .prefix = ""};
    for (int k = 0; k < node->n_in; k++) {
        IrTensor *t = node->in[k];
        if (t->role == TENSOR_TARGET) {
            diag_error(S->d, at, "'%s' is a target; targets are only compared with "
                       "predictions in the train block's losses", t->name);
            return -1;
        }
        if (t->shape.is_int && !op->takes_ints) {
            char ob[160];
            diag_error(S->d, at, "%s cannot take integer token ids; put an Embedding first",
                       op->name);
            diag_note(S->d, t->span, "the %s is int", tensor_origin(t, ob, sizeof ob));
            return -1;
        }
        c.in[k] = &t->shape;
        t->n_uses++;
    }
    for (int k = 0; k < node->n_state; k++) {
        c.state[k] = &node->state[k]->shape;
        node->state[k]->n_uses++;
    }
    if (!op->infer(&c))
        return -1;
    l->built = true;
    l->n_calls++;
    if (c.n_out > max)
        seq_die("op %s gave %d outputs", op->name, c.n_out);
    node->id = S->nodes.n;
    ptrvec_push(&S->nodes, node);
    node->n_out = c.n_out;
    for (int k = 0; k < c.n_out; k++) {
        IrTensor *t = new_tensor(S, NULL, c.out[k], TENSOR_VALUE, at);
        t->producer = node;
        t->producer_out = k;
        if (k == 0) {
            t->from_softmax = c.out_softmax;
            t->from_sigmoid = c.out_sigmoid;
        }
        node->out[k] = out[k] = t;
    }
    op_set_masks(node);
    return c.n_out;
}

/* The layer an expression denotes: Op(...) builds one, a name refers to one. */
static IrLayer *layer_of(Sema *S, AstNode *e, bool *handled)
{
    *handled = true;
    if (e->kind == AST_CALL && e->b->kind == AST_NAME && op_find(e->b->str))
        return build_layer(S, e);
    if (e->kind == AST_NAME) {
        Sym *s = seq_sym_find(&S->syms, e->str);
        if (s && s->kind == SYM_PENDING && s->stmt->kind == AST_LAYER)
            eval_stmt(S, s->stmt);
        if (s && s->kind == SYM_LAYER)
            return s->layer;
        if (s && s->kind == SYM_POISON)
            return NULL;
        if (op_find(e->str)) {
            diag_error(S->d, e->span, "'%s' must be called to build a layer: %s(...)", e->str,
                       e->str);
            return NULL;
        }
    }
    if (e->kind == AST_CALL && e->b->kind == AST_NAME && !seq_sym_find(&S->syms, e->b->str))
        return build_layer(S, e); /* reports the unknown layer */
    *handled = false;
    return NULL;
}

/* Evaluate to tensors; returns how many, or -1 after an error. */
int seq_sema_eval_expr(Sema *S, AstNode *e, IrTensor **out, int max)
{
    switch (e->kind) {
    case AST_NAME: {
        bool poisoned;
        IrTensor *t = seq_sema_resolve(S, e, &poisoned);
        if (!t)
            return -1;
        out[0] = t;
        return 1;
    }
    case AST_PIPE: {
        /* x -> A -> B nests to the left; walk the spine in a loop, so a long
         * pipeline cannot exhaust the C stack. */
        PtrVec stages = {0};
        AstNode *head = e;
        for (; head->kind == AST_PIPE; head = head->a)
            ptrvec_push(&stages, head);
        IrTensor *in[IR_MAX_IO];
        int n = seq_sema_eval_expr(S, head, in, IR_MAX_IO);
        for (int i = stages.n - 1; i >= 0 && n >= 0; i--) {
            AstNode *st = stages.items[i];
            if (n != 1) {
                diag_error(S->d, st->a->span, "a pipeline stage gives %d tensors; '->' passes "
                           "one", n);
                n = -1;
                break;
            }
            bool handled;
            IrLayer *l = layer_of(S, st->b, &handled);
            if (!l) {
                if (!handled)
                    diag_error(S->d, st->b->span, "the right side of '->' must be a layer, "
                               "like Dense(8) or a name defined with 'layer'");
                n = -1;
                break;
            }
            n = apply_layer(S, l, NULL, in[0], st->span, i == 0 ? out : in,
                            i == 0 ? max : IR_MAX_IO);
        }
        ptrvec_free(&stages);
        return n;
    }
    case AST_CALL: {
        AstNode *callee = e->b;
        if (callee->kind == AST_NAME) {
            Sym *s = seq_sym_find(&S->syms, callee->str);
            if (s && s->kind == SYM_PENDING && s->stmt->kind == AST_LAYER)
                eval_stmt(S, s->stmt);
            if (s && s->kind == SYM_LAYER)
                return apply_layer(S, s->layer, e->a, NULL, e->span, out, max);
            if (s && s->kind == SYM_POISON)
                return -1;
            if (op_find(callee->str)) {
                diag_error(S->d, e->span, "%s(...) builds a layer; apply it to a tensor: "
                           "%s(...)(x)", callee->str, callee->str);
                return -1;
            }
            if (s && s->kind == SYM_TENSOR) {
                diag_error(S->d, callee->span, "'%s' is a tensor, not a layer", callee->str);
                return -1;
            }
            build_layer(S, e); /* reports the unknown layer */
            return -1;
        }
        if (callee->kind == AST_CALL && callee->b->kind == AST_NAME) {
            IrLayer *l = build_layer(S, callee);
            if (!l)
                return -1;
            return apply_layer(S, l, e->a, NULL, e->span, out, max);
        }
        diag_error(S->d, callee->span, "this cannot be called");
        return -1;
    }
    default:
        diag_error(S->d, e->span, "expected a tensor, got %s", seq_sema_expr_kind_word(e));
        return -1;
    }
}

/* ---- statements -------------------------------------------------------- */

static void poison_names(AstNode *stmt, SymTab *t)
{
    if (stmt->kind == AST_LAYER) {
        Sym *s = seq_sym_find(t, stmt->str);
        if (s && s->stmt == stmt)
            s->kind = SYM_POISON;
        return;
    }
    for (AstNode *n = stmt->a; n; n = n->next) {
        Sym *s = is_discard(n->str) ? NULL : seq_sym_find(t, n->str);
        if (s && s->stmt == stmt)
            s->kind = SYM_POISON;
    }
}

static bool eval_layer_stmt(Sema *S, AstNode *stmt)
{
    if (stmt->b->kind != AST_CALL || stmt->b->b->kind != AST_NAME) {
        diag_error(S->d, stmt->b->span, "'layer %s = ...' needs a layer, like LSTM(32)",
                   stmt->str);
        return false;
    }
    IrLayer *l = build_layer(S, stmt->b);
    Sym *s = seq_sym_find(&S->syms, stmt->str);
    if (!l || !s || s->stmt != stmt)
        return false;
    s->kind = SYM_LAYER;
    s->layer = l;
    return true;
}

static bool eval_assign_stmt(Sema *S, AstNode *stmt)
{
    IrTensor *out[IR_MAX_IO];
    int n = seq_sema_eval_expr(S, stmt->b, out, IR_MAX_IO);
    if (n < 0)
        return false;
    int want = ast_count(stmt->a);
    if (n != want) {
        const IrNode *p = out[0]->producer;
        if (p)
            diag_error(S->d, stmt->span, "%s returns %d tensor%s here, but %d name%s %s "
                       "assigned", p->layer->op->name, n, n == 1 ? "" : "s", want,
                       want == 1 ? "" : "s", want == 1 ? "is" : "are");
        else
            diag_error(S->d, stmt->span, "%d tensor%s for %d names", n, n == 1 ? "" : "s",
                       want);
        if (p && p->layer->op->recurrent && n == 1)
            diag_note(S->d, p->span, "set return_state=true to get the final states");
        return false;
    }
    int k = 0;
    for (AstNode *nm = stmt->a; nm; nm = nm->next, k++) {
        if (is_discard(nm->str))
            continue;
        Sym *s = seq_sym_find(&S->syms, nm->str);
        if (!s || s->stmt != stmt)
            continue; /* a duplicate definition, already reported */
        IrTensor *t = out[k];
        if (!t->name && t->role == TENSOR_VALUE) {
            t->name = nm->str;
            t->span = nm->span;
        }
        s->kind = SYM_TENSOR;
        s->tensor = t;
    }
    return true;
}

static bool eval_stmt(Sema *S, AstNode *stmt)
{
    if (stmt->mark != EVAL_TODO)
        return stmt->mark == EVAL_DONE;
    stmt->mark = EVAL_BUSY;
    ptrvec_push(&S->eval_stack, stmt);
    bool ok = stmt->kind == AST_LAYER ? eval_layer_stmt(S, stmt) : eval_assign_stmt(S, stmt);
    S->eval_stack.n--;
    stmt->mark = ok ? EVAL_DONE : EVAL_FAILED;
    if (!ok)
        poison_names(stmt, &S->syms);
    return ok;
}

/* ---- declarations ------------------------------------------------------ */

static const char *add_dim(Sema *S, const char *name)
{
    for (int i = 0; i < S->dims.n; i++)
        if (!strcmp(S->dims.items[i], name))
            return S->dims.items[i];
    ptrvec_push(&S->dims, (void *)name);
    return name;
}

static void declare_io(Sema *S, AstNode *st)
{
    Shape shape = {.is_int = st->is_int};
    int rank = ast_count(st->a);
    bool ok = true;
    if (rank > 2) {
        diag_error(S->d, st->span, "'%s' has %d axes after the batch axis; the limit is 2 "
                   "([time, features])", st->str, rank);
        ok = false;
    }
    int k = 0;
    for (AstNode *d = st->a; d && ok; d = d->next, k++) {
        if (d->str) {
            if (k == rank - 1 && rank == 2) {
                diag_error(S->d, d->span, "the feature axis must be a number; only the time "
                           "axis may be named (dynamic)");
                ok = false;
            } else if (d->ival && st->kind == AST_INPUT) {
                diag_error(S->d, d->span, "an input's time axis is a name or a number; '%s%+lld' "
                           "is for a target that valid convolutions shortened", d->str, d->ival);
                ok = false;
            }
            shape.d[k] = (Dim){.sym = add_dim(S, d->str), .n = d->ival};
        } else if (d->ival <= 0) {
            diag_error(S->d, d->span, "an axis must have length > 0, got %lld", d->ival);
            ok = false;
        } else {
            shape.d[k] = dim_fixed(d->ival);
        }
    }
    shape.rank = rank;
    Sym *s;
    if (!define(S, st->str, st->span, &s))
        return;
    if (!ok) {
        s->kind = SYM_POISON;
        return;
    }
    bool is_input = st->kind == AST_INPUT;
    IrTensor *t = new_tensor(S, st->str, shape, is_input ? TENSOR_INPUT : TENSOR_TARGET,
                             st->span);
    s->kind = SYM_TENSOR;
    s->tensor = t;
    ptrvec_push(is_input ? &S->inputs : &S->targets, t);
}

/* ---- warnings: likely mistakes in a model that compiles --------------- */

/* The activation the tensor comes out of, when one layer's attribute says
 * it ("linear", "softmax", ...), through wrappers; NULL when unknown. */
static const char *out_activation(const IrTensor *t, const IrLayer **inner)
{
    if (!t->producer || t->producer_out != 0)
        return NULL;
    const IrLayer *l = t->producer->layer;
    for (int depth = 0; depth < 8; depth++) {
        int k = op_attr_index(l->op, "layer");
        if (k < 0 || !l->attrs[k].layer)
            break;
        l = l->attrs[k].layer;
    }
    int k = op_attr_index(l->op, "activation");
    *inner = l;
    return k < 0 || l->op->recurrent ? NULL : l->attrs[k].s;
}

static void warn_softmax_single_unit(Diag *d, const IrGraph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const IrTensor *t = g->nodes[i]->out[0];
        const Shape *s = &t->shape;
        if (t->from_softmax && s->rank > 0 && !s->d[s->rank - 1].sym && s->d[s->rank - 1].n == 1) {
            diag_warning(d, g->nodes[i]->span, "softmax-single-unit", "a softmax over a single "
                         "unit always gives 1, so nothing before it can learn");
            diag_note(d, SPAN_NONE, "for one probability per unit, use activation=sigmoid "
                      "(with binary_crossentropy)");
        }
    }
}

/* Cross-entropies read probabilities: a linear output without
 * from_logits=true is clipped into garbage. */
static void warn_loss_activation(Diag *d, const IrGraph *g)
{
    static const char *const fns[] = {
        [LOSS_CATEGORICAL_CROSSENTROPY] = "categorical_crossentropy",
        [LOSS_SPARSE_CATEGORICAL_CROSSENTROPY] = "sparse_categorical_crossentropy",
        [LOSS_BINARY_CROSSENTROPY] = "binary_crossentropy",
    };
    for (int i = 0; i < g->train.n_losses; i++) {
        const IrLoss *L = &g->train.losses[i];
        const IrLayer *inner = NULL;
        const char *act = out_activation(L->pred, &inner);
        if (L->kind == LOSS_MSE || L->kind == LOSS_MAE || L->from_logits || !act ||
            strcmp(act, "linear"))
            continue;
        const IrLayer *l = L->pred->producer->layer;
        diag_warning(d, L->span, "loss-activation", "%s reads '%s' as probabilities, but it is "
                     "the linear output of '%s' (%s)", fns[L->kind],
                     L->pred->name ? L->pred->name : "the prediction", l->name, l->op->name);
        diag_note(d, SPAN_NONE, "give '%s' (%s) activation=%s, or pass from_logits=true to the "
                  "loss", inner->name, inner->op->name,
                  L->kind == LOSS_BINARY_CROSSENTROPY ? "sigmoid" : "softmax");
    }
}

/* Inputs, layers and layer outputs that no loss or output depends on. */
static void warn_unused(Diag *d, const IrGraph *g)
{
    bool *live = calloc((size_t)g->n_tensors + 1, sizeof *live);
    if (!live)
        seq_die("out of memory");
    for (int i = 0; i < g->n_outputs; i++)
        live[g->outputs[i]->id] = true;
    /* A node comes after the nodes making its inputs: one backward sweep. */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const IrNode *n = g->nodes[i];
        bool used = false;
        for (int k = 0; k < n->n_out; k++)
            used |= live[n->out[k]->id];
        for (int k = 0; k < n->n_in && used; k++)
            live[n->in[k]->id] = true;
        for (int k = 0; k < n->n_state && used; k++)
            live[n->state[k]->id] = true;
    }
    for (int i = 0; i < g->n_inputs; i++)
        if (!live[g->inputs[i]->id])
            diag_warning(d, g->inputs[i]->span, "unused-input", "no loss or output depends on "
                         "input '%s', yet training will ask for its data", g->inputs[i]->name);
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        bool sink = true; /* dead, and not feeding a dead node (that one is reported) */
        for (int k = 0; k < n->n_out; k++)
            sink &= !live[n->out[k]->id] && n->out[k]->n_uses == 0;
        if (!sink)
            continue;
        const IrTensor *t = n->out[0];
        if (t->name && n->n_out == 1)
            diag_warning(d, n->span, "unused-layer", "'%s', the output of '%s' (%s), is not "
                         "used by any loss or output", t->name, n->layer->name, n->layer->op->name);
        else
            diag_warning(d, n->span, "unused-layer", "the output of '%s' (%s) is not used by "
                         "any loss or output", n->layer->name, n->layer->op->name);
    }
    free(live);
}

/* `layer enc = LSTM(8)` that nothing applies (nor wraps). */
static void warn_unapplied(Diag *d, const SymTab *syms)
{
    for (int i = 0; i < syms->n_buckets; i++)
        for (const Sym *s = syms->buckets[i]; s; s = s->next)
            if (s->kind == SYM_LAYER && !s->layer->owner && s->layer->n_calls == 0)
                diag_warning(d, s->span, "unused-layer", "layer '%s' is defined but never applied",
                             s->name);
}

static void warn_model(Diag *d, const IrGraph *g, const SymTab *syms)
{
    warn_softmax_single_unit(d, g);
    warn_loss_activation(d, g);
    warn_unused(d, g);
    warn_unapplied(d, syms);
}

/* ---- driver ------------------------------------------------------------ */

static void *freeze(Sema *S, PtrVec *v, int *n)
{
    void **arr = ARENA_ARRAY(S->a, void *, v->n + 1);
    if (v->n)
        memcpy(arr, v->items, sizeof(void *) * (size_t)v->n);
    *n = v->n;
    ptrvec_free(v);
    return arr;
}

static const char *model_name_from_path(Arena *a, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    char *s = arena_strndup(a, base, n ? n : 1);
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    if (s[0] >= '0' && s[0] <= '9')
        s[0] = '_';
    return s;
}

IrGraph *sema_build(AstNode *stmts, Arena *a, Diag *d)
{
    Sema S = {.d = d, .a = a};
    IrGraph *g = ARENA_NEW(a, IrGraph);
    S.g = g;
    g->path = d->path;
    AstNode *model = NULL;
    PtrVec train = {0}, output_stmts = {0}, decode = {0};

    /* Pass 1: declarations, and every name an assignment will define. */
    for (AstNode *st = stmts; st && !diag_full(d); st = st->next) {
        Sym *s;
        switch (st->kind) {
        case AST_MODEL:
            if (model) {
                diag_error(d, st->span, "a file holds one model");
                diag_note(d, model->span, "it is named here");
            } else {
                model = st;
            }
            break;
        case AST_INPUT:
        case AST_TARGET: declare_io(&S, st); break;
        case AST_ASSIGN:
            for (AstNode *n = st->a; n; n = n->next)
                if (!is_discard(n->str) && define(&S, n->str, n->span, &s)) {
                    s->stmt = st;
                    s->kind = SYM_PENDING;
                }
            break;
        case AST_LAYER:
            if (define(&S, st->str, st->span, &s)) {
                s->stmt = st;
                s->kind = SYM_PENDING;
            }
            break;
        case AST_TRAIN: ptrvec_push(&train, st); break;
        case AST_DECODE: ptrvec_push(&decode, st); break;
        case AST_OUTPUT: ptrvec_push(&output_stmts, st); break;
        default: SEQ_UNREACHABLE();
        }
    }
    g->name = model ? model->str : model_name_from_path(a, d->path);

    /* Pass 2: evaluate definitions in order (forward references on demand). */
    for (AstNode *st = stmts; st && !diag_full(d); st = st->next)
        if (st->kind == AST_ASSIGN || st->kind == AST_LAYER)
            eval_stmt(&S, st);

    for (int i = 0; i < train.n && !diag_full(d); i++)
        seq_sema_read_train(&S, train.items[i]);

    /* Outputs: those named by `output`, then each loss's prediction. */
    for (int i = 0; i < output_stmts.n; i++)
        for (AstNode *n = ((AstNode *)output_stmts.items[i])->a; n; n = n->next) {
            IrTensor *t[IR_MAX_IO];
            if (seq_sema_eval_expr(&S, n, t, IR_MAX_IO) == 1)
                ptrvec_push(&S.outputs, t[0]);
        }
    for (int i = 0; i < decode.n && !diag_full(d); i++)
        seq_sema_read_decode(&S, decode.items[i]);
    PtrVec extra = {0}; /* predictions and what decode writes are outputs too */
    for (int i = 0; i < g->train.n_losses; i++)
        ptrvec_push(&extra, g->train.losses[i].pred);
    if (g->decode.output)
        ptrvec_push(&extra, g->decode.output);
    if (g->decode.attention)
        ptrvec_push(&extra, g->decode.attention);
    for (int i = 0; i < extra.n; i++) {
        bool dup = false;
        for (int k = 0; k < S.outputs.n; k++)
            dup |= S.outputs.items[k] == extra.items[i];
        if (!dup)
            ptrvec_push(&S.outputs, extra.items[i]);
    }
    ptrvec_free(&extra);
    if (d->errors == 0) {
        if (S.outputs.n == 0)
            diag_error(d, SPAN_NONE, "the model has no outputs: add a train block with a loss, "
                       "or an 'output' statement");
        if (S.inputs.n == 0)
            diag_error(d, SPAN_NONE, "the model has no inputs: declare one, like "
                       "input x : [T, 10]");
        for (int i = 0; i < S.targets.n; i++) {
            IrTensor *t = S.targets.items[i];
            bool used = false;
            for (int k = 0; k < g->train.n_losses; k++)
                used |= g->train.losses[k].target == t;
            if (!used)
                diag_error(d, t->span, "target '%s' is not used by any loss", t->name);
        }
    }
    ptrvec_free(&train);
    ptrvec_free(&decode);
    ptrvec_free(&output_stmts);
    ptrvec_free(&S.eval_stack);

    g->tensors = freeze(&S, &S.tensors, &g->n_tensors);
    g->layers = freeze(&S, &S.layers, &g->n_layers);
    g->nodes = freeze(&S, &S.nodes, &g->n_nodes);
    g->inputs = freeze(&S, &S.inputs, &g->n_inputs);
    g->targets = freeze(&S, &S.targets, &g->n_targets);
    g->outputs = freeze(&S, &S.outputs, &g->n_outputs);
    g->dims = freeze(&S, &S.dims, &g->n_dims);
    if (d->errors == 0)
        warn_model(d, g, &S.syms);
    free(S.syms.buckets);
    free(S.layer_names.buckets);
    return g;
}
