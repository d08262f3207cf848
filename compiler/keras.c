/* keras.c: the Keras functional model config of a graph; see keras.h. */
#include "keras.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "util.h"

typedef struct {
    FILE *f;
    const IrGraph *g;
    Arena *a;
} Json;

static void put_str(Json *j, const char *s)
{
    fputc('"', j->f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(j->f, "\\%c", *c);
        else if (*c < 32)
            fprintf(j->f, "\\u%04x", *c);
        else
            fputc(*c, j->f);
    }
    fputc('"', j->f);
}

/* Keras's initializer objects for the names the language accepts. */
static void put_initializer(Json *j, const char *name)
{
    static const struct {
        const char *name, *cls, *config;
    } inits[] = {
        {"glorot_uniform", "GlorotUniform", "{\"seed\": null}"},
        {"orthogonal", "Orthogonal", "{\"gain\": 1.0, \"seed\": null}"},
        {"zeros", "Zeros", "{}"},
        {"ones", "Ones", "{}"},
        {"uniform", "RandomUniform", "{\"minval\": -0.05, \"maxval\": 0.05, \"seed\": null}"},
    };
    for (int i = 0; i < ARRAY_LEN(inits); i++)
        if (!strcmp(inits[i].name, name)) {
            fprintf(j->f, "{\"class_name\": \"%s\", \"config\": %s}", inits[i].cls, inits[i].config);
            return;
        }
    seq_die("initializer '%s' has no Keras spelling", name);
}

static void put_layer_config(Json *j, const IrLayer *l);

static void put_attr(Json *j, const IrLayer *l, int k)
{
    const AttrSpec *s = &l->op->attrs[k];
    const AttrVal *v = &l->attrs[k];
    const char *own = l->op->keras_value ? l->op->keras_value(l, k, j->a) : NULL;
    if (own && !*own)
        return;
    fprintf(j->f, ", ");
    put_str(j, s->name);
    fprintf(j->f, ": ");
    if (own) {
        fputs(own, j->f);
        return;
    }
    switch (s->type) {
    case ATTR_INT: fprintf(j->f, "%lld", v->i); break;
    case ATTR_FLOAT: fprintf(j->f, "%.17g", v->f); break;
    case ATTR_BOOL: fputs(v->i ? "true" : "false", j->f); break;
    case ATTR_STR:
        if (s->choices == op_initializer_choices)
            put_initializer(j, v->s);
        else
            put_str(j, v->s);
        break;
    case ATTR_LAYER:
        fprintf(j->f, "{\"class_name\": ");
        put_str(j, v->layer->op->name);
        fprintf(j->f, ", \"config\": ");
        put_layer_config(j, v->layer);
        fputc('}', j->f);
        break;
    case ATTR_INTS:
        fputc('[', j->f);
        if (v->n_ints == 0)
            fprintf(j->f, "%lld", v->i);
        for (int i = 0; i < v->n_ints; i++)
            fprintf(j->f, "%s%lld", i ? ", " : "", v->ints[i]);
        fputc(']', j->f);
        break;
    }
}

static void put_layer_config(Json *j, const IrLayer *l)
{
    fprintf(j->f, "{\"name\": ");
    put_str(j, l->name);
    fprintf(j->f, ", \"trainable\": true, \"dtype\": \"float32\"");
    for (int k = 0; k < l->op->n_attrs; k++)
        put_attr(j, l, k);
    fputc('}', j->f);
}

/* [None, T, F] with named axes as None. */
static void put_shape(Json *j, const Shape *s)
{
    fprintf(j->f, "[null");
    for (int i = 0; i < s->rank; i++) {
        if (s->d[i].sym)
            fprintf(j->f, ", null");
        else
            fprintf(j->f, ", %lld", s->d[i].n);
    }
    fputc(']', j->f);
}

/* Which call of its layer a node is: Keras's node index. */
static int node_index(const IrGraph *g, const IrNode *n)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes && g->nodes[i] != n; i++)
        k += g->nodes[i]->layer == n->layer;
    return k;
}

/* [layer, node index, tensor index]: a tensor as Keras's configs name it. */
static void put_ref(Json *j, const IrTensor *t, bool kwargs)
{
    fputc('[', j->f);
    if (t->producer) {
        put_str(j, t->producer->layer->name);
        fprintf(j->f, ", %d, %d", node_index(j->g, t->producer), t->producer_out);
    } else {
        put_str(j, t->name);
        fprintf(j->f, ", 0, 0");
    }
    fprintf(j->f, "%s]", kwargs ? ", {}" : "");
}

/* A layer with no weights: {"class_name": cls, "config": {name, ..., rest},
 * "name", "inbound_nodes": one per call of `of`, each reading `src` (the
 * layer's input 0, or the previous helper layer's same call). */
static void put_helper(Json *j, const IrLayer *of, const char *cls, const char *name,
                       const char *rest, const char *src)
{
    const IrGraph *g = j->g;
    fprintf(j->f, ", {\"class_name\": \"%s\", \"config\": {\"name\": ", cls);
    put_str(j, name);
    fprintf(j->f, ", \"trainable\": true, \"dtype\": \"float32\", %s}, \"name\": ", rest);
    put_str(j, name);
    fprintf(j->f, ", \"inbound_nodes\": [");
    int call = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const IrNode *n = g->nodes[k];
        if (n->layer != of)
            continue;
        fprintf(j->f, "%s[", call ? ", " : "");
        if (src) {
            fputc('[', j->f);
            put_str(j, src);
            fprintf(j->f, ", %d, 0, {}]", call);
        } else {
            put_ref(j, n->in[0], true);
        }
        fputc(']', j->f);
        call++;
    }
    fprintf(j->f, "]}");
}

