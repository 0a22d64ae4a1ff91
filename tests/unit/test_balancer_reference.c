/* The fast tick against the reference tick (dynmem__bal_set_reference):
 * two balancers, one taking the fast path with its shortcuts (clean VMs
 * kept from the last tick, assignment-only updates, the marked planning
 * pass, the running count of memory in use, prefetch hints), the other
 * recomputing every decision plainly, get the same random fleet and the
 * same random stream of calls: samples, ticks at odd times, confirmations
 * (whole, partial, failed, late, never), starts, stops, restarts, removals,
 * new VMs, configuration changes, resizes, policy and setting changes.
 * Every call must return the same code and outputs, every queued action
 * must be the same field by field, and after every step every VM's and the
 * host's counters must be equal. The first difference fails with the seed
 * and the step; DYNMEM_REFERENCE_SEED replays one seed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balancer_internal.h"
#include "splitmix.h"
#include "testscale.h"

#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)
#define MAX_VMS 48

/* QUIET guests report in spells with long silences (their figures go
 * stale and come back). */
enum guest { COOPERATIVE, HALF, REFUSES, SLOW, SILENT, NO_DRIVER, QUIET };

/* What the twin knows of one VM: its id (the same in both balancers), its
 * workload, and the action it is carrying out. */
struct tvm {
    uint64_t id;
    bool added, running;
    enum guest guest;
    uint64_t demand, next_sample_ms;
    struct dynmem_action act; /* kind 0: none */
    uint64_t act_done, act_due_ms;
};

struct twin {
    dynmem_balancer *b[2]; /* fast, reference */
    struct tvm vm[MAX_VMS];
    int n;
    uint64_t rng, seed, step, now;
    uint64_t actions, ticks;
};

static uint64_t below(struct twin *t, uint64_t n)
{
    return n ? splitmix_next(&t->rng) % n : 0;
}

#define SAME(a, b, what)                                                                       \
    cr_assert_eq((a), (b), "seed %llu step %llu: %s differs (fast %lld, reference %lld)",    \
                 (unsigned long long)t->seed, (unsigned long long)t->step, what,              \
                 (long long)(a), (long long)(b))

/* Each call goes to both balancers; the results must match. The call is
 * evaluated once per balancer: draw its random arguments before. */
#define BOTH(rc_out, call)                                                                     \
    do {                                                                                       \
        int rc_[2];                                                                            \
        for (int k_ = 0; k_ < 2; k_++) {                                                       \
            dynmem_balancer *bb = t->b[k_];                                                    \
            rc_[k_] = (call);                                                                  \
        }                                                                                      \
        SAME(rc_[0], rc_[1], #call);                                                           \
        rc_out = rc_[0];                                                                       \
    } while (0)

static struct dynmem_vm_config random_config(struct twin *t)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.minimum_bytes = MIB(128) * (1 + below(t, 8));
    c.startup_bytes = c.minimum_bytes + MIB(256) * below(t, 8);
    c.maximum_bytes = c.startup_bytes + MIB(512) * below(t, 10);
    c.buffer_percent = (uint32_t)(5 + below(t, 4) * 25);
    c.weight = (uint32_t)(below(t, 3) ? below(t, 10001) : 5000);
    c.hot_add_alignment_bytes = MIB(2) << below(t, 7);
    if (below(t, 4) == 0)
        c.flags |= DYNMEM_VM_CAN_HOT_REMOVE;
    if (below(t, 10) == 0)
        c.flags &= ~(uint32_t)DYNMEM_VM_CAN_HOT_ADD;
    if (below(t, 8) == 0) {
        c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
        c.minimum_bytes = c.maximum_bytes = c.startup_bytes;
    }
    return c;
}

