/* The density no policy can exceed: the longest prefix of a scenario's VM
 * list whose unavoidable deficit time stays within what a density probe
 * allows (SIM_DENSITY_DEFICIT_PCT of its VM-seconds), worked out from the
 * demand traces alone.
 *
 * A probe's deficit time is the VM-ticks in which a running or waiting VM
 * holds less than its demand (assigned < demand; a VM waiting for a
 * refused start holds nothing), over the VM-seconds it is running or
 * waiting. A VM runs or waits only while the scenario has started it and
 * not stopped it, so those "present" VM-seconds bound the denominator from
 * above. The numerator is bounded from below, tick by tick, by VMs that
 * must be short whatever the policy:
 *
 * (a) certainly short: a VM whose demand is above its maximum (for a guest
 *     without a driver, above its startup memory: nothing moves it), and a
 *     VM in the first status_delay of its latest start whose demand is
 *     above its startup memory. A guest reports first status_delay after
 *     it boots, and until then it holds its startup memory (no policy moves
 *     a VM it knows nothing about); a VM that waits for its start holds
 *     nothing. Counting from the scheduled start is a lower bound for a VM
 *     that starts late: it is short while it waits, then blind as long.
 * (b) the least number of the other present VMs that must be short: each
 *     that is not short holds at least c = clamp(demand, minimum, maximum)
 *     (the clamping of the deficit limit in limit.c), and all of them
 *     together at most what the host holds above its reserve, cap. So the
 *     short ones must account for E = sum c - cap, and one of them accounts
 *     for at most its own c (what it would hold; a VM kept waiting for its
 *     start holds nothing, so even its minimum can go): at least the
 *     smallest k whose k largest c reach E. The VMs of (a) are left out of
 *     both sums, as if they held nothing, which only lowers k.
 *
 * Deficit time of any policy >= sum over ticks of (a + k) x dt / present
 * VM-seconds, prefix by prefix; a prefix above the allowance cannot fit,
 * so the density a search finds (a prefix that fit) is at most the longest
 * prefix within it. Static sizing is the exception: it gives each VM its
 * peak as its whole range, so a minimum above the peak does not hold for
 * it; it is a different fleet, and its density is not bounded here (it is
 * far below in practice: it sizes every VM for its peak). */
#include "sim.h"

#include <stdlib.h>

struct prefix_sums {
    double *short_s;   /* VM-seconds that must be short, by prefix length */
    double *present_s; /* VM-seconds present, by prefix length */
};

/* Per tick: walks the list in order, so prefix n sees VMs 0..n-1; `held`
 * keeps the c of the VMs of (b) so far, largest first. */
static void add_tick(const struct sim_scenario *sc, uint64_t t, double dt, double cap,
                     const bool *present, const uint64_t *started_at, double *held,
                     struct prefix_sums *ps)
{
    int certain = 0, count = 0, m = 0;
    double sum = 0;
    for (int i = 0; i < sc->n_vms; i++) {
        if (present[i]) {
            const struct sim_vm_spec *v = &sc->vms[i];
            uint64_t d = sim_demand_at(&v->demand, t);
            uint64_t lo = v->config.minimum_bytes, hi = v->config.maximum_bytes;
            if (v->kind == KIND_NO_DRIVER)
                lo = hi = v->config.startup_bytes;
            bool blind = t < started_at[i] + sc->status_delay_ms;
            count++;
            if (d > hi || (blind && d > v->config.startup_bytes)) {
                certain++;
            } else {
                double c = (double)(d < lo ? lo : d);
                int j = m++;
                for (; j > 0 && held[j - 1] < c; j--)
                    held[j] = held[j - 1];
                held[j] = c;
                sum += c;
            }
        }
        int k = 0;
        for (double covered = 0; covered < sum - cap && k < m; k++)
            covered += held[k];
        ps->short_s[i + 1] += (double)(certain + k) * dt;
        ps->present_s[i + 1] += (double)count * dt;
    }
}

int sim_density_limit(const struct sim_scenario *sc, uint64_t duration_ms)
{
    uint64_t end = duration_ms ? duration_ms : sc->duration_ms;
    uint64_t reserve = sim_effective_reserve(sc);
    double cap = sc->host_bytes > reserve ? (double)(sc->host_bytes - reserve) : 0;
    size_t n = (size_t)sc->n_vms;
    bool *present = calloc(n + 1, sizeof *present);
    uint64_t *started_at = calloc(n + 1, sizeof *started_at);
    double *held = calloc(n + 1, sizeof *held);
    struct prefix_sums ps = {calloc(n + 1, sizeof(double)), calloc(n + 1, sizeof(double))};
    int best = -1;
    if (present && started_at && held && ps.short_s && ps.present_s) {
        int next = 0;
        for (uint64_t t = 0; t < end; t += sc->tick_ms) {
            for (; next < sc->n_events && sc->events[next].at_ms <= t; next++) {
                const struct sim_event *ev = &sc->events[next];
                if (ev->type == EV_START || ev->type == EV_RESTART) {
                    if (ev->type == EV_RESTART || !present[ev->vm])
                        started_at[ev->vm] = ev->at_ms; /* a guest that boots again */
                    present[ev->vm] = true;
                } else if (ev->type == EV_STOP) {
                    present[ev->vm] = false;
                }
            }
            double dt = (double)(t + sc->tick_ms <= end ? sc->tick_ms : end - t) / 1000.0;
            add_tick(sc, t, dt, cap, present, started_at, held, &ps);
        }
        best = 0;
        for (int i = 1; i <= sc->n_vms; i++)
            if (100.0 * ps.short_s[i] <= SIM_DENSITY_DEFICIT_PCT * ps.present_s[i])
                best = i;
    }
    free(present);
    free(started_at);
    free(held);
    free(ps.short_s);
    free(ps.present_s);
    return best;
}
