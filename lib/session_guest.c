/* Guest (VSC) session: negotiation, status reports and the answers to the
 * host's requests, with its own books of which pages it has, which are
 * free to give and which it ballooned out. Model hooks may override which
 * pages are given and how a hot-add goes, to play other kinds of guests. */
#include <inttypes.h>
#include <string.h>

#include "session_internal.h"
#include "struct_abi.h"

enum gstate { G_CLOSED, G_VERSION, G_CAPS, G_READY, G_FAILED };

#define GUEST_PARAMS 11
#define UNIT_2M UINT64_C(512)

struct dynmem_session_guest {
    struct dynmem__alloc alloc;
    struct dynmem__evq evq;
    struct dynmem__outbox out;
    struct dynmem_pageset *boot, *memory, *avail, *ballooned;
    struct dynmem_proto_range *ranges;
    int64_t param[GUEST_PARAMS];
    enum gstate state;
    uint32_t proposed, version, trans_id;
    uint64_t now;
    bool suppress_status, status_armed, nego_armed;
    uint64_t status_at, nego_at;
    dynmem_session_guest_balloon_fn balloon_fn;
    void *balloon_ud;
    dynmem_session_guest_hot_add_fn hot_add_fn;
    void *hot_add_ud;
    /* a balloon or hot-remove answer being produced, one message at a time */
    bool balloon_active, remove_active, small_pages;
    uint64_t left;
    /* The latest refusal's detail (dynmem_session_guest_last_error()). */
    char detail[DYNMEM__DETAIL_LEN];
};

/* The states' names, for refusal details. */
static const char *const gstate_names[] = {
    [G_CLOSED] = "CLOSED", [G_VERSION] = "VERSION", [G_CAPS] = "CAPS", [G_READY] = "READY",
    [G_FAILED] = "FAILED",
};

static const int64_t guest_defaults[GUEST_PARAMS] = {
    [DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST] = DYNMEM_PROTO_VERSION_WIN10,
    [DYNMEM_SESSION_GUEST_PARAM_CAP_BALLOON] = 1,
    [DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_ADD] = 1,
    [DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE] = 0,
    [DYNMEM_SESSION_GUEST_PARAM_HOT_ADD_ALIGNMENT] = 7,
    [DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS] = 45000,
    [DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS] = 1000,
    [DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES] = 0,
    [DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES] = -1,
    [DYNMEM_SESSION_GUEST_PARAM_NEGOTIATION_TIMEOUT_MS] = 5000,
};

int dynmem_session_guest_new(dynmem_session_guest **out, const struct dynmem_allocator *alloc)
{
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    struct dynmem__alloc a;
    int rc;
    dynmem_session_guest *g = dynmem__handle_alloc(alloc, sizeof *g, &a, &rc);
    if (!g)
        return rc;
    g->alloc = a;
    if (dynmem__outbox_init(&g->out, &a) ||
        !(g->ranges = dynmem__calloc(&a, DYNMEM_PROTO_RANGES_MAX, sizeof *g->ranges)) ||
        dynmem_pageset_new(&g->boot, alloc) || dynmem_pageset_new(&g->memory, alloc) ||
        dynmem_pageset_new(&g->avail, alloc) || dynmem_pageset_new(&g->ballooned, alloc)) {
        dynmem_session_guest_free(g);
        return DYNMEM_ERR_NO_MEMORY;
    }
    memcpy(g->param, guest_defaults, sizeof g->param);
    *out = g;
    return 0;
}

void dynmem_session_guest_free(dynmem_session_guest *g)
{
    if (!g)
        return;
    struct dynmem__alloc a = g->alloc;
    dynmem__outbox_fini(&g->out, &a);
    dynmem_pageset_free(g->boot);
    dynmem_pageset_free(g->memory);
    dynmem_pageset_free(g->avail);
    dynmem_pageset_free(g->ballooned);
    if (g->ranges)
        dynmem__free(&a, g->ranges);
    dynmem__free(&a, g);
}

/* Accepted range of each setting; the first version must also be one of
 * the three named versions. */
