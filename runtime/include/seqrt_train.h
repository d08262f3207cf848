/*
 * seqrt_train.h: libseqrt for a program that trains a model: Keras's
 * initialisers, losses, metrics and optimizers over the one flat parameter
 * buffer, the training loop with its schedules, early stopping, history
 * and resumable checkpoints, finite-difference gradient checks, and the
 * data front-ends for series (CSV) and text. Everything in seqrt.h (a
 * trained model's weights, data and prediction) comes with it. The rules
 * are seqrt.h's: nothing prints (seqrt_blas_setup aside) or exits, and
 * errors fill a seqrt_error. Nothing allocates inside a training step:
 * optimizer state is allocated once by seqrt_optim_init.
 *
 * seqrt_train does a whole run:
 *
 *     seqrt_dataset d;
 *     const char *x[] = {"x.npy"}, *y[] = {"y.npy"};
 *     seqrt_dataset_load(&d, m, x, y, &err);        // checked vs m
 *     seqrt_train_options o = seqrt_train_defaults(m);
 *     o.save_path = "w.safetensors";
 *     seqrt_real *w = malloc(m->param_count * sizeof *w);
 *     seqrt_train(m, &d, &o, w, &err);               // w: trained weights
 *
 * or one step at a time, on a batch of B:
 *
 *     seqrt_init_params(m, w, 42, &err);
 *     seqrt_optim opt;
 *     seqrt_optim_init(&opt, &m->optim, m->param_count, &err);
 *     m->forward(outs, w, ins, B, dims, ws, 1);
 *     memset(douts[0], 0, ...); memset(g, 0, ...);
 *     double loss = seqrt_loss(douts[0], &m->losses[0], outs[0], targets[0],
 *                              NULL, B * T, C);
 *     m->backward(g, douts, w, ins, B, dims, ws);
 *     seqrt_optim_step(&opt, w, g, m->params, m->n_params);
 *     seqrt_checkpoint_save("w.safetensors", m, w, &opt, epoch, &err);
 */
#ifndef SEQRT_TRAIN_H
#define SEQRT_TRAIN_H

#include <signal.h> /* sig_atomic_t, for seqrt_train_options.interrupt */
#include <stddef.h>
#include <stdint.h>

#include "seqrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================== rng.c ===== */

/* xoshiro256** seeded through splitmix64: the same seed gives the same
 * stream on every machine (integer and uniform draws are bit-exact; normal
 * draws use libm's log/cos, exact on one libm). */
typedef struct {
    uint64_t s[4];
    int has_spare;      /* Box-Muller makes two normals; keep the second */
    double spare;
} seqrt_rng;

void seqrt_rng_seed(seqrt_rng *r, uint64_t seed);
/* An independent stream for (seed, stream): init gives param i stream i. */
void seqrt_rng_seed_stream(seqrt_rng *r, uint64_t seed, uint64_t stream);
uint64_t seqrt_rng_u64(seqrt_rng *r);
uint64_t seqrt_rng_below(seqrt_rng *r, uint64_t n);   /* uniform in [0, n) */
double seqrt_rng_double(seqrt_rng *r);                /* [0, 1), 53 bits */
float seqrt_rng_float(seqrt_rng *r);                  /* [0, 1), 24 bits */
double seqrt_rng_normal(seqrt_rng *r);                /* N(0, 1) */
void seqrt_rng_shuffle(seqrt_rng *r, int64_t *idx, int64_t n); /* Fisher-Yates */

/* ========================================================= init.c ===== */

/* Fill every parameter of m by its initialiser (KERAS-SEMANTICS 0). Param i
 * draws from stream (seed, i), so adding a parameter never changes others.
 * Fails only on ENOMEM (orthogonal) or a malformed table. */
int seqrt_init_params(const seqrt_model *m, seqrt_real *params, uint64_t seed,
                      seqrt_error *err);
