/*
 * main.c: the seqc command line. Each command runs the pipeline as far as it
 * needs: check (parse + shapes), summary (+ the table), emit (+ the C),
 * build (+ the compiler). Exit status: 0 ok, 1 errors in the model, 2 usage
 * or I/O errors.
 *
 * GNU conventions: options anywhere, --opt VALUE or --opt=VALUE, -o PATH or
 * -oPATH, -- ends the options. One table says which command takes which
 * option; --help, refusals and did-you-mean all come from it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "driver.h"
#include "import.h"
#include "infer.h"
#include "lower.h"
#include "summary.h"
#include "util.h"

enum { CHECK = 1, SUMMARY = 2, EMIT = 4, BUILD = 8, IMPORT = 16, ALL = 31, EXIT_USAGE = 2 };

static const struct {
    const char *name;
    unsigned bit;
    const char *args, *what;
} commands[] = {
    {"check", CHECK, "FILE.seq", "parse and check every name, attribute and shape"},
    {"summary", SUMMARY, "FILE.seq", "print a Keras-style table with parameter counts"},
    {"emit", EMIT, "FILE.seq -o DIR",
     "write DIR/NAME.h, NAME.c (forward, backward) and NAME_main.c"},
    {"build", BUILD, "FILE.seq -o PROGRAM",
     "emit, then compile and link the training program PROGRAM"},
    {"import", IMPORT, "MODEL [WEIGHTS.h5] -o FILE.seq",
     "the .seq (and --weights) of a Keras JSON, TensorFlow.js model.json or .h5"},
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

typedef enum {
    OPT_OUTPUT, OPT_FLOAT64, OPT_NATIVE, OPT_MPI, OPT_LINE_DIRECTIVES, OPT_BPTT_CHECKPOINT,
    OPT_INFERENCE, OPT_WEIGHTS, OPT_DUMP, OPT_HELP, OPT_VERSION, N_OPTS
} OptId;

/* Each option: long name, short letter (0: none), its value (NULL: a flag),
 * the commands that take it, and its help (lines after the first indented). */
static const struct {
    const char *name;
    char short_name;
    const char *value;
    unsigned cmds;
    const char *help;
} options[N_OPTS] = {
    [OPT_OUTPUT] = {"output", 'o', "PATH", EMIT | BUILD | IMPORT,
                   "output directory (emit), program (build) or .seq file (import)"},
    [OPT_FLOAT64] = {"float64", 0, NULL, BUILD, "build with float64 arithmetic (for gradient checks)"},
    [OPT_NATIVE] = {"native", 0, NULL, BUILD, "build with -march=native for this machine (always -O3)"},
    [OPT_MPI] = {"mpi", 0, NULL, BUILD, "build for data-parallel training under mpirun (Open MPI)"},
    [OPT_LINE_DIRECTIVES] = {"line-directives", 0, NULL, EMIT | BUILD,
                             "emit #line directives pointing at the .seq file"},
    [OPT_BPTT_CHECKPOINT] = {"bptt-checkpoint", 0, "K|sqrt", EMIT | BUILD,
                             "recurrent layers keep K steps of gates (and LSTM\n"
                             "cell states every K steps) instead of all T, and\n"
                             "recompute them in the backward pass (sqrt: K = sqrt(T)):\n"
                             "less memory for long sequences, about a third more time"},
    [OPT_INFERENCE] = {"inference", 0, NULL, EMIT,
                       "a forward-only, streaming C library instead\n"
                       "(NAME_infer.h, NAME_infer.c; no BLAS, no allocation)"},
    [OPT_WEIGHTS] = {"weights", 0, "W.safetensors", IMPORT,
                     "write the model's weights there, under the checkpoint's names"},
    [OPT_DUMP] = {"dump", 0, "ast|ir|plan", ALL & ~IMPORT,
                  "print the syntax tree, the IR (after check) or the\n"
                  "code plan (names, parameter layout, layer functions,\n"
                  "scratch buffers)"},
    [OPT_HELP] = {"help", 'h', NULL, ALL, "show this help (seqc COMMAND --help: that command's)"},
    [OPT_VERSION] = {"version", 0, NULL, ALL, "show the version"},
};

typedef struct {
    int cmd;                     /* index into commands, -1: none */
    const char *cmd_arg, *file, *file2; /* file2: import's weights file */
    const char *value[N_OPTS];   /* the last value given; "" for a flag */
    const char *spelt[N_OPTS];   /* as the user wrote it, for messages */
    char error[400];             /* the first usage error, reported after --help */
    char unknown[80];            /* the first unknown long option, hinted once the
                                    command is known */
} CommandLine;

