/* libFuzzer target: a host session fed a random sequence of guest packets
 * (raw bytes, or well-formed responses with random ranges), time steps,
 * targets, actions and resets. After every step:
 *   - the memory map's figures add up, the event queue stays bounded and a
 *     transaction in flight has a deadline;
 *   - the books: the facts of the step add up to the change of the books
 *     (hot-add facts to ADDED plus the hot-removed pages added again,
 *     hot-remove facts to REMOVED, balloon facts
 *     less the pages an unballoon request took to BALLOONED), unballoon
 *     facts never exceed the pages handed back and equal them once no
 *     unballoon is in flight, and every ballooned page is guest memory.
 * The input is a list of operations:
 *   op byte, then its operands (missing bytes read as zero):
 *   0 raw packet  (len hi, len lo, bytes)      1 time step (2 bytes * 16 ms)
 *   2 target      (2 bytes * 2 MiB)            3 action (kind, 2 bytes * 2 MiB)
 *   4 drain sends                              5 response (kind, n, n * 3 bytes)
 *   6 handshake   (version choice, caps)       7 close / reset / open (choice) */
#include <stdint.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "fuzz.h"

#define GIB (UINT64_C(1) << 18) /* in pages */

static uint64_t fig(const struct dynmem_memmap *m, enum dynmem_memmap_figure f)
{
    uint64_t v = 0;
    REQUIRE(dynmem_memmap_pages(m, f, &v) == 0);
    return v;
}

static void check(const struct dynmem_memmap *m, const dynmem_session_host *h)
{
    uint64_t vis = fig(m, DYNMEM_MEMMAP_VISIBLE);
    REQUIRE(vis == fig(m, DYNMEM_MEMMAP_BOOT) + fig(m, DYNMEM_MEMMAP_ADDED) -
                       fig(m, DYNMEM_MEMMAP_REMOVED));
    REQUIRE(fig(m, DYNMEM_MEMMAP_BALLOONED) <= vis);
    REQUIRE(fig(m, DYNMEM_MEMMAP_CURRENT) == vis - fig(m, DYNMEM_MEMMAP_BALLOONED));
    REQUIRE(fig(m, DYNMEM_MEMMAP_BALLOONED) == dynmem_pageset_pages(dynmem_memmap_ballooned(m)));
    REQUIRE(fig(m, DYNMEM_MEMMAP_WINDOW) == fig(m, DYNMEM_MEMMAP_ADDED) +
                                              fig(m, DYNMEM_MEMMAP_REMAINING) +
                                              fig(m, DYNMEM_MEMMAP_UNUSABLE));
    int st = dynmem_session_host_state(h);
    REQUIRE(st >= DYNMEM_SESSION_HOST_WAIT_CHANNEL && st <= DYNMEM_SESSION_HOST_HOT_REMOVE);
    uint64_t d;
    if (st >= DYNMEM_SESSION_HOST_BALLOON || st == DYNMEM_SESSION_HOST_POST_INIT)
        REQUIRE(dynmem_session_host_next_deadline(h, &d) == 1);
}

static void feed(dynmem_session_host *h, uint64_t now, struct dynmem_proto_msg *m)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    ptrdiff_t n = dynmem_proto_encode(buf, sizeof buf, m, 0);
    if (n > 0)
        (void)dynmem_session_host_recv(h, now, buf, (size_t)n);
}

