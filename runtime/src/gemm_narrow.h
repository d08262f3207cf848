/*
 * gemm_narrow.h: tiles for C 20 columns wide, AVX-512 and AVX2 (included
 * by gemm_small.c, in float builds only).
 *
 * AVX-512:
 * Conv1D(20)'s outputs and input gradients (N = 20 columns) and its
 * weight gradients take two 16-float vectors per row in the 8x32 kernel:
 * 12 of 32 lanes idle, and the partial vector goes through a tile on the
 * stack. When C's rows are contiguous (ldc = N), R = 16 / gcd(N, 16) rows
 * of C are exactly V = N / gcd(N, 16) whole vectors (20: 4 rows, 5
 * vectors): lane l of vector v holds row (16 v + l) / N, column
 * (16 v + l) % N. Per k, B's row is permuted into the V column patterns
 * (once for all groups of a block) and A's values are broadcast into the
 * V row patterns (a masked broadcast where a vector spans two rows); each
 * vector then takes one multiply-add, no lane idle. Three groups at a
 * time: 15 accumulators hide the FMA latency.
 *
 * Measured (bench/RESULTS.md, Zen 5, one thread): 1.13-1.33x the 8x32
 * kernel at N = 20 in cache, W5's step 1.25x; at N = 10 and 24 it was
 * level or slower (0.87-1.14x: more broadcasts per multiply-add, fewer
 * idle lanes to win back), so only 20 is instantiated.
 *
 * The sums run in the same order as the 8x32 kernel's (taps, then k), each
 * a fused multiply-add, so an element's value does not depend on which of
 * the two kernels computed it.
 */
#include <immintrin.h>

/* The loops over groups, vectors and rows have constant bounds: unrolled,
 * their arrays are registers. */
#define UNROLL _Pragma("GCC unroll 8")

enum { NARROW_VMAX = 5, NARROW_GMAX = 3 }; /* vectors per group; groups per block */

/* Lane -> column of B's row, per vector: a table, loaded once per call. */
typedef struct {
    __m512i col[NARROW_VMAX];
} narrow_map;

__attribute__((target("avx512f"))) static inline void narrow_map_init(narrow_map *m, int N, int V)
{
    for (int v = 0; v < V; v++) {
        int32_t col[16];
        for (int l = 0; l < 16; l++) col[l] = (16 * v + l) % N;
        m->col[v] = _mm512_loadu_si512(col);
    }
}

/* The lanes of vector v that hold row j of the rows it spans (j = 0: its
 * first, 16 v / N): a constant once N, v and j are. */
static inline __mmask16 narrow_lanes(int N, int v, int j)
{
    const int r = 16 * v / N + j, l0 = r * N - 16 * v, l1 = (r + 1) * N - 16 * v;
    const unsigned lo = l0 > 0 ? (1u << l0) - 1 : 0, hi = l1 < 16 ? (1u << l1) - 1 : 0xFFFFu;
    return (__mmask16)(hi & ~lo);
}

/*
 * GR groups of R rows from A (rows ars apart, depth acs apart, each tap at
 * its offset) times B (rows ldb apart, taps K * ldb apart) into C's next
 * GR * R * N floats. N, R, V and GR are constants after inlining: the loops
 * unroll and the arrays live in registers.
 */
