/* White-box tests of the estimator's history ring: pruning, growth, the cap,
 * no allocation in steady state, and allocation failures. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/pressure.h>

#include "failalloc.h"
#include "splitmix.h"
#include "pressure_internal.h"

static struct dynmem__point sample_point(uint64_t t, uint64_t demand)
{
    return (struct dynmem__point){.time_ms = t, .demand = DYNMEM__POINT_DEMAND(demand),
                                  .flags = DYNMEM__POINT_HAS_DEMAND | DYNMEM__POINT_IS_SAMPLE};
}

Test(history, expired_points_are_dropped_but_the_boundary_stays)
{
    struct dynmem__alloc a;
    struct dynmem__history h;
    dynmem__alloc_init(&a, NULL);
    cr_assert_eq(dynmem__history_init(&h, &a), DYNMEM_OK);
    for (uint64_t t = 0; t <= 10000; t += 1000) {
        struct dynmem__point pt = sample_point(t, t);
        cr_assert_eq(dynmem__history_record(&h, &a, &pt, 3500), DYNMEM_OK);
    }
    /* Window [6500, 10000]: the point at 6000 still defines 6500. */
    cr_assert_eq(h.count, 5);
    cr_assert_eq(dynmem__history_at(&h, 0)->time_ms, 6000);
    cr_assert_eq(dynmem__history_last(&h)->time_ms, 10000);
    struct dynmem__point same = sample_point(10000, 42);
    cr_assert_eq(dynmem__history_record(&h, &a, &same, 3500), DYNMEM_OK);
    cr_assert_eq(h.count, 5, "equal time replaces");
    cr_assert_eq(dynmem__history_last(&h)->demand, 42);
    dynmem__history_release(&h, &a);
}

Test(history, grows_to_the_cap_then_drops_the_oldest)
{
    struct dynmem__alloc a;
    struct dynmem__history h;
    dynmem__alloc_init(&a, NULL);
    cr_assert_eq(dynmem__history_init(&h, &a), DYNMEM_OK);
    cr_assert_eq(h.capacity, DYNMEM__HISTORY_INITIAL);
    uint64_t n = DYNMEM__HISTORY_CAP + 100;
    for (uint64_t t = 0; t < n; t++) {
        struct dynmem__point pt = sample_point(t, t * 10);
        cr_assert_eq(dynmem__history_record(&h, &a, &pt, DYNMEM__WINDOW_MS_MAX), DYNMEM_OK);
    }
    cr_assert_eq(h.capacity, DYNMEM__HISTORY_CAP);
    cr_assert_eq(h.count, DYNMEM__HISTORY_CAP);
    cr_assert_eq(dynmem__history_at(&h, 0)->time_ms, n - DYNMEM__HISTORY_CAP);
    for (uint32_t i = 1; i < h.count; i++)
        cr_assert_eq(dynmem__history_at(&h, i)->time_ms, dynmem__history_at(&h, i - 1)->time_ms + 1,
                     "order kept across the ring's wrap");
    dynmem__history_release(&h, &a);
}

static dynmem_pressure *new_with(struct failalloc *fa)
{
    dynmem_pressure *p = NULL;
    cr_assert_eq(dynmem_pressure_new(&p, &fa->hook), DYNMEM_OK);
    return p;
}

static int feed_and_query(dynmem_pressure *p, uint64_t t, uint64_t demand)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    struct dynmem_pressure_report r = {.size = sizeof r};
    s.time_ms = t;
    s.committed_bytes = demand;
    int rc = dynmem_pressure_add_sample(p, &s);
    /* The assigned figure alternates so that every query is a change and
     * adds its own point (an unchanged one adds none). */
    uint64_t assigned = (UINT64_C(1) << 30) + (t / 1000 % 2) * (UINT64_C(2) << 20);
    return rc ? rc : dynmem_pressure_query(p, t + 500, assigned, &r);
}

/* A query that changes nothing adds no point: hours of them on a window
 * of a day never allocate, and the figures still cover the elapsed time. */
