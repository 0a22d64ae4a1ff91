/* The estimator's formulas against hand-computed cases, including the
 * numbers published for Hyper-V Dynamic Memory. */
#include "pressure_helpers.h"

Test(formulas, demand_above_maximum_is_warning_at_108)
{
    /* A memory hog pushes demand to 4423 MiB on a VM capped at 4 GiB. */
    dynmem_pressure *p = estimator_new();
    feed(p, 1000, 4423 * MIB);
    struct dynmem_pressure_report r = query(p, 1000, 4096 * MIB);
    cr_assert_eq(r.demand_bytes, 4423 * MIB);
    cr_assert_eq(r.pressure, 108); /* 4423 x 100 / 4096 = 107.98 */
    cr_assert_eq(r.status, DYNMEM_STATUS_WARNING);
    cr_assert_eq(r.flags, 0);
    dynmem_pressure_free(p);
}

Test(formulas, held_guest_is_warning_at_162)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 0, 975 * MIB);
    struct dynmem_pressure_report r = query(p, 0, 602 * MIB);
    cr_assert_eq(r.pressure, 162); /* 97500 / 602 = 161.96 */
    cr_assert_eq(r.status, DYNMEM_STATUS_WARNING);
    dynmem_pressure_free(p);
}

Test(formulas, buffer_20_percent_targets_1200)
{
    uint64_t target = 0;
    cr_assert_eq(dynmem_pressure_target(1000 * MIB, 20, 2 * MIB, 1ull << 52, &target), DYNMEM_OK);
    cr_assert_eq(target, 1200 * MIB);

    dynmem_pressure *p = estimator_new();
    feed(p, 0, 1000 * MIB);
    struct dynmem_pressure_report r = query(p, 0, 1100 * MIB);
    cr_assert_eq(r.target_bytes, 1200 * MIB);
    cr_assert_eq(r.status, DYNMEM_STATUS_LOW, "1100 covers 1000 but not 1200");
    cr_assert_eq(r.pressure, 91); /* 100000 / 1100 = 90.9 */
    dynmem_pressure_free(p);
}

Test(formulas, status_boundaries_are_exact)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 0, 1000 * MIB);
    cr_assert_eq(query(p, 0, 1000 * MIB - 1).status, DYNMEM_STATUS_WARNING);
    cr_assert_eq(query(p, 1, 1000 * MIB).status, DYNMEM_STATUS_LOW);
    cr_assert_eq(query(p, 2, 1200 * MIB - 1).status, DYNMEM_STATUS_LOW);
    cr_assert_eq(query(p, 3, 1200 * MIB).status, DYNMEM_STATUS_OK);
    cr_assert_eq(query(p, 4, 4 * GIB).status, DYNMEM_STATUS_OK);
    dynmem_pressure_free(p);
}

Test(formulas, target_rounds_up_to_2mib_then_clamps)
{
    uint64_t t = 0;
    /* 1 byte x 1.2 -> rounds up to one 2 MiB unit. */
    cr_assert_eq(dynmem_pressure_target(1, 20, 0, 8 * GIB, &t), DYNMEM_OK);
    cr_assert_eq(t, 2 * MIB);
    cr_assert_eq(dynmem_pressure_target(0, 20, 0, 8 * GIB, &t), DYNMEM_OK);
    cr_assert_eq(t, 0);
    /* 1001 MiB x 1.05 = 1051.05 MiB -> 1052 MiB. */
    cr_assert_eq(dynmem_pressure_target(1001 * MIB, 5, 0, 8 * GIB, &t), DYNMEM_OK);
    cr_assert_eq(t, 1052 * MIB);
    /* Clamped: S1's VM, minimum 512 MiB, maximum 4 GiB. */
    cr_assert_eq(dynmem_pressure_target(100 * MIB, 20, 512 * MIB, 4 * GIB, &t), DYNMEM_OK);
    cr_assert_eq(t, 512 * MIB);
    cr_assert_eq(dynmem_pressure_target(4423 * MIB, 20, 512 * MIB, 4 * GIB, &t), DYNMEM_OK);
    cr_assert_eq(t, 4 * GIB);
    /* Largest inputs stay exact: 2^52 x 21 fits, capped by the maximum. */
    cr_assert_eq(dynmem_pressure_target(1ull << 52, 2000, 0, 1ull << 52, &t), DYNMEM_OK);
    cr_assert_eq(t, 1ull << 52);
}

