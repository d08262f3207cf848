/*
 * strmap.h: a map from strings to ints, for the stages that look names up
 * once per layer (plan's C names and parameter offsets, lower's shared
 * functions): a linear scan there made a 20,000-layer model quadratic.
 * Keys are not copied; they must outlive the map (arena strings do).
 */
#ifndef SEQ_STRMAP_H
#define SEQ_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char **keys;
    size_t *lens;
    int *vals;
    size_t cap, n;       /* cap is 0 or a power of two */
} StrMap;

/* The value of key[0..len), or -1 when it is absent. */
int strmap_get(const StrMap *m, const char *key, size_t len);
/* Set key (NUL-terminated) to val, replacing any earlier value. */
void strmap_put(StrMap *m, const char *key, int val);
/* The same with an explicit length: keys may hold NUL bytes. */
void strmap_put_len(StrMap *m, const char *key, size_t len, int val);
void strmap_free(StrMap *m);

#endif
