/*
 * check_runtime_rnn.c: the fused recurrent steps (seqrt_rnn.h) and the
 * thread team (seqrt_team.h).
 *
 * Each fused sequence (LSTM; GRU with reset_after, with and without the
 * recurrent bias; GRU with reset_after=false; SimpleRNN) is checked against a plain loop with the generated
 * code's arithmetic (the product in double, then the same gate formulas),
 * at odd sizes (B = 1, 3, 7; U = 1, 5, 17, 64, 96: partial and whole column
 * tiles, partial and whole register blocks); and for team sizes 1, 2 and 3
 * the results must be bit-identical, whichever way the work is split. Built
 * against both seqrt (float32) and seqrt_f64.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "seqrt.h"
#include "seqrt_kernel.h"
#include "seqrt_rnn.h"
#include "seqrt_team.h"

#ifdef SEQRT_DOUBLE
#define TOL 1e-11
#else
#define TOL 2e-5
#endif

static const int Bs[] = {1, 3, 7};
static const int Us[] = {1, 5, 17, 64, 96};
enum { T = 5 };

static uint64_t rng_state;
static seqrt_real uni(double lo, double hi)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seqrt_real)(lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0);
}
static seqrt_real *randv(size_t n, double lo, double hi)
{
    seqrt_real *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++) v[i] = uni(lo, hi);
    return v;
}
static seqrt_real *dup(const seqrt_real *v, size_t n)
{
    seqrt_real *d = malloc(n * sizeof *d);
    ck_assert_ptr_nonnull(d);
    return memcpy(d, v, n * sizeof *d);
}

/* |a - b| <= TOL * (1 + max |b|) over n values */
static void near(const char *what, const seqrt_real *a, const seqrt_real *b, size_t n, int B, int U)
{
    double scale = 1;
    for (size_t i = 0; i < n; i++) scale = fabs((double)b[i]) > scale ? fabs((double)b[i]) : scale;
    for (size_t i = 0; i < n; i++)
        test_assert_each(fabs((double)a[i] - (double)b[i]) <= TOL * scale,
                         "%s B=%d U=%d [%zu]: fused %.9g, reference %.9g", what, B, U, i,
                         (double)a[i], (double)b[i]);
}

/* out[B, N] = beta * out + a[B, K] w (w[K, N], or its transpose [N, K]),
 * the sum in double */
static void ref_product(int B, int N, int K, const seqrt_real *a, const seqrt_real *w, int wt,
                        seqrt_real beta, seqrt_real *out)
{
    for (int b = 0; b < B; b++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)a[b * K + k] * (double)(wt ? w[j * K + k] : w[k * N + j]);
            out[b * N + j] = (seqrt_real)s + beta * out[b * N + j];
        }
}

static void ref_lstm_forward(int B, int U, const seqrt_real *rk, seqrt_real *z, seqrt_real *h,
                             seqrt_real *c)
{
    const int BU = B * U, BG = 4 * B * U;
    for (int t = 0; t < T; t++) {
        seqrt_real *zt = z + t * BG, *ht = h + (t + 1) * BU, *ct = c + (t + 1) * BU;
        const seqrt_real *hp = h + t * BU, *cp = c + t * BU;
        ref_product(B, 4 * U, U, hp, rk, 0, 1, zt);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * 4 * U;
                const seqrt_real ig = seqrt_sigmoid(g[j]);
                const seqrt_real fg = seqrt_sigmoid(g[U + j]);
                const seqrt_real cg = SEQRT_TANH(g[2 * U + j]);
                const seqrt_real og = seqrt_sigmoid(g[3 * U + j]);
                const seqrt_real cn = fg * cp[b * U + j] + ig * cg;
                ct[b * U + j] = cn;
                ht[b * U + j] = og * SEQRT_TANH(cn);
                g[j] = ig; g[U + j] = fg; g[2 * U + j] = cg; g[3 * U + j] = og;
            }
    }
}

