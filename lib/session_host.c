/* Host (VSP) session: life cycle, settings, resets and the dispatch of
 * guest input. Transactions and timers are in session_host_tx.c. */
#include <inttypes.h>
#include <string.h>

#include "session_host_internal.h"
#include "struct_abi.h"

struct param_info {
    int64_t def, min, max;
    const char *name; /* for refusal details */
};

#define P(e) [DYNMEM_SESSION_HOST_PARAM_##e]
#define N(e) "DYNMEM_SESSION_HOST_PARAM_" #e
static const struct param_info host_params[DYNMEM__HOST_PARAMS] = {
    P(POST_INIT_WAIT_MS) = {50000, 0, 3600000, N(POST_INIT_WAIT_MS)},
    P(REPLY_TIMEOUT_MS) = {30000, 1, 3600000, N(REPLY_TIMEOUT_MS)},
    P(BALLOON_CHUNK_PAGES) = {585728, 1, UINT32_MAX, N(BALLOON_CHUNK_PAGES)},
    P(VERSION_MIN) = {DYNMEM_PROTO_VERSION_WIN7, 0, UINT32_MAX, N(VERSION_MIN)},
    P(VERSION_MAX) = {DYNMEM_PROTO_VERSION_WIN10, 0, UINT32_MAX, N(VERSION_MAX)},
    P(VERSION_KNOWN_ONLY) = {1, 0, 1, N(VERSION_KNOWN_ONLY)},
    P(STATUS_REPORTS) = {1, 0, 1, N(STATUS_REPORTS)},
    P(STATUS_MIN_INTERVAL_MS) = {250, 0, 60000, N(STATUS_MIN_INTERVAL_MS)},
    P(PREFER_HOT_REMOVE) = {0, 0, 1, N(PREFER_HOT_REMOVE)},
    P(STATUS_BURST) = {60, 1, 3600, N(STATUS_BURST)},
};
#undef P
#undef N

/* The states' names as their enumerators spell them, for refusal details. */
static const char *const state_names[] = {
    [DYNMEM_SESSION_HOST_WAIT_CHANNEL] = "WAIT_CHANNEL", [DYNMEM_SESSION_HOST_VERSION] = "VERSION",
    [DYNMEM_SESSION_HOST_CAPS] = "CAPS", [DYNMEM_SESSION_HOST_POST_INIT] = "POST_INIT",
    [DYNMEM_SESSION_HOST_IDLE] = "IDLE", [DYNMEM_SESSION_HOST_BALLOON] = "BALLOON",
    [DYNMEM_SESSION_HOST_UNBALLOON] = "UNBALLOON", [DYNMEM_SESSION_HOST_HOT_ADD] = "HOT_ADD",
    [DYNMEM_SESSION_HOST_HOT_REMOVE] = "HOT_REMOVE",
};

static bool param_known(int p)
{
    return p >= 1 && p < DYNMEM__HOST_PARAMS && host_params[p].max > 0;
}

int dynmem_session_host_param_bounds(enum dynmem_session_host_param param, int64_t *out_min,
                                     int64_t *out_max)
{
    if (!out_min || !out_max)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!param_known((int)param))
        return DYNMEM_ERR_NOT_FOUND;
    *out_min = host_params[param].min;
    *out_max = host_params[param].max;
    return 0;
}

int dynmem_session_host_new(dynmem_session_host **out, struct dynmem_memmap *map,
                            const struct dynmem_allocator *alloc)
{
    if (!out || !map)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    struct dynmem__alloc a;
    int rc;
    dynmem_session_host *h = dynmem__handle_alloc(alloc, sizeof *h, &a, &rc);
    if (!h)
        return rc;
    h->alloc = a;
    h->map = map;
    h->ranges = dynmem__calloc(&a, DYNMEM_PROTO_RANGES_MAX, sizeof *h->ranges);
    if (!h->ranges || dynmem__outbox_init(&h->out, &a)) {
        dynmem_session_host_free(h);
        return DYNMEM_ERR_NO_MEMORY;
    }
    for (int p = 1; p < DYNMEM__HOST_PARAMS; p++)
        h->param[p] = host_params[p].def;
    h->state = DYNMEM_SESSION_HOST_WAIT_CHANNEL;
    h->c.size = sizeof h->c;
    *out = h;
    return 0;
}

