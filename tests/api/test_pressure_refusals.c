/* Every refusal path: the right error, and the estimator (or output) left
 * exactly as it was. "Unchanged" is checked against a twin estimator fed the
 * same history: both must then answer the same queries identically. */
#include "pressure_helpers.h"

#define BYTES_MAX (UINT64_C(1) << 52)

static void history(dynmem_pressure *p)
{
    feed(p, 1000, 700 * MIB);
    query(p, 2000, GIB);
    feed(p, 3000, 900 * MIB);
}

struct twins {
    dynmem_pressure *tested, *reference;
};

static struct twins twins_new(void)
{
    struct twins t = {estimator_new(), estimator_new()};
    history(t.tested);
    history(t.reference);
    return t;
}

/* Both twins answer alike now and after the same next sample, and the
 * latest time (3000) still accepts an equal-time sample. */
static void twins_check_and_free(struct twins t)
{
    for (int round = 0; round < 2; round++) {
        struct dynmem_pressure_report a = query(t.tested, 3000 + 500 * (uint64_t)round, GIB);
        struct dynmem_pressure_report b = query(t.reference, 3000 + 500 * (uint64_t)round, GIB);
        cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "the refused call changed the estimator");
        feed(t.tested, 3500, 800 * MIB);
        feed(t.reference, 3500, 800 * MIB);
    }
    for (int i = 0; i < 5; i++) {
        int64_t a = -1, b = -2;
        dynmem_pressure_get_param(t.tested, (enum dynmem_pressure_param)(i + 1), &a);
        dynmem_pressure_get_param(t.reference, (enum dynmem_pressure_param)(i + 1), &b);
        cr_assert_eq(a, b, "setting %d changed", i + 1);
    }
    dynmem_pressure_free(t.tested);
    dynmem_pressure_free(t.reference);
}

static struct dynmem_pressure_sample good_sample(void)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = 3000;
    s.committed_bytes = GIB;
    s.flags = DYNMEM_SAMPLE_HAS_TOTAL | DYNMEM_SAMPLE_HAS_AVAILABLE;
    s.total_bytes = 2 * GIB;
    s.available_bytes = GIB;
    return s;
}

static void refuse_sample(const struct dynmem_pressure_sample *s, int expected, const char *why)
{
    struct twins t = twins_new();
    int rc = dynmem_pressure_add_sample(t.tested, s);
    cr_assert_eq(rc, expected, "%s: got %s", why, dynmem_error_name(rc));
    twins_check_and_free(t);
}

Test(refusals, samples)
{
    struct dynmem_pressure_sample s;
    refuse_sample(NULL, DYNMEM_ERR_INVALID_ARGUMENT, "NULL sample");
    s = good_sample(), s.size = sizeof s - 8;
    refuse_sample(&s, DYNMEM_ERR_STRUCT_SIZE, "size too small");
    s = good_sample(), s.size = 4097;
    refuse_sample(&s, DYNMEM_ERR_STRUCT_SIZE, "absurd size");
    s = good_sample(), s.flags |= 1u << 5;
    refuse_sample(&s, DYNMEM_ERR_STRUCT_RESERVED, "unknown flag");
    s = good_sample(), s.reserved0 = 1;
    refuse_sample(&s, DYNMEM_ERR_STRUCT_RESERVED, "reserved0");
    s = good_sample(), s.reserved[3] = 1;
    refuse_sample(&s, DYNMEM_ERR_STRUCT_RESERVED, "reserved[3]");
    s = good_sample(), s.time_ms = 2999;
    refuse_sample(&s, DYNMEM_ERR_PRESSURE_TIME_BACKWARDS, "time before the latest sample");
    s = good_sample(), s.committed_bytes = BYTES_MAX + 1;
    refuse_sample(&s, DYNMEM_ERR_OUT_OF_RANGE, "committed beyond 2^52");
    s = good_sample(), s.available_bytes = BYTES_MAX + 1, s.total_bytes = BYTES_MAX;
    refuse_sample(&s, DYNMEM_ERR_OUT_OF_RANGE, "available beyond 2^52");
    s = good_sample(), s.total_bytes = BYTES_MAX + 1;
    refuse_sample(&s, DYNMEM_ERR_OUT_OF_RANGE, "total beyond 2^52");
    s = good_sample(), s.available_bytes = s.total_bytes + 1;
    refuse_sample(&s, DYNMEM_ERR_PRESSURE_INCONSISTENT, "available above total");
    s = good_sample(), s.flags |= DYNMEM_SAMPLE_HAS_PSI, s.psi_some_avg10 = 10001;
    refuse_sample(&s, DYNMEM_ERR_OUT_OF_RANGE, "PSI above 100 %%");
    dynmem_pressure *p = estimator_new();
    s = good_sample();
    cr_assert_eq(dynmem_pressure_add_sample(NULL, &s), DYNMEM_ERR_INVALID_ARGUMENT);
    dynmem_pressure_free(p);
}