static void ref_lstm_backward(int B, int U, const seqrt_real *rk, seqrt_real *z, const seqrt_real *c,
                              const seqrt_real *dy, seqrt_real *dh, seqrt_real *dc)
{
    const int BU = B * U, BG = 4 * B * U;
    for (int t = T - 1; t >= 0; t--) {
        if (dy)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < U; j++) dh[b * U + j] += dy[(b * T + t) * U + j];
        seqrt_real *zt = z + t * BG;
        const seqrt_real *cp = c + t * BU, *ct = c + (t + 1) * BU;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * 4 * U;
                const seqrt_real ig = g[j], fg = g[U + j], cg = g[2 * U + j], og = g[3 * U + j];
                const seqrt_real a = SEQRT_TANH(ct[b * U + j]);
                const seqrt_real dhv = dh[b * U + j];
                const seqrt_real dcv = dc[b * U + j] + dhv * og * (1 - a * a);
                g[j] = dcv * cg * ig * (1 - ig);
                g[U + j] = dcv * cp[b * U + j] * fg * (1 - fg);
                g[2 * U + j] = dcv * ig * (1 - cg * cg);
                g[3 * U + j] = dhv * a * og * (1 - og);
                dc[b * U + j] = dcv * fg;
                dh[b * U + j] = 0;
            }
        ref_product(B, U, 4 * U, zt, rk, 1, 1, dh);
    }
}

typedef struct {
    seqrt_real *z, *h, *c, *dh, *dc, *tc;
} lstm_run;

/* Forward then backward (with or without dy) through the fused steps on a
 * team of n; the inputs are not changed. */
static lstm_run fused_lstm(int n, int B, int U, const seqrt_real *rk, const seqrt_real *z0,
                           const seqrt_real *h0, const seqrt_real *c0, const seqrt_real *dy,
                           const seqrt_real *dh0, const seqrt_real *dc0)
{
    const size_t BU = (size_t)B * U;
    lstm_run r = {dup(z0, T * 4 * BU), calloc((T + 1) * BU, sizeof(seqrt_real)),
                  calloc((T + 1) * BU, sizeof(seqrt_real)), dup(dh0, BU), dup(dc0, BU),
                  calloc(T * BU, sizeof(seqrt_real))};
    memcpy(r.h, h0, BU * sizeof(seqrt_real));
    memcpy(r.c, c0, BU * sizeof(seqrt_real));
    seqrt_real *pk = malloc((size_t)SEQRT_RNN_PACK_SIZE(U, 4) * sizeof *pk);
    seqrt_team_set_threads(n);
    seqrt_lstm_forward(T, B, U, rk, pk, r.z, r.h, r.c, r.tc);
    seqrt_real *zb = r.z; /* gates; the backward overwrites them with dz */
    r.z = dup(zb, T * 4 * BU);
    seqrt_lstm_backward(T, B, U, rk, pk, zb, r.c, r.tc, dy, (int64_t)T * U, r.dh, r.dc);
    /* keep both: gates after the forward in z[0..), dz after */
    seqrt_real *both = malloc(2 * T * 4 * BU * sizeof *both);
    memcpy(both, r.z, T * 4 * BU * sizeof *both);
    memcpy(both + T * 4 * BU, zb, T * 4 * BU * sizeof *both);
    free(r.z);
    free(zb);
    free(pk);
    r.z = both;
    seqrt_team_set_threads(1);
    return r;
}

static void free_run(lstm_run *r)
{
    free(r->z), free(r->h), free(r->c), free(r->dh), free(r->dc), free(r->tc);
}

