/* White-box tests of the estimator's history ring: pruning, growth, the cap,
 * no allocation in steady state, and allocation failures. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/pressure.h>

#include "failalloc.h"
#include "pressure_internal.h"
#include "pressure_observe.h"

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

/* ---- the balancer's samples -------------------------------------------- */

/* A sample that carries the VM's assignment records it in the same point:
 * the window's pressure follows the assignment from the sample on, with
 * no query in between, and the current figures read as a query's would. */
Test(history, samples_carry_the_assignment)
{
    dynmem_pressure *p = NULL, *twin = NULL;
    cr_assert_eq(dynmem_pressure_new(&p, NULL), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_new(&twin, NULL), DYNMEM_OK);
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.committed_bytes = UINT64_C(512) << 20;
    /* 0..10 s at 1 GiB (50 %), 10..20 s at 512 MiB (100 %). */
    cr_assert_eq(dynmem__pressure_add_sample_at(p, &s, UINT64_C(1) << 30), DYNMEM_OK);
    s.time_ms = 10000;
    cr_assert_eq(dynmem__pressure_add_sample_at(p, &s, UINT64_C(512) << 20), DYNMEM_OK);
    struct dynmem_pressure_report r = {.size = sizeof r};
    r.pressure = 100;
    dynmem__pressure_window(p, 20000, &r);
    cr_assert_eq(r.average_pressure, 75);
    cr_assert_eq(r.minimum_pressure, 50);
    cr_assert_eq(r.maximum_pressure, 100);
    /* The same history made the public way: samples, then queries. */
    s.time_ms = 0;
    cr_assert_eq(dynmem_pressure_add_sample(twin, &s), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_query(twin, 0, UINT64_C(1) << 30, &r), DYNMEM_OK);
    s.time_ms = 10000;
    cr_assert_eq(dynmem_pressure_add_sample(twin, &s), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_query(twin, 10000, UINT64_C(512) << 20, &r), DYNMEM_OK);
    struct dynmem_pressure_report q = {.size = sizeof q};
    cr_assert_eq(dynmem_pressure_query(twin, 20000, UINT64_C(512) << 20, &q), DYNMEM_OK);
    cr_assert_eq(q.average_pressure, 75);
    struct dynmem__observation o;
    cr_assert_eq(dynmem__pressure_current(p, 20000, UINT64_C(512) << 20, &o), DYNMEM_OK);
    cr_assert(o.demand_bytes == q.demand_bytes && o.target_bytes == q.target_bytes &&
              o.pressure == q.pressure && o.status == q.status);
    cr_assert_eq(o.flags, q.flags & ~(uint32_t)DYNMEM_REPORT_STALE, "no STALE in the balancer's");
    /* Refused: no assignment, a time before the newest point. */
    s.time_ms = 30000;
    cr_assert_eq(dynmem__pressure_add_sample_at(p, &s, 0), DYNMEM_ERR_OUT_OF_RANGE);
    s.time_ms = 5000;
    cr_assert_eq(dynmem__pressure_add_sample_at(p, &s, UINT64_C(1) << 30),
                 DYNMEM_ERR_PRESSURE_TIME_BACKWARDS);
    cr_assert_eq(dynmem__pressure_current(p, 5000, UINT64_C(1) << 30, &o),
                 DYNMEM_ERR_PRESSURE_TIME_BACKWARDS);
    dynmem_pressure_free(twin);
    dynmem_pressure_free(p);
}
