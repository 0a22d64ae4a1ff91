/* The pressure estimator handle: settings, samples in, reports out. */
#include <inttypes.h>
#include <string.h>

#include "pressure_internal.h"
#include "pressure_handle.h"
#include "struct_abi.h"

/* The 1.0 size: a newer version appends fields after it (STYLE.md 6.5). */
#define REPORT_MIN_SIZE DYNMEM__END_OF(struct dynmem_pressure_report, reserved)

static const struct dynmem__pressure_settings default_settings = {
    .buffer_percent = 20,
    .window_ms = 60000,
    .stale_ms = 5000,
    .minimum_bytes = DYNMEM__TWO_MIB,
    .maximum_bytes = DYNMEM__BYTES_MAX,
};

/* Accepted range and name of each setting, indexed by enum dynmem_pressure_param. */
static const struct {
    int64_t min, max;
    const char *name;
} param_ranges[] = {
    [DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT] = {DYNMEM__BUFFER_PERCENT_MIN, DYNMEM__BUFFER_PERCENT_MAX,
                                              "DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT"},
    [DYNMEM_PRESSURE_PARAM_WINDOW_MS] = {1, (int64_t)DYNMEM__WINDOW_MS_MAX,
                                         "DYNMEM_PRESSURE_PARAM_WINDOW_MS"},
    [DYNMEM_PRESSURE_PARAM_STALE_MS] = {0, (int64_t)DYNMEM__WINDOW_MS_MAX,
                                        "DYNMEM_PRESSURE_PARAM_STALE_MS"},
    [DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES] = {0, (int64_t)DYNMEM__BYTES_MAX,
                                             "DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES"},
    [DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES] = {(int64_t)DYNMEM__TWO_MIB, (int64_t)DYNMEM__BYTES_MAX,
                                             "DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES"},
};

int dynmem_pressure_param_bounds(enum dynmem_pressure_param param, int64_t *min, int64_t *max)
{
    if (!min || !max)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    size_t i = (size_t)param;
    if (i == 0 || i >= sizeof param_ranges / sizeof param_ranges[0])
        return DYNMEM_ERR_NOT_FOUND;
    *min = param_ranges[i].min;
    *max = param_ranges[i].max;
    return DYNMEM_OK;
}

/* A handle with detail_len bytes of detail (DYNMEM__DETAIL_LEN or 0) at
 * its end; never less than the struct itself, whose size counts the
 * padding to its 64-byte alignment. */
static int pressure_create(dynmem_pressure **out, const struct dynmem_allocator *alloc,
                           uint16_t detail_len)
{
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    size_t size = offsetof(struct dynmem_pressure, detail) + detail_len;
    if (size < sizeof(struct dynmem_pressure))
        size = sizeof(struct dynmem_pressure);
    struct dynmem__alloc a;
    int rc;
    void *block;
    dynmem_pressure *p = dynmem__handle_alloc_aligned(alloc, size, 64, &a, &block, &rc);
    if (!p)
        return rc;
    p->alloc = a;
    p->block = block;
    p->detail_len = detail_len;
    p->settings = default_settings;
    if ((rc = dynmem__history_init(&p->history, &a))) {
        dynmem__free(&a, block);
        return rc;
    }
    *out = p;
    return DYNMEM_OK;
}

int dynmem_pressure_new(dynmem_pressure **out, const struct dynmem_allocator *alloc)
{
    return pressure_create(out, alloc, DYNMEM__DETAIL_LEN);
}

int dynmem__pressure_new_quiet(dynmem_pressure **out, const struct dynmem_allocator *alloc)
{
    return pressure_create(out, alloc, 0);
}

void dynmem_pressure_free(dynmem_pressure *p)
{
    if (!p)
        return;
    struct dynmem__alloc a = p->alloc;
    dynmem__history_release(&p->history, &a);
    dynmem__free(&a, p->block);
}

void dynmem_pressure_reset(dynmem_pressure *p)
{
    if (!p)
        return;
    pressure_detail_clear(p);
    dynmem__history_clear(&p->history);
    p->has_sample = false;
    p->sample_time_ms = 0;
    p->demand_bytes = 0;
    memset(&p->distress, 0, sizeof p->distress);
    memset(&p->distress_before_latest, 0, sizeof p->distress_before_latest);
    p->distressed = false;
}

