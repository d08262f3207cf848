/*
 * infer.c: IR -> a standalone, streaming inference library (see infer.h).
 *
 * Every tensor becomes one vector in the model's struct: its value at the
 * current step (a sequence [T, F] holds its step-t row; a layer that returns
 * only its last output holds its output as if the sequence ended now). Each
 * node becomes one static `<layer>_step` function; NAME_infer_step copies the
 * inputs in, calls them in graph order and copies the outputs out.
 */
#include "infer.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "util.h"

enum { MAX_STATES = 1024 };

typedef struct {
    const IrGraph *g;
    Arena *a;
    const LowerOptions *opt;
    const char *M;
    const char **tname;          /* per tensor id: struct member */
    InferState states[MAX_STATES];
    int n_states;
} Infer;

const char *infer_state(InferOp *o, const char *name, long long size, const char *comment)
{
    if (*o->n_states == MAX_STATES)
        seq_die("too many inference states");
    InferState *st = &o->states[(*o->n_states)++];
    st->member = arena_printf(o->a, "%s_%s", o->stem, name);
    st->size = size;
    st->comment = comment;
    return arena_printf(o->a, "s->%s", st->member);
}

void infer_activation(InferOp *o, const char *act, const char *y, long long n)
{
    if (!strcmp(act, "linear"))
        return;
    if (!strcmp(act, "softmax")) {
        emit_line(o->p, "softmax(%s, %lld);", y, n);
        return;
    }
    emit_line(o->p, "for (int i = 0; i < %lld; i++) %s[i] = %s(%s[i]);", n, y, infer_act_fn(act), y);
}

const char *infer_act_fn(const char *act)
{
    return !strcmp(act, "tanh") ? "tanhf" : act;
}

void infer_matvec(InferOp *o, const char *y, const char *x, const char *w, long long D,
                  long long U, long long ldw, bool accumulate)
{
    Printer *p = o->p;
    if (!accumulate)
        emit_line(p, "for (int j = 0; j < %lld; j++) %s[j] = 0;", U, y);
    emit_open(p, "for (int i = 0; i < %lld; i++)", D);
    emit_line(p, "const float xi = %s[i], *row = %s + i * %lld;", x, w, ldw);
    emit_line(p, "for (int j = 0; j < %lld; j++) %s[j] += xi * row[j];", U, y);
    emit_close(p, NULL);
}

/* Elements of one step of a tensor: its last axis (rank 1 or 2). */
static long long step_size(const IrTensor *t)
{
    const Shape *s = &t->shape;
    if (s->is_int && s->rank == 1)
        return 1;
    return lower_fixed(s->d[s->rank - 1]);
}

static const char *why_not_streamable(const IrNode *n)
{
    const OpInfo *op = n->layer->op;
    if (!op->step)
        return op->step_note ? op->step_note : "it needs the whole sequence at once";
    if (n->n_state)
        return "its initial state comes from another part of the model";
    if (op->step_unsupported)
        return op->step_unsupported(n->layer);
    return NULL;
}

static void emit_helpers(Printer *p)
{
    emit_line(p, "static inline float sigmoid(float x) { return x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)); }");
    emit_line(p, "static inline float hard_sigmoid(float x) { float y = 0.2f * x + 0.5f; return y < 0 ? 0 : y > 1 ? 1 : y; }");
    emit_line(p, "static inline float relu(float x) { return x > 0 ? x : 0; }");
    emit_line(p, "static inline float linear(float x) { return x; }");
    emit_fn_open(p, "static inline void softmax(float *y, int n)");
    emit_line(p, "float mx = y[0], sum = 0;");
    emit_line(p, "for (int i = 1; i < n; i++) mx = y[i] > mx ? y[i] : mx;");
    emit_line(p, "for (int i = 0; i < n; i++) { y[i] = expf(y[i] - mx); sum += y[i]; }");
    emit_line(p, "for (int i = 0; i < n; i++) y[i] /= sum;");
    emit_close(p, NULL);
    emit_blank(p);
}