static void lstm_case(int B, int U, int with_dy)
{
    const size_t BU = (size_t)B * U;
    seqrt_real *rk = randv(4 * (size_t)U * U, -0.5, 0.5), *z0 = randv(T * 4 * BU, -1.5, 1.5);
    seqrt_real *h0 = randv(BU, -1, 1), *c0 = randv(BU, -1, 1);
    seqrt_real *dy = with_dy ? randv(T * BU, -1, 1) : NULL;
    seqrt_real *dh0 = randv(BU, -1, 1), *dc0 = randv(BU, -1, 1);

    lstm_run ref = {dup(z0, T * 4 * BU), calloc((T + 1) * BU, sizeof(seqrt_real)),
                    calloc((T + 1) * BU, sizeof(seqrt_real)), dup(dh0, BU), dup(dc0, BU), NULL};
    memcpy(ref.h, h0, BU * sizeof(seqrt_real));
    memcpy(ref.c, c0, BU * sizeof(seqrt_real));
    ref_lstm_forward(B, U, rk, ref.z, ref.h, ref.c);
    seqrt_real *gates = dup(ref.z, T * 4 * BU);
    ref_lstm_backward(B, U, rk, ref.z, ref.c, dy, ref.dh, ref.dc);

    lstm_run f1 = fused_lstm(1, B, U, rk, z0, h0, c0, dy, dh0, dc0);
    near("gates", f1.z, gates, T * 4 * BU, B, U);
    near("h", f1.h, ref.h, (T + 1) * BU, B, U);
    near("c", f1.c, ref.c, (T + 1) * BU, B, U);
    seqrt_real *tanh_c = malloc(T * BU * sizeof *tanh_c); /* what the backward reads */
    for (size_t i = 0; i < T * BU; i++) tanh_c[i] = SEQRT_TANH(ref.c[BU + i]);
    near("tanh(c)", f1.tc, tanh_c, T * BU, B, U);
    free(tanh_c);
    near("dz", f1.z + T * 4 * BU, ref.z, T * 4 * BU, B, U);
    near("dh", f1.dh, ref.dh, BU, B, U);
    near("dc", f1.dc, ref.dc, BU, B, U);
    for (int n = 2; n <= 3; n++) {
        lstm_run fn = fused_lstm(n, B, U, rk, z0, h0, c0, dy, dh0, dc0);
        ck_assert_msg(!memcmp(fn.z, f1.z, 2 * T * 4 * BU * sizeof(seqrt_real)) &&
                      !memcmp(fn.h, f1.h, (T + 1) * BU * sizeof(seqrt_real)) &&
                      !memcmp(fn.c, f1.c, (T + 1) * BU * sizeof(seqrt_real)) &&
                      !memcmp(fn.tc, f1.tc, T * BU * sizeof(seqrt_real)) &&
                      !memcmp(fn.dh, f1.dh, BU * sizeof(seqrt_real)) &&
                      !memcmp(fn.dc, f1.dc, BU * sizeof(seqrt_real)),
                      "B=%d U=%d: a team of %d differs from a team of 1", B, U, n);
        free_run(&fn);
    }
    free_run(&f1);
    free_run(&ref);
    free(gates), free(rk), free(z0), free(h0), free(c0), free(dy), free(dh0), free(dc0);
}

START_TEST(lstm_matches_reference)
{
    rng_state = 12345;
    for (size_t i = 0; i < sizeof Bs / sizeof Bs[0]; i++)
        for (size_t k = 0; k < sizeof Us / sizeof Us[0]; k++) {
            lstm_case(Bs[i], Us[k], 1);
            lstm_case(Bs[i], Us[k], 0);
        }
}
END_TEST

/* A batch big enough that a team splits it by rows (small kernel), and a
 * kernel big enough that it splits by column tiles: both bit-identical to
 * one thread, both near the reference. */
START_TEST(lstm_both_splits)
{
    rng_state = 777;
    lstm_case(32, 16, 1); /* rows */
    lstm_case(5, 160, 1); /* column tiles: 400 KiB packed in float32 */
}
END_TEST

/* GRU (reset_after), the generated code's arithmetic: q = h_{t-1} rk + bh
 * for all three blocks, then the gates. */
static void ref_gru_forward(int B, int U, const seqrt_real *rk, const seqrt_real *bh, seqrt_real *z,
                            seqrt_real *q, seqrt_real *h)
{
    const int BU = B * U, BG = 3 * B * U;
    for (int t = 0; t < T; t++) {
        seqrt_real *zt = z + t * BG, *qt = q + t * BG, *ht = h + (t + 1) * BU;
        const seqrt_real *hp = h + t * BU;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < 3 * U; j++) qt[b * 3 * U + j] = bh ? bh[j] : 0;
        ref_product(B, 3 * U, U, hp, rk, 0, 1, qt);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * 3 * U, *qq = qt + b * 3 * U;
                const seqrt_real zg = seqrt_sigmoid(g[j] + qq[j]);
                const seqrt_real rg = seqrt_sigmoid(g[U + j] + qq[U + j]);
                const seqrt_real ng = SEQRT_TANH(g[2 * U + j] + rg * qq[2 * U + j]);
                ht[b * U + j] = zg * hp[b * U + j] + (1 - zg) * ng;
                g[j] = zg; g[U + j] = rg; g[2 * U + j] = ng;
            }
    }
}