/* Where each setting lives, as a 64-bit value (the buffer is converted). */
static int setting_get(const struct dynmem__pressure_settings *s, enum dynmem_pressure_param param,
                       int64_t *value)
{
    switch (param) {
    case DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT: *value = s->buffer_percent; break;
    case DYNMEM_PRESSURE_PARAM_WINDOW_MS: *value = (int64_t)s->window_ms; break;
    case DYNMEM_PRESSURE_PARAM_STALE_MS: *value = (int64_t)s->stale_ms; break;
    case DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES: *value = (int64_t)s->minimum_bytes; break;
    case DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES: *value = (int64_t)s->maximum_bytes; break;
    default: return DYNMEM_ERR_NOT_FOUND;
    }
    return DYNMEM_OK;
}

int dynmem_pressure_get_param(const dynmem_pressure *p, enum dynmem_pressure_param param,
                              int64_t *value)
{
    if (!p || !value)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return setting_get(&p->settings, param, value);
}

/* A clamp refused as a pair: which one, and the pair's figures. */
static int clamps_refused(dynmem_pressure *p, int rc, const char *name,
                          const struct dynmem__pressure_settings *s)
{
    char *detail = pressure_detail(p);
    if (rc == DYNMEM_ERR_PRESSURE_UNALIGNED)
        return dynmem__detail_set(detail, rc, "%s %" PRIu64 " is not a multiple of 2 MiB",
                                  name, s->minimum_bytes % DYNMEM__TWO_MIB ? s->minimum_bytes
                                                                             : s->maximum_bytes);
    if (rc == DYNMEM_ERR_PRESSURE_MIN_ABOVE_MAX)
        return dynmem__detail_set(detail, rc, "%s: minimum %s above maximum %s", name,
                                  dynmem__size_text(s->minimum_bytes).s,
                                  dynmem__size_text(s->maximum_bytes).s);
    return rc; /* above 4 PiB: the bounds check before it already says so */
}

int dynmem_pressure_set_param(dynmem_pressure *p, enum dynmem_pressure_param param, int64_t value)
{
    if (!p)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    pressure_detail_clear(p);
    char *detail = pressure_detail(p);
    int64_t lo, hi;
    int rc = dynmem_pressure_param_bounds(param, &lo, &hi);
    if (rc)
        return dynmem__detail_no_param(detail, "pressure setting", (int)param);
    const char *name = param_ranges[param].name;
    if (value < lo || value > hi)
        return dynmem__detail_bad_param(detail, DYNMEM_ERR_OUT_OF_RANGE, name, value, lo, hi);
    /* Edit a copy: the clamps are checked as a pair before anything changes. */
    struct dynmem__pressure_settings s = p->settings;
    uint64_t v = (uint64_t)value;
    switch (param) {
    case DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT: s.buffer_percent = (uint32_t)v; break;
    case DYNMEM_PRESSURE_PARAM_WINDOW_MS: s.window_ms = v; break;
    case DYNMEM_PRESSURE_PARAM_STALE_MS: s.stale_ms = v; break;
    case DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES: s.minimum_bytes = v; break;
    case DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES: s.maximum_bytes = v; break;
    }
    if ((rc = dynmem__clamps_check(s.minimum_bytes, s.maximum_bytes)))
        return clamps_refused(p, rc, name, &s);
    p->settings = s;
    return DYNMEM_OK;
}

/* A counter going down means the guest restarted and so did the counter:
 * the new value is a fresh baseline, not a rise. */
static void counter_update(struct dynmem__counter_track *c, uint64_t value)
{
    c->rose = c->known && value > c->value;
    c->value = value;
    c->known = true;
}

static bool distressed(const struct dynmem__distress *d)
{
    return d->swap_in.rose || d->major_faults.rose || d->psi_above_zero;
}

static void distress_update(struct dynmem__distress *d, const struct dynmem_pressure_sample *s)
{
    if (s->flags & DYNMEM_SAMPLE_HAS_SWAP_IN)
        counter_update(&d->swap_in, s->swap_in_bytes);
    if (s->flags & DYNMEM_SAMPLE_HAS_MAJOR_FAULTS)
        counter_update(&d->major_faults, s->major_faults);
    d->psi_above_zero = (s->flags & DYNMEM_SAMPLE_HAS_PSI) && s->psi_some_avg10 > 0;
}