Test(refusals, sample_after_a_query_must_not_be_older)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 1000, GIB);
    query(p, 5000, GIB);
    struct dynmem_pressure_sample s = good_sample();
    s.time_ms = 4999;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_ERR_PRESSURE_TIME_BACKWARDS);
    s.time_ms = 5000;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_OK);
    dynmem_pressure_free(p);
}

Test(refusals, edge_values_accepted)
{
    dynmem_pressure *p = estimator_new();
    struct dynmem_pressure_sample s = good_sample();
    s.committed_bytes = BYTES_MAX;
    s.total_bytes = GIB; /* committed above total: the guest pages */
    s.available_bytes = GIB;
    s.flags |= DYNMEM_SAMPLE_HAS_PSI;
    s.psi_some_avg10 = 10000;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_OK);
    s.flags = 0;
    s.available_bytes = UINT64_MAX; /* not flagged: ignored */
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_OK);
    /* A caller with newer, larger structs whose extra fields are zero. */
    struct {
        struct dynmem_pressure_sample s;
        uint64_t future;
    } newer = {good_sample(), 0};
    newer.s.size = sizeof newer;
    cr_assert_eq(dynmem_pressure_add_sample(p, &newer.s), DYNMEM_OK);
    newer.future = 1;
    cr_assert_eq(dynmem_pressure_add_sample(p, &newer.s), DYNMEM_ERR_STRUCT_RESERVED);
    dynmem_pressure_free(p);
}

static void refuse_query(uint64_t now, uint64_t assigned, uint32_t size, int expected,
                         const char *why)
{
    struct twins t = twins_new();
    struct dynmem_pressure_report r, before;
    memset(&r, 0x5A, sizeof r);
    r.size = size;
    before = r;
    int rc = dynmem_pressure_query(t.tested, now, assigned, &r);
    cr_assert_eq(rc, expected, "%s: got %s", why, dynmem_error_name(rc));
    cr_assert_eq(memcmp(&r, &before, sizeof r), 0, "%s: report written", why);
    twins_check_and_free(t);
}