static void ref_gru_backward(int B, int U, const seqrt_real *rk, seqrt_real *z, seqrt_real *q,
                             const seqrt_real *h, const seqrt_real *dy, seqrt_real *dh)
{
    const int BU = B * U, BG = 3 * B * U;
    for (int t = T - 1; t >= 0; t--) {
        if (dy)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < U; j++) dh[b * U + j] += dy[(b * T + t) * U + j];
        seqrt_real *zt = z + t * BG, *qt = q + t * BG;
        const seqrt_real *hp = h + t * BU;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * 3 * U, *qq = qt + b * 3 * U;
                const seqrt_real zg = g[j], rg = g[U + j], ng = g[2 * U + j], hn = qq[2 * U + j];
                const seqrt_real dhv = dh[b * U + j];
                const seqrt_real az = dhv * (hp[b * U + j] - ng) * zg * (1 - zg);
                const seqrt_real an = dhv * (1 - zg) * (1 - ng * ng);
                const seqrt_real ar = an * hn * rg * (1 - rg);
                g[j] = az; g[U + j] = ar; g[2 * U + j] = an;
                qq[j] = az; qq[U + j] = ar; qq[2 * U + j] = an * rg;
                dh[b * U + j] = dhv * zg;
            }
        ref_product(B, U, 3 * U, qt, rk, 1, 1, dh);
    }
}

typedef struct {
    seqrt_real *z, *q, *h, *dh; /* z, q: [2T, B, 3U], after the forward then after the backward */
} gru_run;

static gru_run fused_gru(int n, int B, int U, const seqrt_real *rk, const seqrt_real *bh,
                         const seqrt_real *z0, const seqrt_real *h0, const seqrt_real *dy,
                         const seqrt_real *dh0)
{
    const size_t BU = (size_t)B * U, NG = (size_t)T * 3 * BU;
    gru_run r = {malloc(2 * NG * sizeof(seqrt_real)), calloc(2 * NG, sizeof(seqrt_real)),
                 calloc((T + 1) * BU, sizeof(seqrt_real)), dup(dh0, BU)};
    memcpy(r.z, z0, NG * sizeof(seqrt_real));
    memcpy(r.h, h0, BU * sizeof(seqrt_real));
    seqrt_real *pk = malloc((size_t)SEQRT_RNN_PACK_SIZE(U, 3) * sizeof *pk);
    seqrt_team_set_threads(n);
    seqrt_gru_forward(T, B, U, rk, bh, pk, r.z, r.q, r.h);
    memcpy(r.z + NG, r.z, NG * sizeof(seqrt_real));
    memcpy(r.q + NG, r.q, NG * sizeof(seqrt_real));
    seqrt_gru_backward(T, B, U, rk, pk, r.z + NG, r.q + NG, r.h, dy, (int64_t)T * U, r.dh);
    free(pk);
    seqrt_team_set_threads(1);
    return r;
}

static void free_gru(gru_run *r) { free(r->z), free(r->q), free(r->h), free(r->dh); }

static void gru_case(int B, int U, int with_bias, int with_dy)
{
    const size_t BU = (size_t)B * U, NG = (size_t)T * 3 * BU;
    seqrt_real *rk = randv(3 * (size_t)U * U, -0.5, 0.5), *z0 = randv(NG, -1.5, 1.5);
    seqrt_real *bh = with_bias ? randv(3 * (size_t)U, -0.5, 0.5) : NULL;
    seqrt_real *h0 = randv(BU, -1, 1), *dh0 = randv(BU, -1, 1);
    seqrt_real *dy = with_dy ? randv(T * BU, -1, 1) : NULL;

    seqrt_real *rz = dup(z0, NG), *rq = calloc(NG, sizeof(seqrt_real));
    seqrt_real *rh = calloc((T + 1) * BU, sizeof(seqrt_real)), *rdh = dup(dh0, BU);
    memcpy(rh, h0, BU * sizeof(seqrt_real));
    ref_gru_forward(B, U, rk, bh, rz, rq, rh);
    seqrt_real *gates = dup(rz, NG), *hn = dup(rq, NG);
    ref_gru_backward(B, U, rk, rz, rq, rh, dy, rdh);

    gru_run f1 = fused_gru(1, B, U, rk, bh, z0, h0, dy, dh0);
    near("gru gates", f1.z, gates, NG, B, U);
    for (size_t i = 0; i < (size_t)T * B; i++) /* the forward keeps q's n block only */
        near("gru hn", f1.q + i * 3 * U + 2 * U, hn + i * 3 * U + 2 * U, (size_t)U, B, U);
    near("gru h", f1.h, rh, (T + 1) * BU, B, U);
    near("gru dz", f1.z + NG, rz, NG, B, U);
    near("gru dq", f1.q + NG, rq, NG, B, U);
    near("gru dh", f1.dh, rdh, BU, B, U);
    for (int n = 2; n <= 3; n++) {
        gru_run fn = fused_gru(n, B, U, rk, bh, z0, h0, dy, dh0);
        ck_assert_msg(!memcmp(fn.z, f1.z, 2 * NG * sizeof(seqrt_real)) &&
                      !memcmp(fn.q, f1.q, 2 * NG * sizeof(seqrt_real)) &&
                      !memcmp(fn.h, f1.h, (T + 1) * BU * sizeof(seqrt_real)) &&
                      !memcmp(fn.dh, f1.dh, BU * sizeof(seqrt_real)),
                      "GRU B=%d U=%d: a team of %d differs from a team of 1", B, U, n);
        free_gru(&fn);
    }
    free_gru(&f1);
    free(rk), free(z0), free(bh), free(h0), free(dh0), free(dy);
    free(rz), free(rq), free(rh), free(rdh), free(gates), free(hn);
}