/* A sample with the memory assigned at its time (known_assigned) or, for
 * callers of the public function, the last assignment a query recorded. */
static int add_sample(dynmem_pressure *p, const struct dynmem_pressure_sample *sample,
                      const uint64_t *known_assigned)
{
    if (!p)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__sample_check(sample);
    if (rc)
        return rc;
    if (known_assigned && (*known_assigned == 0 || *known_assigned > DYNMEM__BYTES_MAX))
        return DYNMEM_ERR_OUT_OF_RANGE;
    if (pressure_before_latest(p, sample->time_ms))
        return DYNMEM_ERR_PRESSURE_TIME_BACKWARDS;
    const struct dynmem__point *last = dynmem__history_last(&p->history);
    uint32_t has_assigned = known_assigned ? (uint32_t)DYNMEM__POINT_HAS_ASSIGNED
                            : last        ? last->flags & DYNMEM__POINT_HAS_ASSIGNED
                                          : 0u;
    struct dynmem__point pt = {
        .time_ms = sample->time_ms,
        .demand = DYNMEM__POINT_DEMAND(sample->committed_bytes),
        .assigned = known_assigned ? *known_assigned : last ? last->assigned : 0,
        .flags = DYNMEM__POINT_FLAGS(DYNMEM__POINT_HAS_DEMAND | DYNMEM__POINT_IS_SAMPLE |
                                     has_assigned),
    };
    if ((rc = dynmem__history_record(&p->history, &p->alloc, &pt, p->settings.window_ms)))
        return rc;
    if (p->has_sample && p->sample_time_ms == sample->time_ms)
        p->distress = p->distress_before_latest; /* replacing the latest sample */
    else
        p->distress_before_latest = p->distress;
    distress_update(&p->distress, sample);
    p->distressed = distressed(&p->distress);
    p->has_sample = true;
    p->sample_time_ms = sample->time_ms;
    p->demand_bytes = sample->committed_bytes;
    return DYNMEM_OK;
}

/* The time of the newest point, for a refusal that names it. */
static uint64_t latest_ms(const dynmem_pressure *p)
{
    const struct dynmem__point *last = dynmem__history_last(&p->history);
    return last ? last->time_ms : 0;
}

int dynmem_pressure_add_sample(dynmem_pressure *p, const struct dynmem_pressure_sample *sample)
{
    if (!p || !sample)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    pressure_detail_clear(p);
    int rc = add_sample(p, sample, NULL);
    if (rc)
        return dynmem__detail_bad_sample(pressure_detail(p), rc, sample,
                                         "the latest sample or query", latest_ms(p));
    return DYNMEM_OK;
}

int dynmem__pressure_add_sample_at(dynmem_pressure *p, const struct dynmem_pressure_sample *sample,
                                   uint64_t assigned_bytes)
{
    return add_sample(p, sample, &assigned_bytes);
}

