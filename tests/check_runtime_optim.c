/*
 * check_runtime_optim.c: Keras optimizers (runtime/src/optim.c), built
 * against seqrt_f64. Each optimizer runs a few steps on a tiny vector next
 * to a reference written straight from KERAS-SEMANTICS 8; clipping, weight
 * decay, learning-rate override and state save/restore are checked by hand.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "seqrt_train.h"

#ifndef SEQRT_DOUBLE
#error "check_runtime_optim must link seqrt_f64"
#endif

enum { N = 5, STEPS = 6 };

static seqrt_optim_spec defaults(seqrt_optim_kind kind)
{
    seqrt_optim_spec s = {0};
    s.kind = kind;
    s.learning_rate = 0.001;
    s.beta_1 = 0.9;
    s.beta_2 = 0.999;
    s.epsilon = 1e-7;
    s.rho = 0.9;
    s.initial_accumulator_value = 0.1;
    return s;
}

/* The "model": g = w + 0.3 sin(i + 1), so gradients depend on the path. */
static void grad(double *g, const double *w)
{
    for (int i = 0; i < N; i++) g[i] = w[i] + 0.3 * sin(i + 1.0);
}

static const double W0[N] = {0.5, -1.0, 2.0, 0.0, -0.25};

/* Reference Keras update of one step, written from the formulas. */
typedef struct {
    double m[N], v[N], vhat[N], a[N], M[N];
    long t;
} Ref;

static void ref_step(Ref *r, const seqrt_optim_spec *s, double *w, const double *g)
{
    double lr = s->learning_rate;
    long t = ++r->t;
    if (s->weight_decay > 0)
        for (int i = 0; i < N; i++) w[i] -= w[i] * s->weight_decay * lr;
    for (int i = 0; i < N; i++) {
        switch (s->kind) {
        case SEQRT_OPT_SGD:
            if (s->momentum == 0) { w[i] -= lr * g[i]; break; }
            r->m[i] = s->momentum * r->m[i] - lr * g[i];
            w[i] += s->nesterov ? s->momentum * r->m[i] - lr * g[i] : r->m[i];
            break;
        case SEQRT_OPT_ADAM:
        case SEQRT_OPT_ADAMW: {
            double alpha = lr * sqrt(1 - pow(s->beta_2, t)) / (1 - pow(s->beta_1, t));
            r->m[i] += (g[i] - r->m[i]) * (1 - s->beta_1);
            r->v[i] += (g[i] * g[i] - r->v[i]) * (1 - s->beta_2);
            double v = r->v[i];
            if (s->amsgrad) v = r->vhat[i] = fmax(r->vhat[i], r->v[i]);
            w[i] -= alpha * r->m[i] / (sqrt(v) + s->epsilon);
            break;
        }
        case SEQRT_OPT_RMSPROP: {
            r->v[i] = s->rho * r->v[i] + (1 - s->rho) * g[i] * g[i];
            double den = r->v[i] + s->epsilon;
            if (s->centered) {
                r->a[i] = s->rho * r->a[i] + (1 - s->rho) * g[i];
                den = r->v[i] - r->a[i] * r->a[i] + s->epsilon;
            }
            double inc = lr * g[i] / sqrt(den);
            if (s->momentum > 0) { r->M[i] = s->momentum * r->M[i] + inc; w[i] -= r->M[i]; }
            else w[i] -= inc;
            break;
        }
        case SEQRT_OPT_ADAGRAD:
            if (t == 1) r->a[i] = s->initial_accumulator_value;
            r->a[i] += g[i] * g[i];
            w[i] -= lr * g[i] / sqrt(r->a[i] + s->epsilon);
            break;
        }
    }
}

