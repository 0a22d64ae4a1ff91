/* Balancer: the scenarios of the Hyper-V Dynamic Memory documents (S1-S6),
 * through the public API with a cooperative backend. Tolerances are stated
 * with each assertion; 2 MiB (one size unit) unless said otherwise. */
#include <criterion/criterion.h>

#include "balsim.h"

static void assert_near(uint64_t got, uint64_t want, uint64_t tol, const char *what)
{
    uint64_t d = got > want ? got - want : want - got;
    cr_assert_leq(d, tol, "%s: got %llu MiB, want %llu MiB +- %llu MiB", what,
                  (unsigned long long)(got >> 20), (unsigned long long)(want >> 20),
                  (unsigned long long)(tol >> 20));
}

static void s1(enum dynmem_policy policy)
{
    struct balsim s;
    balsim_init(&s, GIB(16), policy);
    int i = balsim_add(&s, GIB(2), MIB(512), GIB(4), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    /* Idle: demand 533 MiB, target 533 x 1.2 = 640 MiB. Nothing else needs
     * memory, so the surplus goes only after the calm period. */
    s.vm[i].demand = MIB(533);
    balsim_run(&s, 30);
    cr_assert_eq(balsim_assigned(&s, i), GIB(2), "kept during the calm period");
    balsim_run(&s, 90);
    struct dynmem_vm_counters c = balsim_counters(&s, i);
    assert_near(c.physical_bytes, MIB(640), MIB(2), "idle guest ballooned to ~640 MiB");
    cr_assert_eq(c.guest_visible_bytes, GIB(2), "the guest still sees 2 GiB");
    assert_near(c.balloon_bytes, MIB(1408), MIB(2), "balloon ~1.4 GiB");
    cr_assert_eq(c.status, DYNMEM_STATUS_OK);
    /* The hog: demand 4423 MiB. Grows to the 4 GiB maximum, Warning, 108. */
    s.vm[i].demand = MIB(4423);
    balsim_run(&s, 5);
    c = balsim_counters(&s, i);
    cr_assert_eq(c.physical_bytes, GIB(4));
    cr_assert_eq(c.guest_visible_bytes, GIB(4));
    cr_assert_eq(c.added_bytes, GIB(2), "2 GiB hot-added after the balloon was given back");
    cr_assert_eq(c.status, DYNMEM_STATUS_WARNING);
    cr_assert_eq(c.current_pressure, 108);
    /* The hog stops: memory stays for a while, then goes to demand + 20 %. */
    s.vm[i].demand = MIB(600);
    balsim_run(&s, 30);
    cr_assert_eq(balsim_assigned(&s, i), GIB(4), "kept while calm");
    balsim_run(&s, 90);
    c = balsim_counters(&s, i);
    assert_near(c.physical_bytes, MIB(720), MIB(2), "reclaimed to 600 x 1.2");
    cr_assert_eq(c.guest_visible_bytes, GIB(4), "visible maximum is a high-water mark");
    cr_assert_eq(s.violations, 0);
    cr_assert_eq(s.ledger_mismatches, 0);
    balsim_fini(&s);
}

Test(scenario, s1_dynmem) { s1(DYNMEM_POLICY_DYNMEM); }
Test(scenario, s1_hyperv) { s1(DYNMEM_POLICY_HYPERV); }

Test(scenario, s2_hot_add_beyond_startup)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_HYPERV);
    int i = balsim_add(&s, MIB(512), MIB(512), GIB(2), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    s.vm[i].demand = MIB(720); /* target 864 MiB */
    balsim_run(&s, 5);
    struct dynmem_vm_counters c = balsim_counters(&s, i);
    assert_near(c.physical_bytes, MIB(865), MIB(2), "hot-added to ~865 MiB");
    cr_assert_eq(c.guest_visible_bytes, c.physical_bytes, "visible grew from 512 MiB");
    cr_assert_eq(c.added_bytes, c.physical_bytes - MIB(512));
    balsim_fini(&s);
}

Test(scenario, s3_scarcity_then_a_vm_stops)
{
    struct balsim s;
    /* 8 GiB host, 900 MiB reserve: 7292 MiB to share. */
    balsim_init(&s, GIB(8), DYNMEM_POLICY_DYNMEM);
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
    c.startup_bytes = c.minimum_bytes = c.maximum_bytes = GIB(2);
    int fixed = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    c = (struct dynmem_vm_config)DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = c.maximum_bytes = MIB(1536); /* visible maximum 1.5 GiB */
    c.minimum_bytes = MIB(512);
    int guest = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    int big = balsim_add(&s, GIB(3), GIB(1), GIB(6), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, fixed), 0);
    cr_assert_eq(balsim_start(&s, guest), 0);
    cr_assert_eq(balsim_start(&s, big), 0);
    s.vm[fixed].demand = MIB(1500);
    s.vm[guest].demand = MIB(975);
    s.vm[big].demand = MIB(5016);
    /* Demands exceed the host: equal weights lose equal amounts below need:
     * (976 + 5016) - (7292 - 2048) = 748 MiB, 374 MiB each: 976 - 374 = 602. */
    balsim_run(&s, 20);
    struct dynmem_vm_counters g = balsim_counters(&s, guest);
    assert_near(g.physical_bytes, MIB(602), MIB(2), "guest held at ~602 MiB");
    cr_assert_eq(g.status, DYNMEM_STATUS_WARNING);
    cr_assert_eq(g.current_pressure, 162);
    cr_assert_eq(g.guest_visible_bytes, MIB(1536));
    uint64_t before = g.physical_bytes;
    balsim_stop(&s, fixed);
    s.vm[fixed].running = false;
    balsim_run(&s, 5);
    g = balsim_counters(&s, guest);
    cr_assert_geq(g.physical_bytes, before + MIB(300), "gets at least ~300 MiB more");
    cr_assert_eq(g.guest_visible_bytes, MIB(1536), "by deflating its balloon, not by hot-add");
    cr_assert_eq(g.added_bytes, 0);
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

