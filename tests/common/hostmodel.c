/* The reference model of a host session's books (see hostmodel.h). Every
 * rule here is a sentence of docs/sessions.md, docs/protocol.md or
 * dynmem/memmap.h, applied to one page at a time. */
#include "hostmodel.h"

#include <string.h>

#define F_FINAL DYNMEM_SESSION_FLAG_FINAL
#define F_FAILED DYNMEM_SESSION_FLAG_FAILED
#define F_TIMED_OUT DYNMEM_SESSION_FLAG_TIMED_OUT
#define F_PARTIAL DYNMEM_SESSION_FLAG_PARTIAL
#define F_RESET DYNMEM_SESSION_FLAG_RESET

/* Every page changes state here, so that the counts stay exact. */
static void set_page(struct hostmodel *m, uint64_t p, enum hm_page to)
{
    enum hm_page from = m->page[p];
    bool in_window = p >= HM_WIN_START;
    m->count[from]--;
    m->count[to]++;
    if (in_window) {
        m->added -= from == HM_PRESENT || from == HM_BALLOONED || from == HM_REMOVED;
        m->added += to == HM_PRESENT || to == HM_BALLOONED || to == HM_REMOVED;
    }
    m->page[p] = (unsigned char)to;
}

static void boot_layout(struct hostmodel *m)
{
    memset(m->count, 0, sizeof m->count);
    m->added = 0;
    m->reuse_off = false;
    for (unsigned p = 0; p < HM_SPACE; p++) {
        m->page[p] = p < HM_BOOT ? HM_PRESENT : p < HM_WIN_START ? HM_ABSENT : HM_WINDOW;
        m->count[m->page[p]]++;
    }
}

void hm_init(struct hostmodel *m, uint64_t reply_timeout_ms, uint64_t post_init_wait_ms,
             uint64_t chunk_pages)
{
    memset(m, 0, sizeof *m);
    boot_layout(m);
    m->reply_timeout_ms = reply_timeout_ms;
    m->post_init_wait_ms = post_init_wait_ms;
    m->chunk_pages = chunk_pages;
    m->state = DYNMEM_SESSION_HOST_WAIT_CHANNEL;
}

uint64_t hm_count(const struct hostmodel *m, enum hm_page p)
{
    return m->count[p];
}

uint64_t hm_figure(const struct hostmodel *m, int figure)
{
    switch (figure) {
    case DYNMEM_MEMMAP_BOOT: return HM_BOOT;
    case DYNMEM_MEMMAP_VISIBLE: return hm_count(m, HM_PRESENT) + hm_count(m, HM_BALLOONED);
    case DYNMEM_MEMMAP_BALLOONED: return hm_count(m, HM_BALLOONED);
    case DYNMEM_MEMMAP_CURRENT: return hm_count(m, HM_PRESENT);
    case DYNMEM_MEMMAP_ADDED: return m->added;
    case DYNMEM_MEMMAP_REMOVED: return hm_count(m, HM_REMOVED);
    case DYNMEM_MEMMAP_WINDOW: return HM_WIN_PAGES;
    case DYNMEM_MEMMAP_REMAINING: return hm_count(m, HM_WINDOW);
    case DYNMEM_MEMMAP_UNUSABLE: return hm_count(m, HM_GIVEN_UP);
    default: return UINT64_MAX;
    }
}

static void set_pages(struct hostmodel *m, uint64_t start, uint64_t count, enum hm_page to)
{
    for (uint64_t p = start; p < start + count; p++)
        set_page(m, p, to);
}

/* The window below `start` (skipped to align a request) and, when `rest`,
 * everything not added yet: given up until a system reset. */
static void give_up_window(struct hostmodel *m, uint64_t start, bool rest)
{
    for (unsigned p = HM_WIN_START; p < HM_SPACE; p++)
        if (m->page[p] == HM_WINDOW && (rest || p < start))
            set_page(m, p, HM_GIVEN_UP);
}

static void push_final(struct hostmodel *m, uint32_t kind, uint64_t id, uint32_t flags,
                       uint64_t requested)
{
    if (m->nfinals < HM_FINALS_MAX)
        m->finals[m->nfinals++] = (struct hm_final){kind, id, flags | F_FINAL, requested};
}

