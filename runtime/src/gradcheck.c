/*
 * gradcheck.c: the finite-difference gradient check: central differences
 * of the total loss against backward, for up to 64 elements of every
 * parameter tensor, with elements at a kink (relu, clip edges) set apart.
 */
#include <stdlib.h>

#include "train_internal.h"

#define STREAM_PICK UINT64_C(0x7069636b00000000)      /* "pick" + param */

/* ---- gradient check ---- */

double seqrt_gradcheck_threshold(void) { return sizeof(seqrt_real) == 8 ? 1e-6 : 2e-2; }
double seqrt_gradcheck_floor(void) { return sizeof(seqrt_real) == 8 ? 1e-3 : 1e-2; }

static double loss_at(Run *r, const seqrt_real *params)
{
    seqrt_run_whole_forward(r, params);
    return seqrt_run_loss(r, r->B, 0);
}

/* Which elements of param p to check: all, or `want` distinct ones drawn
 * by a partial Fisher-Yates from the seed. Returns how many. */
static int64_t pick_elements(int64_t *pick, size_t size, int64_t want, uint64_t seed, int p)
{
    for (size_t i = 0; i < size; i++) pick[i] = (int64_t)i;
    if ((int64_t)size <= want) return (int64_t)size;
    seqrt_rng rng;
    seqrt_rng_seed_stream(&rng, seed, STREAM_PICK + (uint64_t)p);
    for (int64_t i = 0; i < want; i++) {
        int64_t j = i + (int64_t)seqrt_rng_below(&rng, (uint64_t)((int64_t)size - i));
        int64_t tmp = pick[i];
        pick[i] = pick[j];
        pick[j] = tmp;
    }
    return want;
}

/* Central difference of the loss in element i with step h, against
 * backward's ana; also whether ana lies between the two one-sided slopes
 * (l0: the loss at the unperturbed params). Returns the relative error. */
static double probe_element(Run *r, seqrt_real *params, size_t i, double h, double l0, double ana,
                            int *between)
{
    seqrt_real keep = params[i], up = (seqrt_real)(keep + h), down = (seqrt_real)(keep - h);
    params[i] = up;
    double lu = loss_at(r, params);
    params[i] = down;
    double ld = loss_at(r, params);
    params[i] = keep;
    /* Divide by the step actually taken, after rounding to seqrt_real. */
    double num = (lu - ld) / ((double)up - (double)down);
    double fwd = (lu - l0) / ((double)up - keep), bwd = (l0 - ld) / ((double)keep - down);
    double lo = fmin(fwd, bwd), hi = fmax(fwd, bwd);
    double slack = seqrt_gradcheck_threshold() * fmax(fabs(lo) + fabs(hi), seqrt_gradcheck_floor());
    *between = ana >= lo - slack && ana <= hi + slack;
    return fabs(num - ana) / fmax(fabs(num) + fabs(ana), seqrt_gradcheck_floor());
}

/* A kink (ReLU at 0, a clip's edge, |x|, max) within the step breaks the
 * central difference, not the gradient. An element that fails at step eps
 * is a kink when, at eps or at a step 8 or 64 times smaller, backward's
 * value lies between the one-sided slopes (a correct backward gives one of
 * them at a kink) or the central difference agrees (the kink lay farther
 * away). On a smooth loss the one-sided slopes are O(eps) apart, so no
 * wrong gradient passes that the central test alone would catch. */
static int at_kink(Run *r, seqrt_real *params, size_t i, double eps, double l0, double ana)
{
    for (double h = eps; h >= eps / 64; h /= 8) {
        int between;
        double rel = probe_element(r, params, i, h, l0, ana, &between);
        if (between || (h < eps && rel <= seqrt_gradcheck_threshold())) return 1;
    }
    return 0;
}

/* Worst relative error of one parameter tensor over the elements away from
 * kinks (*kinks counts the others); grads hold backward's, l0 the loss at
 * the unperturbed params. */
static double check_param(Run *r, seqrt_real *params, const seqrt_real *grads, int p,
                          const int64_t *pick, int64_t n, double eps, double l0, int64_t *kinks)
{
    const seqrt_param *pp = &r->m->params[p];
    double worst = 0;
    *kinks = 0;
    for (int64_t k = 0; k < n; k++) {
        size_t i = pp->offset + (size_t)pick[k];
        int between;
        double rel = probe_element(r, params, i, eps, l0, grads[i], &between);
        if (isnan(rel)) return INFINITY;
        if (rel > seqrt_gradcheck_threshold() && at_kink(r, params, i, eps, l0, grads[i])) {
            ++*kinks;
            continue;
        }
        worst = fmax(worst, rel);
    }
    return worst;
}

int seqrt_gradcheck(const seqrt_model *m, const seqrt_dataset *d, seqrt_real *params,
                    const seqrt_gradcheck_options *o, double *worst, int64_t *checked,
                    int64_t *kinks, seqrt_error *err)
{
    double eps = o->eps > 0 ? o->eps : sizeof(seqrt_real) == 8 ? 1e-5 : 1e-3;
    int64_t per = o->per_tensor > 0 ? o->per_tensor : 64;
    size_t biggest = 1;
    for (int p = 0; p < m->n_params; p++) biggest = m->params[p].size > biggest ? m->params[p].size : biggest;
    Run r;
    int rc = seqrt_run_open_whole(&r, m, d, err);
    if (rc) return rc;
    int64_t *pick = malloc(biggest * sizeof *pick);
    seqrt_real *grads = malloc(m->param_count * sizeof *grads + 1);
    if (!pick || !grads) rc = seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    double l0 = 0;
    if (!rc) {
        seqrt_run_whole_forward(&r, params);
        l0 = seqrt_run_loss(&r, r.B, 1);
        seqrt_run_backward(&r, params, r.B);
        memcpy(grads, r.grads, m->param_count * sizeof *grads);
    }
    for (int p = 0; !rc && p < m->n_params; p++) {
        checked[p] = pick_elements(pick, m->params[p].size, per, o->seed, p);
        worst[p] = check_param(&r, params, grads, p, pick, checked[p], eps, l0, &kinks[p]);
    }
    free(pick);
    free(grads);
    seqrt_run_close(&r);
    return rc;
}
