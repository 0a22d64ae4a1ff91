/* Reading domains through libvirt (see lvread.h). */
#include "lvread.h"

#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>

#include "lvconn.h"
#include "lvmeta.h"

static void take_stats(struct lv_reading *r, const virDomainMemoryStatStruct *st, int n)
{
    struct dynmem_virtio_stats vs = DYNMEM_VIRTIO_STATS_INIT;
    r->actual = UINT64_MAX;
    r->last_update = 0;
    for (int i = 0; i < n; i++) {
        unsigned long long kib = st[i].val;
        uint64_t bytes = kib > UINT64_MAX / 1024 ? UINT64_MAX : kib * 1024;
        switch (st[i].tag) {
        case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON: r->actual = bytes; break;
        case VIR_DOMAIN_MEMORY_STAT_AVAILABLE: vs.total_memory = bytes; break;
        case VIR_DOMAIN_MEMORY_STAT_USABLE: vs.available_memory = bytes; break;
        case VIR_DOMAIN_MEMORY_STAT_UNUSED: vs.free_memory = bytes; break;
        case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES: vs.disk_caches = bytes; break;
        case VIR_DOMAIN_MEMORY_STAT_SWAP_IN: vs.swap_in = bytes; break;
        case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT: vs.major_faults = kib; break;
        case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE: r->last_update = (long long)kib; break;
        default: break;
        }
    }
    r->vs = vs;
}

int lv_read(virDomainPtr d, struct lv_reading *r, char *err, size_t errlen)
{
    char *xml = virDomainGetXMLDesc(d, 0);
    if (!xml) {
        snprintf(err, errlen, "%s", lv_last_error());
        return -1;
    }
    int rc = lv_mem_from_xml(xml, &r->mem, err, errlen);
    free(xml);
    if (rc)
        return -1;
    virDomainMemoryStatStruct st[VIR_DOMAIN_MEMORY_STAT_NR];
    int n = virDomainMemoryStats(d, st, VIR_DOMAIN_MEMORY_STAT_NR, 0);
    if (n < 0) {
        snprintf(err, errlen, "%s", lv_last_error());
        return -1;
    }
    take_stats(r, st, n);
    if (r->actual == UINT64_MAX) { /* no balloon: libvirt's current size */
        uint64_t v = lv_mem_vmem_current(&r->mem);
        r->actual = r->mem.current > v ? r->mem.current - v : 0;
    }
    return 0;
}

uint64_t lv_held(const struct lv_reading *r)
{
    return r->actual + lv_mem_vmem_current(&r->mem);
}

int lv_read_startup(virDomainPtr d, uint64_t *startup, char *err, size_t errlen)
{
    struct lv_mem m;
    char *xml = virDomainGetXMLDesc(d, virDomainIsPersistent(d) == 1 ? VIR_DOMAIN_XML_INACTIVE : 0);
    if (!xml) {
        snprintf(err, errlen, "%s", lv_last_error());
        return -1;
    }
    int rc = lv_mem_from_xml(xml, &m, err, errlen);
    free(xml);
    if (rc == 0)
        *startup = m.current;
    return rc;
}

char *lv_read_meta(virDomainPtr d, int live, int *absent, char *err, size_t errlen)
{
    *absent = 0;
    char *text = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, LV_META_URI,
                                      live ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG);
    if (!text) {
        virErrorPtr e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN_METADATA)
            *absent = 1;
        else
            snprintf(err, errlen, "%s", lv_last_error());
    }
    return text;
}