/* The action is over: short of its pages is PARTIAL, and nothing at all
 * (unless a reset cut it off) is FAILED. */
static void action_end(struct hostmodel *m, uint32_t flags)
{
    if (m->act_done < m->act_pages)
        flags |= F_PARTIAL;
    if (m->act_done == 0 && (flags & F_PARTIAL) && !(flags & F_RESET))
        flags |= F_FAILED;
    push_final(m, m->act_kind, m->act_id, flags, m->act_pages);
    m->act_live = false;
}

/* The transaction in flight ends, by the guest's last answer (flags 0 or
 * PERMANENT), its reply timer (TIMED_OUT) or the channel (RESET). */
static void tx_end(struct hostmodel *m, uint32_t flags)
{
    if (flags & (F_TIMED_OUT | F_RESET)) {
        flags |= F_FAILED;
        /* A late guest may still add the range: the window's rest, or for a
         * re-add every removed page, is not offered again. */
        if (m->tx_kind == DYNMEM_ACTION_HOT_ADD && m->tx_readd)
            m->reuse_off = true;
        else if (m->tx_kind == DYNMEM_ACTION_HOT_ADD)
            give_up_window(m, m->tx_start, true);
    }
    if (m->tx_kind == DYNMEM_ACTION_UNBALLOON) {
        /* Handed back when sent: the guest's, whatever the answer. */
        m->tx_got = m->tx_asked;
        m->fact_pages[DYNMEM_ACTION_UNBALLOON] += m->tx_asked;
    }
    bool short_ = m->tx_got < m->tx_asked;
    m->state = DYNMEM_SESSION_HOST_IDLE;
    m->reply_armed = false;
    if (m->tx_for_action && m->act_live && m->act_id == m->tx_action_id) {
        m->act_done += m->tx_got;
        if (short_ || (flags & F_FAILED) || m->act_done >= m->act_pages)
            action_end(m, flags);
        return;
    }
    if (short_)
        flags |= F_PARTIAL;
    if (short_ && m->tx_got == 0)
        flags |= F_FAILED;
    push_final(m, m->tx_kind, m->tx_action_id, flags, m->tx_asked);
}

void hm_open(struct hostmodel *m)
{
    m->state = DYNMEM_SESSION_HOST_VERSION;
}

void hm_timers(struct hostmodel *m, uint64_t now)
{
    if (m->post_init_armed && now >= m->post_init_at) {
        m->post_init_armed = false;
        m->state = DYNMEM_SESSION_HOST_IDLE;
    }
    if (m->reply_armed && now >= m->reply_at && m->state >= DYNMEM_SESSION_HOST_BALLOON)
        tx_end(m, F_TIMED_OUT);
}

static uint32_t state_for(uint16_t type)
{
    switch (type) {
    case DYNMEM_PROTO_VERSION_REQUEST: return DYNMEM_SESSION_HOST_VERSION;
    case DYNMEM_PROTO_CAPABILITIES_REPORT: return DYNMEM_SESSION_HOST_CAPS;
    case DYNMEM_PROTO_BALLOON_RESPONSE: return DYNMEM_SESSION_HOST_BALLOON;
    case DYNMEM_PROTO_UNBALLOON_RESPONSE: return DYNMEM_SESSION_HOST_UNBALLOON;
    case DYNMEM_PROTO_HOT_ADD_RESPONSE: return DYNMEM_SESSION_HOST_HOT_ADD;
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE: return DYNMEM_SESSION_HOST_HOT_REMOVE;
    default: return 0;
    }
}

static bool is_guest_memory(const struct hostmodel *m, uint64_t s, uint64_t n)
{
    for (uint64_t p = s; p < s + n; p++)
        if (p >= HM_SPACE || (m->page[p] != HM_PRESENT && m->page[p] != HM_BALLOONED))
            return false;
    return true;
}

static bool any_ballooned(const struct hostmodel *m, uint64_t s, uint64_t n)
{
    for (uint64_t p = s; p < s + n && p < HM_SPACE; p++)
        if (m->page[p] == HM_BALLOONED)
            return true;
    return false;
}