START_TEST(gru_matches_reference)
{
    rng_state = 4242;
    for (size_t i = 0; i < sizeof Bs / sizeof Bs[0]; i++)
        for (size_t k = 0; k < sizeof Us / sizeof Us[0]; k++) {
            gru_case(Bs[i], Us[k], 1, 1);
            gru_case(Bs[i], Us[k], 0, 0);
        }
}
END_TEST

START_TEST(gru_both_splits)
{
    rng_state = 99;
    gru_case(32, 16, 1, 1); /* rows */
    gru_case(5, 176, 1, 1); /* column tiles: 363 KiB packed in float32 */
}
END_TEST

/* GRU (reset_after=false), the generated code's arithmetic: z, r from
 * h_{t-1} U_zr, s = r h_{t-1}, n from s U_n; back: az, an, ds = an U_n^T,
 * ar, dh_{t-1} = dh z + ds r + [az ar] U_zr^T. rk [U, 3U]. */
static void ref_grub_forward(int B, int U, const seqrt_real *rk, seqrt_real *z, seqrt_real *s,
                             seqrt_real *h)
{
    const int BU = B * U, G3 = 3 * U;
    seqrt_real *hzr = malloc(2 * BU * sizeof *hzr), *hn = malloc(BU * sizeof *hn);
    seqrt_real *uzr = malloc((size_t)U * 2 * U * sizeof *uzr), *un = malloc((size_t)U * U * sizeof *un);
    ck_assert(hzr && hn && uzr && un);
    for (int k = 0; k < U; k++)
        for (int j = 0; j < 2 * U; j++) uzr[k * 2 * U + j] = rk[k * G3 + j];
    for (int k = 0; k < U; k++)
        for (int j = 0; j < U; j++) un[k * U + j] = rk[k * G3 + 2 * U + j];
    for (int t = 0; t < T; t++) {
        seqrt_real *zt = z + t * B * G3, *st = s + t * BU, *ht = h + (t + 1) * BU;
        const seqrt_real *hp = h + t * BU;
        ref_product(B, 2 * U, U, hp, uzr, 0, 0, hzr);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * G3;
                g[j] = seqrt_sigmoid(g[j] + hzr[b * 2 * U + j]);
                g[U + j] = seqrt_sigmoid(g[U + j] + hzr[b * 2 * U + U + j]);
                st[b * U + j] = g[U + j] * hp[b * U + j];
            }
        ref_product(B, U, U, st, un, 0, 0, hn);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * G3;
                const seqrt_real ng = SEQRT_TANH(g[2 * U + j] + hn[b * U + j]);
                ht[b * U + j] = g[j] * hp[b * U + j] + (1 - g[j]) * ng;
                g[2 * U + j] = ng;
            }
    }
    free(hzr), free(hn), free(uzr), free(un);
}