void dynmem_session_host_free(dynmem_session_host *h)
{
    if (!h)
        return;
    struct dynmem__alloc a = h->alloc;
    dynmem__outbox_fini(&h->out, &a);
    if (h->ranges)
        dynmem__free(&a, h->ranges);
    dynmem__free(&a, h);
}

int dynmem_session_host_set_param(dynmem_session_host *h, enum dynmem_session_host_param param,
                                  int64_t value)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    h->detail[0] = '\0';
    if (!param_known((int)param))
        return dynmem__detail_no_param(h->detail, "host session setting", (int)param);
    const struct param_info *pi = &host_params[param];
    if (value < pi->min || value > pi->max)
        return dynmem__detail_bad_param(h->detail, DYNMEM_ERR_OUT_OF_RANGE, pi->name, value,
                                        pi->min, pi->max);
    int64_t lo = h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_MIN];
    int64_t hi = h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_MAX];
    if ((param == DYNMEM_SESSION_HOST_PARAM_VERSION_MIN && value > hi) ||
        (param == DYNMEM_SESSION_HOST_PARAM_VERSION_MAX && value < lo))
        return dynmem__detail_set(h->detail, DYNMEM_ERR_OUT_OF_RANGE,
                                  "%s %#" PRIx64 " would leave the versions %#" PRIx64
                                  "..%#" PRIx64 " empty", pi->name, (uint64_t)value,
                                  (uint64_t)(param == DYNMEM_SESSION_HOST_PARAM_VERSION_MIN ? value : lo),
                                  (uint64_t)(param == DYNMEM_SESSION_HOST_PARAM_VERSION_MAX ? value : hi));
    h->param[param] = value;
    return 0;
}

int dynmem_session_host_get_param(const dynmem_session_host *h,
                                  enum dynmem_session_host_param param, int64_t *out)
{
    if (!h || !out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (!param_known((int)param))
        return DYNMEM_ERR_NOT_FOUND;
    *out = h->param[param];
    return 0;
}

/* Every entry point that takes a time checks it first. */
static int advance(dynmem_session_host *h, uint64_t now)
{
    h->detail[0] = '\0';
    if (now < h->now)
        return dynmem__session_time_backwards(h->detail, now, h->now);
    h->now = now;
    return 0;
}

int dynmem_session_host_open(dynmem_session_host *h, uint64_t now_ms)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = advance(h, now_ms);
    if (rc)
        return rc;
    if (h->state != DYNMEM_SESSION_HOST_WAIT_CHANNEL)
        return dynmem__detail_set(h->detail, DYNMEM_ERR_BAD_STATE, "the channel is already open "
                                  "(state %s)", state_names[h->state]);
    h->state = DYNMEM_SESSION_HOST_VERSION;
    return 0;
}

static void shut(dynmem_session_host *h, uint32_t reset)
{
    if (h->state >= DYNMEM_SESSION_HOST_BALLOON)
        dynmem__host_tx_end(h, DYNMEM_SESSION_FLAG_RESET);
    if (h->act_live)
        dynmem__host_action_end(h, DYNMEM_SESSION_FLAG_RESET | DYNMEM_SESSION_FLAG_FAILED);
    dynmem__outbox_clear(&h->out);
    h->state = DYNMEM_SESSION_HOST_WAIT_CHANNEL;
    h->version = 0;
    h->caps = 0;
    h->cap_balloon = h->cap_hot_add = h->cap_hot_remove = false;
    h->post_init_armed = h->reply_armed = false;
    h->have_status = false;
    h->target_stalled = false;
    struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_RESET, .time_ms = h->now,
                                      .reset = reset};
    dynmem__evq_push(&h->evq, &ev);
}

int dynmem_session_host_close(dynmem_session_host *h, uint64_t now_ms)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = advance(h, now_ms);
    if (rc)
        return rc;
    shut(h, 0);
    return 0;
}

