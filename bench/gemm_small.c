/*
 * gemm_small.c: seqrt's own small-GEMM kernel against OpenBLAS's sgemm, per
 * shape, to place the crossover SEQRT_SMALL_GEMM_MNK (runtime/src/gemm_small.c).
 *
 *   gemm_small [TA,TB,M,N,K ...]
 *
 * Without arguments it runs the per-step shapes of the benchmark workloads
 * (bench/run's W2-W7) and a ladder of square sizes. For each shape: median
 * microseconds per call over 15 timings (each timing enough calls for about
 * 5 ms), GFLOP/s, and the ratio OpenBLAS/ours (> 1: ours is faster). Links
 * against libseqrt (float); run with the same OPENBLAS_CORETYPE and
 * OPENBLAS_NUM_THREADS as the programs measured. Build:
 *
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iruntime/include bench/gemm_small.c \
 *      build/runtime/libseqrt.a $(pkg-config --cflags --libs openblas) -lm -o gemm_small
 *
 * With -DWITH_LIBXSMM (and `pkg-config --libs libxsmm`; Debian libxsmm-dev) a
 * third column times libxsmm's JIT kernel for the shape (dispatched once,
 * then called; non-transposed shapes only), the other candidate.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "seqrt.h"
#include "seqrt_kernel.h"
#include "timing.h"


typedef struct {
    int ta, tb, m, n, k;
} Shape;

#ifdef WITH_LIBXSMM
#include <libxsmm.h>

/* Row-major C = A B is column-major C^T = B^T A^T: libxsmm with m = N,
 * n = M, a = B, b = A. */
static libxsmm_smmfunction xsmm_kernel;

static void xsmm_call(const Shape *s, const float *A, const float *B, float *C)
{
    (void)s;
    xsmm_kernel(B, A, C);
}
#endif

static void blas_call(const Shape *s, const float *A, const float *B, float *C)
{
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                s->m, s->n, s->k, 1, A, s->ta ? s->m : s->k, B, s->tb ? s->k : s->n, 1, C, s->n);
}

static void ours_call(const Shape *s, const float *A, const float *B, float *C)
{
    seqrt_gemm_small(s->ta, s->tb, s->m, s->n, s->k, 1, A, s->ta ? s->m : s->k, B,
                     s->tb ? s->k : s->n, 1, C, s->n);
}

/* Median microseconds per call. */
static double time_us(void (*f)(const Shape *, const float *, const float *, float *),
                      const Shape *s, const float *A, const float *B, float *C)
{
    double flops = 2.0 * s->m * s->n * s->k;
    long calls = (long)(5e-3 * 20e9 / flops) + 1; /* ~5 ms at 20 GFLOP/s */
    double t[15];
    f(s, A, B, C);
    for (int r = 0; r < 15; r++) {
        double t0 = bench_now();
        for (long c = 0; c < calls; c++) f(s, A, B, C);
        t[r] = (bench_now() - t0) / (double)calls * 1e6;
    }
    qsort(t, 15, sizeof t[0], bench_cmp_double);
    return t[7];
}

static void run(const Shape *s)
{
    size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
    float *C1 = calloc(nc, sizeof *C1), *C2 = calloc(nc, sizeof *C2);
    if (!A || !B || !C1 || !C2) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < na; i++) A[i] = (float)((i * 7919) % 101) / 101.0f - 0.5f;
    for (size_t i = 0; i < nb; i++) B[i] = (float)((i * 104729) % 103) / 103.0f - 0.5f;
    /* Same answer first (one call each from zero). */
    ours_call(s, A, B, C1);
    blas_call(s, A, B, C2);
    double maxdiff = 0;
    for (size_t i = 0; i < nc; i++) {
        double d = C1[i] - C2[i];
        if (d < 0) d = -d;
        if (d > maxdiff) maxdiff = d;
    }
    double ub = time_us(blas_call, s, A, B, C2), uo = time_us(ours_call, s, A, B, C1);
    double gf = 2.0 * s->m * s->n * s->k * 1e-3;
    printf("%c%c %5d %5d %5d %10ld %10.2f %10.2f %8.1f %8.1f %7.2fx %9.1e", s->ta ? 'T' : 'N',
           s->tb ? 'T' : 'N', s->m, s->n, s->k, (long)s->m * s->n * s->k, ub, uo, gf / ub, gf / uo,
           ub / uo, maxdiff);
#ifdef WITH_LIBXSMM
    const libxsmm_blasint m = s->n, n = s->m, k = s->k;
    const float one = 1;
    const int flags = LIBXSMM_GEMM_FLAG_NONE, prefetch = LIBXSMM_PREFETCH_NONE;
    xsmm_kernel = s->ta || s->tb ? NULL : libxsmm_smmdispatch(m, n, k, &m, &k, &m, &one, &one, &flags, &prefetch);
    if (xsmm_kernel) {
        double ux = time_us(xsmm_call, s, A, B, C2);
        printf(" %10.2f %8.1f", ux, gf / ux);
    } else {
        printf(" %10s %8s", "-", "-");
    }
#endif
    printf("\n");
    free(A), free(B), free(C1), free(C2);
}

int main(int argc, char **argv)
{
    static const Shape defaults[] = {
        /* W2 SimpleRNN(32), B=32: forward h R, backward dz R^T */
        {0, 0, 32, 32, 32}, {0, 1, 32, 32, 32},
        /* W3 LSTM(64) and LSTM(32) */
        {0, 0, 32, 256, 64}, {0, 1, 32, 64, 256}, {0, 0, 32, 128, 32}, {0, 1, 32, 32, 128},
        /* W6 GRU(32), B=64 */
        {0, 0, 64, 96, 32}, {0, 1, 64, 32, 96},
        /* W5 Conv1D(20, k=2) as 2 shifted products over B*T rows */
        {0, 0, 8192, 20, 20}, {1, 0, 20, 20, 8192},
        /* W7 LSTM(512), B=64 */
        {0, 0, 64, 2048, 512}, {0, 1, 64, 512, 2048},
        /* squares */
        {0, 0, 16, 16, 16}, {0, 0, 64, 64, 64}, {0, 0, 128, 128, 128}, {0, 0, 256, 256, 256},
    };
    printf("core %s, %d threads\n", openblas_get_corename(), openblas_get_num_threads());
    printf("tr     M     N     K      M*N*K   blas us    ours us  blas GF  ours GF blas/ours   maxdiff");
#ifdef WITH_LIBXSMM
    printf("    xsmm us  xsmm GF");
#endif
    printf("\n");
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            Shape s;
            if (sscanf(argv[i], "%d,%d,%d,%d,%d", &s.ta, &s.tb, &s.m, &s.n, &s.k) != 5) {
                fprintf(stderr, "usage: %s [TA,TB,M,N,K ...]\n", argv[0]);
                return 2;
            }
            run(&s);
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) run(&defaults[i]);
    return 0;
}
