/* White-box tests of the size-prefixed struct rule (STYLE.md 6.5). */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/common.h>
#include "struct_abi.h"

Test(struct_abi, sizes)
{
    unsigned char buf[DYNMEM__STRUCT_SIZE_MAX + 8];
    memset(buf, 0, sizeof buf);
    cr_assert_eq(dynmem__struct_check(buf, 16, 16, 24), DYNMEM_OK, "older caller");
    cr_assert_eq(dynmem__struct_check(buf, 24, 16, 24), DYNMEM_OK, "same version");
    cr_assert_eq(dynmem__struct_check(buf, 40, 16, 24), DYNMEM_OK, "newer caller, zero tail");
    cr_assert_eq(dynmem__struct_check(buf, 15, 16, 24), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(dynmem__struct_check(buf, DYNMEM__STRUCT_SIZE_MAX, 16, 24), DYNMEM_OK);
    cr_assert_eq(dynmem__struct_check(buf, DYNMEM__STRUCT_SIZE_MAX + 1, 16, 24),
                 DYNMEM_ERR_STRUCT_SIZE);
}

Test(struct_abi, unknown_tail_must_be_zero)
{
    unsigned char buf[64];
    memset(buf, 0, sizeof buf);
    buf[23] = 1; /* inside the known part: none of this check's business */
    cr_assert_eq(dynmem__struct_check(buf, 64, 16, 24), DYNMEM_OK);
    buf[63] = 1;
    cr_assert_eq(dynmem__struct_check(buf, 64, 16, 24), DYNMEM_ERR_STRUCT_RESERVED);
    cr_assert_eq(dynmem__struct_check(buf, 63, 16, 24), DYNMEM_OK);
    buf[24] = 1;
    cr_assert_eq(dynmem__struct_check(buf, 25, 16, 24), DYNMEM_ERR_STRUCT_RESERVED);
}
