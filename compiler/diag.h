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
 *
 * Warnings name their flag, as gcc does: "warning: ... [-Wunused-input]".
 * -Werror turns them into errors ("error: ... [-Werror=unused-input]"), -w
 * silences them (and their notes).
 */
#ifndef SEQ_DIAG_H
#define SEQ_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint32_t start, end; /* [start, end) byte offsets; start == end is a point */
} Span;

#define SPAN_NONE ((Span){UINT32_MAX, UINT32_MAX})

typedef enum { SEQ_WARN_ON, SEQ_WARN_ERROR, SEQ_WARN_OFF } SeqWarnMode;

typedef struct {
    const char *path;   /* as the user named it */
    const char *src;    /* the whole file */
    size_t len;
    FILE *out;          /* stderr, or a memstream in tests */
    int errors;
    int max_errors;     /* stop reporting (and compiling) past this many */
    int warnings;       /* reported as warnings (not counting -Werror ones) */
    SeqWarnMode warn_mode;
    Span last_at;       /* where the last error or warning was: its notes' default */
    bool last_silent;   /* the last warning was silenced: so are its notes */
    /* The last diag_line_col answer (a cache; see there). */
    uint32_t memo_off;
    int memo_line;
    size_t memo_bol;
} Diag;

/* How every Diag made from now on treats warnings (the -Werror and -w
 * flags); SEQ_WARN_ON unless set. */
void seq_diag_set_warnings(SeqWarnMode mode);

void diag_init(Diag *d, const char *path, const char *src, size_t len, FILE *out);

void diag_error(Diag *d, Span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A likely mistake; `flag` is the warning's name without -W ("unused-input"). */
void diag_warning(Diag *d, Span at, const char *flag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A note attaches to the error or warning just reported. SPAN_NONE: at that
 * one's location, without quoting its line again (none if it had none). */
void diag_note(Diag *d, Span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Too many errors already: callers stop early instead of cascading. */
int diag_full(const Diag *d);

/* 1-based line and column (in bytes) of a source offset. */
void diag_line_col(const Diag *d, uint32_t off, int *line, int *col);

Span span_join(Span a, Span b);

#endif
