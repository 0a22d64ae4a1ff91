/* Balancer: weights (B6) and a randomized invariant run over seeded fleets
 * with every kind of guest, under every policy. After every step: B13
 * (dynmem_balancer_check), the test's own ledger of confirmed moves equals
 * the books (no memory created or lost), and every running VM's physical
 * memory is non-zero, whole pages and within what the guest sees. */
#include <criterion/criterion.h>

#include "balsim.h"
#include "testscale.h"

static uint64_t rng_next(uint64_t *x)
{
    /* splitmix64: small, seedable, identical everywhere. */
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *x, uint64_t n)
{
    return n ? rng_next(x) % n : 0;
}

static void weight_fleet(enum dynmem_policy policy)
{
    struct balsim s;
    balsim_init(&s, GIB(16), policy);
    uint32_t weights[] = {0, 1000, 2500, 5000, 5000, 7500, 10000, 10000};
    int n = (int)(sizeof weights / sizeof weights[0]);
    for (int k = 0; k < n; k++) {
        int i = balsim_add(&s, GIB(1), MIB(256), GIB(4), weights[k], GUEST_COOPERATIVE);
        cr_assert_eq(balsim_start(&s, i), 0);
        s.vm[i].demand = GIB(3); /* 8 x 3 GiB against ~15 GiB: scarce */
    }
    balsim_run(&s, 30);
    for (int k = 1; k < n; k++)
        cr_assert_geq(balsim_assigned(&s, k), balsim_assigned(&s, k - 1),
                      "%s: weight %u holds %llu MiB, weight %u holds %llu MiB",
                      dynmem_policy_name(policy), weights[k],
                      (unsigned long long)(balsim_assigned(&s, k) >> 20), weights[k - 1],
                      (unsigned long long)(balsim_assigned(&s, k - 1) >> 20));
    /* Equal weights share the shortfall equally, within one 2 MiB unit. */
    uint64_t a = balsim_assigned(&s, 3), b = balsim_assigned(&s, 4);
    cr_assert_leq(a > b ? a - b : b - a, MIB(2));
    a = balsim_assigned(&s, 6), b = balsim_assigned(&s, 7);
    cr_assert_leq(a > b ? a - b : b - a, MIB(2));
    for (int k = 0; k < n; k++)
        cr_assert_geq(balsim_assigned(&s, k), MIB(256), "never below minimum");
    cr_assert_eq(balsim_counters(&s, 0).physical_bytes, MIB(256), "weight 0 gives up everything first");
    cr_assert_eq(s.violations, 0);
    balsim_fini(&s);
}

Test(weights, order_dynmem) { weight_fleet(DYNMEM_POLICY_DYNMEM); }
Test(weights, order_hyperv) { weight_fleet(DYNMEM_POLICY_HYPERV); }

Test(weights, proportional_not_strict)
{
    /* dynmem: a VM of half the weight loses twice as much, not everything. */
    struct balsim s;
    balsim_init(&s, GIB(8), DYNMEM_POLICY_DYNMEM);
    cr_assert_eq(dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, (int64_t)GIB(1)), 0);
    int lo = balsim_add(&s, GIB(2), MIB(512), GIB(8), 2500, GUEST_COOPERATIVE);
    int hi = balsim_add(&s, GIB(2), MIB(512), GIB(8), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(&s, lo), 0);
    cr_assert_eq(balsim_start(&s, hi), 0);
    s.vm[lo].demand = s.vm[hi].demand = GIB(4); /* need 8 GiB of 7 GiB: 1 GiB cut */
    balsim_run(&s, 20);
    uint64_t cut_lo = GIB(4) - balsim_assigned(&s, lo), cut_hi = GIB(4) - balsim_assigned(&s, hi);
    cr_assert_gt(cut_hi, 0);
    cr_assert_leq(cut_lo > 2 * cut_hi ? cut_lo - 2 * cut_hi : 2 * cut_hi - cut_lo, MIB(4),
                  "cut %llu vs %llu MiB", (unsigned long long)(cut_lo >> 20), (unsigned long long)(cut_hi >> 20));
    balsim_fini(&s);
}

struct fleet_stats {
    uint64_t steps, violations, mismatches, bounds;
};

