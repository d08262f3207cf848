/*
 * cli.c: the command line of every training binary; a generated NAME_main.c
 * is one call to seqrt_main. The only part of libseqrt that prints: it
 * turns options into calls to data.c, train.c and checkpoint.c, and their
 * errors into one line on stderr. Exit status 0 ok, 1 an error in the data,
 * the weights or the numbers, 2 bad usage.
 *
 *   train      --x X.npy --y Y.npy [--epochs N] [--batch-size N] ...
 *   predict    --weights W --x X.npy --out OUT.npy
 *   grad       --weights W --x X.npy --y Y.npy --out G.safetensors
 *   gradcheck  [--weights W] [--x X.npy --y Y.npy] [--samples N] [--eps F]
 *   decode     --weights W --x enc=X.npy --max-len N --out OUT.npy [--attention-out A.npy]
 *   summary
 *
 * GNU conventions: --opt VALUE or --opt=VALUE; PROG COMMAND --help for one
 * command; --version. One table says which command takes which option and
 * the type and range of every number: refusals, did-you-mean and the
 * per-command help all come from it.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef SEQRT_VERSION /* set by the build; the project's version */
#define SEQRT_VERSION "(unknown version)"
#endif

enum { TRAIN = 1, PREDICT = 2, GRAD = 4, GRADCHECK = 8, SUMMARY = 16, DECODE = 32, FORECAST = 64,
       GENERATE = 128, ALL = 255 };
