/*
 * optim.c: Keras's optimizers (KERAS-SEMANTICS 8) as single loops over the
 * whole flat parameter buffer, llm.c style. State is allocated once in
 * seqrt_optim_init; a step allocates nothing. Each step runs Keras's order:
 * (1) clip gradients, (2) decoupled weight decay w -= w*wd*lr, (3) the
 * update rule, (4) iterations += 1, with t = iterations + 1 in the rule.
 * Slots carry Keras's variable names so checkpoints read like Keras's.
 */
#include <stdlib.h>

#include "internal.h"
#include "seqrt_team.h"

typedef seqrt_real R;

static void add_slot(seqrt_optim *o, const char *name) { o->slot_names[o->n_slots++] = name; }

int seqrt_optim_init(seqrt_optim *o, const seqrt_optim_spec *spec, size_t n, seqrt_error *err)
{
    memset(o, 0, sizeof *o);
    o->spec = *spec;
    o->learning_rate = spec->learning_rate;
    o->n = n;
    switch (spec->kind) {
    case SEQRT_OPT_SGD:
        if (spec->momentum != 0) add_slot(o, "momentum");
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        add_slot(o, "momentum");
        add_slot(o, "velocity");
        if (spec->amsgrad) add_slot(o, "velocity_hat");
        break;
    case SEQRT_OPT_RMSPROP:
        add_slot(o, "velocity");
        if (spec->centered) add_slot(o, "average_gradient");
        if (spec->momentum > 0) add_slot(o, "momentum");
        break;
    case SEQRT_OPT_ADAGRAD:
        add_slot(o, "accumulator");
        break;
    default:
        return seqrt_errorf(err, SEQRT_EINVAL, "unknown optimizer kind %d", (int)spec->kind);
    }
    if (o->n_slots) {
        if (n > SIZE_MAX / sizeof(R) / (size_t)o->n_slots)
            return seqrt_errorf(err, SEQRT_ENOMEM, "optimizer state for %zu params is too large", n);
        o->state = malloc((size_t)o->n_slots * n * sizeof(R) + 1);
        if (!o->state)
            return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for optimizer state (%zu params)", n);
        for (int i = 0; i < o->n_slots; i++) o->slots[i] = o->state + (size_t)i * n;
    }
    seqrt_optim_reset(o);
    return SEQRT_OK;
}

void seqrt_optim_free(seqrt_optim *o)
{
    free(o->state);
    memset(o, 0, sizeof *o);
}

void seqrt_optim_reset(seqrt_optim *o)
{
    R init = o->spec.kind == SEQRT_OPT_ADAGRAD ? (R)o->spec.initial_accumulator_value : 0;
    for (size_t i = 0; i < (size_t)o->n_slots * o->n; i++) o->state[i] = init;
    o->iterations = 0;
}

int seqrt_optim_n_slots(const seqrt_optim *o) { return o->n_slots; }

seqrt_real *seqrt_optim_slot(seqrt_optim *o, int i, const char **name)
{
    if (i < 0 || i >= o->n_slots) return NULL;
    if (name) *name = o->slot_names[i];
    return o->slots[i];
}

static double sum_sq(const R *g, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return s;
}

/* clip_by_norm: g * c / max(||g||, c), one variable at a time. */
static void clip_norm(R *g, size_t n, double c)
{
    double norm = sqrt(sum_sq(g, n));
    R scale_num = (R)c, den = (R)(norm > c ? norm : c);
    for (size_t i = 0; i < n; i++) g[i] = g[i] * scale_num / den;
}

static void clip_gradients(const seqrt_optim *o, R *g, const seqrt_param *table, int n_params)
{
    const seqrt_optim_spec *s = &o->spec;
    if (s->clipnorm > 0) {
        if (!table) clip_norm(g, o->n, s->clipnorm);
        for (int i = 0; table && i < n_params; i++)
            clip_norm(g + table[i].offset, table[i].size, s->clipnorm);
    } else if (s->global_clipnorm > 0) {
        double c = s->global_clipnorm, N = sqrt(sum_sq(g, o->n));
        double scale = c * fmin(1 / N, 1 / c);   /* N = 0: 1/N = inf, scale 1 */
        for (size_t i = 0; i < o->n; i++) g[i] = (R)(g[i] * scale);
    } else if (s->clipvalue > 0) {
        R c = (R)s->clipvalue;
        for (size_t i = 0; i < o->n; i++) g[i] = g[i] < -c ? -c : g[i] > c ? c : g[i];
    }
}

/* The update rules on elements [i0, i1): each element on its own, so the
 * team can share them out and any split gives the same bits. SEQRT_KERNEL
 * clones them for AVX2 and AVX-512 (IEEE division and square root are
 * exact in any width). */
