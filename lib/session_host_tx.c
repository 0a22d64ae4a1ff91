/* Host (VSP) session: planning the next transaction from the target or the
 * action, the transactions themselves, and the timers. The memory map is
 * changed only here, and only on what the guest reported. */
#include <inttypes.h>

#include "session_host_internal.h"

static uint64_t fig(const dynmem_session_host *h, enum dynmem_memmap_figure f)
{
    uint64_t v = 0;
    (void)dynmem_memmap_pages(h->map, f, &v);
    return v;
}

static uint32_t tx_kind(uint32_t state)
{
    switch (state) {
    case DYNMEM_SESSION_HOST_BALLOON: return 3;    /* DYNMEM_ACTION_BALLOON */
    case DYNMEM_SESSION_HOST_UNBALLOON: return 1;  /* DYNMEM_ACTION_UNBALLOON */
    case DYNMEM_SESSION_HOST_HOT_ADD: return 2;    /* DYNMEM_ACTION_HOT_ADD */
    default: return 4;                             /* DYNMEM_ACTION_HOT_REMOVE */
    }
}

void dynmem__host_fact(dynmem_session_host *h, uint32_t kind, uint64_t id, uint64_t pages,
                       uint64_t requested_pages, uint32_t flags)
{
    struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_FACT, .time_ms = h->now,
                                      .action_kind = kind, .action_id = id,
                                      .bytes = pages << DYNMEM_PAGE_SHIFT,
                                      .requested_bytes = requested_pages << DYNMEM_PAGE_SHIFT,
                                      .flags = flags};
    if (flags & DYNMEM_SESSION_FLAG_TIMED_OUT)
        ev.error = DYNMEM_ERR_SESSION_TIMEOUT;
    dynmem__evq_push(&h->evq, &ev);
}

void dynmem__host_refuse(dynmem_session_host *h, int error, uint32_t msg_type, uint32_t flags,
                         uint64_t claimed_pages)
{
    struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_REFUSED, .time_ms = h->now,
                                      .error = error, .msg_type = msg_type, .flags = flags,
                                      .requested_bytes = claimed_pages << DYNMEM_PAGE_SHIFT};
    dynmem__evq_push(&h->evq, &ev);
}

void dynmem__host_action_end(dynmem_session_host *h, uint32_t flags)
{
    if (h->act_done < h->act_pages)
        flags |= DYNMEM_SESSION_FLAG_PARTIAL;
    if (h->act_done == 0 && (flags & DYNMEM_SESSION_FLAG_PARTIAL) &&
        !(flags & DYNMEM_SESSION_FLAG_RESET))
        flags |= DYNMEM_SESSION_FLAG_FAILED;
    dynmem__host_fact(h, h->act_kind, h->act_id, 0, h->act_pages,
                      flags | DYNMEM_SESSION_FLAG_FINAL);
    h->act_live = false;
}

static void arm_reply(dynmem_session_host *h)
{
    h->reply_armed = true;
    h->reply_at = h->now + (uint64_t)h->param[DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS];
}

void dynmem__host_tx_end(dynmem_session_host *h, uint32_t flags)
{
    uint32_t kind = tx_kind(h->state);
    bool short_ = h->tx_got < h->tx_asked;
    if (flags & (DYNMEM_SESSION_FLAG_TIMED_OUT | DYNMEM_SESSION_FLAG_RESET)) {
        flags |= DYNMEM_SESSION_FLAG_FAILED;
        if (h->state == DYNMEM_SESSION_HOST_HOT_ADD) {
            /* Unconfirmed: nothing was added, the window's rest is given up
             * until a system reset (the guest may still take the range). */
            (void)dynmem_memmap_hot_add_done(h->map, h->tx_start, h->tx_asked, 0, NULL);
        } else if (h->state == DYNMEM_SESSION_HOST_UNBALLOON) {
            /* The pages were handed back when sent: count them as the guest's. */
            dynmem__host_fact(h, kind, h->tx_action_id, h->tx_asked, 0, 0);
            h->tx_got = h->tx_asked;
            short_ = false;
        }
    }
    if (flags & DYNMEM_SESSION_FLAG_TIMED_OUT)
        h->c.timeouts++;
    h->state = DYNMEM_SESSION_HOST_IDLE;
    h->reply_armed = false;
    h->trans_id++;
    if (h->tx_for_action && h->act_live && h->act_id == h->tx_action_id) {
        h->act_done += h->tx_got;
        if (short_ || (flags & DYNMEM_SESSION_FLAG_FAILED) || h->act_done >= h->act_pages)
            dynmem__host_action_end(h, flags);
        return;
    }
    if (short_)
        flags |= DYNMEM_SESSION_FLAG_PARTIAL;
    if (short_ && h->tx_got == 0)
        flags |= DYNMEM_SESSION_FLAG_FAILED;
    dynmem__host_fact(h, kind, h->tx_action_id, 0, h->tx_asked, flags | DYNMEM_SESSION_FLAG_FINAL);
    if (!h->tx_for_action && (short_ || (flags & DYNMEM_SESSION_FLAG_FAILED)))
        h->target_stalled = true; /* until the next set_target */
}

