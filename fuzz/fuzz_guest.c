/* libFuzzer target: a guest session fed a random sequence of host packets
 * (raw bytes, or well-formed requests of every kind with random sizes and
 * ranges), time steps, resets, setting changes and more memory. After every
 * step, inside the target:
 *   - every page the guest counts as ballooned is memory it has;
 *   - when the guest's usable memory (memory less balloon) shrank, it still
 *     holds its committed pages and its floor (a fixed floor from the
 *     input, or Linux's, which only grows with the memory);
 *   - every packet it sends decodes at the version it negotiated and is a
 *     message a guest sends.
 * The input is a list of operations:
 *   op byte, then its operands (missing bytes read as zero):
 *   0 raw packet (len hi, len lo, bytes)   1 time step (2 bytes * 16 ms)
 *   2 request (kind, 4 size bytes, n, n * 4 range bytes)
 *   3 take every packet                    4 reset / connect (choice)
 *   5 setting (which, 4 value bytes)       6 more memory (2 bytes * 2 MiB) */
#include <stdint.h>
#include <string.h>

#include <dynmem/dynmem.h>

#include "fuzz.h"

#define MIB 256u /* pages */
/* Memory the guest boots with and may grow to: enough to cross the Linux
 * floor's knees at 128 and 512 MiB, small because a guest in Linux's
 * single-page fallback answers one range per page, and the run's cost
 * grows with the memory it may give (2 GiB ran at ~70 inputs a second). */
#define MEMORY_BOOT (256 * MIB)
#define MEMORY_MAX (640 * MIB)

struct guest {
    dynmem_session_guest *g;
    uint64_t now, committed, next_boot;
    int64_t floor; /* the setting: pages, or -1 for Linux's formula */
    bool giving;   /* a balloon or hot-remove answer is being sent */
};

static uint64_t memory(const struct guest *s)
{
    return dynmem_pageset_pages(dynmem_session_guest_memory(s->g));
}

static uint64_t usable(const struct guest *s)
{
    return memory(s) - dynmem_pageset_pages(dynmem_session_guest_ballooned(s->g));
}

/* Linux's balloon floor as its source states it: 8 MiB plus half of the
 * first 128 MiB, a quarter up to 512 MiB, an eighth up to 2 GiB, a
 * sixteenth up to 8 GiB, a thirty-second beyond (continuous at the knees). */
static uint64_t linux_floor(uint64_t t)
{
    static const struct { uint64_t below, base, div; } knees[] = {
        {128 * MIB, 8 * MIB, 2},     {512 * MIB, 40 * MIB, 4},
        {2048 * MIB, 104 * MIB, 8},  {8192 * MIB, 232 * MIB, 16},
        {UINT64_MAX, 488 * MIB, 32},
    };
    unsigned i = 0;
    while (t >= knees[i].below)
        i++;
    return knees[i].base + t / knees[i].div;
}

static void send_msg(struct guest *s, struct dynmem_proto_msg *m)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    ptrdiff_t n = dynmem_proto_encode(buf, sizeof buf, m, 0);
    if (n <= 0)
        return;
    int rc = dynmem_session_guest_recv(s->g, s->now, buf, (size_t)n);
    if (rc == 0 && (m->type == DYNMEM_PROTO_BALLOON_REQUEST ||
                    m->type == DYNMEM_PROTO_HOT_REMOVE_REQUEST))
        s->giving = true;
}

static void request(struct guest *s, struct fuzz_input *in)
{
    static struct dynmem_proto_range r[16];
    static const uint16_t types[] = {
        DYNMEM_PROTO_VERSION_RESPONSE, DYNMEM_PROTO_CAPABILITIES_RESPONSE,
        DYNMEM_PROTO_BALLOON_REQUEST,  DYNMEM_PROTO_UNBALLOON_REQUEST,
        DYNMEM_PROTO_HOT_ADD_REQUEST,  DYNMEM_PROTO_INFO_MESSAGE,
        DYNMEM_PROTO_HOT_REMOVE_REQUEST};
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = types[fuzz_byte(in) % 7];
    uint32_t size = fuzz_u32(in);
    unsigned n = fuzz_byte(in) % 16;
    for (unsigned i = 0; i < n; i++) {
        r[i].start_page = (uint64_t)fuzz_u16(in) * 64;
        r[i].page_count = (uint64_t)fuzz_u16(in);
    }
    switch (m.type) {
    case DYNMEM_PROTO_VERSION_RESPONSE: m.body.version_response.is_accepted = size & 1; break;
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        m.body.caps_response.is_accepted = size & 1;
        m.body.caps_response.suppress_pressure_reports = (size >> 1) & 1;
        break;
    case DYNMEM_PROTO_BALLOON_REQUEST: m.body.balloon_request.num_pages = size; break;
    case DYNMEM_PROTO_UNBALLOON_REQUEST:
        m.body.unballoon_request.more_pages = size & 1;
        m.body.unballoon_request.ranges.unpacked = n ? r : NULL;
        m.body.unballoon_request.ranges.count = n;
        break;
    case DYNMEM_PROTO_HOT_ADD_REQUEST:
        m.body.hot_add_request.range.start_page = n ? r[0].start_page : size;
        m.body.hot_add_request.range.page_count =
            memory(s) < MEMORY_MAX ? size % (MEMORY_MAX - memory(s) + 1) : size & 0xf;
        break;
    case DYNMEM_PROTO_INFO_MESSAGE:
        m.body.info_message.data_size = 8;
        m.body.info_message.max_page_count = size;
        break;
    default: m.body.hot_remove_request.page_count = size; break;
    }
    send_msg(s, &m);
}

