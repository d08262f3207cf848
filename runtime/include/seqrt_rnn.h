/*
 * seqrt_rnn.h: fused recurrent steps (runtime/src/rnn_step.c).
 *
 * A whole sequence of a recurrent layer in one call, on the thread team
 * (seqrt_team.h): each time step's product h_{t-1} [B, U] x recurrent_kernel
 * [U, G*U] is computed one register tile at a time, and the tile's gate
 * nonlinearities, cell update and the values BPTT keeps are applied before
 * the next tile starts, while it is in L1. The recurrent kernel is packed
 * once per call into column tiles of SEQRT_RNN_NU units (SEQRT_RNN_NUB in
 * the transposed form the backward pass reads) that hold every gate of
 * those units side by side, so one tile yields whole units. Each
 * member of the team packs and keeps its own tiles (or, for small kernels,
 * its own rows of the batch): one barrier per step at most.
 *
 * Results do not depend on the team's size: every element is computed by
 * the same operations in the same order whichever member computes it.
 * They differ from the unfused steps (seqrt_gemm, then a gate loop) only in
 * rounding (fused multiply-adds, summation order).
 *
 * Buffers are time-major, as in the generated code: z [T, B, G*U], h and c
 * [T + 1, B, U] with the initial state in slice 0. Layers with a mask,
 * recurrent dropout or other activations keep the per-step code.
 */
#ifndef SEQRT_RNN_H
#define SEQRT_RNN_H

#include <stdint.h>

#include "seqrt_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SEQRT_RNN_NU 8 /* units per column tile (forward; 64 bytes' worth with AVX-512) */
#define SEQRT_RNN_NUB 16 /* units per column tile of the transposed form (backward) */

/* Elements of the scratch a packed recurrent kernel of U units and G gates
 * needs: whole tiles of the widest form, so every form fits (the widest is
 * a SimpleRNN's forward tile with AVX-512, 32 units). */
#define SEQRT_RNN_PACK_UNITS 32
#define SEQRT_RNN_PACK_SIZE(U, G) \
    ((int64_t)(((U) + SEQRT_RNN_PACK_UNITS - 1) / SEQRT_RNN_PACK_UNITS) * SEQRT_RNN_PACK_UNITS * \
     (G) * (U))

/*
 * LSTM with Keras's default activations (recurrent sigmoid, tanh), gates
 * [i f c o] in that order in z, kernel rk [U, 4U]; pk: SEQRT_RNN_PACK_SIZE
 * (U, 4) elements of scratch.
 *
 * forward: z[t] holds x_t kernel + bias on entry and the activated gates
 * (i, f, g, o) on return; h[t + 1], c[t + 1] from h[t], c[t]; tc [T, B, U]:
 * tanh(c[t + 1]) at tc[t], kept for the backward.
 *
 * backward: z[t] holds the activated gates on entry and dz_t (the gradient
 * of the pre-activations) on return; c and tc as the forward left them. dh, dc [B, U]: the gradients of the
 * last step's h and c on entry, of the initial h and c on return. dy, when
 * not NULL, is added to dh at each step: step t's row b at dy + b * dy_ld
 * + t * U (a layer's return_sequences output gradient, [B, T, U]).
 */
void seqrt_lstm_forward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                        seqrt_real *z, seqrt_real *h, seqrt_real *c, seqrt_real *tc);
void seqrt_lstm_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                         seqrt_real *z, const seqrt_real *c, const seqrt_real *tc,
                         const seqrt_real *dy, int64_t dy_ld, seqrt_real *dh, seqrt_real *dc);

/*
 * GRU with reset_after (Keras's default form), Keras's default activations
 * (recurrent sigmoid, tanh), blocks [z r n] in that order, kernel rk
 * [U, 3U], recurrent bias bh [3U] (NULL: none); q [T, B, 3U] holds the
 * recurrent part h_{t-1} rk + bh; pk: SEQRT_RNN_PACK_SIZE(U, 3) elements.
 *
 * forward: z[t] holds x_t kernel + b_x on entry and the activated gates
 * (z, r, n) on return; q[t]'s n block gets h_{t-1} rk_n + bh_n (its z and
 * r blocks are not written); h[t + 1] from h[t].
 *
 * backward: z[t] holds the gates and q[t]'s n block what the forward left
 * there on entry; on return z[t] holds the gradient of the input part
 * [az ar an] and q[t] that of the recurrent part [az ar an r]. h: the
 * forward's states [T + 1, B, U]. dh [B, U]: the gradient of the last
 * step's h on entry, of the initial h on return; dy as for the LSTM.
 */
void seqrt_gru_forward(int T, int B, int U, const seqrt_real *rk, const seqrt_real *bh,
                       seqrt_real *pk, seqrt_real *z, seqrt_real *q, seqrt_real *h);
void seqrt_gru_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk, seqrt_real *z,
                        seqrt_real *q, const seqrt_real *h, const seqrt_real *dy, int64_t dy_ld,
                        seqrt_real *dh);

/*
 * GRU with reset_after=false (Keras <= 2.3, and TensorFlow.js's only form),
 * the default activations, blocks [z r n], kernel rk [U, 3U]: z, r =
 * sigmoid(x W + b + h_{t-1} U_zr); s_t = r h_{t-1}; n = tanh(x W_n + b_n +
 * s_t U_n); h_t = z h_{t-1} + (1 - z) n. pk: SEQRT_RNN_PACK_SIZE(U, 3).
 *
 * forward: z[t] holds x_t kernel + bias on entry and the gates (z, r, n) on
 * return; s [T, B, U] gets s_t; h[t + 1] from h[t].
 *
 * backward: z[t] holds the gates on entry and [az ar an] (the gradients of
 * the three blocks' pre-activations) on return; h as the forward left it;
 * dh and dy as for the LSTM.
 */
void seqrt_gru_before_forward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                              seqrt_real *z, seqrt_real *s, seqrt_real *h);
void seqrt_gru_before_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                               seqrt_real *z, const seqrt_real *h, const seqrt_real *dy,
                               int64_t dy_ld, seqrt_real *dh);

/*
 * SimpleRNN with activation tanh (Keras's default), kernel rk [U, U]; pk:
 * SEQRT_RNN_PACK_SIZE(U, 1) elements.
 *
 * forward: z[t] holds x_t kernel + bias (read only); h[t + 1] = tanh(z[t]
 * + h[t] rk).
 *
 * backward: h as the forward left it; on return z[t] holds dz_t = dh_t
 * (1 - h[t + 1]^2), where dh_t is dy_t plus dz_{t+1} rk^T (the last step's:
 * dh on entry). dh [B, U]: on return, the gradient of the initial h; dy as
 * for the LSTM.
 */
void seqrt_rnn_forward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk,
                       const seqrt_real *z, seqrt_real *h);
void seqrt_rnn_backward(int T, int B, int U, const seqrt_real *rk, seqrt_real *pk, seqrt_real *z,
                        const seqrt_real *h, const seqrt_real *dy, int64_t dy_ld, seqrt_real *dh);

#ifdef __cplusplus
}
#endif

#endif
