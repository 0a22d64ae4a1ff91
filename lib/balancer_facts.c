/* Facts up: what backends report they did, the action queue, counters and
 * the invariant check. */
#include <inttypes.h>
#include <string.h>

#include "balancer_internal.h"
#include "struct_abi.h"

static bool is_growth(uint32_t kind)
{
    return kind == DYNMEM_ACTION_UNBALLOON || kind == DYNMEM_ACTION_HOT_ADD ||
           kind == DYNMEM_ACTION_PAGE_IN;
}

/* Applies `n` confirmed bytes of the VM's outstanding action to its books. */
static void apply_progress(dynmem_balancer *b, struct vm *v, uint64_t n)
{
    switch (v->act.kind) {
    case DYNMEM_ACTION_UNBALLOON:
        v->assigned += n;
        v->in_flight -= n;
        break;
    case DYNMEM_ACTION_HOT_ADD:
        v->assigned += n;
        v->in_flight -= n;
        v->visible += n;
        v->added += n;
        break;
    case DYNMEM_ACTION_PAGE_IN:
        v->assigned += n;
        v->in_flight -= n;
        v->paged -= n;
        break;
    case DYNMEM_ACTION_BALLOON: {
        /* Ballooned pages drain the smart-paged gap first: that frees the
         * paging file, not host memory (B15). */
        uint64_t from_paged = min_u64(n, v->paged);
        v->paged -= from_paged;
        v->assigned -= n - from_paged;
        b->used -= n - from_paged;
        break;
    }
    case DYNMEM_ACTION_HOT_REMOVE:
        v->assigned -= n;
        b->used -= n;
        v->visible -= n;
        v->removed += n;
        /* The guest has room again for what it gave back: a hot-add that
         * failed before (its window used up) may succeed now. */
        v->hot_add_failed = false;
        break;
    }
    if (is_growth(v->act.kind))
        b->added_total += n;
    else
        b->removed_total += n;
}

/* Largest confirmation the books can take for the outstanding action. */
static uint64_t confirmable(const struct vm *v)
{
    uint64_t left = v->act.bytes - v->act.done;
    switch (v->act.kind) {
    case DYNMEM_ACTION_BALLOON: /* drains the paged gap, then host memory */
        return min_u64(left, v->paged + v->assigned - PAGE_BYTES);
    case DYNMEM_ACTION_HOT_REMOVE:
        return min_u64(left, v->assigned - PAGE_BYTES);
    default:
        return left;
    }
}

int dynmem_balancer_confirm(dynmem_balancer *b, uint64_t vm_id, uint64_t action_id,
                            uint64_t now_ms, uint64_t bytes, uint32_t flags)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    if (flags & ~(uint32_t)(DYNMEM_CONFIRM_FINAL | DYNMEM_CONFIRM_FAILED))
        return dynmem__detail_set(b->detail, DYNMEM_ERR_INVALID_ARGUMENT,
                                  "unknown confirm flags 0x%" PRIx32, flags);
    struct vm *v = dynmem__bal_vm_change(b, vm_id);
    if (!v)
        return dynmem__bal_no_vm(b, vm_id);
    if (!v->running || !v->busy || v->act.id != action_id)
        return dynmem__bal_stray_confirm(b, v, vm_id, action_id);
    if (bytes % PAGE_BYTES || bytes > confirmable(v))
        return dynmem__detail_set(b->detail, DYNMEM_ERR_OUT_OF_RANGE,
                                  "vm %" PRIu64 ": action %" PRIu64 ": %" PRIu64 " bytes %s %" PRIu64,
                                  vm_id, action_id, bytes,
                                  bytes % PAGE_BYTES ? "is not whole 4 KiB pages; at most"
                                                     : "is more than can be confirmed,",
                                  confirmable(v));
    if (bytes) {
        apply_progress(b, v, bytes);
        if (v->act.done == 0) {
            if (is_growth(v->act.kind))
                v->add_ops++;
            else
                v->remove_ops++;
        }
        v->act.done += bytes;
        v->progress_ms = now_ms;
        v->stuck = false;
    }
    if (flags & DYNMEM_CONFIRM_FINAL) {
        /* What was not confirmed did not happen: issued growth returns to
         * the pool; an unfinished shrink never freed anything. */
        if (is_growth(v->act.kind)) {
            v->in_flight -= v->act.bytes - v->act.done;
            b->used -= v->act.bytes - v->act.done;
        }
        if ((flags & DYNMEM_CONFIRM_FAILED) && v->act.kind == DYNMEM_ACTION_HOT_ADD)
            v->hot_add_failed = true;
        if (v->act.reason == DYNMEM_REASON_RESIZE && v->assigned == v->resize_target)
            v->resizing = false;
        v->busy = false;
        v->stuck = false;
        struct outstanding over = v->act;
        dynmem__bal_action_over(b, v, &over, now_ms);
    }
    return DYNMEM_OK;
}

