/*
 * rnn_step_isa.h: the tile kernels and per-step drivers of rnn_step.c for
 * one instruction set. rnn_step.c includes this file once per set, with
 * ISA(name) naming the functions, ISA_ATTR their target attribute, ISA_NU
 * the reals in one of its vectors (the units of a forward tile) and MRF /
 * MRB (at most 6) the rows of a forward (G gate vectors) and a backward
 * (NUB units: NUB / ISA_NU vectors) register tile, and ISA_VGATES 1 where
 * a tile's gate math is written in the set's vectors (float builds with
 * AVX2 or AVX-512: the baseline's 8 units are two SSE vectors). It ends with the set's
 * table, ISA(kernels), and undefines those six for the next set.
 */

typedef seqrt_real ISA(vec)
    __attribute__((vector_size(ISA_NU * sizeof(seqrt_real)), aligned(sizeof(seqrt_real)), may_alias));
#define vnu ISA(vec)
#define NBV (NUB / ISA_NU)
_Static_assert(ISA_NU <= NUB && NUB % ISA_NU == 0, "a backward tile is whole vectors");

/* acc[r, g*ISA_NU + u] = sum_k A[r, k] P[k, g, u] for r < MR, g < G: MR x G
 * vectors in registers for the whole k loop. */
#define ACC(r, g) if (G > g) c##r##g += a * b##g;
#define ROW(r)                                                       \
    if (MR > r) {                                                    \
        const seqrt_real a = A[(size_t)(r) * lda + k];               \
        ACC(r, 0) ACC(r, 1) ACC(r, 2) ACC(r, 3)                      \
    }
#define OUT(r)                                                       \
    if (MR > r) {                                                    \
        vnu *o = (vnu *)(out + (size_t)(r) * G * ISA_NU);                \
        o[0] = c##r##0;                                              \
        if (G > 1) o[1] = c##r##1;                                   \
        if (G > 2) o[2] = c##r##2;                                   \
        if (G > 3) o[3] = c##r##3;                                   \
    }
#define TILE_FN(name, MR_, G_)                                                               \
    ISA_ATTR static void name(int K, const seqrt_real *A, int lda, const seqrt_real *P,     \
                              seqrt_real *out)                                               \
    {                                                                                        \
        enum { MR = MR_, G = G_ };                                                           \
        vnu c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0}, c10 = {0}, c11 = {0}, c12 = {0},     \
            c13 = {0}, c20 = {0}, c21 = {0}, c22 = {0}, c23 = {0}, c30 = {0}, c31 = {0},     \
            c32 = {0}, c33 = {0}, c40 = {0}, c41 = {0}, c42 = {0}, c43 = {0}, c50 = {0},     \
            c51 = {0}, c52 = {0}, c53 = {0};                                                 \
        for (int k = 0; k < K; k++) {                                                        \
            const vnu *b = (const vnu *)(P + (size_t)k * G * ISA_NU);                            \
            const vnu b0 = b[0], b1 = G > 1 ? b[1] : c00, b2 = G > 2 ? b[2] : c00,           \
                      b3 = G > 3 ? b[3] : c00;                                               \
            ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)                                        \
        }                                                                                    \
        OUT(0) OUT(1) OUT(2) OUT(3) OUT(4) OUT(5)                                            \
    }

TILE_FN(ISA(f1), 1, 4)
TILE_FN(ISA(f2), 2, 4)
TILE_FN(ISA(f3), 3, 4)
TILE_FN(ISA(g1), 1, 3)
TILE_FN(ISA(g2), 2, 3)
TILE_FN(ISA(g3), 3, 3)
#if MRF > 3
TILE_FN(ISA(f4), 4, 4)
TILE_FN(ISA(f5), 5, 4)
TILE_FN(ISA(f6), 6, 4)
TILE_FN(ISA(g4), 4, 3)
TILE_FN(ISA(g5), 5, 3)
TILE_FN(ISA(g6), 6, 3)
#endif
TILE_FN(ISA(s1), 1, 2)
TILE_FN(ISA(s2), 2, 2)
TILE_FN(ISA(s3), 3, 2)
TILE_FN(ISA(s4), 4, 2)
TILE_FN(ISA(s5), 5, 2)
TILE_FN(ISA(s6), 6, 2)
TILE_FN(ISA(n1), 1, 1)
TILE_FN(ISA(n2), 2, 1)
TILE_FN(ISA(n3), 3, 1)
TILE_FN(ISA(n4), 4, 1)
TILE_FN(ISA(n5), 5, 1)
TILE_FN(ISA(n6), 6, 1)
TILE_FN(ISA(b1), 1, NBV)
TILE_FN(ISA(b2), 2, NBV)
TILE_FN(ISA(b3), 3, NBV)
TILE_FN(ISA(b4), 4, NBV)
TILE_FN(ISA(b5), 5, NBV)
TILE_FN(ISA(b6), 6, NBV)

