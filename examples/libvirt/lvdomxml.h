/* What a libvirt domain's XML says about its memory: boot memory, the
 * balloon, virtio-mem devices (size, block, requested, current), and the
 * device XML dynmem-libvirt sends to change a virtio-mem requested size. */
#ifndef DYNMEM_LIBVIRT_LVDOMXML_H
#define DYNMEM_LIBVIRT_LVDOMXML_H

#include <stddef.h>
#include <stdint.h>

#define LV_MAX_VMEM 8

struct lv_vmem {
    char alias[64];
    uint64_t size;       /* most it can plug, bytes */
    uint64_t block;      /* plug granularity, bytes */
    uint64_t requested;  /* what was asked */
    uint64_t current;    /* what is plugged (live XML only) */
};

struct lv_mem {
    uint64_t total;      /* <memory>: boot memory plus memory devices, bytes */
    uint64_t current;    /* <currentMemory>: balloon plus virtio-mem, bytes */
    uint64_t boot;       /* total minus the memory devices: the balloon's ceiling */
    int balloon;         /* a virtio <memballoon> is present */
    char other_model[32];/* a memory device that is not virtio-mem, "" if none */
    size_t nvmem;
    struct lv_vmem vmem[LV_MAX_VMEM];
};

/* Read a domain's XML (virDomainGetXMLDesc). Returns 0, or -1 with err set. */
int lv_mem_from_xml(const char *xml, struct lv_mem *out, char *err, size_t errlen);

/* Sum of what the virtio-mem devices can plug / have plugged. */
uint64_t lv_mem_vmem_size(const struct lv_mem *m);
uint64_t lv_mem_vmem_current(const struct lv_mem *m);

/* The <memory model='virtio-mem'> element of the device with @p alias, as in
 * the live XML @p xml, with its <requested> set to @p bytes: what
 * virDomainUpdateDeviceFlags() takes. NULL when not found; free() it. */
char *lv_vmem_update_xml(const char *xml, const char *alias, uint64_t bytes);

#endif