Test(refusals, queries)
{
    const uint32_t size = sizeof(struct dynmem_pressure_report);
    refuse_query(4000, 0, size, DYNMEM_ERR_INVALID_ARGUMENT, "assigned 0");
    refuse_query(4000, BYTES_MAX + 1, size, DYNMEM_ERR_OUT_OF_RANGE, "assigned beyond 2^52");
    refuse_query(2999, GIB, size, DYNMEM_ERR_PRESSURE_TIME_BACKWARDS, "before the latest sample");
    refuse_query(4000, GIB, size - 1, DYNMEM_ERR_STRUCT_SIZE, "report too small");
    refuse_query(4000, GIB, 4097, DYNMEM_ERR_STRUCT_SIZE, "absurd report size");
    dynmem_pressure *p = estimator_new();
    struct dynmem_pressure_report r = {.size = size};
    cr_assert_eq(dynmem_pressure_query(NULL, 0, GIB, &r), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_query(p, 0, GIB, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    query(p, 100, GIB);
    cr_assert_eq(dynmem_pressure_query(p, 99, GIB, &r), DYNMEM_ERR_PRESSURE_TIME_BACKWARDS,
                 "before the latest query");
    dynmem_pressure_free(p);
}

/* A newer caller's fields this library does not know read as zero: never
 * a value left from an earlier use of the struct. */
Test(refusals, larger_report_gets_its_tail_zeroed)
{
    dynmem_pressure *p = estimator_new();
    feed(p, 0, GIB);
    struct {
        struct dynmem_pressure_report r;
        uint64_t future;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.r.size = sizeof newer;
    newer.future = 77;
    cr_assert_eq(dynmem_pressure_query(p, 0, GIB, &newer.r), DYNMEM_OK);
    cr_assert_eq(newer.future, 0);
    cr_assert_eq(newer.r.size, sizeof newer);
    cr_assert_eq(newer.r.pressure, 100);
    dynmem_pressure_free(p);
}

static void refuse_param(enum dynmem_pressure_param param, int64_t value, int expected)
{
    struct twins t = twins_new();
    int rc = dynmem_pressure_set_param(t.tested, param, value);
    cr_assert_eq(rc, expected, "param %d = %lld: got %s", (int)param, (long long)value,
                 dynmem_error_name(rc));
    twins_check_and_free(t);
}

Test(refusals, settings)
{
    refuse_param(DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, 4, DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param(DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, 2001, DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param(DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, -20, DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param(DYNMEM_PRESSURE_PARAM_WINDOW_MS, 0, DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param(DYNMEM_PRESSURE_PARAM_WINDOW_MS, 86400001, DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param(DYNMEM_PRESSURE_PARAM_STALE_MS, -1, DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param(DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES, 3 << 20, DYNMEM_ERR_PRESSURE_UNALIGNED);
    refuse_param(DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES, (int64_t)GIB + 1,
                 DYNMEM_ERR_PRESSURE_UNALIGNED);
    refuse_param(DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES, 0, DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param(DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES, (int64_t)BYTES_MAX + (2 << 20),
                 DYNMEM_ERR_OUT_OF_RANGE);
    refuse_param((enum dynmem_pressure_param)0, 1, DYNMEM_ERR_NOT_FOUND);
    refuse_param((enum dynmem_pressure_param)6, 1, DYNMEM_ERR_NOT_FOUND);
    refuse_param((enum dynmem_pressure_param)-1, 1, DYNMEM_ERR_NOT_FOUND);

    struct twins t = twins_new();
    cr_assert_eq(dynmem_pressure_set_param(t.tested, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES,
                                           (int64_t)GIB), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_set_param(t.reference, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES,
                                           (int64_t)GIB), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_set_param(t.tested, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES,
                                           (int64_t)(2 * GIB)), DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX);
    cr_assert_eq(dynmem_pressure_set_param(t.tested, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES,
                                           2 << 20), DYNMEM_OK);
    cr_assert_eq(dynmem_pressure_set_param(t.tested, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES,
                                           (int64_t)GIB), DYNMEM_OK);
    twins_check_and_free(t);

    int64_t v, lo, hi;
    cr_assert_eq(dynmem_pressure_set_param(NULL, DYNMEM_PRESSURE_PARAM_WINDOW_MS, 10),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_get_param(NULL, DYNMEM_PRESSURE_PARAM_WINDOW_MS, &v),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    dynmem_pressure *p = estimator_new();
    cr_assert_eq(dynmem_pressure_get_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, NULL),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_get_param(p, (enum dynmem_pressure_param)9, &v),
                 DYNMEM_ERR_NOT_FOUND);
    dynmem_pressure_free(p);
    cr_assert_eq(dynmem_pressure_param_bounds(DYNMEM_PRESSURE_PARAM_WINDOW_MS, NULL, &hi),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_param_bounds(DYNMEM_PRESSURE_PARAM_WINDOW_MS, &lo, NULL),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_param_bounds((enum dynmem_pressure_param)9, &lo, &hi),
                 DYNMEM_ERR_NOT_FOUND);
}

Test(refusals, target)
{
    uint64_t t = 12345;
    cr_assert_eq(dynmem_pressure_target(GIB, 20, 0, GIB, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_target(BYTES_MAX + 1, 20, 0, GIB, &t), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pressure_target(GIB, 4, 0, GIB, &t), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pressure_target(GIB, 2001, 0, GIB, &t), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pressure_target(GIB, 20, 0, BYTES_MAX + (2 << 20), &t),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pressure_target(GIB, 20, MIB, GIB, &t), DYNMEM_ERR_PRESSURE_UNALIGNED);
    cr_assert_eq(dynmem_pressure_target(GIB, 20, 0, GIB - MIB, &t), DYNMEM_ERR_PRESSURE_UNALIGNED);
    cr_assert_eq(dynmem_pressure_target(GIB, 20, 2 * GIB, GIB, &t),
                 DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX);
    cr_assert_eq(t, 12345, "output written on error");
}

Test(refusals, creation_and_sample_init)
{
    dynmem_pressure *p = NULL;
    cr_assert_eq(dynmem_pressure_new(NULL, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
    struct dynmem_allocator hook = DYNMEM_ALLOCATOR_INIT;
    cr_assert_eq(dynmem_pressure_new(&p, &hook), DYNMEM_ERR_BAD_ALLOCATOR);
    hook.size = 1;
    cr_assert_eq(dynmem_pressure_new(&p, &hook), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_null(p);

    struct dynmem_pressure_sample s;
    memset(&s, 0x77, sizeof s);
    cr_assert_eq(dynmem_pressure_sample_init(NULL, sizeof s), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_pressure_sample_init(&s, sizeof s - 1), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(dynmem_pressure_sample_init(&s, 4097), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(s.flags, 0x77777777u, "sample written on error");
    cr_assert_eq(dynmem_pressure_sample_init(&s, sizeof s), DYNMEM_OK);
    struct dynmem_pressure_sample init = DYNMEM_PRESSURE_SAMPLE_INIT;
    cr_assert_eq(memcmp(&s, &init, sizeof s), 0, "init function and macro agree");
}
