/* Internal: what the host and guest sessions share: the event queue, the
 * outbox of encoded packets and the time check. */
#ifndef DYNMEM_LIB_SESSION_INTERNAL_H
#define DYNMEM_LIB_SESSION_INTERNAL_H

#include <dynmem/session.h>

#include "alloc.h"
#include "detail.h"

/* Events queued at most. Facts of one transaction are merged into one
 * queued event and a status report replaces the one still queued, so only
 * refusals can fill the queue; they are dropped (and counted) once half of
 * it is in use, which keeps room for facts. */
#define DYNMEM__EVQ_CAP 64u
/* Packets waiting to be taken by the caller. A session queues at most a
 * handshake reply plus one request, or a response plus a status report. */
#define DYNMEM__OUTBOX_CAP 8u

struct dynmem__evq {
    struct dynmem_session_event ev[DYNMEM__EVQ_CAP];
    unsigned head, count;
    uint64_t dropped;
};

struct dynmem__outbox {
    unsigned char *buf; /* DYNMEM__OUTBOX_CAP * DYNMEM_PROTO_MSG_SIZE_MAX bytes */
    uint16_t len[DYNMEM__OUTBOX_CAP];
    unsigned head, count;
};

/* Queues a copy of *ev (whose size field is ignored), merging as above. */
void dynmem__evq_push(struct dynmem__evq *q, const struct dynmem_session_event *ev);
/* dynmem_session_*_next_event(): 1, 0 or an error. */
int dynmem__evq_pop(struct dynmem__evq *q, struct dynmem_session_event *out);

int dynmem__outbox_init(struct dynmem__outbox *o, const struct dynmem__alloc *a);
void dynmem__outbox_fini(struct dynmem__outbox *o, const struct dynmem__alloc *a);
void dynmem__outbox_clear(struct dynmem__outbox *o);
/* Encodes msg into the next free slot: 0, DYNMEM_ERR_BUFFER_TOO_SMALL when
 * the outbox is full, or an encoder error (a bug). */
int dynmem__outbox_put(struct dynmem__outbox *o, const struct dynmem_proto_msg *msg,
                       uint32_t version);
/* dynmem_session_*_next_send(): 1, 0 or an error. */
int dynmem__outbox_take(struct dynmem__outbox *o, void *buf, size_t cap, size_t *out_len);

/* Refusal details both sides share (dynmem_session_*_last_error()). Each
 * returns rc. A time before the session's latest: */
int dynmem__session_time_backwards(char *detail, uint64_t now_ms, uint64_t latest_ms);
/* A packet refused with rc: its type (from its first bytes), size and the
 * code's text, unless a more specific detail was already written. */
int dynmem__session_packet_refused(char *detail, int rc, const void *buf, size_t len);
/* A message that arrives in a state where it does not belong. */
int dynmem__session_wrong_state(char *detail, uint32_t msg_type, const char *state);

#endif
