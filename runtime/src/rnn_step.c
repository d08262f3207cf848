/*
 * rnn_step.c: fused recurrent steps (seqrt_rnn.h) on the thread team.
 *
 * The design is the persistent-RNN one (Diamos et al., 2016) on a CPU: a
 * whole sequence is one team job; each member owns a set of column tiles
 * of the recurrent kernel (SEQRT_RNN_NU units, all gates of those units),
 * packs them itself at the start, so they sit in its own cache for the
 * whole sequence, and computes those units of every step; the members meet
 * once per step, where step t + 1 needs all of h_t (forward) or of dz_t
 * (backward). When the packed kernel is small (fits one core's L2 many
 * times over) and the batch is large enough, the members split the batch
 * instead: rows are independent through time, so there is no barrier at
 * all. Within a member the per-step product is register-blocked (MRF rows
 * x 4 gate vectors forward, MRB rows x NUB units backward) and the gate
 * math runs on the finished tile. A forward tile is one vector of the
 * instruction set wide: SEQRT_RNN_NU (8) units for AVX2 and the baseline,
 * 16 floats for AVX-512, where the wider tile halves the gate math's
 * instructions and 32 registers hold 6 rows x 4 gates of accumulators.
 *
 * Built with -ffp-contract=fast (multiply-adds fuse) and
 * -fno-trapping-math (the gate loops vectorise), like gemm_small.c.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "seqrt_kernel.h"
#include "seqrt_rnn.h"
#include "seqrt_team.h"

enum { NU = SEQRT_RNN_NU, NUB = SEQRT_RNN_NUB };
/* Rows of a SimpleRNN's forward tile in every set: one gate, so 6 rows
 * for 6 accumulators, enough to hide the multiply-add latency. */
enum { MRS = 6 };

/* Loops with constant bounds over a tile's rows: unrolled, their arrays
 * are registers. */
#define UNROLL _Pragma("GCC unroll 8")

/* A member's share: column tiles [p0, p1) of rows [r0, r1). */
typedef struct {
    int p0, p1, r0, r1;
} part;

/* ---- gate nonlinearities ---- */

#ifdef SEQRT_DOUBLE
#define gate_sigmoid seqrt_sigmoid
#define gate_tanh SEQRT_TANH
#else
/* The clamped exponential (seqrt_kernel.h): the gates saturate alike at
 * +-Inf, and its selects were most of the fused forward step's time. */
#define gate_exp seqrt_expf_clamped

static inline float gate_sigmoid(float x) { return 1.0f / (1.0f + gate_exp(-x)); }

/* seqrt_tanh's formula on gate_exp. */
static inline float gate_tanh(float x)
{
    const float a = x < 0 ? -x : x, e = gate_exp(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    const float x2 = x * x, small = x * (1.0f + x2 * (-0.333333333f + x2 * 0.133333333f));
    t = x < 0 ? -t : t;
    return a < 0.0625f ? small : t;
}
#endif

/* ---- LSTM gate math on one tile row (the generated code's arithmetic) ---- */

/* acc: the tile's h_{t-1} U for n units, gate g at acc[g * nu] (nu: the
 * tile's width); z: x W + b in, activated gates out (gate g at z[g * U]);
 * tt: tanh(c_t) out, which the backward reads instead of computing it
 * again. */
static inline void lstm_fwd_units(const seqrt_real *restrict acc, int nu, seqrt_real *restrict z,
                                  int U,
                                  const seqrt_real *restrict cp, seqrt_real *restrict ct,
                                  seqrt_real *restrict tt, seqrt_real *restrict ht, int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real ig = gate_sigmoid(acc[u] + z[u]);
        const seqrt_real fg = gate_sigmoid(acc[nu + u] + z[U + u]);
        const seqrt_real cg = gate_tanh(acc[2 * nu + u] + z[2 * U + u]);
        const seqrt_real og = gate_sigmoid(acc[3 * nu + u] + z[3 * U + u]);
        const seqrt_real cn = fg * cp[u] + ig * cg;
        const seqrt_real a = gate_tanh(cn);
        ct[u] = cn;
        tt[u] = a;
        ht[u] = og * a;
        z[u] = ig;
        z[U + u] = fg;
        z[2 * U + u] = cg;
        z[3 * U + u] = og;
    }
}

/* dh_t for n units; z: gates in, dz out; tt: the forward's tanh(c_t);
 * dc: dc_t in, dc_{t-1} out. */