Test(formulas, target_follows_settings)
{
    dynmem_pressure *p = estimator_new();
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, 50), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES,
                                           (int64_t)(2 * GIB)), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES,
                                           (int64_t)(512 * MIB)), DYNMEM_OK);
    feed(p, 0, 1000 * MIB);
    cr_assert_eq(query(p, 0, GIB).target_bytes, 1500 * MIB);
    feed(p, 1, 200 * MIB);
    cr_assert_eq(query(p, 1, GIB).target_bytes, 512 * MIB);
    feed(p, 2, 1800 * MIB);
    cr_assert_eq(query(p, 2, GIB).target_bytes, 2 * GIB);
    dynmem_pressure_free(p);
}

Test(formulas, pressure_rounds_half_up_and_saturates)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 0, 1);
    cr_assert_eq(query(p, 0, 200).pressure, 1); /* 0.5 -> 1 */
    cr_assert_eq(query(p, 1, 201).pressure, 0); /* 0.497 -> 0 */
    feed(p, 2, 1ull << 52);
    cr_assert_eq(query(p, 2, 1).pressure, UINT32_MAX);
    dynmem_pressure_free(p);
}

Test(formulas, no_sample_reports_no_data)
{
    dynmem_pressure *p = estimator_new();
    struct dynmem_pressure_report r = query(p, 5000, GIB);
    cr_assert_eq(r.flags, DYNMEM_REPORT_NO_DATA);
    cr_assert_eq(r.demand_bytes, 0);
    cr_assert_eq(r.target_bytes, 0);
    cr_assert_eq(r.pressure, 0);
    cr_assert_eq(r.status, DYNMEM_STATUS_OK);
    cr_assert_eq(r.size, sizeof r);
    dynmem_pressure_free(p);
}

Test(formulas, reset_forgets_samples_keeps_settings)
{
    dynmem_pressure *p = estimator_new();
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, 30), DYNMEM_OK);
    feed(p, 1000, GIB);
    query(p, 2000, GIB);
    dynmem_pressure_reset(p);
    dynmem_pressure_reset(NULL);
    cr_assert_eq(query(p, 10, GIB).flags, DYNMEM_REPORT_NO_DATA, "time may restart after reset");
    int64_t v = 0;
    cr_assert_eq(dynmem_pressure_get_param(p, DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, &v), DYNMEM_OK);
    cr_assert_eq(v, 30);
    feed(p, 20, 100 * MIB);
    cr_assert_eq(query(p, 20, 100 * MIB).average_pressure, 100);
    dynmem_pressure_free(p);
    dynmem_pressure_free(NULL);
}

Test(formulas, defaults_and_bounds)
{
    static const struct { enum dynmem_pressure_param param; int64_t def, lo, hi; } rows[] = {
        {DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, 20, 5, 2000},
        {DYNMEM_PRESSURE_PARAM_WINDOW_MS, 60000, 1, 86400000},
        {DYNMEM_PRESSURE_PARAM_STALE_MS, 5000, 0, 86400000},
        {DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES, 2 << 20, 0, 1ll << 52},
        {DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES, 1ll << 52, 2 << 20, 1ll << 52},
    };
    dynmem_pressure *p = estimator_new();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t v = -1, lo = -1, hi = -1;
        cr_assert_eq(dynmem_pressure_get_param(p, rows[i].param, &v), DYNMEM_OK);
        cr_assert_eq(v, rows[i].def, "param %d", (int)rows[i].param);
        cr_assert_eq(dynmem_pressure_param_bounds(rows[i].param, &lo, &hi), DYNMEM_OK);
        cr_assert_eq(lo, rows[i].lo);
        cr_assert_eq(hi, rows[i].hi);
    }
    dynmem_pressure_free(p);
}