/* Zero steps in front of input 0 (OpInfo.keras_pad_front): [B, T, C] to
 * [B, T, 1, C], ZeroPadding2D on the time axis, back to [B, T + pad, C].
 * Returns the last helper's name, which the layer then reads. */
static const char *put_pad_front(Json *j, const IrLayer *l, const IrNode *first, long long pad)
{
    long long C = first->in[0]->shape.d[1].n;
    const char *r1 = arena_printf(j->a, "%s_pad_reshape", l->name);
    const char *zp = arena_printf(j->a, "%s_pad", l->name);
    const char *r2 = arena_printf(j->a, "%s_pad_reshape_1", l->name);
    put_helper(j, l, "Reshape", r1, arena_printf(j->a, "\"target_shape\": [-1, 1, %lld]", C), NULL);
    put_helper(j, l, "ZeroPadding2D", zp,
               arena_printf(j->a, "\"padding\": [[%lld, 0], [0, 0]], \"data_format\": \"channels_last\"", pad),
               r1);
    put_helper(j, l, "Reshape", r2, arena_printf(j->a, "\"target_shape\": [-1, %lld]", C), zp);
    return r2;
}

/* The layers' calls, in order: a layer appears once, at its first call. */
static void put_layers(Json *j)
{
    const IrGraph *g = j->g;
    bool first = true;
    for (int i = 0; i < g->n_inputs; i++) {
        const IrTensor *t = g->inputs[i];
        fprintf(j->f, "%s{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": ",
                first ? "" : ", ");
        put_shape(j, &t->shape);
        fprintf(j->f, ", \"dtype\": \"%s\", \"sparse\": false, \"ragged\": false, \"name\": ",
                t->shape.is_int ? "int32" : "float32");
        put_str(j, t->name);
        fprintf(j->f, "}, \"name\": ");
        put_str(j, t->name);
        fprintf(j->f, ", \"inbound_nodes\": []}");
        first = false;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const IrLayer *l = g->nodes[i]->layer;
        if (node_index(g, g->nodes[i]) != 0)
            continue;
        long long pad = l->op->keras_pad_front ? l->op->keras_pad_front(l) : 0;
        const char *padded = pad > 0 ? put_pad_front(j, l, g->nodes[i], pad) : NULL;
        fprintf(j->f, ", {\"class_name\": ");
        put_str(j, l->op->name);
        fprintf(j->f, ", \"config\": ");
        put_layer_config(j, l);
        fprintf(j->f, ", \"name\": ");
        put_str(j, l->name);
        fprintf(j->f, ", \"inbound_nodes\": [");
        /* every call; initial states follow the inputs, as Keras lists them */
        int call = 0;
        for (int k = i; k < g->n_nodes; k++) {
            const IrNode *n = g->nodes[k];
            if (n->layer != l)
                continue;
            fprintf(j->f, "%s[", call++ ? ", " : "");
            for (int m = 0; m < n->n_in + n->n_state; m++) {
                fprintf(j->f, "%s", m ? ", " : "");
                if (m == 0 && padded) {
                    fputc('[', j->f);
                    put_str(j, padded);
                    fprintf(j->f, ", %d, 0, {}]", call - 1);
                } else {
                    put_ref(j, m < n->n_in ? n->in[m] : n->state[m - n->n_in], true);
                }
            }
            fputc(']', j->f);
        }
        fprintf(j->f, "]}");
    }
}

static void put_io(Json *j, IrTensor *const *ts, int n)
{
    fputc('[', j->f);
    for (int i = 0; i < n; i++) {
        fprintf(j->f, "%s", i ? ", " : "");
        put_ref(j, ts[i], false);
    }
    fputc(']', j->f);
}

/* The first layer (or wrapped layer) TensorFlow.js cannot run, and why. */
static const char *layer_refusal(const IrLayer *l, const IrNode *n, Arena *a)
{
    const char *why = l->op->tfjs_unsupported ? l->op->tfjs_unsupported(l, n) : NULL;
    if (why)
        return arena_printf(a, "layer '%s' (%s): %s", l->name, l->op->name, why);
    for (int k = 0; k < l->op->n_attrs; k++)
        if (l->op->attrs[k].type == ATTR_LAYER && l->attrs[k].layer) {
            const char *r = layer_refusal(l->attrs[k].layer, n, a);
            if (r)
                return r;
        }
    return NULL;
}

KerasExport keras_export(const IrGraph *g, Arena *a)
{
    KerasExport e = {NULL, NULL};
    for (int i = 0; i < g->n_nodes && !e.refusal; i++)
        e.refusal = layer_refusal(g->nodes[i]->layer, g->nodes[i], a);
    if (e.refusal)
        return e;
    char *buf = NULL;
    size_t len = 0;
    Json j = {open_memstream(&buf, &len), g, a};
    if (!j.f)
        seq_die("out of memory");
    fprintf(j.f, "{\"class_name\": \"Model\", \"config\": {\"name\": ");
    put_str(&j, g->name);
    fprintf(j.f, ", \"layers\": [");
    put_layers(&j);
    fprintf(j.f, "], \"input_layers\": ");
    put_io(&j, g->inputs, g->n_inputs);
    fprintf(j.f, ", \"output_layers\": ");
    put_io(&j, g->outputs, g->n_outputs);
    fprintf(j.f, "}, \"keras_version\": \"2.15.0\", \"backend\": \"tensorflow\"}");
    fclose(j.f);
    e.topology = arena_strdup(a, buf);
    free(buf);
    return e;
}
