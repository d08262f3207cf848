/*
 * seqrt.h: libseqrt for a program that runs a trained model. A model that
 * seqc compiled describes itself with one `seqrt_model` (seqrt_model.h);
 * this header reads its weights and data and runs it:
 *
 *     seqrt_error err;
 *     seqrt_real *w = malloc(m->param_count * sizeof *w);
 *     seqrt_checkpoint_load("w.safetensors", m, w, NULL, NULL, &err);
 *     seqrt_dataset d;
 *     const char *x[] = {"x.npy"};
 *     seqrt_dataset_load(&d, m, x, NULL, &err);     // checked against m
 *     seqrt_predict(m, &d, w, 32, outs, &err);      // outs[o]: one per output
 *     seqrt_dataset_free(&d);
 *
 * Training, data front-ends, losses, optimizers and the rest of what a
 * training program uses are in seqrt_train.h (which includes this header);
 * what generated model code calls is in seqrt_kernel.h.
 *
 * Build flavours: link `seqrt` for float32, or `seqrt_f64` (which defines
 * SEQRT_DOUBLE for you) for float64; `seqrt_real` follows.
 *
 * Rules: the library never prints and never exits (seqrt_main, the whole
 * command line, aside). Fallible functions return SEQRT_OK (0) or an error
 * code and fill a `seqrt_error` (which may be NULL) whose message names the
 * file and the reason.
 */
#ifndef SEQRT_H
#define SEQRT_H

#include <stddef.h>
#include <stdint.h>

#include "seqrt_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================== error.c ===== */

enum {
    SEQRT_OK = 0,
    SEQRT_EIO,        /* open/read/write/rename failed (errno text in msg) */
    SEQRT_EFORMAT,    /* the file is not what it claims to be */
    SEQRT_EUNSUPPORTED, /* valid, but not something we read (dtype, order) */
    SEQRT_ERANGE,     /* a value does not fit (int64 -> int32, sizes) */
    SEQRT_ENOMEM,
    SEQRT_EINVAL,     /* bad argument from the caller */
    SEQRT_ENOTFOUND,  /* a name looked up is absent */
    SEQRT_EINTERRUPTED /* training stopped on request (SIGINT); state saved */
};

typedef struct {
    int code;
    char msg[512];
} seqrt_error;

const char *seqrt_status_name(int code);

/* ========================================================== npy.c ===== */

#define SEQRT_NPY_MAX_DIMS 8

/* An array read from a file; data is malloc'd (seqrt_array_free). */
typedef struct {
    int ndim;
    int64_t shape[SEQRT_NPY_MAX_DIMS];
    int64_t count;          /* prod(shape); 1 for a 0-d array */
    int is_int;             /* data is int32_t* (else seqrt_real*) */
    void *data;
} seqrt_array;

/* Read a .npy (format 1.0/2.0/3.0; little-endian f4, f8, i1, u1, i2, u2,
 * i4, u4, i8, u8, b1; C order). as_int = 0 converts to seqrt_real; as_int = 1
 * converts to int32 and fails on values out of range or not integral. */
int seqrt_npy_read(seqrt_array *out, const char *path, int as_int, seqrt_error *err);
/* Write seqrt_real data (dtype <f4 or <f8 as built), atomically. */
int seqrt_npy_write(const char *path, const seqrt_real *data, int ndim,
                    const int64_t *shape, seqrt_error *err);
/* Write int32 data (dtype <i4), atomically. */
int seqrt_npy_write_i32(const char *path, const int32_t *data, int ndim,
                        const int64_t *shape, seqrt_error *err);
void seqrt_array_free(seqrt_array *a);

/* ================================================== safetensors.c ===== */

/* One tensor to save: data is seqrt_real (dtype F32, or F64 in seqrt_f64). */
typedef struct {
    const char *name;
    const seqrt_real *data;
    int ndim;
    const int64_t *shape;
} seqrt_st_tensor;

/* Save tensors in the given order plus a __metadata__ string map
 * (meta = {k0, v0, k1, v1, ...}, n_meta pairs). Atomic. */
int seqrt_st_save(const char *path, const seqrt_st_tensor *tensors, int n,
                  const char *const *meta, int n_meta, seqrt_error *err);

typedef struct {
    char *name;
    int ndim;
    int64_t shape[SEQRT_NPY_MAX_DIMS];
    int64_t count;
    seqrt_real *data;       /* converted from F32 or F64 */
} seqrt_st_entry;

typedef struct {
    int n;
    seqrt_st_entry *entries;   /* in file (offset) order */
    int n_meta;
    char **meta;               /* k0, v0, k1, v1, ... */
} seqrt_st_file;

/* Load and validate a whole safetensors file into f. */
int seqrt_st_load(seqrt_st_file *f, const char *path, seqrt_error *err);
const seqrt_st_entry *seqrt_st_find(const seqrt_st_file *f, const char *name);
const char *seqrt_st_meta(const seqrt_st_file *f, const char *key);
void seqrt_st_free(seqrt_st_file *f);

