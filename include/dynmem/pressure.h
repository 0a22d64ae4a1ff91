/**
 * @file pressure.h
 * @brief Pressure estimator: demand, pressure, status, target and trend from
 *        what a guest reports.
 *
 * One estimator per VM. A backend feeds it samples (the guest's committed
 * memory and, when it has them, available memory and distress signals), each
 * stamped with a time the caller chooses (milliseconds, any monotonic
 * origin); the estimator never reads a clock. Queries take the memory the host
 * currently assigns to the VM and return the derived figures in one
 * size-prefixed report.
 *
 * Definitions (Hyper-V Dynamic Memory's):
 * - demand = the guest's committed memory;
 * - pressure = demand / assigned x 100;
 * - status Warning when assigned < demand, Low when assigned < demand plus
 *   the buffer, OK otherwise;
 * - target = demand x (1 + buffer / 100), rounded up to 2 MiB and clamped to
 *   [minimum, maximum].
 *
 * Arithmetic is integer only (see each field for its rounding; the trend's
 * sums are 128-bit), so results are exact and reproducible on every
 * platform. docs/pressure.md in the source tree derives every formula and
 * tells each backend how to feed the estimator.
 *
 * @par Window history
 * Pressure at a past instant needs both the demand and the assigned memory
 * at that instant, so the estimator keeps both as step functions of time:
 * each sample sets demand from its time on, each dynmem_pressure_query()
 * records the assigned memory it was given from its @p now_ms on. Time runs
 * forward across both: neither a sample nor a query may be stamped before
 * the latest sample or query. Over the window [now - window, now], restricted
 * to the part where both demand and assigned are known, the average pressure
 * is the time-weighted mean of the steps' pressures and the minimum and
 * maximum are the lowest and highest step pressure, the current one
 * included; with no such span (a single point) all three equal the current
 * pressure.
 *
 * @par Memory
 * The history is a ring of points (one per sample or query with a distinct
 * time) that starts at 32 points and doubles through the allocator, only
 * when the points still inside the window do not fit, up to 4096 points.
 * Points that ended before the window starts are dropped. At 4096 points the
 * oldest point is dropped instead, so the window then covers only the latest
 * 4096 samples and queries. Once the ring has the capacity it needs,
 * dynmem_pressure_add_sample() and dynmem_pressure_query() never allocate.
 *
 * @par Thread safety
 * An estimator is used by one thread at a time; distinct estimators are
 * independent. The sample adapters are pure and thread-safe.
 */
#ifndef DYNMEM_PRESSURE_H
#define DYNMEM_PRESSURE_H

#include <stddef.h>
#include <stdint.h>

#include <dynmem/common.h>

DYNMEM_BEGIN_DECLS

/**
 * @defgroup pressure Pressure estimator
 * @{
 */

/** An opaque per-VM pressure estimator. */
typedef struct dynmem_pressure dynmem_pressure;

/** Bits of dynmem_pressure_sample::flags saying which optional fields hold data. */
enum dynmem_pressure_sample_flag {
    /** available_bytes holds the guest's available (reclaimable) memory. */
    DYNMEM_SAMPLE_HAS_AVAILABLE = 1u << 0,
    /** total_bytes holds the guest's total usable memory. */
    DYNMEM_SAMPLE_HAS_TOTAL = 1u << 1,
    /** swap_in_bytes holds a cumulative count of bytes swapped in. */
    DYNMEM_SAMPLE_HAS_SWAP_IN = 1u << 2,
    /** major_faults holds a cumulative count of major page faults. */
    DYNMEM_SAMPLE_HAS_MAJOR_FAULTS = 1u << 3,
    /** psi_some_avg10 holds PSI memory "some" avg10. */
    DYNMEM_SAMPLE_HAS_PSI = 1u << 4
};

/**
 * One report from a guest, in bytes. Size-prefixed: initialise with
 * DYNMEM_PRESSURE_SAMPLE_INIT or dynmem_pressure_sample_init(); fields may be
 * appended in later versions.
 */
