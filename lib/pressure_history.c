/* The window's history: demand and assigned as step functions of time, kept
 * in a ring that grows to the window's needs and then stops allocating. */
#include <string.h>

#include "compiler.h"
#include "pressure_internal.h"

_Static_assert((DYNMEM__HISTORY_INITIAL & (DYNMEM__HISTORY_INITIAL - 1)) == 0 &&
                   (DYNMEM__HISTORY_CAP & (DYNMEM__HISTORY_CAP - 1)) == 0,
               "ring capacities must be powers of two");

/* Products and sums of the least-squares fit reach 2^113 (see docs/pressure.md),
 * so the trend is computed exactly in 128-bit integers. */

int dynmem__history_init(struct dynmem__history *h, const struct dynmem__alloc *a)
{
    h->ring = dynmem__calloc(a, DYNMEM__HISTORY_INITIAL, sizeof *h->ring);
    if (!h->ring)
        return DYNMEM_ERR_NO_MEMORY;
    h->head = 0;
    h->count = 0;
    h->capacity = DYNMEM__HISTORY_INITIAL;
    return DYNMEM_OK;
}

void dynmem__history_release(struct dynmem__history *h, const struct dynmem__alloc *a)
{
    dynmem__free(a, h->ring);
    h->ring = NULL;
    h->count = h->capacity = h->head = 0;
}

void dynmem__history_clear(struct dynmem__history *h)
{
    h->head = 0;
    h->count = 0;
}

/* Capacities are powers of two (32 doubling up to 4096), so indices wrap
 * with a mask rather than a division: this is the estimator's hot path. */
const struct dynmem__point *dynmem__history_at(const struct dynmem__history *h, uint32_t i)
{
    return &h->ring[(h->head + i) & (h->capacity - 1)];
}

/* How many of the oldest points no longer matter at time `now`: a point
 * matters while it or a later one still defines the value at the window's
 * start, i.e. while the point after it starts later than the window does. */
static uint32_t expired_points(const struct dynmem__history *h, uint64_t now, uint64_t window_ms)
{
    uint64_t start = now > window_ms ? now - window_ms : 0;
    uint32_t n = 0;
    while (n + 1 < h->count && dynmem__history_at(h, n + 1)->time_ms <= start)
        n++;
    return n;
}

/* Copies the ring, oldest first, into a larger array. */
static int grow(struct dynmem__history *h, const struct dynmem__alloc *a)
{
    uint32_t bigger = h->capacity * 2 < DYNMEM__HISTORY_CAP ? h->capacity * 2 : DYNMEM__HISTORY_CAP;
    struct dynmem__point *ring = dynmem__calloc(a, bigger, sizeof *ring);
    if (!ring)
        return DYNMEM_ERR_NO_MEMORY;
    for (uint32_t i = 0; i < h->count; i++)
        ring[i] = *dynmem__history_at(h, i);
    dynmem__free(a, h->ring);
    h->ring = ring;
    h->head = 0;
    h->capacity = bigger;
    return DYNMEM_OK;
}

static void drop_oldest(struct dynmem__history *h, uint32_t n)
{
    h->head = (h->head + n) & (h->capacity - 1);
    h->count -= n;
}

int dynmem__history_record(struct dynmem__history *h, const struct dynmem__alloc *a,
                           const struct dynmem__point *pt, uint64_t window_ms)
{
    const struct dynmem__point *last = dynmem__history_last(h);
    if (last && last->time_ms == pt->time_ms) {
        h->ring[(h->head + h->count - 1) & (h->capacity - 1)] = *pt;
        h->newest = *pt;
        return DYNMEM_OK;
    }
    uint32_t expired = expired_points(h, pt->time_ms, window_ms);
    /* Grow before changing anything, so that a failure leaves h as it was. */
    if (h->count - expired == h->capacity && h->capacity < DYNMEM__HISTORY_CAP) {
        int rc = grow(h, a);
        if (rc)
            return rc;
    }
    drop_oldest(h, expired);
    if (h->count == h->capacity) /* at the cap: the window gets shorter */
        drop_oldest(h, 1);
    h->ring[(h->head + h->count) & (h->capacity - 1)] = *pt;
    h->count++;
    h->newest = *pt;
    return DYNMEM_OK;
}

