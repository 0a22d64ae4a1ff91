/* The domains dynmem-xen manages: discovery from /local/domain, demand from
 * data/meminfo_*, actions carried out as memory/target writes and the
 * confirmations fed back to the balancer (see docs/xen.md). */
#ifndef DYNMEM_XEN_DOMAINS_H
#define DYNMEM_XEN_DOMAINS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <dynmem/dynmem.h>

#include "xen_config.h"
#include "xs_io.h"

struct xdom;

struct xdoms {
    struct xdom *v;
    size_t n, cap;
    dynmem_balancer *b;
    const struct xen_config *cfg;
    struct xsio *xs;
    bool dry_run;
    FILE *log;
};

/* Creates the balancer from the configuration. Returns 0 or a dynmem error. */
int xdoms_init(struct xdoms *ds, const struct xen_config *cfg, struct xsio *xs, bool dry_run,
               FILE *log);
void xdoms_fini(struct xdoms *ds);

/* Lists /local/domain: starts managing new domains, stops vanished ones. */
void xdoms_rescan(struct xdoms *ds, uint64_t now_ms);
/* Reads every managed domain's demand and confirmation keys. */
void xdoms_sample(struct xdoms *ds, uint64_t now_ms);
/* Runs the balancer and carries out its actions. */
void xdoms_tick(struct xdoms *ds, uint64_t now_ms);
/* Logs the host counters in one line. */
void xdoms_log_host(struct xdoms *ds);

struct metrics;
/* Writes the operator counters to the configured metrics file, if any;
 * with `lost`, every managed domain shows as "disconnected" (still booked). */
void xdoms_publish(struct xdoms *ds, struct metrics *m, bool lost);

#endif
