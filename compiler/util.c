/* util.c: internal-error reporting and PtrVec. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "closest.h" /* seqrt_closest (runtime/src) */

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

/* The runtime's did-you-mean (runtime/src/closest.c, built into seqc_core
 * too), so seqc and every training program suggest alike. */
const char *seq_closest(const char *s, const char *const *cands, int n)
{
    return seqrt_closest(s, cands, n);
}

const char *seq_num(char *buf, double v)
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, SEQ_NUM_LEN, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}