static void random_fleet(uint64_t seed, int nvms, int steps, struct fleet_stats *st)
{
    uint64_t r = seed;
    struct balsim s;
    /* Every policy, the comparison ones included. */
    enum dynmem_policy policy = (enum dynmem_policy)rng_below(&r, 7);
    balsim_init_cap(&s, GIB(4) + rng_below(&r, (uint64_t)nvms) * GIB(2), policy, nvms);
    dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, (int64_t)rng_below(&r, 20000));
    for (int k = 0; k < nvms; k++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.minimum_bytes = MIB(256) * (1 + rng_below(&r, 4));
        c.startup_bytes = c.minimum_bytes + MIB(256) * rng_below(&r, 8);
        c.maximum_bytes = c.startup_bytes + MIB(512) * rng_below(&r, 8);
        c.weight = (uint32_t)rng_below(&r, 10001);
        c.hot_add_alignment_bytes = MIB(2) << rng_below(&r, 7);
        if (rng_below(&r, 4) == 0)
            c.flags |= DYNMEM_VM_CAN_HOT_REMOVE;
        if (rng_below(&r, 8) == 0) {
            c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
            c.minimum_bytes = c.maximum_bytes = c.startup_bytes;
        }
        uint64_t g = rng_below(&r, 16);
        enum balsim_guest guest = g < 10 ? GUEST_COOPERATIVE : g < 12 ? GUEST_HALF
                                : g < 13 ? GUEST_REFUSES : g < 14 ? GUEST_SILENT : GUEST_NO_DRIVER;
        balsim_add_cfg(&s, &c, guest);
    }
    for (int t = 0; t < steps; t++) {
        int i = (int)rng_below(&r, (uint64_t)nvms);
        uint64_t ev = rng_below(&r, 100);
        struct balsim_vm *v = &s.vm[i];
        if (!v->running && ev < 30) {
            balsim_start(&s, i);
        } else if (v->running && ev < 2) {
            balsim_stop(&s, i);
        } else if (v->running && ev < 4) {
            balsim_restart(&s, i);
        } else if (v->running && ev < 5) {
            uint64_t granted;
            dynmem_balancer_vm_resize(s.b, v->id, s.now, MIB(2) * (1 + rng_below(&r, 2048)), &granted);
        }
        /* Now and then the operator switches policy while VMs run. */
        if (ev == 99 && rng_below(&r, 4) == 0)
            dynmem_balancer_set_param(s.b, DYNMEM_BALANCER_PARAM_POLICY, (int64_t)rng_below(&r, 7));
        for (int k = 0; k < 1 + nvms / 8; k++) {
            struct balsim_vm *w = &s.vm[rng_below(&r, (uint64_t)nvms)];
            w->demand = MIB(1) * rng_below(&r, 6000);
            w->available = rng_below(&r, 2) ? MIB(1) * rng_below(&r, 2000) : 0;
        }
        balsim_step(&s);
        st->steps++;
        for (int k = 0; k < nvms; k++) {
            if (!s.vm[k].running)
                continue;
            struct dynmem_vm_counters c = balsim_counters(&s, k);
            if (c.physical_bytes > c.guest_visible_bytes || c.physical_bytes == 0 ||
                c.physical_bytes % 4096)
                st->bounds++;
        }
    }
    st->violations += s.violations;
    st->mismatches += s.ledger_mismatches;
    balsim_fini(&s);
}

Test(invariants, random_fleets, .timeout = 600)
{
    struct fleet_stats st = {0};
    /* 1M steps in all: many small fleets, a few large ones (divided by
     * DYNMEM_TEST_DIVISOR under valgrind, see testscale.h). */
    for (uint64_t seed = 1; seed <= (uint64_t)test_scaled(250); seed++)
        random_fleet(seed, 1 + (int)(seed % 24), 4000, &st);
    for (uint64_t seed = 1000; seed < 1002; seed++)
        random_fleet(seed, 2000, (int)test_scaled(300), &st);
    cr_assert_geq(st.steps, (uint64_t)(test_scaled(250) * 4000 + 2 * test_scaled(300)));
    cr_assert_eq(st.violations, 0, "B13 violated %llu times", (unsigned long long)st.violations);
    cr_assert_eq(st.mismatches, 0, "books differ from confirmed moves %llu times",
                 (unsigned long long)st.mismatches);
    cr_assert_eq(st.bounds, 0, "%llu VM bound violations", (unsigned long long)st.bounds);
}