static void ref_grub_backward(int B, int U, const seqrt_real *rk, seqrt_real *z,
                              const seqrt_real *h, const seqrt_real *dy, seqrt_real *dh)
{
    const int BU = B * U, G3 = 3 * U;
    seqrt_real *ds = malloc(BU * sizeof *ds), *un = malloc((size_t)U * U * sizeof *un);
    seqrt_real *uzr = malloc((size_t)U * 2 * U * sizeof *uzr), *azr = malloc(2 * BU * sizeof *azr);
    ck_assert(ds && un && uzr && azr);
    for (int k = 0; k < U; k++)
        for (int j = 0; j < 2 * U; j++) uzr[k * 2 * U + j] = rk[k * G3 + j];
    for (int k = 0; k < U; k++)
        for (int j = 0; j < U; j++) un[k * U + j] = rk[k * G3 + 2 * U + j];
    seqrt_real *an = malloc(BU * sizeof *an);
    ck_assert_ptr_nonnull(an);
    for (int t = T - 1; t >= 0; t--) {
        if (dy)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < U; j++) dh[b * U + j] += dy[(b * T + t) * U + j];
        seqrt_real *zt = z + t * B * G3;
        const seqrt_real *hp = h + t * BU;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * G3;
                const seqrt_real zg = g[j], ng = g[2 * U + j], dhv = dh[b * U + j];
                g[j] = dhv * (hp[b * U + j] - ng) * (zg * (1 - zg));
                g[2 * U + j] = dhv * (1 - zg) * (1 - ng * ng);
                an[b * U + j] = g[2 * U + j];
                dh[b * U + j] = dhv * zg;
            }
        ref_product(B, U, U, an, un, 1, 0, ds);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                seqrt_real *g = zt + b * G3;
                const seqrt_real rg = g[U + j], d = ds[b * U + j];
                dh[b * U + j] += d * rg;
                g[U + j] = d * hp[b * U + j] * (rg * (1 - rg));
            }
        for (int b = 0; b < B; b++)
            for (int j = 0; j < 2 * U; j++) azr[b * 2 * U + j] = zt[b * G3 + j];
        ref_product(B, U, 2 * U, azr, uzr, 1, 1, dh);
    }
    free(ds), free(un), free(uzr), free(azr), free(an);
}

static void grub_case(int B, int U, int with_dy)
{
    const size_t BU = (size_t)B * U, NG = (size_t)T * 3 * BU;
    const double w = 2.0 / sqrt(U);
    seqrt_real *rk = randv(3 * (size_t)U * U, -w, w), *z0 = randv(NG, -1.5, 1.5);
    seqrt_real *h0 = randv(BU, -1, 1), *dh0 = randv(BU, -1, 1);
    seqrt_real *dy = with_dy ? randv(T * BU, -1, 1) : NULL;

    seqrt_real *rz = dup(z0, NG), *rs = calloc(T * BU, sizeof *rs);
    seqrt_real *rh = calloc((T + 1) * BU, sizeof *rh), *rdh = dup(dh0, BU);
    memcpy(rh, h0, BU * sizeof *rh);
    ref_grub_forward(B, U, rk, rz, rs, rh);
    seqrt_real *gates = dup(rz, NG);
    ref_grub_backward(B, U, rk, rz, rh, dy, rdh);

    seqrt_real *pk = malloc((size_t)SEQRT_RNN_PACK_SIZE(U, 3) * sizeof *pk);
    seqrt_real *z[4], *g[4], *sv[4], *h[4], *dh[4]; /* teams of 1, 2, 3 */
    for (int n = 1; n <= 3; n++) {
        z[n] = dup(z0, NG), sv[n] = calloc(T * BU, sizeof(seqrt_real));
        h[n] = calloc((T + 1) * BU, sizeof(seqrt_real)), dh[n] = dup(dh0, BU);
        memcpy(h[n], h0, BU * sizeof(seqrt_real));
        seqrt_team_set_threads(n);
        seqrt_gru_before_forward(T, B, U, rk, pk, z[n], sv[n], h[n]);
        g[n] = dup(z[n], NG);
        seqrt_gru_before_backward(T, B, U, rk, pk, z[n], h[n], dy, (int64_t)T * U, dh[n]);
        seqrt_team_set_threads(1);
    }
    near("grub gates", g[1], gates, NG, B, U);
    near("grub s", sv[1], rs, T * BU, B, U);
    near("grub h", h[1], rh, (T + 1) * BU, B, U);
    near("grub dz", z[1], rz, NG, B, U);
    near("grub dh", dh[1], rdh, BU, B, U);
    for (int n = 2; n <= 3; n++)
        ck_assert_msg(!memcmp(z[n], z[1], NG * sizeof(seqrt_real)) &&
                      !memcmp(g[n], g[1], NG * sizeof(seqrt_real)) &&
                      !memcmp(sv[n], sv[1], T * BU * sizeof(seqrt_real)) &&
                      !memcmp(h[n], h[1], (T + 1) * BU * sizeof(seqrt_real)) &&
                      !memcmp(dh[n], dh[1], BU * sizeof(seqrt_real)),
                      "GRU(reset_after=false) B=%d U=%d: a team of %d differs from a team of 1",
                      B, U, n);
    for (int n = 1; n <= 3; n++) free(z[n]), free(g[n]), free(sv[n]), free(h[n]), free(dh[n]);
    free(pk), free(rk), free(z0), free(h0), free(dh0), free(dy);
    free(rz), free(rs), free(rh), free(rdh), free(gates);
}

