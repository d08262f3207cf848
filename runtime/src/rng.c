/*
 * rng.c: the runtime's only source of randomness (initialisers, shuffling,
 * dropout masks). xoshiro256** seeded through splitmix64: fixed-width
 * integer arithmetic only, so a seed gives the same stream everywhere.
 */
#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void seqrt_rng_seed(seqrt_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0;
}

void seqrt_rng_seed_stream(seqrt_rng *r, uint64_t seed, uint64_t stream)
{
    /* Hash the pair so streams (s, k) and (s + 1, k - 1) do not collide. */
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (stream * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull);
    seqrt_rng_seed(r, splitmix64(&x));
}

uint64_t seqrt_rng_u64(seqrt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Rejection sampling: no modulo bias, same result on every machine. */
uint64_t seqrt_rng_below(seqrt_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = seqrt_rng_u64(r); while (x >= limit);
    return x % n;
}

double seqrt_rng_double(seqrt_rng *r)
{
    return (double)(seqrt_rng_u64(r) >> 11) * 0x1.0p-53;
}

float seqrt_rng_float(seqrt_rng *r)
{
    return (float)(seqrt_rng_u64(r) >> 40) * 0x1.0p-24f;
}

/* Box-Muller; u1 in (0, 1] so log never sees 0. */
double seqrt_rng_normal(seqrt_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - seqrt_rng_double(r);
    double u2 = seqrt_rng_double(r);
    double rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(two_pi * u2);
    r->has_spare = 1;
    return rad * cos(two_pi * u2);
}

void seqrt_rng_shuffle(seqrt_rng *r, int64_t *idx, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)seqrt_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