enum { MAX_SPECS = 16, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/* Each command: its synopsis (after the name; continuation lines indented
 * to column 13) and its paragraph of the help. */
static const struct {
    const char *name;
    unsigned cmd;
    const char *synopsis, *details;
} commands[] = {
    {"train", TRAIN,
     "(--x X.npy --y Y.npy | --csv FILE --column NAME [--window N] [--horizon K]\n"
     "             | --text FILE [--bptt K]) [--epochs N] [--batch-size N]\n"
     "             [--validation-split F] [--seed N] [--lr F] [--save W.safetensors]\n"
     "             [--load W.safetensors] [--no-shuffle] [--check-numerics] [--quiet]\n"
     "             [--log H.csv] [--plot H.svg] [--patience N [--restore-best]]\n"
     "             [--lr-schedule step:EVERY:FACTOR|exp:DECAY|cosine[:MIN]|plateau:P:FACTOR]\n"
     "             [--checkpoint-every N] [--checkpoint C.safetensors] [--resume C.safetensors]",
     /* after "train: defaults epochs E, batch size B, seed 42, shuffle every epoch, the last" */
     "  partial batch kept. --validation-split F holds out the LAST fraction F of the\n"
     "  samples. --lr overrides the optimizer's learning rate. --save writes the weights\n"
     "  and optimizer state after every epoch (atomically); --load continues from them\n"
     "  (epochs count on from the file's). A non-finite loss (with --check-numerics, any\n"
     "  non-finite gradient) stops training; the saved file keeps the last good epoch.\n"
     "  On a terminal each epoch shows a progress bar (steps, ETA, running loss and\n"
     "  metrics) as wide as the terminal; otherwise (a pipe, a file, under mpirun) one\n"
     "  Keras-like line per epoch.\n"
     "  --log H.csv: one row per epoch (epoch, loss, metrics, val_*, lr, seconds),\n"
     "  rewritten atomically after every epoch. --plot H.svg: the loss and metric\n"
     "  curves, training solid and validation dashed, as a self-contained SVG.\n"
     "  --patience N: Keras's EarlyStopping on val_loss (loss without validation):\n"
     "  stop after N epochs without improvement; --restore-best then puts back the\n"
     "  best epoch's weights (as Keras does, only when it stops the run).\n"
     "  --lr-schedule: step:EVERY:FACTOR multiplies the rate by FACTOR every EVERY\n"
     "  epochs; exp:DECAY is ExponentialDecay(decay_steps = one epoch, DECAY) per\n"
     "  step; cosine[:MIN] is CosineDecay over the whole run down to MIN (alpha =\n"
     "  MIN / lr); plateau:P:FACTOR is ReduceLROnPlateau(FACTOR, patience P,\n"
     "  min_delta 1e-4) on val_loss (else loss).\n"
     "  --checkpoint-every N writes a resumable checkpoint every N epochs to\n"
     "  --checkpoint C (default: W.ckpt.safetensors beside --save W, else\n"
     "  MODEL.ckpt.safetensors). Ctrl-C (SIGINT) saves one there at the next step\n"
     "  and exits with status 130 (a second Ctrl-C ends at once). --resume C\n"
     "  continues exactly: weights, optimizer, epoch and step, the shuffle stream,\n"
     "  schedule and early-stopping state and history; the result is bit-identical\n"
     "  to an uninterrupted run. Give the same data; options that would change the\n"
     "  run must match the checkpoint (--epochs may raise its total); --text runs'\n"
     "  stateful states are in the checkpoint too, so they resume exactly mid-epoch.\n"
     "  A weights file written for another model is refused; --load-partial W\n"
     "  instead of --load takes the tensors whose names and shapes match (the rest\n"
     "  start from the seed's initial values; epochs and optimizer start afresh).\n"
     "  --csv FILE --column NAME: a time series (header row, quoted fields, CRLF;\n"
     "  a missing value is an error naming line and column). Window i is input\n"
     "  [W, 1] (W = --window, or the model's fixed length) and its target is the\n"
     "  next K values [K], or [W, K] for a model forecasting at every step (K =\n"
     "  the model's target width, --horizon checks it). The last fraction of the\n"
     "  windows validates (--validation-split, default 0.2), in time order; values\n"
     "  are scaled by the training part's mean and std, saved in the weights file.\n"
     "  After training: validation MAE and RMSE in the series' units against the\n"
     "  naive forecast (the window's last value).\n"
     "  --text FILE: a character model on the file's BYTES (any file, invalid\n"
     "  UTF-8 included: a multi-byte character is several symbols). The sorted\n"
     "  byte vocabulary is saved with the weights. The text (the last\n"
     "  --validation-split, default 0.1, validates) is cut into --batch-size\n"
     "  contiguous streams and --bptt K (default 64) step rows: row b of each batch\n"
     "  continues row b of the last, so stateful layers carry their state\n"
     "  (truncated BPTT every K steps); no shuffling. After training: validation\n"
     "  loss, bits per character and the text's unigram entropy.\n"},
    {"predict", PREDICT,
     "--weights W.safetensors (--x X.npy | --csv FILE --column NAME)\n"
     "             --out OUT.npy [--batch-size N]",
     "predict: writes each output [N, ...] in batches of --batch-size. With --csv:\n"
     "  every window's next K values, in the series' units, as [windows, K].\n"},
    {"forecast", FORECAST, "--weights W.safetensors --csv FILE --column NAME --steps N [--out F.csv]",
     "forecast: from the series' last W values, forecast K, append them to the\n"
     "  window and repeat until --steps values; CSV (step,NAME) to stdout or --out.\n"},
    {"generate", GENERATE,
     "--weights W.safetensors [--prime TEXT] [--length N] [--temperature T]\n"
     "             [--top-k K] [--seed N]",
     "generate: --length bytes (default 200) after --prime (default a newline),\n"
     "  sampled from softmax(logits / --temperature) (default 1; 0 = most likely),\n"
     "  from the --top-k most likely only if given; --seed repeats a sample.\n"},
    {"grad", GRAD, "--weights W.safetensors --x X.npy --y Y.npy --out G.safetensors",
     "grad: one forward and backward over all samples as one batch; writes each\n"
     "  parameter's gradient under its name and the total loss as tensor 'loss'.\n"},
    {"gradcheck", GRADCHECK,
     "[--weights W.safetensors] [--x X.npy --y Y.npy] [--samples N]\n"
     "             [--eps F] [--seed N] [--quiet]",
     /* then "  is |num - ana| / max(...); fails above ..." */
     "gradcheck: central differences of the total loss against backward for every\n"
     "  parameter tensor (up to 64 elements each, picked by --seed), dropout masks\n"
     "  fixed and stateful layers starting from zero states. Without --x/--y it uses\n"
     "  --samples (default 4) random samples with time axes of length 5; without\n"
     "  --weights, the seeded initial weights plus a U(-0.05, 0.05) jitter. The error\n"},
    {"decode", DECODE,
     "--weights W.safetensors --x NAME=X.npy ... --max-len N --out OUT.npy\n"
     "             [--attention-out A.npy] [--batch-size N]",
     "decode: greedy decoding for a model with a decode block: every input but the\n"
     "  decoder's from --x; the decoder's input is built step by step from the\n"
     "  model's own predictions, up to --max-len steps.\n"},
    {"summary", SUMMARY,
     "[--batch-size N] [--dims NAME=LEN,...]: the layers, parameter counts\n"
     "             and the memory a training step needs at that batch size and length",
     "summary: the layers and parameter counts; with --dims (and --batch-size) the\n"
     "  memory of one training step: parameters, gradients, optimizer state, the\n"
     "  activations kept for BPTT and the batch buffers.\n"},
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

typedef enum {
    OPT_X, OPT_Y, OPT_OUT, OPT_WEIGHTS, OPT_EPOCHS, OPT_BATCH, OPT_SPLIT, OPT_SEED, OPT_LR,
    OPT_SAVE, OPT_LOAD, OPT_NO_SHUFFLE, OPT_CHECK_NUMERICS, OPT_QUIET, OPT_SAMPLES, OPT_EPS,
    OPT_MAX_LEN, OPT_ATTENTION_OUT, OPT_LOG, OPT_PLOT, OPT_PATIENCE, OPT_RESTORE_BEST,
    OPT_LR_SCHEDULE, OPT_CHECKPOINT_EVERY, OPT_CHECKPOINT, OPT_RESUME, OPT_CSV, OPT_COLUMN,
    OPT_WINDOW, OPT_HORIZON, OPT_STEPS, OPT_TEXT, OPT_BPTT, OPT_PRIME, OPT_LENGTH,
    OPT_TEMPERATURE, OPT_TOP_K, OPT_DIMS, OPT_HELP, OPT_VERSION, OPT_THREADS, OPT_BLAS_INFO,
    OPT_LOAD_PARTIAL, N_OPTS
} OptId;

/* What an option's value is. Whole numbers and reals are decimal, the
 * whole string, within [lo, hi] (a real's bound may be excluded). */
typedef enum { V_FLAG, V_TEXT, V_INT, V_REAL, V_SEED } ValueKind;
enum { LO_OPEN = 1, HI_OPEN = 2 };

/* The ceilings keep every size computed from a count far from wrapping
 * size_t (steps * 8 bytes, samples * a row, length + 1, ...). */
#define MILLION 1000000.0

/* Each option: its value, the commands that accept it, and for numbers the
 * range. OPT_THREADS and OPT_BLAS_INFO are taken by blas_setup.c first;
 * they are here for did-you-mean. */
static const struct {
    const char *name, *arg;
    ValueKind kind;
    unsigned cmds;
    double lo, hi;
    int open;
} options[N_OPTS] = {
    [OPT_X] = {"x", "[NAME=]X.npy", V_TEXT, TRAIN | PREDICT | GRAD | GRADCHECK | DECODE},
    [OPT_Y] = {"y", "[NAME=]Y.npy", V_TEXT, TRAIN | GRAD | GRADCHECK},
    [OPT_OUT] = {"out", "PATH", V_TEXT, PREDICT | GRAD | DECODE | FORECAST},
    [OPT_WEIGHTS] = {"weights", "W.safetensors", V_TEXT, PREDICT | GRAD | GRADCHECK | DECODE | FORECAST | GENERATE},
    [OPT_EPOCHS] = {"epochs", "N", V_INT, TRAIN, 0, MILLION},
    [OPT_BATCH] = {"batch-size", "N", V_INT, TRAIN | PREDICT | DECODE | SUMMARY, 1, MILLION},
    [OPT_SPLIT] = {"validation-split", "F", V_REAL, TRAIN, 0, 1, HI_OPEN},
    [OPT_SEED] = {"seed", "N", V_SEED, TRAIN | GRADCHECK | GENERATE},
    [OPT_LR] = {"lr", "F", V_REAL, TRAIN, 0, MILLION, LO_OPEN},
    [OPT_SAVE] = {"save", "W.safetensors", V_TEXT, TRAIN},
    [OPT_LOAD] = {"load", "W.safetensors", V_TEXT, TRAIN},
    [OPT_LOAD_PARTIAL] = {"load-partial", "W.safetensors", V_TEXT, TRAIN},
    [OPT_NO_SHUFFLE] = {"no-shuffle", NULL, V_FLAG, TRAIN},
    [OPT_CHECK_NUMERICS] = {"check-numerics", NULL, V_FLAG, TRAIN},
    [OPT_QUIET] = {"quiet", NULL, V_FLAG, TRAIN | GRADCHECK},
    [OPT_SAMPLES] = {"samples", "N", V_INT, GRADCHECK, 1, MILLION},
    [OPT_EPS] = {"eps", "F", V_REAL, GRADCHECK, 0, 1, LO_OPEN | HI_OPEN},
    [OPT_MAX_LEN] = {"max-len", "N", V_INT, DECODE, 1, 100000},
    [OPT_ATTENTION_OUT] = {"attention-out", "A.npy", V_TEXT, DECODE},
    [OPT_LOG] = {"log", "H.csv", V_TEXT, TRAIN},
    [OPT_PLOT] = {"plot", "H.svg", V_TEXT, TRAIN},
    [OPT_PATIENCE] = {"patience", "N", V_INT, TRAIN, 1, MILLION},
    [OPT_RESTORE_BEST] = {"restore-best", NULL, V_FLAG, TRAIN},
    [OPT_LR_SCHEDULE] = {"lr-schedule", "SCHEDULE", V_TEXT, TRAIN},
    [OPT_CHECKPOINT_EVERY] = {"checkpoint-every", "N", V_INT, TRAIN, 1, MILLION},
    [OPT_CHECKPOINT] = {"checkpoint", "C.safetensors", V_TEXT, TRAIN},
    [OPT_RESUME] = {"resume", "C.safetensors", V_TEXT, TRAIN},
    [OPT_CSV] = {"csv", "FILE", V_TEXT, TRAIN | PREDICT | FORECAST},
    [OPT_COLUMN] = {"column", "NAME", V_TEXT, TRAIN | PREDICT | FORECAST},
    [OPT_WINDOW] = {"window", "N", V_INT, TRAIN, 1, MILLION},
    [OPT_HORIZON] = {"horizon", "K", V_INT, TRAIN, 1, MILLION},
    [OPT_STEPS] = {"steps", "N", V_INT, FORECAST, 1, MILLION},
    [OPT_TEXT] = {"text", "FILE", V_TEXT, TRAIN},
    [OPT_BPTT] = {"bptt", "K", V_INT, TRAIN, 1, MILLION},
    [OPT_PRIME] = {"prime", "TEXT", V_TEXT, GENERATE},
    [OPT_LENGTH] = {"length", "N", V_INT, GENERATE, 0, 10 * MILLION},
    [OPT_TEMPERATURE] = {"temperature", "T", V_REAL, GENERATE, 0, 1000},
    [OPT_TOP_K] = {"top-k", "K", V_INT, GENERATE, 0, MILLION},
    [OPT_DIMS] = {"dims", "NAME=LEN,...", V_TEXT, SUMMARY},
    [OPT_HELP] = {"help", NULL, V_FLAG, ALL},
    [OPT_VERSION] = {"version", NULL, V_FLAG, ALL},
    [OPT_THREADS] = {"threads", "N", V_INT, ALL, 1, 1024},
    [OPT_BLAS_INFO] = {"blas-info", NULL, V_FLAG, ALL},
};

typedef struct {
    unsigned cmd;
    const char *cmd_name;
    const char *x[MAX_SPECS], *y[MAX_SPECS], *out[MAX_SPECS];   /* "path" or "name=path" */
    int nx, ny, nout;
    const char *value[N_OPTS];   /* the last value of single-valued options */
    int given[N_OPTS];
} Opts;

/* The command of usage errors' "see PROG COMMAND --help" (NULL: none yet). */
static const char *usage_command;

/* ---- usage ---- */

static void print_io(FILE *f, const seqrt_model *m, const char *what, const seqrt_io *io, int n)
{
    for (int i = 0; i < n; i++) {
        fprintf(f, "  %-8s %-16s [N", what, io[i].name);
        for (int k = 0; k < io[i].ndim; k++) {
            if (io[i].shape[k] >= 0) fprintf(f, ", %lld", (long long)io[i].shape[k]);
            else fprintf(f, ", %s", m->dim_names[io[i].dim_index[k]]);
        }
        fprintf(f, "] %s", io[i].is_int ? "int32" : SEQRT_REAL_NAME);
        if (io[i].is_int && io[i].int_limit > 0) fprintf(f, " in [0, %lld)", (long long)io[i].int_limit);
        fprintf(f, "\n");
        what = "";
    }
}

/* A number option's range in words: "1 to 1000000", "at least 0 and below 1". */
static void range_text(OptId id, char *buf, size_t n)
{
    double lo = options[id].lo, hi = options[id].hi;
    if (options[id].kind == V_SEED) snprintf(buf, n, "0 to %llu", (unsigned long long)UINT64_MAX);
    else if (options[id].kind == V_INT) snprintf(buf, n, "%.0f to %.0f", lo, hi);
    else
        snprintf(buf, n, "%s %g and %s %g", options[id].open & LO_OPEN ? "above" : "at least", lo,
                 options[id].open & HI_OPEN ? "below" : "at most", hi);
}

/* The commands and their options. */
static void synopsis(FILE *f, const char *prog)
{
    fprintf(f, "usage: %s <command> [options]\n", prog);
    for (int c = 0; c < N_COMMANDS; c++) fprintf(f, "  %-10s %s\n", commands[c].name, commands[c].synopsis);
    fprintf(f, "  every command takes [--threads N] (BLAS threads); --blas-info prints the BLAS in use;\n"
               "  %s COMMAND --help describes one command; --version\n", prog);
}

static void model_line(FILE *f, const seqrt_model *m)
{
    fprintf(f, "The training program of model '%s'%s%s%s, built on libseqrt (%s).\n", m->name,
            m->source ? " (from " : "", m->source ? m->source : "", m->source ? ")" : "", SEQRT_REAL_NAME);
}

static void data_help(FILE *f, const seqrt_model *m)
{
    fprintf(f, "data (.npy, C order; N samples first; a named axis takes its length from the data):\n");
    print_io(f, m, "inputs", m->inputs, m->n_inputs);
    print_io(f, m, "targets", m->targets, m->n_targets);
    print_io(f, m, "outputs", m->outputs, m->n_outputs);
    fprintf(f, "With one input (target, output) a bare path will do; with several, name each:\n"
               "--x NAME=PATH (likewise --y and predict's --out). Sparse labels may be [N, T] or\n"
               "[N, T, 1]. Float data for an integer input must hold integral values.\n");
}

/* Command c's paragraph; train's and gradcheck's carry the model's numbers. */
static void command_details(FILE *f, const seqrt_model *m, int c)
{
    if (commands[c].cmd == TRAIN)
        fprintf(f, "train: defaults epochs %d, batch size %d, seed 42, shuffle every epoch, the last\n",
                m->epochs > 0 ? m->epochs : 1, m->batch_size > 0 ? m->batch_size : 32);
    fputs(commands[c].details, f);
    if (commands[c].cmd == GRADCHECK)
        fprintf(f, "  is |num - ana| / max(|num| + |ana|, %g); fails above %.0e (%s).\n",
                seqrt_gradcheck_floor(), seqrt_gradcheck_threshold(), SEQRT_REAL_NAME);
}

static void usage(FILE *f, const seqrt_model *m, const char *prog)
{
    synopsis(f, prog);
    fputc('\n', f);
    model_line(f, m);
    fputc('\n', f);
    data_help(f, m);
    fputc('\n', f);
    for (int c = 0; c < N_COMMANDS; c++) command_details(f, m, c);
    fprintf(f, "\n"
               "weights files: safetensors, one tensor per parameter under its Keras name, and\n"
               "  (from train) the optimizer state as optimizer.<slot>.<parameter> tensors;\n"
               "  __metadata__ holds model, format (seqc-1), dtype, epoch, optimizer,\n"
               "  optimizer.iterations and checksum (FNV-1a 64 of the data section, checked on\n"
               "  load; files without one, e.g. converted from Keras, load unchecked).\n\n"
               "options: --opt VALUE and --opt=VALUE are the same.\n"
               "exit status: 0 ok, 1 error (data, weights, NaN, failed check), 2 usage.\n");
}

/* PROG COMMAND --help: its synopsis, data, paragraph and options with ranges. */
static void command_usage(FILE *f, const seqrt_model *m, const char *prog, int c)
{
    unsigned bit = commands[c].cmd;
    fprintf(f, "usage: %s %s %s\n\n", prog, commands[c].name, commands[c].synopsis);
    model_line(f, m);
    fputc('\n', f);
    if (options[OPT_X].cmds & bit) {
        data_help(f, m);
        fputc('\n', f);
    }
    command_details(f, m, c);
    fprintf(f, "\noptions of %s (--opt VALUE or --opt=VALUE):\n", commands[c].name);
    for (int i = 0; i < N_OPTS; i++) {
        if (!(options[i].cmds & bit) || options[i].cmds == ALL) continue;
        char head[64], range[96] = "";
        snprintf(head, sizeof head, "--%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        if (options[i].kind == V_INT || options[i].kind == V_REAL) range_text((OptId)i, range, sizeof range);
        if (!range[0]) fprintf(f, "  %s\n", head);
        else fprintf(f, "  %-30s %s, %s\n", head, options[i].kind == V_INT ? "a whole number" : "a number", range);
    }
    fprintf(f, "  --threads N, --blas-info, --help, --version: as for every command\n"
               "\nexit status: 0 ok, 1 error (data, weights, NaN, failed check), 2 usage.\n");
}

/* One line on stderr: why, and where to look; the exit status for bad
 * usage. A did-you-mean is hint enough. */
static int bad_usage(const seqrt_model *m, const char *prog, const char *fmt, ...) SEQRT_PRINTF(3, 4);
static int bad_usage(const seqrt_model *m, const char *prog, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    (void)m;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (msg[0] && msg[strlen(msg) - 1] == '?') fprintf(stderr, "error: %s\n", msg);
    else
        fprintf(stderr, "error: %s (see %s %s%s--help)\n", msg, prog, usage_command ? usage_command : "",
                usage_command ? " " : "");
    return EXIT_USAGE;
}

static int error_exit(const seqrt_error *e)
{
    fprintf(stderr, "error: %s\n", e->msg);
    return 1;
}

/* ---- numbers: one parser for every numeric option ---- */

/* Only what a person writes for a decimal number: digits, and for a real a
 * point and an exponent; no hex, no "inf", no leading blanks. */
static int decimal_chars(const char *s, int real)
{
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || ((*p == '-' || *p == '+') && (p == s || (real && (p[-1] == 'e' || p[-1] == 'E')))) ||
              (real && (*p == '.' || *p == 'e' || *p == 'E'))))
            return 0;
    return 1;
}

static int out_of_range(const Opts *o, OptId id, const seqrt_model *m, const char *prog)
{
    char range[96];
    range_text(id, range, sizeof range);
    return bad_usage(m, prog, "--%s: %s is out of range (%s)", options[id].name, o->value[id], range);
}

/* s, all of it, as a whole number in [lo, hi]: 0, else 1 not a whole
 * number, 2 out of range (overflow included). */
static int parse_whole(const char *s, double lo, double hi, int64_t *out)
{
    char *end;
    if (!decimal_chars(s, 0)) return 1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end) return 1;
    if (errno == ERANGE || (double)v < lo || (double)v > hi) return 2;
    *out = v;
    return 0;
}