/* One range of a balloon or hot-remove answer: never more than still asked
 * for (the excess is cut, and refused when nothing is left); refused whole
 * if a page is beyond the map's limit, not guest memory, or ballooned. */
static int take_range(struct hostmodel *m, struct dynmem_proto_range r, bool remove,
                      uint64_t *got)
{
    int rc = 0;
    if (r.page_count == 0)
        return 0;
    uint64_t left = m->tx_asked - m->tx_got;
    if (left == 0)
        return DYNMEM_ERR_SESSION_TOO_MUCH;
    if (r.page_count > left) {
        rc = DYNMEM_ERR_SESSION_TOO_MUCH;
        r.page_count = left;
    }
    int bad = 0;
    if (r.start_page >= DYNMEM_MEMMAP_PAGES_MAX ||
        r.page_count > DYNMEM_MEMMAP_PAGES_MAX - r.start_page)
        bad = DYNMEM_ERR_OUT_OF_RANGE;
    else if (!is_guest_memory(m, r.start_page, r.page_count))
        bad = DYNMEM_ERR_PAGES_OUTSIDE;
    else if (any_ballooned(m, r.start_page, r.page_count))
        bad = DYNMEM_ERR_PAGES_BALLOONED;
    if (bad)
        return rc ? rc : bad;
    set_pages(m, r.start_page, r.page_count, remove ? HM_REMOVED : HM_BALLOONED);
    m->tx_got += r.page_count;
    *got += r.page_count;
    return rc;
}

static int ranged_answer(struct hostmodel *m, uint64_t now, const struct dynmem_proto_msg *msg,
                         bool remove, bool more)
{
    const struct dynmem_proto_ranges *l = dynmem_proto_msg_ranges(msg);
    int first = 0;
    uint64_t got = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        struct dynmem_proto_range r;
        dynmem_proto_ranges_get(&r, l, i);
        int rc = take_range(m, r, remove, &got);
        if (rc && !first)
            first = rc;
    }
    m->fact_pages[remove ? DYNMEM_ACTION_HOT_REMOVE : DYNMEM_ACTION_BALLOON] += got;
    if (got)
        m->reply_at = now + m->reply_timeout_ms; /* progress re-arms the timer */
    if (!more || l->count == 0)
        tx_end(m, 0);
    return first;
}

static int hot_add_answer(struct hostmodel *m, const struct dynmem_proto_hot_add_response *r)
{
    uint64_t claimed = r->result ? r->page_count : 0;
    uint64_t acc = claimed < m->tx_asked ? claimed : m->tx_asked;
    if (m->tx_readd) {
        set_pages(m, m->tx_start, acc, HM_PRESENT);
        m->reuse_off |= acc < m->tx_asked;
    } else {
        give_up_window(m, m->tx_start, false);
        set_pages(m, m->tx_start, acc, HM_PRESENT);
        if (acc < m->tx_asked)
            give_up_window(m, 0, true);
    }
    m->tx_got = acc;
    m->fact_pages[DYNMEM_ACTION_HOT_ADD] += acc;
    tx_end(m, r->result && r->page_count == 0 ? DYNMEM_SESSION_FLAG_PERMANENT : 0);
    return claimed > m->tx_asked ? DYNMEM_ERR_SESSION_TOO_MUCH : 0;
}

static int on_version(struct hostmodel *m, uint32_t v)
{
    if (v != DYNMEM_PROTO_VERSION_WIN7 && v != DYNMEM_PROTO_VERSION_WIN8 &&
        v != DYNMEM_PROTO_VERSION_WIN10)
        return DYNMEM_ERR_SESSION_VERSION_POLICY;
    m->version = v;
    m->state = DYNMEM_SESSION_HOST_CAPS;
    return 0;
}

static void on_caps(struct hostmodel *m, uint64_t now, const struct dynmem_proto_caps_report *c)
{
    m->cap_balloon = c->balloon;
    m->cap_hot_add = c->hot_add;
    m->cap_hot_remove = c->hot_remove && m->version == DYNMEM_PROTO_VERSION_WIN10;
    m->align_log2 = c->hot_add_alignment & 0xf;
    m->state = DYNMEM_SESSION_HOST_POST_INIT;
    m->post_init_armed = true;
    m->post_init_at = now + m->post_init_wait_ms;
}

