/* dynmem-xen: carrying out the balancer's actions as memory/target writes
 * and feeding back what the guests confirm (see docs/xen.md). */
#include <inttypes.h>
#include <string.h>

#include "exutil.h"
#include "xdom.h"

#define PAGE UINT64_C(4096)

bool xdom_is_growth(uint32_t kind)
{
    return kind == DYNMEM_ACTION_UNBALLOON || kind == DYNMEM_ACTION_HOT_ADD ||
           kind == DYNMEM_ACTION_PAGE_IN;
}

static void finish(struct xdoms *ds, struct xdom *d, uint64_t now_ms, uint64_t bytes, uint32_t flags)
{
    int rc = dynmem_balancer_confirm(ds->b, d->vm_id, d->act.action_id, now_ms, bytes, flags);
    if (rc)
        xdom_log(ds, "dom %u (%s): confirm refused: %s", d->domid, d->name, EX_WHY(ds->b, rc));
    if (rc == 0)
        d->confirmed += bytes;
    if (flags & DYNMEM_CONFIRM_FINAL)
        d->busy = false;
}

/* Shrink confirmation: the guest's own figure of what it holds (the
 * confirm key, KiB) is the only evidence that memory was given back. */
void xdom_follow_shrink(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    uint64_t actual_kib;
    if (!ds->cfg->confirm_key[0] || xdom_read_key(ds, d, ds->cfg->confirm_key, &actual_kib) != XSIO_OK)
        return;
    uint64_t actual = actual_kib * 1024, from = d->act.assigned_bytes, to = d->act.target_bytes;
    uint64_t progress = actual < from ? from - (actual > to ? actual : to) : 0;
    progress = progress / PAGE * PAGE;
    if (progress > d->act.bytes)
        progress = d->act.bytes;
    bool done = actual <= to;
    if (progress > d->confirmed || done)
        finish(ds, d, now_ms, progress > d->confirmed ? progress - d->confirmed : 0,
               done ? DYNMEM_CONFIRM_FINAL : 0);
    if (done) {
        xdom_log(ds, "dom %u (%s): reached %" PRIu64 " KiB; %" PRIu64 " MiB freed", d->domid, d->name,
              actual_kib, MIB(d->confirmed));
    }
}

/* Writes the action's target. XSIO_LOST (maybe written, maybe not) and
 * XSIO_AGAIN (not written, the store was busy) keep the action outstanding,
 * to be written again at the next tick; nothing counts as done meanwhile. */
static enum xsio_status carry_out(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    uint64_t kib = d->act.target_bytes / 1024;
    if (!ds->dry_run) {
        char path[256], guard[256];
        xdom_path(path, sizeof path, d, "memory/target");
        xdom_path(guard, sizeof guard, d, "memory/static-max");
        enum xsio_status st = xsio_write_u64_guarded(ds->xs, guard, path, kib);
        if (st == XSIO_AGAIN && !d->again_logged)
            xdom_log(ds, "dom %u (%s): write memory/target: every transaction ended in EAGAIN; "
                     "written again at the next tick", d->domid, d->name);
        d->again_logged = st == XSIO_AGAIN;
        if (st == XSIO_LOST || st == XSIO_AGAIN)
            return st;
        if (st != XSIO_OK) {
            xdom_log(ds, "dom %u (%s): write memory/target: %s; action dropped", d->domid, d->name,
                  xsio_status_name(st));
            finish(ds, d, now_ms, 0, DYNMEM_CONFIRM_FINAL | DYNMEM_CONFIRM_FAILED);
            return XSIO_OK;
        }
    }
    d->written = true;
    if (ds->dry_run) /* nothing happened */
        finish(ds, d, now_ms, 0, DYNMEM_CONFIRM_FINAL);
    else if (xdom_is_growth(d->act.kind)) /* counted as used since it was issued */
        finish(ds, d, now_ms, d->act.bytes, DYNMEM_CONFIRM_FINAL);
    return XSIO_OK;
}

