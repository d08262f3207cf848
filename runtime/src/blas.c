/*
 * blas.c: the BLAS calls generated code makes, typed by seqrt_real so the
 * same generated C builds against float (cblas_s*) or double (cblas_d*).
 * Row-major throughout, as every seqc buffer is.
 */
#include <cblas.h>

#include "internal.h"

#ifdef SEQRT_DOUBLE
#define GEMM cblas_dgemm
#define GEMV cblas_dgemv
#define AXPY cblas_daxpy
#else
#define GEMM cblas_sgemm
#define GEMV cblas_sgemv
#define AXPY cblas_saxpy
#endif

static enum CBLAS_TRANSPOSE tr(int t) { return t ? CblasTrans : CblasNoTrans; }

void seqrt_gemm(int trans_a, int trans_b, int M, int N, int K, seqrt_real alpha,
                const seqrt_real *A, int lda, const seqrt_real *B, int ldb,
                seqrt_real beta, seqrt_real *C, int ldc)
{
    if (seqrt_gemm_is_small(trans_a, trans_b, M, N, K)) {
        seqrt_gemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    GEMM(CblasRowMajor, tr(trans_a), tr(trans_b), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void seqrt_gemv(int trans_a, int M, int N, seqrt_real alpha, const seqrt_real *A, int lda,
                const seqrt_real *x, seqrt_real beta, seqrt_real *y)
{
    GEMV(CblasRowMajor, tr(trans_a), M, N, alpha, A, lda, x, 1, beta, y, 1);
}

void seqrt_axpy(int n, seqrt_real alpha, const seqrt_real *x, seqrt_real *y)
{
    AXPY(n, alpha, x, 1, y, 1);
}
