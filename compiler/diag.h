/*
 * diag.h: diagnostics for people, in the shape gcc and clang use:
 *
 *   model.seq:7:10: error: unknown layer 'LSTN'
 *       h = LSTN(32)(x)
 *           ^~~~
 *   model.seq:7:10: note: did you mean 'LSTM'?
 *
 * Every AST and IR node carries a Span (byte offsets into the source); the
 * line and column are worked out only when something is printed.
 */
#ifndef SEQ_DIAG_H
#define SEQ_DIAG_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint32_t start, end; /* [start, end) byte offsets; start == end is a point */
} Span;

#define SPAN_NONE ((Span){UINT32_MAX, UINT32_MAX})

typedef struct {
    const char *path;   /* as the user named it */
    const char *src;    /* the whole file */
    size_t len;
    FILE *out;          /* stderr, or a memstream in tests */
    int errors;
    int max_errors;     /* stop reporting (and compiling) past this many */
    /* The last diag_line_col answer (a cache; see there). */
    uint32_t memo_off;
    int memo_line;
    size_t memo_bol;
} Diag;

void diag_init(Diag *d, const char *path, const char *src, size_t len, FILE *out);

void diag_error(Diag *d, Span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A note attaches to the error just reported; SPAN_NONE prints no location. */
void diag_note(Diag *d, Span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Too many errors already: callers stop early instead of cascading. */
int diag_full(const Diag *d);

/* 1-based line and column (in bytes) of a source offset. */
void diag_line_col(const Diag *d, uint32_t off, int *line, int *col);

Span span_join(Span a, Span b);

#endif