/* Takes every packet: each must decode as a guest's message. */
static void take(struct guest *s)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    size_t len;
    uint32_t version = dynmem_session_guest_version(s->g);
    while (dynmem_session_guest_next_send(s->g, buf, sizeof buf, &len) == 1) {
        struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
        REQUIRE(dynmem_proto_decode(&m, buf, len, version, NULL) == 0);
        REQUIRE(m.type == DYNMEM_PROTO_VERSION_REQUEST ||
                m.type == DYNMEM_PROTO_CAPABILITIES_REPORT ||
                m.type == DYNMEM_PROTO_STATUS_REPORT || m.type == DYNMEM_PROTO_BALLOON_RESPONSE ||
                m.type == DYNMEM_PROTO_UNBALLOON_RESPONSE ||
                m.type == DYNMEM_PROTO_HOT_ADD_RESPONSE ||
                m.type == DYNMEM_PROTO_HOT_REMOVE_RESPONSE);
        if ((m.type == DYNMEM_PROTO_BALLOON_RESPONSE && !m.body.balloon_response.more_pages) ||
            (m.type == DYNMEM_PROTO_HOT_REMOVE_RESPONSE &&
             !m.body.hot_remove_response.more_pages))
            s->giving = false;
    }
}

/* The settings a guest's own life changes; the floor and committed pages
 * only between answers, since an answer keeps what held when it began. */
static void setting(struct guest *s, struct fuzz_input *in)
{
    unsigned which = fuzz_byte(in) % 4;
    uint32_t v = fuzz_u32(in);
    switch (which) {
    case 0:
        if (!s->giving && dynmem_session_guest_set_param(
                              s->g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES, v % MEMORY_MAX) == 0)
            s->committed = v % MEMORY_MAX;
        break;
    case 1: {
        int64_t f = (v & 1) ? -1 : (int64_t)(v % MEMORY_MAX);
        if (!s->giving &&
            dynmem_session_guest_set_param(s->g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, f) == 0)
            s->floor = f;
        break;
    }
    case 2:
        (void)dynmem_session_guest_set_param(s->g, DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE, v & 1);
        break;
    default:
        (void)dynmem_session_guest_set_param(s->g, DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS,
                                             v % 5000);
        break;
    }
}

static void check(const struct guest *s, uint64_t usable_before)
{
    const struct dynmem_pageset *mem = dynmem_session_guest_memory(s->g);
    const struct dynmem_pageset *bal = dynmem_session_guest_ballooned(s->g);
    uint64_t from = 0, st, c;
    bool in = false;
    while (dynmem_pageset_next(bal, from, &st, &c) == 0) {
        REQUIRE(dynmem_pageset_contains(mem, st, c, &in) == 0 && in);
        from = st + c;
    }
    uint64_t u = usable(s);
    if (u < usable_before) {
        uint64_t fl = s->floor >= 0 ? (uint64_t)s->floor : linux_floor(u);
        REQUIRE(u >= s->committed + fl);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct guest s = {.floor = -1, .next_boot = 1024 * MIB};
    REQUIRE(dynmem_session_guest_new(&s.g, NULL) == 0);
    REQUIRE(dynmem_session_guest_add_memory(s.g, 0, MEMORY_BOOT) == 0);
    REQUIRE(dynmem_session_guest_set_param(s.g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS, 0) == 0);
    REQUIRE(dynmem_session_guest_connect(s.g, 0) == 0);
    while (in.n) {
        unsigned op = fuzz_byte(&in) % 7;
        uint64_t before = usable(&s);
        bool may_shrink = false; /* a system reset drops hot-added memory */
        switch (op) {
        case 0: {
            size_t len = fuzz_u16(&in) % (DYNMEM_PROTO_MSG_SIZE_MAX + 16);
            if (len > in.n)
                len = in.n;
            (void)dynmem_session_guest_recv(s.g, s.now, in.p, len);
            in.p += len;
            in.n -= len;
            break;
        }
        case 1:
            s.now += (uint64_t)fuzz_u16(&in) * 16;
            REQUIRE(dynmem_session_guest_tick(s.g, s.now) == 0);
            break;
        case 2: request(&s, &in); break;
        case 3: take(&s); break;
        case 4: {
            unsigned what = fuzz_byte(&in) % 3;
            if (what == 0)
                REQUIRE(dynmem_session_guest_connect(s.g, s.now) == 0);
            else
                (void)dynmem_session_guest_reset(s.g, s.now, (enum dynmem_session_reset)what);
            may_shrink = what == DYNMEM_SESSION_RESET_SYSTEM;
            s.giving = false;
            break;
        }
        case 5: setting(&s, &in); break;
        default: {
            uint64_t pages = (uint64_t)fuzz_u16(&in) % 1024 * 512 + 512;
            if (memory(&s) + pages <= MEMORY_MAX &&
                dynmem_session_guest_add_memory(s.g, s.next_boot, pages) == 0)
                s.next_boot += pages;
            break;
        }
        }
        if (!may_shrink)
            check(&s, before);
        struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
        int events = 0;
        while (dynmem_session_guest_next_event(s.g, &ev) == 1)
            REQUIRE(++events <= 64);
    }
    dynmem_session_guest_free(s.g);
    return 0;
}