static void add_vm(struct twin *t, int i)
{
    struct dynmem_vm_config c = random_config(t);
    uint64_t ids[2] = {0, 0};
    int rc;
    BOTH(rc, dynmem_balancer_vm_add(bb, &c, &ids[k_]));
    cr_assert_eq(rc, 0);
    SAME(ids[0], ids[1], "vm id");
    uint64_t g = below(t, 24);
    t->vm[i] = (struct tvm){.id = ids[0], .added = true,
                            .guest = g < 12 ? COOPERATIVE : g < 14 ? HALF : g < 15 ? REFUSES
                                   : g < 17 ? SLOW : g < 18 ? SILENT : g < 19 ? NO_DRIVER
                                   : QUIET};
}

static void compare_counters(struct twin *t)
{
    for (int i = 0; i < t->n; i++) {
        if (!t->vm[i].added)
            continue;
        struct dynmem_vm_counters c[2] = {DYNMEM_VM_COUNTERS_INIT, DYNMEM_VM_COUNTERS_INIT};
        int rc;
        BOTH(rc, dynmem_balancer_vm_counters(bb, t->vm[i].id, &c[k_]));
        cr_assert_eq(rc, 0);
        cr_assert(memcmp(&c[0], &c[1], sizeof c[0]) == 0,
                  "seed %llu step %llu: counters of VM %d differ (physical %llu/%llu, demand "
                  "%llu/%llu, target %llu/%llu, pressure %u/%u)",
                  (unsigned long long)t->seed, (unsigned long long)t->step, i,
                  (unsigned long long)c[0].physical_bytes, (unsigned long long)c[1].physical_bytes,
                  (unsigned long long)c[0].demand_bytes, (unsigned long long)c[1].demand_bytes,
                  (unsigned long long)c[0].target_bytes, (unsigned long long)c[1].target_bytes,
                  c[0].current_pressure, c[1].current_pressure);
    }
    struct dynmem_host_counters h[2] = {DYNMEM_HOST_COUNTERS_INIT, DYNMEM_HOST_COUNTERS_INIT};
    int rc;
    BOTH(rc, dynmem_balancer_host_counters(bb, &h[k_]));
    cr_assert_eq(rc, 0);
    cr_assert(memcmp(&h[0], &h[1], sizeof h[0]) == 0,
              "seed %llu step %llu: host counters differ", (unsigned long long)t->seed,
              (unsigned long long)t->step);
    BOTH(rc, dynmem_balancer_check(bb));
    cr_assert_eq(rc, 0);
}

/* Takes every queued action from both: the same, field by field. */
static void take_actions(struct twin *t)
{
    for (;;) {
        struct dynmem_action a[2] = {DYNMEM_ACTION_INIT, DYNMEM_ACTION_INIT};
        int rc;
        BOTH(rc, dynmem_balancer_next_action(bb, &a[k_]));
        if (rc != 1)
            break;
        cr_assert(memcmp(&a[0], &a[1], sizeof a[0]) == 0,
                  "seed %llu step %llu: actions differ (vm %llu: %s %llu vs %s %llu bytes, "
                  "reason %u vs %u, entitled %llu vs %llu)",
                  (unsigned long long)t->seed, (unsigned long long)t->step,
                  (unsigned long long)a[0].vm_id, dynmem_action_kind_name(a[0].kind),
                  (unsigned long long)a[0].bytes, dynmem_action_kind_name(a[1].kind),
                  (unsigned long long)a[1].bytes, a[0].reason, a[1].reason,
                  (unsigned long long)a[0].entitled_bytes,
                  (unsigned long long)a[1].entitled_bytes);
        t->actions++;
        for (int i = 0; i < t->n; i++)
            if (t->vm[i].added && t->vm[i].id == a[0].vm_id) {
                struct tvm *v = &t->vm[i];
                v->act = a[0];
                v->act_done = 0;
                v->act_due_ms = t->now + (v->guest == SLOW ? 500 + below(t, 8000) : below(t, 800));
            }
    }
}

