/*
 * lower.c: IR -> C source (see lower.h for the contract with op emitters).
 *
 * The emitted NAME.c has, in order: the parameter offsets, the buffer plan
 * (one struct of pointers into one workspace, laid out by NAME_layout for a
 * batch size and the named time lengths), one forward and one backward
 * function per layer (bodies written by the op; identical layers share
 * one pair), the model's forward and
 * backward, which call them in graph order and in reverse, and the
 * seqrt_model descriptor the runtime's trainer reads.
 */
#include "lower.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "keras.h"
#include "ops.h"
#include "lower_runs.h"
#include "plan.h"
#include "strmap.h"
#include "summary.h"
#include "util.h"

/* ---- helpers for op emitters ------------------------------------------- */

void lower_scratch(LowerOp *o, const char *name, const char *size_fmt, ...)
{
    if (o->n_scratch == (int)(sizeof o->scratch / sizeof o->scratch[0]))
        seq_die("too many scratch buffers");
    char buf[256];
    va_list ap;
    va_start(ap, size_fmt);
    vsnprintf(buf, sizeof buf, size_fmt, ap);
    va_end(ap);
    o->scratch[o->n_scratch].name = name;
    o->scratch[o->n_scratch].size = arena_strdup(o->a, buf);
    o->n_scratch++;
}

void lower_state(LowerOp *o, const char *name, const char *size_fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, size_fmt);
    vsnprintf(buf, sizeof buf, size_fmt, ap);
    va_end(ap);
    lower_scratch(o, name, "%s", buf);
    o->scratch[o->n_scratch - 1].persistent = true;
}

const char *lower_dim(LowerOp *o, const char *name, long long value)
{
    for (int i = 0; i < o->n_dims; i++)
        if (!strcmp(o->dims[i].name, name)) {
            if (o->dims[i].value != value)
                seq_die("size %s named twice: %lld and %lld", name, o->dims[i].value, value);
            return name;
        }
    if (o->n_dims == (int)(sizeof o->dims / sizeof o->dims[0]))
        seq_die("too many named sizes");
    o->dims[o->n_dims].name = name;
    o->dims[o->n_dims++].value = value;
    return name;
}

long long lower_fixed(Dim d)
{
    if (d.sym)
        seq_die("a dynamic axis where a fixed one was checked");
    return d.n;
}

bool lower_has_time(const IrNode *n)
{
    if (n->n_in == 0)
        return false;
    const Shape *s = &n->in[0]->shape;
    return s->rank == 2 || (s->rank == 1 && s->is_int);
}

const char *lower_rows(LowerOp *o) { return lower_has_time(o->node) ? "B * T" : "B"; }

const char *lower_act_expr(LowerOp *o, const char *act, const char *z)
{
    if (!strcmp(act, "linear"))
        return arena_printf(o->a, "%s", z);
    if (!strcmp(act, "relu"))
        return arena_printf(o->a, "(%s > 0 ? %s : 0)", z, z);
    if (!strcmp(act, "tanh"))
        return arena_printf(o->a, "SEQRT_TANH(%s)", z);
    if (!strcmp(act, "sigmoid"))
        return arena_printf(o->a, "seqrt_sigmoid(%s)", z);
    if (!strcmp(act, "hard_sigmoid"))
        return arena_printf(o->a, "seqrt_hard_sigmoid(%s)", z);
    seq_die("no elementwise form for activation %s", act);
}

const char *lower_dact_expr(LowerOp *o, const char *act, const char *a)
{
    /* Every elementwise activation's derivative, written from its output. */
    if (!strcmp(act, "linear"))
        return "1";
    if (!strcmp(act, "relu"))
        return arena_printf(o->a, "(%s > 0)", a);
    if (!strcmp(act, "tanh"))
        return arena_printf(o->a, "(1 - %s * %s)", a, a);
    if (!strcmp(act, "sigmoid"))
        return arena_printf(o->a, "%s * (1 - %s)", a, a);
    if (!strcmp(act, "hard_sigmoid"))
        return arena_printf(o->a, "(%s > 0 && %s < 1 ? (seqrt_real)0.2 : 0)", a, a);
    seq_die("no elementwise derivative for activation %s", act);
}

void lower_activation_forward(LowerOp *o, const char *act, const char *y, const char *rows,
                              long long width)
{
    Printer *p = o->p;
    if (!strcmp(act, "linear"))
        return;
    if (!strcmp(act, "softmax")) {
        emit_comment(p, "softmax over the last axis, shifted by the row max");
        emit_open(p, "for (int64_t n = 0; n < %s; n++)", rows);
        emit_line(p, "seqrt_softmax(%s + n * %lld, %s + n * %lld, %lld);", y, width, y, width,
                  width);
        emit_close(p, NULL);
        return;
    }
    emit_open(p, "for (int64_t i = 0; i < %s * %lld; i++)", rows, width);
    emit_line(p, "%s[i] = %s;", y, lower_act_expr(o, act, arena_printf(o->a, "%s[i]", y)));
    emit_close(p, NULL);
}

void lower_activation_backward(LowerOp *o, const char *act, const char *dy, const char *y,
                               const char *rows, long long width)
{
    Printer *p = o->p;
    if (!strcmp(act, "linear"))
        return;
    if (!strcmp(act, "softmax")) {
        emit_comment(p, "softmax backward, in place: dz = y * (dy - sum(dy * y))");
        emit_open(p, "for (int64_t n = 0; n < %s; n++)", rows);
        emit_line(p, "seqrt_real *dz = %s + n * %lld;", dy, width);
        emit_line(p, "const seqrt_real *p = %s + n * %lld;", y, width);
        emit_line(p, "seqrt_real s = 0;");
        emit_line(p, "for (int64_t i = 0; i < %lld; i++) s += dz[i] * p[i];", width);
        emit_line(p, "for (int64_t i = 0; i < %lld; i++) dz[i] = p[i] * (dz[i] - s);", width);
        emit_close(p, NULL);
        return;
    }
    emit_open(p, "for (int64_t i = 0; i < %s * %lld; i++)", rows, width);
    emit_line(p, "%s[i] *= %s;", dy, lower_dact_expr(o, act, arena_printf(o->a, "%s[i]", y)));
    emit_close(p, NULL);
}

/* ---- naming ------------------------------------------------------------ */

typedef struct {
    const Plan *P;
    const IrGraph *g;            /* P->g */
    Arena *a;
    const LowerOptions *opt;
    const char *M;               /* model name: prefix of every global symbol */
    StrMap param_index;          /* parameter name -> its index in P->params */
    int *shared;                 /* per plan function: the one emitted for it (emit_layer_fns) */
    bool member_defined;         /* SEQ_MEMBER is (lower_runs.h) */
    bool uses_training;          /* the forward reads its dropout key (emit_model_forward) */
} Lower;

static char *c_ident(Arena *a, const char *s)
{
    char *r = arena_strdup(a, s);
    for (char *p = r; *p; p++)
        if (!isalnum((unsigned char)*p))
            *p = '_';
    return r;
}

/* How often `body` mentions identifier `id` as a whole word, outside
 * comments (so a comment never keeps an unused argument alive). */
static int count_mentions(const char *body, const char *id)
{
    size_t n = strlen(id);
    int count = 0;
    for (const char *p = body; p && *p;) {
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
            continue;
        }
        if (!strncmp(p, id, n) && (p == body || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
            !(isalnum((unsigned char)p[n]) || p[n] == '_')) {
            count++;
            p += n;
            continue;
        }
        p++;
    }
    return count;
}

static bool mentions(const char *body, const char *id) { return count_mentions(body, id) > 0; }

bool lower_mentions(const char *body, const char *id) { return body && mentions(body, id); }
char *lower_c_ident(Arena *a, const char *s) { return c_ident(a, s); }

static const char *dim_c(Lower *L, Dim d)
{
    if (!d.sym)
        return arena_printf(L->a, "%lld", d.n);
    const char *v = arena_printf(L->a, "dim_%s", c_ident(L->a, d.sym));
    if (d.div > 1 && d.add) /* a strided layer's length: the sum is >= 0, / rounds down */
        v = arena_printf(L->a, "(%s %c %lld) / %lld", v, d.add < 0 ? '-' : '+',
                         d.add < 0 ? -d.add : d.add, d.div);
    else if (d.div > 1)
        v = arena_printf(L->a, "%s / %lld", v, d.div);
    if (d.n == 0)
        return d.div > 1 ? arena_printf(L->a, "(%s)", v) : v;
    return arena_printf(L->a, "(%s %c %lld)", v, d.n < 0 ? '-' : '+', d.n < 0 ? -d.n : d.n);
}

