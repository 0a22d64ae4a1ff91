/* The malicious-guest suite: a host session against a guest played by the
 * test, which sends whatever bytes it likes. Each test is one named attack
 * and ends with the books exact (the memory map holds only what an honest
 * reading of the exchange allows) and the session still usable: an honest
 * balloon round trip works afterwards. */
#include <criterion/criterion.h>
#include <string.h>

#define GIB_PAGES (UINT64_C(1) << 18)
#define MIB_PAGES UINT64_C(256)

#include <dynmem/dynmem.h>

static struct dynmem_memmap *map;
static dynmem_session_host *h;
static uint64_t now;
static uint32_t ver = DYNMEM_PROTO_VERSION_WIN10;

static uint64_t fig(enum dynmem_memmap_figure f)
{
    uint64_t v = 0;
    cr_assert_eq(dynmem_memmap_pages(map, f, &v), 0);
    return v;
}

static void books_consistent(void)
{
    uint64_t vis = fig(DYNMEM_MEMMAP_VISIBLE);
    cr_assert_eq(vis, fig(DYNMEM_MEMMAP_BOOT) + fig(DYNMEM_MEMMAP_ADDED) - fig(DYNMEM_MEMMAP_REMOVED));
    cr_assert_eq(fig(DYNMEM_MEMMAP_CURRENT), vis - fig(DYNMEM_MEMMAP_BALLOONED));
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), dynmem_pageset_pages(dynmem_memmap_ballooned(map)));
}

static int send_msg(struct dynmem_proto_msg *m)
{
    unsigned char buf[4096];
    ptrdiff_t n = dynmem_proto_encode(buf, sizeof buf, m, 0);
    cr_assert_gt(n, 0);
    return dynmem_session_host_recv(h, now, buf, (size_t)n);
}

static int send_raw(const void *b, size_t n)
{
    return dynmem_session_host_recv(h, now, b, n);
}

/* Takes the host's next packet and decodes it into *m (views into buf). */
static int take(struct dynmem_proto_msg *m, unsigned char *buf)
{
    size_t len = 0;
    int rc = dynmem_session_host_next_send(h, buf, 4096, &len);
    if (rc != 1)
        return 0;
    struct dynmem_proto_msg init = DYNMEM_PROTO_MSG_INIT;
    *m = init;
    cr_assert_eq(dynmem_proto_decode(m, buf, len, 0, NULL), 0);
    return 1;
}

static void drain_sends(void)
{
    unsigned char buf[4096];
    struct dynmem_proto_msg m;
    while (take(&m, buf))
        ;
}

static uint64_t count_refusals(int error)
{
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    uint64_t n = 0;
    while (dynmem_session_host_next_event(h, &ev) == 1)
        n += ev.kind == DYNMEM_SESSION_EVENT_REFUSED && (error == 0 || ev.error == error);
    return n;
}

static struct dynmem_session_host_counters counters(void)
{
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_session_host_counters(h, &c), 0);
    return c;
}

static void negotiate(uint32_t version, bool hot_remove)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_VERSION_REQUEST;
    m.body.version_request.version = version;
    cr_assert_eq(send_msg(&m), 0);
    struct dynmem_proto_msg c = DYNMEM_PROTO_MSG_INIT;
    c.type = DYNMEM_PROTO_CAPABILITIES_REPORT;
    c.body.caps_report.balloon = true;
    c.body.caps_report.hot_add = true;
    c.body.caps_report.hot_remove = hot_remove;
    c.body.caps_report.hot_add_alignment = 7;
    cr_assert_eq(send_msg(&c), 0);
    now += 50000;
    cr_assert_eq(dynmem_session_host_tick(h, now), 0);
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_IDLE);
    drain_sends();
    count_refusals(0); /* the handshake's events */
    ver = version;
}

