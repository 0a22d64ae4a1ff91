/* The host session against its reference model (tests/common/hostmodel.c):
 * a random guest, honest or hostile, sends every kind of message, legal and
 * illegal; the host side sets targets and actions, lets time run out, closes
 * and resets the channel. After every step the engine's memory map, state,
 * refusals and facts must equal the model's: the facts of each kind add up
 * to the pages the model moved, and every FINAL fact carries the flags the
 * model expects.
 *
 * 100,000 steps per seed in the api suite (divided under valgrind); the
 * slow suite runs DYNMEM_MODEL_STEPS (10 million) with the seed taken from
 * DYNMEM_MODEL_SEED when it is set. A failure prints the seed and the step;
 * the same seed replays the same run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmodel.h"
#include "splitmix.h"
#include "testscale.h"

#define REPLY_MS 1000u
#define POST_INIT_MS 200u
#define CHUNK 300u

struct run {
    struct hostmodel m;
    struct dynmem_memmap *map;
    dynmem_session_host *h;
    uint64_t rng, seed, step, now, last_status, next_id;
    uint64_t fact_pages[5]; /* what the engine's facts added up to */
    uint64_t finals;        /* FINAL facts matched */
    uint64_t status_ballooned; /* ballooned pages when the last report arrived */
    unsigned char ballooned[HM_SPACE];
};

static uint64_t below(struct run *r, uint64_t n)
{
    return n ? splitmix_next(&r->rng) % n : 0;
}

static bool chance(struct run *r, unsigned percent)
{
    return below(r, 100) < percent;
}

#define CHECK(cond)                                                                       \
    cr_assert(cond, "seed %llu step %llu: %s", (unsigned long long)r->seed,              \
              (unsigned long long)r->step, #cond)

static void run_init(struct run *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->seed = r->rng = seed;
    hm_init(&r->m, REPLY_MS, POST_INIT_MS, CHUNK);
    cr_assert_eq(dynmem_memmap_new(&r->map, NULL), 0);
    cr_assert_eq(dynmem_memmap_add_boot(r->map, 0, HM_BOOT), 0);
    cr_assert_eq(dynmem_memmap_set_hot_add_window(r->map, HM_WIN_START, HM_WIN_PAGES), 0);
    cr_assert_eq(dynmem_session_host_new(&r->h, r->map, NULL), 0);
    cr_assert_eq(dynmem_session_host_set_param(r->h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS,
                                               REPLY_MS), 0);
    cr_assert_eq(dynmem_session_host_set_param(r->h, DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS,
                                               POST_INIT_MS), 0);
    cr_assert_eq(dynmem_session_host_set_param(r->h, DYNMEM_SESSION_HOST_PARAM_BALLOON_CHUNK_PAGES,
                                               CHUNK), 0);
    r->next_id = 1;
}

static void run_fini(struct run *r)
{
    dynmem_session_host_free(r->h);
    dynmem_memmap_free(r->map);
}

/* Every packet the engine queued goes past the model. */
static void take_sent(struct run *r)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    size_t len;
    while (dynmem_session_host_next_send(r->h, buf, sizeof buf, &len) == 1) {
        struct dynmem_proto_msg msg = DYNMEM_PROTO_MSG_INIT;
        CHECK(dynmem_proto_decode(&msg, buf, len, 0, NULL) == 0);
        if (msg.type == DYNMEM_PROTO_VERSION_RESPONSE)
            CHECK(msg.body.version_response.is_accepted ==
                  (r->m.state == DYNMEM_SESSION_HOST_CAPS));
        const char *bad = hm_sent(&r->m, r->now, &msg);
        cr_assert_null(bad, "seed %llu step %llu: %s", (unsigned long long)r->seed,
                       (unsigned long long)r->step, bad);
    }
}

/* Each FACT adds to its kind's total; each FINAL one is the next the
 * model expects, field by field. */