/* Elements of one sample of a tensor, as a C expression. */
static const char *sample_size(Lower *L, const Shape *s)
{
    const char *e = NULL;
    long long fixed = 1;
    for (int i = 0; i < s->rank; i++) {
        if (!s->d[i].sym)
            fixed *= s->d[i].n;
        else
            e = e ? arena_printf(L->a, "%s * %s", e, dim_c(L, s->d[i])) : dim_c(L, s->d[i]);
    }
    if (!e)
        return arena_printf(L->a, "%lld", fixed);
    return fixed == 1 ? e : arena_printf(L->a, "%s * %lld", e, fixed);
}

static const char *val_expr(Lower *L, const IrTensor *t)
{
    if (t->role == TENSOR_INPUT)
        return arena_printf(L->a, "in_%s", L->P->tname[t->id]);
    return arena_printf(L->a, "w.v_%s", L->P->tname[t->id]);
}

static const char *grad_expr(Lower *L, const IrTensor *t)
{
    return plan_has_grad(t) ? arena_printf(L->a, "w.g_%s", L->P->tname[t->id]) : "NULL";
}

/* The short name of a param inside its layer: "lstm.kernel" -> "kernel",
 * "bidirectional.forward_lstm.kernel" -> "forward_lstm_kernel". */
static const char *param_short(Lower *L, const IrLayer *l, const IrParam *p)
{
    return c_ident(L->a, p->name + strlen(l->name) + 1);
}

static bool mentions_dim(Lower *L, const char *body)
{
    for (int i = 0; i < L->g->n_dims; i++)
        if (body && mentions(body, arena_printf(L->a, "dim_%s", c_ident(L->a, L->g->dims[i]))))
            return true;
    return false;
}

/* ---- one layer's functions ---------------------------------------------- */

typedef struct {
    const char *decl;     /* "const seqrt_real *x0" */
    const char *name;     /* "x0" */
    int kind;             /* ARG_* */
    int index;
} Arg;

enum {
    ARG_Y, ARG_X, ARG_S, ARG_PARAM, ARG_SCRATCH, ARG_DY, ARG_DX, ARG_DS, ARG_DPARAM, ARG_B, ARG_T,
    ARG_TRAINING, ARG_STREAM, ARG_MOUT, ARG_MIN
};

static int layer_args(Lower *L, const IrLayer *l, const LowerOp *o, bool backward, Arg *args)
{
    const IrNode *n = o->node;
    int k = 0;
    const char *R = "seqrt_real";
    if (backward) {
        for (int i = 0; i < n->n_in; i++)
            if (!n->in[i]->shape.is_int)
                args[k++] = (Arg){arena_printf(L->a, "%s *d_x%d", R, i),
                                  arena_printf(L->a, "d_x%d", i), ARG_DX, i};
        for (int i = 0; i < n->n_state; i++)
            args[k++] = (Arg){arena_printf(L->a, "%s *d_s%d", R, i),
                              arena_printf(L->a, "d_s%d", i), ARG_DS, i};
        for (int i = 0; i < l->n_params; i++) {
            const char *s = param_short(L, l, &l->params[i]);
            args[k++] = (Arg){arena_printf(L->a, "%s *d_%s", R, s), arena_printf(L->a, "d_%s", s),
                              ARG_DPARAM, i};
        }
        for (int i = 0; i < n->n_out; i++)
            args[k++] = (Arg){arena_printf(L->a, "%s *d_y%d", R, i),
                              arena_printf(L->a, "d_y%d", i), ARG_DY, i};
    }
    for (int i = 0; i < n->n_out; i++)
        args[k++] = (Arg){arena_printf(L->a, "%s%s *y%d", backward ? "const " : "", R, i),
                          arena_printf(L->a, "y%d", i), ARG_Y, i};
    for (int i = 0; i < n->n_in; i++)
        args[k++] = (Arg){arena_printf(L->a, "const %s *x%d",
                                       n->in[i]->shape.is_int ? "int32_t" : R, i),
                          arena_printf(L->a, "x%d", i), ARG_X, i};
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i]->mask == n->out[i])
            args[k++] = (Arg){arena_printf(L->a, "%s%s *m%d", backward ? "const " : "", R, i),
                              arena_printf(L->a, "m%d", i), ARG_MOUT, i};
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i]->mask)
            args[k++] = (Arg){arena_printf(L->a, "const %s *mask%d", R, i),
                              arena_printf(L->a, "mask%d", i), ARG_MIN, i};
    for (int i = 0; i < n->n_state; i++)
        args[k++] = (Arg){arena_printf(L->a, "const %s *s%d", R, i),
                          arena_printf(L->a, "s%d", i), ARG_S, i};
    for (int i = 0; i < l->n_params; i++) {
        const char *s = param_short(L, l, &l->params[i]);
        args[k++] = (Arg){arena_printf(L->a, "const %s *%s", R, s), s, ARG_PARAM, i};
    }
    for (int i = 0; i < o->n_scratch; i++)
        args[k++] = (Arg){arena_printf(L->a, "%s *%s", R, o->scratch[i].name),
                          o->scratch[i].name, ARG_SCRATCH, i};
    args[k++] = (Arg){"int64_t B", "B", ARG_B, 0};
    if (!backward)
        args[k++] = (Arg){"int training", "training", ARG_TRAINING, 0};
    args[k++] = (Arg){"uint64_t stream", "stream", ARG_STREAM, 0};
    if (lower_has_time(n))
        args[k++] = (Arg){"int64_t T", "T", ARG_T, 0};
    for (int i = 1; i < n->n_in; i++)
        if (n->in[i]->shape.rank == 2) /* a second sequence: attention's values */
            args[k++] = (Arg){arena_printf(L->a, "int64_t T%d", i), arena_printf(L->a, "T%d", i),
                              ARG_T, i};
    return k;
}

/* By name: expanded wrappers hold copies of their wrapper's params. */
static int flat_param(const Lower *L, const IrLayer *l, int i)
{
    const char *name = l->params[i].name;
    int k = strmap_get(&L->param_index, name, strlen(name));
    if (k < 0)
        SEQ_UNREACHABLE();
    return k;
}

/* The argument's value at one call site. */
static const char *arg_value(Lower *L, const Arg *a, const IrNode *n)
{
    switch (a->kind) {
    case ARG_Y: return val_expr(L, n->out[a->index]);
    case ARG_X: return val_expr(L, n->in[a->index]);
    case ARG_S: return val_expr(L, n->state[a->index]);
    case ARG_DY: return grad_expr(L, n->out[a->index]);
    case ARG_DX: return grad_expr(L, n->in[a->index]);
    case ARG_DS: return grad_expr(L, n->state[a->index]);
    case ARG_PARAM:
        return arena_printf(L->a, "params + %s", L->P->pname[flat_param(L, n->layer, a->index)]);
    case ARG_DPARAM:
        return arena_printf(L->a, "grads + %s", L->P->pname[flat_param(L, n->layer, a->index)]);
    case ARG_SCRATCH:
        return arena_printf(L->a, "w.%s",
                            plan_scratch_member(L->P, L->a, n, L->P->ops[L->P->fn[n->id]]
                                                     .scratch[a->index].name));
    case ARG_B: return "B";
    case ARG_TRAINING: return "training";
    case ARG_MOUT: return arena_printf(L->a, "w.m_%s", L->P->tname[n->out[a->index]->id]);
    case ARG_MIN: return arena_printf(L->a, "w.m_%s", L->P->tname[n->in[a->index]->mask->id]);
    case ARG_STREAM: return arena_printf(L->a, "%d", n->id);
    case ARG_T: return dim_c(L, n->in[a->index]->shape.d[0]);
    }
    SEQ_UNREACHABLE();
}

typedef struct {
    Printer body;
    Arg args[64];
    int n_args;
    bool used[64];
} LayerFn;

/* The body, after `enum { UNITS = 8, ... };` for the sizes it names. */
static void open_with_dims(LowerOp *o, Printer *body)
{
    const char *list = NULL;
    for (int i = 0; i < o->n_dims; i++)
        if (body->buf && mentions(body->buf, o->dims[i].name))
            list = arena_printf(o->a, "%s%s%s = %lld", list ? list : "", list ? ", " : "",
                                o->dims[i].name, o->dims[i].value);
    if (!list)
        return;
    Printer q;
    emit_init(&q);
    q.indent = body->indent;
    emit_line(&q, "enum { %s };", list);
    emit_raw(&q, body->buf);
    emit_free(body);
    *body = q;
}

static void build_fn(Lower *L, const IrLayer *l, LowerOp *o, bool backward, LayerFn *f)
{
    emit_init(&f->body);
    o->p = &f->body;
    f->body.indent = 1;
    o->n_dims = 0;
    (backward ? l->op->backward : l->op->forward)(o);
    open_with_dims(o, &f->body);
    f->n_args = layer_args(L, l, o, backward, f->args);
    for (int i = 0; i < f->n_args; i++)
        f->used[i] = mentions(f->body.buf ? f->body.buf : "", f->args[i].name);
}