#define P(e) [DYNMEM_SESSION_GUEST_PARAM_##e]
#define N(e) "DYNMEM_SESSION_GUEST_PARAM_" #e
static const struct {
    int64_t min, max;
    const char *name; /* for refusal details */
} guest_bounds[GUEST_PARAMS] = {
    P(VERSION_FIRST) = {DYNMEM_PROTO_VERSION_WIN7, DYNMEM_PROTO_VERSION_WIN10, N(VERSION_FIRST)},
    P(CAP_BALLOON) = {0, 1, N(CAP_BALLOON)},
    P(CAP_HOT_ADD) = {0, 1, N(CAP_HOT_ADD)},
    P(CAP_HOT_REMOVE) = {0, 1, N(CAP_HOT_REMOVE)},
    P(HOT_ADD_ALIGNMENT) = {0, DYNMEM_PROTO_ALIGNMENT_MAX, N(HOT_ADD_ALIGNMENT)},
    P(STATUS_DELAY_MS) = {0, 3600000, N(STATUS_DELAY_MS)},
    P(STATUS_INTERVAL_MS) = {0, 3600000, N(STATUS_INTERVAL_MS)},
    P(COMMITTED_PAGES) = {0, (int64_t)DYNMEM_MEMMAP_PAGES_MAX, N(COMMITTED_PAGES)},
    P(FLOOR_PAGES) = {-1, (int64_t)DYNMEM_MEMMAP_PAGES_MAX, N(FLOOR_PAGES)},
    P(NEGOTIATION_TIMEOUT_MS) = {1, 3600000, N(NEGOTIATION_TIMEOUT_MS)},
};
#undef P
#undef N

static bool guest_param_known(int p)
{
    return p >= 1 && p < GUEST_PARAMS;
}

int dynmem_session_guest_param_bounds(enum dynmem_session_guest_param param, int64_t *out_min,
                                      int64_t *out_max)
{
    if (!out_min || !out_max)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!guest_param_known((int)param))
        return DYNMEM_ERR_NOT_FOUND;
    *out_min = guest_bounds[param].min;
    *out_max = guest_bounds[param].max;
    return 0;
}

int dynmem_session_guest_set_param(dynmem_session_guest *g, enum dynmem_session_guest_param param,
                                   int64_t value)
{
    if (!g)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    g->detail[0] = '\0';
    if (!guest_param_known((int)param))
        return dynmem__detail_no_param(g->detail, "guest session setting", (int)param);
    const char *name = guest_bounds[param].name;
    if (value < guest_bounds[param].min || value > guest_bounds[param].max)
        return dynmem__detail_bad_param(g->detail, DYNMEM_ERR_OUT_OF_RANGE, name, value,
                                        guest_bounds[param].min, guest_bounds[param].max);
    if (param == DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST && value != DYNMEM_PROTO_VERSION_WIN7 &&
        value != DYNMEM_PROTO_VERSION_WIN8 && value != DYNMEM_PROTO_VERSION_WIN10)
        return dynmem__detail_set(g->detail, DYNMEM_ERR_OUT_OF_RANGE, "%s %#" PRIx64 " is not "
                                  "%#x, %#x or %#x", name, (uint64_t)value,
                                  DYNMEM_PROTO_VERSION_WIN7, DYNMEM_PROTO_VERSION_WIN8,
                                  DYNMEM_PROTO_VERSION_WIN10);
    g->param[param] = value;
    return 0;
}

int dynmem_session_guest_get_param(const dynmem_session_guest *g,
                                   enum dynmem_session_guest_param param, int64_t *out)
{
    if (!g || !out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!guest_param_known((int)param))
        return DYNMEM_ERR_NOT_FOUND;
    *out = g->param[param];
    return 0;
}

int dynmem_session_guest_add_memory(dynmem_session_guest *g, uint64_t start, uint64_t count)
{
    if (!g)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    g->detail[0] = '\0';
    if (!count)
        return dynmem__detail_set(g->detail, DYNMEM_ERR_INVALID_ARGUMENT, "memory at page %#"
                                  PRIx64 ": 0 pages", start);
    if (start >= DYNMEM_MEMMAP_PAGES_MAX || count > DYNMEM_MEMMAP_PAGES_MAX - start)
        return dynmem__detail_set(g->detail, DYNMEM_ERR_OUT_OF_RANGE, "memory at page %#" PRIx64
                                  ", %" PRIu64 " pages: beyond the page limit %#" PRIx64, start,
                                  count, (uint64_t)DYNMEM_MEMMAP_PAGES_MAX);
    bool hit = false;
    int rc = dynmem_pageset_intersects(g->memory, start, count, &hit);
    if (rc)
        return rc;
    if (hit)
        return dynmem__detail_set(g->detail, DYNMEM_ERR_PAGES_OVERLAP, "memory pages %#" PRIx64
                                  "..%#" PRIx64 " (%" PRIu64 " pages) overlap memory already "
                                  "added", start, start + count - 1, count);
    if ((rc = dynmem_pageset_insert(g->boot, start, count, NULL)))
        return rc;
    if ((rc = dynmem_pageset_insert(g->memory, start, count, NULL)) ||
        (rc = dynmem_pageset_insert(g->avail, start, count, NULL))) {
        (void)dynmem_pageset_remove(g->boot, start, count, NULL);
        (void)dynmem_pageset_remove(g->memory, start, count, NULL);
        return rc;
    }
    return 0;
}

