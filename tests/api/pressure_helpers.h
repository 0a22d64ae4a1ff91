/* Helpers shared by the pressure estimator's public-API tests. */
#ifndef DYNMEM_TESTS_PRESSURE_HELPERS_H
#define DYNMEM_TESTS_PRESSURE_HELPERS_H

#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/dynmem.h>

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static inline dynmem_pressure *estimator_new(void)
{
    dynmem_pressure *p = NULL;
    cr_assert_eq(dynmem_pressure_new(&p, NULL), DYNMEM_OK);
    cr_assert_not_null(p);
    return p;
}

/* Feeds a sample with only committed memory. */
static inline void feed(dynmem_pressure *p, uint64_t time_ms, uint64_t committed)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = time_ms;
    s.committed_bytes = committed;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), DYNMEM_OK, "sample at %llu",
                 (unsigned long long)time_ms);
}

static inline struct dynmem_pressure_report query(dynmem_pressure *p, uint64_t now_ms,
                                                  uint64_t assigned)
{
    struct dynmem_pressure_report r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    int rc = dynmem_pressure_query(p, now_ms, assigned, &r);
    cr_assert_eq(rc, DYNMEM_OK, "query at %llu: %s", (unsigned long long)now_ms,
                 dynmem_error_name(rc));
    return r;
}

#endif