/* ---- help ---- */

/* gcc's warning flags, for every command (diag.h). */
static void warning_help(FILE *f)
{
    fprintf(f, "  %-22s%s\n  %-22s%s\n", "-Werror", "warnings are errors (exit status 1)", "-w",
            "no warnings");
}

static void print_option(FILE *f, OptId id)
{
    char head[64];
    int n = options[id].short_name
                ? snprintf(head, sizeof head, "-%c, --%s", options[id].short_name, options[id].name)
                : snprintf(head, sizeof head, "--%s", options[id].name);
    if (options[id].value) snprintf(head + n, sizeof head - (size_t)n, " %s", options[id].value);
    const char *h = options[id].help;
    fprintf(f, "  %-22s%s", head, strlen(head) > 21 ? "\n                        " : "");
    for (; *h; h++) {
        fputc(*h, f);
        if (*h == '\n') fputs("                        ", f);
    }
    fputc('\n', f);
}

static void global_help(FILE *f)
{
    fprintf(f, "usage: seqc COMMAND [options] FILE.seq\n\ncommands:\n");
    for (int c = 0; c < N_COMMANDS; c++) {
        char head[64];
        snprintf(head, sizeof head, "%s %s", commands[c].name, commands[c].args);
        fprintf(f, "  %-22s%s%s\n", head, strlen(head) > 21 ? "\n                        " : "",
                commands[c].what);
    }
    fprintf(f, "\noptions (seqc COMMAND --help lists a command's own):\n");
    for (int i = 0; i < N_OPTS; i++) print_option(f, (OptId)i);
    warning_help(f);
    fprintf(f, "\nOptions may come anywhere; --opt VALUE and --opt=VALUE, -o PATH and -oPATH\n"
               "are the same; -- ends the options.\n"
               "\nexit status: 0 ok, 1 errors in the model, 2 usage or I/O errors\n");
}

static void command_help(FILE *f, int c)
{
    fprintf(f, "usage: seqc %s %s [options]\n\n%s\n\noptions:\n", commands[c].name, commands[c].args,
            commands[c].what);
    for (int i = 0; i < N_OPTS; i++)
        if (options[i].cmds & commands[c].bit) print_option(f, (OptId)i);
    warning_help(f);
    fprintf(f, "\nexit status: 0 ok, 1 errors in the model, 2 usage or I/O errors\n");
}

/* ---- parsing ---- */

static void usage_error(CommandLine *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void usage_error(CommandLine *cl, const char *fmt, ...)
{
    if (cl->error[0]) return; /* the first one counts */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cl->error, sizeof cl->error, fmt, ap);
    va_end(ap);
}

/* "; did you mean '--NAME'?" for an unknown long option, among the options
 * of `bits` (the command's, or all before the command is known). */
static const char *option_hint(const char *name, unsigned bits, char *buf, size_t n)
{
    const char *cands[N_OPTS];
    for (int i = 0; i < N_OPTS; i++) cands[i] = options[i].cmds & bits ? options[i].name : NULL;
    const char *best = seq_closest(name, cands, N_OPTS);
    if (best) snprintf(buf, n, "; did you mean '--%s'?", best);
    else buf[0] = '\0';
    return buf;
}

static int find_long(const char *name, size_t len)
{
    for (int i = 0; i < N_OPTS; i++)
        if (strlen(options[i].name) == len && !strncmp(options[i].name, name, len)) return i;
    return -1;
}

static int find_short(char c)
{
    for (int i = 0; i < N_OPTS; i++)
        if (c && options[i].short_name == c) return i;
    return -1;
}

/* One option at argv[*i]: --name, --name=V, --name V, -x, -xV, -x V. */
static void parse_option(CommandLine *cl, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *inline_value = NULL;
    int id;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        id = find_long(a + 2, len);
        if (id < 0) {
            if (!cl->unknown[0] && !cl->error[0])
                snprintf(cl->unknown, sizeof cl->unknown, "%.*s", (int)(len < 64 ? len : 64), a + 2);
            return;
        }
        inline_value = eq ? eq + 1 : NULL;
    } else {
        id = find_short(a[1]);
        if (id < 0) {
            usage_error(cl, "unknown option '-%c'", a[1]);
            return;
        }
        inline_value = a[2] ? a + 2 : NULL;
        if (inline_value && !options[id].value) {
            usage_error(cl, "unknown option '%s'", a);
            return;
        }
    }
    cl->spelt[id] = a;
    if (!options[id].value) {
        if (inline_value) usage_error(cl, "option '--%s' takes no value", options[id].name);
        cl->value[id] = "";
    } else if (inline_value) {
        cl->value[id] = inline_value;
    } else if (*i + 1 < argc) {
        cl->value[id] = argv[++*i];
    } else {
        usage_error(cl, "option '%s' needs a value: %s", a, options[id].value);
    }
}