int dynmem_session_guest_set_balloon_fn(dynmem_session_guest *g, dynmem_session_guest_balloon_fn fn,
                                        void *user_data)
{
    if (!g)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    g->detail[0] = '\0';
    g->balloon_fn = fn;
    g->balloon_ud = user_data;
    return 0;
}

int dynmem_session_guest_set_hot_add_fn(dynmem_session_guest *g, dynmem_session_guest_hot_add_fn fn,
                                        void *user_data)
{
    if (!g)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    g->detail[0] = '\0';
    g->hot_add_fn = fn;
    g->hot_add_ud = user_data;
    return 0;
}

static int advance(dynmem_session_guest *g, uint64_t now)
{
    g->detail[0] = '\0';
    if (now < g->now)
        return dynmem__session_time_backwards(g->detail, now, g->now);
    g->now = now;
    return 0;
}

static void push(dynmem_session_guest *g, uint32_t kind, int error, uint32_t msg_type)
{
    struct dynmem_session_event ev = {.kind = kind, .time_ms = g->now, .error = error,
                                      .msg_type = msg_type, .version = g->version};
    dynmem__evq_push(&g->evq, &ev);
}

static int send(dynmem_session_guest *g, struct dynmem_proto_msg *m)
{
    m->trans_id = ++g->trans_id; /* as Linux: a new id for every message */
    return dynmem__outbox_put(&g->out, m, g->version);
}

/* Each negotiation message gets its own reply deadline. */
static void arm_negotiation(dynmem_session_guest *g)
{
    g->nego_armed = true;
    g->nego_at = g->now + (uint64_t)g->param[DYNMEM_SESSION_GUEST_PARAM_NEGOTIATION_TIMEOUT_MS];
}

static void propose(dynmem_session_guest *g, uint32_t v)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_VERSION_REQUEST;
    m.body.version_request.version = v;
    m.body.version_request.is_last_attempt = v == DYNMEM_PROTO_VERSION_WIN7;
    g->proposed = v;
    g->state = G_VERSION;
    (void)send(g, &m);
    arm_negotiation(g);
}

int dynmem_session_guest_connect(dynmem_session_guest *g, uint64_t now_ms)
{
    if (!g)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = advance(g, now_ms);
    if (rc)
        return rc;
    dynmem__outbox_clear(&g->out);
    g->version = 0;
    g->status_armed = false;
    g->balloon_active = g->remove_active = false;
    propose(g, (uint32_t)g->param[DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST]);
    return 0;
}

/* Moves every ballooned page of [start, start + count) back to the free pages. */
static int give_back(dynmem_session_guest *g, uint64_t start, uint64_t count)
{
    uint64_t end = start + count, from = start, s, c;
    while (from < end && dynmem_pageset_next(g->ballooned, from, &s, &c) == 0 && s < end) {
        uint64_t a = s > from ? s : from, b = s + c < end ? s + c : end;
        int rc = dynmem_pageset_insert(g->avail, a, b - a, NULL);
        if (rc)
            return rc;
        (void)dynmem_pageset_remove(g->ballooned, a, b - a, NULL);
        from = b;
    }
    return 0;
}

