/* Host and guest sessions against each other through the real codec:
 * the handshake for each version, balloon, unballoon, hot-add, hot-remove,
 * partial and failed answers, timeouts, resets, target changes during a
 * transaction, actions with ids, status reports. After every scenario the
 * host's books must equal the guest's. */
#include <criterion/criterion.h>

#include "sesspair.h"

static struct sesspair P;

static void setup_plain(void)
{
    cr_assert_eq(sesspair_init(&P, 4 * GIB_PAGES, 32 * GIB_PAGES, 32 * GIB_PAGES, NULL), 0);
}

static void teardown(void)
{
    sesspair_fini(&P);
}

TestSuite(session, .init = setup_plain, .fini = teardown);

static uint32_t host_version(void)
{
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_session_host_counters(P.h, &c), 0);
    return c.version;
}

static void handshake_at(int64_t host_max, uint32_t expect)
{
    cr_assert_eq(dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_VERSION_MAX, host_max), 0);
    sesspair_connect(&P);
    cr_assert_eq(host_version(), expect);
    cr_assert_eq(dynmem_session_guest_version(P.g), expect);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_IDLE);
}

Test(session, handshake_2_0)
{
    dynmem_session_host_open(P.h, 0);
    dynmem_session_guest_connect(P.g, 0);
    sesspair_pump(&P);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_POST_INIT);
    uint64_t d = 0;
    cr_assert_eq(dynmem_session_host_next_deadline(P.h, &d), 1);
    cr_assert_eq(d, 50000);
    sesspair_run(&P, 49999);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_POST_INIT);
    sesspair_run(&P, 50000);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_IDLE);
    cr_assert_eq(host_version(), DYNMEM_PROTO_VERSION_WIN10);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    uint32_t kinds = 0;
    while (dynmem_session_host_next_event(P.h, &ev) == 1)
        kinds |= 1u << ev.kind;
    cr_assert(kinds & (1u << DYNMEM_SESSION_EVENT_VERSION));
    cr_assert(kinds & (1u << DYNMEM_SESSION_EVENT_CAPS));
    cr_assert(kinds & (1u << DYNMEM_SESSION_EVENT_READY));
    cr_assert_eq(P.host_rc, 0);
}

Test(session, handshake_1_0)
{
    handshake_at(DYNMEM_PROTO_VERSION_WIN8, DYNMEM_PROTO_VERSION_WIN8);
}

Test(session, handshake_0_3)
{
    handshake_at(DYNMEM_PROTO_VERSION_WIN7, DYNMEM_PROTO_VERSION_WIN7);
}

Test(session, handshake_guest_starts_at_1_0)
{
    cr_assert_eq(dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST,
                                                DYNMEM_PROTO_VERSION_WIN8), 0);
    sesspair_connect(&P);
    cr_assert_eq(host_version(), DYNMEM_PROTO_VERSION_WIN8);
}

Test(session, handshake_fails_when_host_wants_more)
{
    cr_assert_eq(dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_VERSION_MIN,
                                               DYNMEM_PROTO_VERSION_WIN10), 0);
    cr_assert_eq(dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST,
                                                DYNMEM_PROTO_VERSION_WIN8), 0);
    sesspair_connect(&P);
    cr_assert_eq(host_version(), 0);
    cr_assert_eq(dynmem_session_guest_version(P.g), 0);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    int failed = 0;
    while (dynmem_session_guest_next_event(P.g, &ev) == 1)
        failed |= ev.kind == DYNMEM_SESSION_EVENT_FAILED && ev.error == DYNMEM_ERR_SESSION_REJECTED;
    cr_assert(failed);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_VERSION);
}

Test(session, balloon_to_target)
{
    sesspair_connect(&P);
    sesspair_drain(&P, NULL, NULL);
    cr_assert_eq(dynmem_session_host_set_target(P.h, P.now, UINT64_C(3) << 30), 0);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), 3 * GIB_PAGES);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), GIB_PAGES);
    cr_assert(sesspair_books_agree(&P));
    uint64_t bytes = 0;
    uint32_t flags = 0;
    sesspair_drain(&P, &bytes, &flags);
    cr_assert_eq(bytes, UINT64_C(1) << 30);
    cr_assert(flags & DYNMEM_SESSION_FLAG_FINAL);
    cr_assert_not(flags & DYNMEM_SESSION_FLAG_FAILED);
    cr_assert_eq(P.host_rc, 0);
}

