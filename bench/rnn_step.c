/*
 * rnn_step.c: the fused LSTM and GRU steps (runtime/src/rnn_step.c) against the
 * unfused ones the generated code made before (seqrt_gemm per step, then a
 * gate loop), and the thread team's barrier cost.
 *
 *   rnn_step [--reps N] [--no-w7] [THREADS ...]        (default: 7 reps; 1 2)
 *
 * For each team size: the cost of one seqrt_team_barrier (median over 7
 * jobs of 20,000 barriers each), then for the recurrent layers of W3
 * (LSTM(64), LSTM(32), B=32, T=50), W6 (GRU(32), B=64, T=100) and W7
 * (LSTM(512), B=64, T=64) the
 * milliseconds of the forward and of the backward pass over the sequence
 * (median and min of N, fused and unfused alternating), and the GFLOP/s
 * (the recurrent products only: 2 x 2 x T x B x U x GU). The unfused path
 * runs on one thread plus OpenBLAS's threads (OPENBLAS_NUM_THREADS). Build
 * (float32 libseqrt) for the instruction set the generated layer functions
 * run (their x86-64-v3 clone on an AVX2 CPU), or the unfused gate loop
 * below runs 4 wide where the generated one runs 8:
 *
 *   cc -O3 -mavx2 -mfma -fno-trapping-math -std=c11 -D_POSIX_C_SOURCE=200809L -Iruntime/include \
 *      bench/rnn_step.c build/runtime/libseqrt.a $(pkg-config --cflags --libs openblas) \
 *      -lm -pthread -o rnn_step
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqrt.h"
#include "seqrt_kernel.h"
#include "seqrt_rnn.h"
#include "seqrt_team.h"
#include "timing.h"

enum { REPS = 7, BARRIERS = 20000 };

static void barrier_job(void *ctx, int tid, int n)
{
    (void)ctx, (void)tid, (void)n;
    for (int i = 0; i < BARRIERS; i++) seqrt_team_barrier();
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

/* The unfused steps, as the generated code wrote them. */
static void unfused_forward(int T, int B, int U, const float *rk, float *z, float *h, float *c)
{
    const int G = 4 * U;
    for (int t = 0; t < T; t++) {
        float *zt = z + (size_t)t * B * G, *ht = h + (size_t)(t + 1) * B * U, *ct = c + (size_t)(t + 1) * B * U;
        const float *hp = h + (size_t)t * B * U, *cp = c + (size_t)t * B * U;
        seqrt_gemm(0, 0, B, G, U, 1, hp, U, rk, G, 1, zt, G);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                float *g = zt + (size_t)b * G;
                const float ig = seqrt_sigmoid(g[j]), fg = seqrt_sigmoid(g[U + j]);
                const float cg = seqrt_tanh(g[2 * U + j]), og = seqrt_sigmoid(g[3 * U + j]);
                const float cn = fg * cp[b * U + j] + ig * cg;
                ct[b * U + j] = cn;
                ht[b * U + j] = og * seqrt_tanh(cn);
                g[j] = ig, g[U + j] = fg, g[2 * U + j] = cg, g[3 * U + j] = og;
            }
    }
}

static void unfused_backward(int T, int B, int U, const float *rk, float *rt, float *z,
                             const float *c, float *dh, float *dc)
{
    const int G = 4 * U;
    const int use_rt = seqrt_gemm_is_small(0, 0, B, U, G);
    if (use_rt)
        for (int i = 0; i < U; i++)
            for (int k = 0; k < G; k++) rt[(size_t)k * U + i] = rk[(size_t)i * G + k];
    for (int t = T - 1; t >= 0; t--) {
        float *zt = z + (size_t)t * B * G;
        const float *cp = c + (size_t)t * B * U, *ct = c + (size_t)(t + 1) * B * U;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                float *g = zt + (size_t)b * G;
                const float ig = g[j], fg = g[U + j], cg = g[2 * U + j], og = g[3 * U + j];
                const float a = seqrt_tanh(ct[b * U + j]), dhv = dh[b * U + j];
                const float dcv = dc[b * U + j] + dhv * og * (1 - a * a);
                g[j] = dcv * cg * ig * (1 - ig);
                g[U + j] = dcv * cp[b * U + j] * fg * (1 - fg);
                g[2 * U + j] = dcv * ig * (1 - cg * cg);
                g[3 * U + j] = dhv * a * og * (1 - og);
                dc[b * U + j] = dcv * fg;
                dh[b * U + j] = 0;
            }
        if (use_rt)
            seqrt_gemm(0, 0, B, U, G, 1, zt, G, rt, U, 1, dh, U);
        else
            seqrt_gemm(0, 1, B, U, G, 1, zt, G, rk, G, 1, dh, U);
    }
}

/* Medians and mins of t[4][reps] (fused forward, backward, unfused
 * forward, backward), printed; frees t's rows. */
