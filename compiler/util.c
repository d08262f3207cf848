/* util.c: internal-error reporting and PtrVec. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void seq_die_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "seqc: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void ptrvec_push(PtrVec *v, void *p)
{
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 8;
        void **items = realloc(v->items, sizeof(void *) * (size_t)cap);
        if (!items)
            seq_die("out of memory");
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = p;
}

void ptrvec_free(PtrVec *v)
{
    free(v->items);
    v->items = NULL;
    v->n = v->cap = 0;
}

#include <string.h>
#include <strings.h>

/* Levenshtein distance, capped: names are short (<= 256 bytes). */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1 << 20;
    int row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = diag + cost;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *seq_closest(const char *s, const char *const *cands, int n)
{
    const char *best = NULL;
    int best_d = 1 << 20;
    int limit = (int)strlen(s) / 3 + 1;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(s, cands[i]);
        /* Case slips (lstm for LSTM) count as one edit. */
        if (strcasecmp(s, cands[i]) == 0)
            d = 1;
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best_d <= limit ? best : NULL;
}
