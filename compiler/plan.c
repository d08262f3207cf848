/*
 * plan.c: the expanded graph -> a Plan (see plan.h): checks that code can
 * be generated, names, the parameter layout, grouping of layer calls into
 * functions and each function's scratch buffers.
 */
#include "plan.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "ops.h"
#include "strmap.h"

typedef struct {
    Plan *P;
    Arena *a;
    StrMap used;                 /* C names taken so far */
} Namer;

static const char *unique(Namer *N, const char *stem)
{
    const char *s = stem;
    for (int k = 1; strmap_get(&N->used, s, strlen(s)) >= 0; k++)
        s = arena_printf(N->a, "%s_%d", stem, k);
    strmap_put(&N->used, s, 1);
    return s;
}

bool plan_has_grad(const IrTensor *t)
{
    return t->role == TENSOR_VALUE && !t->shape.is_int;
}

const char *plan_scratch_member(const Plan *P, Arena *a, const IrNode *n, const char *name)
{
    int k = P->call_k[n->id];
    const char *l = lower_c_ident(a, n->layer->name);
    return k ? arena_printf(a, "s_%s_%s_%d", l, name, k) : arena_printf(a, "s_%s_%s", l, name);
}

/* A layer's functions are <layer>_forward/_backward; the model's own are
 * model_*, so a layer named "model" steps aside. */
static const char *fn_stem(Arena *a, const IrLayer *l)
{
    const char *s = lower_c_ident(a, l->name);
    return strcmp(s, "model") ? s : "model_layer";
}

/* Can two calls of a layer share one function? Same inputs and states,
 * same shapes up to the time axis (passed as T). */
static bool same_signature(const IrNode *a, const IrNode *b)
{
    if (a->n_in != b->n_in || a->n_state != b->n_state || a->n_out != b->n_out)
        return false;
    for (int k = 0; k < a->n_out; k++) /* a call that computes a mask writes it */
        if ((a->out[k]->mask == a->out[k]) != (b->out[k]->mask == b->out[k]))
            return false;
    for (int k = 0; k < a->n_in; k++) {
        const Shape *x = &a->in[k]->shape, *y = &b->in[k]->shape;
        if (x->rank != y->rank || x->is_int != y->is_int || !a->in[k]->mask != !b->in[k]->mask)
            return false;
        int from = x->rank == 2 || (x->rank == 1 && x->is_int) ? 1 : 0;
        for (int i = from; i < x->rank; i++)
            if (!dim_eq(x->d[i], y->d[i]))
                return false;
    }
    return true;
}

/* ---- checks ------------------------------------------------------------ */

static bool all_supported(const IrGraph *g, Diag *d)
{
    bool ok = true;
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        const OpInfo *op = n->layer->op;
        const char *why = op->unsupported ? op->unsupported(n->layer) : NULL;
        if (!op->forward || !op->backward) {
            diag_error(d, n->span, "code generation for %s is not available yet; "
                       "'seqc check' and 'seqc summary' accept it", op->name);
            ok = false;
        } else if (why) {
            diag_error(d, n->span, "code generation for %s with %s is not available yet",
                       op->name, why);
            ok = false;
        }
    }
    return ok;
}

/* The emitted kernels pass widths, leading dimensions and fixed row counts
 * to BLAS as int: a size the checker accepts can still be too large for
 * that (Flatten of [65536, 65536], LSTM(600000000)'s 4u gates). Refuse it
 * here instead of letting the C compiler wrap it silently. */
static bool size_fits(Diag *d, long long n, const IrNode *at, const char *layer, const char *what)
{
    if (n >= 0 && n <= INT_MAX)
        return true;
    diag_error(d, at->span, "layer '%s': %s %lld is larger than %d, the largest size "
               "the generated BLAS calls take", layer, what, n, INT_MAX);
    return false;
}

static bool outputs_fit_int(const IrNode *n, Diag *d)
{
    for (int o = 0; o < n->n_out; o++) {
        long long prod = 1;
        for (int k = 0; k < n->out[o]->shape.rank; k++) {
            Dim dm = n->out[o]->shape.d[k];
            if (dm.sym)
                continue;
            if (!size_fits(d, dm.n, n, n->layer->name, "an output dimension"))
                return false;
            prod = prod > INT_MAX ? prod : prod * dm.n;
        }
        if (!size_fits(d, prod, n, n->layer->name, "the per-sample size"))
            return false;
    }
    return true;
}

