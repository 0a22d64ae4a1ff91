/* What the host and guest sessions share: the event queue, the outbox and
 * the names of event kinds, and the refusal details both sides write. */
#include <inttypes.h>
#include <string.h>

#include "pressure_abi.h"
#include "session_internal.h"
#include "struct_abi.h"

static struct dynmem_session_event *evq_at(struct dynmem__evq *q, unsigned i)
{
    return &q->ev[(q->head + i) % DYNMEM__EVQ_CAP];
}

/* Folds the next piece of a transaction into the unread fact before it: the
 * result is the one fact that would have been queued had the caller read
 * nothing until now. Pieces carry no request and no error; the final one
 * may carry both. */
static void fact_merge(struct dynmem_session_event *last, const struct dynmem_session_event *ev)
{
    last->bytes += ev->bytes;
    last->flags |= ev->flags;
    last->time_ms = ev->time_ms;
    if (ev->requested_bytes)
        last->requested_bytes = ev->requested_bytes;
    if (ev->error)
        last->error = ev->error;
}

void dynmem__evq_push(struct dynmem__evq *q, const struct dynmem_session_event *ev)
{
    if (q->count) {
        struct dynmem_session_event *last = evq_at(q, q->count - 1);
        /* Pieces of one transaction add up into one fact. */
        if (ev->kind == DYNMEM_SESSION_EVENT_FACT && last->kind == DYNMEM_SESSION_EVENT_FACT &&
            !(last->flags & DYNMEM_SESSION_FLAG_FINAL) && last->action_kind == ev->action_kind &&
            last->action_id == ev->action_id) {
            fact_merge(last, ev);
            return;
        }
    }
    if (ev->kind == DYNMEM_SESSION_EVENT_STATUS) {
        for (unsigned i = 0; i < q->count; i++) {
            struct dynmem_session_event *e = evq_at(q, i);
            if (e->kind == DYNMEM_SESSION_EVENT_STATUS) {
                *e = *ev;
                e->size = sizeof *e;
                return;
            }
        }
    }
    if ((ev->kind == DYNMEM_SESSION_EVENT_REFUSED && q->count >= DYNMEM__EVQ_CAP / 2) ||
        q->count >= DYNMEM__EVQ_CAP) {
        q->dropped++;
        return;
    }
    struct dynmem_session_event *slot = evq_at(q, q->count);
    *slot = *ev;
    slot->size = sizeof *slot;
    q->count++;
}

int dynmem__evq_pop(struct dynmem__evq *q, struct dynmem_session_event *out)
{
    int rc = dynmem__out_check(out, DYNMEM__END_OF(struct dynmem_session_event, status));
    if (rc)
        return rc;
    if (!q->count)
        return 0;
    dynmem__out_store(out, evq_at(q, 0), sizeof *out);
    q->head = (q->head + 1) % DYNMEM__EVQ_CAP;
    q->count--;
    return 1;
}

int dynmem__outbox_init(struct dynmem__outbox *o, const struct dynmem__alloc *a)
{
    memset(o, 0, sizeof *o);
    o->buf = dynmem__malloc(a, (size_t)DYNMEM__OUTBOX_CAP * DYNMEM_PROTO_MSG_SIZE_MAX);
    return o->buf ? 0 : DYNMEM_ERR_NO_MEMORY;
}

void dynmem__outbox_fini(struct dynmem__outbox *o, const struct dynmem__alloc *a)
{
    if (o->buf)
        dynmem__free(a, o->buf);
    o->buf = NULL;
}

void dynmem__outbox_clear(struct dynmem__outbox *o)
{
    o->head = 0;
    o->count = 0;
}