static void report(const char *name, int T, int B, int U, int reps, double **t, double gflop)
{
    double mn[4], md[4];
    for (int k = 0; k < 4; k++) {
        md[k] = median(t[k], reps);
        mn[k] = t[k][0];
    }
    printf("  %-10s T=%d B=%d U=%d, ms median (min), forward | backward:\n", name, T, B, U);
    printf("    fused    %7.3f (%7.3f) | %7.3f (%7.3f)   %.1f GFLOP/s\n", md[0] * 1e3, mn[0] * 1e3,
           md[1] * 1e3, mn[1] * 1e3, gflop / (md[0] + md[1]));
    printf("    unfused  %7.3f (%7.3f) | %7.3f (%7.3f)   %.1f GFLOP/s   fused/unfused %.2fx faster\n",
           md[2] * 1e3, mn[2] * 1e3, md[3] * 1e3, mn[3] * 1e3, gflop / (md[2] + md[3]),
           (md[2] + md[3]) / (md[0] + md[1]));
    for (int k = 0; k < 4; k++) free(t[k]);
}

/* Forward and backward separately, fused and unfused alternating rep by
 * rep (the machine's load then falls on both alike); min and median. */
static void layer(const char *name, int T, int B, int U, int reps)
{
    const size_t G = 4 * (size_t)U, nz = (size_t)T * B * G, nh = (size_t)(T + 1) * B * U;
    float *rk = malloc(G * U * sizeof *rk), *pk = malloc((size_t)SEQRT_RNN_PACK_SIZE(U, 4) * sizeof *pk);
    float *z0 = malloc(nz * sizeof *z0), *z = malloc(nz * sizeof *z);
    float *h = calloc(nh, sizeof *h), *c = calloc(nh, sizeof *c), *tc = calloc(nh, sizeof *tc);
    float *dh = calloc((size_t)B * U, sizeof *dh), *dc = calloc((size_t)B * U, sizeof *dc);
    for (size_t i = 0; i < G * U; i++) rk[i] = (float)((double)rand() / RAND_MAX - 0.5) * 0.2f;
    for (size_t i = 0; i < nz; i++) z0[i] = (float)((double)rand() / RAND_MAX - 0.5);
    const double gflop = 2.0 * 2.0 * T * B * U * (double)G * 1e-9;
    double *t[4];
    for (int k = 0; k < 4; k++) t[k] = malloc((size_t)reps * sizeof(double));
    for (int r = 0; r < reps; r++) {
        memcpy(z, z0, nz * sizeof *z);
        for (int i = 0; i < B * U; i++) dh[i] = 0.01f, dc[i] = 0;
        double t0 = bench_now();
        seqrt_lstm_forward(T, B, U, rk, pk, z, h, c, tc);
        double t1 = bench_now();
        seqrt_lstm_backward(T, B, U, rk, pk, z, c, tc, NULL, 0, dh, dc);
        double t2 = bench_now();
        t[0][r] = t1 - t0, t[1][r] = t2 - t1;
        memcpy(z, z0, nz * sizeof *z);
        for (int i = 0; i < B * U; i++) dh[i] = 0.01f, dc[i] = 0;
        t0 = bench_now();
        unfused_forward(T, B, U, rk, z, h, c);
        t1 = bench_now();
        unfused_backward(T, B, U, rk, pk, z, c, dh, dc);
        t2 = bench_now();
        t[2][r] = t1 - t0, t[3][r] = t2 - t1;
    }
    report(name, T, B, U, reps, t, gflop);
    free(rk), free(pk), free(z0), free(z), free(h), free(c), free(dh), free(dc);
}

/* The unfused GRU (reset_after) steps, as the generated code writes them
 * for layers the fused steps do not take. */
static void unfused_gru_forward(int T, int B, int U, const float *rk, const float *bh, float *z,
                                float *hh, float *h)
{
    const int G = 3 * U;
    for (int t = 0; t < T; t++) {
        float *zt = z + (size_t)t * B * G, *q = hh + (size_t)t * B * G, *ht = h + (size_t)(t + 1) * B * U;
        const float *hp = h + (size_t)t * B * U;
        for (int b = 0; b < B; b++) memcpy(q + (size_t)b * G, bh, sizeof(float) * (size_t)G);
        seqrt_gemm(0, 0, B, G, U, 1, hp, U, rk, G, 1, q, G);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                float *g = zt + (size_t)b * G;
                const float *qb = q + (size_t)b * G;
                const float zg = seqrt_sigmoid(g[j] + qb[j]), rg = seqrt_sigmoid(g[U + j] + qb[U + j]);
                const float ng = seqrt_tanh(g[2 * U + j] + rg * qb[2 * U + j]);
                ht[b * U + j] = zg * hp[b * U + j] + (1 - zg) * ng;
                g[j] = zg, g[U + j] = rg, g[2 * U + j] = ng;
            }
    }
}