Test(scenario, s4_density)
{
    struct balsim s;
    balsim_init(&s, GIB(32), DYNMEM_POLICY_DYNMEM);
    /* Static: 15 VMs of 2 GiB fit beside the reserve; the 16th does not. */
    int n_static = 0;
    for (int k = 0; k < 16; k++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
        c.startup_bytes = c.minimum_bytes = c.maximum_bytes = GIB(2);
        int i = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
        if (balsim_start(&s, i) == 0)
            n_static++;
    }
    cr_assert_eq(n_static, 15);
    uint64_t missing = 0;
    cr_assert_eq(dynmem_balancer_vm_start(s.b, s.vm[15].id, s.now, &missing), DYNMEM_ERR_ADMISSION);
    cr_assert_gt(missing, 0);
    balsim_fini(&s);

    /* Dynamic VMs of the same size whose demand is lower: start one, let the
     * calm period pass, start the next while one fits. */
    balsim_init(&s, GIB(32), DYNMEM_POLICY_DYNMEM);
    int n_dynamic = 0;
    for (int k = 0; k < 60; k++) {
        int i = balsim_add(&s, GIB(2), MIB(512), GIB(2), 5000, GUEST_COOPERATIVE);
        s.vm[i].demand = MIB(600);
        if (balsim_start(&s, i) != 0) {
            balsim_run(&s, 120);
            if (balsim_start(&s, i) != 0)
                break;
        }
        n_dynamic++;
        balsim_run(&s, 2);
    }
    cr_assert_geq(n_dynamic, 21, "at least 1.4x the static count (got %d)", n_dynamic);
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

Test(scenario, s5_static_resize_partial)
{
    struct balsim s;
    balsim_init(&s, GIB(16), DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, (int64_t)GIB(1)), 0);
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC; /* static VMs */
    c.startup_bytes = c.minimum_bytes = c.maximum_bytes = GIB(4);
    int i = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    c.startup_bytes = c.minimum_bytes = c.maximum_bytes = GIB(9);
    int filler = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    cr_assert_eq(balsim_start(&s, filler), 0);
    s.vm[i].demand = GIB(3);
    s.vm[i].available = GIB(1);
    balsim_run(&s, 2);
    /* Down to 2 GiB while the guest has only 1 GiB free: partial. */
    uint64_t granted = 0;
    cr_assert_eq(dynmem_balancer_vm_resize(s.b, s.vm[i].id, s.now, GIB(2), &granted), DYNMEM_ERR_PARTIAL);
    cr_assert_eq(granted, GIB(3));
    balsim_run(&s, 2);
    cr_assert_eq(balsim_assigned(&s, i), GIB(3));
    /* Up to 8 GiB while the host has 16 - 1 - 9 - 3 = 3 GiB free: partial. */
    cr_assert_eq(dynmem_balancer_vm_resize(s.b, s.vm[i].id, s.now, GIB(8), &granted), DYNMEM_ERR_PARTIAL);
    cr_assert_eq(granted, GIB(6));
    balsim_run(&s, 3);
    cr_assert_eq(balsim_assigned(&s, i), GIB(6));
    /* A change that fits completes. */
    s.vm[i].available = GIB(4);
    cr_assert_eq(dynmem_balancer_vm_resize(s.b, s.vm[i].id, s.now, GIB(5), &granted), 0);
    balsim_run(&s, 2);
    cr_assert_eq(balsim_assigned(&s, i), GIB(5));
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

Test(scenario, s6_balloon_200_mib)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_HYPERV);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 5000), 0);
    int i = balsim_add(&s, GIB(1), MIB(512), GIB(1), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    struct dynmem_host_counters h0 = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h0), 0);
    s.vm[i].demand = MIB(686); /* target 823.2 -> 824 MiB: 200 MiB to give */
    balsim_run(&s, 10);
    struct dynmem_vm_counters c = balsim_counters(&s, i);
    cr_assert_eq(c.balloon_bytes, MIB(200));
    cr_assert_eq(c.physical_bytes, MIB(824));
    cr_assert_eq(c.guest_visible_bytes, GIB(1), "the guest still reports its high-water total");
    struct dynmem_host_counters h1 = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h1), 0);
    cr_assert_eq(h1.available_bytes, h0.available_bytes + MIB(200), "the host freed them");
    cr_assert_eq(c.remove_operations, 1);
    balsim_fini(&s);
}