static bool params_fit_int(const IrNode *n, Diag *d)
{
    for (const IrLayer *pl = n->layer; pl; pl = pl->inner)
        for (int k = 0; k < pl->n_params; k++) {
            const IrParam *p = &pl->params[k];
            long long row = p->ndim > 0 && p->shape[0] > 0 ? p->size / p->shape[0] : p->size;
            for (int i = 0; i < p->ndim; i++)
                if (!size_fits(d, p->shape[i], n, pl->name, "a weight dimension"))
                    return false;
            if (!size_fits(d, row, n, pl->name, "a weight row") ||
                !size_fits(d, p->fan_in, n, pl->name, "the fan-in") ||
                !size_fits(d, p->fan_out, n, pl->name, "the fan-out"))
                return false;
        }
    return true;
}

static bool sizes_fit_int(const IrGraph *g, Diag *d)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!outputs_fit_int(g->nodes[i], d) || !params_fit_int(g->nodes[i], d))
            return false;
    return true;
}

/* ---- names and layout -------------------------------------------------- */

static void name_tensors(Namer *N)
{
    const IrGraph *g = N->P->g;
    N->P->tname = ARENA_ARRAY(N->a, const char *, g->n_tensors + 1);
    for (int i = 0; i < g->n_tensors; i++) {
        const IrTensor *t = g->tensors[i];
        N->P->tname[t->id] = unique(N, t->name ? lower_c_ident(N->a, t->name)
                                               : arena_printf(N->a, "t%d", t->id));
    }
}

/* Parameters in checkpoint order, each at its offset in the flat buffer. */
static void lay_out_params(Plan *P, Arena *a)
{
    const IrGraph *g = P->g;
    int np = 0;
    for (int i = 0; i < g->n_layers; i++)
        if (!g->layers[i]->owner)
            np += g->layers[i]->n_params;
    P->params = ARENA_ARRAY(a, const IrParam *, np + 1);
    P->pname = ARENA_ARRAY(a, const char *, np + 1);
    P->poff = ARENA_ARRAY(a, long long, np + 1);
    for (int i = 0; i < g->n_layers; i++) {
        const IrLayer *l = g->layers[i];
        if (l->owner)
            continue;
        for (int k = 0; k < l->n_params; k++) {
            P->params[P->n_params] = &l->params[k];
            P->pname[P->n_params] = arena_printf(a, "P_%s", lower_c_ident(a, l->params[k].name));
            P->poff[P->n_params] = P->param_count;
            P->param_count += l->params[k].size;
            P->n_params++;
        }
    }
}

/* Per layer (by address: the copies expand makes have no index of their
 * own): its first function and how many of its calls were seen. */
typedef struct {
    StrMap index;
    int *first_fn, *calls;
    int n;
} LayerTable;

static int layer_slot(LayerTable *T, Arena *a, const IrLayer *l)
{
    const char *key = arena_printf(a, "%p", (const void *)l);
    int k = strmap_get(&T->index, key, strlen(key));
    if (k < 0) {
        k = T->n++;
        strmap_put(&T->index, key, k);
        T->first_fn[k] = -1;
        T->calls[k] = 0;
    }
    return k;
}

/* The function node n's call goes to: an earlier one of its layer with the
 * same signature, or a new one. */
static int function_for(Namer *N, const IrNode *n, const LowerOptions *opt, int *link,
                        int *next_fn)
{
    Plan *P = N->P;
    int same_layer = 0;
    for (int k = *link; k >= 0; link = &next_fn[k], k = *link) {
        same_layer++;
        if (same_signature(P->ops[k].node, n))
            return k;
    }
    int f = P->n_fns++;
    *link = f; /* the layer's functions, chained in order: no scan of all the others */
    next_fn[f] = -1;
    LowerOp *o = &P->ops[f];
    o->node = n;
    o->layer = n->layer;
    o->a = N->a;
    o->bptt_segment = opt->bptt_segment;
    const char *stem = fn_stem(N->a, n->layer);
    P->fn_name[f] = same_layer ? unique(N, arena_printf(N->a, "%s_call%d", stem, same_layer + 1))
                               : stem;
    return f;
}

