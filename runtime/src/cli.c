/*
 * cli.c: the command line of every training binary; a generated NAME_main.c
 * is one call to seqrt_main. This file holds the options, usage and
 * dispatch; the commands are in cli_train.c and cli_infer.c. The only part of libseqrt that prints: it
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
 *   export     --tfjs DIR --weights W
 *
 * GNU conventions: --opt VALUE or --opt=VALUE; PROG COMMAND --help for one
 * command; --version. One table says which command takes which option and
 * the type and range of every number: refusals, did-you-mean and the
 * per-command help all come from it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "cli_internal.h"

#ifndef SEQRT_VERSION /* set by the build; the project's version */
#define SEQRT_VERSION "(unknown version)"
#endif

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
    {"export", EXPORT, "--tfjs DIR --weights W.safetensors",
     "export: the model and its weights in TensorFlow.js's layers-model format\n"
     "  (DIR/model.json with the Keras topology, DIR/group1-shard1of1.bin), which\n"
     "  tf.loadLayersModel loads. A layer or option TensorFlow.js 4.22 lacks is an\n"
     "  error naming it; stateful layers are exported as plain ones (each predict\n"
     "  starts from zero states).\n"},
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
} options[N_OPTS] = {
    [OPT_X] = {"x", "[NAME=]X.npy", V_TEXT, TRAIN | PREDICT | GRAD | GRADCHECK | DECODE},
    [OPT_Y] = {"y", "[NAME=]Y.npy", V_TEXT, TRAIN | GRAD | GRADCHECK},
    [OPT_OUT] = {"out", "PATH", V_TEXT, PREDICT | GRAD | DECODE | FORECAST},
    [OPT_WEIGHTS] = {"weights", "W.safetensors", V_TEXT, PREDICT | GRAD | GRADCHECK | DECODE | FORECAST | GENERATE | EXPORT},
    [OPT_EPOCHS] = {"epochs", "N", V_INT, TRAIN},
    [OPT_BATCH] = {"batch-size", "N", V_INT, TRAIN | PREDICT | DECODE | SUMMARY},
    [OPT_SPLIT] = {"validation-split", "F", V_REAL, TRAIN},
    [OPT_SEED] = {"seed", "N", V_SEED, TRAIN | GRADCHECK | GENERATE},
    [OPT_LR] = {"lr", "F", V_REAL, TRAIN},
    [OPT_SAVE] = {"save", "W.safetensors", V_TEXT, TRAIN},
    [OPT_LOAD] = {"load", "W.safetensors", V_TEXT, TRAIN},
    [OPT_LOAD_PARTIAL] = {"load-partial", "W.safetensors", V_TEXT, TRAIN},
    [OPT_NO_SHUFFLE] = {"no-shuffle", NULL, V_FLAG, TRAIN},
    [OPT_CHECK_NUMERICS] = {"check-numerics", NULL, V_FLAG, TRAIN},
    [OPT_QUIET] = {"quiet", NULL, V_FLAG, TRAIN | GRADCHECK},
    [OPT_SAMPLES] = {"samples", "N", V_INT, GRADCHECK},
    [OPT_EPS] = {"eps", "F", V_REAL, GRADCHECK},
    [OPT_MAX_LEN] = {"max-len", "N", V_INT, DECODE},
    [OPT_ATTENTION_OUT] = {"attention-out", "A.npy", V_TEXT, DECODE},
    [OPT_LOG] = {"log", "H.csv", V_TEXT, TRAIN},
    [OPT_PLOT] = {"plot", "H.svg", V_TEXT, TRAIN},
    [OPT_PATIENCE] = {"patience", "N", V_INT, TRAIN},
    [OPT_RESTORE_BEST] = {"restore-best", NULL, V_FLAG, TRAIN},
    [OPT_LR_SCHEDULE] = {"lr-schedule", "SCHEDULE", V_TEXT, TRAIN},
    [OPT_CHECKPOINT_EVERY] = {"checkpoint-every", "N", V_INT, TRAIN},
    [OPT_CHECKPOINT] = {"checkpoint", "C.safetensors", V_TEXT, TRAIN},
    [OPT_RESUME] = {"resume", "C.safetensors", V_TEXT, TRAIN},
    [OPT_CSV] = {"csv", "FILE", V_TEXT, TRAIN | PREDICT | FORECAST},
    [OPT_COLUMN] = {"column", "NAME", V_TEXT, TRAIN | PREDICT | FORECAST},
    [OPT_WINDOW] = {"window", "N", V_INT, TRAIN},
    [OPT_HORIZON] = {"horizon", "K", V_INT, TRAIN},
    [OPT_STEPS] = {"steps", "N", V_INT, FORECAST},
    [OPT_TEXT] = {"text", "FILE", V_TEXT, TRAIN},
    [OPT_BPTT] = {"bptt", "K", V_INT, TRAIN},
    [OPT_PRIME] = {"prime", "TEXT", V_TEXT, GENERATE},
    [OPT_LENGTH] = {"length", "N", V_INT, GENERATE},
    [OPT_TEMPERATURE] = {"temperature", "T", V_REAL, GENERATE},
    [OPT_TOP_K] = {"top-k", "K", V_INT, GENERATE},
    [OPT_DIMS] = {"dims", "NAME=LEN,...", V_TEXT, SUMMARY},
    [OPT_TFJS] = {"tfjs", "DIR", V_TEXT, EXPORT},
    [OPT_HELP] = {"help", NULL, V_FLAG, ALL},
    [OPT_VERSION] = {"version", NULL, V_FLAG, ALL},
    [OPT_THREADS] = {"threads", "N", V_INT, ALL},
    [OPT_BLAS_INFO] = {"blas-info", NULL, V_FLAG, ALL},
};

