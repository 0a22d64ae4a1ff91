/**
 * @file session.h
 * @brief Hyper-V Dynamic Memory protocol sessions: the host end (VSP, one
 *        per VM) and the guest end (VSC, one per guest) as state machines
 *        that do no I/O.
 *
 * A session never reads a socket, never looks at a clock and never sleeps.
 * The caller hands it every packet the peer sent
 * (dynmem_session_host_recv()), takes the packets it wants sent
 * (dynmem_session_host_next_send()), passes the current time in
 * milliseconds to every call that can change state, and calls back no later
 * than dynmem_session_host_next_deadline() says. What happened is read
 * from an event queue (dynmem_session_host_next_event()): facts about
 * memory, status reports, refused input. Nothing calls back into the
 * caller, except a guest session's model hooks.
 *
 * @par Host session
 * States, in order: waiting for the channel, version negotiation,
 * capabilities, post-init wait (50 s by default: some Windows guests crash
 * on a request right after boot), idle, and one transaction at a time
 * (balloon, unballoon, hot-add or hot-remove). The host session keeps its
 * books in a caller-owned memory map (memmap.h) and changes them only on
 * facts the guest reported, never on what was merely asked. Its work comes
 * either from a target size (dynmem_session_host_set_target(): unballoon
 * first, then hot-add, or balloon / hot-remove) or from single actions
 * (dynmem_session_host_start_action(), e.g. a balancer action); either may
 * change during a transaction and is taken up when the transaction ends.
 * Every reply has a deadline: a guest that does not answer ends the
 * transaction as failed and timed out, and a late answer is refused.
 *
 * @par Hostile guests
 * Input from the guest is untrusted. A packet that does not decode, a
 * message the current state does not expect, a range outside the guest's
 * memory or already ballooned, more pages than were asked for, or a
 * hot-add claim above the request is refused or clamped: the books stay
 * exact, the refusal is counted (dynmem_session_host_counters()) and
 * reported as a DYNMEM_SESSION_EVENT_REFUSED event, and
 * dynmem_session_host_recv() returns the reason. No input makes the
 * session unusable.
 *
 * @par Wiring to the balancer
 * Actions go down, facts come up; the balancer never calls a session. Take
 * an action with dynmem_balancer_next_action(), hand it to the VM's host
 * session with dynmem_session_host_start_action(kind, bytes, action_id),
 * and pass every DYNMEM_SESSION_EVENT_FACT event on unchanged:
 * @code
 * dynmem_balancer_confirm(b, vm_id, ev.action_id, ev.time_ms, ev.bytes,
 *                         ev.flags & (DYNMEM_CONFIRM_FINAL | DYNMEM_CONFIRM_FAILED));
 * @endcode
 *
 * @par Guest session
 * Negotiates 2.0, then 1.0, then 0.3 (the last with is_last_attempt),
 * reports its capabilities, posts a status report every second after an
 * initial delay, and answers balloon, unballoon, hot-add, hot-remove and
 * info messages. Its own books (which pages it has, which it ballooned)
 * are page-range sets. Which pages to give and whether a hot-add works is
 * decided by model hooks set with setters, so one engine can play a
 * Linux-like, Windows-like, slow, stuck or lying guest.
 *
 * @par Thread safety
 * A session may be used by one thread at a time; distinct sessions are
 * independent. A host session's memory map must not be changed by anyone
 * else while the session exists (reading it is fine).
 */
#ifndef DYNMEM_SESSION_H
#define DYNMEM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dynmem/common.h>
#include <dynmem/memmap.h>
#include <dynmem/pages.h>
#include <dynmem/pressure.h>
#include <dynmem/proto.h>

DYNMEM_BEGIN_DECLS

/**
 * @defgroup session Protocol sessions
 * @{
 */

/** A host (VSP) session for one VM (opaque). */
typedef struct dynmem_session_host dynmem_session_host;
/** A guest (VSC) session (opaque). */
typedef struct dynmem_session_guest dynmem_session_guest;

/** Host session states, as dynmem_session_host_state() reports them. */
enum dynmem_session_host_state {
    /** No channel: before dynmem_session_host_open() or after a close/reset. */
    DYNMEM_SESSION_HOST_WAIT_CHANNEL = 1,
    /** Waiting for an acceptable version request. */
    DYNMEM_SESSION_HOST_VERSION = 2,
    /** Waiting for the capabilities report. */
    DYNMEM_SESSION_HOST_CAPS = 3,
    /** Capabilities accepted; waiting out the post-init delay. */
    DYNMEM_SESSION_HOST_POST_INIT = 4,
    /** Ready, nothing in flight. */
    DYNMEM_SESSION_HOST_IDLE = 5,
    /** A balloon request is out; collecting balloon responses. */
    DYNMEM_SESSION_HOST_BALLOON = 6,
    /** An unballoon request is out; waiting for the response. */
    DYNMEM_SESSION_HOST_UNBALLOON = 7,
    /** A hot-add request is out; waiting for the response. */
    DYNMEM_SESSION_HOST_HOT_ADD = 8,
    /** A hot-remove request is out; collecting hot-remove responses. */
    DYNMEM_SESSION_HOST_HOT_REMOVE = 9
};

