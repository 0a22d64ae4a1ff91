/* mom: oVirt's Memory Overcommitment Manager running the balloon policy
 * VDSM ships, oVirt/vdsm static/etc/vdsm/mom.d/02-balloon.policy.
 * docs/policies.md says what is kept.
 *
 * Each 15 s cycle (the cycle runs in balancer_policy.c) the host's free
 * ratio decides the direction for every VM alike:
 * - under 20 % free the host is under pressure and each VM shrinks by 5 %
 *   of what it holds, but not below its guaranteed minimum nor below
 *   used + guest_free x held, where guest_free scales down with host free
 *   memory (and turns negative under 5 %, to make guests swap);
 * - otherwise each VM below its maximum grows by 5 %, or at once to
 *   used + guest_free x held if that is more;
 * - a change of at most 0.25 % of what the VM holds is not made.
 * No weights: scarcity is shared uniformly. */
#include "policy_peer.h"

#define PRESSURE_THRESHOLD 0.20   /* pressure_threshold */
#define PRESSURE_CRITICAL 0.05    /* pressure_critical */
#define MIN_GUEST_FREE 0.20       /* min_guest_free_percent */
#define MAX_CHANGE 0.05           /* max_balloon_change_percent */
#define MIN_CHANGE 0.0025         /* min_balloon_change_percent */

/* change_big_enough: skip changes not worth a balloon operation. */
static bool big_enough(double size, double cur)
{
    double d = size > cur ? size - cur : cur - size;
    return d > MIN_CHANGE * cur;
}

void dynmem__policy_mom(struct dynmem_balancer *b, uint64_t budget)
{
    /* Host.StatAvg("mem_free") / Host.mem_available: memory neither
     * reserved nor held by a VM, over the host's memory. */
    double host_free = (double)dynmem__bal_free(b) / (double)b->host_total;
    /* balloonEnabled is taken as on: with it off MoM never shrinks. */
    bool pressure = host_free < PRESSURE_THRESHOLD;
    /* The same scaling in shrink_guest and grow_guest: at or above the
     * threshold it is the host's own free ratio. */
    double guest_free = host_free <= PRESSURE_CRITICAL
                            ? host_free - 0.05
                            : MIN_GUEST_FREE * (host_free / PRESSURE_THRESHOLD);
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (!dynmem__planned(v))
            continue;
        double cur = (double)vm_holding(v);
        /* guest_used_mem is balloon_cur - mem_unused; the guest's reported
         * demand stands for it here. */
        double used = (double)v->obs.demand_bytes;
        double lowest = used + guest_free * cur;
        if (lowest < (double)v->floor)
            lowest = (double)v->floor; /* guest.balloon_min */
        double size = cur;
        if (pressure) {
            size = cur * (1.0 - MAX_CHANGE);
            if (size < lowest)
                size = lowest;
            if (!(size <= cur && big_enough(size, cur)))
                size = cur;
        } else if (cur < (double)v->ceiling) {
            size = cur * (1.0 + MAX_CHANGE);
            if (size < lowest)
                size = lowest;
            if (size > (double)v->ceiling)
                size = (double)v->ceiling;
            if (!big_enough(size, cur))
                size = cur;
        }
        /* guest_qos: a VM under its guaranteed minimum goes back to it. */
        if (cur < (double)v->minimum)
            size = (double)v->minimum;
        /* To the nearest byte: 5 % of a round size stays round. */
        dynmem__peer_set(v, (uint64_t)(size + 0.5));
    }
    /* MoM sets targets without checking that they fit; the host's budget
     * is kept here by trimming growth evenly. */
    dynmem__peer_fit(b, budget, UINT64_MAX);
}