static struct xdom *by_vm(struct xdoms *ds, uint64_t vm_id)
{
    for (size_t i = 0; i < ds->n; i++)
        if (ds->v[i].managed && ds->v[i].vm_id == vm_id)
            return &ds->v[i];
    return NULL;
}

/* Stuck and give-up handling for outstanding shrinks. */
static void watch_progress(struct xdoms *ds, struct xdom *d, uint64_t now_ms)
{
    struct dynmem_vm_counters vc = DYNMEM_VM_COUNTERS_INIT;
    if (dynmem_balancer_vm_counters(ds->b, d->vm_id, &vc))
        return;
    bool stuck = (vc.flags & DYNMEM_VMSTATE_STUCK) != 0;
    if (stuck && !d->stuck_logged)
        xdom_log(ds, "dom %u (%s): stuck: memory/target %" PRIu64 " KiB not reached; %" PRIu64
              " MiB confirmed of %" PRIu64 " MiB; books keep %" PRIu64 " MiB (not counted as freed)",
              d->domid, d->name, d->act.target_bytes / 1024, MIB(d->confirmed), MIB(d->act.bytes),
              MIB(vc.physical_bytes));
    d->stuck_logged = stuck;
    if (d->busy && now_ms - d->issued_ms >= ds->cfg->giveup_ms) {
        xdom_log(ds, "dom %u (%s): giving up on action %" PRIu64 " after %" PRIu64 " ms: %" PRIu64
              " MiB of %" PRIu64 " MiB confirmed; the rest stays counted as held", d->domid,
              d->name, d->act.action_id, now_ms - d->issued_ms, MIB(d->confirmed), MIB(d->act.bytes));
        finish(ds, d, now_ms, 0, DYNMEM_CONFIRM_FINAL);
        d->stuck_logged = false;
    }
}

void xdoms_tick(struct xdoms *ds, uint64_t now_ms)
{
    for (size_t i = 0; i < ds->n; i++) {
        struct xdom *d = &ds->v[i];
        if (d->busy && !d->written && carry_out(ds, d, now_ms) == XSIO_LOST)
            return; /* connection lost: after reconnecting */
    }
    int rc = dynmem_balancer_tick(ds->b, now_ms, NULL);
    if (rc) {
        xdom_log(ds, "tick: %s", EX_WHY(ds->b, rc));
        return;
    }
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(ds->b, &a) == 1) {
        struct xdom *d = by_vm(ds, a.vm_id);
        if (!d)
            continue;
        char text[512];
        dynmem_action_describe(&a, text, sizeof text);
        xdom_log(ds, "dom %u (%s): memory/target %" PRIu64 " KiB%s: %s", d->domid, d->name,
              a.target_bytes / 1024, ds->dry_run ? " (dry run, not written)" : "", text);
        d->busy = true;
        d->written = false;
        d->act = a;
        d->issued_ms = now_ms;
        d->confirmed = 0;
        d->stuck_logged = false;
        carry_out(ds, d, now_ms);
    }
    for (size_t i = 0; i < ds->n; i++)
        if (ds->v[i].managed && ds->v[i].busy && ds->v[i].written)
            watch_progress(ds, &ds->v[i], now_ms);
}

void xdoms_log_host(struct xdoms *ds)
{
    struct dynmem_host_counters hc = DYNMEM_HOST_COUNTERS_INIT;
    if (dynmem_balancer_host_counters(ds->b, &hc))
        return;
    xdom_log(ds, "host: %" PRIu32 " domains, assigned %" PRIu64 " MiB, in flight %" PRIu64
          " MiB, available %" PRIu64 " MiB, reserve %" PRIu64 " MiB, stuck %" PRIu32,
          hc.running_vms, MIB(hc.assigned_bytes), MIB(hc.in_flight_bytes),
          MIB(hc.available_bytes), MIB(hc.reserve_bytes), hc.stuck_vms);
}