static void print_fn(Printer *p, const char *name, const LayerFn *f)
{
    emit_raw(p, "SEQRT_KERNEL static void ");
    emit_raw(p, name);
    emit_raw(p, "(");
    bool first = true;
    for (int i = 0; i < f->n_args; i++) {
        if (!f->used[i])
            continue;
        emit_raw(p, first ? "" : ", ");
        emit_raw(p, f->args[i].decl);
        first = false;
    }
    emit_raw(p, first ? "void)\n{\n" : ")\n{\n");
    emit_raw(p, f->body.buf ? f->body.buf : "");
    emit_raw(p, "}\n\n");
}

static const char *source_comment(Lower *L, const IrNode *n);

/* One call site: its arguments' values and the parameters' names. */
static SeqCall layer_call(Lower *L, const char *name, const LayerFn *f, const IrNode *n)
{
    SeqCall c = {name, source_comment(L, n), 0, NULL, NULL};
    c.args = arena_alloc(L->a, sizeof *c.args * (size_t)(f->n_args ? f->n_args : 1));
    c.names = arena_alloc(L->a, sizeof *c.names * (size_t)(f->n_args ? f->n_args : 1));
    for (int i = 0; i < f->n_args; i++) {
        if (!f->used[i])
            continue;
        c.names[c.n_args] = f->args[i].name;
        c.args[c.n_args++] = arg_value(L, &f->args[i], n);
    }
    return c;
}

/* ---- the source line a node came from ---------------------------------- */

static const char *source_comment(Lower *L, const IrNode *n)
{
    const char *src = L->opt->src;
    if (!src)
        return arena_printf(L->a, "%s:%d", L->opt->source_label, n->line);
    size_t s = n->span.start, e = n->span.start;
    while (s > 0 && src[s - 1] != '\n')
        s--;
    while (e < L->opt->src_len && src[e] != '\n')
        e++;
    while (s < e && isspace((unsigned char)src[s]))
        s++;
    char text[128];
    size_t k = 0;
    for (size_t i = s; i < e && k < sizeof text - 4; i++) {
        char c = src[i];
        if (c == '*' && i + 1 < e && src[i + 1] == '/')
            c = '_'; /* never close the comment early */
        text[k++] = isprint((unsigned char)c) ? c : ' ';
    }
    if (k == sizeof text - 4 && e - s > k)
        text[k++] = '.', text[k++] = '.', text[k++] = '.';
    while (k > 0 && isspace((unsigned char)text[k - 1]))
        k--;
    text[k] = '\0';
    return arena_printf(L->a, "%s:%d: %s", L->opt->source_label, n->line, text);
}

/* ---- the files --------------------------------------------------------- */

/* Past this many layer calls, the model-level functions (layout, numerics
 * checks, forward and backward: straight-line calls and pointer arithmetic,
 * a few lines per layer) are compiled unoptimised by GCC, whose optimiser
 * and register allocator grow faster than linearly in a function's length
 * (a 500-layer chain: 28 s of -O3 against 2.8 s). The layers' own
 * functions stay at -O3. Clang is no faster: 24 s against 2.9 s. */
enum { GLUE_UNOPTIMISED_FROM = 100 };

static const char *glue(const Lower *L)
{
    return L->g->n_nodes >= GLUE_UNOPTIMISED_FROM ? "SEQ_GLUE " : "";
}

static const char *c_string(Lower *L, const char *s)
{
    size_t n = strlen(s);
    char *r = arena_alloc(L->a, n * 4 + 3);
    size_t k = 0;
    r[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            r[k++] = '\\';
            r[k++] = (char)c;
        } else if (c == '\n') {
            r[k++] = '\\';
            r[k++] = 'n';
        } else if (c < 32 || c >= 127) {
            k += (size_t)sprintf(r + k, "\\%03o", c);
        } else {
            r[k++] = (char)c;
        }
    }
    r[k++] = '"';
    r[k] = '\0';
    return r;
}

static const char *init_name(InitKind k)
{
    static const char *const names[] = {
        "SEQRT_INIT_ZEROS", "SEQRT_INIT_ONES", "SEQRT_INIT_GLOROT_UNIFORM",
        "SEQRT_INIT_ORTHOGONAL", "SEQRT_INIT_UNIFORM", "SEQRT_INIT_UNIT_FORGET_BIAS",
    };
    return names[k];
}

static void emit_io_table(Lower *L, Printer *p, const char *what, IrTensor *const *ts, int n)
{
    if (n == 0)
        return;
    emit_open(p, "static const seqrt_io %s_%s[] =", L->M, what);
    for (int i = 0; i < n; i++) {
        const IrTensor *t = ts[i];
        long long shp[3] = {0, 0, 0}, off[3] = {0, 0, 0}, div[3] = {0, 0, 0}, add[3] = {0, 0, 0};
        int di[3] = {-1, -1, -1};
        for (int k = 0; k < t->shape.rank; k++) {
            Dim d = t->shape.d[k];
            shp[k] = d.sym ? -1 : d.n;
            off[k] = d.sym ? d.n : 0; /* T-1 after a valid Conv1D(2) */
            div[k] = d.sym && d.div > 1 ? d.div : 0; /* (T-3)/2+1 after a strided one */
            add[k] = div[k] ? d.add : 0;
            for (int j = 0; d.sym && j < L->g->n_dims; j++)
                if (!strcmp(L->g->dims[j], d.sym))
                    di[k] = j;
        }
        /* The integer range: the smallest bound of the layers reading t (a
         * vocabulary, OpInfo.int_limit), or the class count of a sparse loss. */
        long long limit = 0;
        for (int j = 0; t->shape.is_int && j < L->g->n_nodes; j++) {
            const IrNode *nd = L->g->nodes[j];
            for (int k = 0; k < nd->n_in; k++) {
                long long v = nd->in[k] == t && nd->layer->op->int_limit
                                  ? nd->layer->op->int_limit(nd->layer, k) : 0;
                if (v > 0)
                    limit = limit && limit < v ? limit : v;
            }
        }
        for (int j = 0; t->shape.is_int && j < L->g->train.n_losses; j++) {
            const IrLoss *ls = &L->g->train.losses[j];
            if (ls->target == t)
                limit = ls->pred->shape.d[ls->pred->shape.rank - 1].n;
        }
        /* Axes at their full named length leave these out. */
        const char *offs = off[0] || off[1] || off[2]
                               ? arena_printf(L->a, ", .dim_offset = {%lld, %lld, %lld}", off[0],
                                              off[1], off[2])
                               : "";
        if (div[0] || div[1] || div[2])
            offs = arena_printf(L->a, "%s, .dim_div = {%lld, %lld, %lld}, .dim_add = {%lld, %lld, "
                                "%lld}", offs, div[0], div[1], div[2], add[0], add[1], add[2]);
        emit_line(p, "{.name = %s, .is_int = %d, .ndim = %d, .shape = {%lld, %lld, %lld}, "
                  ".dim_index = {%d, %d, %d}, .int_limit = %lld%s},",
                  c_string(L, t->name ? t->name : "out"), t->shape.is_int, t->shape.rank, shp[0],
                  shp[1], shp[2], di[0], di[1], di[2], limit, offs);
    }
    emit_close(p, ";");
    emit_blank(p);
}

/* Declarations of the dims a function body mentions, then the body. */
static void emit_with_dims(Lower *L, Printer *p, Printer *body)
{
    for (int i = 0; i < L->g->n_dims; i++) {
        const char *v = arena_printf(L->a, "dim_%s", c_ident(L->a, L->g->dims[i]));
        if (body->buf && mentions(body->buf, v))
            emit_line(p, "const int64_t %s = dims[%d]; /* %s */", v, i, L->g->dims[i]);
    }
    emit_raw(p, body->buf ? body->buf : "");
}

/* The shortest sequences the layers accept (a valid convolution needs its
 * span): model_check_dims, run when the data sets the named axes, so that
 * a short batch is an error message and not a negative buffer size.
 * Returns false (nothing emitted) when no layer constrains them. */