/* Keras's orthogonal for an r x c matrix: rows orthonormal if r < c,
 * columns otherwise. Householder QR in double; no LAPACK. */
int seqrt_init_orthogonal(seqrt_real *dst, int64_t r, int64_t c, seqrt_rng *rng);

/* ========================================================= loss.c ===== */

/* Evaluate one loss and ADD weight * dLoss/dpred into dpred (zero it first;
 * dpred may be NULL to only evaluate). Returns the unweighted mean loss.
 *
 *   pred    [n_positions, n_classes] (positions = B*T, or B)
 *   target  int32_t [n_positions] for sparse CCE, else seqrt_real like pred
 *   mask    [n_positions], nonzero = valid; NULL = all valid. Keras divides
 *           by the number of valid positions (0 valid -> loss 0, no grad).
 *
 * Reduction is Keras's sum_over_batch_size: divide by positions, and also by
 * n_classes for mse, mae and binary CE (they average the last axis).
 * from_logits: pred holds logits. from_softmax: pred holds the output of a
 * softmax (sigmoid for BCE); Keras's TF backend then uses the logits path
 * with NO clipping, so we take p as-is (log guarded) and return
 * dp = -y/p/N (BCE: (p-y)/(p(1-p))/(N*C)), which the generated activation
 * backward turns into exactly (p-y)/N. A sparse label outside
 * [0, n_classes) makes the result NaN: check labels when loading data with
 * seqrt_labels_check. */
double seqrt_loss(seqrt_real *dpred, const seqrt_loss_spec *s,
                  const seqrt_real *pred, const void *target,
                  const uint8_t *mask, int64_t n_positions, int64_t n_classes);

/* seqrt_loss in two parts, for a batch scored in slices: the divisor of
 * the whole batch's mean (0: nothing counts, the loss is 0), then a slice's
 * sum, its gradient scaled by weight / divisor; seqrt_loss is
 * sum / divisor over the whole batch. */
double seqrt_loss_divisor(const seqrt_loss_spec *s, const uint8_t *mask, int64_t n_positions,
                          int64_t n_classes);
double seqrt_loss_sum(seqrt_real *dpred, const seqrt_loss_spec *s, const seqrt_real *pred,
                      const void *target, const uint8_t *mask, int64_t n_positions,
                      int64_t n_classes, double divisor);

/* Index of the first label outside [0, n_classes), or -1 if all are fine. */
int64_t seqrt_labels_check(const int32_t *labels, int64_t n, int64_t n_classes);

/* ====================================================== metrics.c ===== */

/* A running, position-weighted mean over an epoch (Keras's Mean metrics). */
typedef struct {
    unsigned kind;      /* one SEQRT_METRIC_* bit, already resolved */
    double total, count;
} seqrt_metric;

/* Plain "accuracy" as Keras resolves it from shapes (compile_utils): a
 * prediction with one class -> binary; integer targets -> sparse; else
 * categorical. Other bits are returned unchanged. */
unsigned seqrt_metric_resolve(unsigned bit, int target_is_int, int64_t n_classes);
void seqrt_metric_reset(seqrt_metric *m, unsigned kind);
/* Accumulate a batch; target is int32_t* for sparse accuracy, else
 * seqrt_real*. Binary accuracy thresholds pred at 0.5. */
void seqrt_metric_update(seqrt_metric *m, const seqrt_real *pred, const void *target,
                         const uint8_t *mask, int64_t n_positions, int64_t n_classes);
double seqrt_metric_result(const seqrt_metric *m);
const char *seqrt_metric_name(unsigned kind);   /* Keras's log key */

/* ======================================================== optim.c ===== */