static void response(dynmem_session_host *h, uint64_t now, struct fuzz_input *in)
{
    static struct dynmem_proto_range r[16];
    unsigned kind = fuzz_byte(in) % 4, n = fuzz_byte(in) % 16;
    for (unsigned i = 0; i < n; i++) {
        r[i].start_page = (uint64_t)fuzz_u16(in) * 128; /* spans boot memory and beyond */
        r[i].page_count = (uint64_t)fuzz_byte(in) * 16;
    }
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    switch (kind) {
    case 0:
        m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
        m.body.balloon_response.more_pages = n & 1;
        m.body.balloon_response.ranges.unpacked = n ? r : NULL;
        m.body.balloon_response.ranges.count = n;
        break;
    case 1:
        m.type = DYNMEM_PROTO_UNBALLOON_RESPONSE;
        break;
    case 2:
        m.type = DYNMEM_PROTO_HOT_ADD_RESPONSE;
        m.body.hot_add_response.page_count = n ? (uint32_t)r[0].start_page : 0;
        m.body.hot_add_response.result = n & 1;
        break;
    default:
        m.type = DYNMEM_PROTO_HOT_REMOVE_RESPONSE;
        m.body.hot_remove_response.result = 1;
        m.body.hot_remove_response.more_pages = n & 1;
        m.body.hot_remove_response.ranges.unpacked = n ? r : NULL;
        m.body.hot_remove_response.ranges.count = n;
        break;
    }
    feed(h, now, &m);
}

static void handshake(dynmem_session_host *h, uint64_t now, struct fuzz_input *in)
{
    static const uint32_t versions[] = {DYNMEM_PROTO_VERSION_WIN7, DYNMEM_PROTO_VERSION_WIN8,
                                        DYNMEM_PROTO_VERSION_WIN10, DYNMEM_PROTO_VERSION(1, 5)};
    unsigned v = fuzz_byte(in), caps = fuzz_byte(in);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_VERSION_REQUEST;
    m.body.version_request.version = versions[v % 4];
    feed(h, now, &m);
    struct dynmem_proto_msg c = DYNMEM_PROTO_MSG_INIT;
    c.type = DYNMEM_PROTO_CAPABILITIES_REPORT;
    c.body.caps_report.balloon = caps & 1;
    c.body.caps_report.hot_add = (caps >> 1) & 1;
    c.body.caps_report.hot_remove = (caps >> 2) & 1;
    c.body.caps_report.hot_add_alignment = (uint8_t)((caps >> 4) & 0xf);
    feed(h, now, &c);
}

/* What the books hold and what the facts said, across steps. */
struct books {
    uint64_t ballooned, added, removed;
    uint64_t handed_back;    /* pages unballoon requests took off the balloon books */
    uint64_t unballoon_fact; /* pages unballoon facts reported */
};

static void books_read(struct books *b, const struct dynmem_memmap *m)
{
    b->ballooned = fig(m, DYNMEM_MEMMAP_BALLOONED);
    b->added = fig(m, DYNMEM_MEMMAP_ADDED);
    b->removed = fig(m, DYNMEM_MEMMAP_REMOVED);
}

/* Reads every event of the step: at most the queue's 64, and the pages
 * of the facts by kind. */
static void facts_of_step(dynmem_session_host *h, uint64_t pages[5])
{
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    int events = 0;
    memset(pages, 0, 5 * sizeof *pages);
    while (dynmem_session_host_next_event(h, &ev) == 1) {
        REQUIRE(++events <= 64);
        REQUIRE(dynmem_session_event_kind_name(ev.kind) != NULL);
        if (ev.kind != DYNMEM_SESSION_EVENT_FACT)
            continue;
        REQUIRE(ev.action_kind >= 1 && ev.action_kind <= 4 && ev.bytes % 4096 == 0);
        pages[ev.action_kind] += ev.bytes >> 12;
    }
}

