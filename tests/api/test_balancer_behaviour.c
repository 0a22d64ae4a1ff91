/* Balancer behaviours B5-B15 one by one, through the public API. */
#include <criterion/criterion.h>

#include "balsim.h"

/* Takes the single queued action, asserting there is exactly one. */
static struct dynmem_action one_action(struct balsim *s)
{
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    cr_assert_eq(dynmem_balancer_next_action(s->b, &a), 1, "an action is queued");
    struct dynmem_action extra = DYNMEM_ACTION_INIT;
    cr_assert_eq(dynmem_balancer_next_action(s->b, &extra), 0, "only one action");
    return a;
}

static void report(struct balsim *s, int i, uint64_t demand)
{
    struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
    smp.time_ms = s->now;
    smp.committed_bytes = demand;
    cr_assert_eq(dynmem_balancer_vm_sample(s->b, s->vm[i].id, &smp), 0);
}

Test(growth, unballoon_before_hot_add_in_aligned_chunks)
{
    struct balsim s;
    balsim_init(&s, GIB(16), DYNMEM_POLICY_HYPERV);
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = GIB(2);
    c.minimum_bytes = MIB(512);
    c.maximum_bytes = GIB(8);
    c.hot_add_alignment_bytes = MIB(128);
    int i = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 0), 0);
    s.vm[i].demand = MIB(500);
    balsim_run(&s, 3); /* ballooned down to 600 MiB */
    cr_assert_eq(balsim_assigned(&s, i), MIB(600));
    /* Demand 2000 MiB: target 2400 MiB. Balloon (1448 MiB) first... */
    s.now += 1000;
    report(&s, i, MIB(2000));
    cr_assert_eq(dynmem_balancer_tick(s.b, s.now, NULL), 0);
    struct dynmem_action a = one_action(&s);
    cr_assert_eq(a.kind, DYNMEM_ACTION_UNBALLOON);
    cr_assert_eq(a.bytes, MIB(1448));
    cr_assert_eq(a.reason, DYNMEM_REASON_GROW);
    /* ...then, as soon as the unballoon is confirmed (same tick), hot-add
     * the rest, 352 MiB rounded up to 128 MiB: 384 MiB. */
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id, s.now, a.bytes, DYNMEM_CONFIRM_FINAL), 0);
    a = one_action(&s);
    cr_assert_eq(a.kind, DYNMEM_ACTION_HOT_ADD);
    cr_assert_eq(a.bytes, MIB(384));
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id, s.now, a.bytes, DYNMEM_CONFIRM_FINAL), 0);
    struct dynmem_vm_counters k = balsim_counters(&s, i);
    cr_assert_eq(k.guest_visible_bytes, GIB(2) + MIB(384));
    cr_assert_eq(k.add_operations, 2);
    balsim_fini(&s);
}

Test(growth, partial_when_host_is_short)
{
    struct balsim s;
    balsim_init(&s, GIB(4), DYNMEM_POLICY_HYPERV);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, (int64_t)GIB(1)), 0);
    int i = balsim_add(&s, GIB(2), GIB(1), GIB(8), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    s.now += 1000;
    report(&s, i, GIB(5));
    cr_assert_eq(dynmem_balancer_tick(s.b, s.now, NULL), 0);
    struct dynmem_action a = one_action(&s);
    cr_assert_eq(a.kind, DYNMEM_ACTION_HOT_ADD);
    cr_assert_eq(a.bytes, GIB(1), "only what is free: 4 - 1 reserve - 2");
    cr_assert_eq(a.reason, DYNMEM_REASON_GROW_PARTIAL);
    cr_assert_eq(a.host_free_bytes, GIB(1));
    /* Issued growth counts as used before it is confirmed (B13). */
    struct dynmem_host_counters h = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h), 0);
    cr_assert_eq(h.available_bytes, 0);
    cr_assert_eq(h.in_flight_bytes, GIB(1));
    cr_assert_eq(dynmem_balancer_check(s.b), 0);
    balsim_fini(&s);
}