/* The range of each number option (V_SEED: all of uint64). */
static const struct {
    double lo, hi;
    int open;
} ranges[N_OPTS] = {
    [OPT_EPOCHS] = {0, MILLION, 0},
    [OPT_BATCH] = {1, MILLION, 0},
    [OPT_SPLIT] = {0, 1, HI_OPEN},
    [OPT_LR] = {0, MILLION, LO_OPEN},
    [OPT_SAMPLES] = {1, MILLION, 0},
    [OPT_EPS] = {0, 1, LO_OPEN | HI_OPEN},
    [OPT_MAX_LEN] = {1, 100000, 0},
    [OPT_PATIENCE] = {1, MILLION, 0},
    [OPT_CHECKPOINT_EVERY] = {1, MILLION, 0},
    [OPT_WINDOW] = {1, MILLION, 0},
    [OPT_HORIZON] = {1, MILLION, 0},
    [OPT_STEPS] = {1, MILLION, 0},
    [OPT_BPTT] = {1, MILLION, 0},
    [OPT_LENGTH] = {0, 10 * MILLION, 0},
    [OPT_TEMPERATURE] = {0, 1000, 0},
    [OPT_TOP_K] = {0, MILLION, 0},
    [OPT_THREADS] = {1, 1024, 0},
};

/* The command of usage errors' "see PROG COMMAND --help" (NULL: none yet). */
static const char *usage_command;

const char *seqrt_cli_option_name(OptId id)
{
    return options[id].name;
}

/* ---- usage ---- */

static void print_io(FILE *f, const seqrt_model *m, const char *what, const seqrt_io *io, int n)
{
    for (int i = 0; i < n; i++) {
        char shape[128];
        seqrt_io_shape_str(shape, sizeof shape, m, &io[i]);
        fprintf(f, "  %-8s %-16s %s %s", what, io[i].name, shape, io[i].is_int ? "int32" : SEQRT_REAL_NAME);
        if (io[i].is_int && io[i].int_limit > 0) fprintf(f, " in [0, %lld)", (long long)io[i].int_limit);
        fprintf(f, "\n");
        what = "";
    }
}