int dynmem_session_guest_reset(dynmem_session_guest *g, uint64_t now_ms,
                               enum dynmem_session_reset kind)
{
    if (!g)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    /* The kind first: a refused call leaves the session as it was, its clock included. */
    if (kind != DYNMEM_SESSION_RESET_VMBUS && kind != DYNMEM_SESSION_RESET_SYSTEM)
        return dynmem__detail_set(g->detail, DYNMEM_ERR_INVALID_ARGUMENT, "reset kind %d is "
                                  "neither VMBUS (1) nor SYSTEM (2)", (int)kind);
    int rc = advance(g, now_ms);
    if (rc)
        return rc;
    dynmem__outbox_clear(&g->out);
    g->state = G_CLOSED;
    g->version = 0;
    g->status_armed = g->nego_armed = false;
    g->balloon_active = g->remove_active = false;
    if (kind == DYNMEM_SESSION_RESET_VMBUS) {
        rc = give_back(g, 0, DYNMEM_MEMMAP_PAGES_MAX);
    } else {
        dynmem_pageset_clear(g->memory);
        dynmem_pageset_clear(g->avail);
        dynmem_pageset_clear(g->ballooned);
        uint64_t from = 0, s, c;
        while (!rc && dynmem_pageset_next(g->boot, from, &s, &c) == 0) {
            if (!(rc = dynmem_pageset_insert(g->memory, s, c, NULL)))
                rc = dynmem_pageset_insert(g->avail, s, c, NULL);
            from = s + c;
        }
    }
    struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_RESET, .time_ms = g->now,
                                      .reset = kind};
    dynmem__evq_push(&g->evq, &ev);
    return rc;
}

/* Linux's balloon floor, piecewise linear in the pages the guest has. */
static uint64_t floor_pages(const dynmem_session_guest *g)
{
    if (g->param[DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES] >= 0)
        return (uint64_t)g->param[DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES];
    uint64_t t = dynmem_pageset_pages(g->memory) - dynmem_pageset_pages(g->ballooned);
    const uint64_t mib = 256;
    if (t < 128 * mib)
        return 8 * mib + t / 2;
    if (t < 512 * mib)
        return 40 * mib + t / 4;
    if (t < 2048 * mib)
        return 104 * mib + t / 8;
    if (t < 8192 * mib)
        return 232 * mib + t / 16;
    return 488 * mib + t / 32;
}

static uint64_t avail_pages(const dynmem_session_guest *g)
{
    uint64_t free_ = dynmem_pageset_pages(g->avail);
    uint64_t used = (uint64_t)g->param[DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES];
    return free_ > used ? free_ - used : 0;
}

static void post_status(dynmem_session_guest *g)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    m.type = DYNMEM_PROTO_STATUS_REPORT;
    m.body.status_report.num_avail = avail_pages(g);
    m.body.status_report.num_committed = (uint64_t)g->param[DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES] +
                                         dynmem_pageset_pages(g->ballooned) + floor_pages(g);
    (void)send(g, &m);
}

int dynmem_session_guest_tick(dynmem_session_guest *g, uint64_t now_ms)
{
    if (!g)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = advance(g, now_ms);
    if (rc)
        return rc;
    if (g->nego_armed && now_ms >= g->nego_at) {
        g->nego_armed = false;
        g->state = G_FAILED;
        g->version = 0;
        dynmem__outbox_clear(&g->out);
        push(g, DYNMEM_SESSION_EVENT_FAILED, DYNMEM_ERR_SESSION_TIMEOUT, 0);
    }
    if (g->status_armed && now_ms >= g->status_at) {
        /* Counted from the post, not from when it was due: a late tick
         * never brings two reports closer than the interval (as Linux,
         * which posts at most once a second). */
        post_status(g);
        g->status_at = now_ms + (uint64_t)g->param[DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS];
    }
    return 0;
}

int dynmem_session_guest_next_deadline(const dynmem_session_guest *g, uint64_t *out_ms)
{
    if (!g || !out_ms)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!g->status_armed && !g->nego_armed)
        return 0;
    if (g->status_armed && g->nego_armed)
        *out_ms = g->status_at < g->nego_at ? g->status_at : g->nego_at;
    else
        *out_ms = g->status_armed ? g->status_at : g->nego_at;
    return 1;
}

/* Next pages to balloon out by the default (Linux-like) model: 2 MiB units
 * while they last, then single pages. Single pages are taken as one run of
 * up to @p room pages (*singles set): the same pages k pops of one page
 * would take, for one set operation instead of k; each goes on the wire as
 * its own range, highest first, as Linux sends them. */
static int default_pick(dynmem_session_guest *g, uint64_t room, struct dynmem_proto_range *r,
                        bool *singles)
{
    uint64_t s = 0, c = 0;
    *singles = false;
    if (!g->small_pages && g->left >= UNIT_2M) {
        (void)dynmem_pageset_pop(g->avail, UNIT_2M, &s, &c);
        if (c == UNIT_2M) {
            r->start_page = s;
            r->page_count = c;
            return 1;
        }
        if (c && dynmem_pageset_insert(g->avail, s, c, NULL))
            return 0;
        g->small_pages = true;
    }
    (void)dynmem_pageset_pop(g->avail, room < g->left ? room : g->left, &s, &c);
    if (!c)
        return 0;
    r->start_page = s;
    r->page_count = c;
    *singles = true;
    return 1;
}