Test(cooperation, books_follow_what_the_guest_gave)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_HYPERV);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 0), 0);
    int i = balsim_add(&s, GIB(2), MIB(512), GIB(2), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    s.now += 1000;
    report(&s, i, MIB(500));
    cr_assert_eq(dynmem_balancer_tick(s.b, s.now, NULL), 0);
    struct dynmem_action a = one_action(&s);
    cr_assert_eq(a.kind, DYNMEM_ACTION_BALLOON);
    cr_assert_eq(a.bytes, MIB(1448));
    /* The guest gives 100 MiB, then 4 KiB pages, then ends the request. */
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id, s.now, MIB(100), 0), 0);
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id, s.now, 4096 * 3, 0), 0);
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id, s.now, 4095, 0), DYNMEM_ERR_OUT_OF_RANGE,
                 "not whole pages");
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id, s.now, GIB(2), 0), DYNMEM_ERR_OUT_OF_RANGE,
                 "more than asked");
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id + 1, s.now, 4096, 0), DYNMEM_ERR_NOT_FOUND,
                 "not its action");
    cr_assert_eq(dynmem_balancer_confirm(s.b, a.vm_id, a.action_id, s.now, 0, DYNMEM_CONFIRM_FINAL), 0);
    struct dynmem_vm_counters k = balsim_counters(&s, i);
    cr_assert_eq(k.physical_bytes, GIB(2) - MIB(100) - 3 * 4096);
    cr_assert_eq(k.balloon_bytes, MIB(100) + 3 * 4096);
    cr_assert_eq(k.flags & DYNMEM_VMSTATE_BUSY, 0);
    cr_assert_eq(dynmem_balancer_check(s.b), 0);
    balsim_fini(&s);
}

Test(reclaim, no_flapping_within_deadband)
{
    struct balsim s;
    balsim_init(&s, GIB(16), DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 10000), 0);
    int i = balsim_add(&s, GIB(1), MIB(256), GIB(4), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    s.vm[i].demand = MIB(800);
    balsim_run(&s, 60);
    uint64_t actions = s.actions;
    /* Demand wobbles by +-10 MiB every second: nothing should move. */
    for (int t = 0; t < 300; t++) {
        s.vm[i].demand = MIB(800) + (t % 2 ? MIB(10) : 0) - (t % 3 ? MIB(10) : 0);
        balsim_step(&s);
    }
    cr_assert_eq(s.actions, actions, "%llu actions for a wobble", (unsigned long long)(s.actions - actions));
    /* A burst shorter than the calm period is grown for and then kept. */
    s.vm[i].demand = GIB(2);
    balsim_run(&s, 3);
    uint64_t grown = balsim_assigned(&s, i);
    cr_assert_geq(grown, GIB(2));
    s.vm[i].demand = MIB(800);
    balsim_run(&s, 8);
    cr_assert_eq(balsim_assigned(&s, i), grown, "kept through the calm period");
    balsim_fini(&s);
}

/* A VM's own calm period replaces the balancer's for that VM, longer or
 * shorter, and a reconfiguration changes it for the surplus already there. */
Test(reclaim, each_vm_waits_its_own_calm_period)
{
    struct balsim s;
    balsim_init(&s, GIB(16), DYNMEM_POLICY_HYPERV);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 10000), 0);
    struct dynmem_vm_config c = balsim_config(GIB(2), MIB(512), GIB(4));
    int host = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE); /* 0: the balancer's 10 s */
    c.calm_period_ms = 30000;
    int slow = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    c.calm_period_ms = 2000;
    int quick = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(balsim_start(&s, i), 0);
        s.vm[i].demand = MIB(500);
    }
    balsim_run(&s, 5);
    cr_assert_eq(balsim_assigned(&s, quick), MIB(600), "2 s of calm are enough for it");
    cr_assert_eq(balsim_assigned(&s, host), GIB(2));
    cr_assert_eq(balsim_assigned(&s, slow), GIB(2));
    balsim_run(&s, 10);
    cr_assert_eq(balsim_assigned(&s, host), MIB(600), "the balancer's 10 s");
    cr_assert_eq(balsim_assigned(&s, slow), GIB(2), "its own 30 s hold it");
    /* Shortened while its surplus lasts: counted from the surplus's start. */
    c.calm_period_ms = 20000;
    cr_assert_eq(dynmem_balancer_vm_configure(s.b, s.vm[slow].id, &c), 0);
    balsim_run(&s, 7);
    cr_assert_eq(balsim_assigned(&s, slow), MIB(600));
    cr_assert_eq(dynmem_balancer_check(s.b), 0);
    balsim_fini(&s);
}

