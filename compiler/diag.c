/* diag.c: gcc-style diagnostics with the source line and a caret; see diag.h. */
#include "diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

enum { SHOW_MAX = 160 }; /* a longer line is shown as a window round the caret */

static SeqWarnMode default_warn_mode = SEQ_WARN_ON;

void seq_diag_set_warnings(SeqWarnMode mode) { default_warn_mode = mode; }

void diag_init(Diag *d, const char *path, const char *src, size_t len, FILE *out)
{
    memset(d, 0, sizeof *d);
    d->path = path;
    d->src = src;
    d->len = len;
    d->out = out;
    d->max_errors = 20;
    d->warn_mode = default_warn_mode;
    d->last_at = SPAN_NONE;
}

int diag_full(const Diag *d) { return d->errors >= d->max_errors; }

Span span_join(Span a, Span b)
{
    if (a.start == UINT32_MAX)
        return b;
    if (b.start == UINT32_MAX)
        return a;
    Span s = {a.start < b.start ? a.start : b.start, a.end > b.end ? a.end : b.end};
    return s;
}

/* sema asks for the line of every node, in roughly source order, so the
 * answer scans on from the previous one instead of from the top of the file:
 * a 10,000-layer model stays linear. The memo is a cache, hence the cast. */
void diag_line_col(const Diag *d, uint32_t off, int *line, int *col)
{
    Diag *m = (Diag *)d;
    if (off > d->len)
        off = (uint32_t)d->len;
    if (m->memo_line < 1) {
        m->memo_off = 0;
        m->memo_line = 1;
        m->memo_bol = 0;
    }
    int ln = m->memo_line;
    size_t bol = m->memo_bol;
    if (off < bol) { /* an earlier line: count the newlines back to it */
        for (size_t i = off; i < bol; i++)
            ln -= d->src[i] == '\n';
        bol = off;
        while (bol > 0 && d->src[bol - 1] != '\n')
            bol--;
    }
    for (size_t i = off >= m->memo_off ? m->memo_off : bol; i < off; i++)
        if (d->src[i] == '\n') {
            ln++;
            bol = i + 1;
        }
    m->memo_off = off;
    m->memo_line = ln;
    m->memo_bol = bol;
    *line = ln;
    *col = (int)(off - bol) + 1;
}

/* Quote the line holding `at` and underline the span (^ then ~). Bytes that
 * would not print are shown as '?', so the caret stays under its column. */
static void show_line(const Diag *d, Span at)
{
    size_t off = at.start > d->len ? d->len : at.start;
    size_t bol = off, eol = off;
    while (bol > 0 && d->src[bol - 1] != '\n')
        bol--;
    while (eol < d->len && d->src[eol] != '\n')
        eol++;
    size_t from = bol, to = eol;
    if (to - from > SHOW_MAX) {
        from = off > bol + SHOW_MAX / 2 ? off - SHOW_MAX / 2 : bol;
        to = from + SHOW_MAX < eol ? from + SHOW_MAX : eol;
    }
    size_t end = at.end > to ? to : at.end;
    if (end <= off)
        end = off + 1;

    fputs("    ", d->out);
    if (from > bol)
        fputs("...", d->out);
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)d->src[i];
        fputc(c == '\t' || (isprint(c) && c < 128) ? c : '?', d->out);
    }
    if (to < eol)
        fputs("...", d->out);
    fputs("\n    ", d->out);
    if (from > bol)
        fputs("   ", d->out);
    for (size_t i = from; i < off; i++)
        fputc(d->src[i] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    for (size_t i = off + 1; i < end; i++)
        fputc('~', d->out);
    fputc('\n', d->out);
}

/* "path:line:col: kind: message[ [flag]]", then the line and caret when
 * `quote`. */
static void report(Diag *d, const char *kind, Span at, bool quote, const char *flag,
                   const char *fmt, va_list ap)
{
    if (at.start == UINT32_MAX) {
        fprintf(d->out, "%s: %s: ", d->path, kind);
    } else {
        int line, col;
        diag_line_col(d, at.start, &line, &col);
        fprintf(d->out, "%s:%d:%d: %s: ", d->path, line, col, kind);
    }
    vfprintf(d->out, fmt, ap);
    if (flag)
        fprintf(d->out, " [%s]", flag);
    fputc('\n', d->out);
    if (quote && at.start != UINT32_MAX && d->src)
        show_line(d, at);
}

/* One more error: past max_errors it is counted, not shown. */
static void error_v(Diag *d, Span at, const char *flag, const char *fmt, va_list ap)
{
    d->last_silent = d->errors >= d->max_errors;
    if (d->errors >= d->max_errors) {
        d->errors++;
        return;
    }
    d->last_at = at;
    report(d, "error", at, true, flag, fmt, ap);
    if (++d->errors == d->max_errors)
        fprintf(d->out, "%s: fatal error: too many errors (%d), stopping\n", d->path,
                d->max_errors);
}

void diag_error(Diag *d, Span at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_v(d, at, NULL, fmt, ap);
    va_end(ap);
}

void diag_warning(Diag *d, Span at, const char *flag, const char *fmt, ...)
{
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    if (d->warn_mode == SEQ_WARN_ERROR) {
        snprintf(name, sizeof name, "-Werror=%s", flag);
        error_v(d, at, name, fmt, ap);
    } else if (d->warn_mode == SEQ_WARN_OFF || d->errors >= d->max_errors) {
        d->last_silent = true;
    } else {
        snprintf(name, sizeof name, "-W%s", flag);
        d->last_silent = false;
        d->last_at = at;
        d->warnings++;
        report(d, "warning", at, true, name, fmt, ap);
    }
    va_end(ap);
}

void diag_note(Diag *d, Span at, const char *fmt, ...)
{
    if (d->last_silent)
        return;
    bool quote = at.start != UINT32_MAX;
    va_list ap;
    va_start(ap, fmt);
    report(d, "note", quote ? at : d->last_at, quote, NULL, fmt, ap);
    va_end(ap);
}