void dynmem__host_timers(dynmem_session_host *h)
{
    if (h->post_init_armed && h->now >= h->post_init_at) {
        h->post_init_armed = false;
        h->state = DYNMEM_SESSION_HOST_IDLE;
        struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_READY, .time_ms = h->now};
        dynmem__evq_push(&h->evq, &ev);
    }
    if (h->reply_armed && h->now >= h->reply_at && h->state >= DYNMEM_SESSION_HOST_BALLOON)
        dynmem__host_tx_end(h, DYNMEM_SESSION_FLAG_TIMED_OUT);
}

static void begin(dynmem_session_host *h, uint32_t state, uint64_t asked, bool for_action)
{
    h->state = state;
    h->tx_asked = asked;
    h->tx_got = 0;
    h->tx_for_action = for_action;
    h->tx_action_id = for_action ? h->act_id : 0;
    h->c.transactions++;
    arm_reply(h);
}

static bool send_request(dynmem_session_host *h, const struct dynmem_proto_msg *m)
{
    return dynmem__outbox_put(&h->out, m, h->version) == 0;
}

/* A balloon or hot-remove request: both ask for a page count, capped. */
static bool start_take(dynmem_session_host *h, uint64_t pages, bool for_action, bool remove)
{
    uint64_t cap = (uint64_t)h->param[DYNMEM_SESSION_HOST_PARAM_BALLOON_CHUNK_PAGES];
    if (pages > cap)
        pages = cap;
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.trans_id = h->trans_id;
    if (remove) {
        m.type = DYNMEM_PROTO_HOT_REMOVE_REQUEST;
        m.body.hot_remove_request.page_count = (uint32_t)pages;
    } else {
        m.type = DYNMEM_PROTO_BALLOON_REQUEST;
        m.body.balloon_request.num_pages = (uint32_t)pages;
    }
    if (!send_request(h, &m))
        return false;
    begin(h, remove ? DYNMEM_SESSION_HOST_HOT_REMOVE : DYNMEM_SESSION_HOST_BALLOON, pages,
          for_action);
    return true;
}

/* Returns false if nothing is ballooned (or nothing could be sent). */
static bool start_unballoon(dynmem_session_host *h, uint64_t pages, bool for_action)
{
    uint32_t n = 0;
    uint64_t total = 0;
    while (n < DYNMEM_PROTO_RANGES_MAX && total < pages) {
        uint64_t want = pages - total, start = 0, count = 0;
        if (want > DYNMEM_MEMMAP_CHUNK_PAGES)
            want = DYNMEM_MEMMAP_CHUNK_PAGES;
        if (dynmem_memmap_unballoon_take(h->map, want, &start, &count) || !count)
            break;
        h->ranges[n].start_page = start;
        h->ranges[n].page_count = count;
        n++;
        total += count;
    }
    if (!n)
        return false;
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_UNBALLOON_REQUEST;
    m.trans_id = h->trans_id;
    m.body.unballoon_request.ranges.unpacked = h->ranges;
    m.body.unballoon_request.ranges.count = n;
    if (!send_request(h, &m)) {
        for (uint32_t i = 0; i < n; i++) /* put them back: nothing was sent */
            (void)dynmem_memmap_balloon_record(h->map, h->ranges[i].start_page,
                                               h->ranges[i].page_count);
        return false;
    }
    begin(h, DYNMEM_SESSION_HOST_UNBALLOON, total, for_action);
    return true;
}