/* Keras optimizers over the whole flat buffer (KERAS-SEMANTICS 8). */
struct seqrt_optim {
    seqrt_optim_spec spec;
    double learning_rate;   /* starts at spec.learning_rate; set it to schedule */
    int64_t iterations;     /* steps taken; step t = iterations + 1 */
    size_t n;               /* elements in the flat buffer */
    int n_slots;
    const char *slot_names[3];
    seqrt_real *slots[3];   /* m / v / vhat, etc.: one n-vector each */
    seqrt_real *state;      /* one allocation behind all slots */
};

int seqrt_optim_init(seqrt_optim *o, const seqrt_optim_spec *spec, size_t n,
                     seqrt_error *err);
void seqrt_optim_free(seqrt_optim *o);
/* Zero the state (adagrad: initial_accumulator_value) and iterations. */
void seqrt_optim_reset(seqrt_optim *o);
/* One step: clip grads IN PLACE (clipnorm per table entry; no table = one
 * variable), decoupled weight decay, the update rule, iterations += 1. */
void seqrt_optim_step(seqrt_optim *o, seqrt_real *params, seqrt_real *grads,
                      const seqrt_param *table, int n_params);
/* Checkpoint hooks: slot i is an n-vector named e.g. "m", "v", "vhat";
 * save them and `iterations`, and write them back before the next step. */
int seqrt_optim_n_slots(const seqrt_optim *o);
seqrt_real *seqrt_optim_slot(seqrt_optim *o, int i, const char **name);

/* ============================================ data.c: random data ===== */

/* n samples of random data in the declared shapes, from seed: time axes of
 * length time_len, ids in [0, int_limit), one-hot rows for categorical
 * targets, labels in [0, classes) for sparse ones, N(0,1) otherwise. */
int seqrt_dataset_random(seqrt_dataset *d, const seqrt_model *m, int64_t n, int64_t time_len,
                         int with_targets, uint64_t seed, seqrt_error *err);

/* =========================================== checkpoint.c: saving ===== */

/* opt may be NULL (no optimizer state saved). Atomic. */
int seqrt_checkpoint_save(const char *path, const seqrt_model *m, const seqrt_real *params,
                          const seqrt_optim *opt, int64_t epoch, seqrt_error *err);
/* What a file holds besides weights and optimizer state: metadata pairs
 * (meta = {k0, v0, ...}; the data front-ends' normalisation or vocabulary,
 * the trainer's resume state "train.*") and tensors (best weights kept by
 * early stopping, "best.<param>"), all under the checksum. */
typedef struct {
    int n_meta;
    const char *const *meta;
    int n_tensors;
    const seqrt_st_tensor *tensors;
} seqrt_checkpoint_extra;
int seqrt_checkpoint_save_extra(const char *path, const seqrt_model *m, const seqrt_real *params,
                                const seqrt_optim *opt, int64_t epoch,
                                const seqrt_checkpoint_extra *extra, seqrt_error *err);
/* ===================================== train.c: the epoch's log ===== */

/* Keras's progress line for an epoch, as name/value pairs in print order:
 * loss, per-output losses (several losses only), metrics, then val_*. */
#define SEQRT_LOG_MAX 64
struct seqrt_history;
typedef struct {
    int64_t epoch, epochs;    /* 1-based epoch of epochs (resumed runs count on) */
    int64_t step, steps;      /* steps done (on_step: so far), batches in the epoch */
    double seconds;           /* wall time of the epoch's training steps (so far) */
    double lr;                /* the learning rate of the epoch's last step */
    int n;
    char names[SEQRT_LOG_MAX][64];
    double values[SEQRT_LOG_MAX];
    const struct seqrt_history *history;   /* on_epoch: every epoch so far */
    const char *note;         /* on_epoch: e.g. "learning rate lowered to 5e-4" */
} seqrt_epoch_log;

/* ================================================== schedule.c ===== */