/* The backend: each VM's guest answers its action when it is due. */
static void backend(struct twin *t)
{
    for (int i = 0; i < t->n; i++) {
        struct tvm *v = &t->vm[i];
        if (!v->act.kind || t->now < v->act_due_ms || v->guest == SILENT ||
            v->guest == NO_DRIVER)
            continue;
        uint64_t left = v->act.bytes - v->act_done, bytes = left;
        uint32_t flags = DYNMEM_CONFIRM_FINAL;
        if (v->guest == HALF)
            bytes = left / 2 / 4096 * 4096;
        else if (v->guest == REFUSES)
            bytes = 0, flags |= DYNMEM_CONFIRM_FAILED;
        else if (below(t, 4) == 0 && left >= MIB(4))
            bytes = left / 2 / 4096 * 4096, flags = 0; /* a piece; the rest later */
        int rc;
        BOTH(rc, dynmem_balancer_confirm(bb, v->id, v->act.action_id, t->now, bytes, flags));
        cr_assert_eq(rc, 0, "seed %llu step %llu: confirm refused", (unsigned long long)t->seed,
                     (unsigned long long)t->step);
        v->act_done += bytes;
        if (flags & DYNMEM_CONFIRM_FINAL)
            v->act.kind = 0;
        else
            v->act_due_ms = t->now + below(t, 1500);
    }
}

static void sample(struct twin *t, struct tvm *v)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = t->now;
    s.committed_bytes = v->demand;
    if (below(t, 3) == 0) {
        s.available_bytes = MIB(1) * below(t, 2000);
        s.flags |= DYNMEM_SAMPLE_HAS_AVAILABLE;
    }
    int rc;
    BOTH(rc, dynmem_balancer_vm_sample(bb, v->id, &s));
    (void)rc;
}

/* Workloads: demands step, ramp and wander; a report every second or so. */
static void workloads(struct twin *t)
{
    for (int i = 0; i < t->n; i++) {
        struct tvm *v = &t->vm[i];
        if (!v->added || !v->running || v->guest == NO_DRIVER)
            continue;
        uint64_t r = below(t, 100);
        if (r < 3)
            v->demand = MIB(1) * below(t, 6000);
        else if (r < 30)
            v->demand += MIB(1) * below(t, 64);
        else if (r < 40 && v->demand > MIB(64))
            v->demand -= MIB(1) * below(t, 64);
        if (t->now >= v->next_sample_ms) {
            sample(t, v);
            v->next_sample_ms = t->now + 700 + below(t, 900);
            if (v->guest == QUIET && below(t, 10) == 0)
                v->next_sample_ms += 2000 + below(t, 30000);
        }
    }
}

static void life(struct twin *t, int i)
{
    struct tvm *v = &t->vm[i];
    int rc;
    uint64_t out[2] = {0, 0};
    if (!v->added) {
        add_vm(t, i);
        return;
    }
    switch (below(t, 8)) {
    case 0:
    case 1:
        BOTH(rc, dynmem_balancer_vm_start(bb, v->id, t->now, &out[k_]));
        SAME(out[0], out[1], "missing bytes");
        if (rc == 0) {
            v->running = true;
            v->demand = MIB(64) * (1 + below(t, 40));
            v->act.kind = 0;
        }
        break;
    case 2:
        BOTH(rc, dynmem_balancer_vm_stop(bb, v->id));
        if (rc == 0)
            v->running = false, v->act.kind = 0;
        break;
    case 3:
        BOTH(rc, dynmem_balancer_vm_restart(bb, v->id, t->now, &out[k_]));
        SAME(out[0], out[1], "paged bytes");
        if (rc == 0)
            v->act.kind = 0;
        else if (rc == DYNMEM_ERR_ADMISSION)
            v->running = false, v->act.kind = 0;
        break;
    case 4:
        BOTH(rc, dynmem_balancer_vm_remove(bb, v->id));
        if (rc == 0)
            v->added = false;
        break;
    case 5: {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c = random_config(t);
        BOTH(rc, dynmem_balancer_vm_configure(bb, v->id, &c));
        break;
    }
    case 6: {
        uint64_t bytes = MIB(2) * (1 + below(t, 3000));
        BOTH(rc, dynmem_balancer_vm_resize(bb, v->id, t->now, bytes, &out[k_]));
        SAME(out[0], out[1], "granted bytes");
        break;
    }
    default: {
        int64_t window = (int64_t)(10000 + below(t, 100000));
        BOTH(rc, dynmem_balancer_vm_set_pressure_param(bb, v->id, DYNMEM_PRESSURE_PARAM_WINDOW_MS,
                                                       window));
        break;
    }
    }
}