static bool start_hot_add(dynmem_session_host *h, uint64_t pages, bool for_action)
{
    uint64_t start = 0, count = 0;
    if (dynmem_memmap_hot_add_plan(h->map, pages, &start, &count) || !count)
        return false;
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_HOT_ADD_REQUEST;
    m.trans_id = h->trans_id;
    m.body.hot_add_request.range.start_page = start;
    m.body.hot_add_request.range.page_count = count;
    m.body.hot_add_request.has_region = true;
    m.body.hot_add_request.region = m.body.hot_add_request.range;
    if (!send_request(h, &m))
        return false;
    begin(h, DYNMEM_SESSION_HOST_HOT_ADD, count, for_action);
    h->tx_start = start;
    return true;
}

static bool can_hot_remove(const dynmem_session_host *h)
{
    return h->cap_hot_remove && h->version >= DYNMEM_PROTO_VERSION_WIN10;
}

static void plan_action(dynmem_session_host *h)
{
    uint64_t left = h->act_pages - h->act_done;
    bool ok = false;
    switch (h->act_kind) {
    case 1: ok = h->cap_balloon && start_unballoon(h, left, true); break;
    case 2: ok = h->cap_hot_add && start_hot_add(h, left, true); break;
    case 3: ok = h->cap_balloon && start_take(h, left, true, false); break;
    default: ok = can_hot_remove(h) && start_take(h, left, true, true); break;
    }
    if (!ok && h->out.count < DYNMEM__OUTBOX_CAP)
        dynmem__host_action_end(h, 0); /* nothing (more) can be done */
}

static void plan_target(dynmem_session_host *h)
{
    uint64_t current = fig(h, DYNMEM_MEMMAP_CURRENT);
    if (h->target_pages > current) {
        uint64_t diff = h->target_pages - current;
        if (h->cap_balloon && fig(h, DYNMEM_MEMMAP_BALLOONED) && start_unballoon(h, diff, false))
            return;
        if (h->cap_hot_add && start_hot_add(h, diff, false))
            return;
    } else if (h->target_pages < current) {
        uint64_t diff = current - h->target_pages;
        if (h->param[DYNMEM_SESSION_HOST_PARAM_PREFER_HOT_REMOVE] && can_hot_remove(h) &&
            start_take(h, diff, false, true))
            return;
        if (h->cap_balloon && start_take(h, diff, false, false))
            return;
    }
    /* Nothing to do, or nothing possible: wait for a new target. */
    if (h->out.count < DYNMEM__OUTBOX_CAP)
        h->target_stalled = true;
}

void dynmem__host_plan(dynmem_session_host *h)
{
    if (h->state != DYNMEM_SESSION_HOST_IDLE || h->out.count >= DYNMEM__OUTBOX_CAP)
        return;
    if (h->act_live)
        plan_action(h);
    else if (h->target_set && !h->target_stalled)
        plan_target(h);
}

/* Records a list of ranges the guest gave (balloon or hot-remove), never
 * more than still asked for. Returns the first refusal, 0 if none. */
static int take_ranges(dynmem_session_host *h, const struct dynmem_proto_msg *m, bool remove,
                       uint64_t *got)
{
    const struct dynmem_proto_ranges *l = dynmem_proto_msg_ranges(m);
    int first = 0;
    *got = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        struct dynmem_proto_range r;
        (void)dynmem_proto_ranges_get(&r, l, i);
        uint64_t left = h->tx_asked - h->tx_got;
        if (r.page_count == 0)
            continue;
        if (left == 0 || r.page_count > left) {
            h->c.clamped++;
            dynmem__host_refuse(h, DYNMEM_ERR_SESSION_TOO_MUCH, m->type,
                                DYNMEM_SESSION_FLAG_CLAMPED, r.page_count);
            (void)dynmem__detail_first(h->detail, DYNMEM_ERR_SESSION_TOO_MUCH, "%s: %" PRIu64
                                       " pages at page %#" PRIx64 ", only %" PRIu64 " of the %"
                                       PRIu64 " asked still due", dynmem_proto_type_name(m->type),
                                       r.page_count, r.start_page, left, h->tx_asked);
            if (!first)
                first = DYNMEM_ERR_SESSION_TOO_MUCH;
            if (left == 0)
                continue;
            r.page_count = left;
        }
        int rc = remove ? dynmem_memmap_hot_remove_record(h->map, r.start_page, r.page_count)
                        : dynmem_memmap_balloon_record(h->map, r.start_page, r.page_count);
        if (rc) {
            h->c.ranges_refused++;
            dynmem__host_refuse(h, rc, m->type, 0, r.page_count);
            (void)dynmem__detail_first(h->detail, rc, "%s: pages %#" PRIx64 "..%#" PRIx64
                                       " (%" PRIu64 " pages): %s", dynmem_proto_type_name(m->type),
                                       r.start_page, r.start_page + r.page_count - 1,
                                       r.page_count, dynmem_strerror(rc));
            if (!first)
                first = rc;
            continue;
        }
        h->tx_got += r.page_count;
        *got += r.page_count;
    }
    return first;
}