__attribute__((target("avx512f"), always_inline)) static inline void
narrow_block(const int N, const int R, const int V, const int GR, const narrow_map *m, int K,
             int taps, const int64_t *off, float alpha, const float *A, int ars, int acs,
             const float *B, int ldb, float beta, float *C)
{
    __m512 acc[NARROW_GMAX][NARROW_VMAX];
    UNROLL for (int g = 0; g < GR; g++)
        UNROLL for (int v = 0; v < V; v++) acc[g][v] = _mm512_setzero_ps();
    const __mmask16 lo = (__mmask16)(N >= 16 ? 0xFFFF : (1u << N) - 1);
    const __mmask16 hi = (__mmask16)(N > 16 ? (1u << (N - 16)) - 1 : 0);
    for (int q = 0; q < taps; q++) {
        const float *Aq = A + off[q];
        const float *Bq = B + (size_t)q * K * ldb;
        for (int k = 0; k < K; k++) {
            const float *b = Bq + (size_t)k * ldb;
            const __m512 b0 = _mm512_maskz_loadu_ps(lo, b);
            const __m512 b1 = N > 16 ? _mm512_maskz_loadu_ps(hi, b + 16) : _mm512_setzero_ps();
            __m512 bp[NARROW_VMAX];
            UNROLL for (int v = 0; v < V; v++)
                bp[v] = N > 16 ? _mm512_permutex2var_ps(b0, m->col[v], b1)
                               : _mm512_permutexvar_ps(m->col[v], b0);
            UNROLL for (int g = 0; g < GR; g++) {
                const float *a = Aq + (size_t)(g * R) * ars + (size_t)k * acs;
                UNROLL for (int v = 0; v < V; v++) {
                    const int r0 = 16 * v / N, span = (16 * v + 15) / N - r0 + 1;
                    __m512 ap = _mm512_set1_ps(a[(size_t)r0 * ars]);
                    UNROLL for (int j = 1; j < span; j++)
                        ap = _mm512_mask_mov_ps(ap, narrow_lanes(N, v, j),
                                                _mm512_set1_ps(a[(size_t)(r0 + j) * ars]));
                    acc[g][v] = _mm512_fmadd_ps(ap, bp[v], acc[g][v]);
                }
            }
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    UNROLL for (int g = 0; g < GR; g++)
        UNROLL for (int v = 0; v < V; v++) {
            float *c = C + (size_t)g * R * N + (size_t)v * 16;
            __m512 out = _mm512_mul_ps(va, acc[g][v]);
            if (beta != 0)
                out = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), out);
            _mm512_storeu_ps(c, out);
        }
}

/* Rows of C in blocks of GG groups of RR rows, then single groups;
 * returns how many rows it did (the rest, fewer than RR, are the
 * caller's). */
#define NARROW_FN(NC, RR, VV, GG)                                                                \
    __attribute__((target("avx512f"))) static int narrow##NC(                                   \
        int M, int K, int taps, const int64_t *off, float alpha, const float *A, int ars, int acs, \
        const float *B, int ldb, float beta, float *C)                                           \
    {                                                                                            \
        narrow_map m;                                                                            \
        narrow_map_init(&m, NC, VV);                                                             \
        int i = 0;                                                                               \
        for (; i + GG * RR <= M; i += GG * RR)                                                   \
            narrow_block(NC, RR, VV, GG, &m, K, taps, off, alpha, A + (size_t)i * ars, ars, acs, \
                         B, ldb, beta, C + (size_t)i * NC);                                      \
        for (; i + RR <= M; i += RR)                                                             \
            narrow_block(NC, RR, VV, 1, &m, K, taps, off, alpha, A + (size_t)i * ars, ars, acs, \
                         B, ldb, beta, C + (size_t)i * NC);                                      \
        return i;                                                                                \
    }
NARROW_FN(20, 4, 5, 3)

/* The AVX-512 driver with the narrow tiles in front where they apply. */
__attribute__((target("avx512f"))) static void
gemm_avx512_narrow(int ta, int tb, int M, int N, int K, int taps, const int64_t *off, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    const int ars = ta ? 1 : lda, acs = ta ? lda : 1;
    const int done = !tb && ldc == N && N == 20
                         ? narrow20(M, K, taps, off, alpha, A, ars, acs, B, ldb, beta, C) : 0;
    if (done < M)
        gemm_avx512(ta, tb, M - done, N, K, taps, off, alpha, A + (size_t)done * ars, lda, B, ldb,
                    beta, C + (size_t)done * ldc, ldc);
}

/*
 * AVX2: C 12 or 20 columns wide (N = 8 NF + 4), any ldc. The 6x16 kernel
 * computes such a C as NF whole 8-float vectors a row and sends the last 4
 * columns through a second pass over A, one vector per row with 4 lanes
 * idle, into a tile on the stack: 18 multiply-adds per k for 6 rows of 20
 * columns where 15 would do, and every element of the tail copied once
 * more. Here a block of 4 rows keeps NF vectors a row and packs the last 4
 * columns of two rows into one vector (low half: row 2p, high half: row
 * 2p + 1): B's 4 tail values fill both halves (one vbroadcastf128 per k)
 * and the two rows' broadcasts of A, which the whole vectors need anyway,
 * are blended into it. 4 rows x (NF + 1/2) vectors = 10 accumulators at
 * N = 20, with B's 3 vectors and A's 3 in the other 6 registers.
 *
 * Each element is the same sum, in the same order (taps, then k), of the
 * same fused multiply-adds as in the 6x16 kernel.
 */