int hm_recv(struct hostmodel *m, uint64_t now, const struct dynmem_proto_msg *msg)
{
    if (msg->type == DYNMEM_PROTO_STATUS_REPORT)
        return m->state < DYNMEM_SESSION_HOST_CAPS ? DYNMEM_ERR_SESSION_WRONG_STATE : 0;
    uint32_t want = state_for(msg->type);
    if (!want)
        return msg->type == DYNMEM_PROTO_ERROR ? DYNMEM_ERR_SESSION_WRONG_STATE
                                               : DYNMEM_ERR_SESSION_DIRECTION;
    if (want != m->state)
        return DYNMEM_ERR_SESSION_WRONG_STATE;
    switch (msg->type) {
    case DYNMEM_PROTO_VERSION_REQUEST: return on_version(m, msg->body.version_request.version);
    case DYNMEM_PROTO_CAPABILITIES_REPORT: on_caps(m, now, &msg->body.caps_report); return 0;
    case DYNMEM_PROTO_BALLOON_RESPONSE:
        return ranged_answer(m, now, msg, false, msg->body.balloon_response.more_pages);
    case DYNMEM_PROTO_HOT_REMOVE_RESPONSE:
        return ranged_answer(m, now, msg, true, msg->body.hot_remove_response.more_pages);
    case DYNMEM_PROTO_UNBALLOON_RESPONSE: tx_end(m, 0); return 0;
    default: return hot_add_answer(m, &msg->body.hot_add_response);
    }
}

static void begin(struct hostmodel *m, uint64_t now, uint32_t state, uint32_t kind,
                  uint64_t asked)
{
    m->state = state;
    m->tx_kind = kind;
    m->tx_asked = asked;
    m->tx_got = 0;
    m->tx_for_action = m->act_live;
    m->tx_action_id = m->act_live ? m->act_id : 0;
    m->reply_armed = true;
    m->reply_at = now + m->reply_timeout_ms;
}

/* Unballoon ranges leave the balloon books when they are sent. */
static const char *sent_unballoon(struct hostmodel *m, uint64_t now,
                                  const struct dynmem_proto_unballoon_request *u)
{
    uint64_t total = 0;
    if (u->more_pages || u->ranges.count == 0 || !m->cap_balloon)
        return "unballoon request: more_pages, no ranges, or no balloon capability";
    for (uint32_t i = 0; i < u->ranges.count; i++) {
        struct dynmem_proto_range r;
        dynmem_proto_ranges_get(&r, &u->ranges, i);
        if (r.page_count == 0 || r.start_page + r.page_count > HM_SPACE)
            return "unballoon range empty or outside the guest";
        for (uint64_t p = r.start_page; p < r.start_page + r.page_count; p++)
            if (m->page[p] != HM_BALLOONED)
                return "unballoon of a page that is not ballooned";
        set_pages(m, r.start_page, r.page_count, HM_PRESENT);
        total += r.page_count;
    }
    begin(m, now, DYNMEM_SESSION_HOST_UNBALLOON, DYNMEM_ACTION_UNBALLOON, total);
    return NULL;
}

/* The first page of the lowest aligned run of `unit` hot-removed pages, or
 * HM_SPACE: hot-removed pages are offered again before the window. */
static uint64_t removed_run(const struct hostmodel *m, uint64_t unit)
{
    if (m->reuse_off)
        return HM_SPACE;
    for (uint64_t s = 0; s + unit <= HM_SPACE; s += unit) {
        uint64_t p = s;
        while (p < s + unit && m->page[p] == HM_REMOVED)
            p++;
        if (p == s + unit)
            return s;
    }
    return HM_SPACE;
}

