/* esx: VMware ESX Server's share-based allocation with the idle memory tax,
 * after C. A. Waldspurger, "Memory Resource Management in VMware ESX
 * Server", OSDI 2002, sections 5.1-5.2. docs/policies.md says what is kept.
 *
 * A VM with S shares holding P bytes of which a fraction f is active pays
 *     rho = S / (P x (f + k x (1 - f))),   k = 1 / (1 - tau), tau = 0.75
 * per byte: an idle byte costs k = 4 times an active one. When the VMs ask
 * for more than is free, memory is revoked from the VM paying the lowest
 * price, which raises its price, until the requests are met or the
 * requester itself pays least (min-funding revocation). The end point of
 * that process is computed directly: one price level L such that every VM
 * not pinned at a bound holds what it would hold at price L, and the sum is
 * the budget. Memory is never revoked while the requests fit in free
 * memory: idle memory stays where it is until someone needs it.
 *
 * Here shares are the VM's weight, active bytes its reported demand (so
 * f = min(1, demand / P)), and a VM requests up to its demand. */
#include "policy_peer.h"

#define TAX_RATE 0.75 /* MemIdleTax default: 75 % */
#define TAX_K (1.0 / (1.0 - TAX_RATE))
#define BISECTIONS 64

/* P x (f + k(1 - f)) with f = min(1, a / p): the active bytes at cost 1,
 * the idle ones at cost k. */
static double cost_of(double p, double a)
{
    return p <= a ? p : a + TAX_K * (p - a);
}

/* The inverse: what a VM holds when its cost is c. */
static double held_at(double c, double a)
{
    return c <= a ? c : a + (c - a) / TAX_K;
}

static double max_d(double a, double b)
{
    return a > b ? a : b;
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

struct esx_vm {
    double shares, active, lo, hi;
};

static struct esx_vm figures(const struct vm *v)
{
    struct esx_vm e;
    e.shares = (double)v->weight;
    e.active = (double)v->obs.demand_bytes;
    e.lo = (double)v->floor;
    /* It keeps what it holds (no revocation without need) and asks for
     * its demand; need is already clamped to [floor, ceiling]. */
    e.hi = (double)max_u64(vm_holding(v), v->need);
    return e;
}

/* What the VM holds at price level 1/x: rho = S / cost = 1/x. */
static double alloc_at(const struct esx_vm *e, double x)
{
    double p = held_at(e->shares * x, e->active);
    return p < e->lo ? e->lo : p > e->hi ? e->hi : p;
}

static double total_at(const struct dynmem_balancer *b, double x)
{
    double sum = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        if (!dynmem__planned(&b->vms[i]))
            continue;
        struct esx_vm e = figures(&b->vms[i]);
        sum += alloc_at(&e, x);
    }
    return sum;
}

void dynmem__policy_esx(struct dynmem_balancer *b, uint64_t budget)
{
    double sum_lo = 0, sum_hi = 0, x_hi = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (!dynmem__planned(v))
            continue;
        struct esx_vm e = figures(v);
        sum_lo += e.lo;
        sum_hi += e.hi;
        if (e.shares > 0)
            x_hi = max_d(x_hi, cost_of(e.hi, e.active) / e.shares);
        /* Free memory goes to the highest price payer first. */
        v->grow_rank = e.shares / cost_of((double)vm_holding(v), e.active);
    }
    double x = x_hi;
    bool scarce = sum_hi > (double)budget && sum_lo < (double)budget;
    /* Everyone with shares may be served in full even when the sum of
     * requests does not fit: VMs without shares then take the rest. */
    bool shares_served = scarce && total_at(b, x_hi) <= (double)budget;
    if (scarce && !shares_served) {
        /* total_at grows with x: bisect for the highest level that fits. */
        double x_lo = 0;
        for (int k = 0; k < BISECTIONS; k++) {
            double mid = (x_lo + x) / 2;
            if (total_at(b, mid) <= (double)budget)
                x_lo = mid;
            else
                x = mid;
        }
        x = x_lo;
    }
    /* Memory nobody with shares wants may go to VMs without shares (their
     * price is always the lowest, so they are served last). */
    double spare = shares_served ? (double)budget - total_at(b, x) : 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (!dynmem__planned(v))
            continue;
        struct esx_vm e = figures(v);
        double p = sum_hi <= (double)budget ? e.hi : sum_lo >= (double)budget ? e.lo : alloc_at(&e, x);
        if (e.shares == 0 && spare > 0 && p < e.hi) {
            double give = min_d(spare, e.hi - p);
            p += give;
            spare -= give;
        }
        /* To the nearest byte: the bisection ends a hair below exact
         * allocations, which would otherwise lose a whole 2 MiB unit. */
        dynmem__peer_set(v, (uint64_t)(p + 0.5));
    }
    /* Rounding to whole units may leave the sum a few units over. */
    dynmem__peer_fit(b, budget, UINT64_MAX);
}
