/* The guest session alone, driven by hand-made host packets: the Linux-like
 * balloon answer (2 MiB units, then single pages, at most 510 ranges per
 * message, more_pages on all but the last), unballoon over several
 * messages, hot-add, info messages, wrong-state requests and lying models. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/dynmem.h>

static dynmem_session_guest *g;
static uint64_t now;
static unsigned char last[4096];

static void feed(struct dynmem_proto_msg *m, int expect)
{
    unsigned char buf[4096];
    ptrdiff_t n = dynmem_proto_encode(buf, sizeof buf, m, 0);
    cr_assert_gt(n, 0);
    cr_assert_eq(dynmem_session_guest_recv(g, now, buf, (size_t)n), expect);
}

/* Takes the guest's next packet; 0 if none. */
static int take(struct dynmem_proto_msg *m)
{
    size_t len = 0;
    if (dynmem_session_guest_next_send(g, last, sizeof last, &len) != 1)
        return 0;
    struct dynmem_proto_msg init = DYNMEM_PROTO_MSG_INIT;
    *m = init;
    cr_assert_eq(dynmem_proto_decode(m, last, len, 0, NULL), 0);
    return 1;
}

static void ready(uint64_t pages)
{
    now = 0;
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    if (pages)
        cr_assert_eq(dynmem_session_guest_add_memory(g, 0, pages), 0);
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0), 0);
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS, 0), 0);
    cr_assert_eq(dynmem_session_guest_connect(g, now), 0);
    struct dynmem_proto_msg m;
    cr_assert(take(&m));
    cr_assert_eq(m.type, DYNMEM_PROTO_VERSION_REQUEST);
    cr_assert_eq(m.body.version_request.version, DYNMEM_PROTO_VERSION_WIN10);
    cr_assert_not(m.body.version_request.is_last_attempt);
    struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
    r.type = DYNMEM_PROTO_VERSION_RESPONSE;
    r.body.version_response.is_accepted = true;
    feed(&r, 0);
    cr_assert(take(&m));
    cr_assert_eq(m.type, DYNMEM_PROTO_CAPABILITIES_REPORT);
    cr_assert(m.body.caps_report.balloon);
    cr_assert_eq(m.body.caps_report.hot_add_alignment, 7);
    struct dynmem_proto_msg c = DYNMEM_PROTO_MSG_INIT;
    c.type = DYNMEM_PROTO_CAPABILITIES_RESPONSE;
    c.body.caps_response.is_accepted = true;
    feed(&c, 0);
    cr_assert_eq(dynmem_session_guest_version(g), DYNMEM_PROTO_VERSION_WIN10);
}

static void fini(void)
{
    dynmem_session_guest_free(g);
    g = NULL;
}

/* A balloon or hot-remove request for `pages`. */
static void ask(uint16_t type, uint32_t pages)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = type;
    if (type == DYNMEM_PROTO_BALLOON_REQUEST)
        m.body.balloon_request.num_pages = pages;
    else
        m.body.hot_remove_request.page_count = pages;
    feed(&m, 0);
}

static void balloon(uint32_t pages)
{
    ask(DYNMEM_PROTO_BALLOON_REQUEST, pages);
}

Test(session_guest, two_mib_units_then_single_pages, .fini = fini)
{
    ready(3 * 512 + 100);
    balloon(2000);
    struct dynmem_proto_msg m;
    cr_assert(take(&m));
    cr_assert_eq(m.type, DYNMEM_PROTO_BALLOON_RESPONSE);
    const struct dynmem_proto_ranges *l = &m.body.balloon_response.ranges;
    cr_assert_eq(l->count, 103);
    cr_assert_not(m.body.balloon_response.more_pages); /* all it had: 1636 of 2000 */
    struct dynmem_proto_range r;
    for (uint32_t i = 0; i < 3; i++) {
        dynmem_proto_ranges_get(&r, l, i);
        cr_assert_eq(r.page_count, 512);
    }
    for (uint32_t i = 3; i < 103; i++) {
        dynmem_proto_ranges_get(&r, l, i);
        cr_assert_eq(r.page_count, 1);
    }
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_ballooned(g)), 3 * 512 + 100);
    cr_assert_not(take(&m));
}

Test(session_guest, at_most_510_ranges_per_message, .fini = fini)
{
    ready(0);
    for (uint64_t i = 0; i < 4; i++) /* fragments: no whole 2 MiB unit */
        cr_assert_eq(dynmem_session_guest_add_memory(g, i * 1000, 300), 0);
    balloon(1000);
    struct dynmem_proto_msg m;
    cr_assert(take(&m));
    cr_assert_eq(m.body.balloon_response.ranges.count, 510);
    cr_assert(m.body.balloon_response.more_pages);
    /* One page per range, highest first, as Linux's page-at-a-time loop
     * takes them: 3299 down to 3000, then 2299 down. */
    uint64_t want = 3299;
    for (uint32_t i = 0; i < 510; i++, want = want == 3000 ? 2299 : want - 1) {
        struct dynmem_proto_range r;
        dynmem_proto_ranges_get(&r, &m.body.balloon_response.ranges, i);
        cr_assert_eq(r.page_count, 1);
        cr_assert_eq(r.start_page, want, "range %u: page %llu", i, (unsigned long long)r.start_page);
    }
    cr_assert(take(&m));
    cr_assert_eq(m.body.balloon_response.ranges.count, 490);
    cr_assert_not(m.body.balloon_response.more_pages);
    cr_assert_not(take(&m));
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_ballooned(g)), 1000);
}

