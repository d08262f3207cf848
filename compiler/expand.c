/* expand.c: rewrite wrapper layers into plain nodes; see expand.h. */
#include "expand.h"

#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "util.h"

extern const OpInfo op_reverse_time, op_merge_pair, op_concatenate, op_add;

typedef struct {
    Arena *a;
    PtrVec tensors, nodes;
    int next_id, next_node_id;
} Expand;

static IrTensor *new_tensor(Expand *E, Shape s, Span at)
{
    IrTensor *t = ARENA_NEW(E->a, IrTensor);
    t->id = E->next_id++;
    t->shape = s;
    t->span = at;
    ptrvec_push(&E->tensors, t);
    return t;
}

static IrNode *new_node(Expand *E, const IrNode *like, IrLayer *l)
{
    IrNode *n = ARENA_NEW(E->a, IrNode);
    n->id = E->next_node_id++;
    n->layer = l;
    n->span = like->span;
    n->line = like->line;
    ptrvec_push(&E->nodes, n);
    return n;
}

/* A copy of `inner` named `name`, holding the params [from, from + count)
 * of the wrapper (already named name.kernel, ...). */
static IrLayer *copy_layer(Expand *E, const IrLayer *inner, const IrLayer *w, const char *name,
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

static IrLayer *internal_layer(Expand *E, const OpInfo *op, const char *name, const char *mode)
{
    IrLayer *l = ARENA_NEW(E->a, IrLayer);
    l->op = op;
    l->name = name;
    l->attrs = ARENA_ARRAY(E->a, AttrVal, 2);
    l->attrs[0].type = op == &op_concatenate ? ATTR_INT : ATTR_STR;
    l->attrs[0].i = -1;
    l->attrs[0].s = mode;
    return l;
}

static void set_attr_bool(IrLayer *l, const char *name, bool v)
{
    int i = op_attr_index(l->op, name);
    if (i >= 0)
        l->attrs[i].i = v;
}

/* Bidirectional(rnn): out = merge(fwd(x), reverse(bwd(x))), states after. */
static void expand_bidi(Expand *E, const IrNode *n)
{
    const IrLayer *w = n->layer, *inner = w->attrs[0].layer;
    const char *mode = w->attrs[1].s;
    int half = w->n_params / 2, hs = n->n_state / 2;
    bool seq = inner->attrs[op_attr_index(inner->op, "return_sequences")].i;
    bool backwards = inner->attrs[op_attr_index(inner->op, "go_backwards")].i;
    IrLayer *dir[2];
    IrNode *run[2];
    dir[0] = copy_layer(E, inner, w, arena_printf(E->a, "%s.forward_%s", w->name, inner->name), 0, half);
    dir[1] = copy_layer(E, inner, w, arena_printf(E->a, "%s.backward_%s", w->name, inner->name), half, half);
    set_attr_bool(dir[1], "go_backwards", !backwards);
    /* Keras: inside Bidirectional, padded steps of a sequence output are 0. */
    dir[0]->zero_output_for_mask = dir[1]->zero_output_for_mask = seq;
    int n_states = (n->n_out - (strcmp(mode, "none") ? 1 : 2)) / 2;
    for (int d = 0; d < 2; d++) {
        run[d] = new_node(E, n, dir[d]);
        run[d]->in[run[d]->n_in++] = n->in[0];
        for (int k = 0; k < hs; k++)
            run[d]->state[run[d]->n_state++] = n->state[d * hs + k];
        Shape out = n->out[0]->shape;
        if (!strcmp(mode, "concat"))
            out.d[out.rank - 1].n /= 2;
        run[d]->out[run[d]->n_out++] = new_tensor(E, out, n->span);
        for (int k = 0; k < n_states; k++) /* the states are the wrapper's outputs */
            run[d]->out[run[d]->n_out++] =
                n->out[n->n_out - 2 * n_states + d * n_states + k];
    }
    /* Keras flips the backward sequence back into input order. */
    IrTensor *bwd_out = run[1]->out[0];
    if (seq) {
        IrNode *r = new_node(E, n, internal_layer(E, &op_reverse_time,
                                                   arena_printf(E->a, "%s.reverse", w->name), NULL));
        r->in[r->n_in++] = bwd_out;
        bwd_out = new_tensor(E, bwd_out->shape, n->span);
        r->out[r->n_out++] = bwd_out;
    }
    if (!strcmp(mode, "none")) {
        /* The two sequences are the wrapper's first two outputs: copy into them. */
        for (int d = 0; d < 2; d++) {
            IrNode *m = new_node(E, n, internal_layer(E, &op_merge_pair,
                                                       arena_printf(E->a, "%s.out%d", w->name, d), "first"));
            m->in[m->n_in++] = d == 0 ? run[0]->out[0] : bwd_out;
            m->in[m->n_in++] = d == 0 ? run[0]->out[0] : bwd_out;
            m->out[m->n_out++] = n->out[d];
        }
        return;
    }
    const OpInfo *op = !strcmp(mode, "concat") ? &op_concatenate : &op_merge_pair;
    IrNode *m = new_node(E, n, internal_layer(E, op, arena_printf(E->a, "%s.merge", w->name), mode));
    m->in[m->n_in++] = run[0]->out[0];
    m->in[m->n_in++] = bwd_out;
    m->out[m->n_out++] = n->out[0];
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
    Expand E = {.a = a, .next_id = g->n_tensors, .next_node_id = g->n_nodes};
    bool ok = true;
    for (int i = 0; i < g->n_tensors; i++)
        ptrvec_push(&E.tensors, g->tensors[i]);
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        OpWrap wrap = n->layer->op->wrap;
        if (wrap == OP_WRAP_BOTH_DIRECTIONS) {
            expand_bidi(&E, n);
        } else if (wrap == OP_WRAP_EACH_STEP) {
            const IrLayer *inner = n->layer->attrs[0].layer;
            if (!inner->op->row_wise) {
                diag_error(d, n->span, "code generation for %s(%s) is not available yet "
                           "(%s are)", n->layer->op->name, inner->op->name, row_wise_names(a));
                ok = false;
                continue;
            }
            IrLayer *l = copy_layer(&E, inner, n->layer,
                                    arena_printf(a, "%s.%s", n->layer->name, inner->name), 0,
                                    n->layer->n_params);
            IrNode *m = new_node(&E, n, l);
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