static void group_calls(Namer *N, const LowerOptions *opt)
{
    Plan *P = N->P;
    const IrGraph *g = P->g;
    for (int i = 0; i < g->n_nodes; i++)
        unique(N, fn_stem(N->a, g->nodes[i]->layer)); /* layer names are unique already */
    P->ops = ARENA_ARRAY(N->a, LowerOp, g->n_nodes + 1);
    P->fn_name = ARENA_ARRAY(N->a, const char *, g->n_nodes + 1);
    int max_id = 0;
    for (int i = 0; i < g->n_nodes; i++)
        max_id = g->nodes[i]->id > max_id ? g->nodes[i]->id : max_id;
    P->fn = ARENA_ARRAY(N->a, int, max_id + 1);
    P->call_k = ARENA_ARRAY(N->a, int, max_id + 1);
    LayerTable T = {.first_fn = ARENA_ARRAY(N->a, int, g->n_nodes + 1),
                    .calls = ARENA_ARRAY(N->a, int, g->n_nodes + 1)};
    int *next_fn = ARENA_ARRAY(N->a, int, g->n_nodes + 1);
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        int l = layer_slot(&T, N->a, n->layer);
        int f = function_for(N, n, opt, &T.first_fn[l], next_fn);
        P->fn[n->id] = f;
        P->call_k[n->id] = T.calls[l]++;
        LowerOp *o = &P->ops[f];
        for (int k = 0; k < n->n_in; k++)
            o->need_dx[k] |= plan_has_grad(n->in[k]);
        for (int k = 0; k < n->n_state; k++)
            o->need_ds[k] |= plan_has_grad(n->state[k]);
    }
    strmap_free(&T.index);
}

/* Each function's scratch buffers, from its op's plan hook. */
static void plan_scratch(Plan *P)
{
    for (int i = 0; i < P->n_fns; i++) {
        LowerOp *o = &P->ops[i];
        if (o->layer->op->plan)
            o->layer->op->plan(o);
        for (int k = 0; k < o->n_scratch; k++)
            P->any_state |= o->scratch[k].persistent;
    }
    for (int i = 0; i < P->g->n_outputs; i++)
        P->any_mask |= P->g->outputs[i]->mask != NULL;
}

static void note_bptt(const Plan *P, const LowerOptions *opt, Diag *d)
{
    if (!opt->bptt_segment)
        return;
    for (int i = 0; i < P->n_fns; i++) {
        const IrLayer *l = P->ops[i].layer;
        const char *why = l->op->bptt_unsupported ? l->op->bptt_unsupported(l) : NULL;
        if (why) {
            diag_note(d, P->ops[i].node->span, "--bptt-checkpoint does not cover %s; '%s' keeps "
                      "every step", why, l->name);
            break;
        }
    }
}

Plan *plan_model(const IrGraph *g, const IrGraph *src, Arena *a, const LowerOptions *opt,
                 Diag *d)
{
    if (!all_supported(g, d) || !sizes_fit_int(g, d))
        return NULL;
    Plan *P = ARENA_NEW(a, Plan);
    *P = (Plan){.g = g, .src = src, .M = lower_c_ident(a, g->name)};
    Namer N = {.P = P, .a = a};
    name_tensors(&N);
    lay_out_params(P, a);
    group_calls(&N, opt);
    note_bptt(P, opt, d);
    plan_scratch(P);
    strmap_free(&N.used);
    return P;
}

/* ---- --dump=plan ------------------------------------------------------- */

void plan_dump(const Plan *P, FILE *out)
{
    const IrGraph *g = P->g;
    char sb[96];
    fprintf(out, "plan %s: %d parameters (%lld reals), %d layer functions\n", P->M, P->n_params,
            P->param_count, P->n_fns);
    for (int i = 0; i < P->n_params; i++)
        fprintf(out, "  param %-28s @%-8lld %lld  %s\n", P->pname[i], P->poff[i],
                P->params[i]->size, P->params[i]->name);
    for (int i = 0; i < g->n_tensors; i++) {
        const IrTensor *t = g->tensors[i];
        fprintf(out, "  tensor %-27s %s%s%s%s\n", P->tname[t->id], shape_str(&t->shape, sb, sizeof sb),
                t->role == TENSOR_VALUE ? " value" : t->role == TENSOR_INPUT ? " input" : "",
                plan_has_grad(t) ? " +grad" : "", t->mask == t ? " +mask" : "");
    }
    for (int f = 0; f < P->n_fns; f++) {
        const LowerOp *o = &P->ops[f];
        fprintf(out, "  function %s_forward/_backward (%s '%s'), calls:", P->fn_name[f],
                o->layer->op->name, o->layer->name);
        for (int i = 0; i < g->n_nodes; i++)
            if (P->fn[g->nodes[i]->id] == f)
                fprintf(out, " line %d", g->nodes[i]->line);
        fputc('\n', out);
        for (int k = 0; k < o->n_scratch; k++)
            fprintf(out, "    scratch %-20s [%s]%s\n", o->scratch[k].name, o->scratch[k].size,
                    o->scratch[k].persistent ? " carried between batches" : "");
    }
}
