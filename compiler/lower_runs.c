/*
 * lower_runs.c: runs of identical model-level items as tables and loops
 * (see lower_runs.h).
 */
#include "lower_runs.h"

#include <ctype.h>
#include <string.h>

enum { COL_SAME, COL_MEMBER, COL_OFFSET, COL_INT, COL_NONE };

static bool is_ident(const char *s, size_t n)
{
    if (!n || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* What kind of table column an argument can vary in: a buffer "w.NAME", an
 * offset "BASE + NAME" (*split: where NAME starts) or an integer literal. */
static int arg_kind(const char *s, size_t *split)
{
    size_t n = strlen(s);
    *split = 0;
    if (n > 2 && !strncmp(s, "w.", 2) && is_ident(s + 2, n - 2)) {
        *split = 2;
        return COL_MEMBER;
    }
    const char *plus = strstr(s, " + ");
    if (plus && is_ident(s, (size_t)(plus - s)) && is_ident(plus + 3, strlen(plus + 3))) {
        *split = (size_t)(plus - s) + 3;
        return COL_OFFSET;
    }
    size_t k = s[0] == '-';
    if (n > k && strspn(s + k, "0123456789") == n - k)
        return COL_INT;
    return COL_NONE;
}

/* Can argument b stand in a's column (same text, or the same kind of
 * varying value with the same base)? */
static bool arg_fits(const char *a, const char *b)
{
    if (!strcmp(a, b))
        return true;
    size_t sa, sb;
    int ka = arg_kind(a, &sa), kb = arg_kind(b, &sb);
    return ka != COL_NONE && ka == kb && sa == sb && !strncmp(a, b, sa);
}

static bool call_fits(const SeqCall *a, const SeqCall *b)
{
    if (strcmp(a->fn, b->fn) || a->n_args != b->n_args)
        return false;
    for (int k = 0; k < a->n_args; k++)
        if (!arg_fits(a->args[k], b->args[k]))
            return false;
    return true;
}

static void emit_call_run(SeqRuns *R, Printer *p, const SeqCall *c, int n)
{
    int col[64];
    for (int k = 0; k < c->n_args && k < 64; k++) {
        col[k] = COL_SAME;
        for (int j = 1; j < n; j++)
            if (strcmp(c[0].args[k], c[j].args[k])) {
                size_t s;
                col[k] = arg_kind(c[0].args[k], &s);
                break;
            }
    }
    int t = ++R->serial;
    emit_comment(p, "%d identical calls, a row of run%d each, from", n, t);
    emit_comment(p, "%s", c[0].comment);
    emit_comment(p, "to %s", c[n - 1].comment);
    emit_line(p, "{");
    p->indent++;
    emit_open(p, "static const struct");
    for (int k = 0; k < c->n_args; k++) /* a column per argument that varies */
        if (col[k] != COL_SAME)
            emit_line(p, "%s %s;", col[k] == COL_MEMBER ? "size_t" : "int64_t", c->names[k]);
    emit_close(p, arena_printf(R->a, " run%d[] = {", t));
    p->indent++;
    for (int j = 0; j < n; j++) {
        const char *row = "";
        for (int k = 0; k < c->n_args; k++) {
            if (col[k] == COL_SAME)
                continue;
            size_t s;
            arg_kind(c[j].args[k], &s);
            row = col[k] == COL_MEMBER
                      ? arena_printf(R->a, "%s%sSEQ_AT(%s)", row, *row ? ", " : "",
                                     c[j].args[k] + s)
                      : arena_printf(R->a, "%s%s%s", row, *row ? ", " : "", c[j].args[k] + s);
        }
        emit_line(p, "{%s},", row);
    }
    p->indent--;
    emit_line(p, "};");
    emit_open(p, "for (size_t i = 0; i < %d; i++)", n);
    const char *call = "";
    for (int k = 0; k < c->n_args; k++) {
        const char *a = c->args[k];
        size_t s;
        arg_kind(a, &s);
        if (col[k] == COL_MEMBER)
            a = arena_printf(R->a, "SEQ_MEMBER(&w, run%d[i].%s)", t, c->names[k]);
        else if (col[k] == COL_OFFSET)
            a = arena_printf(R->a, "%.*srun%d[i].%s", (int)s, a, t, c->names[k]);
        else if (col[k] == COL_INT)
            a = arena_printf(R->a, "run%d[i].%s", t, c->names[k]);
        call = arena_printf(R->a, "%s%s%s", call, k ? ", " : "", a);
    }
    emit_line(p, "%s(%s);", c->fn, call);
    emit_close(p, NULL);
    emit_close(p, NULL);
}

void seq_runs_calls(SeqRuns *R, Printer *p, const SeqCall *calls, int n)
{
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && call_fits(&calls[i], &calls[j]))
            j++;
        if (j - i >= SEQ_RUN_MIN && calls[i].n_args <= 64) {
            emit_call_run(R, p, calls + i, j - i);
            i = j;
            continue;
        }
        emit_comment(p, "%s", calls[i].comment);
        const char *call = "";
        for (int k = 0; k < calls[i].n_args; k++)
            call = arena_printf(R->a, "%s%s%s", call, k ? ", " : "", calls[i].args[k]);
        emit_line(p, "%s(%s);", calls[i].fn, call);
        i++;
    }
}