Test(session, balloon_in_chunks_of_585728_pages)
{
    sesspair_connect(&P);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0);
    cr_assert_eq(dynmem_session_host_set_target(P.h, P.now, UINT64_C(1) << 30), 0);
    sesspair_pump(&P);
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    dynmem_session_host_counters(P.h, &c);
    cr_assert_eq(c.transactions, 2);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), GIB_PAGES);
    cr_assert(sesspair_books_agree(&P));
}

Test(session, balloon_partial_at_the_floor)
{
    sesspair_connect(&P);
    sesspair_drain(&P, NULL, NULL);
    /* 4 GiB guest: Linux floor 488 MiB; the guest uses 3 GiB itself. */
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES, 3 * GIB_PAGES);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(1) << 30);
    sesspair_pump(&P);
    uint64_t ballooned = sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED);
    cr_assert_eq(ballooned, GIB_PAGES - 488 * MIB_PAGES);
    cr_assert(sesspair_books_agree(&P));
    uint32_t flags = 0;
    sesspair_drain(&P, NULL, &flags);
    cr_assert(flags & DYNMEM_SESSION_FLAG_PARTIAL);
    /* Stalled: no new request until the target changes. */
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_IDLE);
}

Test(session, unballoon_then_hot_add)
{
    sesspair_connect(&P);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(3) << 30);
    sesspair_pump(&P);
    sesspair_drain(&P, NULL, NULL);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(6) << 30);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_ADDED), 2 * GIB_PAGES);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), 6 * GIB_PAGES);
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_memory(P.g)), 6 * GIB_PAGES);
    cr_assert(sesspair_books_agree(&P));
    cr_assert_eq(P.host_rc, 0);
    cr_assert_eq(P.guest_rc, 0);
}

Test(session, hot_add_in_chunks)
{
    sesspair_connect(&P);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(9) << 30);
    sesspair_pump(&P);
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    dynmem_session_host_counters(P.h, &c);
    cr_assert_eq(c.transactions, 3); /* 2 GiB, 2 GiB, 1 GiB */
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_ADDED), 5 * GIB_PAGES);
}

static int half_hot_add(void *ud, uint64_t now, uint64_t start, uint64_t count, uint64_t *added,
                        uint32_t *result)
{
    (void)ud; (void)now; (void)start;
    *added = count / 2;
    *result = 1;
    return 0;
}

Test(session, hot_add_partial_gives_up_the_window)
{
    sesspair_connect(&P);
    sesspair_drain(&P, NULL, NULL);
    dynmem_session_guest_set_hot_add_fn(P.g, half_hot_add, NULL);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(6) << 30);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_ADDED), GIB_PAGES);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_REMAINING), 0);
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_memory(P.g)), 5 * GIB_PAGES);
    uint64_t bytes = 0;
    uint32_t flags = 0;
    sesspair_drain(&P, &bytes, &flags);
    cr_assert_eq(bytes, UINT64_C(1) << 30);
    cr_assert(flags & DYNMEM_SESSION_FLAG_PARTIAL);
}

static int refuse_hot_add(void *ud, uint64_t now, uint64_t start, uint64_t count, uint64_t *added,
                          uint32_t *result)
{
    (void)ud; (void)now; (void)start; (void)count;
    *added = 0;
    *result = *(uint32_t *)ud;
    return 0;
}

Test(session, hot_add_permanent_and_transient_failure)
{
    uint32_t result = 1;
    sesspair_connect(&P);
    sesspair_drain(&P, NULL, NULL);
    dynmem_session_guest_set_hot_add_fn(P.g, refuse_hot_add, &result);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(6) << 30);
    sesspair_pump(&P);
    uint32_t flags = 0;
    sesspair_drain(&P, NULL, &flags);
    cr_assert(flags & DYNMEM_SESSION_FLAG_PERMANENT);
    cr_assert(flags & DYNMEM_SESSION_FLAG_FAILED);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_ADDED), 0);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), 4 * GIB_PAGES);
    /* After a system reset the window is usable again; a transient failure. */
    dynmem_session_host_reset(P.h, P.now, DYNMEM_SESSION_RESET_SYSTEM);
    dynmem_session_guest_reset(P.g, P.now, DYNMEM_SESSION_RESET_SYSTEM);
    result = 0;
    sesspair_drain(&P, NULL, NULL);
    sesspair_connect(&P); /* the target survived: the hot-add is retried */
    flags = 0;
    sesspair_drain(&P, NULL, &flags);
    cr_assert(flags & DYNMEM_SESSION_FLAG_FAILED);
    cr_assert_not(flags & DYNMEM_SESSION_FLAG_PERMANENT);
}

