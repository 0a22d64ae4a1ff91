/* Demand models: constant steps, ramps, periodic waves, seeded random bursts
 * and CSV traces. A VM's demand is a list of pieces, each holding from its
 * start time until the next piece starts. */
#include "sim.h"

#include <math.h>
#include <stdlib.h>

#define PI 3.14159265358979323846

/* splitmix64: a small seeded generator, so a scenario replays exactly. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Exponentially distributed with the given mean, at least 1 ms. */
static uint64_t rng_exp(uint64_t *state, uint64_t mean)
{
    double u = ((double)(rng_next(state) >> 11) + 0.5) / 9007199254740992.0;
    double v = -log(u) * (double)mean;
    return v < 1 ? 1 : (uint64_t)v;
}

int sim_bursts_generate(struct sim_piece *p, uint64_t seed, uint64_t mean_gap_ms,
                        uint64_t mean_len_ms, uint64_t until_ms)
{
    uint64_t state = seed, t = p->from_ms;
    size_t cap = 0;
    for (;;) {
        t += rng_exp(&state, mean_gap_ms);
        if (t >= until_ms)
            return 0;
        uint64_t len = rng_exp(&state, mean_len_ms);
        if (p->n_bursts == cap) {
            cap = cap ? cap * 2 : 16;
            struct sim_burst *nb = realloc(p->bursts, cap * sizeof *nb);
            if (!nb)
                return -1;
            p->bursts = nb;
        }
        p->bursts[p->n_bursts++] = (struct sim_burst){t, t + len};
        t += len;
    }
}

/* Index of the last entry <= t in a sorted array, or -1. */
static long last_at_or_before(const uint64_t *ts, size_t n, uint64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ts[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

static double piece_mib(const struct sim_piece *p, uint64_t t)
{
    uint64_t dt = t - p->from_ms;
    switch (p->type) {
    case PIECE_CONST:
        return p->mib;
    case PIECE_RAMP:
        if (dt >= p->duration_ms)
            return p->to_mib;
        return p->mib + (p->to_mib - p->mib) * (double)dt / (double)p->duration_ms;
    case PIECE_PERIODIC:
        return p->mib + p->amplitude_mib *
                            sin(2 * PI * (double)((t + p->phase_ms) % p->period_ms) /
                                (double)p->period_ms);
    case PIECE_BURSTS: {
        size_t lo = 0, hi = p->n_bursts;
        while (lo < hi) { /* first burst ending after t */
            size_t mid = (lo + hi) / 2;
            if (p->bursts[mid].to_ms <= t)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < p->n_bursts && p->bursts[lo].from_ms <= t ? p->burst_mib : p->mib;
    }
    case PIECE_TRACE: {
        long i = last_at_or_before(p->trace_t, p->n_trace, t);
        return i < 0 ? p->trace_mib[0] : p->trace_mib[i];
    }
    }
    return 0;
}

uint64_t sim_demand_at(const struct sim_demand *d, uint64_t t_ms)
{
    const struct sim_piece *cur = NULL;
    for (size_t i = 0; i < d->n && d->pieces[i].from_ms <= t_ms; i++)
        cur = &d->pieces[i];
    if (!cur)
        return 0;
    double mib = piece_mib(cur, t_ms);
    if (mib <= 0)
        return 0;
    return (uint64_t)(mib * (double)SIM_MIB) & ~UINT64_C(4095);
}

uint64_t sim_demand_peak(const struct sim_demand *d, uint64_t until_ms, uint64_t step_ms)
{
    uint64_t peak = 0;
    for (uint64_t t = 0; t <= until_ms; t += step_ms) {
        uint64_t v = sim_demand_at(d, t);
        if (v > peak)
            peak = v;
    }
    return peak;
}

void sim_demand_free(struct sim_demand *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->pieces[i].bursts);
        free(d->pieces[i].trace_t);
        free(d->pieces[i].trace_mib);
    }
    free(d->pieces);
    d->pieces = NULL;
    d->n = 0;
}
