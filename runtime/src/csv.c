/*
 * csv.c: one numeric column of a CSV file, for --csv FILE --column NAME.
 * RFC 4180 as spreadsheets write it: a header row naming the columns,
 * fields separated by commas, optionally in double quotes (a doubled quote
 * inside is one quote; quoted fields may hold commas and newlines), lines
 * ending in LF or CRLF, a UTF-8 byte-order mark ignored. An empty,
 * "NA"/"NaN", hexadecimal or non-numeric value is an error naming the line
 * and column, quoting at most 60 bytes of it with control characters
 * escaped; blank lines are skipped. A file whose lines end in CR alone is
 * refused (it would read as one line).
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

typedef struct {
    const char *p, *end;
    int64_t line;           /* 1-based line of the current position */
    char *field;            /* the last field, unquoted */
    size_t len, cap;
    int quoted;
} Reader;

static int field_push(Reader *r, char ch)
{
    if (r->len + 1 >= r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        char *f = realloc(r->field, cap);
        if (!f) return 0;
        r->field = f;
        r->cap = cap;
    }
    r->field[r->len++] = ch;
    r->field[r->len] = '\0';
    return 1;
}

/* Read one field; *last = 1 when it ended its record. Returns 0 on a
 * malformed quote (err filled) or out of memory. */
static int read_field(Reader *r, int *last, const char *path, seqrt_error *err)
{
    r->len = 0;
    r->quoted = 0;
    if (!field_push(r, 'x')) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path), 0;
    r->len = 0;
    r->field[0] = '\0';
    if (r->p < r->end && *r->p == '"') {
        int64_t opened = r->line;
        r->quoted = 1;
        for (r->p++;; r->p++) {
            if (r->p >= r->end)
                return seqrt_errorf(err, SEQRT_EFORMAT, "%s:%lld: unterminated quoted field",
                                    path, (long long)opened), 0;
            if (*r->p == '"' && r->p + 1 < r->end && r->p[1] == '"') r->p++;
            else if (*r->p == '"') break;
            if (*r->p == '\n') r->line++;
            if (!field_push(r, *r->p)) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path), 0;
        }
        r->p++;
    }
    while (r->p < r->end && *r->p != ',' && *r->p != '\n' && !(*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')) {
        if (r->quoted)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s:%lld: text after a closing quote", path,
                                (long long)r->line), 0;
        if (!field_push(r, *r->p++)) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path), 0;
    }
    *last = r->p >= r->end || *r->p != ',';
    if (r->p < r->end && *r->p == '\r') r->p++;
    if (r->p < r->end) {
        if (*r->p == '\n') r->line++;
        r->p++;
    }
    return 1;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t') i++;
    memmove(s, s + i, n - i + 1);
}

static int blank_line(const Reader *r)
{
    return r->p < r->end && (*r->p == '\n' || (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n'));
}

/* The header: which field is `column` (-1 if none), and the names for a
 * helpful error. */
static int find_column(Reader *r, const char *column, int *which, char *names, size_t cap,
                       const char *path, seqrt_error *err)
{
    int last = 0, k = 0;
    size_t used = 0, shown = 0;
    *which = -1;
    names[0] = '\0';
    while (!last) {
        if (!read_field(r, &last, path, err)) return 0;
        if (memchr(r->field, '\r', r->len))
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s:1: the header holds a carriage return: lines "
                                "must end in LF or CRLF, not CR alone", path), 0;
        trim(r->field);
        if (strcmp(r->field, column) == 0 && *which < 0) *which = k;
        /* At most ~60 bytes of the header, escaped: a file cannot fill the
         * screen or drive the terminal through an error message. */
        size_t n = strlen(r->field);
        char q[256];
        if (shown < 60 && used < cap)
            used += (size_t)snprintf(names + used, cap - used, "%s'%s'", k ? ", " : "",
                                     seqrt_quote(q, sizeof q, r->field, n, 60 - shown));
        else if (shown != SIZE_MAX && used < cap)
            used += (size_t)snprintf(names + used, cap - used, ", ..."), shown = SIZE_MAX;
        if (shown != SIZE_MAX) shown += n;
        k++;
    }
    return 1;
}

/* A decimal number: strtod alone would also take hexadecimal ("0x1A" is
 * 26), "inf" and "nan". */
static int parse_value(const char *s, double *v)
{
    if (s[strspn(s, "0123456789+-.eE")]) return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && !errno && isfinite(*v);
}


int seqrt_csv_column(const char *path, const char *column, double **values, int64_t *n, seqrt_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    *values = NULL;
    *n = 0;
    int rc = seqrt_read_whole(path, &buf, &len, err);
    if (rc) return rc;
    Reader r = {buf, buf + len, 1, NULL, 0, 0, 0};
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) r.p += 3;
    char names[400];
    int which, ok = find_column(&r, column, &which, names, sizeof names, path, err);
    if (ok && which < 0)
        rc = seqrt_errorf(err, SEQRT_ENOTFOUND, "%s: no column '%s' in the header (it has %s)", path,
                          column, names);
    else if (!ok) rc = err ? err->code : SEQRT_EFORMAT;
    int64_t cap = 0;
    while (!rc && r.p < r.end) {
        if (blank_line(&r)) {
            r.p += *r.p == '\r' ? 2 : 1;
            r.line++;
            continue;
        }
        int64_t line = r.line;
        int last = 0, k = 0, found = 0;
        double v = 0;
        while (!rc && !last) {
            if (!read_field(&r, &last, path, err)) rc = err ? err->code : SEQRT_EFORMAT;
            else if (k++ == which) {
                trim(r.field);
                found = 1;
                if (!parse_value(r.field, &v))
                    rc = seqrt_errorf(err, SEQRT_EINVAL, "%s:%lld: column '%s': %s", path, (long long)line,
                                      column, r.field[0] ? "not a finite number" : "missing value");
                if (rc && r.field[0] && err) {
                    char q[256];
                    size_t m = strlen(err->msg);
                    snprintf(err->msg + m, sizeof err->msg - m, " ('%s')",
                             seqrt_quote(q, sizeof q, r.field, strlen(r.field), 60));
                }
            }
        }
        if (!rc && !found)
            rc = seqrt_errorf(err, SEQRT_EINVAL, "%s:%lld: column '%s': missing value (the row has "
                              "only %d fields)", path, (long long)line, column, k);
        if (!rc && *n == cap) {
            cap = cap ? 2 * cap : 1024;
            double *nv = realloc(*values, (size_t)cap * sizeof *nv);
            if (!nv) rc = seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
            else *values = nv;
        }
        if (!rc) (*values)[(*n)++] = v;
    }
    if (!rc && *n == 0) rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: column '%s' has no values", path, column);
    free(r.field);
    free(buf);
    if (rc) {
        free(*values);
        *values = NULL;
        *n = 0;
    }
    return rc;
}
