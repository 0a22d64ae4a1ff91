/* How dynmem-libvirt reaches a size with a domain's devices: growth gives
 * ballooned memory back first (fast, the guest already sees it), then plugs
 * virtio-mem; shrinking unplugs virtio-mem first (the guest really gives it
 * back), then inflates the balloon. Pure arithmetic, no libvirt. */
#ifndef DYNMEM_LIBVIRT_LVPLAN_H
#define DYNMEM_LIBVIRT_LVPLAN_H

#include <stdint.h>

#include "lvdomxml.h"

struct lv_plan {
    uint64_t balloon;             /* balloon size to ask for, bytes */
    uint64_t vmem[LV_MAX_VMEM];   /* requested size of each virtio-mem device */
};

/* Plan the move from what the domain holds (balloon @p actual plus each
 * device's current plugged size in @p m) to @p target bytes. The balloon
 * stays within [@p floor, m->boot]; virtio-mem moves in whole blocks within
 * each device's size, rounded so that growth never passes the target (the
 * books never hold less than the domain). Returns the size the plan reaches. */
uint64_t lv_plan(const struct lv_mem *m, uint64_t actual, uint64_t target, uint64_t floor,
                 struct lv_plan *out);

#endif
