/*
 * st_build.h: what the structure-aware harnesses share: a byte reader over
 * the fuzzer's input, the hostile numbers it picks from, and a safetensors
 * writer in memory (any header text, any data), so a harness can build a
 * file that is valid except where the input says otherwise. In memory:
 * seqrt_st_save is atomic (fsync, rename), far too slow per execution.
 */
#ifndef SEQ_FUZZ_ST_BUILD_H
#define SEQ_FUZZ_ST_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the input, consumed byte by byte (zeros once it is used up) ---- */
typedef struct {
    const uint8_t *p;
    size_t n, at;
} fz_in;

static inline unsigned fz_byte(fz_in *in)
{
    return in->at < in->n ? in->p[in->at++] : 0;
}

static inline int fz_more(const fz_in *in)
{
    return in->at < in->n;
}

/* Up to max raw bytes of the input as a string (NULs end it early). */
static inline const char *fz_raw(fz_in *in, char *buf, size_t cap)
{
    size_t len = fz_byte(in) % cap, k = 0;
    while (k < len && fz_more(in)) buf[k++] = (char)fz_byte(in);
    buf[k] = '\0';
    return buf;
}

/* Numbers as text that break naive readers: signs, the int64, uint64 and
 * 2^53 edges, sizes that wrap when multiplied by 4 or 8, reals where
 * whole numbers belong, non-finite values, hex, blanks. */
static const char *const fz_hostile[] = {
    "0", "1", "2", "3", "-1", "-0", "+1", "-1000", "2147483647", "2147483648", "4294967295",
    "4294967296", "9007199254740992", "9007199254740993", "2305843009213693952",
    "4611686018427387904", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
    "18446744073709551616", "99999999999999999999999999", "1e19", "1e308", "-1e308", "1e309",
    "1e-320", "2.5", "0.5", "1.0", "1e3", "nan", "NaN", "inf", "-inf", "0x10", " 1", "1 ", "",
    "00000000000000000001", "1e", ".", "-", "1\n", "\x1b[2J",
};
enum { FZ_N_HOSTILE = sizeof fz_hostile / sizeof *fz_hostile };

static inline const char *fz_number(fz_in *in)
{
    return fz_hostile[fz_byte(in) % FZ_N_HOSTILE];
}

/* ---- a growing buffer ---- */
typedef struct {
    char *s;
    size_t n, cap;
} fz_buf;

static inline void fz_add(fz_buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) abort();
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static inline void fz_adds(fz_buf *b, const char *s)
{
    fz_add(b, s, strlen(s));
}

/* A JSON string: quotes, backslashes and control bytes escaped, the rest
 * (invalid UTF-8 included) as is. */
static inline void fz_json_string(fz_buf *b, const char *s)
{
    fz_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            fz_add(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            fz_adds(b, e);
        } else {
            fz_add(b, s, 1);
        }
    }
    fz_add(b, "\"", 1);
}

/* The whole file: 8-byte little-endian header length (header_len, or the
 * real one when header_len is UINT64_MAX), the header, the data. */
static inline void fz_st_file(fz_buf *out, const fz_buf *header, uint64_t header_len, const void *data,
                              size_t data_len)
{
    uint64_t n = header_len == UINT64_MAX ? header->n : header_len;
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(n >> (8 * i));
    out->n = 0;
    fz_add(out, len, 8);
    fz_add(out, header->s ? header->s : "", header->n);
    if (data_len) fz_add(out, data, data_len);
}

/* FNV-1a 64, as checkpoint.c hashes metadata (key NUL value NUL). */
static inline uint64_t fz_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * UINT64_C(0x100000001b3);
    return h;
}

#endif
