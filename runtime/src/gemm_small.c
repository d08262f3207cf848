/*
 * gemm_small.c: our own GEMM for the small products a recurrent step makes
 * (h_{t-1} [B, units] times a [units, gates] kernel, every step).
 *
 * Why: OpenBLAS packs both operands on every call and checks its thread
 * policy; for a 32x32x32 product that overhead is several times the
 * arithmetic, and a sequence model makes two such calls per time step.
 * Here nothing is packed when B is not transposed: a block of MR rows of C
 * and NR columns lives in registers while k runs, and B's rows are read in
 * place. Sizes above SEQRT_SMALL_GEMM_MNK go to OpenBLAS (bench/gemm_small
 * measures the crossover).
 *
 * The kernels are written with GCC vector extensions and compiled three
 * times, for AVX-512 (64-byte vectors), AVX2+FMA (32) and the baseline (16);
 * the first call picks the widest the CPU runs. This file is built with
 * -ffp-contract=fast so that a * b + c becomes one FMA. Results differ from
 * OpenBLAS's only in summation order and rounding of the fused products.
 *
 * The same kernels run a stride-1 Conv1D (seqrt_conv1d_taps): the depth
 * loop goes over (tap, input channel), each tap reading A at its own row
 * offset, so all taps of an output step accumulate in one register tile.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "seqrt_team.h"

/* Up to this many multiply-adds (M*N*K) seqrt_gemm takes this path, where
 * bench/gemm_small measured it at least as fast as OpenBLAS 0.3.21 (Haswell
 * kernels, AMD EPYC, one thread): 1.5x at 32^3, 1.2x at 128^3, 0.86x at
 * 256^3; with a transposed operand 1.05x at 32^3, 0.75x at 32x64x256. */
#ifndef SEQRT_SMALL_GEMM_MNK
#define SEQRT_SMALL_GEMM_MNK (1 << 21)
#endif
#ifndef SEQRT_SMALL_GEMM_MNK_T
#define SEQRT_SMALL_GEMM_MNK_T (1 << 16)
#endif
/* A^T B with B not transposed (a layer's weight gradient: x^T dz over all
 * T*B rows) needs no packing here whatever K is: row k of A holds the MR
 * elements a row block broadcasts, next to each other. Up to this many
 * elements of C, bench/gemm_small measured it 2-3x faster than OpenBLAS
 * 0.3.21 (Haswell kernels, AMD EPYC family 23, one thread): 64x256x1600
 * 3.0x, 32x128x1600 3.2x, 512x65x4096 2.2x, 256x256x1600 3.0x; at
 * 128x512x4096 and 64x2048x4096 OpenBLAS's packed kernel is ahead (0.85x). */
#ifndef SEQRT_SMALL_GEMM_MN_TA
#define SEQRT_SMALL_GEMM_MN_TA 40000
#endif

/* A B^T with A not transposed (a Dense layer's input gradient, dy W^T):
 * B's panels are packed once per call, N*K elements, whatever M is. Up to
 * this many, N a multiple of 8 and one member to run it, bench/gemm_small
 * measured it 1.06-1.30x OpenBLAS 0.3.21 (SkylakeX kernels, AMD Zen 5, one
 * thread): 6400x32x65 1.27x (W6's), 8192x64x64 1.14x, 3200x128x256 1.06x,
 * 6400x8x96 1.16x; at 512x128x512 (N*K 2^16) 0.88x, at 8192x20x40 (a
 * partial vector) 0.87x. */
#ifndef SEQRT_SMALL_GEMM_NK_TB
#define SEQRT_SMALL_GEMM_NK_TB (1 << 15)
#endif

#define KC 256 /* k per pass: with transposed B, the packed panel is K x NR */

/*
 * Vector types of 16, 32 and 64 bytes: one per instruction set. Declared
 * unaligned and may_alias, so loads and stores through them are plain moves.
 */
#define VTYPE(bytes) \
    typedef seqrt_real v##bytes __attribute__((vector_size(bytes), aligned(sizeof(seqrt_real)), may_alias))
VTYPE(16);
VTYPE(32);
VTYPE(64);

/*
 * One MR x NV-vector block (NV = 2, or 1 for a narrow last block):
 * acc = sum_k a[i+r, k] * b[k, j..), then C = alpha * acc + beta * C (C not
 * read when beta is 0). a[i, k] = A[i * ars + k * acs]; rows of b are
 * bstride apart. The accumulators are named variables, not an array, so
 * that they stay in registers; rows r >= MR and the second vector when
 * NV = 1 fold away.
 */
