/* Samples: checking what a backend feeds the estimator, building samples
 * from each backend's own report format, and the target formula. */
#include <string.h>

#include "pressure_internal.h"
#include "struct_abi.h"

#define KNOWN_SAMPLE_FLAGS                                                     \
    (DYNMEM_SAMPLE_HAS_AVAILABLE | DYNMEM_SAMPLE_HAS_TOTAL |                  \
     DYNMEM_SAMPLE_HAS_SWAP_IN | DYNMEM_SAMPLE_HAS_MAJOR_FAULTS | DYNMEM_SAMPLE_HAS_PSI)

/* Every field of struct dynmem_pressure_sample was there in version 1.0. */
/* The 1.0 sizes: a newer version appends fields after them (STYLE.md 6.5). */
#define SAMPLE_MIN_SIZE DYNMEM__SAMPLE_MIN_SIZE
#define VIRTIO_STATS_MIN_SIZE DYNMEM__END_OF(struct dynmem_virtio_stats, reserved)

/* QEMU's value for a statistic the guest has not reported. */
#define VIRTIO_NOT_AVAILABLE UINT64_MAX

static int reserved_words_zero(const uint64_t *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (words[i])
            return 0;
    return 1;
}

int dynmem_pressure_sample_init(struct dynmem_pressure_sample *sample, size_t size)
{
    if (!sample)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (size < SAMPLE_MIN_SIZE || size > DYNMEM__STRUCT_SIZE_MAX)
        return DYNMEM_ERR_STRUCT_SIZE;
    memset(sample, 0, size);
    sample->size = (uint32_t)size;
    return DYNMEM_OK;
}

int dynmem__sample_check(const struct dynmem_pressure_sample *s)
{
    if (!s)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__struct_check(s, s->size, SAMPLE_MIN_SIZE, sizeof *s);
    if (rc)
        return rc;
    if ((s->flags & ~(uint32_t)KNOWN_SAMPLE_FLAGS) || s->reserved0 ||
        !reserved_words_zero(s->reserved, sizeof s->reserved / sizeof s->reserved[0]))
        return DYNMEM_ERR_STRUCT_RESERVED;
    uint32_t f = s->flags;
    if (s->committed_bytes > DYNMEM__BYTES_MAX ||
        ((f & DYNMEM_SAMPLE_HAS_AVAILABLE) && s->available_bytes > DYNMEM__BYTES_MAX) ||
        ((f & DYNMEM_SAMPLE_HAS_TOTAL) && s->total_bytes > DYNMEM__BYTES_MAX) ||
        ((f & DYNMEM_SAMPLE_HAS_PSI) && s->psi_some_avg10 > DYNMEM__PSI_MAX))
        return DYNMEM_ERR_OUT_OF_RANGE;
    if ((f & DYNMEM_SAMPLE_HAS_AVAILABLE) && (f & DYNMEM_SAMPLE_HAS_TOTAL) &&
        s->available_bytes > s->total_bytes)
        return DYNMEM_ERR_PRESSURE_INCONSISTENT;
    return DYNMEM_OK;
}

/* An adapter's output must be a sample of a size this library can fill. */
static int output_sample_check(const struct dynmem_pressure_sample *sample)
{
    if (!sample)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return dynmem__out_check(sample, SAMPLE_MIN_SIZE);
}

/* Writes what of an adapter's result fits the caller's sample. */
static void output_sample_store(struct dynmem_pressure_sample *sample,
                                const struct dynmem_pressure_sample *result)
{
    dynmem__out_store(sample, result, sizeof *result);
}

/* A figure in units of 2^shift bytes, refused beyond 2^52 bytes. */
static int scaled_bytes(uint64_t units, unsigned shift, uint64_t *bytes)
{
    if (units > DYNMEM__BYTES_MAX >> shift)
        return DYNMEM_ERR_OUT_OF_RANGE;
    *bytes = units << shift;
    return DYNMEM_OK;
}

/* The virtio and Xen rule: demand is what the guest has but could not give
 * up without paging. */
static int total_minus_available(uint64_t time_ms, uint64_t total, uint64_t available,
                                 struct dynmem_pressure_sample *s)
{
    if (total > DYNMEM__BYTES_MAX || available > DYNMEM__BYTES_MAX)
        return DYNMEM_ERR_OUT_OF_RANGE;
    if (available > total)
        return DYNMEM_ERR_PRESSURE_INCONSISTENT;
    *s = (struct dynmem_pressure_sample)DYNMEM_PRESSURE_SAMPLE_INIT;
    s->time_ms = time_ms;
    s->flags = DYNMEM_SAMPLE_HAS_TOTAL | DYNMEM_SAMPLE_HAS_AVAILABLE;
    s->total_bytes = total;
    s->available_bytes = available;
    s->committed_bytes = total - available;
    return DYNMEM_OK;
}

int dynmem_pressure_sample_from_dm_status(struct dynmem_pressure_sample *sample,
                                          uint64_t time_ms, uint64_t num_committed_pages,
                                          uint64_t num_avail_pages)
{
    int rc = output_sample_check(sample);
    if (rc)
        return rc;
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    if ((rc = scaled_bytes(num_committed_pages, 12, &s.committed_bytes)) ||
        (rc = scaled_bytes(num_avail_pages, 12, &s.available_bytes)))
        return rc;
    s.time_ms = time_ms;
    s.flags = DYNMEM_SAMPLE_HAS_AVAILABLE;
    output_sample_store(sample, &s);
    return DYNMEM_OK;
}

