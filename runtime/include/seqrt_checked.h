/*
 * seqrt_checked.h: sizes, counts and offsets computed from untrusted
 * numbers (file contents, metadata, flags) with the overflow reported
 * instead of wrapped. Header-only and dependency-free, so the compiler can
 * use the same functions for its own sizes (parameter counts).
 *
 *   size_t n;
 *   if (seqrt_mul_size(rows, cols, &n) || seqrt_mul_size(n, sizeof(float), &n))
 *       return refuse("too large");
 *
 * Every function returns 0 and stores the result, or returns 1 (overflow)
 * and leaves *out unspecified. Negative int64 inputs to the size functions
 * count as overflow: a size is never negative.
 */
#ifndef SEQRT_CHECKED_H
#define SEQRT_CHECKED_H

#include <stddef.h>
#include <stdint.h>

static inline int seqrt_mul_size(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

static inline int seqrt_add_size(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

static inline int seqrt_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

static inline int seqrt_add_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* n elements of `elem` bytes each, n an int64 count: the byte size. */
static inline int seqrt_bytes_of(int64_t n, size_t elem, size_t *out)
{
    return n < 0 || (uint64_t)n > SIZE_MAX || seqrt_mul_size((size_t)n, elem, out);
}

/* The product of n int64 factors (a shape), each >= 0. */
static inline int seqrt_prod_i64(const int64_t *f, int n, int64_t *out)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        if (f[i] < 0 || seqrt_mul_i64(p, f[i], &p)) return 1;
    *out = p;
    return 0;
}

/* Counters kept as int64 but also used as doubles (epochs, steps,
 * optimizer iterations): above 2^53 they are no longer exact. Values read
 * from files must lie in [0, SEQRT_MAX_COUNT]. */
#define SEQRT_MAX_COUNT ((int64_t)1 << 53)

#endif /* SEQRT_CHECKED_H */
