/*
 * train.c: the loop around a generated model's forward and backward, the
 * same for every model because it sees only the descriptor (seqrt_model.h).
 * Keras's fit semantics: the last validation_split of the samples validates,
 * the rest is reshuffled every epoch, the last partial batch is kept, the
 * objective is sum_i weight_i * loss_i, and the epoch's loss is the batch
 * losses' mean weighted by batch size. Also predict and one-batch
 * gradients; the resumable state is in train_state.c, the finite-difference
 * gradient check in gradcheck.c.
 *
 * Everything a step touches (batch buffers, outputs, their gradients and
 * padding masks, parameter gradients, optimizer state, the workspace) is
 * allocated in run_open, before the first step. Each epoch's shuffle draws
 * from its own stream (seed, epoch) and each step's dropout key comes from
 * (seed, optimizer iteration), so a run resumed from a checkpoint takes the
 * same batches and masks as one that never stopped. Stateful layers' states
 * are zeroed once when the workspace is made and then carried, as Keras's
 * fit never resets them.
 */
#include <stdlib.h>
#include <time.h>

#include "train_internal.h"
#include "seqrt_checked.h"

#define STREAM_SHUFFLE UINT64_C(0x7368756600000000)   /* "shuf" + epoch */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *alloc_array(size_t n, size_t size, int *failed)
{
    void *p = calloc(n + 1, size);
    if (!p) *failed = 1;
    return p;
}

void seqrt_run_close(Run *r)
{
    seqrt_split_close(r);
    for (int i = 0; r->xb && i < r->d->n_x; i++) free(r->xb[i]);
    for (int i = 0; r->yb && i < r->d->n_y; i++) free(r->yb[i]);
    for (int o = 0; r->out && o < r->m->n_outputs; o++) {
        free(r->out[o]);
        free(r->dout[o]);
        free(r->mask[o]);
    }
    void *flat[] = {r->xb, r->yb, r->out, r->dout, r->mask, r->masked, r->out_row, r->npos, r->ncls, r->loss_val, r->loss_div,
                    r->grads, r->ws, r->idx, r->met, r->met_loss, r->met_bit, r->sum_loss};
    for (size_t i = 0; i < sizeof flat / sizeof *flat; i++) free(flat[i]);
    memset(r, 0, sizeof *r);
}

/* Output rows from the dataset's axis lengths, and each loss's positions
 * and classes, checked against its target's row. */
static int run_shapes(Run *r, seqrt_error *err)
{
    const seqrt_model *m = r->m;
    for (int o = 0; o < m->n_outputs; o++) {
        const seqrt_io *io = &m->outputs[o];
        r->out_row[o] = seqrt_io_row(io, r->d->dims);
        for (int k = 0; r->out_row[o] < 0 && k < io->ndim; k++)
            if (io->shape[k] < 0 && r->d->dims[io->dim_index[k]] < 0)
                return seqrt_errorf(err, SEQRT_EINVAL, "output '%s': no input gives the length of "
                                    "%s", io->name, m->dim_names[io->dim_index[k]]);
    }
    for (int i = 0; i < m->n_losses; i++) {
        const seqrt_loss_spec *s = &m->losses[i];
        const seqrt_io *io = &m->outputs[s->output];
        int64_t C = io->ndim ? seqrt_io_dim(io, io->ndim - 1, r->d->dims) : 1;
        r->ncls[i] = C;
        r->npos[i] = r->out_row[s->output] / C;
        int sparse = s->kind == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
        int64_t want = sparse ? r->npos[i] : r->out_row[s->output];
        if (r->d->n_y && r->d->y_row[s->target] != want)
            return seqrt_errorf(err, SEQRT_EINVAL, "loss %d: target '%s' has %lld values per sample, "
                                "but output '%s' needs %lld", i + 1, m->targets[s->target].name,
                                (long long)r->d->y_row[s->target], io->name, (long long)want);
    }
    return SEQRT_OK;
}

/* One metric per (loss, requested metric bit), in Keras's log order. */
static void run_metrics(Run *r)
{
    const seqrt_model *m = r->m;
    for (int i = 0; i < m->n_losses; i++)
        for (unsigned bit = 1; bit && bit <= m->metrics; bit <<= 1) {
            if (!(m->metrics & bit)) continue;
            const seqrt_loss_spec *s = &m->losses[i];
            unsigned kind = seqrt_metric_resolve(bit, m->targets[s->target].is_int, r->ncls[i]);
            r->met_loss[r->n_met] = i;
            r->met_bit[r->n_met] = bit;
            seqrt_metric_reset(&r->met[r->n_met++], kind);
        }
}

/* Allocate for batches of up to B; ws_B lists the batch sizes the workspace
 * must hold (Keras keeps a smaller last batch). */