/* --lr-schedule (Keras's semantics where Keras has the schedule):
 *   step:EVERY:FACTOR   lr0 * FACTOR^floor((epoch - 1) / EVERY)
 *   exp:DECAY           ExponentialDecay(lr0, steps per epoch, DECAY), per step
 *   cosine[:MIN]        CosineDecay(lr0, all steps of the run, alpha = MIN/lr0)
 *   plateau:P:FACTOR    ReduceLROnPlateau(FACTOR, patience P, min_delta 1e-4)
 *                       on val_loss (loss without validation) */
typedef enum {
    SEQRT_LR_CONSTANT, SEQRT_LR_STEP, SEQRT_LR_EXP, SEQRT_LR_COSINE, SEQRT_LR_PLATEAU
} seqrt_lr_kind;

typedef struct {
    seqrt_lr_kind kind;
    int64_t every;            /* step: epochs per drop; plateau: patience */
    double factor;            /* step, plateau */
    double decay;             /* exp: the rate per epoch */
    double min_lr;            /* cosine: the final rate */
} seqrt_lr_schedule;

/* The plateau rule's state (checkpoints carry it). */
typedef struct {
    double best;
    int64_t wait;
    double lr;
} seqrt_plateau;

/* "" or NULL is constant. Errors say what the spec should look like. */
int seqrt_lr_parse(seqrt_lr_schedule *s, const char *spec, seqrt_error *err);
/* The spec back as text (round-trips through seqrt_lr_parse). */
void seqrt_lr_format(const seqrt_lr_schedule *s, char *buf, size_t n);
/* The rate of the step taken in 1-based `epoch` after `iteration` optimizer
 * steps, for runs of total_steps (cosine). Constant and plateau: lr0. */
double seqrt_lr_at(const seqrt_lr_schedule *s, double lr0, int64_t epoch, int64_t iteration,
                   int64_t steps_per_epoch, int64_t total_steps);
void seqrt_plateau_init(seqrt_plateau *p, double lr);
/* End of an epoch with the monitored value; returns 1 when p->lr dropped. */
int seqrt_plateau_update(seqrt_plateau *p, const seqrt_lr_schedule *s, double value);

/* =================================================== history.c ===== */

/* Every epoch's log (Keras's History): columns are the log's names, then
 * "lr" and "seconds"; a value never logged is NaN. */
#define SEQRT_HISTORY_MAX_COLS 64
typedef struct seqrt_history {
    int n_cols;
    char cols[SEQRT_HISTORY_MAX_COLS][64];
    int64_t n_rows, cap;
    int64_t *epoch;           /* [n_rows] */
    double *values;           /* [cap * n_cols], row-major */
} seqrt_history;

void seqrt_history_init(seqrt_history *h);
void seqrt_history_free(seqrt_history *h);
int seqrt_history_add(seqrt_history *h, const seqrt_epoch_log *log, seqrt_error *err);
int seqrt_history_column(const seqrt_history *h, const char *name);   /* -1: absent */
double seqrt_history_value(const seqrt_history *h, int64_t row, int col);
/* "epoch,loss,...,lr,seconds\n1,...\n" (malloc'd; NULL when out of memory). */
char *seqrt_history_csv(const seqrt_history *h);
int seqrt_history_parse(seqrt_history *h, const char *csv, seqrt_error *err);
int seqrt_history_write(const seqrt_history *h, const char *path, seqrt_error *err);  /* atomic */

/* ====================================================== plot.c ===== */

/* The loss and every metric, training solid and validation dashed, per
 * epoch, as one self-contained SVG written atomically. */
int seqrt_plot_svg(const seqrt_history *h, const char *path, const char *title, seqrt_error *err);

/* ============================================ train.c: training ===== */

/* What a run ended with (seqrt_train fills it when options.result is set). */
typedef struct {
    int64_t epochs_done;      /* the last completed epoch */
    int stopped_early;        /* early stopping ended the run */
    int restored_best;        /* and the best epoch's weights were put back */
    int64_t best_epoch;       /* the best epoch of the monitored value (0: none) */
    double best_value;
    char monitor[16];         /* "val_loss" or "loss" */
    int interrupted;          /* stopped on request; checkpoint holds the state */
    int64_t interrupted_step;
    char checkpoint[512];     /* where the interrupted state went */
} seqrt_train_result;