static void setup(void)
{
    now = 0;
    cr_assert_eq(dynmem_memmap_new(&map, NULL), 0);
    cr_assert_eq(dynmem_memmap_add_boot(map, 0, 4 * GIB_PAGES), 0);
    cr_assert_eq(dynmem_memmap_set_hot_add_window(map, 32 * GIB_PAGES, 32 * GIB_PAGES), 0);
    cr_assert_eq(dynmem_session_host_new(&h, map, NULL), 0);
    cr_assert_eq(dynmem_session_host_set_param(h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS, 10000), 0);
    cr_assert_eq(dynmem_session_host_open(h, now), 0);
}

static void setup_ready(void)
{
    setup();
    negotiate(DYNMEM_PROTO_VERSION_WIN10, true);
}

static void teardown(void)
{
    books_consistent();
    dynmem_session_host_free(h);
    dynmem_memmap_free(map);
}

TestSuite(hostile, .init = setup_ready, .fini = teardown);
TestSuite(hostile_early, .init = setup, .fini = teardown);

/* Asks for `pages` by target and returns the balloon request's page count. */
static uint32_t ask_balloon(uint64_t pages)
{
    uint64_t cur = fig(DYNMEM_MEMMAP_CURRENT);
    cr_assert_eq(dynmem_session_host_set_target(h, now, (cur - pages) << 12), 0);
    unsigned char buf[4096];
    struct dynmem_proto_msg m;
    cr_assert(take(&m, buf));
    cr_assert_eq(m.type, DYNMEM_PROTO_BALLOON_REQUEST);
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_BALLOON);
    return m.body.balloon_request.num_pages;
}

static int balloon_response(const struct dynmem_proto_range *r, uint32_t n, bool more)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
    m.body.balloon_response.more_pages = more;
    m.body.balloon_response.ranges.unpacked = n ? r : NULL;
    m.body.balloon_response.ranges.count = n;
    return send_msg(&m);
}

/* The session still works: an honest guest balloons 1 MiB at page 1 GiB - 256. */
static void still_usable(void)
{
    books_consistent();
    if (dynmem_session_host_state(h) != DYNMEM_SESSION_HOST_IDLE)
        return;
    uint64_t before = fig(DYNMEM_MEMMAP_BALLOONED);
    uint32_t asked = ask_balloon(256);
    cr_assert_eq(asked, 256);
    struct dynmem_proto_range r = {GIB_PAGES - 256, 256};
    cr_assert_eq(balloon_response(&r, 1, false), 0);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), before + 256);
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_IDLE);
    books_consistent();
}

Test(hostile, truncated_header)
{
    unsigned char b[3] = {7, 0, 16};
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert_eq(counters().refused, 1);
    cr_assert_eq(count_refusals(DYNMEM_ERR_PROTO_TRUNCATED), 1);
    still_usable();
}

Test(hostile, header_size_claims_more_than_sent)
{
    ask_balloon(512);
    unsigned char b[16] = {7, 0, 48, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    struct dynmem_proto_range r = {GIB_PAGES, 512};
    cr_assert_eq(balloon_response(&r, 1, false), 0);
    still_usable();
}

Test(hostile, header_size_claims_less_than_sent)
{
    unsigned char b[56] = {5, 0, 48, 0};
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_TRAILING_BYTES);
    still_usable();
}

Test(hostile, header_size_below_header)
{
    unsigned char b[8] = {5, 0, 4, 0};
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_HEADER_SIZE);
    still_usable();
}

Test(hostile, oversized_message)
{
    static unsigned char b[8192];
    b[0] = 7;
    b[2] = 0x00;
    b[3] = 0x20; /* 8192 */
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_TOO_LARGE);
    still_usable();
}

Test(hostile, unknown_type)
{
    unsigned char b[8] = {0xff, 0, 8, 0};
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_UNKNOWN_TYPE);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    cr_assert_eq(dynmem_session_host_next_event(h, &ev), 1);
    cr_assert_eq(ev.kind, DYNMEM_SESSION_EVENT_REFUSED);
    cr_assert_eq(ev.msg_type, 0xff);
    still_usable();
}