Test(session, hot_remove_for_capable_guests)
{
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE, 1);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0);
    dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_PREFER_HOT_REMOVE, 1);
    sesspair_connect(&P);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(3) << 30);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_REMOVED), GIB_PAGES);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_VISIBLE), 3 * GIB_PAGES);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_memory(P.g)), 3 * GIB_PAGES);
    cr_assert(sesspair_books_agree(&P));
}

Test(session, hot_remove_not_used_on_1_0)
{
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE, 1);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0);
    dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_PREFER_HOT_REMOVE, 1);
    dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_VERSION_MAX, DYNMEM_PROTO_VERSION_WIN8);
    sesspair_connect(&P);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(3) << 30);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_REMOVED), 0);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), GIB_PAGES);
}

static int silent(void *ud, uint64_t now, uint64_t wanted, struct dynmem_proto_range *r)
{
    (void)ud; (void)now; (void)wanted; (void)r;
    return -1;
}

Test(session, reply_timeout_ends_the_transaction)
{
    sesspair_connect(&P);
    sesspair_drain(&P, NULL, NULL);
    dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS, 5000);
    dynmem_session_guest_set_balloon_fn(P.g, silent, NULL);
    uint64_t t0 = P.now;
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(3) << 30);
    sesspair_pump(&P);
    uint64_t d = 0;
    cr_assert_eq(dynmem_session_host_next_deadline(P.h, &d), 1);
    cr_assert_eq(d, t0 + 5000);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS, 0);
    P.now = t0 + 5000;
    dynmem_session_host_tick(P.h, P.now);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_IDLE);
    uint32_t flags = 0;
    sesspair_drain(&P, NULL, &flags);
    cr_assert(flags & DYNMEM_SESSION_FLAG_TIMED_OUT);
    cr_assert(flags & DYNMEM_SESSION_FLAG_FAILED);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(dynmem_session_host_next_deadline(P.h, &d), 0);
}

Test(session, target_changed_mid_transaction)
{
    sesspair_connect(&P);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(3) << 30);
    /* The request is queued; change the target before the guest answers. */
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(2) << 30);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_BALLOON);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), 2 * GIB_PAGES);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(5) << 30);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(4) << 30);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), 4 * GIB_PAGES);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_ADDED), 0);
    cr_assert(sesspair_books_agree(&P));
}

Test(session, action_facts_carry_the_id)
{
    sesspair_connect(&P);
    sesspair_drain(&P, NULL, NULL);
    cr_assert_eq(dynmem_session_host_start_action(P.h, P.now, DYNMEM_ACTION_BALLOON,
                                                  UINT64_C(512) << 20, 42), 0);
    sesspair_pump(&P);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    uint64_t bytes = 0;
    int finals = 0;
    while (dynmem_session_host_next_event(P.h, &ev) == 1) {
        if (ev.kind != DYNMEM_SESSION_EVENT_FACT)
            continue;
        cr_assert_eq(ev.action_id, 42);
        cr_assert_eq(ev.action_kind, DYNMEM_ACTION_BALLOON);
        bytes += ev.bytes;
        finals += !!(ev.flags & DYNMEM_SESSION_FLAG_FINAL);
        if (ev.flags & DYNMEM_SESSION_FLAG_FINAL)
            cr_assert_not(ev.flags & DYNMEM_SESSION_FLAG_FAILED);
    }
    cr_assert_eq(bytes, UINT64_C(512) << 20);
    cr_assert_eq(finals, 1);
    cr_assert_eq(dynmem_session_host_start_action(P.h, P.now, DYNMEM_ACTION_UNBALLOON,
                                                  UINT64_C(256) << 20, 43), 0);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), 256 * MIB_PAGES);
    cr_assert(sesspair_books_agree(&P));
}

