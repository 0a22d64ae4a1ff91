/* The detail of a balancer's refusals (dynmem_balancer_last_error()): each
 * refusal where context matters says which VM, field or setting and the
 * numbers; a call that succeeds clears it. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <dynmem/dynmem.h>

#include "lasterror.h"

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
    return LAST_ERROR(dynmem_balancer_last_error, b, text);
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

/* A guest's sample the estimator refuses: the detail names the VM, what was
 * wrong and the figures, so a daemon's "statistics refused" line says why. */
Test(balancer_detail, refused_samples_say_what_was_wrong)
{
    uint64_t id = add_vm(1024, 512, 1024);
    cr_assert_eq(dynmem_balancer_vm_start(b, id, 0, NULL), 0);
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = 5000;
    s.committed_bytes = 600 * MIB;
    s.flags = DYNMEM_SAMPLE_HAS_AVAILABLE | DYNMEM_SAMPLE_HAS_TOTAL;
    s.available_bytes = 2048 * MIB;
    s.total_bytes = 1024 * MIB;
    cr_assert_eq(dynmem_balancer_vm_sample(b, id, &s), DYNMEM_ERR_PRESSURE_INCONSISTENT);
    char want[256];
    snprintf(want, sizeof want, "vm %llu: sample at 5000 ms: more memory available than in "
             "total (committed 600 MiB, available 2048 MiB, total 1024 MiB)",
             (unsigned long long)id);
    cr_assert_str_eq(detail(), want);

    s.available_bytes = 400 * MIB;
    cr_assert_eq(dynmem_balancer_vm_sample(b, id, &s), 0);
    cr_assert_str_eq(detail(), "", "a sample taken clears it");
    s.time_ms = 4000;
    cr_assert_eq(dynmem_balancer_vm_sample(b, id, &s), DYNMEM_ERR_PRESSURE_TIME_BACKWARDS);
    snprintf(want, sizeof want, "vm %llu: sample at 4000 ms is older than the VM's latest "
             "sample or tick, at 5000 ms", (unsigned long long)id);
    cr_assert_str_eq(detail(), want);

    s.time_ms = 6000;
    s.flags |= 1u << 30;
    cr_assert_eq(dynmem_balancer_vm_sample(b, id, &s), DYNMEM_ERR_STRUCT_RESERVED);
    cr_assert(strstr(detail(), "sample flags 0x4"), "%s", text);
    s.flags &= ~(1u << 30);
    s.committed_bytes = UINT64_C(1) << 53;
    cr_assert_eq(dynmem_balancer_vm_sample(b, id, &s), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert(strstr(detail(), "a figure above 4 PiB"), "%s", text);
}