#undef ACC
#undef ROW
#undef OUT
#undef TILE_FN

/* The forward tile of mb <= MRF rows and G (3 or 4) gates. */
ISA_ATTR static inline void ISA(fwd_tile)(int G, int mb, int K, const seqrt_real *A, int lda,
                                          const seqrt_real *P, seqrt_real *acc)
{
    if (G == 4) {
        switch (mb) {
#if MRF > 3
        case 6: ISA(f6)(K, A, lda, P, acc); break;
        case 5: ISA(f5)(K, A, lda, P, acc); break;
        case 4: ISA(f4)(K, A, lda, P, acc); break;
#endif
        case 3: ISA(f3)(K, A, lda, P, acc); break;
        case 2: ISA(f2)(K, A, lda, P, acc); break;
        default: ISA(f1)(K, A, lda, P, acc); break;
        }
    } else {
        switch (mb) {
#if MRF > 3
        case 6: ISA(g6)(K, A, lda, P, acc); break;
        case 5: ISA(g5)(K, A, lda, P, acc); break;
        case 4: ISA(g4)(K, A, lda, P, acc); break;
#endif
        case 3: ISA(g3)(K, A, lda, P, acc); break;
        case 2: ISA(g2)(K, A, lda, P, acc); break;
        default: ISA(g1)(K, A, lda, P, acc); break;
        }
    }
}

/* A tile of mb <= 6 rows from the tile functions of 1 .. 6 rows. */
#define TILE_SWITCH(name, t1, t2, t3, t4, t5, t6)                                              \
    ISA_ATTR static inline void name(int mb, int K, const seqrt_real *A, int lda,              \
                                     const seqrt_real *P, seqrt_real *acc)                     \
    {                                                                                          \
        switch (mb) {                                                                          \
        case 6: t6(K, A, lda, P, acc); break;                                                  \
        case 5: t5(K, A, lda, P, acc); break;                                                  \
        case 4: t4(K, A, lda, P, acc); break;                                                  \
        case 3: t3(K, A, lda, P, acc); break;                                                  \
        case 2: t2(K, A, lda, P, acc); break;                                                  \
        default: t1(K, A, lda, P, acc); break;                                                 \
        }                                                                                      \
    }
/* The backward tile: MRB rows of the transposed kernel, NUB units. */
TILE_SWITCH(ISA(bwd_tile), ISA(b1), ISA(b2), ISA(b3), ISA(b4), ISA(b5), ISA(b6))
/* A one-vector forward tile (a reset_after=false GRU's s_t U_n): MRS rows. */
TILE_SWITCH(ISA(one_tile), ISA(n1), ISA(n2), ISA(n3), ISA(n4), ISA(n5), ISA(n6))
/* A SimpleRNN's forward tile, and a reset_after=false GRU's h U_zr: MRS
 * rows of 2 vectors (for the SimpleRNN one gate, so a column tile is two
 * vectors of units wide: 12 accumulators, and each broadcast of h feeds
 * two multiply-adds). */
TILE_SWITCH(ISA(rnn_tile), ISA(s1), ISA(s2), ISA(s3), ISA(s4), ISA(s5), ISA(s6))
#undef TILE_SWITCH

#if ISA_VGATES
/* ---- the gate math of a whole tile in vectors ----
 *
 * gate_exp, gate_sigmoid and gate_tanh (rnn_step.c) on one vector, the
 * same operations in the same order, and a tile's rows interleaved: one
 * row's chain (the polynomial, a division, then the gate that depends on
 * it) is ~150 cycles of dependent operations, and auto-vectorised one row
 * at a time the core sat waiting on it (W6's GRU(32) forward spent 2.1 of
 * its 3.0 ms there on a Zen 3 core). Rows r < R (a constant: MRF, or 1)
 * are independent chains side by side. Where a sum has two products,
 * ISA_FMA says which one is fused: left to -ffp-contract, the choice can
 * differ between the unrolled rows and a single row, and a unit's value
 * must not depend on which of the two computed it. */