/* Run STEPS steps of the library and the reference; max |difference|. */
static double run_vs_ref(const seqrt_optim_spec *s)
{
    seqrt_optim o;
    seqrt_error err;
    ck_assert_int_eq(seqrt_optim_init(&o, s, N, &err), SEQRT_OK);
    double w[N], wr[N], g[N], gr[N], worst = 0;
    Ref r = {{0}, {0}, {0}, {0}, {0}, 0};
    for (int i = 0; i < N; i++) w[i] = wr[i] = W0[i];
    for (int k = 0; k < STEPS; k++) {
        grad(g, w);
        grad(gr, wr);
        seqrt_optim_step(&o, w, g, NULL, 0);
        ref_step(&r, s, wr, gr);
    }
    for (int i = 0; i < N; i++) {
        worst = fmax(worst, fabs(w[i] - wr[i]));
        ck_assert(w[i] != W0[i]);
    }
    ck_assert_int_eq(o.iterations, STEPS);
    seqrt_optim_free(&o);
    return worst;
}

#define CHECK_REF(spec_expr) \
    do { \
        seqrt_optim_spec s_ = spec_expr; \
        double d_ = run_vs_ref(&s_); \
        ck_assert_msg(d_ < 1e-12, "max |w - ref| = %g", d_); \
    } while (0)

static seqrt_optim_spec with(seqrt_optim_spec s, double lr, double mom, int flag)
{
    s.learning_rate = lr;
    s.momentum = mom;
    if (s.kind == SEQRT_OPT_SGD) s.nesterov = flag;
    if (s.kind == SEQRT_OPT_ADAM || s.kind == SEQRT_OPT_ADAMW) s.amsgrad = flag;
    if (s.kind == SEQRT_OPT_RMSPROP) s.centered = flag;
    return s;
}

START_TEST(sgd_variants)
{
    seqrt_optim_spec s = defaults(SEQRT_OPT_SGD);
    CHECK_REF(with(s, 0.1, 0, 0));
    CHECK_REF(with(s, 0.1, 0.9, 0));
    CHECK_REF(with(s, 0.1, 0.9, 1));   /* nesterov */
}
END_TEST

START_TEST(sgd_momentum_by_hand)
{
    seqrt_optim_spec s = with(defaults(SEQRT_OPT_SGD), 0.1, 0.5, 0);
    seqrt_optim o;
    seqrt_optim_init(&o, &s, 1, NULL);
    double w[1] = {1}, g[1] = {2};
    seqrt_optim_step(&o, w, g, NULL, 0);   /* m = -0.2; w = 0.8 */
    ck_assert_double_eq_tol(w[0], 0.8, 1e-15);
    g[0] = 2;
    seqrt_optim_step(&o, w, g, NULL, 0);   /* m = -0.1 - 0.2 = -0.3; w = 0.5 */
    ck_assert_double_eq_tol(w[0], 0.5, 1e-15);
    seqrt_optim_free(&o);
}
END_TEST

START_TEST(adam_variants)
{
    CHECK_REF(with(defaults(SEQRT_OPT_ADAM), 0.01, 0, 0));
    CHECK_REF(with(defaults(SEQRT_OPT_ADAM), 0.01, 0, 1));   /* amsgrad */
    seqrt_optim_spec s = with(defaults(SEQRT_OPT_ADAMW), 0.01, 0, 0);
    s.weight_decay = 0.004;
    CHECK_REF(s);
}
END_TEST

START_TEST(adam_first_step_by_hand)
{
    /* t = 1: m = 0.1g, v = 0.001g^2, alpha = lr*sqrt(0.001)/0.1:
     * w -= alpha*m/(sqrt(v)+eps) = lr*g/(|g| + eps/sqrt(0.001)) */
    seqrt_optim_spec s = defaults(SEQRT_OPT_ADAM);
    seqrt_optim o;
    seqrt_optim_init(&o, &s, 1, NULL);
    double w[1] = {0}, g[1] = {0.5};
    seqrt_optim_step(&o, w, g, NULL, 0);
    double alpha = 0.001 * sqrt(1 - 0.999) / (1 - 0.9);
    ck_assert_double_eq_tol(w[0], -alpha * 0.05 / (sqrt(0.001 * 0.25) + 1e-7), 1e-15);
    seqrt_optim_free(&o);
}
END_TEST