/* A whole-number option (V_INT) into *out, dflt when not given. */
static int get_i64(const Opts *o, OptId id, int64_t dflt, int64_t *out, const seqrt_model *m, const char *prog)
{
    *out = dflt;
    if (!o->given[id]) return 0;
    int rc = parse_whole(o->value[id], options[id].lo, options[id].hi, out);
    if (rc == 1) return bad_usage(m, prog, "--%s: '%s' is not a whole number", options[id].name, o->value[id]);
    return rc ? out_of_range(o, id, m, prog) : 0;
}

/* A real option (V_REAL): finite, within its range. */
static int get_double(const Opts *o, OptId id, double dflt, double *out, const seqrt_model *m, const char *prog)
{
    *out = dflt;
    if (!o->given[id]) return 0;
    const char *s = o->value[id];
    char *end;
    double v = decimal_chars(s, 1) ? strtod(s, &end) : 0;
    if (!decimal_chars(s, 1) || end == s || *end)
        return bad_usage(m, prog, "--%s: '%s' is not a number", options[id].name, s);
    double lo = options[id].lo, hi = options[id].hi;
    int open = options[id].open;
    if (!isfinite(v) || v < lo || v > hi || ((open & LO_OPEN) && v == lo) || ((open & HI_OPEN) && v == hi))
        return out_of_range(o, id, m, prog);
    *out = v;
    return 0;
}

static int get_seed(const Opts *o, uint64_t *out, const seqrt_model *m, const char *prog)
{
    *out = 42;
    if (!o->given[OPT_SEED]) return 0;
    const char *s = o->value[OPT_SEED];
    char *end;
    errno = 0;
    unsigned long long v = decimal_chars(s, 0) ? strtoull(s, &end, 10) : 0;
    if (!decimal_chars(s, 0) || *end) return bad_usage(m, prog, "--seed: '%s' is not a whole number", s);
    if (errno == ERANGE || s[0] == '-') return out_of_range(o, OPT_SEED, m, prog);
    *out = v;
    return 0;
}

/* Every number is checked as it is read, whatever the command does next. */
static int check_number(const Opts *o, OptId id, const seqrt_model *m, const char *prog)
{
    int64_t i;
    double d;
    uint64_t u;
    switch (options[id].kind) {
    case V_INT: return get_i64(o, id, 0, &i, m, prog);
    case V_REAL: return get_double(o, id, 0, &d, m, prog);
    case V_SEED: return get_seed(o, &u, m, prog);
    default: return 0;
    }
}

/* ---- parsing ---- */

static int find_option(const char *name, size_t len)
{
    for (int i = 0; i < N_OPTS; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0) return i;
    return -1;
}

static int find_command(const char *name)
{
    for (int c = 0; c < N_COMMANDS; c++)
        if (strcmp(commands[c].name, name) == 0) return c;
    return -1;
}

static int add_spec(const char **list, int *n, const char *v)
{
    if (*n >= MAX_SPECS) return 0;
    list[(*n)++] = v;
    return 1;
}

/* An unknown command or option, with the nearest of the names that would
 * have been right (the command's own options only). */
static int unknown(const seqrt_model *m, const char *prog, const char *what, const char *prefix,
                   const char *name, size_t len, unsigned cmd)
{
    const char *cands[N_OPTS + N_COMMANDS] = {0};
    char given[80];
    int n = 0;
    snprintf(given, sizeof given, "%.*s", (int)(len < 64 ? len : 64), name);
    if (!cmd)
        for (int c = 0; c < N_COMMANDS; c++) cands[n++] = commands[c].name;
    for (int i = 0; cmd && i < N_OPTS; i++) cands[n++] = options[i].cmds & cmd ? options[i].name : NULL;
    const char *best = seqrt_closest(given, cands, n);
    if (best) return bad_usage(m, prog, "unknown %s '%s%s'; did you mean '%s%s'?", what, prefix, given, prefix, best);
    return bad_usage(m, prog, "unknown %s '%s%s'", what, prefix, given);
}

/* "train and predict": the commands that take option id. */
static void commands_of(OptId id, char *buf, size_t n)
{
    size_t k = 0;
    int count = 0, total = 0;
    buf[0] = '\0';
    for (int c = 0; c < N_COMMANDS; c++) total += (options[id].cmds & commands[c].cmd) != 0;
    for (int c = 0; c < N_COMMANDS && k < n; c++) {
        if (!(options[id].cmds & commands[c].cmd)) continue;
        count++;
        k += (size_t)snprintf(buf + k, n - k, "%s%s", count == 1 ? "" : count == total ? " and " : ", ",
                              commands[c].name);
    }
}

/* argv: PROG COMMAND [--opt VALUE | --opt=VALUE | --flag]... */
static int parse_args(Opts *o, const seqrt_model *m, const char *prog, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    if (argc < 2) return bad_usage(m, prog, "no command given");
    int c = find_command(argv[1]);
    if (c < 0) return unknown(m, prog, "command", "", argv[1], strlen(argv[1]), 0);
    o->cmd = commands[c].cmd;
    o->cmd_name = usage_command = commands[c].name;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return bad_usage(m, prog, "unexpected argument '%s'", arg);
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        int id = find_option(arg + 2, len);
        if (id < 0) return unknown(m, prog, "option", "--", arg + 2, len, o->cmd);
        if (!(options[id].cmds & o->cmd)) {
            char who[120];
            commands_of((OptId)id, who, sizeof who);
            return bad_usage(m, prog, "option '--%s' is for %s, not %s", options[id].name, who, o->cmd_name);
        }
        const char *v = NULL;
        if (options[id].kind != V_FLAG) {
            if (eq) v = eq + 1;
            else if (i + 1 < argc) v = argv[++i];
            else return bad_usage(m, prog, "option '--%s' needs a value (%s)", options[id].name, options[id].arg);
        } else if (eq) {
            return bad_usage(m, prog, "option '--%s' takes no value", options[id].name);
        }
        int ok = id == OPT_X ? add_spec(o->x, &o->nx, v)
               : id == OPT_Y ? add_spec(o->y, &o->ny, v)
               : id == OPT_OUT ? add_spec(o->out, &o->nout, v) : 1;
        if (!ok) return bad_usage(m, prog, "too many '--%s' options", options[id].name);
        o->value[id] = v;
        o->given[id] = 1;
        int rc = check_number(o, (OptId)id, m, prog);
        if (rc) return rc;
    }
    return 0;
}

/* The command line checked without running anything: the command known,
 * every option known, taken by the command and given a value, every number
 * within its range. 0, or the usage exit status with the one-line message
 * on stderr; seqrt_main parses the same way. For the command-line fuzzer. */