static inline void lstm_bwd_units(const seqrt_real *restrict dh, seqrt_real *restrict z, int U,
                                  const seqrt_real *restrict cp, const seqrt_real *restrict tt,
                                  seqrt_real *restrict dc, int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real dhv = dh[u];
        const seqrt_real ig = z[u], fg = z[U + u], cg = z[2 * U + u], og = z[3 * U + u];
        const seqrt_real a = tt[u];
        const seqrt_real dcv = dc[u] + dhv * og * (1 - a * a);
        z[u] = dcv * cg * ig * (1 - ig);
        z[U + u] = dcv * cp[u] * fg * (1 - fg);
        z[2 * U + u] = dcv * ig * (1 - cg * cg);
        z[3 * U + u] = dhv * a * og * (1 - og);
        dc[u] = dcv * fg;
    }
}

/* dhin + dy (when dy is not NULL) for n units into buf, so that the gate
 * loop above has no condition inside and vectorises. */
static inline const seqrt_real *lstm_dh_in(const seqrt_real *restrict dhin,
                                           const seqrt_real *restrict dy,
                                           seqrt_real *restrict buf, int n)
{
    if (!dy)
        return dhin;
    for (int u = 0; u < n; u++) buf[u] = dhin[u] + dy[u];
    return buf;
}

/* ---- GRU (reset_after) gate math on one tile row ---- */

/* acc: the tile's h_{t-1} U for n units, block g at acc[g * nu]; bh: the
 * recurrent bias at the tile's units (has_bias 0: none, a constant, so the
 * loop is specialised); z: x W + b_x in, activated gates out (block g at
 * z[g * U]); q: the n block of the recurrent part out, for backward. */
static inline void gru_fwd_units(const seqrt_real *restrict acc, int nu, const seqrt_real *restrict bh,
                                 int has_bias, seqrt_real *restrict z, seqrt_real *restrict q,
                                 int U, const seqrt_real *restrict hp, seqrt_real *restrict ht,
                                 int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real qz = acc[u] + (has_bias ? bh[u] : 0);
        const seqrt_real qr = acc[nu + u] + (has_bias ? bh[U + u] : 0);
        const seqrt_real qn = acc[2 * nu + u] + (has_bias ? bh[2 * U + u] : 0);
        const seqrt_real zg = gate_sigmoid(z[u] + qz);
        const seqrt_real rg = gate_sigmoid(z[U + u] + qr);
        const seqrt_real ng = gate_tanh(z[2 * U + u] + rg * qn);
        ht[u] = zg * hp[u] + (1 - zg) * ng;
        z[u] = zg;
        z[U + u] = rg;
        z[2 * U + u] = ng;
        q[2 * U + u] = qn;
    }
}

/* dh_t for n units (the sum gru_dh_in made); z: gates in, the input
 * part's gradient out; q: the n block of the recurrent part in, the
 * recurrent part's gradient out; dh: dh_t z_t out. */
static inline void gru_bwd_units(const seqrt_real *restrict dhin, seqrt_real *restrict z,
                                 seqrt_real *restrict q, int U, const seqrt_real *restrict hp,
                                 seqrt_real *restrict dh, int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real dhv = dhin[u];
        const seqrt_real zg = z[u], rg = z[U + u], ng = z[2 * U + u], hn = q[2 * U + u];
        const seqrt_real az = dhv * (hp[u] - ng) * zg * (1 - zg);
        const seqrt_real an = dhv * (1 - zg) * (1 - ng * ng);
        const seqrt_real ar = an * hn * rg * (1 - rg);
        z[u] = az;
        z[U + u] = ar;
        z[2 * U + u] = an;
        q[u] = az;
        q[U + u] = ar;
        q[2 * U + u] = an * rg;
        dh[u] = dhv * zg;
    }
}

/* buf = dh (+ acc, the recurrent product, when not NULL) (+ dy when not
 * NULL) for n units, added in the generated code's order; always a copy,
 * so that the gate loop's dh may be written in place. */
static inline void gru_dh_in(const seqrt_real *restrict acc, const seqrt_real *restrict dh,
                             const seqrt_real *restrict dy, seqrt_real *restrict buf, int n)
{
    for (int u = 0; u < n; u++) buf[u] = acc ? dh[u] + acc[u] : dh[u];
    if (dy)
        for (int u = 0; u < n; u++) buf[u] += dy[u];
}