/* Actions down, facts up: a balancer drives the VM through the host
 * session for five minutes; every fact is accepted, and the balancer's
 * count of the VM's memory ends equal to the memory map's. */
Test(session, balancer_end_to_end)
{
    dynmem_balancer *b = NULL;
    uint64_t vm = 0;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                           (int64_t)(UINT64_C(16) << 30)), 0);
    struct dynmem_vm_config cfg = DYNMEM_VM_CONFIG_INIT;
    cfg.startup_bytes = UINT64_C(4) << 30;
    cfg.minimum_bytes = UINT64_C(1) << 30;
    cfg.maximum_bytes = UINT64_C(8) << 30;
    cfg.hot_add_alignment_bytes = UINT64_C(128) << 20;
    cr_assert_eq(dynmem_balancer_vm_add(b, &cfg, &vm), 0);
    cr_assert_eq(dynmem_balancer_vm_start(b, vm, P.now, NULL), 0);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS, 0);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES, GIB_PAGES / 2);
    sesspair_connect(&P);
    uint64_t actions = 0;
    for (int sec = 0; sec < 300; sec++) {
        if (sec == 150) /* the guest gets busy */
            dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES, 5 * GIB_PAGES);
        sesspair_run(&P, P.now + 1000);
        struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
        while (dynmem_session_host_next_event(P.h, &ev) == 1) {
            if (ev.kind == DYNMEM_SESSION_EVENT_STATUS) {
                struct dynmem_pressure_sample smp;
                dynmem_pressure_sample_init(&smp, sizeof smp);
                cr_assert_eq(dynmem_session_event_to_pressure_sample(&smp, &ev), 0);
                cr_assert_eq(dynmem_balancer_vm_sample(b, vm, &smp), 0);
            } else if (ev.kind == DYNMEM_SESSION_EVENT_FACT && ev.action_id) {
                cr_assert_eq(dynmem_balancer_confirm(b, vm, ev.action_id, ev.time_ms, ev.bytes,
                                                     ev.flags & (DYNMEM_CONFIRM_FINAL |
                                                                 DYNMEM_CONFIRM_FAILED)), 0);
            }
        }
        cr_assert_eq(dynmem_balancer_tick(b, P.now, NULL), 0);
        struct dynmem_action a = DYNMEM_ACTION_INIT;
        while (dynmem_balancer_next_action(b, &a) == 1) {
            actions++;
            cr_assert_eq(dynmem_session_host_start_action(P.h, P.now, a.kind, a.bytes,
                                                          a.action_id), 0);
        }
        sesspair_pump(&P);
        cr_assert_eq(dynmem_balancer_check(b), 0);
        cr_assert(sesspair_books_agree(&P));
    }
    cr_assert_gt(actions, 1);
    struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
    cr_assert_eq(dynmem_balancer_vm_counters(b, vm, &c), 0);
    cr_assert_eq(c.in_flight_bytes, 0);
    cr_assert_eq(c.physical_bytes, sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT) << 12);
    cr_assert_gt(c.remove_operations, 0);
    cr_assert_gt(c.add_operations, 0);
    cr_assert_gt(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), 5 * GIB_PAGES);
    dynmem_balancer_free(b);
}

Test(session, status_reports_reach_the_host)
{
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS, 0);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES, GIB_PAGES);
    sesspair_connect(&P);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    int seen = 0;
    while (dynmem_session_host_next_event(P.h, &ev) == 1) {
        if (ev.kind != DYNMEM_SESSION_EVENT_STATUS)
            continue;
        seen++;
        cr_assert_eq(ev.status.num_committed, GIB_PAGES + 488 * MIB_PAGES);
        struct dynmem_pressure_sample s;
        cr_assert_eq(dynmem_pressure_sample_init(&s, sizeof s), 0);
        cr_assert_eq(dynmem_session_event_to_pressure_sample(&s, &ev), 0);
    }
    cr_assert_eq(seen, 1); /* the latest report replaces an unread one */
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    dynmem_session_host_counters(P.h, &c);
    cr_assert_geq(c.status_reports, 50);
    cr_assert_eq(c.status_flood, 0);
}

