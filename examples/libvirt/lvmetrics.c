/* dynmem-libvirt's operator counters: after every round, the host's and
 * every running domain's Dynamic Memory counters go to --metrics-file
 * through the shared writer (examples/common/metrics.h, docs/metrics.md). */
#include <string.h>

#include "exutil.h"
#include "lvd.h"

/* The daemon's word for a domain (docs/libvirt.md lists them). */
static const char *state(const struct lv_daemon *D, const struct lv_dom *d)
{
    if (d->managed)
        return D->connected ? "managed" : "disconnected";
    return strcmp(d->refused, "no metadata") ? "refused" : "unmanaged";
}

void lv_metrics_publish(struct lv_daemon *D)
{
    if (!D->o->metrics_file || !D->b)
        return;
    metrics_begin(&D->m, D->b, metrics_wall_ms());
    for (size_t i = 0; i < LV_MAX_DOMS; i++) {
        const struct lv_dom *d = &D->dom[i];
        if (!d->used ||
            metrics_add_vm(&D->m, d->name, state(D, d), d->managed ? D->b : NULL, d->vm_id))
            continue;
        if (!d->managed)
            continue;
        /* what the guest sees, from its devices: the books count a domain
         * adopted while ballooned as if it had no balloon */
        struct metrics_vm *v = &D->m.vm[D->m.n - 1];
        uint64_t vmem = lv_mem_vmem_current(&d->r.mem);
        v->v[METRICS_VM_BALLOON] = d->r.mem.boot > d->r.actual ? d->r.mem.boot - d->r.actual : 0;
        v->v[METRICS_VM_ADDED] = vmem;
        v->v[METRICS_VM_VISIBLE] = d->r.mem.boot + vmem;
    }
    char msg[512];
    if (metrics_publish_quiet(&D->m, D->o->metrics_file, msg, sizeof msg))
        ex_log("dynmem-libvirt", "%s", msg);
}
