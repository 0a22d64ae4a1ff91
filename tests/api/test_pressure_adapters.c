/* The input adapters: each backend's own units and "not available" values
 * turned into samples the estimator accepts. */
#include "pressure_helpers.h"

#define NA UINT64_MAX

static struct dynmem_pressure_sample blank(void)
{
    struct dynmem_pressure_sample s;
    memset(&s, 0x3C, sizeof s);
    s.size = sizeof s;
    return s;
}

static void assert_unchanged(const struct dynmem_pressure_sample *s)
{
    struct dynmem_pressure_sample b = blank();
    cr_assert_eq(memcmp(s, &b, sizeof b), 0, "sample written on error");
}

static void assert_accepted(const struct dynmem_pressure_sample *s)
{
    dynmem_pressure *p = estimator_new();
    cr_assert_eq(dynmem_pressure_add_sample(p, s), DYNMEM_OK);
    dynmem_pressure_free(p);
}

Test(adapters, dm_status_in_4k_pages)
{
    struct dynmem_pressure_sample s = blank();
    /* 4423 MiB committed = 1132288 pages; 64 MiB available. */
    cr_assert_eq(dynmem_pressure_sample_from_dm_status(&s, 1500, 1132288, 16384), DYNMEM_OK);
    cr_assert_eq(s.size, sizeof s);
    cr_assert_eq(s.time_ms, 1500);
    cr_assert_eq(s.committed_bytes, 4423 * MIB);
    cr_assert_eq(s.available_bytes, 64 * MIB);
    cr_assert_eq(s.flags, DYNMEM_SAMPLE_HAS_AVAILABLE);
    cr_assert_eq(s.reserved0, 0);
    cr_assert_eq(s.reserved[0] | s.reserved[3], 0);
    assert_accepted(&s);

    cr_assert_eq(dynmem_pressure_sample_from_dm_status(&s, 0, 1ull << 40, 0), DYNMEM_OK,
                 "2^40 pages is exactly 2^52 bytes");
    s = blank();
    cr_assert_eq(dynmem_pressure_sample_from_dm_status(&s, 0, (1ull << 40) + 1, 0),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pressure_sample_from_dm_status(&s, 0, 1, NA), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pressure_sample_from_dm_status(NULL, 0, 1, 1),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    s.size = 8;
    cr_assert_eq(dynmem_pressure_sample_from_dm_status(&s, 0, 1, 1), DYNMEM_ERR_STRUCT_SIZE);
    s.size = sizeof s;
    assert_unchanged(&s);
}

/* guest-stats as QEMU 7.2 reported them for a 1 GiB guest. */
static struct dynmem_virtio_stats qemu_stats(void)
{
    struct dynmem_virtio_stats st = DYNMEM_VIRTIO_STATS_INIT;
    st.total_memory = 1007349760;
    st.available_memory = 829214720;
    st.free_memory = 897744896;
    st.disk_caches = 3244032;
    st.swap_in = 0;
    st.major_faults = 0;
    return st;
}

Test(adapters, virtio_demand_is_total_minus_available)
{
    struct dynmem_virtio_stats st = qemu_stats();
    struct dynmem_pressure_sample s = blank();
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 2000, &st), DYNMEM_OK);
    cr_assert_eq(s.committed_bytes, 1007349760 - 829214720);
    cr_assert_eq(s.total_bytes, 1007349760);
    cr_assert_eq(s.available_bytes, 829214720);
    cr_assert_eq(s.flags, DYNMEM_SAMPLE_HAS_TOTAL | DYNMEM_SAMPLE_HAS_AVAILABLE |
                              DYNMEM_SAMPLE_HAS_SWAP_IN | DYNMEM_SAMPLE_HAS_MAJOR_FAULTS);
    cr_assert_eq(s.time_ms, 2000);
    assert_accepted(&s);
}