/** Kinds of resets (PROTOCOL semantics, see docs/sessions.md). */
enum dynmem_session_reset {
    /** VMBus reset: the channel is gone and the guest's balloon driver
     *  starts over with its ballooned pages taken back; hot-added memory
     *  stays. */
    DYNMEM_SESSION_RESET_VMBUS = 1,
    /** System reset: the guest reboots with its boot memory only. */
    DYNMEM_SESSION_RESET_SYSTEM = 2
};

/** Host session settings, for dynmem_session_host_set_param(). */
enum dynmem_session_host_param {
    /** Delay between accepting the capabilities and the first request, ms.
     *  Default 50000, bounds 0..3600000. */
    DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS = 1,
    /** How long the host waits for each reply before it gives the
     *  transaction up, ms. Default 30000, bounds 1..3600000. */
    DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS = 2,
    /** Most pages asked for in one balloon or hot-remove request. Default
     *  585728 (as Windows and QEMU), bounds 1..4294967295. */
    DYNMEM_SESSION_HOST_PARAM_BALLOON_CHUNK_PAGES = 3,
    /** Lowest protocol version accepted. Default 0x3 (0.3). */
    DYNMEM_SESSION_HOST_PARAM_VERSION_MIN = 4,
    /** Highest protocol version accepted. Default 0x20000 (2.0). */
    DYNMEM_SESSION_HOST_PARAM_VERSION_MAX = 5,
    /** 1: accept only the named versions 0.3, 1.0 and 2.0 inside the
     *  bounds; 0: accept any number inside them, as QEMU does. Default 1. */
    DYNMEM_SESSION_HOST_PARAM_VERSION_KNOWN_ONLY = 6,
    /** 1: ask the guest for status reports; 0: tell it to suppress them.
     *  Default 1. */
    DYNMEM_SESSION_HOST_PARAM_STATUS_REPORTS = 7,
    /** The flood rule's rate: status reports are taken at one per this
     *  interval on average, with bursts of up to
     *  DYNMEM_SESSION_HOST_PARAM_STATUS_BURST (a token bucket); a report beyond
     *  that is dropped and counted as a flood, ms. 0 takes every report.
     *  Default 250 (four a second, four times Linux's pace), bounds
     *  0..60000. */
    DYNMEM_SESSION_HOST_PARAM_STATUS_MIN_INTERVAL_MS = 8,
    /** 1: shrink a guest that can hot-remove (protocol 2.0, capability
     *  set) by hot-remove instead of ballooning. Default 0. */
    DYNMEM_SESSION_HOST_PARAM_PREFER_HOT_REMOVE = 9,
    /** The flood rule's burst: status reports taken at one instant after a
     *  quiet spell, so that reports a slow channel held back and delivers
     *  together are not mistaken for a flood. Default 60 (a minute of
     *  reports at Linux's pace of one a second), bounds 1..3600. */
    DYNMEM_SESSION_HOST_PARAM_STATUS_BURST = 10,
    /** @cond DEPRECATED */
    /* The names before the PARAM_ scheme, kept so that older callers
     * build (with a deprecation warning); same values. */
    DYNMEM_SESSION_HOST_POST_INIT_WAIT_MS DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS") = 1,
    DYNMEM_SESSION_HOST_REPLY_TIMEOUT_MS DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS") = 2,
    DYNMEM_SESSION_HOST_BALLOON_CHUNK_PAGES DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_BALLOON_CHUNK_PAGES") = 3,
    DYNMEM_SESSION_HOST_VERSION_MIN DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_VERSION_MIN") = 4,
    DYNMEM_SESSION_HOST_VERSION_MAX DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_VERSION_MAX") = 5,
    DYNMEM_SESSION_HOST_VERSION_KNOWN_ONLY DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_VERSION_KNOWN_ONLY") = 6,
    DYNMEM_SESSION_HOST_STATUS_REPORTS DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_STATUS_REPORTS") = 7,
    DYNMEM_SESSION_HOST_STATUS_MIN_INTERVAL_MS DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_STATUS_MIN_INTERVAL_MS") = 8,
    DYNMEM_SESSION_HOST_PREFER_HOT_REMOVE DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_PREFER_HOT_REMOVE") = 9,
    DYNMEM_SESSION_HOST_STATUS_BURST DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_HOST_PARAM_STATUS_BURST") = 10
    /** @endcond */
};

/** Kinds of event (dynmem_session_event::kind). */
enum dynmem_session_event_kind {
    /** A fact about memory: the guest gave (balloon, hot-remove) or took
     *  (unballoon, hot-add) @c bytes for the action @c action_kind, and
     *  with DYNMEM_SESSION_FLAG_FINAL the transaction or action is over. */
    DYNMEM_SESSION_EVENT_FACT = 1,
    /** A status report: the @c status fields are set. */
    DYNMEM_SESSION_EVENT_STATUS = 2,
    /** Input was refused or clamped: @c error says why, @c msg_type what. */
    DYNMEM_SESSION_EVENT_REFUSED = 3,
    /** A protocol version was agreed: @c version. */
    DYNMEM_SESSION_EVENT_VERSION = 4,
    /** Capabilities were accepted: @c caps (DYNMEM_PROTO_CAP_* bits). */
    DYNMEM_SESSION_EVENT_CAPS = 5,
    /** The session can now send requests (post-init wait over). */
    DYNMEM_SESSION_EVENT_READY = 6,
    /** The channel closed or was reset: @c reset (0 for a plain close). */
    DYNMEM_SESSION_EVENT_RESET = 7,
    /** Guest sessions: an info message gave the maximum page count
     *  (@c bytes holds it in bytes). */
    DYNMEM_SESSION_EVENT_INFO = 8,
    /** Guest sessions: negotiation failed (every version rejected, or the
     *  capabilities were refused); @c error says which. */
    DYNMEM_SESSION_EVENT_FAILED = 9
};