/* Builds the next balloon (or hot-remove) response message. */
static void answer_ranges(dynmem_session_guest *g)
{
    bool remove = g->remove_active;
    uint32_t cap = remove ? DYNMEM_PROTO_RANGES_MAX - 1 : DYNMEM_PROTO_RANGES_MAX, n = 0;
    while (n < cap && g->left) {
        struct dynmem_proto_range r;
        int got;
        if (g->balloon_fn && !remove) {
            got = g->balloon_fn(g->balloon_ud, g->now, g->left, &r);
            if (got < 0) { /* the model stays silent */
                g->balloon_active = false;
                return;
            }
            bool mine = false;
            if (got > 0 && r.page_count &&
                r.page_count <= DYNMEM_PROTO_RANGE_COUNT_MAX && r.start_page <= DYNMEM_PROTO_RANGE_START_MAX &&
                dynmem_pageset_contains(g->avail, r.start_page, r.page_count, &mine) == 0 && mine)
                (void)dynmem_pageset_remove(g->avail, r.start_page, r.page_count, NULL);
            else if (got > 0)
                mine = false; /* a lie: sent, not booked */
            if (got > 0 && mine &&
                dynmem_pageset_insert(g->ballooned, r.start_page, r.page_count, NULL)) {
                (void)dynmem_pageset_insert(g->avail, r.start_page, r.page_count, NULL);
                got = 0;
            }
        } else {
            bool singles;
            got = default_pick(g, cap - n, &r, &singles);
            if (got > 0) {
                int rc = remove ? dynmem_pageset_remove(g->memory, r.start_page, r.page_count, NULL)
                                : dynmem_pageset_insert(g->ballooned, r.start_page, r.page_count, NULL);
                if (rc) {
                    (void)dynmem_pageset_insert(g->avail, r.start_page, r.page_count, NULL);
                    got = 0;
                }
            }
            if (got > 0 && singles) {
                for (uint64_t k = r.page_count; k-- > 0;)
                    g->ranges[n++] = (struct dynmem_proto_range){r.start_page + k, 1};
                g->left -= r.page_count;
                continue;
            }
        }
        if (got <= 0)
            break;
        g->ranges[n++] = r;
        g->left -= r.page_count < g->left ? r.page_count : g->left;
    }
    bool more = n > 0 && g->left > 0;
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    if (remove) {
        m.type = DYNMEM_PROTO_HOT_REMOVE_RESPONSE;
        m.body.hot_remove_response.result = 1;
        m.body.hot_remove_response.more_pages = more;
        m.body.hot_remove_response.ranges.unpacked = g->ranges;
        m.body.hot_remove_response.ranges.count = n;
    } else {
        m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
        m.body.balloon_response.more_pages = more;
        m.body.balloon_response.ranges.unpacked = g->ranges;
        m.body.balloon_response.ranges.count = n;
    }
    (void)send(g, &m);
    if (!more)
        g->balloon_active = g->remove_active = false;
}

int dynmem_session_guest_next_send(dynmem_session_guest *g, void *buf, size_t cap, size_t *out_len)
{
    if (!g || !out_len || (!buf && cap))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    g->detail[0] = '\0';
    if (!g->out.count && (g->balloon_active || g->remove_active))
        answer_ranges(g);
    return dynmem__outbox_take(&g->out, buf, cap, out_len);
}