/* ---- SimpleRNN (tanh) unit math on one tile row ---- */

/* h_t = tanh(z + acc) for n units: z the input part x_t W + b, acc the
 * tile's h_{t-1} U. */
static inline void rnn_fwd_units(const seqrt_real *restrict acc, const seqrt_real *restrict z,
                                 seqrt_real *restrict ht, int n)
{
    for (int u = 0; u < n; u++) ht[u] = gate_tanh(z[u] + acc[u]);
}

/* dz_t = dh_t (1 - h_t^2) for n units, into z. */
static inline void rnn_bwd_units(const seqrt_real *restrict dhin, seqrt_real *restrict z,
                                 const seqrt_real *restrict ht, int n)
{
    for (int u = 0; u < n; u++) z[u] = dhin[u] * (1 - ht[u] * ht[u]);
}

/* ---- GRU (reset_after=false) unit math on one tile row ---- */

/* acc: the tile's h_{t-1} [U_z U_r] for n units (block g at acc[g nu]);
 * z: x W + b in, z and r out (blocks 0, 1); st: s_t = r h_{t-1} out. */
static inline void grub_zr_units(const seqrt_real *restrict acc, int nu, seqrt_real *restrict z,
                                 int U, const seqrt_real *restrict hp, seqrt_real *restrict st,
                                 int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real zg = gate_sigmoid(z[u] + acc[u]);
        const seqrt_real rg = gate_sigmoid(z[U + u] + acc[nu + u]);
        z[u] = zg;
        z[U + u] = rg;
        st[u] = rg * hp[u];
    }
}

/* acc: the tile's s_t U_n; z: z (block 0) in, block 2: xn in, n out. */
static inline void grub_n_units(const seqrt_real *restrict acc, seqrt_real *restrict z, int U,
                                const seqrt_real *restrict hp, seqrt_real *restrict ht, int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real zg = z[u], ng = gate_tanh(z[2 * U + u] + acc[u]);
        ht[u] = zg * hp[u] + (1 - zg) * ng;
        z[2 * U + u] = ng;
    }
}

/* dhin: dh_t; z: gates in, az (block 0) and an (block 2) out; dh: dh_t z
 * out. */
static inline void grub_bwd_a_units(const seqrt_real *restrict dhin, seqrt_real *restrict z,
                                    int U, const seqrt_real *restrict hp,
                                    seqrt_real *restrict dh, int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real zg = z[u], ng = z[2 * U + u], dhv = dhin[u];
        z[u] = dhv * (hp[u] - ng) * (zg * (1 - zg));
        z[2 * U + u] = dhv * (1 - zg) * (1 - ng * ng);
        dh[u] = dhv * zg;
    }
}

/* ds: the tile's an U_n^T; z: r (block 1) in, ar out; dh += ds r. */
static inline void grub_bwd_b_units(const seqrt_real *restrict ds, seqrt_real *restrict z, int U,
                                    const seqrt_real *restrict hp, seqrt_real *restrict dh, int n)
{
    for (int u = 0; u < n; u++) {
        const seqrt_real rg = z[U + u];
        dh[u] += ds[u] * rg;
        z[U + u] = ds[u] * hp[u] * (rg * (1 - rg));
    }
}

/* ---- the kernels, once per instruction set ---- */

typedef struct {
    int nu, mrf; /* units per forward tile, rows per forward register tile */
    void (*lstm_fwd)(const part *, int, const seqrt_real *, const seqrt_real *, seqrt_real *,
                     const seqrt_real *, seqrt_real *, seqrt_real *, seqrt_real *);
    void (*lstm_bwd)(const part *, int, const seqrt_real *, const seqrt_real *, seqrt_real *,
                     const seqrt_real *, int64_t, seqrt_real *, const seqrt_real *,
                     const seqrt_real *, seqrt_real *);
    void (*gru_fwd)(const part *, int, const seqrt_real *, const seqrt_real *, const seqrt_real *,
                    seqrt_real *, seqrt_real *, seqrt_real *);
    void (*gru_bwd)(const part *, int, const seqrt_real *, const seqrt_real *, seqrt_real *,
                    const seqrt_real *, int64_t, seqrt_real *, seqrt_real *, const seqrt_real *);
    void (*rnn_fwd)(const part *, int, const seqrt_real *, const seqrt_real *, const seqrt_real *,
                    seqrt_real *);
    void (*rnn_bwd)(const part *, int, const seqrt_real *, const seqrt_real *, seqrt_real *,
                    const seqrt_real *, int64_t, seqrt_real *, const seqrt_real *);
    void (*grub_fwd_zr)(const part *, int, const seqrt_real *, const seqrt_real *, seqrt_real *,
                        seqrt_real *);
    void (*grub_fwd_n)(const part *, int, const seqrt_real *, const seqrt_real *,
                       const seqrt_real *, seqrt_real *, seqrt_real *);
    void (*grub_bwd_a)(const part *, int, const seqrt_real *, const seqrt_real *, seqrt_real *,
                       const seqrt_real *, int64_t, seqrt_real *, const seqrt_real *);
    void (*grub_bwd_b)(const part *, int, const seqrt_real *, seqrt_real *, seqrt_real *,
                       const seqrt_real *);
} kernels;