Test(visible, hot_remove_guests_shrink_for_real)
{
    struct balsim s;
    balsim_init(&s, GIB(16), DYNMEM_POLICY_HYPERV);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 0), 0);
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = GIB(2);
    c.minimum_bytes = MIB(512);
    c.maximum_bytes = GIB(4);
    c.flags |= DYNMEM_VM_CAN_HOT_REMOVE;
    int i = balsim_add_cfg(&s, &c, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, i), 0);
    s.vm[i].demand = GIB(3);
    balsim_run(&s, 3);
    /* 3 GiB x 1.2 = 3686.4 MiB, rounded up to 3688 MiB: hot-added. */
    cr_assert_eq(balsim_counters(&s, i).guest_visible_bytes, MIB(3688));
    s.vm[i].demand = MIB(500);
    balsim_run(&s, 3);
    struct dynmem_vm_counters k = balsim_counters(&s, i);
    cr_assert_eq(k.physical_bytes, MIB(600));
    cr_assert_eq(k.guest_visible_bytes, MIB(600), "hot-remove shrinks what the guest sees");
    cr_assert_eq(k.balloon_bytes, 0);
    cr_assert_gt(k.removed_bytes, 0);
    balsim_fini(&s);
}

Test(faults, no_driver_is_held_at_startup)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_DYNMEM);
    int i = balsim_add(&s, GIB(2), MIB(512), GIB(4), 5000, GUEST_NO_DRIVER);
    cr_assert_eq(balsim_start(&s, i), 0);
    balsim_run(&s, 200);
    struct dynmem_vm_counters k = balsim_counters(&s, i);
    cr_assert_eq(k.physical_bytes, GIB(2));
    cr_assert(k.flags & DYNMEM_VMSTATE_NO_DATA);
    cr_assert_eq(s.actions, 0);
    balsim_fini(&s);
}

Test(faults, silent_guest_is_stuck_and_not_robbed)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 0), 0);
    int i = balsim_add(&s, GIB(2), MIB(512), GIB(4), 5000, GUEST_SILENT);
    cr_assert_eq(balsim_start(&s, i), 0);
    struct dynmem_host_counters h0 = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h0), 0);
    s.vm[i].demand = MIB(500);
    balsim_run(&s, 3);
    struct dynmem_vm_counters k = balsim_counters(&s, i);
    cr_assert(k.flags & DYNMEM_VMSTATE_BUSY);
    cr_assert_eq(k.flags & DYNMEM_VMSTATE_STUCK, 0, "not yet: 5 s timeout");
    balsim_run(&s, 5);
    k = balsim_counters(&s, i);
    cr_assert(k.flags & DYNMEM_VMSTATE_STUCK);
    cr_assert_eq(k.physical_bytes, GIB(2), "nothing unconfirmed is taken");
    struct dynmem_host_counters h = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h), 0);
    cr_assert_eq(h.available_bytes, h0.available_bytes, "nor counted as free");
    cr_assert_eq(h.stuck_vms, 1);
    balsim_fini(&s);
}

Test(faults, refused_growth_returns_to_pool)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_DYNMEM);
    int i = balsim_add(&s, GIB(1), MIB(512), GIB(4), 5000, GUEST_REFUSES);
    cr_assert_eq(balsim_start(&s, i), 0);
    struct dynmem_host_counters h0 = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h0), 0);
    s.vm[i].demand = GIB(2);
    balsim_run(&s, 3);
    struct dynmem_vm_counters k = balsim_counters(&s, i);
    cr_assert(k.flags & DYNMEM_VMSTATE_HOT_ADD_FAILED);
    cr_assert_eq(k.physical_bytes, GIB(1));
    struct dynmem_host_counters h = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h), 0);
    cr_assert_eq(h.available_bytes, h0.available_bytes);
    cr_assert_eq(h.in_flight_bytes, 0);
    balsim_fini(&s);
}