/* ========================================= data.c: a run's arrays ===== */

/* The arrays of one run, an array per input (and per target, for train and
 * grad), checked against the descriptor: rank, fixed axes, the length of
 * every named time axis (all arrays sharing a name agree), sample counts,
 * integer ranges. Sample s of x[i] is the x_row[i] elements at s * x_row[i];
 * arrays are int32 for integer inputs and sparse targets, else seqrt_real. */
typedef struct {
    const seqrt_model *m;
    int n_x, n_y;             /* m->n_inputs; m->n_targets or 0 */
    seqrt_array *x, *y;
    int64_t *x_row, *y_row;   /* elements per sample */
    int64_t n_samples;
    int64_t *dims;            /* [m->n_dims] named axis lengths; -1: unset */
} seqrt_dataset;

/* Read .npy files, one per input (descriptor order) and, if ypaths is not
 * NULL, one per target. A NULL input path leaves that input empty for the
 * caller to fill (decode builds the decoder's input itself). Float data for an integer input must be integral;
 * integer data for a float array is converted. Errors name the file, the
 * tensor, and expected vs actual. */
int seqrt_dataset_load(seqrt_dataset *d, const seqrt_model *m, const char *const *xpaths,
                       const char *const *ypaths, seqrt_error *err);
/* A dataset from arrays the caller made (x[m->n_inputs], y[m->n_targets] or
 * NULL), checked like files named `label`; takes their data either way. */
int seqrt_dataset_from_arrays(seqrt_dataset *d, const seqrt_model *m, seqrt_array *x, seqrt_array *y,
                              const char *label, seqrt_error *err);
void seqrt_dataset_free(seqrt_dataset *d);

/* ================================================== checkpoint.c ===== */

/* Weights files (safetensors) hold every parameter under its name plus a
 * __metadata__ map: model, format ("seqc-1"), dtype, epoch, and checksum
 * ("fnv1a64:<16 hex>" over the data section, verified on load; files
 * without one, e.g. converted from Keras, load unchecked). With optimizer
 * state they also hold tensors "optimizer.<slot>.<param>" (slot = Keras's
 * name: momentum, velocity, ...) and the metadata keys "optimizer" (kind)
 * and "optimizer.iterations", so a loaded run continues exactly. */
typedef struct {
    int64_t epoch;            /* epochs trained so far */
    int has_optimizer;        /* optimizer state was found and loaded */
    char model[128];          /* the saving model's name ("" if absent) */
} seqrt_checkpoint_info;

/* The optimizer's state (seqrt_train.h); loading may fill one. */
typedef struct seqrt_optim seqrt_optim;

/* Fill params (and opt's slots and iterations, when opt is not NULL and the
 * file has state for the same optimizer kind). A missing tensor, a wrong
 * shape, a bad checksum or a corrupt file is an error naming it. */
int seqrt_checkpoint_load(const char *path, const seqrt_model *m, seqrt_real *params,
                          seqrt_optim *opt, seqrt_checkpoint_info *info, seqrt_error *err);
/* The checks of seqrt_checkpoint_load (format, checksums, written for this
 * model, every parameter with its shape) without loading. */
int seqrt_checkpoint_check(const char *path, const seqrt_model *m, seqrt_error *err);
/* Only the tensors whose names and shapes match a parameter (the rest keep
 * their values), whatever model wrote the file; *n_loaded counts them. */
int seqrt_checkpoint_load_partial(const char *path, const seqrt_model *m, seqrt_real *params,
                                  int *n_loaded, seqrt_error *err);

/* ================================== train.c, decode.c: prediction ===== */

/* outputs[o] gets n_samples * row reals per model output (NULL: skip). */
int seqrt_predict(const seqrt_model *m, const seqrt_dataset *d, const seqrt_real *params,
                  int64_t batch_size, seqrt_real *const *outputs, seqrt_error *err);

/* Greedy decoding (decode.c) for a model with a decode block: d holds every
 * input but the decoder's (its path NULL in seqrt_dataset_load). Writes
 * probs[n_samples, max_len, classes], the prediction at each step, whose
 * argmax is fed back; and, when the model names attention weights and attn
 * is not NULL, attn[n_samples, max_len, width] (seqrt_decode_attention_width). */
#define SEQRT_DECODE_MAX_IO 16
int seqrt_decode(const seqrt_model *m, const seqrt_dataset *d, const seqrt_real *params,
                 int64_t max_len, int64_t batch, seqrt_real *probs, seqrt_real *attn,
                 seqrt_error *err);
int64_t seqrt_decode_attention_width(const seqrt_model *m, const seqrt_dataset *d);

/* ======================================================== cli.c ===== */

/* The whole command line of a model's program (train, predict, grad,
 * gradcheck, summary, ...; `--help` documents it): what the generated
 * NAME_main.c calls, and the one function here that prints. Returns the
 * exit status: 0 ok, 1 an error (bad data, a failed check, NaN), 2 bad
 * usage. */
int seqrt_main(const seqrt_model *m, int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* SEQRT_H */
