/* The comparison policies (squeezed, mom, esx, proxmox): each one's
 * characteristic rule with hand-computed numbers (docs/policies.md gives the
 * rules). Sizes are exact to the byte unless a tolerance is stated. */
#include <criterion/criterion.h>
#include <string.h>

#include "balsim.h"

static void set_reserve(struct balsim *s, uint64_t bytes)
{
    cr_assert_eq(dynmem_balancer_set_param(s->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES,
                                           (int64_t)bytes), 0);
}

static int add_vm(struct balsim *s, uint64_t startup, uint64_t minimum, uint64_t maximum,
                  uint32_t weight, uint64_t demand)
{
    int i = balsim_add(s, startup, minimum, maximum, weight, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(s, i), 0);
    s->vm[i].demand = demand;
    return i;
}

/* A static VM (no balancing under any policy) that fills the host. */
static void start_static(struct balsim *s, uint64_t size)
{
    struct dynmem_vm_config cfg = DYNMEM_VM_CONFIG_INIT;
    cfg.flags = DYNMEM_VM_CAN_BALLOON;
    cfg.startup_bytes = cfg.minimum_bytes = cfg.maximum_bytes = size;
    int c = balsim_add_cfg(s, &cfg, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(s, c), 0);
    s->vm[c].demand = size / 2;
}

/* One step played by hand so the test sees the actions: reports, tick, and
 * every action carried out in full (the test's ledger kept in step). */
static size_t manual_step(struct balsim *s, struct dynmem_action *out, size_t cap)
{
    s->now += 1000;
    for (int i = 0; i < s->n; i++) {
        if (!s->vm[i].running)
            continue;
        struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
        smp.time_ms = s->now;
        smp.committed_bytes = s->vm[i].demand;
        cr_assert_eq(dynmem_balancer_vm_sample(s->b, s->vm[i].id, &smp), 0);
    }
    cr_assert_eq(dynmem_balancer_tick(s->b, s->now, NULL), 0);
    size_t n = 0;
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(s->b, &a) == 1) {
        cr_assert_lt(n, cap);
        out[n++] = a;
        cr_assert_eq(dynmem_balancer_confirm(s->b, a.vm_id, a.action_id, s->now, a.bytes,
                                             DYNMEM_CONFIRM_FINAL), 0);
        for (int i = 0; i < s->n; i++) {
            if (s->vm[i].id != a.vm_id)
                continue;
            bool grow = a.kind == DYNMEM_ACTION_UNBALLOON || a.kind == DYNMEM_ACTION_HOT_ADD;
            s->vm[i].ledger = grow ? s->vm[i].ledger + a.bytes : s->vm[i].ledger - a.bytes;
        }
    }
    cr_assert_eq(dynmem_balancer_check(s->b), 0);
    return n;
}