Test(smart_paging, restart_short_of_startup)
{
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, (int64_t)GIB(1)), 0);
    int a = balsim_add(&s, GIB(4), GIB(1), GIB(4), 5000, GUEST_COOPERATIVE);
    int b = balsim_add(&s, GIB(2), GIB(1), GIB(4), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, a), 0);
    cr_assert_eq(balsim_start(&s, b), 0);
    s.vm[a].demand = MIB(500);
    s.vm[b].demand = MIB(3000);
    balsim_run(&s, 5);
    /* b wants 3600 MiB (3000 x 1.2) and the host has 1 GiB free: a, at
     * 4 GiB for a 600 MiB target, is ballooned at once for b (scarcity). */
    uint64_t held_b = balsim_assigned(&s, b);
    cr_assert_geq(held_b, GIB(3));
    /* a restarts: 7 GiB - b leaves less than 4 GiB for it. */
    uint64_t paged = 0;
    cr_assert_eq(dynmem_balancer_vm_restart(s.b, s.vm[a].id, s.now, &paged), 0);
    struct dynmem_vm_counters k = balsim_counters(&s, a);
    cr_assert_gt(paged, 0);
    cr_assert_eq(k.smart_paged_bytes, paged);
    cr_assert_eq(k.physical_bytes + paged, GIB(4));
    cr_assert_eq(dynmem_balancer_check(s.b), 0);
    s.vm[a].ledger = k.physical_bytes;
    s.vm[a].ledger_paged = paged;
    /* The gap is drained: the guest balloons down to its target first. */
    balsim_run(&s, 10);
    k = balsim_counters(&s, a);
    cr_assert_eq(k.smart_paged_bytes, 0, "smart-paged gap drained");
    cr_assert_eq(s.violations, 0);
    cr_assert_eq(s.ledger_mismatches, 0);
    balsim_fini(&s);
}

/* Runs a host whose free memory is below 1/32 of it while one VM's demand
 * falls; returns what that VM holds 5 s later (calm period 30 s). */
static uint64_t held_after_fall_on_full_host(enum dynmem_policy policy)
{
    struct balsim s;
    balsim_init(&s, GIB(8), policy);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, (int64_t)GIB(1)), 0);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 30000), 0);
    int a = balsim_add(&s, GIB(4), MIB(512), GIB(4), 5000, GUEST_COOPERATIVE);
    int b = balsim_add(&s, MIB(2944), MIB(512), GIB(4), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, a), 0);
    cr_assert_eq(balsim_start(&s, b), 0);
    s.vm[a].demand = MIB(3400); /* wants 4080 MiB: within the deadband of 4 GiB */
    s.vm[b].demand = MIB(2460); /* wants 2952 MiB: within the deadband of 2944 */
    balsim_run(&s, 5);
    cr_assert_eq(balsim_assigned(&s, a), GIB(4));
    cr_assert_eq(balsim_assigned(&s, b), MIB(2944), "128 MiB free: under 1/32 of the host");
    s.vm[a].demand = MIB(1000);
    balsim_run(&s, 5);
    uint64_t held = balsim_assigned(&s, a);
    cr_assert_eq(dynmem_balancer_check(s.b), 0);
    balsim_fini(&s);
    return held;
}

/* dynmem keeps a free pool of 1/32 of the host: while free memory is below
 * it, a surplus goes back at once, without the calm period, so the next
 * rise elsewhere finds memory free instead of waiting for a guest to give
 * it. Hyper-V's rule waits the calm period whatever the host's state. */
Test(reclaim, low_free_pool_reclaims_surplus_at_once)
{
    cr_assert_eq(held_after_fall_on_full_host(DYNMEM_POLICY_DYNMEM), MIB(1200),
                 "demand 1000 MiB + 20 %% buffer, at once");
    cr_assert_eq(held_after_fall_on_full_host(DYNMEM_POLICY_HYPERV), GIB(4),
                 "hyperv waits its calm period");
}

/* A 2 GiB host with no reserve running two VMs of 512 MiB to 2 GiB: *h of
 * weight 9000 started with 1 GiB, *l of weight 1000 with `light_startup`. */