Test(history, unchanged_queries_add_no_points)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    dynmem_pressure *p = new_with(&fa);
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 86400000), 0);
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.committed_bytes = UINT64_C(512) << 20;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_OK);
    struct dynmem_pressure_report r = {.size = sizeof r};
    cr_assert_eq(dynmem_pressure_query(p, 1000, UINT64_C(1) << 30, &r), DYNMEM_OK);
    long calls = fa.calls;
    for (uint64_t t = 2000; t < 4 * 3600 * 1000; t += 1000)
        cr_assert_eq(dynmem_pressure_query(p, t, UINT64_C(1) << 30, &r), DYNMEM_OK);
    cr_assert_eq(fa.calls, calls, "no allocation for unchanged queries");
    /* One change after hours of 50 %: the average stays 50, max is 100. */
    cr_assert_eq(dynmem_pressure_query(p, 4 * 3600 * 1000, UINT64_C(512) << 20, &r), DYNMEM_OK);
    cr_assert_eq(r.pressure, 100);
    cr_assert_eq(r.average_pressure, 50);
    cr_assert_eq(r.maximum_pressure, 100);
    cr_assert_eq(r.minimum_pressure, 50);
    dynmem_pressure_free(p);
}

Test(history, steady_state_does_not_allocate)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    dynmem_pressure *p = new_with(&fa);
    /* One sample and one query a second: 2 points/s, 120 in a 60 s window. */
    uint64_t t = 0;
    for (; t < 120000; t += 1000)
        cr_assert_eq(feed_and_query(p, t, t * 4096), DYNMEM_OK);
    long calls = fa.calls;
    for (; t < 1000000; t += 1000)
        cr_assert_eq(feed_and_query(p, t, t * 4096), DYNMEM_OK);
    cr_assert_eq(fa.calls, calls, "allocated after the window was full");
    dynmem_pressure_free(p);
    cr_assert_eq(fa.live, 0);
}

Test(history, at_the_cap_nothing_allocates)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    dynmem_pressure *p = new_with(&fa);
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 86400000), 0);
    uint64_t t = 0;
    for (; t < 3000 * 1000; t += 1000)
        cr_assert_eq(feed_and_query(p, t, 1 << 20), DYNMEM_OK);
    long calls = fa.calls;
    fa.fail_at = calls + 1; /* any further allocation would now fail */
    for (; t < 4000 * 1000; t += 1000)
        cr_assert_eq(feed_and_query(p, t, 1 << 20), DYNMEM_OK);
    cr_assert_eq(fa.calls, calls);
    dynmem_pressure_free(p);
    cr_assert_eq(fa.live, 0);
}

/* Creates an estimator, grows its ring past two doublings, queries it. */
static int workload(struct failalloc *fa, void *ctx)
{
    (void)ctx;
    dynmem_pressure *p = NULL;
    int rc = dynmem_pressure_new(&p, &fa->hook);
    if (rc)
        return rc;
    for (uint64_t t = 0; t < 100000 && !rc; t += 1000)
        rc = feed_and_query(p, t, t << 10);
    dynmem_pressure_free(p);
    return rc;
}

Test(history, allocation_failure_sweep)
{
    long count = 0;
    const char *why = NULL;
    long n = failalloc_sweep(workload, NULL, &count, &why);
    cr_assert_eq(n, 0, "allocation %ld: %s", n, why ? why : "");
    cr_assert_geq(count, 4, "new, ring and at least two growths");
}

/* A failed growth leaves the estimator exactly as it was: it then answers
 * like a twin that never saw the refused sample. */
