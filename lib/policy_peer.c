/* What the comparison policies (policy_*.c) share: entitling a VM to a
 * target in whole units, and trimming the fleet's growth to the budget.
 * The policy dispatcher (balancer_policy.c) calls the policies, the
 * policies call these: the dependency runs one way. */
#include "compiler.h"
#include "policy_peer.h"

void dynmem__peer_set(struct vm *v, uint64_t target)
{
    uint64_t cur = vm_holding(v);
    uint64_t t = target < v->floor ? v->floor : target > v->ceiling ? v->ceiling : target;
    /* Whole units keep actions 2 MiB multiples, rounded so that the
     * policy never counts on memory it will not get: growth down, shrinks
     * up. A bound is reached exactly even when the VM holds odd pages after
     * a partial confirmation; a shrink of less than a page is a policy's
     * rounding noise, not a decision. */
    if (t > cur && t != v->ceiling) {
        t = cur + round_down(t - cur, UNIT);
    } else if (t < cur && t != v->floor) {
        uint64_t cut = round_up_unit(cur - t);
        t = cur - t < PAGE_BYTES ? cur : cut >= cur - v->floor ? v->floor : cur - cut;
    }
    v->entitled = t;
}

void dynmem__peer_fit(struct dynmem_balancer *b, uint64_t budget, uint64_t growth_room)
{
    uint64_t sum = 0, growth = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (!dynmem__planned(v))
            continue;
        sum += v->entitled;
        if (v->entitled > vm_holding(v))
            growth += v->entitled - vm_holding(v);
    }
    uint64_t over = sum > budget ? sum - budget : 0;
    uint64_t allowed = min_u64(growth > over ? growth - over : 0, growth_room);
    if (allowed >= growth)
        return;
    /* Every grower keeps the same fraction of its growth; exact integers
     * (rounded down) so the sum never exceeds what is allowed. */
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        uint64_t cur = vm_holding(v);
        if (!dynmem__planned(v) || v->entitled <= cur)
            continue;
        uint64_t g = (uint64_t)((dynmem__u128)(v->entitled - cur) * allowed / growth);
        v->entitled = cur + round_down(g, UNIT);
    }
}