/* reset: 0 none, else the enum dynmem_session_reset the step performed. */
static void check_books(struct books *b, const struct dynmem_memmap *m,
                        dynmem_session_host *h, int reset)
{
    uint64_t f[5];
    struct books now = *b;
    facts_of_step(h, f);
    books_read(&now, m);
    if (reset != DYNMEM_SESSION_RESET_SYSTEM) {
        /* A hot-add of pages the guest had hot-removed takes them off
         * REMOVED instead of adding them to ADDED (memmap.h). */
        REQUIRE(now.added >= b->added);
        uint64_t re_added = now.removed < b->removed ? b->removed - now.removed : 0;
        uint64_t removed = now.removed > b->removed ? now.removed - b->removed : 0;
        REQUIRE(now.added - b->added + re_added == f[DYNMEM_ACTION_HOT_ADD]);
        REQUIRE(removed == f[DYNMEM_ACTION_HOT_REMOVE]);
    }
    if (!reset) {
        /* Pages only leave the balloon books by an unballoon request. */
        uint64_t grown = b->ballooned + f[DYNMEM_ACTION_BALLOON];
        REQUIRE(now.ballooned <= grown);
        now.handed_back += grown - now.ballooned;
    }
    now.unballoon_fact += f[DYNMEM_ACTION_UNBALLOON];
    REQUIRE(now.unballoon_fact <= now.handed_back);
    if (dynmem_session_host_state(h) != DYNMEM_SESSION_HOST_UNBALLOON)
        REQUIRE(now.unballoon_fact == now.handed_back);
    const struct dynmem_pageset *set = dynmem_memmap_ballooned(m);
    uint64_t from = 0, s, c;
    bool in = false;
    while (dynmem_pageset_next(set, from, &s, &c) == 0) {
        REQUIRE(dynmem_memmap_is_guest_memory(m, s, c, &in) == 0 && in);
        from = s + c;
    }
    *b = now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct dynmem_memmap *map = NULL;
    dynmem_session_host *h = NULL;
    REQUIRE(dynmem_memmap_new(&map, NULL) == 0);
    REQUIRE(dynmem_memmap_add_boot(map, 0, 2 * GIB) == 0);
    REQUIRE(dynmem_memmap_set_hot_add_window(map, 4 * GIB, 4 * GIB) == 0);
    REQUIRE(dynmem_session_host_new(&h, map, NULL) == 0);
    REQUIRE(dynmem_session_host_set_param(h, DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS, 1000) == 0);
    REQUIRE(dynmem_session_host_open(h, 0) == 0);
    struct books b = {0};
    books_read(&b, map);
    uint64_t now = 0;
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    while (in.n) {
        unsigned op = fuzz_byte(&in) % 8;
        int reset = 0;
        switch (op) {
        case 0: {
            size_t len = fuzz_u16(&in) % (DYNMEM_PROTO_MSG_SIZE_MAX + 16);
            if (len > in.n)
                len = in.n;
            (void)dynmem_session_host_recv(h, now, in.p, len);
            in.p += len;
            in.n -= len;
            break;
        }
        case 1:
            now += (uint64_t)fuzz_u16(&in) * 16;
            REQUIRE(dynmem_session_host_tick(h, now) == 0);
            break;
        case 2:
            REQUIRE(dynmem_session_host_set_target(h, now, (uint64_t)fuzz_u16(&in) << 21) == 0);
            break;
        case 3: {
            uint32_t kind = 1 + fuzz_byte(&in) % 4;
            uint64_t bytes = ((uint64_t)fuzz_u16(&in) + 1) << 21;
            REQUIRE(dynmem_session_host_start_action(h, now, kind, bytes, now + 1) == 0);
            break;
        }
        case 4: {
            size_t len;
            while (dynmem_session_host_next_send(h, buf, sizeof buf, &len) == 1)
                REQUIRE(len >= 8 && len <= sizeof buf);
            break;
        }
        case 5: response(h, now, &in); break;
        case 6: handshake(h, now, &in); break;
        default: {
            unsigned what = fuzz_byte(&in) % 4;
            if (what == 0)
                REQUIRE(dynmem_session_host_close(h, now) == 0);
            else if (what == 3)
                (void)dynmem_session_host_open(h, now);
            else
                REQUIRE(dynmem_session_host_reset(h, now, (enum dynmem_session_reset)what) == 0);
            if (what == 1 || what == 2)
                reset = (int)what;
            break;
        }
        }
        check(map, h);
        check_books(&b, map, h, reset);
    }
    dynmem_session_host_free(h);
    dynmem_memmap_free(map);
    return 0;
}
