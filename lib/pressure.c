/* The pressure estimator handle: settings, samples in, reports out. */
#include <stddef.h>
#include <string.h>

#include "pressure_internal.h"
#include "struct_abi.h"

#define REPORT_MIN_SIZE sizeof(struct dynmem_pressure_report)

/* A cumulative guest counter (swap-in bytes, major faults): did it rise
 * between the last two samples that carried it? */
struct counter_track {
    bool known;
    bool rose;
    uint64_t value;
};

struct distress {
    struct counter_track swap_in;
    struct counter_track major_faults;
    bool psi_above_zero;
};

struct settings {
    uint32_t buffer_percent;
    uint64_t window_ms;
    uint64_t stale_ms;
    uint64_t minimum_bytes;
    uint64_t maximum_bytes;
};

/* The handle starts on a cache line and its first two lines hold all a
 * balancer's tick reads and writes of it (settings, the latest sample,
 * the history's bookkeeping and newest point): the balancer asks
 * thousands of estimators a tick, each lines it has to fetch. */
#define HOT_LINES 2
struct dynmem_pressure {
    _Alignas(64) struct settings settings;
    bool has_sample;
    bool distressed; /* a report's DISTRESS flag, from `distress` */
    uint64_t sample_time_ms;
    uint64_t demand_bytes;
    struct dynmem__history history;
    struct distress distress;
    /* The distress state before the latest sample, so that a sample with
     * the same time can replace it. */
    struct distress distress_before_latest;
    struct dynmem__alloc alloc;
    void *block; /* what was allocated; the handle is inside it */
};

_Static_assert(offsetof(struct dynmem_pressure, history.newest) + sizeof(struct dynmem__point) <=
                   HOT_LINES * 64,
               "what a tick touches fits the first two lines");

static const struct settings default_settings = {
    .buffer_percent = 20,
    .window_ms = 60000,
    .stale_ms = 5000,
    .minimum_bytes = DYNMEM__TWO_MIB,
    .maximum_bytes = DYNMEM__BYTES_MAX,
};

