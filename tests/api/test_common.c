/* Public-API tests of common.h: linked against the shared library only. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/dynmem.h>

Test(version, runtime_matches_headers)
{
    cr_assert_eq(dynmem_version(), DYNMEM_VERSION_NUMBER);
    cr_assert_str_eq(dynmem_version_string(), DYNMEM_VERSION_STRING);
    cr_assert(DYNMEM_VERSION_CHECK(DYNMEM_VERSION_MAJOR, DYNMEM_VERSION_MINOR, 0));
    cr_assert_not(DYNMEM_VERSION_CHECK(DYNMEM_VERSION_MAJOR + 1, 0, 0));
}

Test(version, at_least)
{
    cr_assert(dynmem_version_at_least(DYNMEM_VERSION_MAJOR, DYNMEM_VERSION_MINOR,
                                      DYNMEM_VERSION_MICRO));
    cr_assert(dynmem_version_at_least(DYNMEM_VERSION_MAJOR, 0, 0));
    cr_assert_not(dynmem_version_at_least(DYNMEM_VERSION_MAJOR, DYNMEM_VERSION_MINOR,
                                          DYNMEM_VERSION_MICRO + 1));
    cr_assert_not(dynmem_version_at_least(DYNMEM_VERSION_MAJOR, DYNMEM_VERSION_MINOR + 1, 0));
    cr_assert_not(dynmem_version_at_least(DYNMEM_VERSION_MAJOR + 1, 0, 0),
                  "another major version is never compatible");
    cr_assert_not(dynmem_version_at_least(DYNMEM_VERSION_MAJOR, 256, 0));
}

#define CHECK_ONE(name, value, text)                                      \
    do {                                                                  \
        cr_assert_eq(DYNMEM_ERR_##name, (value));                         \
        cr_assert_str_eq(dynmem_error_name(value), "DYNMEM_ERR_" #name);  \
        cr_assert_str_eq(dynmem_strerror(value), text);                   \
        cr_assert((value) < 0);                                          \
    } while (0);

Test(errors, every_code_named_and_described)
{
    cr_assert_str_eq(dynmem_error_name(DYNMEM_OK), "DYNMEM_OK");
    cr_assert_str_eq(dynmem_strerror(DYNMEM_OK), "success");
    DYNMEM_ERRORS(CHECK_ONE)
}

#define COUNT_ONE(name, value, text) +1

Test(errors, codes_unique)
{
    enum { N = 1 DYNMEM_ERRORS(COUNT_ONE) };
    static const int codes[] = {
        DYNMEM_OK,
#define LIST_ONE(name, value, text) (value),
        DYNMEM_ERRORS(LIST_ONE)
#undef LIST_ONE
    };
    cr_assert_eq(N, sizeof codes / sizeof codes[0]);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            cr_assert_neq(codes[i], codes[j], "duplicate code %d", codes[i]);
}

Test(errors, pinned_values)
{
    /* Error values are ABI: these may never change. */
    cr_assert_eq(DYNMEM_OK, 0);
    cr_assert_eq(DYNMEM_ERR_INVALID_ARGUMENT, -1);
    cr_assert_eq(DYNMEM_ERR_NO_MEMORY, -2);
    cr_assert_eq(DYNMEM_ERR_BUFFER_TOO_SMALL, -3);
    cr_assert_eq(DYNMEM_ERR_STRUCT_SIZE, -10);
    cr_assert_eq(DYNMEM_ERR_BAD_ALLOCATOR, -12);
}

Test(errors, unknown_codes)
{
    const int unknown[] = {1, 42, -98, -99999, 2147483647, -2147483647 - 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        cr_assert_str_eq(dynmem_error_name(unknown[i]), "unknown");
        cr_assert_str_eq(dynmem_strerror(unknown[i]), "unknown error");
    }
}
