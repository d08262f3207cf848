/*
 * check_util.h: what every Check suite shares: one time limit for a test
 * case, sized for the AddressSanitizer + UBSan build on a loaded machine
 * (Check's own default, 4 s, is not). It only catches hangs: no test
 * measures time. Check multiplies it by CK_TIMEOUT_MULTIPLIER from the
 * environment (tests/run sets one for the sanitizer build); the time limits
 * of the programs a test runs (frontend_util.h) scale by the same factor.
 */
#ifndef SEQ_CHECK_UTIL_H
#define SEQ_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>

enum { TEST_TCASE_SECONDS = 300 };

/* CK_TIMEOUT_MULTIPLIER as Check reads it (a number >= 0), else 1. */
static inline double test_time_scale(void)
{
    const char *s = getenv("CK_TIMEOUT_MULTIPLIER");
    char *end = NULL;
    double k = s ? strtod(s, &end) : 1;
    return s && end != s && *end == '\0' && k >= 0 ? k : 1;
}

/*
 * ck_assert_msg for assertions inside loops over many values. Check records
 * every passing assertion (a message through its pipe, unpacked again when
 * the test ends), and at a million values that record cost more than the
 * tests themselves; this one does nothing until the assertion fails.
 */
#define test_assert_each(expr, ...)                                             \
    do {                                                                       \
        if (!(expr)) ck_abort_msg(__VA_ARGS__);                                \
    } while (0)

/* tcase_create with the shared time limit. */
static inline TCase *test_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, TEST_TCASE_SECONDS);
    return tc;
}

#endif
