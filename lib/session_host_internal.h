/* Internal: the host session's object, shared by its two source files
 * (session_host.c: life cycle, settings, input; session_host_tx.c:
 * planning, transactions and timers). */
#ifndef DYNMEM_LIB_SESSION_HOST_INTERNAL_H
#define DYNMEM_LIB_SESSION_HOST_INTERNAL_H

#include <stdbool.h>

#include "session_internal.h"

#define DYNMEM__HOST_PARAMS 11

struct dynmem_session_host {
    struct dynmem__alloc alloc;
    struct dynmem_memmap *map;
    struct dynmem__evq evq;
    struct dynmem__outbox out;
    struct dynmem_proto_range *ranges; /* DYNMEM_PROTO_RANGES_MAX scratch */
    int64_t param[DYNMEM__HOST_PARAMS];
    uint32_t state;
    uint32_t version; /* agreed, 0 before */
    uint32_t trans_id;
    uint64_t now;
    /* capabilities */
    bool cap_balloon, cap_hot_add, cap_hot_remove;
    uint64_t caps;
    /* timers */
    bool post_init_armed, reply_armed;
    uint64_t post_init_at, reply_at;
    /* status reports: the flood rule's bucket (empty of history when false) */
    bool have_status;
    uint64_t status_refill_at, status_credit_ms;
    /* what is wanted: a target, or one action */
    bool target_set, target_stalled;
    uint64_t target_pages;
    bool act_live;
    uint32_t act_kind;
    uint64_t act_id, act_pages, act_done;
    /* the transaction in flight (state BALLOON..HOT_REMOVE) */
    bool tx_for_action; /* belongs to the action act_id */
    uint64_t tx_action_id;
    uint64_t tx_asked, tx_got, tx_start;
    /* counters */
    struct dynmem_session_host_counters c;
    /* The latest refusal's detail (dynmem_session_host_last_error()). */
    char detail[DYNMEM__DETAIL_LEN];
};

/* session_host_tx.c */
void dynmem__host_plan(dynmem_session_host *h);
void dynmem__host_timers(dynmem_session_host *h);
/* Ends the transaction in flight; flags are DYNMEM_SESSION_FLAG_* to add
 * (TIMED_OUT, RESET) or 0 when it ended by the guest's answer. */
void dynmem__host_tx_end(dynmem_session_host *h, uint32_t flags);
/* Ends the action (FINAL fact), whether or not a transaction is in flight. */
void dynmem__host_action_end(dynmem_session_host *h, uint32_t flags);
void dynmem__host_fact(dynmem_session_host *h, uint32_t kind, uint64_t id, uint64_t pages,
                       uint64_t requested_pages, uint32_t flags);
void dynmem__host_refuse(dynmem_session_host *h, int error, uint32_t msg_type, uint32_t flags,
                         uint64_t claimed_pages);
void dynmem__host_on_balloon(dynmem_session_host *h, const struct dynmem_proto_msg *m, int *rc);
void dynmem__host_on_unballoon(dynmem_session_host *h);
void dynmem__host_on_hot_add(dynmem_session_host *h, const struct dynmem_proto_msg *m, int *rc);
void dynmem__host_on_hot_remove(dynmem_session_host *h, const struct dynmem_proto_msg *m, int *rc);

#endif
