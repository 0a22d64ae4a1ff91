/* dynmem-libvirt's hands: the balancer's actions carried out with libvirt's
 * own calls (virDomainSetMemoryFlags for the balloon,
 * virDomainUpdateDeviceFlags for a virtio-mem device's requested size), what
 * the domain then holds confirmed back as facts, and the guest's statistics
 * fed in as samples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exutil.h"
#include "lvd.h"
#include "lvplan.h"

#define PAGE UINT64_C(4096)

static int is_growth(uint32_t kind)
{
    return kind == DYNMEM_ACTION_UNBALLOON || kind == DYNMEM_ACTION_HOT_ADD;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Send the plan to libvirt; 0 when every change is with it. */
static int send_plan(struct lv_dom *d, const struct lv_plan *p)
{
    if (p->balloon != d->r.actual &&
        virDomainSetMemoryFlags(d->d, (unsigned long)(p->balloon >> 10), VIR_DOMAIN_AFFECT_LIVE) < 0) {
        ex_log(d->name, "balloon to %llu MiB refused by libvirt: %s", MIB(p->balloon), lv_last_error());
        return -1;
    }
    for (size_t i = 0; i < d->r.mem.nvmem; i++) {
        const struct lv_vmem *v = &d->r.mem.vmem[i];
        if (p->vmem[i] == v->current && p->vmem[i] == v->requested)
            continue;
        char *xml = virDomainGetXMLDesc(d->d, 0);
        char *dev = xml ? lv_vmem_update_xml(xml, v->alias, p->vmem[i]) : NULL;
        int rc = dev ? virDomainUpdateDeviceFlags(d->d, dev, VIR_DOMAIN_AFFECT_LIVE) : -1;
        if (rc < 0)
            ex_log(d->name, "virtio-mem %s to %llu MiB refused: %s", v->alias, MIB(p->vmem[i]),
                   dev ? lv_last_error() : "device not found in the live XML");
        free(dev);
        free(xml);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Carry out an action: the domain is taken to the size the books will hold
 * once it is done (not to what it holds now plus the step: a size changed
 * behind the daemon's back must not carry the domain past its books).
 * Returns 0 when the change is with libvirt, 1 when the domain is already
 * there (lv_book_check() brings the books in line), -1 on failure. */
static int apply(struct lv_dom *d, const struct dynmem_action *a, long long now)
{
    char err[256];
    if (lv_read(d->d, &d->r, err, sizeof err)) {
        ex_log(d->name, "%s not carried out: %s", dynmem_action_kind_name(a->kind), err);
        return -1;
    }
    uint64_t held = lv_held(&d->r);
    uint64_t target = a->target_bytes;
    if (is_growth(a->kind) ? held >= target : held <= target)
        return 1;
    struct lv_plan p;
    uint64_t reached = lv_plan(&d->r.mem, d->r.actual, target, DYNMEM_SIZE_UNIT, &p);
    if (reached == held)
        return -1;
    char devs[160] = "";
    for (size_t i = 0; i < d->r.mem.nvmem; i++)
        snprintf(devs + strlen(devs), sizeof devs - strlen(devs), ", virtio-mem %s %llu MiB",
                 d->r.mem.vmem[i].alias, MIB(p.vmem[i]));
    ex_log(d->name, "  -> balloon %llu MiB%s", MIB(p.balloon), devs);
    if (send_plan(d, &p))
        return -1;
    d->act = *a;
    d->busy = 1;
    d->base = held;
    d->goal = reached;
    d->confirmed = 0;
    d->issued = d->progressed = now;
    return 0;
}

void lv_act_follow(struct lv_daemon *D, struct lv_dom *d, long long now)
{
    const struct dynmem_action *a = &d->act;
    uint64_t cur = lv_held(&d->r), moved;
    if (is_growth(a->kind))
        moved = cur > d->base ? cur - d->base : 0;
    else
        moved = d->base > cur ? d->base - cur : 0;
    moved = min_u64(moved, a->bytes) & ~(PAGE - 1);
    int done = moved == a->bytes || cur == d->goal;
    if (moved > d->confirmed)
        d->progressed = now;
    else if (now - d->progressed >= (long long)D->o->settle_ms)
        done = 1;
    if (moved > d->confirmed || done) {
        int e = dynmem_balancer_confirm(D->b, d->vm_id, a->action_id, (uint64_t)now,
                                        moved > d->confirmed ? moved - d->confirmed : 0,
                                        done ? DYNMEM_CONFIRM_FINAL : 0);
        if (e)
            ex_log(d->name, "confirm refused: %s", EX_WHY(D->b, e));
        if (moved > d->confirmed)
            d->confirmed = moved;
    }
    if (done) {
        d->busy = 0;
        ex_log(d->name, "%s %s: %llu of %llu MiB in %.1f s, now %llu MiB (balloon %llu MiB, "
               "virtio-mem %llu MiB)", dynmem_action_kind_name(a->kind),
               moved == a->bytes ? "done" : "settled short", MIB(d->confirmed), MIB(a->bytes),
               (double)(now - d->issued) / 1000.0, MIB(cur), MIB(d->r.actual),
               MIB(lv_mem_vmem_current(&d->r.mem)));
    }
}

void lv_act_stats(struct lv_daemon *D, struct lv_dom *d, long long now)
{
    if (d->r.last_update <= 0 || d->r.last_update == d->last_update)
        return;
    d->last_update = d->r.last_update;
    struct dynmem_virtio_stats vs = d->r.vs;
    /* MemTotal leaves out what the guest kernel keeps for itself, yet the
     * domain holds that memory too and cannot give it up: count it as
     * demand, with what the domain holds as the total (as dynmem-kvm) */
    uint64_t held = lv_held(&d->r);
    if (vs.total_memory != UINT64_MAX && vs.total_memory < held)
        vs.total_memory = held;
    struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
    int e = dynmem_pressure_sample_from_virtio_stats(&smp, (uint64_t)now, &vs);
    int from_balancer = 0; /* whose detail tells why */
    if (e == 0) {
        e = dynmem_balancer_vm_sample(D->b, d->vm_id, &smp);
        from_balancer = 1;
    }
    if (e && e != DYNMEM_ERR_PRESSURE_NO_DATA)
        ex_log(d->name, "guest statistics refused: %s", EX_WHY(from_balancer ? D->b : NULL, e));
    else if (e == 0 && D->o->verbose)
        ex_log(d->name, "stats: total %llu MiB, available %llu MiB, demand %llu MiB, held %llu MiB",
               MIB(vs.total_memory), MIB(vs.available_memory), MIB(smp.committed_bytes), MIB(held));
}

static struct lv_dom *by_vm(struct lv_daemon *D, uint64_t vm_id)
{
    for (size_t i = 0; i < LV_MAX_DOMS; i++)
        if (D->dom[i].used && D->dom[i].managed && D->dom[i].vm_id == vm_id)
            return &D->dom[i];
    return NULL;
}

void lv_act_take(struct lv_daemon *D, long long now)
{
    struct dynmem_action a = DYNMEM_ACTION_INIT;
    while (dynmem_balancer_next_action(D->b, &a) == 1) {
        struct lv_dom *d = by_vm(D, a.vm_id);
        if (!d)
            continue;
        char text[512];
        dynmem_action_describe(&a, text, sizeof text);
        int repeat = a.kind == d->dry_kind && a.target_bytes == d->dry_target;
        if (!D->o->dry_run || !repeat)
            ex_log(d->name, "%s%s", D->o->dry_run ? "dry-run: " : "", text);
        d->dry_kind = a.kind;
        d->dry_target = a.target_bytes;
        int rc = D->o->dry_run ? 1 : !d->d ? -1 : apply(d, &a, now);
        if (rc) {
            int failed = rc < 0;
            dynmem_balancer_confirm(D->b, d->vm_id, a.action_id, (uint64_t)now, 0,
                                    DYNMEM_CONFIRM_FINAL | (failed ? DYNMEM_CONFIRM_FAILED : 0));
        }
    }
}
