/* The example daemons' way of saying why the balancer refused a call
 * (examples/common/exutil.c): the error text, then the balancer's detail. */
#include <criterion/criterion.h>
#include <string.h>

#include "exutil.h"

#define MIB(x) ((uint64_t)(x) << 20)

static dynmem_balancer *host_of(uint64_t total)
{
    dynmem_balancer *b = NULL;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                           (int64_t)total), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, 0), 0);
    return b;
}

static struct dynmem_vm_config vm(uint64_t startup)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = c.maximum_bytes = startup;
    c.minimum_bytes = MIB(256);
    return c;
}

Test(exutil, book_says_why_admission_failed)
{
    dynmem_balancer *b = host_of(MIB(1024));
    struct dynmem_vm_config c = vm(MIB(2048));
    uint64_t id = 0, missing = 0;
    char why[EX_WHY_LEN] = "";
    cr_assert_eq(ex_book(b, &c, 0, &id, &missing, why, sizeof why), DYNMEM_ERR_ADMISSION);
    cr_assert_eq(missing, MIB(1024));
    cr_assert(strstr(why, dynmem_strerror(DYNMEM_ERR_ADMISSION)) == why, "%s", why);
    /* the balancer's detail survives the removal that follows the refusal */
    cr_assert(strstr(why, "1024 MiB missing"), "%s", why);
    cr_assert_eq(dynmem_balancer_vm_remove(b, id), DYNMEM_ERR_NOT_FOUND, "removed again");
    c = vm(MIB(512));
    cr_assert_eq(ex_book(b, &c, 0, &id, &missing, why, sizeof why), 0);
    dynmem_balancer_free(b);
}

Test(exutil, book_says_which_field_is_wrong)
{
    dynmem_balancer *b = host_of(MIB(4096));
    struct dynmem_vm_config c = vm(MIB(256));
    c.minimum_bytes = MIB(512);
    uint64_t id = 0, missing = 0;
    char why[EX_WHY_LEN] = "";
    cr_assert_eq(ex_book(b, &c, 0, &id, &missing, why, sizeof why), DYNMEM_ERR_CONFIG_MINIMUM);
    cr_assert(strstr(why, "minimum 512 MiB above startup 256 MiB"), "%s", why);
    dynmem_balancer_free(b);
}

Test(exutil, why_without_a_balancer_is_the_error_text)
{
    cr_assert_str_eq(EX_WHY(NULL, DYNMEM_ERR_PRESSURE_INCONSISTENT),
                     dynmem_strerror(DYNMEM_ERR_PRESSURE_INCONSISTENT));
    dynmem_balancer *b = host_of(MIB(1024));
    cr_assert_str_eq(EX_WHY(b, DYNMEM_ERR_NOT_FOUND), dynmem_strerror(DYNMEM_ERR_NOT_FOUND),
                     "no refusal yet: no detail");
    dynmem_balancer_free(b);
}