static void take_events(struct run *r)
{
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    unsigned matched = 0;
    while (dynmem_session_host_next_event(r->h, &ev) == 1) {
        if (ev.kind == DYNMEM_SESSION_EVENT_STATUS)
            CHECK(ev.bytes == r->status_ballooned << 12);
        if (ev.kind != DYNMEM_SESSION_EVENT_FACT)
            continue;
        CHECK(ev.action_kind >= 1 && ev.action_kind <= 4);
        CHECK(ev.bytes % 4096 == 0);
        r->fact_pages[ev.action_kind] += ev.bytes >> 12;
        if (!(ev.flags & DYNMEM_SESSION_FLAG_FINAL))
            continue;
        CHECK(matched < r->m.nfinals);
        const struct hm_final *f = &r->m.finals[matched++];
        r->finals++;
        CHECK(ev.action_kind == f->kind);
        CHECK(ev.action_id == f->id);
        cr_assert_eq(ev.flags, f->flags, "seed %llu step %llu: FINAL flags %#x, model %#x "
                     "(kind %u id %llu)", (unsigned long long)r->seed,
                     (unsigned long long)r->step, ev.flags, f->flags, f->kind,
                     (unsigned long long)f->id);
        CHECK(ev.requested_bytes == f->requested_pages << 12);
        CHECK(ev.error == ((f->flags & DYNMEM_SESSION_FLAG_TIMED_OUT)
                               ? DYNMEM_ERR_SESSION_TIMEOUT : 0));
    }
    CHECK(matched == r->m.nfinals);
    r->m.nfinals = 0;
    for (int k = 1; k <= 4; k++)
        CHECK(r->fact_pages[k] == r->m.fact_pages[k]);
}

static uint64_t fig(struct run *r, int f)
{
    uint64_t v = 0;
    CHECK(dynmem_memmap_pages(r->map, (enum dynmem_memmap_figure)f, &v) == 0);
    return v;
}

/* The books: every figure, the ballooned pages one by one, and, now and
 * then, the guest memory run by run. */
static void compare_books(struct run *r)
{
    CHECK(dynmem_session_host_state(r->h) == (int)r->m.state);
    for (int f = DYNMEM_MEMMAP_BOOT; f <= DYNMEM_MEMMAP_UNUSABLE; f++)
        cr_assert_eq(fig(r, f), hm_figure(&r->m, f), "seed %llu step %llu: figure %d",
                     (unsigned long long)r->seed, (unsigned long long)r->step, f);
    const struct dynmem_pageset *b = dynmem_memmap_ballooned(r->map);
    uint64_t from = 0, s, c;
    while (dynmem_pageset_next(b, from, &s, &c) == 0) {
        CHECK(s + c <= HM_SPACE);
        for (uint64_t p = s; p < s + c; p++)
            CHECK(r->m.page[p] == HM_BALLOONED);
        from = s + c;
    }
    if (r->step % 64)
        return;
    for (uint64_t p = 0; p < HM_SPACE;) {
        bool guest = r->m.page[p] == HM_PRESENT || r->m.page[p] == HM_BALLOONED, in = !guest;
        uint64_t e = p + 1;
        while (e < HM_SPACE &&
               (r->m.page[e] == HM_PRESENT || r->m.page[e] == HM_BALLOONED) == guest)
            e++;
        if (guest) {
            CHECK(dynmem_memmap_is_guest_memory(r->map, p, e - p, &in) == 0);
            CHECK(in);
        }
        p = e;
    }
}

/* ---- what the guest sends ---- */

/* The protocol version that introduced a message type (docs/protocol.md). */
static uint32_t version_of(uint16_t type)
{
    if (type == DYNMEM_PROTO_INFO_MESSAGE)
        return DYNMEM_PROTO_VERSION_WIN8;
    return type >= DYNMEM_PROTO_HOT_REMOVE_REQUEST ? DYNMEM_PROTO_VERSION_WIN10
                                                   : DYNMEM_PROTO_VERSION_WIN7;
}

static int deliver(struct run *r, struct dynmem_proto_msg *msg)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    ptrdiff_t n = dynmem_proto_encode(buf, sizeof buf, msg, 0);
    CHECK(n > 0);
    hm_timers(&r->m, r->now);
    int rc = dynmem_session_host_recv(r->h, r->now, buf, (size_t)n);
    int want;
    if (r->m.state == DYNMEM_SESSION_HOST_WAIT_CHANNEL)
        want = DYNMEM_ERR_SESSION_CLOSED;
    else if (r->m.version && r->m.version < version_of(msg->type))
        want = DYNMEM_ERR_PROTO_VERSION; /* the channel's version lacks the type */
    else
        want = hm_recv(&r->m, r->now, msg);
    cr_assert_eq(rc, want, "seed %llu step %llu: message type %u", (unsigned long long)r->seed,
                 (unsigned long long)r->step, msg->type);
    /* A report carries the balloon as it arrived, before the engine plans
     * (an unballoon it then sends takes pages off the books). */
    r->status_ballooned = hm_count(&r->m, HM_BALLOONED);
    take_sent(r);
    hm_planned(&r->m);
    return rc;
}