int dynmem_session_host_reset(dynmem_session_host *h, uint64_t now_ms,
                              enum dynmem_session_reset kind)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    /* The kind first: a refused call leaves the session as it was, its clock included. */
    if (kind != DYNMEM_SESSION_RESET_VMBUS && kind != DYNMEM_SESSION_RESET_SYSTEM)
        return dynmem__detail_set(h->detail, DYNMEM_ERR_INVALID_ARGUMENT, "reset kind %d is "
                                  "neither VMBUS (1) nor SYSTEM (2)", (int)kind);
    int rc = advance(h, now_ms);
    if (rc)
        return rc;
    shut(h, kind);
    h->trans_id = 0;
    if (kind == DYNMEM_SESSION_RESET_VMBUS)
        dynmem_memmap_reset_channel(h->map);
    else
        dynmem_memmap_reset_system(h->map);
    return 0;
}

static bool version_ok(const dynmem_session_host *h, uint32_t v)
{
    if (v < h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_MIN] ||
        v > h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_MAX])
        return false;
    if (v < DYNMEM_PROTO_VERSION_WIN7 || v > DYNMEM_PROTO_VERSION_WIN10)
        return false; /* the codec speaks nothing else */
    if (h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_KNOWN_ONLY])
        return v == DYNMEM_PROTO_VERSION_WIN7 || v == DYNMEM_PROTO_VERSION_WIN8 ||
               v == DYNMEM_PROTO_VERSION_WIN10;
    return true;
}

/* The codec version for an accepted number: the highest named one not above it. */
static uint32_t codec_version(uint32_t v)
{
    if (v >= DYNMEM_PROTO_VERSION_WIN10)
        return DYNMEM_PROTO_VERSION_WIN10;
    if (v >= DYNMEM_PROTO_VERSION_WIN8)
        return DYNMEM_PROTO_VERSION_WIN8;
    return DYNMEM_PROTO_VERSION_WIN7;
}

static int reply(dynmem_session_host *h, const struct dynmem_proto_msg *m)
{
    int rc = dynmem__outbox_put(&h->out, m, h->version);
    if (rc) {
        /* The caller is not taking packets while the guest keeps asking. */
        dynmem__host_refuse(h, DYNMEM_ERR_SESSION_FLOOD, m->type, 0, 0);
        return dynmem__detail_set(h->detail, DYNMEM_ERR_SESSION_FLOOD, "%s: %u replies wait "
                                  "unsent (take them with dynmem_session_host_next_send())",
                                  dynmem_proto_type_name(m->type), h->out.count);
    }
    return 0;
}

static int on_version(dynmem_session_host *h, const struct dynmem_proto_msg *m)
{
    uint32_t v = m->body.version_request.version;
    bool ok = version_ok(h, v);
    struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
    r.type = DYNMEM_PROTO_VERSION_RESPONSE;
    r.trans_id = m->trans_id;
    r.body.version_response.is_accepted = ok;
    int rc = reply(h, &r);
    if (rc)
        return rc;
    if (!ok) {
        dynmem__host_refuse(h, DYNMEM_ERR_SESSION_VERSION_POLICY, m->type, 0, 0);
        return dynmem__detail_set(h->detail, DYNMEM_ERR_SESSION_VERSION_POLICY, "VERSION_REQUEST: "
                                  "version %#" PRIx32 " outside the policy %#" PRIx64 "..%#"
                                  PRIx64 "%s", v,
                                  (uint64_t)h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_MIN],
                                  (uint64_t)h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_MAX],
                                  h->param[DYNMEM_SESSION_HOST_PARAM_VERSION_KNOWN_ONLY]
                                      ? " (known versions only)" : "");
    }
    h->version = codec_version(v);
    h->state = DYNMEM_SESSION_HOST_CAPS;
    struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_VERSION, .time_ms = h->now,
                                      .version = v};
    dynmem__evq_push(&h->evq, &ev);
    return 0;
}

