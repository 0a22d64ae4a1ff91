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

#include <stdlib.h>

uint64_t sim_effective_reserve(const struct sim_scenario *sc)
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

double sim_limit_deficit(const struct sim_scenario *sc, uint64_t duration_ms)
{
    uint64_t end = duration_ms ? duration_ms : sc->duration_ms;
    uint64_t reserve = sim_effective_reserve(sc);
    double cap = sc->host_bytes > reserve ? (double)(sc->host_bytes - reserve) : 0;
    bool *present = calloc((size_t)sc->n_vms, sizeof *present);
    if (!present)
        return -1;
    double total = 0, mib = (double)SIM_MIB;
    int next = 0;
    for (uint64_t t = 0; t < end; t += sc->tick_ms) {
        for (; next < sc->n_events && sc->events[next].at_ms <= t; next++) {
            const struct sim_event *ev = &sc->events[next];
            if (ev->type == EV_START || ev->type == EV_RESTART)
                present[ev->vm] = true;
            else if (ev->type == EV_STOP)
                present[ev->vm] = false;
        }
        double over = 0, held = 0;
        for (int i = 0; i < sc->n_vms; i++) {
            if (!present[i])
                continue;
            const struct dynmem_vm_config *c = &sc->vms[i].config;
            double d = (double)sim_demand_at(&sc->vms[i].demand, t);
            double lo = (double)c->minimum_bytes, hi = (double)c->maximum_bytes;
            if (sc->vms[i].kind == KIND_NO_DRIVER) /* nothing can move its memory */
                lo = hi = (double)c->startup_bytes;
            over += d > hi ? d - hi : 0;
            held += d < lo ? lo : d > hi ? hi : d;
        }
        double dt = (double)(t + sc->tick_ms <= end ? sc->tick_ms : end - t) / 1000.0;
        total += (over + (held > cap ? held - cap : 0)) / mib * dt;
    }
    free(present);
    return total;
}
