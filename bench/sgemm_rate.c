/*
 * sgemm_rate.c: OpenBLAS's own sgemm rate for a list of GEMM shapes, the
 * ceiling bench/run compares the GEMM-bound workload (W7) with.
 *
 *   sgemm_rate REPS TA,TB,M,N,K,COUNT ...
 *
 * One "step" calls cblas_sgemm (row-major, alpha 1, beta 1) COUNT times for
 * every shape, in order, as a training step does. Prints the OpenBLAS core
 * and thread count, then the median, min and max seconds per step over REPS
 * steps (after one warm-up step), the FLOPs per step (2*M*N*K each) and the
 * rate at the median. Threads and core come from the environment
 * (OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE), as for the programs measured.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"

typedef struct {
    int ta, tb, m, n, k, count;
} Shape;

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s REPS TA,TB,M,N,K,COUNT ...\n", argv[0]);
        return 2;
    }
    int reps = atoi(argv[1]), ns = argc - 2;
    Shape *s = calloc((size_t)ns, sizeof *s);
    size_t maxa = 0, maxb = 0, maxc = 0;
    double flops = 0;
    for (int i = 0; i < ns; i++) {
        Shape *p = &s[i];
        if (sscanf(argv[i + 2], "%d,%d,%d,%d,%d,%d", &p->ta, &p->tb, &p->m, &p->n, &p->k,
                   &p->count) != 6) {
            fprintf(stderr, "bad shape '%s'\n", argv[i + 2]);
            return 2;
        }
        size_t a = (size_t)p->m * p->k, b = (size_t)p->k * p->n, c = (size_t)p->m * p->n;
        maxa = a > maxa ? a : maxa;
        maxb = b > maxb ? b : maxb;
        maxc = c > maxc ? c : maxc;
        flops += 2.0 * p->m * p->n * p->k * p->count;
    }
    float *A = malloc(maxa * sizeof *A), *B = malloc(maxb * sizeof *B), *C = malloc(maxc * sizeof *C);
    srand(1);
    for (size_t i = 0; i < maxa; i++) A[i] = (float)rand() / RAND_MAX - 0.5f;
    for (size_t i = 0; i < maxb; i++) B[i] = (float)rand() / RAND_MAX - 0.5f;
    memset(C, 0, maxc * sizeof *C);
    double *t = malloc((size_t)(reps + 1) * sizeof *t);
    for (int r = 0; r <= reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < ns; i++) {
            const Shape *p = &s[i];
            int lda = p->ta ? p->m : p->k, ldb = p->tb ? p->k : p->n;
            for (int c = 0; c < p->count; c++)
                cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans,
                            p->tb ? CblasTrans : CblasNoTrans, p->m, p->n, p->k, 1.0f, A, lda, B,
                            ldb, 1.0f, C, p->n);
        }
        t[r] = bench_now() - t0;
    }
    qsort(t + 1, (size_t)reps, sizeof *t, bench_cmp_double); /* t[0] is the warm-up */
    double med = t[1 + reps / 2];
    printf("core %s threads %d\n", openblas_get_corename(), openblas_get_num_threads());
    printf("median_s %.6f min_s %.6f max_s %.6f flops %.0f gflops %.2f\n", med, t[1], t[reps],
           flops, flops / med * 1e-9);
    free(A), free(B), free(C), free(t), free(s);
    return 0;
}