static bool emit_check_dims(Lower *L, Printer *p)
{
    Printer body;
    emit_init(&body);
    body.indent = 1;
    bool any = false;
    for (int i = 0; i < L->g->n_nodes; i++) {
        const IrNode *n = L->g->nodes[i];
        const OpInfo *op = n->layer->op;
        if (!op->min_time || !lower_has_time(n))
            continue;
        long long need = op->min_time(n->layer);
        Dim t = n->in[0]->shape.d[0];
        bool named = false;
        for (int j = 0; t.sym && j < L->g->n_dims; j++)
            named |= !strcmp(L->g->dims[j], t.sym);
        if (need <= 1 || !named) /* fixed lengths were checked by seqc */
            continue;
        any = true;
        const char *te = dim_c(L, t);
        emit_open(&body, "if (%s < %lld)", te, need);
        emit_raw(&body, arena_printf(L->a,
                 "%*ssnprintf(msg, len, \"layer '%s' (%s, %s:%d) needs at least %lld time steps, but "
                 "its input has %%lld (%s = %%lld)\", (long long)%s, (long long)dim_%s);\n",
                 4 * body.indent, "", n->layer->name, op->name, L->opt->source_label, n->line, need,
                 t.sym, te, c_ident(L->a, t.sym)));
        emit_line(&body, "return 1;");
        emit_close(&body, NULL);
    }
    if (any) {
        emit_comment(p, "The shortest sequences the layers accept: 0, or 1 with msg set.");
        emit_fn_open(p, "static int model_check_dims(char *msg, size_t len, const int64_t *dims)");
        emit_with_dims(L, p, &body);
        emit_line(p, "return 0;");
        emit_close(p, NULL);
        emit_blank(p);
    }
    emit_free(&body);
    return any;
}

static void emit_prologue(Lower *L, Printer *p)
{
    emit_comment(p, "%s.c: generated by seqc %s from %s; do not edit", L->M, SEQC_VERSION,
                 L->opt->source_label);
    emit_comment(p, "Forward and backprop-through-time backward passes for model '%s'.",
                 L->g->name);
    emit_comment(p, "GCC vectorises the gate loops' selects only when it may evaluate both");
    emit_comment(p, "sides (a division that could raise a floating-point flag nobody reads).");
    emit_line(p, "#if defined(__GNUC__) && !defined(__clang__)");
    emit_line(p, "#pragma GCC optimize(\"no-trapping-math\")");
    emit_line(p, "#endif");
    if (*glue(L)) {
        emit_comment(p, "The model-level functions only call the layers and place buffers, a few");
        emit_comment(p, "lines per layer: GCC's optimiser takes minutes over thousands of layers.");
        emit_line(p, "#if defined(__GNUC__) && !defined(__clang__)");
        emit_line(p, "#define SEQ_GLUE __attribute__((optimize(\"O0\")))");
        emit_line(p, "#elif defined(__clang__)");
        emit_line(p, "#define SEQ_GLUE __attribute__((optnone))");
        emit_line(p, "#else");
        emit_line(p, "#define SEQ_GLUE");
        emit_line(p, "#endif");
    }
    emit_line(p, "#include <math.h>");
    emit_line(p, "#include <stddef.h>");
    emit_line(p, "#include <stdio.h>");
    emit_line(p, "#include <stdint.h>");
    emit_line(p, "#include <string.h>");
    emit_blank(p);
    emit_line(p, "#include \"seqrt_kernel.h\"");
    emit_line(p, "#include \"%s.h\"", L->M);
    emit_blank(p);
}

static void emit_param_offsets(Lower *L, Printer *p)
{
    emit_comment(p, "Offsets of each parameter in the flat buffer (Keras names and layouts).");
    emit_open(p, "enum");
    for (int i = 0; i < L->P->n_params; i++) {
        const IrParam *q = L->P->params[i];
        char shape[96];
        size_t k = 0;
        for (int j = 0; j < q->ndim; j++)
            k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", j ? ", " : "", q->shape[j]);
        shape[k] = '\0';
        emit_line(p, "%s = %lld, /* %s [%s] */", L->P->pname[i], L->P->poff[i], q->name, shape);
    }
    emit_line(p, "%s_PARAM_COUNT = %lld", L->M, L->P->param_count);
    emit_close(p, ";");
    emit_blank(p);
}

static void emit_buffer_struct(Lower *L, Printer *p)
{
    const IrGraph *g = L->g;
    emit_comment(p, "Every buffer a step uses: v_ values, s_ what backward needs, g_ gradients.");
    emit_open(p, "typedef struct");
    for (int i = 0; i < g->n_tensors; i++) {
        const IrTensor *t = g->tensors[i];
        if (t->role != TENSOR_VALUE)
            continue;
        char sb[96];
        emit_line(p, "seqrt_real *v_%s; /* %s */", L->P->tname[t->id], shape_str(&t->shape, sb, sizeof sb));
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        const LowerOp *o = &L->P->ops[L->P->fn[n->id]];
        for (int k = 0; k < o->n_scratch; k++)
            emit_line(p, "seqrt_real *%s; /* [%s] */",
                      plan_scratch_member(L->P, L->a, n, o->scratch[k].name), o->scratch[k].size);
    }
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i]->mask == g->tensors[i])
            emit_line(p, "seqrt_real *m_%s; /* padding mask [B, T]: 1 valid, 0 padded */",
                      L->P->tname[g->tensors[i]->id]);
    for (int i = 0; i < g->n_tensors; i++)
        if (plan_has_grad(g->tensors[i]))
            emit_line(p, "seqrt_real *g_%s;", L->P->tname[g->tensors[i]->id]);
    emit_line(p, "char *grads_begin, *grads_end; /* zeroed before each backward pass */");
    emit_close(p, arena_printf(L->a, " %s_buffers;", L->M));
    emit_blank(p);
}

/* Placement groups of model_layout, collected so that runs of identical
 * groups become a table (lower_runs.h). */
typedef struct {
    SeqTakes *v;
    int n, cap;
} TakesVec;

static SeqTakes *takes_push(Lower *L, TakesVec *tv, const char *label, const char *note, int n)
{
    if (tv->n == tv->cap) {
        int cap = tv->cap ? tv->cap * 2 : 64;
        SeqTakes *v = arena_alloc(L->a, sizeof *v * (size_t)cap);
        if (tv->n)
            memcpy(v, tv->v, sizeof *v * (size_t)tv->n);
        tv->v = v, tv->cap = cap;
    }
    SeqTakes *t = &tv->v[tv->n++];
    *t = (SeqTakes){.label = label, .note = note, .n = 0};
    t->members = arena_alloc(L->a, sizeof *t->members * (size_t)(n ? n : 1));
    t->sizes = arena_alloc(L->a, sizeof *t->sizes * (size_t)(n ? n : 1));
    return t;
}

static void take_one(Lower *L, TakesVec *tv, const char *member, const char *size)
{
    SeqTakes *t = takes_push(L, tv, NULL, NULL, 1);
    t->members[0] = member, t->sizes[0] = size, t->n = 1;
}

/* One layer call's scratch buffers in model_layout (carried ones are
 * placed before everything else). */
static void layout_scratch(Lower *L, TakesVec *tv, const IrNode *n)
{
    const LowerOp *o = &L->P->ops[L->P->fn[n->id]];
    if (!o->n_scratch)
        return;
    SeqTakes *t = takes_push(L, tv, n->layer->name, NULL, o->n_scratch);
    char sizes[1024];
    size_t sk = 0;
    for (int k = 0; k < o->n_scratch && sk < sizeof sizes; k++)
        sk += (size_t)snprintf(sizes + sk, sizeof sizes - sk, "%s ", o->scratch[k].size);
    if (lower_has_time(n) && mentions(sizes, "T"))
        t->prelude[t->n_prelude++] =
            arena_printf(L->a, "const int64_t T = %s;", dim_c(L, n->in[0]->shape.d[0]));
    for (int k = 1; k < n->n_in && t->n_prelude < 4; k++)
        if (n->in[k]->shape.rank == 2 && mentions(sizes, arena_printf(L->a, "T%d", k)))
            t->prelude[t->n_prelude++] = arena_printf(L->a, "const int64_t T%d = %s;", k,
                                                      dim_c(L, n->in[k]->shape.d[0]));
    for (int k = 0; k < o->n_scratch; k++)
        if (!o->scratch[k].persistent) {
            t->members[t->n] = plan_scratch_member(L->P, L->a, n, o->scratch[k].name);
            t->sizes[t->n++] = o->scratch[k].size;
        }
}

/* Output i is the first of the outputs that names its tensor. */
static bool first_output(const IrGraph *g, int i)
{
    for (int k = 0; k < i; k++)
        if (g->outputs[k] == g->outputs[i])
            return false;
    return true;
}

static bool is_output(const IrGraph *g, const IrTensor *t)
{
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == t)
            return true;
    return false;
}