typedef struct {
    int64_t epochs;           /* more epochs to run (after a loaded one's) */
    int64_t batch_size;       /* the last partial batch is kept */
    double validation_split;  /* the LAST fraction validates, as Keras does */
    uint64_t seed;            /* init and per-epoch shuffles */
    double learning_rate;     /* <= 0: the descriptor's */
    int shuffle;              /* reshuffle every epoch (Keras's default) */
    int check_numerics;       /* also run the model's NaN scans after forward
                                 and backward, and stop on a bad gradient */
    const char *save_path;    /* saved after every epoch; NULL: never */
    const char *load_path;    /* start from these weights; NULL: init */
    int load_partial;         /* load_path may come from another model: take
                                 the tensors whose names and shapes match */
    void (*on_epoch)(const seqrt_epoch_log *log, void *ctx);
    void *ctx;
    /* Progress within an epoch: called after every step with the running
     * means (log->step of log->steps); NULL: none. */
    void (*on_step)(const seqrt_epoch_log *log, void *ctx);
    int64_t validation_samples; /* > 0: the last this many samples validate
                                   (instead of validation_split) */
    int64_t patience;         /* early stopping on val_loss (else loss): stop
                                 after this many epochs without improvement,
                                 as Keras's EarlyStopping; 0: off */
    int restore_best;         /* then put back the best epoch's weights */
    seqrt_lr_schedule schedule;
    int64_t checkpoint_every; /* write a resumable checkpoint every N epochs */
    const char *checkpoint_path;   /* where (also on interrupt); NULL: none */
    /* Continue the run saved at this checkpoint exactly: weights, optimizer,
     * epoch and step, schedule and early-stopping state, history. epochs is
     * then the run's TOTAL (seqrt_train_resume_options reads the plan). */
    const char *resume_path;
    /* Streams of a long sequence (text): sample k * B + b is batch k's row b,
     * so rows continue their previous rows; no shuffling; stateful states
     * zeroed at the start of every epoch and before validation. */
    int streams;
    int n_meta;               /* extra metadata pairs saved in every file */
    const char *const *meta;
    /* Checked at step boundaries: when nonzero, save a checkpoint (to
     * checkpoint_path) and stop with SEQRT_EINTERRUPTED. */
    volatile sig_atomic_t *interrupt;
    seqrt_train_result *result;
} seqrt_train_options;

/* The descriptor's epochs and batch size, seed 42, shuffle on. */
seqrt_train_options seqrt_train_defaults(const seqrt_model *m);
/* Train into params[m->param_count]. Allocates everything before the first
 * step; zeroes stateful layers' states once (then carries them, as Keras's
 * fit does); passes each step a dropout key from (seed, iteration) and
 * honours the outputs' padding masks. A non-finite loss (or gradient, with check_numerics) stops at once
 * with SEQRT_ERANGE and "loss is nan at epoch E, step S; ..."; the file at
 * save_path then still holds the last good epoch. */
int seqrt_train(const seqrt_model *m, const seqrt_dataset *d, const seqrt_train_options *o,
                seqrt_real *params, seqrt_error *err);
/* The plan a checkpoint was written with, into o (epochs = the run's total,
 * batch size, seed, split, shuffle, streams, learning rate, schedule,
 * patience, restore_best, checkpoint_every); o->resume_path = path. */
int seqrt_train_resume_options(seqrt_train_options *o, const char *path, seqrt_error *err);
/* One forward + backward over all samples as one batch, no update (dropout
 * key 1, stateful states zeroed first; gradcheck evaluates the same way):
 * grads[m->param_count] and the total loss sum_i weight_i * loss_i. */
