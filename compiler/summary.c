/* summary.c: Keras-style model summary and the IR dump; see summary.h. */
#include "summary.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "util.h"

/* A chain: one input, each node fed only by the one before, no reuse. */
static bool is_chain(const IrGraph *g)
{
    if (g->n_inputs != 1)
        return false;
    const IrTensor *prev = g->inputs[0];
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        if (n->n_in != 1 || n->in[0] != prev || n->n_state || n->layer->n_calls != 1)
            return false;
        prev = n->out[0];
    }
    return true;
}

static void row(FILE *out, const char *const *cols, const int *ends, int n)
{
    int len = 0;
    for (int i = 0; i < n; i++) {
        if (i + 1 == n) {
            fprintf(out, " %s\n", cols[i]);
            return;
        }
        len += fprintf(out, " %s", cols[i]);
        for (; len < ends[i]; len++)
            fputc(' ', out);
    }
}

static void rule(FILE *out, char c, int width)
{
    for (int i = 0; i < width; i++)
        fputc(c, out);
    fputc('\n', out);
}

static const char *node_shapes(const IrNode *n, char *buf, size_t len)
{
    if (n->n_out == 1)
        return shape_str(&n->out[0]->shape, buf, len);
    size_t k = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < n->n_out && k < len; i++) {
        char sb[96];
        k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
                              shape_str(&n->out[i]->shape, sb, sizeof sb));
    }
    if (k < len)
        snprintf(buf + k, len - k, "]");
    return buf;
}

/* "lstm[0][1]": Keras's layer[call][output] reference to a tensor; call[]
 * holds each node's call number of its layer. */
static void tensor_ref(const IrTensor *t, const int *call, char *buf, size_t len)
{
    if (!t->producer)
        snprintf(buf, len, "%s[0][0]", t->name);
    else
        snprintf(buf, len, "%s[%d][%d]", t->producer->layer->name, call[t->producer->id],
                 t->producer_out);
}

/* Make every column wide enough for its longest cell (name and shape). */
static void widen(const IrGraph *g, int *ends, int ncol)
{
    int w0 = 0, w1 = 0;
    char sb[400];
    for (int i = 0; i < g->n_inputs; i++) {
        int a = (int)strlen(g->inputs[i]->name) + 15, b = (int)strlen(shape_str(&g->inputs[i]->shape, sb, sizeof sb)) + 2;
        w0 = a > w0 ? a : w0;
        w1 = b > w1 ? b : w1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        int a = (int)(strlen(n->layer->name) + strlen(n->layer->op->name)) + 3;
        int b = (int)strlen(node_shapes(n, sb, sizeof sb));
        w0 = a > w0 ? a : w0;
        w1 = b > w1 ? b : w1;
    }
    int shift = 0;
    if (w0 + 2 > ends[0])
        shift = w0 + 2 - ends[0];
    ends[0] += shift;
    ends[1] += shift;
    if (w1 + 2 > ends[1] - ends[0])
        shift += w1 + 2 - (ends[1] - ends[0]), ends[1] = ends[0] + w1 + 2;
    for (int i = 2; i < ncol; i++)
        ends[i] += shift;
}

/* Does any layer (wrapped ones included) use this activation? */
static bool uses_activation(const IrGraph *g, const char *act)
{
    for (int i = 0; i < g->n_layers; i++) {
        const IrLayer *l = g->layers[i];
        for (int k = 0; k < l->op->n_attrs; k++)
            if (l->op->attrs[k].choices == op_activation_choices && l->attrs[k].s &&
                !strcmp(l->attrs[k].s, act))
                return true;
    }
    return false;
}

/* What the table cannot say: semantics that differ between Keras versions. */
static void print_notes(const IrGraph *g, FILE *out)
{
    if (uses_activation(g, "hard_sigmoid"))
        fprintf(out, "Note: hard_sigmoid is tf.keras 2's, clip(0.2 * x + 0.5, 0, 1); Keras 3's "
                "is clip(x / 6 + 0.5, 0, 1)\n");
}