START_TEST(rmsprop_variants)
{
    seqrt_optim_spec s = defaults(SEQRT_OPT_RMSPROP);
    CHECK_REF(with(s, 0.01, 0, 0));
    CHECK_REF(with(s, 0.01, 0, 1));     /* centered */
    CHECK_REF(with(s, 0.01, 0.9, 0));   /* momentum */
    CHECK_REF(with(s, 0.01, 0.9, 1));   /* both */
}
END_TEST

START_TEST(adagrad_and_accumulator_start)
{
    seqrt_optim_spec s = defaults(SEQRT_OPT_ADAGRAD);
    CHECK_REF(with(s, 0.1, 0, 0));
    seqrt_optim o;
    seqrt_optim_init(&o, &s, 3, NULL);
    const char *name;
    double *acc = seqrt_optim_slot(&o, 0, &name);
    ck_assert_str_eq(name, "accumulator");
    ck_assert_double_eq(acc[2], 0.1);
    seqrt_optim_free(&o);
}
END_TEST

START_TEST(weight_decay_on_sgd)
{
    seqrt_optim_spec s = with(defaults(SEQRT_OPT_SGD), 0.1, 0, 0);
    s.weight_decay = 0.5;
    CHECK_REF(s);
    seqrt_optim o;
    seqrt_optim_init(&o, &s, 1, NULL);
    double w[1] = {2}, g[1] = {1};
    seqrt_optim_step(&o, w, g, NULL, 0);   /* 2 - 2*0.5*0.1 = 1.9, then -0.1 */
    ck_assert_double_eq_tol(w[0], 1.8, 1e-15);
    seqrt_optim_free(&o);
}
END_TEST

/* Plain SGD with lr = 1 exposes the clipped gradient as -dw. */
static void clipped(double out[N], double clipnorm, double global, double value, int use_table)
{
    seqrt_optim_spec s = with(defaults(SEQRT_OPT_SGD), 1.0, 0, 0);
    s.clipnorm = clipnorm;
    s.global_clipnorm = global;
    s.clipvalue = value;
    seqrt_param table[2] = {
        {"a.kernel", 1, {2}, 0, 2, SEQRT_INIT_ZEROS, 0, 0},
        {"a.bias", 1, {3}, 2, 3, SEQRT_INIT_ZEROS, 0, 0},
    };
    seqrt_optim o;
    seqrt_optim_init(&o, &s, N, NULL);
    double w[N] = {0}, g[N] = {3, 4, 0.6, 0, -0.8};
    seqrt_optim_step(&o, w, g, use_table ? table : NULL, use_table ? 2 : 0);
    for (int i = 0; i < N; i++) out[i] = -w[i];
    seqrt_optim_free(&o);
}

START_TEST(clipnorm_per_variable)
{
    double g[N];
    clipped(g, 1.0, 0, 0, 1);
    double want[N] = {0.6, 0.8, 0.6, 0, -0.8};   /* ||[3,4]|| = 5 -> 1; ||[.6,0,-.8]|| = 1 */
    for (int i = 0; i < N; i++) ck_assert_double_eq_tol(g[i], want[i], 1e-15);
    clipped(g, 1.0, 0, 0, 0);   /* no table: the whole buffer is one variable */
    double n = sqrt(25 + 1);
    ck_assert_double_eq_tol(g[0], 3 / n, 1e-15);
    ck_assert_double_eq_tol(g[4], -0.8 / n, 1e-15);
}
END_TEST

