/*
 * seqrt_kernel.h: what the C that seqc generates calls, besides the model
 * descriptor (seqrt_model.h): the scalar math and activations matching
 * seqrt_real, BLAS products and seqrt's small-GEMM and Conv1D kernels
 * (blas.c, gemm_small.c), the fused recurrent steps (seqrt_rnn.h), dropout's
 * stateless uniforms and the numerics check. A generated NAME.c includes
 * this header only; libseqrt provides the functions.
 */
#ifndef SEQRT_KERNEL_H
#define SEQRT_KERNEL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "seqrt_model.h"
#include "seqrt_rnn.h" /* fused recurrent steps */

#ifdef __cplusplus
extern "C" {
#endif

/* Scalar math matching seqrt_real, for generated code too. In float32
 * builds exp and tanh are seqrt's own branch-free versions (below), which
 * GCC vectorises; libm's expf is a call per element. */
#ifdef SEQRT_DOUBLE
#define SEQRT_EXP exp
#define SEQRT_LOG log
#define SEQRT_TANH seqrt_tanh
#define SEQRT_SQRT sqrt
#define SEQRT_FABS fabs
#else
#define SEQRT_EXP seqrt_expf
#define SEQRT_LOG logf
#define SEQRT_TANH seqrt_tanh
#define SEQRT_SQRT sqrtf
#define SEQRT_FABS fabsf
#endif

/* Generated layer functions carry SEQRT_KERNEL: GCC compiles each three
 * times, for x86-64-v4 (AVX-512, 16 floats a vector; GCC 11 and later),
 * x86-64-v3 (AVX2, 8) and the baseline the program was built for, and the
 * loader picks the first the CPU runs, so a binary built without
 * -march=native still runs its gate loops as wide as the CPU allows. All
 * clones give the same numbers: none contracts to FMA (-std=c11 keeps
 * fp-contract off) or reassociates. Define SEQRT_NO_CLONES to turn it off. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX2__) && \
    !defined(SEQRT_NO_CLONES) && __GNUC__ >= 11
#define SEQRT_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX2__) && \
    !defined(SEQRT_NO_CLONES)
#define SEQRT_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SEQRT_KERNEL
#endif

/* The segment length of checkpointed BPTT (seqc --bptt-checkpoint): K steps,
 * or ceil(sqrt(T)) when K is -1; at least 1, at most T. */
static inline int64_t seqrt_bptt_segment(int64_t T, int64_t K)
{
    if (K < 0)
        for (K = 1; K * K < T; K++) {}
    return K < T ? K : T > 1 ? T : 1;
}

/* ============================================ numerics, dropout ===== */

/* The index of the first NaN or Inf in p[0..n), or -1 (--check-numerics). */
static inline int64_t seqrt_find_nonfinite(const seqrt_real *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!(p[i] - p[i] == 0)) /* false for NaN and for +-Inf */
            return i;
    return -1;
}

/* A uniform in [0, 1) that depends only on (key, stream, i): dropout masks
 * in generated code need no RNG state, and forward passes with the same key
 * draw the same mask (splitmix64's finaliser over the mixed inputs). */