int seqrt_grad(const seqrt_model *m, const seqrt_dataset *d, const seqrt_real *params,
               seqrt_real *grads, double *loss, seqrt_error *err);

/* Central differences of the total loss against backward, per parameter
 * tensor: worst |num - ana| / max(|num| + |ana|, floor) over all elements,
 * or over `per_tensor` of them picked by the seed. */
typedef struct {
    double eps;               /* <= 0: 1e-5 (float64), 1e-3 (float32) */
    int64_t per_tensor;       /* <= 0: 64 */
    uint64_t seed;
} seqrt_gradcheck_options;

double seqrt_gradcheck_threshold(void);   /* 1e-6 float64, 2e-2 float32 */
double seqrt_gradcheck_floor(void);       /* 1e-3 float64, 1e-2 float32 */
/* worst[m->n_params], checked[m->n_params] (elements compared) and
 * kinks[m->n_params]: elements where a non-differentiable point lies within
 * eps (the one-sided differences disagree and backward's value lies between
 * them), left out of worst. params is perturbed and restored. */
int seqrt_gradcheck(const seqrt_model *m, const seqrt_dataset *d, seqrt_real *params,
                    const seqrt_gradcheck_options *o, double *worst, int64_t *checked,
                    int64_t *kinks, seqrt_error *err);

/* ======================================================= csv.c ===== */

/* One numeric column of a CSV file: a header row naming the columns, RFC
 * 4180 quotes, LF or CRLF. A missing or non-numeric value is an error
 * naming the line and the column. *values is malloc'd. */
int seqrt_csv_column(const char *path, const char *column, double **values, int64_t *n,
                     seqrt_error *err);

/* ==================================================== series.c ===== */

/* A forecaster's view of a series: window i is the input s[i .. i+W) as
 * [W, 1]; its target s[i+W .. i+W+K) as [K] (forecast at the last step) or
 * y[t][k] = s[i+t+1+k] as [W, K] (at every step, seq2seq). Values are
 * scaled by the training part's mean and std, kept in the weights file. */
typedef struct {
    int64_t window, horizon;
    int seq2seq;
    double mean, std;
    int64_t n_windows, n_val;   /* the last n_val windows validate */
    char column[128];
} seqrt_series;

#define SEQRT_SERIES_META 6
/* Window and horizon from m's input and target (window/horizon <= 0: take
 * the model's); errors say what the model should look like. */
int seqrt_series_plan(seqrt_series *s, const seqrt_model *m, int64_t window, int64_t horizon,
                      seqrt_error *err);
/* Windows of v[0..n) into d (targets when with_targets), the last val_split
 * of them for validation; fit: take mean and std from the training part. */
int seqrt_series_dataset(seqrt_dataset *d, seqrt_series *s, const seqrt_model *m, const double *v,
                         int64_t n, double val_split, int fit, int with_targets, const char *label,
                         seqrt_error *err);
/* Metadata pairs data.kind/column/window/horizon/mean/std into meta[12]. */
void seqrt_series_meta(const seqrt_series *s, char vals[SEQRT_SERIES_META][160], const char **meta);
/* The plan and scaling saved with a weights file. */
int seqrt_series_load(seqrt_series *s, const seqrt_model *m, const char *path, seqrt_error *err);
/* out[n_windows * K]: each window's forecast of the next K values (the last
 * step's, for seq2seq), in the series' units. */
int seqrt_series_predict(const seqrt_model *m, const seqrt_dataset *d, const seqrt_series *s,
                         const seqrt_real *w, double *out, seqrt_error *err);

typedef struct {
    double mae, rmse;               /* the model, over every horizon step */
    double naive_mae, naive_rmse;   /* repeating the window's last value */
    int64_t windows;
} seqrt_series_scores;

/* Scores over windows [first, first + n), in the series' units. */
int seqrt_series_score(const seqrt_model *m, const seqrt_dataset *d, const seqrt_series *s,
                       const seqrt_real *w, int64_t first, int64_t n, seqrt_series_scores *sc,
                       seqrt_error *err);
