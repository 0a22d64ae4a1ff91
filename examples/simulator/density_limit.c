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
static void add_tick(const struct sim_presence *walk, double cap, double *held,
                     struct prefix_sums *ps)
{
    const struct sim_scenario *sc = walk->sc;
    uint64_t t = walk->t_ms;
    int certain = 0, count = 0, m = 0;
    double sum = 0;
    for (int i = 0; i < sc->n_vms; i++) {
        if (walk->present[i]) {
            const struct sim_vm_spec *v = &sc->vms[i];
            uint64_t d = sim_demand_at(&v->demand, t);
            struct sim_range r = walk->range[i];
            bool blind = t < walk->started_at[i] + sc->status_delay_ms;
            count++;
            if (d > r.hi || (blind && d > walk->boot_bytes[i])) {
                certain++;
            } else {
                double c = (double)(d < r.lo ? r.lo : d);
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
        ps->short_s[i + 1] += (double)(certain + k) * walk->dt_s;
        ps->present_s[i + 1] += (double)count * walk->dt_s;
    }
}

int sim_density_limit(const struct sim_scenario *sc, uint64_t duration_ms)
{
    double cap = sim_host_cap(sc);
    size_t n = (size_t)sc->n_vms;
    struct sim_presence walk;
    if (sim_presence_init(&walk, sc, duration_ms))
        return -1;
    double *held = calloc(n + 1, sizeof *held);
    struct prefix_sums ps = {calloc(n + 1, sizeof(double)), calloc(n + 1, sizeof(double))};
    int best = -1;
    if (held && ps.short_s && ps.present_s) {
        while (sim_presence_next(&walk))
            add_tick(&walk, cap, held, &ps);
        best = 0;
        for (int i = 1; i <= sc->n_vms; i++)
            if (100.0 * ps.short_s[i] <= SIM_DENSITY_DEFICIT_PCT * ps.present_s[i])
                best = i;
    }
    sim_presence_fini(&walk);
    free(held);
    free(ps.short_s);
    free(ps.present_s);
    return best;
}