int seqrt_cli_parse(const seqrt_model *m, int argc, char **argv)
{
    Opts o;
    usage_command = NULL;
    return parse_args(&o, m, "seqrt", argc, argv);
}

/* Match "path" / "name=path" specs to n named slots (inputs, targets or
 * outputs); paths[i] = NULL where none was given. */
static int resolve(const char *const *spec, int ns, const seqrt_io *io, int n, const char *flag,
                   const char *kind, const char **paths, const seqrt_model *m, const char *prog)
{
    char msg[300];
    for (int i = 0; i < n; i++) paths[i] = NULL;
    for (int s = 0; s < ns; s++) {
        const char *eq = strchr(spec[s], '='), *path = spec[s];
        int which = -1;
        for (int i = 0; eq && i < n; i++)
            if (strlen(io[i].name) == (size_t)(eq - spec[s]) && !strncmp(io[i].name, spec[s], (size_t)(eq - spec[s])))
                which = i;
        if (which >= 0) path = eq + 1;
        else if (n == 1) which = 0;
        if (which < 0) {
            size_t k = (size_t)snprintf(msg, sizeof msg, "%s '%s': the model has %d %ss (", flag, spec[s], n, kind);
            for (int i = 0; i < n && k < sizeof msg; i++)
                k += (size_t)snprintf(msg + k, sizeof msg - k, i ? ", %s" : "%s", io[i].name);
            return bad_usage(m, prog, "%s); name one as NAME=PATH", msg);
        }
        if (paths[which]) return bad_usage(m, prog, "%s '%s' is given twice", kind, io[which].name);
        paths[which] = path;
    }
    return 0;
}

/* Every slot must have a path. */
static int require_all(const char *const *paths, const seqrt_io *io, int n, const char *flag,
                       const char *kind, const seqrt_model *m, const char *prog)
{
    char msg[200];
    for (int i = 0; i < n; i++)
        if (!paths[i]) {
            snprintf(msg, sizeof msg, "missing %s for %s '%s'", flag, kind, io[i].name);
            return bad_usage(m, prog, "%s", msg);
        }
    return 0;
}

/* ---- commands ---- */

typedef struct {
    const seqrt_model *m;
    const char *prog;
    Opts o;
    const char *xp[MAX_SPECS], *yp[MAX_SPECS];
} Cli;

/* --x (and --y when with_y) into paths, all required. */
static int data_paths(Cli *c, int with_y)
{
    const seqrt_model *m = c->m;
    if (m->n_inputs > MAX_SPECS || m->n_targets > MAX_SPECS || m->n_outputs > MAX_SPECS)
        return bad_usage(m, c->prog, "model has more than 16 inputs, targets or outputs");
    int rc = resolve(c->o.x, c->o.nx, m->inputs, m->n_inputs, "--x", "input", c->xp, m, c->prog);
    if (!rc) rc = require_all(c->xp, m->inputs, m->n_inputs, "--x", "input", m, c->prog);
    if (!rc && with_y) rc = resolve(c->o.y, c->o.ny, m->targets, m->n_targets, "--y", "target", c->yp, m, c->prog);
    if (!rc && with_y) rc = require_all(c->yp, m->targets, m->n_targets, "--y", "target", m, c->prog);
    return rc;
}

/* " 0.1234" or " 1.2345e-05": Keras's figures. */
static void value_text(char *buf, size_t n, double v)
{
    snprintf(buf, n, fabs(v) > 1e-3 || v == 0 ? " %.4f" : " %.4e", v);
}

static void per_step_text(char *buf, size_t n, double per)
{
    if (per >= 1 || per == 0) snprintf(buf, n, "%.0fs/step", per);
    else if (per >= 1e-3) snprintf(buf, n, "%.0fms/step", per * 1e3);
    else snprintf(buf, n, "%.0fus/step", per * 1e6);
}

/* Keras's epoch line: "Epoch 3/100" then "4/4 - 0s 1ms/step - loss: ...". */
static void print_epoch(const seqrt_epoch_log *log, void *ctx)
{
    char per[32], v[48];
    (void)ctx;
    per_step_text(per, sizeof per, log->steps ? log->seconds / (double)log->steps : 0);
    printf("Epoch %lld/%lld\n%lld/%lld - %.0fs %s", (long long)log->epoch, (long long)log->epochs,
           (long long)log->steps, (long long)log->steps, log->seconds, per);
    for (int i = 0; i < log->n; i++) {
        value_text(v, sizeof v, log->values[i]);
        printf(" - %s:%s", log->names[i], v);
    }
    printf("\n");
    fflush(stdout);
}

/* ---- train: progress, history files, interrupt ---- */

typedef struct {
    int tty, quiet, warned;
    int64_t shown_epoch;          /* the epoch whose header is on screen */
    double last_draw;
    const char *log_path, *plot_path;
    char title[400];
    double last_val_loss;
} Progress;

static volatile sig_atomic_t interrupt_flag;

static void on_sigint(int sig)
{
    (void)sig;
    interrupt_flag = 1;
}

static double wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Frames (\r, ESC[K) only for a person at a terminal: not for a pipe or a
 * file, not for a dumb terminal, and never under an MPI launcher, which
 * gives each rank a pseudo-terminal even when its own output is a file. */
static int wants_frames(void)
{
    const char *term = getenv("TERM");
    if (!isatty(STDOUT_FILENO) || (term && strcmp(term, "dumb") == 0)) return 0;
    return seqrt_dist_size() <= 1 && !getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") &&
           !getenv("PMIX_RANK");
}

/* The terminal's width now, asked at every frame so that a resize takes
 * effect at the next one; $COLUMNS or 80 when it will not say. */
static int term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    int cols = env ? atoi(env) : 0;
    return cols > 0 ? cols : 80;
}

enum { BAR_MAX = 30, BAR_MIN = 4, SEG_LEN = 128 };