typedef int32_t ISA(ivec) __attribute__((vector_size(ISA_NU * sizeof(int32_t))));
typedef uint32_t ISA(uvec) __attribute__((vector_size(ISA_NU * sizeof(int32_t))));

/* m ? a : b, lane by lane (m: all ones or all zeros) */
ISA_ATTR static inline vnu ISA(vsel)(ISA(ivec) m, vnu a, vnu b)
{
    return (vnu)((m & (ISA(ivec))a) | (~m & (ISA(ivec))b));
}

ISA_ATTR static inline vnu ISA(vexp)(vnu x)
{
    vnu c = ISA(vsel)(x < -87.0f, (vnu){0} - 87.0f, x);
    c = ISA(vsel)(c > 88.0f, (vnu){0} + 88.0f, c);
    const vnu m = c * 1.44269504088896341f + 12582912.0f;
    const vnu k = m - 12582912.0f;
    const vnu r = ISA_FMA(k, (vnu){0} + 2.12194440e-4f, c - k * 0.693359375f);
    vnu y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
              4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    const ISA(uvec) e = ((ISA(uvec))m - 0x4B400000u + 127u) << 23;
    return y * (vnu)e;
}

ISA_ATTR static inline vnu ISA(vsigmoid)(vnu x) { return 1.0f / (1.0f + ISA(vexp)(-x)); }

ISA_ATTR static inline vnu ISA(vtanh)(vnu x)
{
    const ISA(ivec) neg = x < 0.0f;
    const vnu a = ISA(vsel)(neg, -x, x), e = ISA(vexp)(-2.0f * a);
    vnu t = (1.0f - e) / (1.0f + e);
    const vnu x2 = x * x, small = x * (1.0f + x2 * (-0.333333333f + x2 * 0.133333333f));
    t = ISA(vsel)(neg, -t, t);
    return ISA(vsel)(a < 0.0625f, small, t);
}

#define VLD(p) (*(const vnu *)(p))
#define VST(p, v) (*(vnu *)(p) = (v))

/* lstm_fwd_units on R whole rows: acc row r's gate g at acc[(4 r + g) NU];
 * rows of z G4 apart, of cp, ct, tt, ht U apart. */
ISA_ATTR static inline void ISA(lstm_gates)(const int R, const seqrt_real *acc,
                                            seqrt_real *z, int U, const seqrt_real *cp,
                                            seqrt_real *ct, seqrt_real *tt, seqrt_real *ht)
{
    const size_t G4 = 4 * (size_t)U, u1 = (size_t)U;
    vnu ig[MRF], fg[MRF], cg[MRF], og[MRF], a[MRF];
    UNROLL for (int r = 0; r < R; r++) {
        const seqrt_real *ac = acc + (size_t)4 * r * ISA_NU, *zr = z + r * G4;
        ig[r] = ISA(vsigmoid)(VLD(ac) + VLD(zr));
        fg[r] = ISA(vsigmoid)(VLD(ac + ISA_NU) + VLD(zr + u1));
        cg[r] = ISA(vtanh)(VLD(ac + 2 * ISA_NU) + VLD(zr + 2 * u1));
        og[r] = ISA(vsigmoid)(VLD(ac + 3 * ISA_NU) + VLD(zr + 3 * u1));
    }
    UNROLL for (int r = 0; r < R; r++) {
        const vnu cn = ISA_FMA(fg[r], VLD(cp + r * u1), ig[r] * cg[r]);
        VST(ct + r * u1, cn);
        a[r] = ISA(vtanh)(cn);
    }
    UNROLL for (int r = 0; r < R; r++) {
        seqrt_real *zr = z + r * G4;
        VST(tt + r * u1, a[r]);
        VST(ht + r * u1, og[r] * a[r]);
        VST(zr, ig[r]);
        VST(zr + u1, fg[r]);
        VST(zr + 2 * u1, cg[r]);
        VST(zr + 3 * u1, og[r]);
    }
}

/* gru_fwd_units on R whole rows: acc row r's block g at acc[(3 r + g) NU];
 * bh: the recurrent bias at the tile's units, or NULL; rows of z and q G3
 * apart, of hp and ht U apart. */
