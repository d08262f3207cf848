/*
 * build.h: `seqc build`: emit the model's C into a temporary directory, then
 * compile and link it with the runtime and OpenBLAS found when seqc itself
 * was configured (build_config.h), into one training program.
 */
#ifndef SEQ_BUILD_H
#define SEQ_BUILD_H

#include <stdbool.h>

#include "arena.h"
#include "ir.h"
#include "lower.h"

typedef struct {
    bool float64;   /* -DSEQRT_DOUBLE, linked with seqrt_f64 */
    bool native;    /* -O3 -march=native */
    bool mpi;       /* link the MPI runtime: data-parallel training */
} BuildOptions;

/* Returns the exit status: 0 built, 1 a model or compile error, 2 I/O. */
int build_program(const IrGraph *g, Arena *a, LowerOptions *lo, const BuildOptions *bo,
                  const char *out);

#endif
