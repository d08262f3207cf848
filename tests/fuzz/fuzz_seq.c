/*
 * fuzz_seq.c: the .seq front end (lexer, parser, names, attributes, shape
 * checker) on arbitrary bytes, exactly as `seqc check` runs it
 * (driver_load_buffer + driver_front); for a model that checks, also the
 * summary table and the C emitter (`seqc emit` into a scratch directory).
 * Any crash, sanitizer report, leak or hang is a finding; diagnostics are
 * the expected outcome for almost every input and go to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "driver.h"
#include "lower.h"
#include "summary.h"

static FILE *devnull;
static char outdir[64];

/* The scratch directory of the emitter goes when the process ends. */
static void remove_outdir(void)
{
    DIR *d = opendir(outdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.') {
                snprintf(p, sizeof p, "%s/%s", outdir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(outdir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        const char *t = getenv("TMPDIR");
        snprintf(outdir, sizeof outdir, "%s/seq-fuzz-XXXXXX", t && *t && strlen(t) < 40 ? t : "/tmp");
        if (!devnull || !mkdtemp(outdir)) abort();
        atexit(remove_outdir);
    }
    Compilation c;
    driver_load_buffer(&c, "fuzz.seq", (const char *)data, size, devnull);
    if (driver_front(&c)) {
        summary_print(c.ir, devnull);
        /* Code generation only for models that check; it writes three files. */
        /* Inputs of any size reach the front end; above 1 MiB no C is
         * emitted (its size and compile time: docs/limits.md). */
        if (size <= (1u << 20) && (getenv("SEQ_FUZZ_EMIT") == NULL || strcmp(getenv("SEQ_FUZZ_EMIT"), "0") != 0)) {
            LowerOptions lo = {.out_dir = outdir, .source_label = "fuzz.seq", .src = c.src, .src_len = c.len};
            FILE *saved = stderr;
            stderr = devnull;   /* "no code generator for X yet" is not a finding */
            (void)lower_model(c.ir, &c.arena, &lo);
            stderr = saved;
        }
    }
    driver_free(&c);
    return 0;
}