/* The pieces after the bar: the ETA (or the epoch's time) and " - name: value" each. */
static int bar_segments(const seqrt_epoch_log *log, int done, char (*seg)[SEG_LEN])
{
    char t[48];
    if (done) {
        per_step_text(t, sizeof t, log->steps ? log->seconds / (double)log->steps : 0);
        snprintf(seg[0], SEG_LEN, " - %.0fs %s", log->seconds, t);
    } else {
        double eta = log->step ? log->seconds / (double)log->step * (double)(log->steps - log->step) : 0;
        if (eta >= 3600) snprintf(seg[0], SEG_LEN, " - ETA: %d:%02d:%02d", (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60);
        else if (eta >= 60) snprintf(seg[0], SEG_LEN, " - ETA: %d:%02d", (int)eta / 60, (int)eta % 60);
        else snprintf(seg[0], SEG_LEN, " - ETA: %.0fs", eta);
    }
    for (int i = 0; i < log->n; i++) {
        value_text(t, sizeof t, log->values[i]);
        snprintf(seg[i + 1], SEG_LEN, " - %.60s:%s", log->names[i], t);
    }
    return log->n + 1;
}

/* Keras's terminal bar, " 37/120 [=========>....] - ETA: 4s - loss: ...",
 * fitted to the terminal: the bar shrinks (30 columns at most) to make room
 * for the running loss, and a frame keeps to one row, so \r redraws it in
 * place, dropping what does not fit. The epoch's last line (done) wraps its values onto more rows
 * instead. One column is left free: writing the last one wraps on some
 * terminals. */
static void draw_bar(const seqrt_epoch_log *log, int done)
{
    static char seg[SEQRT_LOG_MAX + 1][SEG_LEN];
    char line[1024];
    int cols = term_columns() - 1, n = bar_segments(log, done, seg);
    if (cols < 1) cols = 1;
    if (cols > (int)sizeof line - 1) cols = (int)sizeof line - 1;
    int digits = snprintf(NULL, 0, "%lld", (long long)log->steps);
    int len = snprintf(line, sizeof line, "%*lld/%lld", digits, (long long)log->step, (long long)log->steps);
    /* Room for the ETA and the running loss if the bar can keep 10 columns. */
    int width = cols - len - 3 - (int)strlen(seg[0]) - (n > 1 ? (int)strlen(seg[1]) : 0);
    if (width < 10) width = cols - len - 3 - (int)strlen(seg[0]);
    width = width > BAR_MAX ? BAR_MAX : width;
    if (width >= BAR_MIN && len + 3 + width < (int)sizeof line) {
        int fill = log->steps ? (int)(width * log->step / log->steps) : width;
        line[len++] = ' ';
        line[len++] = '[';
        for (int i = 0; i < width; i++)
            line[len++] = i < fill - 1 || (done && i < fill) ? '=' : i == fill - 1 ? '>' : '.';
        line[len++] = ']';
        line[len] = '\0';
    }
    int i = 0;
    for (; i < n && len + (int)strlen(seg[i]) <= cols; i++) len += snprintf(line + len, sizeof line - (size_t)len, "%s", seg[i]);
    line[len < cols ? len : cols] = '\0';   /* a terminal too narrow even for the count */
    printf("\r%s\033[K", line);
    /* The last line: what did not fit goes on below, "  loss: ... - mae: ...". */
    while (done && i < n) {
        len = snprintf(line, sizeof line, "  %s", seg[i++] + 3);
        for (; i < n && len + (int)strlen(seg[i]) <= cols; i++) len += snprintf(line + len, sizeof line - (size_t)len, "%s", seg[i]);
        printf("\n%s", line);
    }
    fflush(stdout);
}

static void show_epoch_header(Progress *p, const seqrt_epoch_log *log)
{
    if (p->shown_epoch == log->epoch) return;
    printf("Epoch %lld/%lld\n", (long long)log->epoch, (long long)log->epochs);
    p->shown_epoch = log->epoch;
}

static void on_step(const seqrt_epoch_log *log, void *ctx)
{
    Progress *p = ctx;
    double t = wall_time();
    show_epoch_header(p, log);
    if (log->step < log->steps && t - p->last_draw < 0.1) return;
    p->last_draw = t;
    draw_bar(log, 0);
}

/* The epoch's history as CSV and SVG; a failure is a warning, once. */
static void write_history(Progress *p, const seqrt_epoch_log *log)
{
    seqrt_error err = {0};
    int rc = 0;
    if (!log->history) return;
    if (p->log_path) rc = seqrt_history_write(log->history, p->log_path, &err);
    if (!rc && p->plot_path) rc = seqrt_plot_svg(log->history, p->plot_path, p->title, &err);
    if (rc && !p->warned) fprintf(stderr, "warning: %s\n", err.msg);
    p->warned |= rc != 0;
}

static void on_epoch(const seqrt_epoch_log *log, void *ctx)
{
    Progress *p = ctx;
    for (int i = 0; i < log->n; i++)
        if (strcmp(log->names[i], "val_loss") == 0) p->last_val_loss = log->values[i];
    write_history(p, log);
    if (p->quiet) return;
    if (p->tty) {
        show_epoch_header(p, log);
        draw_bar(log, 1);
        printf("\n");
    } else {
        print_epoch(log, NULL);
    }
    if (log->note) printf("%s\n", log->note);
    fflush(stdout);
}

/* ---- train: options ---- */

/* With --resume, an option given again must agree with the plan. */
static int plan_clash(Cli *c, OptId id, int same, const char *plan)
{
    if (!c->o.given[id] || same) return 0;
    return bad_usage(c->m, c->prog, "--%s %s: the run being resumed has %s (drop the option to keep it)",
                     options[id].name, c->o.value[id] ? c->o.value[id] : "(given)", plan);
}

static int check_plan(Cli *c, const seqrt_train_options *plan, const seqrt_train_options *t)
{
    char a[96], b[96];
    seqrt_lr_format(&plan->schedule, a, sizeof a);
    seqrt_lr_format(&t->schedule, b, sizeof b);
    snprintf(b + 48, 48, "%lld", (long long)plan->batch_size);
    int rc = plan_clash(c, OPT_BATCH, t->batch_size == plan->batch_size, b + 48);
    char v[64];
    snprintf(v, sizeof v, "%llu", (unsigned long long)plan->seed);
    if (!rc) rc = plan_clash(c, OPT_SEED, t->seed == plan->seed, v);
    snprintf(v, sizeof v, "%g", plan->validation_split);
    if (!rc) rc = plan_clash(c, OPT_SPLIT, t->validation_split == plan->validation_split, v);
    snprintf(v, sizeof v, "%g", plan->learning_rate);
    if (!rc) rc = plan_clash(c, OPT_LR, t->learning_rate == plan->learning_rate, v);
    if (!rc) rc = plan_clash(c, OPT_NO_SHUFFLE, !plan->shuffle, "shuffling on");
    if (!rc) rc = plan_clash(c, OPT_LR_SCHEDULE, strcmp(a, b) == 0, a);
    snprintf(v, sizeof v, "%lld", (long long)plan->patience);
    if (!rc) rc = plan_clash(c, OPT_PATIENCE, t->patience == plan->patience, v);
    if (!rc) rc = plan_clash(c, OPT_RESTORE_BEST, plan->restore_best, "no --restore-best");
    if (!rc && c->o.given[OPT_LOAD]) rc = bad_usage(c->m, c->prog, "--load and --resume exclude each other");
    if (!rc && c->o.given[OPT_LOAD_PARTIAL])
        rc = bad_usage(c->m, c->prog, "--load-partial and --resume exclude each other");
    return rc;
}

/* "W.safetensors" -> "W.ckpt.safetensors"; without --save, "<model>.ckpt.safetensors". */
static void default_checkpoint(char *buf, size_t n, const char *save, const char *model)
{
    const char *ext = save ? strstr(save, ".safetensors") : NULL;
    if (ext && ext[12] == '\0') snprintf(buf, n, "%.*s.ckpt.safetensors", (int)(ext - save), save);
    else if (save) snprintf(buf, n, "%s.ckpt", save);
    else snprintf(buf, n, "%s.ckpt.safetensors", model && *model ? model : "model");
}

/* Every train option into t (dflt_split: the data mode's default). */
static int train_options(Cli *c, seqrt_train_options *t, double dflt_split, char *ckpt, size_t ckpt_len)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    int64_t epochs, batch, every, patience;
    seqrt_error err = {0};
    *t = seqrt_train_defaults(m);
    int rc = get_i64(o, OPT_EPOCHS, t->epochs, &epochs, m, c->prog);
    if (!rc) rc = get_i64(o, OPT_BATCH, t->batch_size, &batch, m, c->prog);
    if (!rc) rc = get_double(o, OPT_SPLIT, dflt_split, &t->validation_split, m, c->prog);
    if (!rc) rc = get_double(o, OPT_LR, 0, &t->learning_rate, m, c->prog);
    if (!rc) rc = get_seed(o, &t->seed, m, c->prog);
    if (!rc) rc = get_i64(o, OPT_PATIENCE, 0, &patience, m, c->prog);
    if (!rc) rc = get_i64(o, OPT_CHECKPOINT_EVERY, 0, &every, m, c->prog);
    if (!rc && seqrt_lr_parse(&t->schedule, o->value[OPT_LR_SCHEDULE], &err))
        rc = bad_usage(m, c->prog, "%s", err.msg);
    if (!rc && o->given[OPT_RESTORE_BEST] && !o->given[OPT_PATIENCE])
        rc = bad_usage(m, c->prog, "--restore-best needs --patience N (early stopping)");
    if (rc) return rc;
    t->epochs = epochs;
    t->batch_size = batch;
    t->patience = patience;
    t->restore_best = o->given[OPT_RESTORE_BEST];
    t->checkpoint_every = every;
    t->shuffle = !o->given[OPT_NO_SHUFFLE];
    t->check_numerics = o->given[OPT_CHECK_NUMERICS];
    t->save_path = o->value[OPT_SAVE];
    t->load_path = o->value[OPT_LOAD];
    if (o->given[OPT_LOAD_PARTIAL] && o->given[OPT_LOAD])
        return bad_usage(m, c->prog, "--load and --load-partial exclude each other");
    if (o->given[OPT_LOAD_PARTIAL]) t->load_path = o->value[OPT_LOAD_PARTIAL], t->load_partial = 1;
    if (o->value[OPT_CHECKPOINT]) snprintf(ckpt, ckpt_len, "%s", o->value[OPT_CHECKPOINT]);
    else default_checkpoint(ckpt, ckpt_len, t->save_path, m->name);
    t->checkpoint_path = ckpt;
    if (!o->given[OPT_RESUME]) return 0;
    seqrt_train_options plan = *t;
    if (seqrt_train_resume_options(&plan, o->value[OPT_RESUME], &err)) return error_exit(&err);
    if ((rc = check_plan(c, &plan, t))) return rc;
    if (o->given[OPT_EPOCHS]) plan.epochs = epochs;   /* the run's new total */
    if (o->given[OPT_CHECKPOINT_EVERY]) plan.checkpoint_every = every;
    *t = plan;
    return 0;
}

/* ---- train: data ---- */

typedef enum { DATA_NPY, DATA_CSV, DATA_TEXT } DataKind;

typedef struct {
    DataKind kind;
    seqrt_dataset d;
    seqrt_series series;
    seqrt_text text;
    char series_vals[SEQRT_SERIES_META][160];
    char text_vals[SEQRT_TEXT_META][520];
    const char *meta[2 * 8];
    int n_meta;
    char label[300];
} Data;

static DataKind data_kind(const Opts *o)
{
    return o->given[OPT_CSV] ? DATA_CSV : o->given[OPT_TEXT] ? DATA_TEXT : DATA_NPY;
}

/* --csv FILE --column NAME [--window N] [--horizon K]: windows, split
 * and scaling, whose parameters go into every saved file. */
static int load_series(Cli *c, Data *a, double split, seqrt_error *err)
{
    const Opts *o = &c->o;
    int64_t window, horizon, n;
    int rc = get_i64(o, OPT_WINDOW, 0, &window, c->m, c->prog);
    if (!rc) rc = get_i64(o, OPT_HORIZON, 0, &horizon, c->m, c->prog);
    if (!rc && !o->given[OPT_COLUMN]) rc = bad_usage(c->m, c->prog, "--csv needs --column NAME");
    if (rc) return -rc;
    double *v = NULL;
    rc = seqrt_series_plan(&a->series, c->m, window, horizon, err);
    snprintf(a->label, sizeof a->label, "%s (column '%s')", o->value[OPT_CSV], o->value[OPT_COLUMN]);
    if (!rc) rc = seqrt_csv_column(o->value[OPT_CSV], o->value[OPT_COLUMN], &v, &n, err);
    if (!rc) rc = seqrt_series_dataset(&a->d, &a->series, c->m, v, n, split, 1, 1, a->label, err);
    free(v);
    snprintf(a->series.column, sizeof a->series.column, "%s", o->value[OPT_COLUMN]);
    seqrt_series_meta(&a->series, a->series_vals, a->meta);
    a->n_meta = SEQRT_SERIES_META;
    return rc;
}

/* --text FILE [--bptt K]: streams of the text, vocabulary saved. */
static int load_text(Cli *c, Data *a, double split, int64_t streams, seqrt_error *err)
{
    int64_t bptt, n;
    int rc = get_i64(&c->o, OPT_BPTT, 64, &bptt, c->m, c->prog);
    if (rc) return -rc;
    unsigned char *s = NULL;
    snprintf(a->label, sizeof a->label, "%s", c->o.value[OPT_TEXT]);
    rc = seqrt_text_read(a->label, &s, &n, err);
    if (!rc) rc = seqrt_text_dataset(&a->d, &a->text, c->m, s, n, streams, bptt, split, a->label, err);
    free(s);
    seqrt_text_meta(&a->text, a->text_vals, a->meta);
    a->n_meta = SEQRT_TEXT_META;
    return rc;
}

/* The data of a train run; a negative return is a usage status. */
static int train_data(Cli *c, Data *a, seqrt_train_options *t, seqrt_error *err)
{
    int rc;
    switch (a->kind) {
    case DATA_CSV:
        if ((rc = load_series(c, a, t->validation_split, err))) return rc;
        t->validation_samples = a->series.n_val;
        break;
    case DATA_TEXT:
        if ((rc = load_text(c, a, t->validation_split, t->batch_size, err))) return rc;
        t->validation_samples = a->text.n_val_samples;
        t->streams = 1;
        t->shuffle = 0;
        break;
    case DATA_NPY:
        return seqrt_dataset_load(&a->d, c->m, c->xp, c->yp, err);
    }
    t->meta = a->meta;
    t->n_meta = a->n_meta;
    return 0;
}

