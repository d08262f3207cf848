/*
 * check_runtime_rng.c: the runtime PRNG (runtime/src/rng.c): fixed streams
 * for fixed seeds (pinned values, so a change of generator is noticed),
 * independent streams, ranges, rough moments, and shuffle = permutation.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_util.h"
#include "seqrt_train.h"

START_TEST(same_seed_same_stream)
{
    seqrt_rng a, b;
    seqrt_rng_seed(&a, 42);
    seqrt_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        test_assert_each(seqrt_rng_u64(&a) == seqrt_rng_u64(&b), "draw %d differs", i);
    for (int i = 0; i < 100; i++)
        test_assert_each(seqrt_rng_normal(&a) == seqrt_rng_normal(&b), "normal %d differs", i);
    seqrt_rng_seed(&b, 43);
    ck_assert_uint_ne(seqrt_rng_u64(&a), seqrt_rng_u64(&b));
}
END_TEST

/* xoshiro256** from splitmix64(0): pins the stream across machines. */
START_TEST(pinned_values)
{
    seqrt_rng r;
    seqrt_rng_seed(&r, 0);
    uint64_t first = seqrt_rng_u64(&r);
    seqrt_rng_seed(&r, 0);
    ck_assert_uint_eq(seqrt_rng_u64(&r), first);
    ck_assert_uint_eq(first, 0x99EC5F36CB75F2B4ull);
}
END_TEST

START_TEST(streams_differ)
{
    seqrt_rng a, b, c;
    seqrt_rng_seed_stream(&a, 7, 0);
    seqrt_rng_seed_stream(&b, 7, 1);
    seqrt_rng_seed_stream(&c, 8, 0);
    uint64_t x = seqrt_rng_u64(&a);
    ck_assert_uint_ne(x, seqrt_rng_u64(&b));
    ck_assert_uint_ne(x, seqrt_rng_u64(&c));
}
END_TEST

START_TEST(uniform_range_and_moments)
{
    seqrt_rng r;
    seqrt_rng_seed(&r, 1);
    double s = 0, s2 = 0, n = 200000;
    for (int i = 0; i < n; i++) {
        double u = seqrt_rng_double(&r);
        float f = seqrt_rng_float(&r);
        test_assert_each(u >= 0 && u < 1, "uniform %g", u);
        test_assert_each(f >= 0 && f < 1, "uniform (float) %g", (double)f);
        s += u;
    }
    ck_assert_double_eq_tol(s / n, 0.5, 0.005);
    s = 0;
    for (int i = 0; i < n; i++) {
        double z = seqrt_rng_normal(&r);
        test_assert_each(isfinite(z), "normal %g", z);
        s += z;
        s2 += z * z;
    }
    ck_assert_double_eq_tol(s / n, 0, 0.01);
    ck_assert_double_eq_tol(s2 / n, 1, 0.02);
    for (int i = 0; i < 10000; i++) {
        uint64_t k = seqrt_rng_below(&r, 7);
        test_assert_each(k < 7, "below(7) gave %llu", (unsigned long long)k);
    }
    ck_assert_uint_eq(seqrt_rng_below(&r, 1), 0);
    ck_assert_uint_eq(seqrt_rng_below(&r, 0), 0);
}
END_TEST

START_TEST(shuffle_is_permutation)
{
    enum { n = 1000 };
    int64_t idx[n], idx2[n];
    int seen[n] = {0};
    for (int i = 0; i < n; i++) idx[i] = idx2[i] = i;
    seqrt_rng r, r2;
    seqrt_rng_seed(&r, 5);
    seqrt_rng_seed(&r2, 5);
    seqrt_rng_shuffle(&r, idx, n);
    seqrt_rng_shuffle(&r2, idx2, n);
    int moved = 0;
    for (int i = 0; i < n; i++) {
        test_assert_each(idx[i] >= 0 && idx[i] < n, "index %d", (int)idx[i]);
        seen[idx[i]]++;
        moved += idx[i] != i;
        test_assert_each(idx[i] == idx2[i], "shuffles differ at %d", i);
    }
    for (int i = 0; i < n; i++) test_assert_each(seen[i] == 1, "%d seen %d times", i, seen[i]);
    ck_assert_int_gt(moved, n / 2);
    seqrt_rng_shuffle(&r, idx, 0);   /* empty and single are no-ops */
    seqrt_rng_shuffle(&r, idx, 1);
}
END_TEST

static Suite *make_rng_suite(void)
{
    Suite *s = suite_create("runtime_rng");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, same_seed_same_stream);
    tcase_add_test(core, pinned_values);
    tcase_add_test(core, streams_differ);
    tcase_add_test(core, uniform_range_and_moments);
    tcase_add_test(core, shuffle_is_permutation);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_rng_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
