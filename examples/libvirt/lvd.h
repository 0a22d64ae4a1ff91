/* dynmem-libvirt's state: the domains it knows and the balancer's books.
 * Shared by the files of the daemon (lvbook.c, lvact.c, lvloop.c). */
#ifndef DYNMEM_LIBVIRT_LVD_H
#define DYNMEM_LIBVIRT_LVD_H

#include <dynmem/dynmem.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <stdint.h>

#include "lvconf.h"
#include "lvconn.h"
#include "lvmeta.h"
#include "lvread.h"
#include "metrics.h"

#define LV_MAX_DOMS 256
#define MIB(x) ((unsigned long long)((x) >> 20))

/* A running domain. Either in the balancer (managed) or booked outside it:
 * its memory is then taken off the host total the balancer shares out. */
struct lv_dom {
    int used;
    unsigned char uuid[VIR_UUID_BUFLEN];
    char name[128];
    int id;                      /* libvirt's runtime id of this run */
    virDomainPtr d;              /* NULL while the connection is down */
    struct lv_reading r;         /* the last reading */
    uint64_t outside;            /* bytes booked outside the balancer */
    int managed;
    uint64_t vm_id;
    struct lv_settings set;
    struct dynmem_vm_config cfg; /* what the balancer has */
    char refused[256];           /* why it is not managed (logged once) */
    int unread;                  /* its memory could not be read when it was found */
    long long next_read;
    /* the action being carried out */
    int busy;
    struct dynmem_action act;
    uint64_t base, confirmed, goal;
    long long issued, progressed;
    /* guest statistics */
    long long next_stats, last_update;
    uint64_t drift;              /* held, when it first differed from the books */
    uint32_t dry_kind;
    uint64_t dry_target;
};

struct lv_daemon {
    const struct lv_options *o;
    dynmem_balancer *b;
    struct lv_conn conn;
    int connected;
    unsigned backoff_ms;
    long long next_connect;
    uint64_t host_total;         /* real host memory the domains share */
    int64_t total;               /* what the balancer is given now */
    uint64_t debt;               /* books above what the host has (logged on change) */
    struct metrics m;            /* operator counters (lvmetrics.c) */
    struct lv_dom dom[LV_MAX_DOMS];
};

/* lvbook.c: the books */
struct lv_dom *lv_dom_find(struct lv_daemon *D, const unsigned char *uuid);
struct lv_dom *lv_dom_track(struct lv_daemon *D, virDomainPtr d, long long now);
void lv_dom_forget(struct lv_daemon *D, struct lv_dom *d, const char *why);
int lv_book_adopt(struct lv_daemon *D, struct lv_dom *d, long long now);
void lv_book_settings_changed(struct lv_daemon *D, struct lv_dom *d, long long now);
void lv_book_check(struct lv_daemon *D, struct lv_dom *d, long long now);
void lv_book_sync_total(struct lv_daemon *D);
void lv_book_refresh_outside(struct lv_daemon *D, struct lv_dom *d, long long now);
int lv_book_setup(struct lv_daemon *D, uint64_t host_total);

/* lvact.c: carrying out actions and confirming them */
void lv_act_take(struct lv_daemon *D, long long now);
void lv_act_follow(struct lv_daemon *D, struct lv_dom *d, long long now);
void lv_act_stats(struct lv_daemon *D, struct lv_dom *d, long long now);

/* lvmetrics.c: the counters to --metrics-file */
void lv_metrics_publish(struct lv_daemon *D);

/* lvloop.c */
int lv_run(const struct lv_options *o, volatile sig_atomic_t *stop);

#endif
