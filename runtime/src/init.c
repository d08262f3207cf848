/*
 * init.c: fills the flat parameter buffer with Keras's initialisers
 * (KERAS-SEMANTICS 0), walking the generated model's parameter table.
 * Each parameter draws from its own stream (seed, index), so adding a layer
 * leaves the others' initial values unchanged. The fused gate matrices are
 * initialised whole: one glorot bound for [D, 4u], one orthogonal u x 4u.
 */
#include <limits.h>
#include <stdlib.h>

#include "internal.h"

/* Keras compute_fans, for tables that leave fan_in/fan_out at 0. */
static void keras_fans(const seqrt_param *p, double *fan_in, double *fan_out)
{
    if (p->fan_in > 0 && p->fan_out > 0) {
        *fan_in = (double)p->fan_in;
        *fan_out = (double)p->fan_out;
    } else if (p->ndim == 0) {
        *fan_in = *fan_out = 1;
    } else if (p->ndim == 1) {
        *fan_in = *fan_out = (double)p->shape[0];
    } else {
        double receptive = 1;
        for (int i = 0; i < p->ndim - 2; i++) receptive *= (double)p->shape[i];
        *fan_in = (double)p->shape[p->ndim - 2] * receptive;
        *fan_out = (double)p->shape[p->ndim - 1] * receptive;
    }
}

/* LAPACK (OpenBLAS ships it; Debian's build has no LAPACKE header), 32-bit
 * integers as in OpenBLAS's default interface. */
extern void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work,
                    const int *lwork, int *info);
extern void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda,
                    const float *tau, float *work, const int *lwork, int *info);
extern void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau,
                    double *work, const int *lwork, int *info);
extern void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda,
                    const double *tau, double *work, const int *lwork, int *info);

#ifdef SEQRT_DOUBLE
#define GEQRF dgeqrf_
#define ORGQR dorgqr_
#else
#define GEQRF sgeqrf_
#define ORGQR sorgqr_
#endif

/* Thin QR of a[n x k] (column-major, lda n, n >= k) in place: on return a
 * holds Q with each column multiplied by sign(R_jj), which makes Q unique
 * (the Q numpy's qr gives after Keras's sign fix). LAPACK's blocked
 * Householder, in seqrt_real: W7's [512, 2048] kernel in 0.13 s of CPU where
 * an unblocked column loop in double took 1.7 s; the two agree to ~1e-7
 * (float) and 1e-12 (double), tests/check_runtime_init.c. */
static int qr_signed_q(seqrt_real *a, int n, int k)
{
    int info = 0, lwork = -1;
    seqrt_real query = 0;
    GEQRF(&n, &k, a, &n, NULL, &query, &lwork, &info);
    if (info) return SEQRT_EINVAL;
    lwork = (int)query;
    ORGQR(&n, &k, &k, a, &n, NULL, &query, &(int){-1}, &info);
    if (info) return SEQRT_EINVAL;
    if ((int)query > lwork) lwork = (int)query;
    if (lwork < k) lwork = k;
    /* tau [k], the signs of R's diagonal [k], then the workspace */
    seqrt_real *buf = malloc((2 * (size_t)k + (size_t)lwork) * sizeof *buf);
    if (!buf) return SEQRT_ENOMEM;
    seqrt_real *tau = buf, *sign = buf + k, *work = buf + 2 * (size_t)k;
    GEQRF(&n, &k, a, &n, tau, work, &lwork, &info);
    for (int j = 0; !info && j < k; j++) sign[j] = a[(size_t)j * n + j] < 0 ? -1 : 1;
    if (!info) ORGQR(&n, &k, &k, a, &n, tau, work, &lwork, &info);
    for (int j = 0; !info && j < k; j++)
        if (sign[j] < 0)
            for (int i = 0; i < n; i++) a[(size_t)j * n + i] = -a[(size_t)j * n + i];
    free(buf);
    return info ? SEQRT_EINVAL : SEQRT_OK;
}