static int on_caps(dynmem_session_host *h, const struct dynmem_proto_msg *m)
{
    const struct dynmem_proto_caps_report *c = &m->body.caps_report;
    struct dynmem_proto_msg r = DYNMEM_PROTO_MSG_INIT;
    r.type = DYNMEM_PROTO_CAPABILITIES_RESPONSE;
    r.trans_id = m->trans_id;
    r.body.caps_response.is_accepted = true;
    r.body.caps_response.hot_remove = h->version >= DYNMEM_PROTO_VERSION_WIN10;
    r.body.caps_response.suppress_pressure_reports =
        !h->param[DYNMEM_SESSION_HOST_PARAM_STATUS_REPORTS];
    int rc = reply(h, &r);
    if (rc)
        return rc;
    h->cap_balloon = c->balloon;
    h->cap_hot_add = c->hot_add;
    h->cap_hot_remove = c->hot_remove && h->version >= DYNMEM_PROTO_VERSION_WIN10;
    h->caps = (c->balloon ? DYNMEM_PROTO_CAP_BALLOON : 0) |
              (c->hot_add ? DYNMEM_PROTO_CAP_HOT_ADD : 0) |
              (h->cap_hot_remove ? DYNMEM_PROTO_CAP_HOT_REMOVE : 0) |
              ((uint64_t)(c->hot_add_alignment & 0xf) << DYNMEM_PROTO_CAP_ALIGNMENT_SHIFT);
    (void)dynmem_memmap_set_hot_add_alignment(h->map, c->hot_add_alignment & 0xf);
    struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_CAPS, .time_ms = h->now,
                                      .caps = h->caps};
    dynmem__evq_push(&h->evq, &ev);
    h->state = DYNMEM_SESSION_HOST_POST_INIT;
    h->post_init_armed = true;
    h->post_init_at = h->now + (uint64_t)h->param[DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS];
    return 0;
}

/* The flood rule, a token bucket: one report per STATUS_MIN_INTERVAL_MS on
 * average, and up to STATUS_BURST at once after a quiet spell. Credit is kept
 * in ms; a report costs one interval. A guest at Linux's pace (one report a
 * second) is never refused, even when a slow channel delivers a minute of its
 * reports at one instant. */
static bool status_allowed(dynmem_session_host *h)
{
    uint64_t iv = (uint64_t)h->param[DYNMEM_SESSION_HOST_PARAM_STATUS_MIN_INTERVAL_MS];
    uint64_t cap = iv * (uint64_t)h->param[DYNMEM_SESSION_HOST_PARAM_STATUS_BURST];
    uint64_t quiet = h->now - h->status_refill_at;
    if (!h->have_status || quiet >= cap || h->status_credit_ms >= cap - quiet)
        h->status_credit_ms = cap;
    else
        h->status_credit_ms += quiet;
    h->have_status = true;
    h->status_refill_at = h->now;
    if (h->status_credit_ms < iv)
        return false;
    h->status_credit_ms -= iv;
    return true;
}

static int on_status(dynmem_session_host *h, const struct dynmem_proto_msg *m)
{
    if (!status_allowed(h)) {
        h->c.status_flood++;
        return dynmem__detail_set(h->detail, DYNMEM_ERR_SESSION_FLOOD, "STATUS_REPORT: more than "
                                  "one per %" PRId64 " ms on average, bursts up to %" PRId64
                                  " (%" PRIu64 " refused so far)",
                                  h->param[DYNMEM_SESSION_HOST_PARAM_STATUS_MIN_INTERVAL_MS],
                                  h->param[DYNMEM_SESSION_HOST_PARAM_STATUS_BURST],
                                  h->c.status_flood);
    }
    h->c.status_reports++;
    const struct dynmem_proto_status_report *s = &m->body.status_report;
    struct dynmem_session_event ev = {.kind = DYNMEM_SESSION_EVENT_STATUS, .time_ms = h->now};
    ev.status.num_avail = s->num_avail;
    ev.status.num_committed = s->num_committed;
    ev.status.page_file_size = s->page_file_size;
    ev.status.zero_free = s->zero_free;
    ev.status.page_file_writes = s->page_file_writes;
    ev.status.io_diff = s->io_diff;
    /* What the guest counts in num_committed but the host took back. */
    if (dynmem_memmap_bytes(h->map, DYNMEM_MEMMAP_BALLOONED, &ev.bytes))
        ev.bytes = 0;
    dynmem__evq_push(&h->evq, &ev);
    return 0;
}

