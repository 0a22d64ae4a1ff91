/* Balancer: configuration (B1), admission (B2), reserve (B11), settings. */
#include <criterion/criterion.h>

#include "balsim.h"

Test(config, defaults_are_hyperv)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    cr_assert_eq(c.buffer_percent, 20);
    cr_assert_eq(c.weight, 5000);
    c.startup_bytes = c.minimum_bytes = c.maximum_bytes = MIB(512);
    cr_assert_eq(dynmem_vm_config_check(&c), 0);
}

Test(config, each_field_named)
{
    struct dynmem_vm_config c = balsim_config(GIB(2), MIB(512), GIB(4));
    cr_assert_eq(dynmem_vm_config_check(&c), 0);
    c.startup_bytes = 0;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_STARTUP);
    c.startup_bytes = GIB(2) + 4096; /* not whole 2 MiB units */
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_STARTUP);
    c = balsim_config(GIB(2), GIB(3), GIB(4));
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_MINIMUM, "minimum above startup");
    c = balsim_config(GIB(2), 0, GIB(4));
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_MINIMUM, "minimum zero");
    c = balsim_config(GIB(2), MIB(512), GIB(1));
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_MAXIMUM);
    c = balsim_config(GIB(2), MIB(512), GIB(4));
    c.buffer_percent = 4;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_BUFFER);
    c.buffer_percent = 2001;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_BUFFER);
    c.buffer_percent = 2000;
    cr_assert_eq(dynmem_vm_config_check(&c), 0);
    c.weight = 10001;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_WEIGHT);
    c.weight = 0;
    cr_assert_eq(dynmem_vm_config_check(&c), 0);
    c.hot_add_alignment_bytes = MIB(3);
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_ALIGNMENT);
    c.hot_add_alignment_bytes = MIB(128);
    cr_assert_eq(dynmem_vm_config_check(&c), 0);
    c.flags |= 1u << 20;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_FLAGS);
}

Test(config, static_vm_has_one_size)
{
    struct dynmem_vm_config c = balsim_config(GIB(2), MIB(512), GIB(4));
    c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_CONFIG_FLAGS);
    c.minimum_bytes = c.maximum_bytes = GIB(2);
    cr_assert_eq(dynmem_vm_config_check(&c), 0);
}

Test(config, struct_abi)
{
    struct dynmem_vm_config c = balsim_config(GIB(2), MIB(512), GIB(4));
    c.reserved[2] = 1;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_STRUCT_RESERVED);
    c.reserved[2] = 0;
    c.size = 8;
    cr_assert_eq(dynmem_vm_config_check(&c), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(dynmem_vm_config_check(NULL), DYNMEM_ERR_INVALID_ARGUMENT);
}

Test(config, running_changes)
{
    struct balsim s;
    balsim_init(&s, GIB(16), DYNMEM_POLICY_DYNMEM);
    int i = balsim_add(&s, GIB(2), GIB(1), GIB(4), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    struct dynmem_vm_config c = balsim_config(GIB(2), MIB(512), GIB(8));
    cr_assert_eq(dynmem_balancer_vm_configure(s.b, s.vm[i].id, &c), 0, "lower min, raise max");
    c = balsim_config(GIB(2), GIB(1), GIB(8));
    cr_assert_eq(dynmem_balancer_vm_configure(s.b, s.vm[i].id, &c), DYNMEM_ERR_BAD_STATE,
                 "raising the minimum needs the VM off");
    c = balsim_config(GIB(2), MIB(512), GIB(4));
    cr_assert_eq(dynmem_balancer_vm_configure(s.b, s.vm[i].id, &c), DYNMEM_ERR_BAD_STATE,
                 "lowering the maximum needs the VM off");
    c = balsim_config(GIB(2), GIB(2), GIB(2));
    c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
    cr_assert_eq(dynmem_balancer_vm_configure(s.b, s.vm[i].id, &c), DYNMEM_ERR_BAD_STATE,
                 "dynamic memory is switched only while off");
    c = balsim_config(GIB(2), MIB(512), GIB(8));
    c.weight = 9000;
    c.buffer_percent = 50;
    cr_assert_eq(dynmem_balancer_vm_configure(s.b, s.vm[i].id, &c), 0, "soft settings");
    balsim_stop(&s, i);
    c = balsim_config(GIB(2), GIB(2), GIB(2));
    c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
    cr_assert_eq(dynmem_balancer_vm_configure(s.b, s.vm[i].id, &c), 0, "anything while off");
    balsim_fini(&s);
}

Test(admission, refused_with_missing_amount)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES,
                                           (int64_t)GIB(1)), 0);
    int a = balsim_add(&s, GIB(4), GIB(1), GIB(4), 5000, GUEST_COOPERATIVE);
    int b = balsim_add(&s, GIB(4), GIB(1), GIB(4), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, a), 0);
    uint64_t missing = 0;
    cr_assert_eq(dynmem_balancer_vm_start(s.b, s.vm[b].id, s.now, &missing), DYNMEM_ERR_ADMISSION);
    cr_assert_eq(missing, GIB(1), "8 GiB - 1 GiB reserve - 4 GiB leaves 3 GiB: 1 GiB missing");
    cr_assert_eq(dynmem_balancer_vm_start(s.b, s.vm[a].id, s.now, NULL), DYNMEM_ERR_BAD_STATE);
    balsim_stop(&s, a);
    cr_assert_eq(balsim_start(&s, b), 0, "a stopped VM's memory returns at once");
    cr_assert_eq(dynmem_balancer_vm_remove(s.b, s.vm[b].id), DYNMEM_ERR_BAD_STATE);
    cr_assert_eq(dynmem_balancer_vm_remove(s.b, s.vm[a].id), 0);
    cr_assert_eq(dynmem_balancer_vm_start(s.b, s.vm[a].id, s.now, NULL), DYNMEM_ERR_NOT_FOUND,
                 "a removed VM's id is dead");
    balsim_fini(&s);
}