/**
 * @name Event flags
 * Bits of dynmem_session_event::flags. The first two have the values of
 * DYNMEM_CONFIRM_FINAL and DYNMEM_CONFIRM_FAILED, so a fact passes straight
 * to dynmem_balancer_confirm().
 * @{
 */
/** The transaction (or action) is over; what was not reported did not happen. */
#define DYNMEM_SESSION_FLAG_FINAL (1u << 0)
/** It ended in failure (with FINAL). */
#define DYNMEM_SESSION_FLAG_FAILED (1u << 1)
/** It ended because the guest did not answer in time (with FINAL and FAILED). */
#define DYNMEM_SESSION_FLAG_TIMED_OUT (1u << 2)
/** Less than asked was done (with FINAL). */
#define DYNMEM_SESSION_FLAG_PARTIAL (1u << 3)
/** A claim of the guest was cut down rather than refused (REFUSED events). */
#define DYNMEM_SESSION_FLAG_CLAMPED (1u << 4)
/** The guest said it can never do this again (hot-add permanent failure). */
#define DYNMEM_SESSION_FLAG_PERMANENT (1u << 5)
/** The transaction ended because the channel closed or was reset. */
#define DYNMEM_SESSION_FLAG_RESET (1u << 6)
/** @} */

/** Figures of a status report, in 4 KiB pages (as on the wire). */
struct dynmem_session_status {
    uint64_t num_avail;        /**< available memory */
    uint64_t num_committed;    /**< committed memory */
    uint64_t page_file_size;   /**< page-file size */
    uint64_t zero_free;        /**< zeroed and free pages */
    uint32_t page_file_writes; /**< page-file writes */
    uint32_t io_diff;          /**< cache faults minus page reads */
};

/**
 * One event. Size-prefixed output: set @c size (DYNMEM_SESSION_EVENT_INIT);
 * the library writes at most that many bytes.
 */