SEQRT_KERNEL static void step_sgd(const seqrt_optim *o, R *restrict w, const R *restrict g, R lr,
                                  size_t i0, size_t i1)
{
    R mu = (R)o->spec.momentum, *restrict m = o->slots[0];
    if (o->spec.momentum == 0) {
        for (size_t i = i0; i < i1; i++) w[i] -= g[i] * lr;
    } else if (o->spec.nesterov) {
        for (size_t i = i0; i < i1; i++) {
            m[i] = -g[i] * lr + m[i] * mu;
            w[i] += -g[i] * lr + m[i] * mu;
        }
    } else {
        for (size_t i = i0; i < i1; i++) {
            m[i] = -g[i] * lr + m[i] * mu;
            w[i] += m[i];
        }
    }
}

SEQRT_KERNEL static void step_adam(const seqrt_optim *o, R *restrict w, const R *restrict g, R lr,
                                   size_t i0, size_t i1)
{
    const seqrt_optim_spec *s = &o->spec;
    double t = (double)(o->iterations + 1);
    R alpha = (R)((double)lr * sqrt(1 - pow(s->beta_2, t)) / (1 - pow(s->beta_1, t)));
    R b1 = (R)(1 - s->beta_1), b2 = (R)(1 - s->beta_2), eps = (R)s->epsilon;
    R *restrict m = o->slots[0], *restrict v = o->slots[1];
    if (s->amsgrad) {
        R *restrict vhat = o->slots[2];
        for (size_t i = i0; i < i1; i++) {
            m[i] += (g[i] - m[i]) * b1;
            v[i] += (g[i] * g[i] - v[i]) * b2;
            vhat[i] = vhat[i] > v[i] ? vhat[i] : v[i];
            w[i] -= (m[i] * alpha) / (SEQRT_SQRT(vhat[i]) + eps);
        }
        return;
    }
    for (size_t i = i0; i < i1; i++) {
        m[i] += (g[i] - m[i]) * b1;
        v[i] += (g[i] * g[i] - v[i]) * b2;
        w[i] -= (m[i] * alpha) / (SEQRT_SQRT(v[i]) + eps);
    }
}

SEQRT_KERNEL static void step_rmsprop(const seqrt_optim *o, R *restrict w, const R *restrict g,
                                      R lr, size_t i0, size_t i1)
{
    const seqrt_optim_spec *s = &o->spec;
    R rho = (R)s->rho, eps = (R)s->epsilon, mu = (R)s->momentum;
    R *restrict v = o->slots[0];
    R *restrict a = s->centered ? o->slots[1] : NULL;
    R *restrict M = s->momentum > 0 ? o->slots[s->centered ? 2 : 1] : NULL;
    for (size_t i = i0; i < i1; i++) {
        v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
        R den = v[i] + eps;
        if (a) {
            a[i] = rho * a[i] + (1 - rho) * g[i];
            den = v[i] - a[i] * a[i] + eps;
        }
        R inc = lr * g[i] / SEQRT_SQRT(den);
        if (M) {
            M[i] = mu * M[i] + inc;
            w[i] -= M[i];
        } else {
            w[i] -= inc;
        }
    }
}

SEQRT_KERNEL static void step_adagrad(const seqrt_optim *o, R *restrict w, const R *restrict g,
                                      R lr, size_t i0, size_t i1)
{
    R eps = (R)o->spec.epsilon, *restrict A = o->slots[0];
    for (size_t i = i0; i < i1; i++) {
        A[i] += g[i] * g[i];
        w[i] -= lr * g[i] / SEQRT_SQRT(A[i] + eps);
    }
}

typedef struct {
    const seqrt_optim *o;
    R *w;
    const R *g;
    R lr;
} Update;

/* Below this many parameters the update is a few microseconds: one thread. */
#define TEAM_MIN_PARAMS (1 << 14)

static void update_job(void *ctx, int tid, int n)
{
    const Update *u = ctx;
    const seqrt_optim *o = u->o;
    size_t i0, i1;
    seqrt_team_split_chunks(o->n, 64, tid, n, &i0, &i1);
    if (o->spec.weight_decay > 0) {
        R wd = (R)o->spec.weight_decay;
        for (size_t i = i0; i < i1; i++) u->w[i] -= u->w[i] * wd * u->lr;
    }
    switch (o->spec.kind) {
    case SEQRT_OPT_SGD: step_sgd(o, u->w, u->g, u->lr, i0, i1); break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW: step_adam(o, u->w, u->g, u->lr, i0, i1); break;
    case SEQRT_OPT_RMSPROP: step_rmsprop(o, u->w, u->g, u->lr, i0, i1); break;
    case SEQRT_OPT_ADAGRAD: step_adagrad(o, u->w, u->g, u->lr, i0, i1); break;
    }
}

void seqrt_optim_step(seqrt_optim *o, seqrt_real *params, seqrt_real *grads,
                      const seqrt_param *table, int n_params)
{
    clip_gradients(o, grads, table, n_params);
    Update u = {o, params, grads, (R)o->learning_rate};
    if (o->n >= TEAM_MIN_PARAMS)
        seqrt_team_run(update_job, &u);
    else
        update_job(&u, 0, 1);
    o->iterations++;
}