static void unfused_gru_backward(int T, int B, int U, const float *rk, float *rt, float *z,
                                 float *hh, const float *h, float *dh)
{
    const int G = 3 * U;
    const int use_rt = seqrt_gemm_is_small(0, 0, B, U, G);
    if (use_rt)
        for (int i = 0; i < U; i++)
            for (int k = 0; k < G; k++) rt[(size_t)k * U + i] = rk[(size_t)i * G + k];
    for (int t = T - 1; t >= 0; t--) {
        float *zt = z + (size_t)t * B * G, *q = hh + (size_t)t * B * G;
        const float *hp = h + (size_t)t * B * U;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < U; j++) {
                float *g = zt + (size_t)b * G, *qb = q + (size_t)b * G;
                const float zg = g[j], rg = g[U + j], ng = g[2 * U + j], hn = qb[2 * U + j];
                const float dhv = dh[b * U + j];
                const float az = dhv * (hp[b * U + j] - ng) * zg * (1 - zg);
                const float an = dhv * (1 - zg) * (1 - ng * ng), ar = an * hn * rg * (1 - rg);
                g[j] = az, g[U + j] = ar, g[2 * U + j] = an;
                qb[j] = az, qb[U + j] = ar, qb[2 * U + j] = an * rg;
                dh[b * U + j] = dhv * zg;
            }
        if (use_rt)
            seqrt_gemm(0, 0, B, U, G, 1, q, G, rt, U, 1, dh, U);
        else
            seqrt_gemm(0, 1, B, U, G, 1, q, G, rk, G, 1, dh, U);
    }
}

/* A GRU (reset_after, recurrent bias) layer, as layer() for the LSTM. */
static void gru_layer(const char *name, int T, int B, int U, int reps)
{
    const size_t G = 3 * (size_t)U, nz = (size_t)T * B * G, nh = (size_t)(T + 1) * B * U;
    float *rk = malloc(G * U * sizeof *rk), *pk = malloc((size_t)SEQRT_RNN_PACK_SIZE(U, 3) * sizeof *pk);
    float *bh = malloc(G * sizeof *bh), *z0 = malloc(nz * sizeof *z0), *z = malloc(nz * sizeof *z);
    float *hh = calloc(nz, sizeof *hh), *h = calloc(nh, sizeof *h), *dh = calloc((size_t)B * U, sizeof *dh);
    for (size_t i = 0; i < G * U; i++) rk[i] = (float)((double)rand() / RAND_MAX - 0.5) * 0.2f;
    for (size_t i = 0; i < G; i++) bh[i] = (float)((double)rand() / RAND_MAX - 0.5) * 0.2f;
    for (size_t i = 0; i < nz; i++) z0[i] = (float)((double)rand() / RAND_MAX - 0.5);
    const double gflop = 2.0 * 2.0 * T * B * U * (double)G * 1e-9;
    double *t[4];
    for (int k = 0; k < 4; k++) t[k] = malloc((size_t)reps * sizeof(double));
    for (int r = 0; r < reps; r++) {
        memcpy(z, z0, nz * sizeof *z);
        for (int i = 0; i < B * U; i++) dh[i] = 0.01f;
        double t0 = bench_now();
        seqrt_gru_forward(T, B, U, rk, bh, pk, z, hh, h);
        double t1 = bench_now();
        seqrt_gru_backward(T, B, U, rk, pk, z, hh, h, NULL, 0, dh);
        double t2 = bench_now();
        t[0][r] = t1 - t0, t[1][r] = t2 - t1;
        memcpy(z, z0, nz * sizeof *z);
        for (int i = 0; i < B * U; i++) dh[i] = 0.01f;
        t0 = bench_now();
        unfused_gru_forward(T, B, U, rk, bh, z, hh, h);
        t1 = bench_now();
        unfused_gru_backward(T, B, U, rk, pk, z, hh, h, dh);
        t2 = bench_now();
        t[2][r] = t1 - t0, t[3][r] = t2 - t1;
    }
    report(name, T, B, U, reps, t, gflop);
    free(rk), free(pk), free(bh), free(z0), free(z), free(hh), free(h), free(dh);
}

int main(int argc, char **argv)
{
    int counts[8] = {1, 2}, nc = 0, reps = 7, big = 1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--reps") && a + 1 < argc)
            reps = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--no-w7"))
            big = 0;
        else if (nc < 8)
            counts[nc++] = atoi(argv[a]);
    }
    if (!nc)
        nc = 2;
    if (reps < 1)
        reps = 1;
    for (int i = 0; i < nc; i++) {
        seqrt_team_set_threads(counts[i]);
        double tb[REPS];
        for (int r = 0; r < REPS; r++) {
            const double t0 = bench_now();
            seqrt_team_run(barrier_job, NULL);
            tb[r] = (bench_now() - t0) / BARRIERS;
        }
        printf("team of %d: barrier %.3f us\n", counts[i], median(tb, REPS) * 1e6);
        layer("W3 LSTM64", 50, 32, 64, reps);
        layer("W3 LSTM32", 50, 32, 32, reps);
        gru_layer("W6 GRU32", 100, 64, 32, reps);
        if (big)
            layer("W7", 64, 64, 512, reps);
    }
    return 0;
}
