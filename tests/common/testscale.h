/* Test helper: how much of a long randomized run to do. The environment
 * variable DYNMEM_TEST_DIVISOR (default 1) divides the work of the few runs
 * that take seconds natively, so that they still run, smaller, under
 * valgrind (the `valgrind` test setup sets it; see docs/quality.md).
 * Header-only: api tests use it without linking the internal library. */
#ifndef DYNMEM_TESTS_TESTSCALE_H
#define DYNMEM_TESTS_TESTSCALE_H

#include <stdlib.h>

static inline long test_divisor(void)
{
    const char *s = getenv("DYNMEM_TEST_DIVISOR");
    long d = s ? strtol(s, NULL, 10) : 1;
    return d > 0 ? d : 1;
}

/* n divided by the divisor, at least 1. */
static inline long test_scaled(long n)
{
    long v = n / test_divisor();
    return v > 0 ? v : 1;
}

#endif
