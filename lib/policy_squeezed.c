/* squeezed: the Xen (XenServer / XCP-ng) memory daemon's proportional
 * policy, as in xapi-project/squeezed lib/squeeze.ml (Proportional) and
 * src/squeeze_xen.ml (constants). docs/policies.md says what is kept.
 *
 * Every VM's range is [dynamic-min, dynamic-max]; here [floor, ceiling]:
 * its minimum (or what it holds, if it cannot shrink) and its maximum (or
 * its visible memory, if it cannot take hot-add). The memory that would be
 * free if every VM went to its minimum, less a small "slush" kept free for
 * the hypervisor, is shared so that every VM reaches the same fraction
 * gamma of its own range:
 *     surplus = free + sum(actual - min) - slush
 *     gamma   = clamp(surplus / sum(max - min), 0, 1)
 *     target  = min + gamma x (max - min)
 * There is no weight and no demand: squeezed deliberately ignores what the
 * guest says about its memory. */
#include "policy_peer.h"

/* squeeze_xen.ml: low_mem_emergency_pool (1 MiB) + extra_mem_to_keep
 * (8 MiB), kept free on top of our host reserve. */
#define SLUSH_BYTES (UINT64_C(9) << 20)

void dynmem__policy_squeezed(struct dynmem_balancer *b, uint64_t budget)
{
    /* budget = free + what the planned VMs hold, so
     * surplus = budget - sum(floor) - slush. */
    uint64_t sum_floor = 0, sum_range = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (!dynmem__planned(v))
            continue;
        sum_floor += v->floor;
        sum_range += v->ceiling - v->floor;
    }
    uint64_t reach = sum_floor + SLUSH_BYTES;
    uint64_t surplus = budget > reach ? budget - reach : 0;
    /* constrain 0. 1. (NaN, an empty range, counts as 0). */
    double gamma = sum_range ? (double)surplus / (double)sum_range : 0.0;
    gamma = gamma > 1.0 ? 1.0 : gamma;
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (!dynmem__planned(v))
            continue;
        /* Int64.of_float truncates, as here. */
        uint64_t share = (uint64_t)(gamma * (double)(v->ceiling - v->floor));
        dynmem__peer_set(v, v->floor + min_u64(share, v->ceiling - v->floor));
    }
    /* Two-phase: squeezed sets no allocation target until the freeing ones
     * are reached, so host free memory never drops under the slush. The
     * engine only grows from memory already free; capping total growth at
     * free - slush keeps the same promise while slow guests are freeing. */
    uint64_t free_now = dynmem__bal_free(b);
    uint64_t room = free_now > SLUSH_BYTES ? free_now - SLUSH_BYTES : 0;
    dynmem__peer_fit(b, budget > SLUSH_BYTES ? budget - SLUSH_BYTES : 0, room);
}
