/*
 * util.h: internal errors and small helpers shared by every compiler stage.
 * seq_die() is for bugs in seqc itself and out-of-memory, never for mistakes
 * in the user's model: those go through diag.h.
 */
#ifndef SEQ_UTIL_H
#define SEQ_UTIL_H

#include <stddef.h>

_Noreturn void seq_die_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define seq_die(...) seq_die_at(__FILE__, __LINE__, __VA_ARGS__)
#define SEQ_UNREACHABLE() seq_die("unreachable code reached")

/* Growable array of pointers (malloc-backed, for builders that outlive no
 * arena: the caller frees .items). */
typedef struct {
    void **items;
    int n, cap;
} PtrVec;

void ptrvec_push(PtrVec *v, void *p);
void ptrvec_free(PtrVec *v);

/* The number of elements of an array (not a pointer). */
#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The candidate closest to `s` by edit distance, if close enough to be a
 * likely typo ("did you mean"); NULL otherwise. */
const char *seq_closest(const char *s, const char *const *cands, int n);

/* `v` as C source with the fewest significant digits that read back to
 * the same double ("0.9", not "0.90000000000000002"), written into `buf`
 * (SEQ_NUM_LEN bytes) and returned. Every number seqc prints goes through
 * it, so generated code reads the way the .seq file wrote it. */
#define SEQ_NUM_LEN 32
const char *seq_num(char *buf, double v);
/* seq_num into a fresh buffer of the caller's scope: printf("%s", SEQ_NUM(x)). */
#define SEQ_NUM(v) seq_num((char[SEQ_NUM_LEN]){0}, (v))

#endif
