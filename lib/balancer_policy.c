/* Policies: how much each VM is entitled to this tick.
 *
 * Every plannable VM arrives with floor <= need <= want <= ceiling (bytes of
 * host memory): floor is the least it can be brought to, need its demand,
 * want its demand plus buffer. When the wants fit the budget everyone gets
 * its want. Otherwise memory is cut in two phases, buffers first (down to
 * need), then demand itself (down to floor), and the policy decides who
 * loses what within a phase. dynmem cuts buffers in two steps: first down
 * to one deadband above need (or the whole buffer when smaller), and only
 * when those headrooms do not fit, down to need. Within a phase:
 * - dynmem: weighted water-filling. Cuts are set so that cut_i x weight_i is
 *   equal across VMs not pinned at their lower bound: a VM of twice the
 *   weight loses half as much; weight 0 loses everything first. In the cut
 *   of demand, the highest weights whose share would be under the deadband
 *   are spared, and lower weights take it while they can absorb the cut.
 * - hyperv: strict priority. The lowest weight loses first and fully before
 *   the next weight loses anything; equal weights lose equal amounts.
 * The comparison policies (squeezed, mom, esx, proxmox) have their own rules,
 * one file each (policy_<name>.c, sharing policy_peer.c); this file runs
 * their cycles.
 */
#include "balancer_internal.h"
#include "policy_peer.h"

/* The bound a phase cuts down to: need plus some headroom (buffers shrink
 * to at most one deadband), need (buffers go) or floor. A value, not a
 * function pointer, so that the cut's loops inline it. */
enum bound { TO_HEADROOM, TO_NEED, TO_FLOOR };

/* What a VM keeps of its buffer while buffers are only shrunk: one
 * deadband, or its whole buffer when smaller. A buffer cut to nothing
 * leaves a rising guest short after every 2 MiB its demand climbs: the
 * memory that would cover the step sits in another VM's surplus, inside
 * the deadband, where nothing reclaims it. */
static uint64_t headroom_of(const struct dynmem_balancer *b, const struct vm *v)
{
    return v->need + min_u64(v->want - v->need, (uint64_t)b->deadband);
}

static uint64_t lower_of(const struct dynmem_balancer *b, const struct vm *v,
                         enum bound to)
{
    switch (to) {
    case TO_HEADROOM: return headroom_of(b, v);
    case TO_NEED: return v->need;
    default: return v->floor;
    }
}

static uint64_t cut_vm(const struct dynmem_balancer *b, struct vm *v,
                       uint64_t amount, enum bound lower)
{
    uint64_t gap = v->entitled - lower_of(b, v, lower);
    uint64_t c = min_u64(round_up_unit(amount), gap);
    v->entitled -= c;
    return c;
}

/* Weight 0 behaves as a weight far below 1: such VMs are cut first. */
static double weight_of(const struct vm *v)
{
    return v->weight ? (double)v->weight : 1e-9;
}

static void swap_items(struct dynmem__cut_item *it, uint32_t i, uint32_t j)
{
    struct dynmem__cut_item t = it[i];
    it[i] = it[j];
    it[j] = t;
}

/* Median of the first, middle and last keys of it[lo..hi): a pivot that a
 * sorted or reversed fleet does not turn into a quadratic search. */
static double pivot_key(const struct dynmem__cut_item *it, uint32_t lo, uint32_t hi)
{
    double x = it[lo].key, y = it[lo + (hi - lo) / 2].key, z = it[hi - 1].key;
    if ((x <= y && y <= z) || (z <= y && y <= x))
        return y;
    if ((y <= x && x <= z) || (z <= x && x <= y))
        return x;
    return z;
}

static bool in_cut(const struct dynmem_balancer *b, const struct vm *v,
                   enum bound lower)
{
    return v->in_use && v->running && v->plannable && v->entitled > lower_of(b, v, lower);
}

/* The weight cap of a cut that spares nobody: above every weight. */
#define NO_WEIGHT_SPARED UINT16_MAX

/* Whether v takes part in a weighted cut that spares the weights above
 * cap (NO_WEIGHT_SPARED: none). */
static bool in_weighted_cut(const struct dynmem_balancer *b, const struct vm *v,
                            enum bound lower, uint32_t cap)
{
    return in_cut(b, v, lower) && v->weight <= cap;
}

/* dynmem: the level s for a cut of X bytes with cut_i * w_i level
 * (water-filling) over the VMs in the cut; *inv_w is set to the sum of 1/w
 * of the VMs cut in proportion (0 when every VM is cut fully).
 *
 * VM i loses min(gap_i, s / w_i) for a level s; it is cut fully once s
 * reaches its breakpoint gap_i * w_i. The total cut f(s) grows with s, and
 * the s with f(s) = X is found by a quickselect over the breakpoints in
 * expected O(n): each round partitions the undecided VMs around a pivot
 * breakpoint p and keeps only the side that still holds the answer. VMs
 * decided on the way add either their whole gap (fully cut) or 1/w (cut in
 * proportion) to two running sums. The rounds work on b->items, the VMs'
 * figures copied out in slot order. */