static int find_command(const char *name)
{
    for (int c = 0; c < N_COMMANDS; c++)
        if (!strcmp(commands[c].name, name)) return c;
    return -1;
}

/* After the whole line: every option is known, the command exists and
 * takes every option given. */
static void check_command(CommandLine *cl)
{
    if (cl->unknown[0]) {
        char hint[100];
        usage_error(cl, "unknown option '--%s'%s", cl->unknown,
                    option_hint(cl->unknown, cl->cmd >= 0 ? commands[cl->cmd].bit : ALL, hint, sizeof hint));
        return;
    }
    if (!cl->cmd_arg) {
        usage_error(cl, "no command given: check, summary, emit, build or import");
        return;
    }
    if (cl->cmd < 0) {
        const char *names[N_COMMANDS];
        for (int c = 0; c < N_COMMANDS; c++) names[c] = commands[c].name;
        const char *best = seq_closest(cl->cmd_arg, names, N_COMMANDS);
        char hint[64] = "";
        if (best) snprintf(hint, sizeof hint, "; did you mean '%s'?", best);
        usage_error(cl, "unknown command '%s'%s", cl->cmd_arg, hint);
        return;
    }
    const char *cmd = commands[cl->cmd].name;
    for (int i = 0; i < N_OPTS; i++) {
        if (!cl->value[i] || (options[i].cmds & commands[cl->cmd].bit)) continue;
        char users[64] = "";
        for (int c = 0; c < N_COMMANDS; c++)
            if (options[i].cmds & commands[c].bit)
                snprintf(users + strlen(users), sizeof users - strlen(users), "%s%s",
                         users[0] ? " and " : "", commands[c].name);
        usage_error(cl, "option '--%s' is for %s, not %s", options[i].name, users, cmd);
    }
}

static void parse_command_line(CommandLine *cl, int argc, char **argv)
{
    memset(cl, 0, sizeof *cl);
    cl->cmd = -1;
    int options_end = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_end && !strcmp(a, "--")) {
            options_end = 1;
        } else if (!options_end && (!strcmp(a, "-Werror") || !strcmp(a, "-w"))) {
            seq_diag_set_warnings(a[1] == 'w' ? SEQ_WARN_OFF : SEQ_WARN_ERROR);
        } else if (!options_end && a[0] == '-' && a[1]) {
            parse_option(cl, argc, argv, &i);
        } else if (!cl->cmd_arg) {
            cl->cmd_arg = a;
            cl->cmd = find_command(a);
        } else if (!cl->file && !strcmp(cl->cmd_arg, "help")) { /* seqc help COMMAND */
            cl->value[OPT_HELP] = "";
            cl->cmd = find_command(a);
            cl->file = a;
        } else if (!cl->file) {
            cl->file = a;
        } else if (!cl->file2 && cl->cmd >= 0 && commands[cl->cmd].bit == IMPORT) {
            cl->file2 = a;
        } else {
            usage_error(cl, "unexpected argument '%s': one .seq file at a time", a);
        }
    }
    if (cl->cmd_arg && !strcmp(cl->cmd_arg, "help")) cl->value[OPT_HELP] = "";
    if (cl->value[OPT_HELP] || cl->value[OPT_VERSION]) return;
    check_command(cl);
}

/* --bptt-checkpoint K|sqrt: -1 for sqrt, else K in [1, 2^30]. */
static bool bptt_segment(CommandLine *cl, long long *out)
{
    const char *v = cl->value[OPT_BPTT_CHECKPOINT];
    *out = 0;
    if (!v) return true;
    if (!strcmp(v, "sqrt")) return *out = -1, true;
    char *end;
    errno = 0;
    long long k = strtoll(v, &end, 10);
    if (end == v || *end || (v[0] < '0' || v[0] > '9')) {
        usage_error(cl, "--bptt-checkpoint: '%s' is not a step count or 'sqrt'", v);
        return false;
    }
    if (errno || k < 1 || k > (1LL << 30)) {
        usage_error(cl, "--bptt-checkpoint: %s is out of range (1 to %lld)", v, 1LL << 30);
        return false;
    }
    return *out = k, true;
}