int dynmem__outbox_put(struct dynmem__outbox *o, const struct dynmem_proto_msg *msg,
                       uint32_t version)
{
    if (o->count >= DYNMEM__OUTBOX_CAP)
        return DYNMEM_ERR_BUFFER_TOO_SMALL;
    unsigned slot = (o->head + o->count) % DYNMEM__OUTBOX_CAP;
    ptrdiff_t n = dynmem_proto_encode(o->buf + (size_t)slot * DYNMEM_PROTO_MSG_SIZE_MAX,
                                      DYNMEM_PROTO_MSG_SIZE_MAX, msg, version);
    if (n < 0)
        return (int)n;
    o->len[slot] = (uint16_t)n;
    o->count++;
    return 0;
}

int dynmem__outbox_take(struct dynmem__outbox *o, void *buf, size_t cap, size_t *out_len)
{
    if (!o->count)
        return 0;
    size_t n = o->len[o->head];
    if (cap < n)
        return DYNMEM_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, o->buf + (size_t)o->head * DYNMEM_PROTO_MSG_SIZE_MAX, n);
    *out_len = n;
    o->head = (o->head + 1) % DYNMEM__OUTBOX_CAP;
    o->count--;
    return 1;
}

const char *dynmem_session_event_kind_name(uint32_t kind)
{
    switch (kind) {
    case DYNMEM_SESSION_EVENT_FACT: return "FACT";
    case DYNMEM_SESSION_EVENT_STATUS: return "STATUS";
    case DYNMEM_SESSION_EVENT_REFUSED: return "REFUSED";
    case DYNMEM_SESSION_EVENT_VERSION: return "VERSION";
    case DYNMEM_SESSION_EVENT_CAPS: return "CAPS";
    case DYNMEM_SESSION_EVENT_READY: return "READY";
    case DYNMEM_SESSION_EVENT_RESET: return "RESET";
    case DYNMEM_SESSION_EVENT_INFO: return "INFO";
    case DYNMEM_SESSION_EVENT_FAILED: return "FAILED";
    default: return "unknown";
    }
}

int dynmem_session_event_to_pressure_sample(struct dynmem_pressure_sample *sample,
                                            const struct dynmem_session_event *ev)
{
    if (!sample || !ev || ev->kind != DYNMEM_SESSION_EVENT_STATUS)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__out_check(sample, DYNMEM__SAMPLE_MIN_SIZE);
    if (rc)
        return rc;
    /* Built in a struct of this library's size, then handed over: the
     * caller's may be smaller (older headers) or larger (newer ones). */
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    rc = dynmem_pressure_sample_from_dm_status(&s, ev->time_ms, ev->status.num_committed,
                                               ev->status.num_avail);
    if (rc)
        return rc;
    /* Linux and Windows count their ballooned pages as committed. Left in,
     * every page ballooned out would raise demand by as much and the
     * balancer would hand it straight back; the host knows them exactly. */
    s.committed_bytes = s.committed_bytes > ev->bytes ? s.committed_bytes - ev->bytes : 0;
    dynmem__out_store(sample, &s, sizeof s);
    return 0;
}

int dynmem__session_time_backwards(char *detail, uint64_t now_ms, uint64_t latest_ms)
{
    return dynmem__detail_set(detail, DYNMEM_ERR_SESSION_TIME_BACKWARDS,
                              "time %" PRIu64 " ms is before the session's latest, %" PRIu64 " ms",
                              now_ms, latest_ms);
}

int dynmem__session_packet_refused(char *detail, int rc, const void *buf, size_t len)
{
    if (len < 2)
        return dynmem__detail_first(detail, rc, "packet of %zu bytes: %s", len,
                                    dynmem_strerror(rc));
    const unsigned char *b = buf;
    uint32_t type = (uint32_t)b[0] | (uint32_t)b[1] << 8;
    return dynmem__detail_first(detail, rc, "%s (type %" PRIu32 "), %zu bytes: %s",
                                dynmem_proto_type_name(type), type, len, dynmem_strerror(rc));
}

int dynmem__session_wrong_state(char *detail, uint32_t msg_type, const char *state)
{
    return dynmem__detail_set(detail, DYNMEM_ERR_SESSION_WRONG_STATE,
                              "%s not expected in state %s", dynmem_proto_type_name(msg_type),
                              state);
}
