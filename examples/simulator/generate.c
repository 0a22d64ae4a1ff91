/* Seeded fleets (--generate, --quality): a scenario written as the JSON a
 * user would write, so that a generated fleet can be saved, read and run
 * like any other. The same parameters give the same text.
 *
 * Each VM draws a size class, a guest kind and a workload shape; its demand
 * levels are fractions of its maximum, so the fleet's pressure comes from
 * the host size alone: host = fraction x (sum of maxima). Demand never
 * exceeds the maximum (a VM sized too small is a configuration matter, not
 * a balancing one). Shapes:
 * - periodic: a daily-like wave (period 1 to 4 h) around 25-55 % of the
 *   maximum, amplitude up to the mean;
 * - bursty: idle at 10-30 % with bursts to 55-100 % (mean gap 20-90 min,
 *   mean length 2-20 min), the bursts seeded like any scenario's;
 * - ramp: a slow climb from 15-30 % to 60-100 % over most of the run,
 *   then a drop back (a leak and its restart, a batch that grows);
 * - step: three to six levels held for random stretches;
 * - idle: a constant 10-25 %.
 * Kinds: linux, windows, hot-remove and no-driver guests. Starts are 15 s
 * apart and refused starts are retried, so a host too small for the whole
 * list shows as waiting VMs (deficit), not as a shorter fleet. */
#include "sim.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static int pick(uint64_t *s, int n)
{
    return (int)(rng_next(s) % (uint64_t)n);
}

/* A MiB figure as JSON, whole MiB. */
static json_t *mib(double x)
{
    return json_integer((json_int_t)floor(x < 0 ? 0 : x));
}

static json_t *piece(const char *type, double from_s)
{
    json_t *p = json_object();
    if (type)
        json_object_set_new(p, "type", json_string(type));
    if (from_s > 0)
        json_object_set_new(p, "from_s", json_integer((json_int_t)from_s));
    return p;
}

/* One piece as a whole demand list. */
static json_t *alone(json_t *p)
{
    json_t *a = json_array();
    json_array_append_new(a, p);
    return a;
}

static json_t *seconds(uint64_t *s, double lo, double hi)
{
    return json_integer((json_int_t)uniform(s, lo, hi));
}

static json_t *demand_periodic(uint64_t *s, double max, double dur)
{
    (void)dur;
    json_t *p = piece("periodic", 0);
    double mean = uniform(s, 0.25, 0.55) * max, amplitude = uniform(s, 0.3, 1.0) * mean;
    json_object_set_new(p, "mib", mib(mean));
    json_object_set_new(p, "amplitude_mib", mib(amplitude < max - mean ? amplitude : max - mean));
    json_object_set_new(p, "period_s", seconds(s, 3600, 14400));
    json_object_set_new(p, "phase_s", seconds(s, 0, 14400));
    return alone(p);
}

static json_t *demand_bursty(uint64_t *s, double max, double dur)
{
    (void)dur;
    json_t *p = piece("bursts", 0);
    json_object_set_new(p, "mib", mib(uniform(s, 0.10, 0.30) * max));
    json_object_set_new(p, "burst_mib", mib(uniform(s, 0.55, 1.0) * max));
    json_object_set_new(p, "mean_gap_s", seconds(s, 1200, 5400));
    json_object_set_new(p, "mean_length_s", seconds(s, 120, 1200));
    return alone(p);
}

static json_t *demand_ramp(uint64_t *s, double max, double dur)
{
    /* The climb starts after the first minute, so that its piece never
     * shares its start with the opening one. */
    double low = uniform(s, 0.15, 0.30) * max, start = 60 + uniform(s, 0, 0.2) * dur;
    double over = uniform(s, 0.4, 0.75) * dur;
    json_t *a = json_array(), *c = piece(NULL, 0), *r = piece("ramp", start);
    json_object_set_new(c, "mib", mib(low));
    json_object_set_new(r, "mib", mib(low));
    json_object_set_new(r, "to_mib", mib(uniform(s, 0.60, 1.00) * max));
    json_object_set_new(r, "over_s", json_integer((json_int_t)over));
    json_array_append_new(a, c);
    json_array_append_new(a, r);
    double drop = start + over + uniform(s, 0.02, 0.2) * dur;
    if (drop < dur) {
        json_t *d = piece(NULL, drop);
        json_object_set_new(d, "mib", mib(low));
        json_array_append_new(a, d);
    }
    return a;
}

