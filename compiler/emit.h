/*
 * emit.h: the printer the code generator writes C through. It owns
 * indentation and collects the text in memory; the file is written once,
 * atomically, at the end (write a temp file, then rename), so a failed run
 * never leaves half a file behind. Output is deterministic: no dates, no
 * absolute paths. Every line is folded to 100 columns as it is completed
 * (wrap.h), so emitters write whole statements.
 */
#ifndef SEQ_EMIT_H
#define SEQ_EMIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *buf;
    size_t len, cap;
    size_t line_start; /* where the line being written starts */
    int indent;
} Printer;

void emit_init(Printer *p);
void emit_free(Printer *p);
/* One line at the current indentation. */
void emit_line(Printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line ending in " {", then indent. */
void emit_open(Printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A function's head, then "{" on its own line, then indent. */
void emit_fn_open(Printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Dedent, then "}" (plus an optional suffix such as ";" or " else {"). */
void emit_close(Printer *p, const char *suffix);
void emit_blank(Printer *p);
/* A C comment on one line. */
void emit_comment(Printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Raw text, no indentation or newline. */
void emit_raw(Printer *p, const char *s);
/* Write the collected text to `path` atomically. false with errno set. */
bool emit_write_file(const Printer *p, const char *path);
/* Write the collected text to DIR/FILE atomically; on failure say so on
 * stderr ("seqc: cannot write 'PATH': why") and return false. */
bool emit_write_out(const Printer *p, const char *dir, const char *file);

#endif