/* A range of pages the guest holds, from a random place, at most `max`. */
static struct dynmem_proto_range present_range(struct run *r, uint64_t max)
{
    uint64_t at = below(r, HM_SPACE);
    for (uint64_t i = 0; i < HM_SPACE; i++) {
        uint64_t p = (at + i) % HM_SPACE, e = p;
        while (e < HM_SPACE && e - p < max && r->m.page[e] == HM_PRESENT)
            e++;
        if (e > p)
            return (struct dynmem_proto_range){p, e - p};
    }
    return (struct dynmem_proto_range){0, 0};
}

/* Any range at all: inside, outside, overlapping, huge, empty. */
static struct dynmem_proto_range wild_range(struct run *r)
{
    switch (below(r, 6)) {
    case 0: return (struct dynmem_proto_range){DYNMEM_PROTO_RANGE_START_MAX - below(r, 4),
                                               1 + below(r, 8)};
    case 1: return (struct dynmem_proto_range){below(r, HM_SPACE), 0};
    case 2: return (struct dynmem_proto_range){below(r, 2 * HM_SPACE), 1 + below(r, 2000)};
    default: return (struct dynmem_proto_range){below(r, HM_SPACE), 1 + below(r, 64)};
    }
}

/* A balloon or hot-remove answer: honest pages, lies, or both. */
static void ranged_answer(struct run *r, bool remove)
{
    struct dynmem_proto_range rs[8];
    uint32_t n = (uint32_t)below(r, 5);
    bool honest = chance(r, 60);
    uint64_t left = r->m.tx_asked > r->m.tx_got ? r->m.tx_asked - r->m.tx_got : 0;
    for (uint32_t i = 0; i < n; i++) {
        rs[i] = honest ? present_range(r, 1 + below(r, left + 1)) : wild_range(r);
        if (honest && rs[i].page_count == 0)
            n = i;
    }
    struct dynmem_proto_msg msg = DYNMEM_PROTO_MSG_INIT;
    msg.type = remove ? DYNMEM_PROTO_HOT_REMOVE_RESPONSE : DYNMEM_PROTO_BALLOON_RESPONSE;
    bool more = chance(r, 50);
    struct dynmem_proto_ranges *l = remove ? &msg.body.hot_remove_response.ranges
                                           : &msg.body.balloon_response.ranges;
    l->unpacked = n ? rs : NULL;
    l->count = n;
    if (remove) {
        msg.body.hot_remove_response.result = 1;
        msg.body.hot_remove_response.more_pages = more;
    } else {
        msg.body.balloon_response.more_pages = more;
    }
    deliver(r, &msg);
}

static void hot_add_answer(struct run *r)
{
    struct dynmem_proto_msg msg = DYNMEM_PROTO_MSG_INIT;
    msg.type = DYNMEM_PROTO_HOT_ADD_RESPONSE;
    uint64_t asked = r->m.tx_asked;
    uint64_t answers[5] = {asked, below(r, asked + 1), 0, asked + 1 + below(r, 5000),
                           UINT32_MAX};
    msg.body.hot_add_response.page_count = (uint32_t)answers[below(r, 5)];
    msg.body.hot_add_response.result = chance(r, 85);
    deliver(r, &msg);
}

/* The answer the outstanding request calls for, or a stray one. */
static void answer(struct run *r)
{
    uint32_t state = r->m.state;
    if (!chance(r, 85))
        state = DYNMEM_SESSION_HOST_BALLOON + (uint32_t)below(r, 4);
    struct dynmem_proto_msg msg = DYNMEM_PROTO_MSG_INIT;
    switch (state) {
    case DYNMEM_SESSION_HOST_BALLOON: ranged_answer(r, false); break;
    case DYNMEM_SESSION_HOST_HOT_REMOVE: ranged_answer(r, true); break;
    case DYNMEM_SESSION_HOST_HOT_ADD: hot_add_answer(r); break;
    case DYNMEM_SESSION_HOST_UNBALLOON:
        msg.type = DYNMEM_PROTO_UNBALLOON_RESPONSE;
        deliver(r, &msg);
        break;
    default: break;
    }
}

static void negotiate(struct run *r)
{
    static const uint32_t versions[] = {DYNMEM_PROTO_VERSION_WIN10, DYNMEM_PROTO_VERSION_WIN8,
                                        DYNMEM_PROTO_VERSION_WIN7, 0x20001, 0x5};
    struct dynmem_proto_msg msg = DYNMEM_PROTO_MSG_INIT;
    if (r->m.state == DYNMEM_SESSION_HOST_CAPS && chance(r, 90)) {
        msg.type = DYNMEM_PROTO_CAPABILITIES_REPORT;
        msg.body.caps_report.balloon = chance(r, 90);
        msg.body.caps_report.hot_add = chance(r, 85);
        msg.body.caps_report.hot_remove = chance(r, 60);
        msg.body.caps_report.hot_add_alignment = (uint8_t)below(r, 2);
    } else {
        msg.type = DYNMEM_PROTO_VERSION_REQUEST;
        msg.body.version_request.version = versions[chance(r, 80) ? below(r, 3) : below(r, 5)];
    }
    deliver(r, &msg);
}