Test(history, failed_growth_changes_nothing)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 0);
    dynmem_pressure *p = new_with(&fa), *twin = NULL;
    cr_assert_eq(dynmem_pressure_new(&twin, NULL), DYNMEM_OK);
    /* Each round adds two points: 16 rounds fill the initial ring. */
    uint64_t t = 0;
    for (uint32_t round = 0; round < DYNMEM__HISTORY_INITIAL / 2; round++, t += 1000) {
        cr_assert_eq(feed_and_query(p, t, t << 20), DYNMEM_OK);
        cr_assert_eq(feed_and_query(twin, t, t << 20), DYNMEM_OK);
    }
    fa.fail_at = fa.calls + 1;
    cr_assert_eq(feed_and_query(p, t, 1), DYNMEM_ERR_NO_MEMORY);
    cr_assert_eq(fa.failures, 1);
    fa.fail_at = 0;
    struct dynmem_pressure_report a = {.size = sizeof a}, b = {.size = sizeof b};
    cr_assert_eq(dynmem_pressure_query(p, t, UINT64_C(1) << 30, &a), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_query(twin, t, UINT64_C(1) << 30, &b), DYNMEM_OK);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
    cr_assert_eq(a.demand_bytes, (t - 1000) << 20);
    dynmem_pressure_free(twin);
    dynmem_pressure_free(p);
    cr_assert_eq(fa.live, 0);
}

/* ---- pending points ------------------------------------------------------- */

static void same_point(const struct dynmem__point *x, const struct dynmem__point *y, const char *what)
{
    cr_assert(x && y, "%s: both present", what);
    cr_assert(x->time_ms == y->time_ms && x->demand == y->demand && x->assigned == y->assigned &&
                  x->flags == y->flags,
              "%s: t %llu/%llu demand %llu/%llu", what, (unsigned long long)x->time_ms,
              (unsigned long long)y->time_ms, (unsigned long long)x->demand,
              (unsigned long long)y->demand);
}

static void same_figures(const struct dynmem__history *eager, const struct dynmem__history *later,
                         uint64_t window_ms, uint64_t now)
{
    struct dynmem__window_figures x, y;
    dynmem__history_window(eager, window_ms, now, &x);
    dynmem__history_window(later, window_ms, now, &y);
    cr_assert(x.average == y.average && x.minimum == y.minimum && x.maximum == y.maximum &&
                  x.trend_bytes_per_s == y.trend_bytes_per_s,
              "window %llu at %llu: avg %u/%u min %u/%u max %u/%u trend %lld/%lld",
              (unsigned long long)window_ms, (unsigned long long)now, x.average, y.average,
              x.minimum, y.minimum, x.maximum, y.maximum, (long long)x.trend_bytes_per_s,
              (long long)y.trend_bytes_per_s);
    uint64_t start = now > 10000 ? now - 10000 : 0;
    cr_assert_eq(dynmem__history_trend(eager, start), dynmem__history_trend(later, start));
}

static void same_ring(const struct dynmem__history *eager, const struct dynmem__history *later)
{
    cr_assert_eq(later->pending, false);
    cr_assert_eq(eager->count, later->count);
    for (uint32_t i = 0; i < eager->count; i++)
        same_point(dynmem__history_at(eager, i), dynmem__history_at(later, i), "ring point");
}

/* One history records every point at once, its twin keeps a random half of
 * them pending: at every step the twin must read the same (newest point,
 * window figures, trend) without being written, and once flushed must hold
 * the same ring. Times repeat (replacing points) and jump; windows are
 * short (points expire), change while a point is pending, and are long
 * enough for the ring to reach its cap. */