struct dynmem_pressure_sample {
    /** sizeof(struct dynmem_pressure_sample) as compiled by the caller. */
    uint32_t size;
    /** Bitwise OR of enum dynmem_pressure_sample_flag. */
    uint32_t flags;
    /** When the report was received, in milliseconds. */
    uint64_t time_ms;
    /** The guest's committed memory: the demand signal. At most 2^52. */
    uint64_t committed_bytes;
    /** Memory the guest could give up without paging (if flagged). */
    uint64_t available_bytes;
    /** Memory the guest sees as usable in total (if flagged). */
    uint64_t total_bytes;
    /** Cumulative bytes swapped in since guest boot (if flagged). */
    uint64_t swap_in_bytes;
    /** Cumulative major page faults since guest boot (if flagged). */
    uint64_t major_faults;
    /** PSI memory "some" avg10 in hundredths of a percent, 0..10000 (if flagged). */
    uint32_t psi_some_avg10;
    /** Must be zero. */
    uint32_t reserved0;
    /** Must be zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_pressure_sample with no data. */
#define DYNMEM_PRESSURE_SAMPLE_INIT { sizeof(struct dynmem_pressure_sample), 0, 0, 0, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0} }

/**
 * Zero a sample and set its size (for callers that cannot use the macro).
 * @param sample the sample to initialise
 * @param size sizeof(struct dynmem_pressure_sample) as the caller knows it
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (NULL) or DYNMEM_ERR_STRUCT_SIZE
 */
DYNMEM_API int dynmem_pressure_sample_init(struct dynmem_pressure_sample *sample, size_t size);

/**
 * Build a sample from a Hyper-V Dynamic Memory status report.
 * @param sample output, initialised by the caller (size set)
 * @param time_ms when the report arrived
 * @param num_committed_pages the report's num_committed (4 KiB pages)
 * @param num_avail_pages the report's num_avail (4 KiB pages)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_STRUCT_SIZE or
 *         DYNMEM_ERR_OUT_OF_RANGE (a figure beyond 2^52 bytes); @p sample
 *         is unchanged on error
 */
DYNMEM_API int dynmem_pressure_sample_from_dm_status(struct dynmem_pressure_sample *sample,
                                                     uint64_t time_ms,
                                                     uint64_t num_committed_pages,
                                                     uint64_t num_avail_pages);

/**
 * virtio-balloon guest statistics, in bytes (counters as QEMU reports them).
 * A field the guest does not report is UINT64_MAX, as in QEMU's
 * guest-stats. Size-prefixed: initialise with DYNMEM_VIRTIO_STATS_INIT.
 */
struct dynmem_virtio_stats {
    /** sizeof(struct dynmem_virtio_stats) as compiled by the caller. */
    uint32_t size;
    /** Must be zero. */
    uint32_t reserved0;
    /** stat-total-memory: memory the guest OS sees. */
    uint64_t total_memory;
    /** stat-available-memory: MemAvailable. */
    uint64_t available_memory;
    /** stat-free-memory: MemFree. */
    uint64_t free_memory;
    /** stat-disk-caches: page cache. */
    uint64_t disk_caches;
    /** stat-swap-in: cumulative bytes swapped in. */
    uint64_t swap_in;
    /** stat-major-faults: cumulative major faults. */
    uint64_t major_faults;
    /** Must be zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_virtio_stats with every field unavailable. */
#define DYNMEM_VIRTIO_STATS_INIT { sizeof(struct dynmem_virtio_stats), 0, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, {0, 0, 0, 0} }

/**
 * Build a sample from virtio-balloon guest statistics:
 * demand = total - available (the guest's MemAvailable already counts page
 * cache and reclaimable memory as free, so demand is what it cannot give up).
 * A driver that reports free memory and disk caches but not available
 * memory is read as available = free + disk caches. Swap-in and major faults are copied when
 * reported, for distress detection.
 * @param sample output, initialised by the caller (size set)
 * @param time_ms when the statistics were read
 * @param stats the statistics; total and available (or free and disk
 *        caches) are required
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_STRUCT_RESERVED, DYNMEM_ERR_OUT_OF_RANGE (beyond 2^52),
 *         DYNMEM_ERR_PRESSURE_INCONSISTENT (available above total) or
 *         DYNMEM_ERR_PRESSURE_NO_DATA (total or available not reported
 *         yet); @p sample is unchanged on error
 */
DYNMEM_API int dynmem_pressure_sample_from_virtio_stats(struct dynmem_pressure_sample *sample,
                                                        uint64_t time_ms,
                                                        const struct dynmem_virtio_stats *stats);

/**
 * Build a sample from a Xen guest agent's data/meminfo_total and
 * data/meminfo_free (KiB): demand = total - free. An agent that writes
 * MemFree counts page cache as used, so its demand is on the high side; pass
 * UINT64_MAX for a key that is not there yet.
 * @param sample output, initialised by the caller (size set)
 * @param time_ms when the values were read
 * @param total_kib data/meminfo_total
 * @param free_kib data/meminfo_free
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_OUT_OF_RANGE (beyond 2^52 bytes),
 *         DYNMEM_ERR_PRESSURE_INCONSISTENT (free > total) or
 *         DYNMEM_ERR_PRESSURE_NO_DATA (a value is UINT64_MAX); @p sample is
 *         unchanged on error
 */
DYNMEM_API int dynmem_pressure_sample_from_xen_meminfo(struct dynmem_pressure_sample *sample,
                                                       uint64_t time_ms,
                                                       uint64_t total_kib, uint64_t free_kib);

/** Settings of an estimator (dynmem_pressure_set_param()). */
enum dynmem_pressure_param {
    /** Buffer in percent of demand, 5..2000; default 20. */
    DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT = 1,
    /** Window for average/min/max pressure and trend, ms, 1..86400000;
     *  default 60000. Points already dropped are not recovered by enlarging
     *  it. */
    DYNMEM_PRESSURE_PARAM_WINDOW_MS = 2,
    /** The last sample is stale when it is older than this, ms, 0..86400000;
     *  default 5000. */
    DYNMEM_PRESSURE_PARAM_STALE_MS = 3,
    /** Lower clamp of the target, bytes, multiple of 2 MiB, 0..2^52;
     *  default 2 MiB. */
    DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES = 4,
    /** Upper clamp of the target, bytes, multiple of 2 MiB, 2 MiB..2^52;
     *  default 2^52. */
    DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES = 5
};

/**
 * Valid range of a setting.
 * @param param the setting
 * @param[out] min smallest accepted value
 * @param[out] max largest accepted value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (NULL output) or
 *         DYNMEM_ERR_NOT_FOUND (unknown setting)
 */
DYNMEM_API int dynmem_pressure_param_bounds(enum dynmem_pressure_param param,
                                            int64_t *min, int64_t *max);

/** Status of a VM's memory, as Hyper-V shows it. */
enum dynmem_pressure_status {
    /** assigned >= demand + buffer */
    DYNMEM_STATUS_OK = 0,
    /** demand <= assigned < demand + buffer, i.e. assigned x 100 <
     *  demand x (100 + buffer percent), compared exactly */
    DYNMEM_STATUS_LOW = 1,
    /** assigned < demand: the guest is probably paging */
    DYNMEM_STATUS_WARNING = 2
};

/** Bits of dynmem_pressure_report::flags. */
enum dynmem_pressure_report_flag {
    /** No sample yet: demand-derived fields are zero. */
    DYNMEM_REPORT_NO_DATA = 1u << 0,
    /** The last sample is older than the stale time (age_ms > stale time). */
    DYNMEM_REPORT_STALE = 1u << 1,
    /** The guest's cumulative swap-in or major-fault count rose between the
     *  last two samples that carried it, or the latest sample has PSI "some"
     *  avg10 above zero. A counter that goes down (guest reboot) restarts:
     *  that sample is a new baseline, not a rise. */
    DYNMEM_REPORT_DISTRESS = 1u << 2
};

/**
 * Everything an estimator derives, at one instant. Size-prefixed output: the
 * caller sets @c size; the library writes at most that many bytes.
 */
struct dynmem_pressure_report {
    /** sizeof(struct dynmem_pressure_report) as compiled by the caller. */
    uint32_t size;
    /** Bitwise OR of enum dynmem_pressure_report_flag. */
    uint32_t flags;
    /** Demand from the latest sample, bytes. */
    uint64_t demand_bytes;
    /** Target: demand x (1 + buffer/100) rounded up to 2 MiB, clamped. */
    uint64_t target_bytes;
    /** Current pressure, percent, demand x 100 / assigned rounded to
     *  nearest (halves up), saturated at UINT32_MAX. */
    uint32_t pressure;
    /** Time-weighted average pressure over the window, percent: each
     *  step's pressure rounded as above, weighted by its milliseconds in the
     *  window, the mean rounded to nearest (halves up). */
    uint32_t average_pressure;
    /** Lowest pressure over the window, percent. */
    uint32_t minimum_pressure;
    /** Highest pressure over the window, percent. */
    uint32_t maximum_pressure;
    /** enum dynmem_pressure_status for the assigned memory of the query. */
    uint32_t status;
    /** Must be zero (written as zero). */
    uint32_t reserved0;
    /** Demand trend over the window, bytes per second: the least-squares
     *  slope of demand against time over the samples inside the window,
     *  computed exactly in integers and rounded to nearest (halves away
     *  from zero); 0 with fewer than two samples. */
    int64_t trend_bytes_per_s;
    /** Milliseconds since the latest sample (0 if none). */
    uint64_t age_ms;
    /** Written as zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_pressure_report to receive a report. */
#define DYNMEM_PRESSURE_REPORT_INIT { .size = sizeof(struct dynmem_pressure_report) }

/**
 * Create an estimator with default settings.
 * @param[out] out the new estimator
 * @param alloc allocator hook, or NULL for libc
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NO_MEMORY or an
 *         allocator validation error (DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_STRUCT_RESERVED, DYNMEM_ERR_BAD_ALLOCATOR)
 */
DYNMEM_API int dynmem_pressure_new(dynmem_pressure **out, const struct dynmem_allocator *alloc);

/**
 * Destroy an estimator.
 * @param p the estimator; NULL is a no-op
 */
DYNMEM_API void dynmem_pressure_free(dynmem_pressure *p);

/**
 * Change a setting. Takes effect at the next query.
 * @param p the estimator
 * @param param the setting
 * @param value the new value, within dynmem_pressure_param_bounds()
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND (unknown
 *         setting), DYNMEM_ERR_OUT_OF_RANGE (value outside its bounds),
 *         DYNMEM_ERR_PRESSURE_UNALIGNED (a clamp that is not a 2 MiB
 *         multiple) or DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX (the minimum would
 *         exceed the maximum: raise the maximum first); the estimator is
 *         unchanged on error
 */
DYNMEM_API int dynmem_pressure_set_param(dynmem_pressure *p, enum dynmem_pressure_param param,
                                         int64_t value);

/**
 * Read a setting.
 * @param p the estimator
 * @param param the setting
 * @param[out] value its current value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_NOT_FOUND
 */
DYNMEM_API int dynmem_pressure_get_param(const dynmem_pressure *p,
                                         enum dynmem_pressure_param param, int64_t *value);

/**
 * Feed one sample. Samples must come in time order and not before the
 * latest query (equal times allowed: a sample replaces an earlier sample
 * with the same time). The estimator never allocates here once its ring
 * holds the window (see "Memory" above).
 *
 * Committed memory above the total is accepted: a guest can commit more
 * than it has (its page file backs the rest), and that is exactly when it
 * is in Warning.
 * @param p the estimator
 * @param sample the sample (size-prefixed)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_STRUCT_RESERVED (unknown flag bits, non-zero reserved
 *         fields), DYNMEM_ERR_PRESSURE_TIME_BACKWARDS,
 *         DYNMEM_ERR_OUT_OF_RANGE (a figure beyond 2^52 bytes, PSI above
 *         10000), DYNMEM_ERR_PRESSURE_INCONSISTENT (available above total)
 *         or DYNMEM_ERR_NO_MEMORY; the estimator is unchanged on error
 */
DYNMEM_API int dynmem_pressure_add_sample(dynmem_pressure *p,
                                          const struct dynmem_pressure_sample *sample);

/**
 * Derive demand, pressure, status, target and trend at time @p now_ms for a
 * VM that currently holds @p assigned_bytes, and record that figure in the
 * window history (which is why the estimator is not const). With no sample
 * yet the report has DYNMEM_REPORT_NO_DATA and every other field zero.
 * @param p the estimator
 * @param now_ms the current time; not before the latest sample or query
 * @param assigned_bytes memory the host assigns to the VM now (> 0)
 * @param[out] report the figures; its size field must be set
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (NULL, assigned 0),
 *         DYNMEM_ERR_STRUCT_SIZE, DYNMEM_ERR_PRESSURE_TIME_BACKWARDS,
 *         DYNMEM_ERR_OUT_OF_RANGE (assigned beyond 2^52) or
 *         DYNMEM_ERR_NO_MEMORY (the ring could not grow); the estimator and
 *         the report are unchanged on error
 */
DYNMEM_API int dynmem_pressure_query(dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                                     struct dynmem_pressure_report *report);

/**
 * Forget every sample (settings are kept), e.g. after a guest reboot.
 * Clears the detail of dynmem_pressure_last_error().
 * @param p the estimator; NULL is a no-op
 */
DYNMEM_API void dynmem_pressure_reset(dynmem_pressure *p);

/**
 * The detail of the estimator's latest refusal, in one line of English that
 * names the field or setting and the figures, e.g. "sample at 5000 ms: more
 * memory available than in total (committed 600 MiB, available 2048 MiB,
 * total 1024 MiB)", "sample at 4000 ms is older than the latest sample or
 * query, at 5000 ms", "query at 7000 ms: assigned memory 0",
 * "DYNMEM_PRESSURE_PARAM_WINDOW_MS 0 outside 1..86400000" or
 * "DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES: minimum 4096 MiB above maximum
 * 2048 MiB".
 *
 * Lifetime: as dynmem_balancer_last_error(): each call that takes the
 * estimator as a non-const handle (set_param, add_sample, query, reset)
 * clears the detail when it starts and sets it when it refuses, so the text
 * describes the latest such call, and is "" if that call succeeded or had
 * nothing to add to its error code (a NULL argument). Calls taking a const
 * handle leave it. A balancer's own estimators are fed through the balancer,
 * whose dynmem_balancer_last_error() says what it refused. It is kept in a
 * fixed array inside the handle: no allocation, no global or thread-local
 * state. Thread safety: as every call on the handle (one thread at a time).
 * @param p the estimator
 * @param[out] buf receives the text, cut to fit and NUL-terminated when
 *        @p len > 0; may be NULL when @p len is 0
 * @param len size of @p buf
 * @return the length of the full text (as snprintf: it was cut if this is
 *         >= len; 0 when there is no detail), or DYNMEM_ERR_INVALID_ARGUMENT
 *         (@p p NULL, or @p buf NULL with @p len > 0)
 */
DYNMEM_API int dynmem_pressure_last_error(const dynmem_pressure *p, char *buf, size_t len);

/**
 * The target for a demand, as a pure function: demand x (1 + buffer/100)
 * rounded up to 2 MiB, clamped to [minimum, maximum]. Computed exactly in
 * 64-bit integers: ceil(demand x (100 + buffer) / (100 x 2 MiB)) x 2 MiB.
 * @param demand_bytes demand, at most 2^52
 * @param buffer_percent buffer, 5..2000
 * @param minimum_bytes lower clamp, a multiple of 2 MiB, at most 2^52
 * @param maximum_bytes upper clamp, a multiple of 2 MiB, at most 2^52, >= minimum_bytes
 * @param[out] target_bytes the target
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (NULL output),
 *         DYNMEM_ERR_OUT_OF_RANGE (demand or a clamp beyond 2^52, buffer
 *         outside 5..2000), DYNMEM_ERR_PRESSURE_UNALIGNED (a clamp not a
 *         multiple of 2 MiB) or DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX
 */
DYNMEM_API int dynmem_pressure_target(uint64_t demand_bytes, uint32_t buffer_percent,
                                      uint64_t minimum_bytes, uint64_t maximum_bytes,
                                      uint64_t *target_bytes);

/** @} */

DYNMEM_END_DECLS

#endif /* DYNMEM_PRESSURE_H */
