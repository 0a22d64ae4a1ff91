/* The detail of a standalone estimator's refusals
 * (dynmem_pressure_last_error()): a refused sample names what was wrong
 * with its figures, a refused query its time or assigned memory, a refused
 * setting its name and bounds; each non-const call clears it first. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <dynmem/dynmem.h>

#include "lasterror.h"

#define MIB (UINT64_C(1) << 20)

static dynmem_pressure *p;
static char text[256];

static void setup(void)
{
    cr_assert_eq(dynmem_pressure_new(&p, NULL), 0);
}

static void teardown(void)
{
    dynmem_pressure_free(p);
}

static const char *detail(void)
{
    return LAST_ERROR(dynmem_pressure_last_error, p, text);
}

static struct dynmem_pressure_sample sample(uint64_t time_ms, uint64_t committed_mib)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = time_ms;
    s.committed_bytes = committed_mib * MIB;
    return s;
}

TestSuite(pressure_detail, .init = setup, .fini = teardown);

Test(pressure_detail, empty_before_any_refusal)
{
    cr_assert_str_eq(detail(), "");
}

Test(pressure_detail, refused_samples_say_what_was_wrong)
{
    struct dynmem_pressure_sample s = sample(5000, 600);
    s.flags = DYNMEM_SAMPLE_HAS_AVAILABLE | DYNMEM_SAMPLE_HAS_TOTAL;
    s.available_bytes = 2048 * MIB;
    s.total_bytes = 1024 * MIB;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_ERR_PRESSURE_INCONSISTENT);
    cr_assert_str_eq(detail(), "sample at 5000 ms: more memory available than in total "
                               "(committed 600 MiB, available 2048 MiB, total 1024 MiB)");

    s.available_bytes = 400 * MIB;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), 0);
    cr_assert_str_eq(detail(), "", "a sample taken clears it");
    s.time_ms = 4000;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_ERR_PRESSURE_TIME_BACKWARDS);
    cr_assert_str_eq(detail(), "sample at 4000 ms is older than the latest sample or query, "
                               "at 5000 ms");

    s.time_ms = 6000;
    s.flags |= 1u << 30;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_ERR_STRUCT_RESERVED);
    cr_assert(strstr(detail(), "sample flags 0x4"), "%s", text);
    s.flags &= ~(1u << 30);
    s.committed_bytes = UINT64_C(1) << 53;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert(strstr(detail(), "a figure above 4 PiB"), "%s", text);
    s.size = 3;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert(strstr(detail(), "sample size 3 "), "%s", text);
}

Test(pressure_detail, refused_queries_say_their_figures)
{
    struct dynmem_pressure_sample s = sample(5000, 600);
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), 0);
    struct dynmem_pressure_report r = DYNMEM_PRESSURE_REPORT_INIT;
    cr_assert_eq(dynmem_pressure_query(p, 4000, 1024 * MIB, &r), DYNMEM_ERR_PRESSURE_TIME_BACKWARDS);
    cr_assert_str_eq(detail(), "query at 4000 ms is older than the latest sample or query, "
                               "at 5000 ms");
    cr_assert_eq(dynmem_pressure_query(p, 7000, 0, &r), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_str_eq(detail(), "query at 7000 ms: assigned memory 0");
    cr_assert_eq(dynmem_pressure_query(p, 7000, UINT64_C(1) << 53, &r), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert(strstr(detail(), "assigned 9007199254740992 bytes is above"), "%s", text);
    r.size = 8;
    cr_assert_eq(dynmem_pressure_query(p, 7000, 1024 * MIB, &r), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert(strstr(detail(), "report size 8 is outside the "), "%s", text);
    r.size = sizeof r;
    cr_assert_eq(dynmem_pressure_query(p, 7000, 1024 * MIB, &r), 0);
    cr_assert_str_eq(detail(), "", "a query answered clears it");
}

Test(pressure_detail, refused_settings_name_the_setting_and_bounds)
{
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 0),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_str_eq(detail(), "DYNMEM_PRESSURE_PARAM_WINDOW_MS 0 outside 1..86400000");
    cr_assert_eq(dynmem_pressure_set_param(p, (enum dynmem_pressure_param)77, 1),
                 DYNMEM_ERR_NOT_FOUND);
    cr_assert_str_eq(detail(), "pressure setting 77 names no setting");
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES,
                                           (int64_t)(3 * MIB)),
                 DYNMEM_ERR_PRESSURE_UNALIGNED);
    cr_assert_str_eq(detail(), "DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES 3145728 is not a multiple "
                               "of 2 MiB");
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES,
                                           (int64_t)(2048 * MIB)), 0);
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES,
                                           (int64_t)(4096 * MIB)),
                 DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX);
    cr_assert_str_eq(detail(), "DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES: minimum 4096 MiB above "
                               "maximum 2048 MiB");
    dynmem_pressure_reset(p);
    cr_assert_str_eq(detail(), "", "reset clears it");
}

Test(pressure_detail, cut_to_fit_and_sized_like_snprintf)
{
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 0),
                 DYNMEM_ERR_OUT_OF_RANGE);
    size_t full = strlen("DYNMEM_PRESSURE_PARAM_WINDOW_MS 0 outside 1..86400000");
    char small[7] = "zzzzzz";
    cr_assert_eq(dynmem_pressure_last_error(p, small, sizeof small), (int)full);
    cr_assert_str_eq(small, "DYNMEM");
    cr_assert_eq(dynmem_pressure_last_error(p, NULL, 0), (int)full);
    cr_assert_eq(dynmem_pressure_last_error(NULL, small, sizeof small), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_last_error(p, NULL, 1), DYNMEM_ERR_INVALID_ARGUMENT);
}