int dynmem_balancer_next_action(dynmem_balancer *b, struct dynmem_action *out)
{
    if (!b || !out)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    dynmem__bal_detail_clear(b);
    int rc = dynmem__out_check(out, DYNMEM__END_OF(struct dynmem_action, pressure));
    if (rc)
        return rc;
    if (b->qlen == 0)
        return 0;
    dynmem__out_store(out, &b->queue[b->qhead], sizeof *out);
    b->qhead = (b->qhead + 1) % b->cap;
    b->qlen--;
    return 1;
}

int dynmem_balancer_vm_counters(const dynmem_balancer *b, uint64_t vm_id,
                                struct dynmem_vm_counters *counters)
{
    if (!b || !counters)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__out_check(counters, DYNMEM__END_OF(struct dynmem_vm_counters, remove_operations));
    if (rc)
        return rc;
    const struct vm *v = dynmem__bal_vm(b, vm_id);
    if (!v)
        return DYNMEM_ERR_NOT_FOUND;
    struct dynmem_vm_counters c = {.size = sizeof c};
    c.flags = (v->running ? DYNMEM_VMSTATE_RUNNING : 0) |
              (v->running && !v->has_data ? DYNMEM_VMSTATE_NO_DATA : 0) |
              (v->stale ? DYNMEM_VMSTATE_STALE : 0) | (v->stuck ? DYNMEM_VMSTATE_STUCK : 0) |
              (v->busy ? DYNMEM_VMSTATE_BUSY : 0) |
              (v->obs.flags & DYNMEM_REPORT_DISTRESS ? DYNMEM_VMSTATE_DISTRESS : 0) |
              (v->hot_add_failed ? DYNMEM_VMSTATE_HOT_ADD_FAILED : 0) |
              (v->held ? DYNMEM_VMSTATE_HELD_BACK : 0);
    c.physical_bytes = v->assigned;
    c.in_flight_bytes = v->in_flight;
    c.guest_visible_bytes = v->visible;
    c.balloon_bytes = v->running ? vm_balloon(v) : 0;
    c.smart_paged_bytes = v->paged;
    c.added_bytes = v->added;
    c.removed_bytes = v->removed;
    c.demand_bytes = v->obs.demand_bytes;
    c.target_bytes = v->obs.target_bytes;
    /* The window figures are computed here, not every tick: only readers of
     * counters need them. Without a sample the current pressure stands. */
    struct dynmem_pressure_report rep = {.size = sizeof rep};
    rep.average_pressure = rep.minimum_pressure = rep.maximum_pressure = v->obs.pressure;
    if (v->running && v->est)
        dynmem__pressure_window(v->est, b->last_tick_ms, &rep);
    c.current_pressure = v->obs.pressure;
    c.average_pressure = rep.average_pressure;
    c.minimum_pressure = rep.minimum_pressure;
    c.maximum_pressure = rep.maximum_pressure;
    c.status = v->obs.status;
    c.add_operations = v->add_ops;
    c.remove_operations = v->remove_ops;
    dynmem__out_store(counters, &c, sizeof c);
    return 0;
}

int dynmem_balancer_host_counters(const dynmem_balancer *b, struct dynmem_host_counters *counters)
{
    if (!b || !counters)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int rc = dynmem__out_check(counters, DYNMEM__END_OF(struct dynmem_host_counters, removed_bytes));
    if (rc)
        return rc;
    struct dynmem_host_counters c = {.size = sizeof c};
    uint64_t demand = 0, weighted = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (!v->in_use || !v->running)
            continue;
        c.running_vms++;
        c.assigned_bytes += v->assigned;
        c.in_flight_bytes += v->in_flight;
        c.stuck_vms += v->stuck;
        if (v->has_data) {
            demand += v->obs.demand_bytes;
            weighted += v->obs.demand_bytes / 100 * v->obs.pressure;
        }
    }
    c.total_bytes = (uint64_t)b->host_total;
    c.reserve_bytes = dynmem__bal_reserve(b);
    c.available_bytes = dynmem__bal_free(b);
    c.average_pressure = demand ? (uint32_t)(weighted / (demand / 100 ? demand / 100 : 1)) : 0;
    c.added_bytes = b->added_total;
    c.removed_bytes = b->removed_total;
    dynmem__out_store(counters, &c, sizeof c);
    return 0;
}

int dynmem_balancer_check(const dynmem_balancer *b)
{
    if (!b)
        return DYNMEM_ERR_INVALID_ARGUMENT;
    uint64_t used = 0;
    for (uint32_t i = 0; i < b->nvms; i++) {
        const struct vm *v = &b->vms[i];
        if (!v->in_use || !v->running)
            continue;
        if (v->assigned + v->paged > v->visible || v->assigned % PAGE_BYTES ||
            v->in_flight % PAGE_BYTES || v->visible % PAGE_BYTES || v->assigned == 0)
            return DYNMEM_ERR_INVARIANT;
        if (v->paged > v->startup)
            return DYNMEM_ERR_INVARIANT;
        if ((v->in_flight && !v->busy) || v->chain_bytes > v->in_flight)
            return DYNMEM_ERR_INVARIANT;
        used += vm_holding(v);
    }
    if (used != b->used || used + dynmem__bal_reserve(b) > (uint64_t)b->host_total)
        return DYNMEM_ERR_INVARIANT;
    return DYNMEM_OK;
}