/* One node's step function: body first, then only the locals it uses. */
static void emit_node(Infer *I, Printer *p, const IrNode *n, const char *stem, long long *poff)
{
    Printer body;
    emit_init(&body);
    body.indent = 1;
    InferOp o = {.p = &body, .a = I->a, .node = n, .layer = n->layer, .stem = stem,
                 .states = I->states, .n_states = &I->n_states};
    n->layer->op->step(&o);
    emit_fn_open(p, "static void %s_step(%s_infer *s)", stem, I->M);
    for (int k = 0; k < n->n_in; k++) {
        const char *v = arena_printf(I->a, "x%d", k);
        if (lower_mentions(body.buf, v))
            emit_line(p, "const %s *%s = s->%s;", n->in[k]->shape.is_int ? "int32_t" : "float", v,
                      I->tname[n->in[k]->id]);
    }
    for (int k = 0; k < n->n_out; k++) {
        const char *v = arena_printf(I->a, "y%d", k);
        if (lower_mentions(body.buf, v))
            emit_line(p, "float *%s = s->%s;", v, I->tname[n->out[k]->id]);
    }
    const IrLayer *l = n->layer;
    for (int k = 0; k < l->n_params; k++) {
        const char *shortname = lower_c_ident(I->a, l->params[k].name + strlen(l->name) + 1);
        if (lower_mentions(body.buf, shortname))
            emit_line(p, "const float *%s = s->params + %lld; /* %s */", shortname, poff[k],
                      l->params[k].name);
    }
    emit_raw(p, body.buf ? body.buf : "");
    emit_close(p, NULL);
    emit_blank(p);
    emit_free(&body);
}

/* The public signature: inputs, then outputs, by the model's names. */
static void io_params(Infer *I, Printer *p, bool sequence)
{
    const IrGraph *g = I->g;
    for (int i = 0; i < g->n_inputs; i++) {
        const IrTensor *t = g->inputs[i];
        emit_raw(p, arena_printf(I->a, ", const %s *%s", t->shape.is_int ? "int32_t" : "float",
                                 I->tname[t->id]));
    }
    if (sequence)
        emit_raw(p, ", int64_t T");
    for (int i = 0; i < g->n_outputs; i++)
        emit_raw(p, arena_printf(I->a, ", float *out_%s", I->tname[g->outputs[i]->id]));
}

/* Every node can run step by step, and every input has a fixed width. */
static bool streamable(const IrGraph *g, Diag *d)
{
    bool ok = true;
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        const char *why = why_not_streamable(n);
        if (why) {
            diag_error(d, n->span, "%s '%s' cannot run step by step for --inference: %s",
                       n->layer->op->name, n->layer->name, why);
            ok = false;
        }
    }
    for (int i = 0; i < g->n_inputs && ok; i++)
        if (g->inputs[i]->shape.rank == 2 && g->inputs[i]->shape.d[1].sym)
            ok = false;
    return ok;
}

/* Node i's step function: <layer>, or <layer>_callK for a later call. */
static const char *node_stem(Infer *I, int i)
{
    const IrGraph *g = I->g;
    const IrLayer *l = g->nodes[i]->layer;
    int call = 0;
    for (int k = 0; k < i; k++)
        call += g->nodes[k]->layer == l;
    return lower_c_ident(I->a, call ? arena_printf(I->a, "%s_call%d", l->name, call + 1) : l->name);
}

/* Step functions first: they declare the states the struct needs.
 * Parameters are at their offsets in the training program's order. */
static long long emit_steps(Infer *I, Printer *steps)
{
    const IrGraph *g = I->g;
    long long *base = ARENA_ARRAY(I->a, long long, g->n_layers + 1), total = 0;
    for (int i = 0; i < g->n_layers; i++) {
        base[i] = total;
        if (!g->layers[i]->owner)
            total += g->layers[i]->n_weights;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        const IrLayer *l = n->layer;
        long long poff[IR_MAX_PARAMS], off = base[l->id];
        for (int k = 0; k < l->n_params; k++) {
            poff[k] = off;
            off += l->params[k].size;
        }
        emit_comment(steps, "%s:%d: %s '%s'", I->opt->source_label, n->line, l->op->name, l->name);
        emit_node(I, steps, n, node_stem(I, i), poff);
    }
    return total;
}