#ifdef SEQRT_DOUBLE
#define GATES_IN_VECTORS 0 /* the gates are seqrt_kernel.h's, in double */
#else
#define GATES_IN_VECTORS 1
#endif

/* Each set defines ISA(name), ISA_ATTR (its target attribute), ISA_NU
 * (units per forward tile: one vector), ISA_VGATES (gate math in its
 * vectors), MRF and MRB (rows of a forward and a backward register tile);
 * rnn_step_isa.h defines the set's kernels_<isa> and undefines the six. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86_CLONES 1
#include <immintrin.h>
/* 6 rows x 4 gates = 24 zmm accumulators of 32; backward 6 rows x 1. */
#define ISA(name) name##_avx512
#define ISA_ATTR __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#define ISA_NU (64 / (int)sizeof(seqrt_real))
#define ISA_VGATES GATES_IN_VECTORS
#define ISA_FMA(a, b, c) ((vnu)_mm512_fmadd_ps((__m512)(a), (__m512)(b), (__m512)(c)))
#define MRF 6
#define MRB 6
#include "rnn_step_isa.h"
/* 3 rows x 4 gates = 12 ymm accumulators of 16; backward 6 rows x 2. */
#define ISA(name) name##_avx2
#define ISA_ATTR __attribute__((target("avx2,fma")))
#define ISA_VGATES GATES_IN_VECTORS
#define ISA_FMA(a, b, c) ((vnu)_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(c)))
#define ISA_NU NU
#define MRF 3
#define MRB 6
#include "rnn_step_isa.h"
#endif
#define ISA(name) name##_base
#define ISA_ATTR
#define ISA_VGATES 0
#define ISA_NU NU
#define MRF 3
#define MRB 6
#include "rnn_step_isa.h"

/* The widest set the CPU runs. SEQRT_GEMM_KERNEL=base or =avx2 (as for
 * seqrt_gemm's small kernels) caps it, so that tests reach the narrower
 * sets on any CPU. */
static const kernels *pick(void)
{
    const char *cap = getenv("SEQRT_GEMM_KERNEL");
    if (cap && strcmp(cap, "base") == 0)
        return &kernels_base;
#ifdef HAVE_X86_CLONES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        !(cap && strcmp(cap, "avx2") == 0))
        return &kernels_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &kernels_avx2;
#endif
    return &kernels_base;
}

/* ---- packing ---- */

/* Tile p of the forward layout: [U][G][nu], tile p's units of every gate.
 * rk: the kernel's first packed gate block, rows ld apart. */
static void pack_tile(int U, int G, int nu, const seqrt_real *rk, size_t ld, seqrt_real *pk, int p)
{
    const int j0 = p * nu, nb = U - j0 < nu ? U - j0 : nu;
    seqrt_real *d = pk + (size_t)p * U * G * nu;
    for (int k = 0; k < U; k++)
        for (int g = 0; g < G; g++) {
            seqrt_real *o = d + ((size_t)k * G + g) * nu;
            const seqrt_real *s = rk + k * ld + (size_t)g * U + j0;
            for (int u = 0; u < nu; u++) o[u] = u < nb ? s[u] : 0;
        }
}

/* Tile p of the transposed layout: [G*U][NUB], P[k, u] = rk[j0 + u, k]
 * over the G blocks from rk (rows ld apart). */