Test(hostile, host_bound_message_from_the_guest)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_REQUEST;
    m.body.balloon_request.num_pages = 100;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_DIRECTION);
    still_usable();
}

Test(hostile, error_message)
{
    unsigned char b[12] = {0, 0, 12, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_SESSION_WRONG_STATE);
    still_usable();
}

Test(hostile, balloon_response_nobody_asked_for)
{
    struct dynmem_proto_range r = {0, 1000};
    cr_assert_eq(balloon_response(&r, 1, false), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    still_usable();
}

Test(hostile, version_request_after_negotiation)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_VERSION_REQUEST;
    m.body.version_request.version = DYNMEM_PROTO_VERSION_WIN7;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_eq(counters().version, DYNMEM_PROTO_VERSION_WIN10);
    drain_sends();
    still_usable();
}

Test(hostile, second_capabilities_report)
{
    struct dynmem_proto_msg c = DYNMEM_PROTO_MSG_INIT;
    c.type = DYNMEM_PROTO_CAPABILITIES_REPORT;
    c.body.caps_report.hot_add_alignment = 15;
    cr_assert_eq(send_msg(&c), DYNMEM_ERR_SESSION_WRONG_STATE);
    still_usable();
}

Test(hostile_early, hot_remove_response_on_a_1_0_channel)
{
    negotiate(DYNMEM_PROTO_VERSION_WIN8, true);
    unsigned char b[16] = {14, 0, 16, 0};
    cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_VERSION);
    still_usable();
}

Test(hostile_early, version_games_before_negotiation)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_VERSION_REQUEST;
    m.body.version_request.version = DYNMEM_PROTO_VERSION(3, 0);
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_VERSION_POLICY);
    m.body.version_request.version = DYNMEM_PROTO_VERSION(1, 5);
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_VERSION_POLICY);
    m.body.version_request.version = 0;
    cr_assert_eq(send_msg(&m), DYNMEM_ERR_SESSION_VERSION_POLICY);
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_VERSION);
    /* A status report before the version is agreed. */
    unsigned char s[48] = {5, 0, 48, 0};
    cr_assert_eq(send_raw(s, sizeof s), DYNMEM_ERR_SESSION_WRONG_STATE);
    drain_sends();
    negotiate(DYNMEM_PROTO_VERSION_WIN10, false);
    still_usable();
}

Test(hostile_early, packet_before_the_channel_opens)
{
    cr_assert_eq(dynmem_session_host_close(h, now), 0);
    unsigned char s[48] = {5, 0, 48, 0};
    cr_assert_eq(send_raw(s, sizeof s), DYNMEM_ERR_SESSION_CLOSED);
    cr_assert_eq(dynmem_session_host_open(h, now), 0);
    cr_assert_eq(dynmem_session_host_open(h, now), DYNMEM_ERR_BAD_STATE);
    negotiate(DYNMEM_PROTO_VERSION_WIN10, false);
    still_usable();
}

Test(hostile, ranges_outside_memory)
{
    uint32_t asked = ask_balloon(1024);
    struct dynmem_proto_range r[3] = {
        {4 * GIB_PAGES, 512},                   /* just past boot memory */
        {32 * GIB_PAGES, 512},                  /* in the window, never added */
        {DYNMEM_PROTO_RANGE_START_MAX - 1, 512} /* the top of the address space */
    };
    cr_assert_eq(balloon_response(r, 3, false), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(counters().ranges_refused, 3);
    uint32_t flags = 0;
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    while (dynmem_session_host_next_event(h, &ev) == 1)
        if (ev.kind == DYNMEM_SESSION_EVENT_FACT)
            flags |= ev.flags;
    cr_assert(flags & DYNMEM_SESSION_FLAG_FAILED);
    (void)asked;
    still_usable();
}

Test(hostile, range_straddling_the_end_of_memory)
{
    ask_balloon(1024);
    struct dynmem_proto_range r = {4 * GIB_PAGES - 10, 20};
    cr_assert_eq(balloon_response(&r, 1, false), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    still_usable();
}

Test(hostile, duplicate_ranges_in_one_message)
{
    ask_balloon(1024);
    struct dynmem_proto_range r[2] = {{1000, 512}, {1000, 512}};
    cr_assert_eq(balloon_response(r, 2, false), DYNMEM_ERR_PAGES_BALLOONED);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 512);
    still_usable();
}

Test(hostile, overlapping_ranges_across_messages)
{
    ask_balloon(2048);
    struct dynmem_proto_range a = {1000, 512}, b = {1200, 512}, c = {5000, 512};
    cr_assert_eq(balloon_response(&a, 1, true), 0);
    cr_assert_eq(balloon_response(&b, 1, true), DYNMEM_ERR_PAGES_BALLOONED);
    cr_assert_eq(balloon_response(&c, 1, false), 0);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 1024);
    still_usable();
}

