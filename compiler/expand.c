/* expand.c: rewrite wrapper layers into plain nodes; see expand.h. */
#include "expand.h"

#include <string.h>

#include "ops.h"
#include "util.h"

struct Expand {
    Arena *a;
    PtrVec tensors, nodes;
    int next_id, next_node_id;
};

Arena *expand_arena(Expand *E) { return E->a; }

IrTensor *expand_tensor(Expand *E, Shape s, Span at)
{
    IrTensor *t = ARENA_NEW(E->a, IrTensor);
    t->id = E->next_id++;
    t->shape = s;
    t->span = at;
    ptrvec_push(&E->tensors, t);
    return t;
}

IrNode *expand_node(Expand *E, const IrNode *like, IrLayer *l)
{
    IrNode *n = ARENA_NEW(E->a, IrNode);
    n->id = E->next_node_id++;
    n->layer = l;
    n->span = like->span;
    n->line = like->line;
    ptrvec_push(&E->nodes, n);
    return n;
}

IrLayer *expand_copy_layer(Expand *E, const IrLayer *inner, const IrLayer *w, const char *name,
                           int from, int count)
{
    IrLayer *l = ARENA_NEW(E->a, IrLayer);
    *l = *inner;
    l->name = name;
    l->attrs = ARENA_ARRAY(E->a, AttrVal, inner->op->n_attrs + 1);
    memcpy(l->attrs, inner->attrs, sizeof(AttrVal) * (size_t)inner->op->n_attrs);
    l->n_params = count;
    for (int i = 0; i < count; i++)
        l->params[i] = w->params[from + i];
    l->owner = (IrLayer *)w;
    return l;
}

IrLayer *expand_internal_layer(Expand *E, const OpInfo *op, const char *name, AttrVal attr0)
{
    IrLayer *l = ARENA_NEW(E->a, IrLayer);
    l->op = op;
    l->name = name;
    l->attrs = ARENA_ARRAY(E->a, AttrVal, 2);
    l->attrs[0] = attr0;
    return l;
}

/* "A, B and C": the layer kinds an OP_WRAP_EACH_STEP wrapper can wrap. */
static const char *row_wise_names(Arena *a)
{
    int n, k = 0, n_row = 0;
    const OpInfo *const *ops = op_all(&n);
    for (int i = 0; i < n; i++)
        n_row += ops[i]->row_wise;
    const char *s = "";
    for (int i = 0; i < n; i++)
        if (ops[i]->row_wise) {
            k++;
            s = arena_printf(a, "%s%s%s", s, k == 1 ? "" : k == n_row ? " and " : ", ",
                             ops[i]->name);
        }
    return s;
}

IrGraph *expand_wrappers(const IrGraph *g, Arena *a, Diag *d)
{
    struct Expand E = {.a = a, .next_id = g->n_tensors, .next_node_id = g->n_nodes};
    bool ok = true;
    for (int i = 0; i < g->n_tensors; i++)
        ptrvec_push(&E.tensors, g->tensors[i]);
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        OpWrap wrap = n->layer->op->wrap;
        if (n->layer->op->expand) {
            n->layer->op->expand(&E, n);
        } else if (wrap == OP_WRAP_EACH_STEP) {
            const IrLayer *inner = n->layer->attrs[0].layer;
            if (!inner->op->row_wise) {
                diag_error(d, n->span, "code generation for %s(%s) is not available yet "
                           "(%s are)", n->layer->op->name, inner->op->name, row_wise_names(a));
                ok = false;
                continue;
            }
            IrLayer *l = expand_copy_layer(&E, inner, n->layer,
                                    arena_printf(a, "%s.%s", n->layer->name, inner->name), 0,
                                    n->layer->n_params);
            IrNode *m = expand_node(&E, n, l);
            int id = m->id;
            *m = *n;
            m->id = id;
            m->layer = l;
        } else {
            ptrvec_push(&E.nodes, (void *)n);
        }
    }
    IrGraph *cg = ARENA_NEW(a, IrGraph);
    *cg = *g;
    cg->n_tensors = E.tensors.n;
    cg->tensors = ARENA_ARRAY(a, IrTensor *, E.tensors.n + 1);
    memcpy(cg->tensors, E.tensors.items, sizeof(void *) * (size_t)E.tensors.n);
    cg->n_nodes = E.nodes.n;
    cg->nodes = ARENA_ARRAY(a, IrNode *, E.nodes.n + 1);
    memcpy(cg->nodes, E.nodes.items, sizeof(void *) * (size_t)E.nodes.n);
    /* Original nodes keep their ids (the summary indexes by them); new ones
     * number on from the last. */
    ptrvec_free(&E.tensors);
    ptrvec_free(&E.nodes);
    return ok ? cg : NULL;
}