static void pack_tile_t(int U, int G, const seqrt_real *rk, size_t ld, seqrt_real *pk, int p)
{
    const int j0 = p * NUB, nb = U - j0 < NUB ? U - j0 : NUB;
    const size_t GU = (size_t)G * U;
    seqrt_real *d = pk + (size_t)p * GU * NUB;
    for (int u = 0; u < NUB; u++) {
        const seqrt_real *s = rk + (size_t)(j0 + u) * ld;
        for (size_t k = 0; k < GU; k++) d[k * NUB + u] = u < nb ? s[k] : 0;
    }
}

/* ---- sharing the work out ---- */

/* Below this many bytes of packed kernel a member keeps the whole of it in
 * its L2 anyway (Zen 3: 512 KiB, Skylake-SP and later: 1-2 MiB), so
 * splitting the batch costs no cache and saves the per-step barrier. */
#define ROWS_MAX_PACK (256 * 1024)

typedef struct {
    const kernels *k;
    int T, B, U, G, fnu, P, PB, by_cols; /* fnu: units per forward tile; P, PB: forward and
                                           * transposed tiles */
    int before; /* a GRU with reset_after=false: U_zr and U_n packed apart */
    const seqrt_real *rk, *bh;
    seqrt_real *pk, *z, *q, *h, *c, *tc, *dh, *dc;
    const seqrt_real *dy;
    int64_t dy_ld;
} job;

static void job_init(job *j, int T, int B, int U, int G, const seqrt_real *rk, seqrt_real *pk)
{
    /* the same for every call; atomic because the split step's members
     * run layers at once, and any of them may be first */
    static const kernels *_Atomic picked;
    const kernels *chosen = atomic_load_explicit(&picked, memory_order_relaxed);
    if (!chosen) {
        chosen = pick();
        atomic_store_explicit(&picked, chosen, memory_order_relaxed);
    }
    *j = (job){.k = chosen, .T = T, .B = B, .U = U, .G = G, .rk = rk, .pk = pk};
    j->fnu = G == 1 ? 2 * chosen->nu : chosen->nu; /* a SimpleRNN's tiles: 2 vectors */
    j->P = (U + j->fnu - 1) / j->fnu;
    j->PB = (U + NUB - 1) / NUB;
    const int n = seqrt_team_members();
    const int64_t bytes = SEQRT_RNN_PACK_SIZE(U, G) * (int64_t)sizeof(seqrt_real);
    const int rows_ok = B >= chosen->mrf * n; /* a whole register block each at least */
    j->by_cols = j->PB >= n && (!rows_ok || bytes > ROWS_MAX_PACK);
}

/* Where a reset_after=false GRU's U_n (or U_n^T) tiles start: after all
 * of U_zr's, 2/3 of SEQRT_RNN_PACK_SIZE(U, 3). */
static seqrt_real *before_n(const job *j) { return j->pk + SEQRT_RNN_PACK_SIZE(j->U, 2); }

/* The member's share, and its tiles packed (by_cols: its own; by rows: a
 * share of all, which every member then reads, hence the barrier). */
static part job_start(const job *j, int tid, int n, int transposed)
{
    const int P = transposed ? j->PB : j->P;
    part w = {0, P, 0, j->B};
    int q0 = 0, q1 = P;
    if (n > 1 && j->by_cols) {
        seqrt_team_split(P, tid, n, &w.p0, &w.p1);
        q0 = w.p0, q1 = w.p1;
    } else if (n > 1) {
        seqrt_team_split(j->B, tid, n, &w.r0, &w.r1);
        seqrt_team_split(P, tid, n, &q0, &q1);
    }
    const size_t ld = (size_t)j->G * j->U;
    for (int p = q0; p < q1; p++) {
        if (j->before && transposed) { /* U_zr^T, then U_n^T */
            pack_tile_t(j->U, 2, j->rk, ld, j->pk, p);
            pack_tile_t(j->U, 1, j->rk + 2 * j->U, ld, before_n(j), p);
        } else if (j->before) { /* U_zr, then U_n */
            pack_tile(j->U, 2, j->fnu, j->rk, ld, j->pk, p);
            pack_tile(j->U, 1, j->fnu, j->rk + 2 * j->U, ld, before_n(j), p);
        } else if (transposed) {
            pack_tile_t(j->U, j->G, j->rk, ld, j->pk, p);
        } else {
            pack_tile(j->U, j->G, j->fnu, j->rk, ld, j->pk, p);
        }
    }
    if (n > 1 && !j->by_cols)
        seqrt_team_barrier();
    return w;
}