Test(hostile, more_pages_than_asked)
{
    uint32_t asked = ask_balloon(1000);
    cr_assert_eq(asked, 1000);
    struct dynmem_proto_range r[2] = {{0, 800}, {100000, 800}};
    cr_assert_eq(balloon_response(r, 2, false), DYNMEM_ERR_SESSION_TOO_MUCH);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 1000);
    cr_assert_eq(counters().clamped, 1);
    still_usable();
}

Test(hostile, zero_ranges_with_more_pages_forever)
{
    ask_balloon(1000);
    cr_assert_eq(balloon_response(NULL, 0, true), 0);
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_IDLE);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(balloon_response(NULL, 0, true), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(counters().transactions, 1); /* no request storm */
    still_usable();
}

Test(hostile, zero_page_ranges_with_more_pages_until_timeout)
{
    ask_balloon(1000);
    struct dynmem_proto_range r = {5000, 0};
    for (int i = 0; i < 100; i++) {
        now += 500;
        dynmem_session_host_tick(h, now);
        balloon_response(&r, 1, true);
    }
    /* No progress in 10 s: the transaction timed out despite the chatter. */
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_IDLE);
    cr_assert_eq(counters().timeouts, 1);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    still_usable();
}

Test(hostile, hot_add_response_claims_more_than_asked)
{
    cr_assert_eq(dynmem_session_host_set_target(h, now, UINT64_C(5) << 30), 0);
    unsigned char buf[4096];
    struct dynmem_proto_msg m;
    cr_assert(take(&m, buf));
    cr_assert_eq(m.type, DYNMEM_PROTO_HOT_ADD_REQUEST);
    uint64_t asked = m.body.hot_add_request.range.page_count;
    struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
    r.type = DYNMEM_PROTO_HOT_ADD_RESPONSE;
    r.body.hot_add_response.page_count = UINT32_MAX;
    r.body.hot_add_response.result = 1;
    cr_assert_eq(send_msg(&r), DYNMEM_ERR_SESSION_TOO_MUCH);
    cr_assert_eq(fig(DYNMEM_MEMMAP_ADDED), asked);
    cr_assert_eq(counters().clamped, 1);
    still_usable();
}

