/* Balancer decision trace: every decision the balancer makes over seeded
 * random fleets, under all 7 policies, is folded into one FNV-1a hash per
 * (policy, fleet) and compared with the hash the reference code produced.
 * The run covers reports and missing reports, PSI distress, stops/starts,
 * restarts, resizes, and confirmations that are full, partial, failed or
 * never sent. Any change in an action, a return code or a counter changes
 * a hash, so performance work that must not change behaviour is held to
 * exactly that.
 *
 * Refreshing the hashes (only when a behaviour change is intended and has
 * been reviewed on its own): run this test, e.g.
 *   meson test -C build balancer_trace --verbose
 * each failing case prints "policy P fleet F hash 0x..."; copy the printed
 * values into expected[] below and say in the commit why decisions moved. */
#include <criterion/criterion.h>
#include <dynmem/dynmem.h>
#include <string.h>

#define MIB(x) ((uint64_t)(x) << 20)
#define NPOL 7
#define NFLEET 3
#define MAXVM 400

struct trace {
    uint64_t seed; /* xorshift64 state */
    uint64_t hash; /* FNV-1a */
};

static uint64_t rng(struct trace *t)
{
    t->seed ^= t->seed << 13;
    t->seed ^= t->seed >> 7;
    t->seed ^= t->seed << 17;
    return t->seed;
}

static void mix(struct trace *t, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        t->hash ^= c[i];
        t->hash *= 1099511628211ull;
    }
}

static void mixu(struct trace *t, uint64_t v)
{
    mix(t, &v, sizeof v);
}

static void add_fleet(struct trace *t, dynmem_balancer *b, uint32_t n, uint64_t *ids,
                      uint64_t *dem, struct dynmem_vm_config *cfgs)
{
    for (uint32_t i = 0; i < n; i++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.startup_bytes = MIB(512 + 256 * (rng(t) % 4));
        c.minimum_bytes = MIB(256);
        c.maximum_bytes = MIB(2048 + 512 * (rng(t) % 3));
        c.weight = (uint32_t)(rng(t) % 4 == 0 ? 5000 : rng(t) % 10001);
        uint32_t r = (uint32_t)(rng(t) % 6);
        if (r == 0) {
            c.flags = DYNMEM_VM_DYNAMIC | DYNMEM_VM_CAN_BALLOON;
        } else if (r == 1) {
            c.flags = DYNMEM_VM_DYNAMIC | DYNMEM_VM_CAN_HOT_ADD | DYNMEM_VM_CAN_HOT_REMOVE;
        } else if (r == 2) {
            c.flags = DYNMEM_VM_CAN_BALLOON | DYNMEM_VM_CAN_HOT_ADD;
            c.minimum_bytes = c.maximum_bytes = c.startup_bytes;
        }
        cfgs[i] = c;
        if (dynmem_balancer_vm_add(b, &c, &ids[i])) {
            mixu(t, 999);
            ids[i] = 0;
            continue;
        }
        uint64_t miss = 0;
        mixu(t, dynmem_balancer_vm_start(b, ids[i], 0, &miss));
        mixu(t, miss);
        dem[i] = MIB(100) + rng(t) % MIB(2200);
    }
}

/* One round's guest reports: demand moves now and then, a third of the
 * VMs stay silent, a few report PSI distress. */
static void report_round(struct trace *t, dynmem_balancer *b, uint32_t n, const uint64_t *ids,
                         uint64_t *dem, uint64_t now, bool quiet)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!ids[i])
            continue;
        if (rng(t) % 5 == 0)
            dem[i] = MIB(100) + rng(t) % MIB(2200);
        if (rng(t) % 3 == 0)
            continue;
        /* The quiet variant: one VM in four goes silent for 20 s, long
         * enough to turn stale, and comes back with the same demand. */
        if (quiet && i % 4 == 1 && (now / 500) % 120 >= 70 && (now / 500) % 120 < 110)
            continue;
        struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
        s.time_ms = now;
        s.committed_bytes = dem[i];
        if (rng(t) % 40 == 0) {
            s.flags |= DYNMEM_SAMPLE_HAS_PSI;
            s.psi_some_avg10 = 50;
        }
        mixu(t, dynmem_balancer_vm_sample(b, ids[i], &s));
    }
}

