/* The physically possible: the deficit no policy can avoid on a scenario.
 * At each tick, with d a VM's true demand, every VM that the scenario has
 * started (and not stopped) holds at least its minimum and at most its
 * maximum, and all of them together at most the host's memory less its
 * reserve:
 *
 *   limit(t) = sum (d - maximum)+  +  ( sum clamp(d, minimum, maximum) - (host - reserve) )+
 *
 * A guest without a driver cannot be moved from its startup memory at
 * all, so for it minimum = maximum = startup. A policy that knew every
 * demand in advance and moved memory instantly would reach it; no policy
 * can do better. It counts no start waiting for
 * memory (the VMs are taken as running from their start), so it is a lower
 * bound for every policy's deficit, not the deficit of one schedule. */
#include "sim.h"

/* The host reserve the library applies to the scenario's host. */
static uint64_t effective_reserve(const struct sim_scenario *sc)
{
    dynmem_balancer *b = NULL;
    int64_t reserve = 0;
    if (dynmem_balancer_new(&b, NULL) ||
        dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                  (int64_t)sc->host_bytes) ||
        (sc->reserve_bytes >= 0 &&
         dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES,
                                   sc->reserve_bytes)) ||
        dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &reserve))
        reserve = 0;
    dynmem_balancer_free(b);
    return (uint64_t)reserve;
}

double sim_host_cap(const struct sim_scenario *sc)
{
    uint64_t reserve = effective_reserve(sc);
    return sc->host_bytes > reserve ? (double)(sc->host_bytes - reserve) : 0;
}

struct sim_range sim_vm_range(const struct dynmem_vm_config *c, enum sim_kind kind)
{
    if (kind == KIND_NO_DRIVER) /* nothing can move its memory */
        return (struct sim_range){c->startup_bytes, c->startup_bytes};
    return (struct sim_range){c->minimum_bytes, c->maximum_bytes};
}

double sim_limit_deficit(const struct sim_scenario *sc, uint64_t duration_ms)
{
    double cap = sim_host_cap(sc);
    struct sim_presence walk;
    if (sim_presence_init(&walk, sc, duration_ms))
        return -1;
    double total = 0, mib = (double)SIM_MIB;
    while (sim_presence_next(&walk)) {
        double over = 0, held = 0;
        for (int i = 0; i < sc->n_vms; i++) {
            if (!walk.present[i])
                continue;
            struct sim_range r = walk.range[i];
            double d = (double)sim_demand_at(&sc->vms[i].demand, walk.t_ms);
            double lo = (double)r.lo, hi = (double)r.hi;
            over += d > hi ? d - hi : 0;
            held += d < lo ? lo : d > hi ? hi : d;
        }
        total += (over + (held > cap ? held - cap : 0)) / mib * walk.dt_s;
    }
    sim_presence_fini(&walk);
    return total;
}