int seqrt_init_orthogonal(seqrt_real *dst, int64_t r, int64_t c, seqrt_rng *rng)
{
    if (r <= 0 || c <= 0) return SEQRT_EINVAL;
    int64_t n = r > c ? r : c, k = r > c ? c : r;
    if (n > INT_MAX) return SEQRT_EINVAL; /* LAPACK's 32-bit sizes */
    if ((uint64_t)n * (uint64_t)k > SIZE_MAX / sizeof(seqrt_real)) return SEQRT_ENOMEM;
    seqrt_real *a = malloc((size_t)(n * k) * sizeof *a);
    if (!a) return SEQRT_ENOMEM;
    for (int64_t i = 0; i < n; i++)   /* (n, k), drawn row by row, stored by column */
        for (int64_t j = 0; j < k; j++) a[j * n + i] = (seqrt_real)seqrt_rng_normal(rng);
    int rc = qr_signed_q(a, (int)n, (int)k);
    if (rc == SEQRT_OK)
        for (int64_t i = 0; i < r; i++)
            for (int64_t j = 0; j < c; j++) dst[i * c + j] = r >= c ? a[j * n + i] : a[i * n + j];
    free(a);
    return rc;
}

static void fill_uniform(seqrt_real *dst, size_t n, double lo, double hi, seqrt_rng *rng)
{
    for (size_t i = 0; i < n; i++) dst[i] = (seqrt_real)(lo + (hi - lo) * seqrt_rng_double(rng));
}

int seqrt_init_param(seqrt_real *dst, const seqrt_param *p, uint64_t seed, uint64_t index,
                     seqrt_error *err)
{
    seqrt_rng rng;
    seqrt_rng_seed_stream(&rng, seed, index);
    size_t n = p->size;
    double fan_in, fan_out, limit;
    int64_t rows = 1;
    int rc;
    switch (p->init) {
    case SEQRT_INIT_ZEROS:
        for (size_t i = 0; i < n; i++) dst[i] = 0;
        return SEQRT_OK;
    case SEQRT_INIT_ONES:
        for (size_t i = 0; i < n; i++) dst[i] = 1;
        return SEQRT_OK;
    case SEQRT_INIT_GLOROT_UNIFORM:
        keras_fans(p, &fan_in, &fan_out);
        limit = sqrt(6.0 / (fan_in + fan_out));
        fill_uniform(dst, n, -limit, limit, &rng);
        return SEQRT_OK;
    case SEQRT_INIT_UNIFORM:
        fill_uniform(dst, n, -0.05, 0.05, &rng);
        return SEQRT_OK;
    case SEQRT_INIT_UNIT_FORGET_BIAS:
        /* [i, f, c, o] blocks of u: the forget block starts at 1. */
        for (size_t i = 0; i < n; i++) dst[i] = (i >= n / 4 && i < n / 2) ? 1 : 0;
        return SEQRT_OK;
    case SEQRT_INIT_ORTHOGONAL:
        if (p->ndim < 2)
            return seqrt_errorf(err, SEQRT_EINVAL, "%s: orthogonal needs at least 2 dims, has %d",
                                p->name, p->ndim);
        for (int i = 0; i < p->ndim - 1; i++) rows *= p->shape[i];
        rc = seqrt_init_orthogonal(dst, rows, p->shape[p->ndim - 1], &rng);
        return rc ? seqrt_errorf(err, rc, "%s: orthogonal init failed: %s", p->name,
                                 seqrt_status_name(rc))
                  : SEQRT_OK;
    }
    return seqrt_errorf(err, SEQRT_EINVAL, "%s: unknown initializer %d", p->name, (int)p->init);
}

int seqrt_init_params(const seqrt_model *m, seqrt_real *params, uint64_t seed, seqrt_error *err)
{
    for (int i = 0; i < m->n_params; i++) {
        const seqrt_param *p = &m->params[i];
        uint64_t count = 1;
        for (int d = 0; d < p->ndim; d++) count *= (uint64_t)p->shape[d];
        if (p->ndim < 0 || p->ndim > SEQRT_MAX_DIMS || count != p->size ||
            p->offset > m->param_count || p->size > m->param_count - p->offset)
            return seqrt_errorf(err, SEQRT_EINVAL, "%s: parameter table entry %d is inconsistent",
                                p->name, i);
        int rc = seqrt_init_param(params + p->offset, p, seed, (uint64_t)i, err);
        if (rc) return rc;
    }
    return SEQRT_OK;
}