/* Which state a guest message belongs to; 0 for types the host never receives. */
static uint32_t expected_state(uint16_t type)
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

static int dispatch(dynmem_session_host *h, const void *buf, size_t len)
{
    if (h->state == DYNMEM_SESSION_HOST_WAIT_CHANNEL)
        return dynmem__detail_set(h->detail, DYNMEM_ERR_SESSION_CLOSED, "packet of %zu bytes "
                                  "while the channel is closed (dynmem_session_host_open() opens "
                                  "it)", len);
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    int rc = dynmem_proto_decode(&m, buf, len, h->version, NULL);
    if (rc)
        return rc;
    if (m.type == DYNMEM_PROTO_STATUS_REPORT) {
        if (h->state < DYNMEM_SESSION_HOST_CAPS)
            return dynmem__session_wrong_state(h->detail, m.type, state_names[h->state]);
        return on_status(h, &m);
    }
    uint32_t want = expected_state(m.type);
    if (!want && m.type == DYNMEM_PROTO_ERROR)
        return dynmem__session_wrong_state(h->detail, m.type, state_names[h->state]);
    if (!want)
        return dynmem__detail_set(h->detail, DYNMEM_ERR_SESSION_DIRECTION, "%s only travels from "
                                  "host to guest", dynmem_proto_type_name(m.type));
    if (want != h->state)
        return dynmem__session_wrong_state(h->detail, m.type, state_names[h->state]);
    rc = 0;
    switch (m.type) {
    case DYNMEM_PROTO_VERSION_REQUEST: return on_version(h, &m);
    case DYNMEM_PROTO_CAPABILITIES_REPORT: return on_caps(h, &m);
    case DYNMEM_PROTO_BALLOON_RESPONSE: dynmem__host_on_balloon(h, &m, &rc); break;
    case DYNMEM_PROTO_UNBALLOON_RESPONSE: dynmem__host_on_unballoon(h); break;
    case DYNMEM_PROTO_HOT_ADD_RESPONSE: dynmem__host_on_hot_add(h, &m, &rc); break;
    default: dynmem__host_on_hot_remove(h, &m, &rc); break;
    }
    return rc;
}

/* Refusals that the handlers already reported themselves. */
static bool reported(int rc)
{
    return rc == DYNMEM_ERR_SESSION_VERSION_POLICY || rc == DYNMEM_ERR_SESSION_TOO_MUCH ||
           rc == DYNMEM_ERR_PAGES_OUTSIDE || rc == DYNMEM_ERR_PAGES_BALLOONED ||
           rc == DYNMEM_ERR_NO_MEMORY || rc == DYNMEM_ERR_OUT_OF_RANGE ||
           (rc == DYNMEM_ERR_SESSION_FLOOD);
}

int dynmem_session_host_recv(dynmem_session_host *h, uint64_t now_ms, const void *buf, size_t len)
{
    if (!h || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = advance(h, now_ms);
    if (rc)
        return rc;
    dynmem__host_timers(h);
    h->c.received++;
    rc = dispatch(h, buf, len);
    if (rc)
        (void)dynmem__session_packet_refused(h->detail, rc, buf, len);
    if (rc && !reported(rc)) {
        uint32_t type = 0xffff;
        if (len >= 2)
            type = (uint32_t)((const unsigned char *)buf)[0] |
                   ((uint32_t)((const unsigned char *)buf)[1] << 8);
        h->c.refused++;
        dynmem__host_refuse(h, rc, type, 0, 0);
    } else if (rc == DYNMEM_ERR_SESSION_FLOOD || rc == DYNMEM_ERR_SESSION_VERSION_POLICY) {
        h->c.refused++;
    }
    dynmem__host_plan(h);
    return rc;
}

int dynmem_session_host_next_send(dynmem_session_host *h, void *buf, size_t cap, size_t *out_len)
{
    if (!h || !out_len || (!buf && cap))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    h->detail[0] = '\0';
    int rc = dynmem__outbox_take(&h->out, buf, cap, out_len);
    if (rc == 1)
        h->c.sent++;
    return rc;
}

int dynmem_session_host_tick(dynmem_session_host *h, uint64_t now_ms)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = advance(h, now_ms);
    if (rc)
        return rc;
    dynmem__host_timers(h);
    dynmem__host_plan(h);
    return 0;
}

