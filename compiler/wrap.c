/* wrap.c: fold a long line of generated C at its commas, operators,
 * comments and string literals (see wrap.h). */
#include "wrap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum { CODE, STRING, CHARACTER, COMMENT };

/* Continuation lines align under an open parenthesis up to this column;
 * past it they are indented by one step more than the statement. */
enum { ALIGN_MAX = 64, CONT_STEP = 8 };

typedef struct {
    char *s;
    size_t len, cap;
} Out;

static void out_put(Out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = realloc(o->s, cap);
        if (!b)
            seq_die("out of memory");
        o->s = b;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static void out_spaces(Out *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out_put(o, " ", 1);
}

/* What each byte of the line is: code, inside a literal, or a comment. */
static void classify(const char *s, size_t n, char *kind)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == '"' || s[i] == '\'') {
            char q = s[i], k = q == '"' ? STRING : CHARACTER;
            kind[i++] = k;
            while (i < n && s[i] != q) {
                if (s[i] == '\\' && i + 1 < n)
                    kind[i++] = k;
                kind[i++] = k;
            }
            if (i < n)
                kind[i++] = k;
        } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *end = strstr(s + i + 2, "*/");
            size_t e = end && (size_t)(end - s) + 2 <= n ? (size_t)(end - s) + 2 : n;
            while (i < e)
                kind[i++] = COMMENT;
        } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n)
                kind[i++] = COMMENT;
        } else {
            kind[i++] = CODE;
        }
    }
}

static size_t indent_of(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

/* A comment alone on its line ("/" "* text *" "/"), too long: split at
 * spaces into comments of their own at the same indentation. */
static void fold_comment(Out *o, const char *s, size_t n)
{
    size_t ind = indent_of(s, n);
    const char *text = s + ind + 3; /* after the opening and its space */
    size_t len = n - ind - 6;        /* without the closing and its space */
    for (;;) {
        size_t room = SEQ_WRAP_COLUMNS - ind - 6, cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0) /* one long word: keep it whole */
                for (cut = room; cut < len && text[cut] != ' ';)
                    cut++;
        }
        out_spaces(o, ind);
        out_put(o, "/* ", 3);
        out_put(o, text, cut);
        out_put(o, " */", 3);
        while (cut < len && text[cut] == ' ')
            cut++;
        text += cut;
        len -= cut;
        if (!len)
            return;
        out_put(o, "\n", 1);
    }
}

static bool is_whole_comment(const char *s, size_t n, const char *kind)
{
    size_t ind = indent_of(s, n);
    if (n < ind + 6 || strncmp(s + ind, "/* ", 3) != 0 || strncmp(s + n - 3, " */", 3) != 0)
        return false;
    for (size_t i = ind; i < n; i++)
        if (kind[i] != COMMENT || (i > ind + 1 && i + 2 < n && !strncmp(s + i, "*/", 2)))
            return false;
    return true;
}

/* Where the line's trailing comment starts (code before it), or 0. */
static size_t trailing_comment(const char *s, size_t n, const char *kind)
{
    if (n < 2 || kind[n - 1] != COMMENT || strncmp(s + n - 2, "*/", 2) != 0)
        return 0;
    size_t c = n - 1;
    while (c > 0 && kind[c - 1] == COMMENT)
        c--;
    size_t code = c;
    while (code > 0 && s[code - 1] == ' ')
        code--;
    return code > indent_of(s, n) && !strncmp(s + c, "/*", 2) ? c : 0;
}

typedef struct {
    size_t end;   /* the first line is s[0, end) */
    size_t rest;  /* the next line continues from s[rest] */
    size_t col;   /* at this column */
    bool quote;   /* a string literal split: close it, reopen it */
} Break;

/* The widest argument inside the brackets opened just before s[from]:
 * aligning under the bracket only helps when each one fits there. */
static size_t widest_argument(const char *s, size_t n, const char *kind, size_t from)
{
    size_t depth = 0, start = from, widest = 0;
    for (size_t i = from; i < n; i++) {
        if (kind[i] != CODE)
            continue;
        bool close = strchr(")}]", s[i]) != NULL;
        if ((close && depth == 0) || (s[i] == ',' && depth == 0)) {
            widest = i + 1 - start > widest ? i + 1 - start : widest;
            start = i + 1;
            while (start < n && s[start] == ' ')
                start++;
            if (close)
                return widest;
        } else if (strchr("({[", s[i])) {
            depth++;
        } else if (close) {
            depth--;
        }
    }
    return n - start > widest ? n - start : widest;
}

static const char *const operators[] = {" && ", " || ", " ? ", " : ", " + ", " - ", " = "};

