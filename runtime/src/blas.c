/*
 * blas.c: the BLAS calls generated code makes, typed by seqrt_real so the
 * same generated C builds against float (cblas_s*) or double (cblas_d*).
 * Row-major throughout, as every seqc buffer is.
 */
#include <cblas.h>

#include "internal.h"
#include "seqrt_team.h"

extern int openblas_get_num_threads(void);

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

/* A large product on the thread team: each member calls the BLAS, single
 * threaded, on its block of C's columns (rows when C is narrow). The
 * training program keeps OpenBLAS at one thread and shares every large
 * product out here (blas_setup.c), so the process has one set of threads:
 * OpenBLAS's own workers spin for a while after each call, and on a
 * machine with as many threads as cores they took the cores the team's
 * recurrent steps wait on. A fixed team size gives the same bits on every
 * run; OpenBLAS computes each element of C with the same K loop whatever
 * block holds it, so teams of different sizes agree to rounding at most
 * (check_runtime_blas). */
#define TEAM_GEMM_MNK (1 << 18) /* below it OpenBLAS itself runs one thread */
enum { TEAM_GEMM_COLS = 64, TEAM_GEMM_ROWS = 16 }; /* least block per member */

typedef struct {
    int trans_a, trans_b, M, N, K, lda, ldb, ldc, by_rows;
    seqrt_real alpha, beta;
    const seqrt_real *A, *B;
    seqrt_real *C;
} gemm_job;

static void gemm_job_fn(void *ctx, int tid, int n)
{
    const gemm_job *j = ctx;
    int lo, hi;
    if (j->by_rows) { /* C[lo:hi, :] = op(A)[lo:hi, :] op(B) */
        seqrt_team_split(j->M, tid, n, &lo, &hi);
        if (hi > lo)
            GEMM(CblasRowMajor, tr(j->trans_a), tr(j->trans_b), hi - lo, j->N, j->K, j->alpha,
                 j->A + (j->trans_a ? (size_t)lo : (size_t)lo * j->lda), j->lda, j->B, j->ldb,
                 j->beta, j->C + (size_t)lo * j->ldc, j->ldc);
        return;
    }
    /* C[:, lo:hi] = op(A) op(B)[:, lo:hi], in whole blocks of 16 columns */
    seqrt_team_split((j->N + 15) / 16, tid, n, &lo, &hi);
    lo *= 16, hi = hi * 16 < j->N ? hi * 16 : j->N;
    if (hi > lo)
        GEMM(CblasRowMajor, tr(j->trans_a), tr(j->trans_b), j->M, hi - lo, j->K, j->alpha, j->A,
             j->lda, j->B + (j->trans_b ? (size_t)lo * j->ldb : (size_t)lo), j->ldb, j->beta,
             j->C + lo, j->ldc);
}

void seqrt_gemm(int trans_a, int trans_b, int M, int N, int K, seqrt_real alpha,
                const seqrt_real *A, int lda, const seqrt_real *B, int ldb,
                seqrt_real beta, seqrt_real *C, int ldc)
{
    if (seqrt_gemm_is_small(trans_a, trans_b, M, N, K)) {
        seqrt_gemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const int n = seqrt_team_members();
    if (n > 1 && (int64_t)M * N * K >= TEAM_GEMM_MNK && openblas_get_num_threads() == 1) {
        const int by_rows = N < n * TEAM_GEMM_COLS;
        if (!by_rows || M >= n * TEAM_GEMM_ROWS) {
            gemm_job j = {trans_a, trans_b, M, N, K, lda, ldb, ldc, by_rows, alpha, beta, A, B, C};
            seqrt_team_run(gemm_job_fn, &j);
            return;
        }
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

/* Up to ADD_ROWS_VECS vectors of sums stay in registers for all rows: as a
 * loop over dst (which might alias x), the compiler loaded and stored each
 * of them again every row, a chain of dependent load-add-stores per vector
 * (W6's GRU(32) bias gradient: 96 columns, 6400 rows). Wider rows keep that
 * loop: the chain is then a whole row apart. Same additions, same order. */
typedef seqrt_real add_vec __attribute__((vector_size(64), aligned(sizeof(seqrt_real)), may_alias));
enum { ADD_ROWS_LANES = 64 / (int)sizeof(seqrt_real), ADD_ROWS_VECS = 8 };

#define ADD_VEC(k) if (nv > k) a##k += *(const add_vec *)(r + k * ADD_ROWS_LANES);
#define ADD_SAVE(k) if (nv > k) *(add_vec *)(dst + k * ADD_ROWS_LANES) = a##k;
SEQRT_KERNEL static void add_rows(int64_t rows, int64_t width, const seqrt_real *x,
                                  seqrt_real *dst)
{
    if (width > ADD_ROWS_VECS * ADD_ROWS_LANES) {
        for (int64_t n = 0; n < rows; n++)
            for (int64_t j = 0; j < width; j++) dst[j] += x[n * width + j];
        return;
    }
    const int nv = (int)(width / ADD_ROWS_LANES), tail = (int)(width % ADD_ROWS_LANES);
    const add_vec *d = (const add_vec *)dst;
    add_vec a0 = nv > 0 ? d[0] : (add_vec){0}, a1 = nv > 1 ? d[1] : (add_vec){0},
            a2 = nv > 2 ? d[2] : (add_vec){0}, a3 = nv > 3 ? d[3] : (add_vec){0},
            a4 = nv > 4 ? d[4] : (add_vec){0}, a5 = nv > 5 ? d[5] : (add_vec){0},
            a6 = nv > 6 ? d[6] : (add_vec){0}, a7 = nv > 7 ? d[7] : (add_vec){0};
    seqrt_real t[ADD_ROWS_LANES];
    for (int j = 0; j < tail; j++) t[j] = dst[nv * ADD_ROWS_LANES + j];
    for (int64_t n = 0; n < rows; n++) {
        const seqrt_real *r = x + n * width;
        ADD_VEC(0) ADD_VEC(1) ADD_VEC(2) ADD_VEC(3) ADD_VEC(4) ADD_VEC(5) ADD_VEC(6) ADD_VEC(7)
        for (int j = 0; j < tail; j++) t[j] += r[nv * ADD_ROWS_LANES + j];
    }
    ADD_SAVE(0) ADD_SAVE(1) ADD_SAVE(2) ADD_SAVE(3) ADD_SAVE(4) ADD_SAVE(5) ADD_SAVE(6) ADD_SAVE(7)
    for (int j = 0; j < tail; j++) dst[nv * ADD_ROWS_LANES + j] = t[j];
}
#undef ADD_VEC
#undef ADD_SAVE

void seqrt_add_rows(int64_t rows, int64_t width, const seqrt_real *x, seqrt_real *dst)
{
    add_rows(rows, width, x, dst);
}