#define ACC_STEP(r, MR, NV)                                                \
    if (MR > r) {                                                          \
        const seqrt_real a = A[(size_t)r * ars + (size_t)k * acs];         \
        c##r##0 += a * b0;                                                 \
        if (NV > 1)                                                        \
            c##r##1 += a * b1;                                             \
    }
#define ACC_STORE(r, V, MR, NV)                                            \
    if (MR > r) {                                                          \
        V *c = (V *)(C + (size_t)r * ldc);                                 \
        if (beta == 0) {                                                   \
            c[0] = alpha * c##r##0;                                        \
            if (NV > 1)                                                    \
                c[1] = alpha * c##r##1;                                    \
        } else {                                                           \
            c[0] = alpha * c##r##0 + beta * c[0];                          \
            if (NV > 1)                                                    \
                c[1] = alpha * c##r##1 + beta * c[1];                      \
        }                                                                  \
    }
#define BLOCK_FN(name, V, MR, NV, attr)                                                      \
    attr static void name(int K, int taps, const int64_t *off, seqrt_real alpha,           \
                          const seqrt_real *A0, int ars, int acs, const seqrt_real *B,     \
                          int bstride, seqrt_real beta, seqrt_real *C, int ldc)            \
    {                                                                                      \
        V c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0},     \
          c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0}, c60 = {0}, c61 = {0},     \
          c70 = {0}, c71 = {0};                                                            \
        for (int q = 0; q < taps; q++) {                                                   \
            const seqrt_real *const A = A0 + off[q];                                       \
            const seqrt_real *const Bq = B + (size_t)q * K * bstride;                      \
            for (int k = 0; k < K; k++) {                                                  \
                const V *b = (const V *)(Bq + (size_t)k * bstride);                        \
                const V b0 = b[0], b1 = NV > 1 ? b[1] : (V){0};                            \
                ACC_STEP(0, MR, NV) ACC_STEP(1, MR, NV) ACC_STEP(2, MR, NV)                \
                ACC_STEP(3, MR, NV) ACC_STEP(4, MR, NV) ACC_STEP(5, MR, NV)                \
                ACC_STEP(6, MR, NV) ACC_STEP(7, MR, NV)                                    \
            }                                                                              \
        }                                                                                  \
        ACC_STORE(0, V, MR, NV) ACC_STORE(1, V, MR, NV) ACC_STORE(2, V, MR, NV)            \
        ACC_STORE(3, V, MR, NV) ACC_STORE(4, V, MR, NV) ACC_STORE(5, V, MR, NV)            \
        ACC_STORE(6, V, MR, NV) ACC_STORE(7, V, MR, NV)                                    \
    }

/* All M rows of one panel NV vectors wide: blocks of MR rows, then 4, 2, 1. */
#define PANEL_FN(name, V, MR, NV, attr)                                                      \
    BLOCK_FN(name##_rows, V, MR, NV, attr)                                                   \
    BLOCK_FN(name##_rows4, V, 4, NV, attr)                                                   \
    BLOCK_FN(name##_rows2, V, 2, NV, attr)                                                   \
    BLOCK_FN(name##_rows1, V, 1, NV, attr)                                                   \
    attr static void name(int M, int K, int taps, const int64_t *off, seqrt_real alpha,      \
                          const seqrt_real *A, int ars, int acs, const seqrt_real *bp,       \
                          int bs, seqrt_real beta, seqrt_real *C, int ldc)                   \
    {                                                                                        \
        int i = 0;                                                                           \
        for (; i + MR <= M; i += MR)                                                         \
            name##_rows(K, taps, off, alpha, A + (size_t)i * ars, ars, acs, bp, bs, beta,    \
                        C + (size_t)i * ldc, ldc);                                           \
        if (M - i >= 4) {                                                                    \
            name##_rows4(K, taps, off, alpha, A + (size_t)i * ars, ars, acs, bp, bs, beta,   \
                         C + (size_t)i * ldc, ldc);                                          \
            i += 4;                                                                          \
        }                                                                                    \
        if (M - i >= 2) {                                                                    \
            name##_rows2(K, taps, off, alpha, A + (size_t)i * ars, ars, acs, bp, bs, beta,   \
                         C + (size_t)i * ldc, ldc);                                          \
            i += 2;                                                                          \
        }                                                                                    \
        if (M - i >= 1)                                                                      \
            name##_rows1(K, taps, off, alpha, A + (size_t)i * ars, ars, acs, bp, bs, beta,   \
                         C + (size_t)i * ldc, ldc);                                          \
    }