START_TEST(gru_before_matches_reference)
{
    rng_state = 1618;
    for (size_t i = 0; i < sizeof Bs / sizeof Bs[0]; i++)
        for (size_t k = 0; k < sizeof Us / sizeof Us[0]; k++) {
            grub_case(Bs[i], Us[k], 1);
            grub_case(Bs[i], Us[k], 0);
        }
}
END_TEST

START_TEST(gru_before_both_splits)
{
    rng_state = 5;
    grub_case(32, 16, 1); /* rows */
    grub_case(5, 176, 1); /* column tiles: 363 KiB packed in float32 */
}
END_TEST

/* SimpleRNN (tanh), the generated code's arithmetic: z_t + h_{t-1} rk,
 * tanh; back: dz = dh (1 - h_t^2), dh_{t-1} = dz rk^T. */
static void ref_rnn_forward(int B, int U, const seqrt_real *rk, const seqrt_real *z, seqrt_real *h)
{
    const int BU = B * U;
    seqrt_real *a = malloc(BU * sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (int t = 0; t < T; t++) {
        memcpy(a, z + t * BU, BU * sizeof *a);
        ref_product(B, U, U, h + t * BU, rk, 0, 1, a);
        for (int i = 0; i < BU; i++) h[(t + 1) * BU + i] = SEQRT_TANH(a[i]);
    }
    free(a);
}

static void ref_rnn_backward(int B, int U, const seqrt_real *rk, seqrt_real *z, const seqrt_real *h,
                             const seqrt_real *dy, seqrt_real *dh)
{
    const int BU = B * U;
    for (int t = T - 1; t >= 0; t--) {
        if (dy)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < U; j++) dh[b * U + j] += dy[(b * T + t) * U + j];
        for (int i = 0; i < BU; i++) {
            const seqrt_real y = h[(t + 1) * BU + i];
            z[t * BU + i] = dh[i] * (1 - y * y);
            dh[i] = 0;
        }
        ref_product(B, U, U, z + t * BU, rk, 1, 1, dh);
    }
}

static void rnn_case(int B, int U, int with_dy)
{
    const size_t BU = (size_t)B * U, NZ = (size_t)T * BU;
    const double w = 2.5 / sqrt(U); /* pre-activations O(1) at every U */
    seqrt_real *rk = randv((size_t)U * U, -w, w), *z0 = randv(NZ, -1.5, 1.5);
    seqrt_real *h0 = randv(BU, -1, 1), *dh0 = randv(BU, -1, 1);
    seqrt_real *dy = with_dy ? randv(NZ, -1, 1) : NULL;

    seqrt_real *rz = calloc(NZ, sizeof *rz), *rh = calloc((T + 1) * BU, sizeof *rh);
    seqrt_real *rdh = dup(dh0, BU);
    memcpy(rh, h0, BU * sizeof *rh);
    ref_rnn_forward(B, U, rk, z0, rh);
    ref_rnn_backward(B, U, rk, rz, rh, dy, rdh);

    seqrt_real *pk = malloc((size_t)SEQRT_RNN_PACK_SIZE(U, 1) * sizeof *pk);
    seqrt_real *z[4], *h[4], *dh[4]; /* teams of 1, 2, 3 */
    for (int n = 1; n <= 3; n++) {
        z[n] = dup(z0, NZ), h[n] = calloc((T + 1) * BU, sizeof(seqrt_real)), dh[n] = dup(dh0, BU);
        memcpy(h[n], h0, BU * sizeof(seqrt_real));
        seqrt_team_set_threads(n);
        seqrt_rnn_forward(T, B, U, rk, pk, z[n], h[n]);
        ck_assert_msg(!memcmp(z[n], z0, NZ * sizeof(seqrt_real)), "the forward changed z");
        seqrt_rnn_backward(T, B, U, rk, pk, z[n], h[n], dy, (int64_t)T * U, dh[n]);
        seqrt_team_set_threads(1);
    }
    near("rnn h", h[1], rh, (T + 1) * BU, B, U);
    near("rnn dz", z[1], rz, NZ, B, U);
    near("rnn dh", dh[1], rdh, BU, B, U);
    for (int n = 2; n <= 3; n++)
        ck_assert_msg(!memcmp(z[n], z[1], NZ * sizeof(seqrt_real)) &&
                      !memcmp(h[n], h[1], (T + 1) * BU * sizeof(seqrt_real)) &&
                      !memcmp(dh[n], dh[1], BU * sizeof(seqrt_real)),
                      "SimpleRNN B=%d U=%d: a team of %d differs from a team of 1", B, U, n);
    for (int n = 1; n <= 3; n++) free(z[n]), free(h[n]), free(dh[n]);
    free(pk), free(rk), free(z0), free(h0), free(dh0), free(dy), free(rz), free(rh), free(rdh);
}