static void on_version_response(dynmem_session_guest *g, const struct dynmem_proto_msg *m)
{
    if (m->body.version_response.is_accepted) {
        g->version = g->proposed;
        g->state = G_CAPS;
        push(g, DYNMEM_SESSION_EVENT_VERSION, 0, m->type);
        struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
        r.type = DYNMEM_PROTO_CAPABILITIES_REPORT;
        r.body.caps_report.balloon = g->param[DYNMEM_SESSION_GUEST_PARAM_CAP_BALLOON] != 0;
        r.body.caps_report.hot_add = g->param[DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_ADD] != 0;
        r.body.caps_report.hot_remove = g->param[DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE] != 0 &&
                                        g->version >= DYNMEM_PROTO_VERSION_WIN10;
        r.body.caps_report.hot_add_alignment = (uint8_t)g->param[DYNMEM_SESSION_GUEST_PARAM_HOT_ADD_ALIGNMENT];
        r.body.caps_report.max_page_number = UINT64_MAX;
        (void)send(g, &r);
        arm_negotiation(g);
        return;
    }
    if (g->proposed == DYNMEM_PROTO_VERSION_WIN10)
        propose(g, DYNMEM_PROTO_VERSION_WIN8);
    else if (g->proposed == DYNMEM_PROTO_VERSION_WIN8)
        propose(g, DYNMEM_PROTO_VERSION_WIN7);
    else {
        g->state = G_FAILED;
        g->nego_armed = false;
        push(g, DYNMEM_SESSION_EVENT_FAILED, DYNMEM_ERR_SESSION_REJECTED, m->type);
    }
}

static void on_caps_response(dynmem_session_guest *g, const struct dynmem_proto_msg *m)
{
    g->nego_armed = false;
    if (!m->body.caps_response.is_accepted) {
        g->state = G_FAILED;
        g->version = 0;
        push(g, DYNMEM_SESSION_EVENT_FAILED, DYNMEM_ERR_SESSION_REJECTED, m->type);
        return;
    }
    g->state = G_READY;
    g->suppress_status = m->body.caps_response.suppress_pressure_reports;
    push(g, DYNMEM_SESSION_EVENT_CAPS, 0, m->type);
    if (!g->suppress_status && g->param[DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS] > 0) {
        g->status_armed = true;
        g->status_at = g->now + (uint64_t)g->param[DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS];
    }
}

/* Starts the answer to a balloon or hot-remove request. Both give pages
 * the guest's own use does not need, so both stop at the same point: the
 * committed pages and the floor stay (a request is partly fulfilled). */
static void start_giving(dynmem_session_guest *g, uint64_t num, bool remove)
{
    uint64_t avail = avail_pages(g), fl = floor_pages(g);
    if (avail < num || avail - num < fl)
        num = avail > fl ? avail - fl : 0;
    g->left = num;
    g->small_pages = false;
    g->balloon_active = !remove;
    g->remove_active = remove;
}

static int on_unballoon(dynmem_session_guest *g, const struct dynmem_proto_msg *m)
{
    const struct dynmem_proto_ranges *l = &m->body.unballoon_request.ranges;
    for (uint32_t i = 0; i < l->count; i++) {
        struct dynmem_proto_range r;
        (void)dynmem_proto_ranges_get(&r, l, i);
        if (r.page_count) {
            int rc = give_back(g, r.start_page, r.page_count);
            if (rc)
                return dynmem__detail_set(g->detail, rc, "UNBALLOON_REQUEST: pages %#" PRIx64
                                          "..%#" PRIx64 " (%" PRIu64 " pages): %s",
                                          r.start_page, r.start_page + r.page_count - 1,
                                          r.page_count, dynmem_strerror(rc));
        }
    }
    if (!m->body.unballoon_request.more_pages) {
        struct dynmem_proto_msg a = DYNMEM_PROTO_MSG_INIT;
        a.type = DYNMEM_PROTO_UNBALLOON_RESPONSE;
        (void)send(g, &a);
    }
    return 0;
}

static void on_hot_add(dynmem_session_guest *g, const struct dynmem_proto_msg *m)
{
    uint64_t start = m->body.hot_add_request.range.start_page;
    uint64_t count = m->body.hot_add_request.range.page_count, added = count;
    uint32_t result = 1;
    if (!g->param[DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_ADD])
        added = 0; /* permanent: result 1 with no pages */
    if (g->hot_add_fn && g->hot_add_fn(g->hot_add_ud, g->now, start, count, &added, &result) < 0)
        return;
    uint64_t book = result && added ? (added < count ? added : count) : 0;
    if (book && start < DYNMEM_MEMMAP_PAGES_MAX && book <= DYNMEM_MEMMAP_PAGES_MAX - start) {
        bool had = false;
        (void)dynmem_pageset_intersects(g->memory, start, book, &had);
        if (!had && dynmem_pageset_insert(g->memory, start, book, NULL) == 0 &&
            dynmem_pageset_insert(g->avail, start, book, NULL) != 0)
            (void)dynmem_pageset_remove(g->memory, start, book, NULL);
    }
    struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
    r.type = DYNMEM_PROTO_HOT_ADD_RESPONSE;
    r.body.hot_add_response.page_count = added > UINT32_MAX ? UINT32_MAX : (uint32_t)added;
    r.body.hot_add_response.result = result;
    (void)send(g, &r);
}

