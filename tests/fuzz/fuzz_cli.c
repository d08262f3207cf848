/*
 * fuzz_cli.c: the training programs' command line, in process, through
 * seqrt_cli_parse (what seqrt_main parses before it runs anything). The
 * input is read as arguments: a command, then options (--name VALUE,
 * --name=VALUE, flags) whose names come from the option table or from raw
 * bytes and whose values are hostile numbers or raw bytes; --lr-schedule
 * values go through seqrt_lr_parse as train would. A parse either succeeds
 * silently or fails with status 2 and one message starting "error: ".
 */
#include <string.h>

#include "fuzz_util.h"
#include "internal.h"
#include "seqrt_train.h"
#include "st_build.h"

static const char *const commands[] = {
    "train", "predict", "forecast", "generate", "grad", "gradcheck", "decode", "summary", "export", "help", "",
};
static const char *const opts[] = {
    "x", "y", "out", "weights", "epochs", "batch-size", "validation-split", "seed", "lr", "save",
    "load", "load-partial", "no-shuffle", "check-numerics", "quiet", "samples", "eps", "max-len",
    "attention-out", "log", "plot", "patience", "restore-best", "lr-schedule", "checkpoint-every",
    "checkpoint", "resume", "csv", "column", "window", "horizon", "steps", "text", "bptt", "prime",
    "length", "temperature", "top-k", "dims", "threads", "blas-info", "tfjs", "epoch", "batch",
};
static const char *const schedules[] = {
    "step:1:0.5", "step:0:0.5", "step:9223372036854775807:1e308", "exp:0.9", "exp:-1", "exp:nan",
    "cosine", "cosine:1e308", "cosine:-0", "plateau:1:0.5", "plateau:0:2", "plateau:-1:0.5", "",
};

static const seqrt_io io[] = {{"x", 0, 1, {4}, {-1}, 0, {0}, {0}, {0}}};
static const seqrt_model model = {
    .name = "fuzz", .n_inputs = 1, .inputs = io, .n_targets = 1, .targets = io,
    .n_outputs = 1, .outputs = io, .batch_size = 4, .epochs = 1,
};

enum { MAX_ARGS = 64 };

/* One value: a hostile number, a schedule, or raw bytes. */
static const char *value(fz_in *in, char *raw, size_t cap)
{
    unsigned c = fz_byte(in);
    if (c < 0x90) return fz_number(in);
    if (c < 0xa0) return schedules[fz_byte(in) % (sizeof schedules / sizeof *schedules)];
    return fz_raw(in, raw, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    char store[MAX_ARGS][96];
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = "fuzz";
    if (fz_more(&in)) argv[argc++] = (char *)commands[fz_byte(&in) % (sizeof commands / sizeof *commands)];
    while (fz_more(&in) && argc < MAX_ARGS - 1) {
        unsigned c = fz_byte(&in);
        const char *name = opts[fz_byte(&in) % (sizeof opts / sizeof *opts)];
        char raw[80];
        char *a = store[argc];
        if (c < 0x60) {                     /* --name VALUE */
            snprintf(a, sizeof store[0], "--%s", name);
            argv[argc++] = a;
            snprintf(store[argc], sizeof store[0], "%s", value(&in, raw, sizeof raw));
            argv[argc] = store[argc];
            argc++;
        } else if (c < 0xc0) {              /* --name=VALUE */
            snprintf(a, sizeof store[0], "--%s=%s", name, value(&in, raw, sizeof raw));
            argv[argc++] = a;
        } else if (c < 0xe0) {              /* a flag, or an option missing its value */
            snprintf(a, sizeof store[0], "--%s", name);
            argv[argc++] = a;
        } else {                            /* anything */
            snprintf(a, sizeof store[0], "%s", fz_raw(&in, raw, sizeof raw));
            argv[argc++] = a;
        }
    }
    argv[argc] = NULL;

    /* The messages: kept, checked, not printed. */
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *saved = stderr, *mem = open_memstream(&msg, &msg_len);
    if (!mem) abort();
    stderr = mem;
    int rc = seqrt_cli_parse(&model, argc, argv);
    stderr = saved;
    fclose(mem);
    if (rc != 0 && (rc != 2 || msg_len < 8 || strncmp(msg, "error: ", 7) != 0 || msg[msg_len - 1] != '\n')) {
        fprintf(stderr, "seqrt_cli_parse returned %d with message '%s'\n", rc, msg);
        abort();
    }
    if (rc == 0 && msg_len != 0) {
        fprintf(stderr, "seqrt_cli_parse succeeded but printed '%s'\n", msg);
        abort();
    }
    free(msg);

    /* train's schedule, as train_options reads it. */
    for (int i = 2; rc == 0 && i < argc; i++) {
        const char *s = NULL;
        if (strcmp(argv[i], "--lr-schedule") == 0 && i + 1 < argc) s = argv[i + 1];
        else if (strncmp(argv[i], "--lr-schedule=", 14) == 0) s = argv[i] + 14;
        if (!s) continue;
        seqrt_lr_schedule sch;
        seqrt_error err = {0};
        if (seqrt_lr_parse(&sch, s, &err) != 0 && err.msg[0] == '\0') abort();
        if (seqrt_lr_parse(&sch, s, &err) == 0) {
            char back[128];
            seqrt_lr_format(&sch, back, sizeof back);
            seqrt_lr_schedule again;
            if (seqrt_lr_parse(&again, back, &err) != 0) {   /* the format round-trips */
                fprintf(stderr, "schedule '%s' formats as '%s', which does not parse: %s\n", s, back, err.msg);
                abort();
            }
        }
    }
    return 0;
}