static double water_level(struct dynmem_balancer *b, uint64_t x, enum bound lower,
                          uint32_t cap, double *inv_w_out)
{
    struct dynmem__cut_item *it = b->items;
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (!in_weighted_cut(b, v, lower, cap))
            continue;
        double gap = (double)(v->entitled - lower_of(b, v, lower));
        it[n++] = (struct dynmem__cut_item){gap * weight_of(v), gap, 1.0 / weight_of(v), i};
    }
    double full = 0, inv_w = 0; /* decided: fully cut gaps; proportional 1/w */
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        double p = pivot_key(it, lo, hi);
        /* Three-way partition: [lo, lt) below p, [lt, gt) equal, [gt, hi) above. */
        uint32_t lt = lo, i = lo, gt = hi;
        double gap_le = 0, inv_ge = 0, inv_gt = 0;
        while (i < gt) {
            double key = it[i].key;
            if (key < p) {
                gap_le += it[i].gap;
                swap_items(it, lt++, i++);
            } else if (key > p) {
                inv_gt += it[i].inv_w;
                inv_ge += it[i].inv_w;
                swap_items(it, i, --gt);
            } else {
                gap_le += it[i].gap;
                inv_ge += it[i].inv_w;
                i++;
            }
        }
        if (full + gap_le + p * (inv_w + inv_gt) >= (double)x) {
            /* The level is at most p: VMs at or above p are proportional. */
            inv_w += inv_ge;
            hi = lt;
        } else {
            /* The level is above p: VMs at or below p are cut fully. */
            for (uint32_t j = lo; j < gt; j++)
                full += it[j].gap;
            lo = gt;
        }
    }
    *inv_w_out = inv_w;
    return inv_w > 0 ? ((double)x - full) / inv_w : 0;
}

/* dynmem: cut X bytes by water-filling over the VMs of weight at most cap.
 * The cuts are applied in slot order (each VM's cut depends only on the
 * level and its own figures). */
static void cut_proportional(struct dynmem_balancer *b, uint64_t x,
                             enum bound lower, uint32_t cap)
{
    double inv_w;
    double level = water_level(b, x, lower, cap, &inv_w);
    uint64_t cut = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (!in_weighted_cut(b, v, lower, cap))
            continue;
        uint64_t gap = v->entitled - lower_of(b, v, lower);
        double share = inv_w > 0 ? level / weight_of(v) : (double)gap;
        cut += cut_vm(b, v, share >= (double)gap ? gap : (uint64_t)share, lower);
    }
    /* Floating-point rounding may leave a few units short: take them from
     * the VMs in slot order, a deterministic choice. */
    for (uint32_t j = 0; cut < x && j < b->nvms; j++) {
        struct vm *v = &b->vms[j];
        if (in_weighted_cut(b, v, lower, cap))
            cut += cut_vm(b, v, x - cut, lower);
    }
}

/* dynmem's demand cut: the highest weights whose water-filling share would
 * be under the deadband are spared, and the lower weights take their
 * share, as long as those can absorb the whole cut. Returns the highest
 * weight still cut. Spared VMs lose whole weights at a time, in ascending
 * order, until the rest can absorb it. */
static uint32_t demand_cut_cap(struct dynmem_balancer *b, uint64_t x)
{
    double inv_w;
    double level = water_level(b, x, TO_FLOOR, NO_WEIGHT_SPARED, &inv_w);
    if (inv_w <= 0)
        return NO_WEIGHT_SPARED; /* every VM is cut fully: none to spare */
    uint64_t rest = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (!in_cut(b, v, TO_FLOOR))
            continue;
        if (v->weight && (double)v->weight * (double)b->deadband > level)
            b->ranks[n++] = (struct dynmem__rank){v->weight, i};
        else
            rest += v->entitled - v->floor;
    }
    const struct dynmem__rank *r = dynmem__rank_sort(b->ranks, b->ranks + b->cap, n);
    for (uint32_t g = 0; g < n;) {
        if (rest >= x)
            return (uint32_t)r[g].key - 1;
        uint32_t end = g;
        while (end < n && r[end].key == r[g].key) {
            const struct vm *v = &b->vms[r[end].slot];
            rest += v->entitled - v->floor;
            end++;
        }
        g = end;
    }
    return NO_WEIGHT_SPARED;
}

/* hyperv: lowest weight first; within one weight, equal cuts. */
static void cut_strict(struct dynmem_balancer *b, uint64_t x, enum bound lower)
{
    /* Ordered by weight, then by gap, so each weight group is a run sorted
     * by how much it can lose: 14 bits of weight above 32 bits of 2 MiB
     * units. */
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (!in_cut(b, v, lower))
            continue;
        uint64_t gap_units = round_up_unit(v->entitled - lower_of(b, v, lower)) / UNIT;
        b->ranks[n++] = (struct dynmem__rank){((uint64_t)v->weight << 32) | gap_units, i};
    }
    const struct dynmem__rank *r = dynmem__rank_sort(b->ranks, b->ranks + b->cap, n);
    uint64_t cut = 0;
    for (uint32_t g = 0; g < n && cut < x;) {
        uint32_t end = g;
        while (end < n && b->vms[r[end].slot].weight == b->vms[r[g].slot].weight)
            end++;
        /* Water level within the group: the smallest gaps are cut fully. */
        for (uint32_t j = g; j < end && cut < x; j++) {
            struct vm *v = &b->vms[r[j].slot];
            uint64_t members = end - j;
            uint64_t each = (x - cut + members - 1) / members;
            cut += cut_vm(b, v, each, lower);
        }
        g = end;
    }
}