Test(hostile, hot_add_response_nobody_asked_for)
{
    struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
    r.type = DYNMEM_PROTO_HOT_ADD_RESPONSE;
    r.body.hot_add_response.page_count = 1000;
    r.body.hot_add_response.result = 1;
    cr_assert_eq(send_msg(&r), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_eq(fig(DYNMEM_MEMMAP_ADDED), 0);
    unsigned char u[8] = {9, 0, 8, 0};
    cr_assert_eq(send_raw(u, sizeof u), DYNMEM_ERR_SESSION_WRONG_STATE);
    still_usable();
}

Test(hostile, hot_remove_of_memory_it_does_not_have)
{
    cr_assert_eq(dynmem_session_host_start_action(h, now, DYNMEM_ACTION_HOT_REMOVE,
                                                  UINT64_C(1) << 30, 9), 0);
    unsigned char buf[4096];
    struct dynmem_proto_msg m;
    cr_assert(take(&m, buf));
    cr_assert_eq(m.type, DYNMEM_PROTO_HOT_REMOVE_REQUEST);
    struct dynmem_proto_range r[2] = {{40 * GIB_PAGES, 1000}, {0, 1000}};
    struct dynmem_proto_msg x = DYNMEM_PROTO_MSG_INIT;
    x.type = DYNMEM_PROTO_HOT_REMOVE_RESPONSE;
    x.body.hot_remove_response.result = 1;
    x.body.hot_remove_response.ranges.unpacked = r;
    x.body.hot_remove_response.ranges.count = 2;
    cr_assert_eq(send_msg(&x), DYNMEM_ERR_PAGES_OUTSIDE);
    cr_assert_eq(fig(DYNMEM_MEMMAP_REMOVED), 1000);
    still_usable();
}

Test(hostile, status_report_flood)
{
    unsigned char s[48] = {5, 0, 48, 0};
    s[16] = 1; /* num_committed = 1 */
    int accepted = 0;
    for (int i = 0; i < 100000; i++) {
        if (i % 1000 == 0)
            now++;
        accepted += send_raw(s, sizeof s) == 0;
    }
    /* The burst (60 by default) in the first 100 ms, and nothing more. */
    cr_assert_eq(accepted, 60);
    struct dynmem_session_host_counters c = counters();
    cr_assert_eq(c.status_flood, 100000 - 60);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    int events = 0;
    while (dynmem_session_host_next_event(h, &ev) == 1)
        events++;
    cr_assert_leq(events, 64);
    now += 1000;
    cr_assert_eq(send_raw(s, sizeof s), 0);
    still_usable();
}

/* Ten reports a second for a minute: the burst, then four a second. */
Test(hostile, sustained_status_reports_above_the_rate)
{
    unsigned char s[48] = {5, 0, 48, 0};
    int accepted = 0;
    for (int i = 0; i < 600; i++) {
        now += 100;
        accepted += send_raw(s, sizeof s) == 0;
    }
    cr_assert_eq(accepted, 60 + (600 * 100 - 100) / 250);
    cr_assert_eq(counters().status_flood, (uint64_t)(600 - accepted));
    still_usable();
}

Test(hostile, garbage_flood_keeps_the_queue_bounded)
{
    unsigned char b[8] = {0x42, 0, 8, 0};
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(send_raw(b, sizeof b), DYNMEM_ERR_PROTO_UNKNOWN_TYPE);
    struct dynmem_session_host_counters c = counters();
    cr_assert_eq(c.refused, 10000);
    cr_assert_gt(c.events_dropped, 9000);
    cr_assert_leq(count_refusals(0), 64);
    still_usable();
}

Test(hostile, never_answering)
{
    ask_balloon(1000);
    uint64_t d = 0;
    cr_assert_eq(dynmem_session_host_next_deadline(h, &d), 1);
    cr_assert_eq(d, now + 10000);
    now = d;
    cr_assert_eq(dynmem_session_host_tick(h, now), 0);
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_IDLE);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    bool timed_out = false;
    while (dynmem_session_host_next_event(h, &ev) == 1)
        if (ev.kind == DYNMEM_SESSION_EVENT_FACT && (ev.flags & DYNMEM_SESSION_FLAG_TIMED_OUT)) {
            timed_out = true;
            cr_assert_eq(ev.error, DYNMEM_ERR_SESSION_TIMEOUT);
            cr_assert(ev.flags & DYNMEM_SESSION_FLAG_FINAL);
        }
    cr_assert(timed_out);
    cr_assert_eq(counters().timeouts, 1);
    /* The target is not retried against a silent guest until it changes. */
    cr_assert_eq(dynmem_session_host_next_deadline(h, &d), 0);
    still_usable();
}