/* Accepted range of each setting, indexed by enum dynmem_pressure_param. */
static const struct {
    int64_t min, max;
} param_ranges[] = {
    [DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT] = {DYNMEM__BUFFER_PERCENT_MIN, DYNMEM__BUFFER_PERCENT_MAX},
    [DYNMEM_PRESSURE_PARAM_WINDOW_MS] = {1, (int64_t)DYNMEM__WINDOW_MS_MAX},
    [DYNMEM_PRESSURE_PARAM_STALE_MS] = {0, (int64_t)DYNMEM__WINDOW_MS_MAX},
    [DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES] = {0, (int64_t)DYNMEM__BYTES_MAX},
    [DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES] = {(int64_t)DYNMEM__TWO_MIB, (int64_t)DYNMEM__BYTES_MAX},
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

int dynmem_pressure_new(dynmem_pressure **out, const struct dynmem_allocator *alloc)
{
    if (!out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    struct dynmem__alloc a;
    int rc;
    void *block;
    dynmem_pressure *p = dynmem__handle_alloc_aligned(alloc, sizeof *p, 64, &a, &block, &rc);
    if (!p)
        return rc;
    p->alloc = a;
    p->block = block;
    p->settings = default_settings;
    if ((rc = dynmem__history_init(&p->history, &a))) {
        dynmem__free(&a, block);
        return rc;
    }
    *out = p;
    return DYNMEM_OK;
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
    dynmem__history_clear(&p->history);
    p->has_sample = false;
    p->sample_time_ms = 0;
    p->demand_bytes = 0;
    memset(&p->distress, 0, sizeof p->distress);
    memset(&p->distress_before_latest, 0, sizeof p->distress_before_latest);
    p->distressed = false;
}

/* Where each setting lives, as a 64-bit value (the buffer is converted). */
static int setting_get(const struct settings *s, enum dynmem_pressure_param param, int64_t *value)
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

int dynmem_pressure_set_param(dynmem_pressure *p, enum dynmem_pressure_param param, int64_t value)
{
    if (!p)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int64_t lo, hi;
    int rc = dynmem_pressure_param_bounds(param, &lo, &hi);
    if (rc)
        return rc;
    if (value < lo || value > hi)
        return DYNMEM_ERR_OUT_OF_RANGE;
    /* Edit a copy: the clamps are checked as a pair before anything changes. */
    struct settings s = p->settings;
    uint64_t v = (uint64_t)value;
    switch (param) {
    case DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT: s.buffer_percent = (uint32_t)v; break;
    case DYNMEM_PRESSURE_PARAM_WINDOW_MS: s.window_ms = v; break;
    case DYNMEM_PRESSURE_PARAM_STALE_MS: s.stale_ms = v; break;
    case DYNMEM_PRESSURE_PARAM_MINIMUM_BYTES: s.minimum_bytes = v; break;
    case DYNMEM_PRESSURE_PARAM_MAXIMUM_BYTES: s.maximum_bytes = v; break;
    }
    if ((rc = dynmem__clamps_check(s.minimum_bytes, s.maximum_bytes)))
        return rc;
    p->settings = s;
    return DYNMEM_OK;
}

/* The time of the newest sample or query: nothing may come before it. */
static bool before_latest(const dynmem_pressure *p, uint64_t time_ms)
{
    const struct dynmem__point *last = dynmem__history_last(&p->history);
    return last && time_ms < last->time_ms;
}

/* A counter going down means the guest restarted and so did the counter:
 * the new value is a fresh baseline, not a rise. */
static void counter_update(struct counter_track *c, uint64_t value)
{
    c->rose = c->known && value > c->value;
    c->value = value;
    c->known = true;
}

static bool distressed(const struct distress *d)
{
    return d->swap_in.rose || d->major_faults.rose || d->psi_above_zero;
}

static void distress_update(struct distress *d, const struct dynmem_pressure_sample *s)
{
    if (s->flags & DYNMEM_SAMPLE_HAS_SWAP_IN)
        counter_update(&d->swap_in, s->swap_in_bytes);
    if (s->flags & DYNMEM_SAMPLE_HAS_MAJOR_FAULTS)
        counter_update(&d->major_faults, s->major_faults);
    d->psi_above_zero = (s->flags & DYNMEM_SAMPLE_HAS_PSI) && s->psi_some_avg10 > 0;
}

int dynmem_pressure_add_sample(dynmem_pressure *p, const struct dynmem_pressure_sample *sample)
{
    if (!p)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__sample_check(sample);
    if (rc)
        return rc;
    if (before_latest(p, sample->time_ms))
        return DYNMEM_ERR_PRESSURE_TIME_BACKWARDS;
    const struct dynmem__point *last = dynmem__history_last(&p->history);
    struct dynmem__point pt = {
        .time_ms = sample->time_ms,
        .demand = sample->committed_bytes,
        .assigned = last ? last->assigned : 0,
        .flags = DYNMEM__POINT_HAS_DEMAND | DYNMEM__POINT_IS_SAMPLE |
                 (last ? last->flags & DYNMEM__POINT_HAS_ASSIGNED : 0u),
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

/* What every query checks of its time and assigned memory. */
static int assigned_check(const dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes)
{
    if (assigned_bytes == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (assigned_bytes > DYNMEM__BYTES_MAX)
        return DYNMEM_ERR_OUT_OF_RANGE;
    if (before_latest(p, now_ms))
        return DYNMEM_ERR_PRESSURE_TIME_BACKWARDS;
    return DYNMEM_OK;
}

static int query_check(const dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                       const struct dynmem_pressure_report *report)
{
    if (!p || !report || assigned_bytes == 0)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    if (report->size < REPORT_MIN_SIZE || report->size > DYNMEM__STRUCT_SIZE_MAX)
        return DYNMEM_ERR_STRUCT_SIZE;
    return assigned_check(p, now_ms, assigned_bytes);
}

/* Records the assigned memory at now_ms, keeping a sample at the same time;
 * `later`: the point may stay pending (see struct dynmem__history). */
static int record_assigned(dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes, bool later)
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
    uint32_t sample_here = last && last->time_ms == now_ms ? last->flags & DYNMEM__POINT_IS_SAMPLE : 0u;
    struct dynmem__point pt = {
        .time_ms = now_ms,
        .demand = p->demand_bytes,
        .assigned = assigned_bytes,
        .flags = DYNMEM__POINT_HAS_ASSIGNED | sample_here |
                 (p->has_sample ? (uint32_t)DYNMEM__POINT_HAS_DEMAND : 0u),
    };
    if (later)
        return dynmem__history_record_later(&p->history, &p->alloc, &pt, p->settings.window_ms);
    return dynmem__history_record(&p->history, &p->alloc, &pt, p->settings.window_ms);
}

static uint32_t report_flags(const dynmem_pressure *p, uint64_t age_ms)
{
    uint32_t flags = 0;
    if (age_ms > p->settings.stale_ms)
        flags |= DYNMEM_REPORT_STALE;
    if (p->distressed)
        flags |= DYNMEM_REPORT_DISTRESS;
    return flags;
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

/* The current figures: all zero but NO_DATA without a sample. */
static void observation_fill(const dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                             struct dynmem__observation *o)
{
    const struct settings *s = &p->settings;
    *o = (struct dynmem__observation){.flags = DYNMEM_REPORT_NO_DATA};
    if (!p->has_sample)
        return;
    o->flags = report_flags(p, now_ms - p->sample_time_ms);
    o->demand_bytes = p->demand_bytes;
    /* Settings were checked when set. */
    o->target_bytes = dynmem__pressure_target(p->demand_bytes, s->buffer_percent, s->minimum_bytes,
                                              s->maximum_bytes);
    o->pressure = dynmem__pressure_percent(p->demand_bytes, assigned_bytes);
    o->status = (uint32_t)dynmem__pressure_status(p->demand_bytes, assigned_bytes, s->buffer_percent);
}

int dynmem_pressure_query(dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                          struct dynmem_pressure_report *report)
{
    int rc = query_check(p, now_ms, assigned_bytes, report);
    if (rc)
        return rc;
    if ((rc = record_assigned(p, now_ms, assigned_bytes, false)))
        return rc;
    struct dynmem__observation o;
    observation_fill(p, now_ms, assigned_bytes, &o);
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
    r.size = report->size;
    memcpy(report, &r, sizeof r);
    return DYNMEM_OK;
}

int dynmem__pressure_observe(dynmem_pressure *p, uint64_t now_ms, uint64_t assigned_bytes,
                             struct dynmem__observation *obs)
{
    int rc = assigned_check(p, now_ms, assigned_bytes);
    if (rc == DYNMEM_OK)
        rc = record_assigned(p, now_ms, assigned_bytes, true);
    if (rc)
        return rc;
    observation_fill(p, now_ms, assigned_bytes, obs);
    return DYNMEM_OK;
}

void dynmem__pressure_window(const dynmem_pressure *p, uint64_t now_ms,
                             struct dynmem_pressure_report *report)
{
    if (p->has_sample)
        window_fill(p, now_ms, report);
}

void dynmem__pressure_prefetch(const dynmem_pressure *p)
{
#if defined(__GNUC__)
    for (unsigned l = 0; l < HOT_LINES; l++)
        __builtin_prefetch((const char *)p + l * 64);
#else
    (void)p;
#endif
}

void dynmem__pressure_prefetch_trend(const dynmem_pressure *p, uint64_t previous_demand)
{
#if defined(__GNUC__)
    const struct dynmem__history *h = &p->history;
    if (h->count && p->has_sample && p->demand_bytes > previous_demand) {
        /* The walk starts at the ring's newest point; a pending point
         * that follows it needs the oldest two (expired_points). */
        __builtin_prefetch(&h->ring[(h->head + h->count - 1) & (h->capacity - 1)]);
        __builtin_prefetch(&h->ring[(h->head + 1) & (h->capacity - 1)]);
    }
#else
    (void)p, (void)previous_demand;
#endif
}

int64_t dynmem__pressure_recent_trend(const dynmem_pressure *p, uint64_t now_ms, uint64_t horizon_ms)
{
    if (!p->has_sample)
        return 0;
    return dynmem__history_trend(&p->history, now_ms > horizon_ms ? now_ms - horizon_ms : 0);
}