/* A number option's range in words: "1 to 1000000", "at least 0 and below 1". */
static void range_text(OptId id, char *buf, size_t n)
{
    double lo = ranges[id].lo, hi = ranges[id].hi;
    if (options[id].kind == V_SEED) snprintf(buf, n, "0 to %llu", (unsigned long long)UINT64_MAX);
    else if (options[id].kind == V_INT) snprintf(buf, n, "%.0f to %.0f", lo, hi);
    else
        snprintf(buf, n, "%s %g and %s %g", ranges[id].open & LO_OPEN ? "above" : "at least", lo,
                 ranges[id].open & HI_OPEN ? "below" : "at most", hi);
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
int seqrt_cli_bad_usage(const seqrt_model *m, const char *prog, const char *fmt, ...)
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

int seqrt_cli_error_exit(const seqrt_error *e)
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
    return seqrt_cli_bad_usage(m, prog, "--%s: %s is out of range (%s)", options[id].name, o->value[id], range);
}

/* s, all of it, as a whole number in [lo, hi]: 0, else 1 not a whole
 * number, 2 out of range (overflow included). */
int seqrt_cli_whole(const char *s, double lo, double hi, int64_t *out)
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
int seqrt_cli_i64(const Opts *o, OptId id, int64_t dflt, int64_t *out, const seqrt_model *m, const char *prog)
{
    *out = dflt;
    if (!o->given[id]) return 0;
    int rc = seqrt_cli_whole(o->value[id], ranges[id].lo, ranges[id].hi, out);
    if (rc == 1) return seqrt_cli_bad_usage(m, prog, "--%s: '%s' is not a whole number", options[id].name, o->value[id]);
    return rc ? out_of_range(o, id, m, prog) : 0;
}

/* A real option (V_REAL): finite, within its range. */
int seqrt_cli_double(const Opts *o, OptId id, double dflt, double *out, const seqrt_model *m, const char *prog)
{
    *out = dflt;
    if (!o->given[id]) return 0;
    const char *s = o->value[id];
    char *end;
    double v = decimal_chars(s, 1) ? strtod(s, &end) : 0;
    if (!decimal_chars(s, 1) || end == s || *end)
        return seqrt_cli_bad_usage(m, prog, "--%s: '%s' is not a number", options[id].name, s);
    double lo = ranges[id].lo, hi = ranges[id].hi;
    int open = ranges[id].open;
    if (!isfinite(v) || v < lo || v > hi || ((open & LO_OPEN) && v == lo) || ((open & HI_OPEN) && v == hi))
        return out_of_range(o, id, m, prog);
    *out = v;
    return 0;
}