static void lifecycle_round(struct trace *t, dynmem_balancer *b, uint32_t n, const uint64_t *ids,
                            int r, uint64_t now)
{
    if (r % 37 == 0) {
        uint32_t i = (uint32_t)(rng(t) % n);
        if (ids[i]) {
            mixu(t, dynmem_balancer_vm_stop(b, ids[i]));
            uint64_t m = 0;
            mixu(t, dynmem_balancer_vm_start(b, ids[i], now, &m));
            mixu(t, m);
        }
    }
    if (r % 53 == 0) {
        uint32_t i = (uint32_t)(rng(t) % n);
        if (ids[i]) {
            uint64_t p = 0;
            mixu(t, dynmem_balancer_vm_restart(b, ids[i], now, &p));
            mixu(t, p);
        }
    }
    if (r % 41 == 0) {
        uint32_t i = (uint32_t)(rng(t) % n);
        if (ids[i]) {
            uint64_t g = 0;
            mixu(t, dynmem_balancer_vm_resize(b, ids[i], now, MIB(256 + 256 * (rng(t) % 6)), &g));
            mixu(t, g);
        }
    }
}

/* Hashes every action field by field (no padding bytes), then confirms it
 * fully, by half, as failed, or never. */
static void act_round(struct trace *t, dynmem_balancer *b, uint64_t now)
{
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(b, &a) == 1) {
        uint64_t f[] = {a.size, a.kind, a.vm_id, a.action_id, a.bytes, a.target_bytes,
                        a.reason, a.policy, a.demand_bytes, a.assigned_bytes,
                        a.entitled_bytes, a.host_free_bytes, a.weight};
        mix(t, f, sizeof f);
        uint32_t k = (uint32_t)(rng(t) % 10);
        uint64_t by = a.bytes;
        if (k == 0)
            continue;
        if (k == 1)
            by = by / 2 / 4096 * 4096;
        uint32_t fl = DYNMEM_CONFIRM_FINAL | (k == 2 ? DYNMEM_CONFIRM_FAILED : 0);
        if (k == 2)
            by = 0;
        mixu(t, dynmem_balancer_confirm(b, a.vm_id, a.action_id, now, by, fl));
    }
}

/* The quiet variant's changes while running: parameters that shape every
 * VM's figures, and one VM's configuration and window. */
static void change_round(struct trace *t, dynmem_balancer *b, uint32_t n, const uint64_t *ids,
                         struct dynmem_vm_config *cfgs, int r)
{
    if (r == 150)
        mixu(t, dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_STALE_MS, 3000));
    if (r == 230)
        mixu(t, dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_TICK_MS, 2000));
    if (r == 260)
        mixu(t, dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS, 2000));
    if (r == 300 || r == 340) { /* to the next policy and back */
        int64_t p = 0;
        mixu(t, dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_POLICY, &p));
        mixu(t, dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_POLICY,
                                          r == 300 ? (p + 1) % NPOL : (p + NPOL - 1) % NPOL));
    }
    if (r % 45 == 0) {
        uint32_t i = (uint32_t)(rng(t) % n);
        if (ids[i]) {
            struct dynmem_vm_config *c = &cfgs[i];
            if (c->flags & DYNMEM_VM_DYNAMIC) {
                c->maximum_bytes += MIB(512);
                c->buffer_percent = 10 + (uint32_t)(rng(t) % 40);
            }
            mixu(t, dynmem_balancer_vm_configure(b, ids[i], c));
            mixu(t, dynmem_balancer_vm_set_pressure_param(b, ids[i], DYNMEM_PRESSURE_PARAM_STALE_MS,
                                                          (int64_t)(2000 + rng(t) % 6000)));
        }
    }
}

static uint64_t run_case(int pol, int fleet, bool quiet)
{
    struct trace t = {.seed = 1234567 + (uint64_t)pol * 100 + (uint64_t)fleet + (quiet ? 7 : 0),
                      .hash = 1469598103934665603ull};
    dynmem_balancer *b = NULL;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    uint32_t n = fleet == 0 ? 8 : fleet == 1 ? 64 : MAXVM;
    uint64_t total = (uint64_t)n * MIB(2048) * (uint64_t)(4 + fleet) / 10 + MIB(1024);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                           (int64_t)(total / MIB(2) * MIB(2))), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_POLICY, pol), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, 3000), 0);
    uint64_t ids[MAXVM], dem[MAXVM];
    struct dynmem_vm_config cfgs[MAXVM];
    add_fleet(&t, b, n, ids, dem, cfgs);
    for (int r = 1; r <= 400; r++) {
        uint64_t now = (uint64_t)r * 500;
        report_round(&t, b, n, ids, dem, now, quiet);
        lifecycle_round(&t, b, n, ids, r, now);
        if (quiet)
            change_round(&t, b, n, ids, cfgs, r);
        size_t q = 0;
        mixu(&t, dynmem_balancer_tick(b, now, &q));
        mixu(&t, q);
        act_round(&t, b, now);
        mixu(&t, dynmem_balancer_check(b));
        struct dynmem_host_counters hc;
        memset(&hc, 0, sizeof hc);
        hc.size = sizeof hc;
        mixu(&t, dynmem_balancer_host_counters(b, &hc));
        mix(&t, &hc, sizeof hc);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!ids[i])
            continue;
        struct dynmem_vm_counters vc;
        memset(&vc, 0, sizeof vc);
        vc.size = sizeof vc;
        mixu(&t, dynmem_balancer_vm_counters(b, ids[i], &vc));
        mix(&t, &vc, sizeof vc);
    }
    dynmem_balancer_free(b);
    return t.hash;
}