Test(peers, names_and_bounds)
{
    cr_assert_str_eq(dynmem_policy_name(DYNMEM_POLICY_SQUEEZED), "squeezed");
    cr_assert_str_eq(dynmem_policy_name(DYNMEM_POLICY_MOM), "mom");
    cr_assert_str_eq(dynmem_policy_name(DYNMEM_POLICY_ESX), "esx");
    cr_assert_str_eq(dynmem_policy_name(DYNMEM_POLICY_PROXMOX), "proxmox");
    cr_assert_str_eq(dynmem_policy_name(7), "unknown");
    cr_assert_str_eq(dynmem_reason_name(DYNMEM_REASON_POLICY), "policy");
    int64_t lo, hi;
    cr_assert_eq(dynmem_balancer_param_bounds(DYNMEM_BALANCER_PARAM_POLICY, &lo, &hi), 0);
    cr_assert_eq(lo, DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(hi, DYNMEM_POLICY_PROXMOX);
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    a.kind = DYNMEM_ACTION_BALLOON;
    a.reason = DYNMEM_REASON_POLICY;
    a.policy = DYNMEM_POLICY_ESX;
    char buf[400];
    cr_assert_gt(dynmem_action_describe(&a, buf, sizeof buf), 0);
    cr_assert_not_null(strstr(buf, "esx/policy: the policy's own rule"), "%s", buf);
    a.kind = DYNMEM_ACTION_HOT_ADD;
    a.reason = DYNMEM_REASON_GROW;
    cr_assert_gt(dynmem_action_describe(&a, buf, sizeof buf), 0);
    cr_assert_not_null(strstr(buf, "the policy's target above what it holds"), "%s", buf);
}

/* squeezed: every VM at the same fraction of its range, demand ignored.
 * Budget 6144 - 1024 reserve = 5120 MiB; floors 512 + 1024; slush 9 MiB:
 * surplus 3575 MiB over ranges 3584 + 1024 = 4608 MiB: gamma = 0.77582.
 * A: 512 + 0.77582 x 3584 = 3292.56 -> 3292 MiB (whole 2 MiB steps);
 * B: 1024 + 0.77582 x 1024 = 1818.44 -> 1818 MiB. */
Test(peers, squeezed_equal_fraction_of_range)
{
    struct balsim s;
    balsim_init(&s, MIB(6144), DYNMEM_POLICY_SQUEEZED);
    set_reserve(&s, MIB(1024));
    int a = add_vm(&s, MIB(2048), MIB(512), MIB(4096), 5000, MIB(100));
    int b = add_vm(&s, MIB(1024), MIB(1024), MIB(2048), 5000, MIB(2000));
    balsim_run(&s, 3);
    cr_assert_eq(balsim_assigned(&s, a), MIB(3292));
    cr_assert_eq(balsim_assigned(&s, b), MIB(1818));
    /* Same fraction (within one 2 MiB unit of each range). */
    double fa = (double)(balsim_assigned(&s, a) - MIB(512)) / (double)MIB(3584);
    double fb = (double)(balsim_assigned(&s, b) - MIB(1024)) / (double)MIB(1024);
    cr_assert_lt(fa > fb ? fa - fb : fb - fa, 2.0 / 1024);
    /* The slush stays free. */
    struct dynmem_host_counters h = DYNMEM_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_host_counters(s.b, &h), 0);
    cr_assert_eq(h.available_bytes, MIB(10));
    /* Demand swaps: squeezed does not care. */
    s.vm[a].demand = MIB(4000);
    s.vm[b].demand = MIB(10);
    balsim_run(&s, 10);
    cr_assert_eq(balsim_assigned(&s, a), MIB(3292));
    cr_assert_eq(balsim_assigned(&s, b), MIB(1818));
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

/* squeezed under scarcity: a third VM takes memory, everyone falls to the
 * same lower fraction at once (no calm period). */
Test(peers, squeezed_shrinks_at_once)
{
    struct balsim s;
    balsim_init(&s, MIB(6144), DYNMEM_POLICY_SQUEEZED);
    set_reserve(&s, MIB(1024));
    int a = add_vm(&s, MIB(1024), MIB(512), MIB(4096), 5000, MIB(100));
    balsim_run(&s, 2);
    /* Alone: surplus 5120 - 512 - 9 = 4599 MiB >= range 3584: gamma 1. */
    cr_assert_eq(balsim_assigned(&s, a), MIB(4096));
    int c = balsim_add(&s, MIB(1024), MIB(1024), MIB(1024), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, c), 0);
    /* c's range is empty: surplus 5120 - 512 - 1024 - 9 = 3575 MiB over
     * a's range 3584: a's target is 512 + 3575 = 4087 MiB, a shrink of
     * 9 MiB made in whole 2 MiB units (rounded up, to keep the slush). */
    struct dynmem_action acts[4];
    size_t n = manual_step(&s, acts, 4);
    cr_assert_eq(n, 1);
    cr_assert_eq(acts[0].kind, DYNMEM_ACTION_BALLOON);
    cr_assert_eq(acts[0].bytes, MIB(10));
    cr_assert_eq(acts[0].reason, DYNMEM_REASON_POLICY);
    cr_assert_eq(balsim_assigned(&s, a), MIB(4086));
    balsim_run(&s, 5);
    cr_assert_eq(balsim_assigned(&s, a), MIB(4086), "no flapping back");
    balsim_fini(&s);
}

/* mom, host above 20 % free: an idle VM is not shrunk; it grows by 5 % per
 * 15 s cycle. Host 16000 MiB, no reserve, VM at 2000 MiB with demand 100:
 * free 87.5 %, so the floor is 100 + 0.875 x 2000 = 1850 < 2100: 2100 MiB.
 * Next cycle: 2205, in whole 2 MiB steps 2204 MiB. */