static int run_open(Run *r, const seqrt_model *m, const seqrt_dataset *d, int64_t B,
                    const int64_t *ws_B, int n_ws, seqrt_error *err)
{
    memset(r, 0, sizeof *r);
    r->m = m;
    r->d = d;
    r->B = B;
    int f = 0, rc;
    size_t nl = (size_t)m->n_losses, nm = nl * 8;
    r->xb = alloc_array((size_t)d->n_x, sizeof *r->xb, &f);
    r->yb = alloc_array((size_t)d->n_y, sizeof *r->yb, &f);
    r->out = alloc_array((size_t)m->n_outputs, sizeof *r->out, &f);
    r->dout = alloc_array((size_t)m->n_outputs, sizeof *r->dout, &f);
    r->mask = alloc_array((size_t)m->n_outputs, sizeof *r->mask, &f);
    r->masked = alloc_array((size_t)m->n_outputs, sizeof *r->masked, &f);
    r->out_row = alloc_array((size_t)m->n_outputs, sizeof *r->out_row, &f);
    r->npos = alloc_array(nl, sizeof *r->npos, &f);
    r->ncls = alloc_array(nl, sizeof *r->ncls, &f);
    r->loss_val = alloc_array(nl, sizeof *r->loss_val, &f);
    r->loss_div = alloc_array(nl, sizeof *r->loss_div, &f);
    r->sum_loss = alloc_array(nl, sizeof *r->sum_loss, &f);
    r->met = alloc_array(nm, sizeof *r->met, &f);
    r->met_loss = alloc_array(nm, sizeof *r->met_loss, &f);
    r->met_bit = alloc_array(nm, sizeof *r->met_bit, &f);
    r->grads = alloc_array(m->param_count, sizeof *r->grads, &f);
    r->idx = alloc_array((size_t)d->n_samples, sizeof *r->idx, &f);
    if (f) {
        seqrt_run_close(r);
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    }
    if ((rc = run_shapes(r, err))) {
        seqrt_run_close(r);
        return rc;
    }
    run_metrics(r);
    size_t ws = 0;
    for (int i = 0; i < n_ws; i++) {
        size_t w = ws_B[i] > 0 ? m->workspace_size(ws_B[i], d->dims) : 0;
        ws = w > ws ? w : ws;
    }
    r->ws = alloc_array(ws + 64, 1, &f);
    for (int i = 0; i < d->n_x; i++)
        r->xb[i] = alloc_array((size_t)(B * d->x_row[i]), d->x[i].is_int ? 4 : sizeof(seqrt_real), &f);
    for (int i = 0; i < d->n_y; i++)
        r->yb[i] = alloc_array((size_t)(B * d->y_row[i]), d->y[i].is_int ? 4 : sizeof(seqrt_real), &f);
    for (int o = 0; o < m->n_outputs; o++) {
        r->out[o] = alloc_array((size_t)(B * r->out_row[o]), sizeof(seqrt_real), &f);
        r->dout[o] = alloc_array((size_t)(B * r->out_row[o]), sizeof(seqrt_real), &f);
        r->mask[o] = alloc_array((size_t)(B * r->out_row[o]), 1, &f);
    }
    for (int64_t s = 0; s < d->n_samples; s++) r->idx[s] = s;
    if (f) {
        seqrt_run_close(r);
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for batch buffers (batch %lld)",
                            (long long)B);
    }
    if (m->reset_states) m->reset_states(r->ws, B, d->dims);
    return SEQRT_OK;
}

/* training: 0 for inference, else this step's dropout key. Then the
 * outputs' padding masks, which the losses and metrics honour. */
static void run_forward(Run *r, const seqrt_real *params, int64_t b, int training)
{
    const seqrt_model *m = r->m;
    m->forward(r->out, params, (const void *const *)r->xb, b, r->d->dims, r->ws, training);
    for (int o = 0; o < m->n_outputs; o++)
        r->masked[o] = m->output_mask && m->output_mask(r->mask[o], o, r->ws, b, r->d->dims);
}

static const uint8_t *mask_of(const Run *r, int output)
{
    return r->masked[output] ? r->mask[output] : NULL;
}

/* A nonzero key per optimizer step, so dropout differs between steps and
 * repeats between runs (and after a resume). */
static int step_key(uint64_t seed, int64_t iteration)
{
    uint64_t z = seed * UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)iteration + 1;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (int)((z ^ (z >> 31)) & 0x7FFFFFFF) | 1;
}