static void emit_infer_struct(Infer *I, Printer *h)
{
    const IrGraph *g = I->g;
    emit_comment(h, "Everything the model keeps between steps; one per stream.");
    emit_open(h, "typedef struct");
    emit_line(h, "const float *params;");
    for (int i = 0; i < I->n_states; i++)
        emit_line(h, "float %s[%lld]; /* %s */", I->states[i].member, I->states[i].size,
                  I->states[i].comment);
    for (int i = 0; i < g->n_tensors; i++) {
        const IrTensor *t = g->tensors[i];
        emit_line(h, "%s %s[%lld]; /* this step of %s */", t->shape.is_int ? "int32_t" : "float",
                  I->tname[t->id], step_size(t), t->name ? t->name : "an intermediate");
    }
    emit_close(h, arena_printf(I->a, " %s_infer;", I->M));
    emit_blank(h);
}

/* NAME_infer.h: sizes, the state struct and the four entry points. */
static void emit_infer_header(Infer *I, Printer *h, long long total)
{
    const IrGraph *g = I->g;
    Arena *a = I->a;
    const char *M = I->M;
    char *guard = lower_c_ident(a, arena_printf(a, "%s_INFER_H", M));
    for (char *c = guard; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    emit_comment(h, "%s_infer.h: generated by seqc %s from %s; do not edit", M, SEQC_VERSION,
                 I->opt->source_label);
    emit_comment(h, "Forward-only, batch 1, step by step: no BLAS, no allocation, no I/O.");
    emit_line(h, "#ifndef %s", guard);
    emit_line(h, "#define %s", guard);
    emit_blank(h);
    emit_line(h, "#include <stdint.h>");
    emit_blank(h);
    emit_comment(h, "Weights: the training program's parameters, flat, in its order (a");
    emit_comment(h, "safetensors file's tensors in file order; tools/weights_to_c.py converts).");
    emit_line(h, "#define %s_INFER_PARAMS %lld", M, total);
    for (int i = 0; i < g->n_inputs; i++)
        emit_line(h, "#define %s_INFER_IN_%s %lld /* values per step of input '%s' */", M,
                  lower_c_ident(a, g->inputs[i]->name), step_size(g->inputs[i]), g->inputs[i]->name);
    for (int i = 0; i < g->n_outputs; i++)
        emit_line(h, "#define %s_INFER_OUT_%d %lld /* values per step of output %d '%s' */", M, i,
                  step_size(g->outputs[i]), i, g->outputs[i]->name ? g->outputs[i]->name : "");
    emit_blank(h);
    emit_infer_struct(I, h);
    emit_comment(h, "Keep the weights pointer and start a new sequence.");
    emit_line(h, "void %s_infer_init(%s_infer *s, const float *params);", M, M);
    emit_comment(h, "Forget the sequence so far (states and ring buffers to zero).");
    emit_line(h, "void %s_infer_reset(%s_infer *s);", M, M);
    emit_comment(h, "One time step: each input's values at this step in, each output's out.");
    emit_raw(h, arena_printf(a, "void %s_infer_step(%s_infer *s", M, M));
    io_params(I, h, false);
    emit_raw(h, ");\n");
    emit_comment(h, "A whole sequence from a fresh state: inputs [T, ...]; a sequence output");
    emit_comment(h, "gets [T, ...], any other output its value after the last step.");
    emit_raw(h, arena_printf(a, "void %s_infer_sequence(%s_infer *s", M, M));
    io_params(I, h, true);
    emit_raw(h, ");\n\n");
    emit_line(h, "#endif");
}

static void emit_reset_init(Infer *I, Printer *c)
{
    const char *M = I->M;
    emit_fn_open(c, "void %s_infer_reset(%s_infer *s)", M, M);
    emit_line(c, "const float *params = s->params;");
    emit_line(c, "memset(s, 0, sizeof *s);");
    emit_line(c, "s->params = params;");
    emit_close(c, NULL);
    emit_blank(c);
    emit_fn_open(c, "void %s_infer_init(%s_infer *s, const float *params)", M, M);
    emit_line(c, "s->params = params;");
    emit_line(c, "%s_infer_reset(s);", M);
    emit_close(c, NULL);
    emit_blank(c);
}

/* NAME_infer_step: inputs in, every node's step in graph order, outputs out. */
static void emit_step_fn(Infer *I, Printer *c)
{
    const IrGraph *g = I->g;
    emit_raw(c, arena_printf(I->a, "void %s_infer_step(%s_infer *s", I->M, I->M));
    io_params(I, c, false);
    emit_raw(c, ")\n{\n");
    c->indent = 1;
    for (int i = 0; i < g->n_inputs; i++) {
        const char *v = I->tname[g->inputs[i]->id];
        emit_line(c, "memcpy(s->%s, %s, sizeof s->%s);", v, v, v);
    }
    for (int i = 0; i < g->n_nodes; i++)
        emit_line(c, "%s_step(s);", node_stem(I, i));
    for (int i = 0; i < g->n_outputs; i++) {
        const char *v = I->tname[g->outputs[i]->id];
        emit_line(c, "memcpy(out_%s, s->%s, sizeof s->%s);", v, v, v);
    }
    emit_close(c, NULL);
    emit_blank(c);
}

/* NAME_infer_sequence: reset, then one step per time step. */
static void emit_sequence_fn(Infer *I, Printer *c)
{
    const IrGraph *g = I->g;
    Arena *a = I->a;
    emit_raw(c, arena_printf(a, "void %s_infer_sequence(%s_infer *s", I->M, I->M));
    io_params(I, c, true);
    emit_raw(c, ")\n{\n");
    c->indent = 1;
    emit_line(c, "%s_infer_reset(s);", I->M);
    emit_open(c, "for (int64_t t = 0; t < T; t++)");
    emit_raw(c, arena_printf(a, "        %s_infer_step(s", I->M));
    for (int i = 0; i < g->n_inputs; i++) {
        const IrTensor *t = g->inputs[i];
        bool seq = t->shape.rank == 2 || t->shape.is_int;
        emit_raw(c, arena_printf(a, ", %s%s", I->tname[t->id],
                                 seq ? arena_printf(a, " + t * %lld", step_size(t)) : ""));
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const IrTensor *t = g->outputs[i];
        emit_raw(c, arena_printf(a, ", out_%s%s", I->tname[t->id],
                                 t->shape.rank == 2 ? arena_printf(a, " + t * %lld", step_size(t)) : ""));
    }
    emit_raw(c, ");\n");
    emit_close(c, NULL);
    emit_close(c, NULL);
}

static void emit_infer_source(Infer *I, Printer *c, const Printer *steps)
{
    emit_comment(c, "%s_infer.c: generated by seqc %s from %s; do not edit", I->M, SEQC_VERSION,
                 I->opt->source_label);
    emit_line(c, "#include <math.h>");
    emit_line(c, "#include <string.h>");
    emit_blank(c);
    emit_line(c, "#include \"%s_infer.h\"", I->M);
    emit_blank(c);
    emit_helpers(c);
    emit_raw(c, steps->buf ? steps->buf : "");
    emit_reset_init(I, c);
    emit_step_fn(I, c);
    emit_sequence_fn(I, c);
}

bool infer_emit(const IrGraph *g, Arena *a, const LowerOptions *opt)
{
    Diag local;
    Diag *d = opt->diag;
    if (!d) {
        diag_init(&local, opt->source_label, opt->src, opt->src_len, stderr);
        d = &local;
    }
    if (!streamable(g, d))
        return false;
    Infer *I = calloc(1, sizeof *I);
    if (!I)
        seq_die("out of memory");
    *I = (Infer){.g = g, .a = a, .opt = opt, .M = lower_c_ident(a, g->name)};
    I->tname = ARENA_ARRAY(a, const char *, g->n_tensors + 1);
    for (int i = 0; i < g->n_tensors; i++)
        I->tname[g->tensors[i]->id] = arena_printf(a, "t%d_%s", g->tensors[i]->id,
                                                   g->tensors[i]->name ? lower_c_ident(a, g->tensors[i]->name) : "v");
    Printer steps, h, c;
    emit_init(&steps);
    emit_init(&h);
    emit_init(&c);
    long long total = emit_steps(I, &steps);
    emit_infer_header(I, &h, total);
    emit_infer_source(I, &c, &steps);
    const char *M = I->M;
    bool ok = emit_write_out(&h, I->opt->out_dir, arena_printf(a, "%s_infer.h", M)) &&
              emit_write_out(&c, I->opt->out_dir, arena_printf(a, "%s_infer.c", M));
    emit_free(&h);
    emit_free(&c);
    emit_free(&steps);
    free(I);
    return ok;
}