/* A message in a state where it does not belong (a hot-remove request
 * while ballooning counts as such, and the reverse). */
static int wrong_state(dynmem_session_guest *g, const struct dynmem_proto_msg *m)
{
    return dynmem__session_wrong_state(g->detail, m->type, gstate_names[g->state]);
}

static int dispatch(dynmem_session_guest *g, const struct dynmem_proto_msg *m)
{
    switch (m->type) {
    case DYNMEM_PROTO_VERSION_RESPONSE:
        if (g->state != G_VERSION)
            return wrong_state(g, m);
        on_version_response(g, m);
        return 0;
    case DYNMEM_PROTO_CAPABILITIES_RESPONSE:
        if (g->state != G_CAPS)
            return wrong_state(g, m);
        on_caps_response(g, m);
        return 0;
    default: break;
    }
    if (g->state != G_READY)
        return wrong_state(g, m);
    switch (m->type) {
    case DYNMEM_PROTO_BALLOON_REQUEST:
        if (g->remove_active)
            return wrong_state(g, m);
        start_giving(g, m->body.balloon_request.num_pages, false);
        return 0;
    case DYNMEM_PROTO_UNBALLOON_REQUEST: return on_unballoon(g, m);
    case DYNMEM_PROTO_HOT_ADD_REQUEST: on_hot_add(g, m); return 0;
    case DYNMEM_PROTO_HOT_REMOVE_REQUEST:
        if (g->balloon_active || !g->param[DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE])
            return wrong_state(g, m);
        start_giving(g, m->body.hot_remove_request.page_count, true);
        return 0;
    case DYNMEM_PROTO_INFO_MESSAGE:
        if (m->body.info_message.info_type == DYNMEM_PROTO_INFO_MAX_PAGE_COUNT) {
            struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_INFO, .time_ms = g->now};
            uint64_t p = m->body.info_message.max_page_count;
            ev.bytes = p >= DYNMEM_MEMMAP_PAGES_MAX ? UINT64_MAX : p << DYNMEM_PAGE_SHIFT;
            dynmem__evq_push(&g->evq, &ev);
        }
        return 0;
    default:
        return dynmem__detail_set(g->detail, DYNMEM_ERR_SESSION_DIRECTION, "%s only travels from "
                                  "guest to host", dynmem_proto_type_name(m->type));
    }
}

int dynmem_session_guest_recv(dynmem_session_guest *g, uint64_t now_ms, const void *buf, size_t len)
{
    if (!g || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = advance(g, now_ms);
    if (rc)
        return rc;
    if (g->state == G_CLOSED)
        rc = dynmem__detail_set(g->detail, DYNMEM_ERR_SESSION_CLOSED, "packet of %zu bytes while "
                                "the channel is closed (dynmem_session_guest_connect() opens it)",
                                len);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    if (!rc)
        rc = dynmem_proto_decode(&m, buf, len, g->version, NULL);
    if (!rc)
        rc = dispatch(g, &m);
    if (rc) {
        (void)dynmem__session_packet_refused(g->detail, rc, buf, len);
        push(g, DYNMEM_SESSION_EVENT_REFUSED, rc, rc < -199 || rc > -100 ? m.type : 0xffffu);
    }
    return rc;
}

int dynmem_session_guest_next_event(dynmem_session_guest *g, struct dynmem_session_event *ev)
{
    if (!g || !ev)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    g->detail[0] = '\0';
    return dynmem__evq_pop(&g->evq, ev);
}

const struct dynmem_pageset *dynmem_session_guest_memory(const dynmem_session_guest *g)
{
    return g ? g->memory : NULL;
}

const struct dynmem_pageset *dynmem_session_guest_ballooned(const dynmem_session_guest *g)
{
    return g ? g->ballooned : NULL;
}

uint32_t dynmem_session_guest_version(const dynmem_session_guest *g)
{
    return g && g->state >= G_CAPS && g->state != G_FAILED ? g->version : 0;
}

int dynmem_session_guest_last_error(const dynmem_session_guest *g, char *buf, size_t len)
{
    if (!g || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return dynmem__detail_copy(g->detail, buf, len);
}