void seqrt_run_loss_rows(Run *r, int64_t r0, int64_t rows, int64_t b, int with_grad, double *part,
                         double *div)
{
    const seqrt_model *m = r->m;
    const seqrt_dataset *d = r->d;
    if (with_grad)
        for (int o = 0; o < m->n_outputs; o++)
            memset(seqrt_run_row(r->dout[o], r0, r->out_row[o], sizeof(seqrt_real)), 0,
                   (size_t)(rows * r->out_row[o]) * sizeof(seqrt_real));
    for (int i = 0; i < m->n_losses; i++) {
        const seqrt_loss_spec *s = &m->losses[i];
        const int o = s->output, y = s->target;
        const int64_t np = r->npos[i], nc = r->ncls[i];
        const uint8_t *mask = mask_of(r, o);
        div[i] = seqrt_loss_divisor(s, mask, b * np, nc);
        part[i] = div[i] == 0 || rows == 0 ? 0
                  : seqrt_loss_sum(with_grad ? seqrt_run_row(r->dout[o], r0, r->out_row[o],
                                                             sizeof(seqrt_real)) : NULL,
                                   s, seqrt_run_row(r->out[o], r0, r->out_row[o], sizeof(seqrt_real)),
                                   seqrt_run_row(r->yb[y], r0, d->y_row[y],
                                                 d->y[y].is_int ? 4 : sizeof(seqrt_real)),
                                   mask ? seqrt_run_row((void *)mask, r0, np, 1) : NULL, rows * np,
                                   nc, div[i]);
    }
}

double seqrt_run_loss_total(Run *r, const double *div)
{
    double total = 0;
    for (int i = 0; i < r->m->n_losses; i++) {
        r->loss_val[i] = div[i] == 0 ? 0 : r->loss_val[i] / div[i];
        total += r->m->losses[i].weight * r->loss_val[i];
    }
    return total;
}

/* sum_i weight_i * loss_i over a batch of b; with_grad also fills dout. */
double seqrt_run_loss(Run *r, int64_t b, int with_grad)
{
    seqrt_run_loss_rows(r, 0, b, b, with_grad, r->loss_val, r->loss_div);
    return seqrt_run_loss_total(r, r->loss_div);
}

void seqrt_run_backward(Run *r, const seqrt_real *params, int64_t b)
{
    memset(r->grads, 0, r->m->param_count * sizeof *r->grads);
    r->m->backward(r->grads, (const seqrt_real *const *)r->dout, params, (const void *const *)r->xb,
                   b, r->d->dims, r->ws);
}

/* ---- epoch bookkeeping ---- */

static void accum_reset(Run *r)
{
    r->sum_total = r->sum_n = 0;
    for (int i = 0; i < r->m->n_losses; i++) r->sum_loss[i] = 0;
    for (int k = 0; k < r->n_met; k++) seqrt_metric_reset(&r->met[k], r->met[k].kind);
}

/* Keras weights each batch's loss by its size; metrics count positions. */
static void accum_batch(Run *r, double total, int64_t b)
{
    r->sum_total += total * (double)b;
    r->sum_n += (double)b;
    for (int i = 0; i < r->m->n_losses; i++) r->sum_loss[i] += r->loss_val[i] * (double)b;
    for (int k = 0; k < r->n_met; k++) {
        const seqrt_loss_spec *s = &r->m->losses[r->met_loss[k]];
        seqrt_metric_update(&r->met[k], r->out[s->output], r->yb[s->target], mask_of(r, s->output),
                            b * r->npos[r->met_loss[k]], r->ncls[r->met_loss[k]]);
    }
}

static void log_add(seqrt_epoch_log *log, const char *prefix, const char *owner, const char *name,
                    double v)
{
    if (log->n >= SEQRT_LOG_MAX) return;
    snprintf(log->names[log->n], sizeof log->names[0], "%s%s%s%s", prefix, owner ? owner : "",
             owner ? "_" : "", name);
    log->values[log->n++] = v;
}

/* loss, <output>_loss per loss when there are several, then metrics. */
static void accum_log(const Run *r, seqrt_epoch_log *log, const char *prefix)
{
    const seqrt_model *m = r->m;
    int several = m->n_losses > 1;
    log_add(log, prefix, NULL, "loss", r->sum_n > 0 ? r->sum_total / r->sum_n : 0);
    for (int i = 0; several && i < m->n_losses; i++)
        log_add(log, prefix, m->outputs[m->losses[i].output].name, "loss",
                r->sum_n > 0 ? r->sum_loss[i] / r->sum_n : 0);
    for (int k = 0; k < r->n_met; k++)
        log_add(log, prefix, several ? m->outputs[m->losses[r->met_loss[k]].output].name : NULL,
                seqrt_metric_name(r->met_bit[k]), seqrt_metric_result(&r->met[k]));
}

/* Forward-only passes over samples idx[first, first + n) in batches. */
static void evaluate(Run *r, const seqrt_real *params, int64_t first, int64_t n)
{
    accum_reset(r);
    for (int64_t s = 0; s < n; s += r->B) {
        int64_t b = n - s < r->B ? n - s : r->B;
        seqrt_dataset_gather(r->d, r->idx + first + s, b, r->xb, r->yb);
        run_forward(r, params, b, 0);
        accum_batch(r, seqrt_run_loss(r, b, 0), b);
    }
}

/* ---- training ---- */

seqrt_train_options seqrt_train_defaults(const seqrt_model *m)
{
    seqrt_train_options o;
    memset(&o, 0, sizeof o);
    o.epochs = m->epochs > 0 ? m->epochs : 1;
    o.batch_size = m->batch_size > 0 ? m->batch_size : 32;
    o.seed = 42;
    o.shuffle = 1;
    return o;
}

