/*
 * gradcheck_model.c: checks a generated model's backward pass against
 * central finite differences, in float64, with nothing but its descriptor.
 *
 * The loss is a fixed random projection of every output, L = sum_o R_o . y_o,
 * so d_outputs = R exercises backward with arbitrary upstream gradients.
 * Parameters are drawn from U(-0.5, 0.5) (biases too, unlike the real
 * initialisers), inputs from N(0, 1), token ids from [0, int_limit).
 * Dropout masks are drawn with one fixed key, so every evaluation sees the
 * same mask. Prints the worst relative error per parameter tensor; exits 1 above 1e-6.
 *
 * Then, where the model says its rows are independent (rows_independent:
 * the trainer then runs slices of a batch on separate threads), the same
 * passes on rows [0, 1) and [1, 3) as batches of their own must give the
 * whole batch's outputs and, summed, its gradient, to 1e-12 relative.
 *
 * Built once per model: cc -DSEQRT_DOUBLE -DSEQC_MODEL=name_model ...
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqrt_train.h"

extern const seqrt_model SEQC_MODEL;

enum { BATCH = 3, TIME = 4, PER_TENSOR = 48 };

/* Values per sample; a named axis may be derived from a length, as
 * (T + add) / div + offset (a strided or valid convolution's output). */
static int64_t io_size(const seqrt_io *io, const int64_t *dims)
{
    int64_t n = 1;
    for (int k = 0; k < io->ndim; k++) {
        int64_t v = io->shape[k];
        if (v < 0) {
            v = dims[io->dim_index[k]];
            if (io->dim_div[k] > 1)
                v = (v + io->dim_add[k]) / io->dim_div[k];
            v += io->dim_offset[k];
        }
        n *= v;
    }
    return n;
}

static double total_loss(const seqrt_model *m, seqrt_real *params, const void *const *in,
                         seqrt_real **out, seqrt_real **proj, const int64_t *dims, void *ws)
{
    if (m->reset_states) /* stateful layers: every evaluation starts alike */
        m->reset_states(ws, BATCH, dims);
    m->forward(out, params, in, BATCH, dims, ws, 7); /* a fixed dropout key */
    double L = 0;
    for (int o = 0; o < m->n_outputs; o++)
        for (int64_t i = 0; i < BATCH * io_size(&m->outputs[o], dims); i++)
            L += proj[o][i] * out[o][i];
    return L;
}

/* Rows [0, 1) and [1, BATCH) as batches of their own against the whole
 * batch (whose gradient is `grads`, after a forward into `out`). */
static int rows_match(const seqrt_model *m, seqrt_real *params, void *const *in, seqrt_real **out,
                      seqrt_real **proj, const int64_t *dims, void *ws, const seqrt_real *grads)
{
    total_loss(m, params, (const void *const *)in, out, proj, dims, ws);
    seqrt_real *sum = calloc(m->param_count, sizeof(seqrt_real));
    seqrt_real *g = malloc(sizeof(seqrt_real) * m->param_count);
    double worst_y = 0, worst_g = 0;
    static const int64_t cut[] = {0, 1, BATCH};
    for (int s = 0; s < 2; s++) {
        const int64_t r0 = cut[s], rows = cut[s + 1] - cut[s];
        void *ws_s = malloc(m->workspace_size(rows, dims));
        const void *in_s[8];
        seqrt_real *out_s[8], *proj_s[8];
        for (int i = 0; i < m->n_inputs; i++)
            in_s[i] = (const char *)in[i] + (size_t)(r0 * io_size(&m->inputs[i], dims)) *
                                                (m->inputs[i].is_int ? sizeof(int32_t) : sizeof(seqrt_real));
        for (int o = 0; o < m->n_outputs; o++) {
            const int64_t row = io_size(&m->outputs[o], dims);
            out_s[o] = malloc(sizeof(seqrt_real) * (size_t)(rows * row));
            proj_s[o] = proj[o] + r0 * row;
        }
        m->forward(out_s, params, in_s, rows, dims, ws_s, 7);
        for (int o = 0; o < m->n_outputs; o++) {
            const int64_t row = io_size(&m->outputs[o], dims);
            for (int64_t k = 0; k < rows * row; k++) {
                const double want = out[o][r0 * row + k];
                worst_y = fmax(worst_y, fabs(out_s[o][k] - want) / (1 + fabs(want)));
            }
        }
        memset(g, 0, sizeof(seqrt_real) * m->param_count);
        m->backward(g, (const seqrt_real *const *)proj_s, params, in_s, rows, dims, ws_s);
        for (size_t i = 0; i < m->param_count; i++) sum[i] += g[i];
        for (int o = 0; o < m->n_outputs; o++) free(out_s[o]);
        free(ws_s);
    }
    /* relative to the tensor's largest gradient, or to a thousandth of the
     * model's where a tensor's is zero but for rounding (an attention
     * score's bias: softmax does not see a shift) */
    double gall = 0;
    for (size_t i = 0; i < m->param_count; i++) gall = fmax(gall, fabs(grads[i]));
    for (int p = 0; p < m->n_params; p++) {
        const seqrt_param *pp = &m->params[p];
        double gmax = 1e-3 * gall + 1e-300;
        for (size_t k = 0; k < pp->size; k++) gmax = fmax(gmax, fabs(grads[pp->offset + k]));
        for (size_t k = 0; k < pp->size; k++)
            worst_g = fmax(worst_g, fabs(sum[pp->offset + k] - grads[pp->offset + k]) / gmax);
    }
    const int ok = worst_y <= 1e-12 && worst_g <= 1e-12;
    printf("%s: rows [0, 1) and [1, %d) on their own: outputs %.3e, summed gradient %.3e "
           "(relative), limit 1e-12: %s\n", m->name, BATCH, worst_y, worst_g, ok ? "OK" : "FAILED");
    free(sum);
    free(g);
    return ok;
}