START_TEST(global_clipnorm_and_clipvalue)
{
    double g[N];
    clipped(g, 0, 2.0, 0, 1);
    double n = sqrt(26);
    ck_assert_double_eq_tol(g[1], 4 * 2 / n, 1e-15);
    ck_assert_double_eq_tol(g[2], 0.6 * 2 / n, 1e-15);
    clipped(g, 0, 100.0, 0, 1);   /* below the limit: unchanged */
    ck_assert_double_eq_tol(g[0], 3, 1e-15);
    clipped(g, 0, 0, 0.7, 1);
    double want[N] = {0.7, 0.7, 0.6, 0, -0.7};
    for (int i = 0; i < N; i++) ck_assert_double_eq_tol(g[i], want[i], 1e-15);
}
END_TEST

START_TEST(learning_rate_override)
{
    seqrt_optim_spec s = with(defaults(SEQRT_OPT_SGD), 0.1, 0, 0);
    seqrt_optim o;
    seqrt_optim_init(&o, &s, 1, NULL);
    o.learning_rate = 0.5;
    double w[1] = {1}, g[1] = {1};
    seqrt_optim_step(&o, w, g, NULL, 0);
    ck_assert_double_eq_tol(w[0], 0.5, 1e-15);
    seqrt_optim_free(&o);
}
END_TEST

/* Save slots + iterations after 3 steps, restore into a fresh optimizer:
 * both continue identically. */
START_TEST(state_save_restore)
{
    seqrt_optim_spec s = with(defaults(SEQRT_OPT_ADAM), 0.01, 0, 1);
    seqrt_optim a, b;
    seqrt_optim_init(&a, &s, N, NULL);
    seqrt_optim_init(&b, &s, N, NULL);
    ck_assert_int_eq(seqrt_optim_n_slots(&a), 3);
    double wa[N], wb[N], g[N];
    for (int i = 0; i < N; i++) wa[i] = W0[i];
    for (int k = 0; k < 3; k++) { grad(g, wa); seqrt_optim_step(&a, wa, g, NULL, 0); }
    for (int i = 0; i < seqrt_optim_n_slots(&a); i++) {
        const char *na, *nb;
        double *sa = seqrt_optim_slot(&a, i, &na), *sb = seqrt_optim_slot(&b, i, &nb);
        ck_assert_str_eq(na, nb);
        for (int j = 0; j < N; j++) sb[j] = sa[j];
    }
    ck_assert_ptr_null(seqrt_optim_slot(&a, 3, NULL));
    b.iterations = a.iterations;
    for (int i = 0; i < N; i++) wb[i] = wa[i];
    for (int k = 0; k < 3; k++) {
        grad(g, wa); seqrt_optim_step(&a, wa, g, NULL, 0);
        grad(g, wb); seqrt_optim_step(&b, wb, g, NULL, 0);
    }
    for (int i = 0; i < N; i++) ck_assert_double_eq(wa[i], wb[i]);
    seqrt_optim_reset(&a);
    ck_assert_int_eq(a.iterations, 0);
    seqrt_optim_free(&a);
    seqrt_optim_free(&b);
}
END_TEST

START_TEST(unknown_kind_is_error)
{
    seqrt_optim_spec s = defaults((seqrt_optim_kind)99);
    seqrt_optim o;
    seqrt_error err;
    ck_assert_int_eq(seqrt_optim_init(&o, &s, 4, &err), SEQRT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown optimizer"));
}
END_TEST

static Suite *make_optim_suite(void)
{
    Suite *s = suite_create("runtime_optim");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, sgd_variants);
    tcase_add_test(core, sgd_momentum_by_hand);
    tcase_add_test(core, adam_variants);
    tcase_add_test(core, adam_first_step_by_hand);
    tcase_add_test(core, rmsprop_variants);
    tcase_add_test(core, adagrad_and_accumulator_start);
    tcase_add_test(core, weight_decay_on_sgd);
    tcase_add_test(core, clipnorm_per_variable);
    tcase_add_test(core, global_clipnorm_and_clipvalue);
    tcase_add_test(core, learning_rate_override);
    tcase_add_test(core, state_save_restore);
    suite_add_tcase(s, core);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, unknown_kind_is_error);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_optim_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