START_TEST(rnn_matches_reference)
{
    rng_state = 2718;
    for (size_t i = 0; i < sizeof Bs / sizeof Bs[0]; i++)
        for (size_t k = 0; k < sizeof Us / sizeof Us[0]; k++) {
            rnn_case(Bs[i], Us[k], 1);
            rnn_case(Bs[i], Us[k], 0);
        }
    rnn_case(13, 33, 1); /* two whole 6-row blocks and one row; partial tiles */
}
END_TEST

START_TEST(rnn_both_splits)
{
    rng_state = 31;
    rnn_case(32, 16, 1); /* rows */
    rnn_case(5, 272, 1); /* column tiles: 289 KiB packed in float32 */
}
END_TEST

/* The team: every member runs the job, barriers order the members' writes
 * (each reads what all wrote before the barrier), sizes change between
 * jobs, and a job started inside a job runs on its caller alone. */
typedef struct {
    int n_seen[SEQRT_TEAM_MAX];
    int rounds, bad;
    int slots[SEQRT_TEAM_MAX];
} team_probe;

static void probe_job(void *ctx, int tid, int n)
{
    team_probe *p = ctx;
    p->n_seen[tid] = n;
    for (int r = 1; r <= p->rounds; r++) {
        p->slots[tid] = r;
        seqrt_team_barrier();
        for (int i = 0; i < n; i++)
            if (p->slots[i] != r) p->bad = 1; /* racy writes of 1 only */
        seqrt_team_barrier();
    }
}

static void nested_job(void *ctx, int tid, int n)
{
    (void)n;
    if (tid == 0) {
        team_probe *p = ctx;
        team_probe inner = {.rounds = 2};
        seqrt_team_run(probe_job, &inner);
        p->bad |= inner.bad || inner.n_seen[0] != 1;
    }
}

START_TEST(team_runs_and_barriers)
{
    for (int n = 1; n <= 4; n++) {
        team_probe p = {.rounds = 200};
        seqrt_team_set_threads(n);
        ck_assert_int_eq(seqrt_team_threads(), n);
        seqrt_team_run(probe_job, &p);
        ck_assert_int_eq(p.bad, 0);
        for (int i = 0; i < n; i++) ck_assert_int_eq(p.n_seen[i], n);
        team_probe q = {0};
        seqrt_team_run(nested_job, &q);
        ck_assert_int_eq(q.bad, 0);
    }
    seqrt_team_set_threads(0); /* OpenBLAS's count */
    ck_assert_int_ge(seqrt_team_threads(), 1);
    seqrt_team_set_threads(100000);
    ck_assert_int_eq(seqrt_team_threads(), SEQRT_TEAM_MAX);
    seqrt_team_set_threads(1);
}
END_TEST

START_TEST(team_split_covers)
{
    for (int items = 0; items < 20; items++)
        for (int n = 1; n <= 5; n++) {
            int next = 0;
            for (int tid = 0; tid < n; tid++) {
                int lo, hi;
                seqrt_team_split(items, tid, n, &lo, &hi);
                ck_assert_int_eq(lo, next);
                ck_assert_int_ge(hi, lo);
                ck_assert_int_le(hi - lo, items / n + 1);
                next = hi;
            }
            ck_assert_int_eq(next, items);
        }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("runtime_rnn");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, team_split_covers);
    tcase_add_test(core, team_runs_and_barriers);
    tcase_add_test(core, lstm_matches_reference);
    tcase_add_test(core, lstm_both_splits);
    tcase_add_test(core, gru_matches_reference);
    tcase_add_test(core, gru_both_splits);
    tcase_add_test(core, gru_before_matches_reference);
    tcase_add_test(core, gru_before_both_splits);
    tcase_add_test(core, rnn_matches_reference);
    tcase_add_test(core, rnn_both_splits);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