/* What the guest could give up: MemAvailable when the driver reports it
 * (Linux does since 4.6), else free memory plus page cache, the estimate
 * MemAvailable replaced, for drivers that report those two only. */
static int virtio_available(const struct dynmem_virtio_stats *st, uint64_t *available)
{
    if (st->available_memory != VIRTIO_NOT_AVAILABLE) {
        *available = st->available_memory;
        return DYNMEM_OK;
    }
    if (st->free_memory == VIRTIO_NOT_AVAILABLE || st->disk_caches == VIRTIO_NOT_AVAILABLE)
        return DYNMEM_ERR_PRESSURE_NO_DATA;
    if (st->free_memory > DYNMEM__BYTES_MAX || st->disk_caches > DYNMEM__BYTES_MAX)
        return DYNMEM_ERR_OUT_OF_RANGE;
    *available = st->free_memory + st->disk_caches;
    return DYNMEM_OK;
}

static int virtio_stats_check(const struct dynmem_virtio_stats *st)
{
    if (!st)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__struct_check(st, st->size, VIRTIO_STATS_MIN_SIZE, sizeof *st);
    if (rc)
        return rc;
    if (st->reserved0 || !reserved_words_zero(st->reserved, sizeof st->reserved / sizeof st->reserved[0]))
        return DYNMEM_ERR_STRUCT_RESERVED;
    return DYNMEM_OK;
}

int dynmem_pressure_sample_from_virtio_stats(struct dynmem_pressure_sample *sample,
                                             uint64_t time_ms,
                                             const struct dynmem_virtio_stats *stats)
{
    if (!sample || !stats)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = output_sample_check(sample);
    if (!rc)
        rc = virtio_stats_check(stats);
    if (rc)
        return rc;
    if (stats->total_memory == VIRTIO_NOT_AVAILABLE)
        return DYNMEM_ERR_PRESSURE_NO_DATA;
    uint64_t available;
    struct dynmem_pressure_sample s;
    if ((rc = virtio_available(stats, &available)) ||
        (rc = total_minus_available(time_ms, stats->total_memory, available, &s)))
        return rc;
    if (stats->swap_in != VIRTIO_NOT_AVAILABLE) {
        s.flags |= DYNMEM_SAMPLE_HAS_SWAP_IN;
        s.swap_in_bytes = stats->swap_in;
    }
    if (stats->major_faults != VIRTIO_NOT_AVAILABLE) {
        s.flags |= DYNMEM_SAMPLE_HAS_MAJOR_FAULTS;
        s.major_faults = stats->major_faults;
    }
    output_sample_store(sample, &s);
    return DYNMEM_OK;
}

int dynmem_pressure_sample_from_xen_meminfo(struct dynmem_pressure_sample *sample,
                                            uint64_t time_ms, uint64_t total_kib,
                                            uint64_t free_kib)
{
    int rc = output_sample_check(sample);
    if (rc)
        return rc;
    if (total_kib == UINT64_MAX || free_kib == UINT64_MAX)
        return DYNMEM_ERR_PRESSURE_NO_DATA;
    uint64_t total, free_bytes;
    struct dynmem_pressure_sample s;
    if ((rc = scaled_bytes(total_kib, 10, &total)) ||
        (rc = scaled_bytes(free_kib, 10, &free_bytes)) ||
        (rc = total_minus_available(time_ms, total, free_bytes, &s)))
        return rc;
    output_sample_store(sample, &s);
    return DYNMEM_OK;
}

int dynmem__clamps_check(uint64_t minimum_bytes, uint64_t maximum_bytes)
{
    if (minimum_bytes > DYNMEM__BYTES_MAX || maximum_bytes > DYNMEM__BYTES_MAX)
        return DYNMEM_ERR_OUT_OF_RANGE;
    if (minimum_bytes % DYNMEM__TWO_MIB || maximum_bytes % DYNMEM__TWO_MIB)
        return DYNMEM_ERR_PRESSURE_UNALIGNED;
    if (minimum_bytes > maximum_bytes)
        return DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX;
    return DYNMEM_OK;
}

int dynmem_pressure_target(uint64_t demand_bytes, uint32_t buffer_percent,
                           uint64_t minimum_bytes, uint64_t maximum_bytes,
                           uint64_t *target_bytes)
{
    if (!target_bytes)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (demand_bytes > DYNMEM__BYTES_MAX || buffer_percent < DYNMEM__BUFFER_PERCENT_MIN ||
        buffer_percent > DYNMEM__BUFFER_PERCENT_MAX)
        return DYNMEM_ERR_OUT_OF_RANGE;
    int rc = dynmem__clamps_check(minimum_bytes, maximum_bytes);
    if (rc)
        return rc;
    *target_bytes = dynmem__pressure_target(demand_bytes, buffer_percent, minimum_bytes, maximum_bytes);
    return DYNMEM_OK;
}