Test(session_guest, linux_floor_limits_the_grant, .fini = fini)
{
    ready(UINT64_C(1) << 20); /* 4 GiB */
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, -1), 0);
    balloon(UINT32_C(1) << 20);
    struct dynmem_proto_msg m;
    uint64_t pages = 0;
    int msgs = 0;
    while (take(&m)) {
        msgs++;
        const struct dynmem_proto_ranges *l = &m.body.balloon_response.ranges;
        for (uint32_t i = 0; i < l->count; i++) {
            struct dynmem_proto_range r;
            dynmem_proto_ranges_get(&r, l, i);
            pages += r.page_count;
        }
    }
    cr_assert_eq(pages, (UINT64_C(1) << 20) - 488 * 256); /* 4 GiB less the 488 MiB floor */
    cr_assert_eq(msgs, 4);
}

Test(session_guest, unballoon_answers_after_the_last_message, .fini = fini)
{
    ready(4096);
    balloon(2048);
    struct dynmem_proto_msg m;
    while (take(&m))
        ;
    struct dynmem_proto_range a = {2048, 1024}, b = {3072, 1024};
    struct dynmem_proto_msg u = DYNMEM_PROTO_MSG_INIT;
    u.type = DYNMEM_PROTO_UNBALLOON_REQUEST;
    u.body.unballoon_request.more_pages = true;
    u.body.unballoon_request.ranges.unpacked = &a;
    u.body.unballoon_request.ranges.count = 1;
    feed(&u, 0);
    cr_assert_not(take(&m));
    u.body.unballoon_request.more_pages = false;
    u.body.unballoon_request.ranges.unpacked = &b;
    feed(&u, 0);
    cr_assert(take(&m));
    cr_assert_eq(m.type, DYNMEM_PROTO_UNBALLOON_RESPONSE);
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_ballooned(g)), 0);
}

Test(session_guest, hot_add_and_info, .fini = fini)
{
    ready(4096);
    struct dynmem_proto_msg h = DYNMEM_PROTO_MSG_INIT;
    h.type = DYNMEM_PROTO_HOT_ADD_REQUEST;
    h.body.hot_add_request.range.start_page = 1 << 20;
    h.body.hot_add_request.range.page_count = 32768;
    feed(&h, 0);
    struct dynmem_proto_msg m;
    cr_assert(take(&m));
    cr_assert_eq(m.type, DYNMEM_PROTO_HOT_ADD_RESPONSE);
    cr_assert_eq(m.body.hot_add_response.page_count, 32768);
    cr_assert_eq(m.body.hot_add_response.result, 1);
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_memory(g)), 4096 + 32768);
    struct dynmem_proto_msg i = DYNMEM_PROTO_MSG_INIT;
    i.type = DYNMEM_PROTO_INFO_MESSAGE;
    i.body.info_message.info_type = DYNMEM_PROTO_INFO_MAX_PAGE_COUNT;
    i.body.info_message.data_size = 8;
    i.body.info_message.max_page_count = 1 << 19;
    feed(&i, 0);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    bool info = false;
    while (dynmem_session_guest_next_event(g, &ev) == 1)
        if (ev.kind == DYNMEM_SESSION_EVENT_INFO)
            info = ev.bytes == UINT64_C(2) << 30;
    cr_assert(info);
}

Test(session_guest, requests_before_negotiation_are_refused, .fini = fini)
{
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_BALLOON_REQUEST;
    m.body.balloon_request.num_pages = 5;
    feed(&m, DYNMEM_ERR_SESSION_CLOSED);
    cr_assert_eq(dynmem_session_guest_connect(g, 0), 0);
    feed(&m, DYNMEM_ERR_SESSION_WRONG_STATE);
    struct dynmem_proto_msg s = DYNMEM_PROTO_MSG_INIT;
    s.type = DYNMEM_PROTO_STATUS_REPORT;
    feed(&s, DYNMEM_ERR_SESSION_WRONG_STATE);
    unsigned char junk[3] = {1, 2, 3};
    cr_assert_eq(dynmem_session_guest_recv(g, 0, junk, 3), DYNMEM_ERR_PROTO_TRUNCATED);
    cr_assert_eq(dynmem_session_guest_tick(g, 5), 0);
    cr_assert_eq(dynmem_session_guest_tick(g, 4), DYNMEM_ERR_SESSION_TIME_BACKWARDS);
}

static int liar(void *ud, uint64_t t, uint64_t wanted, struct dynmem_proto_range *r)
{
    (void)t; (void)wanted;
    int *calls = ud;
    if ((*calls)++ >= 2)
        return 0;
    r->start_page = 1 << 30; /* not its memory */
    r->page_count = 100;
    return 1;
}