/* ---- train: the report after the last epoch ---- */

static void report_stop(const seqrt_train_result *r)
{
    if (!r->stopped_early) return;
    printf("early stopping: %s did not improve after epoch %lld (%s %.6g); stopped after epoch %lld%s\n",
           r->monitor, (long long)r->best_epoch, r->monitor, r->best_value, (long long)r->epochs_done,
           r->restored_best ? "; restored the weights of the best epoch" : "");
}

static int report_series(Cli *c, Data *a, const seqrt_real *w, seqrt_error *err)
{
    const seqrt_series *s = &a->series;
    if (s->n_val < 1) return 0;
    seqrt_series_scores sc;
    int rc = seqrt_series_score(c->m, &a->d, s, w, s->n_windows - s->n_val, s->n_val, &sc, err);
    if (rc) return rc;
    printf("validation, %lld windows of %lld steps, %lld-step forecasts of '%s' (its units):\n"
           "  %-22s MAE %10.4f  RMSE %10.4f\n  %-22s MAE %10.4f  RMSE %10.4f\n"
           "  model / naive MAE %.3f (%s the naive forecast)\n",
           (long long)sc.windows, (long long)s->window, (long long)s->horizon, s->column, c->m->name,
           sc.mae, sc.rmse, "naive (last value)", sc.naive_mae, sc.naive_rmse, sc.mae / sc.naive_mae,
           sc.mae < sc.naive_mae ? "beats" : "does not beat");
    return 0;
}

static void report_text(const Data *a, const Progress *p, const seqrt_train_result *r)
{
    double loss = r->restored_best ? r->best_value : p->last_val_loss;
    if (a->text.n_val_samples < 1 || !isfinite(loss)) return;
    printf("validation: loss %.4f nats/char = %.3f bits per character; unigram entropy of the "
           "training text %.3f bits per character (%d symbols)\n",
           loss, loss / log(2.0), a->text.unigram_bits, a->text.n_vocab);
}

static int cmd_train(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    static Data a;
    memset(&a, 0, sizeof a);
    a.kind = data_kind(o);
    if ((o->given[OPT_CSV] && o->given[OPT_TEXT]) || (a.kind != DATA_NPY && (o->nx || o->ny)))
        return bad_usage(m, c->prog, "give one kind of data: --x/--y, --csv or --text");
    seqrt_train_options t;
    char ckpt[600];
    int rc = a.kind == DATA_NPY ? data_paths(c, 1) : 0;
    if (!rc) rc = train_options(c, &t, a.kind == DATA_CSV ? 0.2 : a.kind == DATA_TEXT ? 0.1 : 0, ckpt, sizeof ckpt);
    if (rc) return rc;
    if (m->n_losses < 1) {
        fprintf(stderr, "error: model %s has no train block, so it cannot be trained\n", m->name);
        return 1;
    }
    /* Rank 0 alone prints and writes logs and plots (the weights: train.c). */
    int lead = seqrt_dist_rank() == 0;
    Progress p = {wants_frames(), o->given[OPT_QUIET] || !lead, 0, -1, 0,
                  lead ? o->value[OPT_LOG] : NULL, lead ? o->value[OPT_PLOT] : NULL, "", NAN};
    seqrt_train_result res;
    t.on_epoch = on_epoch;
    t.on_step = p.tty && !p.quiet ? on_step : NULL;
    t.ctx = &p;
    t.result = &res;
    t.interrupt = &interrupt_flag;
    seqrt_error err = {0};
    if ((rc = train_data(c, &a, &t, &err))) return rc < 0 ? -rc : error_exit(&err);
    const char *base = a.kind == DATA_NPY ? "" : strrchr(a.label, '/') ? strrchr(a.label, '/') + 1 : a.label;
    snprintf(p.title, sizeof p.title, "%s%s%s", m->name, *base ? " on " : "", base);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    if (!w) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory for %zu parameters", m->param_count);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = (int)SA_RESETHAND;   /* a second Ctrl-C ends the program at once */
    sigemptyset(&sa.sa_mask);
    interrupt_flag = 0;
    sigaction(SIGINT, &sa, &old);
    if (!rc) rc = seqrt_train(m, &a.d, &t, w, &err);
    sigaction(SIGINT, &old, NULL);
    if (!rc && !p.quiet) report_stop(&res);
    if (!rc && !p.quiet && a.kind == DATA_CSV) rc = report_series(c, &a, w, &err);
    if (!rc && !p.quiet && a.kind == DATA_TEXT) report_text(&a, &p, &res);
    free(w);
    seqrt_dataset_free(&a.d);
    if (p.tty && rc == SEQRT_EINTERRUPTED) printf("\n");
    if (rc == SEQRT_EINTERRUPTED) return fprintf(stderr, "%s\n", err.msg), EXIT_INTERRUPTED;
    if (rc) return error_exit(&err);
    if (!t.save_path && !p.quiet)
        fprintf(stderr, "note: no --save given, so the trained weights were not kept\n");
    return 0;
}

/* gradcheck's weights without a file: Keras's initialisers plus a jitter
 * of U(-0.05, 0.05), because zero biases put a ReLU exactly on its kink
 * (causal padding feeds it zeros), where differences and backward rightly
 * disagree. */
static int gradcheck_init(const seqrt_model *m, seqrt_real *w, uint64_t seed, seqrt_error *err)
{
    int rc = seqrt_init_params(m, w, seed, err);
    seqrt_rng r;
    seqrt_rng_seed_stream(&r, seed, UINT64_C(0x6a69747465720000));   /* "jitter" */
    for (size_t i = 0; !rc && i < m->param_count; i++)
        w[i] += (seqrt_real)(0.1 * (seqrt_rng_double(&r) - 0.5));
    return rc;
}

/* Weights from --weights (required unless may_init; then gradcheck_init). */
static int get_weights(Cli *c, seqrt_real *w, int may_init, uint64_t seed, seqrt_error *err)
{
    const char *path = c->o.value[OPT_WEIGHTS];
    if (path) return seqrt_checkpoint_load(path, c->m, w, NULL, NULL, err);
    if (may_init) return gradcheck_init(c->m, w, seed, err);
    return seqrt_errorf(err, SEQRT_EINVAL, "%s needs --weights W.safetensors", c->o.cmd_name);
}

/* predict's --out: one bare path for one output, else NAME=PATH each. */
static int write_outputs(Cli *c, const seqrt_dataset *d, seqrt_real *const *outs,
                         const char *const *paths, seqrt_error *err)
{
    const seqrt_model *m = c->m;
    for (int i = 0; i < m->n_outputs; i++) {
        if (!paths[i]) continue;
        const seqrt_io *io = &m->outputs[i];
        int64_t shape[4] = {d->n_samples};
        for (int k = 0; k < io->ndim; k++)
            shape[k + 1] = io->shape[k] >= 0 ? io->shape[k] : d->dims[io->dim_index[k]];
        int rc = seqrt_npy_write(paths[i], outs[i], io->ndim + 1, shape, err);
        if (rc) return rc;
    }
    return SEQRT_OK;
}

/* predict --csv: every window's forecast of the next K values, in the
 * series' units, as [windows, K]. */