/* The guest counts its ballooned pages in num_committed; the sample must not,
 * or every page ballooned out would come back as demand. */
Test(session, status_sample_leaves_the_balloon_out)
{
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS, 0);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES, GIB_PAGES / 4);
    sesspair_connect(&P);
    cr_assert_eq(dynmem_session_host_start_action(P.h, P.now, DYNMEM_ACTION_BALLOON,
                                                  (64 * MIB_PAGES) << 12, 1), 0);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), 64 * MIB_PAGES);
    sesspair_drain(&P, NULL, NULL);
    sesspair_run(&P, P.now + 2000);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT, last = ev;
    while (dynmem_session_host_next_event(P.h, &ev) == 1)
        if (ev.kind == DYNMEM_SESSION_EVENT_STATUS)
            last = ev;
    cr_assert_eq(last.kind, DYNMEM_SESSION_EVENT_STATUS);
    cr_assert_eq(last.bytes, (64 * MIB_PAGES) << 12, "the host's balloon rides on the event");
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    cr_assert_eq(dynmem_session_event_to_pressure_sample(&s, &last), 0);
    cr_assert_eq(s.committed_bytes, (last.status.num_committed << 12) - last.bytes);
    /* A balloon above the report (a hostile or confused guest) gives 0, not a wrap. */
    last.bytes = (last.status.num_committed << 12) + 4096;
    cr_assert_eq(dynmem_session_event_to_pressure_sample(&s, &last), 0);
    cr_assert_eq(s.committed_bytes, 0);
}

Test(session, vmbus_reset_returns_the_balloon)
{
    sesspair_connect(&P);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(3) << 30);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), GIB_PAGES);
    dynmem_session_host_reset(P.h, P.now, DYNMEM_SESSION_RESET_VMBUS);
    dynmem_session_guest_reset(P.g, P.now, DYNMEM_SESSION_RESET_VMBUS);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert(sesspair_books_agree(&P));
    sesspair_connect(&P);
    /* The target survives the reset and is taken up again. */
    dynmem_session_host_tick(P.h, P.now);
    sesspair_pump(&P);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_CURRENT), 3 * GIB_PAGES);
    cr_assert(sesspair_books_agree(&P));
}

Test(session, close_during_a_transaction)
{
    sesspair_connect(&P);
    sesspair_drain(&P, NULL, NULL);
    dynmem_session_host_set_target(P.h, P.now, UINT64_C(6) << 30);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_HOT_ADD);
    cr_assert_eq(dynmem_session_host_close(P.h, P.now), 0);
    cr_assert_eq(dynmem_session_host_state(P.h), DYNMEM_SESSION_HOST_WAIT_CHANNEL);
    uint32_t flags = 0;
    sesspair_drain(&P, NULL, &flags);
    cr_assert(flags & DYNMEM_SESSION_FLAG_RESET);
    cr_assert_eq(sesspair_fig(&P, DYNMEM_MEMMAP_ADDED), 0);
    size_t len;
    unsigned char buf[4096];
    cr_assert_eq(dynmem_session_host_next_send(P.h, buf, sizeof buf, &len), 0);
}

Test(session, argument_checks)
{
    cr_assert_eq(dynmem_session_host_new(NULL, P.map, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS, 0),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_session_host_set_param(P.h, (enum dynmem_session_host_param)99, 0),
                 DYNMEM_ERR_NOT_FOUND);
    int64_t lo, hi, v;
    cr_assert_eq(dynmem_session_host_param_bounds(DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS, &lo, &hi), 0);
    cr_assert_eq(dynmem_session_host_get_param(P.h, DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS, &v), 0);
    cr_assert_eq(v, 50000);
    cr_assert_eq(dynmem_session_host_tick(P.h, 10), 0);
    cr_assert_eq(dynmem_session_host_tick(P.h, 9), DYNMEM_ERR_SESSION_TIME_BACKWARDS);
    cr_assert_eq(dynmem_session_host_start_action(P.h, 10, 5, 4096, 1), DYNMEM_ERR_UNSUPPORTED);
    cr_assert_str_eq(dynmem_session_event_kind_name(DYNMEM_SESSION_EVENT_FACT), "FACT");
    cr_assert_str_eq(dynmem_session_event_kind_name(0), "unknown");
    struct dynmem_session_event ev = {.size = 8};
    cr_assert_eq(dynmem_session_host_next_event(P.h, &ev), DYNMEM_ERR_STRUCT_SIZE);
    dynmem_session_host_free(NULL);
    dynmem_session_guest_free(NULL);
}

