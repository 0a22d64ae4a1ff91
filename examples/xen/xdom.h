/* Internal to dynmem-xen: one managed domain and the helpers shared by
 * domains.c (discovery, demand) and actions.c (targets, confirmations). */
#ifndef DYNMEM_XEN_XDOM_H
#define DYNMEM_XEN_XDOM_H

#include "domains.h"

#define MIB(x) ((x) >> 20)

struct xdom {
    unsigned domid;
    char name[128];
    bool seen;        /* listed by the latest rescan */
    bool managed;     /* registered and started in the balancer */
    bool ignored;     /* dom0, or "manage = no" */
    uint64_t retry_ms; /* not managed yet: next attempt */
    uint64_t vm_id;
    bool no_data_logged, stuck_logged, refused_logged, again_logged;
    /* The outstanding action, if any. */
    bool busy, written;
    struct dynmem_action act;
    uint64_t issued_ms, confirmed;
};

void xdom_log(struct xdoms *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "/local/domain/<domid>/<key>" into buf. */
void xdom_path(char *buf, size_t len, const struct xdom *d, const char *key);
/* Reads a KiB figure of the domain. */
enum xsio_status xdom_read_key(struct xdoms *ds, const struct xdom *d, const char *key,
                               uint64_t *out);
/* Confirms the progress of an outstanding shrink (actions.c). */
void xdom_follow_shrink(struct xdoms *ds, struct xdom *d, uint64_t now_ms);
bool xdom_is_growth(uint32_t kind);

#endif
