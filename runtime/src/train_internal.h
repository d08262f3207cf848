/*
 * train_internal.h: what train.c (the loop, predict, grad), train_state.c
 * (resumable checkpoints: the "train.*" metadata) and gradcheck.c (finite
 * differences against backward) share. Never installed.
 */
#ifndef SEQRT_TRAIN_INTERNAL_H
#define SEQRT_TRAIN_INTERNAL_H

#include "internal.h"

/* The buffers for batches of up to B samples of one dataset. */
typedef struct {
    const seqrt_model *m;
    const seqrt_dataset *d;
    int64_t B;
    void **xb, **yb;             /* per input / target: B rows */
    seqrt_real **out, **dout;    /* per output: B * out_row */
    uint8_t **mask;              /* per output: B * positions, valid = 1 */
    int *masked;                 /* per output: the last forward gave a mask */
    int64_t *out_row;
    int64_t *npos, *ncls;        /* per loss: positions per sample, classes */
    double *loss_val;            /* per loss: last batch's mean */
    double *loss_div;            /* per loss: last batch's divisor (seqrt_loss_divisor) */
    seqrt_real *grads;
    void *ws;
    int64_t *idx;                /* [n_samples] sample order */
    int n_met;
    seqrt_metric *met;
    int *met_loss;               /* the loss whose output and target it scores */
    unsigned *met_bit;           /* as asked (for its name), before resolving */
    double sum_total, sum_n, *sum_loss;   /* running epoch means */
    /* train_split.c: the batch in row slices on the thread team */
    int split_n;                 /* slices; 0: every step runs whole */
    int split_team;              /* the team's size they were made for */
    void **split_ws;             /* per member: its workspace ([0] = ws) */
    seqrt_real **split_grads;    /* per member: its gradient ([0] = grads) */
    double *split_loss;          /* [member][loss]: partial sums */
    double *split_div;           /* [member][loss]: the whole batch's divisors */
} Run;

typedef struct {
    double best;
    int64_t wait, best_epoch;
} EarlyStop;

typedef struct {
    Run run;
    seqrt_optim opt;
    seqrt_train_options o;
    const seqrt_model *m;
    const seqrt_dataset *d;
    seqrt_real *params;
    int64_t n_train, n_val;
    int64_t saved_epoch;         /* last epoch written to save_path; -1: none */
    int64_t start_epoch, end_epoch;   /* epochs done before this run; the last to run */
    int64_t resume_step;         /* steps of epoch start_epoch + 1 done before (resume) */
    int64_t steps;               /* per epoch */
    size_t state_bytes;          /* streams: the stateful layers' carried states,
                                    the workspace's first bytes; 0: none */
    seqrt_real *resume_states;   /* their values at the resumed step, or NULL */
    double lr0;
    seqrt_plateau plateau;
    EarlyStop es;
    seqrt_real *best;            /* restore_best: the best epoch's weights */
    seqrt_history hist;
    uint64_t data_hash;
    seqrt_train_result res;
    int rank, ranks;             /* data-parallel: this process, all (dist.c) */
} Train;

/* ---- train.c: a Run's steps ---- */
void seqrt_run_close(Run *r);
/* The batch at sample b's losses (the objective), with their output
 * gradients when with_grad; after a forward. */
double seqrt_run_loss(Run *r, int64_t b, int with_grad);
/* Its two parts, which a split step's slices share: the losses of rows
 * [r0, r0 + rows) of a batch of b, each loss's sum over them into part[i]
 * and, with_grad, its output gradient into those rows of dout (zeroed
 * first: several losses may score one output), scaled by weight /
 * div[i], div[i] the whole batch's divisor (seqrt_loss_divisor, from the
 * whole batch's masks); then, with loss_val holding the whole batch's
 * sums, the means and the objective. */
void seqrt_run_loss_rows(Run *r, int64_t r0, int64_t rows, int64_t b, int with_grad, double *part,
                         double *div);
double seqrt_run_loss_total(Run *r, const double *div);

/* Row r0 of a batch-major buffer of `row` elements of `size` bytes. */
static inline void *seqrt_run_row(void *base, int64_t r0, int64_t row, size_t size)
{
    return (char *)base + (size_t)(r0 * row) * size;
}
void seqrt_run_backward(Run *r, const seqrt_real *params, int64_t b);
/* A Run whose one batch is the whole dataset, and its forward. */
int seqrt_run_open_whole(Run *r, const seqrt_model *m, const seqrt_dataset *d, seqrt_error *err);
void seqrt_run_whole_forward(Run *r, const seqrt_real *params);

/* ---- train_split.c: a step's batch in row slices on the team ---- */
#define SEQRT_SPLIT_IO 16        /* inputs and outputs a split step handles */
/* Sets up the members' buffers for batches of up to B when the team has
 * several members and the model's rows are independent; 0, or -1 when out
 * of memory. */
int seqrt_split_open(Run *r, int64_t B);
void seqrt_split_close(Run *r);
/* After the batch is gathered: forward, losses (with their output
 * gradients) and backward of b samples in slices, the loss values in
 * r->loss_val and *total, the summed gradient in r->grads. Returns 0 (and
 * does nothing) where the step must run whole. */
int seqrt_split_step(Run *r, const seqrt_real *params, int64_t b, int key, double *total);

/* ---- train_state.c: resumable state ---- */
uint64_t seqrt_train_data_hash(const seqrt_dataset *d);
/* A checkpoint after `done` epochs and `step` steps of the next. */
int seqrt_train_save_state(const Train *t, const char *path, int64_t done, int64_t step, seqrt_error *err);
int seqrt_train_save_weights(const Train *t, const char *path, int64_t done, seqrt_error *err);
int seqrt_train_load_state(Train *t, const char *path, seqrt_error *err);

#endif