static void ranged_response(dynmem_session_host *h, const struct dynmem_proto_msg *m, bool remove,
                            bool more, int *rc)
{
    uint64_t got = 0;
    uint32_t count = dynmem_proto_msg_ranges(m)->count;
    *rc = take_ranges(h, m, remove, &got);
    if (got) {
        dynmem__host_fact(h, tx_kind(h->state), h->tx_action_id, got, 0, 0);
        arm_reply(h); /* progress: the guest gets another full timeout */
    }
    /* No ranges at all means the guest is at its minimum, whatever more_pages says. */
    if (!more || count == 0)
        dynmem__host_tx_end(h, 0);
}

void dynmem__host_on_balloon(dynmem_session_host *h, const struct dynmem_proto_msg *m, int *rc)
{
    ranged_response(h, m, false, m->body.balloon_response.more_pages, rc);
}

void dynmem__host_on_hot_remove(dynmem_session_host *h, const struct dynmem_proto_msg *m, int *rc)
{
    ranged_response(h, m, true, m->body.hot_remove_response.more_pages, rc);
}

void dynmem__host_on_unballoon(dynmem_session_host *h)
{
    h->tx_got = h->tx_asked;
    dynmem__host_fact(h, tx_kind(h->state), h->tx_action_id, h->tx_asked, 0, 0);
    dynmem__host_tx_end(h, 0);
}

void dynmem__host_on_hot_add(dynmem_session_host *h, const struct dynmem_proto_msg *m, int *rc)
{
    const struct dynmem_proto_hot_add_response *r = &m->body.hot_add_response;
    uint64_t claimed = r->result ? r->page_count : 0, accepted = 0;
    uint32_t flags = 0;
    if (claimed > h->tx_asked) {
        h->c.clamped++;
        dynmem__host_refuse(h, DYNMEM_ERR_SESSION_TOO_MUCH, m->type, DYNMEM_SESSION_FLAG_CLAMPED,
                            claimed);
        *rc = dynmem__detail_set(h->detail, DYNMEM_ERR_SESSION_TOO_MUCH, "HOT_ADD_RESPONSE: %"
                                 PRIu64 " pages claimed added, %" PRIu64 " asked", claimed,
                                 h->tx_asked);
    }
    if (r->result && r->page_count == 0)
        flags |= DYNMEM_SESSION_FLAG_PERMANENT;
    int e = dynmem_memmap_hot_add_done(h->map, h->tx_start, h->tx_asked, claimed, &accepted);
    if (e) {
        /* Could not be recorded (out of memory): counted as nothing added. */
        dynmem__host_refuse(h, e, m->type, 0, claimed);
        (void)dynmem__detail_first(h->detail, e, "HOT_ADD_RESPONSE: %" PRIu64 " pages claimed "
                                   "could not be recorded: %s", claimed, dynmem_strerror(e));
        if (!*rc)
            *rc = e;
        (void)dynmem_memmap_hot_add_done(h->map, h->tx_start, h->tx_asked, 0, NULL);
        accepted = 0;
        flags |= DYNMEM_SESSION_FLAG_FAILED;
    }
    h->tx_got = accepted;
    if (accepted)
        dynmem__host_fact(h, 2, h->tx_action_id, accepted, 0, 0);
    dynmem__host_tx_end(h, flags);
}