static inline double seqrt_hash_uniform(uint64_t key, uint64_t stream, uint64_t i)
{
    uint64_t z = key * 0x9E3779B97F4A7C15ull ^ (stream + 1) * 0xBF58476D1CE4E5B9ull ^
                 (i + 1) * 0x94D049BB133111EBull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* ========================================================= blas.c ===== */

/* Row-major BLAS for seqrt_real (cblas_s* or cblas_d*). trans = 0 or 1.
 * C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C. */
void seqrt_gemm(int trans_a, int trans_b, int M, int N, int K, seqrt_real alpha,
                const seqrt_real *A, int lda, const seqrt_real *B, int ldb,
                seqrt_real beta, seqrt_real *C, int ldc);
/* The same product by seqrt's own register-blocked kernel (gemm_small.c),
 * which seqrt_gemm uses when seqrt_gemm_is_small says so: no packing, no
 * threading, faster than OpenBLAS for the per-step products of recurrent
 * layers. Any size works. */
void seqrt_gemm_small(int trans_a, int trans_b, int M, int N, int K, seqrt_real alpha,
                      const seqrt_real *A, int lda, const seqrt_real *B, int ldb,
                      seqrt_real beta, seqrt_real *C, int ldc);
int seqrt_gemm_is_small(int trans_a, int trans_b, int M, int N, int K);

/* A stride-1 Conv1D's products (runtime/src/gemm_small.c): y[b, t, :] +=
 * sum_q x[b, t + q*dil - left, :] w[q] over the taps q < taps whose source
 * step is in [0, Tin). x [B, Tin, Cin], w [taps, Cin, Cout], y [B, Tout,
 * Cout] (holding the bias or zeros). The input gradient is the same
 * product with the taps reversed and transposed, left' = (taps-1)*dil - left. */
void seqrt_conv1d_taps(int B, int Tin, int Tout, int taps, int dil, int left, int Cin, int Cout,
                       const seqrt_real *x, const seqrt_real *w, seqrt_real *y);

/* y[M or N] = alpha * op(A) x + beta * y, A is [M, N]. */
void seqrt_gemv(int trans_a, int M, int N, seqrt_real alpha, const seqrt_real *A,
                int lda, const seqrt_real *x, seqrt_real beta, seqrt_real *y);
/* y += alpha * x */
void seqrt_axpy(int n, seqrt_real alpha, const seqrt_real *x, seqrt_real *y);
/* dst[j] += x[n, j] for every row n < rows, j < width (x's rows width
 * apart): a bias's gradient, the sum over rows. Each dst[j] adds the rows
 * in order, as the loop written out would; dst must not overlap x. */
void seqrt_add_rows(int64_t rows, int64_t width, const seqrt_real *x, seqrt_real *dst);

/* ========================================== activations (inline) ===== */

/* The exact logistic, without overflow for large |x|. */
#ifdef SEQRT_DOUBLE
static inline seqrt_real seqrt_sigmoid(seqrt_real x)
{
    if (x >= 0) return (seqrt_real)1 / ((seqrt_real)1 + SEQRT_EXP(-x));
    seqrt_real e = SEQRT_EXP(x);
    return e / ((seqrt_real)1 + e);
}

static inline seqrt_real seqrt_tanh(seqrt_real x) { return tanh(x); }
#else
/* float32 gate math without branches or libm calls, so the compiler can
 * vectorise the generated gate loops (libm's scalar tanhf/expf were most of
 * a small RNN's step). exp: Cephes's expf polynomial after reducing by ln 2
 * (about 1 ulp on the clamped range); the float64 build keeps libm, which the
 * gradient checks use. */
static inline float seqrt_expf(float x)
{
    /* NaN computes as 0 (its conversion to int below would be undefined)
     * and comes back as NaN; +-Inf give +Inf and 0, selects that vectorise. */
    float c = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x == x ? x : 0.0f;
    /* k = round(c / ln 2) by the 1.5 * 2^23 trick: floorf would need SSE4.1
     * to vectorise, and the baseline x86-64 target has only SSE2. */
    float k = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = c - k * 0.693359375f + k * 2.12194440e-4f;
    float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
                4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    union { int32_t i; float f; } scale = {.i = ((int32_t)k + 127) << 23};
    y *= scale.f;
    return x != x ? x : x == HUGE_VALF ? x : x == -HUGE_VALF ? 0.0f : y;
}

/* seqrt_expf's arithmetic without its selects for NaN and the
 * infinities, which were a third of its instructions: the input is
 * clamped to [-87, 88] (a NaN passes through the clamp and comes out as
 * NaN), and k = round(x / ln 2) is read from the bits of the rounding sum
 * instead of converting a float to an int, so a NaN is never converted.
 * Finite inputs give seqrt_expf's values; -Inf gives exp(-87) instead of
 * 0, +Inf exp(88). For the fused gates (runtime/src/rnn_step.c), which
 * saturate alike, and the softmax of the cross-entropies (loss.c). */
static inline float seqrt_expf_clamped(float x)
{
    float c = x < -87.0f ? -87.0f : x;
    c = c > 88.0f ? 88.0f : c;
    union { float f; uint32_t u; } m = {.f = c * 1.44269504088896341f + 12582912.0f};
    const float k = m.f - 12582912.0f;
    const float r = c - k * 0.693359375f + k * 2.12194440e-4f;
    float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
                4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    /* m.u = 0x4B400000 + k for |k| < 2^22: the exponent field of 2^k */
    union { uint32_t u; float f; } scale = {.u = (m.u - 0x4B400000u + 127u) << 23};
    return y * scale.f;
}

static inline float seqrt_sigmoid(float x) { return 1.0f / (1.0f + seqrt_expf(-x)); }

/* tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|); near 0 the
 * series x - x^3/3 + 2x^5/15 keeps the relative precision that 1 - e loses. */
static inline float seqrt_tanh(float x)
{
    float a = x < 0 ? -x : x, e = seqrt_expf(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e), x2 = x * x;
    float small = x * (1.0f + x2 * (-0.333333333f + x2 * 0.133333333f));
    t = x < 0 ? -t : t;
    return a < 0.0625f ? small : t;
}
#endif

/* Keras 2.2's recurrent default: clip(0.2x + 0.5, 0, 1). */
static inline seqrt_real seqrt_hard_sigmoid(seqrt_real x)
{
    seqrt_real y = (seqrt_real)0.2 * x + (seqrt_real)0.5;
    return y < 0 ? 0 : y > 1 ? 1 : y;
}

/* The smallest probability a softmax gives: where exp underflows to 0 the
 * cross-entropy's gradient -y/p (loss.c) would meet p = 0 in the softmax
 * backward and vanish; with p >= floor, p * (-y/p) = -y and the gradient
 * stays p - y, as on Keras's logits path. The outputs move by < 1e-30. */
#ifdef SEQRT_DOUBLE
#define SEQRT_PROB_FLOOR 1e-300
#else
#define SEQRT_PROB_FLOOR 1e-30f
#endif

/* p[n] = softmax(z[n]) = exp(z - max) / sum, floored; p may alias z. */
static inline void seqrt_softmax(seqrt_real *p, const seqrt_real *z, int64_t n)
{
    seqrt_real mx = z[0], sum = 0;
    for (int64_t i = 1; i < n; i++) mx = z[i] > mx ? z[i] : mx;
    for (int64_t i = 0; i < n; i++) p[i] = SEQRT_EXP(z[i] - mx); /* vectorises alone */
    for (int64_t i = 0; i < n; i++) sum += p[i];
    const seqrt_real inv = 1 / sum; /* one division a row, not one an element */
    for (int64_t i = 0; i < n; i++) {
        p[i] *= inv;
        p[i] = p[i] < SEQRT_PROB_FLOOR ? SEQRT_PROB_FLOOR : p[i];
    }
}

/* dz[n] += p * (dp - sum(dp * p)): the softmax Jacobian applied to dp. */
static inline void seqrt_softmax_backward(seqrt_real *dz, const seqrt_real *p,
                                          const seqrt_real *dp, int64_t n)
{
    seqrt_real s = 0;
    for (int64_t i = 0; i < n; i++) s += dp[i] * p[i];
    for (int64_t i = 0; i < n; i++) dz[i] += p[i] * (dp[i] - s);
}

#ifdef __cplusplus
}
#endif

#endif