int dynmem_session_host_next_deadline(const dynmem_session_host *h, uint64_t *out_ms)
{
    if (!h || !out_ms)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (h->post_init_armed) {
        *out_ms = h->post_init_at;
        return 1;
    }
    if (h->reply_armed) {
        *out_ms = h->reply_at;
        return 1;
    }
    return 0;
}

int dynmem_session_host_next_event(dynmem_session_host *h, struct dynmem_session_event *ev)
{
    if (!h || !ev)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    h->detail[0] = '\0';
    return dynmem__evq_pop(&h->evq, ev);
}

/* A new goal replaces an action: it ends now, or with its transaction. */
static void supersede_action(dynmem_session_host *h)
{
    if (!h->act_live)
        return;
    if (h->state >= DYNMEM_SESSION_HOST_BALLOON && h->tx_for_action) {
        h->act_live = false; /* the transaction's end carries the FINAL fact */
        return;
    }
    dynmem__host_action_end(h, 0);
}

/* Common start of set_target and start_action: time, due timers, and the
 * end of the action they replace. */
static int new_goal(dynmem_session_host *h, uint64_t now_ms)
{
    int rc = advance(h, now_ms);
    if (rc)
        return rc;
    dynmem__host_timers(h);
    supersede_action(h);
    return 0;
}

int dynmem_session_host_set_target(dynmem_session_host *h, uint64_t now_ms, uint64_t target_bytes)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = new_goal(h, now_ms);
    if (rc)
        return rc;
    h->target_set = true;
    h->target_stalled = false;
    h->target_pages = target_bytes >> DYNMEM_PAGE_SHIFT;
    dynmem__host_plan(h);
    return 0;
}

int dynmem_session_host_clear_target(dynmem_session_host *h)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    h->detail[0] = '\0';
    h->target_set = false;
    return 0;
}

int dynmem_session_host_start_action(dynmem_session_host *h, uint64_t now_ms, uint32_t kind,
                                     uint64_t bytes, uint64_t action_id)
{
    if (!h)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    h->detail[0] = '\0';
    if (bytes < DYNMEM_PAGE_SIZE)
        return dynmem__detail_set(h->detail, DYNMEM_ERR_INVALID_ARGUMENT, "action %" PRIu64
                                  ": %" PRIu64 " bytes is less than one page", action_id, bytes);
    if (kind < 1 || kind > 4)
        return dynmem__detail_set(h->detail, DYNMEM_ERR_UNSUPPORTED, "action %" PRIu64 ": kind %"
                                  PRIu32 " is not one of 1..4 (enum dynmem_action_kind)",
                                  action_id, kind);
    int rc = new_goal(h, now_ms);
    if (rc)
        return rc;
    h->target_set = false;
    h->act_live = true;
    h->act_kind = kind;
    h->act_id = action_id;
    h->act_pages = bytes >> DYNMEM_PAGE_SHIFT;
    h->act_done = 0;
    dynmem__host_plan(h);
    return 0;
}

int dynmem_session_host_counters(const dynmem_session_host *h,
                                 struct dynmem_session_host_counters *out)
{
    if (!h || !out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__out_check(out, DYNMEM__END_OF(struct dynmem_session_host_counters,
                                                   events_dropped));
    if (rc)
        return rc;
    struct dynmem_session_host_counters c = h->c;
    c.state = h->state;
    c.version = h->version;
    c.events_dropped = h->evq.dropped;
    dynmem__out_store(out, &c, sizeof c);
    return 0;
}

int dynmem_session_host_state(const dynmem_session_host *h)
{
    return h ? (int)h->state : DYNMEM_ERR_INVALID_ARGUMENT;
}

int dynmem_session_host_last_error(const dynmem_session_host *h, char *buf, size_t len)
{
    if (!h || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return dynmem__detail_copy(h->detail, buf, len);
}
