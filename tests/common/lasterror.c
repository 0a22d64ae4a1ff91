#include "lasterror.h"

#include <string.h>

#include <criterion/criterion.h>

const char *last_error_checked(int n, const char *buf)
{
    cr_assert_geq(n, 0, "last_error returned the error code %d", n);
    cr_assert_eq((size_t)n, strlen(buf), "last_error returned %d for the %zu characters \"%s\"",
                 n, strlen(buf), buf);
    return buf;
}