Test(hostile, answering_after_the_timeout)
{
    ask_balloon(1000);
    now += 10000;
    dynmem_session_host_tick(h, now);
    struct dynmem_proto_range r = {0, 1000};
    cr_assert_eq(balloon_response(&r, 1, false), DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0); /* unconfirmed in time: not free */
    still_usable();
}

Test(hostile, unballoon_never_answered)
{
    ask_balloon(1000);
    struct dynmem_proto_range r = {0, 1000};
    cr_assert_eq(balloon_response(&r, 1, false), 0);
    cr_assert_eq(dynmem_session_host_set_target(h, now, UINT64_C(4) << 30), 0);
    drain_sends();
    cr_assert_eq(dynmem_session_host_state(h), DYNMEM_SESSION_HOST_UNBALLOON);
    now += 10000;
    dynmem_session_host_tick(h, now);
    /* The pages went back when the request was sent: the guest may use them. */
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    still_usable();
}

Test(hostile, trickle_of_one_page_responses)
{
    ask_balloon(600);
    for (uint64_t i = 0; i < 599; i++) {
        struct dynmem_proto_range r = {10000 + 2 * i, 1};
        cr_assert_eq(balloon_response(&r, 1, true), 0);
    }
    struct dynmem_proto_range r[2] = {{20000, 1}, {20002, 1}};
    cr_assert_eq(balloon_response(r, 2, true), DYNMEM_ERR_SESSION_TOO_MUCH);
    cr_assert_eq(balloon_response(NULL, 0, false), 0);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 600);
    still_usable();
}

Test(hostile, reset_in_the_middle_of_an_attack)
{
    ask_balloon(1000);
    struct dynmem_proto_range r = {0, 500};
    cr_assert_eq(balloon_response(&r, 1, true), 0);
    cr_assert_eq(dynmem_session_host_clear_target(h), 0);
    cr_assert_eq(dynmem_session_host_reset(h, now, DYNMEM_SESSION_RESET_VMBUS), 0);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 0);
    cr_assert_eq(balloon_response(&r, 1, false), DYNMEM_ERR_SESSION_CLOSED);
    cr_assert_eq(dynmem_session_host_open(h, now), 0);
    negotiate(DYNMEM_PROTO_VERSION_WIN7, false);
    still_usable();
}

/* The sum of the FACT bytes the host queued since the last call, by kind
 * (index: enum dynmem_action_kind), and the flags of the FINAL ones. */
struct fact_sums {
    uint64_t bytes[5];
    uint32_t final_flags;
    int32_t final_error;
};

static struct fact_sums read_facts(void)
{
    struct fact_sums s = {0};
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    while (dynmem_session_host_next_event(h, &ev) == 1) {
        if (ev.kind != DYNMEM_SESSION_EVENT_FACT)
            continue;
        cr_assert_lt(ev.action_kind, 5);
        s.bytes[ev.action_kind] += ev.bytes;
        if (ev.flags & DYNMEM_SESSION_FLAG_FINAL) {
            s.final_flags |= ev.flags;
            s.final_error = ev.error;
        }
    }
    return s;
}

static int hot_remove_response(const struct dynmem_proto_range *r, uint32_t n, bool more)
{
    struct dynmem_proto_msg x = DYNMEM_PROTO_MSG_INIT;
    x.type = DYNMEM_PROTO_HOT_REMOVE_RESPONSE;
    x.body.hot_remove_response.result = 1;
    x.body.hot_remove_response.more_pages = more;
    x.body.hot_remove_response.ranges.unpacked = n ? r : NULL;
    x.body.hot_remove_response.ranges.count = n;
    return send_msg(&x);
}

static void ask_hot_remove(uint64_t pages, uint64_t id)
{
    cr_assert_eq(dynmem_session_host_start_action(h, now, DYNMEM_ACTION_HOT_REMOVE, pages << 12,
                                                  id), 0);
    unsigned char buf[4096];
    struct dynmem_proto_msg m;
    cr_assert(take(&m, buf));
    cr_assert_eq(m.type, DYNMEM_PROTO_HOT_REMOVE_REQUEST);
}

