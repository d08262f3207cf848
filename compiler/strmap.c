/* strmap.c: open addressing with linear probing, FNV-1a hashes. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

/* The slot of key, or the empty slot where it would go. */
static size_t slot(const StrMap *m, const char *key, size_t len)
{
    size_t i = (size_t)hash(key, len) & (m->cap - 1);
    while (m->keys[i] && !(m->lens[i] == len && !memcmp(m->keys[i], key, len)))
        i = (i + 1) & (m->cap - 1);
    return i;
}

int strmap_get(const StrMap *m, const char *key, size_t len)
{
    if (!m->cap)
        return -1;
    size_t i = slot(m, key, len);
    return m->keys[i] ? m->vals[i] : -1;
}

static void grow(StrMap *m)
{
    StrMap g = {.cap = m->cap ? m->cap * 2 : 64};
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.lens = calloc(g.cap, sizeof *g.lens);
    g.vals = calloc(g.cap, sizeof *g.vals);
    if (!g.keys || !g.lens || !g.vals)
        seq_die("out of memory");
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = slot(&g, m->keys[i], m->lens[i]);
            g.keys[j] = m->keys[i];
            g.lens[j] = m->lens[i];
            g.vals[j] = m->vals[i];
        }
    g.n = m->n;
    strmap_free(m);
    *m = g;
}

void strmap_put_len(StrMap *m, const char *key, size_t len, int val)
{
    if ((m->n + 1) * 2 > m->cap) /* at most half full: probes stay short */
        grow(m);
    size_t i = slot(m, key, len);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->lens[i] = len;
        m->n++;
    }
    m->vals[i] = val;
}

void strmap_put(StrMap *m, const char *key, int val) { strmap_put_len(m, key, strlen(key), val); }

void strmap_free(StrMap *m)
{
    free(m->keys);
    free(m->lens);
    free(m->vals);
    *m = (StrMap){0};
}
