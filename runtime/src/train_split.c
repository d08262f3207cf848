/*
 * train_split.c: a training step's batch in row slices on the thread team.
 *
 * Where a model's rows are independent (seqrt_model.rows_independent: no
 * dropout, no carried states), member k of the team runs the forward pass,
 * the losses and the backward pass on its own contiguous rows [r0, r1)
 * with a workspace and a parameter gradient of its own; the members meet
 * at most twice per step: after the forward when an output is masked (so
 * that every member sees the whole batch's count of valid positions), and
 * before summing the gradients. For the small layers of most sequence models this
 * is the split that pays: a whole step per member without a barrier per
 * time step, every product, activation and loss row shared out, and each
 * member's data staying in its own core's cache (on a machine whose cores
 * sit on different dies, a barrier per step moved h_t between them).
 *
 * Results: the outputs are the whole batch's, bit for bit (each row is
 * computed as it would be in the whole batch, the products being row by
 * row); the loss and the gradient are sums of per-member partial sums, in
 * member order, so a fixed team size gives the same bits on every run and
 * teams of different sizes agree to float rounding.
 */
#include <stdlib.h>

#include "seqrt_team.h"
#include "train_internal.h"

/* A slice has at least this many rows (the products' register tiles are
 * 4-8 rows tall): a batch of B makes min(team, B / MIN_ROWS) slices, and
 * one too small for two runs whole, with the team inside its layers. */
#define MIN_ROWS 4

int seqrt_split_open(Run *r, int64_t B)
{
    /* slices: one per member, or fewer where the batch is short (members
     * past the last slice only help sum the gradient) */
    const int team = seqrt_team_threads();
    const int n = B / MIN_ROWS < team ? (int)(B / MIN_ROWS) : team;
    if (n < 2 || !r->m->rows_independent || r->d->n_x > SEQRT_SPLIT_IO ||
        r->m->n_outputs > SEQRT_SPLIT_IO)
        return 0;
    const int64_t rows = (B + n - 1) / n;
    const size_t ws = r->m->workspace_size(rows, r->d->dims);
    r->split_ws = calloc((size_t)n, sizeof *r->split_ws);
    r->split_grads = calloc((size_t)n, sizeof *r->split_grads);
    r->split_loss = calloc((size_t)team * (size_t)r->m->n_losses + 1, sizeof *r->split_loss);
    r->split_div = calloc((size_t)team * (size_t)r->m->n_losses + 1, sizeof *r->split_div);
    int failed = !r->split_ws || !r->split_grads || !r->split_loss || !r->split_div;
    for (int k = 1; !failed && k < n; k++) {
        r->split_ws[k] = malloc(ws + 64);
        r->split_grads[k] = calloc(r->m->param_count + 1, sizeof(seqrt_real));
        failed = !r->split_ws[k] || !r->split_grads[k];
    }
    r->split_n = n;
    r->split_team = team;
    if (failed) {
        seqrt_split_close(r);
        return -1;
    }
    /* member 0 works in the Run's own buffers, sized for the whole batch */
    r->split_ws[0] = r->ws;
    r->split_grads[0] = r->grads;
    return 0;
}

void seqrt_split_close(Run *r)
{
    for (int k = 1; k < r->split_n; k++) {
        if (r->split_ws) free(r->split_ws[k]);
        if (r->split_grads) free(r->split_grads[k]);
    }
    free(r->split_ws);
    free(r->split_grads);
    free(r->split_loss);
    free(r->split_div);
    r->split_ws = NULL, r->split_grads = NULL, r->split_loss = NULL, r->split_div = NULL;
    r->split_n = r->split_team = 0;
}

typedef struct {
    Run *r;
    const seqrt_real *params;
    int64_t b;
    int key;
} Step;

static void step_member(void *ctx, int tid, int n)
{
    const Step *s = ctx;
    Run *r = s->r;
    const seqrt_model *m = r->m;
    const seqrt_dataset *d = r->d;
    const int slices = r->split_n;
    int lo = 0, hi = 0;
    if (tid < slices)
        seqrt_team_split((int)s->b, tid, slices, &lo, &hi);
    const int64_t r0 = lo, rows = hi - lo;
    void *ws = tid < slices ? r->split_ws[tid] : NULL;
    seqrt_real *grads = tid < slices ? r->split_grads[tid] : NULL;
    /* the member's views of inputs, outputs and their gradients: at most
     * SEQRT_SPLIT_IO of each (seqrt_split_open) */
    const void *x[SEQRT_SPLIT_IO];
    seqrt_real *out[SEQRT_SPLIT_IO], *dout[SEQRT_SPLIT_IO];
    for (int i = 0; i < d->n_x; i++)
        x[i] = seqrt_run_row(r->xb[i], r0, d->x_row[i], d->x[i].is_int ? 4 : sizeof(seqrt_real));
    for (int o = 0; o < m->n_outputs; o++) {
        out[o] = seqrt_run_row(r->out[o], r0, r->out_row[o], sizeof(seqrt_real));
        dout[o] = seqrt_run_row(r->dout[o], r0, r->out_row[o], sizeof(seqrt_real));
    }
    if (rows > 0) {
        m->forward(out, s->params, x, rows, d->dims, ws, s->key);
        for (int o = 0; o < m->n_outputs && m->output_mask; o++) {
            const seqrt_io *io = &m->outputs[o]; /* a mask byte per position */
            const int64_t C = io->ndim ? seqrt_io_dim(io, io->ndim - 1, d->dims) : 1;
            const int masked = m->output_mask(seqrt_run_row(r->mask[o], r0, r->out_row[o] / C, 1),
                                              o, ws, rows, d->dims);
            if (tid == 0) /* the same for every slice */
                r->masked[o] = masked;
        }
    }
    /* the losses divide by the whole batch's valid positions: every
     * member's mask rows must be in (and member 0's flags) */
    if (m->output_mask)
        seqrt_team_barrier();
    const size_t row = (size_t)tid * (size_t)m->n_losses; /* the member's partial sums */
    seqrt_run_loss_rows(r, r0, rows, s->b, 1, r->split_loss + row, r->split_div + row);
    if (grads)
        memset(grads, 0, m->param_count * sizeof *grads);
    if (rows > 0)
        m->backward(grads, (const seqrt_real *const *)dout, s->params, x, rows, d->dims, ws);
    /* the gradient: each member sums its share of the parameters over all
     * members' buffers, in member order, into member 0's (r->grads) */
    seqrt_team_barrier();
    size_t p0, p1;
    seqrt_team_split_chunks(m->param_count, 64, tid, n, &p0, &p1);
    for (int k = 1; k < slices; k++) {
        const seqrt_real *g = r->split_grads[k];
        for (size_t p = p0; p < p1; p++) r->grads[p] += g[p];
    }
}

int seqrt_split_step(Run *r, const seqrt_real *params, int64_t b, int key, double *total)
{
    const seqrt_model *m = r->m;
    if (r->split_n < 2 || seqrt_team_threads() != r->split_team || b < (int64_t)MIN_ROWS * r->split_n)
        return 0;
    Step s = {r, params, b, key};
    seqrt_team_run(step_member, &s);
    for (int i = 0; i < m->n_losses; i++) {
        double sum = 0;
        for (int k = 0; k < r->split_team; k++) sum += r->split_loss[(size_t)k * (size_t)m->n_losses + i];
        r->loss_val[i] = sum;
    }
    *total = seqrt_run_loss_total(r, r->split_div); /* member 0's divisors */
    return 1;
}