static void status_report(struct run *r)
{
    /* Below the flood rule's rate: the rule has tests of its own. */
    if (r->now - r->last_status < 300 && r->last_status)
        return;
    r->last_status = r->now;
    struct dynmem_proto_msg msg = DYNMEM_PROTO_MSG_INIT;
    msg.type = DYNMEM_PROTO_STATUS_REPORT;
    msg.body.status_report.num_committed = below(r, 1u << 20);
    msg.body.status_report.num_avail = below(r, 1u << 20);
    deliver(r, &msg);
}

/* Bytes that do not decode, a message only the host sends, an error. */
static void nonsense(struct run *r)
{
    struct dynmem_proto_msg msg = DYNMEM_PROTO_MSG_INIT;
    unsigned char junk[16];
    switch (below(r, 3)) {
    case 0:
        for (unsigned i = 0; i < sizeof junk; i++)
            junk[i] = (unsigned char)below(r, 256);
        junk[0] = (unsigned char)(15 + below(r, 200)); /* no such type */
        hm_timers(&r->m, r->now);
        int rc = dynmem_session_host_recv(r->h, r->now, junk, 1 + below(r, sizeof junk));
        CHECK(rc != 0);
        if (r->m.state != DYNMEM_SESSION_HOST_WAIT_CHANNEL)
            CHECK(rc <= -100 && rc > -200);
        take_sent(r);
        hm_planned(&r->m);
        return;
    case 1: {
        static const uint16_t host_only[] = {
            DYNMEM_PROTO_VERSION_RESPONSE, DYNMEM_PROTO_CAPABILITIES_RESPONSE,
            DYNMEM_PROTO_BALLOON_REQUEST,  DYNMEM_PROTO_UNBALLOON_REQUEST,
            DYNMEM_PROTO_HOT_ADD_REQUEST,  DYNMEM_PROTO_INFO_MESSAGE,
            DYNMEM_PROTO_HOT_REMOVE_REQUEST};
        msg.type = host_only[below(r, sizeof host_only / sizeof host_only[0])];
        static const struct dynmem_proto_range one = {HM_BOOT - 1, 1};
        msg.body.balloon_request.num_pages = 1; /* also a 1-page hot-remove request */
        if (msg.type == DYNMEM_PROTO_HOT_REMOVE_REQUEST)
            msg.body.hot_remove_request.page_count = 1;
        if (msg.type == DYNMEM_PROTO_UNBALLOON_REQUEST) {
            msg.body.unballoon_request.ranges.unpacked = &one;
            msg.body.unballoon_request.ranges.count = 1;
        }
        if (msg.type == DYNMEM_PROTO_HOT_ADD_REQUEST)
            msg.body.hot_add_request.range = one;
        if (msg.type == DYNMEM_PROTO_INFO_MESSAGE) {
            msg.body.info_message.info_type = DYNMEM_PROTO_INFO_MAX_PAGE_COUNT;
            msg.body.info_message.data_size = 8;
            msg.body.info_message.max_page_count = HM_SPACE;
        }
        break;
    }
    default: msg.type = DYNMEM_PROTO_ERROR; break;
    }
    deliver(r, &msg);
}

/* ---- what the host side does ---- */

static void set_target(struct run *r)
{
    uint64_t pages = below(r, HM_SPACE);
    hm_timers(&r->m, r->now);
    hm_set_target(&r->m);
    CHECK(dynmem_session_host_set_target(r->h, r->now, pages << 12) == 0);
    take_sent(r);
    hm_planned(&r->m);
}

static void start_action(struct run *r)
{
    uint32_t kind = 1 + (uint32_t)below(r, 4);
    uint64_t pages = 1 + below(r, chance(r, 20) ? 4000 : 600), id = r->next_id++;
    hm_timers(&r->m, r->now);
    hm_start_action(&r->m, kind, pages, id);
    CHECK(dynmem_session_host_start_action(r->h, r->now, kind, pages << 12, id) == 0);
    take_sent(r);
    hm_planned(&r->m);
}

