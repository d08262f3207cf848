/*
 * gemm_narrow.h: tiles for C 20 columns wide, AVX-512 and AVX2 (included
 * by gemm_small.c, in float builds only).
 *
 * AVX-512:
 * Conv1D(20)'s outputs and input gradients (N = 20 columns) and its
 * weight gradients take two 16-float vectors per row in the 8x32 kernel:
 * 12 of 32 lanes idle, and the partial vector goes through a tile on the
 * stack. Here each row keeps its first 16 columns in one whole vector, and
 * the last 4 columns of 4 rows share one vector (lanes 4r .. 4r + 3: row
 * r). Per k, B's 16 + 4 values are one load and one vbroadcastf32x4 (the 4
 * tail values in every 128-bit lane), each row's A value is broadcast once,
 * and the tail's row pattern is blended from those 4 broadcasts: per k and
 * 4 rows, 4 loads, 3 blends and 5 multiply-adds, no lane idle. Four groups
 * of 4 rows at a time: 20 accumulators.
 *
 * At N = 20 every broadcast of A feeds only 1.25 vectors of multiply-adds,
 * so the loads bound the kernel: GCC, left to itself, folds the broadcasts
 * into the multiply-adds' memory operands and loads each A value again for
 * the blends (7 loads where 4 do), which held the kernel at the speed of
 * the row-interleaved tiles it replaces (lane l of vector v: row (16 v + l)
 * / 20; 8 broadcasts per 4 rows). An empty asm keeps each broadcast in its
 * register. Measured (bench/gemm_small, Zen 5, one thread): 256x20x40 2.97
 * -> 2.05 us, 2048x20x40 23.6 -> 15.8 us (139 -> 208 GFLOP/s). The tails
 * leave through a stack copy: masked stores into the 64 bytes the next
 * row's load reads do not forward, and took the kernel to half speed.
 *
 * The sums run in the same order as the 8x32 kernel's (taps, then k), each
 * a fused multiply-add, so an element's value does not depend on which of
 * the two kernels computed it.
 */
#include <immintrin.h>

/* The loops over groups, vectors and rows have constant bounds: unrolled,
 * their arrays are registers. */
#define UNROLL _Pragma("GCC unroll 8")

enum { TAIL16_GMAX = 4 }; /* groups of 4 rows per block */

/*
 * GR groups of 4 rows from A (rows ars apart, depth acs apart, each tap at
 * its offset) times B (rows ldb apart, taps K * ldb apart) into 4 GR rows
 * of C (ldc apart), 20 columns. GR is a constant after inlining: the loops
 * unroll and the arrays live in registers.
 */
__attribute__((target("avx512f"), always_inline)) static inline void
tail16_block(const int GR, int K, int taps, const int64_t *off, float alpha, const float *A,
             int ars, int acs, const float *B, int ldb, float beta, float *C, int ldc)
{
    __m512 acc[TAIL16_GMAX][4], tacc[TAIL16_GMAX]; /* [group][row]; [group] */
    UNROLL for (int g = 0; g < GR; g++) {
        UNROLL for (int r = 0; r < 4; r++) acc[g][r] = _mm512_setzero_ps();
        tacc[g] = _mm512_setzero_ps();
    }
    for (int q = 0; q < taps; q++) {
        const float *Aq = A + off[q];
        const float *Bq = B + (size_t)q * K * ldb;
        for (int k = 0; k < K; k++) {
            const float *b = Bq + (size_t)k * ldb;
            const __m512 bf = _mm512_loadu_ps(b);
            const __m512 bt = _mm512_broadcast_f32x4(_mm_loadu_ps(b + 16));
            UNROLL for (int g = 0; g < GR; g++) {
                const float *a = Aq + (size_t)(4 * g) * ars + (size_t)k * acs;
                __m512 ar[4];
                UNROLL for (int r = 0; r < 4; r++) {
                    ar[r] = _mm512_set1_ps(a[(size_t)r * ars]);
                    __asm__("" : "+v"(ar[r])); /* one load per value: see above */
                }
                __m512 at = _mm512_mask_blend_ps(0x00F0, ar[0], ar[1]);
                at = _mm512_mask_blend_ps(0x0F00, at, ar[2]);
                at = _mm512_mask_blend_ps(0xF000, at, ar[3]);
                UNROLL for (int r = 0; r < 4; r++) acc[g][r] = _mm512_fmadd_ps(ar[r], bf, acc[g][r]);
                tacc[g] = _mm512_fmadd_ps(at, bt, tacc[g]);
            }
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    UNROLL for (int g = 0; g < GR; g++) {
        UNROLL for (int r = 0; r < 4; r++) {
            float *c = C + (size_t)(4 * g + r) * ldc;
            __m512 out = _mm512_mul_ps(va, acc[g][r]);
            if (beta != 0)
                out = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), out);
            _mm512_storeu_ps(c, out);
        }
        float t[16];
        _mm512_storeu_ps(t, _mm512_mul_ps(va, tacc[g]));
        UNROLL for (int r = 0; r < 4; r++) {
            float *c = C + (size_t)(4 * g + r) * ldc + 16;
            UNROLL for (int j = 0; j < 4; j++)
                c[j] = beta != 0 ? __builtin_fmaf(beta, c[j], t[4 * r + j]) : t[4 * r + j];
        }
    }
}

/* Rows of C in blocks of 16, then of 4; returns how many rows it did (the
 * rest, fewer than 4, are the caller's). */
__attribute__((target("avx512f"))) static int tail16_20(int M, int K, int taps,
                                                        const int64_t *off, float alpha,
                                                        const float *A, int ars, int acs,
                                                        const float *B, int ldb, float beta,
                                                        float *C, int ldc)
{
    int i = 0;
    for (; i + 4 * TAIL16_GMAX <= M; i += 4 * TAIL16_GMAX)
        tail16_block(TAIL16_GMAX, K, taps, off, alpha, A + (size_t)i * ars, ars, acs, B, ldb,
                     beta, C + (size_t)i * ldc, ldc);
    for (; i + 4 <= M; i += 4)
        tail16_block(1, K, taps, off, alpha, A + (size_t)i * ars, ars, acs, B, ldb, beta,
                     C + (size_t)i * ldc, ldc);
    return i;
}

/* The AVX-512 driver with the narrow tiles in front where they apply. */
__attribute__((target("avx512f"))) static void
gemm_avx512_narrow(int ta, int tb, int M, int N, int K, int taps, const int64_t *off, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    const int ars = ta ? 1 : lda, acs = ta ? lda : 1;
    const int done = !tb && N == 20
                         ? tail16_20(M, K, taps, off, alpha, A, ars, acs, B, ldb, beta, C, ldc) : 0;
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