ISA_ATTR static inline void ISA(gru_gates)(const int R, const seqrt_real *acc,
                                           const seqrt_real *bh, seqrt_real *z, seqrt_real *q,
                                           int U, const seqrt_real *hp, seqrt_real *ht)
{
    const size_t G3 = 3 * (size_t)U, u1 = (size_t)U;
    const vnu bz = bh ? VLD(bh) : (vnu){0}, br = bh ? VLD(bh + u1) : (vnu){0};
    const vnu bn = bh ? VLD(bh + 2 * u1) : (vnu){0};
    vnu zg[MRF], rg[MRF], ng[MRF];
    UNROLL for (int r = 0; r < R; r++) {
        const seqrt_real *ac = acc + (size_t)3 * r * ISA_NU, *zr = z + r * G3;
        zg[r] = ISA(vsigmoid)(VLD(zr) + (VLD(ac) + bz));
        rg[r] = ISA(vsigmoid)(VLD(zr + u1) + (VLD(ac + ISA_NU) + br));
    }
    UNROLL for (int r = 0; r < R; r++) {
        const vnu qn = VLD(acc + (size_t)(3 * r + 2) * ISA_NU) + bn;
        VST(q + r * G3 + 2 * u1, qn);
        ng[r] = ISA(vtanh)(VLD(z + r * G3 + 2 * u1) + rg[r] * qn);
    }
    UNROLL for (int r = 0; r < R; r++) {
        seqrt_real *zr = z + r * G3;
        VST(ht + r * u1, ISA_FMA(zg[r], VLD(hp + r * u1), (1 - zg[r]) * ng[r]));
        VST(zr, zg[r]);
        VST(zr + u1, rg[r]);
        VST(zr + 2 * u1, ng[r]);
    }
}
/* rnn_fwd_units on R whole rows of a SimpleRNN tile (2 vectors): acc row
 * r at acc[2 r NU]; rows of z and ht U apart. */
ISA_ATTR static inline void ISA(rnn_gates)(const int R, const seqrt_real *acc,
                                           const seqrt_real *z, int U, seqrt_real *ht)
{
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int v = 0; v < 2; v++) {
            const size_t o = (size_t)r * U + (size_t)v * ISA_NU;
            VST(ht + o, ISA(vtanh)(VLD(z + o) + VLD(acc + (size_t)(2 * r + v) * ISA_NU)));
        }
}
#undef VLD
#undef VST
#endif

/* h_{t-1} [rows, U] times the member's column tiles of the packed kernel,
 * each tile's gates finished at once (lstm_fwd_units). */
ISA_ATTR static void ISA(lstm_fwd)(const part *w, int U, const seqrt_real *pk,
                                   const seqrt_real *hp, seqrt_real *zt, const seqrt_real *cp,
                                   seqrt_real *ct, seqrt_real *tt, seqrt_real *ht)
{
    seqrt_real acc[MRF * 4 * ISA_NU];
    const size_t G4 = 4 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * ISA_NU, nb = U - j0 < ISA_NU ? U - j0 : ISA_NU;
        const seqrt_real *P = pk + (size_t)p * U * 4 * ISA_NU;
        for (int b = w->r0; b < w->r1; b += MRF) {
            const int mb = w->r1 - b < MRF ? w->r1 - b : MRF;
            ISA(fwd_tile)(4, mb, U, hp + (size_t)b * U, U, P, acc);
#if ISA_VGATES
            /* whole tiles always here, whatever the rows: a unit's value then
             * does not depend on how the team split the rows */
            if (nb == ISA_NU) {
                const size_t o = (size_t)b * U + j0;
                if (mb == MRF)
                    ISA(lstm_gates)(MRF, acc, zt + (size_t)b * G4 + j0, U, cp + o, ct + o,
                                    tt + o, ht + o);
                else
                    for (int r = 0; r < mb; r++)
                        ISA(lstm_gates)(1, acc + (size_t)r * 4 * ISA_NU,
                                        zt + (size_t)(b + r) * G4 + j0, U, cp + o + (size_t)r * U,
                                        ct + o + (size_t)r * U, tt + o + (size_t)r * U,
                                        ht + o + (size_t)r * U);
                continue;
            }
#endif
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                const size_t o = row * U + j0;
                if (nb == ISA_NU)
                    lstm_fwd_units(acc + r * 4 * ISA_NU, ISA_NU, zt + row * G4 + j0, U, cp + o,
                                   ct + o, tt + o, ht + o, ISA_NU);
                else
                    lstm_fwd_units(acc + r * 4 * ISA_NU, ISA_NU, zt + row * G4 + j0, U, cp + o,
                                   ct + o, tt + o, ht + o, nb);
            }
        }
    }
}