static void emit_layout_body(Lower *L, Printer *body)
{
    const IrGraph *g = L->g;
    SeqRuns runs = {L->a, 0};
    TakesVec tv = {0};
    emit_line(body, "size_t off = 0;");
    /* Carried states first: their place then depends on B alone, so they
     * survive a change of sequence length between calls. */
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        const LowerOp *o = &L->P->ops[L->P->fn[n->id]];
        for (int k = 0; k < o->n_scratch; k++)
            if (o->scratch[k].persistent) {
                SeqTakes *t = takes_push(L, &tv, NULL, "carried between batches", 1);
                t->members[0] = plan_scratch_member(L->P, L->a, n, o->scratch[k].name);
                t->sizes[0] = o->scratch[k].size, t->n = 1;
            }
    }
    for (int i = 0; i < g->n_tensors; i++) {
        const IrTensor *t = g->tensors[i];
        if (t->role == TENSOR_VALUE)
            take_one(L, &tv, arena_printf(L->a, "v_%s", L->P->tname[t->id]),
                     arena_printf(L->a, "B * %s", sample_size(L, &t->shape)));
    }
    for (int i = 0; i < g->n_tensors; i++) {
        const IrTensor *t = g->tensors[i];
        if (t->mask == t)
            take_one(L, &tv, arena_printf(L->a, "m_%s", L->P->tname[t->id]),
                     arena_printf(L->a, "B * %s", dim_c(L, t->shape.d[0])));
    }
    for (int i = 0; i < g->n_nodes; i++)
        layout_scratch(L, &tv, g->nodes[i]);
    /* the outputs' gradients start as copies of d_outputs: outside the
     * zeroed range */
    for (int i = 0; i < g->n_outputs; i++) {
        const IrTensor *t = g->outputs[i];
        if (plan_has_grad(t) && first_output(g, i))
            take_one(L, &tv, arena_printf(L->a, "g_%s", L->P->tname[t->id]),
                     arena_printf(L->a, "B * %s", sample_size(L, &t->shape)));
    }
    seq_runs_layout(&runs, body, tv.v, tv.n);
    emit_line(body, "b->grads_begin = base ? base + off : NULL;");
    tv.n = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const IrTensor *t = g->tensors[i];
        if (plan_has_grad(t) && !is_output(g, t))
            take_one(L, &tv, arena_printf(L->a, "g_%s", L->P->tname[t->id]),
                     arena_printf(L->a, "B * %s", sample_size(L, &t->shape)));
    }
    seq_runs_layout(&runs, body, tv.v, tv.n);
    emit_line(body, "b->grads_end = base ? base + off : NULL;");
    emit_line(body, "return off;");
}

/* The macro the tables of runs read buffers through, before the first
 * function whose body uses it. */
static void define_member(Lower *L, Printer *p, const Printer *body)
{
    if (L->member_defined || !body->buf || !mentions(body->buf, "SEQ_MEMBER"))
        return;
    emit_comment(p, "The tables of long runs name buffers by their offsets in the struct.");
    emit_line(p, SEQ_RUN_AT_MACRO, L->M);
    emit_line(p, "%s", SEQ_RUN_MEMBER_MACRO);
    emit_blank(p);
    L->member_defined = true;
}

/* take(), model_layout and model_workspace_size: the workspace. */
static void emit_layout(Lower *L, Printer *p)
{
    emit_fn_open(p, "static seqrt_real *take(char *base, size_t *off, int64_t n)");
    emit_line(p, "seqrt_real *ptr = base ? (seqrt_real *)(base + *off) : NULL;");
    emit_line(p, "*off += ((size_t)n * sizeof(seqrt_real) + 63) / 64 * 64;");
    emit_line(p, "return ptr;");
    emit_close(p, NULL);
    emit_blank(p);

    Printer body;
    emit_init(&body);
    body.indent = 1;
    emit_layout_body(L, &body);
    define_member(L, p, &body);
    emit_comment(p, "Lay the buffers out in one workspace for batch B; returns its size.");
    emit_fn_open(p, "%sstatic size_t model_layout(%s_buffers *b, char *base, int64_t B, "
                 "const int64_t *dims)", glue(L), L->M);
    if (!mentions_dim(L, body.buf))
        emit_line(p, "(void)dims;");
    emit_with_dims(L, p, &body);
    emit_free(&body);
    emit_close(p, NULL);
    emit_blank(p);

    emit_fn_open(p, "static size_t model_workspace_size(int64_t B, const int64_t *dims)");
    emit_line(p, "%s_buffers b;", L->M);
    emit_line(p, "return model_layout(&b, NULL, B, dims);");
    emit_close(p, NULL);
    emit_blank(p);
}

/* Stateful layers' carried states: zeroed on request only. */
static void emit_reset_states(Lower *L, Printer *p)
{
    const IrGraph *g = L->g;
    if (!L->P->any_state)
        return;
    emit_comment(p, "Zero the states that stateful layers carry between batches.");
    emit_fn_open(p, "static void model_reset_states(void *ws, int64_t B, const int64_t *dims)");
    emit_line(p, "%s_buffers w;", L->M);
    emit_line(p, "model_layout(&w, ws, B, dims);");
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        const LowerOp *o = &L->P->ops[L->P->fn[n->id]];
        for (int k = 0; k < o->n_scratch; k++)
            if (o->scratch[k].persistent)
                emit_line(p, "memset(w.%s, 0, sizeof(seqrt_real) * (size_t)(%s));",
                          plan_scratch_member(L->P, L->a, n, o->scratch[k].name),
                          o->scratch[k].size);
    }
    emit_close(p, NULL);
    emit_blank(p);
}

/* Which outputs carry a padding mask, for the losses. */
static void emit_output_mask(Lower *L, Printer *p)
{
    const IrGraph *g = L->g;
    if (!L->P->any_mask)
        return;
    emit_comment(p, "The padding mask of an output (1 valid, 0 padded), for masked losses.");
    emit_fn_open(p, "static int model_output_mask(uint8_t *dst, int output, void *ws, int64_t B, "
                 "const int64_t *dims)");
    Printer mb;
    emit_init(&mb);
    mb.indent = p->indent;
    emit_line(&mb, "%s_buffers w;", L->M);
    emit_line(&mb, "model_layout(&w, ws, B, dims);");
    emit_open(&mb, "switch (output)");
    for (int i = 0; i < g->n_outputs; i++) {
        const IrTensor *t = g->outputs[i];
        if (!t->mask)
            continue;
        emit_line(&mb, "case %d:", i);
        emit_line(&mb, "    for (int64_t i = 0; i < B * %s; i++) dst[i] = w.m_%s[i] != 0;",
                  dim_c(L, t->mask->shape.d[0]), L->P->tname[t->mask->id]);
        emit_line(&mb, "    return 1;");
    }
    emit_line(&mb, "default:");
    emit_line(&mb, "    return 0;");
    emit_close(&mb, NULL);
    emit_with_dims(L, p, &mb);
    emit_free(&mb);
    emit_close(p, NULL);
    emit_blank(p);
}

/* One row of --check-numerics' table: output t of node n (or its gradient). */
static SeqNumRow numerics_row(Lower *L, const IrNode *n, const IrTensor *t, bool grad)
{
    Shape steps = t->shape; /* every axis but the features */
    steps.rank = t->shape.rank ? t->shape.rank - 1 : 0;
    const char *F = t->shape.rank ? dim_c(L, t->shape.d[t->shape.rank - 1]) : "1";
    char sb[96];
    const char *what = arena_printf(L->a, "%s%s of layer '%s' (%s, %s:%d) %s",
                                    grad ? "the gradient of " : "",
                                    t->name ? arena_printf(L->a, "'%s'", t->name) : "the output",
                                    n->layer->name, n->layer->op->name, L->opt->source_label,
                                    n->line, shape_str(&t->shape, sb, sizeof sb));
    return (SeqNumRow){grad, arena_printf(L->a, "%c_%s", grad ? 'g' : 'v', L->P->tname[t->id]),
                       sample_size(L, &steps), F, c_string(L, what)};
}

/* The scan of one row r (a `const numerics_row *`): return 1 with the
 * message if it holds a NaN or an Inf. */
static void emit_numerics_scan(Printer *p)
{
    emit_line(p, "const int64_t per_sample = r->steps * r->features;");
    emit_line(p, "int64_t at = r->backward == backward ? seqrt_find_nonfinite(r->x, B * per_sample) "
              ": -1;");
    emit_open(p, "if (at >= 0)");
    emit_line(p, "snprintf(msg, len, \"%%s: %%s at sample %%lld, time step %%lld, feature %%lld\", "
              "r->what, isnan(r->x[at]) ? \"NaN\" : \"Inf\", (long long)(at / per_sample), "
              "(long long)(at / r->features %% r->steps), (long long)(at %% r->features));");
    emit_line(p, "return 1;");
    emit_close(p, NULL);
}

/* --check-numerics: find the first layer output (or gradient) that is
 * not finite, and say where it is. A table of the buffers (outputs in graph
 * order, then gradients in reverse) and one loop over it. */