static int first_bad(const seqrt_real *x, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            *at = i;
            return 1;
        }
    return 0;
}

static const char *param_at(const seqrt_model *m, size_t i)
{
    for (int p = 0; p < m->n_params; p++)
        if (i >= m->params[p].offset && i < m->params[p].offset + m->params[p].size)
            return m->params[p].name;
    return "?";
}

/* "<what> at epoch E, step S; <where the good weights are>". */
static int stop_numerics(const Train *t, const char *what, int64_t epoch, int64_t step,
                         seqrt_error *err)
{
    if (!t->o.save_path)
        return seqrt_errorf(err, SEQRT_ERANGE, "%s at epoch %lld, step %lld", what,
                            (long long)epoch, (long long)step);
    if (t->saved_epoch < 0)
        return seqrt_errorf(err, SEQRT_ERANGE, "%s at epoch %lld, step %lld; nothing saved, %s left "
                            "as it was", what, (long long)epoch, (long long)step, t->o.save_path);
    return seqrt_errorf(err, SEQRT_ERANGE, "%s at epoch %lld, step %lld; weights of the last good "
                        "epoch kept in %s (epoch %lld)", what, (long long)epoch, (long long)step,
                        t->o.save_path, (long long)t->saved_epoch);
}

/* "<name> is nan" or "... is inf". */
static int stop_value(const Train *t, const char *name, double v, int64_t epoch, int64_t step,
                      seqrt_error *err)
{
    char what[256];
    snprintf(what, sizeof what, "%.200s is %s", name, isnan(v) ? "nan" : "inf");
    return stop_numerics(t, what, epoch, step, err);
}

/* --check-numerics: the model's own scan names the layer and position. */
static int model_numerics(const Train *t, int backward, int64_t b, int64_t epoch, int64_t step,
                          seqrt_error *err)
{
    const Run *r = &t->run;
    char msg[300];
    if (!t->o.check_numerics || !t->m->check_numerics ||
        !t->m->check_numerics(msg, sizeof msg, r->ws, b, r->d->dims, backward))
        return SEQRT_OK;
    return stop_numerics(t, msg, epoch, step, err);
}

/* The rate of the next step: a function of epoch and iteration, or the
 * plateau rule's current rate. */
static void set_lr(Train *t, int64_t epoch)
{
    const seqrt_lr_schedule *s = &t->o.schedule;
    if (s->kind == SEQRT_LR_PLATEAU) t->opt.learning_rate = t->plateau.lr;
    else if (s->kind != SEQRT_LR_CONSTANT)
    {
        int64_t total;
        if (seqrt_mul_i64(t->end_epoch, t->steps, &total)) total = INT64_MAX;
        t->opt.learning_rate = seqrt_lr_at(s, t->lr0, epoch, t->opt.iterations, t->steps, total);
    }
}

/* One optimizer step on the batch idx[s * B ...) of b samples. */
/* One step. With several ranks, this rank's b samples start at idx[first]
 * and the step's whole batch holds b_all: each rank's gradient (a mean over
 * its samples) is weighted by b / b_all and summed across ranks, so every
 * rank applies the gradient of the whole batch's mean loss. */
static int train_step(Train *t, int64_t epoch, int64_t step, int64_t first, int64_t b,
                      int64_t b_all, seqrt_error *err)
{
    Run *r = &t->run;
    double total = 0;
    int rc;
    int split = 0;
    if (b > 0) {
        seqrt_dataset_gather(r->d, r->idx + first, b, r->xb, r->yb);
        const int key = step_key(t->o.seed, t->opt.iterations);
        /* --check-numerics scans one workspace: the whole batch's */
        split = !t->o.check_numerics && seqrt_split_step(r, t->params, b, key, &total);
        if (!split) {
            run_forward(r, t->params, b, key);
            if ((rc = model_numerics(t, 0, b, epoch, step, err))) return rc;
            total = seqrt_run_loss(r, b, 1);
        }
    }
    /* Every rank stops together, or none: a lone stop would leave the rest
     * waiting in the sum below. (A split step has run its backward too;
     * its gradient is never applied.) */
    int bad = b > 0 && !isfinite(total);
    if (seqrt_dist_any(bad)) return stop_value(t, "loss", bad ? total : NAN, epoch, step, err);
    if (b > 0) {
        accum_batch(r, total, b);
        if (!split) {
            seqrt_run_backward(r, t->params, b);
            if ((rc = model_numerics(t, 1, b, epoch, step, err))) return rc;
        }
    } else {
        memset(r->grads, 0, t->m->param_count * sizeof *r->grads);
    }
    if (t->ranks > 1) {
        seqrt_real w = (seqrt_real)b / (seqrt_real)b_all;
        for (size_t i = 0; i < t->m->param_count; i++) r->grads[i] *= w;
        seqrt_dist_sum_real(r->grads, t->m->param_count);
    }
    size_t at;
    if (t->o.check_numerics && first_bad(r->grads, t->m->param_count, &at)) {
        char what[200];
        snprintf(what, sizeof what, "the gradient of '%s'", param_at(t->m, at));
        return stop_value(t, what, r->grads[at], epoch, step, err);
    }
    set_lr(t, epoch);
    seqrt_optim_step(&t->opt, t->params, r->grads, t->m->params, t->m->n_params);
    return SEQRT_OK;
}

