/* Internal: what the balancer asks of a VM's estimator, and all it may know
 * of one. The estimator's layout stays in its own files (pressure_handle.h,
 * included by lib/pressure*.c only); the balancer holds a dynmem_pressure
 * pointer and goes through these functions and formulas.
 *
 * Per tick, for each VM it refreshes, the balancer asks the current figures
 * (dynmem__pressure_current) and, when the demand rose, the recent trend
 * (dynmem__pressure_recent_trend), which it keeps in its own books; over a
 * large fleet it hints both ahead (the prefetch functions). With each
 * sample it hands over the VM's assignment (dynmem__pressure_add_sample_at);
 * for a VM's counters it asks the window figures (dynmem__pressure_window).
 * It makes each VM's estimator with dynmem__pressure_new_quiet(): the
 * balancer reports refusals in its own detail, so its estimators keep none. */
#ifndef DYNMEM_LIB_PRESSURE_OBSERVE_H
#define DYNMEM_LIB_PRESSURE_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include <dynmem/pressure.h>

/* Granularity of targets and clamps. */
#define DYNMEM__TWO_MIB (UINT64_C(2) << 20)

/* The formulas, inline: the balancer evaluates them for thousands of VMs a
 * tick, and arguments checked once (when set) need no checking again. */

/* demand x 100 / assigned (assigned > 0), rounded to nearest, saturated at
 * UINT32_MAX. */
static inline uint32_t dynmem__pressure_percent(uint64_t demand, uint64_t assigned)
{
    /* demand <= 2^52, so demand x 100 + assigned / 2 cannot overflow. */
    uint64_t percent = (demand * 100 + assigned / 2) / assigned;
    return percent > UINT32_MAX ? UINT32_MAX : (uint32_t)percent;
}

/* Status of assigned against demand and buffer (both already validated). */
static inline enum dynmem_pressure_status dynmem__pressure_status(uint64_t demand, uint64_t assigned,
                                                                  uint32_t buffer_percent)
{
    if (assigned < demand)
        return DYNMEM_STATUS_WARNING;
    /* Low: assigned < demand x (1 + buffer/100), compared exactly. */
    if (assigned * 100 < demand * (100 + buffer_percent))
        return DYNMEM_STATUS_LOW;
    return DYNMEM_STATUS_OK;
}

/* dynmem_pressure_target() for arguments already checked: demand at most
 * DYNMEM__BYTES_MAX, buffer in range, clamps valid. */
static inline uint64_t dynmem__pressure_target(uint64_t demand_bytes, uint32_t buffer_percent,
                                               uint64_t minimum_bytes, uint64_t maximum_bytes)
{
    /* demand x (100 + buffer) <= 2^52 x 2100 < 2^64: exact, then one
     * rounding up, straight to a whole number of 2 MiB. */
    const uint64_t unit = 100 * DYNMEM__TWO_MIB;
    uint64_t scaled = demand_bytes * (100 + buffer_percent);
    uint64_t target = (scaled / unit + (scaled % unit != 0)) * DYNMEM__TWO_MIB;
    if (target < minimum_bytes)
        target = minimum_bytes;
    if (target > maximum_bytes)
        target = maximum_bytes;
    return target;
}

/* dynmem_pressure_new() for an estimator whose detail nobody reads: it
 * keeps none (DYNMEM__DETAIL_LEN bytes fewer a handle), its refusals return
 * the same codes and write nothing, and dynmem_pressure_last_error() gives
 * the empty text. The balancer makes each VM's estimator this way. */
int dynmem__pressure_new_quiet(dynmem_pressure **out, const struct dynmem_allocator *alloc);

/* A report's current figures, as the balancer keeps them for each VM (the
 * window figures and the trend are asked separately). */
struct dynmem__observation {
    uint64_t demand_bytes;
    uint64_t target_bytes;
    uint32_t flags;
    uint32_t pressure;
    uint32_t status;
};

/* The current figures of a report as of now_ms for assigned_bytes, without
 * the window ones and without the STALE flag (the balancer keeps its own
 * staleness). A pure read of the handle's first two cache lines: it records
 * nothing. Errors as dynmem_pressure_query()'s checks
 * (DYNMEM_ERR_INVALID_ARGUMENT for no assignment, DYNMEM_ERR_OUT_OF_RANGE
 * above 2^52, DYNMEM_ERR_PRESSURE_TIME_BACKWARDS); on error *obs is
 * untouched. */
int dynmem__pressure_current(const dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                             struct dynmem__observation *obs);
/* The demand trend over the last `horizon_ms` only, bytes per second (0
 * without samples). Walks the newest points of the history. */
int64_t dynmem__pressure_recent_trend(const dynmem_pressure *p, uint64_t now_ms, uint64_t horizon_ms);
/* dynmem_pressure_add_sample() with the memory assigned to the VM at the
 * sample's time, recorded in the same point, so that the window's pressure
 * follows the assignment without the tick recording it
 * (DYNMEM_ERR_OUT_OF_RANGE for 0 or more than 2^52). */
int dynmem__pressure_add_sample_at(dynmem_pressure *p, const struct dynmem_pressure_sample *sample,
                                   uint64_t assigned_bytes);
/* The time of the estimator's latest point (a sample or a query), before
 * which nothing is accepted; 0 when it has none. */
uint64_t dynmem__pressure_latest_ms(const dynmem_pressure *p);
/* Fills the window figures (average, minimum and maximum pressure, trend)
 * of a report, as of the latest point recorded; left as they are without
 * a sample. */
void dynmem__pressure_window(const dynmem_pressure *p, uint64_t now_ms,
                             struct dynmem_pressure_report *report);

/* Hints, no effect on results, so that a tick over a large fleet overlaps
 * its cache misses. The first starts loading what dynmem__pressure_current()
 * reads. The second, when the latest demand is above `previous_demand` (the
 * balancer will then ask the recent trend), starts loading the history the
 * trend reads; it reads what the first loads, so ask for that first. */
void dynmem__pressure_prefetch(const dynmem_pressure *p);
void dynmem__pressure_prefetch_trend(const dynmem_pressure *p, uint64_t previous_demand);

#endif