/* Produced by the balancer of main at bb2e136 (before the tick skipped
 * clean VMs and before the hot per-VM array), then refreshed once when
 * the estimator began to learn a VM's assignment with each sample instead
 * of from the tick (which moved only the window counters: average,
 * minimum and maximum pressure; with those three left out, all 42 hashes
 * were the same before and after). */
static const uint64_t expected[NPOL][NFLEET] = {
    {0x407cb2c7e90fab73u, 0xcc893d6df28ddd29u, 0x9beb2c920a8cceb2u},
    {0xc8e2a3a2e93a8f8du, 0x1f9f7b11d54c60abu, 0x5e2373a02749ffd4u},
    {0x5ef8a284d1efc1a0u, 0xb92a691d28774e63u, 0x07a6212fa5181d53u},
    {0x4428a3748ffc4b07u, 0xed5b8e54f7557608u, 0x8a72dd0a8915f030u},
    {0xb009c7bea83eeb20u, 0xaf09b20f9d02f069u, 0x3d5f5859e45087e5u},
    {0xb036ed83401d9305u, 0x2c9ea742bb7fa766u, 0x75b7a793a657fc37u},
    {0x474a34eb02752577u, 0xbd74eb59ffcdb424u, 0xf202be021aea3b4eu},
};

/* The quiet variant's hashes, produced by main at 072e96b (before the
 * tick kept clean VMs' figures; its plain hashes are expected[]), and
 * refreshed with expected[]. */
static const uint64_t expected_quiet[NPOL][NFLEET] = {
    {0x2f7b723a004e3c23u, 0x07edf708a4949449u, 0x4b79ed033523686fu},
    {0x8271c8d2b80ca961u, 0x7c89a794a0444080u, 0xdd482d75c84c8c0du},
    {0x7c09fdc7b4cccaefu, 0x78eb1ba6344bc0cau, 0xe285fd3eecd6a3e0u},
    {0x860267a410922500u, 0x1d2d65e1b2dd002eu, 0x568873cdd37f7ea9u},
    {0xa72743cd356e716bu, 0xa0338028e7ab1303u, 0xebdb130a07d2d6deu},
    {0xd31332cf22cc1db9u, 0x0b3d9534cf4d4cafu, 0x0bbb13530a9ec4e2u},
    {0x637ee7df4e3b89ffu, 0xc9125bc08ea2d540u, 0x7cf663d7dccdc8e0u},
};

static void check_all(const uint64_t (*want)[NFLEET], bool quiet)
{
    int bad = 0;
    for (int pol = 0; pol < NPOL; pol++) {
        for (int fleet = 0; fleet < NFLEET; fleet++) {
            uint64_t h = run_case(pol, fleet, quiet);
            if (h != want[pol][fleet]) {
                cr_log_error("%s policy %d fleet %d hash 0x%016llx (expected 0x%016llx)",
                             quiet ? "quiet" : "plain", pol, fleet, (unsigned long long)h,
                             (unsigned long long)want[pol][fleet]);
                bad++;
            }
        }
    }
    cr_expect_eq(bad, 0, "%d of %d decision traces changed", bad, NPOL * NFLEET);
}

Test(balancer_trace, every_policy_decides_as_before)
{
    check_all(expected, false);
}

/* VMs silent long enough to turn stale and back, parameter changes that
 * shape every VM's figures, configuration and estimator changes of running
 * VMs: what a tick that keeps the figures of VMs with nothing new must
 * notice. */
Test(balancer_trace, quiet_and_reconfigured_vms_decide_as_before)
{
    check_all(expected_quiet, true);
}