/* dz_{t+1} [rows, 4U] times the member's tiles of the transposed kernel:
 * dh_t for those units, then (zt given) step t's gate gradients into zt
 * and dc; (zt NULL) dh_t stored into dh. With dzn NULL, dh_t is dh. */
ISA_ATTR static void ISA(lstm_bwd)(const part *w, int U, const seqrt_real *pkt,
                                   const seqrt_real *dzn, seqrt_real *dh, const seqrt_real *dyt,
                                   int64_t dy_ld, seqrt_real *zt, const seqrt_real *cp,
                                   const seqrt_real *tt, seqrt_real *dc)
{
    seqrt_real acc[MRB * NUB], dsum[NUB];
    const size_t G4 = 4 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * NUB, nb = U - j0 < NUB ? U - j0 : NUB;
        const seqrt_real *P = pkt + (size_t)p * G4 * NUB;
        for (int b = w->r0; b < w->r1; b += MRB) {
            const int mb = w->r1 - b < MRB ? w->r1 - b : MRB;
            if (dzn)
                ISA(bwd_tile)(mb, (int)G4, dzn + (size_t)b * G4, (int)G4, P, acc);
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                seqrt_real *dhr = dh + row * U + j0;
                if (!zt) {
                    memcpy(dhr, acc + r * NUB, sizeof(seqrt_real) * (size_t)nb);
                    continue;
                }
                const seqrt_real *dyr = dyt ? dyt + (int64_t)row * dy_ld + j0 : NULL;
                if (dyr) /* the next step's dy: rows lie a whole sequence apart, too many streams */
                    __builtin_prefetch((const void *)((uintptr_t)dyr - (uintptr_t)U * sizeof *dyr));
                const seqrt_real *dhin = lstm_dh_in(dzn ? acc + r * NUB : dhr, dyr, dsum, nb);
                if (nb == NUB)
                    lstm_bwd_units(dhin, zt + row * G4 + j0, U, cp + row * U + j0,
                                   tt + row * U + j0, dc + row * U + j0, NUB);
                else
                    lstm_bwd_units(dhin, zt + row * G4 + j0, U, cp + row * U + j0,
                                   tt + row * U + j0, dc + row * U + j0, nb);
            }
        }
    }
}

/* GRU (reset_after): h_{t-1} [rows, U] times the member's column tiles of
 * the packed kernel, each tile's gates and h_t finished at once. */
ISA_ATTR static void ISA(gru_fwd)(const part *w, int U, const seqrt_real *pk,
                                  const seqrt_real *bh, const seqrt_real *hp, seqrt_real *zt,
                                  seqrt_real *qt, seqrt_real *ht)
{
    seqrt_real acc[MRF * 3 * ISA_NU];
    const size_t G3 = 3 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * ISA_NU, nb = U - j0 < ISA_NU ? U - j0 : ISA_NU;
        const seqrt_real *P = pk + (size_t)p * U * 3 * ISA_NU;
        for (int b = w->r0; b < w->r1; b += MRF) {
            const int mb = w->r1 - b < MRF ? w->r1 - b : MRF;
            ISA(fwd_tile)(3, mb, U, hp + (size_t)b * U, U, P, acc);
#if ISA_VGATES
            if (nb == ISA_NU) { /* as in lstm_fwd */
                const size_t o = (size_t)b * U + j0;
                const seqrt_real *bj = bh ? bh + j0 : NULL;
                if (mb == MRF)
                    ISA(gru_gates)(MRF, acc, bj, zt + (size_t)b * G3 + j0,
                                   qt + (size_t)b * G3 + j0, U, hp + o, ht + o);
                else
                    for (int r = 0; r < mb; r++)
                        ISA(gru_gates)(1, acc + (size_t)r * 3 * ISA_NU, bj,
                                       zt + (size_t)(b + r) * G3 + j0,
                                       qt + (size_t)(b + r) * G3 + j0, U,
                                       hp + o + (size_t)r * U, ht + o + (size_t)r * U);
                continue;
            }
#endif
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                const seqrt_real *a = acc + r * 3 * ISA_NU, *hpr = hp + row * U + j0;
                seqrt_real *z = zt + row * G3 + j0, *q = qt + row * G3 + j0, *hr = ht + row * U + j0;
                if (bh && nb == ISA_NU)
                    gru_fwd_units(a, ISA_NU, bh + j0, 1, z, q, U, hpr, hr, ISA_NU);
                else if (bh)
                    gru_fwd_units(a, ISA_NU, bh + j0, 1, z, q, U, hpr, hr, nb);
                else if (nb == ISA_NU)
                    gru_fwd_units(a, ISA_NU, NULL, 0, z, q, U, hpr, hr, ISA_NU);
                else
                    gru_fwd_units(a, ISA_NU, NULL, 0, z, q, U, hpr, hr, nb);
            }
        }
    }
}