/* One barrier per step, only where members share a step's result. */
static void step_barrier(const job *j, int n)
{
    if (n > 1 && j->by_cols)
        seqrt_team_barrier();
}

/* ---- LSTM ---- */

static void lstm_fwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 0);
    const size_t BU = (size_t)j->B * j->U, BG = 4 * BU;
    for (int t = 0; t < j->T; t++) {
        if (t)
            step_barrier(j, n);
        j->k->lstm_fwd(&w, j->U, j->pk, j->h + t * BU, j->z + t * BG, j->c + t * BU,
                       j->c + (t + 1) * BU, j->tc + t * BU, j->h + (t + 1) * BU);
    }
}

void seqrt_lstm_forward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                        seqrt_real *z, seqrt_real *h, seqrt_real *c, seqrt_real *tc)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 4, rk, pk);
    j.z = z, j.h = h, j.c = c, j.tc = tc;
    seqrt_team_run(lstm_fwd_job, &j);
}

static void lstm_bwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 1);
    const size_t BU = (size_t)j->B * j->U, BG = 4 * BU;
    const int64_t U = j->U;
    for (int t = j->T - 1; t >= 0; t--) {
        if (t < j->T - 1)
            step_barrier(j, n);
        j->k->lstm_bwd(&w, j->U, j->pk, t < j->T - 1 ? j->z + (t + 1) * BG : NULL, j->dh,
                       j->dy ? j->dy + t * U : NULL, j->dy_ld, j->z + t * BG, j->c + t * BU,
                       j->tc + t * BU, j->dc);
    }
    step_barrier(j, n);
    j->k->lstm_bwd(&w, j->U, j->pk, j->z, j->dh, NULL, 0, NULL, NULL, NULL, NULL);
}

void seqrt_lstm_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                         seqrt_real *z, const seqrt_real *c, const seqrt_real *tc,
                         const seqrt_real *dy, int64_t dy_ld, seqrt_real *dh, seqrt_real *dc)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 4, rk, pk);
    j.z = z, j.c = (seqrt_real *)c, j.tc = (seqrt_real *)tc, j.dy = dy, j.dy_ld = dy_ld, j.dh = dh, j.dc = dc;
    seqrt_team_run(lstm_bwd_job, &j);
}

/* ---- GRU (reset_after) ---- */

static void gru_fwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 0);
    const size_t BU = (size_t)j->B * j->U, BG = 3 * BU;
    for (int t = 0; t < j->T; t++) {
        if (t)
            step_barrier(j, n);
        j->k->gru_fwd(&w, j->U, j->pk, j->bh, j->h + t * BU, j->z + t * BG, j->q + t * BG,
                      j->h + (t + 1) * BU);
    }
}

void seqrt_gru_forward(int T, int B, int U, const seqrt_real *rk, const seqrt_real *bh,
                       seqrt_real *pk, seqrt_real *z, seqrt_real *q, seqrt_real *h)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 3, rk, pk);
    j.bh = bh, j.z = z, j.q = q, j.h = h;
    seqrt_team_run(gru_fwd_job, &j);
}

static void gru_bwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 1);
    const size_t BU = (size_t)j->B * j->U, BG = 3 * BU;
    const int64_t U = j->U;
    for (int t = j->T - 1; t >= 0; t--) {
        if (t < j->T - 1)
            step_barrier(j, n);
        j->k->gru_bwd(&w, j->U, j->pk, t < j->T - 1 ? j->q + (t + 1) * BG : NULL, j->dh,
                      j->dy ? j->dy + t * U : NULL, j->dy_ld, j->z + t * BG, j->q + t * BG,
                      j->h + t * BU);
    }
    step_barrier(j, n);
    j->k->gru_bwd(&w, j->U, j->pk, j->q, j->dh, NULL, 0, NULL, NULL, NULL);
}

void seqrt_gru_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk, seqrt_real *z,
                        seqrt_real *q, const seqrt_real *h, const seqrt_real *dy, int64_t dy_ld,
                        seqrt_real *dh)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 3, rk, pk);
    j.z = z, j.q = q, j.h = (seqrt_real *)h, j.dy = dy, j.dy_ld = dy_ld, j.dh = dh;
    seqrt_team_run(gru_bwd_job, &j);
}

/* ---- SimpleRNN (tanh) ---- */