static void cut(struct dynmem_balancer *b, uint64_t x, enum bound lower)
{
    if (b->policy == DYNMEM_POLICY_HYPERV)
        cut_strict(b, x, lower);
    else if (lower == TO_FLOOR) /* buffer cuts spare no one: measured, that
                                 * raised the deficit (docs/performance.md) */
        cut_proportional(b, x, lower, demand_cut_cap(b, x));
    else
        cut_proportional(b, x, lower, NO_WEIGHT_SPARED);
}

/* ---- comparison policies: their cycles ---------------------------------- */

/* Each system's decision period: squeezed iterates every second while
 * balancing (squeeze.ml), VDSM runs MoM's policy every 15 s (mom.conf),
 * ESX rebalances every Mem.BalancePeriod = 15 s, pvestatd every 10 s. */
static uint64_t cycle_ms(int64_t policy)
{
    switch (policy) {
    case DYNMEM_POLICY_MOM:
    case DYNMEM_POLICY_ESX: return 15000;
    case DYNMEM_POLICY_PROXMOX: return 10000;
    default: return 1000;
    }
}

/* A cycle entitles every plannable VM and remembers its target; a VM the
 * cycle could not plan (busy, stuck, stale) holds until the next cycle.
 * Between cycles plannable VMs keep pursuing their remembered targets, so
 * memory a shrink freed is handed on without waiting for the next cycle. */
static void peer_entitle(struct dynmem_balancer *b, uint64_t budget)
{
    uint64_t now = b->last_tick_ms;
    bool switched = !b->cycle_started || b->cycle_policy != b->policy;
    if (switched)
        for (uint32_t i = 0; i < b->nvms; i++)
            b->vms[i].has_peer_target = false;
    if (switched || now - b->cycle_start_ms >= cycle_ms(b->policy)) {
        b->cycle_started = true;
        b->cycle_policy = b->policy;
        b->cycle_start_ms = now;
        /* No step cap and no ranking unless the policy sets them. */
        for (uint32_t i = 0; i < b->nvms; i++) {
            b->vms[i].step_cap = 0;
            b->vms[i].grow_rank = 0;
        }
        switch (b->policy) {
        case DYNMEM_POLICY_SQUEEZED: dynmem__policy_squeezed(b, budget); break;
        case DYNMEM_POLICY_MOM: dynmem__policy_mom(b, budget); break;
        case DYNMEM_POLICY_ESX: dynmem__policy_esx(b, budget); break;
        default: dynmem__policy_proxmox(b, budget); break;
        }
        for (uint32_t i = 0; i < b->nvms; i++) {
            struct vm *v = &b->vms[i];
            v->has_peer_target = dynmem__planned(v);
            v->peer_target = v->entitled;
        }
        return;
    }
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (dynmem__planned(v) && v->has_peer_target)
            v->entitled = min_u64(max_u64(v->peer_target, v->floor), v->ceiling);
    }
}

static uint64_t sum_headroom(const struct dynmem_balancer *b)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (v->in_use && v->running && v->plannable)
            sum += headroom_of(b, v);
    }
    return sum;
}

bool dynmem__policy_entitle(struct dynmem_balancer *b, uint64_t budget,
                            const struct dynmem__plan_sums *sums)
{
    if (dynmem__is_peer(b->policy)) {
        peer_entitle(b, budget);
        return false;
    }
    /* A comparison policy chosen again later starts a fresh cycle. */
    b->cycle_started = false;
    uint64_t sum_want = sums->want, sum_need = sums->need, sum_floor = sums->floor;
    if (sum_want <= budget)
        return true;
    if (sum_need <= budget) {
        /* Buffers go first: dynmem shrinks them to a deadband of headroom
         * while that fits, and only then cuts them to need. Hyper-V's rule
         * cuts them straight down to need. */
        bool headroom_fits = b->policy == DYNMEM_POLICY_DYNMEM &&
                             sum_headroom(b) <= budget;
        cut(b, sum_want - budget, headroom_fits ? TO_HEADROOM : TO_NEED);
        return false;
    }
    for (uint32_t i = 0; i < b->nvms; i++)
        if (b->vms[i].in_use && b->vms[i].plannable)
            b->vms[i].entitled = b->vms[i].need;
    if (sum_floor >= budget) {
        for (uint32_t i = 0; i < b->nvms; i++)
            if (b->vms[i].in_use && b->vms[i].plannable)
                b->vms[i].entitled = b->vms[i].floor;
        return false;
    }
    cut(b, sum_need - budget, TO_FLOOR);
    return false;
}