static void emit_check_numerics(Lower *L, Printer *p)
{
    const IrGraph *g = L->g;
    emit_comment(p, "A buffer --check-numerics scans: steps x features values per sample.");
    emit_open(p, "typedef struct");
    emit_line(p, "int backward; /* a gradient, scanned after the backward pass */");
    emit_line(p, "const seqrt_real *x;");
    emit_line(p, "int64_t steps, features;");
    emit_line(p, "const char *what;");
    emit_close(p, " numerics_row;");
    emit_blank(p);
    SeqNumRow *rows = NULL;
    int n_rows = 0;
    for (int counting = 1; counting >= 0; counting--) {
        if (!counting)
            rows = arena_alloc(L->a, sizeof *rows * (size_t)(n_rows ? n_rows : 1));
        int k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < g->n_nodes; i++) {
                const IrNode *n = g->nodes[pass ? g->n_nodes - 1 - i : i];
                for (int j = 0; j < n->n_out; j++)
                    if (!pass || plan_has_grad(n->out[j])) {
                        if (!counting)
                            rows[k] = numerics_row(L, n, n->out[j], pass);
                        k++;
                    }
            }
        n_rows = k;
    }
    Printer nb;
    emit_init(&nb);
    nb.indent = p->indent + 1;
    emit_line(&nb, "%s_buffers w;", L->M);
    emit_line(&nb, "model_layout(&w, ws, B, dims);");
    SeqRuns runs = {L->a, 0};
    if (seq_runs_numerics(&runs, &nb, rows, n_rows)) {
        emit_fn_open(p, "static int numerics_scan(char *msg, size_t len, const numerics_row *r, "
                     "int64_t B, int backward)");
        emit_numerics_scan(p);
        emit_line(p, "return 0;");
        emit_close(p, NULL);
        emit_blank(p);
    } else {
        emit_open(&nb, "const numerics_row rows[] =");
        for (int k = 0; k < n_rows; k++)
            emit_line(&nb, "{%d, w.%s, %s, %s, %s},", rows[k].grad, rows[k].member, rows[k].steps,
                      rows[k].features, rows[k].what);
        emit_close(&nb, ";");
        emit_open(&nb, "for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)");
        emit_line(&nb, "const numerics_row *r = &rows[i];");
        emit_numerics_scan(&nb);
        emit_close(&nb, NULL);
    }
    emit_line(&nb, "return 0;");
    define_member(L, p, &nb);
    emit_comment(p, "The first NaN or Inf in the layers' outputs (or their gradients).");
    emit_fn_open(p, "%sstatic int model_check_numerics(char *msg, size_t len, void *ws, int64_t B, "
                 "const int64_t *dims, int backward)", glue(L));
    emit_with_dims(L, p, &nb);
    emit_free(&nb);
    emit_close(p, NULL);
    emit_blank(p);
}

/* The layers an emitted function serves, for its comment: the plan
 * functions mapped to it (one per layer, or per call signature). */
static const char *served_list(Lower *L, int e, int *count)
{
    const Plan *P = L->P;
    int n = 0, last = e;
    const char *s = "";
    for (int i = e; i < P->n_fns; i++) {
        if (L->shared[i] != e)
            continue;
        if (n < 6)
            s = arena_printf(L->a, "%s%s%s (%s:%d)", s, n ? ", " : "", P->ops[i].layer->name,
                             L->opt->source_label, P->ops[i].node->line);
        n++;
        last = i;
    }
    if (n > 6) /* and the last one */
        s = arena_printf(L->a, "%s, %s%s (%s:%d)", s, n > 7 ? "... " : "", P->ops[last].layer->name,
                         L->opt->source_label, P->ops[last].node->line);
    *count = n;
    return s;
}

/* Per-layer functions, each under the source line it came from; a
 * function that identical layers share says which layers it serves. */
static void emit_layer_fns(Lower *L, Printer *p, const LayerFn *fwd, const LayerFn *bwd)
{
    for (int i = 0; i < L->P->n_fns; i++) {
        if (L->shared[i] != i)
            continue;
        const IrLayer *l = L->P->ops[i].layer;
        char sb[96];
        const IrNode *n = L->P->ops[i].node;
        const char *shapes = arena_printf(L->a, "%s -> %s",
                                          n->n_in ? shape_str(&n->in[0]->shape, sb, sizeof sb) : "()",
                                          shape_str(&n->out[0]->shape, (char[96]){0}, 96));
        int count;
        const char *served = served_list(L, i, &count);
        if (count == 1) {
            emit_comment(p, "%s", source_comment(L, n));
            emit_comment(p, "%s '%s': %s", l->op->name, l->name, shapes);
        } else {
            emit_comment(p, "%s: %s, shared by %d identical layers (each call passes its "
                         "layer's weights and buffers):", l->op->name, shapes, count);
            emit_comment(p, "%s", served);
        }
        if (L->opt->line_directives) /* gdb shows the .seq line for the layer's code */
            emit_line(p, "#line %d \"%s\"", n->line, L->opt->source_label);
        print_fn(p, arena_printf(L->a, "%s_forward", L->P->fn_name[i]), &fwd[i]);
        print_fn(p, arena_printf(L->a, "%s_backward", L->P->fn_name[i]), &bwd[i]);
        if (L->opt->line_directives) { /* and the C file's own lines again after it */
            int line = 2;
            for (size_t k = 0; k < p->len; k++)
                line += p->buf[k] == '\n';
            emit_line(p, "#line %d \"%s.c\"", line, L->M);
        }
    }
}

/* The prologue of model_forward and model_backward: the workspace and the
 * inputs by name. */
static void emit_pass_prologue(Lower *L, Printer *body)
{
    emit_line(body, "%s_buffers w;", L->M);
    emit_line(body, "model_layout(&w, ws, B, dims);");
}

static void emit_input_locals(Lower *L, Printer *body)
{
    for (int i = 0; i < L->g->n_inputs; i++) {
        const IrTensor *t = L->g->inputs[i];
        const char *ty = t->shape.is_int ? "int32_t" : "seqrt_real";
        emit_line(body, "const %s *in_%s = (const %s *)inputs[%d];", ty, L->P->tname[t->id], ty, i);
    }
}

/* The model's forward: layers in graph order. */
static void emit_model_forward(Lower *L, Printer *p, const LayerFn *fwd)
{
    const IrGraph *g = L->g;
    Printer body;
    emit_init(&body);
    body.indent = 1;
    emit_pass_prologue(L, &body);
    emit_input_locals(L, &body);
    SeqCall *calls = arena_alloc(L->a, sizeof *calls * (size_t)(g->n_nodes ? g->n_nodes : 1));
    for (int i = 0; i < g->n_nodes; i++) {
        const IrNode *n = g->nodes[i];
        int f = L->shared[L->P->fn[n->id]];
        calls[i] = layer_call(L, arena_printf(L->a, "%s_forward", L->P->fn_name[f]), &fwd[f], n);
    }
    SeqRuns runs = {L->a, 0};
    seq_runs_calls(&runs, &body, calls, g->n_nodes);
    for (int i = 0; i < g->n_outputs; i++) {
        const IrTensor *t = g->outputs[i];
        emit_line(&body, "memcpy(outputs[%d], %s, sizeof(seqrt_real) * B * %s);", i,
                  val_expr(L, t), sample_size(L, &t->shape));
    }
    L->uses_training = mentions(body.buf, "training");
    if (!L->uses_training)
        emit_line(&body, "(void)training;");
    define_member(L, p, &body);
    emit_comment(p, "The whole model, forward: layers in graph order.");
    emit_fn_open(p, "%sstatic void model_forward(seqrt_real *const *outputs, const seqrt_real *params, "
                 "const void *const *inputs, int64_t B, const int64_t *dims, void *ws, int training)",
                 glue(L));
    emit_with_dims(L, p, &body);
    emit_free(&body);
    emit_close(p, NULL);
    emit_blank(p);
}