static int predict_series(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    if (!o->given[OPT_COLUMN] || !o->value[OPT_OUT] || !o->value[OPT_WEIGHTS])
        return bad_usage(m, c->prog, "predict --csv needs --column NAME, --weights W and --out OUT.npy");
    seqrt_error err = {0};
    seqrt_series s;
    seqrt_dataset d;
    double *v = NULL, *pred = NULL;
    int64_t n = 0;
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1), *out = NULL;
    int rc = w ? seqrt_series_load(&s, m, o->value[OPT_WEIGHTS], &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_checkpoint_load(o->value[OPT_WEIGHTS], m, w, NULL, NULL, &err);
    if (!rc) rc = seqrt_csv_column(o->value[OPT_CSV], o->value[OPT_COLUMN], &v, &n, &err);
    if (!rc) rc = seqrt_series_dataset(&d, &s, m, v, n, 0, 0, 0, o->value[OPT_CSV], &err);
    if (!rc) {
        pred = malloc((size_t)(s.n_windows * s.horizon) * sizeof *pred + 1);
        out = malloc((size_t)(s.n_windows * s.horizon) * sizeof *out + 1);
        rc = pred && out ? seqrt_series_predict(m, &d, &s, w, pred, &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
        for (int64_t i = 0; !rc && i < s.n_windows * s.horizon; i++) out[i] = (seqrt_real)pred[i];
        int64_t shape[2] = {s.n_windows, s.horizon};
        if (!rc) rc = seqrt_npy_write(o->value[OPT_OUT], out, 2, shape, &err);
        seqrt_dataset_free(&d);
    }
    free(v);
    free(w);
    free(pred);
    free(out);
    return rc ? error_exit(&err) : 0;
}

/* forecast: --steps values after the end of the series, each round's
 * forecast appended to the window for the next. */
static int cmd_forecast(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    int64_t steps, n = 0;
    int rc = get_i64(o, OPT_STEPS, 0, &steps, m, c->prog);
    if (!rc && (!o->given[OPT_STEPS] || !o->value[OPT_WEIGHTS] || !o->value[OPT_CSV] || !o->given[OPT_COLUMN]))
        rc = bad_usage(m, c->prog, "forecast needs --weights W --csv FILE --column NAME --steps N");
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_series s;
    double *v = NULL, *out = malloc((size_t)steps * sizeof *out + 1);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    rc = w && out ? seqrt_series_load(&s, m, o->value[OPT_WEIGHTS], &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_checkpoint_load(o->value[OPT_WEIGHTS], m, w, NULL, NULL, &err);
    if (!rc) rc = seqrt_csv_column(o->value[OPT_CSV], o->value[OPT_COLUMN], &v, &n, &err);
    if (!rc) rc = seqrt_series_forecast(m, &s, w, v, n, steps, out, &err);
    if (!rc) {
        seqrt_strbuf b = {0};
        seqrt_strbuf_printf(&b, "step,%s\n", o->value[OPT_COLUMN]);
        for (int64_t i = 0; i < steps; i++) seqrt_strbuf_printf(&b, "%lld,%.6g\n", (long long)i + 1, out[i]);
        if (b.failed) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
        seqrt_atomic f;
        if (!rc && o->value[OPT_OUT] && !(rc = seqrt_atomic_open(&f, o->value[OPT_OUT], &err))) {
            seqrt_atomic_write(&f, b.s, b.len);
            rc = seqrt_atomic_commit(&f, &err);
        }
        if (!rc && !o->value[OPT_OUT]) fputs(b.s, stdout);
        if (!rc && o->value[OPT_OUT])
            printf("%lld forecasts after the %lld values of '%s' written to %s\n", (long long)steps,
                   (long long)n, o->value[OPT_COLUMN], o->value[OPT_OUT]);
        free(b.s);
    }
    free(v);
    free(w);
    free(out);
    return rc ? error_exit(&err) : 0;
}

/* generate: --length bytes after --prime, from a model trained with --text. */
static int cmd_generate(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    int64_t length, top_k;
    double temperature;
    uint64_t seed;
    int rc = get_i64(o, OPT_LENGTH, 200, &length, m, c->prog);
    if (!rc) rc = get_i64(o, OPT_TOP_K, 0, &top_k, m, c->prog);
    if (!rc) rc = get_double(o, OPT_TEMPERATURE, 1.0, &temperature, m, c->prog);
    if (!rc) rc = get_seed(o, &seed, m, c->prog);
    if (!rc && !o->value[OPT_WEIGHTS]) rc = bad_usage(m, c->prog, "generate needs --weights W");
    if (rc) return rc;
    const char *prime = o->value[OPT_PRIME] ? o->value[OPT_PRIME] : "\n";
    seqrt_error err = {0};
    seqrt_text t;
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    unsigned char *out = malloc((size_t)length + 1);
    rc = w && out ? seqrt_text_load(&t, m, o->value[OPT_WEIGHTS], &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_checkpoint_load(o->value[OPT_WEIGHTS], m, w, NULL, NULL, &err);
    if (!rc) rc = seqrt_text_generate(m, w, &t, (const unsigned char *)prime, (int64_t)strlen(prime), length,
                                      temperature, top_k, seed, out, &err);
    if (!rc) {
        fputs(prime, stdout);
        fwrite(out, 1, (size_t)length, stdout);
        printf("\n");
    }
    free(w);
    free(out);
    return rc ? error_exit(&err) : 0;
}

static int cmd_predict(Cli *c)
{
    const seqrt_model *m = c->m;
    const char *op[MAX_SPECS];
    int64_t batch;
    if (c->o.given[OPT_CSV]) return predict_series(c);
    int rc = data_paths(c, 0);
    if (!rc) rc = resolve(c->o.out, c->o.nout, m->outputs, m->n_outputs, "--out", "output", op, m, c->prog);
    if (!rc && c->o.nout == 0) rc = bad_usage(m, c->prog, "predict needs --out");
    if (!rc) rc = get_i64(&c->o, OPT_BATCH, m->batch_size > 0 ? m->batch_size : 32, &batch, m, c->prog);
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_dataset d;
    if (seqrt_dataset_load(&d, m, c->xp, NULL, &err)) return error_exit(&err);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1), *outs[MAX_SPECS] = {0};
    if (!w) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = get_weights(c, w, 0, 0, &err);
    for (int i = 0; !rc && i < m->n_outputs; i++) {
        int64_t row = seqrt_io_row(&m->outputs[i], d.dims);
        if (op[i] && row < 0)
            rc = seqrt_errorf(&err, SEQRT_EINVAL, "output '%s': no input gives the length of its "
                              "time axis", m->outputs[i].name);
        else if (op[i] && !(outs[i] = malloc((size_t)(d.n_samples * row) * sizeof(seqrt_real) + 1)))
            rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory for output '%s'", m->outputs[i].name);
    }
    if (!rc) rc = seqrt_predict(m, &d, w, batch, outs, &err);
    if (!rc) rc = write_outputs(c, &d, outs, op, &err);
    for (int i = 0; i < MAX_SPECS; i++) free(outs[i]);
    free(w);
    seqrt_dataset_free(&d);
    return rc ? error_exit(&err) : 0;
}

/* Gradients under the parameters' names, plus the scalar 'loss'. */
static int save_grads(const seqrt_model *m, const char *path, const seqrt_real *g, double loss,
                      seqrt_error *err)
{
    seqrt_st_tensor *t = calloc((size_t)m->n_params + 1, sizeof *t);
    if (!t) return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    seqrt_real l = (seqrt_real)loss;
    for (int i = 0; i < m->n_params; i++)
        t[i] = (seqrt_st_tensor){m->params[i].name, g + m->params[i].offset, m->params[i].ndim,
                                 m->params[i].shape};
    t[m->n_params] = (seqrt_st_tensor){"loss", &l, 0, NULL};
    char lv[40];
    snprintf(lv, sizeof lv, "%.17g", loss);
    const char *meta[] = {"model", m->name ? m->name : "", "format", "seqc-1-gradients", "dtype",
                          SEQRT_REAL_NAME, "loss", lv};
    int rc = seqrt_st_save(path, t, m->n_params + 1, meta, 4, err);
    free(t);
    return rc;
}

static int cmd_grad(Cli *c)
{
    const seqrt_model *m = c->m;
    int rc = data_paths(c, 1);
    if (!rc && c->o.nout != 1) rc = bad_usage(m, c->prog, "grad needs one --out G.safetensors");
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_dataset d;
    if (seqrt_dataset_load(&d, m, c->xp, c->yp, &err)) return error_exit(&err);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1), *g = malloc(m->param_count * sizeof *g + 1);
    double loss = 0;
    if (!w || !g) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = get_weights(c, w, 0, 0, &err);
    if (!rc) rc = seqrt_grad(m, &d, w, g, &loss, &err);
    if (!rc) rc = save_grads(m, c->o.out[0], g, loss, &err);
    free(w);
    free(g);
    seqrt_dataset_free(&d);
    return rc ? error_exit(&err) : 0;
}

static int report_gradcheck(const seqrt_model *m, const double *worst, const int64_t *checked,
                            const int64_t *kinks, int quiet)
{
    double limit = seqrt_gradcheck_threshold(), all = 0;
    int64_t kinked = 0;
    for (int p = 0; p < m->n_params; p++) {
        int ok = worst[p] <= limit;
        if (!quiet || !ok) {
            printf("%-40s worst relative error %.3e over %lld elements  %s", m->params[p].name,
                   worst[p], (long long)(checked[p] - kinks[p]), ok ? "ok" : "FAILED");
            if (kinks[p]) printf(" (%lld at kinks)", (long long)kinks[p]);
            printf("\n");
        }
        all = worst[p] > all || isnan(worst[p]) ? worst[p] : all;
        kinked += kinks[p];
    }
    int ok = all <= limit;
    printf("gradcheck %s: worst %.3e, threshold %.0e (%s, floor %.0e): %s\n", m->name, all, limit,
           SEQRT_REAL_NAME, seqrt_gradcheck_floor(), ok ? "OK" : "FAILED");
    if (kinked)
        printf("%lld elements sit within eps of a kink (relu, a clip's edge, |x|, max): their "
               "one-sided differences disagree and backward's value lies between them; "
               "not counted\n", (long long)kinked);
    return ok ? 0 : 1;
}

static int cmd_gradcheck(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    seqrt_gradcheck_options g = {0};
    int64_t samples;
    int files = o->nx > 0 || o->ny > 0;
    int rc = files ? data_paths(c, 1) : 0;
    if (!rc) rc = get_i64(o, OPT_SAMPLES, files ? INT64_MAX : 4, &samples, m, c->prog);
    if (!rc) rc = get_double(o, OPT_EPS, 0, &g.eps, m, c->prog);
    if (!rc) rc = get_seed(o, &g.seed, m, c->prog);
    if (rc) return rc;
    if (m->n_losses < 1) {
        fprintf(stderr, "error: model %s has no losses to check\n", m->name);
        return 1;
    }
    seqrt_error err = {0};
    seqrt_dataset d;
    /* Random data: 5 steps, or the fewest the model's layers accept. */
    int64_t T = 5, dims[16];
    for (; !files && T <= 4096; T *= 2) {
        for (int j = 0; j < 16; j++) dims[j] = T;
        if (seqrt_check_dims(m, dims, &err) == SEQRT_OK) break;
    }
    rc = files ? seqrt_dataset_load(&d, m, c->xp, c->yp, &err)
               : seqrt_dataset_random(&d, m, samples, T, 1, g.seed, &err);
    if (rc) return error_exit(&err);
    if (d.n_samples > samples) d.n_samples = samples;   /* the first N: rows stay in place */
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    double *worst = calloc((size_t)m->n_params + 1, sizeof *worst);
    int64_t *checked = calloc((size_t)m->n_params + 1, sizeof *checked);
    int64_t *kinks = calloc((size_t)m->n_params + 1, sizeof *kinks);
    if (!w || !worst || !checked || !kinks) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = get_weights(c, w, 1, g.seed, &err);
    if (!rc) rc = seqrt_gradcheck(m, &d, w, &g, worst, checked, kinks, &err);
    int status = rc ? error_exit(&err)
                    : report_gradcheck(m, worst, checked, kinks, o->given[OPT_QUIET]);
    free(w);
    free(worst);
    free(checked);
    free(kinks);
    seqrt_dataset_free(&d);
    return status;
}

/* ---- summary: the layers, then the memory plan of one training step ---- */

static void print_bytes(const char *what, double bytes)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (v >= 1024 && u < 4) v /= 1024, u++;
    printf("  %-44s %10.1f %s\n", what, v, unit[u]);
}