/*
 * A^T B's last few columns (a weight gradient's: Dense(65)'s 65th), B in
 * place: column c of C is A^T times B's column c, in vectors over C's rows
 * (row k of A holds them side by side). Packed as a half panel instead,
 * the column cost K x NR/2 copies and MR broadcasts a k for each row block:
 * TN 32x65x6400 took 176 us against 134 us for 32x64x6400 (Zen 5, one
 * thread). Each element is the same sum in the same order (k, one
 * multiply-add each), then alpha and beta as the panel path applies them.
 */
enum { TA_COLS_MAX = 4, TA_COLS_ROWS = 64 };
enum { NR_WIDEST = 32 }; /* the widest panel (AVX-512's): narrower last blocks are packed */
#define TA_COLS_FN(name, attr)                                                               \
    attr static void name(int M, int nb, int K, seqrt_real alpha, const seqrt_real *A,      \
                          int lda, const seqrt_real *B, int ldb, seqrt_real beta,           \
                          seqrt_real *C, int ldc)                                           \
    {                                                                                       \
        for (int i0 = 0; i0 < M; i0 += TA_COLS_ROWS) {                                      \
            const int mb = M - i0 < TA_COLS_ROWS ? M - i0 : TA_COLS_ROWS;                   \
            for (int c = 0; c < nb; c++) {                                                  \
                seqrt_real acc[TA_COLS_ROWS] = {0};                                         \
                for (int k = 0; k < K; k++) {                                               \
                    const seqrt_real b = B[(size_t)k * ldb + c];                            \
                    const seqrt_real *a = A + (size_t)k * lda + i0;                         \
                    for (int i = 0; i < mb; i++) acc[i] += a[i] * b;                        \
                }                                                                           \
                for (int i = 0; i < mb; i++) {                                              \
                    seqrt_real *e = C + (size_t)(i0 + i) * ldc + c;                         \
                    *e = alpha * acc[i] + (beta == 0 ? 0 : beta * *e);                      \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }

/*
 * The driver, once per instruction set: column blocks outer (so one NR-wide
 * panel of B, K x NR, stays in L1 while every row block passes over it),
 * row blocks inner. When B is transposed the panel is first packed into
 * row-major order on the stack. The last, narrower column block (and any
 * N < NR: Dense(1), 7 classes) is packed with zero padding to one vector
 * (if it fits) or two and computed whole into a tile on the stack, whose
 * first columns then go to C.
 */
#define DRIVER_FN(name, V, MR, attr)                                                         \
    PANEL_FN(name##_panel, V, MR, 2, attr)                                                   \
    PANEL_FN(name##_half, V, MR, 1, attr)                                                    \
    TA_COLS_FN(name##_ta_cols, attr)                                                         \
    attr static void name(int ta, int tb, int M, int N, int K, int taps, const int64_t *off, \
                          seqrt_real alpha, const seqrt_real *A, int lda,                    \
                          const seqrt_real *B, int ldb, seqrt_real beta, seqrt_real *C,      \
                          int ldc)                                                           \
    {                                                                                        \
        enum { NR = 2 * (int)(sizeof(V) / sizeof(seqrt_real)) };                             \
        const int ars = ta ? 1 : lda, acs = ta ? lda : 1;                                    \
        seqrt_real panel[KC * NR], tile[MR * NR];                                            \
        for (int j = 0; j < N; j += NR) {                                                    \
            const int nb = N - j < NR ? N - j : NR;                                          \
            if (nb == NR && !tb) { /* B's rows in place */                                   \
                name##_panel(M, K, taps, off, alpha, A, ars, acs, B + j, ldb, beta, C + j, ldc); \
                continue;                                                                    \
            }                                                                                \
            if (ta && !tb && taps == 1 && nb <= TA_COLS_MAX) {                               \
                name##_ta_cols(M, nb, K, alpha, A + off[0], lda, B + j, ldb, beta, C + j, ldc); \
                continue;                                                                    \
            }                                                                                \
            /* panel[k, c] = b[k, j + c], zero past nb, w columns a row */                   \
            const int w = nb <= NR / 2 ? NR / 2 : NR;                                        \
            for (int k = 0; k < taps * K; k++) {                                             \
                for (int c = 0; c < nb; c++)                                                 \
                    panel[k * w + c] = tb ? B[(size_t)(j + c) * ldb + k] : B[(size_t)k * ldb + j + c]; \
                for (int c = nb; c < w; c++) panel[k * w + c] = 0;                           \
            }                                                                                \
            if (nb == NR) {                                                                  \
                name##_panel(M, K, taps, off, alpha, A, ars, acs, panel, NR, beta, C + j, ldc); \
                continue;                                                                    \
            }                                                                                \
            for (int i = 0; i < M; i += MR) {                                                \
                const int mb = M - i < MR ? M - i : MR;                                      \
                if (w == NR)                                                                 \
                    name##_panel(mb, K, taps, off, 1, A + (size_t)i * ars, ars, acs, panel, w, 0, \
                                 tile, w);                                                   \
                else                                                                         \
                    name##_half(mb, K, taps, off, 1, A + (size_t)i * ars, ars, acs, panel, w, 0, \
                                tile, w);                                                    \
                for (int r = 0; r < mb; r++) {                                               \
                    seqrt_real *c = C + (size_t)(i + r) * ldc + j;                           \
                    for (int q = 0; q < nb; q++)                                             \
                        c[q] = alpha * tile[r * w + q] + (beta == 0 ? 0 : beta * c[q]);      \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86_CLONES 1
/* 8 rows x 2 zmm = 16 accumulators of AVX-512's 32 registers. */
DRIVER_FN(gemm_avx512, v64, 8, __attribute__((target("avx512f"))))
/* 6 rows x 2 ymm = 12 accumulators of AVX2's 16 (as OpenBLAS's Haswell sgemm). */
DRIVER_FN(gemm_avx2, v32, 6, __attribute__((target("avx2,fma"))))
#ifndef SEQRT_DOUBLE
#include "gemm_narrow.h"
#endif
#endif
/* Baseline: 4 rows x 2 xmm (SSE2 on x86-64, NEON on arm64). */
DRIVER_FN(gemm_base, v16, 4, )
/* The AVX-512 kernel's shape (8 rows x 2 64-byte vectors) for the baseline
 * instruction set, so that its blocking is tested on CPUs without AVX-512
 * (SEQRT_GEMM_KERNEL=wide); never picked otherwise. */
DRIVER_FN(gemm_wide, v64, 8, )

typedef void (*gemm_fn)(int, int, int, int, int, int, const int64_t *, seqrt_real,
                        const seqrt_real *, int, const seqrt_real *, int, seqrt_real, seqrt_real *,
                        int);

/* The widest kernel the CPU runs; SEQRT_GEMM_KERNEL=base (or avx2) caps it,
 * so that the tests and bench/gemm_small can run the narrower ones too, and
 * =wide runs the AVX-512 blocking in baseline instructions. */
static gemm_fn pick(void)
{
    const char *cap = getenv("SEQRT_GEMM_KERNEL");
    if (cap && strcmp(cap, "base") == 0) return gemm_base;
    if (cap && strcmp(cap, "wide") == 0) return gemm_wide;
#ifdef HAVE_X86_CLONES
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (__builtin_cpu_supports("avx512f") && !(cap && strcmp(cap, "avx2") == 0))
#ifndef SEQRT_DOUBLE
        return gemm_avx512_narrow;
#else
        return gemm_avx512;
#endif
#ifndef SEQRT_DOUBLE
    if (avx2) return gemm_avx2_narrow;
#else
    if (avx2) return gemm_avx2;
#endif
#endif
    return gemm_base;
}

static gemm_fn chosen_fn(void)
{
    static _Atomic(gemm_fn) chosen;
    gemm_fn fn = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (!fn) { /* every thread that gets here picks the same one */
        fn = pick();
        atomic_store_explicit(&chosen, fn, memory_order_relaxed);
    }
    return fn;
}

static void gemm_small_one(int trans_a, int trans_b, int M, int N, int K, seqrt_real alpha,
                           const seqrt_real *A, int lda, const seqrt_real *B, int ldb,
                           seqrt_real beta, seqrt_real *C, int ldc);

/* A weight gradient (A^T B, K = T*B rows) on the thread team: each member
 * takes whole 32-column blocks of C. 32 is a multiple of every kernel's
 * panel width (8, 16, 32), so each column is computed by the same panel,
 * the same operations, whatever the team's size: the result does not
 * depend on it. Worth it from this many multiply-adds. */
#define TEAM_MNK (1 << 20)
enum { TEAM_COLS = 32 };

typedef struct {
    int M, N, K, lda, ldb, ldc;
    seqrt_real alpha, beta;
    const seqrt_real *A, *B;
    seqrt_real *C;
} ta_job;

static void ta_job_fn(void *ctx, int tid, int n)
{
    const ta_job *j = ctx;
    int u0, u1;
    seqrt_team_split((j->N + TEAM_COLS - 1) / TEAM_COLS, tid, n, &u0, &u1);
    const int c0 = u0 * TEAM_COLS, c1 = u1 * TEAM_COLS < j->N ? u1 * TEAM_COLS : j->N;
    if (c1 > c0)
        gemm_small_one(1, 0, j->M, c1 - c0, j->K, j->alpha, j->A, j->lda, j->B + c0, j->ldb,
                       j->beta, j->C + c0, j->ldc);
}

void seqrt_gemm_small(int trans_a, int trans_b, int M, int N, int K, seqrt_real alpha,
                      const seqrt_real *A, int lda, const seqrt_real *B, int ldb,
                      seqrt_real beta, seqrt_real *C, int ldc)
{
    if (trans_a && !trans_b && N > TEAM_COLS && (int64_t)M * N * K >= TEAM_MNK &&
        seqrt_team_members() > 1) {
        ta_job j = {M, N, K, lda, ldb, ldc, alpha, beta, A, B, C};
        seqrt_team_run(ta_job_fn, &j);
        return;
    }
    gemm_small_one(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static void gemm_small_one(int trans_a, int trans_b, int M, int N, int K, seqrt_real alpha,
                           const seqrt_real *A, int lda, const seqrt_real *B, int ldb,
                           seqrt_real beta, seqrt_real *C, int ldc)
{
    static const int64_t no_shift[1] = {0};
    gemm_fn fn = chosen_fn();
    /* K in chunks: a transposed B's panel fits the stack, and a panel of
     * B stays in L1 either way. */
    for (int k0 = 0; k0 < K; k0 += KC) {
        const int kc = K - k0 < KC ? K - k0 : KC;
        fn(trans_a, trans_b, M, N, kc, 1, no_shift, alpha,
           A + (trans_a ? (size_t)k0 * lda : (size_t)k0), lda,
           B + (trans_b ? (size_t)k0 : (size_t)k0 * ldb), ldb, k0 ? 1 : beta, C, ldc);
    }
    if (K == 0) /* C = beta C */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * C[(size_t)i * ldc + j];
}

int seqrt_gemm_is_small(int trans_a, int trans_b, int M, int N, int K)
{
    /* Very narrow or very shallow products (Dense(1), 7 classes, one input
     * channel) are all padding and packing here: OpenBLAS's small-matrix
     * path measured 1.6-2.7x faster (96x7x8, 32x1x32, 256x20x1). */
    if (N < 8 || K < 4)
        return 0;
    /* A^T B with one to three rows of C: a narrow last column block costs a
     * packed K x NR panel whatever M is, and at M <= 2 OpenBLAS was ahead
     * even without one (Zen 5, one thread: 1x20x8192 0.18x, 3x20x8192
     * 0.23x, 3x40x8192 0.49x, 2x64x8192 0.77x; 3x96x4096 1.77x). */
    if (trans_a && !trans_b && M < 4 && (M < 3 || N % NR_WIDEST > TA_COLS_MAX))
        return 0;
    if (trans_a && !trans_b) /* and OpenBLAS when a job here would have more members */
        return (int64_t)M * N <= SEQRT_SMALL_GEMM_MN_TA && /* than 32-column blocks to share */
               (N + TEAM_COLS - 1) / TEAM_COLS >= seqrt_team_members();
    if (trans_b && !trans_a && N % 8 == 0 && (int64_t)N * K <= SEQRT_SMALL_GEMM_NK_TB &&
        seqrt_team_members() == 1)
        return 1;
    if (trans_a || trans_b) /* packing a transposed panel costs more as sizes grow */
        return (int64_t)M * N * K <= SEQRT_SMALL_GEMM_MNK_T;
    return (int64_t)M * N * K <= SEQRT_SMALL_GEMM_MNK;
}

/* Tap by tap over output steps [r0, r1) of sample b, each tap on the steps
 * whose source is inside the sequence: seqrt_gemm per tap. */
static void conv_taps_rows(int b, int r0, int r1, int Tin, int Tout, int taps, int dil, int left,
                           int Cin, int Cout, const seqrt_real *x, const seqrt_real *w,
                           seqrt_real *y)
{
    for (int q = 0; q < taps; q++) {
        const int sh = q * dil - left;
        const int lo = r0 > -sh ? r0 : -sh, hi = r1 < Tin - sh ? r1 : Tin - sh;
        if (hi > lo)
            seqrt_gemm(0, 0, hi - lo, Cout, Cin, 1, x + ((size_t)b * Tin + lo + sh) * Cin, Cin,
                       w + (size_t)q * Cin * Cout, Cout, 1, y + ((size_t)b * Tout + lo) * Cout, Cout);
    }
}

#define CONV_MAX_TAPS 16

typedef struct {
    int B, Tin, Tout, taps, dil, left, Cin, Cout, tlo, thi;
    gemm_fn fn; /* NULL: tap by tap */
    const int64_t *off;
    const seqrt_real *x, *w;
    seqrt_real *y;
} conv_job;

/* Samples [b0, b1): the steps that read every tap in one fused product,
 * the edges tap by tap. */
static void conv_samples(const conv_job *j, int b0, int b1)
{
    for (int b = b0; b < b1; b++) {
        if (!j->fn) {
            conv_taps_rows(b, 0, j->Tout, j->Tin, j->Tout, j->taps, j->dil, j->left, j->Cin,
                           j->Cout, j->x, j->w, j->y);
            continue;
        }
        conv_taps_rows(b, 0, j->tlo, j->Tin, j->Tout, j->taps, j->dil, j->left, j->Cin, j->Cout,
                       j->x, j->w, j->y);
        j->fn(0, 0, j->thi - j->tlo, j->Cout, j->Cin, j->taps, j->off, 1,
              j->x + ((size_t)b * j->Tin + j->tlo) * j->Cin, j->Cin, j->w, j->Cout, 1,
              j->y + ((size_t)b * j->Tout + j->tlo) * j->Cout, j->Cout);
        conv_taps_rows(b, j->thi, j->Tout, j->Tin, j->Tout, j->taps, j->dil, j->left, j->Cin,
                       j->Cout, j->x, j->w, j->y);
    }
}

/* On the team: each member takes whole samples, which are independent, so
 * the result is the same bits for any team size. */
static void conv_job_fn(void *ctx, int tid, int n)
{
    const conv_job *j = ctx;
    int b0, b1;
    seqrt_team_split(j->B, tid, n, &b0, &b1);
    conv_samples(j, b0, b1);
}

void seqrt_conv1d_taps(int B, int Tin, int Tout, int taps, int dil, int left, int Cin, int Cout,
                       const seqrt_real *x, const seqrt_real *w, seqrt_real *y)
{
    /* steps [tlo, thi) read every tap inside the sequence */
    const int tlo = left > 0 ? (left < Tout ? left : Tout) : 0;
    int thi = Tin - ((taps - 1) * dil - left);
    thi = thi < Tout ? thi : Tout;
    thi = thi > tlo ? thi : tlo;
    const int fused = taps <= CONV_MAX_TAPS && taps * Cin <= KC && thi > tlo &&
                      seqrt_gemm_is_small(0, 0, thi - tlo, Cout, taps * Cin);
    int64_t off[CONV_MAX_TAPS];
    for (int q = 0; fused && q < taps; q++) off[q] = (int64_t)(q * dil - left) * Cin;
    conv_job j = {.B = B, .Tin = Tin, .Tout = Tout, .taps = taps, .dil = dil, .left = left,
                  .Cin = Cin, .Cout = Cout, .tlo = tlo, .thi = thi,
                  .fn = fused ? chosen_fn() : NULL, .off = off, .x = x, .w = w, .y = y};
    if (B > 1 && (int64_t)B * Tout * taps * Cin * Cout >= TEAM_MNK && seqrt_team_members() > 1)
        seqrt_team_run(conv_job_fn, &j);
    else
        conv_samples(&j, 0, B);
}
