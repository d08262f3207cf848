/*
 * main.c: the seqc command line. Each command runs the pipeline as far as it
 * needs: check (parse + shapes), summary (+ the table). Exit status: 0 ok,
 * 1 errors in the model, 2 usage or I/O errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "driver.h"
#include "infer.h"
#include "lower.h"
#include "summary.h"

static const char usage[] =
    "usage: seqc COMMAND [options] FILE.seq\n"
    "\n"
    "commands:\n"
    "  check FILE.seq       parse and check every name, attribute and shape\n"
    "  summary FILE.seq     print a Keras-style table with parameter counts\n"
    "  emit FILE.seq -o DIR write DIR/NAME.h, NAME.c (forward, backward) and NAME_main.c\n"
    "  build FILE.seq -o BIN  emit, then compile and link the training program BIN\n"
    "\n"
    "options:\n"
    "  -o PATH              output directory (emit) or program (build)\n"
    "  --float64            build with float64 arithmetic (for gradient checks)\n"
    "  --native             build with -march=native for this machine (always -O3)\n"
    "  --mpi                build for data-parallel training under mpirun (Open MPI)\n"
    "  --line-directives    emit #line directives pointing at the .seq file\n"
    "  --bptt-checkpoint=K|sqrt  recurrent layers keep K steps of gates (and LSTM\n"
    "                       cell states every K steps) instead of all T, and\n"
    "                       recompute them in the backward pass (sqrt: K = sqrt(T)):\n"
    "                       less memory for long sequences, about a third more time\n"    "  --inference          with emit: a forward-only, streaming C library instead\n"
    "                       (NAME_infer.h, NAME_infer.c; no BLAS, no allocation)\n"
    "  --dump=ast|ir        print the syntax tree or the IR (after check)\n"
    "  -h, --help           show this help\n"
    "  --version            show the version\n"
    "\n"
    "exit status: 0 ok, 1 errors in the model, 2 usage or I/O errors\n";

int main(int argc, char **argv)
{
    const char *cmd = NULL, *file = NULL, *dump = NULL, *out = NULL;
    BuildOptions bo = {0};
    bool line_directives = false, inference = false;
    long long bptt_segment = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o")) {
            if (++i == argc) {
                fprintf(stderr, "seqc: -o needs a path\n");
                return 2;
            }
            out = argv[i];
        } else if (!strcmp(a, "--float64")) {
            bo.float64 = true;
        } else if (!strcmp(a, "--native")) {
            bo.native = true;
        } else if (!strcmp(a, "--mpi")) {
            bo.mpi = true;
        } else if (!strcmp(a, "--line-directives")) {
            line_directives = true;
        } else if (!strncmp(a, "--bptt-checkpoint=", 18)) {
            const char *v = a + 18;
            char *end;
            errno = 0;
            long long k = strtoll(v, &end, 10);
            if (!strcmp(v, "sqrt")) {
                bptt_segment = -1;
            } else if (errno || end == v || *end || k < 1 || k > (1LL << 30)) {
                fprintf(stderr, "seqc: --bptt-checkpoint takes a step count >= 1 or 'sqrt', not '%s'\n", v);
                return 2;
            } else {
                bptt_segment = k;
            }
        } else if (!strcmp(a, "--inference")) {
            inference = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("seqc %s\n", SEQC_VERSION);
            return 0;
        } else if (!strncmp(a, "--dump=", 7)) {
            dump = a + 7;
            if (strcmp(dump, "ast") && strcmp(dump, "ir")) {
                fprintf(stderr, "seqc: --dump takes ast or ir, not '%s'\n", dump);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "seqc: unknown option '%s'\n%s", a, usage);
            return 2;
        } else if (!cmd) {
            cmd = a;
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "seqc: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!cmd) {
        fputs(usage, stderr);
        return 2;
    }
    bool emit = !strcmp(cmd, "emit"), build = !strcmp(cmd, "build");
    if (strcmp(cmd, "check") && strcmp(cmd, "summary") && !emit && !build) {
        fprintf(stderr, "seqc: unknown command '%s' (try seqc --help)\n", cmd);
        return 2;
    }
    if (!file) {
        fprintf(stderr, "seqc: %s needs a .seq file\n", cmd);
        return 2;
    }

    if ((emit || build) && !out) {
        fprintf(stderr, "seqc: %s needs -o %s\n", cmd, emit ? "DIR" : "PROGRAM");
        return 2;
    }

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
    if (ok && (emit || build)) {
        LowerOptions lo = {.source_label = file, .src = c.src, .src_len = c.len,
                           .line_directives = line_directives, .bptt_segment = bptt_segment};
        if (emit) {
            if (mkdir(out, 0755) != 0 && errno != EEXIST) {
                fprintf(stderr, "seqc: cannot create '%s': %s\n", out, strerror(errno));
                status = 2;
            } else {
                lo.out_dir = out;
                status = (inference ? infer_emit(c.ir, &c.arena, &lo) : lower_model(c.ir, &c.arena, &lo)) ? 0 : 1;
            }
        } else {
            status = build_program(c.ir, &c.arena, &lo, &bo, out);
        }
    }
    driver_free(&c);
    return status;
}
