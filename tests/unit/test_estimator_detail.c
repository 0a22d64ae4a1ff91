/* The estimators a balancer owns keep no refusal detail (the balancer
 * reports refusals in its own): each is DYNMEM__DETAIL_LEN bytes smaller
 * than a public one, but for what its 64-byte alignment pads anyway. Its
 * refusals return the same codes as a public estimator's and write
 * nothing, its last_error() is the empty text, and a public estimator
 * still says what every refusal was about. */
#include <criterion/criterion.h>
#include <string.h>

#include <dynmem/dynmem.h>
#include "detail.h"
#include "failalloc.h"
#include "pressure_observe.h"

#define MIB (UINT64_C(1) << 20)

/* What making one estimator leaves allocated: the handle and its ring. */
static size_t estimator_bytes(int (*make)(dynmem_pressure **, const struct dynmem_allocator *))
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    dynmem_pressure *p;
    cr_assert_eq(make(&p, &fa.hook), 0);
    size_t bytes = fa.live_bytes;
    dynmem_pressure_free(p);
    cr_assert_eq(fa.live, 0);
    return bytes;
}

/* The fewest bytes one dynmem_balancer_vm_add() left allocated, over
 * enough adds that some of them grew no array. */
static size_t bytes_per_vm_add(void)
{
    struct failalloc fa;
    failalloc_init(&fa, 0, 1);
    dynmem_balancer *b;
    cr_assert_eq(dynmem_balancer_new(&b, &fa.hook), 0);
    size_t fewest = SIZE_MAX;
    for (int i = 0; i < 64; i++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.startup_bytes = 1024 * MIB;
        c.minimum_bytes = 256 * MIB;
        c.maximum_bytes = 2048 * MIB;
        size_t before = fa.live_bytes;
        uint64_t id;
        cr_assert_eq(dynmem_balancer_vm_add(b, &c, &id), 0);
        if (fa.live_bytes - before < fewest)
            fewest = fa.live_bytes - before;
    }
    dynmem_balancer_free(b);
    cr_assert_eq(fa.live, 0);
    return fewest;
}

Test(estimator_detail, a_balancers_estimator_keeps_no_detail)
{
    size_t public = estimator_bytes(dynmem_pressure_new);
    size_t quiet = estimator_bytes(dynmem__pressure_new_quiet);
    size_t per_vm = bytes_per_vm_add();
    cr_assert_eq(per_vm, quiet, "a VM costs its estimator, made quiet (%zu bytes, quiet %zu, "
                 "public %zu)", per_vm, quiet, public);
    cr_assert_gt(public - quiet, DYNMEM__DETAIL_LEN - 64,
                 "the detail's %d bytes saved but for the alignment's padding (saved %zu)",
                 DYNMEM__DETAIL_LEN, public - quiet);
}

/* One refusal of each kind an estimator's public calls make; `fa` fails
 * the allocation the NO_MEMORY cases need. */
enum refusal {
    UNKNOWN_SETTING, SETTING_OUT_OF_RANGE, CLAMP_UNALIGNED, MIN_ABOVE_MAX,
    SAMPLE_SIZE, SAMPLE_RESERVED, SAMPLE_OUT_OF_RANGE, SAMPLE_INCONSISTENT,
    SAMPLE_BACKWARDS, SAMPLE_NO_MEMORY,
    QUERY_ASSIGNED_ZERO, QUERY_REPORT_SIZE, QUERY_ASSIGNED_ABOVE, QUERY_BACKWARDS, QUERY_NO_MEMORY,
    REFUSALS
};