/* GRU (reset_after): dq_{t+1} [rows, 3U] times the member's tiles of the
 * transposed kernel, added to dh (which holds dh_{t+1} z_{t+1}) for those
 * units; then (zt given) step t's gradients into zt, qt and dh; (zt NULL)
 * only the sum, dh_{-1}. With dqn NULL (the last step) dh is as given. */
ISA_ATTR static void ISA(gru_bwd)(const part *w, int U, const seqrt_real *pkt,
                                  const seqrt_real *dqn, seqrt_real *dh, const seqrt_real *dyt,
                                  int64_t dy_ld, seqrt_real *zt, seqrt_real *qt,
                                  const seqrt_real *hp)
{
    seqrt_real acc[MRB * NUB], dsum[NUB];
    const size_t G3 = 3 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * NUB, nb = U - j0 < NUB ? U - j0 : NUB;
        const seqrt_real *P = pkt + (size_t)p * G3 * NUB;
        for (int b = w->r0; b < w->r1; b += MRB) {
            const int mb = w->r1 - b < MRB ? w->r1 - b : MRB;
            if (dqn)
                ISA(bwd_tile)(mb, (int)G3, dqn + (size_t)b * G3, (int)G3, P, acc);
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                seqrt_real *dhr = dh + row * U + j0;
                const seqrt_real *dyr = dyt ? dyt + (int64_t)row * dy_ld + j0 : NULL;
                if (dyr) /* as in lstm_bwd */
                    __builtin_prefetch((const void *)((uintptr_t)dyr - (uintptr_t)U * sizeof *dyr));
                gru_dh_in(dqn ? acc + r * NUB : NULL, dhr, dyr, dsum, nb);
                if (!zt) {
                    memcpy(dhr, dsum, sizeof(seqrt_real) * (size_t)nb);
                    continue;
                }
                seqrt_real *z = zt + row * G3 + j0, *q = qt + row * G3 + j0;
                if (nb == NUB)
                    gru_bwd_units(dsum, z, q, U, hp + row * U + j0, dhr, NUB);
                else
                    gru_bwd_units(dsum, z, q, U, hp + row * U + j0, dhr, nb);
            }
        }
    }
}

/* SimpleRNN (tanh): h_t = tanh(z_t + h_{t-1} U) for the member's column
 * tiles (2 vectors of units each), MRS rows at a time. */
ISA_ATTR static void ISA(rnn_fwd)(const part *w, int U, const seqrt_real *pk,
                                  const seqrt_real *hp, const seqrt_real *zt, seqrt_real *ht)
{
    enum { RNU = 2 * ISA_NU };
    seqrt_real acc[MRS * RNU];
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * RNU, nb = U - j0 < RNU ? U - j0 : RNU;
        const seqrt_real *P = pk + (size_t)p * U * RNU;
        for (int b = w->r0; b < w->r1; b += MRS) {
            const int mb = w->r1 - b < MRS ? w->r1 - b : MRS;
            ISA(rnn_tile)(mb, U, hp + (size_t)b * U, U, P, acc);
            const size_t o = (size_t)b * U + j0;
#if ISA_VGATES
            if (nb == RNU) { /* as in lstm_fwd */
                if (mb == MRS)
                    ISA(rnn_gates)(MRS, acc, zt + o, U, ht + o);
                else
                    for (int r = 0; r < mb; r++)
                        ISA(rnn_gates)(1, acc + (size_t)r * RNU, zt + o + (size_t)r * U, U,
                                       ht + o + (size_t)r * U);
                continue;
            }
#endif
            for (int r = 0; r < mb; r++)
                rnn_fwd_units(acc + (size_t)r * RNU, zt + o + (size_t)r * U,
                              ht + o + (size_t)r * U, nb);
        }
    }
}

