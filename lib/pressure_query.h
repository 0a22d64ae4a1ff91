/* Internal: the estimator handle's layout and the query the balancer makes
 * of it every tick, inline: the balancer asks thousands of estimators a
 * tick, and a call into pressure.c for each cost several percent of it.
 * pressure.c is the rest of the handle. */
#ifndef DYNMEM_LIB_PRESSURE_QUERY_H
#define DYNMEM_LIB_PRESSURE_QUERY_H

#include <stddef.h>

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
    uint64_t sample_time_ms;
    uint64_t demand_bytes;
    struct dynmem__history history;
    struct dynmem__distress distress;
    /* The distress state before the latest sample, so that a sample with
     * the same time can replace it. */
    struct dynmem__distress distress_before_latest;
    struct dynmem__alloc alloc;
    void *block; /* what was allocated; the handle is inside it */
};

_Static_assert(offsetof(struct dynmem_pressure, history.newest) + sizeof(struct dynmem__point) <=
                   PRESSURE_HOT_LINES * 64,
               "what a tick touches fits the first two lines");

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

/* For the balancer, which asks it of every VM it refreshes: the current
 * figures of a report as of now_ms for assigned_bytes, without the window
 * ones (a walk; the balancer asks the recent trend on its own) and without
 * the STALE flag (the balancer keeps its own staleness). A pure read of the
 * handle's first two lines: it records nothing, the balancer hands the
 * assignment over with each sample (dynmem__pressure_add_sample_at).
 * Errors as dynmem_pressure_query()'s checks; on error *obs is untouched. */
static inline int dynmem__pressure_current(const dynmem_pressure *p, uint64_t now_ms,
                                           uint64_t assigned_bytes,
                                           struct dynmem__observation *obs)
{
    int rc = pressure_assigned_check(p, now_ms, assigned_bytes);
    if (rc)
        return rc;
    pressure_observation_fill(p, now_ms, assigned_bytes, obs);
    obs->flags &= ~(uint32_t)DYNMEM_REPORT_STALE;
    return DYNMEM_OK;
}

/* Hints, no effect on results, so that a tick over a large fleet overlaps
 * its cache misses. The first starts loading what
 * dynmem__pressure_current() reads of `p` (its first lines). The second,
 * when the latest demand is above `previous_demand` (the balancer will
 * then ask the recent trend), starts loading the history the trend reads;
 * it reads the first lines of `p`, so ask for them first. */
static inline void dynmem__pressure_prefetch(const dynmem_pressure *p)
{
#if defined(__GNUC__)
    for (unsigned l = 0; l < PRESSURE_HOT_LINES; l++)
        __builtin_prefetch((const char *)p + l * 64);
#else
    (void)p;
#endif
}

static inline void dynmem__pressure_prefetch_trend(const dynmem_pressure *p,
                                                   uint64_t previous_demand)
{
#if defined(__GNUC__)
    const struct dynmem__history *h = &p->history;
    if (h->count && p->has_sample && p->demand_bytes > previous_demand) {
        /* The walk goes back from the newest point over the last 10 s,
         * about a dozen points: every third one starts another line. */
        for (uint32_t back = 1; back <= 12 && back <= h->count; back += 3)
            __builtin_prefetch(&h->ring[(h->head + h->count - back) & (h->capacity - 1)]);
    }
#else
    (void)p, (void)previous_demand;
#endif
}

#endif