static const int expected_rc[REFUSALS] = {
    [UNKNOWN_SETTING] = DYNMEM_ERR_NOT_FOUND,
    [SETTING_OUT_OF_RANGE] = DYNMEM_ERR_OUT_OF_RANGE,
    [CLAMP_UNALIGNED] = DYNMEM_ERR_PRESSURE_UNALIGNED,
    [MIN_ABOVE_MAX] = DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX,
    [SAMPLE_SIZE] = DYNMEM_ERR_STRUCT_SIZE,
    [SAMPLE_RESERVED] = DYNMEM_ERR_STRUCT_RESERVED,
    [SAMPLE_OUT_OF_RANGE] = DYNMEM_ERR_OUT_OF_RANGE,
    [SAMPLE_INCONSISTENT] = DYNMEM_ERR_PRESSURE_INCONSISTENT,
    [SAMPLE_BACKWARDS] = DYNMEM_ERR_PRESSURE_TIME_BACKWARDS,
    [SAMPLE_NO_MEMORY] = DYNMEM_ERR_NO_MEMORY,
    [QUERY_ASSIGNED_ZERO] = DYNMEM_ERR_INVALID_ARGUMENT,
    [QUERY_REPORT_SIZE] = DYNMEM_ERR_STRUCT_SIZE,
    [QUERY_ASSIGNED_ABOVE] = DYNMEM_ERR_OUT_OF_RANGE,
    [QUERY_BACKWARDS] = DYNMEM_ERR_PRESSURE_TIME_BACKWARDS,
    [QUERY_NO_MEMORY] = DYNMEM_ERR_NO_MEMORY,
};

static struct dynmem_pressure_sample sample(uint64_t time_ms, uint64_t committed_mib)
{
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = time_ms;
    s.committed_bytes = committed_mib * MIB;
    return s;
}

/* Adds samples (or queries) a second apart from t until the one whose
 * history point needs an allocation, which fa refuses. */
static int until_no_memory(dynmem_pressure *p, struct failalloc *fa, uint64_t t, bool query)
{
    fa->fail_at = fa->calls + 1;
    int rc = 0;
    for (uint64_t i = 1; i < 100000 && !rc; i++) {
        struct dynmem_pressure_sample s = sample(t + i * 1000, 500 + i % 7);
        struct dynmem_pressure_report r = DYNMEM_PRESSURE_REPORT_INIT;
        rc = query ? dynmem_pressure_query(p, t + i * 1000, (1000 + i % 5) * MIB, &r)
                   : dynmem_pressure_add_sample(p, &s);
    }
    fa->fail_at = 0;
    return rc;
}

static int refuse(dynmem_pressure *p, struct failalloc *fa, enum refusal what)
{
    struct dynmem_pressure_sample s = sample(10000, 600);
    struct dynmem_pressure_report r = DYNMEM_PRESSURE_REPORT_INIT;
    cr_assert_eq(dynmem_pressure_add_sample(p, &s), 0);
    switch (what) {
    case UNKNOWN_SETTING: return dynmem_pressure_set_param(p, (enum dynmem_pressure_param)99, 1);
    case SETTING_OUT_OF_RANGE:
        return dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, 1);
    case CLAMP_UNALIGNED:
        return dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES, (int64_t)MIB);
    case MIN_ABOVE_MAX:
        cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES,
                                               (int64_t)(1024 * MIB)), 0);
        return dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES,
                                         (int64_t)(2048 * MIB));
    case SAMPLE_SIZE: s.size = 4; break;
    case SAMPLE_RESERVED: s.flags = UINT32_C(1) << 31; break;
    case SAMPLE_OUT_OF_RANGE: s.committed_bytes = UINT64_MAX; break;
    case SAMPLE_INCONSISTENT:
        s.flags = DYNMEM_SAMPLE_HAS_AVAILABLE | DYNMEM_SAMPLE_HAS_TOTAL;
        s.available_bytes = 2048 * MIB;
        s.total_bytes = 1024 * MIB;
        break;
    case SAMPLE_BACKWARDS: s.time_ms = 9000; break;
    case SAMPLE_NO_MEMORY: return until_no_memory(p, fa, 10000, false);
    case QUERY_ASSIGNED_ZERO: return dynmem_pressure_query(p, 11000, 0, &r);
    case QUERY_REPORT_SIZE: r.size = 4; return dynmem_pressure_query(p, 11000, 1024 * MIB, &r);
    case QUERY_ASSIGNED_ABOVE: return dynmem_pressure_query(p, 11000, UINT64_MAX, &r);
    case QUERY_BACKWARDS: return dynmem_pressure_query(p, 9000, 1024 * MIB, &r);
    case QUERY_NO_MEMORY: return until_no_memory(p, fa, 10000, true);
    case REFUSALS: break;
    }
    return dynmem_pressure_add_sample(p, &s);
}