/* out[steps]: from the last W values of v, forecast K, append them to the
 * window, and again, until `steps` values. */
int seqrt_series_forecast(const seqrt_model *m, const seqrt_series *s, const seqrt_real *w,
                          const double *v, int64_t n, int64_t steps, double *out, seqrt_error *err);

/* ====================================================== text.c ===== */

/* A character (byte) language model's view of a text: the vocabulary is
 * the sorted set of bytes in it (any file, invalid UTF-8 included). */
typedef struct {
    int n_vocab;
    unsigned char vocab[256];   /* id -> byte */
    int id[256];                /* byte -> id, -1 if absent */
    int64_t streams, bptt;
    int64_t n_train_chars, n_val_chars, n_val_samples;
    double unigram_bits;        /* entropy of the training bytes, bits/char */
} seqrt_text;

#define SEQRT_TEXT_META 4
int seqrt_text_read(const char *path, unsigned char **bytes, int64_t *n, seqrt_error *err);
/* B = streams contiguous streams of the first (1 - val_split) of the text,
 * cut into bptt-step rows so batch k row b continues batch k-1 row b (for
 * seqrt_train_options.streams); the rest likewise for validation (the last
 * t->n_val_samples samples). */
int seqrt_text_dataset(seqrt_dataset *d, seqrt_text *t, const seqrt_model *m, const unsigned char *s,
                       int64_t n, int64_t streams, int64_t bptt, double val_split, const char *label,
                       seqrt_error *err);
/* data.kind, data.vocab (hex bytes), data.bptt, data.streams into meta[8]. */
void seqrt_text_meta(const seqrt_text *t, char vals[SEQRT_TEXT_META][520], const char **meta);
int seqrt_text_load(seqrt_text *t, const seqrt_model *m, const char *path, seqrt_error *err);
/* out[length] bytes after the prime: temperature 0 takes the most likely
 * byte; else sample softmax(logits / T), from the top_k (> 0) only. A
 * stateful model reads one byte per step; another re-reads the last bptt. */
int seqrt_text_generate(const seqrt_model *m, const seqrt_real *w, const seqrt_text *t,
                        const unsigned char *prime, int64_t n_prime, int64_t length, double temperature,
                        int64_t top_k, uint64_t seed, unsigned char *out, seqrt_error *err);

/* ================================================= blas_setup.c ===== */

/* BLAS setup, called first thing in seqrt_main. seqrt_blas_setup: when OpenBLAS picked a weaker kernel than the CPU runs
 * (Debian's 0.3.21 takes "Prescott" on recent Xeons: sgemm ~5x slower) and
 * OPENBLAS_CORETYPE is not set, re-executes the program (/proc/self/exe,
 * same argv, only if argv is the process's own command line) with
 * OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2); if the exec fails,
 * one warning line on stderr says how to fix it (an in-process caller with
 * its own argv, such as a test, gets neither). Then sets the BLAS thread
 * count: --threads N (removed from argv), else the environment
 * (OPENBLAS_NUM_THREADS, ...), else one thread for small models (see
 * blas_setup.c). m may be NULL. Returns the new argc, or -1 after printing
 * an error for a bad --threads value. Unlike the rest of the library, it
 * prints (as cli.c does). */
int seqrt_blas_setup(const seqrt_model *m, int argc, char **argv);
/* "SkylakeX", "Haswell" or NULL: the best OpenBLAS core for this CPU. */
const char *seqrt_blas_wanted_core(void);
/* 3 for AVX-512 kernels (SkylakeX, Cooperlake, SapphireRapids), 2 for AVX2
 * (Haswell, Zen), 0 for the rest (case-insensitive). */
int seqrt_blas_core_rank(const char *core);

#ifdef __cplusplus
}
#endif

#endif /* SEQRT_TRAIN_H */