/* SimpleRNN: dz_{t+1} [rows, U] times the member's tiles of the transposed
 * kernel, plus dy_t: dh_t for those units; then (zt given) dz_t into zt,
 * from h_t (ht); (zt NULL) dh_t stored into dh. With dzn NULL, dh_t is dh
 * (plus dy_t). */
ISA_ATTR static void ISA(rnn_bwd)(const part *w, int U, const seqrt_real *pkt,
                                  const seqrt_real *dzn, seqrt_real *dh, const seqrt_real *dyt,
                                  int64_t dy_ld, seqrt_real *zt, const seqrt_real *ht)
{
    seqrt_real acc[MRB * NUB], dsum[NUB];
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * NUB, nb = U - j0 < NUB ? U - j0 : NUB;
        const seqrt_real *P = pkt + (size_t)p * U * NUB;
        for (int b = w->r0; b < w->r1; b += MRB) {
            const int mb = w->r1 - b < MRB ? w->r1 - b : MRB;
            if (dzn)
                ISA(bwd_tile)(mb, U, dzn + (size_t)b * U, U, P, acc);
            for (int r = 0; r < mb; r++) {
                const size_t o = (size_t)(b + r) * U + j0;
                if (!zt) {
                    memcpy(dh + o, acc + r * NUB, sizeof(seqrt_real) * (size_t)nb);
                    continue;
                }
                const seqrt_real *dyr = dyt ? dyt + (int64_t)(b + r) * dy_ld + j0 : NULL;
                if (dyr) /* as in lstm_bwd */
                    __builtin_prefetch((const void *)((uintptr_t)dyr - (uintptr_t)U * sizeof *dyr));
                const seqrt_real *dhin = lstm_dh_in(dzn ? acc + r * NUB : dh + o, dyr, dsum, nb);
                if (nb == NUB)
                    rnn_bwd_units(dhin, zt + o, ht + o, NUB);
                else
                    rnn_bwd_units(dhin, zt + o, ht + o, nb);
            }
        }
    }
}

/* GRU (reset_after=false), first product: h_{t-1} [rows, U] times the
 * member's tiles of U_zr ([U][z r][NU], two vectors: rnn_tile's shape),
 * z and r finished, s_t = r h_{t-1}. */
ISA_ATTR static void ISA(grub_fwd_zr)(const part *w, int U, const seqrt_real *pzr,
                                      const seqrt_real *hp, seqrt_real *zt, seqrt_real *st)
{
    seqrt_real acc[MRS * 2 * ISA_NU];
    const size_t G3 = 3 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * ISA_NU, nb = U - j0 < ISA_NU ? U - j0 : ISA_NU;
        const seqrt_real *P = pzr + (size_t)p * U * 2 * ISA_NU;
        for (int b = w->r0; b < w->r1; b += MRS) {
            const int mb = w->r1 - b < MRS ? w->r1 - b : MRS;
            ISA(rnn_tile)(mb, U, hp + (size_t)b * U, U, P, acc);
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                if (nb == ISA_NU)
                    grub_zr_units(acc + (size_t)r * 2 * ISA_NU, ISA_NU, zt + row * G3 + j0, U,
                                  hp + row * U + j0, st + row * U + j0, ISA_NU);
                else
                    grub_zr_units(acc + (size_t)r * 2 * ISA_NU, ISA_NU, zt + row * G3 + j0, U,
                                  hp + row * U + j0, st + row * U + j0, nb);
            }
        }
    }
}

/* Second product: s_t [rows, U] times the member's tiles of U_n; n and
 * h_t finished. */
ISA_ATTR static void ISA(grub_fwd_n)(const part *w, int U, const seqrt_real *pn,
                                     const seqrt_real *hp, const seqrt_real *st, seqrt_real *zt,
                                     seqrt_real *ht)
{
    seqrt_real acc[MRS * ISA_NU];
    const size_t G3 = 3 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * ISA_NU, nb = U - j0 < ISA_NU ? U - j0 : ISA_NU;
        const seqrt_real *P = pn + (size_t)p * U * ISA_NU;
        for (int b = w->r0; b < w->r1; b += MRS) {
            const int mb = w->r1 - b < MRS ? w->r1 - b : MRS;
            ISA(one_tile)(mb, U, st + (size_t)b * U, U, P, acc);
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                if (nb == ISA_NU)
                    grub_n_units(acc + (size_t)r * ISA_NU, zt + row * G3 + j0, U,
                                 hp + row * U + j0, ht + row * U + j0, ISA_NU);
                else
                    grub_n_units(acc + (size_t)r * ISA_NU, zt + row * G3 + j0, U,
                                 hp + row * U + j0, ht + row * U + j0, nb);
            }
        }
    }
}

