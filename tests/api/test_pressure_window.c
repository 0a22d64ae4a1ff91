/* Windowed figures (average, minimum, maximum, trend), staleness and
 * distress, with irregular sample and query times. */
#include "pressure_helpers.h"

/* Demand and assigned both change at irregular times:
 *   [0, 7000)      1000 MiB on 1000 MiB -> 100 %
 *   [7000, 10000)  1500 MiB on 1000 MiB -> 150 %
 *   [10000, 25000) 1500 MiB on 2000 MiB ->  75 %
 *   [25000, 31000)  500 MiB on 2000 MiB ->  25 %                          */
static dynmem_pressure *irregular_history(void)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 0, 1000 * MIB);
    query(p, 0, 1000 * MIB);
    feed(p, 7000, 1500 * MIB);
    query(p, 10000, 2000 * MIB);
    feed(p, 25000, 500 * MIB);
    return p;
}

Test(window, whole_history_inside_the_window)
{
    dynmem_pressure *p = irregular_history();
    struct dynmem_pressure_report r = query(p, 31000, 2000 * MIB);
    /* (100x7000 + 150x3000 + 75x15000 + 25x6000) / 31000 = 78.23 */
    cr_assert_eq(r.average_pressure, 78);
    cr_assert_eq(r.minimum_pressure, 25);
    cr_assert_eq(r.maximum_pressure, 150);
    cr_assert_eq(r.pressure, 25);
    /* Least squares over (0 s, 1000), (7 s, 1500), (25 s, 500) MiB:
     * (3x23000 - 32x3000) / (3x674 - 32^2) = -27000/998 MiB/s
     * = -28368288.58 B/s, rounded to nearest. */
    cr_assert_eq(r.trend_bytes_per_s, -28368289);
    dynmem_pressure_free(p);
}

Test(window, window_start_cuts_a_step)
{
    dynmem_pressure *p = irregular_history();
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 20000), DYNMEM_OK);
    struct dynmem_pressure_report r = query(p, 31000, 2000 * MIB);
    /* [11000, 31000): 75 % for 14000 ms, 25 % for 6000 ms -> 60 %. */
    cr_assert_eq(r.average_pressure, 60);
    cr_assert_eq(r.minimum_pressure, 25);
    cr_assert_eq(r.maximum_pressure, 75, "the 150 %% step ended before the window");
    cr_assert_eq(r.trend_bytes_per_s, 0, "one sample in the window has no slope");
    dynmem_pressure_free(p);
}

Test(window, steps_slide_out_of_the_window)
{
    dynmem_pressure *p = irregular_history();
    query(p, 31000, 2000 * MIB);
    /* 60 s later only the 25 % step is left. */
    struct dynmem_pressure_report r = query(p, 91000, 2000 * MIB);
    cr_assert_eq(r.average_pressure, 25);
    cr_assert_eq(r.minimum_pressure, 25);
    cr_assert_eq(r.maximum_pressure, 25);
    dynmem_pressure_free(p);
}

Test(window, single_point_average_is_current)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 0, 300 * MIB);
    /* Assigned is first known at 5000: nothing before counts. */
    struct dynmem_pressure_report r = query(p, 5000, 400 * MIB);
    cr_assert_eq(r.pressure, 75);
    cr_assert_eq(r.average_pressure, 75);
    cr_assert_eq(r.minimum_pressure, 75);
    cr_assert_eq(r.maximum_pressure, 75);
    cr_assert_eq(r.trend_bytes_per_s, 0);
    dynmem_pressure_free(p);
}

Test(window, assigned_known_before_demand)
{
    dynmem_pressure *p = estimator_new();
    query(p, 0, GIB);
    feed(p, 1000, 512 * MIB);
    feed(p, 2000, 768 * MIB);
    struct dynmem_pressure_report r = query(p, 3000, GIB);
    /* [1000, 2000) 50 %, [2000, 3000) 75 %; [0, 1000) had no demand. */
    cr_assert_eq(r.average_pressure, 63); /* 62.5 rounds up */
    cr_assert_eq(r.minimum_pressure, 50);
    cr_assert_eq(r.maximum_pressure, 75);
    cr_assert_eq(r.trend_bytes_per_s, (int64_t)(256 * MIB), "256 MiB in one second");
    dynmem_pressure_free(p);
}

Test(window, same_time_sample_replaces)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 0, 100 * MIB);
    feed(p, 1000, 900 * MIB);
    feed(p, 1000, 200 * MIB);
    struct dynmem_pressure_report r = query(p, 1000, 100 * MIB);
    cr_assert_eq(r.demand_bytes, 200 * MIB);
    cr_assert_eq(r.trend_bytes_per_s, (int64_t)(100 * MIB), "the replaced sample is gone");
    /* A sample at a query's time joins it rather than adding a point. */
    feed(p, 1000, 300 * MIB);
    r = query(p, 1000, 100 * MIB);
    cr_assert_eq(r.pressure, 300);
    cr_assert_eq(r.trend_bytes_per_s, (int64_t)(200 * MIB));
    dynmem_pressure_free(p);
}

