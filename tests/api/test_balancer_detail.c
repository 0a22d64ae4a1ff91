/* The detail of a balancer's refusals (dynmem_balancer_last_error()): each
 * refusal where context matters says which VM, field or setting and the
 * numbers; a call that succeeds clears it. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <dynmem/dynmem.h>

#define MIB (UINT64_C(1) << 20)

static dynmem_balancer *b;
static char text[256];

static void setup(void)
{
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                           (int64_t)(4096 * MIB)), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES,
                                           (int64_t)(1024 * MIB)), 0);
}

static void teardown(void)
{
    dynmem_balancer_free(b);
}

static const char *detail(void)
{
    int n = dynmem_balancer_last_error(b, text, sizeof text);
    cr_assert_geq(n, 0);
    cr_assert_eq((size_t)n, strlen(text));
    return text;
}

static uint64_t add_vm(uint64_t startup_mib, uint64_t minimum_mib, uint64_t maximum_mib)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = startup_mib * MIB;
    c.minimum_bytes = minimum_mib * MIB;
    c.maximum_bytes = maximum_mib * MIB;
    uint64_t id;
    cr_assert_eq(dynmem_balancer_vm_add(b, &c, &id), 0);
    return id;
}

TestSuite(balancer_detail, .init = setup, .fini = teardown);

Test(balancer_detail, config_refusals_say_what_explain_says)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = 256 * MIB;
    c.minimum_bytes = 512 * MIB;
    c.maximum_bytes = 1024 * MIB;
    char explained[128];
    cr_assert_eq(dynmem_vm_config_explain(&c, explained, sizeof explained), DYNMEM_ERR_CONFIG_MINIMUM);
    uint64_t id = 77;
    cr_assert_eq(dynmem_balancer_vm_add(b, &c, &id), DYNMEM_ERR_CONFIG_MINIMUM);
    char want[256];
    snprintf(want, sizeof want, "new vm: %s", explained);
    cr_assert_str_eq(detail(), want);
    cr_assert_str_eq(explained, "minimum 512 MiB above startup 256 MiB");

    uint64_t vm = add_vm(1024, 512, 2048);
    cr_assert_str_eq(detail(), "", "a call that succeeds clears the detail");
    cr_assert_eq(dynmem_balancer_vm_configure(b, vm, &c), DYNMEM_ERR_CONFIG_MINIMUM);
    snprintf(want, sizeof want, "vm %llu: minimum 512 MiB above startup 256 MiB",
             (unsigned long long)vm);
    cr_assert_str_eq(detail(), want);
}

Test(balancer_detail, admission_says_how_much_is_missing)
{
    uint64_t big = add_vm(2048, 512, 4096);
    uint64_t other = add_vm(2048, 512, 4096);
    cr_assert_eq(dynmem_balancer_vm_start(b, big, 0, NULL), 0);
    uint64_t missing = 0;
    cr_assert_eq(dynmem_balancer_vm_start(b, other, 0, &missing), DYNMEM_ERR_ADMISSION);
    cr_assert_eq(missing, 1024 * MIB);
    char want[256];
    snprintf(want, sizeof want,
             "vm %llu: startup 2048 MiB does not fit: 1024 MiB free after the 1024 MiB reserve, "
             "1024 MiB missing",
             (unsigned long long)other);
    cr_assert_str_eq(detail(), want);
}

Test(balancer_detail, setting_out_of_bounds_names_it_and_its_bounds)
{
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 90000000),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(detail(), "DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS 90000000 outside 0..86400000");
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_DEADBAND_BYTES, 3 << 20),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(detail(), "DYNMEM_BALANCER_PARAM_DEADBAND_BYTES 3145728 is not a multiple of 2 MiB");
    cr_assert_eq(dynmem_balancer_set_param(b, 99, 1), DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(detail(), "unknown balancer setting 99");
    uint64_t vm = add_vm(1024, 512, 2048);
    cr_assert_eq(dynmem_balancer_vm_set_pressure_param(b, vm, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 0),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(detail(), "DYNMEM_PRESSURE_PARAM_WINDOW_MS 0 outside 1..86400000");
}

Test(balancer_detail, unknown_vm_is_named)
{
    cr_assert_eq(dynmem_balancer_vm_start(b, 12, 0, NULL), DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(detail(), "vm 12: no such VM (never added, or removed)");
    cr_assert_eq(dynmem_balancer_vm_stop(b, 12), DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(detail(), "vm 12: no such VM (never added, or removed)");
    cr_assert_eq(dynmem_balancer_confirm(b, 12, 1, 0, 0, DYNMEM_CONFIRM_FINAL), DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(detail(), "vm 12: no such VM (never added, or removed)");
}

Test(balancer_detail, stray_confirmation_and_states)
{
    uint64_t vm = add_vm(1024, 512, 2048);
    char want[256];
    cr_assert_eq(dynmem_balancer_confirm(b, vm, 5, 0, 0, DYNMEM_CONFIRM_FINAL), DYNMEM_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "vm %llu: action 5 is not outstanding: the VM has no action out",
             (unsigned long long)vm);
    cr_assert_str_eq(detail(), want);
    cr_assert_eq(dynmem_balancer_vm_stop(b, vm), DYNMEM_ERR_BAD_STATE);
    snprintf(want, sizeof want, "vm %llu: already off", (unsigned long long)vm);
    cr_assert_str_eq(detail(), want);
}

Test(balancer_detail, cut_to_fit_and_sized_like_snprintf)
{
    cr_assert_eq(dynmem_balancer_vm_start(b, 12, 0, NULL), DYNMEM_ERR_NOT_FOUND);
    size_t full = strlen("vm 12: no such VM (never added, or removed)");
    char small[6] = "zzzzz";
    cr_assert_eq(dynmem_balancer_last_error(b, small, sizeof small), (int)full);
    cr_assert_str_eq(small, "vm 12");
    cr_assert_eq(dynmem_balancer_last_error(b, NULL, 0), (int)full);
    cr_assert_eq(dynmem_balancer_last_error(NULL, small, sizeof small), DYNMEM_ERR_INVALID_ARGUMENT);
}