int seqrt_cli_seed(const Opts *o, uint64_t *out, const seqrt_model *m, const char *prog)
{
    *out = 42;
    if (!o->given[OPT_SEED]) return 0;
    const char *s = o->value[OPT_SEED];
    char *end;
    errno = 0;
    unsigned long long v = decimal_chars(s, 0) ? strtoull(s, &end, 10) : 0;
    if (!decimal_chars(s, 0) || *end) return seqrt_cli_bad_usage(m, prog, "--seed: '%s' is not a whole number", s);
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
    case V_INT: return seqrt_cli_i64(o, id, 0, &i, m, prog);
    case V_REAL: return seqrt_cli_double(o, id, 0, &d, m, prog);
    case V_SEED: return seqrt_cli_seed(o, &u, m, prog);
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
    if (best) return seqrt_cli_bad_usage(m, prog, "unknown %s '%s%s'; did you mean '%s%s'?", what, prefix, given, prefix, best);
    return seqrt_cli_bad_usage(m, prog, "unknown %s '%s%s'", what, prefix, given);
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
    if (argc < 2) return seqrt_cli_bad_usage(m, prog, "no command given");
    int c = find_command(argv[1]);
    if (c < 0) return unknown(m, prog, "command", "", argv[1], strlen(argv[1]), 0);
    o->cmd = commands[c].cmd;
    o->cmd_name = usage_command = commands[c].name;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return seqrt_cli_bad_usage(m, prog, "unexpected argument '%s'", arg);
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        int id = find_option(arg + 2, len);
        if (id < 0) return unknown(m, prog, "option", "--", arg + 2, len, o->cmd);
        if (!(options[id].cmds & o->cmd)) {
            char who[120];
            commands_of((OptId)id, who, sizeof who);
            return seqrt_cli_bad_usage(m, prog, "option '--%s' is for %s, not %s", options[id].name, who, o->cmd_name);
        }
        const char *v = NULL;
        if (options[id].kind != V_FLAG) {
            if (eq) v = eq + 1;
            else if (i + 1 < argc) v = argv[++i];
            else return seqrt_cli_bad_usage(m, prog, "option '--%s' needs a value (%s)", options[id].name, options[id].arg);
        } else if (eq) {
            return seqrt_cli_bad_usage(m, prog, "option '--%s' takes no value", options[id].name);
        }
        int ok = id == OPT_X ? add_spec(o->x, &o->nx, v)
               : id == OPT_Y ? add_spec(o->y, &o->ny, v)
               : id == OPT_OUT ? add_spec(o->out, &o->nout, v) : 1;
        if (!ok) return seqrt_cli_bad_usage(m, prog, "too many '--%s' options", options[id].name);
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
int seqrt_cli_resolve(const char *const *spec, int ns, const seqrt_io *io, int n, const char *flag,
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
            return seqrt_cli_bad_usage(m, prog, "%s); name one as NAME=PATH", msg);
        }
        if (paths[which]) return seqrt_cli_bad_usage(m, prog, "%s '%s' is given twice", kind, io[which].name);
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
            return seqrt_cli_bad_usage(m, prog, "%s", msg);
        }
    return 0;
}

/* --x (and --y when with_y) into paths, all required. */
int seqrt_cli_data_paths(Cli *c, int with_y)
{
    const seqrt_model *m = c->m;
    if (m->n_inputs > MAX_SPECS || m->n_targets > MAX_SPECS || m->n_outputs > MAX_SPECS)
        return seqrt_cli_bad_usage(m, c->prog, "model has more than 16 inputs, targets or outputs");
    int rc = seqrt_cli_resolve(c->o.x, c->o.nx, m->inputs, m->n_inputs, "--x", "input", c->xp, m, c->prog);
    if (!rc) rc = require_all(c->xp, m->inputs, m->n_inputs, "--x", "input", m, c->prog);
    if (!rc && with_y) rc = seqrt_cli_resolve(c->o.y, c->o.ny, m->targets, m->n_targets, "--y", "target", c->yp, m, c->prog);
    if (!rc && with_y) rc = require_all(c->yp, m->targets, m->n_targets, "--y", "target", m, c->prog);
    return rc;
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
int seqrt_cli_weights(Cli *c, seqrt_real *w, int may_init, uint64_t seed, seqrt_error *err)
{
    const char *path = c->o.value[OPT_WEIGHTS];
    if (path) return seqrt_checkpoint_load(path, c->m, w, NULL, NULL, err);
    if (may_init) return gradcheck_init(c->m, w, seed, err);
    return seqrt_errorf(err, SEQRT_EINVAL, "%s needs --weights W.safetensors", c->o.cmd_name);
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
        rc = seqrt_cli_train(&c);
        seqrt_dist_finalize();
        return rc;
    }
    switch (c.o.cmd) {
    case TRAIN: return seqrt_cli_train(&c);
    case PREDICT: return seqrt_cli_predict(&c);
    case GRAD: return seqrt_cli_grad(&c);
    case GRADCHECK: return seqrt_cli_gradcheck(&c);
    case DECODE: return seqrt_cli_decode(&c);
    case FORECAST: return seqrt_cli_forecast(&c);
    case GENERATE: return seqrt_cli_generate(&c);
    case SUMMARY: return seqrt_cli_summary(&c);
    case EXPORT: return seqrt_cli_export(&c);
    }
    return EXIT_USAGE;
}