int main(void)
{
    const seqrt_model *m = &SEQC_MODEL;
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 1234);
    int64_t dims[8];
    for (int i = 0; i < 8; i++)
        dims[i] = TIME + i; /* distinct lengths catch a mixed-up time axis */

    seqrt_real *params = malloc(sizeof(seqrt_real) * m->param_count);
    seqrt_real *grads = calloc(m->param_count, sizeof(seqrt_real));
    for (size_t i = 0; i < m->param_count; i++)
        params[i] = (seqrt_real)(seqrt_rng_double(&rng) - 0.5);

    void *in[8];
    for (int i = 0; i < m->n_inputs; i++) {
        const seqrt_io *io = &m->inputs[i];
        int64_t n = BATCH * io_size(io, dims);
        if (io->is_int) {
            int32_t *v = malloc(sizeof(int32_t) * (size_t)n);
            for (int64_t k = 0; k < n; k++)
                v[k] = (int32_t)seqrt_rng_below(&rng, (uint64_t)(io->int_limit > 0 ? io->int_limit : 2));
            in[i] = v;
        } else {
            seqrt_real *v = malloc(sizeof(seqrt_real) * (size_t)n);
            for (int64_t k = 0; k < n; k++)
                v[k] = (seqrt_real)seqrt_rng_normal(&rng);
            /* Zero about one step in six, so Masking layers see padding. */
            int64_t F = io->shape[io->ndim - 1];
            if (io->ndim == 2)
                for (int64_t s = 0; s < n / F; s++)
                    if (seqrt_rng_below(&rng, 6) == 0)
                        memset(v + s * F, 0, sizeof(seqrt_real) * (size_t)F);
            in[i] = v;
        }
    }
    seqrt_real *out[8], *proj[8];
    for (int o = 0; o < m->n_outputs; o++) {
        int64_t n = BATCH * io_size(&m->outputs[o], dims);
        out[o] = malloc(sizeof(seqrt_real) * (size_t)n);
        proj[o] = malloc(sizeof(seqrt_real) * (size_t)n);
        for (int64_t k = 0; k < n; k++)
            proj[o][k] = (seqrt_real)seqrt_rng_normal(&rng);
    }
    void *ws = malloc(m->workspace_size(BATCH, dims));

    total_loss(m, params, (const void *const *)in, out, proj, dims, ws);
    m->backward(grads, (const seqrt_real *const *)proj, params, (const void *const *)in, BATCH,
                dims, ws);

    const double eps = 1e-5, limit = 1e-6;
    double worst_all = 0;
    for (int p = 0; p < m->n_params; p++) {
        const seqrt_param *pp = &m->params[p];
        double worst = 0, gmax = 0;
        size_t step = pp->size > PER_TENSOR ? pp->size / PER_TENSOR : 1;
        for (size_t k = 0; k < pp->size; k += step) {
            size_t i = pp->offset + k;
            seqrt_real keep = params[i];
            params[i] = keep + eps;
            double up = total_loss(m, params, (const void *const *)in, out, proj, dims, ws);
            params[i] = keep - eps;
            double down = total_loss(m, params, (const void *const *)in, out, proj, dims, ws);
            params[i] = keep;
            double num = (up - down) / (2 * eps), ana = grads[i];
            /* Relative error; gradients below 1e-3 are compared in absolute terms
             * (scaled by 1e3), where rounding in the loss would swamp a ratio. */
            double rel = fabs(num - ana) / fmax(fabs(num) + fabs(ana), 1e-3);
            worst = fmax(worst, rel);
            gmax = fmax(gmax, fabs(ana));
        }
        printf("%-40s worst relative error %.3e  (max |grad| %.3e)\n", pp->name, worst, gmax);
        worst_all = fmax(worst_all, worst);
    }
    printf("%s: worst %.3e, limit %.0e: %s\n", m->name, worst_all, limit,
           worst_all < limit ? "OK" : "FAILED");
    const int rows_ok = m->rows_independent ? rows_match(m, params, in, out, proj, dims, ws, grads) : 1;

    for (int i = 0; i < m->n_inputs; i++)
        free(in[i]);
    for (int o = 0; o < m->n_outputs; o++) {
        free(out[o]);
        free(proj[o]);
    }
    free(ws);
    free(params);
    free(grads);
    return worst_all < limit && rows_ok ? 0 : 1;
}
