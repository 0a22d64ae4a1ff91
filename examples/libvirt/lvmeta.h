/* dynmem-libvirt's per-domain settings: the <memory> element it keeps in a
 * domain's <metadata> under its own namespace, e.g.
 *   <dynmem:memory xmlns:dynmem="urn:libdynmem:libvirt:1">
 *     <dynmem:minimum unit='MiB'>512</dynmem:minimum>
 *     <dynmem:maximum unit='GiB'>4</dynmem:maximum>
 *     <dynmem:buffer>20</dynmem:buffer>
 *     <dynmem:weight>5000</dynmem:weight>
 *     <dynmem:calm unit='s'>60</dynmem:calm>
 *   </dynmem:memory>
 * Every child is optional. The text is untrusted: anything unknown, repeated
 * or malformed is refused with an error naming the field. */
#ifndef DYNMEM_LIBVIRT_LVMETA_H
#define DYNMEM_LIBVIRT_LVMETA_H

#include <dynmem/dynmem.h>
#include <stddef.h>
#include <stdint.h>

#define LV_META_URI "urn:libdynmem:libvirt:1"
#define LV_META_KEY "dynmem"

/* Which settings the element gave. */
enum {
    LV_SET_MINIMUM = 1u << 0,
    LV_SET_MAXIMUM = 1u << 1,
    LV_SET_BUFFER = 1u << 2,
    LV_SET_WEIGHT = 1u << 3,
    LV_SET_CALM = 1u << 4
};

struct lv_settings {
    unsigned given;              /* LV_SET_* */
    uint64_t minimum, maximum;   /* bytes */
    uint32_t buffer, weight;
    uint64_t calm_ms;
};

/* Parse the element as virDomainGetMetadata() returns it. Returns 0, or -1
 * with err set to "FIELD: why" (FIELD is an element name, or "memory" for the
 * element itself). */
int lv_meta_parse(const char *xml, struct lv_settings *out, char *err, size_t errlen);

/* What a domain's definition says about its memory (see lvdomxml.h). */
struct lv_mem;

/* Build the balancer configuration of a domain from its settings and its
 * definition, for a domain that will hold @p startup bytes when it starts
 * (or holds now, when adopted): minimum and maximum default to the startup
 * size and to the most the domain can reach; checked with
 * dynmem_vm_config_explain(), the library's one check of every front end's
 * settings. Returns 0, or -1 with err naming the metadata field (or the
 * domain XML's, e.g. "currentMemory") and its value. */
int lv_meta_config(const struct lv_settings *s, const struct lv_mem *m, uint64_t startup,
                   struct dynmem_vm_config *out, char *err, size_t errlen);

#endif