Test(peers, mom_grows_five_percent_per_cycle)
{
    struct balsim s;
    balsim_init(&s, MIB(16000), DYNMEM_POLICY_MOM);
    set_reserve(&s, 0);
    int a = add_vm(&s, MIB(2000), MIB(512), MIB(4000), 5000, MIB(100));
    balsim_run(&s, 1); /* t = 2 s: first cycle */
    cr_assert_eq(balsim_assigned(&s, a), MIB(2100));
    balsim_run(&s, 14); /* t = 16 s: within the cycle, nothing moves */
    cr_assert_eq(balsim_assigned(&s, a), MIB(2100));
    balsim_run(&s, 1); /* t = 17 s: second cycle */
    cr_assert_eq(balsim_assigned(&s, a), MIB(2204));
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

/* mom, host under 20 % free: every VM shrinks by 5 % per cycle, the shrink
 * being the policy's rule (no calm period). Host 10000 MiB, two VMs of 4200:
 * free 16 %, guest free share 0.16, floor 1000 + 0.16 x 4200 = 1672 < 3990.
 * Then free is 20.2 %: no pressure, so they grow again by 5 %: 3990 x 1.05 =
 * 4189.5, in whole 2 MiB steps 4188 MiB. */
Test(peers, mom_shrinks_only_under_host_pressure)
{
    struct balsim s;
    balsim_init(&s, MIB(10000), DYNMEM_POLICY_MOM);
    set_reserve(&s, 0);
    int a = add_vm(&s, MIB(4200), MIB(1000), MIB(4200), 5000, MIB(1000));
    int b = add_vm(&s, MIB(4200), MIB(1000), MIB(4200), 5000, MIB(1000));
    struct dynmem_action acts[4];
    size_t n = manual_step(&s, acts, 4);
    cr_assert_eq(n, 2);
    for (size_t k = 0; k < n; k++) {
        cr_assert_eq(acts[k].kind, DYNMEM_ACTION_BALLOON);
        cr_assert_eq(acts[k].bytes, MIB(210));
        cr_assert_eq(acts[k].reason, DYNMEM_REASON_POLICY);
        cr_assert_eq(acts[k].policy, DYNMEM_POLICY_MOM);
    }
    cr_assert_eq(balsim_assigned(&s, a), MIB(3990));
    balsim_run(&s, 14);
    cr_assert_eq(balsim_assigned(&s, a), MIB(3990));
    balsim_run(&s, 1);
    cr_assert_eq(balsim_assigned(&s, a), MIB(4188));
    cr_assert_eq(balsim_assigned(&s, b), MIB(4188));
    balsim_fini(&s);
}

/* mom, critical host pressure (free <= 5 %): the guest's free share turns
 * negative, so MoM shrinks guests below what they use, to make them swap.
 * Host 10000 MiB, two VMs of 4900 using all of it: free 2 %, guest free
 * share 0.02 - 0.05 = -0.03, floor 4900 - 0.03 x 4900 = 4753 MiB, above the
 * 5 % step (4655): a 147 MiB shrink, 148 in whole 2 MiB units. */
Test(peers, mom_critical_pressure_shrinks_below_use)
{
    struct balsim s;
    balsim_init(&s, MIB(10000), DYNMEM_POLICY_MOM);
    set_reserve(&s, 0);
    int a = add_vm(&s, MIB(4900), MIB(1000), MIB(4900), 5000, MIB(4900));
    add_vm(&s, MIB(4900), MIB(1000), MIB(4900), 5000, MIB(4900));
    struct dynmem_action acts[4];
    size_t n = manual_step(&s, acts, 4);
    cr_assert_eq(n, 2);
    cr_assert_eq(acts[0].bytes, MIB(148));
    cr_assert_eq(acts[1].bytes, MIB(148));
    cr_assert_eq(acts[0].reason, DYNMEM_REASON_POLICY);
    struct dynmem_vm_counters c = balsim_counters(&s, a);
    cr_assert_eq(c.physical_bytes, MIB(4752));
    cr_assert_lt(c.physical_bytes, c.demand_bytes, "below its use");
    balsim_fini(&s);
}

/* mom: changes of 0.25 % or less are not made. Host 16000 MiB, a VM at its
 * 4000 MiB maximum minus 8 MiB: growth to the maximum is 0.2 %, skipped. */
Test(peers, mom_deadband)
{
    struct balsim s;
    balsim_init(&s, MIB(16000), DYNMEM_POLICY_MOM);
    set_reserve(&s, 0);
    int a = add_vm(&s, MIB(3992), MIB(512), MIB(4000), 5000, MIB(100));
    balsim_run(&s, 40);
    cr_assert_eq(balsim_assigned(&s, a), MIB(3992));
    balsim_fini(&s);
}

/* esx: the idle memory tax. Budget 6144 - 1024 = 5120 MiB, all held.
 * A: 10000 shares, holds 4096, active 256 (idle). B: 2000 shares, holds
 * 1024, active 4096 (wants 4096). By shares alone B pays less per page
 * (2000/1024 < 10000/4096) and could take nothing; with k = 4 A's cost is
 * 256 + 4 x 3840 = 15616 and its price 0.64 < B's 1.95. The equilibrium
 * sets equal prices: P_A = 192 + 2500x, P_B = 2000x, sum 5120:
 * x = 4928/4500, P_B = 2190.2 MiB, P_A = 2929.8 MiB. In whole 2 MiB
 * units A gives 1168 (shrinks round up) and B takes 1166 (growth rounds
 * down). The next cycle, A asking for nothing more than it holds, gives B
 * the remaining 2 MiB: A 2928, B 2192 MiB, at prices 0.914 and 0.912. */
Test(peers, esx_idle_tax_moves_memory_to_active_vm)
{
    struct balsim s;
    balsim_init(&s, MIB(6144), DYNMEM_POLICY_ESX);
    set_reserve(&s, MIB(1024));
    int a = add_vm(&s, MIB(4096), MIB(512), MIB(4096), 10000, MIB(256));
    int b = add_vm(&s, MIB(1024), MIB(512), MIB(4096), 2000, MIB(4096));
    struct dynmem_action acts[4];
    size_t n = manual_step(&s, acts, 4);
    /* Two-phase: the revocation first; B grows once it is confirmed. */
    cr_assert_eq(n, 1);
    cr_assert_eq(acts[0].vm_id, s.vm[a].id);
    cr_assert_eq(acts[0].kind, DYNMEM_ACTION_BALLOON);
    cr_assert_eq(acts[0].bytes, MIB(1168));
    cr_assert_eq(acts[0].reason, DYNMEM_REASON_POLICY);
    n = manual_step(&s, acts, 4);
    cr_assert_eq(n, 1);
    cr_assert_eq(acts[0].vm_id, s.vm[b].id);
    cr_assert_eq(acts[0].bytes, MIB(1166));
    balsim_run(&s, 40); /* later cycles find the same equilibrium */
    cr_assert_eq(balsim_assigned(&s, a), MIB(2928));
    cr_assert_eq(balsim_assigned(&s, b), MIB(2192));
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

/* esx without idle memory: A as active as B keeps its memory, since it
 * pays less per page only when idle pages are taxed. Both fully active:
 * P_A = 10000x, P_B = 2000x; A is pinned at 4096 and B keeps 1024. */
Test(peers, esx_active_shares_win)
{
    struct balsim s;
    balsim_init(&s, MIB(6144), DYNMEM_POLICY_ESX);
    set_reserve(&s, MIB(1024));
    int a = add_vm(&s, MIB(4096), MIB(512), MIB(4096), 10000, MIB(4096));
    int b = add_vm(&s, MIB(1024), MIB(512), MIB(4096), 2000, MIB(4096));
    balsim_run(&s, 40);
    cr_assert_eq(balsim_assigned(&s, a), MIB(4096));
    cr_assert_eq(balsim_assigned(&s, b), MIB(1024));
    balsim_fini(&s);
}

/* esx: no revocation while requests fit in free memory; idle memory stays. */
Test(peers, esx_keeps_idle_memory_without_need)
{
    struct balsim s;
    balsim_init(&s, MIB(8192), DYNMEM_POLICY_ESX);
    set_reserve(&s, MIB(1024));
    int a = add_vm(&s, MIB(4096), MIB(512), MIB(4096), 5000, MIB(100));
    int b = add_vm(&s, MIB(1024), MIB(512), MIB(4096), 5000, MIB(2000));
    balsim_run(&s, 40);
    cr_assert_eq(balsim_assigned(&s, a), MIB(4096));
    cr_assert_eq(balsim_assigned(&s, b), MIB(2000), "grown to its demand from free memory");
    balsim_fini(&s);
}

/* proxmox: host 10240 MiB steered to 80 % (8192 MiB) used. Above the
 * 1024 MiB minimums, 6144 MiB are split by shares 2000 : 6000: A 2560,
 * B 5632 MiB. Each VM moves by at most 100 MiB per 10 s cycle. B stops at
 * 5624 MiB, where the goal (8 MiB) is inside the 10 MiB deadband. */
Test(peers, proxmox_shares_and_step_cap)
{
    struct balsim s;
    balsim_init(&s, MIB(10240), DYNMEM_POLICY_PROXMOX);
    set_reserve(&s, 0);
    int a = add_vm(&s, MIB(1024), MIB(1024), MIB(8192), 2000, MIB(1000));
    int b = add_vm(&s, MIB(1024), MIB(1024), MIB(8192), 6000, MIB(1000));
    uint64_t pa = balsim_assigned(&s, a), pb = balsim_assigned(&s, b);
    for (int t = 0; t < 470; t++) {
        balsim_step(&s);
        uint64_t na = balsim_assigned(&s, a), nb = balsim_assigned(&s, b);
        bool cycle = (s.now - 2000) % 10000 == 0;
        cr_assert(cycle || (na == pa && nb == pb), "moved between cycles at %llu",
                  (unsigned long long)s.now);
        cr_assert_leq(na - pa, MIB(100));
        cr_assert_leq(nb - pb, MIB(100));
        pa = na;
        pb = nb;
    }
    cr_assert_eq(balsim_assigned(&s, a), MIB(1024) + MIB(1536));
    cr_assert_eq(balsim_assigned(&s, b), MIB(5624));
    /* The host goes over 80 %: a static 2048 MiB VM starts (used 10232 MiB,
     * goal -2040 MiB). Both VMs have spare memory; their shares-desired
     * sizes are 2048 and 4096 MiB, and each step is capped at 100 MiB. */
    start_static(&s, MIB(2048));
    cr_assert_eq(s.now, 471000, "the next step is a cycle");
    struct dynmem_action acts[4];
    size_t n = manual_step(&s, acts, 4);
    cr_assert_eq(n, 2);
    for (size_t k = 0; k < n; k++) {
        cr_assert_eq(acts[k].kind, DYNMEM_ACTION_BALLOON);
        cr_assert_eq(acts[k].bytes, MIB(100));
        cr_assert_eq(acts[k].reason, DYNMEM_REASON_POLICY);
    }
    cr_assert_eq(balsim_assigned(&s, a), MIB(2460));
    cr_assert_eq(balsim_assigned(&s, b), MIB(5524));
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

/* Switching policy while VMs run: the new policy starts from scratch (no
 * step cap or target of the old one survives), and switching back starts a
 * fresh cycle at once. */
Test(peers, policy_switch_starts_fresh)
{
    struct balsim s;
    balsim_init(&s, MIB(10240), DYNMEM_POLICY_PROXMOX);
    set_reserve(&s, 0);
    int a = add_vm(&s, MIB(1024), MIB(1024), MIB(8192), 5000, MIB(1000));
    balsim_run(&s, 1);
    cr_assert_eq(balsim_assigned(&s, a), MIB(1124), "proxmox: 100 MiB per cycle");
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_POLICY, DYNMEM_POLICY_HYPERV), 0);
    s.vm[a].demand = MIB(3000);
    balsim_run(&s, 1);
    cr_assert_eq(balsim_assigned(&s, a), MIB(3600), "hyperv: demand + 20 %% at once");
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_POLICY, DYNMEM_POLICY_PROXMOX), 0);
    /* goal 8192 - 3600 = 4592 MiB: the whole range above the minimum,
     * 7168 MiB, would be desired; one step of 100 MiB, at once. */
    balsim_run(&s, 1);
    cr_assert_eq(balsim_assigned(&s, a), MIB(3700));
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

/* proxmox shrinks VMs with enough free memory first. Host 10240 MiB at
 * 100 % used (goal -2048 MiB): A has 3096 MiB free (more than a quarter of
 * its 1024 MiB minimum), B none. Only A is asked, for one 100 MiB step. */
Test(peers, proxmox_shrinks_comfortable_first)
{
    struct balsim s;
    balsim_init(&s, MIB(10240), DYNMEM_POLICY_PROXMOX);
    set_reserve(&s, 0);
    int a = add_vm(&s, MIB(4096), MIB(1024), MIB(4096), 5000, MIB(1000));
    add_vm(&s, MIB(4096), MIB(1024), MIB(4096), 5000, MIB(4096));
    start_static(&s, MIB(2048));
    struct dynmem_action acts[4];
    size_t n = manual_step(&s, acts, 4);
    cr_assert_eq(n, 1);
    cr_assert_eq(acts[0].vm_id, s.vm[a].id);
    cr_assert_eq(acts[0].kind, DYNMEM_ACTION_BALLOON);
    cr_assert_eq(acts[0].bytes, MIB(100));
    cr_assert_eq(acts[0].reason, DYNMEM_REASON_POLICY);
    balsim_fini(&s);
}