/* --dims T=50,S=20: the length of each named axis; every one must be set. */
static int parse_dims(const Cli *c, int64_t *dims)
{
    const seqrt_model *m = c->m;
    for (int i = 0; i < m->n_dims; i++) dims[i] = -1;
    const char *p = c->o.given[OPT_DIMS] ? c->o.value[OPT_DIMS] : "";
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq) return bad_usage(m, c->prog, "--dims wants NAME=LEN[,NAME=LEN...], not '%s'", p);
        int d = -1;
        for (int i = 0; i < m->n_dims; i++)
            if (strlen(m->dim_names[i]) == (size_t)(eq - p) && strncmp(p, m->dim_names[i], (size_t)(eq - p)) == 0)
                d = i;
        if (d < 0) return bad_usage(m, c->prog, "--dims: the model has no axis named '%.*s'", (int)(eq - p), p);
        const char *comma = strchr(eq + 1, ',');
        char len[32];
        snprintf(len, sizeof len, "%.*s", (int)(comma ? comma - eq - 1 : (long)strlen(eq + 1)), eq + 1);
        int rc = parse_whole(len, 1, (double)(1LL << 40), &dims[d]);
        if (rc)
            return bad_usage(m, c->prog, "--dims: %s=%s: %s", m->dim_names[d], len,
                             rc == 1 ? "not a whole number" : "out of range (1 to 1099511627776)");
        p = comma ? comma + 1 : eq + 1 + strlen(eq + 1);
    }
    for (int i = 0; i < m->n_dims; i++)
        if (dims[i] < 0) return bad_usage(m, c->prog, "summary: give --dims %s=LEN to size the activations", m->dim_names[i]);
    return 0;
}

/* What one row of an input, target or output holds, given the axis lengths. */
static double io_row_bytes(const seqrt_io *io, const int64_t *dims)
{
    double n = 1;
    for (int k = 0; k < io->ndim; k++) n *= (double)(io->shape[k] >= 0 ? io->shape[k] : dims[io->dim_index[k]]);
    return n * (io->is_int ? 4 : sizeof(seqrt_real));
}

/* The same allocations the trainer makes (train.c), sized without making
 * them: parameters, their gradients, the optimizer's slots, the generated
 * workspace (every activation BPTT keeps, laid out by the model), and the
 * batch buffers. The training data itself comes on top. */
static int cmd_summary(Cli *c)
{
    const seqrt_model *m = c->m;
    fputs(m->summary ? m->summary : "(no summary)\n", stdout);
    int64_t B, dims[16];
    int rc = get_i64(&c->o, OPT_BATCH, m->batch_size, &B, m, c->prog);
    if (!rc && m->n_dims > (int)(sizeof dims / sizeof *dims)) rc = bad_usage(m, c->prog, "too many named axes");
    if (!rc && (c->o.given[OPT_DIMS] || m->n_dims == 0)) rc = parse_dims(c, dims);
    else if (!rc) {
        printf("(memory plan: give --dims");
        for (int i = 0; i < m->n_dims; i++) printf("%s%s=LEN", i ? "," : " ", m->dim_names[i]);
        printf(" and optionally --batch-size N)\n");
        return 0;
    }
    if (rc) return rc;
    seqrt_optim opt;
    seqrt_error err;
    if (seqrt_check_dims(m, dims, &err)) return fprintf(stderr, "%s: %s\n", c->prog, err.msg), 1;
    if (seqrt_optim_init(&opt, &m->optim, 1, &err)) return fprintf(stderr, "%s: %s\n", c->prog, err.msg), 1;
    const int slots = seqrt_optim_n_slots(&opt);
    seqrt_optim_free(&opt);
    const double P = (double)m->param_count * sizeof(seqrt_real);
    const double ws = (double)m->workspace_size(B, dims);
    double io = 0;
    for (int i = 0; i < m->n_inputs; i++) io += io_row_bytes(&m->inputs[i], dims);
    for (int i = 0; i < m->n_targets; i++) io += io_row_bytes(&m->targets[i], dims);
    for (int i = 0; i < m->n_outputs; i++) /* output, its gradient, its mask */
        io += io_row_bytes(&m->outputs[i], dims) * (2.0 + 1.0 / sizeof(seqrt_real));
    io *= (double)B;
    printf("\nMemory of one training step at batch size %lld", (long long)B);
    for (int i = 0; i < m->n_dims; i++) printf(", %s=%lld", m->dim_names[i], (long long)dims[i]);
    printf(" (%s):\n", SEQRT_REAL_NAME);
    print_bytes("parameters", P);
    print_bytes("gradients", P);
    char line[96];
    snprintf(line, sizeof line, "optimizer state (%d slot%s)", slots, slots == 1 ? "" : "s");
    print_bytes(line, P * slots);
    print_bytes("workspace (activations kept for BPTT)", ws);
    print_bytes("batch buffers (inputs, targets, outputs)", io);
    print_bytes("total", P * (2 + slots) + ws + io);
    printf("  plus the training data, and the program and its libraries.\n");
    return 0;
}

/* Greedy decoding: every input but the decoder's from --x; the decoder's
 * input is built step by step from the model's own predictions. */
static int cmd_decode(Cli *c)
{
    const seqrt_model *m = c->m;
    if (m->decode_input < 0)
        return bad_usage(m, c->prog, "model %s has no decode block in its .seq file", m->name);
    int64_t max_len, batch;
    int rc = resolve(c->o.x, c->o.nx, m->inputs, m->n_inputs, "--x", "input", c->xp, m, c->prog);
    if (!rc && c->xp[m->decode_input])
        rc = bad_usage(m, c->prog, "decode builds input '%s' itself; do not give it",
                       m->inputs[m->decode_input].name);
    for (int i = 0; !rc && i < m->n_inputs; i++)
        if (i != m->decode_input && !c->xp[i])
            rc = bad_usage(m, c->prog, "decode needs --x %s=PATH", m->inputs[i].name);
    if (!rc && !c->o.value[OPT_OUT]) rc = bad_usage(m, c->prog, "decode needs --out OUT.npy");
    if (!rc) rc = get_i64(&c->o, OPT_MAX_LEN, 0, &max_len, m, c->prog);
    if (!rc && !c->o.given[OPT_MAX_LEN]) rc = bad_usage(m, c->prog, "decode needs --max-len N");
    if (!rc) rc = get_i64(&c->o, OPT_BATCH, m->batch_size > 0 ? m->batch_size : 32, &batch, m, c->prog);
    if (!rc && c->o.value[OPT_ATTENTION_OUT] && m->decode_attention < 0)
        rc = bad_usage(m, c->prog, "the decode block names no attention weights");
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_dataset d;
    if (seqrt_dataset_load(&d, m, c->xp, NULL, &err)) return error_exit(&err);
    const seqrt_io *out = &m->outputs[m->decode_output];
    int64_t classes = out->shape[out->ndim - 1], width = seqrt_decode_attention_width(m, &d);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    seqrt_real *probs = malloc((size_t)(d.n_samples * max_len * classes) * sizeof(seqrt_real) + 1);
    seqrt_real *attn = c->o.value[OPT_ATTENTION_OUT]
                           ? malloc((size_t)(d.n_samples * max_len * width) * sizeof(seqrt_real) + 1)
                           : NULL;
    if (!w || !probs || (c->o.value[OPT_ATTENTION_OUT] && !attn))
        rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = get_weights(c, w, 0, 0, &err);
    if (!rc) rc = seqrt_decode(m, &d, w, max_len, batch, probs, attn, &err);
    int64_t shape[3] = {d.n_samples, max_len, classes};
    if (!rc) rc = seqrt_npy_write(c->o.value[OPT_OUT], probs, 3, shape, &err);
    shape[2] = width;
    if (!rc && attn) rc = seqrt_npy_write(c->o.value[OPT_ATTENTION_OUT], attn, 3, shape, &err);
    free(w);
    free(probs);
    free(attn);
    seqrt_dataset_free(&d);
    return rc ? error_exit(&err) : 0;
}

/* PROG --help, PROG COMMAND --help, PROG help [COMMAND], --version: true
 * when one was asked for and printed (exit status 0). */
static int help_or_version(const seqrt_model *m, const char *prog, int argc, char **argv)
{
    int help = argc > 1 && strcmp(argv[1], "help") == 0, version = 0;
    for (int i = 1; i < argc; i++) {
        help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
        version |= strcmp(argv[i], "--version") == 0;
    }
    if (help) {
        int c = argc > 1 ? find_command(argv[1]) : -1;
        if (c < 0 && argc > 2 && strcmp(argv[1], "help") == 0) c = find_command(argv[2]);
        if (c >= 0) command_usage(stdout, m, prog, c);
        else usage(stdout, m, prog);
    } else if (version) {
        printf("%s: the training program of model '%s'%s%s%s; libseqrt %s (%s)\n", prog, m->name,
               m->source ? " (from " : "", m->source ? m->source : "", m->source ? ")" : "",
               SEQRT_VERSION, SEQRT_REAL_NAME);
    }
    return help || version;
}

int seqrt_main(const seqrt_model *m, int argc, char **argv)
{
    /* blas_setup.c: fix OpenBLAS's kernel (may re-exec), BLAS threads, --threads N. */
    if ((argc = seqrt_blas_setup(m, argc, argv)) < 0) return EXIT_USAGE;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--blas-info") == 0) return seqrt_blas_info(stdout, m), 0;
    static char fallback[] = "seqrt";
    const char *prog = argc > 0 && argv[0] ? argv[0] : fallback;
    const char *slash = strrchr(prog, '/');
    prog = slash ? slash + 1 : prog;
    if (help_or_version(m, prog, argc, argv)) return 0;
    Cli c = {.m = m, .prog = prog};
    int rc = parse_args(&c.o, m, prog, argc, argv);
    if (rc) return rc;
    if (c.o.cmd == TRAIN) { /* under mpirun, one rank each (dist.c) */
        if (seqrt_dist_init(&argc, &argv))
            return fprintf(stderr, "%s: cannot start MPI\n", prog), 1;
        rc = cmd_train(&c);
        seqrt_dist_finalize();
        return rc;
    }
    switch (c.o.cmd) {
    case TRAIN: return cmd_train(&c);
    case PREDICT: return cmd_predict(&c);
    case GRAD: return cmd_grad(&c);
    case GRADCHECK: return cmd_gradcheck(&c);
    case DECODE: return cmd_decode(&c);
    case FORECAST: return cmd_forecast(&c);
    case GENERATE: return cmd_generate(&c);
    case SUMMARY: return cmd_summary(&c);
    }
    return EXIT_USAGE;
}