/* The options' values, checked against each other. */
static void check_values(CommandLine *cl)
{
    const char *dump = cl->value[OPT_DUMP];
    if (dump && strcmp(dump, "ast") && strcmp(dump, "ir") && strcmp(dump, "plan"))
        usage_error(cl, "--dump takes ast, ir or plan, not '%s'", dump);
    if (cl->value[OPT_INFERENCE] && cl->value[OPT_BPTT_CHECKPOINT])
        usage_error(cl, "--bptt-checkpoint is for training code; --inference emits none");
    if (cl->value[OPT_INFERENCE] && cl->value[OPT_LINE_DIRECTIVES])
        usage_error(cl, "--line-directives is for training code; --inference emits none");
    unsigned bit = commands[cl->cmd].bit;
    if (!cl->file) usage_error(cl, "%s needs a %s file", commands[cl->cmd].name, bit == IMPORT ? "model" : ".seq");
    if ((bit & (EMIT | BUILD | IMPORT)) && !cl->value[OPT_OUTPUT])
        usage_error(cl, "%s needs -o %s", commands[cl->cmd].name,
                    bit == EMIT ? "DIR" : bit == BUILD ? "PROGRAM" : "FILE.seq");
}

/* ---- the commands ---- */

static int run(const CommandLine *cl, long long bptt)
{
    const char *cmd = commands[cl->cmd].name, *file = cl->file, *out = cl->value[OPT_OUTPUT];
    const char *dump = cl->value[OPT_DUMP];
    bool emit = !strcmp(cmd, "emit"), build = !strcmp(cmd, "build");
    Compilation c;
    if (!driver_load(&c, file, stderr)) {
        driver_free(&c);
        return 2;
    }
    bool ok = driver_front(&c);
    if (dump && !strcmp(dump, "ast"))
        for (const AstNode *s = c.ast; s; s = s->next)
            ast_dump(s, stdout);
    if (ok && dump && !strcmp(dump, "ir"))
        summary_dump_ir(c.ir, stdout);
    if (ok && !strcmp(cmd, "summary"))
        summary_print(c.ir, stdout);
    int status = ok ? 0 : 1;
    LowerOptions lo = {.source_label = file, .src = c.src, .src_len = c.len,
                       .line_directives = cl->value[OPT_LINE_DIRECTIVES] != NULL,
                       .bptt_segment = bptt};
    bool inference = cl->value[OPT_INFERENCE] != NULL;
    if (ok && dump && !strcmp(dump, "plan")) {
        ok = driver_plan(&c, &lo);
        if (ok)
            plan_dump(c.plan, stdout);
        status = ok ? 0 : 1;
    }
    if (ok && (emit || build)) {
        if (emit) {
            if (mkdir(out, 0755) != 0 && errno != EEXIST) {
                fprintf(stderr, "seqc: cannot create '%s': %s\n", out, strerror(errno));
                status = 2;
            } else {
                lo.out_dir = out;
                ok = inference || c.plan || driver_plan(&c, &lo);
                status = ok && driver_emit(&c, &lo, inference) ? 0 : 1;
            }
        } else {
            BuildOptions bo = {.float64 = cl->value[OPT_FLOAT64] != NULL,
                               .native = cl->value[OPT_NATIVE] != NULL,
                               .mpi = cl->value[OPT_MPI] != NULL};
            status = build_program(c.ir, &c.arena, &lo, &bo, out);
        }
    }
    driver_free(&c);
    return status;
}

int main(int argc, char **argv)
{
    CommandLine cl;
    parse_command_line(&cl, argc, argv);
    if (cl.value[OPT_HELP]) {
        if (cl.cmd >= 0) command_help(stdout, cl.cmd);
        else global_help(stdout);
        return 0;
    }
    if (cl.value[OPT_VERSION]) {
        printf("seqc %s\n", SEQC_VERSION);
        return 0;
    }
    long long bptt = 0;
    if (!cl.error[0]) check_values(&cl);
    if (!cl.error[0]) bptt_segment(&cl, &bptt);
    if (cl.error[0]) {
        /* One line; a did-you-mean is the whole hint. */
        if (cl.error[strlen(cl.error) - 1] == '?')
            fprintf(stderr, "seqc: %s\n", cl.error);
        else
            fprintf(stderr, "seqc: %s (see 'seqc %s%s--help')\n", cl.error,
                    cl.cmd >= 0 ? commands[cl.cmd].name : "", cl.cmd >= 0 ? " " : "");
        return EXIT_USAGE;
    }
    if (commands[cl.cmd].bit == IMPORT) {
        SeqImportOptions io = {.model = cl.file, .h5 = cl.file2, .seq_out = cl.value[OPT_OUTPUT],
                               .weights_out = cl.value[OPT_WEIGHTS]};
        return seq_import(&io);
    }
    return run(&cl, bptt);
}
