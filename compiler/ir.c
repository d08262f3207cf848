/* ir.c: shapes, dims and the small queries every stage makes of the IR. */
#include "ir.h"

#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "seqrt_checked.h"

Dim dim_fixed(long long n) { return (Dim){.n = n}; }

/* (T + add) / div + n with add in [0, div): one form for each function,
 * since (T + add) / div + n = (T + add - k*div) / div + n + k. */
static Dim dim_canonical(Dim d)
{
    if (d.div <= 1)
        return (Dim){.sym = d.sym, .n = d.n, .div = 1};
    long long k = d.add >= 0 ? d.add / d.div : -((-d.add + d.div - 1) / d.div);
    return (Dim){.sym = d.sym, .n = d.n + k, .div = d.div, .add = d.add - k * d.div};
}

bool dim_eq(Dim a, Dim b)
{
    if (!a.sym || !b.sym)
        return !a.sym && !b.sym && a.n == b.n;
    a = dim_canonical(a);
    b = dim_canonical(b);
    return a.n == b.n && a.div == b.div && a.add == b.add && strcmp(a.sym, b.sym) == 0;
}

Dim dim_strided(Dim d, long long pre, long long s, long long post)
{
    if (!d.sym)
        return dim_fixed((d.n + pre) / s + post);
    if (s == 1) /* no division: the offset moves */
        return (Dim){.sym = d.sym, .n = d.n + pre + post, .div = d.div, .add = d.add};
    long long div = d.div > 1 ? d.div : 1;
    /* floor((floor((T + add) / div) + n + pre) / s)
     * = floor((T + add + (n + pre) * div) / (div * s)) for a length >= 0 */
    Dim r = {d.sym, post, div * s, (div > 1 ? d.add : 0) + (d.n + pre) * div};
    if (r.div == 1) {
        r.n += r.add;
        r.add = 0;
    }
    return r;
}

bool shape_eq(const Shape *a, const Shape *b)
{
    if (a->rank != b->rank || a->is_int != b->is_int)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (!dim_eq(a->d[i], b->d[i]))
            return false;
    return true;
}

const char *dim_str(Dim d, char *buf, size_t len)
{
    if (!d.sym)
        snprintf(buf, len, "%lld", d.n);
    else if (d.div > 1 && d.add && d.n)
        snprintf(buf, len, "(%s%+lld)/%lld%+lld", d.sym, d.add, d.div, d.n);
    else if (d.div > 1 && d.add)
        snprintf(buf, len, "(%s%+lld)/%lld", d.sym, d.add, d.div);
    else if (d.div > 1 && d.n)
        snprintf(buf, len, "%s/%lld%+lld", d.sym, d.div, d.n);
    else if (d.div > 1)
        snprintf(buf, len, "%s/%lld", d.sym, d.div);
    else if (d.n == 0)
        snprintf(buf, len, "%s", d.sym);
    else
        snprintf(buf, len, "%s%+lld", d.sym, d.n);
    return buf;
}

const char *shape_str(const Shape *s, char *buf, size_t len)
{
    size_t k = (size_t)snprintf(buf, len, "(None");
    for (int i = 0; i < s->rank && k < len; i++) {
        char db[64];
        k += (size_t)snprintf(buf + k, len - k, ", %s", dim_str(s->d[i], db, sizeof db));
    }
    if (k < len)
        snprintf(buf + k, len - k, ")%s", s->is_int ? " int" : "");
    return buf;
}

bool ir_check_sizes(const IrGraph *g, Diag *d)
{
    int64_t total = 0, bytes;
    for (int i = 0; i < g->n_layers; i++) {
        const IrLayer *l = g->layers[i];
        if (l->owner)
            continue;
        if (seqrt_add_i64(total, l->n_weights, &total) || seqrt_mul_i64(total, 8, &bytes)) {
            diag_error(d, l->span, "layer '%s' (%s): the model's parameters pass 2^60 here; their "
                       "float64 bytes would not fit a 64-bit size", l->name, l->op->name);
            return false;
        }
    }
    return true;
}

long long ir_param_count(const IrGraph *g)
{
    long long n = 0;
    for (int i = 0; i < g->n_layers; i++)
        if (!g->layers[i]->owner)
            n += g->layers[i]->n_weights;
    return n;
}

const char *tensor_origin(const IrTensor *t, char *buf, size_t len)
{
    if (t->role == TENSOR_INPUT)
        snprintf(buf, len, "input '%s'", t->name);
    else if (t->role == TENSOR_TARGET)
        snprintf(buf, len, "target '%s'", t->name);
    else if (t->producer && t->producer->n_out > 1)
        snprintf(buf, len, "output %d of '%s' (%s)", t->producer_out + 1,
                 t->producer->layer->name, t->producer->layer->op->name);
    else if (t->producer)
        snprintf(buf, len, "output of '%s' (%s)", t->producer->layer->name,
                 t->producer->layer->op->name);
    else
        snprintf(buf, len, "tensor");
    return buf;
}