/* The model's backward: layers in reverse, gradients accumulated. */
static void emit_model_backward(Lower *L, Printer *p, const LayerFn *bwd)
{
    const IrGraph *g = L->g;
    Printer body;
    emit_init(&body);
    body.indent = 1;
    emit_pass_prologue(L, &body);
    emit_line(&body, "memset(w.grads_begin, 0, (size_t)(w.grads_end - w.grads_begin));");
    emit_input_locals(L, &body);
    for (int i = 0; i < g->n_outputs; i++) {
        const IrTensor *t = g->outputs[i];
        if (!plan_has_grad(t))
            continue;
        if (first_output(g, i)) { /* not zeroed: this copy is its first value */
            emit_line(&body, "memcpy(%s, d_outputs[%d], sizeof(seqrt_real) * B * %s);",
                      grad_expr(L, t), i, sample_size(L, &t->shape));
            continue;
        }
        emit_open(&body, "for (int64_t i = 0; i < B * %s; i++)", sample_size(L, &t->shape));
        emit_line(&body, "%s[i] += d_outputs[%d][i];", grad_expr(L, t), i);
        emit_close(&body, NULL);
    }
    SeqCall *calls = arena_alloc(L->a, sizeof *calls * (size_t)(g->n_nodes ? g->n_nodes : 1));
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const IrNode *n = g->nodes[i];
        int f = L->shared[L->P->fn[n->id]];
        calls[g->n_nodes - 1 - i] =
            layer_call(L, arena_printf(L->a, "%s_backward", L->P->fn_name[f]), &bwd[f], n);
    }
    SeqRuns runs = {L->a, 0};
    seq_runs_calls(&runs, &body, calls, g->n_nodes);
    for (int i = 0; i < g->n_inputs; i++)
        if (count_mentions(body.buf, arena_printf(L->a, "in_%s", L->P->tname[g->inputs[i]->id])) < 2)
            emit_line(&body, "(void)in_%s;", L->P->tname[g->inputs[i]->id]);
    if (!mentions(body.buf, "grads"))
        emit_line(&body, "(void)grads;");
    if (!mentions(body.buf, "params"))
        emit_line(&body, "(void)params;");
    define_member(L, p, &body);
    emit_comment(p, "The whole model, backward: layers in reverse, gradients accumulated with +=.");
    emit_fn_open(p, "%sstatic void model_backward(seqrt_real *grads, const seqrt_real *const *d_outputs, "
                 "const seqrt_real *params, const void *const *inputs, int64_t B, "
                 "const int64_t *dims, void *ws)", glue(L));
    emit_with_dims(L, p, &body);
    emit_free(&body);
    emit_close(p, NULL);
    emit_blank(p);
}

static void emit_param_table(Lower *L, Printer *p)
{
    emit_comment(p, "What the runtime's trainer sees of this model.");
    emit_open(p, "static const seqrt_param %s_params[] =", L->M);
    for (int i = 0; i < L->P->n_params; i++) {
        const IrParam *q = L->P->params[i];
        const char *shape = "";
        for (int j = 0; j < q->ndim; j++)
            shape = arena_printf(L->a, "%s%s%lld", shape, j ? ", " : "", q->shape[j]);
        emit_line(p, "{.name = %s, .ndim = %d, .shape = {%s}, .offset = %s, .size = %lld, "
                  ".init = %s, .fan_in = %lld, .fan_out = %lld},", c_string(L, q->name), q->ndim,
                  shape, L->P->pname[i], q->size, init_name(q->init), q->fan_in, q->fan_out);
    }
    emit_close(p, ";");
    emit_blank(p);
}

static void emit_dim_names(Lower *L, Printer *p)
{
    const IrGraph *g = L->g;
    if (!g->n_dims)
        return;
    emit_raw(p, arena_printf(L->a, "static const char *const %s_dim_names[] = {", L->M));
    for (int i = 0; i < g->n_dims; i++)
        emit_raw(p, arena_printf(L->a, "%s%s", i ? ", " : "", c_string(L, g->dims[i])));
    emit_raw(p, "};\n\n");
}

static void emit_losses(Lower *L, Printer *p)
{
    const IrGraph *g = L->g;
    if (!g->train.n_losses)
        return;
    static const char *const kinds[] = {
        "SEQRT_LOSS_MSE", "SEQRT_LOSS_MAE", "SEQRT_LOSS_CATEGORICAL_CROSSENTROPY",
        "SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY", "SEQRT_LOSS_BINARY_CROSSENTROPY",
    };
    emit_open(p, "static const seqrt_loss_spec %s_losses[] =", L->M);
    for (int i = 0; i < g->train.n_losses; i++) {
        const IrLoss *ls = &g->train.losses[i];
        int out = 0, tgt = 0;
        for (int k = 0; k < g->n_outputs; k++)
            if (g->outputs[k] == ls->pred)
                out = k;
        for (int k = 0; k < g->n_targets; k++)
            if (g->targets[k] == ls->target)
                tgt = k;
        bool from_act = ls->kind == LOSS_BINARY_CROSSENTROPY ? ls->pred->from_sigmoid
                                                             : ls->pred->from_softmax;
        emit_line(p, "{.output = %d, .target = %d, .kind = %s, .from_logits = %d, "
                  ".from_softmax = %d, .weight = %s, .label_smoothing = %s},", out, tgt,
                  kinds[ls->kind], ls->from_logits, from_act, SEQ_NUM(ls->weight),
                  SEQ_NUM(ls->label_smoothing));
    }
    emit_close(p, ";");
    emit_blank(p);
}

/* .summary: the model's summary as seqc prints it, one string per line. */
static void emit_summary(Lower *L, Printer *p)
{
    char *sum = NULL;
    size_t sum_len = 0;
    FILE *sf = open_memstream(&sum, &sum_len);
    if (!sf)
        seq_die("out of memory");
    summary_print(L->P->src, sf);
    fclose(sf);
    emit_line(p, ".summary =");
    char *line = sum, *nl;
    while (line && *line && (nl = strchr(line, '\n'))) {
        *nl = '\0';
        emit_line(p, "    %s", c_string(L, arena_printf(L->a, "%s\n", line)));
        line = nl + 1;
    }
    emit_line(p, "    ,");
    free(sum);
}

/* A long string as C literals of about 80 columns, split after commas. */
static void emit_long_string(Lower *L, Printer *p, const char *field, const char *s)
{
    if (!s) {
        emit_line(p, ".%s = NULL,", field);
        return;
    }
    emit_line(p, ".%s =", field);
    size_t n = strlen(s), at = 0;
    while (at < n) {
        size_t end = at + 72 < n ? at + 72 : n;
        while (end < n && s[end - 1] != ',' && s[end - 1] != ' ')
            end++;
        emit_line(p, "    %s", c_string(L, arena_strndup(L->a, s + at, end - at)));
        at = end;
    }
    emit_line(p, "    ,");
}

/* .keras_topology or .tfjs_refusal, for export --tfjs (keras.h). */
static void emit_keras(Lower *L, Printer *p)
{
    KerasExport e = keras_export(L->P->src, L->a);
    emit_long_string(L, p, "keras_topology", e.topology);
    emit_long_string(L, p, "tfjs_refusal", e.refusal);
}

static void emit_optim(Lower *L, Printer *p)
{
    const IrOptim *op = &L->g->train.optim;
    static const char *const opt_kinds[] = {
        "SEQRT_OPT_SGD", "SEQRT_OPT_ADAM", "SEQRT_OPT_ADAMW", "SEQRT_OPT_RMSPROP", "SEQRT_OPT_ADAGRAD",
    };
    /* every field named, the ones the optimizer reads first */
    emit_line(p, ".optim = {.kind = %s, .learning_rate = %s,", opt_kinds[op->kind],
              SEQ_NUM(op->learning_rate));
    emit_line(p, "          .beta_1 = %s, .beta_2 = %s, .epsilon = %s,", SEQ_NUM(op->beta_1),
              SEQ_NUM(op->beta_2), SEQ_NUM(op->epsilon));
    emit_line(p, "          .momentum = %s, .rho = %s, .weight_decay = %s,", SEQ_NUM(op->momentum),
              SEQ_NUM(op->rho), SEQ_NUM(op->weight_decay));
    emit_line(p, "          .initial_accumulator_value = %s,",
              SEQ_NUM(op->initial_accumulator_value));
    emit_line(p, "          .nesterov = %d, .amsgrad = %d, .centered = %d,", op->nesterov,
              op->amsgrad, op->centered);
    emit_line(p, "          .clipnorm = %s, .clipvalue = %s, .global_clipnorm = %s},",
              SEQ_NUM(op->clipnorm), SEQ_NUM(op->clipvalue), SEQ_NUM(op->global_clipnorm));
}

static void emit_decode(Lower *L, Printer *p)
{
    const IrGraph *g = L->g;
    int di = -1, dout = -1, da = -1;
    for (int i = 0; g->decode.present && i < g->n_inputs; i++)
        if (g->inputs[i] == g->decode.input)
            di = i;
    for (int i = 0; g->decode.present && i < g->n_outputs; i++) {
        if (g->outputs[i] == g->decode.output)
            dout = i;
        if (g->outputs[i] == g->decode.attention)
            da = i;
    }
    emit_line(p, ".decode_input = %d, .decode_output = %d, .decode_attention = %d, "
              ".decode_start = %lld,", di, dout, da, g->decode.start);
}