/* The epoch's running sums over every rank's samples. */
static void accum_reduce(Run *r)
{
    double v[2] = {r->sum_total, r->sum_n};
    seqrt_dist_sum(v, 2);
    r->sum_total = v[0], r->sum_n = v[1];
    seqrt_dist_sum(r->sum_loss, r->m->n_losses);
    for (int k = 0; k < r->n_met; k++) {
        double m[2] = {r->met[k].total, r->met[k].count};
        seqrt_dist_sum(m, 2);
        r->met[k].total = m[0], r->met[k].count = m[1];
    }
}

/* ---- epochs ---- */

static void epoch_order(Train *t, int64_t epoch)
{
    Run *r = &t->run;
    for (int64_t s = 0; s < t->n_train; s++) r->idx[s] = s;   /* the same order whatever came before */
    if (t->o.shuffle && !t->o.streams) {
        seqrt_rng rng;
        seqrt_rng_seed_stream(&rng, t->o.seed, STREAM_SHUFFLE + (uint64_t)epoch);
        seqrt_rng_shuffle(&rng, r->idx, t->n_train);
    }
}

static void reset_states(Train *t)
{
    if (t->o.streams && t->m->reset_states) t->m->reset_states(t->run.ws, t->run.B, t->d->dims);
}

/* How many of the workspace's first bytes the carried states take: the
 * generated layout puts them first, and reset_states zeroes exactly them,
 * so on a workspace of 0xff bytes the last zero marks their end. Called
 * before the first step (the workspace holds nothing yet). */
static void measure_states(Train *t)
{
    if (!t->o.streams || !t->m->reset_states) return;
    size_t n = t->m->workspace_size(t->run.B, t->d->dims);
    unsigned char *ws = t->run.ws;
    memset(ws, 0xff, n);
    t->m->reset_states(ws, t->run.B, t->d->dims);
    size_t end = n;
    while (end > 0 && ws[end - 1] != 0) end--;
    t->state_bytes = (end + sizeof(seqrt_real) - 1) / sizeof(seqrt_real) * sizeof(seqrt_real);
    memset(ws, 0, n);   /* as run_open left it */
    reset_states(t);
}

static void progress(Train *t, int64_t epoch, int64_t step, double t0)
{
    seqrt_epoch_log log;
    memset(&log, 0, sizeof log);
    log.epoch = epoch;
    log.epochs = t->end_epoch;
    log.step = step;
    log.steps = t->steps;
    log.seconds = now() - t0;
    log.lr = t->opt.learning_rate;
    accum_log(&t->run, &log, "");
    t->o.on_step(&log, t->o.ctx);
}

/* Stop at a step boundary on request, with the state in the checkpoint. */
static int interrupted(Train *t, int64_t epoch, int64_t step, seqrt_error *err)
{
    const char *path = t->o.checkpoint_path;
    if (!path)
        return seqrt_errorf(err, SEQRT_EINTERRUPTED, "interrupted at epoch %lld, step %lld; no "
                            "checkpoint path, nothing saved", (long long)epoch, (long long)step);
    int rc = seqrt_train_save_state(t, path, epoch - 1, step, err);
    if (rc) return rc;
    t->res.interrupted = 1;
    t->res.interrupted_step = step;
    snprintf(t->res.checkpoint, sizeof t->res.checkpoint, "%s", path);
    return seqrt_errorf(err, SEQRT_EINTERRUPTED, "interrupted at epoch %lld, step %lld of %lld; "
                        "checkpoint saved to %s (continue with --resume %s)", (long long)epoch,
                        (long long)step, (long long)t->steps, path, path);
}