/* The best place to break a code line: the last ", " that fits, else the
 * last operator, else a space inside a string literal. */
static bool find_break(const char *s, size_t n, const char *kind, bool cont, Break *b)
{
    size_t ind = indent_of(s, n);
    size_t open[64], depth = 0;
    size_t fallback = cont ? ind : ind + CONT_STEP;
    Break comma = {0, 0, 0, false}, op = comma, lit = comma, any = comma;
    size_t escape = 0; /* bytes left of an escape sequence in a literal */
    for (size_t i = ind; i < n && i < SEQ_WRAP_COLUMNS; i++) {
        size_t col = depth && open[depth - 1] <= ALIGN_MAX ? open[depth - 1] : fallback;
        /* a literal splits after a space, else between any two characters
         * that are not one escape sequence ("\123" must stay whole) */
        bool inside = kind[i] == STRING && i > 0 && kind[i - 1] == STRING && s[i] != '"';
        if (inside && !escape && i + 1 <= SEQ_WRAP_COLUMNS && col + 1 < i)
            any = (Break){i, i, col, true};
        if (inside && s[i] == ' ' && !escape && i + 2 <= SEQ_WRAP_COLUMNS && col + 1 < i)
            lit = (Break){i + 1, i + 1, col, true};
        if (escape)
            escape--;
        else if (kind[i] == STRING && s[i] == '\\')
            escape = s[i + 1] >= '0' && s[i + 1] <= '7' ? 3 : 1;
        if (kind[i] != CODE)
            continue;
        if (strchr("({[", s[i]) && depth < sizeof open / sizeof open[0])
            open[depth++] = i + 1 + widest_argument(s, n, kind, i + 1) <= SEQ_WRAP_COLUMNS
                                ? i + 1 : (size_t)-1; /* (size_t)-1: indent, do not align */
        else if (strchr(")}]", s[i]) && depth)
            depth--;
        else if (s[i] == ',' && i + 1 < n && s[i + 1] == ' ' && col < i + 2)
            comma = (Break){i + 1, i + 2, col, false};
        for (size_t k = 0; k < sizeof operators / sizeof operators[0]; k++) {
            size_t m = strlen(operators[k]);
            if (i + m <= n && !strncmp(s + i, operators[k], m) && col < i + 1) {
                bool after = operators[k][1] == '='; /* "x =" then the value */
                op = after ? (Break){i + 2, i + 3, col, false} : (Break){i, i + 1, col, false};
                if (op.end > SEQ_WRAP_COLUMNS)
                    op.end = 0;
            }
        }
    }
    *b = comma.end ? comma : op.end ? op : lit.end ? lit : any;
    return b->end > 0;
}

static void fold(Out *o, const char *line, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        seq_die("out of memory");
    memcpy(s, line, len);
    size_t n = len;
    bool cont = false;
    for (;;) {
        char *kind = malloc(n + 1);
        if (!kind)
            seq_die("out of memory");
        classify(s, n, kind);
        size_t ind = indent_of(s, n), c;
        Break b;
        if (n <= SEQ_WRAP_COLUMNS || s[ind] == '#') {
            out_put(o, s, n);
        } else if (is_whole_comment(s, n, kind)) {
            fold_comment(o, s, n);
        } else if ((c = trailing_comment(s, n, kind)) != 0) {
            /* the comment above its statement, then the statement */
            Out cm = {0};
            out_spaces(&cm, ind);
            out_put(&cm, s + c, n - c);
            fold_comment(o, cm.s, cm.len);
            free(cm.s);
            out_put(o, "\n", 1);
            while (c > 0 && s[c - 1] == ' ')
                c--;
            n = c;
            free(kind);
            continue;
        } else if (find_break(s, n, kind, cont, &b)) {
            size_t end = b.end;
            while (!b.quote && end > ind && s[end - 1] == ' ')
                end--;
            out_put(o, s, end);
            out_put(o, b.quote ? "\"\n" : "\n", b.quote ? 2 : 1);
            Out next = {0};
            out_spaces(&next, b.col);
            if (b.quote)
                out_put(&next, "\"", 1);
            out_put(&next, s + b.rest, n - b.rest);
            free(s);
            free(kind);
            s = next.s;
            n = next.len;
            cont = true;
            continue;
        } else {
            out_put(o, s, n);
        }
        free(kind);
        free(s);
        return;
    }
}

char *seq_wrap_c_line(const char *line, size_t len)
{
    if (len <= SEQ_WRAP_COLUMNS)
        return NULL;
    Out o = {0};
    fold(&o, line, len);
    if (o.len == len && !memcmp(o.s, line, len)) { /* nowhere to break */
        free(o.s);
        return NULL;
    }
    return o.s;
}