static const char *sent_hot_add(struct hostmodel *m, uint64_t now,
                                const struct dynmem_proto_hot_add_request *a)
{
    uint64_t unit = UINT64_C(256) << m->align_log2, s = a->range.start_page;
    uint64_t n = a->range.page_count, first_removed = removed_run(m, unit);
    if (!m->cap_hot_add || n == 0 || s % unit || n % unit || s + n > HM_SPACE)
        return "hot-add request not aligned, empty, beyond the map or not allowed";
    bool readd = s == first_removed;
    for (uint64_t p = s; p < s + n; p++)
        if (m->page[p] != (readd ? HM_REMOVED : HM_WINDOW))
            return readd ? "re-add of a page that is not hot-removed"
                         : "hot-add of a page the window no longer offers";
    if (!readd && first_removed != HM_SPACE)
        return "hot-add from the window while hot-removed pages can be added again";
    begin(m, now, DYNMEM_SESSION_HOST_HOT_ADD, DYNMEM_ACTION_HOT_ADD, n);
    m->tx_start = s;
    m->tx_readd = readd;
    return NULL;
}

const char *hm_sent(struct hostmodel *m, uint64_t now, const struct dynmem_proto_msg *msg)
{
    bool request = msg->type == DYNMEM_PROTO_BALLOON_REQUEST ||
                   msg->type == DYNMEM_PROTO_UNBALLOON_REQUEST ||
                   msg->type == DYNMEM_PROTO_HOT_ADD_REQUEST ||
                   msg->type == DYNMEM_PROTO_HOT_REMOVE_REQUEST;
    if (request && m->state != DYNMEM_SESSION_HOST_IDLE)
        return "a request while not idle";
    switch (msg->type) {
    case DYNMEM_PROTO_VERSION_RESPONSE:
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE: return NULL;
    case DYNMEM_PROTO_BALLOON_REQUEST: {
        uint64_t n = msg->body.balloon_request.num_pages;
        if (!m->cap_balloon || n == 0 || n > m->chunk_pages)
            return "balloon request empty, above the chunk, or not allowed";
        begin(m, now, DYNMEM_SESSION_HOST_BALLOON, DYNMEM_ACTION_BALLOON, n);
        return NULL;
    }
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST: {
        uint64_t n = msg->body.hot_remove_request.page_count;
        if (!m->cap_hot_remove || n == 0 || n > m->chunk_pages)
            return "hot-remove request empty, above the chunk, or not allowed";
        begin(m, now, DYNMEM_SESSION_HOST_HOT_REMOVE, DYNMEM_ACTION_HOT_REMOVE, n);
        return NULL;
    }
    case DYNMEM_PROTO_UNBALLOON_REQUEST: return sent_unballoon(m, now, &msg->body.unballoon_request);
    case DYNMEM_PROTO_HOT_ADD_REQUEST: return sent_hot_add(m, now, &msg->body.hot_add_request);
    default: return "a message type the host never sends";
    }
}

void hm_planned(struct hostmodel *m)
{
    if (m->act_live && m->state == DYNMEM_SESSION_HOST_IDLE)
        action_end(m, 0);
}

/* A new goal ends the action: at once, or with the transaction working for
 * it (whose end then reports like target work, under the action's id). */
static void supersede(struct hostmodel *m)
{
    if (!m->act_live)
        return;
    if (m->state >= DYNMEM_SESSION_HOST_BALLOON && m->tx_for_action)
        m->act_live = false;
    else
        action_end(m, 0);
}

void hm_set_target(struct hostmodel *m)
{
    supersede(m);
}

void hm_start_action(struct hostmodel *m, uint32_t kind, uint64_t pages, uint64_t id)
{
    supersede(m);
    m->act_live = true;
    m->act_kind = kind;
    m->act_id = id;
    m->act_pages = pages;
    m->act_done = 0;
}

void hm_close(struct hostmodel *m)
{
    if (m->state >= DYNMEM_SESSION_HOST_BALLOON)
        tx_end(m, F_RESET);
    if (m->act_live)
        action_end(m, F_RESET | F_FAILED);
    m->state = DYNMEM_SESSION_HOST_WAIT_CHANNEL;
    m->version = 0;
    m->cap_balloon = m->cap_hot_add = m->cap_hot_remove = false;
    m->post_init_armed = m->reply_armed = false;
}

void hm_reset(struct hostmodel *m, enum dynmem_session_reset kind)
{
    hm_close(m);
    if (kind == DYNMEM_SESSION_RESET_SYSTEM) {
        boot_layout(m);
        return;
    }
    for (unsigned p = 0; p < HM_SPACE; p++)
        if (m->page[p] == HM_BALLOONED)
            set_page(m, p, HM_PRESENT);
}