static void tick(struct run *r)
{
    uint64_t d;
    if (chance(r, 50) && dynmem_session_host_next_deadline(r->h, &d) == 1 && d >= r->now)
        r->now = d;
    else
        r->now += below(r, REPLY_MS / 2);
    hm_timers(&r->m, r->now);
    CHECK(dynmem_session_host_tick(r->h, r->now) == 0);
    take_sent(r);
    hm_planned(&r->m);
}

static void channel(struct run *r)
{
    switch (below(r, 3)) {
    case 0:
        hm_close(&r->m);
        CHECK(dynmem_session_host_close(r->h, r->now) == 0);
        break;
    case 1:
        hm_reset(&r->m, DYNMEM_SESSION_RESET_VMBUS);
        CHECK(dynmem_session_host_reset(r->h, r->now, DYNMEM_SESSION_RESET_VMBUS) == 0);
        break;
    default:
        hm_reset(&r->m, DYNMEM_SESSION_RESET_SYSTEM);
        CHECK(dynmem_session_host_reset(r->h, r->now, DYNMEM_SESSION_RESET_SYSTEM) == 0);
        break;
    }
}

static void step(struct run *r)
{
    r->now += below(r, 50);
    if (r->m.state == DYNMEM_SESSION_HOST_WAIT_CHANNEL && chance(r, 70)) {
        hm_open(&r->m);
        CHECK(dynmem_session_host_open(r->h, r->now) == 0);
    } else if ((r->m.state == DYNMEM_SESSION_HOST_VERSION ||
                r->m.state == DYNMEM_SESSION_HOST_CAPS) && chance(r, 80)) {
        negotiate(r);
    } else {
        unsigned x = (unsigned)below(r, 100);
        if (x < 40)
            answer(r);
        else if (x < 52)
            set_target(r);
        else if (x < 64)
            start_action(r);
        else if (x < 80)
            tick(r);
        else if (x < 87)
            status_report(r);
        else if (x < 93)
            nonsense(r);
        else if (x < 95)
            negotiate(r);
        else if (x < 97)
            CHECK(dynmem_session_host_clear_target(r->h) == 0);
        else if (chance(r, 30))
            channel(r);
    }
    take_events(r);
    compare_books(r);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : def;
}

static void run_steps(uint64_t seed, uint64_t steps)
{
    struct run *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    run_init(r, seed);
    for (r->step = 0; r->step < steps; r->step++)
        step(r);
    /* The run reached every corner: transactions of every kind ended, by
     * answers and by timeouts, and every kind of refusal happened. */
    for (int k = 1; k <= 4; k++)
        cr_assert_gt(r->fact_pages[k], 0, "seed %llu: no facts of kind %d",
                     (unsigned long long)seed, k);
    struct dynmem_session_host_counters c = DYNMEM_SESSION_HOST_COUNTERS_INIT;
    cr_assert_eq(dynmem_session_host_counters(r->h, &c), 0);
    if (getenv("DYNMEM_MODEL_VERBOSE"))
        fprintf(stderr, "seed %llu: %llu transactions, %llu timeouts, %llu refused, %llu "
                "ranges refused, %llu clamped, %llu status, %llu finals\n",
                (unsigned long long)seed, (unsigned long long)c.transactions,
                (unsigned long long)c.timeouts, (unsigned long long)c.refused,
                (unsigned long long)c.ranges_refused, (unsigned long long)c.clamped,
                (unsigned long long)c.status_reports, (unsigned long long)r->finals);
    if (steps >= 10000) {
        cr_assert_gt(c.timeouts, 0);
        cr_assert_gt(c.ranges_refused, 0);
        cr_assert_gt(c.clamped, 0);
        cr_assert_gt(c.refused, 0);
    }
    run_fini(r);
    free(r);
}

TestSuite(session_model, .timeout = 600);

Test(session_model, engine_equals_model_seed_1)
{
    run_steps(1, (uint64_t)test_scaled(100000));
}

Test(session_model, engine_equals_model_seed_2)
{
    run_steps(0x5eed2, (uint64_t)test_scaled(100000));
}

/* The long run (suite slow, which sets DYNMEM_MODEL_STEPS): from
 * DYNMEM_MODEL_SEED, or a fixed seed. The api suite filters it out. */
Test(session_model, long_run)
{
    uint64_t steps = env_u64("DYNMEM_MODEL_STEPS", 0);
    cr_assert_gt(steps, 0, "set DYNMEM_MODEL_STEPS (meson test --suite slow does)");
    uint64_t seed = env_u64("DYNMEM_MODEL_SEED", 0x10a6);
    fprintf(stderr, "session model: %llu steps from seed %llu\n", (unsigned long long)steps,
            (unsigned long long)seed);
    run_steps(seed, steps);
}