Test(session_guest, a_lying_model_is_sent_but_not_booked, .fini = fini)
{
    int calls = 0;
    ready(4096);
    dynmem_session_guest_set_balloon_fn(g, liar, &calls);
    balloon(1000);
    struct dynmem_proto_msg m;
    cr_assert(take(&m));
    cr_assert_eq(m.body.balloon_response.ranges.count, 2);
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_ballooned(g)), 0);
}

Test(session_guest, guest_settings, .fini = fini)
{
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST, 0x20001),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_HOT_ADD_ALIGNMENT, 16),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_session_guest_set_param(g, (enum dynmem_session_guest_param)77, 0),
                 DYNMEM_ERR_NOT_FOUND);
    cr_assert_eq(dynmem_session_guest_add_memory(g, 0, 10), 0);
    cr_assert_eq(dynmem_session_guest_add_memory(g, 5, 10), DYNMEM_ERR_PAGES_OVERLAP);
    cr_assert_eq(dynmem_session_guest_add_memory(g, 0, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_session_guest_version(g), 0);
    cr_assert_null(dynmem_session_guest_memory(NULL));
}

Test(session_guest, negotiation_times_out_on_a_silent_host, .fini = fini)
{
    cr_assert_eq(dynmem_session_guest_new(&g, NULL), 0);
    cr_assert_eq(dynmem_session_guest_connect(g, 100), 0);
    uint64_t d = 0;
    cr_assert_eq(dynmem_session_guest_next_deadline(g, &d), 1);
    cr_assert_eq(d, 5100);
    cr_assert_eq(dynmem_session_guest_tick(g, 5099), 0);
    cr_assert_eq(dynmem_session_guest_tick(g, 5100), 0);
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    bool failed = false;
    while (dynmem_session_guest_next_event(g, &ev) == 1)
        failed |= ev.kind == DYNMEM_SESSION_EVENT_FAILED && ev.error == DYNMEM_ERR_SESSION_TIMEOUT;
    cr_assert(failed);
    cr_assert_eq(dynmem_session_guest_next_deadline(g, &d), 0);
    /* A late version response is refused; a new connect starts over. */
    struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
    r.type = DYNMEM_PROTO_VERSION_RESPONSE;
    r.body.version_response.is_accepted = true;
    now = 5200;
    feed(&r, DYNMEM_ERR_SESSION_WRONG_STATE);
    cr_assert_eq(dynmem_session_guest_connect(g, 5200), 0);
    feed(&r, 0);
    cr_assert_eq(dynmem_session_guest_version(g), DYNMEM_PROTO_VERSION_WIN10);
}

/* Pages the guest gives in its answers (balloon or hot-remove) until it
 * has nothing more to send. */
static uint64_t answered_pages(void)
{
    struct dynmem_proto_msg m;
    uint64_t pages = 0;
    while (take(&m)) {
        cr_assert(m.type == DYNMEM_PROTO_BALLOON_RESPONSE ||
                  m.type == DYNMEM_PROTO_HOT_REMOVE_RESPONSE);
        const struct dynmem_proto_ranges *l = dynmem_proto_msg_ranges(&m);
        for (uint32_t i = 0; i < l->count; i++) {
            struct dynmem_proto_range r;
            dynmem_proto_ranges_get(&r, l, i);
            pages += r.page_count;
        }
    }
    return pages;
}

/* A guest of 4 GiB, 1 GiB of it committed, Linux's floor; hot-remove on. */
static void big_guest(void)
{
    ready(UINT64_C(1) << 20);
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE, 1), 0);
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, -1), 0);
    cr_assert_eq(dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES,
                                                UINT64_C(1) << 18), 0);
}

/* Requests for 2^32 - 1 pages, three times over: hot-remove gives exactly
 * what balloon gives, so the guest keeps its committed pages and its floor
 * (Linux's, which shrinks with the memory the guest has left). */
Test(session_guest, hot_remove_keeps_the_floor_and_committed_pages, .fini = fini)
{
    uint64_t by_balloon[3], left_by_balloon;
    big_guest();
    for (int i = 0; i < 3; i++) {
        balloon(UINT32_MAX);
        by_balloon[i] = answered_pages();
    }
    left_by_balloon = dynmem_pageset_pages(dynmem_session_guest_memory(g)) -
                      dynmem_pageset_pages(dynmem_session_guest_ballooned(g));
    /* 4 GiB less 1 GiB committed less the 488 MiB floor of a 4 GiB guest. */
    cr_assert_eq(by_balloon[0], (UINT64_C(1) << 20) - (UINT64_C(1) << 18) - 488 * 256);
    fini();

    big_guest();
    for (int i = 0; i < 3; i++) {
        ask(DYNMEM_PROTO_HOT_REMOVE_REQUEST, UINT32_MAX);
        cr_assert_eq(answered_pages(), by_balloon[i], "request %d", i);
    }
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_memory(g)), left_by_balloon);
    cr_assert_eq(dynmem_pageset_pages(dynmem_session_guest_ballooned(g)), 0);
    cr_assert_geq(left_by_balloon, UINT64_C(1) << 18);
}