static void start_heavy_and_light(struct balsim *s, enum dynmem_policy policy,
                                  uint64_t light_startup, int *h, int *l)
{
    balsim_init(s, MIB(2048), policy);
    cr_assert_eq(dynmem_balancer_set_param(s->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, 0), 0);
    *h = balsim_add(s, MIB(1024), MIB(512), MIB(2048), 9000, GUEST_COOPERATIVE);
    *l = balsim_add(s, light_startup, MIB(512), MIB(2048), 1000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(s, *h), 0);
    cr_assert_eq(balsim_start(s, *l), 0);
}

/* Two VMs of the same size and demand, weights 9000 and 1000, on a host
 * with no reserve that is `short_mib` below their demands together; what
 * each holds once the cut has settled. */
static void weighted_demand_cut(uint64_t short_mib, uint64_t *heavy, uint64_t *light)
{
    struct balsim s;
    int h, l;
    start_heavy_and_light(&s, DYNMEM_POLICY_DYNMEM, MIB(1024), &h, &l);
    s.vm[h].demand = s.vm[l].demand = MIB(1024) + MIB(short_mib) / 2;
    balsim_run(&s, 30);
    *heavy = balsim_assigned(&s, h);
    *light = balsim_assigned(&s, l);
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

/* A cut of demand itself is weighted water-filling (docs/policies.md):
 * 400 MiB short, cut x weight is level, so the weight-9000 VM loses 40 MiB
 * of its demand and the weight-1000 VM 360 MiB. Under strict weight order
 * (hyperv) the lighter VM would lose all 400. */
Test(scarcity, large_cut_is_shared_by_weight)
{
    uint64_t heavy, light;
    weighted_demand_cut(400, &heavy, &light);
    cr_assert_eq(heavy, MIB(1224 - 40), "heavy holds %llu MiB", (unsigned long long)(heavy >> 20));
    cr_assert_eq(light, MIB(1224 - 360), "light holds %llu MiB", (unsigned long long)(light >> 20));
}

/* A cut whose water-filling share of a VM would be under the deadband
 * (32 MiB) spares that VM, and the lower weights take its share
 * (docs/policies.md): 200 MiB short, the weight-9000 VM's share would be
 * 20 MiB, so the weight-1000 VM loses all 200. */
Test(scarcity, share_under_the_deadband_goes_to_lower_weights)
{
    uint64_t heavy, light;
    weighted_demand_cut(200, &heavy, &light);
    cr_assert_eq(heavy, MIB(1124), "heavy holds %llu MiB", (unsigned long long)(heavy >> 20));
    cr_assert_eq(light, MIB(1124 - 200), "light holds %llu MiB", (unsigned long long)(light >> 20));
}

/* Two VMs on a host with no reserve, weights 9000 and 1000: the heavy one
 * at a steady 1300 MiB of demand, the light one rising 2 MiB a second from
 * 560 MiB, the way a guest's commit climbs. Their wants (demand + 20 %) do
 * not fit; their demands plus a deadband (32 MiB) of headroom each do.
 * Returns the seconds of that minute the light VM spent below its demand. */
static int light_vm_short_seconds(enum dynmem_policy policy)
{
    struct balsim s;
    int h, l;
    start_heavy_and_light(&s, policy, MIB(768), &h, &l);
    s.vm[h].demand = MIB(1300);
    s.vm[l].demand = MIB(560);
    balsim_run(&s, 30);
    int short_s = 0;
    for (int t = 0; t < 60; t++) {
        s.vm[l].demand += MIB(2);
        balsim_step(&s);
        short_s += balsim_assigned(&s, l) < s.vm[l].demand;
    }
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
    return short_s;
}

/* Cut to nothing, the light VM's buffer leaves it short after every 2 MiB
 * rise: the heavy VM's surplus stays inside the deadband, so nothing is
 * reclaimed for it until the rises add up. dynmem first shrinks buffers to
 * a deadband of headroom (docs/policies.md) and cuts them to need only when
 * those do not fit. Hyper-V's documented rule cuts the lowest weight's
 * buffer to need, and the hyperv policy keeps to it. */
Test(scarcity, buffers_shrink_to_a_deadband_before_they_go)
{
    int dynmem = light_vm_short_seconds(DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(dynmem, 0, "dynmem: short %d s of 60", dynmem);
    int hyperv = light_vm_short_seconds(DYNMEM_POLICY_HYPERV);
    cr_assert_gt(hyperv, 30, "hyperv: short %d s of 60", hyperv);
}