/* Any host-wide setting, to a value in its range. */
static void host_setting(struct twin *t)
{
    static const enum dynmem_balancer_param params[] = {
        DYNMEM_BALANCER_PARAM_POLICY,           DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS,
        DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
        DYNMEM_BALANCER_PARAM_STALE_MS,         DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS,
        DYNMEM_BALANCER_PARAM_DEADBAND_BYTES,   DYNMEM_BALANCER_PARAM_MAX_GROW_PER_TICK_BYTES,
        DYNMEM_BALANCER_PARAM_MAX_SHRINK_PER_TICK_BYTES, DYNMEM_BALANCER_PARAM_TICK_MS};
    uint64_t which = below(t, 10);
    int64_t values[] = {(int64_t)below(t, 7),
                        (int64_t)below(t, 30000),
                        (int64_t)(MIB(512) * below(t, 4)),
                        (int64_t)(GIB(4) + GIB(2) * below(t, 12)),
                        (int64_t)(1000 + below(t, 20000)),
                        (int64_t)(1000 + below(t, 20000)),
                        (int64_t)(MIB(2) * below(t, 64)),
                        (int64_t)(MIB(2) * below(t, 512)),
                        (int64_t)(MIB(2) * below(t, 512)),
                        (int64_t)(500 + below(t, 3000))};
    int rc;
    BOTH(rc, dynmem_balancer_set_param(bb, params[which], values[which]));
    (void)rc;
}

static void step(struct twin *t)
{
    t->now += below(t, 4) ? 1000 : below(t, 3000);
    workloads(t);
    uint64_t r = below(t, 100);
    if (r < 6)
        life(t, (int)below(t, (uint64_t)t->n));
    else if (r == 6 && below(t, 4) == 0)
        host_setting(t);
    backend(t);
    int rc;
    size_t q[2] = {0, 0};
    BOTH(rc, dynmem_balancer_tick(bb, t->now, &q[k_]));
    SAME(q[0], q[1], "queued actions");
    t->ticks += rc == 0;
    take_actions(t);
    compare_counters(t);
}

/* Returns the actions the run compared. */
static uint64_t run(uint64_t seed, int nvms, uint64_t steps)
{
    struct twin *t = calloc(1, sizeof *t);
    cr_assert_not_null(t);
    t->seed = t->rng = seed;
    t->n = nvms;
    t->now = 1000;
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(dynmem_balancer_new(&t->b[k], NULL), 0);
        cr_assert_eq(dynmem_balancer_set_param(t->b[k], DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                               (int64_t)(GIB(2) + GIB(1) * (seed % 24))), 0);
        cr_assert_eq(dynmem_balancer_set_param(t->b[k], DYNMEM_BALANCER_PARAM_POLICY,
                                               (int64_t)(seed % 7)), 0);
    }
    dynmem__bal_set_reference(t->b[1], true);
    for (int i = 0; i < nvms; i++)
        add_vm(t, i);
    for (int i = 0; i < nvms; i++) {
        int rc;
        uint64_t missing[2];
        BOTH(rc, dynmem_balancer_vm_start(bb, t->vm[i].id, t->now, &missing[k_]));
        t->vm[i].running = rc == 0;
        t->vm[i].demand = MIB(64) * (1 + below(t, 40));
    }
    for (t->step = 0; t->step < steps; t->step++)
        step(t);
    uint64_t actions = t->actions;
    dynmem_balancer_free(t->b[0]);
    dynmem_balancer_free(t->b[1]);
    free(t);
    return actions;
}

