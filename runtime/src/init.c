/*
 * init.c: fills the flat parameter buffer with Keras's initialisers
 * (KERAS-SEMANTICS 0), walking the generated model's parameter table.
 * Each parameter draws from its own stream (seed, index), so adding a layer
 * leaves the others' initial values unchanged. The fused gate matrices are
 * initialised whole: one glorot bound for [D, 4u], one orthogonal u x 4u.
 */
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

/* Householder QR of a[n x k] (row-major, n >= k), in place. On return q
 * holds the thin Q [n x k] with each column multiplied by sign(R_jj), which
 * makes Q unique (the same Q numpy's qr gives after Keras's sign fix). */
/* Column-major (column j at [j * n]): every inner loop runs down one column,
 * contiguous in memory (row-major took 30 s for a [512, 2048] kernel). */
static void qr_signed_q(double *q, double *a, double *v, int64_t n, int64_t k)
{
    double *beta = v + n * k;   /* k reflector scales after the n*k vectors */
    double *diag = beta + k;
    for (int64_t j = 0; j < k; j++) {
        double norm = 0;
        for (int64_t i = j; i < n; i++) norm += a[j * n + i] * a[j * n + i];
        norm = sqrt(norm);
        double alpha = a[j * n + j] >= 0 ? -norm : norm;
        double vv = 0;
        for (int64_t i = 0; i < n; i++) {
            double x = i < j ? 0 : a[j * n + i] - (i == j ? alpha : 0);
            v[j * n + i] = x;
            vv += x * x;
        }
        beta[j] = vv > 0 ? 2 / vv : 0;
        diag[j] = norm > 0 ? alpha : 0;
        for (int64_t c = j; c < k; c++) {
            double s = 0;
            for (int64_t i = j; i < n; i++) s += v[j * n + i] * a[c * n + i];
            s *= beta[j];
            for (int64_t i = j; i < n; i++) a[c * n + i] -= s * v[j * n + i];
        }
    }
    /* Q = H_0 H_1 ... H_{k-1} applied to the first k columns of I. */
    for (int64_t i = 0; i < n * k; i++) q[i] = 0;
    for (int64_t i = 0; i < k; i++) q[i * n + i] = 1;
    for (int64_t j = k - 1; j >= 0; j--) {
        for (int64_t c = 0; c < k; c++) {
            double s = 0;
            for (int64_t i = j; i < n; i++) s += v[j * n + i] * q[c * n + i];
            s *= beta[j];
            for (int64_t i = j; i < n; i++) q[c * n + i] -= s * v[j * n + i];
        }
    }
    for (int64_t j = 0; j < k; j++)
        if (diag[j] < 0)
            for (int64_t i = 0; i < n; i++) q[j * n + i] = -q[j * n + i];
}

int seqrt_init_orthogonal(seqrt_real *dst, int64_t r, int64_t c, seqrt_rng *rng)
{
    if (r <= 0 || c <= 0) return SEQRT_EINVAL;
    int64_t n = r > c ? r : c, k = r > c ? c : r;
    if ((uint64_t)n * (uint64_t)k > (SIZE_MAX / sizeof(double) - 2 * (uint64_t)k) / 3)
        return SEQRT_ENOMEM;
    size_t nk = (size_t)(n * k);
    double *buf = malloc((3 * nk + 2 * (size_t)k) * sizeof *buf);
    if (!buf) return SEQRT_ENOMEM;
    double *a = buf, *q = buf + nk, *v = buf + 2 * nk;
    for (int64_t i = 0; i < n; i++)   /* (n, k), drawn row by row, stored by column */
        for (int64_t j = 0; j < k; j++) a[j * n + i] = seqrt_rng_normal(rng);
    qr_signed_q(q, a, v, n, k);
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++)
            dst[i * c + j] = (seqrt_real)(r >= c ? q[j * n + i] : q[i * n + j]);
    free(buf);
    return SEQRT_OK;
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
