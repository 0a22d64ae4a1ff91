/* Internal: the pieces of the pressure estimator its source files share.
 *
 * pressure_history.c keeps the window's history (a ring of points) and
 * derives average/min/max pressure and the demand trend from it;
 * pressure_sample.c checks and builds samples and computes targets;
 * pressure.c is the estimator handle that ties them together. */
#ifndef DYNMEM_LIB_PRESSURE_INTERNAL_H
#define DYNMEM_LIB_PRESSURE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <dynmem/pressure.h>

#include "alloc.h"
#include "struct_abi.h"

/* Largest memory figure accepted anywhere: 4 PiB, beyond any real machine,
 * and small enough that demand x (100 + 2000) still fits in 64 bits. */
#define DYNMEM__BYTES_MAX (UINT64_C(1) << 52)
/* Granularity of targets and clamps. */
#define DYNMEM__TWO_MIB (UINT64_C(2) << 20)
/* Longest window and stale time: one day, so that times relative to the
 * window start fit in 27 bits (the trend's 128-bit sums rely on it). */
#define DYNMEM__WINDOW_MS_MAX UINT64_C(86400000)
/* Accepted buffers, percent of demand. */
#define DYNMEM__BUFFER_PERCENT_MIN 5
#define DYNMEM__BUFFER_PERCENT_MAX 2000
/* The 1.0 size of a sample, the smallest any caller passes: a newer version
 * appends fields after it (STYLE.md 6.5). */
#define DYNMEM__SAMPLE_MIN_SIZE DYNMEM__END_OF(struct dynmem_pressure_sample, reserved)
/* PSI avg10 in hundredths of a percent. */
#define DYNMEM__PSI_MAX 10000u

/* History ring: starts small, doubles on demand up to the cap. */
#define DYNMEM__HISTORY_INITIAL 32u
#define DYNMEM__HISTORY_CAP 4096u

/* What a point knows. A sample sets demand, a query sets assigned; each
 * carries the other's latest value forward (if there is one). */
enum {
    DYNMEM__POINT_HAS_DEMAND = 1u << 0,
    DYNMEM__POINT_HAS_ASSIGNED = 1u << 1,
    DYNMEM__POINT_IS_SAMPLE = 1u << 2
};

/* One step of the demand/assigned step functions: from time_ms until the
 * next point (or the query's now), demand and assigned are these. */
struct dynmem__point {
    uint64_t time_ms;
    uint64_t assigned;
    /* Demand is at most DYNMEM__BYTES_MAX (2^52, 53 bits): the flags share
     * its word, so that a point is 24 bytes, not 32 (the trend walks the
     * newest points of every VM whose demand rose, each tick). */
    uint64_t demand : 53;
    uint64_t flags : 11;
};
_Static_assert(sizeof(struct dynmem__point) == 24, "a point is three words");
/* The demand field's bits; every demand recorded was checked against
 * DYNMEM__BYTES_MAX, so masking with it changes nothing. */
#define DYNMEM__POINT_DEMAND(d) ((d) & ((UINT64_C(1) << 53) - 1))
#define DYNMEM__POINT_FLAGS(f) ((f) & 0x7ffu)

/* Points in strictly increasing time order, oldest at ring[head]. The
 * newest point is also kept beside the ring's bookkeeping (`newest`), so
 * that checking a time against it or carrying its figures forward reads
 * the handle's first lines, not the ring. */
struct dynmem__history {
    struct dynmem__point *ring;
    uint32_t head;
    uint32_t count;
    uint32_t capacity;
    struct dynmem__point newest; /* valid while count */
};

/* Figures derived from the history over [now - window, now]. */
struct dynmem__window_figures {
    uint32_t average;
    uint32_t minimum;
    uint32_t maximum;
    int64_t trend_bytes_per_s;
};

int dynmem__history_init(struct dynmem__history *h, const struct dynmem__alloc *a);
void dynmem__history_release(struct dynmem__history *h, const struct dynmem__alloc *a);
void dynmem__history_clear(struct dynmem__history *h);
/* The i-th oldest point (i < count). */
const struct dynmem__point *dynmem__history_at(const struct dynmem__history *h, uint32_t i);
/* The newest point, NULL when empty. Reads no ring. */
static inline const struct dynmem__point *dynmem__history_last(const struct dynmem__history *h)
{
    return h->count ? &h->newest : NULL;
}
/* Records pt, whose time is not before the newest point's: replaces the
 * newest point if the times are equal, appends it otherwise. Drops points
 * that ended before pt.time_ms - window_ms, grows the ring if needed and
 * below the cap, drops the oldest point at the cap. Returns 0 or
 * DYNMEM_ERR_NO_MEMORY (then h is unchanged). */
int dynmem__history_record(struct dynmem__history *h, const struct dynmem__alloc *a,
                           const struct dynmem__point *pt, uint64_t window_ms);
/* Least-squares slope of demand over the samples at or after `start`,
 * bytes per second, rounded to nearest. */
int64_t dynmem__history_trend(const struct dynmem__history *h, uint64_t start);
/* Average/min/max pressure and trend over [now - window_ms, now]; the
 * newest point must know both demand and assigned. */
void dynmem__history_window(const struct dynmem__history *h, uint64_t window_ms, uint64_t now,
                            struct dynmem__window_figures *out);

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
/* Checks a sample given to dynmem_pressure_add_sample(): 0 or an error. */
int dynmem__sample_check(const struct dynmem_pressure_sample *s);
/* Checks a target's clamps: 0, DYNMEM_ERR_OUT_OF_RANGE,
 * DYNMEM_ERR_PRESSURE_UNALIGNED or DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX. */
int dynmem__clamps_check(uint64_t minimum_bytes, uint64_t maximum_bytes);

/* A report's current figures, as the balancer keeps them for each VM. */
struct dynmem__observation {
    uint64_t demand_bytes;
    uint64_t target_bytes;
    int64_t trend_bytes_per_s; /* 0 from the estimator: the balancer sets the recent trend */
    uint32_t flags;
    uint32_t pressure;
    uint32_t status;
};

/* For the balancer: dynmem_pressure_add_sample() with the memory assigned
 * to the VM at the sample's time, recorded in the same point, so that the
 * window's pressure follows the assignment without the tick recording it
 * (DYNMEM_ERR_OUT_OF_RANGE for 0 or more than 2^52). The balancer's
 * per-tick query and its prefetch hints: pressure_query.h. */
int dynmem__pressure_add_sample_at(dynmem_pressure *p, const struct dynmem_pressure_sample *sample,
                                   uint64_t assigned_bytes);
/* Fills the window figures (average, minimum and maximum pressure, trend)
 * of a report, as of the latest point recorded; left as they are without
 * a sample. */
void dynmem__pressure_window(const dynmem_pressure *p, uint64_t now_ms,
                             struct dynmem_pressure_report *report);
/* The demand trend over the last `horizon_ms` only (0 without samples). */
int64_t dynmem__pressure_recent_trend(const dynmem_pressure *p, uint64_t now_ms, uint64_t horizon_ms);

#endif