/* Backward, first half: [az ar]_{t+1} [rows, 2U] times the member's tiles
 * of U_zr^T, added to dh (which holds dh_{t+1} z + ds r) and dy_t: dh_t;
 * then (zt given) az, an into zt and dh_t z into dh; (zt NULL) dh_t into
 * dh. With dzn NULL (the last step) dh is as given. */
ISA_ATTR static void ISA(grub_bwd_a)(const part *w, int U, const seqrt_real *ptzr,
                                     const seqrt_real *dzn, seqrt_real *dh,
                                     const seqrt_real *dyt, int64_t dy_ld, seqrt_real *zt,
                                     const seqrt_real *hp)
{
    seqrt_real acc[MRB * NUB], dsum[NUB];
    const size_t G3 = 3 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * NUB, nb = U - j0 < NUB ? U - j0 : NUB;
        const seqrt_real *P = ptzr + (size_t)p * 2 * U * NUB;
        for (int b = w->r0; b < w->r1; b += MRB) {
            const int mb = w->r1 - b < MRB ? w->r1 - b : MRB;
            if (dzn)
                ISA(bwd_tile)(mb, 2 * U, dzn + (size_t)b * G3, (int)G3, P, acc);
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                seqrt_real *dhr = dh + row * U + j0;
                const seqrt_real *dyr = dyt ? dyt + (int64_t)row * dy_ld + j0 : NULL;
                if (dyr) /* as in lstm_bwd */
                    __builtin_prefetch((const void *)((uintptr_t)dyr - (uintptr_t)U * sizeof *dyr));
                gru_dh_in(dzn ? acc + r * NUB : NULL, dhr, dyr, dsum, nb);
                if (!zt) {
                    memcpy(dhr, dsum, sizeof(seqrt_real) * (size_t)nb);
                    continue;
                }
                if (nb == NUB)
                    grub_bwd_a_units(dsum, zt + row * G3 + j0, U, hp + row * U + j0, dhr, NUB);
                else
                    grub_bwd_a_units(dsum, zt + row * G3 + j0, U, hp + row * U + j0, dhr, nb);
            }
        }
    }
}

/* Backward, second half: an_t [rows, U] times the member's tiles of U_n^T:
 * ds; ar into zt, dh += ds r. */
ISA_ATTR static void ISA(grub_bwd_b)(const part *w, int U, const seqrt_real *ptn,
                                     seqrt_real *zt, seqrt_real *dh, const seqrt_real *hp)
{
    seqrt_real acc[MRB * NUB];
    const size_t G3 = 3 * (size_t)U;
    for (int p = w->p0; p < w->p1; p++) {
        const int j0 = p * NUB, nb = U - j0 < NUB ? U - j0 : NUB;
        const seqrt_real *P = ptn + (size_t)p * U * NUB;
        for (int b = w->r0; b < w->r1; b += MRB) {
            const int mb = w->r1 - b < MRB ? w->r1 - b : MRB;
            ISA(bwd_tile)(mb, U, zt + (size_t)b * G3 + 2 * (size_t)U, (int)G3, P, acc);
            for (int r = 0; r < mb; r++) {
                const size_t row = (size_t)(b + r);
                if (nb == NUB)
                    grub_bwd_b_units(acc + r * NUB, zt + row * G3 + j0, U, hp + row * U + j0,
                                     dh + row * U + j0, NUB);
                else
                    grub_bwd_b_units(acc + r * NUB, zt + row * G3 + j0, U, hp + row * U + j0,
                                     dh + row * U + j0, nb);
            }
        }
    }
}

#undef vnu
#undef NBV

static const kernels ISA(kernels) = {
    ISA_NU,           MRF,             ISA(lstm_fwd),   ISA(lstm_bwd),   ISA(gru_fwd),
    ISA(gru_bwd),     ISA(rnn_fwd),    ISA(rnn_bwd),    ISA(grub_fwd_zr), ISA(grub_fwd_n),
    ISA(grub_bwd_a),  ISA(grub_bwd_b)};

#undef ISA
#undef ISA_ATTR
#undef ISA_VGATES
#undef ISA_FMA
#undef ISA_NU
#undef MRF
#undef MRB