Test(balancer_reference, fast_tick_equals_reference_tick, .timeout = 600)
{
    const char *one = getenv("DYNMEM_REFERENCE_SEED");
    if (one && *one) {
        uint64_t seed = strtoull(one, NULL, 0);
        run(seed, 1 + (int)(seed % MAX_VMS), 3000);
        return;
    }
    /* 56 fleets of 1 to 48 VMs, every policy; 3000 ticks each. Static
     * fleets move memory only by resizes; the others must act. */
    long fleets = test_scaled(56);
    uint64_t actions[7] = {0};
    for (uint64_t seed = 1; seed <= (uint64_t)fleets; seed++)
        actions[seed % 7] += run(seed, 1 + (int)(seed * 7 % MAX_VMS), (uint64_t)test_scaled(3000));
    for (int p = 0; p < 7; p++)
        if (fleets >= 7 && p != DYNMEM_POLICY_STATIC)
            cr_assert_gt(actions[p], 100, "policy %s decided almost nothing", dynmem_policy_name((uint32_t)p));
}

/* The comparison can fail: a fast balancer that misses a change the
 * reference sees (a sample whose VM is wrongly left clean) must differ. */
Test(balancer_reference, a_stale_cache_is_caught)
{
    struct twin *t = calloc(1, sizeof *t);
    cr_assert_not_null(t);
    t->seed = 0;
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(dynmem_balancer_new(&t->b[k], NULL), 0);
        cr_assert_eq(dynmem_balancer_set_param(t->b[k], DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                               (int64_t)GIB(16)), 0);
    }
    dynmem__bal_set_reference(t->b[1], true);
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = GIB(2);
    c.minimum_bytes = MIB(512);
    c.maximum_bytes = GIB(8);
    uint64_t id[2];
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(dynmem_balancer_vm_add(t->b[k], &c, &id[k]), 0);
        cr_assert_eq(dynmem_balancer_vm_start(t->b[k], id[k], 1000, NULL), 0);
    }
    t->now = 1000;
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    for (int sec = 0; sec < 5; sec++) {
        t->now += 1000;
        s.time_ms = t->now;
        s.committed_bytes = GIB(1);
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(dynmem_balancer_vm_sample(t->b[k], id[k], &s), 0);
            cr_assert_eq(dynmem_balancer_tick(t->b[k], t->now, NULL), 0);
        }
    }
    /* Demand triples; the fast balancer's VM is marked clean behind its back. */
    t->now += 1000;
    s.time_ms = t->now;
    s.committed_bytes = GIB(3);
    for (int k = 0; k < 2; k++)
        cr_assert_eq(dynmem_balancer_vm_sample(t->b[k], id[k], &s), 0);
    struct vm *v = dynmem__bal_vm(t->b[0], id[0]);
    v->clean = true;
    v->dirty = false;
    for (int k = 0; k < 2; k++)
        cr_assert_eq(dynmem_balancer_tick(t->b[k], t->now, NULL), 0);
    struct dynmem_action a[2] = {DYNMEM_ACTION_INIT, DYNMEM_ACTION_INIT};
    int got0 = dynmem_balancer_next_action(t->b[0], &a[0]);
    int got1 = dynmem_balancer_next_action(t->b[1], &a[1]);
    cr_assert(got0 != got1 || memcmp(&a[0], &a[1], sizeof a[0]) != 0,
              "a fast tick that skipped the new report decided as the reference did");
    dynmem_balancer_free(t->b[0]);
    dynmem_balancer_free(t->b[1]);
    free(t);
}