/* The seqrt_model descriptor: all the trainer sees. */
static void emit_descriptor(Lower *L, Printer *p, bool any_min_time)
{
    const IrGraph *g = L->g;
    const char *M = L->M;
    emit_param_table(L, p);
    emit_dim_names(L, p);
    emit_io_table(L, p, "inputs", g->inputs, g->n_inputs);
    emit_io_table(L, p, "targets", g->targets, g->n_targets);
    emit_io_table(L, p, "outputs", g->outputs, g->n_outputs);
    emit_losses(L, p);
    emit_open(p, "const seqrt_model %s_model =", M);
    emit_line(p, ".name = %s,", c_string(L, g->name));
    emit_line(p, ".source = %s,", c_string(L, L->opt->source_label));
    emit_summary(L, p);
    emit_line(p, ".n_params = %d,", L->P->n_params);
    emit_line(p, ".params = %s_params,", M);
    emit_line(p, ".param_count = %s_PARAM_COUNT,", M);
    emit_line(p, ".n_dims = %d,", g->n_dims);
    emit_line(p, ".dim_names = %s,", g->n_dims ? arena_printf(L->a, "%s_dim_names", M) : "NULL");
    emit_line(p, ".n_inputs = %d, .inputs = %s,", g->n_inputs,
              g->n_inputs ? arena_printf(L->a, "%s_inputs", M) : "NULL");
    emit_line(p, ".n_targets = %d, .targets = %s,", g->n_targets,
              g->n_targets ? arena_printf(L->a, "%s_targets", M) : "NULL");
    emit_line(p, ".n_outputs = %d, .outputs = %s,", g->n_outputs,
              g->n_outputs ? arena_printf(L->a, "%s_outputs", M) : "NULL");
    emit_line(p, ".n_losses = %d, .losses = %s,", g->train.n_losses,
              g->train.n_losses ? arena_printf(L->a, "%s_losses", M) : "NULL");
    emit_optim(L, p);
    emit_line(p, ".batch_size = %lld, .epochs = %lld,", g->train.batch_size, g->train.epochs);
    emit_line(p, ".metrics = %uu,", g->train.metrics);
    emit_line(p, ".workspace_size = model_workspace_size,");
    emit_line(p, ".forward = model_forward,");
    emit_line(p, ".backward = model_backward,");
    if (L->P->any_state)
        emit_line(p, ".reset_states = model_reset_states,");
    /* no random draw indexed by position in the batch, no state carried
     * per row: a slice of the batch computes what the whole batch would */
    if (!L->uses_training && !L->P->any_state)
        emit_line(p, ".rows_independent = 1,");
    if (L->P->any_mask)
        emit_line(p, ".output_mask = model_output_mask,");
    emit_line(p, ".check_numerics = model_check_numerics,");
    if (any_min_time)
        emit_line(p, ".check_dims = model_check_dims,");
    emit_decode(L, p);
    emit_keras(L, p);
    emit_close(p, ";");
}

/* NAME.c, one function per section of the file. */
static void emit_source(Lower *L, Printer *p, const LayerFn *fwd, const LayerFn *bwd)
{
    emit_prologue(L, p);
    emit_param_offsets(L, p);
    emit_buffer_struct(L, p);
    emit_layout(L, p);
    emit_reset_states(L, p);
    emit_output_mask(L, p);
    bool any_min_time = emit_check_dims(L, p);
    emit_check_numerics(L, p);
    emit_layer_fns(L, p, fwd, bwd);
    emit_model_forward(L, p, fwd);
    emit_model_backward(L, p, bwd);
    emit_descriptor(L, p, any_min_time);
}

/* NAME.h: the descriptor's declaration. */
static void emit_header(Lower *L, Printer *p)
{
    const char *M = L->M;
    char *guard = c_ident(L->a, arena_printf(L->a, "%s_H", M));
    for (char *c = guard; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    emit_comment(p, "%s.h: generated by seqc %s from %s; do not edit", M, SEQC_VERSION,
                 L->opt->source_label);
    emit_line(p, "#ifndef %s", guard);
    emit_line(p, "#define %s", guard);
    emit_blank(p);
    emit_line(p, "#include \"seqrt_model.h\"");
    emit_blank(p);
    emit_comment(p, "The model's descriptor: parameters, inputs, losses, forward, backward.");
    emit_line(p, "extern const seqrt_model %s_model;", M);
    emit_blank(p);
    emit_line(p, "#endif");
}

static void emit_main(Lower *L, Printer *p)
{
    emit_comment(p, "%s_main.c: generated by seqc %s from %s; do not edit", L->M, SEQC_VERSION,
                 L->opt->source_label);
    emit_comment(p, "The training program: the runtime's command line, for this one model.");
    emit_line(p, "#include \"seqrt.h\"");
    emit_line(p, "#include \"%s.h\"", L->M);
    emit_blank(p);
    emit_line(p, "int main(int argc, char **argv) { return seqrt_main(&%s_model, argc, argv); }", L->M);
}

/* Everything that makes a layer function what it is: its parameter list
 * (with the ones the body uses) and its body, forward then backward. */
static char *fn_key(const LayerFn *fwd, const LayerFn *bwd, size_t *len)
{
    char *k = NULL;
    FILE *f = open_memstream(&k, len);
    if (!f)
        seq_die("out of memory");
    for (int pass = 0; pass < 2; pass++) {
        const LayerFn *fn = pass ? bwd : fwd;
        for (int i = 0; i < fn->n_args; i++)
            fprintf(f, "%s%c,", fn->args[i].decl, fn->used[i] ? '+' : '-');
        fprintf(f, "\n%s\n", fn->body.buf ? fn->body.buf : "");
    }
    if (fclose(f))
        seq_die("out of memory");
    return k;
}

/* Build every plan function's forward and backward, and keep one of each
 * set whose generated text is the same: identical layers (same op,
 * attributes and shapes) then share one pair of functions, and each call
 * site passes its layer's parameters, gradients and buffers. Sharing by
 * the text itself keeps every layer's arithmetic exactly what its own
 * function would have done. */
static void build_layer_fns(Lower *L, LayerFn *fwd, LayerFn *bwd, PtrVec *keys)
{
    const Plan *P = L->P;
    StrMap seen = {0};
    for (int i = 0; i < P->n_fns; i++) {
        LowerOp *o = &P->ops[i];
        LayerFn f, b;
        build_fn(L, o->layer, o, false, &f);
        build_fn(L, o->layer, o, true, &b);
        size_t len;
        char *key = fn_key(&f, &b, &len);
        int j = strmap_get(&seen, key, len);
        if (j >= 0) {
            L->shared[i] = j;
            emit_free(&f.body);
            emit_free(&b.body);
            free(key);
            continue;
        }
        strmap_put_len(&seen, key, len, i);
        ptrvec_push(keys, key);
        L->shared[i] = i;
        fwd[i] = f;
        bwd[i] = b;
    }
    strmap_free(&seen);
}

bool lower_emit(const Plan *P, Arena *a, const LowerOptions *opt)
{
    Lower L = {.P = P, .g = P->g, .a = a, .opt = opt, .M = P->M};
    for (int i = 0; i < P->n_params; i++)
        strmap_put(&L.param_index, P->params[i]->name, i);
    LayerFn *fwd = calloc((size_t)P->n_fns + 1, sizeof *fwd);
    LayerFn *bwd = calloc((size_t)P->n_fns + 1, sizeof *bwd);
    L.shared = calloc((size_t)P->n_fns + 1, sizeof *L.shared);
    if (!fwd || !bwd || !L.shared)
        seq_die("out of memory");
    PtrVec keys = {0};
    build_layer_fns(&L, fwd, bwd, &keys);
    Printer c, h, m;
    emit_init(&c);
    emit_init(&h);
    emit_init(&m);
    emit_source(&L, &c, fwd, bwd);
    emit_header(&L, &h);
    emit_main(&L, &m);
    const char *dir = opt->out_dir;
    bool ok = emit_write_out(&h, dir, arena_printf(a, "%s.h", L.M)) &&
              emit_write_out(&c, dir, arena_printf(a, "%s.c", L.M)) &&
              emit_write_out(&m, dir, arena_printf(a, "%s_main.c", L.M));
    for (int i = 0; i < P->n_fns; i++) {
        emit_free(&fwd[i].body); /* zeroed for the functions shared with an earlier one */
        emit_free(&bwd[i].body);
    }
    for (int i = 0; i < keys.n; i++)
        free(keys.items[i]);
    ptrvec_free(&keys);
    strmap_free(&L.param_index);
    free(L.shared);
    free(fwd);
    free(bwd);
    emit_free(&c);
    emit_free(&h);
    emit_free(&m);
    return ok;
}

bool lower_model(const IrGraph *src, Arena *a, const LowerOptions *opt)
{
    Diag local;
    Diag *d = opt->diag;
    if (!d) {
        diag_init(&local, opt->source_label, opt->src, opt->src_len, stderr);
        d = &local;
    }
    const IrGraph *g = expand_wrappers(src, a, d);
    const Plan *P = g ? plan_model(g, src, a, opt, d) : NULL;
    return P && lower_emit(P, a, opt);
}