/* Steps first_step + 1 .. steps of one epoch, then validation. */
static int train_epoch(Train *t, int64_t epoch, int64_t first_step, seqrt_epoch_log *log, seqrt_error *err)
{
    Run *r = &t->run;
    int64_t n = t->n_train;
    epoch_order(t, epoch);
    if (first_step == 0) accum_reset(r);
    reset_states(t);
    if (first_step > 0 && t->resume_states) {   /* the streams where they stopped */
        memcpy(r->ws, t->resume_states, t->state_bytes);
        free(t->resume_states);
        t->resume_states = NULL;
    }
    double t0 = now();
    int64_t whole = r->B * t->ranks; /* samples per step, over all ranks */
    for (int64_t s = first_step + 1; s <= t->steps; s++) {
        int64_t chunk = (s - 1) * whole, first = chunk + (int64_t)t->rank * r->B;
        int64_t b_all = n - chunk < whole ? n - chunk : whole;
        int64_t b = n - first < r->B ? n - first : r->B;
        int rc = train_step(t, epoch, s, first, b > 0 ? b : 0, b_all, err);
        if (rc) return rc;
        if (t->o.on_step) progress(t, epoch, s, t0);
        if (t->o.interrupt && *t->o.interrupt) return interrupted(t, epoch, s, err);
    }
    memset(log, 0, sizeof *log);
    log->epoch = epoch;
    log->epochs = t->end_epoch;
    log->step = log->steps = t->steps;
    log->seconds = now() - t0;
    log->lr = t->opt.learning_rate;
    if (t->ranks > 1)
        accum_reduce(r);
    accum_log(r, log, "");
    size_t at;
    if (first_bad(t->params, t->m->param_count, &at)) {
        char what[200];
        snprintf(what, sizeof what, "weight '%s'", param_at(t->m, at));
        return stop_value(t, what, t->params[at], epoch, t->steps, err);
    }
    if (t->n_val > 0) {
        reset_states(t);
        evaluate(r, t->params, t->n_train, t->n_val);
        accum_log(r, log, "val_");
    }
    return SEQRT_OK;
}

static double log_value(const seqrt_epoch_log *log, const char *name)
{
    for (int i = 0; i < log->n; i++)
        if (strcmp(log->names[i], name) == 0) return log->values[i];
    return NAN;
}

/* Keras's EarlyStopping (min_delta 0, no baseline) and ReduceLROnPlateau
 * at the end of an epoch. Returns 1 to stop. */
static int epoch_callbacks(Train *t, int64_t epoch, seqrt_epoch_log *log, char *note, size_t cap)
{
    double v = log_value(log, t->res.monitor);
    if (t->o.schedule.kind == SEQRT_LR_PLATEAU && seqrt_plateau_update(&t->plateau, &t->o.schedule, v)) {
        t->opt.learning_rate = t->plateau.lr;
        snprintf(note, cap, "%s did not improve for %lld epochs: learning rate lowered to %.4g",
                 t->res.monitor, (long long)t->o.schedule.every, t->plateau.lr);
        log->note = note;
    }
    if (t->o.patience <= 0) return 0;
    t->es.wait++;
    if (v < t->es.best) {
        t->es.best = v;
        t->es.wait = 0;
        t->es.best_epoch = epoch;
        if (t->best) memcpy(t->best, t->params, t->m->param_count * sizeof *t->best);
    }
    return t->es.wait >= t->o.patience && epoch > t->start_epoch;
}

/* Split, batch size and the checks fit() makes before it starts. */
static int train_plan(Train *t, const seqrt_dataset *d, seqrt_error *err)
{
    const seqrt_model *m = t->m;
    if (m->n_losses < 1 || m->n_targets < 1)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s has no losses (no train block)", m->name);
    if (d->n_y != m->n_targets)
        return seqrt_errorf(err, SEQRT_EINVAL, "training needs a target array for each of the %d "
                            "targets", m->n_targets);
    double split = t->o.validation_split;
    if (!(split >= 0 && split < 1))
        return seqrt_errorf(err, SEQRT_EINVAL, "validation split %g is not in [0, 1)", split);
    if (t->o.batch_size < 1 || t->o.epochs < 0)
        return seqrt_errorf(err, SEQRT_EINVAL, "batch size must be >= 1 and epochs >= 0");
    /* Keras: split_at = int(n * (1 - validation_split)). */
    t->n_train = split > 0 ? (int64_t)((double)d->n_samples * (1 - split)) : d->n_samples;
    if (t->o.validation_samples >= d->n_samples)
        return seqrt_errorf(err, SEQRT_EINVAL, "%s%s%s%lld validation samples leave none of the %lld for "
                            "training%s", t->o.resume_path ? "checkpoint " : "",
                            t->o.resume_path ? t->o.resume_path : "", t->o.resume_path ? ": its " : "",
                            (long long)t->o.validation_samples, (long long)d->n_samples,
                            t->o.resume_path ? " (resume with the data it was trained on)" : "");
    if (t->o.validation_samples > 0) t->n_train = d->n_samples - t->o.validation_samples;
    t->n_val = d->n_samples - t->n_train;
    if (t->n_train < 1 || ((split > 0 || t->o.validation_samples > 0) && t->n_val < 1))
        return seqrt_errorf(err, SEQRT_EINVAL, "validation split %g of %lld samples leaves %lld for "
                            "training and %lld for validation", split, (long long)d->n_samples,
                            (long long)t->n_train, (long long)t->n_val);
    if (t->o.streams && (t->n_train % t->o.batch_size || t->n_val % t->o.batch_size))
        return seqrt_errorf(err, SEQRT_EINVAL, "streams: %lld training and %lld validation samples "
                            "are not whole batches of %lld", (long long)t->n_train,
                            (long long)t->n_val, (long long)t->o.batch_size);
    snprintf(t->res.monitor, sizeof t->res.monitor, "%s", t->n_val > 0 ? "val_loss" : "loss");
    return SEQRT_OK;
}