Test(history, pending_points_read_as_if_written)
{
    struct dynmem__alloc a;
    struct dynmem__history eager, later;
    dynmem__alloc_init(&a, NULL);
    cr_assert_eq(dynmem__history_init(&eager, &a), DYNMEM_OK);
    cr_assert_eq(dynmem__history_init(&later, &a), DYNMEM_OK);
    static const uint64_t windows[] = {700, 3000, 20000, DYNMEM__WINDOW_MS_MAX};
    uint64_t seed = 42, t = 0;
    for (int step = 0; step < 32000; step++) {
        uint64_t r = splitmix_next(&seed);
        uint64_t window = windows[(step / 8000) % 4];
        if (r % 17 == 0 && window != DYNMEM__WINDOW_MS_MAX)
            window = windows[(r >> 8) % 4]; /* a window change in passing */
        t += r % 3 == 0 ? 0 : 1 + (r >> 12) % (r % 29 == 0 ? 5000 : 300);
        uint32_t kind = (uint32_t)(r >> 20) % 3;
        struct dynmem__point pt = {
            .time_ms = t,
            .demand = ((r >> 24) % 4096) << 20,
            .assigned = (1 + (r >> 36) % 4096) << 20,
            .flags = kind == 0 ? DYNMEM__POINT_HAS_DEMAND | DYNMEM__POINT_IS_SAMPLE
                     : kind == 1 ? DYNMEM__POINT_HAS_DEMAND | DYNMEM__POINT_HAS_ASSIGNED
                                 : DYNMEM__POINT_HAS_DEMAND | DYNMEM__POINT_HAS_ASSIGNED |
                                       DYNMEM__POINT_IS_SAMPLE,
        };
        cr_assert_eq(dynmem__history_record(&eager, &a, &pt, window), DYNMEM_OK);
        if ((r >> 50) % 2)
            cr_assert_eq(dynmem__history_record_later(&later, &a, &pt, window), DYNMEM_OK);
        else
            cr_assert_eq(dynmem__history_record(&later, &a, &pt, window), DYNMEM_OK);
        same_point(dynmem__history_last(&eager), dynmem__history_last(&later), "newest");
        same_figures(&eager, &later, windows[(r >> 52) % 4], t + (r >> 56) % 2000);
        if ((r >> 58) % 8 == 0) {
            cr_assert_eq(dynmem__history_flush(&later, &a), DYNMEM_OK);
            same_ring(&eager, &later);
        }
    }
    cr_assert_eq(eager.capacity, DYNMEM__HISTORY_CAP, "the run reached the cap");
    cr_assert_eq(dynmem__history_flush(&later, &a), DYNMEM_OK);
    same_ring(&eager, &later);
    dynmem__history_release(&eager, &a);
    dynmem__history_release(&later, &a);
}

/* A pending point that must be written before a later one, into a full
 * ring whose growth fails: the refusal leaves the history as it was, the
 * first point still pending, and a retry succeeds. */
Test(history, a_refused_write_keeps_the_pending_point)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 0);
    struct dynmem__alloc a;
    dynmem__alloc_init(&a, &fa.hook);
    struct dynmem__history h;
    cr_assert_eq(dynmem__history_init(&h, &a), DYNMEM_OK);
    uint64_t t = 0;
    for (; t < DYNMEM__HISTORY_INITIAL; t++) {
        struct dynmem__point pt = sample_point(t, t);
        cr_assert_eq(dynmem__history_record(&h, &a, &pt, DYNMEM__WINDOW_MS_MAX), DYNMEM_OK);
    }
    struct dynmem__point first = sample_point(t, 1000), second = sample_point(t + 1, 2000);
    cr_assert_eq(dynmem__history_record_later(&h, &a, &first, DYNMEM__WINDOW_MS_MAX), DYNMEM_OK);
    cr_assert_eq(h.count, DYNMEM__HISTORY_INITIAL, "pending: the ring is not written");
    fa.fail_at = fa.calls + 1;
    cr_assert_eq(dynmem__history_record_later(&h, &a, &second, DYNMEM__WINDOW_MS_MAX),
                 DYNMEM_ERR_NO_MEMORY);
    cr_assert_eq(fa.failures, 1);
    cr_assert(h.pending && h.count == DYNMEM__HISTORY_INITIAL);
    same_point(dynmem__history_last(&h), &first, "still pending");
    fa.fail_at = 0;
    cr_assert_eq(dynmem__history_record_later(&h, &a, &second, DYNMEM__WINDOW_MS_MAX), DYNMEM_OK);
    cr_assert_eq(h.count, DYNMEM__HISTORY_INITIAL + 1);
    same_point(dynmem__history_at(&h, h.count - 1), &first, "written on the retry");
    same_point(dynmem__history_last(&h), &second, "the new one pending");
    dynmem__history_release(&h, &a);
    cr_assert_eq(fa.live, 0);
}