static json_t *demand_step(uint64_t *s, double max, double dur)
{
    json_t *a = json_array();
    int steps = 3 + pick(s, 4);
    double t = 0;
    for (int k = 0; k < steps && t < dur; k++) {
        json_t *c = piece(NULL, t);
        json_object_set_new(c, "mib", mib(uniform(s, 0.10, 0.90) * max));
        json_array_append_new(a, c);
        t += uniform(s, 0.5, 1.5) * dur / steps;
    }
    return a;
}

static json_t *demand_idle(uint64_t *s, double max, double dur)
{
    (void)dur;
    return mib(uniform(s, 0.10, 0.25) * max);
}

static json_t *one_vm(uint64_t *s, int i, double dur, double *max_out)
{
    static const int maxima[] = {2048, 4096, 4096, 6144, 8192};
    static const char *const kinds[] = {"linux", "linux", "linux", "linux", "windows",
                                        "windows", "hot-remove", "hot-remove", "no-driver"};
    json_t *(*const shapes[])(uint64_t *, double, double) = {
        demand_periodic, demand_periodic, demand_bursty, demand_bursty, demand_ramp,
        demand_step, demand_idle};
    double max = maxima[pick(s, 5)];
    double startup = max / (pick(s, 2) ? 2 : 4), minimum = pick(s, 2) ? 512 : startup / 2;
    const char *kind = kinds[pick(s, 9)];
    int shape = pick(s, 7);
    json_t *vm = json_object();
    char name[16];
    snprintf(name, sizeof name, "vm%03d", i + 1);
    json_object_set_new(vm, "name", json_string(name));
    json_object_set_new(vm, "kind", json_string(kind));
    json_object_set_new(vm, "startup_mib", mib(startup));
    json_object_set_new(vm, "minimum_mib", mib(minimum < 512 ? 512 : minimum));
    json_object_set_new(vm, "maximum_mib", mib(max));
    static const int weights[] = {5000, 5000, 5000, 2000, 8000};
    static const int buffers[] = {20, 20, 20, 10, 50};
    json_object_set_new(vm, "weight", json_integer(weights[pick(s, 5)]));
    json_object_set_new(vm, "buffer_percent", json_integer(buffers[pick(s, 5)]));
    if (!pick(s, 4))
        json_object_set_new(vm, "hot_add_alignment_mib", json_integer(128));
    json_object_set_new(vm, "start_s", json_integer(15 * i));
    /* A guest without a driver reports nothing: its demand is for the
     * metrics only, and it is held at startup memory. */
    json_object_set_new(vm, "demand", strcmp(kind, "no-driver") ? shapes[shape](s, max, dur)
                                                               : demand_idle(s, max, dur));
    *max_out = max;
    return vm;
}

char *sim_generate(const struct sim_gen *g)
{
    uint64_t s = g->seed * 0x2545F4914F6CDD1Du + 1;
    double dur = g->hours * 3600.0, sum_max = 0;
    json_t *root = json_object(), *vms = json_array();
    char name[64], desc[256];
    snprintf(name, sizeof name, "gen-%llu", (unsigned long long)g->seed);
    snprintf(desc, sizeof desc,
             "generated by dynmem-sim --generate %llu: %d VMs, %.2f h, host %.0f %% of the sum "
             "of maxima", (unsigned long long)g->seed, g->vms, g->hours, 100.0 * g->host_fraction);
    json_object_set_new(root, "name", json_string(name));
    json_object_set_new(root, "description", json_string(desc));
    json_object_set_new(root, "seed", json_integer((json_int_t)(g->seed & 0x7fffffff)));
    json_object_set_new(root, "duration_s", json_integer((json_int_t)dur));
    json_object_set_new(root, "retry_refused_starts", json_true());
    for (int i = 0; i < g->vms; i++) {
        double max;
        json_array_append_new(vms, one_vm(&s, i, dur, &max));
        sum_max += max;
    }
    json_t *host = json_object();
    double host_mib = floor(g->host_fraction * sum_max / 2) * 2;
    json_object_set_new(host, "memory_mib", mib(host_mib < 2048 ? 2048 : host_mib));
    json_object_set_new(root, "host", host);
    json_object_set_new(root, "vms", vms);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text; /* free() it */
}