void summary_print(const IrGraph *g, FILE *out)
{
    bool chain = is_chain(g);
    /* Keras's column ends, widened to fit what this model prints. */
    int ends[4] = {29, 55, 65, 98};
    if (!chain) {
        ends[0] = 32, ends[1] = 54, ends[2] = 66;
    }
    int ncol = chain ? 3 : 4;
    widen(g, ends, ncol);
    int width = ends[ncol - 1];
    char name[300], shape[400], params[32], conn[400];

    fprintf(out, "Model: \"%s\"\n", g->name);
    rule(out, '_', width);
    const char *titles[] = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
    row(out, titles, ends, ncol);
    rule(out, '=', width);
    bool first = true;
    if (!chain)
        for (int i = 0; i < g->n_inputs; i++) {
            const IrTensor *t = g->inputs[i];
            char sb[96];
            snprintf(name, sizeof name, "%s (InputLayer)", t->name);
            snprintf(shape, sizeof shape, "[%s]", shape_str(&t->shape, sb, sizeof sb));
            const char *cols[] = {name, shape, "0", "[]"};
            if (!first)
                fputc('\n', out);
            first = false;
            row(out, cols, ends, ncol);
        }
    /* Each node's call number, and each layer's calls in order (linked by
     * next_call), in one pass: summaries of big models stay linear. */
    int *call = calloc((size_t)g->n_nodes + 1, sizeof *call);
    int *seen = calloc((size_t)g->n_layers + 1, sizeof *seen);
    int *head = malloc(sizeof *head * ((size_t)g->n_layers + 1));
    int *last = malloc(sizeof *last * ((size_t)g->n_layers + 1));
    int *next_call = malloc(sizeof *next_call * ((size_t)g->n_nodes + 1));
    if (!call || !seen || !head || !last || !next_call) {
        fprintf(stderr, "seqc: out of memory\n");
        exit(2);
    }
    for (int i = 0; i < g->n_layers; i++)
        head[i] = last[i] = -1;
    for (int j = 0; j < g->n_nodes; j++) {
        int id = g->nodes[j]->layer->id;
        call[j] = seen[id]++;
        next_call[j] = -1;
        if (head[id] < 0)
            head[id] = j;
        else
            next_call[last[id]] = j;
        last[id] = j;
    }
    for (int i = 0; i < g->n_layers; i++) {
        const IrLayer *l = g->layers[i];
        if (l->owner)
            continue;
        const IrNode *first_call = head[i] >= 0 ? g->nodes[head[i]] : NULL;
        size_t k = 0;
        conn[0] = '\0';
        for (int j = head[i]; j >= 0; j = next_call[j]) {
            const IrNode *n = g->nodes[j];
            for (int m = 0; m < n->n_in + n->n_state && k < sizeof conn; m++) {
                char ref[300];
                tensor_ref(m < n->n_in ? n->in[m] : n->state[m - n->n_in], call, ref, sizeof ref);
                k += (size_t)snprintf(conn + k, sizeof conn - k, "%s'%s'", k ? ", " : "[", ref);
            }
        }
        if (k && k < sizeof conn)
            snprintf(conn + k, sizeof conn - k, "]");
        if (!first_call)
            continue; /* built but never applied: Keras would not list it */
        snprintf(name, sizeof name, "%s (%s)", l->name, l->op->name);
        node_shapes(first_call, shape, sizeof shape);
        snprintf(params, sizeof params, "%lld", l->n_weights);
        const char *cols[] = {name, shape, params, conn};
        if (!first)
            fputc('\n', out);
        first = false;
        row(out, cols, ends, ncol);
    }
    free(call);
    free(seen);
    free(head);
    free(last);
    free(next_call);
    rule(out, '=', width);
    long long total = ir_param_count(g);
    fprintf(out, "Total params: %lld\n", total);
    fprintf(out, "Trainable params: %lld\n", total);
    fprintf(out, "Non-trainable params: 0\n");
    rule(out, '_', width);
    print_notes(g, out);
}

void summary_dump_ir(const IrGraph *g, FILE *out)
{
    char sb[128];
    fprintf(out, "model %s\n", g->name);
    for (int i = 0; i < g->n_dims; i++)
        fprintf(out, "dim %s\n", g->dims[i]);
    for (int i = 0; i < g->n_inputs; i++)
        fprintf(out, "input %%%d %s %s\n", g->inputs[i]->id, g->inputs[i]->name,
                shape_str(&g->inputs[i]->shape, sb, sizeof sb));
    for (int i = 0; i < g->n_targets; i++)
        fprintf(out, "target %%%d %s %s\n", g->targets[i]->id, g->targets[i]->name,
                shape_str(&g->targets[i]->shape, sb, sizeof sb));
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        fprintf(out, "node %d line %d: %s = %s(", n->id, n->line, n->layer->name,
                n->layer->op->name);
        for (int k = 0; k < n->n_in; k++)
            fprintf(out, "%s%%%d", k ? ", " : "", n->in[k]->id);
        for (int k = 0; k < n->n_state; k++)
            fprintf(out, "%s%%%d", k || n->n_in ? ", state " : "state ", n->state[k]->id);
        fputs(") ->", out);
        for (int k = 0; k < n->n_out; k++)
            fprintf(out, " %%%d%s%s %s", n->out[k]->id, n->out[k]->name ? ":" : "",
                    n->out[k]->name ? n->out[k]->name : "",
                    shape_str(&n->out[k]->shape, sb, sizeof sb));
        fputc('\n', out);
    }
    for (int i = 0; i < g->n_layers; i++) {
        const IrLayer *l = g->layers[i];
        for (int k = 0; k < l->n_params; k++) {
            const IrParam *p = &l->params[k];
            fprintf(out, "param %s [", p->name);
            for (int j = 0; j < p->ndim; j++)
                fprintf(out, "%s%lld", j ? ", " : "", p->shape[j]);
            fprintf(out, "] %lld%s\n", p->size, l->owner ? " (owned by wrapper)" : "");
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        fprintf(out, "output %%%d\n", g->outputs[i]->id);
    for (int i = 0; i < g->train.n_losses; i++)
        fprintf(out, "loss %d: %%%d vs %%%d weight %s\n", g->train.losses[i].kind,
                g->train.losses[i].pred->id, g->train.losses[i].target->id,
                SEQ_NUM(g->train.losses[i].weight));
}
