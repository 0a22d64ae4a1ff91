/* Internal to the estimator (lib/pressure*.c) only: the handle's layout
 * and the checks and figures its queries share. Nothing else includes it:
 * the balancer asks the estimator through pressure_observe.h. */
#ifndef DYNMEM_LIB_PRESSURE_HANDLE_H
#define DYNMEM_LIB_PRESSURE_HANDLE_H

#include <stddef.h>

#include "detail.h"
#include "pressure_internal.h"

/* A cumulative guest counter (swap-in bytes, major faults): did it rise
 * between the last two samples that carried it? */
struct dynmem__counter_track {
    bool known;
    bool rose;
    uint64_t value;
};

struct dynmem__distress {
    struct dynmem__counter_track swap_in;
    struct dynmem__counter_track major_faults;
    bool psi_above_zero;
};

struct dynmem__pressure_settings {
    uint32_t buffer_percent;
    uint64_t window_ms;
    uint64_t stale_ms;
    uint64_t minimum_bytes;
    uint64_t maximum_bytes;
};

/* The handle starts on a cache line and its first two lines hold all a
 * balancer's tick reads and writes of it (settings, the latest sample,
 * the history's bookkeeping and newest point): the balancer asks
 * thousands of estimators a tick, each lines it has to fetch. */
#define PRESSURE_HOT_LINES 2
struct dynmem_pressure {
    _Alignas(64) struct dynmem__pressure_settings settings;
    bool has_sample;
    bool distressed; /* a report's DISTRESS flag, from `distress` */
    /* Bytes of `detail` at the end: DYNMEM__DETAIL_LEN for a handle of
     * dynmem_pressure_new(), 0 for a balancer's (dynmem__pressure_new_quiet()),
     * which keeps no detail. In what was padding: the lines stay as they were. */
    uint16_t detail_len;
    uint64_t sample_time_ms;
    uint64_t demand_bytes;
    struct dynmem__history history;
    struct dynmem__distress distress;
    /* The distress state before the latest sample, so that a sample with
     * the same time can replace it. */
    struct dynmem__distress distress_before_latest;
    struct dynmem__alloc alloc;
    void *block; /* what was allocated; the handle is inside it */
    /* The latest refusal's detail (dynmem_pressure_last_error()), detail_len
     * bytes allocated with the handle; past the lines a tick touches, and
     * written only when a public call refuses, through pressure_detail(). */
    char detail[];
};

_Static_assert(offsetof(struct dynmem_pressure, history.newest) + sizeof(struct dynmem__point) <=
                   PRESSURE_HOT_LINES * 64,
               "what a tick touches fits the first two lines");

/* Where a refusal writes its detail: NULL, so that the detail helpers
 * write nothing, for a handle that keeps none. */
static inline char *pressure_detail(dynmem_pressure *p)
{
    return p->detail_len ? p->detail : NULL;
}

/* What dynmem_pressure_last_error() copies out: NULL (the empty text) for a
 * handle that keeps no detail. */
static inline const char *pressure_detail_text(const dynmem_pressure *p)
{
    return p->detail_len ? p->detail : NULL;
}

/* Every non-const public call clears the detail first. */
static inline void pressure_detail_clear(dynmem_pressure *p)
{
    if (p->detail_len)
        p->detail[0] = '\0';
}

/* The time of the newest sample or query: nothing may come before it. */
static inline bool pressure_before_latest(const dynmem_pressure *p, uint64_t time_ms)
{
    const struct dynmem__point *last = dynmem__history_last(&p->history);
    return last && time_ms < last->time_ms;
}

/* What every query checks of its time and assigned memory. */
static inline int pressure_assigned_check(const dynmem_pressure *p, uint64_t now_ms,
                                          uint64_t assigned_bytes)
{
    if (assigned_bytes == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (assigned_bytes > DYNMEM__BYTES_MAX)
        return DYNMEM_ERR_OUT_OF_RANGE;
    if (pressure_before_latest(p, now_ms))
        return DYNMEM_ERR_PRESSURE_TIME_BACKWARDS;
    return DYNMEM_OK;
}

static inline uint32_t pressure_report_flags(const dynmem_pressure *p, uint64_t age_ms)
{
    uint32_t flags = 0;
    if (age_ms > p->settings.stale_ms)
        flags |= DYNMEM_REPORT_STALE;
    if (p->distressed)
        flags |= DYNMEM_REPORT_DISTRESS;
    return flags;
}

/* The current figures: all zero but NO_DATA without a sample. */
static inline void pressure_observation_fill(const dynmem_pressure *p, uint64_t now_ms,
                                             uint64_t assigned_bytes,
                                             struct dynmem__observation *o)
{
    const struct dynmem__pressure_settings *s = &p->settings;
    *o = (struct dynmem__observation){.flags = DYNMEM_REPORT_NO_DATA};
    if (!p->has_sample)
        return;
    o->flags = pressure_report_flags(p, now_ms - p->sample_time_ms);
    o->demand_bytes = p->demand_bytes;
    /* Settings were checked when set. */
    o->target_bytes = dynmem__pressure_target(p->demand_bytes, s->buffer_percent, s->minimum_bytes,
                                              s->maximum_bytes);
    o->pressure = dynmem__pressure_percent(p->demand_bytes, assigned_bytes);
    o->status =
        (uint32_t)dynmem__pressure_status(p->demand_bytes, assigned_bytes, s->buffer_percent);
}

#endif
