/* Seeded property test: random sample and query streams checked against a
 * brute-force model that evaluates pressure millisecond by millisecond. */
#include <stdlib.h>

#include "pressure_helpers.h"
#include "testscale.h"

#define EVENTS 300
#define MAX_STEP_MS 3000
#define UNKNOWN UINT64_MAX

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t between(uint64_t *rng, uint64_t lo, uint64_t hi)
{
    return lo + splitmix64(rng) % (hi - lo + 1);
}

/* Demand and assigned for every millisecond, filled as time advances. */
struct model {
    uint64_t *demand, *assigned;
    uint64_t filled; /* [0, filled) is known */
    uint64_t cur_demand, cur_assigned;
    uint64_t sample_t[EVENTS], sample_d[EVENTS];
    int samples;
};

static void advance(struct model *m, uint64_t t)
{
    for (; m->filled < t; m->filled++) {
        m->demand[m->filled] = m->cur_demand;
        m->assigned[m->filled] = m->cur_assigned;
    }
}

static uint32_t percent(uint64_t d, uint64_t a)
{
    return (uint32_t)((d * 100 + a / 2) / a);
}

static void check_window(const struct model *m, uint64_t now, uint64_t window,
                         const struct dynmem_pressure_report *r)
{
    uint64_t start = now > window ? now - window : 0, area = 0, weight = 0;
    uint32_t lo = r->pressure, hi = r->pressure;
    for (uint64_t t = start; t < now; t++) {
        if (m->demand[t] == UNKNOWN || m->assigned[t] == UNKNOWN)
            continue;
        uint32_t p = percent(m->demand[t], m->assigned[t]);
        area += p, weight++;
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
    }
    uint32_t avg = weight ? (uint32_t)((area + weight / 2) / weight) : r->pressure;
    cr_assert_eq(r->average_pressure, avg, "average at %llu", (unsigned long long)now);
    cr_assert_eq(r->minimum_pressure, lo);
    cr_assert_eq(r->maximum_pressure, hi);
    cr_assert(lo <= r->average_pressure && r->average_pressure <= hi);
    cr_assert(lo <= r->pressure && r->pressure <= hi);
}

/* Least squares in long double: the exact integer result must be within
 * rounding of it. */
static void check_trend(const struct model *m, uint64_t now, uint64_t window,
                        const struct dynmem_pressure_report *r)
{
    uint64_t start = now > window ? now - window : 0;
    long double n = 0, st = 0, sd = 0, stt = 0, std_ = 0;
    for (int i = 0; i < m->samples; i++) {
        if (m->sample_t[i] < start)
            continue;
        long double t = (long double)(m->sample_t[i] - start) / 1000, d = (long double)m->sample_d[i];
        n++, st += t, sd += d, stt += t * t, std_ += t * d;
    }
    long double spread = n * stt - st * st;
    long double slope = (n < 2 || spread == 0) ? 0 : (n * std_ - st * sd) / spread;
    long double err = (long double)r->trend_bytes_per_s - slope;
    long double tolerance = 1 + (slope < 0 ? -slope : slope) * 1e-9L;
    cr_assert(err <= tolerance && err >= -tolerance,
              "trend %lld vs %Lf", (long long)r->trend_bytes_per_s, slope);
}

static void check_status_and_target(uint64_t demand, uint64_t assigned, uint32_t buffer,
                                    const struct dynmem_pressure_report *r)
{
    uint32_t want = assigned < demand ? DYNMEM_STATUS_WARNING
                    : (assigned - demand) * 100 < demand * buffer ? DYNMEM_STATUS_LOW
                                                                   : DYNMEM_STATUS_OK;
    cr_assert_eq(r->status, want, "status for %llu on %llu", (unsigned long long)demand,
                 (unsigned long long)assigned);
    uint64_t t = r->target_bytes, two = 2 * MIB, need = demand * (100 + buffer);
    cr_assert_eq(t % two, 0);
    cr_assert(t >= two, "default minimum is 2 MiB");
    if (t > two)
        cr_assert((t - two) * 100 < need, "target is the smallest 2 MiB multiple");
    cr_assert(t * 100 >= need);
}

/* The model's "sample" side; a sample at an existing time replaces it. */
static void model_sample(struct model *m, uint64_t t, uint64_t d)
{
    advance(m, t);
    m->cur_demand = d;
    if (m->samples && m->sample_t[m->samples - 1] == t)
        m->samples--;
    m->sample_t[m->samples] = t, m->sample_d[m->samples] = d, m->samples++;
}

static void run(uint64_t seed)
{
    uint64_t rng = seed;
    uint64_t window = between(&rng, 1000, 20000);
    uint32_t buffer = (uint32_t)between(&rng, 5, 2000);
    struct model m = {.cur_demand = UNKNOWN, .cur_assigned = UNKNOWN};
    m.demand = malloc(EVENTS * MAX_STEP_MS * sizeof *m.demand);
    m.assigned = malloc(EVENTS * MAX_STEP_MS * sizeof *m.assigned);
    cr_assert(m.demand && m.assigned);
    dynmem_pressure *p = estimator_new();
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_WINDOW_MS, (int64_t)window), 0);
    cr_assert_eq(dynmem_pressure_set_param(p, DYNMEM_PRESSURE_PARAM_BUFFER_PERCENT, buffer), 0);
    uint64_t now = between(&rng, 0, 5000);
    for (int i = 0; i < EVENTS; i++) {
        now += between(&rng, 0, 4) ? between(&rng, 1, MAX_STEP_MS - 1) : 0;
        if (between(&rng, 0, 1)) {
            uint64_t d = between(&rng, 0, 8 * GIB);
            feed(p, now, d);
            model_sample(&m, now, d);
            continue;
        }
        uint64_t a = between(&rng, 1, 8 * GIB);
        struct dynmem_pressure_report r = query(p, now, a);
        advance(&m, now);
        m.cur_assigned = a;
        if (m.cur_demand == UNKNOWN) {
            cr_assert_eq(r.flags, DYNMEM_REPORT_NO_DATA);
            continue;
        }
        cr_assert_eq(r.pressure, percent(m.cur_demand, a));
        check_window(&m, now, window, &r);
        check_trend(&m, now, window, &r);
        check_status_and_target(m.cur_demand, a, buffer, &r);
    }
    dynmem_pressure_free(p);
    free(m.demand);
    free(m.assigned);
}

Test(property, random_streams_agree_with_brute_force)
{
    for (uint64_t seed = 1; seed <= (uint64_t)test_scaled(40); seed++)
        run(seed * 7919);
}