/* Time-weighted average, min and max of the pressure steps over the window.
 * Each step's pressure is rounded to a whole percent first, so the average
 * (rounded to nearest) always lies between the minimum and the maximum. */
static void pressure_over_window(const struct dynmem__history *h, uint64_t start, uint64_t now,
                                 struct dynmem__window_figures *out)
{
    const uint32_t both = DYNMEM__POINT_HAS_DEMAND | DYNMEM__POINT_HAS_ASSIGNED;
    const struct dynmem__point *last = &h->newest;
    uint32_t current = dynmem__pressure_percent(last->demand, last->assigned);
    uint64_t area = 0, weight = 0;
    out->minimum = out->maximum = current;
    /* The last point's step lasts until now (it has no successor). */
    for (uint32_t i = 0; i < h->count; i++) {
        const struct dynmem__point *p = dynmem__history_at(h, i);
        uint64_t end = i + 1 < h->count ? dynmem__history_at(h, i + 1)->time_ms : now;
        uint64_t begin = p->time_ms > start ? p->time_ms : start;
        if ((p->flags & both) != both || end <= begin)
            continue;
        uint32_t percent = dynmem__pressure_percent(p->demand, p->assigned);
        area += (uint64_t)percent * (end - begin);
        weight += end - begin;
        out->minimum = percent < out->minimum ? percent : out->minimum;
        out->maximum = percent > out->maximum ? percent : out->maximum;
    }
    out->average = weight ? (uint32_t)((area + weight / 2) / weight) : current;
}

/* a / b rounded to nearest, halves away from zero (b > 0). */
static dynmem__i128 divide_rounded(dynmem__i128 a, dynmem__i128 b)
{
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

/* Least-squares slope of demand against time over the samples in the
 * window, in bytes per second, exact then rounded to nearest.
 *
 * Times are taken as u = (newest sample's time) - time, so u >= 0 and,
 * every point lying in a window of at most a day, u < 2^27: u x u fits 64
 * bits and u x demand (< 2^79) is one 64 x 64 -> 128-bit product. The
 * slope against -u is the slope against time. */
int64_t dynmem__history_trend(const struct dynmem__history *h, uint64_t start)
{
    uint64_t n = 0, origin = 0, sum_u = 0;
    dynmem__u128 sum_d = 0, sum_uu = 0, sum_ud = 0;
    /* Newest first, stopping at the start: a short horizon costs only the
     * points inside it. The sums are exact, so the rounding does not
     * depend on the origin either. */
    const uint32_t mask = h->capacity - 1;
    for (uint32_t i = h->count; i-- > 0;) {
        const struct dynmem__point *p = &h->ring[(h->head + i) & mask];
        if (p->time_ms < start)
            break;
        if (!(p->flags & DYNMEM__POINT_IS_SAMPLE))
            continue;
        if (n == 0)
            origin = p->time_ms;
        uint64_t u = origin - p->time_ms;
        n++;
        sum_u += u;
        sum_d += p->demand;
        sum_uu += u * u;
        sum_ud += (dynmem__u128)u * p->demand;
    }
    /* n <= 4096 (the ring's cap): n x sum_ud < 2^103, and the numerator
     * times 1000 stays below 2^113. */
    dynmem__i128 spread = (dynmem__i128)(n * sum_uu) - (dynmem__i128)((dynmem__u128)sum_u * sum_u);
    if (n < 2 || spread == 0)
        return 0;
    dynmem__i128 against_u = (dynmem__i128)(n * sum_ud) - (dynmem__i128)(sum_u * sum_d);
    return (int64_t)divide_rounded(-against_u * 1000, spread);
}

void dynmem__history_window(const struct dynmem__history *h, uint64_t window_ms, uint64_t now,
                            struct dynmem__window_figures *out)
{
    uint64_t start = now > window_ms ? now - window_ms : 0;
    pressure_over_window(h, start, now, out);
    out->trend_bytes_per_s = dynmem__history_trend(h, start);
}