static int query_check(const dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                       const struct dynmem_pressure_report *report)
{
    if (!p || !report || assigned_bytes == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__out_check(report, REPORT_MIN_SIZE);
    if (rc)
        return rc;
    return pressure_assigned_check(p, now_ms, assigned_bytes);
}

/* The figures over the window: average, minimum and maximum pressure and
 * the demand trend. This is the only part of a report that costs more than
 * a few instructions (it walks the window). */
static void window_fill(const dynmem_pressure *p, uint64_t now_ms, struct dynmem_pressure_report *r)
{
    struct dynmem__window_figures w;
    dynmem__history_window(&p->history, p->settings.window_ms, now_ms, &w);
    r->average_pressure = w.average;
    r->minimum_pressure = w.minimum;
    r->maximum_pressure = w.maximum;
    r->trend_bytes_per_s = w.trend_bytes_per_s;
}

/* Records the assigned memory at now_ms, keeping a sample at the same time. */
static int record_assigned(dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes)
{
    const struct dynmem__point *last = dynmem__history_last(&p->history);
    /* Nothing changed since the last point: both step functions go on as
     * they are, and the window counts the last step up to the query's time.
     * This keeps a VM that is queried every tick but stays put at O(1) cost
     * and its history short. */
    if (last && last->time_ms < now_ms && (last->flags & DYNMEM__POINT_HAS_ASSIGNED) &&
        last->assigned == assigned_bytes && p->has_sample &&
        (last->flags & DYNMEM__POINT_HAS_DEMAND) && last->demand == p->demand_bytes)
        return DYNMEM_OK;
    uint32_t sample_here =
        last && last->time_ms == now_ms ? last->flags & DYNMEM__POINT_IS_SAMPLE : 0u;
    struct dynmem__point pt = {
        .time_ms = now_ms,
        .demand = DYNMEM__POINT_DEMAND(p->demand_bytes),
        .assigned = assigned_bytes,
        .flags = DYNMEM__POINT_FLAGS(DYNMEM__POINT_HAS_ASSIGNED | sample_here |
                                     (p->has_sample ? (uint32_t)DYNMEM__POINT_HAS_DEMAND : 0u)),
    };
    return dynmem__history_record(&p->history, &p->alloc, &pt, p->settings.window_ms);
}

/* What a refused query was wrong in, with its figures. */
static int query_refused(dynmem_pressure *p, int rc, uint64_t now_ms, uint64_t assigned_bytes,
                         const struct dynmem_pressure_report *report)
{
    char *detail = pressure_detail(p);
    switch (rc) {
    case DYNMEM_ERR_INVALID_ARGUMENT:
        return dynmem__detail_set(detail, rc, "query at %" PRIu64 " ms: assigned memory 0",
                                  now_ms);
    case DYNMEM_ERR_STRUCT_SIZE:
        return dynmem__detail_set(detail, rc, "report size %" PRIu32 " is outside the "
                                  "%zu..%zu bytes this library writes (set it with "
                                  "DYNMEM_PRESSURE_REPORT_INIT)", report->size,
                                  (size_t)REPORT_MIN_SIZE, (size_t)DYNMEM__STRUCT_SIZE_MAX);
    case DYNMEM_ERR_OUT_OF_RANGE:
        return dynmem__detail_set(detail, rc, "query at %" PRIu64 " ms: assigned %" PRIu64
                                  " bytes is above the 4 PiB limit", now_ms, assigned_bytes);
    case DYNMEM_ERR_PRESSURE_TIME_BACKWARDS:
        return dynmem__detail_set(detail, rc, "query at %" PRIu64 " ms is older than the "
                                  "latest sample or query, at %" PRIu64 " ms", now_ms,
                                  latest_ms(p));
    case DYNMEM_ERR_NO_MEMORY:
        return dynmem__detail_set(detail, rc, "query at %" PRIu64 " ms: no memory for its "
                                  "history point (the allocator refused)", now_ms);
    default:
        return rc;
    }
}

int dynmem_pressure_query(dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                          struct dynmem_pressure_report *report)
{
    if (!p || !report)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    pressure_detail_clear(p);
    int rc = query_check(p, now_ms, assigned_bytes, report);
    if (!rc)
        rc = record_assigned(p, now_ms, assigned_bytes);
    if (rc)
        return query_refused(p, rc, now_ms, assigned_bytes, report);
    struct dynmem__observation o;
    pressure_observation_fill(p, now_ms, assigned_bytes, &o);
    struct dynmem_pressure_report r;
    memset(&r, 0, sizeof r);
    r.flags = o.flags;
    if (p->has_sample) {
        r.age_ms = now_ms - p->sample_time_ms;
        r.demand_bytes = o.demand_bytes;
        r.target_bytes = o.target_bytes;
        r.pressure = o.pressure;
        r.status = o.status;
        window_fill(p, now_ms, &r);
    }
    dynmem__out_store(report, &r, sizeof r);
    return DYNMEM_OK;
}

void dynmem__pressure_window(const dynmem_pressure *p, uint64_t now_ms,
                             struct dynmem_pressure_report *report)
{
    if (p->has_sample)
        window_fill(p, now_ms, report);
}

int dynmem_pressure_last_error(const dynmem_pressure *p, char *buf, size_t len)
{
    if (!p || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    return dynmem__detail_copy(pressure_detail_text(p), buf, len);
}
