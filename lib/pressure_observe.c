/* The estimator's side of pressure_observe.h: the queries the balancer
 * makes of it every tick, kept here so that the handle's layout stays with
 * the estimator. */
#include "compiler.h"
#include "pressure_handle.h"
#include "pressure_internal.h"

int dynmem__pressure_current(const dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                             struct dynmem__observation *obs)
{
    int rc = pressure_assigned_check(p, now_ms, assigned_bytes);
    if (rc)
        return rc;
    pressure_observation_fill(p, now_ms, assigned_bytes, obs);
    obs->flags &= ~(uint32_t)DYNMEM_REPORT_STALE;
    return DYNMEM_OK;
}

int64_t dynmem__pressure_recent_trend(const dynmem_pressure *p, uint64_t now_ms, uint64_t horizon_ms)
{
    if (!p->has_sample)
        return 0;
    return dynmem__history_trend(&p->history, now_ms > horizon_ms ? now_ms - horizon_ms : 0);
}

uint64_t dynmem__pressure_latest_ms(const dynmem_pressure *p)
{
    const struct dynmem__point *last = dynmem__history_last(&p->history);
    return last ? last->time_ms : 0;
}

void dynmem__pressure_prefetch(const dynmem_pressure *p)
{
    for (unsigned l = 0; l < PRESSURE_HOT_LINES; l++)
        DYNMEM__PREFETCH((const char *)p + l * 64);
}

void dynmem__pressure_prefetch_trend(const dynmem_pressure *p, uint64_t previous_demand)
{
    const struct dynmem__history *h = &p->history;
    if (h->count && p->has_sample && p->demand_bytes > previous_demand) {
        /* The walk goes back from the newest point over the last 10 s,
         * about a dozen points: every third one starts another line. */
        for (uint32_t back = 1; back <= 12 && back <= h->count; back += 3)
            DYNMEM__PREFETCH(&h->ring[(h->head + h->count - back) & (h->capacity - 1)]);
    }
}