struct dynmem_session_event {
    /** sizeof(struct dynmem_session_event) as compiled by the caller. */
    uint32_t size;
    /** enum dynmem_session_event_kind. */
    uint32_t kind;
    /** When it happened (the time passed to the call), ms. */
    uint64_t time_ms;
    /** FACT: enum dynmem_action_kind of the transaction. */
    uint32_t action_kind;
    /** DYNMEM_SESSION_FLAG_* bits. */
    uint32_t flags;
    /** FACT: the action it belongs to (0 when working towards a target). */
    uint64_t action_id;
    /** FACT: memory moved by this piece; INFO: the maximum size; STATUS:
     *  memory the host counted as ballooned when the report arrived. */
    uint64_t bytes;
    /** FACT with FINAL: memory the transaction or action asked for;
     *  REFUSED with CLAMPED: what the guest claimed. */
    uint64_t requested_bytes;
    /** REFUSED, FAILED: the reason, a negative enum dynmem_error. */
    int32_t error;
    /** REFUSED: wire type of the message (or 0xffff if it did not decode). */
    uint32_t msg_type;
    /** VERSION: the version agreed. */
    uint32_t version;
    /** RESET: enum dynmem_session_reset, 0 for a channel close. */
    uint32_t reset;
    /** CAPS: the capability bits (DYNMEM_PROTO_CAP_*), alignment included:
     *  dynmem_proto_alignment_bytes() turns its exponent
     *  ((caps & DYNMEM_PROTO_CAP_ALIGNMENT_MASK) >> DYNMEM_PROTO_CAP_ALIGNMENT_SHIFT)
     *  into the bytes the balancer's configuration takes. */
    uint64_t caps;
    /** STATUS: the report. */
    struct dynmem_session_status status;
    /** Written as zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_session_event to receive an event. */
#define DYNMEM_SESSION_EVENT_INIT { .size = sizeof(struct dynmem_session_event) }

/**
 * Counters of a host session, for monitoring and tests. Size-prefixed
 * output: set @c size (DYNMEM_SESSION_HOST_COUNTERS_INIT).
 */
struct dynmem_session_host_counters {
    /** sizeof(struct dynmem_session_host_counters) as compiled by the caller. */
    uint32_t size;
    /** The current enum dynmem_session_host_state. */
    uint32_t state;
    /** Protocol version agreed, 0 before. */
    uint32_t version;
    /** Written as zero. */
    uint32_t reserved0;
    /** Packets received. */
    uint64_t received;
    /** Packets handed out to send. */
    uint64_t sent;
    /** Packets refused (not decodable, wrong state, bad ranges...). */
    uint64_t refused;
    /** Claims cut down (more pages than asked, hot-add above the request). */
    uint64_t clamped;
    /** Ranges refused by the memory map (outside memory, already ballooned). */
    uint64_t ranges_refused;
    /** Transactions ended by a reply timeout. */
    uint64_t timeouts;
    /** Transactions started. */
    uint64_t transactions;
    /** Status reports accepted. */
    uint64_t status_reports;
    /** Status reports dropped for coming too fast. */
    uint64_t status_flood;
    /** Events dropped because the queue was full (refusals only). */
    uint64_t events_dropped;
    /** Written as zero. */
    uint64_t reserved[4];
};

/** Initializer for struct dynmem_session_host_counters. */
#define DYNMEM_SESSION_HOST_COUNTERS_INIT { .size = sizeof(struct dynmem_session_host_counters) }

/**
 * Create a host session for one VM.
 * @param[out] out receives the session; untouched on error
 * @param map the VM's memory map with its boot memory (and hot-add window,
 *        if any) described; borrowed: it must outlive the session, which
 *        records every fact in it
 * @param alloc allocator (copied), or NULL for the C library's
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p out or @p map NULL),
 *         DYNMEM_ERR_NO_MEMORY or an error of the allocator check
 *         (DYNMEM_ERR_STRUCT_SIZE, DYNMEM_ERR_STRUCT_RESERVED,
 *         DYNMEM_ERR_BAD_ALLOCATOR)
 */
DYNMEM_API int dynmem_session_host_new(dynmem_session_host **out, dynmem_memmap *map,
                                       const struct dynmem_allocator *alloc);

/**
 * Free a host session (the memory map stays the caller's).
 * @param h the session; NULL is a no-op
 */
DYNMEM_API void dynmem_session_host_free(dynmem_session_host *h);

/**
 * Bounds of a host setting.
 * @param param the setting
 * @param[out] out_min receives the smallest value allowed
 * @param[out] out_max receives the largest value allowed
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_NOT_FOUND (unknown setting)
 */
DYNMEM_API int dynmem_session_host_param_bounds(enum dynmem_session_host_param param,
                                                int64_t *out_min, int64_t *out_max);

/**
 * Change a host setting. Version settings apply to the next negotiation,
 * timers to the next time they are armed.
 * @param h the session
 * @param param the setting
 * @param value the new value, inside dynmem_session_host_param_bounds()
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND or
 *         DYNMEM_ERR_OUT_OF_RANGE (also VERSION_MIN above VERSION_MAX)
 */
DYNMEM_API int dynmem_session_host_set_param(dynmem_session_host *h,
                                             enum dynmem_session_host_param param, int64_t value);

/**
 * Read a host setting.
 * @param h the session
 * @param param the setting
 * @param[out] out receives the value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_NOT_FOUND
 */
DYNMEM_API int dynmem_session_host_get_param(const dynmem_session_host *h,
                                             enum dynmem_session_host_param param, int64_t *out);

/**
 * The guest opened the channel: negotiation starts.
 * @param h the session
 * @param now_ms current time
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_BAD_STATE (already
 *         open) or DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_host_open(dynmem_session_host *h, uint64_t now_ms);

/**
 * The channel closed. A transaction in flight ends (FINAL, FAILED, RESET);
 * the books keep what was confirmed; unsent packets are dropped.
 * @param h the session
 * @param now_ms current time
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_host_close(dynmem_session_host *h, uint64_t now_ms);

/**
 * A VMBus or system reset: as a close, and then the memory map is reset
 * (dynmem_memmap_reset_channel() or dynmem_memmap_reset_system()).
 * @param h the session
 * @param now_ms current time
 * @param kind enum dynmem_session_reset
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p h NULL, or an unknown kind) or
 *         DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_host_reset(dynmem_session_host *h, uint64_t now_ms,
                                         enum dynmem_session_reset kind);

/**
 * Hand over one packet the guest sent (exactly one message).
 * @param h the session
 * @param now_ms current time
 * @param buf the packet; may be NULL when @p len is 0
 * @param len its length
 * @return 0 if the message was taken. DYNMEM_ERR_INVALID_ARGUMENT (@p h
 *         NULL, or @p buf NULL with @p len > 0) and
 *         DYNMEM_ERR_SESSION_TIME_BACKWARDS change nothing at all. Any
 *         other code names why the message was refused or cut down; the
 *         session stays usable, and the refusal is counted
 *         (dynmem_session_host_counters()) and, but for a status report
 *         dropped by the flood rule, queued as a
 *         DYNMEM_SESSION_EVENT_REFUSED event:
 *  - DYNMEM_ERR_SESSION_CLOSED: the channel is not open;
 *  - an error of dynmem_proto_decode(): DYNMEM_ERR_PROTO_TRUNCATED,
 *    DYNMEM_ERR_PROTO_HEADER_SIZE, DYNMEM_ERR_PROTO_TOO_LARGE,
 *    DYNMEM_ERR_PROTO_TRAILING_BYTES, DYNMEM_ERR_PROTO_UNKNOWN_TYPE,
 *    DYNMEM_ERR_PROTO_VERSION, DYNMEM_ERR_PROTO_BAD_SIZE,
 *    DYNMEM_ERR_PROTO_TOO_MANY_RANGES, DYNMEM_ERR_PROTO_RANGE_COUNT or
 *    DYNMEM_ERR_PROTO_BAD_INFO;
 *  - DYNMEM_ERR_SESSION_WRONG_STATE: a message the current state does not
 *    expect, or an error message;
 *  - DYNMEM_ERR_SESSION_DIRECTION: a type only hosts send;
 *  - DYNMEM_ERR_SESSION_VERSION_POLICY: a version outside the settings (the
 *    rejection is sent);
 *  - DYNMEM_ERR_SESSION_FLOOD: a status report beyond the flood rule, or a
 *    reply with the outbox full;
 *  - DYNMEM_ERR_SESSION_TOO_MUCH: more pages than asked, or a hot-add claim
 *    above the request, cut down (the rest was taken);
 *  - an error of the memory map booking the guest's ranges or hot-add:
 *    DYNMEM_ERR_PAGES_OUTSIDE, DYNMEM_ERR_PAGES_BALLOONED,
 *    DYNMEM_ERR_OUT_OF_RANGE or DYNMEM_ERR_NO_MEMORY (such ranges are not
 *    counted).
 */
DYNMEM_API int dynmem_session_host_recv(dynmem_session_host *h, uint64_t now_ms,
                                        const void *buf, size_t len);

/**
 * Take the next packet to send to the guest.
 * @param h the session
 * @param buf where to write it; DYNMEM_PROTO_MSG_SIZE_MAX bytes always
 *        suffice; may be NULL when @p cap is 0
 * @param cap bytes available at @p buf
 * @param[out] out_len receives the packet length
 * @return 1 if a packet was written, 0 if there is none,
 *         DYNMEM_ERR_BUFFER_TOO_SMALL (the packet stays queued) or
 *         DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_host_next_send(dynmem_session_host *h, void *buf, size_t cap,
                                             size_t *out_len);

/**
 * Let time pass: fires the post-init and reply timers that are due and
 * starts the next transaction if one is wanted.
 * @param h the session
 * @param now_ms current time
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_host_tick(dynmem_session_host *h, uint64_t now_ms);

/**
 * When the session next needs dynmem_session_host_tick().
 * @param h the session
 * @param[out] out_ms receives the time of the earliest timer
 * @return 1 if a timer is armed, 0 if none, DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_host_next_deadline(const dynmem_session_host *h, uint64_t *out_ms);

/**
 * Take the next event.
 * @param h the session
 * @param[out] ev receives it; its size must be set (DYNMEM_SESSION_EVENT_INIT)
 * @return 1 if an event was written, 0 if the queue is empty,
 *         DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_STRUCT_SIZE
 */
DYNMEM_API int dynmem_session_host_next_event(dynmem_session_host *h,
                                              struct dynmem_session_event *ev);

/**
 * Aim for a guest size: memory the guest can use (the memory map's
 * CURRENT figure), in bytes, rounded down to whole pages. Growth unballoons
 * first, then hot-adds (in aligned chunks); shrinking balloons (or
 * hot-removes, see DYNMEM_SESSION_HOST_PARAM_PREFER_HOT_REMOVE). Replaces any
 * action not yet started. Taken up when the session is idle; facts carry
 * action_id 0.
 * @param h the session
 * @param now_ms current time
 * @param target_bytes the wanted size
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_host_set_target(dynmem_session_host *h, uint64_t now_ms,
                                              uint64_t target_bytes);

/**
 * Stop aiming for a target (the transaction in flight still ends normally).
 * @param h the session
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_host_clear_target(dynmem_session_host *h);

/**
 * Carry out one action, such as a balancer action: move @p bytes by one
 * kind of transaction (repeated as needed). Clears the target. Its facts
 * carry @p action_id and the last one has DYNMEM_SESSION_FLAG_FINAL (with
 * FAILED if nothing more can be done). A new action replaces one not yet
 * started, which then ends with a FINAL fact of 0 bytes.
 * @param h the session
 * @param now_ms current time
 * @param kind DYNMEM_ACTION_UNBALLOON, DYNMEM_ACTION_HOT_ADD,
 *        DYNMEM_ACTION_BALLOON or DYNMEM_ACTION_HOT_REMOVE (balancer.h)
 * @param bytes memory to move (at least one page)
 * @param action_id identifies the action in its facts
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p h NULL, or @p bytes under one
 *         page), DYNMEM_ERR_UNSUPPORTED (another kind) or
 *         DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_host_start_action(dynmem_session_host *h, uint64_t now_ms,
                                                uint32_t kind, uint64_t bytes,
                                                uint64_t action_id);

/**
 * Read the host session's counters.
 * @param h the session
 * @param[out] out receives them; its size must be set
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_STRUCT_SIZE
 */
DYNMEM_API int dynmem_session_host_counters(const dynmem_session_host *h,
                                            struct dynmem_session_host_counters *out);

/**
 * The current state.
 * @param h the session
 * @return an enum dynmem_session_host_state, or DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_host_state(const dynmem_session_host *h);

/**
 * The detail of the host session's latest refusal, in one line of English
 * that names the message type, what was wrong and the figures, e.g.
 * "BALLOON_RESPONSE: pages 0x100000..0x1000ff (256 pages): pages are not
 * guest memory", "STATUS_REPORT: more than one per 250 ms on average, bursts
 * up to 60 (3 refused so far)", "VERSION_REQUEST: version 0x20000 outside the
 * policy 0x3..0x10000 (known versions only)", "UNBALLOON_REQUEST only travels from host to
 * guest", "DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS 0 outside 1..3600000"
 * or "time 5 ms is before the session's latest, 9 ms". A refused packet is
 * also counted and queued as a REFUSED event, as before.
 *
 * Lifetime: as dynmem_balancer_last_error(): each call that takes the
 * session as a non-const handle clears the detail when it starts and sets
 * it when it refuses, so the text describes the latest such call, and is
 * "" if that call succeeded or had nothing to add to its error code (a NULL
 * argument). Of several refusals in one packet (ranges), it describes the
 * first, the one the returned code names. Calls taking a const handle leave
 * it. It is kept in a fixed array inside the handle: no allocation, no
 * global or thread-local state; it is written only when a call refuses.
 * Thread safety: as every call on the handle (one thread at a time).
 * @param h the session
 * @param[out] buf receives the text, cut to fit and NUL-terminated when
 *        @p len > 0; may be NULL when @p len is 0
 * @param len size of @p buf
 * @return the length of the full text (as snprintf: it was cut if this is
 *         >= len; 0 when there is no detail), or DYNMEM_ERR_INVALID_ARGUMENT
 *         (@p h NULL, or @p buf NULL with @p len > 0)
 */
DYNMEM_API int dynmem_session_host_last_error(const dynmem_session_host *h, char *buf,
                                              size_t len);

/**
 * Turn a status event into a pressure sample
 * (dynmem_pressure_sample_from_dm_status()), with the host's ballooned
 * memory (@c bytes of the event) taken out of the committed figure: Linux
 * and Windows guests count ballooned pages as committed, and left in they
 * would make every page ballooned out look like demand. The figure is the
 * host's at the report's arrival, so pages ballooned but not yet answered
 * count as demand until the next report (briefly too high, never too low).
 * @param sample output, its size set
 * @param ev a DYNMEM_SESSION_EVENT_STATUS event
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (NULL, or not a status event) or
 *         an error of dynmem_pressure_sample_from_dm_status():
 *         DYNMEM_ERR_STRUCT_SIZE (the sample's size) or
 *         DYNMEM_ERR_OUT_OF_RANGE (a figure beyond 2^52 bytes)
 */
DYNMEM_API int dynmem_session_event_to_pressure_sample(struct dynmem_pressure_sample *sample,
                                                       const struct dynmem_session_event *ev);

/**
 * Name an event kind as enum dynmem_session_event_kind spells it, without
 * the DYNMEM_SESSION_EVENT_ prefix.
 *
 * Like every function of libdynmem that names a value, it never returns
 * NULL: a value this library version does not know is named "unknown".
 * @param kind enum dynmem_session_event_kind (any value is accepted)
 * @return a static string such as "FACT"; "unknown" for an unknown kind.
 *         Never NULL, never to be freed.
 */
DYNMEM_API const char *dynmem_session_event_kind_name(uint32_t kind);

/* ---------------------------------------------------------------------- */

/** Guest session settings, for dynmem_session_guest_set_param(). */
enum dynmem_session_guest_param {
    /** First version proposed; lower ones follow down to 0.3. Default
     *  0x20000 (2.0); 0x10000 or 0x3 start lower. */
    DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST = 1,
    /** Report the balloon capability. Default 1. */
    DYNMEM_SESSION_GUEST_PARAM_CAP_BALLOON = 2,
    /** Report the hot-add capability. Default 1. */
    DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_ADD = 3,
    /** Report the hot-remove capability (2.0 only). Default 0. */
    DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE = 4,
    /** Hot-add alignment exponent (2^n MiB), 0 to DYNMEM_PROTO_ALIGNMENT_MAX;
     *  dynmem_proto_alignment_exponent() gives it for a size in bytes.
     *  Default 7 (128 MiB). */
    DYNMEM_SESSION_GUEST_PARAM_HOT_ADD_ALIGNMENT = 5,
    /** Delay before the first status report after negotiation, ms.
     *  Default 45000. */
    DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS = 6,
    /** Interval between status reports, ms; 0 sends none. Default 1000.
     *  Reports are never closer than this, however late the ticks come. */
    DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS = 7,
    /** Pages the guest's own use commits (reported, and never ballooned).
     *  Default 0. */
    DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES = 8,
    /** Balloon floor in pages; -1 uses Linux's formula. Default -1. */
    DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES = 9,
    /** How long the guest waits for each negotiation reply before it gives
     *  up (a FAILED event with DYNMEM_ERR_SESSION_TIMEOUT), ms. Default
     *  5000 (as Linux), bounds 1..3600000. */
    DYNMEM_SESSION_GUEST_PARAM_NEGOTIATION_TIMEOUT_MS = 10,
    /** @cond DEPRECATED */
    /* The names before the PARAM_ scheme, kept so that older callers
     * build (with a deprecation warning); same values. */
    DYNMEM_SESSION_GUEST_VERSION_FIRST DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST") = 1,
    DYNMEM_SESSION_GUEST_CAP_BALLOON DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_CAP_BALLOON") = 2,
    DYNMEM_SESSION_GUEST_CAP_HOT_ADD DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_ADD") = 3,
    DYNMEM_SESSION_GUEST_CAP_HOT_REMOVE DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE") = 4,
    DYNMEM_SESSION_GUEST_HOT_ADD_ALIGNMENT DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_HOT_ADD_ALIGNMENT") = 5,
    DYNMEM_SESSION_GUEST_STATUS_DELAY_MS DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS") = 6,
    DYNMEM_SESSION_GUEST_STATUS_INTERVAL_MS DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_STATUS_INTERVAL_MS") = 7,
    DYNMEM_SESSION_GUEST_COMMITTED_PAGES DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES") = 8,
    DYNMEM_SESSION_GUEST_FLOOR_PAGES DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES") = 9,
    DYNMEM_SESSION_GUEST_NEGOTIATION_TIMEOUT_MS DYNMEM_DEPRECATED_ENUMERATOR("use DYNMEM_SESSION_GUEST_PARAM_NEGOTIATION_TIMEOUT_MS") = 10
    /** @endcond */
};

/**
 * Guest model hook: choose the next range to balloon out.
 * @param user_data as given to the setter
 * @param now_ms current time
 * @param wanted_pages pages still wanted in this response (at most 512
 *        unless the hook asks for more)
 * @param[out] out_range the range to give; any range may be given (a lying
 *        model), the engine only books pages it really has free
 * @return 1 if a range was given, 0 if nothing more can be given now,
 *         negative to stay silent (send no response at all)
 */
typedef int (*dynmem_session_guest_balloon_fn)(void *user_data, uint64_t now_ms,
                                               uint64_t wanted_pages,
                                               struct dynmem_proto_range *out_range);

/**
 * Guest model hook: try a hot-add.
 * @param user_data as given to the setter
 * @param now_ms current time
 * @param start first page the host offers
 * @param count pages offered
 * @param[in,out] inout_added in: pages the engine would add (all of them);
 *        out: pages to report added (may be anything, for a lying model)
 * @param[out] out_result the wire result: 1 success (with 0 pages:
 *        permanent failure), 0 transient failure
 * @return 0 to answer, negative to stay silent
 */
typedef int (*dynmem_session_guest_hot_add_fn)(void *user_data, uint64_t now_ms, uint64_t start,
                                               uint64_t count, uint64_t *inout_added,
                                               uint32_t *out_result);

/**
 * Create a guest session with no memory and the default (Linux-like) model.
 * @param[out] out receives the session
 * @param alloc allocator (copied), or NULL for the C library's
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p out NULL),
 *         DYNMEM_ERR_NO_MEMORY or an error of the allocator check
 *         (DYNMEM_ERR_STRUCT_SIZE, DYNMEM_ERR_STRUCT_RESERVED,
 *         DYNMEM_ERR_BAD_ALLOCATOR)
 */
DYNMEM_API int dynmem_session_guest_new(dynmem_session_guest **out,
                                        const struct dynmem_allocator *alloc);

/**
 * Free a guest session.
 * @param g the session; NULL is a no-op
 */
DYNMEM_API void dynmem_session_guest_free(dynmem_session_guest *g);

/**
 * Bounds of a guest setting.
 * @param param the setting
 * @param[out] out_min receives the smallest value allowed
 * @param[out] out_max receives the largest value allowed (for
 *        DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST only 0x3, 0x10000 and 0x20000
 *        inside them are accepted)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_NOT_FOUND (unknown setting)
 */
DYNMEM_API int dynmem_session_guest_param_bounds(enum dynmem_session_guest_param param,
                                                 int64_t *out_min, int64_t *out_max);

/**
 * Change a guest setting.
 * @param g the session
 * @param param the setting
 * @param value the new value, inside dynmem_session_guest_param_bounds()
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND (unknown
 *         setting) or DYNMEM_ERR_OUT_OF_RANGE (outside the bounds, or a
 *         first version that is not 0.3, 1.0 or 2.0); unchanged on error
 */
DYNMEM_API int dynmem_session_guest_set_param(dynmem_session_guest *g,
                                              enum dynmem_session_guest_param param,
                                              int64_t value);

/**
 * Read a guest setting.
 * @param g the session
 * @param param the setting
 * @param[out] out receives the value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_NOT_FOUND (unknown setting)
 */
DYNMEM_API int dynmem_session_guest_get_param(const dynmem_session_guest *g,
                                              enum dynmem_session_guest_param param,
                                              int64_t *out);

/**
 * Give the guest memory it booted with.
 * @param g the session
 * @param start first page
 * @param count pages (at least 1)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_OUT_OF_RANGE,
 *         DYNMEM_ERR_PAGES_OVERLAP or DYNMEM_ERR_NO_MEMORY
 */
DYNMEM_API int dynmem_session_guest_add_memory(dynmem_session_guest *g, uint64_t start,
                                               uint64_t count);

/**
 * Set the balloon hook (NULL restores the default allocator).
 * @param g the session
 * @param fn the hook, or NULL
 * @param user_data passed to it; may be NULL
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_guest_set_balloon_fn(dynmem_session_guest *g,
                                                   dynmem_session_guest_balloon_fn fn,
                                                   void *user_data);

/**
 * Set the hot-add hook (NULL restores the default: add everything).
 * @param g the session
 * @param fn the hook, or NULL
 * @param user_data passed to it; may be NULL
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_guest_set_hot_add_fn(dynmem_session_guest *g,
                                                   dynmem_session_guest_hot_add_fn fn,
                                                   void *user_data);

/**
 * Open the channel: the first version request is queued.
 * @param g the session
 * @param now_ms current time
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_guest_connect(dynmem_session_guest *g, uint64_t now_ms);

/**
 * A reset: the guest forgets the channel; with DYNMEM_SESSION_RESET_VMBUS
 * it takes its ballooned pages back, with DYNMEM_SESSION_RESET_SYSTEM it
 * also drops hot-added memory (back to its boot memory).
 * @param g the session
 * @param now_ms current time
 * @param kind enum dynmem_session_reset
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p g NULL, or an unknown kind),
 *         DYNMEM_ERR_SESSION_TIME_BACKWARDS or DYNMEM_ERR_NO_MEMORY (the
 *         reset happened, but the guest's page books could not all be
 *         rebuilt)
 */
DYNMEM_API int dynmem_session_guest_reset(dynmem_session_guest *g, uint64_t now_ms,
                                          enum dynmem_session_reset kind);

/**
 * Hand over one packet the host sent.
 * @param g the session
 * @param now_ms current time
 * @param buf the packet; may be NULL when @p len is 0
 * @param len its length
 * @return 0 if taken. DYNMEM_ERR_INVALID_ARGUMENT (@p g NULL, or @p buf
 *         NULL with @p len > 0) and DYNMEM_ERR_SESSION_TIME_BACKWARDS
 *         change nothing. Any other code is a refusal, queued as a
 *         DYNMEM_SESSION_EVENT_REFUSED event, after which the session stays
 *         usable: DYNMEM_ERR_SESSION_CLOSED (not connected), an error of
 *         dynmem_proto_decode() (see there), DYNMEM_ERR_SESSION_WRONG_STATE,
 *         DYNMEM_ERR_SESSION_DIRECTION (a type a guest does not take: one
 *         only guests send, or an error message) or
 *         DYNMEM_ERR_NO_MEMORY (an unballoon could not be booked; no
 *         response is sent)
 */
DYNMEM_API int dynmem_session_guest_recv(dynmem_session_guest *g, uint64_t now_ms,
                                         const void *buf, size_t len);

/**
 * Take the next packet to send to the host.
 * @param g the session
 * @param buf where to write it; may be NULL when @p cap is 0
 * @param cap bytes available
 * @param[out] out_len receives the length
 * @return 1 if written, 0 if none, DYNMEM_ERR_BUFFER_TOO_SMALL or
 *         DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_guest_next_send(dynmem_session_guest *g, void *buf, size_t cap,
                                              size_t *out_len);

/**
 * Let time pass (status reports, the negotiation timer).
 * @param g the session
 * @param now_ms current time
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_SESSION_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_session_guest_tick(dynmem_session_guest *g, uint64_t now_ms);

/**
 * When the guest next needs dynmem_session_guest_tick().
 * @param g the session
 * @param[out] out_ms receives the time
 * @return 1 if a timer is armed, 0 if none, DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_session_guest_next_deadline(const dynmem_session_guest *g,
                                                  uint64_t *out_ms);

/**
 * Take the next guest event (VERSION, CAPS, INFO, FAILED, RESET, REFUSED).
 * @param g the session
 * @param[out] ev receives it; its size must be set
 * @return 1, 0 if none, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_STRUCT_SIZE
 */
DYNMEM_API int dynmem_session_guest_next_event(dynmem_session_guest *g,
                                               struct dynmem_session_event *ev);

/**
 * The pages the guest has (boot and hot-added, less hot-removed).
 * @param g the session
 * @return the set, owned by the session; NULL if @p g is NULL
 */
DYNMEM_API const dynmem_pageset *dynmem_session_guest_memory(const dynmem_session_guest *g);

/**
 * The pages the guest has ballooned out.
 * @param g the session
 * @return the set, owned by the session; NULL if @p g is NULL
 */
DYNMEM_API const dynmem_pageset *dynmem_session_guest_ballooned(const dynmem_session_guest *g);

/**
 * The protocol version agreed, 0 before (or after negotiation failed).
 * @param g the session
 * @return the version, 0 if none or @p g is NULL
 */
DYNMEM_API uint32_t dynmem_session_guest_version(const dynmem_session_guest *g);

/**
 * The detail of the guest session's latest refusal, in one line of English
 * that names the message type, what was wrong and the figures, e.g.
 * "BALLOON_REQUEST not expected in state CAPS", "STATUS_REPORT only
 * travels from guest to host" (in state READY),
 * "DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST 0x5 is not 0x3, 0x10000 or
 * 0x20000", or "memory pages 0x0..0x3ffff (262144 pages) overlap memory
 * already added".
 *
 * Lifetime: as dynmem_balancer_last_error(): each call that takes the
 * session as a non-const handle clears the detail when it starts and sets
 * it when it refuses, so the text describes the latest such call, and is
 * "" if that call succeeded or had nothing to add to its error code (a NULL
 * argument). Of several refusals in one packet (ranges), it describes the
 * first, the one the returned code names. Calls taking a const handle leave
 * it. It is kept in a fixed array inside the handle: no allocation, no
 * global or thread-local state; it is written only when a call refuses.
 * Thread safety: as every call on the handle (one thread at a time).
 * @param g the session
 * @param[out] buf receives the text, cut to fit and NUL-terminated when
 *        @p len > 0; may be NULL when @p len is 0
 * @param len size of @p buf
 * @return the length of the full text (as snprintf: it was cut if this is
 *         >= len; 0 when there is no detail), or DYNMEM_ERR_INVALID_ARGUMENT
 *         (@p g NULL, or @p buf NULL with @p len > 0)
 */
DYNMEM_API int dynmem_session_guest_last_error(const dynmem_session_guest *g, char *buf,
                                               size_t len);

/** @} */

DYNMEM_END_DECLS

#endif /* DYNMEM_SESSION_H */