__attribute__((target("avx2,fma"), always_inline)) static inline void
tail4_block(const int NF, const int P, int K, int taps, const int64_t *off, float alpha,
            const float *A, int ars, int acs, const float *B, int ldb, float beta, float *C,
            int ldc)
{
    __m256 acc[4][2], tacc[2]; /* [row][vector]; [row pair] */
    UNROLL for (int r = 0; r < 2 * P; r++)
        UNROLL for (int f = 0; f < NF; f++) acc[r][f] = _mm256_setzero_ps();
    UNROLL for (int p = 0; p < P; p++) tacc[p] = _mm256_setzero_ps();
    for (int q = 0; q < taps; q++) {
        const float *Aq = A + off[q];
        const float *Bq = B + (size_t)q * K * ldb;
        for (int k = 0; k < K; k++) {
            const float *b = Bq + (size_t)k * ldb;
            __m256 bf[2];
            UNROLL for (int f = 0; f < NF; f++) bf[f] = _mm256_loadu_ps(b + 8 * f);
            const __m256 bt = _mm256_broadcast_ps((const __m128 *)(b + 8 * NF));
            const float *a = Aq + (size_t)k * acs;
            UNROLL for (int p = 0; p < P; p++) {
                const __m256 a0 = _mm256_set1_ps(a[(size_t)(2 * p) * ars]);
                const __m256 a1 = _mm256_set1_ps(a[(size_t)(2 * p + 1) * ars]);
                UNROLL for (int f = 0; f < NF; f++) {
                    acc[2 * p][f] = _mm256_fmadd_ps(a0, bf[f], acc[2 * p][f]);
                    acc[2 * p + 1][f] = _mm256_fmadd_ps(a1, bf[f], acc[2 * p + 1][f]);
                }
                tacc[p] = _mm256_fmadd_ps(_mm256_blend_ps(a0, a1, 0xF0), bt, tacc[p]);
            }
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    UNROLL for (int r = 0; r < 2 * P; r++)
        UNROLL for (int f = 0; f < NF; f++) {
            float *c = C + (size_t)r * ldc + 8 * f;
            __m256 out = _mm256_mul_ps(va, acc[r][f]);
            if (beta != 0)
                out = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), out);
            _mm256_storeu_ps(c, out);
        }
    UNROLL for (int p = 0; p < P; p++) {
        float *lo = C + (size_t)(2 * p) * ldc + 8 * NF, *hi = lo + ldc;
        __m256 out = _mm256_mul_ps(va, tacc[p]);
        if (beta != 0)
            out = _mm256_fmadd_ps(vb, _mm256_loadu2_m128(hi, lo), out);
        _mm256_storeu2_m128(hi, lo, out);
    }
}

/* Rows of C in blocks of 4, then 2; returns how many it did (at most one
 * row is left, for the 6x16 kernel). */
#define TAIL4_FN(NC)                                                                             \
    __attribute__((target("avx2,fma"))) static int tail4_##NC(                                   \
        int M, int K, int taps, const int64_t *off, float alpha, const float *A, int ars, int acs, \
        const float *B, int ldb, float beta, float *C, int ldc)                                  \
    {                                                                                            \
        int i = 0;                                                                               \
        for (; i + 4 <= M; i += 4)                                                               \
            tail4_block(NC / 8, 2, K, taps, off, alpha, A + (size_t)i * ars, ars, acs, B, ldb,   \
                        beta, C + (size_t)i * ldc, ldc);                                         \
        if (i + 2 <= M) {                                                                        \
            tail4_block(NC / 8, 1, K, taps, off, alpha, A + (size_t)i * ars, ars, acs, B, ldb,   \
                        beta, C + (size_t)i * ldc, ldc);                                         \
            i += 2;                                                                              \
        }                                                                                        \
        return i;                                                                                \
    }
TAIL4_FN(12)
TAIL4_FN(20)

/* The AVX2 driver with the paired tails in front where they apply. */
__attribute__((target("avx2,fma"))) static void
gemm_avx2_narrow(int ta, int tb, int M, int N, int K, int taps, const int64_t *off, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    const int ars = ta ? 1 : lda, acs = ta ? lda : 1;
    int done = 0;
    if (!tb && N == 20)
        done = tail4_20(M, K, taps, off, alpha, A, ars, acs, B, ldb, beta, C, ldc);
    else if (!tb && N == 12)
        done = tail4_12(M, K, taps, off, alpha, A, ars, acs, B, ldb, beta, C, ldc);
    if (done < M)
        gemm_avx2(ta, tb, M - done, N, K, taps, off, alpha, A + (size_t)done * ars, lda, B, ldb,
                  beta, C + (size_t)done * ldc, ldc);
}