/* Optimizer, then weights and state from a file or from the seed. */
static int train_start(Train *t, seqrt_error *err)
{
    int rc = seqrt_optim_init(&t->opt, &t->m->optim, t->m->param_count, err);
    if (rc) return rc;
    t->lr0 = t->o.learning_rate > 0 ? t->o.learning_rate : t->m->optim.learning_rate;
    t->es = (EarlyStop){INFINITY, 0, 0};
    seqrt_plateau_init(&t->plateau, t->lr0);
    if (t->o.restore_best && !(t->best = malloc(t->m->param_count * sizeof *t->best + 1)))
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for the best weights");
    const char *from = t->o.resume_path ? t->o.resume_path : t->o.load_path;
    if (from && t->o.load_partial && !t->o.resume_path) {
        int n_loaded;
        rc = seqrt_init_params(t->m, t->params, t->o.seed, err);
        if (!rc) rc = seqrt_checkpoint_load_partial(from, t->m, t->params, &n_loaded, err);
    } else if (from) {
        seqrt_checkpoint_info info;
        rc = seqrt_checkpoint_load(from, t->m, t->params, &t->opt, &info, err);
        t->start_epoch = info.epoch;
    } else {
        rc = seqrt_init_params(t->m, t->params, t->o.seed, err);
    }
    t->opt.learning_rate = t->lr0;
    if (!rc && seqrt_add_i64(t->start_epoch, t->o.epochs, &t->end_epoch))
        rc = seqrt_errorf(err, SEQRT_ERANGE, "%lld epochs after epoch %lld overflow the epoch counter",
                          (long long)t->o.epochs, (long long)t->start_epoch);
    if (!rc && t->o.resume_path) {
        rc = seqrt_train_load_state(t, t->o.resume_path, err);
        t->end_epoch = t->o.epochs > t->start_epoch ? t->o.epochs : t->start_epoch;
    }
    return rc;
}

/* After an epoch: history, callbacks, files, the caller's report. Sets
 * *stop when early stopping ends the run. */
static int epoch_end(Train *t, int64_t e, seqrt_epoch_log *log, int *stop, seqrt_error *err)
{
    char note[160];
    int rc = seqrt_history_add(&t->hist, log, err);
    *stop = rc ? 0 : epoch_callbacks(t, e, log, note, sizeof note);
    t->res.epochs_done = e;
    if (!rc && t->o.save_path && t->rank == 0) rc = seqrt_train_save_weights(t, t->o.save_path, e, err);
    if (!rc && t->o.save_path) t->saved_epoch = e;
    if (!rc && t->rank == 0 && t->o.checkpoint_path && t->o.checkpoint_every > 0 &&
        e % t->o.checkpoint_every == 0)
        rc = seqrt_train_save_state(t, t->o.checkpoint_path, e, 0, err);
    log->history = &t->hist;
    if (!rc && t->o.on_epoch) t->o.on_epoch(log, t->o.ctx);
    log->note = NULL;
    return rc;
}

/* Early stopping's end: the best weights back (Keras restores them only
 * when it stops the run), saved as the run's result. */
static int train_finish(Train *t, int stopped, seqrt_error *err)
{
    t->res.stopped_early = stopped;
    t->res.best_epoch = t->es.best_epoch;
    t->res.best_value = t->es.best;
    if (!stopped || !t->best || t->es.best_epoch < 1) return SEQRT_OK;
    memcpy(t->params, t->best, t->m->param_count * sizeof *t->params);
    t->res.restored_best = 1;
    return t->o.save_path && t->rank == 0 ? seqrt_train_save_weights(t, t->o.save_path, t->res.epochs_done, err)
                                          : SEQRT_OK;
}