Test(window, stale_after_the_stale_time)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 10000, GIB);
    struct dynmem_pressure_report r = query(p, 15000, GIB);
    cr_assert_eq(r.age_ms, 5000);
    cr_assert_eq(r.flags & DYNMEM_REPORT_STALE, 0, "exactly the stale time is not stale");
    r = query(p, 15001, GIB);
    cr_assert_eq(r.age_ms, 5001);
    cr_assert_eq(r.flags & DYNMEM_REPORT_STALE, DYNMEM_REPORT_STALE);
    cr_assert_eq(r.demand_bytes, GIB, "a stale report still carries the last demand");
    feed(p, 15002, GIB);
    cr_assert_eq(query(p, 15002, GIB).flags, 0);
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_STALE_MS, 0), DYNMEM_OK);
    cr_assert_eq(query(p, 15003, GIB).flags, DYNMEM_REPORT_STALE);
    dynmem_pressure_free(p);
}

static void feed_counters(dynmem_pressure *p, uint64_t t, uint32_t flags, uint64_t swap_in,
                          uint64_t faults, uint32_t psi)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = t;
    s.committed_bytes = GIB;
    s.flags = flags;
    s.swap_in_bytes = swap_in;
    s.major_faults = faults;
    s.psi_some_avg10 = psi;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_OK);
}

static uint32_t distress_at(dynmem_pressure *p, uint64_t t)
{
    return query(p, t, 2 * GIB).flags & DYNMEM_REPORT_DISTRESS;
}

Test(window, distress_from_swap_in)
{
    const uint32_t swap = DYNMEM_SAMPLE_HAS_SWAP_IN;
    dynmem_pressure *p = estimator_new();
    feed_counters(p, 0, swap, 4096, 0, 0);
    cr_assert_eq(distress_at(p, 0), 0, "one value is no rise");
    feed_counters(p, 1000, swap, 8192, 0, 0);
    cr_assert_eq(distress_at(p, 1000), DYNMEM_REPORT_DISTRESS);
    feed_counters(p, 2000, 0, 0, 0, 0);
    cr_assert_eq(distress_at(p, 2000), DYNMEM_REPORT_DISTRESS,
                 "a sample without the counter keeps the last two that had it");
    feed_counters(p, 3000, swap, 8192, 0, 0);
    cr_assert_eq(distress_at(p, 3000), 0);
    feed_counters(p, 4000, swap, 100, 0, 0);
    cr_assert_eq(distress_at(p, 4000), 0, "a counter going down restarted");
    feed_counters(p, 5000, swap, 200, 0, 0);
    cr_assert_eq(distress_at(p, 5000), DYNMEM_REPORT_DISTRESS);
    feed_counters(p, 5000, swap, 100, 0, 0);
    cr_assert_eq(distress_at(p, 5000), 0, "the replaced sample's rise is gone");
    dynmem_pressure_free(p);
}

Test(window, distress_from_major_faults_and_psi)
{
    const uint32_t faults = DYNMEM_SAMPLE_HAS_MAJOR_FAULTS, psi = DYNMEM_SAMPLE_HAS_PSI;
    dynmem_pressure *p = estimator_new();
    feed_counters(p, 0, faults, 0, 10, 0);
    feed_counters(p, 1000, faults, 0, 11, 0);
    cr_assert_eq(distress_at(p, 1000), DYNMEM_REPORT_DISTRESS);
    feed_counters(p, 2000, faults | psi, 0, 11, 0);
    cr_assert_eq(distress_at(p, 2000), 0);
    feed_counters(p, 3000, psi, 0, 0, 1);
    cr_assert_eq(distress_at(p, 3000), DYNMEM_REPORT_DISTRESS, "PSI above zero");
    feed_counters(p, 4000, 0, 0, 0, 5000);
    cr_assert_eq(distress_at(p, 4000), 0, "PSI not flagged in the latest sample");
    dynmem_pressure_free(p);
}

/* The trend's sums at their largest: a full ring of samples spread over a
 * one-day window with demands up to 2^52. A linear ramp must come out exact. */
Test(window, trend_exact_at_the_extremes)
{
    dynmem_pressure *p = estimator_new();
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 86400000), 0);
    const uint64_t step = 86400000 / 4095, per_ms = 52000000; /* 52e6 B/ms reaches 2^52 */
    for (uint64_t i = 0; i < 4095; i++)
        feed(p, i * step, i * step * per_ms);
    struct dynmem_pressure_report r = query(p, 4094 * step, UINT64_C(1) << 52);
    cr_assert_eq(r.trend_bytes_per_s, (int64_t)(per_ms * 1000));

    /* The steepest possible step: 0 to 2^52 in one millisecond. */
    dynmem_pressure_reset(p);
    feed(p, 0, 0);
    feed(p, 1, UINT64_C(1) << 52);
    r = query(p, 1, UINT64_C(1) << 52);
    cr_assert_eq(r.trend_bytes_per_s, (int64_t)((UINT64_C(1) << 52) * 1000));
    feed(p, 2, 0);
    cr_assert_eq(query(p, 2, 1).trend_bytes_per_s, 0, "up then down: no slope");
    dynmem_pressure_free(p);
}