Test(adapters, virtio_not_available_values)
{
    struct dynmem_virtio_stats st = DYNMEM_VIRTIO_STATS_INIT; /* driver not bound yet */
    struct dynmem_pressure_sample s = blank();
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_ERR_PRESSURE_NO_DATA);
    assert_unchanged(&s);

    /* No MemAvailable (older guest): free + disk caches stand in for it. */
    st = qemu_stats();
    st.available_memory = NA;
    st.swap_in = NA;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_OK);
    cr_assert_eq(s.committed_bytes, 1007349760 - 897744896 - 3244032);
    cr_assert_eq(s.available_bytes, 897744896 + 3244032);
    cr_assert_eq(s.flags, DYNMEM_SAMPLE_HAS_TOTAL | DYNMEM_SAMPLE_HAS_AVAILABLE |
                              DYNMEM_SAMPLE_HAS_MAJOR_FAULTS, "swap-in not reported");

    s = blank();
    st.disk_caches = NA;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_ERR_PRESSURE_NO_DATA);
    st = qemu_stats();
    st.total_memory = NA;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_ERR_PRESSURE_NO_DATA);
    assert_unchanged(&s);
}

Test(adapters, virtio_refusals)
{
    struct dynmem_pressure_sample s = blank();
    struct dynmem_virtio_stats st = qemu_stats();
    st.available_memory = st.total_memory + 1;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st),
                 DYNMEM_ERR_PRESSURE_INCONSISTENT);
    st = qemu_stats();
    st.available_memory = NA;
    st.free_memory = st.total_memory;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st),
                 DYNMEM_ERR_PRESSURE_INCONSISTENT, "free + caches above total");
    st = qemu_stats();
    st.total_memory = (1ull << 52) + 1;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_ERR_OUT_OF_RANGE);
    st = qemu_stats();
    st.reserved[2] = 1;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_ERR_STRUCT_RESERVED);
    st = qemu_stats();
    st.reserved0 = 1;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_ERR_STRUCT_RESERVED);
    st = qemu_stats();
    st.size = 16;
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, &st), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(&s, 0, NULL),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    st = qemu_stats();
    cr_assert_eq(dynmem_pressure_sample_from_virtio_stats(NULL, 0, &st),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    assert_unchanged(&s);
}

Test(adapters, xen_meminfo_in_kib)
{
    /* The guest's MemTotal and MemFree at boot with -m 1024, in KiB. */
    struct dynmem_pressure_sample s = blank();
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(&s, 3000, 983740, 876704), DYNMEM_OK);
    cr_assert_eq(s.total_bytes, 983740ull * 1024);
    cr_assert_eq(s.available_bytes, 876704ull * 1024);
    cr_assert_eq(s.committed_bytes, (983740ull - 876704) * 1024);
    cr_assert_eq(s.flags, DYNMEM_SAMPLE_HAS_TOTAL | DYNMEM_SAMPLE_HAS_AVAILABLE);
    cr_assert_eq(s.time_ms, 3000);
    assert_accepted(&s);

    s = blank();
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(&s, 0, NA, 1), DYNMEM_ERR_PRESSURE_NO_DATA);
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(&s, 0, 1, NA), DYNMEM_ERR_PRESSURE_NO_DATA);
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(&s, 0, 100, 101),
                 DYNMEM_ERR_PRESSURE_INCONSISTENT);
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(&s, 0, (1ull << 42) + 1, 0),
                 DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(NULL, 0, 2, 1),
                 DYNMEM_ERR_INVALID_ARGUMENT);
    assert_unchanged(&s);
}

/* A newer caller's fields this library does not know read as zero, and
 * nothing past the caller's size is written. */
Test(adapters, newer_callers_unknown_tail_is_zeroed)
{
    struct newer_sample {
        struct dynmem_pressure_sample s;
        uint64_t future;
        uint64_t guard;
    } newer;
    memset(&newer, 0, sizeof newer);
    size_t size = offsetof(struct newer_sample, guard);
    cr_assert_eq(dynmem_pressure_sample_init(&newer.s, size), DYNMEM_OK);
    cr_assert_eq(newer.s.size, size);
    newer.future = 9;
    newer.guard = 7;
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(&newer.s, 0, 2048, 1024), DYNMEM_OK);
    cr_assert_eq(newer.s.size, size);
    cr_assert_eq(newer.future, 0, "a field the library does not know is zeroed");
    cr_assert_eq(newer.guard, 7, "the library wrote past the caller's size");
}
