/* proxmox: Proxmox VE's auto-ballooning, proxmox/pve-manager
 * PVE/AutoBalloon.pm compute_alg1 as called every 10 s by
 * PVE/Service/pvestatd.pm. docs/policies.md says what is kept.
 *
 * The host is steered to 80 % used: goal = 80 % of host memory - used. If
 * |goal| is over 10 MiB, the memory above the VMs' minimums plus the goal is
 * split by shares (our weight):
 *     desired_i = min_i + (alloc_old + goal) x shares_i / sum(shares)
 * clamped to [min_i, max_i]; each VM moves toward its desired size by at
 * most 100 MiB, and the split is repeated over the VMs still moving until
 * the goal is met or nothing moves. Growth goes first to VMs short of free
 * memory, shrinking first to VMs with enough; if that moves nothing, to
 * all. VMs with zero shares are left alone. */
#include "policy_peer.h"

#define TARGET_PERCENT 80                   /* ballooning-target default */
#define GOAL_DEADBAND (INT64_C(10) << 20)   /* |goal| > 10 MiB */
#define MAX_CHANGE (INT64_C(100) << 20)     /* maxchange, per VM per cycle */
/* The original loops until nothing moves; this bounds it in case rounding
 * ever makes two VMs trade bytes forever. */
#define MAX_ROUNDS 100

enum pve_list { PVE_ALL, PVE_SHORT, PVE_COMFORTABLE };

/* Skipped: VMs without a balloon driver, and VMs with zero shares. */
static bool eligible(const struct vm *v)
{
    return dynmem__planned(v) && (v->cfg_flags & DYNMEM_VM_CAN_BALLOON) && v->weight != 0;
}

/* Enough free memory: more than a quarter of its minimum (balloon_min),
 * and not below that minimum. Free memory is the guest's available memory
 * when it reports it, else what it holds above its demand. */
static bool comfortable(const struct vm *v)
{
    uint64_t cur = vm_holding(v);
    uint64_t demand = v->obs.demand_bytes;
    uint64_t free_mem = v->has_available ? v->available : cur > demand ? cur - demand : 0;
    return free_mem > v->minimum / 4 && cur >= v->minimum;
}

static bool in_list(const struct vm *v, enum pve_list list)
{
    if (!eligible(v))
        return false;
    return list == PVE_ALL || (list == PVE_COMFORTABLE) == comfortable(v);
}

/* change_func: moves the VMs of `list` by `bytes` in total (v->entitled
 * holds each VM's new balloon value); returns what is left to move.
 * b->keys[slot] marks a VM done (already at its desired size). */
static int64_t change(struct dynmem_balancer *b, enum pve_list list, int64_t bytes)
{
    for (uint32_t i = 0; i < b->nvms; i++)
        b->keys[i] = 0;
    int64_t rest = bytes;
    bool repeat = true;
    uint64_t progress = 1;
    for (int round = 0; rest && repeat && progress && round < MAX_ROUNDS; round++) {
        repeat = false;
        progress = 0;
        int64_t alloc_old = 0;
        uint64_t shares_total = 0;
        for (uint32_t i = 0; i < b->nvms; i++) {
            const struct vm *v = &b->vms[i];
            if (!in_list(v, list) || b->keys[i] != 0)
                continue;
            alloc_old += (int64_t)v->entitled - (int64_t)v->floor;
            shares_total += v->weight;
        }
        if (shares_total == 0)
            break;
        int64_t changes = 0;
        int64_t alloc_new = alloc_old + rest;
        for (uint32_t i = 0; i < b->nvms; i++) {
            struct vm *v = &b->vms[i];
            if (!in_list(v, list) || b->keys[i] != 0)
                continue;
            int64_t lo = (int64_t)v->floor, hi = (int64_t)v->ceiling;
            int64_t orig = (int64_t)vm_holding(v);
            int64_t desired = lo + (int64_t)((double)alloc_new / (double)shares_total *
                                             (double)v->weight);
            if (desired > hi) {
                desired = hi;
                repeat = true;
            } else if (desired < lo) {
                desired = lo;
                repeat = true;
            }
            int64_t balloon;
            if (bytes > 0 && desired > orig) {
                balloon = orig + MAX_CHANGE < desired ? orig + MAX_CHANGE : desired;
            } else if (desired < orig) { /* even within a grow request */
                balloon = orig - MAX_CHANGE > desired ? orig - MAX_CHANGE : desired;
            } else {
                b->keys[i] = 1;
                continue;
            }
            int64_t diff = balloon - orig;
            if (diff != 0) {
                int64_t moved = balloon - (int64_t)v->entitled;
                v->entitled = (uint64_t)balloon;
                if (moved != 0) {
                    changes += moved;
                    progress += (uint64_t)(diff > 0 ? diff : -diff);
                    repeat = true;
                }
            }
        }
        rest -= changes;
    }
    return rest;
}

void dynmem__policy_proxmox(struct dynmem_balancer *b, uint64_t budget)
{
    for (uint32_t i = 0; i < b->nvms; i++) {
        struct vm *v = &b->vms[i];
        if (!dynmem__planned(v))
            continue;
        v->entitled = vm_holding(v); /* the balloon value before this cycle */
        v->step_cap = (uint64_t)MAX_CHANGE;
        /* Free memory goes to VMs short of memory first. */
        v->grow_rank = comfortable(v) ? 0 : 1;
    }
    /* memused: the host's own share (our reserve) and every VM's memory. */
    int64_t used = (int64_t)(dynmem__bal_reserve(b) + dynmem__bal_used(b));
    int64_t goal = (int64_t)((uint64_t)b->host_total * TARGET_PERCENT / 100) - used;
    if (goal > GOAL_DEADBAND) {
        int64_t rest = change(b, PVE_SHORT, goal);
        if (rest >= goal) /* no progress: consider all VMs */
            change(b, PVE_ALL, rest);
    } else if (goal < -GOAL_DEADBAND) {
        int64_t rest = change(b, PVE_COMFORTABLE, goal);
        if (rest <= goal)
            change(b, PVE_ALL, rest);
    }
    for (uint32_t i = 0; i < b->nvms; i++)
        if (dynmem__planned(&b->vms[i]))
            dynmem__peer_set(&b->vms[i], b->vms[i].entitled);
    dynmem__peer_fit(b, budget, UINT64_MAX);
}