/* Pages the guest ballooned are the host's already: offering them again as
 * hot-removed gives nothing back, so the range is refused whole and no fact
 * counts it twice. The facts of each transaction add up to the change of
 * the books. */
Test(hostile, hot_remove_of_pages_it_already_ballooned)
{
    ask_balloon(1024);
    struct dynmem_proto_range r = {GIB_PAGES, 1024};
    cr_assert_eq(balloon_response(&r, 1, false), 0);
    struct fact_sums s = read_facts();
    cr_assert_eq(s.bytes[DYNMEM_ACTION_BALLOON], 1024 << 12);
    uint64_t visible = fig(DYNMEM_MEMMAP_VISIBLE), current = fig(DYNMEM_MEMMAP_CURRENT);

    ask_hot_remove(1024, 7);
    cr_assert_eq(hot_remove_response(&r, 1, false), DYNMEM_ERR_PAGES_BALLOONED);
    s = read_facts();
    cr_assert_eq(s.bytes[DYNMEM_ACTION_HOT_REMOVE], 0);
    cr_assert(s.final_flags & DYNMEM_SESSION_FLAG_FINAL);
    cr_assert(s.final_flags & DYNMEM_SESSION_FLAG_FAILED);
    cr_assert_eq(fig(DYNMEM_MEMMAP_REMOVED), 0);
    cr_assert_eq(fig(DYNMEM_MEMMAP_VISIBLE), visible);
    cr_assert_eq(fig(DYNMEM_MEMMAP_CURRENT), current);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 1024);

    /* Half ballooned, half not: refused whole as well; a clean range counts. */
    ask_hot_remove(2048, 8);
    struct dynmem_proto_range two[2] = {{GIB_PAGES - 512, 1024}, {2 * GIB_PAGES, 1024}};
    cr_assert_eq(hot_remove_response(two, 2, false), DYNMEM_ERR_PAGES_BALLOONED);
    s = read_facts();
    cr_assert_eq(s.bytes[DYNMEM_ACTION_HOT_REMOVE], 1024 << 12);
    cr_assert(s.final_flags & DYNMEM_SESSION_FLAG_PARTIAL);
    cr_assert_eq(fig(DYNMEM_MEMMAP_REMOVED), 1024);
    cr_assert_eq(fig(DYNMEM_MEMMAP_VISIBLE), visible - 1024);
    cr_assert_eq(fig(DYNMEM_MEMMAP_CURRENT), current - 1024);
    cr_assert_eq(fig(DYNMEM_MEMMAP_BALLOONED), 1024);
    still_usable();
}

/* A piece of a transaction the caller has not read yet, then the reply
 * timeout: the one merged fact has every field of the final one, the
 * timeout's error included. */
Test(hostile, timeout_after_an_unread_piece_keeps_its_error)
{
    ask_balloon(1000);
    uint64_t t0 = now;
    struct dynmem_proto_range r = {0, 500};
    cr_assert_eq(balloon_response(&r, 1, true), 0);
    now += 10000;
    cr_assert_eq(dynmem_session_host_tick(h, now), 0);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    int facts = 0;
    while (dynmem_session_host_next_event(h, &ev) == 1) {
        if (ev.kind != DYNMEM_SESSION_EVENT_FACT)
            continue;
        facts++;
        cr_assert_eq(ev.bytes, 500 << 12);
        cr_assert_eq(ev.requested_bytes, 1000 << 12);
        cr_assert_eq(ev.action_kind, DYNMEM_ACTION_BALLOON);
        cr_assert_eq(ev.time_ms, now);
        cr_assert(ev.flags & DYNMEM_SESSION_FLAG_FINAL);
        cr_assert(ev.flags & DYNMEM_SESSION_FLAG_TIMED_OUT);
        cr_assert_eq(ev.error, DYNMEM_ERR_SESSION_TIMEOUT);
    }
    cr_assert_eq(facts, 1);
    cr_assert_gt(now, t0);
    still_usable();
}