int seqrt_train(const seqrt_model *m, const seqrt_dataset *d, const seqrt_train_options *o,
                seqrt_real *params, seqrt_error *err)
{
    Train t;
    memset(&t, 0, sizeof t);
    t.m = m;
    t.d = d;
    t.o = *o;
    t.params = params;
    t.saved_epoch = -1;
    seqrt_history_init(&t.hist);
    /* A checkpoint of another model is refused before its plan (split,
     * batch size) is measured against these data. */
    int rc = o->resume_path ? seqrt_checkpoint_check(o->resume_path, m, err) : SEQRT_OK, stop = 0;
    if (!rc) rc = train_plan(&t, d, err);
    if (rc) return rc;
    int64_t B = t.o.batch_size < d->n_samples ? t.o.batch_size : d->n_samples;
    int64_t sizes[] = {B, t.n_train % B, t.n_val % B};
    t.rank = seqrt_dist_rank();
    t.ranks = seqrt_dist_size();
    t.steps = (t.n_train + B * t.ranks - 1) / (B * t.ranks);
    t.data_hash = seqrt_train_data_hash(d);
    if (t.ranks > 1) {
        /* Same model, same data, same settings everywhere, or nothing. */
        uint64_t h = seqrt_fnv1a(t.data_hash, m->name, strlen(m->name));
        h = seqrt_fnv1a(h, &m->param_count, sizeof m->param_count);
        h = seqrt_fnv1a(h, &B, sizeof B);
        h = seqrt_fnv1a(h, &t.o.seed, sizeof t.o.seed);
        if (!seqrt_dist_same(h))
            return seqrt_errorf(err, SEQRT_EINVAL, "the %d ranks disagree: the model, the data, "
                                "the batch size or the seed differ between them", t.ranks);
        if (t.o.streams || t.o.resume_path)
            return seqrt_errorf(err, SEQRT_EINVAL, "--text streams and --resume run on one rank "
                                "only");
    }
    if ((rc = run_open(&t.run, m, d, B, sizes, 3, err))) return rc;
    if (seqrt_split_open(&t.run, B)) {
        seqrt_run_close(&t.run);
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for the thread team's buffers "
                            "(batch %lld)", (long long)B);
    }
    measure_states(&t);
    rc = train_start(&t, err);
    seqrt_epoch_log log;
    for (int64_t e = t.start_epoch + 1; !rc && !stop && e <= t.end_epoch; e++) {
        rc = train_epoch(&t, e, e == t.start_epoch + 1 ? t.resume_step : 0, &log, err);
        if (!rc) rc = epoch_end(&t, e, &log, &stop, err);
    }
    if (!rc) rc = train_finish(&t, stop, err);
    /* epochs = 0 still leaves a weights file: the initial (or loaded) ones. */
    if (!rc && t.o.save_path && t.rank == 0 && t.start_epoch == t.end_epoch && t.resume_step == 0)
        rc = seqrt_train_save_weights(&t, t.o.save_path, t.start_epoch, err);
    if (o->result) *o->result = t.res;
    seqrt_optim_free(&t.opt);
    seqrt_history_free(&t.hist);
    free(t.best);
    free(t.resume_states);
    seqrt_run_close(&t.run);
    return rc;
}

/* ---- predict, grad ---- */

int seqrt_predict(const seqrt_model *m, const seqrt_dataset *d, const seqrt_real *params,
                  int64_t batch_size, seqrt_real *const *outputs, seqrt_error *err)
{
    if (batch_size < 1) return seqrt_errorf(err, SEQRT_EINVAL, "batch size must be >= 1");
    int64_t n = d->n_samples, B = batch_size < n ? batch_size : n, sizes[] = {B, n % B};
    Run r;
    int rc = run_open(&r, m, d, B, sizes, 2, err);
    if (rc) return rc;
    for (int64_t s = 0; s < n; s += B) {
        int64_t b = n - s < B ? n - s : B;
        seqrt_dataset_gather(d, r.idx + s, b, r.xb, NULL);
        run_forward(&r, params, b, 0);
        for (int o = 0; o < m->n_outputs; o++)
            if (outputs[o])
                memcpy(outputs[o] + s * r.out_row[o], r.out[o],
                       (size_t)(b * r.out_row[o]) * sizeof(seqrt_real));
    }
    seqrt_run_close(&r);
    return SEQRT_OK;
}

/* All samples as one batch, gathered, with losses ready to evaluate. */
/* grad and gradcheck run every forward with this dropout key, from zeroed
 * stateful states, so each evaluation of the loss is the same function. */
enum { WHOLE_KEY = 1 };

void seqrt_run_whole_forward(Run *r, const seqrt_real *params)
{
    if (r->m->reset_states) r->m->reset_states(r->ws, r->B, r->d->dims);
    run_forward(r, params, r->B, WHOLE_KEY);
}

int seqrt_run_open_whole(Run *r, const seqrt_model *m, const seqrt_dataset *d, seqrt_error *err)
{
    if (m->n_losses < 1 || d->n_y != m->n_targets)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: gradients need its losses and a target "
                            "array per target", m->name);
    int64_t n = d->n_samples;
    int rc = run_open(r, m, d, n, &n, 1, err);
    if (!rc) seqrt_dataset_gather(d, r->idx, n, r->xb, r->yb);
    return rc;
}

int seqrt_grad(const seqrt_model *m, const seqrt_dataset *d, const seqrt_real *params,
               seqrt_real *grads, double *loss, seqrt_error *err)
{
    Run r;
    int rc = seqrt_run_open_whole(&r, m, d, err);
    if (rc) return rc;
    seqrt_run_whole_forward(&r, params);
    *loss = seqrt_run_loss(&r, r.B, 1);
    seqrt_run_backward(&r, params, r.B);
    memcpy(grads, r.grads, m->param_count * sizeof *grads);
    seqrt_run_close(&r);
    return SEQRT_OK;
}