Test(estimator_detail, refusals_same_codes_detail_only_when_public)
{
    for (int what = 0; what < REFUSALS; what++) {
        struct failalloc fa_pub, fa_quiet;
        failalloc_init(&fa_pub, 0, 1);
        failalloc_init(&fa_quiet, 0, 1);
        dynmem_pressure *pub, *quiet;
        cr_assert_eq(dynmem_pressure_new(&pub, &fa_pub.hook), 0);
        cr_assert_eq(dynmem__pressure_new_quiet(&quiet, &fa_quiet.hook), 0);

        int rc = refuse(pub, &fa_pub, (enum refusal)what);
        cr_assert_eq(rc, expected_rc[what], "refusal %d: public %d", what, rc);
        cr_assert_eq(refuse(quiet, &fa_quiet, (enum refusal)what), rc, "refusal %d", what);

        char text[DYNMEM__DETAIL_LEN];
        int n = dynmem_pressure_last_error(pub, text, sizeof text);
        cr_assert_gt(n, 0, "refusal %d: a public estimator says what it was", what);
        cr_assert_eq((size_t)n, strlen(text));
        memset(text, 'g', sizeof text);
        cr_assert_eq(dynmem_pressure_last_error(quiet, text, sizeof text), 0,
                     "refusal %d: a quiet estimator has nothing to say", what);
        cr_assert_str_eq(text, "");
        cr_assert_eq(dynmem_pressure_last_error(quiet, NULL, 0), 0);

        /* A call that succeeds, and a reset, clear both alike. */
        dynmem_pressure_reset(pub);
        dynmem_pressure_reset(quiet);
        cr_assert_eq(dynmem_pressure_last_error(pub, NULL, 0), 0);
        cr_assert_eq(dynmem_pressure_last_error(quiet, NULL, 0), 0);

        dynmem_pressure_free(pub);
        dynmem_pressure_free(quiet);
        cr_assert_eq(fa_pub.live + fa_quiet.live, 0);
    }
}

Test(estimator_detail, a_quiet_estimator_works_as_a_public_one)
{
    dynmem_pressure *pub, *quiet;
    cr_assert_eq(dynmem_pressure_new(&pub, NULL), 0);
    cr_assert_eq(dynmem__pressure_new_quiet(&quiet, NULL), 0);
    for (uint64_t t = 1000; t <= 120000; t += 1000) {
        struct dynmem_pressure_sample s = sample(t, 400 + (t / 1000 * 37) % 900);
        cr_assert_eq(dynmem_pressure_add_sample(pub, &s), 0);
        cr_assert_eq(dynmem_pressure_add_sample(quiet, &s), 0);
        struct dynmem_pressure_report a = DYNMEM_PRESSURE_REPORT_INIT;
        struct dynmem_pressure_report b = DYNMEM_PRESSURE_REPORT_INIT;
        cr_assert_eq(dynmem_pressure_query(pub, t + 500, 1024 * MIB, &a), 0);
        cr_assert_eq(dynmem_pressure_query(quiet, t + 500, 1024 * MIB, &b), 0);
        cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "same report at %llu ms", (unsigned long long)t);
    }
    dynmem_pressure_free(pub);
    dynmem_pressure_free(quiet);
    cr_assert_eq(dynmem__pressure_new_quiet(NULL, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
}
