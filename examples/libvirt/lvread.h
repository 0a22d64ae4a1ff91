/* Reading a running domain through libvirt: its memory devices (live XML),
 * the balloon's actual size and the guest's statistics (one
 * virDomainMemoryStats call). */
#ifndef DYNMEM_LIBVIRT_LVREAD_H
#define DYNMEM_LIBVIRT_LVREAD_H

#include <dynmem/dynmem.h>
#include <libvirt/libvirt.h>

#include "lvdomxml.h"

struct lv_reading {
    struct lv_mem mem;        /* from the live XML */
    uint64_t actual;          /* balloon size, bytes (currentMemory minus virtio-mem without a balloon) */
    long long last_update;    /* guest statistics timestamp (s), 0 if none */
    struct dynmem_virtio_stats vs; /* guest statistics, UINT64_MAX where not reported */
};

/* Read everything; 0, or -1 with err set (libvirt's or the XML's message). */
int lv_read(virDomainPtr d, struct lv_reading *r, char *err, size_t errlen);

/* What the domain holds: balloon plus plugged virtio-mem. */
uint64_t lv_held(const struct lv_reading *r);

/* The memory a domain starts with: <currentMemory> of its persistent
 * definition (of its running one for a transient domain). 0, or -1 with err
 * set. */
int lv_read_startup(virDomainPtr d, uint64_t *startup, char *err, size_t errlen);

/* The domain's persistent settings element (live or inactive definition).
 * Returns the element text (free()), or NULL: *absent is 1 when the domain
 * simply has no dynmem metadata, else err says why. */
char *lv_read_meta(virDomainPtr d, int live, int *absent, char *err, size_t errlen);

#endif