static bool same(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static bool takes_fit(const SeqTakes *a, const SeqTakes *b)
{
    if (!same(a->note, b->note) || !a->label != !b->label || a->n != b->n ||
        a->n_prelude != b->n_prelude)
        return false;
    for (int k = 0; k < a->n_prelude; k++)
        if (strcmp(a->prelude[k], b->prelude[k]))
            return false;
    for (int k = 0; k < a->n; k++)
        if (strcmp(a->sizes[k], b->sizes[k]))
            return false;
    return true;
}

static void emit_takes(Printer *p, const SeqTakes *t, const char *const *dest)
{
    for (int k = 0; k < t->n; k++) {
        if (t->note)
            emit_line(p, "%s = take(base, &off, %s); /* %s */", dest[k], t->sizes[k], t->note);
        else
            emit_line(p, "%s = take(base, &off, %s);", dest[k], t->sizes[k]);
    }
}

void seq_runs_layout(SeqRuns *R, Printer *p, const SeqTakes *items, int n)
{
    for (int i = 0; i < n;) {
        const SeqTakes *t = &items[i];
        int j = i + 1;
        while (j < n && takes_fit(t, &items[j]))
            j++;
        const char **dest = arena_alloc(R->a, sizeof *dest * (size_t)(t->n ? t->n : 1));
        if (j - i < SEQ_RUN_MIN) {
            for (int k = 0; k < t->n; k++)
                dest[k] = arena_printf(R->a, "b->%s", t->members[k]);
            if (t->label) {
                emit_line(p, "{ /* %s */", t->label);
                p->indent++;
                for (int k = 0; k < t->n_prelude; k++)
                    emit_line(p, "%s", t->prelude[k]);
            }
            emit_takes(p, t, dest);
            if (t->label)
                emit_close(p, NULL);
            i++;
            continue;
        }
        int r = ++R->serial;
        if (t->label)
            emit_line(p, "{ /* %s to %s: %d layers' buffers, a row of run%d each */", t->label,
                      items[j - 1].label, j - i, r);
        else
            emit_line(p, "{ /* %s to %s: a row of run%d each */", t->members[0],
                      items[j - 1].members[0], r);
        p->indent++;
        emit_line(p, "static const size_t run%d[][%d] = {", r, t->n);
        p->indent++;
        for (int m = i; m < j; m++) {
            const char *row = "";
            for (int k = 0; k < t->n; k++)
                row = arena_printf(R->a, "%s%sSEQ_AT(%s)", row, k ? ", " : "", items[m].members[k]);
            emit_line(p, "{%s},", row);
        }
        p->indent--;
        emit_line(p, "};");
        emit_open(p, "for (size_t i = 0; i < %d; i++)", j - i);
        for (int k = 0; k < t->n_prelude; k++)
            emit_line(p, "%s", t->prelude[k]);
        for (int k = 0; k < t->n; k++)
            dest[k] = arena_printf(R->a, "SEQ_MEMBER(b, run%d[i][%d])", r, k);
        emit_takes(p, t, dest);
        emit_close(p, NULL);
        emit_close(p, NULL);
        i = j;
    }
}

static bool rows_fit(const SeqNumRow *a, const SeqNumRow *b)
{
    return a->grad == b->grad && !strcmp(a->steps, b->steps) && !strcmp(a->features, b->features);
}

static void emit_row(Printer *p, const SeqNumRow *r)
{
    emit_line(p, "{%d, w.%s, %s, %s, %s},", r->grad, r->member, r->steps, r->features, r->what);
}

static void emit_straight(Printer *p, const SeqNumRow *rows, int from, int to)
{
    if (from >= to)
        return;
    emit_line(p, "{");
    p->indent++;
    emit_open(p, "const numerics_row rows[] =");
    for (int k = from; k < to; k++)
        emit_row(p, &rows[k]);
    emit_close(p, ";");
    emit_open(p, "for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)");
    emit_line(p, "if (numerics_scan(msg, len, &rows[i], B, backward)) return 1;");
    emit_close(p, NULL);
    emit_close(p, NULL);
}

bool seq_runs_numerics(SeqRuns *R, Printer *p, const SeqNumRow *rows, int n)
{
    bool any = false;
    for (int i = 0; i < n && !any;) {
        int j = i + 1;
        while (j < n && rows_fit(&rows[i], &rows[j]))
            j++;
        any = j - i >= SEQ_RUN_MIN;
        i = j;
    }
    if (!any)
        return false;
    int s = 0;
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && rows_fit(&rows[i], &rows[j]))
            j++;
        if (j - i < SEQ_RUN_MIN) {
            i = j;
            continue;
        }
        emit_straight(p, rows, s, i);
        int t = ++R->serial;
        emit_line(p, "{");
        p->indent++;
        emit_line(p, "static const struct { size_t x; const char *what; } run%d[] = {", t);
        p->indent++;
        for (int k = i; k < j; k++)
            emit_line(p, "{SEQ_AT(%s), %s},", rows[k].member, rows[k].what);
        p->indent--;
        emit_line(p, "};");
        emit_open(p, "for (size_t i = 0; i < %d; i++)", j - i);
        emit_line(p, "const numerics_row r = {%d, SEQ_MEMBER(&w, run%d[i].x), %s, %s, run%d[i].what};",
                  rows[i].grad, t, rows[i].steps, rows[i].features, t);
        emit_line(p, "if (numerics_scan(msg, len, &r, B, backward)) return 1;");
        emit_close(p, NULL);
        emit_close(p, NULL);
        i = s = j;
    }
    emit_straight(p, rows, s, n);
    return true;
}
