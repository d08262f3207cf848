/*
 * cli_internal.h: what the command-line modules share: cli.c (options,
 * usage, dispatch), cli_train.c (train, grad, gradcheck, summary) and
 * cli_infer.c (predict, decode, forecast, generate) and cli_export.c
 * (export --tfjs). Never installed.
 */
#ifndef SEQRT_CLI_INTERNAL_H
#define SEQRT_CLI_INTERNAL_H

#include "internal.h"

/* The commands, as bits: an option names the commands that take it. */
enum { TRAIN = 1, PREDICT = 2, GRAD = 4, GRADCHECK = 8, SUMMARY = 16, DECODE = 32, FORECAST = 64,
       GENERATE = 128, EXPORT = 256, ALL = 511 };
enum { MAX_SPECS = 16, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/* Every option; cli.c's table gives each one's name, value and commands. */
typedef enum {
    OPT_X, OPT_Y, OPT_OUT, OPT_WEIGHTS, OPT_EPOCHS, OPT_BATCH, OPT_SPLIT, OPT_SEED, OPT_LR,
    OPT_SAVE, OPT_LOAD, OPT_NO_SHUFFLE, OPT_CHECK_NUMERICS, OPT_QUIET, OPT_SAMPLES, OPT_EPS,
    OPT_MAX_LEN, OPT_ATTENTION_OUT, OPT_LOG, OPT_PLOT, OPT_PATIENCE, OPT_RESTORE_BEST,
    OPT_LR_SCHEDULE, OPT_CHECKPOINT_EVERY, OPT_CHECKPOINT, OPT_RESUME, OPT_CSV, OPT_COLUMN,
    OPT_WINDOW, OPT_HORIZON, OPT_STEPS, OPT_TEXT, OPT_BPTT, OPT_PRIME, OPT_LENGTH,
    OPT_TEMPERATURE, OPT_TOP_K, OPT_DIMS, OPT_HELP, OPT_VERSION, OPT_THREADS, OPT_BLAS_INFO,
    OPT_LOAD_PARTIAL, OPT_TFJS, N_OPTS
} OptId;

/* The parsed command line. */
typedef struct {
    unsigned cmd;
    const char *cmd_name;
    const char *x[MAX_SPECS], *y[MAX_SPECS], *out[MAX_SPECS];   /* "path" or "name=path" */
    int nx, ny, nout;
    const char *value[N_OPTS];   /* the last value of single-valued options */
    int given[N_OPTS];
} Opts;

/* What every command gets: the model, the program's name, its options,
 * and --x/--y resolved to one path per input and target. */
typedef struct {
    const seqrt_model *m;
    const char *prog;
    Opts o;
    const char *xp[MAX_SPECS], *yp[MAX_SPECS];
} Cli;

/* ---- cli.c: shared by the commands ---- */

/* An option's name, without the dashes. */
const char *seqrt_cli_option_name(OptId id);
/* "error: MSG (see PROG COMMAND --help)" on stderr; returns EXIT_USAGE. */
int seqrt_cli_bad_usage(const seqrt_model *m, const char *prog, const char *fmt, ...) SEQRT_PRINTF(3, 4);
/* An error of the runtime on stderr; returns its exit status. */
int seqrt_cli_error_exit(const seqrt_error *e);

/* A number option's value, or dflt when not given; a bad value is a usage
 * error (non-zero return). */
int seqrt_cli_i64(const Opts *o, OptId id, int64_t dflt, int64_t *out, const seqrt_model *m, const char *prog);
int seqrt_cli_double(const Opts *o, OptId id, double dflt, double *out, const seqrt_model *m, const char *prog);
int seqrt_cli_seed(const Opts *o, uint64_t *out, const seqrt_model *m, const char *prog);
/* s as a whole decimal number in [lo, hi]: 0, 1 not a number, 2 out of range. */
int seqrt_cli_whole(const char *s, double lo, double hi, int64_t *out);

/* --x/--y/--out specs ("path" or "NAME=path") to one path per io entry. */
int seqrt_cli_resolve(const char *const *spec, int ns, const seqrt_io *io, int n, const char *flag,
                      const char *what, const char **paths, const seqrt_model *m, const char *prog);
/* --x (and --y when with_y) into c->xp, c->yp, all required. */
int seqrt_cli_data_paths(Cli *c, int with_y);
/* Weights from --weights (required unless may_init: then seeded ones). */
int seqrt_cli_weights(Cli *c, seqrt_real *w, int may_init, uint64_t seed, seqrt_error *err);

/* ---- cli_train.c ---- */
int seqrt_cli_train(Cli *c);
int seqrt_cli_grad(Cli *c);
int seqrt_cli_gradcheck(Cli *c);
int seqrt_cli_summary(Cli *c);

/* ---- cli_infer.c ---- */
int seqrt_cli_predict(Cli *c);
int seqrt_cli_decode(Cli *c);
int seqrt_cli_forecast(Cli *c);
int seqrt_cli_generate(Cli *c);

/* ---- cli_export.c ---- */
int seqrt_cli_export(Cli *c);

#endif
