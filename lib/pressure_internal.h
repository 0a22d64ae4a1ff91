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
#include "pressure_abi.h"
#include "pressure_observe.h"
#include "struct_abi.h"

/* Largest memory figure accepted anywhere: 4 PiB, beyond any real machine,
 * and small enough that demand x (100 + 2000) still fits in 64 bits. */
#define DYNMEM__BYTES_MAX (UINT64_C(1) << 52)
/* Longest window and stale time: one day, so that times relative to the
 * window start fit in 27 bits (the trend's 128-bit sums rely on it). */
#define DYNMEM__WINDOW_MS_MAX UINT64_C(86400000)
/* Accepted buffers, percent of demand. */
#define DYNMEM__BUFFER_PERCENT_MIN 5
#define DYNMEM__BUFFER_PERCENT_MAX 2000
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

/* Checks a sample given to dynmem_pressure_add_sample(): 0 or an error. */
int dynmem__sample_check(const struct dynmem_pressure_sample *s);
/* Checks a target's clamps: 0, DYNMEM_ERR_OUT_OF_RANGE,
 * DYNMEM_ERR_PRESSURE_UNALIGNED or DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX. */
int dynmem__clamps_check(uint64_t minimum_bytes, uint64_t maximum_bytes);

#endif