Test(admission, no_host_total)
{
    dynmem_balancer *b;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    struct dynmem_vm_config c = balsim_config(GIB(2), GIB(1), GIB(4));
    uint64_t id;
    cr_assert_eq(dynmem_balancer_vm_add(b, &c, &id), 0);
    cr_assert_eq(dynmem_balancer_vm_start(b, id, 0, NULL), DYNMEM_ERR_BAD_STATE);
    cr_assert_eq(dynmem_balancer_tick(b, 0, NULL), DYNMEM_ERR_BAD_STATE);
    dynmem_balancer_free(b);
}

Test(reserve, default_from_host_size)
{
    dynmem_balancer *b;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    int64_t r;
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)GIB(16)), 0);
    cr_assert_eq(dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &r), 0);
    cr_assert_eq(r, (int64_t)MIB(900), "899 MiB rounded up to 2 MiB below 28 GiB");
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)GIB(128)), 0);
    cr_assert_eq(dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &r), 0);
    /* 899 MiB + 1 % of 100 GiB = 899 + 1024 = 1923 MiB, rounded up: 1924 MiB. */
    cr_assert_eq(r, (int64_t)MIB(1924));
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, (int64_t)GIB(2)), 0);
    cr_assert_eq(dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &r), 0);
    cr_assert_eq(r, (int64_t)GIB(2));
    dynmem_balancer_free(b);
}

Test(settings, refused_values_leave_state)
{
    dynmem_balancer *b;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    int64_t v, lo, hi;
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_DEADBAND_BYTES, 12345), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_POLICY, 99), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_balancer_set_param(b, (enum dynmem_balancer_param)77, 1), DYNMEM_ERR_NOT_FOUND);
    cr_assert_eq(dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_DEADBAND_BYTES, &v), 0);
    cr_assert_eq(v, (int64_t)MIB(32));
    cr_assert_eq(dynmem_balancer_param_bounds(DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, &lo, &hi), 0);
    cr_assert_eq(lo, 0);
    cr_assert_eq(dynmem_balancer_param_bounds((enum dynmem_balancer_param)0, &lo, &hi), DYNMEM_ERR_NOT_FOUND);
    /* Shrinking the host under running VMs would break the invariant. */
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)GIB(8)), 0);
    struct dynmem_vm_config c = balsim_config(GIB(4), GIB(1), GIB(4));
    uint64_t id;
    cr_assert_eq(dynmem_balancer_vm_add(b, &c, &id), 0);
    cr_assert_eq(dynmem_balancer_vm_start(b, id, 0, NULL), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)GIB(4)), DYNMEM_ERR_BAD_STATE);
    cr_assert_eq(dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, &v), 0);
    cr_assert_eq(v, (int64_t)GIB(8));
    dynmem_balancer_free(b);
}

Test(text, names_and_descriptions)
{
    cr_assert_str_eq(dynmem_action_kind_name(DYNMEM_ACTION_HOT_ADD), "hot-add");
    cr_assert_str_eq(dynmem_action_kind_name(999), "unknown");
    cr_assert_str_eq(dynmem_reason_name(DYNMEM_REASON_LAZY_RECLAIM), "lazy-reclaim");
    cr_assert_str_eq(dynmem_policy_name(DYNMEM_POLICY_HYPERV), "hyperv");
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    a.kind = DYNMEM_ACTION_BALLOON;
    a.bytes = MIB(200);
    a.reason = DYNMEM_REASON_SCARCITY;
    char buf[300];
    int n = dynmem_action_describe(&a, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert(strstr(buf, "balloon 200 MiB") != NULL, "%s", buf);
    char small[8];
    cr_assert_eq(dynmem_action_describe(&a, small, sizeof small), n, "returns the full length when cut");
    cr_assert_eq(strlen(small), 7);
    cr_assert_eq(dynmem_action_describe(NULL, buf, sizeof buf), DYNMEM_ERR_INVALID_ARGUMENT);
}