static void rnn_fwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 0);
    const size_t BU = (size_t)j->B * j->U;
    for (int t = 0; t < j->T; t++) {
        if (t)
            step_barrier(j, n);
        j->k->rnn_fwd(&w, j->U, j->pk, j->h + t * BU, j->z + t * BU, j->h + (t + 1) * BU);
    }
}

void seqrt_rnn_forward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                       const seqrt_real *z, seqrt_real *h)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 1, rk, pk);
    j.z = (seqrt_real *)z, j.h = h;
    seqrt_team_run(rnn_fwd_job, &j);
}

static void rnn_bwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 1);
    const size_t BU = (size_t)j->B * j->U;
    const int64_t U = j->U;
    for (int t = j->T - 1; t >= 0; t--) {
        if (t < j->T - 1)
            step_barrier(j, n);
        j->k->rnn_bwd(&w, j->U, j->pk, t < j->T - 1 ? j->z + (t + 1) * BU : NULL, j->dh,
                      j->dy ? j->dy + t * U : NULL, j->dy_ld, j->z + t * BU, j->h + (t + 1) * BU);
    }
    step_barrier(j, n);
    j->k->rnn_bwd(&w, j->U, j->pk, j->z, j->dh, NULL, 0, NULL, NULL);
}

void seqrt_rnn_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk, seqrt_real *z,
                        const seqrt_real *h, const seqrt_real *dy, int64_t dy_ld, seqrt_real *dh)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 1, rk, pk);
    j.z = z, j.h = (seqrt_real *)h, j.dy = dy, j.dy_ld = dy_ld, j.dh = dh;
    seqrt_team_run(rnn_bwd_job, &j);
}

/* ---- GRU (reset_after=false) ----
 *
 * Two dependent products a step: h_{t-1} U_zr gives z and r, and s_t =
 * r h_{t-1}; only then s_t U_n gives n. Where the team splits the units,
 * every member needs all of s_t (and backward all of an_t), so a step has
 * two barriers; split by rows, none. */

static void grub_fwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 0);
    const size_t BU = (size_t)j->B * j->U, BG = 3 * BU;
    for (int t = 0; t < j->T; t++) {
        if (t)
            step_barrier(j, n);
        j->k->grub_fwd_zr(&w, j->U, j->pk, j->h + t * BU, j->z + t * BG, j->c + t * BU);
        step_barrier(j, n);
        j->k->grub_fwd_n(&w, j->U, before_n(j), j->h + t * BU, j->c + t * BU, j->z + t * BG,
                         j->h + (t + 1) * BU);
    }
}

void seqrt_gru_before_forward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                              seqrt_real *z, seqrt_real *s, seqrt_real *h)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 3, rk, pk);
    j.before = 1, j.z = z, j.c = s, j.h = h;
    seqrt_team_run(grub_fwd_job, &j);
}

static void grub_bwd_job(void *ctx, int tid, int n)
{
    const job *j = ctx;
    const part w = job_start(j, tid, n, 1);
    const size_t BU = (size_t)j->B * j->U, BG = 3 * BU;
    const int64_t U = j->U;
    for (int t = j->T - 1; t >= 0; t--) {
        if (t < j->T - 1)
            step_barrier(j, n);
        j->k->grub_bwd_a(&w, j->U, j->pk, t < j->T - 1 ? j->z + (t + 1) * BG : NULL, j->dh,
                         j->dy ? j->dy + t * U : NULL, j->dy_ld, j->z + t * BG, j->h + t * BU);
        step_barrier(j, n);
        j->k->grub_bwd_b(&w, j->U, before_n(j), j->z + t * BG, j->dh, j->h + t * BU);
    }
    step_barrier(j, n);
    j->k->grub_bwd_a(&w, j->U, j->pk, j->z, j->dh, NULL, 0, NULL, NULL);
}

void seqrt_gru_before_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                               seqrt_real *z, const seqrt_real *h, const seqrt_real *dy,
                               int64_t dy_ld, seqrt_real *dh)
{
    if (T <= 0 || B <= 0 || U <= 0)
        return;
    job j;
    job_init(&j, T, B, U, 3, rk, pk);
    j.before = 1, j.z = z, j.h = (seqrt_real *)h, j.dy = dy, j.dy_ld = dy_ld, j.dh = dh;
    seqrt_team_run(grub_bwd_job, &j);
}