/* Moves packets both ways like sesspair_pump(), and checks on the way that
 * the guest never posts two status reports less than a second apart. */
static uint64_t last_status_at;
static int statuses;

static void pump_checking_pace(void)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    for (int moved = 1; moved;) {
        size_t len;
        moved = 0;
        while (dynmem_session_host_next_send(P.h, buf, sizeof buf, &len) == 1) {
            dynmem_session_guest_recv(P.g, P.now, buf, len);
            moved = 1;
        }
        while (dynmem_session_guest_next_send(P.g, buf, sizeof buf, &len) == 1) {
            moved = 1;
            if (buf[0] == DYNMEM_PROTO_STATUS_REPORT && buf[1] == 0) {
                if (statuses++)
                    cr_assert_geq(P.now - last_status_at, 1000, "status at %llu after %llu",
                                  (unsigned long long)P.now,
                                  (unsigned long long)last_status_at);
                last_status_at = P.now;
            }
            cr_assert_eq(dynmem_session_host_recv(P.h, P.now, buf, len), 0);
        }
    }
}

/* Ten minutes of a Linux-like guest growing and shrinking at odd times
 * (right after a periodic report, between two, several times a second):
 * it posts at most one status report a second, and the host refuses none. */
Test(session, an_honest_guest_is_never_refused_as_a_flood)
{
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS, 0);
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0);
    dynmem_session_host_set_param(P.h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS, 1000);
    sesspair_connect(&P);
    statuses = 0;
    uint64_t rng = 12345;
    while (P.now < 600000) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        uint64_t step = 1 + (rng >> 33) % 1300;
        uint64_t until = P.now + step, d;
        while (dynmem_session_guest_next_deadline(P.g, &d) == 1 && d <= until) {
            P.now = d > P.now ? d : P.now;
            dynmem_session_guest_tick(P.g, P.now);
            dynmem_session_host_tick(P.h, P.now);
            pump_checking_pace();
        }
        P.now = until;
        dynmem_session_host_tick(P.h, P.now);
        uint64_t gib = 2 + (rng >> 40) % 3; /* 2, 3 or 4 GiB */
        cr_assert_eq(dynmem_session_host_set_target(P.h, P.now, gib << 30), 0);
        pump_checking_pace();
    }
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_session_host_counters(P.h, &c), 0);
    cr_assert_gt(c.status_reports, 450);
    cr_assert_eq(c.status_flood, 0);
    cr_assert_eq(c.refused, 0);
    cr_assert_gt(c.transactions, 300);
    cr_assert(sesspair_books_agree(&P));
}

/* The same guest's reports held back by a slow channel and delivered in a
 * bunch (thirty seconds' worth at one instant) are all taken. */
Test(session, reports_delivered_in_a_bunch_are_taken)
{
    dynmem_session_guest_set_param(P.g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS, 0);
    sesspair_connect(&P);
    unsigned char held[30][DYNMEM_PROTO_MSG_SIZE_MAX];
    size_t len[30];
    int n = 0;
    while (n < 30) {
        uint64_t d;
        cr_assert_eq(dynmem_session_guest_next_deadline(P.g, &d), 1);
        P.now = d;
        dynmem_session_guest_tick(P.g, P.now);
        while (n < 30 && dynmem_session_guest_next_send(P.g, held[n], sizeof held[n], &len[n]) == 1)
            n++;
    }
    struct dynmem_session_host_counters before = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    dynmem_session_host_counters(P.h, &before);
    for (int i = 0; i < n; i++)
        cr_assert_eq(dynmem_session_host_recv(P.h, P.now, held[i], len[i]), 0, "report %d", i);
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    dynmem_session_host_counters(P.h, &c);
    cr_assert_eq(c.status_reports - before.status_reports, 30);
    cr_assert_eq(c.status_flood, 0);
}
